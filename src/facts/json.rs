//! JSON and NDJSON facts files: a hand-written RFC 8259 parser that builds
//! the spanned [`Tree`] directly.
//!
//! Owns the JSON grammar (numbers kept as written, strings with every escape
//! including surrogate pairs), the rejection of duplicate keys, the depth and
//! size limits, and the splitting of an NDJSON file into one document a line.
//! The parser is iterative (an explicit stack of open containers), so no
//! input can overflow the call stack; it never panics.

use rustc_hash::FxHashSet;

use crate::facts::tree::{
    add_text, Entry, Keys, Limits, Node, NodeId, NodeValue, ParseError, Shape, Tree,
};
use crate::source::Span;
use std::sync::Arc;

pub(crate) const CODE_SYNTAX: &str = "regle::facts::syntax";
pub(crate) const CODE_DUPLICATE_KEY: &str = "regle::facts::duplicate_key";
pub(crate) const CODE_TOO_DEEP: &str = "regle::facts::too_deep";
pub(crate) const CODE_TOO_LARGE: &str = "regle::facts::too_large";
pub(crate) const CODE_EMPTY: &str = "regle::facts::empty";

/// Objects with more members than this get a hash set for duplicate keys;
/// smaller ones are scanned linearly.
const LINEAR_KEY_SCAN: usize = 16;

const BOM: &str = "\u{FEFF}";

/// Where the run of ordinary string bytes from `pos` ends: at the first
/// `"`, `\\` or control character, or at the end; eight bytes at a time.
fn ordinary_end(bytes: &[u8], mut pos: usize) -> usize {
    while let Some(chunk) = bytes.get(pos..pos + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let found = crate::swar::special(u64::from_le_bytes(word), false);
        if found != 0 {
            return pos + (found.trailing_zeros() / 8) as usize;
        }
        pos += 8;
    }
    while let Some(&b) = bytes.get(pos) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        pos += 1;
    }
    pos
}

/// Parse one JSON document. `base` is added to every span (the offset of
/// `text` in its file, for NDJSON lines).
pub fn parse_json(text: &str, base: usize, limits: &Limits) -> Result<Tree, ParseError> {
    JsonParser::new(text, base, 1, "end of file", limits).parse()
}

/// Parse an NDJSON (JSON Lines) file: one document a line, blank lines
/// skipped. Each result comes with its 1-based line number; spans are
/// offsets in the whole file.
pub fn parse_ndjson(text: &str, limits: &Limits) -> Vec<(usize, Result<Tree, ParseError>)> {
    ndjson_lines(text)
        .map(|(line, base, chunk)| (line, parse_ndjson_line(chunk, line, base, limits)))
        .collect()
}

/// Parse one line given by [`ndjson_lines`]: like [`parse_json`], but an
/// early end is reported as "end of line", and line numbers in help texts
/// are those of the file.
pub fn parse_ndjson_line(
    chunk: &str,
    line: usize,
    base: usize,
    limits: &Limits,
) -> Result<Tree, ParseError> {
    JsonParser::new(chunk, base, line, "end of line", limits).parse()
}

/// The non-blank lines of an NDJSON file, lazily: `(1-based line number,
/// byte offset of the line in the file, line text)`. The line text has no
/// line break (a `\r` before the `\n` is dropped too), and a byte order
/// mark opening the file is left out of the first line.
pub fn ndjson_lines(text: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    let (skip, body) = match text.strip_prefix(BOM) {
        Some(rest) => (BOM.len(), rest),
        None => (0, text),
    };
    let mut offset = skip;
    body.split('\n').enumerate().filter_map(move |(i, raw)| {
        let base = offset;
        offset += raw.len() + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            None
        } else {
            Some((i + 1, base, line))
        }
    })
}

#[cold]
#[inline(never)]
fn duplicate_key(key: &str, key_span: Span) -> ParseError {
    ParseError {
        code: CODE_DUPLICATE_KEY,
        message: format!("duplicate key `{key}`"),
        span: key_span,
        label: "this key appears earlier in the same object".to_string(),
        help: Some(
            "each key may appear once in a mapping; remove or rename one of them".to_string(),
        ),
    }
}

/// What the parser expects at a value position, for the error message.
#[derive(Clone, Copy)]
enum ValueCtx {
    Top,
    ArrayFirst,
    ArrayNext,
    MemberValue,
}

/// An open container. Its children so far are the tail of the parser's
/// `items` or `entries` from `start`: one stack for every open container,
/// so a container's children are copied once, at their final size, when
/// it closes (not grown and then shrunk, a few copies each). A member's
/// entry is pushed with its key, naming the node its value will be.
enum Frame {
    Array {
        id: NodeId,
        start: usize,
        /// Where the list is, for the mappings in it.
        shape: Shape,
    },
    Object {
        id: NodeId,
        start: usize,
        shape: Shape,
        /// Keys seen (by address), once the object is too big for a linear
        /// scan.
        seen: Option<Box<FxHashSet<usize>>>,
    },
}

/// The parser's working stacks, empty between documents: a thread keeps
/// them for its next document, so that they are not grown again each time.
#[derive(Default)]
struct Scratch {
    stack: Vec<Frame>,
    items: Vec<NodeId>,
    entries: Vec<Entry>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

impl Frame {
    fn id(&self) -> NodeId {
        match self {
            Frame::Array { id, .. } | Frame::Object { id, .. } => *id,
        }
    }
}

struct JsonParser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    base: usize,
    first_line: usize,
    eof_name: &'static str,
    limits: Limits,
    nodes: Vec<Node>,
    /// The texts of strings and numbers (`Tree::texts`).
    texts: String,
    stack: Vec<Frame>,
    items: Vec<NodeId>,
    entries: Vec<Entry>,
    keys: Keys,
    /// The shape of a mapping under the last key parsed.
    under: Shape,
}

type PResult<T> = Result<T, ParseError>;

/// Room a thread keeps in each of the parser's stacks, at most: a batch's
/// documents need little, one document may need any amount.
const KEPT_ROOM: usize = 4096;

/// The keys and the emptied stacks go back to the thread for its next
/// document, however the parse ended (stacks grown past `KEPT_ROOM` are
/// let go).
impl Drop for JsonParser<'_> {
    fn drop(&mut self) {
        std::mem::take(&mut self.keys).keep();
        let mut scratch = Scratch {
            stack: std::mem::take(&mut self.stack),
            items: std::mem::take(&mut self.items),
            entries: std::mem::take(&mut self.entries),
        };
        if scratch.stack.capacity() > KEPT_ROOM
            || scratch.items.capacity() > KEPT_ROOM
            || scratch.entries.capacity() > KEPT_ROOM
        {
            return;
        }
        scratch.stack.clear();
        scratch.items.clear();
        scratch.entries.clear();
        crate::facts::keep(&SCRATCH, scratch);
    }
}

impl<'a> JsonParser<'a> {
    fn new(
        text: &'a str,
        base: usize,
        first_line: usize,
        eof_name: &'static str,
        limits: &Limits,
    ) -> Self {
        let scratch: Scratch = crate::facts::take_kept(&SCRATCH);
        JsonParser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            base,
            first_line,
            eof_name,
            limits: *limits,
            // About one value in 16 bytes of JSON: no regrowing copies.
            nodes: Vec::with_capacity(text.len() / 16 + 1),
            // Scalars' texts are well under half a document's.
            texts: String::with_capacity(text.len() / 2 + 16),
            stack: scratch.stack,
            items: scratch.items,
            entries: scratch.entries,
            keys: Keys::take(),
            under: Shape::TOP,
        }
    }

    fn parse(mut self) -> PResult<Tree> {
        if self.text.starts_with(BOM) {
            self.pos = BOM.len();
        }
        self.skip_ws();
        if self.pos >= self.bytes.len() {
            return Err(ParseError {
                code: CODE_EMPTY,
                message: "the file holds no document".to_string(),
                span: Span::new(self.base, self.base + self.text.len()),
                label: "no value here".to_string(),
                help: Some("write a JSON value, such as an object `{ ... }`".to_string()),
            });
        }
        let mut ctx = ValueCtx::Top;
        loop {
            self.skip_ws();
            if self.parse_value(ctx)? {
                // A container was opened: it may close at once.
                self.skip_ws();
                match (self.stack.last(), self.peek()) {
                    (Some(Frame::Object { .. }), Some(b'}'))
                    | (Some(Frame::Array { .. }), Some(b']')) => self.close_container(),
                    (Some(Frame::Object { .. }), _) => {
                        self.parse_member_key(true)?;
                        ctx = ValueCtx::MemberValue;
                        continue;
                    }
                    _ => {
                        ctx = ValueCtx::ArrayFirst;
                        continue;
                    }
                }
            }
            match self.after_value()? {
                Some(next) => ctx = next,
                None => break,
            }
        }
        // The top value is complete.
        self.skip_ws();
        if self.pos < self.bytes.len() {
            let (found, span) = self.found(self.pos);
            let another_value = self
                .text
                .get(self.pos..)
                .is_some_and(|r| r.starts_with('{') || r.starts_with('[') || r.starts_with('"'));
            let help = if another_value && self.eof_name == "end of file" {
                Some(
                    "a JSON file holds exactly one value; for one value per line, name the file .ndjson"
                        .to_string(),
                )
            } else {
                None
            };
            return Err(self.syntax(
                format!(
                    "expected {} after the document, found {found}",
                    self.eof_name
                ),
                span,
                format!("expected {}", self.eof_name),
                help,
            ));
        }
        Ok(Tree {
            nodes: std::mem::take(&mut self.nodes),
            root: 0,
            texts: std::mem::take(&mut self.texts),
        })
    }

    /// After a complete value: consume separators and closing brackets
    /// until the next value position (returned with its context), or the
    /// end of the top value (`None`).
    fn after_value(&mut self) -> PResult<Option<ValueCtx>> {
        loop {
            self.skip_ws();
            let is_array = match self.stack.last() {
                None => return Ok(None),
                Some(Frame::Array { .. }) => true,
                Some(Frame::Object { .. }) => false,
            };
            match (self.peek(), is_array) {
                (Some(b','), true) => {
                    self.pos += 1;
                    self.skip_ws();
                    return Ok(Some(ValueCtx::ArrayNext));
                }
                (Some(b']'), true) | (Some(b'}'), false) => self.close_container(),
                (Some(b','), false) => {
                    self.pos += 1;
                    self.parse_member_key(false)?;
                    return Ok(Some(ValueCtx::MemberValue));
                }
                (_, true) => {
                    let (found, span) = self.found(self.pos);
                    let help = self.unclosed_help();
                    return Err(self.syntax(
                        format!("expected `,` or `]` after an array element, found {found}"),
                        span,
                        "expected `,` or `]`".to_string(),
                        help,
                    ));
                }
                (_, false) => {
                    let (found, span) = self.found(self.pos);
                    let help = self.unclosed_help();
                    return Err(self.syntax(
                        format!("expected `,` or `}}` after an object member, found {found}"),
                        span,
                        "expected `,` or `}`".to_string(),
                        help,
                    ));
                }
            }
        }
    }

    /// Help for an error at the end of the input inside a container.
    fn unclosed_help(&self) -> Option<String> {
        if self.pos < self.bytes.len() {
            return None;
        }
        let frame = self.stack.last()?;
        let start = self.node_start(frame.id());
        let (open, close, what) = match frame {
            Frame::Array { .. } => ('[', ']', "array"),
            Frame::Object { .. } => ('{', '}', "object"),
        };
        Some(format!(
            "the {what} `{open}` opened on line {} is never closed: add a `{close}`",
            self.line_of(start)
        ))
    }

    /// Parse the key and `:` of an object member; `first` when right after `{`.
    fn parse_member_key(&mut self, first: bool) -> PResult<()> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return Err(self.expected_key(first));
        }
        let (shape, position) = match self.stack.last() {
            Some(Frame::Object { shape, start, .. }) => {
                (*shape, self.entries.len().saturating_sub(*start))
            }
            _ => (Shape::TOP, 0),
        };
        // The key the last mapping here had, when its text is next: no
        // scan, no hash.
        let open = self.pos;
        let expected = self.keys.expected(shape, position).and_then(|(k, under)| {
            let close = open + 1 + k.len();
            let found = self.bytes.get(open + 1..close) == Some(k.as_bytes())
                && self.bytes.get(close) == Some(&b'"');
            found.then(|| (k.clone(), under, close + 1))
        });
        let (key, key_span) = match expected {
            Some((key, under, end)) => {
                self.pos = end;
                self.under = under;
                (key, self.span(open, end))
            }
            None => {
                let (text, key_span) = self.scan_string()?;
                let (key, under) = self.keys.get_in(shape, position, &text);
                self.under = under;
                (key, key_span)
            }
        };
        self.check_duplicate(&key, key_span)?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.expected_colon());
        }
        self.pos += 1;
        self.skip_ws();
        // The value is the next node added (its id checked then).
        let node = NodeId::try_from(self.nodes.len()).unwrap_or(NodeId::MAX);
        self.entries.push(Entry {
            key,
            key_span,
            node,
        });
        Ok(())
    }

    /// The errors of `parse_member_key`, apart: building them is rare, and
    /// would otherwise weigh on every key.
    #[cold]
    #[inline(never)]
    fn expected_key(&self, first: bool) -> ParseError {
        let (found, span) = self.found(self.pos);
        let (message, label) = if first {
            (
                format!("expected a string key or `}}`, found {found}"),
                "expected a key or `}`",
            )
        } else {
            (
                format!("expected a string key after `,`, found {found}"),
                "expected a key",
            )
        };
        let help = match self.peek() {
            Some(b'}') => Some("JSON does not allow a comma after the last member".to_string()),
            Some(b'\'') => Some("JSON strings are written in double quotes".to_string()),
            Some(b) if b.is_ascii_alphabetic() || b == b'_' => {
                Some("JSON keys are written in double quotes: `\"key\": value`".to_string())
            }
            _ => self.unclosed_help(),
        };
        self.syntax(message, span, label.to_string(), help)
    }

    #[cold]
    #[inline(never)]
    fn expected_colon(&self) -> ParseError {
        let (found, span) = self.found(self.pos);
        let help = self.unclosed_help();
        self.syntax(
            format!("expected `:` after an object key, found {found}"),
            span,
            "expected `:`".to_string(),
            help,
        )
    }

    /// Keys are interned (`Keys`): within a document, equal keys are the
    /// same string, compared by address.
    fn check_duplicate(&mut self, key: &Arc<str>, key_span: Span) -> PResult<()> {
        let Some(Frame::Object { start, seen, .. }) = self.stack.last_mut() else {
            return Ok(());
        };
        let entries = self.entries.get(*start..).unwrap_or(&[]);
        let address = |k: &Arc<str>| Arc::as_ptr(k) as *const u8 as usize;
        let duplicate = match seen {
            Some(set) => !set.insert(address(key)),
            None => {
                let dup = entries.iter().any(|e| Arc::ptr_eq(&e.key, key));
                if !dup && entries.len() >= LINEAR_KEY_SCAN {
                    let mut set: Box<FxHashSet<usize>> =
                        Box::new(entries.iter().map(|e| address(&e.key)).collect());
                    set.insert(address(key));
                    *seen = Some(set);
                }
                dup
            }
        };
        if duplicate {
            return Err(duplicate_key(key, key_span));
        }
        Ok(())
    }

    /// Parse the value at `self.pos`: a scalar is complete (`false`); for
    /// `[` or `{` the container is opened and pushed (`true`).
    fn parse_value(&mut self, ctx: ValueCtx) -> PResult<bool> {
        let start = self.pos;
        match self.peek() {
            Some(b'[') => {
                self.open_container(true)?;
                Ok(true)
            }
            Some(b'{') => {
                self.open_container(false)?;
                Ok(true)
            }
            Some(b'"') => {
                let (s, span) = self.scan_string()?;
                let text = add_text(&mut self.texts, &s);
                self.add_node(span, NodeValue::Str(text)).map(|_| false)
            }
            Some(b'-' | b'0'..=b'9') => {
                self.scan_number()?;
                let raw = self.text.get(start..self.pos).unwrap_or("");
                let value = NodeValue::Number(add_text(&mut self.texts, raw));
                self.add_node(self.span(start, self.pos), value)
                    .map(|_| false)
            }
            Some(b't') if self.bytes.get(start..start + 4) == Some(b"true") => {
                self.pos += 4;
                self.add_node(self.span(start, self.pos), NodeValue::Bool(true))
                    .map(|_| false)
            }
            Some(b'f') if self.bytes.get(start..start + 5) == Some(b"false") => {
                self.pos += 5;
                self.add_node(self.span(start, self.pos), NodeValue::Bool(false))
                    .map(|_| false)
            }
            Some(b'n') if self.bytes.get(start..start + 4) == Some(b"null") => {
                self.pos += 4;
                self.add_node(self.span(start, self.pos), NodeValue::Null)
                    .map(|_| false)
            }
            _ => Err(self.expected_value(ctx)),
        }
    }

    fn expected_value(&self, ctx: ValueCtx) -> ParseError {
        let (found, span) = self.found(self.pos);
        let (message, label) = match ctx {
            ValueCtx::Top => (
                format!("expected a value, found {found}"),
                "expected a value",
            ),
            ValueCtx::ArrayFirst => (
                format!("expected a value or `]`, found {found}"),
                "expected a value or `]`",
            ),
            ValueCtx::ArrayNext => (
                format!("expected a value after `,`, found {found}"),
                "expected a value",
            ),
            ValueCtx::MemberValue => (
                format!("expected a value after `:`, found {found}"),
                "expected a value",
            ),
        };
        let rest = self.text.get(self.pos..).unwrap_or("");
        let help = if matches!(ctx, ValueCtx::ArrayNext) && rest.starts_with(']') {
            Some("JSON does not allow a comma after the last element".to_string())
        } else if rest.starts_with('\'') {
            Some("JSON strings are written in double quotes".to_string())
        } else if rest.starts_with("//") || rest.starts_with("/*") {
            Some("JSON does not allow comments".to_string())
        } else if ["NaN", "Infinity", "+", "."]
            .iter()
            .any(|p| rest.starts_with(p))
        {
            Some("JSON numbers are written like `12`, `-0.5` or `1e3`".to_string())
        } else if rest.starts_with(|c: char| c.is_alphabetic()) {
            Some(
                "text is written in double quotes; the only bare words are `true`, `false` and `null`"
                    .to_string(),
            )
        } else {
            self.unclosed_help()
        };
        self.syntax(message, span, label.to_string(), help)
    }

    fn open_container(&mut self, array: bool) -> PResult<()> {
        let start = self.pos;
        if self.stack.len() >= self.limits.max_depth {
            return Err(ParseError {
                code: CODE_TOO_DEEP,
                message: format!(
                    "the document nests arrays and objects more than {} deep",
                    self.limits.max_depth
                ),
                span: self.span(start, start + 1),
                label: "too deep".to_string(),
                help: Some(
                    "flatten the data: facts files are not meant to nest this deep".to_string(),
                ),
            });
        }
        self.pos += 1;
        let value = if array {
            NodeValue::Seq(Box::default())
        } else {
            NodeValue::Map(Box::default())
        };
        let shape = match self.stack.last() {
            None => Shape::TOP,
            Some(Frame::Array { shape, .. }) => *shape,
            Some(Frame::Object { .. }) => self.under,
        };
        let id = self.add_node(self.span(start, self.pos), value)?;
        self.stack.push(if array {
            Frame::Array {
                id,
                start: self.items.len(),
                shape,
            }
        } else {
            Frame::Object {
                id,
                start: self.entries.len(),
                shape,
                seen: None,
            }
        });
        Ok(())
    }

    /// Close the innermost container at `self.pos` (its `]` or `}`).
    fn close_container(&mut self) {
        self.pos += 1;
        let end = self.base + self.pos;
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let (id, value) = match frame {
            Frame::Array { id, start, .. } => {
                let items = self.items.get(start..).unwrap_or(&[]).into();
                self.items.truncate(start);
                (id, NodeValue::Seq(items))
            }
            Frame::Object { id, start, .. } => {
                // Moved in one copy (a drain moves them one by one), but
                // from the start the buffer itself would go, not kept for
                // the thread's next document.
                let entries = if start == 0 {
                    self.entries.drain(..).collect()
                } else {
                    self.entries.split_off(start).into_boxed_slice()
                };
                (id, NodeValue::Map(entries))
            }
        };
        if let Some(node) = self.nodes.get_mut(id as usize) {
            node.span.end = end;
            node.value = value;
        }
    }

    /// Append a node, child of the innermost open container.
    fn add_node(&mut self, span: Span, value: NodeValue) -> PResult<NodeId> {
        let id = match NodeId::try_from(self.nodes.len()) {
            Ok(id) if self.nodes.len() < self.limits.max_nodes => id,
            _ => {
                return Err(ParseError {
                    code: CODE_TOO_LARGE,
                    message: format!(
                        "the document holds more than {} values",
                        self.limits.max_nodes
                    ),
                    span,
                    label: "over the limit from here".to_string(),
                    help: Some("split the data into several smaller documents".to_string()),
                })
            }
        };
        let parent = match self.stack.last_mut() {
            None => None,
            Some(Frame::Array { id: p, .. }) => {
                self.items.push(id);
                Some(*p)
            }
            // The member's entry was pushed with its key.
            Some(Frame::Object { id: p, .. }) => Some(*p),
        };
        self.nodes.push(Node {
            span,
            parent,
            value,
        });
        Ok(id)
    }

    /// A string's text, borrowed from the source when it has no escape.
    fn scan_string(&mut self) -> PResult<(std::borrow::Cow<'a, str>, Span)> {
        let open = self.pos;
        // Most strings have no escape, and end at the first special byte.
        let end = ordinary_end(self.bytes, open + 1);
        if self.bytes.get(end) == Some(&b'"') {
            if let Some(s) = self.text.get(open + 1..end) {
                self.pos = end + 1;
                return Ok((std::borrow::Cow::Borrowed(s), self.span(open, self.pos)));
            }
        }
        self.scan_string_escaped()
    }

    /// `scan_string` for a string with an escape, or an error.
    #[inline(never)]
    fn scan_string_escaped(&mut self) -> PResult<(std::borrow::Cow<'a, str>, Span)> {
        let open = self.pos;
        self.pos += 1;
        let mut run = self.pos;
        let mut buf: Option<String> = None;
        loop {
            // Advance over ordinary bytes.
            self.pos = ordinary_end(self.bytes, self.pos);
            let chunk = self.text.get(run..self.pos).unwrap_or("");
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    let span = self.span(open, self.pos);
                    let s = match buf {
                        Some(mut b) => {
                            b.push_str(chunk);
                            std::borrow::Cow::Owned(b)
                        }
                        None => std::borrow::Cow::Borrowed(chunk),
                    };
                    return Ok((s, span));
                }
                Some(b'\\') => {
                    let b = buf.get_or_insert_with(String::new);
                    b.push_str(chunk);
                    let c = self.parse_escape()?;
                    if let Some(b) = buf.as_mut() {
                        b.push(c);
                    }
                    run = self.pos;
                }
                Some(b) if b == b'\n' || b == b'\r' => {
                    return Err(self.syntax(
                        "unterminated string: expected a closing `\"`, found a line break"
                            .to_string(),
                        self.span(open, self.pos),
                        "this string is never closed".to_string(),
                        Some(
                            "a JSON string cannot span lines: close it with `\"`, or write a line break as `\\n`"
                                .to_string(),
                        ),
                    ));
                }
                Some(b) => {
                    let help = if b == b'\t' {
                        "write a tab as `\\t`".to_string()
                    } else {
                        format!("write it as `\\u{b:04x}`")
                    };
                    return Err(self.syntax(
                        format!("control character U+{b:04X} in a string"),
                        self.span(self.pos, self.pos + 1),
                        "control character".to_string(),
                        Some(help),
                    ));
                }
                None => {
                    return Err(self.syntax(
                        format!(
                            "unterminated string: expected a closing `\"`, found {}",
                            self.eof_name
                        ),
                        self.span(open, self.pos),
                        "this string is never closed".to_string(),
                        Some("close the string with `\"`".to_string()),
                    ));
                }
            }
        }
    }

    /// Parse an escape at `self.pos` (on the backslash).
    fn parse_escape(&mut self) -> PResult<char> {
        let start = self.pos;
        let Some(&e) = self.bytes.get(start + 1) else {
            self.pos = start + 1;
            return Err(self.syntax(
                format!(
                    "unterminated string: expected an escape after `\\`, found {}",
                    self.eof_name
                ),
                self.span(start, start + 1),
                "incomplete escape".to_string(),
                None,
            ));
        };
        self.pos = start + 2;
        let c = match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4(start)?;
                if (0xDC00..0xE000).contains(&hi) {
                    return Err(self.lone_surrogate(start, hi));
                }
                if (0xD800..0xDC00).contains(&hi) {
                    let second = self.pos;
                    if self.bytes.get(second..second + 2) != Some(b"\\u") {
                        return Err(self.lone_surrogate(start, hi));
                    }
                    self.pos = second + 2;
                    let lo = self.hex4(second)?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return Err(self.lone_surrogate(start, hi));
                    }
                    let code = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    char::from_u32(code).unwrap_or('\u{FFFD}')
                } else {
                    char::from_u32(hi).unwrap_or('\u{FFFD}')
                }
            }
            _ => {
                let shown = self
                    .text
                    .get(start + 1..)
                    .and_then(|r| r.chars().next())
                    .unwrap_or('?');
                let end = start + 1 + shown.len_utf8();
                let shown = if shown.is_control() {
                    format!("\\ followed by U+{:04X}", u32::from(shown))
                } else {
                    format!("\\{shown}")
                };
                return Err(self.syntax(
                    format!("invalid escape `{shown}` in a string"),
                    self.span(start, end),
                    "invalid escape".to_string(),
                    Some(
                        "the escapes are `\\\"`, `\\\\`, `\\/`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t` and `\\uXXXX`; write a backslash as `\\\\`"
                            .to_string(),
                    ),
                ));
            }
        };
        Ok(c)
    }

    /// Read the four hex digits of a `\u` escape starting at `start`
    /// (`self.pos` is right after the `u`).
    fn hex4(&mut self, start: usize) -> PResult<u32> {
        let mut value = 0u32;
        for _ in 0..4 {
            let digit = self
                .bytes
                .get(self.pos)
                .and_then(|&b| (b as char).to_digit(16));
            match digit {
                Some(d) => {
                    value = value * 16 + d;
                    self.pos += 1;
                }
                None => {
                    let (found, _) = self.found(self.pos);
                    let end = self.char_end(self.pos);
                    return Err(self.syntax(
                        format!("expected four hex digits after `\\u`, found {found}"),
                        self.span(start, end),
                        "invalid `\\u` escape".to_string(),
                        Some(
                            "a `\\u` escape is written with four hex digits, as `\\u00e9`"
                                .to_string(),
                        ),
                    ));
                }
            }
        }
        Ok(value)
    }

    fn lone_surrogate(&self, start: usize, code: u32) -> ParseError {
        self.syntax(
            format!("lone surrogate `\\u{code:04X}` in a string"),
            self.span(start, start + 6),
            "not a character on its own".to_string(),
            Some(
                "a character outside the basic plane is written as a pair, high then low, as `\\ud83d\\ude00`"
                    .to_string(),
            ),
        )
    }

    /// Check the JSON number grammar from `self.pos`, advancing past it.
    fn scan_number(&mut self) -> PResult<()> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    return Err(self.syntax(
                        "a number cannot start with a leading zero".to_string(),
                        self.span(self.pos - 1, self.pos),
                        "leading zero".to_string(),
                        Some(
                            "write the number without leading zeros, or in quotes if it is a code"
                                .to_string(),
                        ),
                    ));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.number_error("a digit after `-`")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err(self.number_error("a digit after the decimal point"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err(self.number_error("a digit in the exponent"));
            }
            self.digits();
        }
        Ok(())
    }

    fn number_error(&self, expected: &str) -> ParseError {
        let (found, span) = self.found(self.pos);
        self.syntax(
            format!("expected {expected}, found {found}"),
            span,
            format!("expected {expected}"),
            None,
        )
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.base + start, self.base + end)
    }

    fn node_start(&self, id: NodeId) -> usize {
        self.nodes
            .get(id as usize)
            .map_or(0, |n| n.span.start.saturating_sub(self.base))
    }

    /// 1-based line (in the file) of a local offset.
    fn line_of(&self, at: usize) -> usize {
        let before = self.bytes.get(..at).unwrap_or(self.bytes);
        self.first_line + before.iter().filter(|&&b| b == b'\n').count()
    }

    /// The end of the character starting at (or containing) `at`.
    fn char_end(&self, at: usize) -> usize {
        let at = self.floor_boundary(at);
        at + self
            .text
            .get(at..)
            .and_then(|r| r.chars().next())
            .map_or(0, char::len_utf8)
    }

    fn floor_boundary(&self, at: usize) -> usize {
        let mut at = at.min(self.text.len());
        while at > 0 && !self.text.is_char_boundary(at) {
            at -= 1;
        }
        at
    }

    /// Describe what stands at `at` for "found ...", with its span: a word
    /// as a whole, a character on its own, or the end of the input.
    fn found(&self, at: usize) -> (String, Span) {
        let at = self.floor_boundary(at);
        let rest = self.text.get(at..).unwrap_or("");
        let Some(c) = rest.chars().next() else {
            return (self.eof_name.to_string(), self.span(at, at));
        };
        if c.is_alphanumeric() || c == '_' {
            let mut end = 0;
            for (n, (i, ch)) in rest.char_indices().enumerate() {
                if n >= 24 || !(ch.is_alphanumeric() || ch == '_' || ch == '.') {
                    break;
                }
                end = i + ch.len_utf8();
            }
            let word = rest.get(..end).unwrap_or("");
            return (format!("`{word}`"), self.span(at, at + end));
        }
        let span = self.span(at, at + c.len_utf8());
        let shown = match c {
            '\n' | '\r' => "a line break".to_string(),
            c if c.is_control() => format!("control character U+{:04X}", u32::from(c)),
            '`' => "a backquote".to_string(),
            c => format!("`{c}`"),
        };
        (shown, span)
    }

    fn syntax(
        &self,
        message: String,
        span: Span,
        label: String,
        help: Option<String>,
    ) -> ParseError {
        ParseError {
            code: CODE_SYNTAX,
            message,
            span,
            label,
            help,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn parse(text: &str) -> Result<Tree, ParseError> {
        parse_json(text, 0, &Limits::default())
    }

    proptest::proptest! {
        /// The word-at-a-time scan stops where a byte-by-byte one does:
        /// at the first quote, backslash or control character.
        #[test]
        fn a_strings_ordinary_run_ends_at_its_first_special_byte(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::Just(b'"'),
                    proptest::prelude::Just(b'\\'),
                    0u8..0x20,
                    0x20u8..=0xff,
                    0x20u8..=0xff,
                    0x20u8..=0xff,
                ],
                0..40,
            ),
            start in 0usize..40,
        ) {
            let start = start.min(bytes.len());
            let naive = bytes
                .iter()
                .skip(start)
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .map_or(bytes.len(), |i| start + i);
            proptest::prop_assert_eq!(ordinary_end(&bytes, start), naive);
        }
    }

    fn err(text: &str) -> ParseError {
        match parse(text) {
            Ok(t) => panic!("expected an error for {text:?}, got {t:?}"),
            Err(e) => e,
        }
    }

    fn value(tree: &Tree, id: NodeId) -> &NodeValue {
        &tree.node(id).value
    }

    fn slice(text: &str, span: Span) -> &str {
        &text[span.start..span.end]
    }

    /// A thread keeps the room its stacks grew to for a batch's documents,
    /// not that of a document with a very long list or mapping.
    #[test]
    fn stacks_keep_the_room_of_small_documents_only() {
        std::thread::spawn(|| {
            let room = || {
                let kept: Scratch = crate::facts::take_kept(&SCRATCH);
                let room = kept.items.capacity();
                crate::facts::keep(&SCRATCH, kept);
                room
            };
            parse(&format!("[{}]", ["1"; 100].join(","))).unwrap();
            assert!(room() >= 100);
            parse(&format!("[{}]", ["1"; KEPT_ROOM + 1].join(","))).unwrap();
            assert_eq!(room(), 0);
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
    }

    /// A document parsed after one that failed inside open containers
    /// (its stacks kept for the thread) parses as it would have first.
    #[test]
    fn a_failed_document_leaves_nothing_to_the_next() {
        std::thread::spawn(|| {
            let text = r#"{"a": [1, {"b": 2}], "c": {"d": null}}"#;
            let first = format!("{:?}", parse(text).unwrap());
            assert!(parse(r#"{"x": [1, {"y": [true, {"z": "#).is_err());
            assert_eq!(format!("{:?}", parse(text).unwrap()), first);
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
    }

    /// A key is read the same whether or not the last mapping at the same
    /// place had it: a key written with escapes, or one that only starts
    /// like the expected one, is scanned.
    #[test]
    fn keys_read_by_shape_are_the_keys_written() {
        std::thread::spawn(|| {
            let keys = |text: &str| -> Vec<String> {
                let tree = parse(text).unwrap();
                let NodeValue::Map(entries) = value(&tree, tree.root) else {
                    panic!("not a map")
                };
                entries.iter().map(|e| e.key.to_string()).collect()
            };
            assert_eq!(keys(r#"{"ab": 1, "c\\": 2}"#), ["ab", "c\\"]);
            assert_eq!(keys(r#"{"abc": 1, "c\\": 2}"#), ["abc", "c\\"]);
            assert_eq!(keys(r#"{"a": 1, "c\\": 2}"#), ["a", "c\\"]);
            assert_eq!(keys(r#"{"a\u0062c": 1, "c\\": 2}"#), ["abc", "c\\"]);
            let e = parse(r#"{"a": 1, "c\": 2}"#).unwrap_err();
            assert!(
                e.message.starts_with("unterminated string"),
                "{}",
                e.message
            );
            for _ in 0..2 {
                let tree = parse(r#"{"a": 1, "ab": {"b": 2}}"#).unwrap();
                let NodeValue::Map(entries) = value(&tree, tree.root) else {
                    panic!("not a map")
                };
                assert_eq!(entries[1].key_span, Span::new(9, 13));
                assert_eq!(tree.node(entries[1].node).span, Span::new(15, 23));
                assert!(tree.child(entries[1].node, "b").is_some());
            }
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
    }

    #[test]
    fn nested_values_with_exact_spans() {
        let text = "{\"é\": [1, {\"k\": \"v\"}], \"n\": null}";
        let tree = parse(text).unwrap();
        let root = tree.node(tree.root);
        assert_eq!(root.span, Span::new(0, text.len()));
        let NodeValue::Map(entries) = &root.value else {
            panic!("not a map")
        };
        assert_eq!(&*entries[0].key, "é");
        // `{` then `"é"`: the key is 4 bytes with its quotes (é is 2 bytes).
        assert_eq!(entries[0].key_span, Span::new(1, 5));
        let list = tree.node(entries[0].node);
        assert_eq!(slice(text, list.span), "[1, {\"k\": \"v\"}]");
        assert_eq!(list.span, Span::new(7, 22));
        let NodeValue::Seq(items) = &list.value else {
            panic!("not a list")
        };
        assert_eq!(tree.node(items[0]).span, Span::new(8, 9));
        let inner = tree.node(items[1]);
        assert_eq!(slice(text, inner.span), "{\"k\": \"v\"}");
        let v = tree.child(items[1], "k").unwrap();
        assert_eq!(slice(text, tree.node(v).span), "\"v\"");
        assert!(matches!(value(&tree, v), NodeValue::Str(s) if tree.text(*s) == "v"));
        assert_eq!(tree.node(v).parent, Some(items[1]));
        assert_eq!(tree.path(v), "é[1].k");
        let n = tree.child(tree.root, "n").unwrap();
        assert!(matches!(value(&tree, n), NodeValue::Null));
        assert_eq!(slice(text, tree.node(n).span), "null");
    }

    #[test]
    fn numbers_keep_their_text() {
        let tree = parse("[1.10, -0, 0.5e-3, 1E+2, 123456789012345678901234567890]").unwrap();
        let NodeValue::Seq(items) = value(&tree, tree.root) else {
            panic!()
        };
        let raws: Vec<&str> = items
            .iter()
            .map(|&i| match value(&tree, i) {
                NodeValue::Number(r) => tree.text(*r),
                _ => "?",
            })
            .collect();
        assert_eq!(
            raws,
            [
                "1.10",
                "-0",
                "0.5e-3",
                "1E+2",
                "123456789012345678901234567890"
            ]
        );
    }

    #[test]
    fn bad_numbers() {
        for bad in [
            "01", "-", "1.", "1.e3", "1e", "1e+", "+1", ".5", "-a", "NaN", "Infinity",
        ] {
            let e = err(bad);
            assert_eq!(e.code, CODE_SYNTAX, "{bad}");
        }
        assert_eq!(
            err("1.").message,
            "expected a digit after the decimal point, found end of file"
        );
        assert_eq!(err("01").span, Span::new(0, 1));
    }

    #[test]
    fn literals_and_scalars_at_top() {
        assert!(matches!(
            value(&parse(" true ").unwrap(), 0),
            NodeValue::Bool(true)
        ));
        assert!(matches!(
            value(&parse("false").unwrap(), 0),
            NodeValue::Bool(false)
        ));
        let tree = parse("\"x\"").unwrap();
        assert!(matches!(value(&tree, 0), NodeValue::Str(s) if tree.text(*s) == "x"));
        let e = err("[tru]");
        assert_eq!(e.message, "expected a value or `]`, found `tru`");
        assert_eq!(e.span, Span::new(1, 4));
        let e = err("{\"a\": yes}");
        assert_eq!(e.message, "expected a value after `:`, found `yes`");
    }

    #[test]
    fn duplicate_keys() {
        let text = "{\"a\": 1, \"b\": 2, \"a\": 3}";
        let e = err(text);
        assert_eq!(e.code, CODE_DUPLICATE_KEY);
        assert_eq!(e.message, "duplicate key `a`");
        assert_eq!(e.span, Span::new(17, 20));
        // Escapes are compared decoded.
        assert_eq!(err("{\"a\": 1, \"\\u0061\": 2}").code, CODE_DUPLICATE_KEY);
        // Same key in different objects is fine.
        assert!(parse("{\"a\": {\"a\": 1}, \"b\": {\"a\": 2}}").is_ok());
        // Big objects (hash set path).
        let mut big: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
        assert!(parse(&format!("{{{}}}", big.join(","))).is_ok());
        big.push("\"k3\": 0".to_string());
        assert_eq!(
            err(&format!("{{{}}}", big.join(","))).code,
            CODE_DUPLICATE_KEY
        );
        big.pop();
        big.push("\"k39\": 0".to_string());
        assert_eq!(
            err(&format!("{{{}}}", big.join(","))).code,
            CODE_DUPLICATE_KEY
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let deep = "[".repeat(100_000);
        let e = err(&deep);
        assert_eq!(e.code, CODE_TOO_DEEP);
        assert_eq!(e.span, Span::new(64, 65));
        let deep = "{\"a\":".repeat(100_000);
        assert_eq!(err(&deep).code, CODE_TOO_DEEP);
        // With a huge limit the explicit stack still copes.
        let limits = Limits {
            max_depth: 1_000_000,
            max_nodes: 1_000_000,
        };
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let tree = parse_json(&text, 0, &limits).unwrap();
        assert_eq!(tree.nodes.len(), 100_000);
        // Exactly at the limit is fine.
        let ok = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(parse(&ok).is_ok());
        let over = format!("{}{}", "[".repeat(65), "]".repeat(65));
        assert_eq!(err(&over).code, CODE_TOO_DEEP);
    }

    #[test]
    fn too_many_nodes() {
        let limits = Limits {
            max_depth: 64,
            max_nodes: 10,
        };
        let text = format!("[{}]", ["1"; 9].join(","));
        assert!(parse_json(&text, 0, &limits).is_ok());
        let text = format!("[{}]", ["1"; 10].join(","));
        let e = parse_json(&text, 0, &limits).unwrap_err();
        assert_eq!(e.code, CODE_TOO_LARGE);
    }

    #[test]
    fn unclosed_containers() {
        let e = err("[1, 2");
        assert_eq!(e.code, CODE_SYNTAX);
        assert_eq!(
            e.message,
            "expected `,` or `]` after an array element, found end of file"
        );
        assert_eq!(e.span, Span::new(5, 5));
        assert!(e.help.unwrap().contains("line 1"));
        let e = err("{\"a\": 1\n");
        assert_eq!(
            e.message,
            "expected `,` or `}` after an object member, found end of file"
        );
        let e = err("{\"a\": 1 \"b\": 2}");
        assert_eq!(
            e.message,
            "expected `,` or `}` after an object member, found `\"`"
        );
        assert_eq!(e.span, Span::new(8, 9));
        let e = err("{\"a\" 1}");
        assert_eq!(e.message, "expected `:` after an object key, found `1`");
        let e = err("[1,]");
        assert_eq!(e.message, "expected a value after `,`, found `]`");
        assert!(e.help.is_some());
        let e = err("{\"a\": 1,}");
        assert_eq!(e.message, "expected a string key after `,`, found `}`");
        let e = err("{a: 1}");
        assert_eq!(e.message, "expected a string key or `}`, found `a`");
        let e = err("[1] [2]");
        assert_eq!(
            e.message,
            "expected end of file after the document, found `[`"
        );
        assert_eq!(e.span, Span::new(4, 5));
        let e = err("[1, 2]]");
        assert_eq!(
            e.message,
            "expected end of file after the document, found `]`"
        );
    }

    #[test]
    fn strings_and_escapes() {
        let tree = parse(r#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00""#).unwrap();
        assert!(
            matches!(value(&tree, 0), NodeValue::Str(s) if tree.text(*s) == "a\"b\\c/d\u{8}\u{c}\n\r\té😀")
        );
        let e = err(r#""a\x""#);
        assert_eq!(e.message, "invalid escape `\\x` in a string");
        assert_eq!(e.span, Span::new(2, 4));
        // A multibyte character after the backslash: the span ends on its boundary.
        let e = err("\"\\é\"");
        assert_eq!(e.span, Span::new(1, 4));
        assert_eq!(err(r#""\ud83d""#).code, CODE_SYNTAX);
        assert!(err(r#""\ud83d""#).message.contains("lone surrogate"));
        assert!(err(r#""\ude00x""#).message.contains("lone surrogate"));
        assert!(err(r#""\ud83d\u0041""#).message.contains("lone surrogate"));
        assert!(err(r#""\u12G4""#).message.contains("four hex digits"));
        assert!(err(r#""\u12"#).message.contains("four hex digits"));
        let e = err("\"a\tb\"");
        assert_eq!(e.message, "control character U+0009 in a string");
        assert_eq!(e.span, Span::new(2, 3));
        let e = err("{\"a\": \"open\n}");
        assert!(
            e.message.starts_with("unterminated string"),
            "{}",
            e.message
        );
        assert_eq!(e.span, Span::new(6, 11));
        let e = err("\"open");
        assert_eq!(
            e.message,
            "unterminated string: expected a closing `\"`, found end of file"
        );
        assert_eq!(err("\"\\").code, CODE_SYNTAX);
        assert_eq!(err("'a'").message, "expected a value, found `'`");
        // Multibyte content is sliced correctly.
        let tree = parse("\"日本\\n語\"").unwrap();
        assert!(matches!(value(&tree, 0), NodeValue::Str(s) if tree.text(*s) == "日本\n語"));
    }

    #[test]
    fn empty_input() {
        for text in ["", "   \n\t ", "\u{FEFF}", "\u{FEFF}  \r\n"] {
            let e = err(text);
            assert_eq!(e.code, CODE_EMPTY, "{text:?}");
            assert_eq!(e.message, "the file holds no document");
        }
    }

    #[test]
    fn bom_and_crlf() {
        let text = "\u{FEFF}{\r\n  \"a\": [1,\r\n 2]\r\n}\r\n";
        let tree = parse(text).unwrap();
        assert_eq!(tree.node(tree.root).span.start, 3);
        let a = tree.child(tree.root, "a").unwrap();
        assert_eq!(slice(text, tree.node(a).span), "[1,\r\n 2]");
        // A BOM anywhere else is an error.
        assert_eq!(err("[\u{FEFF}1]").code, CODE_SYNTAX);
        let e = err("[\u{FEFF}1]");
        assert_eq!(e.span, Span::new(1, 4));
    }

    #[test]
    fn never_panics_on_odd_input() {
        let samples = [
            "[",
            "{",
            "\"",
            "\\",
            "[\"\\u",
            "{\"a\"",
            "{\"a\":",
            "-",
            "é",
            "[é]",
            "{\"é\":é}",
            "\u{0}",
            "[1,",
            "[,",
            "{,",
            "}",
            "]",
            "nul",
            "tru",
            "\"\\u d800\"",
            "[-]",
            "1e5x",
            "\"\\ud800\\",
            "\"\\ud800\\u",
            "\"\\ud800\\udc0",
            "[\"\u{1F600}\\",
            "{\"\":{\"\":[]}}",
        ];
        for s in samples {
            let _ = parse(s);
            let _ = parse_ndjson(s, &Limits::default());
        }
        // Every prefix of a valid document.
        let doc = "\u{FEFF}{\"é\": [1.5e3, true, null, \"x\\u00e9\\ud83d\\ude00\"], \"b\": {}}";
        for (i, _) in doc.char_indices() {
            let _ = parse(&doc[..i]);
        }
        assert!(parse(doc).is_ok());
    }

    #[test]
    fn base_offset_shifts_spans() {
        let tree = parse_json("{\"a\": 1}", 100, &Limits::default()).unwrap();
        assert_eq!(tree.node(0).span, Span::new(100, 108));
        let Some(a) = tree.child(0, "a") else {
            panic!()
        };
        assert_eq!(tree.node(a).span, Span::new(106, 107));
        let e = parse_json("[1 2]", 100, &Limits::default()).unwrap_err();
        assert_eq!(e.span, Span::new(103, 104));
    }

    #[test]
    fn ndjson_lines_and_offsets() {
        let text = "\u{FEFF}{\"a\": 1}\r\n\n   \r\n[\"é\", 2]\n{\"b\": \n\"x\"\n";
        let lines: Vec<(usize, usize, &str)> = ndjson_lines(text).collect();
        assert_eq!(
            lines,
            vec![
                (1, 3, "{\"a\": 1}"),
                (4, 19, "[\"é\", 2]"),
                (5, 29, "{\"b\": "),
                (6, 36, "\"x\""),
            ]
        );
        let results = parse_ndjson(text, &Limits::default());
        assert_eq!(results.len(), 4);
        assert_eq!(results[0].0, 1);
        let t0 = results[0].1.as_ref().unwrap();
        assert_eq!(slice(text, t0.node(0).span), "{\"a\": 1}");
        let t1 = results[1].1.as_ref().unwrap();
        assert_eq!(results[1].0, 4);
        let NodeValue::Seq(items) = &t1.node(0).value else {
            panic!()
        };
        assert_eq!(slice(text, t1.node(items[1]).span), "2");
        assert_eq!(t1.node(items[1]).span, Span::new(26, 27));
        let (line, r2) = &results[2];
        assert_eq!(*line, 5);
        let e = r2.as_ref().unwrap_err();
        assert_eq!(e.message, "expected a value after `:`, found end of line");
        assert_eq!(e.span, Span::new(35, 35));
        let e = parse_ndjson("\n\n[1,\n", &Limits::default()).remove(0);
        assert_eq!(e.0, 3);
        let e = e.1.unwrap_err();
        assert_eq!(e.message, "expected a value after `,`, found end of line");
        assert!(e.help.unwrap().contains("line 3"));
        let e = parse_ndjson("\n\n[[1]\n", &Limits::default())
            .remove(0)
            .1
            .unwrap_err();
        assert!(e.help.unwrap().contains("line 3"));
        assert!(parse_ndjson("", &Limits::default()).is_empty());
        assert!(parse_ndjson(" \n\r\n", &Limits::default()).is_empty());
        let no_newline: Vec<_> = ndjson_lines("1\n2").collect();
        assert_eq!(no_newline, vec![(1, 0, "1"), (2, 2, "2")]);
    }
}
