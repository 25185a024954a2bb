//! Values of definitions remembered from one document to the next of a run
//! (which definitions, and on what context: `ir::memo`).
//!
//! Each worker thread has its own store, so the hot path takes no shared
//! lock. Remembering never changes a report: a definition's value is a
//! function of its context and its arguments, both compared exactly
//! (versions as written, not only as ordered), and a value holding facts of
//! its document (with their places, for `at`) is never kept. A remembered
//! value charges the steps its computation took, so a document stays
//! within the same budget; when a document runs out of steps with
//! remembered values, the evaluator starts it again without them.

use crate::ir::value::{DocRef, List};
use crate::ir::{DefId, Value};
use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::{Mutex, MutexGuard};

/// Past its limit (approximate bytes), a store is trimmed before the next
/// document: a batch's memory stays flat however many contexts it meets.
/// A run's stores share `STORE_BUDGET` equally, each given at least
/// `STORE_LIMIT`: one thread has a store twice as large as each of two.
/// 100,000 candidacies on two threads peaked at 85 to 93 MiB with 10 MB a
/// store, 91 to 98 with 12 (6 runs each), 102 with 16. 20,000 on one
/// thread trim a 10 MB store three times (recomputing what it let go:
/// 6.98 G instructions), a 16 MB one never (6.71 G).
pub const STORE_BUDGET: usize = 20 << 20;
pub const STORE_LIMIT: usize = 10 << 20;

/// The limit of each store of a run on `threads` threads.
fn store_limit(threads: usize) -> usize {
    (STORE_BUDGET / threads.max(1)).max(STORE_LIMIT)
}

/// Contexts, then lookups, of a definition before its reuse is judged.
const TRIAL: u32 = 512;

/// The remembered values of a run: one store per worker thread.
pub struct Memo {
    stores: Box<[Mutex<Store>]>,
}

impl Memo {
    /// For a run on `threads` worker threads.
    pub fn new(threads: usize) -> Memo {
        Memo::with_limit(threads, store_limit(threads))
    }

    /// With stores trimmed past `limit` bytes (about).
    pub fn with_limit(threads: usize, limit: usize) -> Memo {
        Memo {
            stores: (0..threads.max(1))
                .map(|_| {
                    Mutex::new(Store {
                        limit,
                        ..Store::default()
                    })
                })
                .collect(),
        }
    }

    /// This thread's store; `None` when another holds it (a thread outside
    /// the run's pool), and the document is evaluated without.
    pub(crate) fn store(&self) -> Option<MutexGuard<'_, Store>> {
        let i = rayon::current_thread_index().unwrap_or(0) % self.stores.len().max(1);
        self.stores.get(i)?.try_lock().ok()
    }
}

/// A part of a context: a value, or the context of a remembered
/// definition (which decides its value, and is cheaper to compare).
pub(crate) enum Part {
    Value(Value),
    Context(u32),
}

impl Part {
    fn same(&self, other: &Part) -> bool {
        match (self, other) {
            (Part::Value(a), Part::Value(b)) => a.same(b),
            (Part::Context(a), Part::Context(b)) => a == b,
            _ => false,
        }
    }
}

impl Hash for Part {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Part::Value(v) => v.hash(state),
            Part::Context(c) => {
                state.write_u8(0xff);
                c.hash(state)
            }
        }
    }
}

#[derive(Default)]
pub(crate) struct Store {
    /// Contexts by hash of their definition and parts: the last made with
    /// that hash, which names the one made before it (`same_hash`). One
    /// table slot a hash, no list behind it: a lookup reads the slot, then
    /// the context.
    index: FxHashMap<u64, u32>,
    slab: Vec<Context>,
    stats: Vec<Stats>,
    weight: usize,
    limit: usize,
    /// Lists of plain values kept by entries, each held once however many
    /// entries (of any context) have it: the same short lists come back
    /// in context after context.
    shared: FxHashSet<SharedList>,
    /// Contexts made during the current document: their tables, made
    /// ahead of need, are fitted to what they hold before the next
    /// document, and the next context of the definition is made that big.
    /// (A context found again grows as a vector does: one document adds
    /// few values, and refitting after each would copy it twice.)
    fresh: Vec<u32>,
    /// Lists decisions went over, and whether their items' keys are all
    /// different (see `Ctx::keys_distinct`), by decision: a few lists come
    /// back document after document. Each held, so that it is not another
    /// list at the same address.
    distinct: Vec<(Arc<List>, usize, bool)>,
    /// The current document's number (wrapping): a value found again in
    /// the document that computed it says nothing of its reuse.
    document: u32,
}

/// Lists whose keys a store remembers as distinct or not, at most.
const DISTINCT: usize = 64;

/// A definition's context, and its values there by arguments: the values
/// one document reads lie together.
struct Context {
    def: DefId,
    parts: Box<[Part]>,
    /// `parts_hash` of its definition and parts, its key in `index`.
    hash: u64,
    /// The context made before it with the same hash (`NO_CONTEXT`: none).
    same_hash: u32,
    /// In the order they were computed: the next document of this context
    /// usually asks for them in the same order, or skips a few.
    entries: Vec<Entry>,
    /// Positions in `entries` by hash of the arguments (a collision
    /// replaces); built on the first lookup not found near `next`, so a
    /// context always read in order has none.
    positions: Option<FxHashMap<u64, u32>>,
    /// Where the next lookup is expected: after the last one found.
    next: u32,
    /// Read since the store was last trimmed.
    used: bool,
    /// Found again by a later document (not only made).
    found: bool,
}

/// In `Context::same_hash`: no other context has its hash.
const NO_CONTEXT: u32 = u32::MAX;

/// How far past the expected entry a lookup looks before it hashes: a
/// document of the context that skips a few of its items still finds the
/// rest in order.
const SCAN: usize = 8;

struct Entry {
    args: Held,
    value: Value,
    /// At most the document budget, `MAX_STEPS`.
    steps: u32,
    /// The document that computed it (`Store::document`, wrapping).
    document: u32,
}

impl Entry {
    fn args(&self) -> &[Value] {
        self.args.as_slice()
    }
}

/// The same arguments, exactly (versions as written).
fn same_arguments(held: &[Value], args: &[Value]) -> bool {
    held.len() == args.len() && held.iter().zip(args).all(|(a, b)| a.same(b))
}

/// Arguments as an entry holds them: one as it is, others boxed together
/// (half the size of a list value, which carries an origin and an index).
enum Held {
    One(Value),
    Many(Box<[Value]>),
}

impl Held {
    fn as_slice(&self) -> &[Value] {
        match self {
            Held::One(v) => std::slice::from_ref(v),
            Held::Many(vs) => vs,
        }
    }

    /// What it holds outside the entry.
    fn heap_weight(&self) -> usize {
        match self {
            Held::One(v) => weight(v) - 16,
            Held::Many(vs) => 16 * vs.len(),
        }
    }
}

/// A call's arguments, copied before its body runs (which may reuse their
/// slots).
pub(crate) struct Args {
    held: Held,
}

impl Args {
    /// These arguments exactly (versions as written).
    pub(crate) fn is(&self, args: &[Value]) -> bool {
        same_arguments(self.held.as_slice(), args)
    }

    pub(crate) fn new(args: &[Value]) -> Args {
        Args {
            held: match args {
                [one] => Held::One(one.clone()),
                _ => Held::Many(args.into()),
            },
        }
    }
}

#[derive(Clone, Copy, Default)]
struct Stats {
    /// Documents that computed a context, and those that found it known.
    contexts: u32,
    known: u32,
    /// Lookups in known contexts, and those that found a value.
    lookups: u32,
    hits: u32,
    /// Rarely found again (each document its own context): computed
    /// afresh for the rest of the run, without the cost of a context.
    off: bool,
    /// Values the definition's last new context held.
    size: u32,
    /// Calls a document kept for itself (`Ctx::apply_once`), and those
    /// asked again in the same document.
    calls: u32,
    calls_again: u32,
    /// Seldom asked twice in a document: its calls are no longer kept.
    calls_off: bool,
}

impl Store {
    /// Called before each document (context numbers are only valid within
    /// one): a full store is trimmed to at most half, keeping contexts read
    /// since it was last trimmed (those found again first).
    pub(crate) fn start_document(&mut self) {
        self.document = self.document.wrapping_add(1);
        for c in std::mem::take(&mut self.fresh) {
            let Some(context) = self.slab.get_mut(c as usize) else {
                continue;
            };
            let (len, before) = (context.entries.len(), context.table_weight());
            // Refitting copies the table: not for a few slots.
            if context.entries.capacity() > len + len / 8 + 4 {
                context.entries.shrink_to_fit();
                if let Some(p) = context.positions.as_mut() {
                    p.shrink_to_fit();
                }
                self.weight = self.weight.saturating_sub(before - context.table_weight());
            }
            let (d, size) = (context.def, len as u32);
            if let Some(s) = self.stats(d) {
                s.size = size;
            }
        }
        if self.weight <= self.limit {
            return;
        }
        let old = std::mem::take(&mut self.slab);
        // Kept, while they fill at most half the store: the contexts read
        // since the last trim that a later document found again, then those
        // only made, but not of a definition whose contexts seldom come
        // back (each document its own): they would crowd out the others.
        let stats = &self.stats;
        let rank = |c: &Context| match (c.used, c.found) {
            (false, _) => 0,
            (true, true) => 2,
            (true, false) => {
                // Judged once it has made enough contexts.
                let repeats = stats.get(c.def as usize).is_none_or(|s| {
                    s.contexts < TRIAL / 8 || s.known.saturating_mul(2) >= s.contexts
                });
                u8::from(repeats)
            }
        };
        let ranks: Vec<u8> = old.iter().map(rank).collect();
        let mut chosen = vec![false; old.len()];
        let mut room = self.limit / 2;
        for level in [2, 1] {
            for ((c, &r), keep) in old.iter().zip(&ranks).zip(chosen.iter_mut()) {
                let w = c.weight();
                if r == level && w <= room {
                    room -= w;
                    *keep = true;
                }
            }
        }
        // Old number to new, for the parts that name another context (an
        // earlier one: a context's parts are computed before it is made).
        let mut renumbered: Vec<Option<u32>> = Vec::with_capacity(old.len());
        self.index.clear();
        self.weight = 0;
        for (mut c, chosen) in old.into_iter().zip(chosen) {
            let (mut keep, mut moved) = (chosen, false);
            for p in c.parts.iter_mut() {
                if let Part::Context(n) = p {
                    match renumbered.get(*n as usize).copied().flatten() {
                        Some(m) => {
                            moved |= *n != m;
                            *n = m;
                        }
                        None => keep = false,
                    }
                }
            }
            if !keep {
                renumbered.push(None);
                continue;
            }
            if moved {
                c.hash = parts_hash(c.def, &c.parts);
            }
            c.used = false;
            let id = self.slab.len() as u32;
            renumbered.push(Some(id));
            self.weight += c.weight();
            c.same_hash = self.index.insert(c.hash, id).unwrap_or(NO_CONTEXT);
            self.slab.push(c);
        }
        // The lists the kept entries hold stay shared; those only the
        // dropped ones held (the set's copy is the last) go. Not hashed
        // again.
        self.shared.retain(|l| match &l.0 {
            Value::List(list) => Arc::strong_count(list) > 1,
            _ => false,
        });
        self.weight += self.shared.capacity() * 17
            + self.shared.iter().map(|l| weight(&l.0) - 16).sum::<usize>();
    }

    /// Whether the items of `list` have distinct keys in decision `d`,
    /// when known.
    pub(crate) fn keys_distinct(&self, list: &Arc<List>, d: usize) -> Option<bool> {
        self.distinct
            .iter()
            .find(|(l, e, _)| *e == d && Arc::ptr_eq(l, list))
            .map(|x| x.2)
    }

    /// Remember whether the items of `list` have distinct keys in
    /// decision `d` (all forgotten when `DISTINCT` are held: a run meets
    /// few such lists).
    pub(crate) fn remember_keys_distinct(&mut self, list: &Arc<List>, d: usize, distinct: bool) {
        if self.distinct.len() == DISTINCT {
            self.distinct.clear();
        }
        self.distinct.push((list.clone(), d, distinct));
    }

    pub(crate) fn enabled(&self, d: DefId) -> bool {
        self.stats.get(d as usize).is_none_or(|s| !s.off)
    }

    /// Documents that computed a context of `d`, and those that found it
    /// known.
    #[cfg(test)]
    pub(crate) fn contexts_known(&self, d: DefId) -> (u32, u32) {
        self.stats
            .get(d as usize)
            .map_or((0, 0), |s| (s.contexts, s.known))
    }

    fn stats(&mut self, d: DefId) -> Option<&mut Stats> {
        if self.stats.len() <= d as usize {
            self.stats.resize(d as usize + 1, Stats::default());
        }
        self.stats.get_mut(d as usize)
    }

    /// Whether a document keeps `d`'s calls for itself: until a trial
    /// shows they are seldom asked again within one.
    pub(crate) fn keeps_calls(&self, d: DefId) -> bool {
        self.stats.get(d as usize).is_none_or(|s| !s.calls_off)
    }

    /// A call of `d` a document kept, found again (`again`) or computed.
    pub(crate) fn count_call(&mut self, d: DefId, again: bool) {
        if let Some(s) = self.stats(d) {
            s.calls = s.calls.saturating_add(1);
            s.calls_again += u32::from(again);
            if s.calls == 2 * TRIAL && s.calls_again < TRIAL / 8 {
                s.calls_off = true;
            }
        }
    }

    /// A document could not use `d` (its context holds the document's
    /// facts): counted as a context never seen.
    pub(crate) fn unusable(&mut self, d: DefId) {
        self.count_context(d, false);
    }

    fn count_context(&mut self, d: DefId, known: bool) {
        if let Some(s) = self.stats(d) {
            s.contexts += 1;
            s.known += u32::from(known);
            // Each document its own context: nothing to reuse.
            if s.contexts == TRIAL && s.known < TRIAL / 8 {
                s.off = true;
            }
        }
    }

    /// The number of `d`'s context `parts`, the same for the same parts,
    /// and whether an earlier document had it (else nothing can be found
    /// in it yet).
    pub(crate) fn context(&mut self, d: DefId, parts: Vec<Part>) -> (u32, bool) {
        let h = parts_hash(d, &parts);
        self.context_hashed(d, parts, h)
    }

    /// `context`, its parts hashed to `h`.
    fn context_hashed(&mut self, d: DefId, parts: Vec<Part>, h: u64) -> (u32, bool) {
        // Down the contexts of this hash, each made before the last (so
        // the numbers fall: the walk ends).
        let mut found = None;
        let mut next = self.index.get(&h).copied();
        while let Some(id) = next {
            let Some(c) = self.slab.get(id as usize) else {
                break;
            };
            if c.def == d
                && c.parts.len() == parts.len()
                && c.parts.iter().zip(&parts).all(|(a, b)| a.same(b))
            {
                found = Some(id);
                break;
            }
            next = (c.same_hash < id).then_some(c.same_hash);
        }
        self.count_context(d, found.is_some());
        if let Some(id) = found {
            if let Some(c) = self.slab.get_mut(id as usize) {
                c.used = true;
                c.found = true;
            }
            return (id, true);
        }
        let id = self.slab.len() as u32;
        let size = self.stats(d).map_or(0, |s| s.size as usize);
        self.fresh.push(id);
        let same_hash = self.index.insert(h, id).unwrap_or(NO_CONTEXT);
        let context = Context {
            def: d,
            parts: parts.into_boxed_slice(),
            hash: h,
            same_hash,
            entries: Vec::with_capacity(size),
            positions: None,
            next: 0,
            used: true,
            found: false,
        };
        self.weight += context.weight();
        self.slab.push(context);
        (id, false)
    }

    /// The value on `args` in context `c`, with the steps it took.
    pub(crate) fn get(&mut self, d: DefId, c: u32, args: &[Value]) -> Option<(Value, u64)> {
        let found = self.slab.get_mut(c as usize).and_then(|c| {
            let before = c.table_weight();
            let found = c.find(args);
            self.weight += c.table_weight() - before;
            found
        });
        let document = self.document;
        if let Some(s) = self.stats(d) {
            s.lookups += 1;
            // Found where an earlier document left it: a value this
            // document computed is kept for it anyway (`Ctx::apply_once`).
            s.hits += u32::from(found.as_ref().is_some_and(|f| f.2 != document));
            // Known contexts, but other arguments each time.
            if s.lookups == 2 * TRIAL && s.hits < TRIAL / 2 {
                s.off = true;
            }
        }
        found.map(|(v, steps, _)| (v, steps))
    }

    /// Remember `value` on `args` in context `c`, unless either holds facts
    /// of its document.
    pub(crate) fn put(&mut self, c: u32, args: Args, value: &Value, steps: u64) {
        if !value.is_portable() || !args.held.as_slice().iter().all(Value::is_portable) {
            return;
        }
        let Some(context) = self.slab.get_mut(c as usize) else {
            return;
        };
        let entry = Entry {
            args: args.held,
            value: share(&mut self.shared, &mut self.weight, value),
            steps: u32::try_from(steps).unwrap_or(u32::MAX),
            document: self.document,
        };
        let before = context.table_weight();
        self.weight += entry.heap_weight();
        let at = context.entries.len() as u32;
        if let Some(p) = context.positions.as_mut() {
            p.insert(args_hash(entry.args()), at);
        }
        context.entries.push(entry);
        context.next = at + 1;
        self.weight += context.table_weight() - before;
    }
}

impl Context {
    /// The entry for `args`: the one after the last found, or a few
    /// further (documents of a context go over the same items in the same
    /// order, some skipping a few), else by hash.
    fn find(&mut self, args: &[Value]) -> Option<(Value, u64, u32)> {
        let matches = |e: &Entry| same_arguments(e.args(), args);
        let next = self.next as usize;
        let near = self
            .entries
            .get(next..)
            .and_then(|rest| rest.iter().take(SCAN).position(matches));
        let at = match near {
            Some(k) => next + k,
            None => {
                let entries = &self.entries;
                let positions = self.positions.get_or_insert_with(|| {
                    entries
                        .iter()
                        .enumerate()
                        .map(|(i, e)| (args_hash(e.args()), i as u32))
                        .collect()
                });
                *positions.get(&args_hash(args))? as usize
            }
        };
        let e = self.entries.get(at).filter(|e| matches(e))?;
        self.next = at as u32 + 1;
        Some((e.value.clone(), u64::from(e.steps), e.document))
    }

    fn weight(&self) -> usize {
        let parts: usize = self
            .parts
            .iter()
            .map(|p| match p {
                Part::Value(v) => weight(v),
                Part::Context(_) => 16,
            })
            .sum();
        128 + parts
            + self.table_weight()
            + self.entries.iter().map(Entry::heap_weight).sum::<usize>()
    }

    /// What its two tables hold, grown ahead of need.
    fn table_weight(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.positions.as_ref().map_or(0, |p| p.capacity() * 17)
    }
}

impl Entry {
    /// What it holds outside the table: its lists (but a shared one, which
    /// the store counts once), its boxed arguments.
    fn heap_weight(&self) -> usize {
        let args = self.args.heap_weight();
        let value = if shareable(&self.value) {
            0
        } else {
            weight(&self.value) - 16
        };
        value + args
    }
}

/// A list held once by a store, found by its items compared exactly.
struct SharedList(Value);

impl PartialEq for SharedList {
    fn eq(&self, other: &SharedList) -> bool {
        self.0.same(&other.0)
    }
}

impl Eq for SharedList {}

/// A list by its length and its first and last few items: long lists (a
/// rule's record of its items) are told apart by those, and equal ones are
/// compared whole anyway.
impl Hash for SharedList {
    fn hash<H: Hasher>(&self, state: &mut H) {
        const ENDS: usize = 8;
        let items = self.0.as_list();
        if items.len() <= 2 * ENDS {
            return self.0.hash(state);
        }
        items.len().hash(state);
        for x in items
            .iter()
            .take(ENDS)
            .chain(items.iter().skip(items.len() - ENDS))
        {
            x.hash(state);
        }
    }
}

/// A non-empty list of plain values, with no place in a document: which
/// list of the kind it is cannot show in a report (one with a place could,
/// through `at`).
fn shareable(v: &Value) -> bool {
    match v {
        Value::List(l) => {
            l.origin.is_none()
                && !l.items.is_empty()
                && !l
                    .items
                    .iter()
                    .any(|x| matches!(x, Value::List(_) | Value::Record(_) | Value::Map(_)))
        }
        _ => false,
    }
}

/// `value`, or the list `shared` already holds equal to it; a list held
/// anew counts its weight (and its table's growth) in `total`.
fn share(shared: &mut FxHashSet<SharedList>, total: &mut usize, value: &Value) -> Value {
    if !shareable(value) {
        return value.clone();
    }
    let key = SharedList(value.clone());
    if let Some(held) = shared.get(&key) {
        return held.0.clone();
    }
    let before = shared.capacity();
    *total += weight(value) - 16;
    shared.insert(key);
    *total += (shared.capacity() - before) * 17;
    value.clone()
}

fn parts_hash(d: DefId, parts: &[Part]) -> u64 {
    let mut h = FxHasher::default();
    d.hash(&mut h);
    parts.hash(&mut h);
    h.finish()
}

/// A call's hash: its definition and arguments.
pub(crate) fn call_hash(d: DefId, args: &[Value]) -> u64 {
    let mut h = FxHasher::default();
    d.hash(&mut h);
    args.hash(&mut h);
    h.finish()
}

fn args_hash(args: &[Value]) -> u64 {
    let mut h = FxHasher::default();
    args.hash(&mut h);
    h.finish()
}

/// About what a value held by a store costs, in bytes: itself and its
/// collection, unless the registry holds that (a value read from it).
fn weight(v: &Value) -> usize {
    // Read from the registry: the registry holds it for the whole run.
    if v.read_from(DocRef::Registry) {
        return 16;
    }
    16 + match v {
        Value::List(l) if l.items.is_empty() => 0,
        Value::List(l) => 72 + 16 * l.items.len(),
        Value::Record(r) => 56 + 16 * r.fields.len(),
        Value::Map(m) => 56 + 32 * m.entries.len(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store trimmed past the usual limit.
    fn store() -> Store {
        Store {
            limit: STORE_LIMIT,
            ..Store::default()
        }
    }

    /// A run's stores share the budget: one thread has it all, two half
    /// each, and more never less than a store's limit.
    #[test]
    fn a_runs_stores_share_the_budget_but_keep_their_limit() {
        let limits = |threads: usize| -> Vec<usize> {
            let memo = Memo::new(threads);
            memo.stores
                .iter()
                .map(|s| s.lock().map(|s| s.limit).unwrap_or(0))
                .collect()
        };
        assert_eq!(limits(1), vec![STORE_BUDGET]);
        assert_eq!(limits(2), vec![STORE_BUDGET / 2; 2]);
        assert_eq!(limits(8), vec![STORE_LIMIT; 8]);
    }

    /// Trimming keeps the contexts read since the last trim and numbers
    /// them anew: a context naming another follows its new number, and
    /// goes when the other goes.
    #[test]
    fn trimming_renumbers_the_contexts_that_name_others() {
        let mut store = store();
        let int = |i| Part::Value(Value::Int(i));
        assert_eq!(store.context(0, vec![int(1)]), (0, false));
        assert_eq!(store.context(0, vec![int(2)]), (1, false));
        assert_eq!(store.context(1, vec![Part::Context(1)]), (2, false));
        assert_eq!(store.context(1, vec![Part::Context(0)]), (3, false));
        store.put(2, Args::new(&[Value::Int(7)]), &Value::Int(49), 3);
        store.start_document();
        if let Some(first) = store.slab.get_mut(0) {
            first.used = false;
        }
        store.weight = STORE_LIMIT + 1;
        store.start_document();
        assert_eq!(
            store.slab.len(),
            2,
            "the unread context and the one naming it go"
        );
        assert_eq!(store.context(0, vec![int(2)]), (0, true));
        assert_eq!(store.context(1, vec![Part::Context(0)]), (1, true));
        assert_eq!(store.get(1, 1, &[Value::Int(7)]), Some((Value::Int(49), 3)));
        assert_eq!(store.context(0, vec![int(1)]), (2, false), "gone");
        assert_eq!(store.context(1, vec![Part::Context(2)]), (3, false), "gone");
    }

    /// Contexts whose parts hash alike are each found as their own, before
    /// and after a trim that lets one of them go.
    #[test]
    fn contexts_of_one_hash_are_each_found() {
        let mut store = store();
        let int = |i| Part::Value(Value::Int(i));
        let context = |store: &mut Store, d, i| store.context_hashed(d, vec![int(i)], 42);
        assert_eq!(context(&mut store, 0, 1), (0, false));
        assert_eq!(context(&mut store, 0, 2), (1, false));
        assert_eq!(context(&mut store, 1, 1), (2, false));
        for (d, i, id) in [(0, 1, 0), (0, 2, 1), (1, 1, 2)] {
            assert_eq!(context(&mut store, d, i), (id, true), "{d}, {i}");
        }
        store.start_document();
        if let Some(middle) = store.slab.get_mut(1) {
            middle.used = false;
        }
        store.weight = STORE_LIMIT + 1;
        store.start_document();
        assert_eq!(store.slab.len(), 2, "the unread context goes");
        assert_eq!(context(&mut store, 0, 1), (0, true));
        assert_eq!(context(&mut store, 1, 1), (1, true));
        assert_eq!(context(&mut store, 0, 2), (2, false), "gone");
    }

    /// A definition's calls are kept for the document until a trial shows
    /// they seldom come back within one; one whose calls do stays kept.
    #[test]
    fn calls_seldom_asked_again_in_a_document_are_no_longer_kept() {
        let mut store = Store::default();
        for i in 0..2 * TRIAL {
            assert!(store.keeps_calls(0), "kept during the trial ({i})");
            store.count_call(0, i % 32 == 0);
            store.count_call(1, i % 4 == 0);
        }
        assert!(!store.keeps_calls(0), "1 in 32 asked again");
        assert!(store.keeps_calls(1), "1 in 4 asked again");
        assert!(store.keeps_calls(2), "never called");
    }

    /// A trim keeps the contexts found again before those only made, and
    /// not those only made of a definition whose every document makes its
    /// own; the rest of the store stays usable.
    #[test]
    fn trimming_keeps_contexts_found_again_before_those_only_made() {
        let mut store = Store {
            limit: 4_000,
            ..Store::default()
        };
        let int = |i| Part::Value(Value::Int(i));
        let (a, _) = store.context(0, vec![int(0)]);
        for i in 0..10 {
            store.put(a, Args::new(&[Value::Int(i)]), &Value::Int(i), 1);
        }
        store.start_document();
        assert_eq!(store.context(0, vec![int(0)]), (a, true), "found again");
        let (b, _) = store.context(0, vec![int(1)]);
        for i in 0..100 {
            store.context(1, vec![int(i)]);
        }
        assert!(store.weight > store.limit);
        store.start_document();
        let kept: Vec<(DefId, bool)> = store.slab.iter().map(|c| (c.def, c.found)).collect();
        assert_eq!(
            kept,
            [(0, true), (0, false)],
            "{b}: made, of a definition that repeats"
        );
        assert_eq!(store.weight, weighed(&store));
        assert!(store.context(0, vec![int(0)]).1);
        assert_eq!(
            store.get(0, 0, &[Value::Int(3)]).map(|v| v.0),
            Some(Value::Int(3))
        );
    }

    /// A value read from the registry weighs as a reference: the registry
    /// holds it for the run, so a store of them is not trimmed where the
    /// same records, built by the evaluation, fill it.
    #[test]
    fn values_read_from_the_registry_weigh_as_references() {
        let record = |origin| {
            Value::Record(Arc::new(crate::ir::value::Record {
                names: (0..8).map(|i| Arc::from(format!("f{i}"))).collect(),
                fields: (0..8).map(Value::Int).collect(),
                origin,
            }))
        };
        let registry = Some(crate::ir::value::Origin {
            doc: DocRef::Registry,
            node: 3,
        });
        let mut kept = Vec::new();
        for origin in [registry, None] {
            let mut store = Store {
                limit: 16_000,
                ..Store::default()
            };
            let (c, _) = store.context(0, Vec::new());
            for i in 0..200 {
                store.put(c, Args::new(&[Value::Int(i)]), &record(origin), 1);
            }
            assert_eq!(store.weight, weighed(&store));
            store.start_document();
            kept.push(store.slab.len());
        }
        assert_eq!(kept, [1, 0], "read from the registry, then built");
    }

    /// A value found again by the document that computed it says nothing
    /// of reuse (that document keeps its calls anyway): a definition whose
    /// values only that document finds is no longer remembered after its
    /// trial; one whose values the next document finds still is.
    #[test]
    fn values_found_only_by_their_own_document_do_not_count_as_reuse() {
        let mut store = store();
        for i in 0..2 * TRIAL as i64 {
            store.start_document();
            for d in [0, 1] {
                let (c, _) = store.context(d, Vec::new());
                // Definition 0 asks for what it just computed; 1 for what
                // the document before computed.
                let asked = if d == 0 { i } else { i - 1 };
                store.put(c, Args::new(&[Value::Int(i)]), &Value::Int(i), 1);
                let found = store.get(d, c, &[Value::Int(asked)]);
                assert_eq!(
                    found.map(|v| v.0),
                    (i > 0 || d == 0).then_some(Value::Int(asked))
                );
            }
        }
        assert!(!store.enabled(0), "found only by its own document");
        assert!(store.enabled(1), "found by the next document");
    }

    /// A value is two words and an entry six (they were three and seven;
    /// the sixth word, arguments held boxed rather than as a list, saves
    /// nine on each entry of several arguments): more of them fit in a
    /// store.
    #[test]
    fn an_entry_is_small() {
        assert_eq!(std::mem::size_of::<Value>(), 16);
        assert_eq!(std::mem::size_of::<Entry>(), 48);
    }

    /// A list of one item, written at `node` of `doc`.
    fn placed(item: Value, doc: crate::ir::value::DocRef, node: u32) -> Value {
        Value::List(std::sync::Arc::new(crate::ir::value::List {
            items: vec![item],
            origin: Some(crate::ir::value::Origin { doc, node }),
            lookup: std::sync::OnceLock::new(),
        }))
    }

    /// The store's running weight is what its contexts and shared lists
    /// weigh.
    fn weighed(store: &Store) -> usize {
        store.slab.iter().map(Context::weight).sum::<usize>()
            + store
                .shared
                .iter()
                .map(|l| weight(&l.0) - 16)
                .sum::<usize>()
            + store.shared.capacity() * 17
    }

    /// A document that skips some of a context's values finds the rest in
    /// order, without a hash table; one out of order builds it. A new
    /// context's table is fitted to its values before the next document,
    /// the definition's next context is made as big, and the running
    /// weight follows every step.
    #[test]
    fn skipped_values_are_found_without_a_table_and_tables_are_fitted() {
        let mut store = store();
        let (c, _) = store.context(0, vec![Part::Value(Value::Int(1))]);
        for i in 0..20 {
            store.put(c, Args::new(&[Value::Int(i)]), &Value::Int(i * 10), 1);
            assert_eq!(store.weight, weighed(&store));
        }
        store.start_document();
        assert_eq!(store.weight, weighed(&store));
        let context = &store.slab[c as usize];
        assert_eq!(context.entries.capacity(), 20, "fitted");
        assert!(context.positions.is_none());
        if let Some(context) = store.slab.get_mut(c as usize) {
            context.next = 0;
        }
        for i in [0, 1, 4, 5, 11, 12, 19] {
            assert_eq!(
                store.get(0, c, &[Value::Int(i)]).map(|v| v.0),
                Some(Value::Int(i * 10))
            );
        }
        assert!(store.slab[c as usize].positions.is_none(), "all found near");
        assert_eq!(
            store.get(0, c, &[Value::Int(2)]).map(|v| v.0),
            Some(Value::Int(20))
        );
        assert!(store.slab[c as usize].positions.is_some(), "one far back");
        assert_eq!(store.weight, weighed(&store));
        store.put(c, Args::new(&[Value::Int(20)]), &Value::Int(200), 1);
        assert_eq!(store.get(0, c, &[Value::Int(20)]).map(|v| v.1), Some(1));
        assert_eq!(store.weight, weighed(&store));
        let (d, _) = store.context(0, vec![Part::Value(Value::Int(2))]);
        assert_eq!(store.slab[d as usize].entries.capacity(), 20, "as the last");
        store.start_document();
        assert_eq!(store.slab[d as usize].entries.capacity(), 0, "fitted");
        assert_eq!(store.weight, weighed(&store));
    }

    /// Equal lists of plain values kept by two contexts are held once, and
    /// weighed once; a list with a place in a document is not shared (its
    /// place could show in a report), nor is a version equal only as ordered.
    #[test]
    fn equal_plain_lists_are_held_once() {
        let mut store = store();
        let list = |items: Vec<Value>| Value::list(items);
        let (a, _) = store.context(0, vec![Part::Value(Value::Int(1))]);
        let (b, _) = store.context(0, vec![Part::Value(Value::Int(2))]);
        store.put(
            a,
            Args::new(&[Value::Int(0)]),
            &list(vec![Value::Sym(3)]),
            1,
        );
        store.put(
            b,
            Args::new(&[Value::Int(0)]),
            &list(vec![Value::Sym(3)]),
            1,
        );
        let held = |store: &mut Store, c| match store.get(0, c, &[Value::Int(0)]) {
            Some((Value::List(l), _)) => l,
            other => panic!("{other:?}"),
        };
        let (x, y) = (held(&mut store, a), held(&mut store, b));
        assert!(std::sync::Arc::ptr_eq(&x, &y));
        // A trim keeps a list anything else still holds: let go, as a
        // document's values are before the next.
        drop((x, y));
        assert_eq!(store.shared.len(), 1);
        assert_eq!(store.weight, weighed(&store));
        let version = |s: &str| {
            Value::Version(std::sync::Arc::new(crate::ir::value::VersionValue::Valid(
                crate::version::parse(s).unwrap_or_else(|_| panic!("{s}")),
            )))
        };
        store.put(
            a,
            Args::new(&[Value::Int(1)]),
            &list(vec![version("5.1")]),
            1,
        );
        store.put(
            b,
            Args::new(&[Value::Int(1)]),
            &list(vec![version("5.1.0")]),
            1,
        );
        assert_eq!(store.shared.len(), 3, "5.1 and 5.1.0 are both kept");
        let placed = placed(Value::Sym(3), crate::ir::value::DocRef::Registry, 7);
        store.put(a, Args::new(&[Value::Int(2)]), &placed, 1);
        assert_eq!(store.shared.len(), 3);
        match store.get(0, a, &[Value::Int(2)]) {
            Some((v, _)) => assert_eq!(v.origin(), placed.origin()),
            None => panic!("kept"),
        }
        assert_eq!(store.weight, weighed(&store));
        store.start_document();
        for c in store
            .slab
            .iter_mut()
            .filter(|c| c.def == 0 && c.parts.len() == 1)
        {
            c.used = c.parts.iter().any(|p| p.same(&Part::Value(Value::Int(2))));
        }
        store.weight = STORE_LIMIT + 1;
        store.start_document();
        assert_eq!(store.slab.len(), 1, "the context read since");
        assert_eq!(store.shared.len(), 2, "its lists, not the other's");
        assert_eq!(store.weight, weighed(&store));
        for c in store.slab.iter_mut() {
            c.used = false;
        }
        store.weight = STORE_LIMIT + 1;
        store.start_document();
        assert!(store.shared.is_empty(), "gone with their contexts");
        assert_eq!(store.weight, weighed(&store));
    }

    /// Long lists hashed by their ends are still told apart by their
    /// middle, and equal ones are still held once.
    #[test]
    fn long_lists_differing_in_the_middle_are_both_kept() {
        let mut store = store();
        let long = |middle: i64| {
            Value::list(
                (0..40)
                    .map(|i| Value::Int(if i == 20 { middle } else { i }))
                    .collect(),
            )
        };
        let (c, _) = store.context(0, Vec::new());
        store.put(c, Args::new(&[Value::Int(0)]), &long(-1), 1);
        store.put(c, Args::new(&[Value::Int(1)]), &long(-2), 1);
        store.put(c, Args::new(&[Value::Int(2)]), &long(-1), 1);
        assert_eq!(store.shared.len(), 2);
        let got = |store: &mut Store, a| match store.get(0, c, &[Value::Int(a)]) {
            Some((Value::List(l), _)) => l,
            other => panic!("{other:?}"),
        };
        let (a, b, again) = (got(&mut store, 0), got(&mut store, 1), got(&mut store, 2));
        assert_eq!(a.items.get(20), Some(&Value::Int(-1)));
        assert_eq!(b.items.get(20), Some(&Value::Int(-2)));
        assert!(std::sync::Arc::ptr_eq(&a, &again), "equal lists held once");
    }

    /// A value is found in the order it was computed, or by its hash; a
    /// value holding the document's facts is not kept.
    #[test]
    fn values_are_found_in_order_or_by_hash_and_facts_are_not_kept() {
        let mut store = Store::default();
        let (c, known) = store.context(0, Vec::new());
        assert!(!known);
        for i in 0..4 {
            store.put(c, Args::new(&[Value::Int(i)]), &Value::Int(i * 10), 1);
        }
        assert_eq!(
            store.get(0, c, &[Value::Int(2)]).map(|v| v.0),
            Some(Value::Int(20))
        );
        assert_eq!(
            store.get(0, c, &[Value::Int(3)]).map(|v| v.0),
            Some(Value::Int(30))
        );
        assert_eq!(
            store.get(0, c, &[Value::Int(0)]).map(|v| v.0),
            Some(Value::Int(0))
        );
        assert_eq!(store.get(0, c, &[Value::Int(9)]), None);
        let fact = placed(Value::Int(1), crate::ir::value::DocRef::Input, 3);
        store.put(c, Args::new(&[Value::Int(5)]), &fact, 1);
        assert_eq!(store.get(0, c, &[Value::Int(5)]), None);
    }
}
