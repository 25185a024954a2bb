//! Arbitrary text as a candidacy for the shipped Ségur policy: parsed as
//! JSON (or, when that fails, as YAML), read against the policy's declared
//! shape (`facts::typed::read_document`), and if that succeeds, evaluated
//! on 2026-05-20 with the registry of `tests/cases/registry.yaml`, and
//! rendered as a JSON report (which must parse, as one object) and as a
//! human report (which must hold no raw control character). Diagnostics
//! along the way must have in-bounds spans and render. No panic, no hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regle::check::{load_policy, Checked};
use regle::eval::{evaluate, index_registry, Facts};
use regle::facts::tree::{Limits, Tree};
use regle::facts::{json, typed, yaml};
use regle::ir::{Index, Value};
use regle::source::{Source, SourceFile};
use std::path::Path;
use std::sync::OnceLock;

const POLICY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/segur-v2");
const REGISTRY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/cases/registry.yaml");
const AS_OF: &str = "2026-05-20";

struct Fixture {
    checked: Checked,
    /// The registry's values, by input index (`None` for the document's).
    base_inputs: Vec<Option<Value>>,
    /// The registry's text, parsed again when a diagnostic points into it.
    registry_doc: regle::facts::Reparsed,
    /// Built once, as the CLI does, by `eval::index_registry`.
    registry_indexes: Vec<Index>,
    as_of: i32,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let checked = match load_policy(Path::new(POLICY)) {
            Ok(c) => c,
            Err(d) => panic!(
                "the shipped policy {POLICY} does not load: {:?}",
                d.first().map(|d| &d.message)
            ),
        };
        let text =
            std::fs::read_to_string(REGISTRY).expect("tests/cases/registry.yaml is readable");
        let source = SourceFile::new("registry.yaml", text);
        let registry_tree =
            yaml::parse_yaml(&source.text, &Limits::default()).expect("the registry parses");
        let base_inputs = match typed::read_document(&checked.policy, &registry_tree, &source, true)
        {
            Ok(v) => v,
            Err(d) => panic!(
                "the registry does not read: {:?}",
                d.first().map(|d| &d.message)
            ),
        };
        let as_of = regle::ir::value::date::parse(AS_OF).expect("a date");
        let registry_indexes = index_registry(&checked.policy, &base_inputs);
        drop(registry_tree);
        Fixture {
            checked,
            base_inputs,
            registry_doc: regle::facts::Reparsed::new(source, true, Limits::default()),
            registry_indexes,
            as_of,
        }
    })
}

/// `REGLE_FUZZ_TRACE=1`: say on stderr how far each input got (to check
/// that the seeds reach the evaluator).
fn trace(stage: &str) {
    static ON: OnceLock<bool> = OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("REGLE_FUZZ_TRACE").is_some()) {
        eprintln!("facts_typed: {stage}");
    }
}

#[allow(clippy::result_large_err)]
fn parse(source: &Source) -> Result<Tree, regle::diag::Diagnostic> {
    let limits = Limits::default();
    json::parse_json(&source.text, 0, &limits)
        .or_else(|_| yaml::parse_yaml(&source.text, &limits))
        .map_err(|e| {
            regle::diag::Diagnostic::error(e.code, e.message)
                .at(source, e.span, e.label)
                .help_opt(e.help)
        })
}

fuzz_target!(
    init: {
        let _ = fixture();
    },
    |data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let f = fixture();
        let policy = &f.checked.policy;
        let source = SourceFile::new("fuzz.yaml", text);
        let tree = match parse(&source) {
            Ok(t) => t,
            Err(d) => {
                trace("not JSON nor YAML");
                regle_fuzz::assert_diag_spans(&d);
                return;
            }
        };
        let values = match typed::read_document(policy, &tree, &source, false) {
            Ok(v) => v,
            Err(diags) => {
                trace(&format!("read_document: {} diagnostic(s), first: {}", diags.len(), diags.first().map_or("", |d| d.message.as_str())));
                assert!(!diags.is_empty(), "Err holds at least one diagnostic");
                for (i, d) in diags.iter().enumerate() {
                    regle_fuzz::assert_diag_spans(d);
                    if i < 3 {
                        regle_fuzz::render_and_check(d);
                    }
                }
                return;
            }
        };
        assert_eq!(values.len(), policy.inputs.len(), "one value slot per input");
        let inputs: Vec<Option<Value>> = values
            .into_iter()
            .zip(&f.base_inputs)
            .map(|(a, b)| a.or_else(|| b.clone()))
            .collect();
        let facts = Facts {
            inputs: &inputs,
            input_tree: Some(&tree),
            registry_tree: Some(&f.registry_doc),
            registry_indexes: &f.registry_indexes,
        };
        let Ok(report) = evaluate(policy, &facts, f.as_of) else {
            trace("evaluate: step budget spent");
            // The step budget is spent: a diagnostic, not a hang.
            return;
        };
        let mut out = String::new();
        regle::report::json::report(&mut out, policy, &report);
        let v: serde_json::Value = match serde_json::from_str(&out) {
            Ok(v) => v,
            Err(e) => panic!("the JSON report does not parse ({e}): {out}"),
        };
        assert!(v.is_object(), "the JSON report is an object");
        trace(&format!("evaluated: outcome {}", report.outcome.as_str()));
        let mut human = String::new();
        regle::report::human::report(
            &mut human,
            policy,
            &report,
            Some(&source),
            None,
            &regle::report::human::Style { color: false },
        );
        regle_fuzz::assert_no_raw_controls(&human, "report::human(color=false)");
    }
);
