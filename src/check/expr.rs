//! Expressions: resolve names, infer types, and lower to `Ir`, planning
//! indexed table lookups for equality filters.

use super::{uses_local, Checker, Scope, ValueName, Var};
use crate::diag::{did_you_mean, Diagnostic};
use crate::ir::*;
use crate::source::Source;
use crate::syntax::ast::{self, AddOp, Expr, ExprKind, QuantKind};
use std::sync::Arc;

fn error() -> (Ir, Type) {
    (Ir::Const(Value::None), Type::Error)
}

impl Checker<'_> {
    pub(super) fn expr(&mut self, e: &Expr, scope: &mut Scope, src: &Source) -> (Ir, Type) {
        // How deep checking recurses, definitions it checks on the way
        // included (bounded in `def_type`).
        self.expr_nesting += 1;
        let r = self.expr_unnested(e, scope, src);
        self.expr_nesting -= 1;
        r
    }

    fn expr_unnested(&mut self, e: &Expr, scope: &mut Scope, src: &Source) -> (Ir, Type) {
        match &e.kind {
            ExprKind::Bool(b) => (Ir::Const(Value::Bool(*b)), Type::Bool),
            ExprKind::Int(i) => (Ir::Const(Value::Int(*i)), Type::Int),
            ExprKind::Str(s) => (Ir::Const(self.symbols.intern(s)), Type::Text),
            ExprKind::Name(n) => self.name(n, scope, src),
            ExprKind::Field(base, f) => self.field(base, f, scope, src),
            ExprKind::Call(name, args) => self.call(e, name, args, scope, src),
            ExprKind::Fires(id, arg) => {
                let Some(r) = self.rule_ref(id, src) else {
                    return error();
                };
                let want = self.rule_for_type(r);
                let arg_ir = match (&want, arg) {
                    (None, None) => None,
                    (Some(t), Some(a)) => {
                        let (ir, got) = self.expr(a, scope, src);
                        if !got.fits(t) {
                            let msg = format!(
                                "rule `{}` goes over each {}, and this is {}",
                                id.name,
                                self.show(t),
                                self.show(&got)
                            );
                            self.mismatch(src, a.span, msg, "wrong kind of item");
                        }
                        Some(Box::new(ir))
                    }
                    (Some(t), None) => {
                        let msg = format!(
                            "rule `{}` goes over each {}: say for which one, `fires({}, item)`",
                            id.name,
                            self.show(t),
                            id.name
                        );
                        self.err(
                            "regle::check::fires_arity",
                            src,
                            e.span,
                            msg,
                            "missing the item",
                        );
                        return error();
                    }
                    (None, Some(a)) => {
                        let msg = format!(
                            "rule `{}` has no `for`: write `fires({})`",
                            id.name, id.name
                        );
                        self.err(
                            "regle::check::fires_arity",
                            src,
                            a.span,
                            msg,
                            "not expected",
                        );
                        return error();
                    }
                };
                (Ir::Fires(r, arg_ir), Type::Bool)
            }
            ExprKind::List(items) => {
                let mut irs = Vec::new();
                let mut ty = Type::Any;
                for item in items {
                    let (ir, t) = self.expr(item, scope, src);
                    match ty.unify(&t) {
                        Some(u) => ty = u,
                        None => {
                            let msg =
                                format!("this list mixes {} and {}", self.show(&ty), self.show(&t));
                            self.mismatch(src, item.span, msg, "different type");
                        }
                    }
                    irs.push(ir);
                }
                (Ir::List(irs), Type::list(ty))
            }
            ExprKind::Record(fields) => {
                let mut names = Vec::new();
                let mut types = Vec::new();
                let mut irs = Vec::new();
                for (n, fe) in fields {
                    if names.iter().any(|x: &Arc<str>| **x == *n.name) {
                        self.err(
                            "regle::check::duplicate_name",
                            src,
                            n.span,
                            format!("field `{}` is given twice", n.name),
                            "again here",
                        );
                    }
                    let (ir, t) = self.expr(fe, scope, src);
                    names.push(Arc::from(n.name.as_str()));
                    types.push((Arc::from(n.name.as_str()), t));
                    irs.push(ir);
                }
                (Ir::Record(names.into(), irs), Type::Anon(types.into()))
            }
            ExprKind::Not(inner) => (
                Ir::Not(Box::new(self.condition(inner, scope, src))),
                Type::Bool,
            ),
            ExprKind::And(items) | ExprKind::Or(items) => {
                let irs = items
                    .iter()
                    .map(|i| self.condition(i, scope, src))
                    .collect();
                if matches!(e.kind, ExprKind::And(_)) {
                    (Ir::And(irs), Type::Bool)
                } else {
                    (Ir::Or(irs), Type::Bool)
                }
            }
            ExprKind::Cmp(op, a, b) => self.compare(e, *op, a, b, scope, src),
            ExprKind::Add(op, a, b) => {
                let (ia, ta) = self.expr(a, scope, src);
                let (ib, tb) = self.expr(b, scope, src);
                match (ta.strip_optional(), tb.strip_optional()) {
                    (Type::Int, Type::Int) => (
                        Ir::AddInt(Box::new(ia), Box::new(ib), *op == AddOp::Sub),
                        Type::Int,
                    ),
                    (Type::Text, Type::Text) if *op == AddOp::Add => {
                        (Ir::Concat(Box::new(ia), Box::new(ib)), Type::Text)
                    }
                    (Type::List(_), Type::List(_))
                    | (Type::Error | Type::Any, _)
                    | (_, Type::Error | Type::Any) => {
                        let ty = match ta.unify(&tb) {
                            Some(t) => t,
                            None => {
                                let msg = format!(
                                    "cannot combine {} with {}",
                                    self.show(&ta),
                                    self.show(&tb)
                                );
                                self.mismatch(src, e.span, msg, "different element types");
                                Type::Error
                            }
                        };
                        if *op == AddOp::Add {
                            (Ir::Concat(Box::new(ia), Box::new(ib)), ty)
                        } else {
                            (Ir::Minus(Box::new(ia), Box::new(ib)), ty)
                        }
                    }
                    _ => {
                        let sym = if *op == AddOp::Add { "+" } else { "-" };
                        let msg = format!("`{sym}` works on numbers and on lists (and `+` on texts), not on {} and {}", self.show(&ta), self.show(&tb));
                        self.mismatch(src, e.span, msg, "cannot combine these");
                        error()
                    }
                }
            }
            ExprKind::If(c, t, f) => {
                let c = self.condition(c, scope, src);
                let (it, tt) = self.expr(t, scope, src);
                let (ie, te) = self.expr(f, scope, src);
                let ty = match tt.unify(&te) {
                    Some(u) => u,
                    None => {
                        let msg = format!(
                            "the two branches differ: {} after `then`, {} after `else`",
                            self.show(&tt),
                            self.show(&te)
                        );
                        self.mismatch(src, e.span, msg, "branches of different types");
                        Type::Error
                    }
                };
                (Ir::If(Box::new(c), Box::new(it), Box::new(ie)), ty)
            }
            ExprKind::Quant(kind, var, over, body) => {
                let (src_ir, elem) = self.list_operand(over, scope, src);
                let slot = scope.slot();
                scope.vars.push(Var::Named {
                    name: var.name.clone(),
                    slot,
                    ty: elem,
                });
                let body_ir = self.condition(body, scope, src);
                scope.vars.pop();
                (
                    Ir::Quant {
                        all: *kind == QuantKind::All,
                        src: Box::new(src_ir),
                        var: slot,
                        body: Box::new(body_ir),
                    },
                    Type::Bool,
                )
            }
            ExprKind::Where(over, cond) => {
                let (src_ir, elem) = self.list_operand(over, scope, src);
                let slot = scope.slot();
                scope.vars.push(Var::Element {
                    slot,
                    ty: elem.clone(),
                });
                let cond_ir = self.condition(cond, scope, src);
                scope.vars.pop();
                let ty = Type::list(elem);
                let registry = |i: u32| self.inputs.get(i as usize).is_some_and(|x| x.registry);
                let (cond, lookup) = match src_ir {
                    Ir::Table(t) => self.plan_lookup(LookupSource::Table(t), slot, cond_ir),
                    // A definition's list: indexed the first time a query needs it.
                    Ir::Global(d) => self.plan_lookup(LookupSource::Def(d), slot, cond_ir),
                    Ir::Input(i) if registry(i) => {
                        self.plan_lookup(LookupSource::Registry(i), slot, cond_ir)
                    }
                    _ => (Some(Box::new(cond_ir)), None),
                };
                (
                    Ir::Where {
                        src: Box::new(src_ir),
                        var: slot,
                        cond,
                        lookup,
                    },
                    ty,
                )
            }
        }
    }

    /// Split a filter on a table, or on a registry list, into what an
    /// index can serve (`column == value`, `column in values`, the value
    /// not about the item; on a registry, the column may be a path of
    /// fields) and the rest, tested item by item.
    fn plan_lookup(
        &mut self,
        source: LookupSource,
        slot: u32,
        cond: Ir,
    ) -> (Option<Box<Ir>>, Option<IndexLookup>) {
        let conjuncts = match cond {
            Ir::And(items) => items,
            other => vec![other],
        };
        // The column (or field path) a side names, if it is one of the item's.
        let column = |x: &Ir| -> Option<Vec<u32>> {
            let mut path = Vec::new();
            let mut cur = x;
            loop {
                match (cur, source) {
                    (
                        Ir::Field(base, Access::Row(col)),
                        LookupSource::Table(_) | LookupSource::Def(_),
                    ) => {
                        path.push(*col);
                        cur = base;
                    }
                    (
                        Ir::Field(base, Access::Record(i)),
                        LookupSource::Registry(_) | LookupSource::Def(_),
                    ) => {
                        path.push(*i);
                        cur = base;
                    }
                    (Ir::Local(s), _) if *s == slot && !path.is_empty() => {
                        path.reverse();
                        return Some(path);
                    }
                    _ => return None,
                }
            }
        };
        // `in` keys multiply lookups: used only when no equality narrows
        // the query; otherwise they are tested on the few rows found.
        let has_eq = conjuncts.iter().any(|c| match c {
            Ir::Cmp(CmpOp::Eq, a, b) => {
                (column(a).is_some() && !uses_local(b, slot))
                    || (column(b).is_some() && !uses_local(a, slot))
            }
            _ => false,
        });
        let mut keys: Vec<(Vec<u32>, Ir, bool)> = Vec::new();
        let mut rest = Vec::new();
        for c in conjuncts {
            match c {
                Ir::Cmp(CmpOp::Eq, a, b) => match (column(&a), column(&b)) {
                    (Some(col), None)
                        if !uses_local(&b, slot) && !keys.iter().any(|k| k.0 == col) =>
                    {
                        keys.push((col, *b, false))
                    }
                    (None, Some(col))
                        if !uses_local(&a, slot) && !keys.iter().any(|k| k.0 == col) =>
                    {
                        keys.push((col, *a, false))
                    }
                    _ => rest.push(Ir::Cmp(CmpOp::Eq, a, b)),
                },
                Ir::In(a, b, false) if !has_eq => match column(&a) {
                    Some(col) if !uses_local(&b, slot) && !keys.iter().any(|k| k.0 == col) => {
                        keys.push((col, *b, true))
                    }
                    _ => rest.push(Ir::In(a, b, false)),
                },
                other => rest.push(other),
            }
        }
        let cond = match rest.len() {
            0 => None,
            1 => rest.pop().map(Box::new),
            _ => Some(Box::new(Ir::And(rest))),
        };
        if keys.is_empty() {
            return (cond, None);
        }
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        let columns: Vec<Vec<u32>> = keys.iter().map(|k| k.0.clone()).collect();
        let index = match self
            .index_requests
            .iter()
            .position(|r| r.0 == source && r.1 == columns)
        {
            Some(i) => i,
            None => {
                self.index_requests.push((source, columns));
                self.index_requests.len() - 1
            }
        };
        (
            cond,
            Some(IndexLookup {
                source,
                index: index as u32,
                key: keys.into_iter().map(|k| (k.1, k.2)).collect(),
            }),
        )
    }

    fn list_operand(&mut self, e: &Expr, scope: &mut Scope, src: &Source) -> (Ir, Type) {
        let (ir, ty) = self.expr(e, scope, src);
        match ty.element() {
            Some(t) => (ir, t.clone()),
            None => {
                let msg = format!("expected a list, and this is {}", self.show(&ty));
                self.err("regle::check::not_a_list", src, e.span, msg, "not a list");
                (ir, Type::Error)
            }
        }
    }

    fn fields_of(&self, ty: &Type) -> Vec<(String, Type, Access)> {
        match ty.strip_optional() {
            Type::Record(r) => self
                .records
                .get(*r as usize)
                .map(|r| {
                    r.fields
                        .iter()
                        .enumerate()
                        .map(|(i, f)| (f.name.clone(), f.ty.clone(), Access::Record(i as u32)))
                        .collect()
                })
                .unwrap_or_default(),
            Type::Anon(fields) => fields
                .iter()
                .enumerate()
                .map(|(i, (n, t))| (n.to_string(), t.clone(), Access::Record(i as u32)))
                .collect(),
            Type::Row(t) => self
                .tables
                .get(*t as usize)
                .map(|t| {
                    t.columns
                        .iter()
                        .zip(&t.types)
                        .enumerate()
                        .map(|(i, (n, ty))| (n.clone(), ty.clone(), Access::Row(i as u32)))
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    fn name(&mut self, n: &ast::Ident, scope: &mut Scope, src: &Source) -> (Ir, Type) {
        for v in scope.vars.iter().rev() {
            match v {
                Var::Named { name, slot, ty } if *name == n.name => {
                    return (Ir::Local(*slot), ty.clone())
                }
                Var::Let {
                    name,
                    slot,
                    ty,
                    index,
                } if *name == n.name => return (Ir::LetRef(*slot, *index), ty.clone()),
                Var::Element { slot, ty } => {
                    if n.name == "it" {
                        return (Ir::Local(*slot), ty.clone());
                    }
                    if let Some((_, fty, access)) =
                        self.fields_of(ty).into_iter().find(|f| f.0 == n.name)
                    {
                        // A field of the item hides any other meaning of the name.
                        let hidden = scope.vars.iter().any(|v| {
                            matches!(v, Var::Named { name, .. } | Var::Let { name, .. } if *name == n.name)
                        }) || matches!(self.values.get(&n.name), Some((ValueName::Def(_) | ValueName::Input(_), _)));
                        if hidden {
                            self.diags.push(
                                Diagnostic::warning(
                                    "regle::check::shadowed_name",
                                    format!("`{}` here is the item's field, not the other `{}` in scope", n.name, n.name),
                                )
                                .at(src, n.span, "the item's field")
                                .help(format!("write `it.{}` to say you mean the field, or rename the other `{}`", n.name, n.name)),
                            );
                        }
                        let optional = ty.is_optional();
                        let fty = if optional { Type::optional(fty) } else { fty };
                        return (Ir::Field(Box::new(Ir::Local(*slot)), access), fty);
                    }
                }
                _ => {}
            }
        }
        match self.values.get(&n.name).map(|v| v.0) {
            Some(ValueName::Input(i)) => {
                let ty = self
                    .inputs
                    .get(i as usize)
                    .map(|x| x.ty.clone())
                    .unwrap_or(Type::Error);
                return (Ir::Input(i), ty);
            }
            Some(ValueName::Table(t)) => return (Ir::Table(t), Type::list(Type::Row(t))),
            Some(ValueName::AsOf) => return (Ir::AsOf, Type::Date),
            Some(ValueName::Def(d)) => {
                let ty = self.def_type(d);
                let is_fn = self
                    .defs
                    .get(d as usize)
                    .is_some_and(|s| s.decl.params.is_some());
                if is_fn {
                    let msg = format!("`{}` takes arguments: call it, `{}(...)`", n.name, n.name);
                    self.err(
                        "regle::check::missing_arguments",
                        src,
                        n.span,
                        msg,
                        "a function, not a value",
                    );
                    return error();
                }
                return (Ir::Global(d), ty);
            }
            Some(ValueName::Builtin(_)) => {
                let msg = format!(
                    "`{}` is a built-in function: call it, `{}(...)`",
                    n.name, n.name
                );
                self.err(
                    "regle::check::missing_arguments",
                    src,
                    n.span,
                    msg,
                    "a function, not a value",
                );
                return error();
            }
            None => {}
        }
        if let Some(list) = self.variants.get(&n.name) {
            if let [(ty, v)] = list.as_slice() {
                return (
                    Ir::Const(Value::Enum {
                        ty: *ty,
                        variant: *v,
                    }),
                    Type::Enum(*ty),
                );
            }
            let owners: Vec<String> = list
                .iter()
                .filter_map(|(t, _)| {
                    self.enum_names
                        .get(*t as usize)
                        .map(|e| format!("`{e}.{}`", n.name))
                })
                .collect();
            let msg = format!("`{}` is a value of several enums", n.name);
            self.err(
                "regle::check::ambiguous_name",
                src,
                n.span,
                msg,
                "which one?",
            )
            .help = Some(format!("write {}", owners.join(" or ")));
            return error();
        }
        // Unknown: suggest from everything in scope.
        let mut known: Vec<String> = self.values.keys().cloned().collect();
        known.extend(self.variants.keys().cloned());
        for v in &scope.vars {
            match v {
                Var::Named { name, .. } | Var::Let { name, .. } => known.push(name.clone()),
                Var::Element { ty, .. } => {
                    known.push("it".to_string());
                    known.extend(self.fields_of(ty).into_iter().map(|f| f.0));
                }
            }
        }
        let help = did_you_mean(&n.name, known.iter().map(String::as_str));
        self.err(
            "regle::check::unknown_name",
            src,
            n.span,
            format!("unknown name `{}`", n.name),
            "not defined",
        )
        .help = help.or_else(|| {
            Some(
                "define it with `def`, or declare it as an `input`, `registry` or `table`"
                    .to_string(),
            )
        });
        error()
    }

    fn field(
        &mut self,
        base: &Expr,
        f: &ast::Ident,
        scope: &mut Scope,
        src: &Source,
    ) -> (Ir, Type) {
        // `Enum.variant`
        if let ExprKind::Name(n) = &base.kind {
            let shadowed = scope.vars.iter().any(
                |v| matches!(v, Var::Named { name, .. } | Var::Let { name, .. } if *name == n.name),
            ) || self.values.contains_key(&n.name);
            if let (false, Some((Type::Enum(id), _, _))) = (shadowed, self.types.get(&n.name)) {
                let id = *id;
                let variants = self
                    .enums
                    .get(id as usize)
                    .map(|e| e.variants.clone())
                    .unwrap_or_default();
                return match variants.iter().position(|v| *v == f.name) {
                    Some(v) => (
                        Ir::Const(Value::Enum {
                            ty: id,
                            variant: v as u32,
                        }),
                        Type::Enum(id),
                    ),
                    None => {
                        let help = did_you_mean(&f.name, variants.iter().map(String::as_str))
                            .unwrap_or_else(|| format!("its values are: {}", variants.join(", ")));
                        self.err(
                            "regle::check::unknown_value",
                            src,
                            f.span,
                            format!("`{}` is not a value of `{}`", f.name, n.name),
                            "unknown value",
                        )
                        .help = Some(help);
                        error()
                    }
                };
            }
        }
        let (base_ir, base_ty) = self.expr(base, scope, src);
        if base_ty.is_error() {
            return error();
        }
        let optional = base_ty.is_optional();
        let (elem, over_list) = match base_ty.strip_optional() {
            Type::List(t) => ((**t).clone(), true),
            t => (t.clone(), false),
        };
        let fields = self.fields_of(&elem);
        if fields.is_empty() && !elem.is_error() {
            let msg = format!("{} has no fields", self.show(&base_ty));
            self.err(
                "regle::check::no_such_field",
                src,
                f.span,
                msg,
                format!("no field `{}`", f.name),
            );
            return error();
        }
        let Some((_, fty, access)) = fields.iter().find(|x| x.0 == f.name).cloned() else {
            let help =
                did_you_mean(&f.name, fields.iter().map(|x| x.0.as_str())).unwrap_or_else(|| {
                    let names: Vec<&str> = fields.iter().map(|x| x.0.as_str()).collect();
                    format!("its fields are: {}", names.join(", "))
                });
            let msg = format!("{} has no field `{}`", self.show(&elem), f.name);
            self.err(
                "regle::check::no_such_field",
                src,
                f.span,
                msg,
                "unknown field",
            )
            .help = Some(help);
            return error();
        };
        if over_list {
            // `list.field`: each element's field; lists are flattened.
            let (flatten, inner) = match fty.strip_optional() {
                Type::List(t) => (true, (**t).clone()),
                t => (false, t.clone()),
            };
            let access = match access {
                Access::Record(i) => Access::Project(i, flatten),
                Access::Row(i) => Access::ProjectRow(i, flatten),
                other => other,
            };
            return (Ir::Field(Box::new(base_ir), access), Type::list(inner));
        }
        let ty = if optional { Type::optional(fty) } else { fty };
        (Ir::Field(Box::new(base_ir), access), ty)
    }

    fn compare(
        &mut self,
        e: &Expr,
        op: ast::CmpOp,
        a: &Expr,
        b: &Expr,
        scope: &mut Scope,
        src: &Source,
    ) -> (Ir, Type) {
        let (ia, ta) = self.expr(a, scope, src);
        let (ib, tb) = self.expr(b, scope, src);
        let op_ir = match op {
            ast::CmpOp::In | ast::CmpOp::NotIn => {
                let elem = match tb.strip_optional() {
                    Type::List(t) => Some((**t).clone()),
                    Type::Map(k, _) => Some((**k).clone()),
                    Type::Error | Type::Any => Some(Type::Error),
                    _ => None,
                };
                match elem {
                    Some(el) => {
                        if ta.unify(&el).is_none() {
                            let msg = format!(
                                "`{}` tests {} against a list of {}",
                                op.as_str(),
                                self.show(&ta),
                                self.show(&el)
                            );
                            self.mismatch(src, e.span, msg, "these never match");
                        }
                    }
                    None => {
                        let msg = format!(
                            "`{}` needs a list on its right, and this is {}",
                            op.as_str(),
                            self.show(&tb)
                        );
                        self.err("regle::check::not_a_list", src, b.span, msg, "not a list");
                    }
                }
                return (
                    Ir::In(Box::new(ia), Box::new(ib), op == ast::CmpOp::NotIn),
                    Type::Bool,
                );
            }
            ast::CmpOp::Eq => CmpOp::Eq,
            ast::CmpOp::Ne => CmpOp::Ne,
            ast::CmpOp::Lt => CmpOp::Lt,
            ast::CmpOp::Le => CmpOp::Le,
            ast::CmpOp::Gt => CmpOp::Gt,
            ast::CmpOp::Ge => CmpOp::Ge,
        };
        match ta.unify(&tb) {
            None => {
                let mut help = None;
                if matches!(
                    (ta.strip_optional(), tb.strip_optional()),
                    (Type::List(_), _) | (_, Type::List(_))
                ) {
                    help = Some("to test membership, write `x in list`".to_string());
                }
                let msg = format!("cannot compare {} with {}", self.show(&ta), self.show(&tb));
                self.mismatch(src, e.span, msg, "different types").help = help;
            }
            Some(t) => {
                let ordered = t.is_ordered();
                if !matches!(op_ir, CmpOp::Eq | CmpOp::Ne) && !ordered {
                    let msg = format!(
                        "`{}` orders numbers, texts, dates and versions, not {}",
                        op.as_str(),
                        self.show(&t)
                    );
                    self.mismatch(src, e.span, msg, "no order");
                }
            }
        }
        (Ir::Cmp(op_ir, Box::new(ia), Box::new(ib)), Type::Bool)
    }

    fn call(
        &mut self,
        e: &Expr,
        name: &ast::Ident,
        args: &[Expr],
        scope: &mut Scope,
        src: &Source,
    ) -> (Ir, Type) {
        match self.values.get(&name.name).map(|v| v.0) {
            Some(ValueName::Def(d)) => {
                let ret = self.def_type(d);
                let (params, is_fn) = match self.defs.get(d as usize) {
                    Some(s) => (s.param_types.clone(), s.decl.params.is_some()),
                    None => return error(),
                };
                if !is_fn {
                    let msg = format!(
                        "`{}` is a value, not a function: write it without `(...)`",
                        name.name
                    );
                    self.err(
                        "regle::check::not_a_function",
                        src,
                        e.span,
                        msg,
                        "not a function",
                    );
                    return error();
                }
                if params.len() != args.len() {
                    return self.arity_error(name, params.len(), args.len(), e, src);
                }
                let mut irs = Vec::new();
                for (a, want) in args.iter().zip(&params) {
                    let (ir, got) = self.expr(a, scope, src);
                    // An absent argument flows in as absent: the function's
                    // comparisons with it are false.
                    if !got.strip_optional().fits(want) {
                        let msg = format!(
                            "`{}` expects {} here, and this is {}",
                            name.name,
                            self.show(want),
                            self.show(&got)
                        );
                        self.mismatch(src, a.span, msg, "wrong type");
                    }
                    irs.push(ir);
                }
                (Ir::Call(d, irs), ret)
            }
            Some(ValueName::Builtin(b)) => self.builtin(e, name, b, args, scope, src),
            None if name.name == "date" => {
                // `date("YYYY-MM-DD")`: a date written in the policy, read once here.
                match args {
                    [Expr {
                        kind: ExprKind::Str(s),
                        span,
                    }] => {
                        match crate::ir::value::date::parse(s) {
                            Some(d) => (Ir::Const(Value::Date(d)), Type::Date),
                            None => {
                                self.err("regle::check::bad_date", src, *span, format!("`{}` is not a date", s.escape_debug()), "not a date")
                                .help = Some("write a real calendar date as \"YYYY-MM-DD\", like \"2026-05-20\"".to_string());
                                error()
                            }
                        }
                    }
                    _ => {
                        self.err(
                            "regle::check::arity",
                            src,
                            e.span,
                            "`date` takes one quoted date, like `date(\"2026-05-20\")`",
                            "not a date literal",
                        );
                        error()
                    }
                }
            }
            _ => {
                let mut known: Vec<&str> = self
                    .values
                    .iter()
                    .filter(|(_, v)| matches!(v.0, ValueName::Builtin(_) | ValueName::Def(_)))
                    .map(|(k, _)| k.as_str())
                    .collect();
                known.push("fires");
                known.push("date");
                let help = did_you_mean(&name.name, known.iter().copied())
                    .unwrap_or_else(|| "the built-in functions are count, sum, exists, empty, first, min, max, distinct, sort, valid, get, keys, or_else, flatten, compact, text, date and fires".to_string());
                self.err(
                    "regle::check::unknown_function",
                    src,
                    name.span,
                    format!("unknown function `{}`", name.name),
                    "not a function",
                )
                .help = Some(help);
                for a in args {
                    let _ = self.expr(a, scope, src);
                }
                error()
            }
        }
    }

    fn arity_error(
        &mut self,
        name: &ast::Ident,
        want: usize,
        got: usize,
        e: &Expr,
        src: &Source,
    ) -> (Ir, Type) {
        let msg = format!(
            "`{}` takes {want} argument{}, and {got} {} given",
            name.name,
            if want == 1 { "" } else { "s" },
            if got == 1 { "is" } else { "are" }
        );
        self.err(
            "regle::check::arity",
            src,
            e.span,
            msg,
            "wrong number of arguments",
        );
        error()
    }

    fn builtin(
        &mut self,
        e: &Expr,
        name: &ast::Ident,
        b: Builtin,
        args: &[Expr],
        scope: &mut Scope,
        src: &Source,
    ) -> (Ir, Type) {
        let want = match b {
            Builtin::Get | Builtin::OrElse => 2,
            _ => 1,
        };
        if args.len() != want {
            return self.arity_error(name, want, args.len(), e, src);
        }
        let mut irs = Vec::new();
        let mut types = Vec::new();
        for a in args {
            let (ir, t) = self.expr(a, scope, src);
            irs.push(ir);
            types.push(t);
        }
        let t0 = types.first().cloned().unwrap_or(Type::Error);
        let a0 = args.first().map(|a| a.span).unwrap_or(e.span);
        let expect = |this: &mut Self, what: &str| {
            let msg = format!(
                "`{}` takes {what}, and this is {}",
                name.name,
                this.show(&t0)
            );
            this.mismatch(src, a0, msg, "wrong type");
            Type::Error
        };
        let elem = t0.element().cloned();
        let ty = match b {
            Builtin::Count => match elem {
                Some(_) => Type::Int,
                None => expect(self, "a list"),
            },
            Builtin::Empty => match elem {
                Some(_) => Type::Bool,
                None => expect(self, "a list"),
            },
            Builtin::Exists => Type::Bool,
            Builtin::First => match elem {
                Some(t) => Type::optional(t),
                None => expect(self, "a list"),
            },
            Builtin::Min | Builtin::Max => match elem {
                Some(t) if t.is_ordered() => Type::optional(t),
                _ => expect(self, "a list of numbers, texts, dates or versions"),
            },
            Builtin::Distinct | Builtin::Sort => match elem {
                Some(t) => Type::list(t),
                None => expect(self, "a list"),
            },
            Builtin::Text => Type::Text,
            Builtin::Sum => match elem {
                Some(Type::Int | Type::Error | Type::Any) => Type::Int,
                _ => expect(self, "a list of whole numbers"),
            },
            Builtin::Compact => match elem {
                Some(t) => Type::list(t.strip_optional().clone()),
                None => expect(self, "a list"),
            },
            Builtin::Flatten => match elem.as_ref().and_then(|t| t.element().cloned()) {
                Some(t) => Type::list(t),
                None => expect(self, "a list of lists"),
            },
            Builtin::Valid => match t0.strip_optional() {
                Type::Version | Type::Error => Type::Bool,
                _ => expect(self, "a version"),
            },
            Builtin::Keys => match t0.strip_optional() {
                Type::Map(k, _) => Type::list((**k).clone()),
                Type::Error => Type::Error,
                _ => expect(self, "a map"),
            },
            Builtin::Get => match t0.strip_optional() {
                Type::Map(k, v) => {
                    let t1 = types.get(1).cloned().unwrap_or(Type::Error);
                    if !t1.fits(k) {
                        let msg = format!(
                            "this map's keys are {}, and this is {}",
                            self.show(k),
                            self.show(&t1)
                        );
                        let span = args.get(1).map(|a| a.span).unwrap_or(e.span);
                        self.mismatch(src, span, msg, "wrong key type");
                    }
                    Type::optional((**v).clone())
                }
                Type::Error => Type::Error,
                _ => expect(self, "a map"),
            },
            Builtin::OrElse => {
                let t1 = types.get(1).cloned().unwrap_or(Type::Error);
                match t0.strip_optional().unify(&t1) {
                    Some(t) => t,
                    None => {
                        let msg = format!(
                            "`or_else` gives {} or {}: they must be of one type",
                            self.show(&t0),
                            self.show(&t1)
                        );
                        self.mismatch(src, e.span, msg, "different types");
                        Type::Error
                    }
                }
            }
        };
        (Ir::Builtin(b, irs), ty)
    }
}
