//! Syntax: policy text to the spanned AST (`ast`), through the pest grammar
//! `grammar/regle.pest`. pest's pairs are a throwaway tree, lowered once,
//! one function per grammar rule. Syntax errors become diagnostics with a
//! readable "expected ..." list. Knows nothing of names or types.

pub mod ast;

use crate::diag::{Diagnostic, Severity};
use crate::source::{Source, Span};
use ast::*;
use pest::iterators::Pair;
use pest::Parser;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/regle.pest"]
struct RegleParser;

/// Deepest nesting of brackets and parentheses a policy may use. The grammar
/// is recursive; past this, parsing could exhaust the stack.
pub const MAX_NESTING: usize = 64;

/// Deepest an expression may nest, its chains of operators (`a + b + c`,
/// `x.a.b`, `l where c where d`) included: checking and evaluating recurse
/// over it. Far beyond what a person writes; deeper, a `def` names a part.
pub const MAX_EXPR_DEPTH: usize = 256;

/// Parse one policy file.
pub fn parse(source: &Source) -> Result<Module, Diagnostic> {
    let unclosed = check_nesting(source)?;
    let mut pairs = RegleParser::parse(Rule::file, &source.text).map_err(|e| match unclosed {
        // A bracket never closed explains the failure better than where it ended.
        Some((at, open)) => {
            let close = match open {
                b'(' => ')',
                b'[' => ']',
                _ => '}',
            };
            Diagnostic::error(
                "regle::syntax::unclosed",
                format!("this `{}` is never closed", open as char),
            )
            .at(source, Span::new(at, at + 1), "opened here")
            .help(format!("close it with `{close}`"))
        }
        None => syntax_error(source, e),
    })?;
    let file = pairs
        .next()
        .ok_or_else(|| internal(source, Span::default(), "empty parse"))?;
    let lower = Lower { source };
    let mut items = Vec::new();
    for pair in file.into_inner() {
        if pair.as_rule() == Rule::EOI {
            continue;
        }
        items.push(lower.item(pair)?);
    }
    Ok(Module {
        source: source.clone(),
        items,
    })
}

/// A pre-scan, outside strings and comments, that refuses nesting deeper
/// than `MAX_NESTING` before the recursive parser sees it, and finds the
/// first bracket left open at the end (its offset and byte).
fn check_nesting(source: &Source) -> Result<Option<(usize, u8)>, Diagnostic> {
    let bytes = source.text.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    let mut open: Vec<(usize, u8)> = Vec::new();
    let mut in_string = false;
    while let Some(&b) = bytes.get(i) {
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'#' => {
                    while bytes.get(i).is_some_and(|&c| c != b'\n') {
                        i += 1;
                    }
                }
                b'(' | b'[' | b'{' => {
                    depth += 1;
                    open.push((i, b));
                    if depth > MAX_NESTING {
                        return Err(Diagnostic::error(
                            "regle::syntax::too_deep",
                            format!("brackets nested more than {MAX_NESTING} deep"),
                        )
                        .at(source, Span::new(i, i + 1), "this one is too deep")
                        .help("split the expression into named `def`s"));
                    }
                }
                b')' | b']' | b'}' => {
                    depth = depth.saturating_sub(1);
                    open.pop();
                }
                _ => {}
            }
        }
        i += 1;
    }
    Ok(open.first().copied())
}

fn internal(source: &Source, span: Span, what: &str) -> Diagnostic {
    Diagnostic::error(
        "regle::internal",
        format!("internal error: the parser produced an unexpected tree ({what})"),
    )
    .at(source, span, "while reading this")
    .help("this is a bug in regle; please report it with this file")
}

fn syntax_error(source: &Source, e: pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let (start, end) = match e.location {
        InputLocation::Pos(p) => (p, p),
        InputLocation::Span((s, e)) => (s, e),
    };
    let found = found_at(&source.text, start);
    let end = if end > start { end } else { start + found.1 };
    let (message, label) = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<&str> = positives.iter().filter_map(|r| expected_name(*r)).collect();
            names.sort_unstable();
            names.dedup();
            // The keywords that start a declaration, said once.
            let starts = [
                "`decision`",
                "`def`",
                "`document`",
                "`enum`",
                "`input` or `registry`",
                "`policy`",
                "`record`",
                "`rule`",
                "`table`",
            ];
            if names.iter().filter(|n| starts.contains(n)).count() >= 3 {
                names.retain(|n| !starts.contains(n));
                names.push("a new declaration (`rule`, `def`, ...)");
            }
            let expected = match names.as_slice() {
                [] => "something else".to_string(),
                [one] => (*one).to_string(),
                [init @ .., last] => format!("{} or {last}", init.join(", ")),
            };
            (
                format!("expected {expected}, found {}", found.0),
                format!("expected {expected}"),
            )
        }
        // The parser's own guard on its recursion: `if`s or quantifiers
        // nested without brackets, thousands deep.
        ErrorVariant::CustomError { message } if message.contains("stack limit") => {
            return too_deep(
                source,
                Span::new(start, end),
                "this expression nests too deep to be read".to_string(),
            );
        }
        ErrorVariant::CustomError { message } => (message.clone(), "here".to_string()),
    };
    Diagnostic::error("regle::syntax::unexpected", message).at(source, Span::new(start, end), label)
}

/// What stands at `offset`, for "found ...", and its length in bytes.
fn found_at(text: &str, offset: usize) -> (String, usize) {
    let rest = text.get(offset..).unwrap_or("");
    let Some(c) = rest.chars().next() else {
        return ("end of file".to_string(), 0);
    };
    if c == '\n' || c == '\r' {
        return ("end of line".to_string(), c.len_utf8());
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .take(40)
        .collect();
    if word.is_empty() {
        (format!("`{}`", c.escape_debug()), c.len_utf8())
    } else {
        let len = word.len();
        (format!("`{word}`"), len)
    }
}

/// A grammar rule as a policy author would name it; `None` for rules
/// that are never worth listing.
fn expected_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of file",
        Rule::ident => "a name",
        Rule::rule_id => "a rule ID (like `R-1`)",
        Rule::string | Rule::template => "a quoted string",
        Rule::integer => "a number",
        Rule::type_expr => "a type",
        Rule::expr
        | Rule::or_expr
        | Rule::and_expr
        | Rule::not_expr
        | Rule::cmp_expr
        | Rule::add_expr
        | Rule::postfix
        | Rule::paren
        | Rule::call
        | Rule::call_args
        | Rule::list_lit
        | Rule::record_lit
        | Rule::bool_lit
        | Rule::if_expr
        | Rule::quantifier
        | Rule::fires => "an expression",
        Rule::cmp_op => "a comparison",
        Rule::add_op => "`+` or `-`",
        Rule::k_and => "`and`",
        Rule::k_or => "`or`",
        Rule::k_where => "`where`",
        Rule::policy_decl => "`policy`",
        Rule::enum_decl => "`enum`",
        Rule::record_decl => "`record`",
        Rule::input_decl | Rule::input_kind => "`input` or `registry`",
        Rule::table_decl => "`table`",
        Rule::document_decl => "`document`",
        Rule::def_decl => "`def`",
        Rule::decision_decl => "`decision`",
        Rule::rule_decl => "`rule`",
        Rule::cite => "`cite`",
        Rule::overrides => "`overrides`",
        Rule::exception_to => "`exception to`",
        Rule::for_clause => "`for`",
        Rule::let_clause => "`let`",
        Rule::when_clause => "`when`",
        Rule::diag_outcome | Rule::severity => "`error`, `warning` or `info`",
        Rule::decide_outcome => "`decide`",
        Rule::document_outcome => "`document`",
        Rule::field_decl | Rule::column_decl => "a field (`name: Type`)",
        Rule::field_init => "`name: value`",
        Rule::variant => "a value name",
        Rule::params => "`(`",
        Rule::optional => "`?`",
        Rule::type_args => "`<`",
        Rule::policy_version => "`version`",
        Rule::policy_subject => "`subject`",
        Rule::policy_label => "`label`",
        Rule::label_key => "a name",
        Rule::decision_key => "`key`",
        Rule::decision_values => "`values`",
        Rule::decision_default => "`default`",
        Rule::decision_show => "`show`",
        Rule::decision_total => "`total`",
        Rule::decision_group => "`group by`",
        Rule::interp => "`{`",
        Rule::quant_kind => "`any` or `all`",
        Rule::guard => "`if`",
        Rule::field_domain | Rule::k_in => "`in`",
        _ => return None,
    })
}

/// An expression too deep to read or to check.
fn too_deep(source: &Source, span: Span, message: String) -> Diagnostic {
    Diagnostic::error("regle::syntax::too_deep", message)
        .at(source, span, "too deep")
        .help("name a part of it with `def`, and use that name here")
}

/// How deep an expression nests (a leaf is 1), found without recursion.
fn depth(e: &Expr) -> usize {
    let mut deepest = 0;
    let mut todo: Vec<(&Expr, usize)> = vec![(e, 1)];
    while let Some((e, d)) = todo.pop() {
        deepest = deepest.max(d);
        let mut push = |c| todo.push((c, d + 1));
        match &e.kind {
            ExprKind::Bool(_) | ExprKind::Int(_) | ExprKind::Str(_) | ExprKind::Name(_) => {}
            ExprKind::Field(a, _) | ExprKind::Not(a) => push(a),
            ExprKind::Fires(_, a) => a.iter().for_each(|a| push(a)),
            ExprKind::Call(_, xs) | ExprKind::List(xs) | ExprKind::And(xs) | ExprKind::Or(xs) => {
                xs.iter().for_each(&mut push)
            }
            ExprKind::Record(fields) => fields.iter().for_each(|(_, x)| push(x)),
            ExprKind::Cmp(_, a, b) | ExprKind::Add(_, a, b) | ExprKind::Where(a, b) => {
                push(a);
                push(b);
            }
            ExprKind::Quant(_, _, a, b) => {
                push(a);
                push(b);
            }
            ExprKind::If(a, b, c) => {
                push(a);
                push(b);
                push(c);
            }
        }
    }
    deepest
}

/// The span of a quantifier (`any`, `all`) that ends this operand, not in
/// parentheses: its condition would stop at the next `and` or `or`.
fn quantifier_at_end(pair: &Pair<Rule>) -> Option<Span> {
    let mut cur = pair.clone();
    loop {
        match cur.as_rule() {
            Rule::quantifier => return Some(span_of(&cur)),
            Rule::not_expr | Rule::cmp_expr | Rule::add_expr | Rule::postfix => {
                let children: Vec<Pair<Rule>> = cur.clone().into_inner().collect();
                let last = children.last()?.clone();
                let single = children
                    .iter()
                    .filter(|c| c.as_rule() != Rule::not_op)
                    .count()
                    == 1;
                if !single {
                    return None;
                }
                cur = last;
            }
            _ => return None,
        }
    }
}

fn span_of(pair: &Pair<Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

struct Lower<'s> {
    source: &'s Source,
}

type R<T> = Result<T, Diagnostic>;

impl Lower<'_> {
    fn bug(&self, pair: &Pair<Rule>, what: &str) -> Diagnostic {
        internal(self.source, span_of(pair), what)
    }

    fn next<'i>(
        &self,
        it: &mut impl Iterator<Item = Pair<'i, Rule>>,
        parent: &Pair<'i, Rule>,
    ) -> R<Pair<'i, Rule>> {
        it.next().ok_or_else(|| self.bug(parent, "missing child"))
    }

    fn item(&self, pair: Pair<Rule>) -> R<Item> {
        Ok(match pair.as_rule() {
            Rule::policy_decl => Item::Policy(self.policy(pair)?),
            Rule::enum_decl => {
                let mut it = pair.clone().into_inner();
                let name = self.ident(self.next(&mut it, &pair)?);
                let variants = it.map(|p| self.variant(p)).collect::<R<_>>()?;
                Item::Enum(EnumDecl { name, variants })
            }
            Rule::record_decl => {
                let mut it = pair.clone().into_inner();
                let name = self.ident(self.next(&mut it, &pair)?);
                let fields = it.map(|p| self.field_decl(p)).collect::<R<_>>()?;
                Item::Record(RecordDecl { name, fields })
            }
            Rule::input_decl => {
                let mut it = pair.clone().into_inner();
                let kind = match self.next(&mut it, &pair)?.as_str() {
                    "registry" => InputKind::Registry,
                    _ => InputKind::Input,
                };
                let name = self.ident(self.next(&mut it, &pair)?);
                let ty = self.type_expr(self.next(&mut it, &pair)?)?;
                Item::Input(InputDecl { kind, name, ty })
            }
            Rule::table_decl => {
                let mut it = pair.clone().into_inner();
                let name = self.ident(self.next(&mut it, &pair)?);
                let path = self.string(self.next(&mut it, &pair)?);
                let columns = it.map(|p| self.field_decl(p)).collect::<R<_>>()?;
                Item::Table(TableDecl {
                    name,
                    path,
                    columns,
                })
            }
            Rule::document_decl => {
                let mut it = pair.clone().into_inner();
                let name = self.ident(self.next(&mut it, &pair)?);
                let title = self.string(self.next(&mut it, &pair)?);
                Item::Document(DocumentDecl { name, title })
            }
            Rule::def_decl => Item::Def(self.def(pair)?),
            Rule::decision_decl => Item::Decision(self.decision(pair)?),
            Rule::rule_decl => Item::Rule(self.rule(pair)?),
            _ => return Err(self.bug(&pair, "item")),
        })
    }

    fn policy(&self, pair: Pair<Rule>) -> R<PolicyDecl> {
        let span = span_of(&pair);
        let mut it = pair.clone().into_inner();
        let name = self.string(self.next(&mut it, &pair)?);
        let mut decl = PolicyDecl {
            name,
            version: None,
            subject: None,
            labels: Vec::new(),
            span,
        };
        for attr in it {
            let mut inner = attr.clone().into_inner();
            match attr.as_rule() {
                Rule::policy_version => {
                    decl.version = Some(self.string(self.next(&mut inner, &attr)?))
                }
                Rule::policy_subject => {
                    let name = self.ident(self.next(&mut inner, &attr)?);
                    decl.subject = Some((name, self.expr(self.next(&mut inner, &attr)?)?));
                }
                Rule::policy_label => {
                    let name = self.ident(self.next(&mut inner, &attr)?);
                    decl.labels
                        .push((name, self.string(self.next(&mut inner, &attr)?)));
                }
                _ => return Err(self.bug(&attr, "policy attribute")),
            }
        }
        Ok(decl)
    }

    fn variant(&self, pair: Pair<Rule>) -> R<Variant> {
        let mut it = pair.clone().into_inner();
        let name = self.ident(self.next(&mut it, &pair)?);
        let label = it.next().map(|p| self.string(p));
        Ok(Variant { name, label })
    }

    fn field_decl(&self, pair: Pair<Rule>) -> R<FieldDecl> {
        let mut it = pair.clone().into_inner();
        let name = self.ident(self.next(&mut it, &pair)?);
        let ty = self.type_expr(self.next(&mut it, &pair)?)?;
        let mut domain = None;
        let mut default = None;
        for p in it {
            match p.as_rule() {
                Rule::field_domain => {
                    let mut d = p
                        .clone()
                        .into_inner()
                        .filter(|x| x.as_rule() == Rule::ident);
                    let table = self.ident(self.next(&mut d, &p)?);
                    let column = self.ident(self.next(&mut d, &p)?);
                    domain = Some((table, column));
                }
                _ => default = Some(self.expr(p)?),
            }
        }
        Ok(FieldDecl {
            name,
            ty,
            domain,
            default,
        })
    }

    fn def(&self, pair: Pair<Rule>) -> R<DefDecl> {
        let mut it = pair.clone().into_inner().peekable();
        let name = self.ident(self.next(&mut it, &pair)?);
        let mut params = None;
        let mut ret = None;
        let mut body = None;
        for p in it {
            match p.as_rule() {
                Rule::params => {
                    let mut list = Vec::new();
                    for param in p.into_inner() {
                        let mut pi = param.clone().into_inner();
                        let n = self.ident(self.next(&mut pi, &param)?);
                        let t = self.type_expr(self.next(&mut pi, &param)?)?;
                        list.push((n, t));
                    }
                    params = Some(list);
                }
                Rule::type_expr => ret = Some(self.type_expr(p)?),
                Rule::expr => body = Some(self.expr(p)?),
                _ => return Err(self.bug(&p, "def")),
            }
        }
        let body = body.ok_or_else(|| self.bug(&pair, "def body"))?;
        Ok(DefDecl {
            name,
            params,
            ret,
            body,
        })
    }

    fn decision(&self, pair: Pair<Rule>) -> R<DecisionDecl> {
        let span = span_of(&pair);
        let mut it = pair.clone().into_inner();
        let name = self.ident(self.next(&mut it, &pair)?);
        let var = self.ident(self.next(&mut it, &pair)?);
        let over = self.expr(self.next(&mut it, &pair)?)?;
        let mut d = DecisionDecl {
            name,
            var,
            over,
            key: None,
            values: Vec::new(),
            default: None,
            show: Vec::new(),
            total: None,
            group_by: None,
            span,
        };
        for attr in it {
            let rule = attr.as_rule();
            let mut inner = attr.clone().into_inner();
            match rule {
                Rule::decision_key => {
                    let n = self.ident(self.next(&mut inner, &attr)?);
                    d.key = Some((n, self.expr(self.next(&mut inner, &attr)?)?));
                }
                Rule::decision_values => {
                    for v in inner {
                        d.values.push(self.variant(v)?);
                    }
                }
                Rule::decision_default => {
                    d.default = Some(self.ident(self.next(&mut inner, &attr)?))
                }
                Rule::decision_show => {
                    for f in inner {
                        d.show.push(self.field_init(f)?);
                    }
                }
                Rule::decision_total => d.total = Some(self.ident(self.next(&mut inner, &attr)?)),
                Rule::decision_group => {
                    d.group_by = Some(self.expr(self.next(&mut inner, &attr)?)?)
                }
                _ => return Err(self.bug(&attr, "decision attribute")),
            }
        }
        Ok(d)
    }

    fn rule(&self, pair: Pair<Rule>) -> R<RuleDecl> {
        let span = span_of(&pair);
        let mut it = pair.clone().into_inner();
        let id = self.ident(self.next(&mut it, &pair)?);
        let title = self.string(self.next(&mut it, &pair)?);
        let mut r = RuleDecl {
            id,
            title,
            cite: None,
            overrides: Vec::new(),
            exception_to: None,
            for_each: None,
            lets: Vec::new(),
            when: None,
            outcomes: Vec::new(),
            span,
        };
        for clause in it {
            let rule = clause.as_rule();
            let cspan = span_of(&clause);
            let mut inner = clause.clone().into_inner();
            match rule {
                Rule::cite => r.cite = Some(self.string(self.next(&mut inner, &clause)?)),
                Rule::overrides => r.overrides.extend(inner.map(|p| self.ident(p))),
                Rule::exception_to => {
                    r.exception_to = Some(self.ident(self.next(&mut inner, &clause)?))
                }
                Rule::for_clause => {
                    let v = self.ident(self.next(&mut inner, &clause)?);
                    r.for_each = Some((v, self.expr(self.next(&mut inner, &clause)?)?));
                }
                Rule::let_clause => {
                    let v = self.ident(self.next(&mut inner, &clause)?);
                    r.lets
                        .push((v, self.expr(self.next(&mut inner, &clause)?)?));
                }
                Rule::when_clause => r.when = Some(self.expr(self.next(&mut inner, &clause)?)?),
                Rule::diag_outcome => {
                    let sev = self.next(&mut inner, &clause)?;
                    let severity = match sev.as_str() {
                        "error" => Severity::Error,
                        "warning" => Severity::Warning,
                        _ => Severity::Info,
                    };
                    let mut at = None;
                    let mut guard = None;
                    let mut message = None;
                    for p in inner {
                        match p.as_rule() {
                            Rule::guard => {
                                let mut g = p.clone().into_inner();
                                guard = Some(self.expr(self.next(&mut g, &p)?)?);
                            }
                            Rule::expr => at = Some(self.expr(p)?),
                            Rule::template => message = Some(self.template(p)?),
                            _ => return Err(self.bug(&p, "diagnostic outcome")),
                        }
                    }
                    let message = message.ok_or_else(|| self.bug(&clause, "message"))?;
                    r.outcomes.push(Outcome::Diagnostic {
                        severity,
                        guard,
                        at,
                        message,
                        span: cspan,
                    });
                }
                Rule::decide_outcome => {
                    let decision = self.ident(self.next(&mut inner, &clause)?);
                    let value = self.ident(self.next(&mut inner, &clause)?);
                    let from = inner.next().map(|p| self.expr(p)).transpose()?;
                    r.outcomes.push(Outcome::Decide {
                        decision,
                        value,
                        from,
                        span: cspan,
                    });
                }
                Rule::document_outcome => {
                    let document = self.ident(self.next(&mut inner, &clause)?);
                    let mut with = Vec::new();
                    let mut status = None;
                    for p in inner {
                        match p.as_rule() {
                            Rule::field_init => with.push(self.field_init(p)?),
                            Rule::expr => status = Some(self.expr(p)?),
                            _ => return Err(self.bug(&p, "document outcome")),
                        }
                    }
                    let status = status.ok_or_else(|| self.bug(&clause, "status"))?;
                    r.outcomes.push(Outcome::Document {
                        document,
                        with,
                        status,
                        span: cspan,
                    });
                }
                _ => return Err(self.bug(&clause, "rule clause")),
            }
        }
        Ok(r)
    }

    fn field_init(&self, pair: Pair<Rule>) -> R<(Ident, Expr)> {
        let mut it = pair.clone().into_inner();
        let n = self.ident(self.next(&mut it, &pair)?);
        Ok((n, self.expr(self.next(&mut it, &pair)?)?))
    }

    fn ident(&self, pair: Pair<Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: span_of(&pair),
        }
    }

    fn string(&self, pair: Pair<Rule>) -> Str {
        let span = span_of(&pair);
        let raw = pair.as_str();
        let inner = raw
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(raw);
        Str {
            value: unescape(inner),
            span,
        }
    }

    fn template(&self, pair: Pair<Rule>) -> R<Template> {
        let span = span_of(&pair);
        let mut parts = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::tpl_text => parts.push(TemplatePart::Text(unescape(p.as_str()))),
                Rule::interp => {
                    let mut it = p.clone().into_inner();
                    parts.push(TemplatePart::Expr(self.expr(self.next(&mut it, &p)?)?));
                }
                _ => return Err(self.bug(&p, "template")),
            }
        }
        Ok(Template { parts, span })
    }

    fn type_expr(&self, pair: Pair<Rule>) -> R<TypeExpr> {
        let span = span_of(&pair);
        let mut it = pair.clone().into_inner();
        let name = self.ident(self.next(&mut it, &pair)?);
        let mut args = Vec::new();
        let mut optional = false;
        for p in it {
            match p.as_rule() {
                Rule::type_args => {
                    for a in p.into_inner() {
                        args.push(self.type_expr(a)?);
                    }
                }
                Rule::optional => optional = true,
                _ => return Err(self.bug(&p, "type")),
            }
        }
        Ok(TypeExpr {
            name,
            args,
            optional,
            span,
        })
    }

    fn expr(&self, pair: Pair<Rule>) -> R<Expr> {
        let rule = pair.as_rule();
        let span = span_of(&pair);
        let e = self.expr_inner(pair)?;
        // Each level of parentheses is measured as it closes, so a tree
        // deeper than the limit is never built far past it.
        if rule == Rule::expr && depth(&e) > MAX_EXPR_DEPTH {
            return Err(self.too_deep(span));
        }
        Ok(e)
    }

    fn too_deep(&self, span: Span) -> Diagnostic {
        too_deep(
            self.source,
            span,
            format!("this expression nests more than {MAX_EXPR_DEPTH} operations deep"),
        )
    }

    /// Counts the links of a chain (`+`, `where`, fields, `not`) as they are
    /// built: a chain past the limit stops there.
    fn chain(&self, links: &mut usize, span: Span) -> R<()> {
        *links += 1;
        if *links > MAX_EXPR_DEPTH {
            return Err(self.too_deep(span));
        }
        Ok(())
    }

    fn expr_inner(&self, pair: Pair<Rule>) -> R<Expr> {
        let span = span_of(&pair);
        let rule = pair.as_rule();
        let mut it = pair
            .clone()
            .into_inner()
            .filter(|p| !matches!(p.as_rule(), Rule::k_and | Rule::k_or | Rule::k_where));
        match rule {
            Rule::expr => {
                let mut acc = self.expr(self.next(&mut it, &pair)?)?;
                let mut links = 0;
                for cond in it {
                    self.chain(&mut links, span)?;
                    let cond = self.expr(cond)?;
                    let s = acc.span.to(cond.span);
                    acc = Expr {
                        kind: ExprKind::Where(Box::new(acc), Box::new(cond)),
                        span: s,
                    };
                }
                Ok(acc)
            }
            Rule::or_expr | Rule::and_expr => {
                let operands: Vec<Pair<Rule>> = it.collect();
                // `any x in l: a and b` could mean two things: say which.
                if let Some(q) = operands.iter().rev().skip(1).find_map(quantifier_at_end) {
                    let word = if rule == Rule::or_expr { "or" } else { "and" };
                    let text = self.source.text.get(q.start..q.end).unwrap_or("");
                    let q = Span::new(q.start, q.start + text.trim_end().len());
                    return Err(Diagnostic::error(
                        "regle::syntax::ambiguous_quantifier",
                        format!("the condition of this quantifier stops before `{word}`: say which you mean"),
                    )
                    .at(self.source, q, format!("its condition ends before `{word}`"))
                    .help(format!(
                        "write `(any x in list: a) {word} b`, or `any x in list: (a {word} b)`"
                    )));
                }
                let mut items: Vec<Expr> = operands
                    .into_iter()
                    .map(|p| self.expr(p))
                    .collect::<R<_>>()?;
                if items.len() == 1 {
                    return items.pop().ok_or_else(|| self.bug(&pair, "operand"));
                }
                let span = match (items.first(), items.last()) {
                    (Some(a), Some(b)) => a.span.to(b.span),
                    _ => span,
                };
                let kind = if rule == Rule::or_expr {
                    ExprKind::Or(items)
                } else {
                    ExprKind::And(items)
                };
                Ok(Expr { kind, span })
            }
            Rule::not_expr => {
                let parts: Vec<Pair<Rule>> = it.collect();
                let nots = parts.iter().filter(|p| p.as_rule() == Rule::not_op).count();
                let last = parts
                    .into_iter()
                    .last()
                    .ok_or_else(|| self.bug(&pair, "not operand"))?;
                if nots > MAX_EXPR_DEPTH {
                    return Err(self.too_deep(span));
                }
                let mut e = self.expr(last)?;
                let span = Span::new(span.start, e.span.end);
                for _ in 0..nots {
                    e = Expr {
                        kind: ExprKind::Not(Box::new(e)),
                        span,
                    };
                }
                Ok(e)
            }
            Rule::cmp_expr => {
                let lhs = self.expr(self.next(&mut it, &pair)?)?;
                let Some(op) = it.next() else { return Ok(lhs) };
                let rhs = self.expr(self.next(&mut it, &pair)?)?;
                let op_text: String = op.as_str().split_whitespace().collect::<Vec<_>>().join(" ");
                let op = match op_text.as_str() {
                    "==" => CmpOp::Eq,
                    "!=" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    ">=" => CmpOp::Ge,
                    "in" => CmpOp::In,
                    _ => CmpOp::NotIn,
                };
                let span = lhs.span.to(rhs.span);
                Ok(Expr {
                    kind: ExprKind::Cmp(op, Box::new(lhs), Box::new(rhs)),
                    span,
                })
            }
            Rule::add_expr => {
                let mut acc = self.expr(self.next(&mut it, &pair)?)?;
                let mut links = 0;
                while let Some(op) = it.next() {
                    self.chain(&mut links, span)?;
                    let rhs = self.expr(self.next(&mut it, &pair)?)?;
                    let op = if op.as_str() == "+" {
                        AddOp::Add
                    } else {
                        AddOp::Sub
                    };
                    let s = acc.span.to(rhs.span);
                    acc = Expr {
                        kind: ExprKind::Add(op, Box::new(acc), Box::new(rhs)),
                        span: s,
                    };
                }
                Ok(acc)
            }
            Rule::postfix => {
                let mut acc = self.expr(self.next(&mut it, &pair)?)?;
                let mut links = 0;
                for field in it {
                    self.chain(&mut links, span)?;
                    let f = self.ident(field);
                    let s = acc.span.to(f.span);
                    acc = Expr {
                        kind: ExprKind::Field(Box::new(acc), f),
                        span: s,
                    };
                }
                Ok(acc)
            }
            Rule::paren => self.expr(self.next(&mut it, &pair)?),
            Rule::if_expr => {
                let c = self.expr(self.next(&mut it, &pair)?)?;
                let t = self.expr(self.next(&mut it, &pair)?)?;
                let e = self.expr(self.next(&mut it, &pair)?)?;
                let span = Span::new(span.start, e.span.end);
                Ok(Expr {
                    kind: ExprKind::If(Box::new(c), Box::new(t), Box::new(e)),
                    span,
                })
            }
            Rule::quantifier => {
                let kind = match self.next(&mut it, &pair)?.as_str() {
                    "any" => QuantKind::Any,
                    _ => QuantKind::All,
                };
                let var = self.ident(self.next(&mut it, &pair)?);
                let over = self.expr(self.next(&mut it, &pair)?)?;
                let body = self.expr(self.next(&mut it, &pair)?)?;
                let span = Span::new(span.start, body.span.end);
                Ok(Expr {
                    kind: ExprKind::Quant(kind, var, Box::new(over), Box::new(body)),
                    span,
                })
            }
            Rule::fires => {
                let id = self.ident(self.next(&mut it, &pair)?);
                let arg = it.next().map(|p| self.expr(p)).transpose()?.map(Box::new);
                Ok(Expr {
                    kind: ExprKind::Fires(id, arg),
                    span,
                })
            }
            Rule::call => {
                let name = self.ident(self.next(&mut it, &pair)?);
                let Some(args) = it.next() else {
                    return Ok(Expr {
                        kind: ExprKind::Name(name),
                        span,
                    });
                };
                let args = args.into_inner().map(|p| self.expr(p)).collect::<R<_>>()?;
                Ok(Expr {
                    kind: ExprKind::Call(name, args),
                    span,
                })
            }
            Rule::bool_lit => Ok(Expr {
                kind: ExprKind::Bool(pair.as_str().starts_with('t')),
                span,
            }),
            Rule::integer => match pair.as_str().parse::<i64>() {
                Ok(n) => Ok(Expr {
                    kind: ExprKind::Int(n),
                    span,
                }),
                Err(_) => Err(Diagnostic::error(
                    "regle::syntax::number_too_large",
                    "this number does not fit in a 64-bit integer",
                )
                .at(self.source, span, "too large")),
            },
            Rule::string => Ok(Expr {
                kind: ExprKind::Str(self.string(pair).value),
                span,
            }),
            Rule::list_lit => {
                let items = it.map(|p| self.expr(p)).collect::<R<_>>()?;
                Ok(Expr {
                    kind: ExprKind::List(items),
                    span,
                })
            }
            Rule::record_lit => {
                let fields = it.map(|p| self.field_init(p)).collect::<R<_>>()?;
                Ok(Expr {
                    kind: ExprKind::Record(fields),
                    span,
                })
            }
            Rule::ident => Ok(Expr {
                kind: ExprKind::Name(self.ident(pair)),
                span,
            }),
            _ => Err(self.bug(&pair, "expression")),
        }
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}
