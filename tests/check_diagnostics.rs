//! What `regle check` shows a policy author: snapshots of rendered
//! diagnostics (miette, no colour), reviewed with `cargo insta review`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use regle::check::load_policy;
use regle::diag::{Diagnostic, Severity};
use std::path::Path;

fn render(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| regle::render::human(d, false))
        .collect::<Vec<_>>()
        .join("\n")
}

fn problems(path: &str) -> Vec<Diagnostic> {
    match load_policy(Path::new(path)) {
        Ok(c) => c.warnings,
        Err(d) => d,
    }
}

#[test]
fn five_mistakes_give_every_diagnostic_in_one_run() {
    let diags = problems("tests/fixtures/five-mistakes");
    let codes: Vec<(&str, Severity)> = diags.iter().map(|d| (d.code, d.severity)).collect();
    assert_eq!(
        codes,
        vec![
            ("regle::table::bad_cell", Severity::Error),
            ("regle::table::missing_column", Severity::Error),
            ("regle::check::unknown_name", Severity::Error),
            ("regle::check::type_mismatch", Severity::Error),
            ("regle::check::duplicate_rule", Severity::Error),
            ("regle::check::no_such_field", Severity::Error),
            // `code_connu`, misspelt where it is used, is then never used.
            ("regle::check::unused_definition", Severity::Warning),
            ("regle::check::no_citation", Severity::Warning),
        ]
    );
    // Every diagnostic points at its place, with a label.
    assert!(diags
        .iter()
        .all(|d| d.primary.as_ref().is_some_and(|p| !p.text.is_empty())));
    insta::assert_snapshot!(render(&diags));
}

#[test]
fn syntax_errors_say_what_was_expected() {
    for name in ["missing-operand", "unclosed-block", "unclosed-paren"] {
        let diags = problems(&format!("tests/fixtures/syntax/{name}.regle"));
        assert_eq!(diags.len(), 1, "{name}: one syntax error");
        assert!(
            diags[0].code.starts_with("regle::syntax::"),
            "{name}: {}",
            diags[0].code
        );
        insta::assert_snapshot!(name, render(&diags));
    }
}

#[test]
fn diagnostics_as_json_carry_file_line_and_span() {
    let diags = problems("tests/fixtures/five-mistakes");
    let json = serde_json::Value::Array(diags.iter().map(regle::render::json).collect());
    let text = serde_json::to_string(&json).unwrap();
    let back: serde_json::Value = serde_json::from_str(&text).unwrap();
    for d in back.as_array().unwrap() {
        assert!(d["code"].as_str().unwrap().starts_with("regle::"));
        assert!(d["file"].is_string() && d["line"].as_u64().unwrap() >= 1);
        assert!(d["span"]["start"].as_u64().unwrap() <= d["span"]["end"].as_u64().unwrap());
    }
    let unknown = back
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "regle::check::unknown_name")
        .unwrap();
    assert_eq!(unknown["help"], "did you mean `code_connu`?");
    assert_eq!(unknown["line"], 26);
}

#[test]
fn shipped_policies_check_clean() {
    for p in ["policies/segur-v2", "policies/grants"] {
        let checked = load_policy(Path::new(p)).unwrap_or_else(|d| panic!("{p}:\n{}", render(&d)));
        assert!(
            checked.warnings.is_empty(),
            "{p}:\n{}",
            render(&checked.warnings)
        );
    }
}
