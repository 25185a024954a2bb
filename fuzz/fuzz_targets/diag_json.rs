//! A diagnostic built from arbitrary parts: file name, message, label and
//! help texts (control characters included), an arbitrary source text and
//! arbitrary spans (clamped by `Diagnostic::at`/`also`), secondary labels
//! in the same or another file. `render::json` must serialize and re-parse,
//! with spans inside the source on character boundaries;
//! `render::human(_, false)` must hold no raw control character but newline
//! and tab (see `regle_fuzz::render_and_check` for the known exception).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use regle::diag::Diagnostic;
use regle::source::{SourceFile, Span};

#[derive(Arbitrary, Debug)]
struct Input {
    name: String,
    message: String,
    label: String,
    help: Option<String>,
    source: String,
    start: u16,
    end: u16,
    /// Push the span far past any text (clamping must cope).
    huge: bool,
    warning: bool,
    secondary: Vec<Secondary>,
}

#[derive(Arbitrary, Debug)]
struct Secondary {
    label: String,
    start: u16,
    end: u16,
    /// `Some(text)`: the label is in another file with this text.
    other: Option<String>,
}

fuzz_target!(|input: Input| {
    let source = SourceFile::new(input.name, input.source);
    let mut d = if input.warning {
        Diagnostic::warning("regle::fuzz::diag", input.message)
    } else {
        Diagnostic::error("regle::fuzz::diag", input.message)
    };
    let far = if input.huge { usize::MAX - 0xFFFF } else { 0 };
    let span = Span::new(far + usize::from(input.start), far + usize::from(input.end));
    d = d.at(&source, span, input.label);
    for s in input.secondary.into_iter().take(4) {
        let src = match s.other {
            Some(text) => SourceFile::new("other.regle", text),
            None => source.clone(),
        };
        d = d.also(&src, Span::new(s.start.into(), s.end.into()), s.label);
    }
    d = d.help_opt(input.help);
    regle_fuzz::render_and_check(&d);
});
