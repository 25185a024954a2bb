//! A generated batch (`benches/gen_corpus.py`) through the binary: every
//! candidacy gets one report, valid JSON, in input order; the output is
//! byte-identical on one thread and on several; the summary counts them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use assert_cmd::Command;

#[test]
fn a_generated_batch_gives_one_valid_report_per_candidacy_in_order_whatever_the_threads() {
    let dir = std::env::temp_dir().join(format!("regle-batch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let status = std::process::Command::new("python3")
        .arg("benches/gen_corpus.py")
        .arg(&dir)
        .args(["400", "7"])
        .status()
        .expect("python3 runs benches/gen_corpus.py");
    assert!(status.success());
    let run = |jobs: &str| {
        Command::cargo_bin("regle")
            .unwrap()
            .args(["eval", "policies/segur-v2"])
            .arg(dir.join("candidacies.ndjson"))
            .arg("--registry")
            .arg(dir.join("registry.json"))
            .args([
                "--as-of",
                "2026-05-20",
                "--format",
                "ndjson",
                "--jobs",
                jobs,
            ])
            .output()
            .unwrap()
    };
    let one = run("1");
    let four = run("4");
    assert_eq!(
        one.stdout, four.stdout,
        "the output does not depend on the number of threads"
    );
    let input = std::fs::read_to_string(dir.join("candidacies.ndjson")).unwrap();
    let ids: Vec<String> = input
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["candidacy"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let reports: Vec<serde_json::Value> = String::from_utf8(one.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(reports.len(), 400);
    for (id, r) in ids.iter().zip(&reports) {
        assert_eq!(
            r["candidacy"].as_str(),
            Some(id.as_str()),
            "reports come in input order"
        );
        assert!(["complete", "incomplete", "rejected"].contains(&r["outcome"].as_str().unwrap()));
    }
    assert_eq!(
        one.status.code(),
        Some(1),
        "some candidacies are incomplete or rejected"
    );
    let summary = String::from_utf8(one.stderr).unwrap();
    assert!(summary.contains("400 documents:"), "{summary}");
    let _ = std::fs::remove_dir_all(&dir);
}
