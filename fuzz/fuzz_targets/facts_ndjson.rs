//! Arbitrary text as an NDJSON facts file (`facts::json::parse_ndjson`):
//! no panic; one result per non-blank line, in order; every span inside the
//! whole text on character boundaries, and inside its own line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regle::facts::json::{ndjson_lines, parse_ndjson};
use regle::facts::tree::Limits;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let results = parse_ndjson(text, &Limits::default());
    let lines: Vec<(usize, usize, &str)> = ndjson_lines(text).collect();
    assert_eq!(results.len(), lines.len(), "one result per non-blank line");
    let mut last = 0;
    for ((line, result), &(l, base, chunk)) in results.iter().zip(&lines) {
        assert_eq!(*line, l);
        assert!(*line > last, "line numbers increase");
        last = *line;
        let what = format!("parse_ndjson line {line}");
        assert_eq!(
            text.get(base..base + chunk.len()),
            Some(chunk),
            "{what}: line offset"
        );
        match result {
            Ok(tree) => regle_fuzz::assert_tree(text, base, base + chunk.len(), tree, &what),
            Err(e) => {
                regle_fuzz::assert_error_span(text, e, &what);
                assert!(
                    e.span.start >= base && e.span.end <= base + chunk.len(),
                    "{what}: error span {}..{} outside the line {}..{}",
                    e.span.start,
                    e.span.end,
                    base,
                    base + chunk.len()
                );
            }
        }
    }
});
