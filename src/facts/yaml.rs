//! YAML facts files: the event stream of `saphyr-parser` built into the
//! spanned [`Tree`].
//!
//! Owns what the YAML layer decides before the typed reading: exactly one
//! document, plain scalars resolved with the YAML 1.2 core schema (so `yes`
//! and `on` stay text, and numbers keep their text, `0755` included),
//! string keys only and no duplicate keys, aliases expanded as copies within
//! the size limits (an alias bomb is refused before it is built), the depth
//! limit, and byte spans (the parser counts characters; they are converted
//! here). Building is iterative, driven by the events, so no input can
//! overflow the call stack.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Tag};

use crate::facts::json::{
    CODE_DUPLICATE_KEY, CODE_EMPTY, CODE_SYNTAX, CODE_TOO_DEEP, CODE_TOO_LARGE,
};
use crate::facts::tree::{
    add_text, Entry, Keys, Limits, Node, NodeId, NodeValue, ParseError, Tree,
};
use crate::source::Span;
use std::sync::Arc;

const CODE_SEVERAL_DOCUMENTS: &str = "regle::facts::several_documents";

const BOM: &str = "\u{FEFF}";

/// Mappings with more entries than this get a hash set for duplicate keys.
const LINEAR_KEY_SCAN: usize = 16;

/// Text copied by alias expansion, at least: beyond this and beyond
/// `COPY_FACTOR` times the file's size, the document is refused as too large
/// (the node limit alone does not bound long strings copied many times).
const COPY_FLOOR: usize = 16 << 20;
const COPY_FACTOR: usize = 8;

/// Parse a YAML file holding exactly one document.
pub fn parse_yaml(text: &str, limits: &Limits) -> Result<Tree, ParseError> {
    // The parser does not skip a byte order mark: leave it out, and shift
    // every offset by its length.
    let (skip, body) = match text.strip_prefix(BOM) {
        Some(rest) => (BOM.len(), rest),
        None => (0, text),
    };
    let offsets = Offsets::new(body, skip);
    let mut builder = Builder {
        text: body,
        offsets,
        limits: *limits,
        nodes: Vec::new(),
        texts: String::new(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        copy_budget: body.len().saturating_mul(COPY_FACTOR).max(COPY_FLOOR),
        keys: Keys::default(),
    };
    let mut parser = Parser::new_from_str(body);
    let mut documents = 0usize;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| builder.scan_error(&e))?;
        let (start, end) = (span.start.index(), span.end.index());
        match event {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(ParseError {
                        code: CODE_SEVERAL_DOCUMENTS,
                        message: "the file holds more than one document".to_string(),
                        span: builder.span(start, end.max(start + 1)),
                        label: "a second document starts here".to_string(),
                        help: Some(
                            "a facts file holds one document: remove the `---` separator, or split the file"
                                .to_string(),
                        ),
                    });
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                builder.scalar(value, style, anchor, tag.as_deref(), start, end)?;
            }
            Event::SequenceStart(anchor, _) => builder.open(true, anchor, start, end)?,
            Event::MappingStart(anchor, _) => builder.open(false, anchor, start, end)?,
            Event::SequenceEnd | Event::MappingEnd => builder.close(start, end),
            Event::Alias(id) => builder.alias(id, start, end)?,
        }
    }
    match builder.root {
        Some(root) if documents > 0 => Ok(Tree {
            nodes: builder.nodes,
            root,
            texts: builder.texts,
        }),
        _ => Err(ParseError {
            code: CODE_EMPTY,
            message: "the file holds no document".to_string(),
            span: Span::new(0, text.len()),
            label: "no value here".to_string(),
            help: Some("write a YAML document, such as a mapping `key: value`".to_string()),
        }),
    }
}

/// Character index (as the parser counts) to byte offset.
struct Offsets {
    /// Byte offset of every `STRIDE`-th character; empty for ASCII text.
    marks: Vec<usize>,
    ascii: bool,
    len: usize,
    /// Added to every offset (the byte order mark left out).
    shift: usize,
    /// The last conversion, `(character index, byte offset)`: events come
    /// in order, so most conversions walk on from it.
    last: Cell<(usize, usize)>,
}

const STRIDE: usize = 64;

impl Offsets {
    fn new(text: &str, shift: usize) -> Self {
        let ascii = text.is_ascii();
        let marks = if ascii {
            Vec::new()
        } else {
            text.char_indices()
                .step_by(STRIDE)
                .map(|(b, _)| b)
                .collect()
        };
        Offsets {
            marks,
            ascii,
            len: text.len(),
            shift,
            last: Cell::new((0, 0)),
        }
    }

    /// The byte offset in `text` (the parsed body) of character `index`.
    fn local(&self, text: &str, index: usize) -> usize {
        if self.ascii {
            return index.min(self.len);
        }
        let (last_char, last_byte) = self.last.get();
        let (from_char, from) = if index >= last_char && index - last_char <= STRIDE {
            (last_char, last_byte)
        } else {
            match self.marks.get(index / STRIDE) {
                Some(&b) => (index - index % STRIDE, b),
                None => return self.len,
            }
        };
        let byte = text
            .get(from..)
            .and_then(|rest| rest.char_indices().nth(index - from_char))
            .map_or(self.len, |(b, _)| from + b);
        if byte < self.len {
            self.last.set((index, byte));
        }
        byte
    }
}

struct Frame {
    id: NodeId,
    anchor: usize,
    /// Greatest height of a child (0 for scalars only).
    height: usize,
    kind: FrameKind,
}

enum FrameKind {
    Seq(Vec<NodeId>),
    Map {
        entries: Vec<Entry>,
        seen: Option<HashSet<Arc<str>>>,
        /// The key whose value comes next; `None` when a key comes next.
        pending: Option<(Arc<str>, Span)>,
    },
}

enum Anchor {
    /// A complete node: the arena range `start..end` (a subtree is
    /// contiguous), its height, and its text when it is a scalar.
    Nodes {
        start: usize,
        end: usize,
        height: usize,
        text: Option<Box<str>>,
    },
    /// A scalar anchored as a key: it has no node.
    Key { text: Box<str>, value: NodeValue },
}

struct Builder<'a> {
    text: &'a str,
    offsets: Offsets,
    limits: Limits,
    nodes: Vec<Node>,
    /// The texts of strings and numbers (`Tree::texts`).
    texts: String,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchor>,
    root: Option<NodeId>,
    copy_budget: usize,
    keys: Keys,
}

type PResult<T> = Result<T, ParseError>;

impl Builder<'_> {
    /// A file span from the parser's character indexes.
    fn span(&self, start: usize, end: usize) -> Span {
        let s = self.offsets.local(self.text, start);
        let e = self.offsets.local(self.text, end.max(start));
        Span::new(s + self.offsets.shift, e + self.offsets.shift)
    }

    /// The span of a block scalar without the line breaks the parser
    /// counts in it.
    fn trimmed_span(&self, start: usize, end: usize) -> Span {
        let span = self.span(start, end);
        let shift = self.offsets.shift;
        let local = self
            .text
            .get(span.start.saturating_sub(shift)..span.end.saturating_sub(shift))
            .unwrap_or("");
        Span::new(span.start, span.start + local.trim_end().len())
    }

    fn text_at(&self, span: Span) -> &str {
        let shift = self.offsets.shift;
        self.text
            .get(span.start.saturating_sub(shift)..span.end.saturating_sub(shift))
            .unwrap_or("")
    }

    fn expects_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame {
                kind: FrameKind::Map { pending: None, .. },
                ..
            })
        )
    }

    fn scan_error(&self, e: &ScanError) -> ParseError {
        let at = self.offsets.local(self.text, e.marker().index());
        let width = self
            .text
            .get(at..)
            .and_then(|r| r.chars().next())
            .map_or(0, char::len_utf8);
        let span = Span::new(at + self.offsets.shift, at + width + self.offsets.shift);
        let info = e.info().trim().trim_end_matches('.');
        if info == "recursion limit exceeded" {
            return self.too_deep(span);
        }
        let mut chars = info.chars();
        let message = match chars.next() {
            Some(first) => first.to_lowercase().chain(chars).collect(),
            None => "invalid YAML".to_string(),
        };
        let help = if info.contains("tab") {
            Some("indent with spaces: YAML does not allow tabs for indentation".to_string())
        } else {
            None
        };
        ParseError {
            code: CODE_SYNTAX,
            message,
            span,
            label: "here".to_string(),
            help,
        }
    }

    fn too_deep(&self, span: Span) -> ParseError {
        ParseError {
            code: CODE_TOO_DEEP,
            message: format!(
                "the document nests lists and mappings more than {} deep",
                self.limits.max_depth
            ),
            span,
            label: "too deep".to_string(),
            help: Some("flatten the data: facts files are not meant to nest this deep".to_string()),
        }
    }

    fn too_large(&self, span: Span, by_aliases: bool) -> ParseError {
        let message = if by_aliases {
            format!(
                "the document grows beyond {} values, or too much text, once its aliases are expanded",
                self.limits.max_nodes
            )
        } else {
            format!(
                "the document holds more than {} values",
                self.limits.max_nodes
            )
        };
        ParseError {
            code: CODE_TOO_LARGE,
            message,
            span,
            label: "over the limit from here".to_string(),
            help: Some(if by_aliases {
                "write the repeated data out, or use fewer nested aliases".to_string()
            } else {
                "split the data into several smaller documents".to_string()
            }),
        }
    }

    fn complex_key(&self, span: Span, found: &str) -> ParseError {
        ParseError {
            code: CODE_SYNTAX,
            message: format!("a mapping key must be a plain value, found {found}"),
            span,
            label: "not a plain key".to_string(),
            help: Some("use text, a number or a boolean as the key".to_string()),
        }
    }

    fn scalar(
        &mut self,
        value: Cow<'_, str>,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        start: usize,
        end: usize,
    ) -> PResult<()> {
        let span = if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
            self.trimmed_span(start, end)
        } else {
            self.span(start, end)
        };
        if self.expects_key() {
            if anchor != 0 {
                self.anchors.insert(
                    anchor,
                    Anchor::Key {
                        text: value.as_ref().into(),
                        value: resolve(&mut self.texts, value.clone(), style, tag),
                    },
                );
            }
            return self.key(value.into(), span);
        }
        let text: Option<Box<str>> = (anchor != 0).then(|| value.as_ref().into());
        let value = resolve(&mut self.texts, value, style, tag);
        let id = self.add_node(span, value, false)?;
        if anchor != 0 {
            self.anchors.insert(
                anchor,
                Anchor::Nodes {
                    start: id as usize,
                    end: id as usize + 1,
                    height: 0,
                    text,
                },
            );
        }
        Ok(())
    }

    /// A key of the innermost mapping: check it is new, and keep it for
    /// the value that follows.
    fn key(&mut self, key: Box<str>, key_span: Span) -> PResult<()> {
        let key = self.keys.get(&key);
        let Some(Frame {
            kind:
                FrameKind::Map {
                    entries,
                    seen,
                    pending,
                },
            ..
        }) = self.stack.last_mut()
        else {
            return Ok(());
        };
        let duplicate = match seen {
            Some(set) => !set.insert(key.clone()),
            None => {
                let dup = entries.iter().any(|e| *e.key == *key);
                if !dup && entries.len() >= LINEAR_KEY_SCAN {
                    let mut set: HashSet<Arc<str>> =
                        entries.iter().map(|e| e.key.clone()).collect();
                    set.insert(key.clone());
                    *seen = Some(set);
                }
                dup
            }
        };
        if duplicate {
            return Err(ParseError {
                code: CODE_DUPLICATE_KEY,
                message: format!("duplicate key `{key}`"),
                span: key_span,
                label: "this key appears earlier in the same mapping".to_string(),
                help: Some(
                    "each key may appear once in a mapping; remove or rename one of them"
                        .to_string(),
                ),
            });
        }
        *pending = Some((key, key_span));
        Ok(())
    }

    fn open(&mut self, seq: bool, anchor: usize, start: usize, end: usize) -> PResult<()> {
        let span = self.span(start, end);
        if self.expects_key() {
            let found = if seq { "a list" } else { "a mapping" };
            return Err(self.complex_key(span, found));
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(self.too_deep(span));
        }
        let value = if seq {
            NodeValue::Seq(Box::default())
        } else {
            NodeValue::Map(Box::default())
        };
        let id = self.add_node(span, value, false)?;
        self.stack.push(Frame {
            id,
            anchor,
            height: 0,
            kind: if seq {
                FrameKind::Seq(Vec::new())
            } else {
                FrameKind::Map {
                    entries: Vec::new(),
                    seen: None,
                    pending: None,
                }
            },
        });
        Ok(())
    }

    fn close(&mut self, start: usize, end: usize) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let end_span = self.span(start, end);
        let node_end =
            |nodes: &[Node], id: NodeId| nodes.get(id as usize).map_or(0, |n| n.span.end);
        // A flow collection ends on its bracket; a block one on its last
        // child (the parser places its end at the next token).
        let (value, last_end) = match frame.kind {
            FrameKind::Seq(items) => {
                let last = items.last().map_or(0, |&i| node_end(&self.nodes, i));
                (NodeValue::Seq(items.into_boxed_slice()), last)
            }
            FrameKind::Map { entries, .. } => {
                let last = entries
                    .last()
                    .map_or(0, |e| e.key_span.end.max(node_end(&self.nodes, e.node)));
                (NodeValue::Map(entries.into_boxed_slice()), last)
            }
        };
        let height = frame.height + 1;
        if let Some(node) = self.nodes.get_mut(frame.id as usize) {
            node.span.end = if end_span.is_empty() {
                last_end.max(node.span.end)
            } else {
                end_span.end
            };
            node.value = value;
        }
        if let Some(parent) = self.stack.last_mut() {
            parent.height = parent.height.max(height);
        }
        if frame.anchor != 0 {
            self.anchors.insert(
                frame.anchor,
                Anchor::Nodes {
                    start: frame.id as usize,
                    end: self.nodes.len(),
                    height,
                    text: None,
                },
            );
        }
    }

    fn alias(&mut self, anchor: usize, start: usize, end: usize) -> PResult<()> {
        let span = self.span(start, end);
        let Some(target) = self.anchors.get(&anchor) else {
            let name = self.text_at(span).to_string();
            return Err(ParseError {
                code: CODE_SYNTAX,
                message: format!("the alias `{name}` refers to a node that contains it"),
                span,
                label: "recursive alias".to_string(),
                help: Some("an alias may only repeat a node that is complete".to_string()),
            });
        };
        if self.expects_key() {
            let text = match target {
                Anchor::Key { text, .. }
                | Anchor::Nodes {
                    text: Some(text), ..
                } => text.clone(),
                Anchor::Nodes { .. } => {
                    return Err(self.complex_key(span, "an alias of a collection"))
                }
            };
            return self.key(text, span);
        }
        let (from, to, height) = match target {
            Anchor::Key { value, .. } => {
                let value = value.clone();
                self.add_node(span, value, true)?;
                return Ok(());
            }
            Anchor::Nodes {
                start, end, height, ..
            } => (*start, *end, *height),
        };
        if self.stack.len() + height > self.limits.max_depth {
            return Err(self.too_deep(span));
        }
        let count = to.saturating_sub(from);
        if self.nodes.len().saturating_add(count) > self.limits.max_nodes
            || NodeId::try_from(self.nodes.len().saturating_add(count)).is_err()
        {
            return Err(self.too_large(span, true));
        }
        let Some(first) = self.nodes.get(from) else {
            return Ok(());
        };
        let first_value = first.value.clone();
        self.charge(&first_value, span)?;
        let new_from = self.add_node(span, first_value, true)? as usize;
        // `new_from + (i - from)` for an id `i` in the copied range.
        let remap = |i: NodeId| -> NodeId {
            let i = i as usize;
            if (from..to).contains(&i) {
                NodeId::try_from(i - from + new_from).unwrap_or(NodeId::MAX)
            } else {
                NodeId::try_from(i).unwrap_or(NodeId::MAX)
            }
        };
        if let Some(node) = self.nodes.get_mut(new_from) {
            remap_children(&mut node.value, remap);
        }
        for i in from + 1..to {
            let Some(node) = self.nodes.get(i) else { break };
            let mut copy = node.clone();
            copy.parent = copy.parent.map(remap);
            remap_children(&mut copy.value, remap);
            self.charge(&copy.value, span)?;
            self.nodes.push(copy);
        }
        if let Some(parent) = self.stack.last_mut() {
            parent.height = parent.height.max(height);
        }
        Ok(())
    }

    /// Count the text of a copied node against the alias budget.
    fn charge(&mut self, value: &NodeValue, span: Span) -> PResult<()> {
        let bytes = match value {
            NodeValue::Str(s) | NodeValue::Number(s) => s.len(),
            NodeValue::Map(entries) => entries.iter().map(|e| e.key.len() + 8).sum(),
            NodeValue::Seq(items) => items.len() * 4,
            NodeValue::Null | NodeValue::Bool(_) => 0,
        } + 16;
        match self.copy_budget.checked_sub(bytes) {
            Some(left) => {
                self.copy_budget = left;
                Ok(())
            }
            None => Err(self.too_large(span, true)),
        }
    }

    /// Append a node as the next child of the innermost collection, or as
    /// the root.
    fn add_node(&mut self, span: Span, value: NodeValue, by_alias: bool) -> PResult<NodeId> {
        let id = match NodeId::try_from(self.nodes.len()) {
            Ok(id) if self.nodes.len() < self.limits.max_nodes => id,
            _ => return Err(self.too_large(span, by_alias)),
        };
        let parent = match self.stack.last_mut() {
            None => {
                self.root.get_or_insert(id);
                None
            }
            Some(frame) => {
                match &mut frame.kind {
                    FrameKind::Seq(items) => items.push(id),
                    FrameKind::Map {
                        entries, pending, ..
                    } => {
                        let (key, key_span) = pending.take().unwrap_or_default();
                        entries.push(Entry {
                            key,
                            key_span,
                            node: id,
                        });
                    }
                }
                Some(frame.id)
            }
        };
        self.nodes.push(Node {
            span,
            parent,
            value,
        });
        Ok(id)
    }
}

fn remap_children(value: &mut NodeValue, remap: impl Fn(NodeId) -> NodeId) {
    match value {
        NodeValue::Seq(items) => items.iter_mut().for_each(|i| *i = remap(*i)),
        NodeValue::Map(entries) => entries.iter_mut().for_each(|e| e.node = remap(e.node)),
        _ => {}
    }
}

/// The value of a scalar: quoted (or tagged `!!str`) is text; a plain one
/// is resolved with the YAML 1.2 core schema, numbers as written.
/// A string's or a number's text goes to the tree's `texts`.
fn resolve(
    texts: &mut String,
    value: Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<&Tag>,
) -> NodeValue {
    let is_str_tag = tag.is_some_and(|t| t.is_yaml_core_schema() && t.suffix == "str");
    if style != ScalarStyle::Plain || is_str_tag {
        return NodeValue::Str(add_text(texts, &value));
    }
    match value.as_ref() {
        "" | "~" | "null" | "Null" | "NULL" => NodeValue::Null,
        "true" | "True" | "TRUE" => NodeValue::Bool(true),
        "false" | "False" | "FALSE" => NodeValue::Bool(false),
        v if is_decimal(v) => NodeValue::Number(add_text(texts, v)),
        v => NodeValue::Str(add_text(texts, v)),
    }
}

/// The core schema's decimal integers and floats:
/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_decimal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - from
    };
    if matches!(b.first(), Some(b'-' | b'+')) {
        i += 1;
    }
    let int_digits = digits(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac_digits = digits(&mut i);
        if int_digits == 0 && frac_digits == 0 {
            return false;
        }
    } else if int_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn parse(text: &str) -> Result<Tree, ParseError> {
        parse_yaml(text, &Limits::default())
    }

    fn err(text: &str) -> ParseError {
        match parse(text) {
            Ok(t) => panic!("expected an error for {text:?}, got {t:?}"),
            Err(e) => e,
        }
    }

    fn slice(text: &str, span: Span) -> &str {
        &text[span.start..span.end]
    }

    fn at<'t>(tree: &'t Tree, path: &[&str]) -> &'t Node {
        let mut id = tree.root;
        for p in path {
            id = match p.parse::<usize>() {
                Ok(i) => match &tree.node(id).value {
                    NodeValue::Seq(items) => items[i],
                    v => panic!("not a list: {v:?}"),
                },
                Err(_) => tree.child(id, p).unwrap_or_else(|| panic!("no key {p}")),
            };
        }
        tree.node(id)
    }

    fn str_of<'t>(tree: &'t Tree, node: &Node) -> &'t str {
        match &node.value {
            NodeValue::Str(s) => tree.text(*s),
            v => panic!("not a string: {v:?}"),
        }
    }

    fn num_of<'t>(tree: &'t Tree, node: &Node) -> &'t str {
        match &node.value {
            NodeValue::Number(s) => tree.text(*s),
            v => panic!("not a number: {v:?}"),
        }
    }

    #[test]
    fn nested_values_with_exact_spans() {
        let text = "é: [1, \"ü\", {a: b}]\nnom:\n  - x\n  - k: v\n    l: [w]\n";
        let tree = parse(text).unwrap();
        let root = tree.node(tree.root);
        let NodeValue::Map(entries) = &root.value else {
            panic!()
        };
        assert_eq!(&*entries[0].key, "é");
        assert_eq!(entries[0].key_span, Span::new(0, 2));
        let list = at(&tree, &["é"]);
        assert_eq!(list.span, Span::new(4, 21));
        assert_eq!(slice(text, list.span), "[1, \"ü\", {a: b}]");
        assert_eq!(slice(text, at(&tree, &["é", "0"]).span), "1");
        assert_eq!(at(&tree, &["é", "1"]).span, Span::new(8, 12));
        assert_eq!(str_of(&tree, at(&tree, &["é", "1"])), "ü");
        assert_eq!(slice(text, at(&tree, &["é", "2"]).span), "{a: b}");
        assert_eq!(slice(text, at(&tree, &["é", "2", "a"]).span), "b");
        let nom = at(&tree, &["nom"]);
        assert_eq!(slice(text, nom.span), "- x\n  - k: v\n    l: [w]");
        assert_eq!(
            slice(text, at(&tree, &["nom", "1"]).span),
            "k: v\n    l: [w]"
        );
        assert_eq!(slice(text, at(&tree, &["nom", "1", "l", "0"]).span), "w");
        assert_eq!(slice(text, root.span), &text[..text.len() - 1]);
        let w = tree.child(tree.root, "nom").unwrap();
        assert_eq!(tree.node(w).parent, Some(tree.root));
    }

    #[test]
    fn scalars_resolve_with_the_core_schema() {
        let text = "a: yes\nb: no\nc: on\nd: off\ne: true\nf: False\ng: ~\nh:\ni: null\n\
                    j: 1.10\nk: 0755\nl: -3\nm: 1e3\nn: '1.10'\no: \"true\"\np: 0x1F\nq: .inf\n\
                    r: !!str 12\ns: 1.2.3\nt: .5\nu: +1\nv: y\n";
        let tree = parse(text).unwrap();
        for k in ["a", "b", "c", "d", "v"] {
            assert!(matches!(at(&tree, &[k]).value, NodeValue::Str(_)), "{k}");
        }
        assert!(matches!(at(&tree, &["e"]).value, NodeValue::Bool(true)));
        assert!(matches!(at(&tree, &["f"]).value, NodeValue::Bool(false)));
        for k in ["g", "h", "i"] {
            assert!(matches!(at(&tree, &[k]).value, NodeValue::Null), "{k}");
        }
        assert_eq!(num_of(&tree, at(&tree, &["j"])), "1.10");
        assert_eq!(num_of(&tree, at(&tree, &["k"])), "0755");
        assert_eq!(num_of(&tree, at(&tree, &["l"])), "-3");
        assert_eq!(num_of(&tree, at(&tree, &["m"])), "1e3");
        assert_eq!(num_of(&tree, at(&tree, &["t"])), ".5");
        assert_eq!(num_of(&tree, at(&tree, &["u"])), "+1");
        assert_eq!(str_of(&tree, at(&tree, &["n"])), "1.10");
        assert_eq!(slice(text, at(&tree, &["n"]).span), "'1.10'");
        assert_eq!(str_of(&tree, at(&tree, &["o"])), "true");
        assert_eq!(str_of(&tree, at(&tree, &["p"])), "0x1F");
        assert_eq!(str_of(&tree, at(&tree, &["q"])), ".inf");
        assert_eq!(str_of(&tree, at(&tree, &["r"])), "12");
        assert_eq!(str_of(&tree, at(&tree, &["s"])), "1.2.3");
        for (s, ok) in [
            ("1", true),
            ("-1.5", true),
            ("1.", true),
            ("1e-3", true),
            (".", false),
            ("-", false),
            ("1e", false),
            ("e3", false),
            ("1_000", false),
            ("", false),
        ] {
            assert_eq!(is_decimal(s), ok, "{s}");
        }
    }

    #[test]
    fn block_scalars_and_spans() {
        let text = "a: |\n  x\n\n  y\n\n# c\nb: >-\n  z\n";
        let tree = parse(text).unwrap();
        assert_eq!(str_of(&tree, at(&tree, &["a"])), "x\n\ny\n");
        assert_eq!(slice(text, at(&tree, &["a"]).span), "x\n\n  y");
        assert_eq!(str_of(&tree, at(&tree, &["b"])), "z");
        assert_eq!(slice(text, at(&tree, &["b"]).span), "z");
    }

    #[test]
    fn duplicate_keys() {
        let text = "a: 1\nb: 2\na: 3\n";
        let e = err(text);
        assert_eq!(e.code, CODE_DUPLICATE_KEY);
        assert_eq!(e.message, "duplicate key `a`");
        assert_eq!(e.span, Span::new(10, 11));
        assert_eq!(err("{x: 1, \"x\": 2}").code, CODE_DUPLICATE_KEY);
        assert!(parse("a: {x: 1}\nb: {x: 2}\n").is_ok());
        let mut big: String = (0..40).map(|i| format!("k{i}: {i}\n")).collect();
        assert!(parse(&big).is_ok());
        big.push_str("k7: 0\n");
        assert_eq!(err(&big).code, CODE_DUPLICATE_KEY);
    }

    #[test]
    fn complex_keys_are_refused() {
        let e = err("[a, b]: 1\n");
        assert_eq!(e.code, CODE_SYNTAX);
        assert_eq!(
            e.message,
            "a mapping key must be a plain value, found a list"
        );
        assert_eq!(err("? {a: 1}\n: 2\n").code, CODE_SYNTAX);
        assert_eq!(err("x: &l [1]\n*l : 2\n").code, CODE_SYNTAX);
        // A scalar alias is a fine key.
        let tree = parse("a: &k name\n*k : 2\n").unwrap();
        assert_eq!(num_of(&tree, at(&tree, &["name"])), "2");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let e = err(&"[".repeat(100_000));
        assert_eq!(e.code, CODE_TOO_DEEP);
        let e = err(&"{a: ".repeat(100_000));
        assert_eq!(e.code, CODE_TOO_DEEP);
        let e = err(&format!("{}x\n", "- ".repeat(100_000)));
        assert_eq!(e.code, CODE_TOO_DEEP);
        let block: String = (0..2_000)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        assert_eq!(err(&block).code, CODE_TOO_DEEP);
        let ok = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(parse(&ok).is_ok());
        let over = format!("{}{}", "[".repeat(65), "]".repeat(65));
        let e = err(&over);
        assert_eq!(e.code, CODE_TOO_DEEP);
        assert_eq!(e.span, Span::new(64, 65));
        // An alias can make a document too deep as well.
        let nested = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        let text = format!(
            "a: &x {nested}\nb: {}*x{}\n",
            "[".repeat(30),
            "]".repeat(30)
        );
        assert_eq!(err(&text).code, CODE_TOO_DEEP);
    }

    #[test]
    fn unclosed_and_syntax_errors() {
        let text = "é: [1, 2\n";
        let e = err(text);
        assert_eq!(e.code, CODE_SYNTAX);
        assert_eq!(
            e.message,
            "while parsing a flow sequence, expected ',' or ']'"
        );
        assert!(e.span.start <= text.len() && text.is_char_boundary(e.span.start));
        assert_eq!(err("a: {b: 1\n").code, CODE_SYNTAX);
        let e = err("a: b: c\n");
        assert_eq!(e.message, "mapping values are not allowed in this context");
        assert_eq!(e.span, Span::new(4, 5));
        let e = err("ü:\n\tb: 1\n");
        assert_eq!(e.code, CODE_SYNTAX);
        assert!(e.message.contains("tabs"), "{}", e.message);
        assert!(e.help.is_some());
        assert_eq!(e.span, Span::new(5, 6));
        let e = err("a: \"x\\qy\"\n");
        assert_eq!(e.code, CODE_SYNTAX);
        let e = err("a: *nope\n");
        assert_eq!(e.code, CODE_SYNTAX);
        assert_eq!(err("&a [*a]\n").code, CODE_SYNTAX);
    }

    #[test]
    fn documents() {
        for text in [
            "",
            "  \n",
            "# only a comment\n",
            "\u{FEFF}",
            "\u{FEFF}\n# c\n",
        ] {
            let e = err(text);
            assert_eq!(e.code, CODE_EMPTY, "{text:?}");
            assert_eq!(e.message, "the file holds no document");
        }
        let text = "a: 1\n---\nb: 2\n";
        let e = err(text);
        assert_eq!(e.code, CODE_SEVERAL_DOCUMENTS);
        assert_eq!(slice(text, e.span), "---");
        assert!(parse("---\na: 1\n...\n").is_ok());
        assert!(matches!(
            parse("---\n").unwrap().node(0).value,
            NodeValue::Null
        ));
        let tree = parse("just text").unwrap();
        assert_eq!(str_of(&tree, tree.node(0)), "just text");
    }

    #[test]
    fn bom_and_crlf() {
        let text = "\u{FEFF}é: 1\r\nb:\r\n  - \"x\"\r\n";
        let tree = parse(text).unwrap();
        let NodeValue::Map(entries) = &tree.node(tree.root).value else {
            panic!()
        };
        assert_eq!(entries[0].key_span, Span::new(3, 5));
        assert_eq!(slice(text, at(&tree, &["é"]).span), "1");
        assert_eq!(slice(text, at(&tree, &["b", "0"]).span), "\"x\"");
        assert_eq!(slice(text, at(&tree, &["b"]).span), "- \"x\"");
        let e = err("\u{FEFF}a: [\r\n");
        assert!(text.is_char_boundary(e.span.start));
    }

    #[test]
    fn aliases_are_copied() {
        let text = "base: &b\n  k: v\n  l: [1, 2]\nx: *b\ny: [*b, *b]\ns: &s text\nt: *s\n";
        let tree = parse(text).unwrap();
        assert_eq!(str_of(&tree, at(&tree, &["x", "k"])), "v");
        assert_eq!(num_of(&tree, at(&tree, &["y", "1", "l", "1"])), "2");
        assert_eq!(slice(text, at(&tree, &["x"]).span), "*b");
        assert_eq!(slice(text, at(&tree, &["y", "0", "k"]).span), "v");
        assert_eq!(str_of(&tree, at(&tree, &["t"])), "text");
        assert_eq!(slice(text, at(&tree, &["t"]).span), "*s");
        // Parents and paths of the copies point into the copies.
        let root = tree.root;
        let y = tree.child(root, "y").unwrap();
        let NodeValue::Seq(items) = &tree.node(y).value else {
            panic!()
        };
        let l = tree.child(items[1], "l").unwrap();
        assert_eq!(tree.node(l).parent, Some(items[1]));
        let NodeValue::Seq(ls) = &tree.node(l).value else {
            panic!()
        };
        assert_eq!(tree.path(ls[0]), "y[1].l[0]");
        for (i, n) in tree.nodes.iter().enumerate() {
            if let Some(p) = n.parent {
                assert!((p as usize) < i);
            }
        }
    }

    #[test]
    fn alias_bomb_is_refused_quickly() {
        let bomb =
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n\
                    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n\
                    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n\
                    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n\
                    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n\
                    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n\
                    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n\
                    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n\
                    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
        let started = std::time::Instant::now();
        let e = err(bomb);
        assert_eq!(e.code, CODE_TOO_LARGE);
        assert!(started.elapsed().as_secs() < 5);
        // Long strings copied many times hit the text budget.
        let long = "x".repeat(1 << 20);
        let text = format!("a: &a {long}\nb: [{}]\n", ["*a"; 100].join(", "));
        assert_eq!(err(&text).code, CODE_TOO_LARGE);
        let small = Limits {
            max_depth: 64,
            max_nodes: 5,
        };
        let e = parse_yaml("[1, 2, 3, 4, 5]", &small).unwrap_err();
        assert_eq!(e.code, CODE_TOO_LARGE);
        assert!(parse_yaml("[1, 2, 3, 4]", &small).is_ok());
    }

    #[test]
    fn offsets_convert_characters_to_bytes() {
        let text = "é".repeat(200) + "x";
        let o = Offsets::new(&text, 3);
        assert_eq!(o.local(&text, 0), 0);
        assert_eq!(o.local(&text, 1), 2);
        assert_eq!(o.local(&text, 64), 128);
        assert_eq!(o.local(&text, 130), 260);
        assert_eq!(o.local(&text, 200), 400);
        assert_eq!(o.local(&text, 201), 401);
        assert_eq!(o.local(&text, 5000), 401);
        // Any order agrees with a plain count.
        let mixed = "aé日😀b".repeat(100);
        let o = Offsets::new(&mixed, 0);
        let bytes: Vec<usize> = mixed.char_indices().map(|(b, _)| b).collect();
        let mut k = 7usize;
        for _ in 0..2_000 {
            k = (k * 7919 + 13) % (bytes.len() + 3);
            let want = bytes.get(k).copied().unwrap_or(mixed.len());
            assert_eq!(o.local(&mixed, k), want, "{k}");
            let k2 = (k + 1).min(bytes.len());
            let want = bytes.get(k2).copied().unwrap_or(mixed.len());
            assert_eq!(o.local(&mixed, k2), want, "{k2}");
        }
        let long = format!("k: {}\nv: \"日本\"\n", "é".repeat(1000));
        let tree = parse(&long).unwrap();
        assert_eq!(slice(&long, at(&tree, &["v"]).span), "\"日本\"");
    }

    #[test]
    fn never_panics_on_odd_input() {
        let samples = [
            "[",
            "{",
            "\"",
            "'",
            "&",
            "*",
            "!",
            "!!",
            "? ",
            ": ",
            "- ",
            "-",
            "|",
            ">",
            "%",
            "%YAML",
            "---\n...\n---",
            "a: &",
            "a: *",
            "[a: &x]",
            "{? [a]: b}",
            "é: [é",
            "\t",
            "a:\n\t- b",
            "&a a: &b b",
            "*a",
            "- *a",
            "@",
            "`",
            "a: |\n\tx",
            "\u{0}",
            "\"\\u",
            "!<",
            "a: !!str",
        ];
        for s in samples {
            let _ = parse(s);
        }
        let doc = "\u{FEFF}é: [1, 'ü', {a: &x b}]\nn:\n  - *x\n  - |\n    lit\n";
        for (i, _) in doc.char_indices() {
            let _ = parse(&doc[..i]);
        }
        assert!(parse(doc).is_ok());
    }
}
