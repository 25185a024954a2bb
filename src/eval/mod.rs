//! Evaluation: one input document's facts (and the registry's), an
//! evaluation date, and the checked policy to a `Report`. Pure: reads the
//! policy, writes nothing but the report. Work is bounded by a step budget,
//! so a policy can never hang the evaluator.

use crate::diag::Severity;
use crate::facts::tree::{NodeValue, Tree};
use crate::ir::memo as memo_plan;
use crate::ir::value::{DocRef, List, Origin, VersionValue};
use crate::ir::*;
use crate::source::Span;
use std::sync::Arc;

pub mod memo;
pub use memo::Memo;

/// Most evaluation steps (loop iterations, calls) for one document.
pub const MAX_STEPS: u64 = 50_000_000;

/// The stack of a thread that evaluates: evaluation recurses at most
/// `ir::MAX_EVAL_DEPTH` plus `syntax::MAX_EXPR_DEPTH` levels, a few hundred
/// bytes to a few kilobytes each. Reserved, not used, beyond what it needs.
pub const STACK_SIZE: usize = 64 << 20;

/// What the evaluation of one input document decided.
#[derive(Debug)]
pub struct Report<'p> {
    pub subject: Option<(String, Value)>,
    pub as_of: i32,
    pub outcome: OutcomeKind,
    pub decisions: Vec<DecisionReport<'p>>,
    pub documents: Vec<DocumentReport>,
    pub diagnostics: Vec<DiagnosticReport>,
}

/// A line's head: a table row's, computed once a run and read by every
/// document's report, or this document's own.
#[derive(Debug)]
pub enum Head<'p> {
    Shared(&'p LineHead),
    Own(Box<LineHead>),
}

impl std::ops::Deref for Head<'_> {
    type Target = LineHead;
    fn deref(&self) -> &LineHead {
        match self {
            Head::Shared(h) => h,
            Head::Own(h) => h,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum OutcomeKind {
    Complete,
    Incomplete,
    Rejected,
}

impl OutcomeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Complete => "complete",
            OutcomeKind::Incomplete => "incomplete",
            OutcomeKind::Rejected => "rejected",
        }
    }
}

#[derive(Debug)]
pub struct DecisionReport<'p> {
    pub decision: u32,
    pub lines: Vec<DecisionLine<'p>>,
}

#[derive(Debug)]
pub struct DecisionLine<'p> {
    /// The item's key, `show` values and group.
    pub head: Head<'p>,
    pub value: u32,
    pub rule: Option<RuleIdx>,
    pub from: Value,
}

#[derive(Debug)]
pub struct DocumentReport {
    pub document: u32,
    pub rule: RuleIdx,
    pub status: u32,
    pub with: Vec<(String, Value)>,
}

#[derive(Debug)]
pub struct DiagnosticReport {
    /// `None` for a problem of the policy itself (a conflict between rules).
    pub rule: Option<RuleIdx>,
    pub severity: Severity,
    pub message: String,
    /// The fact's path, `candidacy.solution.main_component.version`.
    pub at: Option<String>,
    /// Where that fact is written: the document and a span in it.
    pub location: Option<(DocRef, Span)>,
}

/// The facts of one evaluation.
pub struct Facts<'a> {
    /// One value per policy input, by index: the document's and the registry's.
    pub inputs: &'a [Option<Value>],
    pub input_tree: Option<&'a Tree>,
    /// The registry, its tree parsed again if a diagnostic points into it.
    pub registry_tree: Option<&'a crate::facts::Reparsed>,
    /// The indexes on registry inputs, from `index_registry`.
    pub registry_indexes: &'a [Index],
}

/// Build, once per run, the indexes the policy's queries use on its
/// registry inputs (`inputs` holds the registry's values by input index).
pub fn index_registry(policy: &Policy, inputs: &[Option<Value>]) -> Vec<Index> {
    policy
        .index_specs
        .iter()
        .map(|spec| match spec.source {
            LookupSource::Registry(i) => {
                let items = inputs
                    .get(i as usize)
                    .and_then(|v| v.as_ref())
                    .map(Value::as_list)
                    .unwrap_or(&[]);
                build_index(policy, items, &spec.columns)
            }
            _ => Index::default(),
        })
        .collect()
}

/// An index over a list of records or rows: the values at each column's
/// path (fields of records, columns of rows) to the items' positions.
fn build_index(policy: &Policy, items: &[Value], columns: &[Vec<u32>]) -> Index {
    let mut index = Index::default();
    for (pos, item) in items.iter().enumerate() {
        let key: Vec<Value> = columns
            .iter()
            .map(|path| at_path(policy, item, path).cloned().unwrap_or_default())
            .collect();
        index.entry(key).or_default().push(pos as u32);
    }
    index
}

/// The value at `path` in `item` (fields of records, columns of rows).
fn at_path<'v>(policy: &'v Policy, item: &'v Value, path: &[u32]) -> Option<&'v Value> {
    let mut v = item;
    for &f in path {
        v = match v {
            Value::Record(r) => r.fields.get(f as usize)?,
            Value::Row(t, r) => policy
                .tables
                .get(*t as usize)?
                .cells
                .get(f as usize)?
                .get(*r as usize)?,
            _ => return None,
        };
    }
    Some(v)
}

/// A definition's list this short is searched item by item: an index
/// would cost more to build than the searches it saves.
const SHORT_LIST: usize = 8;

/// The positions of `items` whose columns hold `key` (a list for an
/// `in`: any of its values), in order: what an index would give.
fn scan(
    policy: &Policy,
    items: &[Value],
    columns: &[Vec<u32>],
    key: &[Value],
    lookup: &IndexLookup,
) -> Vec<u32> {
    let none = Value::None;
    let matches = |item: &Value| {
        columns
            .iter()
            .zip(key)
            .zip(&lookup.key)
            .all(|((path, k), (_, is_list))| {
                let v = at_path(policy, item, path).unwrap_or(&none);
                if *is_list {
                    k.as_list().contains(v)
                } else {
                    k == v
                }
            })
    };
    (0..items.len() as u32)
        .filter(|&i| items.get(i as usize).is_some_and(matches))
        .collect()
}

/// In `Ctx::contexts`: an earlier document had this context.
const KNOWN: u32 = 1 << 31;
/// In `Ctx::contexts`: the context holds this document's facts.
const UNUSABLE: u32 = u32::MAX - 1;

/// Evaluation stopped: the step budget is spent.
#[derive(Debug)]
pub struct Exhausted;

type R<T> = Result<T, Exhausted>;

/// A fact's path and where it is written, for `at`.
type PlaceFound = (Option<String>, Option<(DocRef, Span)>);

struct Ctx<'p, 'f> {
    policy: &'p Policy,
    facts: &'f Facts<'f>,
    as_of: i32,
    memo: Vec<Option<Value>>,
    steps: u64,
    /// The rules being evaluated, innermost last, with the `let`s each has
    /// evaluated so far (a bit each).
    lets: Vec<(RuleIdx, u64)>,
    /// Frames of finished calls, reused so a call does not allocate.
    spare: Vec<Vec<Value>>,
    /// Indexes on definitions' lists, by index id, built on first use.
    def_indexes: rustc_hash::FxHashMap<u32, Index>,
    /// A query's key, reused from one query to the next.
    key: Vec<Value>,
    /// This thread's remembered values, when the run keeps them.
    store: Option<std::sync::MutexGuard<'f, memo::Store>>,
    /// Each remembered definition's context number in this document
    /// (`u32::MAX` before it is needed).
    contexts: Vec<u32>,
    /// A remembered value was used: if the budget runs out, the document
    /// is evaluated again without them.
    remembered: bool,
    /// This document's calls to definitions that go over a list and that
    /// no store serves, by hash of definition and arguments: a call made
    /// again (two rules asking about the same requirement) is computed
    /// once. At most `DOCUMENT_CALLS`.
    calls: rustc_hash::FxHashMap<u64, (DefId, memo::Args, Value, u64)>,
    /// What the loops of rules another asks about (`fires`, exceptions)
    /// found this document, by rule.
    tested: Vec<Option<Tested>>,
}

/// What a rule's loop found for each item of its list: whether the rule
/// held for it, and the steps its test took (with the guard's, once).
struct Tested {
    list: Value,
    held: Vec<(bool, u32)>,
    /// Each item's position, made on the first question not found near
    /// `next`.
    positions: Option<rustc_hash::FxHashMap<Value, u32>>,
    /// Where the next question is expected: after the last item found.
    /// Questions usually come in the list's order (a rule over the same
    /// list asking about its exception's items), found without a table.
    next: usize,
}

/// How far past the expected item a question looks before the table.
const NEAR: usize = 4;

impl Tested {
    fn new(list: Value, held: Vec<(bool, u32)>) -> Tested {
        Tested {
            list,
            held,
            positions: None,
            next: 0,
        }
    }

    /// Whether the rule held for `item`, and the steps that took; `None`
    /// when `item` is not one of the list's. Equal items (written alike)
    /// have the same answer: the rule read nothing else of them.
    fn find(&mut self, item: &Value) -> Option<(bool, u32)> {
        let items = self.list.as_list();
        let near = items
            .get(self.next..)
            .and_then(|rest| rest.iter().take(NEAR).position(|x| x.same(item)));
        let i = match near {
            Some(k) => self.next + k,
            None => {
                let positions = self.positions.get_or_insert_with(|| {
                    let mut p = rustc_hash::FxHashMap::default();
                    for (i, x) in items.iter().enumerate() {
                        p.entry(x.clone()).or_insert(i as u32);
                    }
                    p
                });
                let (x, &i) = positions.get_key_value(item)?;
                // Equal, and written alike (versions).
                if !x.same(item) {
                    return None;
                }
                i as usize
            }
        };
        self.next = i + 1;
        self.held.get(i).copied()
    }
}

/// Calls one document keeps for itself, at most.
const DOCUMENT_CALLS: usize = 10_000;

/// Positions an index holds for a key: borrowed from a table's or the
/// registry's index, or copied from a definition's.
enum Rows<'a> {
    Shared(&'a [u32]),
    Owned(Vec<u32>),
}

impl std::ops::Deref for Rows<'_> {
    type Target = [u32];
    fn deref(&self) -> &[u32] {
        match self {
            Rows::Shared(r) => r,
            Rows::Owned(r) => r,
        }
    }
}

/// Evaluate every rule of `policy` on `facts`.
pub fn evaluate<'p>(
    policy: &'p Policy,
    facts: &Facts<'_>,
    as_of: i32,
) -> Result<Report<'p>, Exhausted> {
    evaluate_with(policy, facts, as_of, None)
}

/// Evaluate, reusing the values of definitions `memo` remembers from the
/// run's earlier documents (the same report as without).
pub fn evaluate_with<'p, 'f>(
    policy: &'p Policy,
    facts: &'f Facts<'f>,
    as_of: i32,
    memo: Option<&'f Memo>,
) -> Result<Report<'p>, Exhausted> {
    let new = |store: Option<std::sync::MutexGuard<'f, memo::Store>>| Ctx {
        policy,
        facts,
        as_of,
        memo: vec![None; policy.defs.len()],
        steps: 0,
        lets: Vec::new(),
        spare: Vec::new(),
        def_indexes: rustc_hash::FxHashMap::default(),
        key: Vec::new(),
        // Definitions', then rules' (numbered after the definitions).
        contexts: vec![
            u32::MAX;
            if store.is_some() {
                policy.defs.len() + policy.rules.len()
            } else {
                0
            }
        ],
        store: store.map(|mut s| {
            s.start_document();
            s
        }),
        remembered: false,
        calls: rustc_hash::FxHashMap::default(),
        tested: Vec::new(),
    };
    let mut cx = new(memo.and_then(Memo::store));
    match cx.run() {
        // Remembered values charge their steps, and contexts may compute
        // definitions the document would not have read: the budget can
        // run out sooner than without them, never later. Decide by the
        // document alone.
        Err(Exhausted) if cx.remembered => {
            drop(cx);
            new(None).run()
        }
        r => r,
    }
}

/// What the rules decided for one item: usually one decision.
enum Candidates {
    One(Decided),
    Many(Vec<Decided>),
}

impl Candidates {
    /// Those of `more` after these.
    fn extend(&mut self, more: Candidates) {
        match more {
            Candidates::One(d) => self.push(d),
            Candidates::Many(all) => {
                for d in all {
                    self.push(d);
                }
            }
        }
    }

    fn push(&mut self, d: Decided) {
        *self = match std::mem::replace(self, Candidates::Many(Vec::new())) {
            Candidates::One(first) => Candidates::Many(vec![first, d]),
            Candidates::Many(mut all) => {
                all.push(d);
                Candidates::Many(all)
            }
        };
    }
}

struct Decided {
    rule: RuleIdx,
    value: u32,
    from: Value,
}

/// What a document's rules decided for one decision's lines.
#[derive(Default)]
struct Decisions {
    /// By the key of the item decided for.
    keyed: rustc_hash::FxHashMap<Value, Candidates>,
    /// By position in the first list a deciding rule went over (usually
    /// the list the decision goes over: a line then finds its decisions
    /// by its position, with no key computed or hashed); rules over
    /// another list decide by key.
    by_position: Option<(Arc<List>, Vec<Option<Candidates>>)>,
}

impl Decisions {
    /// `c` added to the decisions for `key`, after those already there.
    fn by_key(&mut self, key: Value, c: Candidates) {
        match self.keyed.entry(key) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(c);
            }
            std::collections::hash_map::Entry::Occupied(mut e) => e.get_mut().extend(c),
        }
    }

    /// Held by the position of the item in `list`, when `list` is the one
    /// this holds positions in (or the first); else given back.
    fn at_position(&mut self, list: &Value, i: usize, d: Decided) -> Option<Decided> {
        let Value::List(l) = list else {
            return Some(d);
        };
        let (held, cands) = self.by_position.get_or_insert_with(|| {
            let mut cands = Vec::new();
            cands.resize_with(l.items.len(), || None);
            (l.clone(), cands)
        });
        if !Arc::ptr_eq(held, l) {
            return Some(d);
        }
        match cands.get_mut(i) {
            Some(Some(c)) => c.push(d),
            Some(slot) => *slot = Some(Candidates::One(d)),
            None => return Some(d),
        }
        None
    }
}

/// Where the outcomes of a document's rules go.
struct Fired<'a> {
    diagnostics: &'a mut Vec<DiagnosticReport>,
    documents: &'a mut Vec<DocumentReport>,
    decided: &'a mut [Decisions],
}

/// Bind the first item of `held` (see `hold_item`) and the `let`s computed
/// for it then: its position, which `let`s are bound, and the rest.
fn restore<'h>(
    rule: &RuleDef,
    held: &'h [Value],
    items: &[Value],
    frame: &mut Vec<Value>,
) -> Option<(usize, u64, &'h [Value])> {
    let [Value::Int(i), Value::Int(done), rest @ ..] = held else {
        return None;
    };
    let (i, done) = (usize::try_from(*i).ok()?, *done as u64);
    let (lets, rest) = rest.split_at_checked(done.count_ones() as usize)?;
    if frame.len() < rule.frame as usize {
        frame.resize(rule.frame as usize, Value::None);
    }
    let (slot, _) = rule.for_each.as_ref()?;
    *frame.get_mut(*slot as usize)? = items.get(i)?.clone();
    let bound = rule
        .lets
        .iter()
        .enumerate()
        .filter(|(k, _)| done & (1u64 << k) != 0);
    for ((_, (slot, _)), v) in bound.zip(lets) {
        *frame.get_mut(*slot as usize)? = v.clone();
    }
    Some((i, done, rest))
}

/// A remembered rule's record of an item it holds for, appended to `held`
/// (one list for all its items): its position, the `let`s its condition
/// computed (a bit each), and their values.
fn hold_item(held: &mut Vec<Value>, rule: &RuleDef, i: usize, done: u64, frame: &[Value]) {
    held.push(Value::Int(i as i64));
    held.push(Value::Int(done as i64));
    for (k, (slot, _)) in rule.lets.iter().enumerate() {
        if done & (1u64 << k) != 0 {
            held.push(frame.get(*slot as usize).cloned().unwrap_or_default());
        }
    }
}

impl<'p: 'f, 'f> Ctx<'p, 'f> {
    fn step(&mut self, n: u64) -> R<()> {
        self.steps += n;
        if self.steps > MAX_STEPS {
            Err(Exhausted)
        } else {
            Ok(())
        }
    }

    fn run(&mut self) -> R<Report<'p>> {
        let policy = self.policy;
        let subject = match &policy.subject {
            Some((name, ir)) => {
                let mut frame = vec![Value::None; policy.subject_frame as usize];
                Some((name.clone(), self.eval(ir, &mut frame)?))
            }
            None => None,
        };
        let mut diagnostics = Vec::new();
        let mut documents = Vec::new();
        let mut decided: Vec<Decisions> = (0..policy.decisions.len())
            .map(|_| Decisions::default())
            .collect();
        let mut frame = Vec::new();
        // What a rule without `for` is evaluated once for.
        let no_item = [Value::None];
        for &ri in &policy.order {
            let Some(rule) = policy.rules.get(ri as usize) else {
                continue;
            };
            // The part of `when` that is the same for every item, once.
            let guard_start = self.steps;
            if let (Some(g), Some(_)) = (&rule.guard, &rule.for_each) {
                frame.clear();
                frame.resize(rule.frame as usize, Value::None);
                self.lets.push((ri, 0));
                let holds = self.test(g, &mut frame);
                self.lets.pop();
                if !holds? {
                    continue;
                }
            }
            // Charged again with each answer `fires` finds (see `Tested`).
            let guard_steps = self.steps - guard_start;
            let list = match &rule.for_each {
                Some((_, ir)) => {
                    frame.clear();
                    frame.resize(rule.frame as usize, Value::None);
                    self.eval(ir, &mut frame)?
                }
                None => Value::None,
            };
            let items = match &rule.for_each {
                Some(_) => list.as_list(),
                None => &no_item,
            };
            let mut fired = Fired {
                diagnostics: &mut diagnostics,
                documents: &mut documents,
                decided: &mut decided,
            };
            // The items a remembered rule held for in this context, when an
            // earlier document had it: not tested again.
            let remembered = self.rule_context(ri, rule)?;
            let found = match remembered {
                Some((id, c, true)) => self.store.as_mut().and_then(|s| s.get(id, c, &[])),
                _ => None,
            };
            if let Some((held, steps)) = found {
                self.remembered = true;
                self.step(steps)?;
                // Answers for `fires` asked later about these items: each
                // charged the steps of the whole loop, at least what
                // testing the item would take.
                let charge = u32::try_from(guard_steps + steps).unwrap_or(u32::MAX);
                let mut answers = rule.asked.then(|| vec![(false, charge); items.len()]);
                let mut rest = held.as_list();
                while let Some((i, done, next)) = restore(rule, rest, items, &mut frame) {
                    if let Some(a) = answers.as_mut().and_then(|a| a.get_mut(i)) {
                        a.0 = true;
                    }
                    self.fired(ri, rule, &list, i, done, &mut frame, &mut fired)?;
                    rest = next;
                }
                if let Some(held) = answers {
                    self.keep_answers(ri, &list, held);
                }
                continue;
            }
            // Otherwise each item is tested, and, for a remembered rule,
            // those it holds for recorded with the `let`s it computed.
            let mut record = remembered.map(|_| (Vec::new(), 0u64));
            let mut tested = rule.asked.then(|| Vec::with_capacity(items.len()));
            for (i, item) in items.iter().enumerate() {
                let start = self.steps;
                let done = self.fires_checked(ri, item, &mut frame, true)?;
                if let Some((held, steps)) = record.as_mut() {
                    *steps += self.steps - start;
                    if let Some(done) = done {
                        hold_item(held, rule, i, done, &frame);
                    }
                }
                if let Some(t) = tested.as_mut() {
                    let steps = guard_steps + self.steps - start;
                    t.push((done.is_some(), u32::try_from(steps).unwrap_or(u32::MAX)));
                }
                let Some(done) = done else {
                    continue;
                };
                self.fired(ri, rule, &list, i, done, &mut frame, &mut fired)?;
            }
            if let (Some((_, c, _)), Some((held, steps)), Some(store)) =
                (remembered, record, self.store.as_mut())
            {
                store.put(c, memo::Args::new(&[]), &Value::list(held), steps);
            }
            if let Some(held) = tested {
                self.keep_answers(ri, &list, held);
            }
        }
        self.finish(subject, diagnostics, documents, decided)
    }

    /// What rule `ri`'s loop over `list` found for each item, for `fires`
    /// asked about them later in the document.
    fn keep_answers(&mut self, ri: RuleIdx, list: &Value, held: Vec<(bool, u32)>) {
        if self.tested.len() <= ri as usize {
            // Once a document: room for every rule's answers.
            let rules = self.policy.rules.len().max(ri as usize + 1);
            self.tested.resize_with(rules, || None);
        }
        if let Some(slot) = self.tested.get_mut(ri as usize) {
            *slot = Some(Tested::new(list.clone(), held));
        }
    }

    /// The context of a rule whose items are remembered (numbered after
    /// the definitions in the store), its number and whether an earlier
    /// document had it.
    fn rule_context(&mut self, ri: RuleIdx, rule: &'p RuleDef) -> R<Option<(DefId, u32, bool)>> {
        let id = (self.policy.defs.len() + ri as usize) as DefId;
        Ok(self
            .context(id, rule.memo.as_ref())?
            .map(|(c, known)| (id, c, known)))
    }

    /// The outcomes of `rule` for item `i` of `list`, bound in `frame`
    /// with the `let`s `done` says.
    #[allow(clippy::too_many_arguments)]
    fn fired(
        &mut self,
        ri: RuleIdx,
        rule: &RuleDef,
        list: &Value,
        i: usize,
        done: u64,
        frame: &mut [Value],
        to: &mut Fired,
    ) -> R<()> {
        let items = list.as_list();
        let item = match (&rule.for_each, items.get(i)) {
            (Some(_), Some(item)) => item,
            _ => &Value::None,
        };
        // Where the item is written, for `at`: its own origin, or its
        // place in the list's.
        let origin = item.origin().or_else(|| {
            Some(Origin {
                doc: list.origin()?.doc,
                node: *self.children(list)?.get(i)?,
            })
        });
        self.lets.push((ri, done));
        let outcomes = self.outcomes(
            ri,
            rule,
            item,
            rule.for_each.as_ref().map(|_| (list, i)),
            origin,
            frame,
            to.diagnostics,
            to.documents,
            to.decided,
        );
        self.lets.pop();
        outcomes
    }

    /// What a rule that fires for an item (at position `at` of its list)
    /// says.
    #[allow(clippy::too_many_arguments)]
    fn outcomes(
        &mut self,
        ri: RuleIdx,
        rule: &RuleDef,
        item: &Value,
        at: Option<(&Value, usize)>,
        origin: Option<Origin>,
        frame: &mut [Value],
        diagnostics: &mut Vec<DiagnosticReport>,
        documents: &mut Vec<DocumentReport>,
        decided: &mut [Decisions],
    ) -> R<()> {
        let policy = self.policy;
        {
            {
                for o in &rule.outcomes {
                    match o {
                        Outcome::Diagnostic {
                            severity,
                            guard,
                            at,
                            message,
                        } => {
                            if let Some(g) = guard {
                                if !self.test(g, frame)? {
                                    continue;
                                }
                            }
                            let text = self.template(message, frame)?;
                            let (at, location) = match at {
                                Some(p) => self.place(p, frame, rule, origin)?,
                                None => (None, None),
                            };
                            diagnostics.push(DiagnosticReport {
                                rule: Some(ri),
                                severity: *severity,
                                message: text,
                                at,
                                location,
                            });
                        }
                        Outcome::Decide {
                            decision,
                            value,
                            from,
                        } => {
                            let Some(d) = policy.decisions.get(*decision as usize) else {
                                continue;
                            };
                            let from = match from {
                                Some(f) => self.eval(f, frame)?,
                                None => Value::None,
                            };
                            let Some(decisions) = decided.get_mut(*decision as usize) else {
                                continue;
                            };
                            let mut decided = Decided {
                                rule: ri,
                                value: *value,
                                from,
                            };
                            // By position when the line's key reads nothing
                            // but the item: whether a list's keys are
                            // distinct is then known once a run.
                            if let Some((list, i)) = at.filter(|_| d.row_heads.is_some()) {
                                match decisions.at_position(list, i, decided) {
                                    Some(back) => decided = back,
                                    None => continue,
                                }
                            }
                            let key = self.item_key(d, item)?;
                            decisions.by_key(key, Candidates::One(decided));
                        }
                        Outcome::Document {
                            document,
                            with,
                            status,
                        } => {
                            let mut fields = Vec::new();
                            for (n, ir) in with {
                                fields.push((n.clone(), self.eval(ir, frame)?));
                            }
                            let status = match self.eval(status, frame)? {
                                Value::Enum { variant, .. } => variant,
                                _ => 2,
                            };
                            documents.push(DocumentReport {
                                document: *document,
                                rule: ri,
                                status,
                                with: fields,
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn finish(
        &mut self,
        subject: Option<(String, Value)>,
        mut diagnostics: Vec<DiagnosticReport>,
        mut documents: Vec<DocumentReport>,
        mut decided: Vec<Decisions>,
    ) -> R<Report<'p>> {
        let policy = self.policy;
        let mut decisions = Vec::new();
        for (di, d) in policy.decisions.iter().enumerate() {
            let mut dframe = vec![Value::None; d.frame as usize];
            let over = self.eval(&d.over, &mut dframe)?;
            let mut map = decided.get_mut(di).map(std::mem::take).unwrap_or_default();
            // Decided by position in the list the lines go over: each
            // line takes its own, when no two items share a key. Else (or
            // in another list) by key, as rules over other lists decide.
            let mut by_position = match map.by_position.take() {
                Some((list, cands)) => {
                    let same = matches!(&over, Value::List(o) if Arc::ptr_eq(o, &list));
                    if same && self.keys_distinct(di, d, &list)? {
                        cands
                    } else {
                        for (item, c) in list.items.iter().zip(cands) {
                            if let Some(c) = c {
                                let key = self.item_key(d, item)?;
                                map.by_key(key, c);
                            }
                        }
                        Vec::new()
                    }
                }
                None => Vec::new(),
            };
            let mut lines = Vec::with_capacity(over.as_list().len());
            for (i, item) in over.as_list().iter().enumerate() {
                let head = match self.cached_head(d, item) {
                    Some(h) => Head::Shared(h),
                    None => {
                        let head = self.line_head(d, item, &mut dframe)?;
                        let cell = match (&d.row_heads, item) {
                            (Some((t, heads)), Value::Row(it, r)) if it == t => {
                                heads.get(*r as usize)
                            }
                            _ => None,
                        };
                        match cell {
                            Some(cell) => Head::Shared(cell.get_or_init(|| head)),
                            None => Head::Own(Box::new(head)),
                        }
                    }
                };
                let mut decided = by_position.get_mut(i).and_then(Option::take);
                // Most lines of most documents no rule decided by key: no
                // hashing.
                if !map.keyed.is_empty() {
                    if let Some(more) = map.keyed.remove(&head.key) {
                        decided = Some(match decided {
                            Some(mut c) => {
                                c.extend(more);
                                c
                            }
                            None => more,
                        });
                    }
                }
                let (value, rule, from) = match decided {
                    None => (d.default, None, Value::None),
                    Some(Candidates::One(only)) => (only.value, Some(only.rule), only.from),
                    Some(Candidates::Many(cands)) => {
                        let (winner, conflict) = self.resolve(cands);
                        if let Some((a, b)) = conflict {
                            diagnostics.push(self.conflict(d, &head.key, a, b));
                        }
                        (winner.value, Some(winner.rule), winner.from)
                    }
                };
                lines.push(DecisionLine {
                    head,
                    value,
                    rule,
                    from,
                });
            }
            decisions.push(DecisionReport {
                decision: di as u32,
                lines,
            });
        }
        // The report's order, whatever the rules' evaluation order: rules
        // by ID, documents as declared, then by rule.
        let rule_order = |r: Option<RuleIdx>| {
            r.and_then(|r| policy.rules.get(r as usize))
                .map(|r| r.id.as_str())
        };
        diagnostics.sort_by(|a, b| rule_order(a.rule).cmp(&rule_order(b.rule)));
        documents.sort_by_key(|d| (d.document, d.rule));
        let outcome = if diagnostics.iter().any(|d| d.severity == Severity::Error) {
            OutcomeKind::Rejected
        } else if documents.iter().any(|d| d.status == 2) {
            OutcomeKind::Incomplete
        } else {
            OutcomeKind::Complete
        };
        Ok(Report {
            subject,
            as_of: self.as_of,
            outcome,
            decisions,
            documents,
            diagnostics,
        })
    }

    /// The line head of a table row a decision goes over, when computed
    /// already (by this run, for any document).
    fn cached_head(&self, d: &'p Decision, item: &Value) -> Option<&'p LineHead> {
        match (&d.row_heads, item) {
            (Some((t, heads)), Value::Row(it, r)) if it == t => heads.get(*r as usize)?.get(),
            _ => None,
        }
    }

    /// The key of the line `d` shows for `item`: its row's line head's,
    /// when computed already.
    fn item_key(&mut self, d: &'p Decision, item: &Value) -> R<Value> {
        if let Some(h) = self.cached_head(d, item) {
            return Ok(h.key.clone());
        }
        let mut dframe = vec![Value::None; d.frame as usize];
        if let Some(slot) = dframe.get_mut(d.var as usize) {
            *slot = item.clone();
        }
        self.eval(&d.key, &mut dframe)
    }

    /// Whether the items of `list`, a list decision `d` goes over, each
    /// have a key of their own (a line then takes the decisions of its
    /// position). Decided by position only when the key reads nothing but
    /// the item (`row_heads`), so the thread's store remembers it for a
    /// list it keeps.
    fn keys_distinct(&mut self, di: usize, d: &'p Decision, list: &Arc<List>) -> R<bool> {
        if let Some(known) = self.store.as_ref().and_then(|s| s.keys_distinct(list, di)) {
            return Ok(known);
        }
        let mut seen = rustc_hash::FxHashSet::default();
        seen.reserve(list.items.len());
        let mut distinct = true;
        for item in &list.items {
            if !seen.insert(self.item_key(d, item)?) {
                distinct = false;
                break;
            }
        }
        if let Some(s) = self.store.as_mut() {
            s.remember_keys_distinct(list, di, distinct);
        }
        Ok(distinct)
    }

    fn line_head(&mut self, d: &Decision, item: &Value, dframe: &mut [Value]) -> R<LineHead> {
        if let Some(slot) = dframe.get_mut(d.var as usize) {
            *slot = item.clone();
        }
        let key = self.eval(&d.key, dframe)?;
        let mut show = Vec::with_capacity(d.show.len());
        for (_, ir) in &d.show {
            show.push(self.eval(ir, dframe)?);
        }
        let group = match &d.group_by {
            Some(g) => self.eval(g, dframe)?,
            None => Value::None,
        };
        let row = match (&d.row_heads, item) {
            (Some((t, _)), Value::Row(it, r)) if it == t => Some(*r),
            _ => None,
        };
        Ok(LineHead {
            key,
            show,
            group,
            json: std::sync::OnceLock::new(),
            row,
            run: std::sync::OnceLock::new(),
            decided: std::sync::OnceLock::new(),
        })
    }

    fn conflict(&self, d: &Decision, key: &Value, a: RuleIdx, b: RuleIdx) -> DiagnosticReport {
        let id = |r: RuleIdx| {
            self.policy
                .rules
                .get(r as usize)
                .map(|r| r.id.clone())
                .unwrap_or_default()
        };
        DiagnosticReport {
            rule: None,
            severity: Severity::Error,
            message: format!(
                "policy conflict: rules `{}` and `{}` decide `{}` differently for `{}`, and neither overrides the other",
                id(a),
                id(b),
                d.name,
                display(self.policy, key)
            ),
            at: None,
            location: None,
        }
    }

    /// The decision that stands: one no other candidate overrides. Two
    /// that stand with different values are a conflict; the first by rule
    /// ID is kept so the report stays deterministic.
    fn resolve(&self, mut cands: Vec<Decided>) -> (Decided, Option<(RuleIdx, RuleIdx)>) {
        let rules = &self.policy.rules;
        let overrides = |a: RuleIdx, b: RuleIdx| -> bool {
            let mut stack = vec![a];
            let mut seen = Vec::new();
            while let Some(x) = stack.pop() {
                if seen.contains(&x) {
                    continue;
                }
                seen.push(x);
                if let Some(r) = rules.get(x as usize) {
                    if r.overrides.contains(&b) {
                        return true;
                    }
                    stack.extend(&r.overrides);
                }
            }
            false
        };
        let standing: Vec<usize> = (0..cands.len())
            .filter(|&i| {
                !cands.iter().enumerate().any(|(j, c)| {
                    j != i && cands.get(i).is_some_and(|ci| overrides(c.rule, ci.rule))
                })
            })
            .collect();
        let id = |r: RuleIdx| rules.get(r as usize).map(|r| r.id.as_str()).unwrap_or("");
        let mut standing: Vec<usize> = if standing.is_empty() {
            (0..cands.len()).collect()
        } else {
            standing
        };
        standing.sort_by(|&a, &b| id(cands[a].rule).cmp(id(cands[b].rule)));
        let first = standing.first().copied().unwrap_or(0);
        let conflict = standing
            .iter()
            .skip(1)
            .find(|&&i| cands[i].value != cands[first].value)
            .map(|&i| (cands[first].rule, cands[i].rule));
        (cands.swap_remove(first), conflict)
    }

    /// The nodes of a list read from facts, one an item.
    fn children(&self, list: &Value) -> Option<&'f [u32]> {
        let o = list.origin()?;
        let tree: &'f Tree = match o.doc {
            DocRef::Input => self.facts.input_tree?,
            DocRef::Registry => self.facts.registry_tree?.tree()?,
        };
        match &tree.node(o.node).value {
            NodeValue::Seq(items) => Some(items),
            _ => None,
        }
    }

    fn tree(&self, doc: DocRef) -> Option<&Tree> {
        match doc {
            DocRef::Input => self.facts.input_tree,
            DocRef::Registry => self.facts.registry_tree?.tree(),
        }
    }

    /// Bind the rule's item and evaluate its `when` (its `let`s are
    /// evaluated when first read). `Some` with the `let`s evaluated so far
    /// when it holds.
    fn holds(
        &mut self,
        r: RuleIdx,
        item: &Value,
        frame: &mut Vec<Value>,
        guard_known: bool,
    ) -> R<Option<u64>> {
        let Some(rule) = self.policy.rules.get(r as usize) else {
            return Ok(None);
        };
        self.step(1)?;
        // Slots are not cleared from one item to the next: each is written
        // before it is read (`let`s are computed on first read, query and
        // quantifier variables bound before their condition).
        if frame.len() < rule.frame as usize {
            frame.resize(rule.frame as usize, Value::None);
        }
        if let Some((slot, _)) = &rule.for_each {
            if let Some(s) = frame.get_mut(*slot as usize) {
                *s = item.clone();
            }
        }
        self.lets.push((r, 0));
        let guard = match (&rule.guard, guard_known) {
            (Some(g), false) => self.test(g, frame),
            _ => Ok(true),
        };
        let holds = match (guard, &rule.when) {
            (Ok(true), Some(w)) => self.test(w, frame),
            (other, _) => other,
        };
        let done = self.lets.pop().map(|l| l.1).unwrap_or(0);
        Ok(if holds? { Some(done) } else { None })
    }

    /// The rule holds for the item and none of its exceptions does.
    fn fires(&mut self, r: RuleIdx, item: &Value, frame: &mut Vec<Value>) -> R<Option<u64>> {
        // Asked again about an item its loop tested: its answer, with the
        // steps it took.
        let known = self
            .tested
            .get_mut(r as usize)
            .and_then(Option::as_mut)
            .and_then(|t| t.find(item));
        if let Some((held, steps)) = known {
            self.step(u64::from(steps))?;
            return Ok(held.then_some(0));
        }
        self.fires_checked(r, item, frame, false)
    }

    /// `fires`, knowing (`guard_known`) that the rule's item-independent
    /// conditions hold.
    fn fires_checked(
        &mut self,
        r: RuleIdx,
        item: &Value,
        frame: &mut Vec<Value>,
        guard_known: bool,
    ) -> R<Option<u64>> {
        let Some(done) = self.holds(r, item, frame, guard_known)? else {
            return Ok(None);
        };
        let Some(rule) = self.policy.rules.get(r as usize) else {
            return Ok(None);
        };
        let mut other = Vec::new();
        for &e in &rule.exceptions {
            if self.fires(e, item, &mut other)?.is_some() {
                return Ok(None);
            }
        }
        Ok(Some(done))
    }

    /// Definition `d`'s body on the frame `f`, whose first `params` slots
    /// hold its arguments: remembered from an earlier document when it can
    /// be, and remembered for the next ones.
    fn apply(&mut self, d: DefId, def: &'p Def, params: usize, f: &mut [Value]) -> R<Value> {
        let Some((context, known)) = self.context(d, def.memo.as_ref())? else {
            if params == 0 || def.memo.is_none() {
                return self.eval(&def.body, f);
            }
            return self.apply_once(d, def, params, f);
        };
        let position_in = def.memo.as_ref().and_then(|m| m.position_in);
        let args = f.get(..params).unwrap_or(&[]);
        let store = self.store.as_mut();
        if let Some((v, steps)) = store
            .filter(|_| known)
            .and_then(|s| s.get(d, context, args))
        {
            self.remembered = true;
            self.step(steps)?;
            return match position_in {
                Some(list) => self.item_at(list, &v),
                None => Ok(v),
            };
        }
        let args = memo::Args::new(args);
        let (v, steps) = self.measured(def, f)?;
        let kept = match position_in {
            Some(list) => self.position_of(list, &v)?,
            None => Some(v.clone()),
        };
        if let (Some(s), Some(kept)) = (self.store.as_mut(), kept) {
            s.put(context, args, &kept, steps);
        }
        Ok(v)
    }

    /// The item at a remembered position (`position_in`) of this
    /// document's `list`; none for none.
    fn item_at(&mut self, list: DefId, position: &Value) -> R<Value> {
        let Value::Int(p) = position else {
            return Ok(Value::None);
        };
        let items = self.eval(&Ir::Global(list), &mut [])?;
        let item = usize::try_from(*p)
            .ok()
            .and_then(|p| items.as_list().get(p).cloned());
        Ok(item.unwrap_or_default())
    }

    /// Where `item` is in this document's `list`, to be remembered (see
    /// `item_at`); none for none, and `None` (not remembered) should it
    /// not be there.
    fn position_of(&mut self, list: DefId, item: &Value) -> R<Option<Value>> {
        if matches!(item, Value::None) {
            return Ok(Some(Value::None));
        }
        let items = self.eval(&Ir::Global(list), &mut [])?;
        let position = items.as_list().iter().position(|x| x.same(item));
        Ok(position.map(|p| Value::Int(p as i64)))
    }

    /// Definition `def`'s body on `f`, with the steps it took.
    fn measured(&mut self, def: &Def, f: &mut [Value]) -> R<(Value, u64)> {
        let start = self.steps;
        let v = self.eval(&def.body, f)?;
        Ok((v, self.steps - start))
    }

    /// `apply` for a definition no store serves: computed once a document
    /// for the same arguments (charging its steps each time, as if computed
    /// again), unless the run's store has seen its calls seldom come back
    /// within a document (then keeping them costs more than it saves).
    fn apply_once(&mut self, d: DefId, def: &'p Def, params: usize, f: &mut [Value]) -> R<Value> {
        if self.store.as_ref().is_some_and(|s| !s.keeps_calls(d)) {
            return self.eval(&def.body, f);
        }
        let args = f.get(..params).unwrap_or(&[]);
        let h = memo::call_hash(d, args);
        if let Some((held, held_args, v, steps)) = self.calls.get(&h) {
            if *held == d && held_args.is(args) {
                let (v, steps) = (v.clone(), *steps);
                if let Some(s) = self.store.as_mut() {
                    s.count_call(d, true);
                }
                self.step(steps)?;
                return Ok(v);
            }
        }
        if let Some(s) = self.store.as_mut() {
            s.count_call(d, false);
        }
        let args = memo::Args::new(args);
        let (v, steps) = self.measured(def, f)?;
        if self.calls.len() < DOCUMENT_CALLS {
            self.calls.insert(h, (d, args, v.clone(), steps));
        }
        Ok(v)
    }

    /// The number of `d`'s context in this document, computed on first
    /// need, and whether an earlier document had it; `None` when `d` is not
    /// remembered.
    #[inline]
    fn context(
        &mut self,
        d: DefId,
        plan: Option<&'p memo_plan::MemoPlan>,
    ) -> R<Option<(u32, bool)>> {
        let Some(plan) = plan.filter(|_| self.store.is_some()) else {
            return Ok(None);
        };
        match self.contexts.get(d as usize) {
            Some(&UNUSABLE) | None => Ok(None),
            Some(&c) if c != u32::MAX => Ok(Some((c & !KNOWN, c & KNOWN != 0))),
            Some(_) => self.new_context(d, plan),
        }
    }

    /// `context`, the first time `d`'s is needed in this document.
    fn new_context(&mut self, d: DefId, plan: &'p memo_plan::MemoPlan) -> R<Option<(u32, bool)>> {
        let Some(store) = &self.store else {
            return Ok(None);
        };
        if !store.enabled(d) {
            return Ok(None);
        }
        // The context computes definitions the document may not read.
        self.remembered = true;
        let policy = self.policy;
        let mut parts = Vec::with_capacity(plan.context.len());
        for ir in &plan.context {
            // A remembered definition is its context: a number.
            if let Ir::Global(g) = ir {
                if let Some(gdef) = policy.defs.get(*g as usize).filter(|g| g.params == 0) {
                    if let Some((c, _)) = self.context(*g, gdef.memo.as_ref())? {
                        parts.push(memo::Part::Context(c));
                        continue;
                    }
                }
            }
            let v = self.eval(ir, &mut [])?;
            if !v.is_portable() {
                if let Some(slot) = self.contexts.get_mut(d as usize) {
                    *slot = UNUSABLE;
                }
                if let Some(s) = self.store.as_mut() {
                    s.unusable(d);
                }
                return Ok(None);
            }
            parts.push(memo::Part::Value(v));
        }
        let Some((c, known)) = self.store.as_mut().map(|s| s.context(d, parts)) else {
            return Ok(None);
        };
        if let Some(slot) = self.contexts.get_mut(d as usize) {
            *slot = if known { c | KNOWN } else { c };
        }
        Ok(Some((c, known)))
    }

    /// A `let` of the innermost rule, evaluated on first read.
    fn let_value(&mut self, slot: u32, k: u32, frame: &mut [Value]) -> R<Value> {
        let Some(&(r, done)) = self.lets.last() else {
            return Ok(Value::None);
        };
        if done & (1u64 << k) == 0 {
            let policy = self.policy;
            let Some((_, ir)) = policy
                .rules
                .get(r as usize)
                .and_then(|rule| rule.lets.get(k as usize))
            else {
                return Ok(Value::None);
            };
            let v = self.eval(ir, frame)?;
            if let Some(s) = frame.get_mut(slot as usize) {
                *s = v;
            }
            if let Some(top) = self.lets.last_mut() {
                top.1 |= 1u64 << k;
            }
        }
        Ok(frame.get(slot as usize).cloned().unwrap_or_default())
    }

    fn template(&mut self, parts: &[TemplatePart], frame: &mut [Value]) -> R<String> {
        // Room for the text and short values, so that a message is not
        // copied as it grows.
        let room = parts
            .iter()
            .map(|p| match p {
                TemplatePart::Text(t) => t.len(),
                TemplatePart::Expr(_) => 32,
            })
            .sum();
        let mut out = String::with_capacity(room);
        for p in parts {
            match p {
                TemplatePart::Text(t) => out.push_str(t),
                TemplatePart::Expr(ir) => {
                    let v = self.eval(ir, frame)?;
                    out.push_str(&display(self.policy, &v))
                }
            }
        }
        Ok(out)
    }

    /// The path and source location of `at`'s fact.
    fn place(
        &mut self,
        p: &Place,
        frame: &mut [Value],
        rule: &RuleDef,
        item_origin: Option<Origin>,
    ) -> R<PlaceFound> {
        match &p.base {
            PlaceBase::Local(slot) => {
                if let Some(k) = rule.lets.iter().position(|l| l.0 == *slot) {
                    self.let_value(*slot, k as u32, frame)?;
                }
            }
            // A definition the rule did not read yet: its value, for its
            // place.
            PlaceBase::Global(d) => {
                self.eval(&Ir::Global(*d), frame)?;
            }
            PlaceBase::Input(_) => {}
        }
        Ok(self.place_of(p, frame, rule, item_origin))
    }

    fn place_of(
        &self,
        p: &Place,
        frame: &[Value],
        rule: &RuleDef,
        item_origin: Option<Origin>,
    ) -> PlaceFound {
        let base_origin: Option<Origin> = match &p.base {
            PlaceBase::Input(i) => {
                let doc = if self
                    .policy
                    .inputs
                    .get(*i as usize)
                    .is_some_and(|x| x.registry)
                {
                    DocRef::Registry
                } else {
                    DocRef::Input
                };
                let name = self
                    .policy
                    .inputs
                    .get(*i as usize)
                    .map(|x| x.name.as_str())
                    .unwrap_or("");
                self.tree(doc)
                    .and_then(|t| t.child(t.root, name))
                    .map(|node| Origin { doc, node })
            }
            PlaceBase::Local(slot) => {
                let is_item = rule.for_each.as_ref().is_some_and(|f| f.0 == *slot);
                frame
                    .get(*slot as usize)
                    .and_then(Value::origin)
                    .or(if is_item { item_origin } else { None })
            }
            PlaceBase::Global(d) => self
                .memo
                .get(*d as usize)
                .and_then(|v| v.as_ref())
                .and_then(Value::origin),
        };
        let Some(mut origin) = base_origin else {
            return (None, None);
        };
        let Some(tree) = self.tree(origin.doc) else {
            return (None, None);
        };
        let mut missing = Vec::new();
        for f in &p.fields {
            if !missing.is_empty() {
                missing.push(f.clone());
                continue;
            }
            match tree.child(origin.node, f) {
                Some(n) => origin.node = n,
                None => missing.push(f.clone()),
            }
        }
        let mut path = tree.path(origin.node);
        for m in missing {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&m);
        }
        (Some(path), Some((origin.doc, tree.node(origin.node).span)))
    }

    /// The value of `ir`: read in place when it is one already there (a
    /// local, a constant, a computed definition, a field of one), computed
    /// otherwise.
    #[inline(always)]
    fn eval(&mut self, ir: &Ir, frame: &mut [Value]) -> R<Value> {
        if let Some(v) = self.place_ref(ir, frame) {
            return Ok(v.clone());
        }
        self.compute(ir, frame)
    }

    /// Both operands of `ir`, borrowed where they are already there.
    fn with_operands<T>(
        &mut self,
        a: &Ir,
        b: &Ir,
        frame: &mut [Value],
        f: impl FnOnce(&Value, &Value) -> T,
    ) -> R<T> {
        if let (Some(x), Some(y)) = (self.place_ref(a, frame), self.place_ref(b, frame)) {
            return Ok(f(x, y));
        }
        // Left to right: `a` is copied before `b` may reuse a slot.
        let x = self.eval(a, frame)?;
        if let Some(y) = self.place_ref(b, frame) {
            return Ok(f(&x, y));
        }
        let y = self.compute(b, frame)?;
        Ok(f(&x, &y))
    }

    /// The truth of a condition, without building its value.
    fn test(&mut self, ir: &Ir, frame: &mut [Value]) -> R<bool> {
        match ir {
            Ir::And(xs) => {
                for x in xs {
                    if !self.test(x, frame)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Ir::Or(xs) => {
                for x in xs {
                    if self.test(x, frame)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Ir::Not(x) => Ok(!self.test(x, frame)?),
            Ir::Cmp(op, a, b) => {
                let op = *op;
                let symbols = &self.policy.symbols;
                self.with_operands(a, b, frame, |a, b| match op {
                    CmpOp::Eq => a == b,
                    CmpOp::Ne => a != b,
                    _ => match a.compare(b, symbols) {
                        None => false,
                        Some(o) => match op {
                            CmpOp::Lt => o.is_lt(),
                            CmpOp::Le => o.is_le(),
                            CmpOp::Gt => o.is_gt(),
                            _ => o.is_ge(),
                        },
                    },
                })
            }
            Ir::In(a, b, negate) => {
                let found = self.with_operands(a, b, frame, |a, b| match b {
                    Value::List(l) => contains(l, a),
                    Value::Map(m) => m.entries.iter().any(|(k, _)| k == a),
                    _ => false,
                })?;
                Ok(found != *negate)
            }
            _ => match self.place_ref(ir, frame) {
                Some(v) => Ok(v.is_true()),
                None => Ok(self.compute(ir, frame)?.is_true()),
            },
        }
    }

    fn compute(&mut self, ir: &Ir, frame: &mut [Value]) -> R<Value> {
        Ok(match ir {
            Ir::Const(v) => v.clone(),
            Ir::Local(s) => frame.get(*s as usize).cloned().unwrap_or_default(),
            Ir::LetRef(slot, k) => self.let_value(*slot, *k, frame)?,
            Ir::Global(d) => {
                if let Some(Some(v)) = self.memo.get(*d as usize) {
                    return Ok(v.clone());
                }
                let policy = self.policy;
                let Some(def) = policy.defs.get(*d as usize) else {
                    return Ok(Value::None);
                };
                self.step(1)?;
                let mut f = vec![Value::None; def.frame as usize];
                let v = self.apply(*d, def, 0, &mut f)?;
                if let Some(slot) = self.memo.get_mut(*d as usize) {
                    *slot = Some(v.clone());
                }
                v
            }
            Ir::Call(d, args) => {
                let policy = self.policy;
                let Some(def) = policy.defs.get(*d as usize) else {
                    return Ok(Value::None);
                };
                self.step(1)?;
                let mut f = self.spare.pop().unwrap_or_default();
                f.resize(def.frame.max(args.len() as u32) as usize, Value::None);
                for (i, a) in args.iter().enumerate() {
                    let v = self.eval(a, frame)?;
                    if let Some(s) = f.get_mut(i) {
                        *s = v;
                    }
                }
                let v = self.apply(*d, def, args.len(), &mut f);
                f.clear();
                self.spare.push(f);
                v?
            }
            Ir::Input(i) => self
                .facts
                .inputs
                .get(*i as usize)
                .cloned()
                .flatten()
                .unwrap_or_default(),
            Ir::Table(t) => {
                let rows = self
                    .policy
                    .tables
                    .get(*t as usize)
                    .map(|t| t.rows)
                    .unwrap_or(0);
                self.step(u64::from(rows))?;
                Value::list((0..rows).map(|r| Value::Row(*t, r)).collect())
            }
            Ir::AsOf => Value::Date(self.as_of),
            Ir::Field(base, access) => {
                // A path of fields over a local, a computed definition or an
                // input is read in place: only the last field is copied.
                if let Some(b) = self.place_ref(base, frame) {
                    return Ok(self.field(b, *access));
                }
                // A query's field is read from each item as it is selected.
                if let (
                    Ir::Where { .. },
                    Access::Project(_, flatten) | Access::ProjectRow(_, flatten),
                ) = (&**base, *access)
                {
                    let mut out = Vec::new();
                    let all = self.select(base, frame, |cx, c| {
                        project(cx, &mut out, &c, *access, flatten);
                    })?;
                    if let Some(list) = all {
                        return Ok(self.field(&list, *access));
                    }
                    return Ok(Value::list(out));
                }
                let b = self.eval(base, frame)?;
                self.field(&b, *access)
            }
            Ir::Where { .. } => {
                let mut out = Vec::new();
                if let Some(list) = self.select(ir, frame, |_, c| out.push(c))? {
                    // Every item kept: the list itself.
                    return Ok(list);
                }
                Value::list(out)
            }
            Ir::Quant {
                all,
                src,
                var,
                body,
            } => {
                let list = self.eval(src, frame)?;
                let items = list.as_list();
                self.step(items.len() as u64)?;
                for item in items {
                    if let Some(s) = frame.get_mut(*var as usize) {
                        *s = item.clone();
                    }
                    let b = self.test(body, frame)?;
                    if *all && !b {
                        return Ok(Value::Bool(false));
                    }
                    if !*all && b {
                        return Ok(Value::Bool(true));
                    }
                }
                Value::Bool(*all)
            }
            Ir::If(c, t, e) => {
                if self.test(c, frame)? {
                    self.eval(t, frame)?
                } else {
                    self.eval(e, frame)?
                }
            }
            Ir::Not(_) | Ir::And(_) | Ir::Or(_) | Ir::Cmp(..) | Ir::In(..) => {
                Value::Bool(self.test(ir, frame)?)
            }
            Ir::AddInt(a, b, sub) => match (self.eval(a, frame)?, self.eval(b, frame)?) {
                (Value::Int(x), Value::Int(y)) => {
                    let r = if *sub {
                        x.checked_sub(y)
                    } else {
                        x.checked_add(y)
                    };
                    r.map(Value::Int).unwrap_or_default()
                }
                _ => Value::None,
            },
            Ir::Concat(a, b) => {
                let a = self.eval(a, frame)?;
                let b = self.eval(b, frame)?;
                if let (Value::Sym(_) | Value::Text(_), Value::Sym(_) | Value::Text(_)) = (&a, &b) {
                    let symbols = &self.policy.symbols;
                    let joined = format!("{}{}", symbols.str(&a), symbols.str(&b));
                    return Ok(symbols.text(&joined));
                }
                // Joining an empty list copies nothing.
                match (&a, &b) {
                    (Value::List(_), _) if b.as_list().is_empty() => return Ok(a),
                    (_, Value::List(_)) if a.as_list().is_empty() => return Ok(b),
                    _ => {}
                }
                let mut items = a.as_list().to_vec();
                items.extend_from_slice(b.as_list());
                Value::list(items)
            }
            Ir::Minus(a, b) => {
                let a = self.eval(a, frame)?;
                let b = self.eval(b, frame)?;
                let Value::List(bl) = &b else { return Ok(a) };
                let bl = bl.clone();
                Value::list(
                    a.as_list()
                        .iter()
                        .filter(|x| !contains(&bl, x))
                        .cloned()
                        .collect(),
                )
            }
            Ir::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.eval(i, frame)?);
                }
                Value::list(out)
            }
            Ir::Record(names, items) => {
                let mut fields = Vec::with_capacity(items.len());
                for i in items {
                    fields.push(self.eval(i, frame)?);
                }
                Value::Record(Arc::new(value::Record {
                    names: names.clone(),
                    fields,
                    origin: None,
                }))
            }
            Ir::Builtin(Builtin::Text, args) => {
                let v = match args.first() {
                    Some(a) => self.eval(a, frame)?,
                    None => Value::None,
                };
                self.policy.symbols.text(&display(self.policy, &v))
            }
            Ir::Builtin(b, args) => match args.as_slice() {
                [a] if is_place(a) => match self.place_ref(a, frame) {
                    Some(first) => builtin(*b, first, Value::None, &self.policy.symbols),
                    None => {
                        let first = self.compute(a, frame)?;
                        builtin(*b, &first, Value::None, &self.policy.symbols)
                    }
                },
                _ => {
                    let first = match args.first() {
                        Some(a) => self.eval(a, frame)?,
                        None => Value::None,
                    };
                    let second = match args.get(1) {
                        Some(a) => self.eval(a, frame)?,
                        None => Value::None,
                    };
                    builtin(*b, &first, second, &self.policy.symbols)
                }
            },
            Ir::Fires(r, arg) => {
                let item = match arg {
                    Some(a) => self.eval(a, frame)?,
                    None => Value::None,
                };
                let mut f = Vec::new();
                Value::Bool(self.fires(*r, &item, &mut f)?.is_some())
            }
        })
    }

    /// The items a `where` query keeps, in order, each given to `keep`;
    /// `Some(list)` instead when it keeps every item of a list it read
    /// whole (nothing was given to `keep` then).
    fn select(
        &mut self,
        ir: &Ir,
        frame: &mut [Value],
        mut keep: impl FnMut(&Self, Value),
    ) -> R<Option<Value>> {
        let Ir::Where {
            src,
            var,
            cond,
            lookup,
        } = ir
        else {
            return Ok(None);
        };
        let (rows, source) = match lookup {
            Some(l) => (self.lookup(l, frame)?, l.source),
            None => {
                let list = self.eval(src, frame)?;
                let Some(cond) = cond else {
                    self.step(list.as_list().len() as u64)?;
                    return Ok(Some(list));
                };
                let items = list.as_list();
                self.step(items.len() as u64)?;
                // Items are given to `keep` from the first one left out
                // (those before it, then each kept after it).
                let mut left_out = false;
                for (i, c) in items.iter().enumerate() {
                    if let Some(s) = frame.get_mut(*var as usize) {
                        *s = c.clone();
                    }
                    let kept = self.test(cond, frame)?;
                    if kept && left_out {
                        keep(self, c.clone());
                    } else if !kept && !left_out {
                        left_out = true;
                        for earlier in items.get(..i).unwrap_or(&[]) {
                            keep(self, earlier.clone());
                        }
                    }
                }
                return Ok((!left_out).then_some(list));
            }
        };
        self.step(rows.len() as u64)?;
        for &r in rows.iter() {
            let Some(c) = self.row_value(source, r) else {
                continue;
            };
            if let Some(cond) = cond {
                if let Some(s) = frame.get_mut(*var as usize) {
                    *s = c.clone();
                }
                if !self.test(cond, frame)? {
                    continue;
                }
            }
            keep(self, c);
        }
        Ok(None)
    }

    /// The positions of the rows or items an index holds for a query's
    /// key, in their order.
    fn lookup(&mut self, l: &IndexLookup, frame: &mut [Value]) -> R<Rows<'f>> {
        let policy = self.policy;
        let mut key = std::mem::take(&mut self.key);
        key.clear();
        let mut many = false;
        for (k, is_list) in &l.key {
            key.push(self.eval(k, frame)?);
            many |= *is_list;
        }
        if let LookupSource::Def(d) = l.source {
            if !self.def_indexes.contains_key(&l.index) {
                let list = self.eval(&Ir::Global(d), frame)?;
                self.step(list.as_list().len() as u64)?;
                let columns = policy
                    .index_specs
                    .get(l.index as usize)
                    .map(|s| s.columns.as_slice())
                    .unwrap_or(&[]);
                if list.as_list().len() <= SHORT_LIST {
                    let rows = scan(policy, list.as_list(), columns, &key, l);
                    self.key = key;
                    return Ok(Rows::Owned(rows));
                }
                let index = build_index(policy, list.as_list(), columns);
                self.def_indexes.insert(l.index, index);
            }
        }
        let facts = self.facts;
        // Tables' and the registry's indexes live as long as the run.
        let shared: Option<&'f Index> = match l.source {
            LookupSource::Table(_) => policy.table_indexes.get(l.index as usize),
            LookupSource::Registry(_) => facts.registry_indexes.get(l.index as usize),
            LookupSource::Def(_) => None,
        };
        if !many {
            // The common case: one value per key column, one hash lookup.
            self.step(1)?;
            let rows = match shared {
                Some(index) => {
                    Rows::Shared(index.get(key.as_slice()).map(Vec::as_slice).unwrap_or(&[]))
                }
                None => Rows::Owned(
                    self.def_indexes
                        .get(&l.index)
                        .and_then(|i| i.get(key.as_slice()))
                        .cloned()
                        .unwrap_or_default(),
                ),
            };
            self.key = key;
            return Ok(rows);
        }
        let Some(index) = shared.or_else(|| self.def_indexes.get(&l.index)) else {
            self.key = key;
            return Ok(Rows::Owned(Vec::new()));
        };
        // Every combination of the key's values (`in` gives several).
        let parts: Vec<&[Value]> = key
            .iter()
            .zip(&l.key)
            .map(|(v, (_, is_list))| {
                if *is_list {
                    v.as_list()
                } else {
                    std::slice::from_ref(v)
                }
            })
            .collect();
        let total: usize = parts.iter().map(|p| p.len()).product();
        self.steps += total as u64;
        if self.steps > MAX_STEPS {
            return Err(Exhausted);
        }
        let mut rows: Vec<u32> = Vec::new();
        let mut probe: Vec<Value> = Vec::with_capacity(parts.len());
        for n in 0..total {
            let mut rem = n;
            probe.clear();
            for p in &parts {
                let len = p.len().max(1);
                probe.push(p.get(rem % len).cloned().unwrap_or_default());
                rem /= len;
            }
            if let Some(r) = index.get(probe.as_slice()) {
                rows.extend_from_slice(r);
            }
        }
        drop(parts);
        self.key = key;
        rows.sort_unstable();
        rows.dedup();
        Ok(Rows::Owned(rows))
    }

    /// The value at a position an index gave.
    fn row_value(&self, source: LookupSource, r: u32) -> Option<Value> {
        match source {
            LookupSource::Table(t) => Some(Value::Row(t, r)),
            LookupSource::Def(d) => self
                .memo
                .get(d as usize)
                .and_then(|v| v.as_ref())
                .and_then(|v| v.as_list().get(r as usize))
                .cloned(),
            LookupSource::Registry(i) => self
                .facts
                .inputs
                .get(i as usize)
                .and_then(|v| v.as_ref())
                .and_then(|v| v.as_list().get(r as usize))
                .cloned(),
        }
    }

    /// The value `ir` stands for, by reference, when it is already there:
    /// a local, a constant, a `let` or a definition already computed, an
    /// input, or a field of one of them (a record's, a table row's).
    /// Inlined where it is asked (most expressions asked are not places,
    /// or plain slots): only a field's path is followed out of line.
    #[inline(always)]
    fn place_ref<'v>(&'v self, ir: &'v Ir, frame: &'v [Value]) -> Option<&'v Value> {
        match ir {
            Ir::Local(s) => frame.get(*s as usize),
            Ir::Const(v) => Some(v),
            Ir::LetRef(slot, k) => match self.lets.last() {
                Some(&(_, done)) if done & (1u64 << k) != 0 => frame.get(*slot as usize),
                _ => None,
            },
            Ir::Input(i) => self.facts.inputs.get(*i as usize).and_then(|v| v.as_ref()),
            Ir::Global(d) => self.memo.get(*d as usize).and_then(|v| v.as_ref()),
            Ir::Field(base, access @ (Access::Record(_) | Access::Row(_))) => {
                self.field_ref(base, *access, frame)
            }
            _ => None,
        }
    }

    /// `place_ref` of a field of `base`.
    fn field_ref<'v>(
        &'v self,
        base: &'v Ir,
        access: Access,
        frame: &'v [Value],
    ) -> Option<&'v Value> {
        // The usual bases read here directly: through `place_ref`, which
        // has them too, the batch takes 0.2 % more instructions.
        let b = match base {
            Ir::Local(s) => frame.get(*s as usize)?,
            Ir::Global(d) => self.memo.get(*d as usize)?.as_ref()?,
            Ir::Input(i) => self.facts.inputs.get(*i as usize)?.as_ref()?,
            _ => self.place_ref(base, frame)?,
        };
        match (access, b) {
            (Access::Record(i), Value::Record(r)) => r.fields.get(i as usize),
            (Access::Row(c), Value::Row(t, r)) => self.cell_ref(*t, *r, c),
            _ => None,
        }
    }

    fn cell_ref(&self, t: u32, r: u32, c: u32) -> Option<&'p Value> {
        self.policy
            .tables
            .get(t as usize)?
            .cells
            .get(c as usize)?
            .get(r as usize)
    }

    fn field(&self, b: &Value, access: Access) -> Value {
        match (access, b) {
            (Access::Record(i), Value::Record(r)) => {
                r.fields.get(i as usize).cloned().unwrap_or_default()
            }
            (Access::Row(c), Value::Row(t, r)) => self.cell(*t, *r, c),
            (Access::Each(i), Value::List(l)) => Value::list(
                l.items
                    .iter()
                    .map(|item| match item {
                        Value::Record(r) => r.fields.get(i as usize).cloned().unwrap_or_default(),
                        _ => Value::None,
                    })
                    .collect(),
            ),
            (Access::Project(_, flatten) | Access::ProjectRow(_, flatten), Value::List(l)) => {
                let mut out = Vec::with_capacity(l.items.len());
                for item in &l.items {
                    project(self, &mut out, item, access, flatten);
                }
                Value::list(out)
            }
            _ => Value::None,
        }
    }

    fn cell(&self, t: u32, r: u32, c: u32) -> Value {
        self.policy
            .tables
            .get(t as usize)
            .and_then(|t| t.cells.get(c as usize))
            .and_then(|col| col.get(r as usize))
            .cloned()
            .unwrap_or_default()
    }
}

/// Push the field `access` of one item of a list (`Project`, `ProjectRow`).
fn project(cx: &Ctx, out: &mut Vec<Value>, item: &Value, access: Access, flatten: bool) {
    match (access, item) {
        (Access::Project(i, _), Value::Record(r)) => {
            push_projected(out, r.fields.get(i as usize), flatten)
        }
        (Access::ProjectRow(c, _), Value::Row(t, r)) => {
            push_projected(out, cx.cell_ref(*t, *r, c), flatten)
        }
        _ => {}
    }
}

/// Can `place_ref` find this expression's value in place (once computed)?
fn is_place(ir: &Ir) -> bool {
    match ir {
        Ir::Local(_) | Ir::Const(_) | Ir::LetRef(..) | Ir::Input(_) | Ir::Global(_) => true,
        Ir::Field(base, Access::Record(_) | Access::Row(_)) => is_place(base),
        _ => false,
    }
}

fn push_projected(out: &mut Vec<Value>, v: Option<&Value>, flatten: bool) {
    match v {
        None | Some(Value::None) => {}
        Some(Value::List(inner)) if flatten => out.extend(inner.items.iter().cloned()),
        Some(v) => out.push(v.clone()),
    }
}

/// Membership, through a hash set built once for long lists.
fn contains(l: &List, x: &Value) -> bool {
    if l.items.len() <= 16 {
        // A policy's text, the usual case, equals only itself: its number.
        if let Value::Sym(a) = x {
            return l.items.iter().any(|y| matches!(y, Value::Sym(b) if b == a));
        }
        return l.items.contains(x);
    }
    l.lookup
        .get_or_init(|| Box::new(l.items.iter().cloned().collect()))
        .contains(x)
}

fn builtin(b: Builtin, first: &Value, second: Value, symbols: &Symbols) -> Value {
    match b {
        Builtin::Count => Value::Int(first.as_list().len() as i64),
        Builtin::Empty => Value::Bool(first.as_list().is_empty()),
        Builtin::Exists => Value::Bool(match &first {
            Value::None => false,
            Value::List(l) => !l.items.is_empty(),
            _ => true,
        }),
        Builtin::First => first.as_list().first().cloned().unwrap_or_default(),
        Builtin::Min | Builtin::Max => {
            let mut best: Option<&Value> = None;
            for v in first.as_list() {
                best = match best {
                    None if v.compare(v, symbols).is_some() => Some(v),
                    Some(cur) => match v.compare(cur, symbols) {
                        Some(std::cmp::Ordering::Less) if b == Builtin::Min => Some(v),
                        Some(std::cmp::Ordering::Greater) if b == Builtin::Max => Some(v),
                        _ => Some(cur),
                    },
                    None => None,
                };
            }
            best.cloned().unwrap_or_default()
        }
        Builtin::Distinct => {
            let mut seen = std::collections::HashSet::new();
            Value::list(
                first
                    .as_list()
                    .iter()
                    .filter(|v| seen.insert((*v).clone()))
                    .cloned()
                    .collect(),
            )
        }
        Builtin::Sort => {
            let mut items = first.as_list().to_vec();
            items.sort_by(|a, b| a.compare(b, symbols).unwrap_or(std::cmp::Ordering::Equal));
            Value::list(items)
        }
        Builtin::Sum => Value::Int(first.as_list().iter().fold(0i64, |acc, v| match v {
            Value::Int(i) => acc.saturating_add(*i),
            _ => acc,
        })),
        Builtin::Text => Value::None,
        Builtin::Compact => Value::list(
            first
                .as_list()
                .iter()
                .filter(|v| !matches!(v, Value::None))
                .cloned()
                .collect(),
        ),
        Builtin::Flatten => {
            let mut out = Vec::new();
            for v in first.as_list() {
                out.extend(v.as_list().iter().cloned());
            }
            Value::list(out)
        }
        Builtin::Valid => Value::Bool(
            matches!(&first, Value::Version(v) if matches!(**v, VersionValue::Valid(_))),
        ),
        Builtin::Keys => match &first {
            Value::Map(m) => Value::list(m.entries.iter().map(|e| e.0.clone()).collect()),
            _ => Value::list(Vec::new()),
        },
        Builtin::Get => match &first {
            Value::Map(m) => m
                .entries
                .iter()
                .find(|e| e.0 == second)
                .map(|e| e.1.clone())
                .unwrap_or_default(),
            _ => Value::None,
        },
        Builtin::OrElse => match first {
            Value::None => second,
            v => v.clone(),
        },
    }
}

/// A value as text, for messages.
pub fn display(policy: &Policy, v: &Value) -> String {
    let display = |v: &Value| display(policy, v);
    match v {
        Value::None => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Sym(_) => policy.symbols.str(v).to_string(),
        Value::Text(s) => s.as_str().to_string(),
        Value::Date(d) => value::date::format(*d),
        Value::Version(v) => v.text().to_string(),
        Value::Enum { ty, variant } => {
            crate::report::json::enum_name(policy, *ty, *variant).to_string()
        }
        Value::List(l) => l.items.iter().map(display).collect::<Vec<_>>().join(", "),
        Value::Record(r) => {
            let parts: Vec<String> = r
                .names
                .iter()
                .zip(&r.fields)
                .map(|(n, v)| format!("{n}: {}", display(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Row(t, r) => {
            let Some(table) = policy.tables.get(*t as usize) else {
                return String::new();
            };
            let parts: Vec<String> = table
                .columns
                .iter()
                .zip(&table.cells)
                .map(|(n, col)| {
                    format!(
                        "{n}: {}",
                        display(col.get(*r as usize).unwrap_or(&Value::None))
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Map(m) => {
            let parts: Vec<String> = m
                .entries
                .iter()
                .map(|(k, v)| format!("{}: {}", display(k), display(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{json, tree::Limits, typed};
    use crate::source::SourceFile;

    /// The decisions of a report, `item=status` or `item=status<-from`.
    fn plan(policy: &Policy, r: &Report) -> Vec<String> {
        r.decisions
            .iter()
            .flat_map(|d| &d.lines)
            .map(|l| {
                let d = policy.decisions.first().expect("one decision");
                let value = d.values.get(l.value as usize).expect("a value");
                let head = display(policy, &l.head.key);
                match l.from {
                    Value::None => format!("{head}={value}"),
                    ref from => format!("{head}={value}<-{}", display(policy, from)),
                }
            })
            .collect()
    }

    /// A rule's loop answers for the items of its list, found by value and
    /// written alike (a version as written), and for no other; questions
    /// in the list's order are answered without a table, others with one.
    #[test]
    fn a_loops_answers_are_found_for_its_own_items() {
        let v = |s: &str| {
            Value::Version(Arc::new(VersionValue::Valid(
                crate::version::parse(s).expect("a version"),
            )))
        };
        let items = vec![Value::Int(1), v("5.1"), Value::Int(7), Value::Int(1)];
        let held = vec![(true, 3), (false, 4), (false, 5), (true, 3)];
        let mut t = Tested::new(Value::list(items), held);
        assert_eq!(t.find(&Value::Int(1)), Some((true, 3)));
        assert_eq!(t.find(&v("5.1")), Some((false, 4)));
        assert_eq!(t.find(&Value::Int(7)), Some((false, 5)));
        assert!(t.positions.is_none(), "asked in order: no table");
        assert_eq!(t.find(&v("5.1.0")), None, "equal, written otherwise");
        assert_eq!(t.find(&Value::Int(2)), None);
        assert!(t.positions.is_some(), "not found near: a table");
        assert_eq!(t.find(&v("5.1")), Some((false, 4)), "out of order");
        assert_eq!(t.find(&Value::Int(1)), Some((true, 3)), "equal items");
    }

    proptest::proptest! {
        /// A short list searched item by item finds the positions an index
        /// gives: for an equality, and for an `in` (any of a list's values).
        #[test]
        fn a_short_list_is_searched_as_its_index_would_answer(
            items in proptest::collection::vec((0i64..3, 0i64..3), 0..10),
            a in 0i64..3,
            b in proptest::collection::vec(0i64..3, 0..3),
        ) {
            let checked = crate::check::load_policy(std::path::Path::new("tests/fixtures/rule-memo"))
                .expect("the fixture checks");
            let policy = &checked.policy;
            let names: Arc<[Arc<str>]> = Arc::from(vec![Arc::from("x"), Arc::from("y")]);
            let items: Vec<Value> = items
                .iter()
                .map(|&(x, y)| {
                    Value::Record(Arc::new(value::Record {
                        names: names.clone(),
                        fields: vec![Value::Int(x), Value::Int(y)],
                        origin: None,
                    }))
                })
                .collect();
            let columns = vec![vec![0], vec![1]];
            let lookup = IndexLookup {
                source: LookupSource::Def(0),
                index: 0,
                key: vec![(Ir::Const(Value::None), false), (Ir::Const(Value::None), true)],
            };
            let bs = Value::list(b.iter().map(|&y| Value::Int(y)).collect());
            let index = build_index(policy, &items, &columns);
            let mut expected: Vec<u32> = b
                .iter()
                .flat_map(|&y| index.get(&vec![Value::Int(a), Value::Int(y)]).cloned().unwrap_or_default())
                .collect();
            expected.sort_unstable();
            expected.dedup();
            let found = scan(policy, &items, &columns, &[Value::Int(a), bs], &lookup);
            proptest::prop_assert_eq!(found, expected);
        }
    }

    /// A rule that goes over a list and decides is remembered item by item:
    /// the second request of a context finds the items the first held for
    /// (a rule context known), and its decisions still say its own facts;
    /// an exception's facts (`waived`) are part of the context.
    #[test]
    fn a_remembered_rule_finds_its_items_and_decides_with_the_document_facts() {
        let checked = crate::check::load_policy(std::path::Path::new("tests/fixtures/rule-memo"))
            .expect("the fixture checks");
        let policy = &checked.policy;
        let memo = Memo::new(1);
        let run = |text: &str, memo: Option<&Memo>| {
            let source = SourceFile::new("request.json", text);
            let tree = json::parse_json(text, 0, &Limits::default()).expect("JSON");
            let inputs = typed::read_document(policy, &tree, &source, false).expect("facts");
            let facts = Facts {
                inputs: &inputs,
                input_tree: Some(&tree),
                registry_tree: None,
                registry_indexes: &[],
            };
            let r = evaluate_with(policy, &facts, 0, memo).expect("within budget");
            plan(policy, &r)
        };
        // A list written in the document holds its places: a context of
        // it is the document's own (`cyd`); left out, it is `[]` for all.
        let request = |owner: &str, level: u32, waived: &str| {
            let waived = match waived {
                "" => String::new(),
                w => format!(r#", "waived": [{w}]"#),
            };
            format!(
                r#"{{"request": {{"id": "r", "area": "A", "owner": "{owner}", "min_level": {level}{waived}}}}}"#
            )
        };
        let rule = policy
            .rules
            .iter()
            .position(|r| r.id == "R-1")
            .expect("R-1");
        assert!(policy.rules[rule].memo.is_some(), "R-1 is remembered");
        let id = (policy.defs.len() + rule) as DefId;
        let known = || memo.store().expect("free").contexts_known(id);
        let skipped = |owner: &str, codes: &[&str]| -> Vec<String> {
            ["A1", "A2", "A3"]
                .iter()
                .map(|c| match codes.contains(c) {
                    true => format!(
                        "{c}=skipped<-{{by: {owner}, why: {c} at level {}}}",
                        &c[1..]
                    ),
                    false => format!("{c}=deposit"),
                })
                .collect()
        };
        // The level is read by a `let` of the rule's `when`: another level,
        // another context.
        for (owner, level, waived, found, codes) in [
            ("ann", 2, "", (1, 0), &["A2", "A3"][..]),
            ("bob", 2, "", (2, 1), &["A2", "A3"]),
            ("cyd", 2, r#""A2""#, (3, 1), &["A3"]),
            ("dee", 2, "", (4, 2), &["A2", "A3"]),
            ("eve", 3, "", (5, 2), &["A3"]),
        ] {
            let text = request(owner, level, waived);
            let with = run(&text, Some(&memo));
            assert_eq!(with, skipped(owner, codes), "{owner}");
            assert_eq!(known(), found, "{owner}: contexts made, found");
            assert_eq!(with, run(&text, None), "{owner}: as afresh");
        }
    }
}
