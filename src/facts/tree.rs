//! The untyped tree of a facts document, as parsed from JSON or YAML, with a
//! byte span for every node and key. The typed conversion (`facts::typed`)
//! reads it against the policy's declared shape; diagnostics point back into
//! it through node indexes.

use crate::source::Span;
use std::fmt::Write;
use std::sync::Arc;

/// The keys of one document, each held once: records repeat the same
/// field names thousands of times in a registry.
#[derive(Debug, Default)]
pub struct Keys(rustc_hash::FxHashSet<Arc<str>>);

/// Keys a thread keeps from one document to the next, at most: the
/// documents of a batch have the same field names, but one document may
/// have any number of keys.
const KEPT_KEYS: usize = 4096;

thread_local! {
    static KEYS: std::cell::RefCell<Keys> = std::cell::RefCell::new(Keys::default());
}

impl Keys {
    /// The keys this thread's last document left (give them back with
    /// `keep`).
    pub fn take() -> Keys {
        super::take_kept(&KEYS)
    }

    /// Keep these keys for the thread's next document, unless they are
    /// too many.
    pub fn keep(self) {
        if self.0.len() <= KEPT_KEYS {
            super::keep(&KEYS, self);
        }
    }

    pub fn get(&mut self, key: &str) -> Arc<str> {
        if let Some(k) = self.0.get(key) {
            return k.clone();
        }
        let k: Arc<str> = Arc::from(key);
        self.0.insert(k.clone());
        k
    }
}

/// Index of a node in `Tree::nodes`.
pub type NodeId = u32;

/// A parsed document as a flat arena: `nodes[root]` is the top node, each
/// node knows its parent so a path can be rebuilt for a diagnostic.
#[derive(Debug, Default, Clone)]
pub struct Tree {
    pub nodes: Vec<Node>,
    pub root: NodeId,
}

#[derive(Debug, Clone)]
pub struct Node {
    /// The node's text in the source: for a scalar its token, for a
    /// collection from its opening to its closing.
    pub span: Span,
    /// `None` for the root.
    pub parent: Option<NodeId>,
    pub value: NodeValue,
}

#[derive(Debug, Clone)]
pub enum NodeValue {
    Null,
    Bool(bool),
    /// A number as written (`1.10` stays `1.10`), so a version written
    /// without quotes is not silently read as `1.1`.
    Number(Box<str>),
    Str(Box<str>),
    Seq(Box<[NodeId]>),
    Map(Box<[Entry]>),
}

#[derive(Debug, Clone)]
pub struct Entry {
    /// Shared by every entry of the document with the same key.
    pub key: Arc<str>,
    pub key_span: Span,
    pub node: NodeId,
}

impl NodeValue {
    /// What a person calls this kind of value, for "expected X, found Y".
    pub fn kind_name(&self) -> &'static str {
        match self {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Number(_) => "a number",
            NodeValue::Str(_) => "a string",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }
}

impl Tree {
    pub fn node(&self, id: NodeId) -> &Node {
        // Ids come from this tree; an out-of-range id is a bug, answered with the root.
        self.nodes
            .get(id as usize)
            .or_else(|| self.nodes.first())
            .unwrap_or(&EMPTY)
    }

    /// The child of map node `id` under `key`.
    pub fn child(&self, id: NodeId, key: &str) -> Option<NodeId> {
        match &self.node(id).value {
            NodeValue::Map(entries) => entries.iter().find(|e| &*e.key == key).map(|e| e.node),
            _ => None,
        }
    }

    /// The dotted path of a node from the root: `candidacy.solution.commercial_names[1].nil`.
    pub fn path(&self, id: NodeId) -> String {
        /// A step down from a node's parent: a key, or a position.
        enum Step<'t> {
            Key(&'t str),
            Index(usize),
        }
        let mut segments = Vec::new();
        let mut cur = id;
        while let Some(parent) = self.node(cur).parent {
            match &self.node(parent).value {
                // Children are numbered in the order they were parsed, so a
                // binary search finds one (with a scan if that ever fails).
                NodeValue::Map(entries) => {
                    let found = entries
                        .binary_search_by_key(&cur, |e| e.node)
                        .ok()
                        .or_else(|| entries.iter().position(|e| e.node == cur));
                    if let Some(e) = found.and_then(|i| entries.get(i)) {
                        segments.push(Step::Key(&e.key));
                    }
                }
                NodeValue::Seq(items) => {
                    let found = items
                        .binary_search(&cur)
                        .ok()
                        .or_else(|| items.iter().position(|&n| n == cur));
                    if let Some(i) = found {
                        segments.push(Step::Index(i));
                    }
                }
                _ => {}
            }
            if segments.len() > 10_000 {
                break;
            }
            cur = parent;
        }
        // Written from the root, in one string: `a.b[2].c`.
        let mut out = String::new();
        for (n, step) in segments.iter().rev().enumerate() {
            match step {
                Step::Key(k) => {
                    if n > 0 {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Step::Index(i) => {
                    let _ = write!(out, "[{i}]");
                }
            }
        }
        out
    }
}

static EMPTY: Node = Node {
    span: Span { start: 0, end: 0 },
    parent: None,
    value: NodeValue::Null,
};

/// Bounds on what a facts parser accepts, each with its own error.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting of lists and mappings.
    pub max_depth: usize,
    /// Most nodes in one document (after YAML alias expansion).
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_nodes: 1_000_000,
        }
    }
}

/// A facts file that cannot be parsed at all.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// Stable code, `regle::facts::...`.
    pub code: &'static str,
    pub message: String,
    pub span: Span,
    pub label: String,
    pub help: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A thread's next document finds the keys its last one left, the same
    /// text held once; a document of too many keys leaves none.
    #[test]
    fn keys_are_kept_for_the_next_document_within_bounds() {
        std::thread::spawn(|| {
            let mut keys = Keys::take();
            let first = keys.get("name");
            keys.keep();
            let mut keys = Keys::take();
            assert!(Arc::ptr_eq(&first, &keys.get("name")));
            for i in 0..=KEPT_KEYS {
                keys.get(&format!("k{i}"));
            }
            keys.keep();
            assert!(Keys::take().0.is_empty(), "too many to keep");
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
    }

    /// A fact's path names its keys and positions from the root: `.`
    /// between keys, none before the first, `[i]` for an item; an empty
    /// key still takes its dot.
    #[test]
    fn paths_name_keys_and_positions_from_the_root() {
        let text = r#"{"a": {"b": [1, {"c": true}]}, "": {"d": [[0, 1]]}}"#;
        let tree = crate::facts::json::parse_json(text, 0, &Limits::default())
            .unwrap_or_else(|e| panic!("{}", e.message));
        let at = |want: &str| {
            (0..tree.nodes.len() as NodeId)
                .map(|n| tree.path(n))
                .find(|p| p == want)
        };
        for want in ["", "a", "a.b", "a.b[0]", "a.b[1].c", ".d", ".d[0][1]"] {
            assert_eq!(at(want).as_deref(), Some(want));
        }
        assert_eq!(tree.path(tree.root), "");
    }
}
