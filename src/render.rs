//! Rendering diagnostics for people (miette's graphical report) and for
//! programs (JSON). The only place, with `report`, that formats output.

use crate::diag::{Diagnostic, Label, Severity};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use std::fmt;

/// Replace control characters (but tab and newline) with visible escapes,
/// so a hostile input cannot drive the terminal.
pub fn clean(s: &str) -> String {
    if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

struct Shown<'a> {
    d: &'a Diagnostic,
    message: String,
    help: Option<String>,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    related: Vec<ShownRelated>,
}

/// A secondary label in another file, shown as its own snippet.
#[derive(Debug)]
struct ShownRelated {
    text: String,
    source: NamedSource<String>,
    label: LabeledSpan,
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}
impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}
impl std::error::Error for Shown<'_> {}
impl fmt::Display for ShownRelated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.text)
    }
}
impl std::error::Error for ShownRelated {}
impl miette::Diagnostic for ShownRelated {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(self.label.clone())))
    }
}

impl miette::Diagnostic for Shown<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.d.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

fn span(l: &Label) -> SourceSpan {
    SourceSpan::new(l.span.start.into(), l.span.len())
}

/// A source for miette to quote: its name cleaned, and its text with every
/// control character but newline and tab replaced byte for byte (so spans
/// stay valid): `?` for each byte, and a lone CR by a newline, as
/// `SourceFile` counts it as a line end.
fn snippet_source(source: &crate::source::SourceFile) -> NamedSource<String> {
    let text = &source.text;
    let needs = text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t');
    let shown = if needs {
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\n' | '\t' => out.push(c),
                '\r' if chars.peek() == Some(&'\n') => out.push(c),
                '\r' => out.push('\n'),
                c if c.is_control() => out.extend(std::iter::repeat_n('?', c.len_utf8())),
                c => out.push(c),
            }
        }
        out
    } else {
        text.clone()
    };
    NamedSource::new(clean(&source.display_name()), shown)
}

/// One diagnostic as miette draws it; `color` for a terminal.
pub fn human(d: &Diagnostic, color: bool) -> String {
    let mut shown = Shown {
        d,
        message: clean(&d.message),
        help: d.help.as_deref().map(clean),
        source: None,
        labels: Vec::new(),
        related: Vec::new(),
    };
    // A line longer than this is not quoted (miette cannot draw a label
    // beyond column 65,535, and so long a line says nothing on a screen):
    // the place is named instead.
    const MAX_QUOTED_LINE: usize = 10_000;
    let wide = |l: &Label| {
        [l.span.start, l.span.end].iter().any(|&at| {
            let (line, _) = l.source.local_line_col(at);
            l.source.line_text(line).len() > MAX_QUOTED_LINE
        })
    };
    if let Some(p) = d
        .primary
        .as_ref()
        .filter(|p| wide(p) || d.secondary.iter().any(wide))
    {
        let (line, column) = p.source.line_col(p.span.start);
        shown.message = format!(
            "{} (at {}:{line}:{column}: {}; the line is too long to quote)",
            shown.message,
            clean(&p.source.display_name()),
            clean(&p.text)
        );
    } else if let Some(p) = &d.primary {
        shown.source = Some(snippet_source(&p.source));
        shown.labels.push(LabeledSpan::new_primary_with_span(
            Some(clean(&p.text)),
            span(p),
        ));
        for s in &d.secondary {
            if std::sync::Arc::ptr_eq(&s.source, &p.source) {
                shown
                    .labels
                    .push(LabeledSpan::new_with_span(Some(clean(&s.text)), span(s)));
            } else {
                shown.related.push(ShownRelated {
                    text: clean(&s.text),
                    source: snippet_source(&s.source),
                    label: LabeledSpan::new_with_span(Some(clean(&s.text)), span(s)),
                });
            }
        }
    }
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    if handler.render_report(&mut out, &shown).is_err() {
        out = format!("{}: {}\n", d.severity.as_str(), shown.message);
    }
    out
}

fn label_json(l: &Label) -> serde_json::Value {
    let (line, column) = l.source.line_col(l.span.start);
    serde_json::json!({
        "file": l.source.name,
        "line": line,
        "column": column,
        "span": {"start": l.span.start, "end": l.span.end},
        "label": l.text,
    })
}

/// One diagnostic as a JSON object: code, severity, message, file, line,
/// column, byte span, label, help, and further labels.
pub fn json(d: &Diagnostic) -> serde_json::Value {
    let mut v = serde_json::json!({
        "code": d.code,
        "severity": d.severity.as_str(),
        "message": d.message,
        "help": d.help,
    });
    if let (Some(p), Some(obj)) = (&d.primary, v.as_object_mut()) {
        if let Some(pl) = label_json(p).as_object() {
            for (k, x) in pl {
                obj.insert(k.clone(), x.clone());
            }
        }
        obj.insert(
            "related".to_string(),
            serde_json::Value::Array(d.secondary.iter().map(label_json).collect()),
        );
    }
    v
}
