//! Hostile input: malformed, huge, deep or tricky policy and facts files
//! each get a clear diagnostic and exit code 2 (or the correct result where
//! the input is legal), in bounded time, never a panic, an abort or a hang.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A fresh folder for one test's files, removed when the test is done.
struct Dir(PathBuf);

impl std::ops::Deref for Dir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(name: &str) -> Dir {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let d = std::env::temp_dir().join(format!("regle-hostile-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn regle(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut cmd = Command::cargo_bin("regle").unwrap();
    cmd.args(args)
        .timeout(Duration::from_secs(120))
        .env("NO_COLOR", "1");
    if let Some(input) = stdin {
        cmd.write_stdin(input.to_vec());
    }
    let out = cmd.output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "panic: {}", run.stderr);
    assert_ne!(
        run.code, -1,
        "killed by a signal or timed out:\n{}",
        run.stderr
    );
    run
}

fn check_policy(text: &[u8]) -> Run {
    let d = dir("policy");
    let p = d.join("p.regle");
    std::fs::write(&p, text).unwrap();
    regle(&["check", p.to_str().unwrap(), "--format", "json"], None)
}

/// The diagnostics of a `check --format json` run that refuses the
/// policy (exit code 2).
fn refused(run: &Run) -> serde_json::Value {
    assert_eq!(run.code, 2, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout))
}

/// Diagnostics of a `check --format json` run.
fn codes(run: &Run) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout));
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

const HEAD: &str = "policy \"p\" { version \"1\" subject id: c.id }\nrecord C { id: Text\n version: Version\n ok: Bool\n n: Int }\ninput c: C\n";

fn eval_facts(name: &str, facts: &[u8]) -> Run {
    eval_facts_as(name, facts, &["--format", "json"])
}

/// `eval_facts`, with these options (`&[]`: the person's report).
fn eval_facts_as(name: &str, facts: &[u8], options: &[&str]) -> Run {
    let d = dir(&format!("facts-{}", name.replace('.', "-")));
    std::fs::write(d.join("p.regle"), format!("{HEAD}rule R-1 \"v\" cite \"v\" when not valid(c.version) error at c.version \"bad {{c.version}}\"\n")).unwrap();
    let (p, f) = (d.join("p.regle"), d.join(name));
    std::fs::write(&f, facts).unwrap();
    let mut args = vec!["eval", p.to_str().unwrap(), f.to_str().unwrap()];
    args.extend(options);
    regle(&args, None)
}

fn facts_error_codes(run: &Run) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout));
    v["error"]["diagnostics"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| d["code"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn policy_nested_100000_deep_is_refused() {
    let mut text = format!("{HEAD}def d = ");
    text.push_str(&"(".repeat(100_000));
    text.push('1');
    text.push_str(&")".repeat(100_000));
    let run = check_policy(text.as_bytes());
    assert_eq!(run.code, 2);
    assert_eq!(codes(&run), vec!["regle::syntax::too_deep"]);
}

#[test]
fn policy_long_flat_chain_is_read_and_a_million_is_refused_by_size() {
    let chain = |n: usize| format!("{HEAD}def d = {}\n", vec!["c.ok"; n].join(" or "));
    let run = check_policy(chain(100_000).as_bytes());
    assert_eq!(run.code, 0, "{}", run.stdout);
    let run = check_policy(chain(1_000_000).as_bytes());
    assert_eq!(run.code, 2);
    assert_eq!(codes(&run), vec!["regle::policy::too_large"]);
}

/// Definitions that each ask twice whether the next one's value is
/// there: what decides it is worked out once for each, not once for each
/// way down the chain (2^60 of them).
#[test]
fn policy_chain_of_presence_questions_is_checked_at_once() {
    let mut text = format!("{HEAD}def f0(x: Text) = [x] where it != \"\"\n");
    for i in 1..=60 {
        let p = i - 1;
        text.push_str(&format!(
            "def f{i}(x: Text) = if exists(f{p}(x)) and exists(f{p}(x + \"b\")) then [x] else []\n"
        ));
    }
    text.push_str("rule R-1 \"v\" cite \"v\" when exists(f60(c.id)) info \"yes\"\n");
    let run = check_policy(text.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stdout);
}

/// Chains of operators build expressions as deep as they are long:
/// checking and evaluating them would exhaust the stack. Each kind is
/// refused past the limit, with where and what to do.
#[test]
fn policy_long_operator_chains_are_refused_not_overflowed() {
    let chains = [
        (
            "+",
            format!("def d = {}\n", vec!["c.n"; 20_000].join(" + ")),
        ),
        ("fields", format!("def d = c{}\n", ".id".repeat(20_000))),
        (
            "where",
            format!("def d = [1]{}\n", " where it > 0".repeat(20_000)),
        ),
        ("not", format!("def d = {}c.ok\n", "not ".repeat(20_000))),
    ];
    for (what, body) in chains {
        let run = check_policy(format!("{HEAD}{body}").as_bytes());
        let v = refused(&run);
        assert_eq!(v[0]["code"], "regle::syntax::too_deep", "{what}");
        assert_eq!(v[0]["line"], 7, "{what}");
        assert!(v[0]["help"].as_str().unwrap().contains("def"), "{what}");
    }
    // Short of the limit, a chain is read and evaluated.
    let d = dir("chain");
    let p = d.join("p.regle");
    let sum = vec!["c.n"; 200].join(" + ");
    std::fs::write(
        &p,
        format!("{HEAD}rule R-1 \"s\" cite \"s\" when {sum} > 0 info \"{{{sum}}}\"\n"),
    )
    .unwrap();
    let facts = d.join("c.json");
    std::fs::write(
        &facts,
        r#"{"c": {"id": "x", "version": "1", "ok": true, "n": 2}}"#,
    )
    .unwrap();
    let run = regle(
        &[
            "eval",
            p.to_str().unwrap(),
            facts.to_str().unwrap(),
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("\"400\""), "{}", run.stdout);
}

/// Rendered text with its line wrapping undone.
fn flat(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

/// `if`s and quantifiers nested without brackets are read by recursion:
/// thousands deep, the reader stops and says so. (Where it stops depends
/// on the build's stack use.)
#[test]
fn policy_deep_if_or_quantifier_chain_is_refused() {
    for body in [
        format!("def d = {}0\n", "if c.ok then 1 else ".repeat(20_000)),
        format!("def d = {}c.ok\n", "any x in [1]: ".repeat(20_000)),
    ] {
        let v = refused(&check_policy(format!("{HEAD}{body}").as_bytes()));
        assert_eq!(v[0]["code"], "regle::syntax::too_deep");
    }
}

/// A policy mistake at the end of a line far too long to quote: the
/// person's report names its place instead (the terminal renderer cannot
/// draw past column 65,535).
#[test]
fn policy_error_far_along_a_long_line_is_rendered_for_a_person() {
    let d = dir("long-line");
    let p = d.join("p.regle");
    std::fs::write(&p, format!("{HEAD}def d = [{}1] ?\n", "1, ".repeat(40_000))).unwrap();
    let run = regle(&["check", p.to_str().unwrap()], None);
    assert_place_named_not_quoted(&run, "p.regle:7:120013:");
}

/// Refused (exit 2), the place named, the line not quoted.
fn assert_place_named_not_quoted(run: &Run, place: &str) {
    assert_eq!(run.code, 2, "{}", run.stderr);
    let said = flat(&run.stderr);
    assert!(said.contains(place), "{said}");
    assert!(said.contains("the line is too long to quote"), "{said}");
}

/// A facts document on one long line, wrong far along it: the person's
/// report names the place (it used to abort drawing the line).
#[test]
fn facts_error_far_along_a_long_line_is_rendered_for_a_person() {
    let pad = "x".repeat(200_000);
    let facts = format!("{{\"c\": {{\"id\": \"{pad}\", \"n\": \"two\"}}}}\n");
    let run = eval_facts_as("c.ndjson", facts.as_bytes(), &[]);
    assert_place_named_not_quoted(&run, "c.ndjson:1:200023:");
}

/// A chain of definitions, each reading the next, recurses as deep when
/// checked (declared last first) or evaluated (declared first first):
/// refused at the definition where it gets too deep, in either order.
#[test]
fn policy_long_definition_chains_are_refused_in_either_order() {
    let n = 5_000;
    let mut defs: Vec<String> = (1..n)
        .map(|i| format!("def d{i} = d{} where it > 0\n", i - 1))
        .collect();
    defs.insert(0, "def d0 = [c.n]\n".to_string());
    let rule = format!(
        "rule R-1 \"t\" cite \"t\" when exists(d{}) info \"t\"\n",
        n - 1
    );
    for order in ["first first", "last first"] {
        if order == "last first" {
            defs.reverse();
        }
        let run = check_policy(format!("{HEAD}{rule}{}", defs.concat()).as_bytes());
        let v = refused(&run);
        assert_eq!(
            codes(&run),
            vec!["regle::check::too_deep"],
            "{order}: one error, where the chain gets too deep, and no warning that the rest is unused"
        );
        assert_eq!(v[0]["severity"], "error");
    }
}

#[test]
fn policy_unclosed_block_points_at_its_opening() {
    let run = check_policy(b"policy \"p\" {\n  version \"1\"\n\nrule R-1 \"t\" cite \"c\"\n");
    let v = refused(&run);
    assert_eq!(v[0]["code"], "regle::syntax::unclosed");
    assert_eq!(
        (v[0]["line"].as_u64(), v[0]["column"].as_u64()),
        (Some(1), Some(12))
    );
}

#[test]
fn policy_invalid_utf8_is_located() {
    let mut text = HEAD.as_bytes().to_vec();
    text.extend_from_slice(b"def d = \"caf\xe9\"\n");
    let run = check_policy(&text);
    let v = refused(&run);
    assert_eq!(v[0]["code"], "regle::policy::not_utf8");
    assert_eq!(v[0]["line"], 7);
}

#[test]
fn policy_bom_crlf_lone_cr_and_tabs_are_read_with_right_lines() {
    let text = format!(
        "\u{feff}{}\tdef d = c.ok\r\ndef e = nope\rdef f = 1\n",
        HEAD.replace('\n', "\r\n")
    );
    let run = check_policy(text.as_bytes());
    let v = refused(&run);
    assert_eq!(v[0]["code"], "regle::check::unknown_name");
    // Six CRLF lines of the head, a tab-indented line 7, then `nope` on line 8
    // (ended by a lone CR), column 9.
    assert_eq!(
        (v[0]["line"].as_u64(), v[0]["column"].as_u64()),
        (Some(8), Some(9))
    );
}

#[test]
fn multibyte_and_right_to_left_text_near_an_error_keep_spans_on_characters() {
    let text = format!("{HEAD}# مرحبا → ç日本\ndef d = \"שלום\" + inconnu_é\n");
    let run = check_policy(text.as_bytes());
    let v = refused(&run);
    let (start, end) = (
        v[0]["span"]["start"].as_u64().unwrap() as usize,
        v[0]["span"]["end"].as_u64().unwrap() as usize,
    );
    assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
    // The human rendering copes too.
    let d = dir("rtl");
    std::fs::write(d.join("p.regle"), &text).unwrap();
    let human = regle(&["check", d.join("p.regle").to_str().unwrap()], None);
    assert_eq!(human.code, 2);
    assert!(
        human.stderr.contains("unknown name `inconnu_`") || human.stderr.contains("inconnu"),
        "{}",
        human.stderr
    );
}

#[test]
fn control_characters_in_messages_stay_escaped() {
    // A fact value holding ESC and BEL ends up in a diagnostic message.
    let facts =
        "{\"c\": {\"id\": \"x\", \"version\": \"1.\\u001b[31m\\u0007\", \"ok\": true, \"n\": 1}}";
    let run = eval_facts("c.json", facts.as_bytes());
    assert_eq!(run.code, 1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(v["diagnostics"][0]["message"]
        .as_str()
        .unwrap()
        .contains('\u{1b}'));
    assert!(!run.stdout.contains('\u{1b}'), "raw ESC in JSON output");
    // Human output: escaped, no raw control character reaches the terminal.
    let d = dir("ctl");
    std::fs::write(d.join("p.regle"), format!("{HEAD}rule R-1 \"v\" cite \"v\" when not valid(c.version) error at c.version \"bad {{c.version}}\"\n")).unwrap();
    std::fs::write(d.join("c.json"), facts).unwrap();
    let human = regle(
        &[
            "eval",
            d.join("p.regle").to_str().unwrap(),
            d.join("c.json").to_str().unwrap(),
        ],
        None,
    );
    assert!(
        !human.stdout.contains('\u{1b}') && !human.stdout.contains('\u{7}'),
        "{:?}",
        human.stdout
    );
    assert!(human.stdout.contains("\\u{1b}"), "{}", human.stdout);
}

#[test]
fn facts_nested_100000_deep_are_refused() {
    let deep_json = format!("{{\"c\": {}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let run = eval_facts("c.json", deep_json.as_bytes());
    assert_eq!(run.code, 2);
    assert_eq!(facts_error_codes(&run), vec!["regle::facts::too_deep"]);
    let deep_yaml = format!("c: {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let run = eval_facts("c.yaml", deep_yaml.as_bytes());
    assert_eq!(run.code, 2);
    assert_eq!(facts_error_codes(&run), vec!["regle::facts::too_deep"]);
}

#[test]
fn facts_duplicate_keys_are_errors_in_json_and_yaml() {
    let run = eval_facts(
        "c.json",
        br#"{"c": {"id": "a", "id": "b", "version": "1", "ok": true, "n": 1}}"#,
    );
    assert_eq!(facts_error_codes(&run), vec!["regle::facts::duplicate_key"]);
    let run = eval_facts(
        "c.yaml",
        b"c:\n  id: a\n  id: b\n  version: '1'\n  ok: true\n  n: 1\n",
    );
    assert_eq!(facts_error_codes(&run), vec!["regle::facts::duplicate_key"]);
    assert_eq!(run.code, 2);
}

#[test]
fn facts_huge_numbers_are_refused_clearly() {
    let run = eval_facts(
        "c.json",
        br#"{"c": {"id": "a", "version": "1", "ok": true, "n": 123456789012345678901234567890}}"#,
    );
    assert_eq!(run.code, 2);
    assert_eq!(facts_error_codes(&run), vec!["regle::facts::bad_number"]);
}

#[test]
fn yaml_alias_bomb_is_refused_quickly() {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..12 {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            format!("b{}", i - 1)
        };
        bomb.push_str(&format!("b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    bomb.push_str("c: *b11\n");
    let run = eval_facts("c.yaml", bomb.as_bytes());
    assert_eq!(run.code, 2);
    assert_eq!(facts_error_codes(&run), vec!["regle::facts::too_large"]);
}

#[test]
fn yaml_implicit_booleans_and_octals_are_not_guessed() {
    // `ok: yes` is text in YAML 1.2, not a boolean: a clear type error.
    let run = eval_facts(
        "c.yaml",
        b"c:\n  id: a\n  version: '1'\n  ok: yes\n  n: 010\n",
    );
    assert_eq!(run.code, 2);
    assert_eq!(facts_error_codes(&run), vec!["regle::facts::wrong_type"]);
    assert!(
        run.stdout
            .contains("expected `true` or `false`, found a string"),
        "{}",
        run.stdout
    );
}

#[test]
fn unquoted_numeric_versions_keep_their_text() {
    // `version: 1.10` is the version 1.10, not the number 1.1.
    let d = dir("numver");
    std::fs::write(
        d.join("p.regle"),
        format!("{HEAD}rule R-1 \"v\" cite \"v\" when c.version > c.n_version error \"newer\"\n")
            .replace("n: Int }", "n: Int\n n_version: Version }"),
    )
    .unwrap();
    std::fs::write(
        d.join("c.yaml"),
        "c:\n  id: a\n  version: 1.10\n  n_version: 1.9\n  ok: true\n  n: 1\n",
    )
    .unwrap();
    let run = regle(
        &[
            "eval",
            d.join("p.regle").to_str().unwrap(),
            d.join("c.yaml").to_str().unwrap(),
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("\"message\": \"newer\""),
        "{}",
        run.stdout
    );
}

#[test]
fn empty_and_whitespace_only_files_are_refused() {
    for (name, text) in [
        ("e.json", ""),
        ("w.json", "  \n\t\n"),
        ("e.yaml", ""),
        ("w.yaml", "   \n"),
    ] {
        let run = eval_facts(name, text.as_bytes());
        assert_eq!(run.code, 2, "{name}");
        assert_eq!(
            facts_error_codes(&run),
            vec!["regle::facts::empty"],
            "{name}"
        );
    }
    let run = check_policy(b"");
    assert_eq!(run.code, 2);
    assert_eq!(codes(&run), vec!["regle::check::no_policy"]);
    let run = check_policy(b"  \n\n");
    assert_eq!(codes(&run), vec!["regle::check::no_policy"]);
}

#[test]
fn a_one_megabyte_line_is_read() {
    let long = "y".repeat(1 << 20);
    let line =
        format!("{{\"c\": {{\"id\": \"{long}\", \"version\": \"1\", \"ok\": true, \"n\": 1}}}}\n");
    let run = eval_facts("c.ndjson", line.as_bytes());
    assert_eq!(run.code, 0, "{}", &run.stderr);
    assert!(run.stdout.len() > 1 << 20);
}

#[test]
fn one_bad_line_does_not_sink_the_batch() {
    let d = dir("batch");
    std::fs::write(
        d.join("p.regle"),
        format!("{HEAD}rule R-1 \"v\" cite \"v\" when not c.ok warning \"not ok\"\n"),
    )
    .unwrap();
    let batch = "{\"c\": {\"id\": \"a\", \"version\": \"1\", \"ok\": true, \"n\": 1}}\n{\"c\": {\"id\": \"b\", \"version\": \"1\", \"ok\": tru, \"n\": 1}}\n\n{\"c\": {\"id\": \"c\", \"version\": \"1\", \"ok\": false, \"n\": 1}}\n";
    let run = regle(
        &[
            "eval",
            d.join("p.regle").to_str().unwrap(),
            "-",
            "--format",
            "ndjson",
        ],
        Some(batch.as_bytes()),
    );
    assert_eq!(run.code, 2, "some failed");
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[1]["error"]["line"], 2);
    assert_eq!(
        lines[1]["error"]["diagnostics"][0]["code"],
        "regle::facts::syntax"
    );
    assert_eq!(lines[1]["error"]["diagnostics"][0]["line"], 2);
    assert_eq!(lines[2]["id"], "c");
}

#[test]
fn unreadable_or_missing_paths_are_clear() {
    let run = regle(&["check", "no/such/policy"], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot read policy"), "{}", run.stderr);
    let run = regle(
        &[
            "eval",
            "policies/grants",
            "no/such/file.json",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stdout.contains("regle::facts::unreadable"),
        "{}",
        run.stdout
    );
    let run = regle(
        &["eval", "policies/grants", "README.md", "--format", "json"],
        None,
    );
    assert!(
        run.stdout.contains("regle::facts::unknown_format"),
        "{}",
        run.stdout
    );
}

#[test]
fn control_characters_in_quoted_source_lines_and_file_names_stay_escaped() {
    // ESC sequences and a lone CR in a facts file, quoted in a diagnostic's snippet.
    let d = dir("snippet");
    std::fs::write(d.join("p.regle"), HEAD).unwrap();
    let name = d.join("evil\u{7}.yaml");
    std::fs::write(
        &name,
        "c:\n  id: X\r\u{1b}]0;pwned\u{7}\u{1b}[2J\n\"\u{1b}[31mRED\": 1\n",
    )
    .unwrap();
    let run = regle(
        &[
            "eval",
            d.join("p.regle").to_str().unwrap(),
            name.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 2);
    for c in ['\u{1b}', '\u{7}', '\r'] {
        assert!(!run.stderr.contains(c), "raw {c:?} in:\n{}", run.stderr);
    }
}

#[test]
fn a_table_on_a_device_is_bounded() {
    let d = dir("devzero");
    std::fs::write(
        d.join("p.regle"),
        format!("{HEAD}table t from \"/dev/zero\" {{ a: Text }}\n"),
    )
    .unwrap();
    let run = regle(
        &[
            "check",
            d.join("p.regle").to_str().unwrap(),
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(run.code, 2);
    assert_eq!(codes(&run), vec!["regle::table::too_large"]);
}

/// The inputs fuzzing found (`fuzz/regressions/`), replayed through the
/// binary: no panic, and no raw control character reaches the terminal.
#[test]
fn fuzz_regressions_stay_fixed() {
    let mut replayed = 0;
    for (target, as_policy) in [
        ("policy_parse", true),
        ("policy_check", true),
        ("facts_typed", false),
    ] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new("fuzz/regressions").join(target))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_none_or(|e| e != "txt"))
            .collect();
        files.sort();
        for f in files {
            let d = dir("regression");
            let run = if as_policy {
                let p = d.join("p.regle");
                std::fs::copy(&f, &p).unwrap();
                regle(&["check", p.to_str().unwrap()], None)
            } else {
                let p = d.join("c.yaml");
                std::fs::copy(&f, &p).unwrap();
                regle(
                    &[
                        "eval",
                        "policies/segur-v2",
                        p.to_str().unwrap(),
                        "--registry",
                        "tests/cases/registry.yaml",
                        "--as-of",
                        "2026-05-20",
                    ],
                    None,
                )
            };
            let raw = run
                .stderr
                .chars()
                .chain(run.stdout.chars())
                .find(|c| c.is_control() && *c != '\n' && *c != '\t');
            assert_eq!(
                raw,
                None,
                "{}: raw control character in:\n{}{}",
                f.display(),
                run.stdout,
                run.stderr
            );
            replayed += 1;
        }
    }
    assert!(
        replayed >= 5,
        "the regression inputs are there ({replayed})"
    );
}
