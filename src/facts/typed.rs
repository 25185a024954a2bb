//! Facts read against the policy's declared shape: the untyped tree of a
//! JSON or YAML document to typed values. Every mismatch (unknown field,
//! wrong type, missing field, impossible date, unknown enum value) is a
//! diagnostic naming the file, the fact's path and its line.

use super::tree::{NodeId, NodeValue, Tree};
use crate::diag::{did_you_mean, Diagnostic};
use crate::ir::value::{date, DocRef, List, Map, Origin, Record, Text, VersionValue};
use crate::ir::{Policy, Type, Value};
use crate::source::Source;
use std::sync::{Arc, OnceLock};

/// Most diagnostics reported for one document; past it, one more says so.
const MAX_ERRORS: usize = 50;

pub struct Reader<'p> {
    policy: &'p Policy,
    tree: &'p Tree,
    source: &'p Source,
    doc: DocRef,
    pub diags: Vec<Diagnostic>,
    /// Texts read so far, shared: facts repeat names, codes and versions.
    texts: rustc_hash::FxHashSet<Text>,
    /// Versions read so far, by their text: a registry repeats them.
    versions: rustc_hash::FxHashMap<Box<str>, Arc<VersionValue>>,
    /// The node of each field of the records being read, innermost last.
    slots: Vec<Option<NodeId>>,
}

/// The texts and versions a thread's last document read, kept for its next
/// one: the documents of a batch repeat many (publishers, versions, codes),
/// found again without being copied, hashed into a new set or parsed.
#[derive(Default)]
struct Kept {
    texts: rustc_hash::FxHashSet<Text>,
    versions: rustc_hash::FxHashMap<Box<str>, Arc<VersionValue>>,
}

/// Texts and versions a thread keeps, at most (a registry holds more:
/// those are let go with it).
const KEPT_TEXTS: usize = 8192;
const KEPT_VERSIONS: usize = 2048;

thread_local! {
    static KEPT: std::cell::RefCell<Kept> = std::cell::RefCell::new(Kept::default());
}

/// What the reader read goes back to the thread, however it ended. When
/// it is too much, the sets go back emptied, so that a long batch does not
/// grow them again from nothing each time they fill (unless they grew far
/// beyond, as a registry's do).
impl Drop for Reader<'_> {
    fn drop(&mut self) {
        let mut kept = Kept {
            texts: std::mem::take(&mut self.texts),
            versions: std::mem::take(&mut self.versions),
        };
        if kept.texts.len() > KEPT_TEXTS || kept.versions.len() > KEPT_VERSIONS {
            if kept.texts.capacity() > 2 * KEPT_TEXTS
                || kept.versions.capacity() > 2 * KEPT_VERSIONS
            {
                return;
            }
            kept.texts.clear();
            kept.versions.clear();
        }
        super::keep(&KEPT, kept);
    }
}

/// Read the top-level mapping of a document as the policy's inputs of one
/// kind (`registry` or not): one value per input, by input index (`None`
/// for inputs of the other kind).
pub fn read_document(
    policy: &Policy,
    tree: &Tree,
    source: &Source,
    registry: bool,
) -> Result<Vec<Option<Value>>, Vec<Diagnostic>> {
    let kept: Kept = super::take_kept(&KEPT);
    let mut r = Reader {
        policy,
        tree,
        source,
        doc: if registry {
            DocRef::Registry
        } else {
            DocRef::Input
        },
        diags: Vec::new(),
        texts: kept.texts,
        versions: kept.versions,
        slots: Vec::new(),
    };
    let root = tree.root;
    let wanted: Vec<(usize, &str, &Type)> = policy
        .inputs
        .iter()
        .enumerate()
        .filter(|(_, i)| i.registry == registry)
        .map(|(n, i)| (n, i.name.as_str(), &i.ty))
        .collect();
    let mut out = vec![None; policy.inputs.len()];
    let NodeValue::Map(entries) = &tree.node(root).value else {
        let names: Vec<String> = wanted.iter().map(|w| format!("`{}`", w.1)).collect();
        r.error(
            root,
            "regle::facts::not_a_mapping",
            format!("the document must be a mapping with {}", names.join(", ")),
            format!("found {}", tree.node(root).value.kind_name()),
            None,
        );
        return Err(std::mem::take(&mut r.diags));
    };
    for e in entries {
        if !wanted.iter().any(|w| w.1 == &*e.key) {
            let help = did_you_mean(&e.key, wanted.iter().map(|w| w.1));
            let d = Diagnostic::error(
                "regle::facts::unknown_field",
                format!("unknown top-level field `{}`", e.key),
            )
            .at(source, e.key_span, "not expected here")
            .help_opt(help);
            r.diags.push(d);
        }
    }
    for (idx, name, ty) in wanted {
        match tree.child(root, name) {
            Some(node) => {
                let v = r.value(node, ty);
                if let Some(slot) = out.get_mut(idx) {
                    *slot = Some(v);
                }
            }
            None => r.error(
                root,
                "regle::facts::missing_field",
                format!("the document has no `{name}`"),
                format!("`{name}` is missing"),
                Some(format!("add a top-level `{name}:`")),
            ),
        }
    }
    if r.diags.is_empty() {
        Ok(out)
    } else {
        Err(std::mem::take(&mut r.diags))
    }
}

impl Reader<'_> {
    fn error(
        &mut self,
        node: NodeId,
        code: &'static str,
        msg: String,
        label: String,
        help: Option<String>,
    ) {
        if self.diags.len() == MAX_ERRORS {
            self.diags.push(Diagnostic::error(
                "regle::facts::too_many_errors",
                format!(
                    "more than {MAX_ERRORS} problems in `{}`: the rest are not shown",
                    self.source.name
                ),
            ));
        }
        if self.diags.len() > MAX_ERRORS {
            return;
        }
        let span = self.tree.node(node).span;
        let path = self.tree.path(node);
        let msg = if path.is_empty() {
            msg
        } else {
            format!("`{path}`: {msg}")
        };
        self.diags.push(
            Diagnostic::error(code, msg)
                .at(self.source, span, label)
                .help_opt(help),
        );
    }

    fn intern(&mut self, s: &str) -> Text {
        if let Some(t) = self.texts.get(s) {
            return t.clone();
        }
        let t = Text::new(s);
        self.texts.insert(t.clone());
        t
    }

    fn origin(&self, node: NodeId) -> Option<Origin> {
        Some(Origin {
            doc: self.doc,
            node,
        })
    }

    fn show(&self, ty: &Type) -> String {
        let enums: Vec<String> = self.policy.enums.iter().map(|e| e.name.clone()).collect();
        let records: Vec<String> = self.policy.records.iter().map(|e| e.name.clone()).collect();
        let tables: Vec<String> = self.policy.tables.iter().map(|e| e.name.clone()).collect();
        crate::ir::types::Show {
            ty,
            enums: &enums,
            records: &records,
            tables: &tables,
        }
        .to_string()
    }

    fn mismatch(&mut self, node: NodeId, ty: &Type) -> Value {
        let found = self.tree.node(node).value.kind_name();
        let want = match ty.strip_optional() {
            Type::Text => "a text".to_string(),
            Type::Int => "a whole number".to_string(),
            Type::Bool => "`true` or `false`".to_string(),
            Type::Date => "a date (YYYY-MM-DD)".to_string(),
            Type::Version => "a version".to_string(),
            Type::List(_) => "a list".to_string(),
            Type::Record(_) | Type::Map(_, _) => "a mapping".to_string(),
            t => self.show(t),
        };
        let help = match (&self.tree.node(node).value, ty.strip_optional()) {
            (NodeValue::Number(_) | NodeValue::Bool(_), Type::Text) => {
                Some("write it in quotes to make it a text".to_string())
            }
            (NodeValue::Str(_) | NodeValue::Number(_), Type::List(_)) => {
                Some("write a list: `[a, b]`".to_string())
            }
            _ => None,
        };
        self.error(
            node,
            "regle::facts::wrong_type",
            format!("expected {want}, found {found}"),
            format!("expected {want}"),
            help,
        );
        Value::None
    }

    fn value(&mut self, node: NodeId, ty: &Type) -> Value {
        let tree = self.tree;
        let n = tree.node(node);
        if let Type::Optional(inner) = ty {
            if matches!(n.value, NodeValue::Null) {
                return Value::None;
            }
            return self.value(node, inner);
        }
        match (ty, &n.value) {
            (Type::Error | Type::Any, _) => Value::None,
            (_, NodeValue::Null) => {
                let want = self.show(ty);
                self.error(
                    node,
                    "regle::facts::null",
                    format!("expected {want}, found null"),
                    "no value".to_string(),
                    Some("give a value, or leave the field out if it is optional".to_string()),
                );
                Value::None
            }
            (Type::Text, NodeValue::Str(s)) => {
                let s = tree.text(*s);
                match self.policy.symbols.get(s) {
                    Some(sym) => sym,
                    None => Value::Text(self.intern(s)),
                }
            }
            (Type::Int, NodeValue::Number(raw)) => match tree.text(*raw).parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => {
                    self.error(
                        node,
                        "regle::facts::bad_number",
                        format!("`{}` is not a whole number in range", tree.text(*raw)),
                        "not a whole number".to_string(),
                        None,
                    );
                    Value::None
                }
            },
            (Type::Bool, NodeValue::Bool(b)) => Value::Bool(*b),
            (Type::Date, NodeValue::Str(s)) => match date::parse(tree.text(*s)) {
                Some(d) => Value::Date(d),
                None => {
                    self.error(
                        node,
                        "regle::facts::bad_date",
                        format!("`{}` is not a date", tree.text(*s).escape_debug()),
                        "not a date".to_string(),
                        Some(
                            "write a real calendar date as YYYY-MM-DD, like 2026-05-20".to_string(),
                        ),
                    );
                    Value::None
                }
            },
            // A version written without quotes keeps its text as written (`1.10`).
            (Type::Version, NodeValue::Str(s) | NodeValue::Number(s)) => {
                let s = tree.text(*s);
                if let Some(v) = self.versions.get(s) {
                    return Value::Version(v.clone());
                }
                let v = Arc::new(match crate::version::parse(s) {
                    Ok(v) => VersionValue::Valid(v),
                    Err(_) => VersionValue::Invalid(s.into()),
                });
                self.versions.insert(s.into(), v.clone());
                Value::Version(v)
            }
            (Type::Enum(e), NodeValue::Str(s)) => {
                let s = tree.text(*s);
                let variants = self
                    .policy
                    .enums
                    .get(*e as usize)
                    .map(|e| e.variants.as_slice())
                    .unwrap_or(&[]);
                match variants.iter().position(|v| **v == *s) {
                    Some(i) => Value::Enum {
                        ty: *e,
                        variant: i as u32,
                    },
                    None => {
                        let help = did_you_mean(s, variants.iter().map(String::as_str))
                            .unwrap_or_else(|| format!("one of: {}", variants.join(", ")));
                        self.error(
                            node,
                            "regle::facts::unknown_value",
                            format!("`{}` is not one of the expected values", s.escape_debug()),
                            "unknown value".to_string(),
                            Some(help),
                        );
                        Value::None
                    }
                }
            }
            (Type::List(inner), NodeValue::Seq(items)) => {
                let items = items.iter().map(|&i| self.value(i, inner)).collect();
                Value::List(Arc::new(List {
                    items,
                    origin: self.origin(node),
                    lookup: OnceLock::new(),
                }))
            }
            (Type::Map(k, v), NodeValue::Map(entries)) => {
                let mut out = Vec::new();
                for e in entries {
                    let key = match &**k {
                        Type::Text => self.policy.symbols.text(&e.key),
                        _ => Value::None,
                    };
                    out.push((key, self.value(e.node, v)));
                }
                let symbols = &self.policy.symbols;
                out.sort_by(|a, b| {
                    a.0.compare(&b.0, symbols)
                        .unwrap_or(std::cmp::Ordering::Equal)
                });
                Value::Map(Arc::new(Map {
                    entries: out,
                    origin: self.origin(node),
                }))
            }
            (Type::Record(r), NodeValue::Map(entries)) => self.record(node, *r, entries),
            _ => self.mismatch(node, ty),
        }
    }

    /// A value (or each item of a list) must be one of a table column's.
    fn check_domain(&mut self, node: NodeId, v: &Value, domain: &crate::ir::Domain) {
        let tree = self.tree;
        let items: Vec<(NodeId, &Value)> = match (v, &tree.node(node).value) {
            (Value::List(l), NodeValue::Seq(nodes)) => {
                nodes.iter().copied().zip(l.items.iter()).collect()
            }
            (Value::None, _) => Vec::new(),
            (v, _) => vec![(node, v)],
        };
        for (n, item) in items {
            if matches!(item, Value::None) || domain.values.contains(item) {
                continue;
            }
            let shown = crate::eval::display(self.policy, item);
            let mut known: Vec<String> = domain
                .values
                .iter()
                .map(|x| crate::eval::display(self.policy, x))
                .collect();
            known.sort();
            known.dedup();
            let help =
                did_you_mean(&shown, known.iter().map(String::as_str)).unwrap_or_else(|| {
                    let few: Vec<&str> = known.iter().take(12).map(String::as_str).collect();
                    format!(
                        "the known values ({}) are: {}{}",
                        domain.name,
                        few.join(", "),
                        if known.len() > 12 { ", ..." } else { "" }
                    )
                });
            self.error(
                n,
                "regle::facts::unknown_value",
                format!(
                    "`{}` is not a known value of `{}`",
                    shown.escape_debug(),
                    domain.name
                ),
                "unknown value".to_string(),
                Some(help),
            );
        }
    }

    fn record(&mut self, node: NodeId, r: u32, entries: &[super::tree::Entry]) -> Value {
        let policy = self.policy;
        let Some(def) = policy.records.get(r as usize) else {
            return Value::None;
        };
        // Each entry's field, on `slots` from `start` (nested records take
        // the slots after): looked for first after the last one found, as
        // facts usually give fields in the order they are declared.
        let start = self.slots.len();
        self.slots.resize(start + def.fields.len(), None);
        let mut next = 0;
        for e in entries {
            let at = match def.fields.get(next) {
                Some(f) if f.name == *e.key => Some(next),
                _ => def.fields.iter().position(|f| f.name == *e.key),
            };
            if let Some(i) = at {
                if let Some(slot @ None) = self.slots.get_mut(start + i) {
                    *slot = Some(e.node);
                }
                next = i + 1;
            } else {
                let help = did_you_mean(&e.key, def.fields.iter().map(|f| f.name.as_str()))
                    .or_else(|| {
                        let names: Vec<&str> = def.fields.iter().map(|f| f.name.as_str()).collect();
                        Some(format!(
                            "the fields of {} are: {}",
                            def.name,
                            names.join(", ")
                        ))
                    });
                let path = self.tree.path(node);
                let d = Diagnostic::error(
                    "regle::facts::unknown_field",
                    format!("`{path}`: unknown field `{}`", e.key),
                )
                .at(self.source, e.key_span, "not a field of this record")
                .help_opt(help);
                if self.diags.len() < MAX_ERRORS {
                    self.diags.push(d);
                }
            }
        }
        let mut fields = Vec::with_capacity(def.fields.len());
        for (i, f) in def.fields.iter().enumerate() {
            match self.slots.get(start + i).copied().flatten() {
                Some(given) => {
                    let v = self.value(given, &f.ty);
                    if let Some(domain) = &f.domain {
                        self.check_domain(given, &v, domain);
                    }
                    fields.push(v)
                }
                None => match (&f.default, &f.ty) {
                    (Some(d), _) => fields.push(d.clone()),
                    (None, Type::Optional(_)) => fields.push(Value::None),
                    (None, _) => {
                        let ty = self.show(&f.ty);
                        self.error(
                            node,
                            "regle::facts::missing_field",
                            format!("missing field `{}`", f.name),
                            format!("`{}` ({ty}) is required", f.name),
                            Some(format!("add `{}:` to this mapping", f.name)),
                        );
                        fields.push(Value::None);
                    }
                },
            }
        }
        self.slots.truncate(start);
        Value::Record(Arc::new(Record {
            names: def.names.clone(),
            fields,
            origin: self.origin(node),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{tree::Limits, yaml};
    use crate::source::SourceFile;

    /// Every text and version of a value, in order.
    fn leaves<'v>(v: &'v Value, out: &mut Vec<&'v Value>) {
        match v {
            Value::Text(_) | Value::Version(_) => out.push(v),
            Value::List(l) => l.items.iter().for_each(|x| leaves(x, out)),
            Value::Record(r) => r.fields.iter().for_each(|x| leaves(x, out)),
            Value::Map(m) => m.entries.iter().for_each(|(_, x)| leaves(x, out)),
            _ => {}
        }
    }

    /// A document that read more texts than are kept leaves the next one
    /// none, but the room for them; a registry's, far more, leaves nothing.
    #[test]
    fn too_many_texts_leave_the_room_for_them_unless_far_too_many() {
        let checked = crate::check::load_policy(std::path::Path::new("policies/segur-v2"))
            .expect("the shipped policy checks");
        let policy = &checked.policy;
        let tree = yaml::parse_yaml("{}", &Limits::default()).expect("YAML");
        let source = SourceFile::new("empty.yaml", "{}");
        let read = |n: usize| {
            std::thread::scope(|s| {
                s.spawn(|| {
                    let mut kept = crate::facts::take_kept(&KEPT);
                    kept.texts.extend((0..n).map(|i| Text::new(&i.to_string())));
                    crate::facts::keep(&KEPT, kept);
                    let _ = read_document(policy, &tree, &source, false);
                    let kept = crate::facts::take_kept(&KEPT);
                    (kept.texts.len(), kept.texts.capacity())
                })
                .join()
                .expect("thread")
            })
        };
        assert_eq!(read(100).0, 100);
        let (len, room) = read(KEPT_TEXTS + 1);
        assert_eq!(len, 0);
        assert!(room > KEPT_TEXTS, "{room}");
        assert_eq!(read(4 * KEPT_TEXTS), (0, 0));
    }

    /// The texts and versions a thread's document read are the next
    /// document's (the same values, not copies), equal as read; another
    /// thread reads its own.
    #[test]
    fn a_threads_documents_share_the_texts_and_versions_read_before() {
        let checked = crate::check::load_policy(std::path::Path::new("policies/segur-v2"))
            .expect("the shipped policy checks");
        let policy = &checked.policy;
        let text = std::fs::read_to_string("examples/segur-v2/candidacy.yaml").expect("example");
        let read = || {
            let source = SourceFile::new("candidacy.yaml", &text);
            let tree = yaml::parse_yaml(&text, &Limits::default()).expect("YAML");
            read_document(policy, &tree, &source, false).expect("facts")
        };
        let same = |a: &Value, b: &Value| match (a, b) {
            (Value::Text(x), Value::Text(y)) => std::ptr::eq(x.as_str(), y.as_str()),
            (Value::Version(x), Value::Version(y)) => Arc::ptr_eq(x, y),
            _ => false,
        };
        let (first, second) = (read(), read());
        let other = std::thread::scope(|s| s.spawn(read).join().expect("thread"));
        let all = |inputs: &[Option<Value>]| {
            let mut out = Vec::new();
            inputs.iter().flatten().for_each(|v| leaves(v, &mut out));
            out.into_iter().cloned().collect::<Vec<Value>>()
        };
        let (first, second, other) = (all(&first), all(&second), all(&other));
        assert!(first.iter().any(|v| matches!(v, Value::Version(_))));
        assert_eq!(first.len(), second.len());
        assert!(first
            .iter()
            .zip(&second)
            .all(|(a, b)| same(a, b) && a.same(b)));
        assert!(first
            .iter()
            .zip(&other)
            .all(|(a, b)| !same(a, b) && a.same(b)));
    }
}
