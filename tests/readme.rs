//! The README's and the language reference's examples, run: every `regle`
//! command of the README exits as its comment says, the README's rule is
//! the shipped policy's, the reference's `regle` blocks form one valid
//! policy, and each `regle-error` block gives the error it names.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use assert_cmd::Command;

/// Fenced blocks of a Markdown file: (info string, body).
fn blocks(path: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).expect("markdown file");
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) => current = Some((info.trim().to_string(), String::new())),
            (Some(_), Some(_)) => out.extend(current.take()),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

#[test]
fn readme_commands_exit_as_documented() {
    let mut ran = 0;
    for (info, body) in blocks("README.md") {
        if info != "sh" {
            continue;
        }
        for line in body.lines() {
            let (cmd, expected) = match line.split_once("# exit ") {
                Some((c, code)) => (c.trim(), code.trim().parse::<i32>().expect("exit code")),
                None => (line.trim(), 0),
            };
            let args: Vec<&str> = if let Some(rest) = cmd.strip_prefix("cargo run --release -- ") {
                rest.split_whitespace().collect()
            } else if let Some(rest) = cmd.strip_prefix("regle ") {
                rest.split_whitespace().collect()
            } else {
                continue;
            };
            let out = Command::cargo_bin("regle")
                .unwrap()
                .args(&args)
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(expected),
                "`{cmd}` exited {:?}, the README says {expected}\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                !out.stdout.is_empty() || !out.stderr.is_empty(),
                "`{cmd}` printed nothing"
            );
            ran += 1;
        }
    }
    assert!(ran >= 6, "the README's commands were found ({ran})");
}

#[test]
fn readme_rule_is_the_shipped_rule() {
    let policy: String = std::fs::read_dir("policies/segur-v2")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "regle"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    let rules: Vec<String> = blocks("README.md")
        .into_iter()
        .filter(|b| b.0 == "regle")
        .map(|b| b.1)
        .collect();
    assert!(!rules.is_empty());
    for r in rules {
        assert!(
            policy.contains(r.trim()),
            "the README shows a rule the policy does not hold:\n{r}"
        );
    }
}

/// The reference's policy, written to a fresh folder with its CSV files.
fn reference_policy(extra: &str) -> tempdir::Dir {
    let dir = tempdir::Dir::new("language");
    let mut policy = String::new();
    for (info, body) in blocks("docs/language.md") {
        if info == "regle" {
            policy.push_str(&body);
        } else if let Some(file) = info.strip_prefix("csv file=") {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        }
    }
    policy.push_str(extra);
    std::fs::write(dir.path().join("policy.regle"), policy).unwrap();
    dir
}

#[test]
fn language_reference_examples_form_a_valid_policy() {
    let dir = reference_policy("");
    match regle::check::load_policy(dir.path()) {
        Ok(checked) => assert!(
            checked.warnings.is_empty(),
            "warnings: {:?}",
            checked
                .warnings
                .iter()
                .map(|d| &d.message)
                .collect::<Vec<_>>()
        ),
        Err(diags) => panic!(
            "{:#?}",
            diags
                .iter()
                .map(|d| (&d.code, &d.message))
                .collect::<Vec<_>>()
        ),
    }
}

#[test]
fn language_reference_mistakes_give_their_errors() {
    let mut seen = 0;
    for (info, body) in blocks("docs/language.md") {
        let Some(code) = info.strip_prefix("regle-error ") else {
            continue;
        };
        let dir = reference_policy(&body);
        let diags = match regle::check::load_policy(dir.path()) {
            Ok(c) => c.warnings,
            Err(d) => d,
        };
        assert!(
            diags.iter().any(|d| d.code == code),
            "expected `{code}` for:\n{body}\ngot: {:?}",
            diags
                .iter()
                .map(|d| (d.code, &d.message))
                .collect::<Vec<_>>()
        );
        seen += 1;
    }
    assert!(seen >= 5);
}

mod tempdir {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A folder under the target directory, removed when dropped.
    pub struct Dir(PathBuf);

    static NEXT: AtomicUsize = AtomicUsize::new(0);

    impl Dir {
        pub fn new(name: &str) -> Dir {
            let n = NEXT.fetch_add(1, Ordering::SeqCst);
            let p =
                std::env::temp_dir().join(format!("regle-test-{name}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
