//! Which definitions a run may remember from one document to the next, and
//! what their value depends on. Decided once, when the policy is checked;
//! the evaluator keeps the values (`eval::memo`).
//!
//! A definition reads its parameters, tables, the registry (all the same
//! for every document of a run) and a few values of the document: other
//! definitions, fields of inputs, the evaluation date. Those values, its
//! context, computed once a document, with its arguments, decide its value.
//! Documents of a batch share most contexts (many read the same few codes
//! and categories), so a query a definition makes item by item is made once
//! a run, for each context, instead of once a document. Where only whether
//! a query over a definition's list of records keeps an item is read, the
//! context is the fields that query tests, of every item, not the records
//! whole (`scan_presence`): each document's own records often share them.
//! A definition whose value is the first item such a query keeps is
//! remembered on the same context as the item's position (`position_plan`).

use super::{
    Access, Builtin, Def, DefId, IndexSpec, InputDef, Ir, Outcome, RuleDef, RuleIdx, Type,
};

/// What a remembered definition's value depends on, besides its arguments:
/// expressions of the document that read no local, each a definition or an
/// input with a path of fields under it.
#[derive(Debug)]
pub struct MemoPlan {
    pub context: Vec<Ir>,
    /// The definition's value is the first item a query over this list
    /// (a definition's list of records) keeps: what is remembered is that
    /// item's position, and the context is what decides it, the fields
    /// the query tests of every item (see `position_plan`).
    pub position_in: Option<DefId>,
}

/// Where a context expression starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    Global(DefId),
    Input(u32),
    AsOf,
}

/// What scanning a definition's body found.
#[derive(Clone, Debug, Default)]
struct Scan {
    /// Reads nothing a context cannot hold (a rule's outcome, a `let`).
    pure: bool,
    /// Goes over a list (a query, a quantifier, a table): worth
    /// remembering; a body without one is cheaper to compute again.
    loops: bool,
    /// Scanning a rule's condition: its `let`s are scanned themselves.
    in_rule: bool,
    context: Vec<(Base, Vec<Access>)>,
}

/// A plan for each definition (by id), then for each rule (by index):
/// `None` for those computed afresh. A definition is scanned once, for
/// its own plan and for the rules that read it.
///
/// A rule is remembered when it goes over a list and only decides. What it
/// decides for each item, its `when` past the part that is the same for
/// every item (with the `let`s that reads, and its exceptions), is a
/// function of the list, the item and a context; a document of a known
/// context finds which items the rule held for, and the `let`s it computed
/// then, without testing each item. Its outcomes are still computed for
/// the document.
pub fn plan(
    defs: &[Def],
    rules: &[RuleDef],
    inputs: &[InputDef],
    specs: &[IndexSpec],
) -> (Vec<Option<MemoPlan>>, Vec<Option<MemoPlan>>) {
    let env = Env {
        defs,
        inputs,
        specs,
        calls: Default::default(),
    };
    let mut scans: Vec<Option<Scan>> = vec![None; defs.len()];
    let def_plans = (0..defs.len())
        .map(|d| {
            position_plan(d as DefId, &env, &mut scans).or_else(|| {
                let s = scan_def(d as DefId, &env, &mut scans);
                (s.pure && s.loops).then(|| MemoPlan {
                    context: s.context.iter().map(|(b, p)| rebuild(*b, p)).collect(),
                    position_in: None,
                })
            })
        })
        .collect();
    let rule_plans = rules
        .iter()
        .map(|rule| {
            let (_, list) = rule.for_each.as_ref()?;
            let decides_only = !rule.outcomes.is_empty()
                && rule
                    .outcomes
                    .iter()
                    .all(|o| matches!(o, Outcome::Decide { .. }));
            if !decides_only || (rule.when.is_none() && rule.exceptions.is_empty()) {
                return None;
            }
            let mut s = Scan {
                pure: true,
                in_rule: true,
                ..Scan::default()
            };
            scan(list, &env, &mut scans, &mut s, &[]);
            let mut seen = Vec::new();
            scan_condition(rule, false, rules, &env, &mut scans, &mut s, &mut seen);
            s.pure.then(|| MemoPlan {
                context: s.context.iter().map(|(b, p)| rebuild(*b, p)).collect(),
                position_in: None,
            })
        })
        .collect();
    (def_plans, rule_plans)
}

/// Scan what decides whether `rule` fires for an item: its `when` (and its
/// guard, for an exception: the main rule's is tested before, once), the
/// `let`s those read, and its exceptions, each once.
fn scan_condition(
    rule: &RuleDef,
    with_guard: bool,
    rules: &[RuleDef],
    env: &Env,
    scans: &mut [Option<Scan>],
    s: &mut Scan,
    seen: &mut Vec<RuleIdx>,
) {
    let mut lets = vec![false; rule.lets.len()];
    let mut todo: Vec<&Ir> = Vec::new();
    todo.extend(rule.when.as_ref());
    if with_guard {
        todo.extend(rule.guard.as_ref());
    }
    while let Some(ir) = todo.pop() {
        scan(ir, env, scans, s, &[]);
        // The `let`s it reads, scanned in turn.
        let mut reads = Vec::new();
        let_refs(ir, &mut reads);
        for k in reads {
            if let (Some(done @ false), Some((_, l))) = (lets.get_mut(k), rule.lets.get(k)) {
                *done = true;
                todo.push(l);
            }
        }
    }
    for &e in &rule.exceptions {
        if seen.contains(&e) {
            continue;
        }
        seen.push(e);
        if let Some(other) = rules.get(e as usize) {
            scan_condition(other, true, rules, env, scans, s, seen);
        }
    }
}

/// The `let`s (by index) an expression reads directly.
fn let_refs(ir: &Ir, out: &mut Vec<usize>) {
    if let Ir::LetRef(_, k) = ir {
        out.push(*k as usize);
    }
    ir.for_each_child(|c| let_refs(c, out));
}

/// A definition whose value is `first(list where ...)`, `list` a
/// definition's list of records: which item comes first depends only on
/// what the query tests (the fields of every item it reads, as for
/// `exists`), so its position is remembered on that context, and the item
/// taken from the document's own list. Documents whose records differ
/// elsewhere (their names, say) share the position.
fn position_plan(d: DefId, env: &Env, scans: &mut [Option<Scan>]) -> Option<MemoPlan> {
    let def = env.defs.get(d as usize)?;
    let Ir::Builtin(Builtin::First, args) = &def.body else {
        return None;
    };
    let [query @ Ir::Where { src, .. }] = args.as_slice() else {
        return None;
    };
    let Ir::Global(list) = **src else {
        return None;
    };
    if !records(env, list) {
        return None;
    }
    let mut s = Scan {
        pure: true,
        ..Scan::default()
    };
    scan_presence(query, env, scans, &mut s, &[]);
    (s.pure && s.loops).then(|| MemoPlan {
        context: s.context.iter().map(|(b, p)| rebuild(*b, p)).collect(),
        position_in: Some(list),
    })
}

fn scan_def(d: DefId, env: &Env, scans: &mut [Option<Scan>]) -> Scan {
    if let Some(Some(s)) = scans.get(d as usize) {
        return s.clone();
    }
    // The checker refuses recursive definitions; should one get here, it
    // is computed afresh.
    if let Some(slot) = scans.get_mut(d as usize) {
        *slot = Some(Scan::default());
    }
    let mut s = Scan {
        pure: true,
        ..Scan::default()
    };
    if let Some(def) = env.defs.get(d as usize) {
        scan(&def.body, env, scans, &mut s, &[]);
    }
    if let Some(slot) = scans.get_mut(d as usize) {
        *slot = Some(s.clone());
    }
    s
}

/// What the scan reads: the policy's definitions, inputs and indexes.
struct Env<'a> {
    defs: &'a [Def],
    inputs: &'a [InputDef],
    specs: &'a [IndexSpec],
    /// A definition's body scanned for a call (whether only its presence
    /// is read, and which parameters are items of which list), once: a
    /// chain of definitions each calling the next twice is scanned once a
    /// link, not once a path.
    calls: std::cell::RefCell<rustc_hash::FxHashMap<CallScan, Scan>>,
}

/// A definition scanned for a call: whether only its value's presence is
/// read, and which of its parameters are items of which list.
type CallScan = (DefId, bool, Vec<Bound>);

/// A local that holds an item of a definition's list (a query's variable,
/// or a parameter given one): read through its fields, it makes the
/// context those fields of every item, not the whole list.
type Bound = (u32, DefId);

fn add(s: &mut Scan, base: Base, path: Vec<Access>) {
    if !s.context.iter().any(|(b, p)| *b == base && *p == path) {
        s.context.push((base, path));
    }
}

/// The list an item of `bound` held in `slot` comes from.
fn bound_to(bound: &[Bound], slot: u32) -> Option<DefId> {
    bound.iter().find(|(s, _)| *s == slot).map(|(_, d)| *d)
}

fn scan(ir: &Ir, env: &Env, scans: &mut [Option<Scan>], s: &mut Scan, bound: &[Bound]) {
    let registry = |i: u32| env.inputs.get(i as usize).is_some_and(|x| x.registry);
    match ir {
        Ir::Const(_) => {}
        // An item read whole: the whole list.
        Ir::Local(slot) => {
            if let Some(d) = bound_to(bound, *slot) {
                add(s, Base::Global(d), Vec::new());
            }
        }
        Ir::Table(_) => s.loops = true,
        Ir::LetRef(..) if s.in_rule => {}
        Ir::LetRef(..) | Ir::Fires(..) => s.pure = false,
        Ir::Global(d) => add(s, Base::Global(*d), Vec::new()),
        // The registry is the same for every document of a run.
        Ir::Input(i) if registry(*i) => {}
        Ir::Input(i) => add(s, Base::Input(*i), Vec::new()),
        Ir::AsOf => add(s, Base::AsOf, Vec::new()),
        Ir::Field(base, access) => {
            // A path of fields over a definition or an input is one
            // context value: `root.category`, not all of `root`.
            let mut path = vec![*access];
            let mut cur: &Ir = base;
            while let Ir::Field(b, a) = cur {
                path.push(*a);
                cur = b;
            }
            path.reverse();
            match cur {
                Ir::Global(d) => add(s, Base::Global(*d), path),
                Ir::Input(i) if registry(*i) => {}
                Ir::Input(i) => add(s, Base::Input(*i), path),
                // An item's fields: those fields of every item.
                Ir::Local(slot) => {
                    if let Some(d) = bound_to(bound, *slot) {
                        add(s, Base::Global(d), each(&path));
                    }
                }
                other => scan(other, env, scans, s, bound),
            }
        }
        // Only whether the value is there is read.
        Ir::Builtin(Builtin::Exists | Builtin::Empty | Builtin::Count, args) if args.len() == 1 => {
            for a in args {
                scan_presence(a, env, scans, s, bound);
            }
        }
        Ir::Call(d, args) => scan_call(*d, args, env, scans, s, bound, false),
        other => {
            s.loops |= matches!(other, Ir::Where { .. } | Ir::Quant { .. });
            other.for_each_child(|c| scan(c, env, scans, s, bound));
        }
    }
}

/// A path of record fields read from an item, as the same fields of every
/// item of its list (positions kept); the first other access ends it (the
/// value there is read whole).
fn each(path: &[Access]) -> Vec<Access> {
    path.iter()
        .map_while(|a| match a {
            Access::Record(i) => Some(Access::Each(*i)),
            _ => None,
        })
        .collect()
}

/// A call: its arguments, and what the definition reads. An argument that
/// is an item of a list makes the parameter one too, read through its
/// fields; the body is then scanned for this call (`presence`: only
/// whether the call's value is there is read).
fn scan_call(
    d: DefId,
    args: &[Ir],
    env: &Env,
    scans: &mut [Option<Scan>],
    s: &mut Scan,
    bound: &[Bound],
    presence: bool,
) {
    let mut params: Vec<Bound> = Vec::new();
    for (i, a) in args.iter().enumerate() {
        let item = match a {
            Ir::Local(slot) => bound_to(bound, *slot),
            _ => None,
        };
        match item {
            Some(list) => params.push((i as u32, list)),
            None => scan(a, env, scans, s, bound),
        }
    }
    if params.is_empty() && !presence {
        let inner = scan_def(d, env, scans);
        join(s, inner);
        return;
    }
    let Some(def) = env.defs.get(d as usize) else {
        return;
    };
    let key = (d, presence, params);
    let known = env.calls.borrow().get(&key).cloned();
    let inner = match known {
        Some(inner) => inner,
        None => {
            // A scan of its own (the body's locals are its own).
            let mut inner = Scan {
                pure: true,
                ..Scan::default()
            };
            if presence {
                scan_presence(&def.body, env, scans, &mut inner, &key.2);
            } else {
                scan(&def.body, env, scans, &mut inner, &key.2);
            }
            env.calls.borrow_mut().insert(key, inner.clone());
            inner
        }
    };
    join(s, inner);
}

/// What a called definition reads joins the caller's, with its purity and
/// loops.
fn join(s: &mut Scan, inner: Scan) {
    s.pure &= inner.pure;
    s.loops |= inner.loops;
    for (b, p) in inner.context {
        add(s, b, p);
    }
}

/// What decides whether `ir`'s value is there (`exists`, `empty`,
/// `count`), which may be less than its value: a query over a
/// definition's list of records keeps items by their fields, so it reads
/// those fields of every item, not the items whole.
fn scan_presence(ir: &Ir, env: &Env, scans: &mut [Option<Scan>], s: &mut Scan, bound: &[Bound]) {
    match ir {
        // The first of a list of records is there when the list is not
        // empty (a record is never absent).
        Ir::Builtin(Builtin::First, args) if args.len() == 1 => {
            for a in args {
                scan_presence(a, env, scans, s, bound);
            }
        }
        Ir::Call(d, args) => scan_call(*d, args, env, scans, s, bound, true),
        Ir::Where {
            src,
            var,
            cond,
            lookup,
        } => match &**src {
            Ir::Global(list) if records(env, *list) => {
                s.loops = true;
                let mut inner: Vec<Bound> = bound.to_vec();
                inner.push((*var, *list));
                if let Some(c) = cond {
                    scan(c, env, scans, s, &inner);
                }
                if let Some(l) = lookup {
                    for (k, _) in &l.key {
                        scan(k, env, scans, s, &inner);
                    }
                    // The columns the index reads, of every item.
                    let columns = env.specs.get(l.index as usize).map(|x| &x.columns);
                    for column in columns.into_iter().flatten() {
                        let path: Vec<Access> = column.iter().map(|&i| Access::Each(i)).collect();
                        add(s, Base::Global(*list), path);
                    }
                }
                // How many items there are, when no field of theirs is
                // read: the list whole.
                let counted = s.context.iter().any(|(b, p)| {
                    *b == Base::Global(*list) && p.iter().all(|a| matches!(a, Access::Each(_)))
                });
                if !counted {
                    add(s, Base::Global(*list), Vec::new());
                }
            }
            _ => scan(ir, env, scans, s, bound),
        },
        other => scan(other, env, scans, s, bound),
    }
}

/// Is definition `d` a list of records, with no parameters (its items are
/// never absent, and each field is read by position)?
fn records(env: &Env, d: DefId) -> bool {
    env.defs.get(d as usize).is_some_and(|def| {
        def.params == 0 && matches!(&def.ty, Type::List(item) if matches!(**item, Type::Record(_)))
    })
}

/// The expression that reads a context value.
fn rebuild(base: Base, path: &[Access]) -> Ir {
    let start = match base {
        Base::Global(d) => Ir::Global(d),
        Base::Input(i) => Ir::Input(i),
        Base::AsOf => Ir::AsOf,
    };
    path.iter().fold(start, |ir, a| Ir::Field(Box::new(ir), *a))
}
