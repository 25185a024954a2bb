//! A generated batch (`benches/gen_corpus.py`) through the binary: every
//! candidacy gets one report, valid JSON, in input order; the output is
//! byte-identical on one thread and on several, and with or without the
//! values documents share remembered; the summary counts them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use assert_cmd::Command;

#[path = "support/corpus.rs"]
mod support;

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
    let run = |jobs: &str, memo: bool| {
        Command::cargo_bin("regle")
            .unwrap()
            .args(support::eval_args(&dir, jobs))
            .args((!memo).then_some("--no-memo"))
            .output()
            .unwrap()
    };
    let one = run("1", true);
    let four = run("4", true);
    assert_eq!(
        one.stdout, four.stdout,
        "the output does not depend on the number of threads"
    );
    let every_core = run("0", true);
    assert!(
        every_core.status.code().is_some_and(|c| c < 2),
        "`--jobs 0`: one per core"
    );
    assert_eq!(one.stdout, every_core.stdout);
    assert_eq!(
        one.stdout,
        run("1", false).stdout,
        "the output does not depend on remembering definitions across documents"
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

/// Every per-rule case (`tests/rules/`) evaluated in one run, so that the
/// values remembered for one case meet the next, in both orders: the same
/// reports as computing each afresh (`--no-memo`).
#[test]
fn remembered_values_change_no_report_of_the_per_rule_cases() {
    let mut by_date: std::collections::BTreeMap<String, Vec<std::path::PathBuf>> =
        Default::default();
    for entry in std::fs::read_dir("tests/rules").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") || path.ends_with("registry.yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let date = text
            .lines()
            .find_map(|l| l.strip_prefix("# as-of: "))
            .expect("every case has an as-of line")
            .trim()
            .to_string();
        by_date.entry(date).or_default().push(path);
    }
    assert!(by_date.values().map(Vec::len).sum::<usize>() > 50);
    for (date, mut files) in by_date {
        files.sort();
        for order in ["forward", "backward"] {
            if order == "backward" {
                files.reverse();
            }
            let run = |memo: bool| {
                Command::cargo_bin("regle")
                    .unwrap()
                    .args(["eval", "policies/segur-v2"])
                    .args(&files)
                    .args(["--registry", "tests/rules/registry.yaml", "--as-of", &date])
                    .args(["--format", "ndjson", "--jobs", "1"])
                    .args((!memo).then_some("--no-memo"))
                    .output()
                    .unwrap()
            };
            let (with, without) = (run(true), run(false));
            assert_eq!(
                with.stdout.iter().filter(|&&b| b == b'\n').count(),
                files.len()
            );
            assert_eq!(
                String::from_utf8_lossy(&with.stdout),
                String::from_utf8_lossy(&without.stdout),
                "as of {date}, {order}"
            );
        }
    }
}
