//! The shared cases (`tests/cases/`, from the source's illustrations): each
//! candidacy evaluated by the binary under the Ségur policy must agree with
//! its `expected/` report on every requirement's status and source, the
//! documents, the error and warning diagnostics, and the outcome.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

fn eval(policy: &str, case: &Path, registry: &str) -> (Value, i32) {
    let out = Command::cargo_bin("regle")
        .expect("binary")
        .args(["eval", policy])
        .arg(case)
        .args([
            "--registry",
            registry,
            "--as-of",
            "2026-05-20",
            "--format",
            "json",
        ])
        .output()
        .expect("run regle");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: not JSON ({e}): {}",
            case.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (report, out.status.code().unwrap_or(-1))
}

fn evidence(r: &Value) -> Vec<(String, String, Value)> {
    r["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|e| {
            (
                e["requirement"].as_str().unwrap_or("").to_string(),
                e["status"].as_str().unwrap_or("").to_string(),
                e["from"].clone(),
            )
        })
        .collect()
}

fn documents(r: &Value) -> Vec<Value> {
    r["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .map(|d| {
            let mut d = d.clone();
            if let Some(o) = d.as_object_mut() {
                o.remove("rule");
            }
            d
        })
        .collect()
}

fn findings(r: &Value) -> Vec<(String, String)> {
    r["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["severity"] != "info")
        .map(|d| {
            (
                d["rule"].as_str().unwrap_or("").to_string(),
                d["severity"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn every_shared_case_agrees_with_its_expected_report() {
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir("tests/cases")
        .expect("cases")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    entries.sort();
    for case in entries {
        let name = case
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_string();
        if case.extension().is_none_or(|e| e != "yaml") || name == "registry" {
            continue;
        }
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("tests/cases/expected/{name}.json"))
                .expect("expected file"),
        )
        .expect("expected JSON");
        let (got, code) = eval("policies/segur-v2", &case, "tests/cases/registry.yaml");
        let mut problems = Vec::new();
        if evidence(&got) != evidence(&expected) {
            let first = evidence(&got)
                .into_iter()
                .zip(evidence(&expected))
                .find(|(a, b)| a != b);
            problems.push(format!(
                "evidence differs (first difference: {first:?}; {} lines vs {})",
                evidence(&got).len(),
                evidence(&expected).len()
            ));
        }
        if documents(&got) != documents(&expected) {
            problems.push(format!(
                "documents: got {:?}, expected {:?}",
                documents(&got),
                documents(&expected)
            ));
        }
        let want: Vec<(String, String)> = expected["diagnostics"]
            .as_array()
            .expect("diags")
            .iter()
            .map(|d| {
                (
                    d["rule"].as_str().unwrap_or("").to_string(),
                    d["severity"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        if findings(&got) != want {
            problems.push(format!(
                "diagnostics: got {:?}, expected {want:?}",
                findings(&got)
            ));
        }
        if got["outcome"] != expected["outcome"] {
            problems.push(format!(
                "outcome: got {}, expected {}",
                got["outcome"], expected["outcome"]
            ));
        }
        let want_code = if expected["outcome"] == "complete" {
            0
        } else {
            1
        };
        if code != want_code {
            problems.push(format!("exit code {code}, expected {want_code}"));
        }
        if !problems.is_empty() {
            failures.push(format!("{name}:\n  {}", problems.join("\n  ")));
        }
        checked += 1;
    }
    assert_eq!(checked, 8, "the eight shared cases are all there");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
