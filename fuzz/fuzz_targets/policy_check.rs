//! Arbitrary text as a policy file: if it parses, `check::check` must not
//! panic and must return; every diagnostic's spans lie inside its source
//! and render. (Table paths resolve against the current directory, where
//! they normally do not exist: that is an ordinary diagnostic.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use regle::source::SourceFile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = SourceFile::new("fuzz.regle", text);
    let Ok(module) = regle::syntax::parse(&source) else {
        return;
    };
    let diags = match regle::check::check(&[module], Vec::new()) {
        Ok(checked) => checked.warnings,
        Err(diags) => {
            assert!(
                diags.iter().any(|d| d.is_error()),
                "Err holds at least one error"
            );
            diags
        }
    };
    for (i, d) in diags.iter().enumerate() {
        regle_fuzz::assert_diag_spans(d);
        // Rendering every diagnostic is slow; the JSON of all, and the
        // human form of the first few, are enough.
        let _ = regle::render::json(d);
        if i < 3 {
            regle_fuzz::render_and_check(d);
        }
    }
});
