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

#[test]
fn a_fact_outside_its_table_column_is_refused_with_the_closest_value() {
    let case = std::fs::read_to_string("tests/cases/1A-same-name.yaml")
        .unwrap()
        .replace("dispositif: SDV-PSF", "dispositif: SDV-PFS");
    let path = std::env::temp_dir().join(format!("regle-domain-{}.yaml", std::process::id()));
    std::fs::write(&path, case).unwrap();
    let out = Command::cargo_bin("regle")
        .unwrap()
        .args(["eval", "policies/segur-v2"])
        .arg(&path)
        .args([
            "--registry",
            "tests/cases/registry.yaml",
            "--as-of",
            "2026-05-20",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &r["error"]["diagnostics"][0];
    assert_eq!(d["code"], "regle::facts::unknown_value");
    assert_eq!(d["help"], "did you mean `SDV-PSF`?");
    assert_eq!(d["line"], 5);
    let _ = std::fs::remove_file(path);
}

/// The report a publisher reads: outcome, each problem with its line of the
/// facts file and the source text, documents, evidence grouped by chapter.
#[test]
fn human_report_of_a_rejected_candidacy() {
    let out = Command::cargo_bin("regle")
        .unwrap()
        .args([
            "eval",
            "policies/segur-v2",
            "tests/cases/asc-root-newer.yaml",
            "--registry",
            "tests/cases/registry.yaml",
            "--as-of",
            "2026-05-20",
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}
