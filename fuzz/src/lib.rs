//! Shared checks for the fuzz targets: spans inside their text and on
//! character boundaries, diagnostics that render (JSON and human) without
//! panicking and without raw control characters.

use regle::diag::{Diagnostic, Label};
use regle::facts::tree::{NodeValue, ParseError, Tree};
use regle::source::Span;

/// `span` lies inside `text` (`start <= end <= len`) and both ends are on
/// character boundaries.
pub fn assert_span(text: &str, span: Span, what: &str) {
    assert!(
        span.start <= span.end && span.end <= text.len(),
        "{what}: span {}..{} outside the text ({} bytes)",
        span.start,
        span.end,
        text.len()
    );
    assert!(
        text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
        "{what}: span {}..{} not on character boundaries",
        span.start,
        span.end
    );
}

/// Every label of `d` lies inside its own source.
pub fn assert_diag_spans(d: &Diagnostic) {
    let check = |l: &Label, what: &str| assert_span(&l.source.text, l.span, what);
    if let Some(p) = &d.primary {
        check(p, &format!("{}: primary label", d.code));
    }
    for s in &d.secondary {
        check(s, &format!("{}: secondary label", d.code));
    }
}

/// Control characters that must not reach a terminal: every `char::is_control`
/// but newline and tab (`render::clean` keeps those two on purpose).
pub fn first_raw_control(s: &str) -> Option<(usize, char)> {
    s.char_indices()
        .find(|&(_, c)| c.is_control() && c != '\n' && c != '\t')
}

pub fn assert_no_raw_controls(s: &str, what: &str) {
    if let Some((i, c)) = first_raw_control(s) {
        let from = s.floor_char_boundary_compat(i.saturating_sub(40));
        let to = s.floor_char_boundary_compat((i + 40).min(s.len()));
        panic!(
            "{what}: raw control character {:?} at byte {i} of the output, around {:?}",
            c,
            &s[from..to]
        );
    }
}

trait FloorCompat {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}
impl FloorCompat for str {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        i = i.min(self.len());
        while !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

/// Render `d` as JSON (which must serialize, re-parse to the same value,
/// and carry in-bounds spans) and for people without colour (which must
/// hold no raw control character).
pub fn render_and_check(d: &Diagnostic) {
    assert_diag_spans(d);
    let v = regle::render::json(d);
    let s = serde_json::to_string(&v).expect("diagnostic JSON serializes");
    let back: serde_json::Value = serde_json::from_str(&s).expect("diagnostic JSON re-parses");
    assert_eq!(back, v, "diagnostic JSON does not round-trip");
    if let Some(p) = &d.primary {
        json_span_ok(&v, &p.source.text, "JSON primary span");
        let related = v
            .get("related")
            .and_then(|r| r.as_array())
            .expect("`related` array when there is a primary label");
        assert_eq!(
            related.len(),
            d.secondary.len(),
            "one `related` per secondary label"
        );
        for (r, l) in related.iter().zip(&d.secondary) {
            json_span_ok(r, &l.source.text, "JSON related span");
        }
    }
    let human = regle::render::human(d, false);
    if strict() {
        assert_no_raw_controls(&human, "render::human(color=false)");
    } else {
        // Known issue (docs/fuzzing.md, fuzz/regressions/*/): miette prints
        // the source snippet and the file name as they are, so a control
        // character in the *file* reaches the terminal. Until that is fixed,
        // check the rest (message, labels, help: what `render::clean`
        // handles) on a copy whose sources have their control characters
        // replaced, byte for byte, by printable ones (spans stay valid).
        let human = regle::render::human(&without_source_controls(d), false);
        assert_no_raw_controls(&human, "render::human(color=false), sources sanitized");
    }
}

/// Require that control characters in source texts and file names never
/// reach the human rendering raw (fixed in `render::snippet_source`);
/// `REGLE_FUZZ_STRICT=0` relaxes it.
pub fn strict() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("REGLE_FUZZ_STRICT").is_none_or(|v| v != "0"))
}

/// Replace every control character but newline and tab by a printable
/// character of the same UTF-8 length (`?` or `¿`).
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\t' => c,
            c if c.is_control() && c.len_utf8() == 1 => '?',
            c if c.is_control() => '¿',
            c => c,
        })
        .collect()
}

/// `d` with every source (text and name) sanitized; labels that shared a
/// source still share one.
pub fn without_source_controls(d: &Diagnostic) -> Diagnostic {
    use regle::source::{Source, SourceFile};
    let mut seen: Vec<(Source, Source)> = Vec::new();
    let mut fix = |l: &mut Label| {
        if let Some((_, new)) = seen
            .iter()
            .find(|(old, _)| std::sync::Arc::ptr_eq(old, &l.source))
        {
            l.source = new.clone();
            return;
        }
        let new = SourceFile::new(sanitize(&l.source.name), sanitize(&l.source.text));
        assert_eq!(new.text.len(), l.source.text.len());
        seen.push((l.source.clone(), new.clone()));
        l.source = new;
    };
    let mut d = d.clone();
    if let Some(p) = d.primary.as_mut() {
        fix(p);
    }
    for s in &mut d.secondary {
        fix(s);
    }
    d
}

fn json_span_ok(v: &serde_json::Value, text: &str, what: &str) {
    let span = v.get("span").expect("label JSON has a span");
    let get = |k: &str| {
        span.get(k)
            .and_then(|x| x.as_u64())
            .expect("span start/end are integers") as usize
    };
    assert_span(text, Span::new(get("start"), get("end")), what);
    let line = v.get("line").and_then(|x| x.as_u64()).expect("line");
    let column = v.get("column").and_then(|x| x.as_u64()).expect("column");
    assert!(line >= 1 && column >= 1, "{what}: line/column are 1-based");
}

/// Every node span and key span of `tree` lies in `text[lo..hi]` on
/// character boundaries; parent links and child ids are in range.
pub fn assert_tree(text: &str, lo: usize, hi: usize, tree: &Tree, what: &str) {
    let n = tree.nodes.len();
    assert!(n > 0, "{what}: a parsed tree has at least one node");
    assert!((tree.root as usize) < n, "{what}: root id out of range");
    let inside = |span: Span, w: &str| {
        assert_span(text, span, w);
        assert!(
            span.start >= lo && span.end <= hi,
            "{w}: span {}..{} outside the document's range {lo}..{hi}",
            span.start,
            span.end
        );
    };
    for (i, node) in tree.nodes.iter().enumerate() {
        inside(node.span, &format!("{what}: node {i}"));
        if let Some(p) = node.parent {
            assert!(
                (p as usize) < n,
                "{what}: node {i} has parent {p} out of range"
            );
        }
        match &node.value {
            NodeValue::Seq(items) => {
                for &c in items {
                    assert!((c as usize) < n, "{what}: child id out of range");
                }
            }
            NodeValue::Map(entries) => {
                for e in entries {
                    assert!((e.node as usize) < n, "{what}: child id out of range");
                    inside(e.key_span, &format!("{what}: key {:?} of node {i}", e.key));
                }
            }
            _ => {}
        }
    }
}

pub fn assert_error_span(text: &str, e: &ParseError, what: &str) {
    assert_span(
        text,
        e.span,
        &format!("{what}: error {} ({})", e.code, e.message),
    );
}
