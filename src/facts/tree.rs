//! The untyped tree of a facts document, as parsed from JSON or YAML, with a
//! byte span for every node and key. The typed conversion (`facts::typed`)
//! reads it against the policy's declared shape; diagnostics point back into
//! it through node indexes.

use crate::source::Span;
use std::fmt::Write;
use std::sync::Arc;

/// The keys of one document, each held once: records repeat the same
/// field names thousands of times in a registry. A mapping's keys are
/// first looked for where the last mapping under the same key had them
/// (its shape): a batch's documents, and a registry's records, give the
/// same fields in the same order, found so without hashing.
#[derive(Debug, Default)]
pub struct Keys {
    /// Each key once, numbered by its place, and whether it is written
    /// as it is (no byte of it is escaped in JSON).
    list: Vec<(Arc<str>, bool)>,
    ids: rustc_hash::FxHashMap<Arc<str>, u32>,
    /// By `Shape`, the keys of the last mapping found there, in order.
    shapes: Vec<Vec<u32>>,
    /// How many keys `shapes` holds in all.
    shaped: usize,
}

/// Where a mapping is, for the keys it is expected to have: under which
/// key (0 for a mapping not under a key, key n + 1 for key n). A mapping
/// in a list is where the list is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape(u32);

impl Shape {
    pub const TOP: Shape = Shape(0);
}

/// Keys a thread keeps from one document to the next, at most: the
/// documents of a batch have the same field names, but one document may
/// have any number of keys.
const KEPT_KEYS: usize = 4096;

/// Keys of shapes a thread keeps, at most (each mapping's shape is as long
/// as the longest mapping found there).
const KEPT_SHAPED: usize = 4 * KEPT_KEYS;

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
        if self.list.len() <= KEPT_KEYS && self.shaped <= KEPT_SHAPED {
            super::keep(&KEYS, self);
        }
    }

    pub fn get(&mut self, key: &str) -> Arc<str> {
        self.intern(key).0
    }

    /// The key expected at `position` in a mapping at `shape`, if JSON
    /// writes it as it is, and the shape of a mapping under it: a parser
    /// finding its text there, between quotes, has found it.
    pub fn expected(&self, shape: Shape, position: usize) -> Option<(&Arc<str>, Shape)> {
        let id = *self.shapes.get(shape.0 as usize)?.get(position)?;
        match self.list.get(id as usize)? {
            (k, true) => Some((k, Shape(id.saturating_add(1)))),
            (_, false) => None,
        }
    }

    /// The key at `position` in a mapping at `shape`, and the shape of a
    /// mapping under it. The key expected there is compared first; any
    /// other is found by hashing, and expected there next time.
    pub fn get_in(&mut self, shape: Shape, position: usize, key: &str) -> (Arc<str>, Shape) {
        let slot = shape.0 as usize;
        let expected = self.shapes.get(slot).and_then(|s| s.get(position));
        if let Some(&id) = expected {
            if let Some((k, _)) = self.list.get(id as usize).filter(|k| *k.0 == *key) {
                return (k.clone(), Shape(id.saturating_add(1)));
            }
        }
        let (k, id) = self.intern(key);
        if self.shapes.len() <= slot {
            self.shapes.resize_with(slot + 1, Vec::new);
        }
        if let Some(s) = self.shapes.get_mut(slot) {
            if let Some(at) = s.get_mut(position) {
                *at = id;
            } else if s.len() == position {
                s.push(id);
                self.shaped += 1;
            }
        }
        (k, Shape(id.saturating_add(1)))
    }

    /// The key held for `key`, and its number.
    fn intern(&mut self, key: &str) -> (Arc<str>, u32) {
        if let Some((k, &id)) = self.ids.get_key_value(key) {
            return (k.clone(), id);
        }
        // More keys than numbers cannot be parsed (see `Limits`); the last
        // number would only never be found by shape.
        let id = u32::try_from(self.list.len()).unwrap_or(u32::MAX);
        let k: Arc<str> = Arc::from(key);
        let plain = !key.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20);
        self.list.push((k.clone(), plain));
        self.ids.insert(k.clone(), id);
        (k, id)
    }
}

/// Index of a node in `Tree::nodes`.
pub type NodeId = u32;

/// A parsed document as a flat arena: `nodes[root]` is the top node, each
/// node knows its parent so a path can be rebuilt for a diagnostic. The
/// texts of its strings and numbers follow each other in `texts`: one
/// buffer a document, not one allocation a scalar.
#[derive(Debug, Default, Clone)]
pub struct Tree {
    pub nodes: Vec<Node>,
    pub root: NodeId,
    pub texts: String,
}

/// A scalar's text: where it is in its tree's `texts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRange {
    start: u32,
    end: u32,
}

impl TextRange {
    /// Its length in bytes.
    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// Append `text` to a tree's `texts`: where it now is. The buffer holds
/// what one facts file holds (`MAX_FILE_BYTES`), well within `u32`.
pub fn add_text(texts: &mut String, text: &str) -> TextRange {
    let start = u32::try_from(texts.len()).unwrap_or(u32::MAX);
    texts.push_str(text);
    let end = u32::try_from(texts.len()).unwrap_or(u32::MAX);
    TextRange { start, end }
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
    Number(TextRange),
    Str(TextRange),
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
    /// The text of a string or a number of this tree.
    pub fn text(&self, r: TextRange) -> &str {
        self.texts
            .get(r.start as usize..r.end as usize)
            .unwrap_or("")
    }

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
            assert!(Keys::take().list.is_empty(), "too many to keep");
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
    }

    /// A key is the one held for its text whether or not it is where the
    /// last mapping at the same shape had it; mappings under different keys
    /// have their own shapes.
    #[test]
    fn keys_found_by_shape_are_the_keys_asked_for() {
        let mut keys = Keys::default();
        let (a, under_a) = keys.get_in(Shape::TOP, 0, "a");
        let (b, under_b) = keys.get_in(Shape::TOP, 1, "b");
        assert_ne!(under_a, under_b);
        keys.get_in(under_a, 0, "x");
        keys.get_in(under_b, 0, "y");
        // The same order: found where expected.
        assert!(Arc::ptr_eq(&keys.get_in(Shape::TOP, 0, "a").0, &a));
        assert!(Arc::ptr_eq(&keys.get_in(Shape::TOP, 1, "b").0, &b));
        // Another order, a new key, a shorter and a longer mapping.
        for _ in 0..2 {
            assert_eq!(&*keys.get_in(Shape::TOP, 0, "b").0, "b");
            assert_eq!(&*keys.get_in(Shape::TOP, 1, "c").0, "c");
            assert!(Arc::ptr_eq(&keys.get_in(Shape::TOP, 2, "a").0, &a));
            assert_eq!(&*keys.get_in(under_a, 0, "y").0, "y");
            assert_eq!(&*keys.get_in(under_b, 0, "x").0, "x");
            assert_eq!(&*keys.get_in(under_b, 1, "y").0, "y");
        }
        assert!(Arc::ptr_eq(&keys.get("b"), &b));
        assert_eq!(keys.get_in(Shape::TOP, 0, "a").1, under_a);
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
