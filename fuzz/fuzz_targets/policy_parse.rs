//! Arbitrary bytes as a policy file: `syntax::parse` must not panic; a
//! syntax error's spans lie inside the text, on character boundaries, and
//! the diagnostic renders (JSON and human) without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regle::source::SourceFile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = SourceFile::new("fuzz.regle", text);
    match regle::syntax::parse(&source) {
        Ok(module) => {
            assert!(std::sync::Arc::ptr_eq(&module.source, &source));
        }
        Err(d) => {
            let p = d
                .primary
                .as_ref()
                .expect("a syntax error points into the file");
            assert!(
                std::sync::Arc::ptr_eq(&p.source, &source),
                "the label is in the parsed file"
            );
            regle_fuzz::assert_span(text, p.span, "syntax error primary span");
            regle_fuzz::render_and_check(&d);
        }
    }
});
