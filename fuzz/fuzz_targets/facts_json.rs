//! Arbitrary text as a JSON facts file (`facts::json::parse_json`): no
//! panic; every node and key span (and an error's span) inside the text on
//! character boundaries. Differential check against serde_json: what regle
//! accepts, serde_json accepts with the same structure, strings and
//! numbers; what serde_json accepts, regle refuses only for its own rules
//! (duplicate keys, depth, size).
#![no_main]

use libfuzzer_sys::fuzz_target;
use regle::facts::json::parse_json;
use regle::facts::tree::{Limits, NodeId, NodeValue, Tree};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let result = parse_json(text, 0, &Limits::default());
    let body = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let serde: Result<Value, _> = serde_json::from_str(body);
    match &result {
        Ok(tree) => {
            regle_fuzz::assert_tree(text, 0, text.len(), tree, "parse_json");
            assert_tokens(text, tree);
            let syntax_ok = serde_json::from_str::<serde::de::IgnoredAny>(body);
            assert!(
                syntax_ok.is_ok(),
                "regle accepts JSON that serde_json refuses: {syntax_ok:?}"
            );
            if let Ok(v) = &serde {
                same(tree, tree.root, v, 0);
            }
        }
        Err(e) => {
            regle_fuzz::assert_error_span(text, e, "parse_json");
            if serde.is_ok() {
                assert!(
                    matches!(
                        e.code,
                        "regle::facts::duplicate_key"
                            | "regle::facts::too_deep"
                            | "regle::facts::too_large"
                    ),
                    "regle refuses JSON that serde_json accepts: {} {:?}",
                    e.code,
                    e.message
                );
            }
        }
    }
});

/// Scalars span their token; containers span from opening to closing.
fn assert_tokens(text: &str, tree: &Tree) {
    for node in &tree.nodes {
        let t = &text[node.span.start..node.span.end];
        match &node.value {
            NodeValue::Null => assert_eq!(t, "null"),
            NodeValue::Bool(b) => assert_eq!(t, if *b { "true" } else { "false" }),
            NodeValue::Number(n) => assert_eq!(t, tree.text(*n), "a number's span is its text"),
            NodeValue::Str(_) => assert!(
                t.len() >= 2 && t.starts_with('"') && t.ends_with('"'),
                "string span {t:?}"
            ),
            NodeValue::Seq(_) => {
                assert!(t.starts_with('[') && t.ends_with(']'), "array span {t:?}")
            }
            NodeValue::Map(entries) => {
                assert!(t.starts_with('{') && t.ends_with('}'), "object span {t:?}");
                for e in entries {
                    let k = &text[e.key_span.start..e.key_span.end];
                    assert!(
                        k.len() >= 2 && k.starts_with('"') && k.ends_with('"'),
                        "key span {k:?}"
                    );
                }
            }
        }
    }
}

fn same(tree: &Tree, id: NodeId, v: &Value, depth: usize) {
    assert!(depth < 200);
    match (&tree.node(id).value, v) {
        (NodeValue::Null, Value::Null) => {}
        (NodeValue::Bool(a), Value::Bool(b)) => assert_eq!(a, b),
        (NodeValue::Number(n), Value::Number(_)) => {
            let n = tree.text(*n);
            let again: Value = serde_json::from_str(n).expect("a number's text parses");
            assert_eq!(&again, v, "number {n:?}");
        }
        (NodeValue::Str(a), Value::String(b)) => {
            assert_eq!(tree.text(*a), b, "string contents differ")
        }
        (NodeValue::Seq(items), Value::Array(vs)) => {
            assert_eq!(items.len(), vs.len(), "array lengths differ");
            for (&c, cv) in items.iter().zip(vs) {
                assert_eq!(tree.node(c).parent, Some(id), "parent link");
                same(tree, c, cv, depth + 1);
            }
        }
        (NodeValue::Map(entries), Value::Object(m)) => {
            assert_eq!(entries.len(), m.len(), "object sizes differ");
            for (e, (k, cv)) in entries.iter().zip(m) {
                assert_eq!(&*e.key, k, "keys differ");
                assert_eq!(tree.node(e.node).parent, Some(id), "parent link");
                same(tree, e.node, cv, depth + 1);
            }
        }
        (a, b) => panic!("regle read {} where serde_json read {b}", a.kind_name()),
    }
}
