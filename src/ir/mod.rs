//! The checked policy: names resolved to slots and ids, types known,
//! tables loaded and indexed. What `check` produces and `eval` runs.

pub mod memo;
pub mod types;
pub mod value;

use crate::diag::Severity;
use crate::source::{Source, Span};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// How deep evaluating a definition may recurse, through the definitions
/// it reads: bounded so that no policy can exhaust an evaluating thread's
/// stack.
pub const MAX_EVAL_DEPTH: usize = 1024;

/// Each definition's evaluation depth (`Ir::eval_depth` of its body, with
/// those it reads), found without recursing from one definition to the
/// next.
pub fn eval_depths(defs: &[Def]) -> Vec<usize> {
    // 0 not seen, 1 waiting for what it reads, 2 done.
    let mut state = vec![0u8; defs.len()];
    let mut depth = vec![0usize; defs.len()];
    for root in 0..defs.len() {
        let mut todo = vec![(root, false)];
        while let Some((d, ready)) = todo.pop() {
            let (Some(def), Some(&st)) = (defs.get(d), state.get(d)) else {
                continue;
            };
            if ready {
                let dd = def.body.eval_depth(&depth);
                if let (Some(s), Some(x)) = (state.get_mut(d), depth.get_mut(d)) {
                    *s = 2;
                    *x = dd;
                }
            } else if st == 0 {
                if let Some(s) = state.get_mut(d) {
                    *s = 1;
                }
                todo.push((d, true));
                let mut read = Vec::new();
                def.body.defs_read(&mut read);
                for r in read {
                    if state.get(r as usize) == Some(&0) {
                        todo.push((r as usize, false));
                    }
                }
            }
        }
    }
    depth
}
pub use types::Type;
pub use value::{Symbols, Value};

pub type DefId = u32;
pub type RuleIdx = u32;
pub type TableId = u32;

#[derive(Debug)]
pub struct Policy {
    pub name: String,
    pub version: Option<String>,
    /// The report's first field: its name and how to compute it.
    pub subject: Option<(String, Ir)>,
    /// Words the human report uses, as the policy writes them.
    pub labels: HashMap<String, String>,
    pub enums: Vec<EnumDef>,
    pub records: Vec<RecordDef>,
    pub inputs: Vec<InputDef>,
    pub tables: Vec<Table>,
    pub documents: Vec<DocumentDef>,
    pub defs: Vec<Def>,
    pub decisions: Vec<Decision>,
    /// In the files' order (a report orders their outcomes by rule ID).
    pub rules: Vec<RuleDef>,
    /// The order rules are evaluated in (`evaluation_order`).
    pub order: Vec<RuleIdx>,
    /// The frame size needed to evaluate the subject.
    pub subject_frame: u32,
    /// Every index the queries use, by `IndexLookup::index`.
    pub index_specs: Vec<IndexSpec>,
    /// The indexes on tables, built at load (empty for registry indexes,
    /// which are built when the registry is read).
    pub table_indexes: Vec<Index>,
    /// The texts of the policy's constants and tables.
    pub symbols: Symbols,
}

#[derive(Debug)]
pub struct EnumDef {
    pub name: String,
    pub variants: Vec<String>,
}

#[derive(Debug)]
pub struct RecordDef {
    pub name: String,
    pub names: Arc<[Arc<str>]>,
    pub fields: Vec<FieldDef>,
}

#[derive(Debug)]
pub struct FieldDef {
    pub name: String,
    pub ty: Type,
    /// The value an absent field takes (already evaluated).
    pub default: Option<Value>,
    /// `in table.column`: the values a fact may take, and that column's name.
    pub domain: Option<Domain>,
}

#[derive(Debug)]
pub struct Domain {
    pub name: String,
    pub values: rustc_hash::FxHashSet<Value>,
}

#[derive(Debug)]
pub struct InputDef {
    pub name: String,
    pub ty: Type,
    pub registry: bool,
}

#[derive(Debug)]
pub struct Table {
    pub name: String,
    pub columns: Vec<String>,
    pub types: Vec<Type>,
    /// Column-major cells: `cells[column][row]`.
    pub cells: Vec<Vec<Value>>,
    pub rows: u32,
}

/// A hash index: a key (one value per indexed column) to the positions of
/// the rows or items holding it, in their order.
pub type Index = rustc_hash::FxHashMap<Vec<Value>, Vec<u32>>;

/// What an index is built on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupSource {
    Table(TableId),
    /// A `registry` input: a list of records, indexed once per run.
    Registry(u32),
    /// A definition's list (computed once per document), indexed on the
    /// first query that needs it.
    Def(DefId),
}

/// An index the policy's queries use: its source and the columns (for a
/// registry, paths of fields) of its key.
#[derive(Debug)]
pub struct IndexSpec {
    pub source: LookupSource,
    pub columns: Vec<Vec<u32>>,
}

#[derive(Debug)]
pub struct DocumentDef {
    pub name: String,
    pub title: String,
}

#[derive(Debug)]
pub struct Def {
    pub name: String,
    pub params: u32,
    pub frame: u32,
    pub body: Ir,
    pub ty: Type,
    /// Remembered from one document to the next, on this context.
    pub memo: Option<memo::MemoPlan>,
}

#[derive(Debug)]
pub struct Decision {
    pub name: String,
    pub over: Ir,
    pub var: u32,
    pub frame: u32,
    pub key_name: String,
    pub key: Ir,
    pub values: Vec<String>,
    pub labels: Vec<Option<String>>,
    pub default: u32,
    pub show: Vec<(String, Ir)>,
    pub total: Option<String>,
    pub group_by: Option<Ir>,
    /// When the items are rows of one table and `key`, `show` and `group by`
    /// read nothing but the item: each row's line head, computed once a run
    /// and shared by every document's report.
    pub row_heads: Option<(TableId, Vec<OnceLock<LineHead>>)>,
    /// What each line of its JSON repeats, once written.
    pub json: OnceLock<DecisionJson>,
}

/// The parts of a decision's JSON lines that are the same in every report.
#[derive(Debug)]
pub struct DecisionJson {
    /// `{"key":`, the line's start.
    pub first_key: String,
    /// `,"name":` for each `show`.
    pub show_keys: Vec<String>,
    /// By value: the end of a line no rule decided (`,"status":...,
    /// "rule":null,"from":null}`), and, for a decided one, its `status`
    /// up to the rule's ID.
    pub undecided: Vec<String>,
    pub decided: Vec<String>,
}

/// What a decision's line shows of its item, whatever was decided: the
/// key, the `show` values, the group; and, once written, its JSON.
#[derive(Debug)]
pub struct LineHead {
    pub key: Value,
    pub show: Vec<Value>,
    pub group: Value,
    pub json: OnceLock<LineJson>,
    /// The row of the decision's table the line is for (see `row_heads`).
    pub row: Option<u32>,
    /// Once written, the JSON of the lines no rule decides from this row
    /// on, for the rows that follow it in the table (at most `MAX_RUN`):
    /// the lines a report gives in one copy.
    pub run: OnceLock<LineRun>,
    /// Once written, the start of the line when the first rule that
    /// decided it in a report does (most rows are decided by one rule,
    /// to one value, in every report that decides them): up to `from`.
    pub decided: OnceLock<DecidedJson>,
}

/// The start of a decided line, for one value and rule: a comma, the
/// head, `status` and `rule`, up to `"from":`.
#[derive(Debug)]
pub struct DecidedJson {
    pub value: u32,
    pub rule: Option<RuleIdx>,
    pub text: String,
}

/// Lines of consecutive rows a `LineRun` holds at most: a run is kept for
/// any row a report's run of undecided lines starts at, so that is at most
/// `MAX_RUN` lines of text for each row of the table.
pub const MAX_RUN: usize = 16;

/// The JSON of lines of consecutive rows, each as `LineJson::text` has it
/// (a comma, then the whole line), and where each ends.
#[derive(Debug)]
pub struct LineRun {
    pub text: String,
    pub ends: Vec<usize>,
}

/// A line's JSON, once written: a comma, its head, then the rest of the
/// line when no rule decides it (most lines of most reports), so that
/// such a line is written by one copy.
#[derive(Debug)]
pub struct LineJson {
    pub text: String,
    /// Where the head ends.
    pub head: usize,
}

impl RuleDef {
    /// Every expression of the rule: its list, `let`s, `when` and outcomes.
    pub fn exprs(&self) -> Vec<&Ir> {
        let mut out: Vec<&Ir> = Vec::new();
        out.extend(self.for_each.as_ref().map(|f| &f.1));
        out.extend(self.lets.iter().map(|l| &l.1));
        out.extend(self.guard.as_ref());
        out.extend(self.when.as_ref());
        for o in &self.outcomes {
            match o {
                Outcome::Diagnostic { guard, message, .. } => {
                    out.extend(guard.as_ref());
                    out.extend(message.iter().filter_map(|p| match p {
                        TemplatePart::Expr(e) => Some(e),
                        TemplatePart::Text(_) => None,
                    }));
                }
                Outcome::Decide { from, .. } => out.extend(from.as_ref()),
                Outcome::Document { with, status, .. } => {
                    out.extend(with.iter().map(|w| &w.1));
                    out.push(status);
                }
            }
        }
        out
    }
}

/// The rules whose firing another rule or a definition asks about: named by
/// `fires`, or an exception to another rule.
pub fn asked_rules(rules: &[RuleDef], defs: &[Def]) -> Vec<RuleIdx> {
    fn walk(ir: &Ir, out: &mut Vec<RuleIdx>) {
        if let Ir::Fires(r, _) = ir {
            out.push(*r);
        }
        ir.for_each_child(|c| walk(c, out));
    }
    let mut out = Vec::new();
    for r in rules {
        out.extend_from_slice(&r.exceptions);
        for ir in r.exprs() {
            walk(ir, &mut out);
        }
    }
    for d in defs {
        walk(&d.body, &mut out);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The order rules are evaluated in: a rule another asks about (by
/// `fires`, in its own expressions or in the definitions they call, or as
/// its exception) before the rule that asks, so that the question finds
/// what its loop found instead of testing the item again; otherwise the
/// policy's order. (The report does not depend on it: diagnostics are
/// ordered by rule ID, documents by kind then rule, decisions by
/// precedence then rule ID.)
pub fn evaluation_order(rules: &[RuleDef], defs: &[Def]) -> Vec<RuleIdx> {
    /// The rules `ir` asks about, through the definitions it reads.
    fn asks(ir: &Ir, defs: &[Def], seen: &mut [bool], out: &mut Vec<RuleIdx>) {
        match ir {
            Ir::Fires(r, _) => out.push(*r),
            Ir::Global(d) | Ir::Call(d, _) => {
                if let Some(done @ false) = seen.get_mut(*d as usize) {
                    *done = true;
                    if let Some(def) = defs.get(*d as usize) {
                        asks(&def.body, defs, seen, out);
                    }
                }
            }
            _ => {}
        }
        ir.for_each_child(|c| asks(c, defs, seen, out));
    }
    let before: Vec<Vec<RuleIdx>> = rules
        .iter()
        .map(|r| {
            let mut out = r.exceptions.clone();
            let mut seen = vec![false; defs.len()];
            for ir in r.exprs() {
                asks(ir, defs, &mut seen, &mut out);
            }
            out
        })
        .collect();
    // Depth first, each rule after those it asks about; a rule asked about
    // while its own questions are being placed (rules that ask about each
    // other) is not waited for.
    let mut order = Vec::with_capacity(rules.len());
    let mut state = vec![0u8; rules.len()];
    for start in 0..rules.len() {
        let mut stack = vec![(start, 0usize)];
        while let Some((r, next)) = stack.pop() {
            if next == 0 {
                match state.get(r) {
                    Some(0) => {}
                    _ => continue,
                }
                if let Some(s) = state.get_mut(r) {
                    *s = 1;
                }
            }
            let asked = before.get(r).and_then(|b| b.get(next)).copied();
            match asked {
                Some(a) => {
                    stack.push((r, next + 1));
                    if state.get(a as usize) == Some(&0) {
                        stack.push((a as usize, 0));
                    }
                }
                None => {
                    if let Some(s) = state.get_mut(r) {
                        *s = 2;
                    }
                    order.push(r as RuleIdx);
                }
            }
        }
    }
    order
}

impl Ir {
    /// Calls `f` on each expression directly under this one.
    pub fn for_each_child<'a>(&'a self, mut f: impl FnMut(&'a Ir)) {
        match self {
            Ir::Const(_)
            | Ir::Local(_)
            | Ir::LetRef(..)
            | Ir::Global(_)
            | Ir::Input(_)
            | Ir::Table(_)
            | Ir::AsOf
            | Ir::Fires(_, None) => {}
            Ir::Fires(_, Some(x)) | Ir::Field(x, _) | Ir::Not(x) => f(x),
            Ir::Where {
                src, cond, lookup, ..
            } => {
                f(src);
                if let Some(c) = cond {
                    f(c);
                }
                for (k, _) in lookup.iter().flat_map(|l| &l.key) {
                    f(k);
                }
            }
            Ir::Quant { src, body, .. } => {
                f(src);
                f(body);
            }
            Ir::If(a, b, c) => {
                f(a);
                f(b);
                f(c);
            }
            Ir::Call(_, xs)
            | Ir::And(xs)
            | Ir::Or(xs)
            | Ir::List(xs)
            | Ir::Record(_, xs)
            | Ir::Builtin(_, xs) => xs.iter().for_each(f),
            Ir::Cmp(_, a, b)
            | Ir::In(a, b, _)
            | Ir::AddInt(a, b, _)
            | Ir::Concat(a, b)
            | Ir::Minus(a, b) => {
                f(a);
                f(b);
            }
        }
    }

    /// How deep evaluating this recurses: its own nesting, and a
    /// definition's (`defs`, by id) where it reads one.
    pub fn eval_depth(&self, defs: &[usize]) -> usize {
        let own = match self {
            Ir::Global(d) | Ir::Call(d, _) => defs.get(*d as usize).copied().unwrap_or(0),
            _ => 0,
        };
        let mut deepest = own;
        self.for_each_child(|c| deepest = deepest.max(c.eval_depth(defs)));
        1 + deepest
    }

    /// The definitions this reads, directly.
    pub fn defs_read(&self, out: &mut Vec<DefId>) {
        if let Ir::Global(d) | Ir::Call(d, _) = self {
            out.push(*d);
        }
        self.for_each_child(|c| c.defs_read(out));
    }

    /// Reads nothing but local slots, constants and tables: the same
    /// locals give the same value in every document.
    pub fn reads_only_locals(&self) -> bool {
        match self {
            Ir::Const(_) | Ir::Local(_) | Ir::Table(_) => true,
            Ir::LetRef(..)
            | Ir::Global(_)
            | Ir::Call(..)
            | Ir::Input(_)
            | Ir::AsOf
            | Ir::Fires(..) => false,
            // An index on the registry or a definition: not the same in
            // every document.
            Ir::Where {
                lookup: Some(l), ..
            } if !matches!(l.source, LookupSource::Table(_)) => false,
            _ => {
                let mut all = true;
                self.for_each_child(|c| all = all && c.reads_only_locals());
                all
            }
        }
    }
}

#[derive(Debug)]
pub struct RuleDef {
    pub id: String,
    pub title: String,
    pub cite: Option<String>,
    pub source: Source,
    pub span: Span,
    pub frame: u32,
    pub for_each: Option<(u32, Ir)>,
    pub lets: Vec<(u32, Ir)>,
    /// The `when` conjuncts that do not depend on the item: evaluated once
    /// before going over the items (all are skipped when it is false).
    pub guard: Option<Ir>,
    /// The rest of `when`, evaluated for each item.
    pub when: Option<Ir>,
    pub outcomes: Vec<Outcome>,
    /// Rules that are exceptions to this one: where one holds for an
    /// item, this rule does not fire for it.
    pub exceptions: Vec<RuleIdx>,
    /// Rules whose decisions this one's replace on the same item.
    pub overrides: Vec<RuleIdx>,
    /// The items it holds for remembered from one document to the next,
    /// on this context.
    pub memo: Option<memo::MemoPlan>,
    /// Another rule or a definition asks whether it fires for an item
    /// (`fires`, or as an exception): its loop's answers are kept for the
    /// document.
    pub asked: bool,
}

#[derive(Debug)]
pub enum Outcome {
    Diagnostic {
        severity: Severity,
        guard: Option<Ir>,
        at: Option<Place>,
        message: Vec<TemplatePart>,
    },
    Decide {
        decision: u32,
        value: u32,
        from: Option<Ir>,
    },
    Document {
        document: u32,
        with: Vec<(String, Ir)>,
        status: Ir,
    },
}

#[derive(Debug)]
pub enum TemplatePart {
    Text(String),
    Expr(Ir),
}

/// A path to a fact, for `at`: a base and the field names under it.
#[derive(Debug)]
pub struct Place {
    pub base: PlaceBase,
    pub fields: Vec<String>,
}

#[derive(Debug)]
pub enum PlaceBase {
    Input(u32),
    /// A local slot, the rule's own `for` variable or a `let`.
    Local(u32),
    Global(DefId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Count,
    Exists,
    Empty,
    First,
    Min,
    Max,
    Distinct,
    Sort,
    Valid,
    Get,
    Keys,
    OrElse,
    Flatten,
    Compact,
    Sum,
    Text,
}

/// How a field is read from a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Record(u32),
    Row(u32),
    /// Over a list of records: each element's field, absent ones skipped,
    /// list fields flattened when the flag is set.
    Project(u32, bool),
    /// The same over a list of table rows.
    ProjectRow(u32, bool),
    /// Over a list of records: each element's field, an absent one as
    /// none (the list keeps its items' positions). Only the evaluator's
    /// memory reads it (`memo`), never a policy.
    Each(u32),
}

/// A query served from an index: the key, computed once per query; a key
/// part marked `true` is a list of values (`column in values`).
#[derive(Debug)]
pub struct IndexLookup {
    pub source: LookupSource,
    pub index: u32,
    pub key: Vec<(Ir, bool)>,
}

#[derive(Debug)]
pub enum Ir {
    Const(Value),
    Local(u32),
    /// A rule's `let` (its slot, its index among the rule's lets),
    /// evaluated the first time it is read.
    LetRef(u32, u32),
    Global(DefId),
    Call(DefId, Vec<Ir>),
    Input(u32),
    Table(TableId),
    AsOf,
    Field(Box<Ir>, Access),
    Where {
        src: Box<Ir>,
        var: u32,
        cond: Option<Box<Ir>>,
        lookup: Option<IndexLookup>,
    },
    Quant {
        all: bool,
        src: Box<Ir>,
        var: u32,
        body: Box<Ir>,
    },
    If(Box<Ir>, Box<Ir>, Box<Ir>),
    Not(Box<Ir>),
    And(Vec<Ir>),
    Or(Vec<Ir>),
    Cmp(CmpOp, Box<Ir>, Box<Ir>),
    In(Box<Ir>, Box<Ir>, bool),
    AddInt(Box<Ir>, Box<Ir>, bool),
    Concat(Box<Ir>, Box<Ir>),
    Minus(Box<Ir>, Box<Ir>),
    List(Vec<Ir>),
    Record(Arc<[Arc<str>]>, Vec<Ir>),
    Builtin(Builtin, Vec<Ir>),
    Fires(RuleIdx, Option<Box<Ir>>),
}
