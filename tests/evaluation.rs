//! Evaluation semantics on small fixtures (`tests/fixtures/`), each stating
//! what it expects in its header.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use assert_cmd::Command;

/// Run `regle` with `args`: its exit code and its standard output.
fn regle(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::cargo_bin("regle")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

/// The standard output of `tests/fixtures/NAME` on its `requests.ndjson`
/// (with its `registry.yaml`, when it has one), on one thread, with
/// remembered values or without (`--no-memo`).
fn batch_output(name: &str, format: &str, memo: bool) -> String {
    let policy = format!("tests/fixtures/{name}");
    let facts = format!("{policy}/requests.ndjson");
    let registry = format!("{policy}/registry.yaml");
    let mut args = vec!["eval", &policy, &facts, "--format", format, "--jobs", "1"];
    if std::path::Path::new(&registry).exists() {
        args.extend(["--registry", &registry]);
    }
    if !memo {
        args.push("--no-memo");
    }
    regle(&args).1
}

/// The policy of `tests/fixtures/NAME`, checked.
fn fixture_policy(name: &str) -> regle::check::Checked {
    regle::check::load_policy(std::path::Path::new(&format!("tests/fixtures/{name}"))).unwrap()
}

/// For each report of an NDJSON output, `f` of each element of its array
/// `key`.
fn each_report<T>(ndjson: &str, key: &str, f: impl Fn(&serde_json::Value) -> T) -> Vec<Vec<T>> {
    parsed(ndjson)
        .iter()
        .map(|r| r[key].as_array().unwrap().iter().map(&f).collect())
        .collect()
}

/// The reports of a run, one a document (`--format ndjson` or `json`).
fn reports(args: &[&str]) -> Vec<serde_json::Value> {
    parsed(&regle(args).1)
}

/// The JSON values of an output, one after the other.
fn parsed(out: &str) -> Vec<serde_json::Value> {
    serde_json::Deserializer::from_str(out)
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn indexed_queries_on_definitions_agree_with_scans() {
    let (code, stdout) = regle(&[
        "eval",
        "tests/fixtures/def-index",
        "tests/fixtures/def-index/request.json",
        "--format",
        "json",
    ]);
    let r: serde_json::Value = serde_json::from_str(&stdout).unwrap();
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
    assert_eq!(code, Some(0));
}

#[test]
fn a_fact_outside_its_table_column_is_refused_with_the_closest_value() {
    let case = std::fs::read_to_string("tests/cases/1A-same-name.yaml")
        .unwrap()
        .replace("dispositif: SDV-PSF", "dispositif: SDV-PFS");
    let path = std::env::temp_dir().join(format!("regle-domain-{}.yaml", std::process::id()));
    std::fs::write(&path, case).unwrap();
    let (code, stdout) = regle(&[
        "eval",
        "policies/segur-v2",
        path.to_str().unwrap(),
        "--registry",
        "tests/cases/registry.yaml",
        "--as-of",
        "2026-05-20",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(2));
    let r: serde_json::Value = serde_json::from_str(&stdout).unwrap();
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

/// A decision over table rows whose key and `show` read only the row keeps
/// each row's line from one document to the next; one whose `show` reads
/// the document computes it for each document.
#[test]
fn line_heads_are_shared_only_when_they_read_nothing_but_the_row() {
    let checked = fixture_policy("line-heads");
    let shared: Vec<(&str, bool)> = checked
        .policy
        .decisions
        .iter()
        .map(|d| (d.name.as_str(), d.row_heads.is_some()))
        .collect();
    assert_eq!(shared, vec![("checked", false), ("labelled", true)]);

    let reports = reports(&[
        "eval",
        "tests/fixtures/line-heads",
        "tests/fixtures/line-heads/requests.ndjson",
        "--format",
        "ndjson",
        "--jobs",
        "1",
    ]);
    let column = |r: &serde_json::Value, decision: &str, field: &str| -> Vec<String> {
        r[decision]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l[field].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(column(&reports[0], "checked", "mine"), ["a/a", "a/b"]);
    assert_eq!(column(&reports[1], "checked", "mine"), ["b/a", "b/b"]);
    for r in &reports {
        assert_eq!(
            column(r, "labelled", "label"),
            ["Première", "Deuxième, \"b\""]
        );
    }
    assert_eq!(column(&reports[0], "labelled", "status"), ["yes", "no"]);
    assert_eq!(column(&reports[1], "labelled", "status"), ["no", "yes"]);
}

/// Lines no rule decides, of consecutive rows, are written from runs kept
/// from one report to the next, and decided lines from their row's first
/// start (`line-runs`): each report of a batch is the one its document
/// gets alone, from what it wrote itself, and shows every row it picked,
/// in order, decided where marked or flagged (by another rule, to another
/// value, than an earlier report decided the same row).
#[test]
fn lines_kept_from_report_to_report_leave_each_as_its_document_gets_it_alone() {
    let dir = "tests/fixtures/line-runs";
    let facts = format!("{dir}/requests.ndjson");
    let args = ["--format", "ndjson", "--jobs", "1", "--as-of", "2026-05-20"];
    let mut batch_args = vec!["eval", dir, &facts];
    batch_args.extend(args);
    let (code, batch) = regle(&batch_args);
    assert_eq!(code, Some(0));
    let documents = std::fs::read_to_string(&facts).unwrap();
    assert_eq!(batch.lines().count(), documents.lines().count());
    for (report, document) in batch.lines().zip(documents.lines()) {
        let alone = Command::cargo_bin("regle")
            .unwrap()
            .args(["eval", dir, "-"])
            .args(args)
            .write_stdin(document)
            .output()
            .unwrap();
        assert_eq!(report, String::from_utf8(alone.stdout).unwrap().trim_end());
        let request: serde_json::Value = serde_json::from_str(document).unwrap();
        let max = request["request"]["max"].as_u64().unwrap();
        let has = |list: &str, code: &str| {
            request["request"][list]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| *m == *code)
        };
        let expected: Vec<(String, &str)> = (1..=max)
            .map(|i| {
                let code = format!("k{i:02}");
                let status = match (has("marked", &code), has("flagged", &code)) {
                    (true, _) => "marked",
                    (_, true) => "flagged",
                    _ => "plain",
                };
                (code, status)
            })
            .collect();
        let report: serde_json::Value = serde_json::from_str(report).unwrap();
        let lines: Vec<(String, &str)> = report["plan"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["code"].as_str().unwrap().to_string(),
                    l["status"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(lines, expected, "{document}");
        for value in ["plain", "marked", "flagged"] {
            let n = expected.iter().filter(|(_, s)| *s == value).count();
            assert_eq!(report["summary"][value], n, "{document}");
        }
    }
}

/// Texts from a table, a constant, the facts or a concatenation are one
/// kind of value: equal when their characters are, ordered by them.
#[test]
fn texts_are_equal_and_ordered_by_their_characters_wherever_they_come_from() {
    let reports = reports(&[
        "eval",
        "tests/fixtures/texts",
        "tests/fixtures/texts/requests.ndjson",
        "--format",
        "ndjson",
    ]);
    let seen: Vec<&str> = reports[0]["seen"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        seen,
        ["yes", "no", "no"],
        "\"a\" + \"b\" is the table's `ab`"
    );
    assert_eq!(
        reports[0]["diagnostics"][0]["message"],
        "least aa, greatest zz, sorted aa, ab, b, c, zz, distinct 5"
    );
    assert_eq!(
        reports[1]["diagnostics"][0]["message"],
        "least ab, greatest zzz, sorted ab, b, b, zz, zzz, distinct 4",
        "the facts' `b` is the table's `b`"
    );
}

/// Two rules deciding one item differently, neither overriding the other:
/// an error names both and the first by rule ID stands; an `overrides`
/// settles it.
#[test]
fn conflicting_decisions_are_an_error_and_overrides_settle_them() {
    let (code, stdout) = regle(&[
        "eval",
        "tests/fixtures/conflict",
        "tests/fixtures/conflict/request.json",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(1));
    let r: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let lines: Vec<(&str, &str, &str)> = r["verdict"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["item"].as_str().unwrap(),
                l["status"].as_str().unwrap(),
                l["rule"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("a", "keep", "C-1"),
            ("b", "drop", "C-3"),
            ("c", "hold", "-")
        ]
    );
    assert_eq!(r["outcome"], "rejected");
    assert_eq!(
        r["diagnostics"][0]["message"],
        "policy conflict: rules `C-1` and `C-2` decide `verdict` differently for `a`, and neither overrides the other"
    );
}

/// The registry's tree is not kept once its values are read; a diagnostic
/// about a registry fact still names the fact and its line there.
#[test]
fn a_diagnostic_about_a_registry_fact_points_into_the_registry() {
    let args = [
        "eval",
        "policies/segur-v2",
        "tests/rules/asc-03-root-unreadable.yaml",
        "--registry",
        "tests/rules/registry.yaml",
        "--as-of",
        "2026-05-20",
    ];
    let r = &reports(&[&args[..], &["--format", "json"]].concat())[0];
    let asc = r["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "ASC-03")
        .expect("ASC-03 fires");
    assert_eq!(asc["at"], "solutions[14].solution.main_component.version");
    let (_, text) = regle(&args);
    assert!(
        text.contains("(tests/rules/registry.yaml:176:67)"),
        "the registry line is shown: {text}"
    );
}

/// Definitions remembered from one document to the next of a batch: a
/// version argument is reused only as written, and a value read from one
/// document's facts (with its places, for `at`) is never handed to another,
/// though another document has equal facts.
#[test]
fn remembered_definitions_give_each_document_its_own_values() {
    let run = |format: &str, memo: bool| batch_output("memo", format, memo);
    let said = each_report(&run("ndjson", true), "diagnostics", |d| {
        let at = d["at"].as_str().unwrap_or("-");
        (d["message"].as_str().unwrap().to_string(), at.to_string())
    });
    let messages: Vec<Vec<&str>> = said
        .iter()
        .map(|r| r.iter().map(|(m, _)| m.as_str()).collect())
        .collect();
    assert_eq!(
        messages,
        [
            vec!["5.1 (released)", "proxy 1.0", "proxy"],
            vec!["5.1.0 (released)", "proxy 2.0", "proxy"],
            vec!["5.1 (released)", "other 3.0", "proxy 1.0", "other", "proxy"],
            vec!["7 (not released)"],
            vec!["6.0 (released)", "proxy 1.0", "proxy"],
        ],
        "`5.1.0` is shown as written, though `5.1` was computed first; each request reads its own parts"
    );
    assert_eq!(
        said[4][2].1, "request.parts[0].version",
        "r5's parts equal r1's, but are written elsewhere"
    );
    for format in ["ndjson", "human"] {
        assert_eq!(run(format, true), run(format, false), "{format}");
    }
}

/// A definition called again with the same arguments within a document
/// (for a second item, by a second rule) gives the value of the first call,
/// with the places of its facts; the next document computes its own.
#[test]
fn a_call_made_again_in_a_document_gives_the_same_value_and_places() {
    let said: Vec<Vec<(String, String, String)>> = reports(&[
        "eval",
        "tests/fixtures/calls",
        "tests/fixtures/calls/requests.ndjson",
        "--format",
        "ndjson",
    ])
    .iter()
    .map(|r| {
        r["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let s = |k: &str| d[k].as_str().unwrap_or("-").to_string();
                (s("rule"), s("message"), s("at"))
            })
            .collect()
    })
    .collect();
    let row = |r: &str, m: &str, at: &str| (r.to_string(), m.to_string(), at.to_string());
    let first = "request.parts[0].version";
    let second = "request.parts[1].version";
    assert_eq!(
        said,
        [
            vec![
                row("C-1", "a 1", first),
                row("C-1", "b 2", second),
                row("C-1", "a 1", first),
                row("C-2", "again a 1", first),
                row("C-2", "again b 2", second),
                row("C-2", "again a 1", first),
            ],
            vec![
                row("C-1", "b 4", first),
                row("C-1", "a 5", second),
                row("C-2", "again b 4", first),
                row("C-2", "again a 5", second),
            ],
        ]
    );
}

/// A rule remembered item by item (`tests/fixtures/rule-memo`): each
/// request's plan says its own owner, a waived item is deposited, another
/// rule asking whether it fires gets the same answers, and the batch reads
/// as computed afresh, in every format.
#[test]
fn a_remembered_rule_gives_each_request_its_own_decisions() {
    let run = |format: &str, memo: bool| batch_output("rule-memo", format, memo);
    let plans = each_report(&run("ndjson", true), "plan", |l| {
        let item = l["item"].as_str().unwrap();
        format!("{item} {}", l["from"]["by"].as_str().unwrap_or("-"))
    });
    assert_eq!(
        plans,
        [
            vec!["A1 -", "A2 ann", "A3 ann"],
            vec!["A1 -", "A2 bob", "A3 bob"],
            vec!["A1 -", "A2 -", "A3 cyd"],
            vec!["B1 -", "B2 dee"],
            vec!["A1 -", "A2 -", "A3 eve"],
            vec!["A1 -", "A2 -", "A3 fay"],
        ]
    );
    // R-3 asks whether R-1 fires for each item: answered from what a
    // request of a known context found (bob's, after ann's).
    let named = each_report(&run("ndjson", true), "diagnostics", |d| {
        d["message"].as_str().unwrap().to_string()
    });
    assert_eq!(
        named[..2],
        [
            vec!["A2 skipped for ann", "A3 skipped for ann"],
            vec!["A2 skipped for bob", "A3 skipped for bob"],
        ]
    );
    for format in ["ndjson", "human"] {
        assert_eq!(run(format, true), run(format, false), "{format}");
    }
}

/// Decisions found by a line's position in the list it goes over
/// (`tests/fixtures/decide-positions`) read as decisions found by key:
/// where two items share a key, the first line takes every decision for it
/// and the other shows the default; a rule over another list decides by
/// key, beside the rules over the decision's list, and its `overrides`
/// settles them; the same with remembered values and without.
#[test]
fn decisions_found_by_position_read_as_found_by_key() {
    let run = |format: &str, memo: bool| batch_output("decide-positions", format, memo);
    let plans = each_report(&run("ndjson", true), "plan", |l| {
        format!(
            "{} {} {}",
            l["item"].as_str().unwrap(),
            l["status"].as_str().unwrap(),
            l["rule"].as_str().unwrap_or("-")
        )
    });
    let skipped_b = vec!["B1 skipped P-1", "B2 deposit -"];
    assert_eq!(
        plans,
        [
            vec!["A1 skipped P-1", "A2 deposit -", "A1 deposit -"],
            skipped_b.clone(),
            vec!["B1 kept P-2", "B2 kept P-2"],
            vec!["A1 kept P-2", "A2 deposit -", "A1 deposit -"],
            skipped_b,
        ]
    );
    for format in ["ndjson", "human"] {
        assert_eq!(run(format, true), run(format, false), "{format}");
    }
}

/// `fires` asked about items a rule's loop tested (`tests/fixtures/asked`):
/// the same answers as testing them; a part equal to a tested one but
/// written otherwise (`5.1.0`), or not in the rule's list, is tested anew.
#[test]
fn asking_whether_a_rule_fires_gives_its_loops_answers() {
    let said: Vec<String> = reports(&[
        "eval",
        "tests/fixtures/asked",
        "tests/fixtures/asked/requests.ndjson",
        "--format",
        "ndjson",
    ])[0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d["rule"].as_str().unwrap(),
                d["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(said, ["A-1 x 5.1", "A-2 x 5.1 too", "A-2 y 5.1 too"]);
}

/// `at` a field of a definition no part of the rule computed before its
/// outcome: the definition is computed for its place, which the report
/// gives, with its line (it gave none).
#[test]
fn at_a_definition_not_yet_computed_gives_its_place() {
    let r = &reports(&[
        "eval",
        "tests/fixtures/at-definition",
        "tests/fixtures/at-definition/request.json",
        "--format",
        "json",
    ])[0];
    let d = &r["diagnostics"][0];
    assert_eq!(d["message"], "3 parts");
    assert_eq!(d["at"], "request.main.version");
    let (_, human) = regle(&[
        "eval",
        "tests/fixtures/at-definition",
        "tests/fixtures/at-definition/request.json",
    ]);
    assert!(
        human.contains("at request.main.version (tests/fixtures/at-definition/request.json:1:"),
        "{human}"
    );
}

/// Rules another asks about go first (`tests/fixtures/rule-order`): R-4,
/// asked about through a definition, before R-1 which asks; R-3, an
/// exception, before R-2, its rule. The report keeps the files' order:
/// documents of a kind by the rule that asks for them, diagnostics by rule
/// ID; with remembered values and without.
#[test]
fn rules_asked_about_are_evaluated_first_and_the_report_keeps_its_order() {
    let checked = fixture_policy("rule-order");
    let policy = &checked.policy;
    let order: Vec<&str> = policy
        .order
        .iter()
        .map(|&r| policy.rules[r as usize].id.as_str())
        .collect();
    assert_eq!(order, ["R-4", "R-1", "R-3", "R-2"]);
    for memo in [true, false] {
        let out = batch_output("rule-order", "ndjson", memo);
        let documents = each_report(&out, "documents", |d| {
            format!(
                "{} {}",
                d["rule"].as_str().unwrap(),
                d["code"].as_str().unwrap()
            )
        });
        let notes = vec!["R-1 A2", "R-1 A3", "R-4 A2", "R-4 A3"];
        assert_eq!(documents, [notes.clone(), notes], "memo: {memo}");
        let diagnostics = each_report(&out, "diagnostics", |d| {
            d["message"].as_str().unwrap().to_string()
        });
        assert_eq!(
            diagnostics,
            [vec!["A1 is below level 5".to_string()], vec![]],
            "memo: {memo}"
        );
    }
}

/// A definition that asks only whether a query over a definition's list
/// of records keeps an item reads the fields the query tests, of every
/// item (`tests/fixtures/presence`): its context is those fields, not the
/// records whole, so requests whose holders differ only elsewhere share
/// it; requests whose holders differ in a tested field (scopes, or kind,
/// through the query's index) each find their own; a query that reads an
/// item whole, or none of its fields, reads the list whole; reports are
/// those computed afresh.
#[test]
fn asking_only_whether_a_query_keeps_an_item_reads_the_fields_it_tests() {
    let checked = fixture_policy("presence");
    let policy = &checked.policy;
    let def = |name: &str| {
        let d = policy.defs.iter().position(|d| d.name == name).unwrap();
        (d as u32, &policy.defs[d])
    };
    let (holders, _) = def("holders");
    // What of the holders a plan's context reads.
    let holders_read = |plan: &regle::ir::memo::MemoPlan| {
        let read: Vec<String> = plan.context.iter().map(|ir| format!("{ir:?}")).collect();
        let mut fields: Vec<String> = read
            .iter()
            .filter(|r| r.contains(&format!("Global({holders})")))
            .cloned()
            .collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                format!("Field(Global({holders}), Each(1))"),
                format!("Field(Global({holders}), Each(2))")
            ],
            "each holder's kind and scopes, not the holders: {read:?}"
        );
    };
    holders_read(def("handled").1.memo.as_ref().expect("remembered"));
    // `holder_for`'s value is a holder whole, but which holder comes first
    // depends only on the same fields: remembered as a position.
    let plan = def("holder_for").1.memo.as_ref().expect("remembered");
    assert_eq!(plan.position_in, Some(holders), "a position in the holders");
    assert_eq!(plan.context.len(), 2, "nothing but the holders' fields");
    holders_read(plan);
    for (name, why) in [
        ("listed", "a holder compared whole"),
        ("counted", "no field read, the holders counted"),
    ] {
        let context = &def(name).1.memo.as_ref().expect("remembered").context;
        assert!(
            context
                .iter()
                .any(|ir| format!("{ir:?}") == format!("Global({holders})")),
            "{why}: the holders whole: {context:?}"
        );
    }
    let run = |format: &str, memo: bool| batch_output("presence", format, memo);
    let plans = each_report(&run("ndjson", true), "plan", |l| {
        let by = l["from"]["by"].as_str().unwrap_or("-");
        format!("{} {by}", l["step"].as_str().unwrap())
    });
    assert_eq!(
        plans,
        [
            vec!["s1 H1", "s2 H1", "s3 -"],
            vec!["s1 H2", "s2 H2", "s3 -"],
            vec!["s1 H3", "s2 -", "s3 -"],
            vec!["s1 -", "s2 -", "s3 H4"],
            vec!["s1 H3", "s2 -", "s3 H4"],
            vec!["s1 H1", "s2 H1", "s3 -"],
            vec!["s1 -", "s2 -", "s3 -"],
        ]
    );
    for format in ["ndjson", "human"] {
        assert_eq!(run(format, true), run(format, false), "{format}");
    }
}
