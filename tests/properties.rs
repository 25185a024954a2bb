//! Properties of evaluation, on generated variations of the shared cases:
//! JSON and YAML give the same report; evaluating twice gives the same
//! bytes; the order of the policy's files and declarations changes nothing;
//! facts no rule reads change nothing. (The order of versions is a total
//! order: see the properties in `src/version.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use proptest::prelude::*;
use regle::batch::{self, Context, Doc, Format};
use regle::facts::tree::Limits;
use regle::ir::{Index, Policy, Value};
use regle::source::{Source, SourceFile};
use serde_json::Value as Json;
use std::path::Path;
use std::sync::OnceLock;

struct Loaded {
    policy: Policy,
    registry: Vec<Option<Value>>,
    registry_doc: regle::facts::Reparsed,
    indexes: Vec<Index>,
}

fn load(policy_dir: &Path) -> Loaded {
    let policy = regle::check::load_policy(policy_dir)
        .unwrap_or_else(|d| panic!("{:?}", d.iter().map(|d| &d.message).collect::<Vec<_>>()))
        .policy;
    let src = batch::read_source(Path::new("tests/rules/registry.yaml")).unwrap();
    let tree = batch::parse_file(&src, batch::Kind::Yaml, &Limits::default()).unwrap();
    let registry = regle::facts::typed::read_document(&policy, &tree, &src, true)
        .unwrap_or_else(|_| panic!("registry"));
    let indexes = regle::eval::index_registry(&policy, &registry);
    Loaded {
        policy,
        registry,
        registry_doc: regle::facts::Reparsed::new(src, true, Limits::default()),
        indexes,
    }
}

fn shipped() -> &'static Loaded {
    static L: OnceLock<Loaded> = OnceLock::new();
    L.get_or_init(|| load(Path::new("policies/segur-v2")))
}

/// What every document of a run shares: the shipped policy, the rules'
/// registry, 2026-05-20, JSON reports, nothing remembered.
fn context(l: &Loaded) -> Context<'_> {
    Context {
        policy: &l.policy,
        registry: &l.registry,
        registry_doc: Some(&l.registry_doc),
        registry_indexes: &l.indexes,
        as_of: regle::ir::value::date::parse("2026-05-20").unwrap(),
        format: Format::Json,
        color: false,
        color_errors: false,
        memo: None,
    }
}

/// The JSON report for one facts text (`kind` says how to read it).
fn report(l: &Loaded, text: &str, kind: batch::Kind) -> String {
    report_in(&context(l), text, kind)
}

/// The same, in the run `cx`.
fn report_in(cx: &Context, text: &str, kind: batch::Kind) -> String {
    let source: Source = SourceFile::new("case", text);
    batch::evaluate_doc(
        cx,
        Doc {
            source,
            line: None,
            body: batch::Body::Unparsed(kind, Limits::default()),
        },
    )
    .stdout
}

/// Every per-rule case, evaluated in one run on one thread whose store of
/// remembered definitions is small enough to be trimmed every few documents
/// (forwards, then backwards; several sizes): the same reports as computing
/// each afresh.
#[test]
fn remembered_values_trimmed_every_few_documents_change_no_report() {
    let l = shipped();
    let mut texts: Vec<String> = std::fs::read_dir("tests/rules")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml") && !p.ends_with("registry.yaml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .filter(|t| t.contains("# as-of: 2026-05-20"))
        .collect();
    texts.sort();
    assert!(texts.len() > 50);
    let fresh: Vec<String> = texts
        .iter()
        .map(|t| report_in(&context(l), t, batch::Kind::Yaml))
        .collect();
    for limit in [2_000, 20_000, 60_000, 200_000] {
        let cx = Context {
            memo: Some(regle::eval::Memo::with_limit(1, limit)),
            ..context(l)
        };
        let order: Vec<usize> = (0..texts.len()).chain((0..texts.len()).rev()).collect();
        for i in order {
            assert_eq!(
                report_in(&cx, &texts[i], batch::Kind::Yaml),
                fresh[i],
                "limit {limit}: {}",
                texts[i]
            );
        }
    }
}

/// The shared cases, as JSON values.
fn cases() -> &'static Vec<Json> {
    static C: OnceLock<Vec<Json>> = OnceLock::new();
    C.get_or_init(|| {
        let mut names: Vec<_> = std::fs::read_dir("tests/cases")
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml") && !p.ends_with("registry.yaml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| {
                // Read through regle's own YAML reader into JSON text.
                let src = batch::read_source(p).unwrap();
                let tree = batch::parse_file(&src, batch::Kind::Yaml, &Limits::default()).unwrap();
                tree_to_json(&tree, tree.root)
            })
            .collect()
    })
}

fn tree_to_json(t: &regle::facts::tree::Tree, id: u32) -> Json {
    use regle::facts::tree::NodeValue as N;
    match &t.node(id).value {
        N::Null => Json::Null,
        N::Bool(b) => Json::Bool(*b),
        N::Number(n) => {
            let n = t.text(*n);
            serde_json::from_str(n).unwrap_or_else(|_| Json::String(n.to_string()))
        }
        N::Str(s) => Json::String(t.text(*s).to_string()),
        N::Seq(items) => Json::Array(items.iter().map(|&i| tree_to_json(t, i)).collect()),
        N::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|e| (e.key.to_string(), tree_to_json(t, e.node)))
                .collect(),
        ),
    }
}

/// Block-style YAML for a JSON value, every string quoted.
fn to_yaml(v: &Json, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Json::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                out.push_str(&format!("{pad}{k}:"));
                match x {
                    Json::Object(o) if !o.is_empty() => {
                        out.push('\n');
                        to_yaml(x, indent + 2, out);
                    }
                    Json::Array(a) if !a.is_empty() => {
                        out.push('\n');
                        to_yaml(x, indent + 2, out);
                    }
                    _ => {
                        out.push(' ');
                        out.push_str(&serde_json::to_string(x).unwrap());
                        out.push('\n');
                    }
                }
            }
        }
        Json::Array(a) if !a.is_empty() => {
            for x in a {
                match x {
                    Json::Object(o) if !o.is_empty() => {
                        out.push_str(&format!("{pad}-\n"));
                        to_yaml(x, indent + 2, out);
                    }
                    _ => out.push_str(&format!("{pad}- {}\n", serde_json::to_string(x).unwrap())),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", serde_json::to_string(other).unwrap())),
    }
}

/// A case with some facts changed: versions, a profile, names.
fn variation() -> impl Strategy<Value = Json> {
    (0..8usize, 0..20u32, 0..20u32, any::<bool>(), any::<bool>()).prop_map(|(i, major, minor, drop_proxy, extra_name)| {
        let mut c = cases()[i].clone();
        let cand = &mut c["candidacy"];
        let v = format!("{major}.{minor}");
        cand["solution"]["main_component"]["version"] = Json::String(v.clone());
        if drop_proxy {
            if let Some(s) = cand["solution"].as_object_mut() {
                s.remove("proxy");
            }
        }
        if extra_name {
            if let Some(names) = cand["solution"]["commercial_names"].as_array_mut() {
                names.push(serde_json::json!({"name": format!("Extra{minor}"), "technical_version": v, "nil": format!("NIL-X-{minor}")}));
            }
        }
        c
    })
}

/// `v` as JSON text, each object's members turned by `turn` places (and
/// reversed when `reverse`): the same facts, fields in another order.
fn to_json_reordered(v: &Json, turn: usize, reverse: bool, out: &mut String) {
    match v {
        Json::Object(m) => {
            let mut members: Vec<(&String, &Json)> = m.iter().collect();
            if !members.is_empty() {
                let len = members.len();
                members.rotate_left(turn % len);
            }
            if reverse {
                members.reverse();
            }
            out.push('{');
            for (i, (k, x)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap());
                out.push(':');
                to_json_reordered(x, turn, reverse, out);
            }
            out.push('}');
        }
        Json::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                to_json_reordered(x, turn, reverse, out);
            }
            out.push(']');
        }
        other => out.push_str(&serde_json::to_string(other).unwrap()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_order_of_a_records_fields_changes_nothing(case in variation(), turn in 0..6usize, reverse in any::<bool>()) {
        let json = serde_json::to_string(&case).unwrap();
        let mut reordered = String::new();
        to_json_reordered(&case, turn, reverse, &mut reordered);
        prop_assert_eq!(report(shipped(), &json, batch::Kind::Json), report(shipped(), &reordered, batch::Kind::Json), "{}", reordered);
    }

    #[test]
    fn json_and_yaml_give_the_same_report(case in variation()) {
        let json = serde_json::to_string(&case).unwrap();
        let mut yaml = String::new();
        to_yaml(&case, 0, &mut yaml);
        let a = report(shipped(), &json, batch::Kind::Json);
        let b = report(shipped(), &yaml, batch::Kind::Yaml);
        prop_assert!(a.starts_with('{'), "{}", a);
        prop_assert_eq!(a, b, "YAML:\n{}", yaml);
    }

    #[test]
    fn evaluating_twice_gives_identical_bytes(case in variation()) {
        let json = serde_json::to_string(&case).unwrap();
        prop_assert_eq!(report(shipped(), &json, batch::Kind::Json), report(shipped(), &json, batch::Kind::Json));
    }

    #[test]
    fn facts_no_rule_reads_change_nothing(case in variation(), day in 1..28u32, module in "[A-Za-z]{1,8}") {
        let json = serde_json::to_string(&case).unwrap();
        let mut changed = case.clone();
        changed["candidacy"]["filed_on"] = Json::String(format!("2026-01-{day:02}"));
        changed["candidacy"]["solution"]["main_component"]["modules"] = serde_json::json!([module]);
        let other = serde_json::to_string(&changed).unwrap();
        prop_assert_eq!(report(shipped(), &json, batch::Kind::Json), report(shipped(), &other, batch::Kind::Json));
    }
}

/// The policy's declarations (blank-line separated blocks at the margin),
/// from every file.
fn blocks() -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir("policies/segur-v2")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "regle"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        let mut cur = String::new();
        for line in text.lines() {
            let starts = [
                "policy ",
                "decision ",
                "document ",
                "enum ",
                "record ",
                "input ",
                "registry ",
                "table ",
                "def ",
                "rule ",
            ]
            .iter()
            .any(|k| line.starts_with(k));
            if starts && !cur.trim().is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            cur.push_str(line);
            cur.push('\n');
        }
        out.push(cur);
    }
    // Documents are listed in the report in the order they are declared:
    // their declarations move as one block.
    let (docs, mut rest): (Vec<String>, Vec<String>) =
        out.into_iter().partition(|b| b.starts_with("document "));
    rest.push(docs.concat());
    rest
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn reordering_files_and_declarations_changes_nothing(order in Just(blocks()).prop_shuffle(), split in 1..6usize) {
        // The shuffled declarations, spread over `split` files named so that
        // their order is another again, with the data folder beside them.
        let dir = std::env::temp_dir().join(format!("regle-prop-order-{}-{split}-{}", std::process::id(), order.len() ^ order[0].len()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(std::fs::canonicalize("policies/segur-v2/data").unwrap(), dir.join("data")).unwrap();
        let per = order.len().div_ceil(split);
        for (i, chunk) in order.chunks(per).enumerate() {
            std::fs::write(dir.join(format!("{}-part.regle", (b'z' - i as u8) as char)), chunk.concat()).unwrap();
        }
        let shuffled = load(&dir);
        for case in cases() {
            let json = serde_json::to_string(case).unwrap();
            let (a, b) = (report(shipped(), &json, batch::Kind::Json), report(&shuffled, &json, batch::Kind::Json));
            if a != b {
                let first = a.bytes().zip(b.bytes()).position(|(x, y)| x != y).unwrap_or(0);
                prop_assert!(false, "reports differ from byte {first}: {:?} vs {:?}", &a[first.saturating_sub(80)..(first + 80).min(a.len())], &b[first.saturating_sub(80)..(first + 80).min(b.len())]);
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
