//! Runtime values. Cheap to clone (`Arc` inside), `Send + Sync` so a
//! loaded policy's tables are shared by every worker thread.

use crate::facts::tree::NodeId;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

/// Where a value came from in a facts document: which document of the
/// evaluation (the evaluated one, or the registry) and which node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    pub doc: DocRef,
    pub node: NodeId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocRef {
    Input,
    Registry,
}

/// A version as read from facts or a table: parsed, or kept as written
/// when it cannot be read (the policy decides what that means, with
/// `valid(...)`; comparisons with it are false).
#[derive(Debug)]
pub enum VersionValue {
    Valid(crate::version::Version),
    Invalid(Box<str>),
}

impl VersionValue {
    pub fn text(&self) -> &str {
        match self {
            VersionValue::Valid(v) => v.as_str(),
            VersionValue::Invalid(s) => s,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub enum Value {
    /// An absent optional value.
    #[default]
    None,
    Bool(bool),
    Int(i64),
    /// A text the policy knows (a constant, a table cell): its number in
    /// the policy's `Symbols`. A text is a `Sym` exactly when it is there.
    Sym(u32),
    /// Any other text.
    Text(Text),
    /// Days since 1970-01-01.
    Date(i32),
    Version(Arc<VersionValue>),
    Enum {
        ty: u32,
        variant: u32,
    },
    List(Arc<List>),
    Record(Arc<Record>),
    /// A row of a policy table: `(table, row)`.
    Row(u32, u32),
    Map(Arc<Map>),
}

/// A text that is not the policy's, behind one thin pointer: a value is
/// two words, not three (a value of every other kind fits in two).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Text(Arc<Box<str>>);

impl Text {
    pub fn new(s: &str) -> Text {
        Text(Arc::new(Box::from(s)))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// Hashed and compared as its text, so a set of them is searched by `&str`.
impl std::borrow::Borrow<str> for Text {
    fn borrow(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Default)]
pub struct List {
    pub items: Vec<Value>,
    pub origin: Option<Origin>,
    /// Built on the first `in` test over a long list.
    pub lookup: OnceLock<Box<rustc_hash::FxHashSet<Value>>>,
}

thread_local! {
    /// The empty list every empty result shares (one a thread).
    static EMPTY: Arc<List> = Arc::new(List::default());
}

impl List {
    pub fn new(items: Vec<Value>) -> Arc<List> {
        if items.is_empty() {
            if let Ok(empty) = EMPTY.try_with(Arc::clone) {
                return empty;
            }
        }
        Arc::new(List {
            items,
            origin: None,
            lookup: OnceLock::new(),
        })
    }
}

#[derive(Debug)]
pub struct Record {
    /// Field names, shared by every record of a type.
    pub names: Arc<[Arc<str>]>,
    pub fields: Vec<Value>,
    pub origin: Option<Origin>,
}

#[derive(Debug, Default)]
pub struct Map {
    /// Sorted by key.
    pub entries: Vec<(Value, Value)>,
    pub origin: Option<Origin>,
}

impl Value {
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(List::new(items))
    }
    /// Truth in a condition: `true`; anything absent is false.
    pub fn is_true(&self) -> bool {
        matches!(self, Value::Bool(true))
    }
    pub fn origin(&self) -> Option<Origin> {
        match self {
            Value::List(l) => l.origin,
            Value::Record(r) => r.origin,
            Value::Map(m) => m.origin,
            _ => None,
        }
    }
    pub fn as_list(&self) -> &[Value] {
        match self {
            Value::List(l) => &l.items,
            _ => &[],
        }
    }

    /// Order for `<`, `min`, `sort`: `None` where the two do not compare
    /// (different kinds, an unreadable version, an absent value).
    pub fn compare(&self, other: &Value, symbols: &Symbols) -> Option<Ordering> {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Sym(a), Value::Sym(b)) if a == b => Some(Ordering::Equal),
            (Value::Sym(_) | Value::Text(_), Value::Sym(_) | Value::Text(_)) => {
                Some(symbols.str(self).cmp(symbols.str(other)))
            }
            (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            (Value::Version(a), Value::Version(b)) => match (&**a, &**b) {
                (VersionValue::Valid(a), VersionValue::Valid(b)) => Some(a.cmp(b)),
                _ => None,
            },
            (Value::Enum { ty: ta, variant: a }, Value::Enum { ty: tb, variant: b })
                if ta == tb =>
            {
                Some(a.cmp(b))
            }
            _ => None,
        }
    }
}

/// The texts a policy knows, each held once and named by a number: its
/// constants and its tables' cells. Comparing, hashing and copying such a
/// text is a number's work. Filled while the policy is checked, read-only
/// after: a text read from facts or computed is looked up here, and is a
/// `Value::Sym` when found, so that equal texts are always equal values.
#[derive(Debug, Default)]
pub struct Symbols {
    texts: Vec<Arc<str>>,
    ids: rustc_hash::FxHashMap<Arc<str>, u32>,
    /// Each text as a report writes it (a JSON string), made the first
    /// time it is written: reports write the same few texts again and
    /// again (a requirement's ID, a code).
    written: OnceLock<Box<[OnceLock<Box<str>>]>>,
}

impl Symbols {
    /// The number of `s`, added when new.
    pub fn intern(&mut self, s: &str) -> Value {
        if let Some(&id) = self.ids.get(s) {
            return Value::Sym(id);
        }
        let id = self.texts.len() as u32;
        let t: Arc<str> = Arc::from(s);
        self.texts.push(t.clone());
        self.ids.insert(t, id);
        Value::Sym(id)
    }

    /// The value of the text `s`: its symbol when the policy knows it.
    pub fn text(&self, s: &str) -> Value {
        match self.ids.get(s) {
            Some(&id) => Value::Sym(id),
            None => Value::Text(Text::new(s)),
        }
    }

    /// The symbol of `s`, when the policy knows it.
    pub fn get(&self, s: &str) -> Option<Value> {
        self.ids.get(s).map(|&id| Value::Sym(id))
    }

    /// Symbol `id`'s text as `write` writes it, made once (the policy is
    /// read-only by the time reports are written); `None` for a symbol
    /// added after the first was written.
    pub fn written(&self, id: u32, write: impl FnOnce(&str) -> String) -> Option<&str> {
        let cells = self
            .written
            .get_or_init(|| (0..self.texts.len()).map(|_| OnceLock::new()).collect());
        let (cell, text) = (cells.get(id as usize)?, self.texts.get(id as usize)?);
        Some(cell.get_or_init(|| write(text).into()))
    }

    /// The text of a text value (`""` for any other value).
    pub fn str<'v>(&'v self, v: &'v Value) -> &'v str {
        match v {
            Value::Sym(id) => self.texts.get(*id as usize).map_or("", |t| t),
            Value::Text(t) => t.as_str(),
            _ => "",
        }
    }
}

impl Value {
    /// Equal and written the same: `==`, except that versions equal in
    /// order but written differently (`5.1`, `5.1.0`) are not the same.
    /// What a remembered value's context and arguments are compared with.
    pub fn same(&self, other: &Value) -> bool {
        let all = |a: &[Value], b: &[Value]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
        };
        match (self, other) {
            // The usual items (a table's rows, the policy's texts), where
            // asked.
            (Value::Row(ta, a), Value::Row(tb, b)) => ta == tb && a == b,
            (Value::Sym(a), Value::Sym(b)) => a == b,
            (Value::Version(a), Value::Version(b)) => Arc::ptr_eq(a, b) || a.text() == b.text(),
            (Value::List(a), Value::List(b)) => Arc::ptr_eq(a, b) || all(&a.items, &b.items),
            (Value::Record(a), Value::Record(b)) => Arc::ptr_eq(a, b) || all(&a.fields, &b.fields),
            (Value::Map(a), Value::Map(b)) => {
                Arc::ptr_eq(a, b)
                    || (a.entries.len() == b.entries.len()
                        && a.entries
                            .iter()
                            .zip(&b.entries)
                            .all(|((k, v), (l, w))| k.same(l) && v.same(w)))
            }
            _ => self == other,
        }
    }

    /// Read from `doc` (a list, record or map of its facts).
    pub fn read_from(&self, doc: DocRef) -> bool {
        self.origin().is_some_and(|o| o.doc == doc)
    }

    /// Holds nothing read from the evaluated document (whose origins point
    /// into it): a value another document may reuse. The registry's values
    /// are the same for every document of a run.
    pub fn is_portable(&self) -> bool {
        match self {
            _ if self.read_from(DocRef::Registry) => true,
            _ if self.read_from(DocRef::Input) => false,
            Value::List(l) => l.items.iter().all(Value::is_portable),
            Value::Record(r) => r.fields.iter().all(Value::is_portable),
            Value::Map(m) => m
                .entries
                .iter()
                .all(|(k, v)| k.is_portable() && v.is_portable()),
            _ => true,
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::None, Value::None) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Sym(a), Value::Sym(b)) => a == b,
            (Value::Text(a), Value::Text(b)) => Arc::ptr_eq(&a.0, &b.0) || a == b,
            (Value::Date(a), Value::Date(b)) => a == b,
            (Value::Version(a), Value::Version(b)) => match (&**a, &**b) {
                (VersionValue::Valid(a), VersionValue::Valid(b)) => a == b,
                (VersionValue::Invalid(a), VersionValue::Invalid(b)) => a == b,
                _ => false,
            },
            (Value::Enum { ty: ta, variant: a }, Value::Enum { ty: tb, variant: b }) => {
                ta == tb && a == b
            }
            (Value::List(a), Value::List(b)) => Arc::ptr_eq(a, b) || a.items == b.items,
            (Value::Record(a), Value::Record(b)) => Arc::ptr_eq(a, b) || a.fields == b.fields,
            (Value::Row(ta, a), Value::Row(tb, b)) => ta == tb && a == b,
            (Value::Map(a), Value::Map(b)) => Arc::ptr_eq(a, b) || a.entries == b.entries,
            _ => false,
        }
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // A symbol, the most hashed value (index keys), in one word.
        if let Value::Sym(id) = self {
            state.write_u64(u64::from(*id) | 1 << 63);
            return;
        }
        std::mem::discriminant(self).hash(state);
        match self {
            Value::None | Value::Sym(_) => {}
            Value::Bool(b) => b.hash(state),
            Value::Int(i) => i.hash(state),
            Value::Text(s) => s.hash(state),
            Value::Date(d) => d.hash(state),
            Value::Version(v) => match &**v {
                VersionValue::Valid(v) => v.hash(state),
                VersionValue::Invalid(s) => s.hash(state),
            },
            Value::Enum { ty, variant } => (ty, variant).hash(state),
            Value::List(l) => l.items.hash(state),
            // A record by its first field (a solution's `nru`, a
            // component's name): records of the registry are hashed as
            // call arguments, and their other fields are deep.
            Value::Record(r) => {
                r.fields.len().hash(state);
                if let Some(first) = r.fields.first() {
                    first.hash(state);
                }
            }
            Value::Row(t, r) => (t, r).hash(state),
            Value::Map(m) => m.entries.hash(state),
        }
    }
}

/// Calendar dates as days since 1970-01-01 (proleptic Gregorian).
pub mod date {
    /// Parse `YYYY-MM-DD`; `None` for anything else or an impossible date.
    pub fn parse(s: &str) -> Option<i32> {
        let b = s.as_bytes();
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i32> {
            let part = s.get(r)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
            return None;
        }
        Some(days_from_civil(y, m, d))
    }

    pub fn format(days: i32) -> String {
        let (y, m, d) = civil_from_days(days);
        format!("{y:04}-{m:02}-{d:02}")
    }

    fn is_leap(y: i32) -> bool {
        (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
    }

    fn days_in_month(y: i32, m: i32) -> i32 {
        match m {
            2 if is_leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    // Howard Hinnant's algorithms.
    pub fn days_from_civil(y: i32, m: i32, d: i32) -> i32 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    pub fn civil_from_days(z: i32) -> (i32, i32, i32) {
        let z = z + 719_468;
        let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        (if m <= 2 { y + 1 } else { y }, m, d)
    }

    /// Today (UTC), from the system clock.
    pub fn today() -> i32 {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        i32::try_from(secs / 86_400).unwrap_or(0)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn dates_round_trip_and_impossible_dates_are_refused() {
            for s in ["1970-01-01", "2026-05-20", "2024-02-29", "1999-12-31"] {
                assert_eq!(super::format(super::parse(s).unwrap_or(-1)), s);
            }
            assert_eq!(super::parse("2026-02-30"), None);
            assert_eq!(super::parse("2025-02-29"), None);
            assert_eq!(super::parse("2026-5-20"), None);
            assert!(super::parse("2026-05-20") > super::parse("2026-05-13"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A symbol's written form is made once and given back after; one
    /// added after the first was written has none (the writer writes it
    /// as any text).
    #[test]
    fn a_symbol_is_written_once_and_a_later_one_is_not_cached() {
        let mut symbols = Symbols::default();
        let Value::Sym(quote) = symbols.intern("a \"b\"") else {
            panic!("a symbol");
        };
        let made = std::cell::Cell::new(0);
        let write = |s: &str| {
            made.set(made.get() + 1);
            format!("<{s}>")
        };
        assert_eq!(symbols.written(quote, write), Some("<a \"b\">"));
        assert_eq!(symbols.written(quote, write), Some("<a \"b\">"));
        assert_eq!(made.get(), 1);
        let Value::Sym(later) = symbols.intern("later") else {
            panic!("a symbol");
        };
        assert_eq!(symbols.written(later, write), None);
    }
}
