//! Rules change without code changes: a modified copy of the Ségur policy
//! (a rule removed, a list or a deadline edited) gives the other decision
//! on the same candidacy, with the same binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A copy of `policies/segur-v2` in a fresh folder, edited by `edit`.
fn edited_policy(name: &str, edit: impl Fn(&Path)) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("regle-policy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data")).unwrap();
    for sub in ["", "data"] {
        for e in std::fs::read_dir(Path::new("policies/segur-v2").join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                std::fs::copy(&p, dir.join(sub).join(p.file_name().unwrap())).unwrap();
            }
        }
    }
    edit(&dir);
    dir
}

fn replace(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        file.display()
    );
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

fn eval(policy: &Path, case: &str) -> Value {
    let out = Command::cargo_bin("regle")
        .unwrap()
        .arg("eval")
        .arg(policy)
        .arg(format!("tests/cases/{case}.yaml"))
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
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn count(r: &Value, status: &str) -> usize {
    r["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == status)
        .count()
}

fn rules(r: &Value, severity: &str) -> Vec<String> {
    r["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == severity)
        .map(|d| d["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn without_the_medico_social_exception_ms1_and_ms2_give_no_heritage() {
    let shipped = eval(Path::new("policies/segur-v2"), "heritage-ms-corridor");
    assert_eq!(shipped["outcome"], "complete");
    assert_eq!(count(&shipped, "inherited"), 49);

    // Remove rule HER-03, the exception, from the policy text.
    let policy = edited_policy("no-her03", |dir| {
        let file = dir.join("30-heritage.regle");
        let text = std::fs::read_to_string(&file).unwrap();
        let start = text.find("rule HER-03").unwrap();
        let end = start + text[start..].find("\n\n").unwrap();
        std::fs::write(&file, format!("{}{}", &text[..start], &text[end..])).unwrap();
    });
    let edited = eval(&policy, "heritage-ms-corridor");
    assert_eq!(edited["outcome"], "rejected");
    assert_eq!(rules(&edited, "error"), vec!["HER-04", "HER-04"]);
    assert_eq!(count(&edited, "inherited"), 0);
    let _ = std::fs::remove_dir_all(policy);
}

#[test]
fn emptying_the_corridor_list_has_the_same_effect() {
    let policy = edited_policy("no-corridor", |dir| {
        replace(
            &dir.join("30-heritage.regle"),
            "def couloirs_heritage_commun = [\"medico-social\"]",
            "def couloirs_heritage_commun = []",
        );
    });
    let edited = eval(&policy, "heritage-ms-corridor");
    assert_eq!(count(&edited, "inherited"), 0);
    assert!(rules(&edited, "error").contains(&"HER-04".to_string()));
    let _ = std::fs::remove_dir_all(policy);
}

#[test]
fn an_earlier_deadline_voids_a_root_declared_after_it() {
    let shipped = eval(Path::new("policies/segur-v2"), "1A-same-name");
    assert_eq!(count(&shipped, "equivalent"), 103);

    // SDV-PSF's deadline moved before the root's declaration (2026-03-02).
    let policy = edited_policy("deadline", |dir| {
        replace(
            &dir.join("data/echeances.csv"),
            "SDV-PSF,2026-07-15",
            "SDV-PSF,2026-03-01",
        );
    });
    let edited = eval(&policy, "1A-same-name");
    assert_eq!(edited["outcome"], "rejected");
    assert!(rules(&edited, "error").contains(&"EQV-07".to_string()));
    assert_eq!(count(&edited, "equivalent"), 0);
    let _ = std::fs::remove_dir_all(policy);
}
