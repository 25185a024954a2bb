//! Arbitrary text as a YAML facts file (`facts::yaml::parse_yaml`): no
//! panic, no hang (alias bombs are refused); every node and key span (and
//! an error's span) inside the text on character boundaries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regle::facts::tree::Limits;
use regle::facts::yaml::parse_yaml;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_yaml(text, &Limits::default()) {
        Ok(tree) => regle_fuzz::assert_tree(text, 0, text.len(), &tree, "parse_yaml"),
        Err(e) => regle_fuzz::assert_error_span(text, &e, "parse_yaml"),
    }
});
