//! Diagnostics as plain data: every stage (syntax, check, facts, eval)
//! returns these; rendering (miette, JSON) lives in `render`.

use crate::source::{Source, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// A labelled place in a file.
#[derive(Clone, Debug)]
pub struct Label {
    pub source: Source,
    pub span: Span,
    pub text: String,
}

/// One problem found in a policy, a table or a facts file.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// Stable code, e.g. `regle::check::unknown_name`.
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The primary place; `None` for a problem with no file (a missing folder).
    pub primary: Option<Label>,
    /// Further places (the first definition of a duplicate, ...).
    pub secondary: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            help: None,
        }
    }
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }
    pub fn at(mut self, source: &Source, span: Span, label: impl Into<String>) -> Self {
        self.primary = Some(Label {
            source: source.clone(),
            span: source.clamp(span),
            text: label.into(),
        });
        self
    }
    pub fn also(mut self, source: &Source, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push(Label {
            source: source.clone(),
            span: source.clamp(span),
            text: label.into(),
        });
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn help_opt(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// "did you mean" over a set of known names: the closest by edit distance,
/// if close enough to be a plausible typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(&name.to_lowercase(), &c.to_lowercase());
        let limit = (name.chars().count().max(c.chars().count()) / 3).max(1);
        if d <= limit && best.is_none_or(|(bd, bc)| d < bd || (d == bd && c < bc)) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

/// Levenshtein distance in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_plausible_name() {
        let names = ["dispositif", "profiles", "solution"];
        assert_eq!(
            did_you_mean("dispostif", names).as_deref(),
            Some("did you mean `dispositif`?")
        );
        assert_eq!(did_you_mean("zzz", names), None);
    }
}
