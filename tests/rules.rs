//! Per-rule cases (`tests/rules/`): small candidacies that show each rule of
//! the Ségur policy firing, and not firing on a near miss. Each
//! `tests/rules/*.yaml` (except `registry.yaml`) is evaluated by the binary:
//!
//! ```text
//! regle eval policies/segur-v2 FILE --registry tests/rules/registry.yaml --as-of DATE --format json
//! ```
//!
//! and the report must meet every expectation written in the file's header:
//! the comment lines at its top. A header line is `# KEY: VALUE`; lines whose
//! key is not one of those below are free text (the case's description), but
//! a misspelt `expect-*` key is an error. The expectations are written from
//! the rulebook (`/work/shared/rulebook.md`), not from what the tool prints.
//!
//! | header line | meaning |
//! |---|---|
//! | `as-of: YYYY-MM-DD` | the evaluation date (required) |
//! | `covers: RULE...` | rules this file shows firing; each needs a positive expectation naming it |
//! | `near-miss: RULE...` | rules this file shows not firing; each needs a negative expectation naming it |
//! | `expect-outcome: complete\|incomplete\|rejected` | the report's `outcome` |
//! | `expect-exit: N` | the exit status (default: 0 for an expected `complete`, else 1) |
//! | `expect-diagnostic: RULE SEVERITY` | at least one diagnostic of that rule and severity |
//! | `expect-no-diagnostic: RULE [SEVERITY]` | no diagnostic of that rule (of that severity) |
//! | `expect-at: RULE PATH` | a diagnostic of RULE has `at` equal to PATH |
//! | `expect-no-at: RULE PATH` | no diagnostic of RULE has `at` equal to PATH |
//! | `expect-status: REQ STATUS [RULE\|- [NRU [FROM-REQ]]]` | the evidence line of REQ has that status (and deciding rule, `-` for none, and `from`) |
//! | `expect-chapter: CHAPTER STATUS [RULE\|-]` | every evidence line of that chapter (at least one) has that status (and rule) |
//! | `expect-no-rule: RULE` | no diagnostic, evidence line or document names RULE |
//! | `expect-count: KEY N\|>N\|<N` | a `summary` field (`required`, `deposit`, `inherited`, `equivalent`, `errors`, `warnings`) |
//! | `expect-document: NAME STATUS [NIL]` | a document of that name (and NIL) with that status |
//! | `expect-no-document: NAME` | no document of that name is required |
//!
//! Whatever the header says, every report must also follow the report
//! contract: JSON; exit 0 exactly when `complete`, else 1; `outcome` is
//! `rejected` when any error, else `incomplete` when a document is missing,
//! else `complete`; the summary counts agree with the evidence and
//! diagnostics; each requirement appears once; an inherited or equivalent
//! line names where it comes from; there is one `cnda_request` per NIL; each
//! diagnostic names a rulebook rule and has a message with no unresolved
//! `{...}`.
//!
//! Every rule ID of the rulebook must be covered by some file and shown as a
//! near miss by some file. All failures are collected and reported at once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use assert_cmd::Command;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const POLICY: &str = "policies/segur-v2";
const DIR: &str = "tests/rules";
const REGISTRY: &str = "tests/rules/registry.yaml";

/// Every rule ID of the rulebook.
const RULES: &[&str] = &[
    "HER-01",
    "HER-02",
    "HER-03",
    "HER-04",
    "HER-05",
    "HER-06",
    "HER-07",
    "EQV-01",
    "EQV-02",
    "EQV-03",
    "EQV-04",
    "EQV-05",
    "EQV-06",
    "EQV-07",
    "EQV-08",
    "EQV-09",
    "CAS-1A",
    "CAS-2A",
    "CAS-3A",
    "CAS-1B",
    "CAS-2B",
    "CAS-B-PROFILES",
    "CAS-B-ROOT",
    "ASC-01",
    "ASC-02",
    "ASC-03",
    "NOM-01",
    "NOM-02",
    "NOM-03",
    "NOM-04",
    "NOM-05",
    "PSC-01",
    "PSC-02",
    "PSC-03",
    "PSC-04",
    "PSC-05",
    "PSC-06",
    "PSC-07",
    "PSC-08",
    "CNDA-01",
    "CNDA-02",
];

const SEVERITIES: &[&str] = &["error", "warning", "info"];
const STATUSES: &[&str] = &["deposit", "inherited", "equivalent"];
const DOC_STATUSES: &[&str] = &["provided", "missing", "incomplete"];
const OUTCOMES: &[&str] = &["complete", "incomplete", "rejected"];
const DOCUMENTS: &[&str] = &[
    "attestation_sur_honneur",
    "psc_attestation",
    "pentest_report",
    "cnda_request",
];
const COUNTS: &[&str] = &[
    "required",
    "deposit",
    "inherited",
    "equivalent",
    "errors",
    "warnings",
];

/// The rules that require a document (rulebook, report contract).
fn document_rules(name: &str) -> &'static [&'static str] {
    match name {
        "attestation_sur_honneur" => &["NOM-05", "NOM-03"],
        "psc_attestation" => &["PSC-01"],
        "pentest_report" => &["PSC-02"],
        "cnda_request" => &["CNDA-01", "CNDA-02"],
        _ => &[],
    }
}

#[derive(Debug, Clone, Copy)]
enum Cmp {
    Eq,
    Gt,
    Lt,
}

/// `Some(None)` is an explicit `-` (no rule); `None` is "not checked".
type RuleSpec = Option<Option<String>>;

#[derive(Debug)]
enum Expect {
    Outcome(String),
    Exit(i32),
    Diagnostic(String, String),
    NoDiagnostic(String, Option<String>),
    At(String, String),
    NoAt(String, String),
    Status {
        req: String,
        status: String,
        rule: RuleSpec,
        from_nru: Option<String>,
        from_req: Option<String>,
    },
    Chapter {
        chapter: String,
        status: String,
        rule: RuleSpec,
    },
    NoRule(String),
    Count(String, Cmp, u64),
    Document {
        name: String,
        status: String,
        nil: Option<String>,
    },
    NoDocument(String),
}

struct Case {
    path: PathBuf,
    as_of: Option<String>,
    covers: Vec<String>,
    near_miss: Vec<String>,
    /// (header line as written, parsed expectation)
    expects: Vec<(String, Expect)>,
    /// problems in the header itself
    problems: Vec<String>,
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn check_rule(r: &str, problems: &mut Vec<String>, line: &str) {
    if !RULES.contains(&r) {
        problems.push(format!("`{line}`: unknown rule ID {r}"));
    }
}

fn one_of(v: &str, allowed: &[&str], what: &str, problems: &mut Vec<String>, line: &str) {
    if !allowed.contains(&v) {
        problems.push(format!("`{line}`: {what} {v:?} is not one of {allowed:?}"));
    }
}

fn rule_spec(w: Option<&&str>) -> RuleSpec {
    w.map(|r| if *r == "-" { None } else { Some(r.to_string()) })
}

fn parse_case(path: &Path) -> Case {
    let text = std::fs::read_to_string(path).expect("read case");
    let mut case = Case {
        path: path.to_path_buf(),
        as_of: None,
        covers: Vec::new(),
        near_miss: Vec::new(),
        expects: Vec::new(),
        problems: Vec::new(),
    };
    for raw in text.lines() {
        let Some(body) = raw.strip_prefix('#') else {
            break;
        };
        let line = body.trim();
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let key = key.trim();
        let value = value.trim();
        let w: Vec<&str> = value.split_whitespace().collect();
        let p = &mut case.problems;
        let arity = |lo: usize, hi: usize, p: &mut Vec<String>| {
            if w.len() < lo || w.len() > hi {
                p.push(format!("`{line}`: expected {lo} to {hi} words"));
                false
            } else {
                true
            }
        };
        let expect = match key {
            "as-of" => {
                if !is_date(value) {
                    p.push(format!("`{line}`: not a YYYY-MM-DD date"));
                }
                case.as_of = Some(value.to_string());
                None
            }
            "covers" | "near-miss" => {
                for r in &w {
                    check_rule(r, p, line);
                }
                let list = if key == "covers" {
                    &mut case.covers
                } else {
                    &mut case.near_miss
                };
                list.extend(w.iter().map(|s| s.to_string()));
                None
            }
            "expect-outcome" => arity(1, 1, p).then(|| {
                one_of(w[0], OUTCOMES, "outcome", p, line);
                Expect::Outcome(w[0].to_string())
            }),
            "expect-exit" => arity(1, 1, p).then(|| match w[0].parse() {
                Ok(n) => Expect::Exit(n),
                Err(_) => {
                    p.push(format!("`{line}`: not an exit code"));
                    Expect::Exit(-1)
                }
            }),
            "expect-diagnostic" => arity(2, 2, p).then(|| {
                check_rule(w[0], p, line);
                one_of(w[1], SEVERITIES, "severity", p, line);
                Expect::Diagnostic(w[0].to_string(), w[1].to_string())
            }),
            "expect-no-diagnostic" => arity(1, 2, p).then(|| {
                check_rule(w[0], p, line);
                if let Some(s) = w.get(1) {
                    one_of(s, SEVERITIES, "severity", p, line);
                }
                Expect::NoDiagnostic(w[0].to_string(), w.get(1).map(|s| s.to_string()))
            }),
            "expect-at" | "expect-no-at" => arity(2, 2, p).then(|| {
                check_rule(w[0], p, line);
                if key == "expect-at" {
                    Expect::At(w[0].to_string(), w[1].to_string())
                } else {
                    Expect::NoAt(w[0].to_string(), w[1].to_string())
                }
            }),
            "expect-status" => arity(2, 5, p).then(|| {
                one_of(w[1], STATUSES, "status", p, line);
                if let Some(Some(r)) = rule_spec(w.get(2)) {
                    check_rule(&r, p, line);
                }
                Expect::Status {
                    req: w[0].to_string(),
                    status: w[1].to_string(),
                    rule: rule_spec(w.get(2)),
                    from_nru: w.get(3).map(|s| s.to_string()),
                    from_req: w.get(4).map(|s| s.to_string()),
                }
            }),
            "expect-chapter" => arity(2, 3, p).then(|| {
                one_of(w[1], STATUSES, "status", p, line);
                if let Some(Some(r)) = rule_spec(w.get(2)) {
                    check_rule(&r, p, line);
                }
                Expect::Chapter {
                    chapter: w[0].to_string(),
                    status: w[1].to_string(),
                    rule: rule_spec(w.get(2)),
                }
            }),
            "expect-no-rule" => arity(1, 1, p).then(|| {
                check_rule(w[0], p, line);
                Expect::NoRule(w[0].to_string())
            }),
            "expect-count" => arity(2, 2, p).then(|| {
                one_of(w[0], COUNTS, "summary field", p, line);
                let (cmp, n) = if let Some(n) = w[1].strip_prefix('>') {
                    (Cmp::Gt, n)
                } else if let Some(n) = w[1].strip_prefix('<') {
                    (Cmp::Lt, n)
                } else {
                    (Cmp::Eq, w[1])
                };
                let n = n.parse().unwrap_or_else(|_| {
                    p.push(format!("`{line}`: not a count"));
                    0
                });
                Expect::Count(w[0].to_string(), cmp, n)
            }),
            "expect-document" => arity(2, 3, p).then(|| {
                one_of(w[0], DOCUMENTS, "document", p, line);
                one_of(w[1], DOC_STATUSES, "document status", p, line);
                Expect::Document {
                    name: w[0].to_string(),
                    status: w[1].to_string(),
                    nil: w.get(2).map(|s| s.to_string()),
                }
            }),
            "expect-no-document" => arity(1, 1, p).then(|| {
                one_of(w[0], DOCUMENTS, "document", p, line);
                Expect::NoDocument(w[0].to_string())
            }),
            k if k.starts_with("expect") => {
                p.push(format!("`{line}`: unknown expectation key {k}"));
                None
            }
            _ => None, // free text
        };
        if let Some(e) = expect {
            case.expects.push((line.to_string(), e));
        }
    }
    if case.as_of.is_none() {
        case.problems.push("no `as-of:` header line".to_string());
    }
    if case.expects.is_empty() {
        case.problems.push("no expectation".to_string());
    }
    for r in &case.covers {
        if !shows_firing(&case, r) {
            case.problems
                .push(format!("covers {r} but no positive expectation names it"));
        }
    }
    for r in &case.near_miss {
        if !shows_not_firing(&case, r) {
            case.problems.push(format!(
                "near-miss {r} but no negative expectation names it"
            ));
        }
    }
    case
}

/// Whether the header holds a positive expectation about `rule`.
fn shows_firing(case: &Case, rule: &str) -> bool {
    let inherited = case
        .expects
        .iter()
        .any(|(_, e)| matches!(e, Expect::Status { status, .. } if status == "inherited"));
    case.expects.iter().any(|(_, e)| match e {
        Expect::Diagnostic(r, _) | Expect::At(r, _) => r == rule,
        Expect::Status {
            rule: Some(Some(r)),
            ..
        }
        | Expect::Chapter {
            rule: Some(Some(r)),
            ..
        } => r == rule,
        Expect::Document { name, .. } => document_rules(name).contains(&rule),
        // HER-03 is an exception without an outcome of its own: it shows as
        // no HER-04 error, with lines inherited from another MS dispositif.
        Expect::NoDiagnostic(r, _) => rule == "HER-03" && r == "HER-04" && inherited,
        _ => false,
    })
}

/// Whether the header holds a negative expectation about `rule`.
fn shows_not_firing(case: &Case, rule: &str) -> bool {
    case.expects.iter().any(|(_, e)| match e {
        Expect::NoDiagnostic(r, _) | Expect::NoAt(r, _) | Expect::NoRule(r) => r == rule,
        Expect::NoDocument(name) => document_rules(name).contains(&rule),
        Expect::Document { name, status, .. } => {
            status == "provided" && document_rules(name).contains(&rule)
        }
        // HER-03 not applying shows as the HER-04 error it would have stopped.
        Expect::Diagnostic(r, s) => rule == "HER-03" && r == "HER-04" && s == "error",
        _ => false,
    })
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn diag_list(report: &Value) -> String {
    let d: Vec<String> = arr(&report["diagnostics"])
        .iter()
        .map(|d| {
            format!(
                "{} {} at {}",
                s(&d["rule"]),
                s(&d["severity"]),
                if d["at"].is_null() { "-" } else { s(&d["at"]) }
            )
        })
        .collect();
    format!("[{}]", d.join("; "))
}

fn doc_list(report: &Value) -> String {
    let d: Vec<String> = arr(&report["documents"])
        .iter()
        .map(|d| {
            let nil = if d["nil"].is_null() {
                String::new()
            } else {
                format!(" {}", s(&d["nil"]))
            };
            format!("{}{} {}", s(&d["document"]), nil, s(&d["status"]))
        })
        .collect();
    format!("[{}]", d.join("; "))
}

fn line_desc(e: &Value) -> String {
    format!(
        "{} {} rule {} from {}",
        s(&e["requirement"]),
        s(&e["status"]),
        if e["rule"].is_null() {
            "-"
        } else {
            s(&e["rule"])
        },
        e["from"]
    )
}

fn rule_matches(spec: &RuleSpec, got: &Value) -> bool {
    match spec {
        None => true,
        Some(None) => got.is_null(),
        Some(Some(r)) => got.as_str() == Some(r.as_str()),
    }
}

/// The report contract, whatever the case.
fn contract(report: &Value, code: i32, fails: &mut Vec<String>) {
    let outcome = s(&report["outcome"]);
    if !OUTCOMES.contains(&outcome) {
        fails.push(format!("report contract: outcome {:?}", report["outcome"]));
    }
    let want_code = if outcome == "complete" { 0 } else { 1 };
    if code != want_code {
        fails.push(format!(
            "report contract: exit status {code} for outcome {outcome} (expected {want_code})"
        ));
    }
    let diags = arr(&report["diagnostics"]);
    let docs = arr(&report["documents"]);
    let evidence = arr(&report["evidence"]);
    let errors = diags.iter().filter(|d| d["severity"] == "error").count();
    let warnings = diags.iter().filter(|d| d["severity"] == "warning").count();
    let derived = if errors > 0 {
        "rejected"
    } else if docs.iter().any(|d| d["status"] == "missing") {
        "incomplete"
    } else {
        "complete"
    };
    if outcome != derived {
        fails.push(format!(
            "report contract: outcome {outcome}, but errors and documents give {derived}"
        ));
    }
    let summary = &report["summary"];
    let mut want: BTreeMap<&str, usize> = BTreeMap::new();
    want.insert("required", evidence.len());
    for st in STATUSES {
        want.insert(st, evidence.iter().filter(|e| e["status"] == *st).count());
    }
    want.insert("errors", errors);
    want.insert("warnings", warnings);
    for (k, n) in want {
        if summary[k].as_u64() != Some(n as u64) {
            fails.push(format!(
                "report contract: summary.{k} is {}, the report lists {n}",
                summary[k]
            ));
        }
    }
    let mut seen = BTreeSet::new();
    for e in evidence {
        let req = s(&e["requirement"]);
        if !seen.insert(req.to_string()) {
            fails.push(format!("report contract: requirement {req} listed twice"));
        }
        let st = s(&e["status"]);
        if !STATUSES.contains(&st) {
            fails.push(format!("report contract: {req} has status {st:?}"));
        }
        if st != "deposit"
            && (s(&e["from"]["nru"]).is_empty() || s(&e["from"]["requirement"]).is_empty())
        {
            fails.push(format!("report contract: {req} is {st} without a `from`"));
        }
    }
    for d in diags {
        let rule = s(&d["rule"]);
        if !RULES.contains(&rule) {
            fails.push(format!(
                "report contract: diagnostic of unknown rule {:?}",
                d["rule"]
            ));
        }
        if !SEVERITIES.contains(&s(&d["severity"])) {
            fails.push(format!(
                "report contract: {rule} severity {:?}",
                d["severity"]
            ));
        }
        let msg = s(&d["message"]);
        if msg.trim().is_empty() || msg.contains('{') || msg.contains('}') {
            fails.push(format!("report contract: {rule} message {msg:?}"));
        }
    }
    let mut nils = BTreeSet::new();
    for d in docs {
        if !DOCUMENTS.contains(&s(&d["document"])) || !DOC_STATUSES.contains(&s(&d["status"])) {
            fails.push(format!("report contract: document {d}"));
        }
        if d["document"] == "cnda_request" && !nils.insert(s(&d["nil"]).to_string()) {
            fails.push(format!(
                "report contract: cnda_request is one per NIL, and NIL {} has several",
                s(&d["nil"])
            ));
        }
    }
}

fn check(report: &Value, code: i32, e: &Expect) -> Option<String> {
    let diags = arr(&report["diagnostics"]);
    let docs = arr(&report["documents"]);
    let evidence = arr(&report["evidence"]);
    let ok = match e {
        Expect::Outcome(o) => {
            if report["outcome"] == o.as_str() {
                return None;
            }
            return Some(format!(
                "outcome is {}; diagnostics {}; documents {}",
                report["outcome"],
                diag_list(report),
                doc_list(report)
            ));
        }
        Expect::Exit(n) => {
            if code == *n {
                return None;
            }
            return Some(format!("exit status is {code}"));
        }
        Expect::Diagnostic(r, sev) => diags
            .iter()
            .any(|d| d["rule"] == r.as_str() && d["severity"] == sev.as_str()),
        Expect::NoDiagnostic(r, sev) => !diags.iter().any(|d| {
            d["rule"] == r.as_str() && sev.as_ref().is_none_or(|sv| d["severity"] == sv.as_str())
        }),
        Expect::At(r, at) => diags
            .iter()
            .any(|d| d["rule"] == r.as_str() && d["at"] == at.as_str()),
        Expect::NoAt(r, at) => !diags
            .iter()
            .any(|d| d["rule"] == r.as_str() && d["at"] == at.as_str()),
        Expect::Status {
            req,
            status,
            rule,
            from_nru,
            from_req,
        } => {
            let Some(line) = evidence.iter().find(|l| l["requirement"] == req.as_str()) else {
                return Some(format!("no evidence line for {req}"));
            };
            let ok = line["status"] == status.as_str()
                && rule_matches(rule, &line["rule"])
                && from_nru
                    .as_ref()
                    .is_none_or(|n| line["from"]["nru"] == n.as_str())
                && from_req
                    .as_ref()
                    .is_none_or(|n| line["from"]["requirement"] == n.as_str());
            if ok {
                return None;
            }
            return Some(format!("the line is {}", line_desc(line)));
        }
        Expect::Chapter {
            chapter,
            status,
            rule,
        } => {
            let lines: Vec<&Value> = evidence
                .iter()
                .filter(|l| l["chapter"] == chapter.as_str())
                .collect();
            if lines.is_empty() {
                return Some(format!("no evidence line of chapter {chapter}"));
            }
            let bad: Vec<String> = lines
                .iter()
                .filter(|l| !(l["status"] == status.as_str() && rule_matches(rule, &l["rule"])))
                .map(|l| line_desc(l))
                .collect();
            if bad.is_empty() {
                return None;
            }
            let more = if bad.len() > 3 { "; ..." } else { "" };
            return Some(format!(
                "{} of {} lines differ: {}{more}",
                bad.len(),
                lines.len(),
                bad[..bad.len().min(3)].join("; ")
            ));
        }
        Expect::NoRule(r) => {
            let named = diags.iter().any(|d| d["rule"] == r.as_str())
                || evidence.iter().any(|l| l["rule"] == r.as_str())
                || docs.iter().any(|d| d["rule"] == r.as_str());
            if !named {
                return None;
            }
            let lines = evidence.iter().filter(|l| l["rule"] == r.as_str()).count();
            return Some(format!(
                "{r} decides {lines} evidence line(s); diagnostics {}; documents {}",
                diag_list(report),
                doc_list(report)
            ));
        }
        Expect::Count(k, cmp, n) => {
            let Some(got) = report["summary"][k.as_str()].as_u64() else {
                return Some(format!("no summary.{k}"));
            };
            let ok = match cmp {
                Cmp::Eq => got == *n,
                Cmp::Gt => got > *n,
                Cmp::Lt => got < *n,
            };
            if ok {
                return None;
            }
            return Some(format!("summary.{k} is {got}"));
        }
        Expect::Document { name, status, nil } => docs.iter().any(|d| {
            d["document"] == name.as_str()
                && d["status"] == status.as_str()
                && nil.as_ref().is_none_or(|n| d["nil"] == n.as_str())
        }),
        Expect::NoDocument(name) => !docs.iter().any(|d| d["document"] == name.as_str()),
    };
    if ok {
        return None;
    }
    Some(match e {
        Expect::Document { .. } | Expect::NoDocument(_) => {
            format!("documents are {}", doc_list(report))
        }
        _ => format!("diagnostics are {}", diag_list(report)),
    })
}

fn run(case: &Case) -> Vec<String> {
    let mut fails: Vec<String> = case
        .problems
        .iter()
        .map(|p| format!("header: {p}"))
        .collect();
    let Some(as_of) = &case.as_of else {
        return fails;
    };
    let out = Command::cargo_bin("regle")
        .expect("binary")
        .args(["eval", POLICY])
        .arg(&case.path)
        .args(["--registry", REGISTRY, "--as-of", as_of, "--format", "json"])
        .output()
        .expect("run regle");
    let code = out.status.code().unwrap_or(-1);
    let report: Value = match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(err) => {
            fails.push(format!(
                "output is not JSON ({err}); exit {code}; stdout: {}; stderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
            return fails;
        }
    };
    if report.get("outcome").is_none() || report.get("evidence").is_none() {
        fails.push(format!("not a candidacy report (exit {code}): {report}"));
        return fails;
    }
    contract(&report, code, &mut fails);
    let mut exit_given = false;
    for (line, e) in &case.expects {
        exit_given |= matches!(e, Expect::Exit(_));
        if let Some(why) = check(&report, code, e) {
            fails.push(format!("`{line}`: {why}"));
        }
    }
    if !exit_given {
        if let Some((_, Expect::Outcome(o))) = case
            .expects
            .iter()
            .find(|(_, e)| matches!(e, Expect::Outcome(_)))
        {
            let want = if o == "complete" { 0 } else { 1 };
            if code != want {
                fails.push(format!(
                    "exit status {code}, expected {want} for outcome {o}"
                ));
            }
        }
    }
    fails
}

#[test]
fn every_rule_fires_and_misses_as_the_rulebook_says() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(DIR)
        .expect("tests/rules")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "yaml")
                && p.file_stem().is_some_and(|n| n != "registry")
        })
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 41,
        "the per-rule cases are there ({})",
        paths.len()
    );
    let cases: Vec<Case> = paths.iter().map(|p| parse_case(p)).collect();

    // Evaluate in parallel; each evaluation is a separate process.
    let results: Mutex<Vec<(usize, Vec<String>)>> = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(4, |n| n.get().min(8));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(case) = cases.get(i) else { break };
                let fails = run(case);
                results.lock().expect("lock").push((i, fails));
            });
        }
    });
    let mut results = results.into_inner().expect("results");
    results.sort_by_key(|(i, _)| *i);

    let mut report = Vec::new();
    let mut failed_checks = 0;
    for (i, fails) in &results {
        if !fails.is_empty() {
            failed_checks += fails.len();
            let name = cases[*i]
                .path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("?");
            report.push(format!("{DIR}/{name}:\n  - {}", fails.join("\n  - ")));
        }
    }
    let covered: BTreeSet<&str> = cases
        .iter()
        .flat_map(|c| c.covers.iter().map(String::as_str))
        .collect();
    let missed: BTreeSet<&str> = cases
        .iter()
        .flat_map(|c| c.near_miss.iter().map(String::as_str))
        .collect();
    let uncovered: Vec<&str> = RULES
        .iter()
        .copied()
        .filter(|r| !covered.contains(r))
        .collect();
    let no_near_miss: Vec<&str> = RULES
        .iter()
        .copied()
        .filter(|r| !missed.contains(r))
        .collect();
    if !uncovered.is_empty() {
        report.push(format!("rules no case shows firing: {uncovered:?}"));
    }
    if !no_near_miss.is_empty() {
        report.push(format!(
            "rules no case shows as a near miss: {no_near_miss:?}"
        ));
    }
    let checks: usize = cases.iter().map(|c| c.expects.len()).sum();
    assert!(
        report.is_empty(),
        "{} of {} case files fail ({failed_checks} failed checks of {checks} expectations, plus the report contract):\n\n{}\n",
        results.iter().filter(|(_, f)| !f.is_empty()).count(),
        cases.len(),
        report.join("\n\n")
    );
}
