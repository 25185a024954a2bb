//! Evaluation semantics on small fixtures (`tests/fixtures/`), each stating
//! what it expects in its header.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use assert_cmd::Command;

#[test]
fn indexed_queries_on_definitions_agree_with_scans() {
    let out = Command::cargo_bin("regle")
        .unwrap()
        .args([
            "eval",
            "tests/fixtures/def-index",
            "tests/fixtures/def-index/request.json",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        r["diagnostics"],
        serde_json::json!([]),
        "index and scan agree"
    );
    let found: Vec<(&str, &str)> = r["found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["wanted"].as_str().unwrap(), x["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        vec![("a", "yes"), ("b", "yes"), ("zz", "no"), ("c", "no")]
    );
    assert_eq!(out.status.code(), Some(0));
}
