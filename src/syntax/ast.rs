//! The spanned syntax tree of a policy file, as written: names are still
//! strings, nothing is resolved or typed. `check` turns it into the IR.

use crate::source::{Source, Span};

#[derive(Clone, Debug)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// One parsed `.regle` file.
#[derive(Debug)]
pub struct Module {
    pub source: Source,
    pub items: Vec<Item>,
}

#[derive(Debug)]
pub enum Item {
    Policy(PolicyDecl),
    Enum(EnumDecl),
    Record(RecordDecl),
    Input(InputDecl),
    Table(TableDecl),
    Document(DocumentDecl),
    Def(DefDecl),
    Decision(DecisionDecl),
    Rule(RuleDecl),
}

#[derive(Debug)]
pub struct PolicyDecl {
    pub name: Str,
    pub version: Option<Str>,
    pub subject: Option<(Ident, Expr)>,
    pub labels: Vec<(Ident, Str)>,
    pub span: Span,
}

/// A string literal and its span.
#[derive(Clone, Debug)]
pub struct Str {
    pub value: String,
    pub span: Span,
}

#[derive(Debug)]
pub struct EnumDecl {
    pub name: Ident,
    pub variants: Vec<Variant>,
}

#[derive(Clone, Debug)]
pub struct Variant {
    pub name: Ident,
    pub label: Option<Str>,
}

#[derive(Debug)]
pub struct RecordDecl {
    pub name: Ident,
    pub fields: Vec<FieldDecl>,
}

#[derive(Debug)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    /// `in table.column`: the values a fact may take.
    pub domain: Option<(Ident, Ident)>,
    pub default: Option<Expr>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// One per evaluated document (`input candidacy: Candidacy`).
    Input,
    /// Given once for a whole batch (`--registry FILE`).
    Registry,
}

#[derive(Debug)]
pub struct InputDecl {
    pub kind: InputKind,
    pub name: Ident,
    pub ty: TypeExpr,
}

#[derive(Debug)]
pub struct TableDecl {
    pub name: Ident,
    pub path: Str,
    pub columns: Vec<FieldDecl>,
}

#[derive(Debug)]
pub struct DocumentDecl {
    pub name: Ident,
    pub title: Str,
}

#[derive(Debug)]
pub struct DefDecl {
    pub name: Ident,
    /// `None` for a constant-like definition (`def rem = ...`), evaluated
    /// once per candidacy; `Some` for a function, even with no parameter.
    pub params: Option<Vec<(Ident, TypeExpr)>>,
    pub ret: Option<TypeExpr>,
    pub body: Expr,
}

#[derive(Debug)]
pub struct DecisionDecl {
    pub name: Ident,
    pub var: Ident,
    pub over: Expr,
    pub key: Option<(Ident, Expr)>,
    pub values: Vec<Variant>,
    pub default: Option<Ident>,
    pub show: Vec<(Ident, Expr)>,
    pub total: Option<Ident>,
    pub group_by: Option<Expr>,
    pub span: Span,
}

#[derive(Debug)]
pub struct RuleDecl {
    pub id: Ident,
    pub title: Str,
    pub cite: Option<Str>,
    pub overrides: Vec<Ident>,
    pub exception_to: Option<Ident>,
    pub for_each: Option<(Ident, Expr)>,
    pub lets: Vec<(Ident, Expr)>,
    pub when: Option<Expr>,
    pub outcomes: Vec<Outcome>,
    pub span: Span,
}

#[derive(Debug)]
pub enum Outcome {
    Diagnostic {
        severity: crate::diag::Severity,
        /// `error if COND ...`: this outcome only when COND holds too.
        guard: Option<Expr>,
        at: Option<Expr>,
        message: Template,
        span: Span,
    },
    Decide {
        decision: Ident,
        value: Ident,
        from: Option<Expr>,
        span: Span,
    },
    Document {
        document: Ident,
        with: Vec<(Ident, Expr)>,
        status: Expr,
        span: Span,
    },
}

#[derive(Debug)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
    pub span: Span,
}

#[derive(Debug)]
pub enum TemplatePart {
    Text(String),
    Expr(Expr),
}

#[derive(Clone, Debug)]
pub struct TypeExpr {
    pub name: Ident,
    pub args: Vec<TypeExpr>,
    pub optional: bool,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::In => "in",
            CmpOp::NotIn => "not in",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddOp {
    Add,
    Sub,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuantKind {
    Any,
    All,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Bool(bool),
    Int(i64),
    Str(String),
    Name(Ident),
    Field(Box<Expr>, Ident),
    Call(Ident, Vec<Expr>),
    Fires(Ident, Option<Box<Expr>>),
    List(Vec<Expr>),
    Record(Vec<(Ident, Expr)>),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Add(AddOp, Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Quant(QuantKind, Ident, Box<Expr>, Box<Expr>),
    Where(Box<Expr>, Box<Expr>),
}
