//! Check: the parsed policy files to the IR. Resolves every name (with
//! "did you mean" when it fails), infers and checks types, loads and
//! indexes tables, and finds cycles, duplicate IDs and missing citations.
//! Never stops at the first problem: every diagnostic is collected.
//! Evaluates nothing but literal defaults.

pub mod tables;

use crate::diag::{did_you_mean, Diagnostic};
use crate::ir::types::Show;
use crate::ir::*;
use crate::source::{Source, SourceFile, Span};
use crate::syntax::ast::{self, Expr, ExprKind};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Largest policy file read.
pub const MAX_POLICY_BYTES: u64 = 1024 * 1024;
/// Most `let`s in one rule (they are evaluated lazily, tracked in a word).
pub const MAX_LETS: usize = 64;
/// Most policy files in one folder.
pub const MAX_POLICY_FILES: usize = 1000;

/// The names of the built-in document status enum and its values.
pub const DOCUMENT_STATUS: &str = "DocumentStatus";
pub const DOCUMENT_STATUS_VALUES: [&str; 3] = ["provided", "incomplete", "missing"];

/// A checked policy, with its warnings.
pub struct Checked {
    pub policy: Policy,
    pub warnings: Vec<Diagnostic>,
}

/// Read, parse and check the policy at `path` (a folder of `*.regle` files,
/// or one file). `Err` holds every diagnostic, errors and warnings.
pub fn load_policy(path: &Path) -> Result<Checked, Vec<Diagnostic>> {
    let (sources, mut diags) = read_sources(path);
    let mut modules = Vec::new();
    for source in &sources {
        match crate::syntax::parse(source) {
            Ok(m) => modules.push(m),
            Err(d) => diags.push(d),
        }
    }
    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    check(&modules, diags)
}

fn read_sources(path: &Path) -> (Vec<Source>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let files: Vec<PathBuf> = if path.is_dir() {
        match std::fs::read_dir(path) {
            Ok(entries) => {
                let mut files: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "regle") && p.is_file())
                    .collect();
                files.sort();
                if files.is_empty() {
                    diags.push(
                        Diagnostic::error(
                            "regle::policy::empty_folder",
                            format!("`{}` holds no `.regle` file", path.display()),
                        )
                        .help("a policy is a folder of `*.regle` files, or one such file"),
                    );
                }
                files
            }
            Err(e) => {
                diags.push(Diagnostic::error(
                    "regle::policy::unreadable",
                    format!("cannot read policy folder `{}`: {e}", path.display()),
                ));
                Vec::new()
            }
        }
    } else {
        vec![path.to_path_buf()]
    };
    if files.len() > MAX_POLICY_FILES {
        diags.push(Diagnostic::error(
            "regle::policy::too_many_files",
            format!(
                "the policy folder holds {} files, more than {MAX_POLICY_FILES}",
                files.len()
            ),
        ));
        return (Vec::new(), diags);
    }
    let mut sources = Vec::new();
    for file in files {
        let name = file.display().to_string();
        let read = crate::source::read_bounded(&file, MAX_POLICY_BYTES);
        if read
            .as_ref()
            .is_ok_and(|b| b.len() as u64 > MAX_POLICY_BYTES)
        {
            diags.push(
                Diagnostic::error(
                    "regle::policy::too_large",
                    format!("policy file `{name}` is larger than {MAX_POLICY_BYTES} bytes"),
                )
                .help("split it into several files of the same folder, or move data into a table"),
            );
            continue;
        }
        match read {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => sources.push(SourceFile::new(name, text)),
                Err(e) => {
                    let at = e.utf8_error().valid_up_to();
                    let src = SourceFile::new(name.clone(), String::from_utf8_lossy(e.as_bytes()));
                    diags.push(
                        Diagnostic::error(
                            "regle::policy::not_utf8",
                            format!("policy file `{name}` is not valid UTF-8"),
                        )
                        .at(&src, Span::new(at, at + 1), "this byte is not UTF-8")
                        .help("save the file as UTF-8"),
                    );
                }
            },
            Err(e) => diags.push(
                Diagnostic::error(
                    "regle::policy::unreadable",
                    format!("cannot read policy `{name}`: {e}"),
                )
                .help("give a folder of `*.regle` files, or one such file"),
            ),
        }
    }
    (sources, diags)
}

/// Check parsed modules. `diags` may already hold warnings.
pub fn check(modules: &[ast::Module], diags: Vec<Diagnostic>) -> Result<Checked, Vec<Diagnostic>> {
    let mut c = Checker::new(modules, diags);
    c.run();
    let (policy, diags) = c.finish();
    if diags.iter().any(Diagnostic::is_error) {
        Err(diags)
    } else {
        Ok(Checked {
            policy,
            warnings: diags,
        })
    }
}

#[derive(Clone, Copy, Debug)]
enum ValueName {
    Input(u32),
    Def(DefId),
    Table(TableId),
    Builtin(Builtin),
    AsOf,
}

enum DefState {
    Unchecked,
    InProgress,
    Done(Type),
}

struct DefSlot<'a> {
    decl: &'a ast::DefDecl,
    src: Source,
    state: DefState,
    param_types: Vec<Type>,
    ir: Option<Def>,
}

#[derive(Clone)]
enum Var {
    Named {
        name: String,
        slot: u32,
        ty: Type,
    },
    /// A rule's `let`: evaluated on first use (`index` among the rule's lets).
    Let {
        name: String,
        slot: u32,
        ty: Type,
        index: u32,
    },
    /// The element of a `where`: its fields are names, and `it` is it.
    Element {
        slot: u32,
        ty: Type,
    },
}

struct Scope {
    vars: Vec<Var>,
    next: u32,
}

impl Scope {
    fn new() -> Scope {
        Scope {
            vars: Vec::new(),
            next: 0,
        }
    }
    fn slot(&mut self) -> u32 {
        self.next += 1;
        self.next - 1
    }
}

struct RuleSlot<'a> {
    decl: &'a ast::RuleDecl,
    src: Source,
    for_type: Option<Option<Type>>,
    in_progress: bool,
}

struct Checker<'a> {
    modules: &'a [ast::Module],
    diags: Vec<Diagnostic>,
    policy_decl: Option<(&'a ast::PolicyDecl, Source)>,
    types: HashMap<String, (Type, Source, Span)>,
    enum_names: Vec<String>,
    enums: Vec<EnumDef>,
    variants: HashMap<String, Vec<(u32, u32)>>,
    record_names: Vec<String>,
    records: Vec<RecordDef>,
    record_decls: Vec<(&'a ast::RecordDecl, Source)>,
    values: HashMap<String, (ValueName, Option<(Source, Span)>)>,
    inputs: Vec<InputDef>,
    input_decls: Vec<(&'a ast::InputDecl, Source)>,
    table_names: Vec<String>,
    tables: Vec<Table>,
    table_decls: Vec<(&'a ast::TableDecl, Source)>,
    documents: Vec<DocumentDef>,
    document_ids: HashMap<String, u32>,
    defs: Vec<DefSlot<'a>>,
    /// Definitions being checked, each waiting for one it reads, and the
    /// expressions being checked, theirs included.
    def_nesting: usize,
    expr_nesting: usize,
    /// Said once: the rest of a long chain is the same problem.
    said_too_deep: bool,
    decision_decls: Vec<(&'a ast::DecisionDecl, Source)>,
    decision_ids: HashMap<String, u32>,
    decisions: Vec<Option<Decision>>,
    decision_types: Vec<Type>,
    /// The texts of constants and table cells.
    symbols: Symbols,
    rules: Vec<RuleSlot<'a>>,
    rule_ids: HashMap<String, RuleIdx>,
    index_requests: Vec<(LookupSource, Vec<Vec<u32>>)>,
    doc_status_enum: u32,
}

impl<'a> Checker<'a> {
    fn new(modules: &'a [ast::Module], diags: Vec<Diagnostic>) -> Self {
        let mut c = Checker {
            modules,
            diags,
            def_nesting: 0,
            expr_nesting: 0,
            said_too_deep: false,
            policy_decl: None,
            types: HashMap::new(),
            enum_names: Vec::new(),
            enums: Vec::new(),
            variants: HashMap::new(),
            record_names: Vec::new(),
            records: Vec::new(),
            record_decls: Vec::new(),
            values: HashMap::new(),
            inputs: Vec::new(),
            input_decls: Vec::new(),
            table_names: Vec::new(),
            tables: Vec::new(),
            table_decls: Vec::new(),
            documents: Vec::new(),
            document_ids: HashMap::new(),
            defs: Vec::new(),
            decision_decls: Vec::new(),
            decision_ids: HashMap::new(),
            decisions: Vec::new(),
            decision_types: Vec::new(),
            symbols: Symbols::default(),
            rules: Vec::new(),
            rule_ids: HashMap::new(),
            index_requests: Vec::new(),
            doc_status_enum: 0,
        };
        // The built-in enum of document statuses.
        let builtin = SourceFile::new("<builtin>", "");
        c.add_enum(
            DOCUMENT_STATUS,
            DOCUMENT_STATUS_VALUES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            &builtin,
            Span::default(),
        );
        for (name, b) in [
            ("count", Builtin::Count),
            ("exists", Builtin::Exists),
            ("empty", Builtin::Empty),
            ("first", Builtin::First),
            ("min", Builtin::Min),
            ("max", Builtin::Max),
            ("distinct", Builtin::Distinct),
            ("sort", Builtin::Sort),
            ("valid", Builtin::Valid),
            ("get", Builtin::Get),
            ("keys", Builtin::Keys),
            ("or_else", Builtin::OrElse),
            ("flatten", Builtin::Flatten),
            ("compact", Builtin::Compact),
            ("sum", Builtin::Sum),
            ("text", Builtin::Text),
        ] {
            c.values
                .insert(name.to_string(), (ValueName::Builtin(b), None));
        }
        c.values
            .insert("as_of".to_string(), (ValueName::AsOf, None));
        c
    }

    fn show(&self, ty: &Type) -> String {
        Show {
            ty,
            enums: &self.enum_names,
            records: &self.record_names,
            tables: &self.table_names,
        }
        .to_string()
    }

    fn err(
        &mut self,
        code: &'static str,
        src: &Source,
        span: Span,
        msg: impl Into<String>,
        label: impl Into<String>,
    ) -> &mut Diagnostic {
        self.diags
            .push(Diagnostic::error(code, msg).at(src, span, label));
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    /// A value of the wrong type: `msg` says what was expected and found.
    fn mismatch(
        &mut self,
        src: &Source,
        span: Span,
        msg: impl Into<String>,
        label: impl Into<String>,
    ) -> &mut Diagnostic {
        self.err("regle::check::type_mismatch", src, span, msg, label)
    }

    fn add_enum(&mut self, name: &str, variants: Vec<String>, src: &Source, span: Span) -> u32 {
        let id = self.enums.len() as u32;
        for (i, v) in variants.iter().enumerate() {
            self.variants
                .entry(v.clone())
                .or_default()
                .push((id, i as u32));
        }
        self.enum_names.push(name.to_string());
        self.enums.push(EnumDef {
            name: name.to_string(),
            variants,
        });
        self.types
            .insert(name.to_string(), (Type::Enum(id), src.clone(), span));
        id
    }

    fn declare_value(&mut self, ident: &ast::Ident, src: &Source, what: ValueName) -> bool {
        if let Some((_, at)) = self.values.get(&ident.name) {
            let mut d = Diagnostic::error(
                "regle::check::duplicate_name",
                format!("`{}` is declared twice", ident.name),
            )
            .at(src, ident.span, "declared again here");
            match at {
                Some((psrc, pspan)) => d = d.also(psrc, *pspan, "first declared here"),
                None => {
                    d = d.help(format!(
                        "`{}` is a built-in name; choose another",
                        ident.name
                    ));
                }
            }
            self.diags.push(d.help("rename one of them"));
            return false;
        }
        self.values
            .insert(ident.name.clone(), (what, Some((src.clone(), ident.span))));
        true
    }

    fn run(&mut self) {
        let modules = self.modules;
        // 1. Declarations, so that order in and across files never matters.
        for m in modules {
            let src = &m.source;
            for item in &m.items {
                match item {
                    ast::Item::Policy(p) => {
                        if let Some((_, psrc)) = &self.policy_decl {
                            let psrc = psrc.clone();
                            let first = self
                                .policy_decl
                                .as_ref()
                                .map(|p| p.0.span)
                                .unwrap_or_default();
                            self.diags.push(
                                Diagnostic::error(
                                    "regle::check::duplicate_policy",
                                    "a policy has one `policy` block",
                                )
                                .at(src, p.span, "a second one")
                                .also(&psrc, first, "the first one")
                                .help("merge the two blocks"),
                            );
                        } else {
                            self.policy_decl = Some((p, src.clone()));
                        }
                    }
                    ast::Item::Enum(e) => {
                        if self.type_taken(&e.name, src) {
                            continue;
                        }
                        let mut seen = HashSet::new();
                        for v in &e.variants {
                            if !seen.insert(v.name.name.clone()) {
                                self.err(
                                    "regle::check::duplicate_name",
                                    src,
                                    v.name.span,
                                    format!("`{}` is listed twice", v.name.name),
                                    "again here",
                                );
                            }
                        }
                        let names = e.variants.iter().map(|v| v.name.name.clone()).collect();
                        self.add_enum(&e.name.name, names, src, e.name.span);
                    }
                    ast::Item::Record(r) => {
                        if self.type_taken(&r.name, src) {
                            continue;
                        }
                        let id = self.records.len() as u32;
                        self.record_names.push(r.name.name.clone());
                        let names: Arc<[Arc<str>]> = r
                            .fields
                            .iter()
                            .map(|f| Arc::from(f.name.name.as_str()))
                            .collect();
                        self.records.push(RecordDef {
                            name: r.name.name.clone(),
                            names,
                            fields: Vec::new(),
                        });
                        self.record_decls.push((r, src.clone()));
                        self.types.insert(
                            r.name.name.clone(),
                            (Type::Record(id), src.clone(), r.name.span),
                        );
                    }
                    ast::Item::Input(i) => {
                        let id = self.inputs.len() as u32;
                        if self.declare_value(&i.name, src, ValueName::Input(id)) {
                            self.inputs.push(InputDef {
                                name: i.name.name.clone(),
                                ty: Type::Error,
                                registry: i.kind == ast::InputKind::Registry,
                            });
                            self.input_decls.push((i, src.clone()));
                        }
                    }
                    ast::Item::Table(t) => {
                        let id = self.tables.len() as u32;
                        if self.declare_value(&t.name, src, ValueName::Table(id)) {
                            self.table_names.push(t.name.name.clone());
                            self.tables.push(Table {
                                name: t.name.name.clone(),
                                columns: t.columns.iter().map(|c| c.name.name.clone()).collect(),
                                types: Vec::new(),
                                cells: Vec::new(),
                                rows: 0,
                            });
                            self.table_decls.push((t, src.clone()));
                        }
                    }
                    ast::Item::Document(d) => {
                        if self.document_ids.contains_key(&d.name.name) {
                            self.err(
                                "regle::check::duplicate_name",
                                src,
                                d.name.span,
                                format!("document `{}` is declared twice", d.name.name),
                                "again here",
                            );
                            continue;
                        }
                        self.document_ids
                            .insert(d.name.name.clone(), self.documents.len() as u32);
                        self.documents.push(DocumentDef {
                            name: d.name.name.clone(),
                            title: d.title.value.clone(),
                        });
                    }
                    ast::Item::Def(d) => {
                        let id = self.defs.len() as u32;
                        if self.declare_value(&d.name, src, ValueName::Def(id)) {
                            self.defs.push(DefSlot {
                                decl: d,
                                src: src.clone(),
                                state: DefState::Unchecked,
                                param_types: Vec::new(),
                                ir: None,
                            });
                        }
                    }
                    ast::Item::Decision(d) => {
                        if self.decision_ids.contains_key(&d.name.name) {
                            self.err(
                                "regle::check::duplicate_name",
                                src,
                                d.name.span,
                                format!("decision `{}` is declared twice", d.name.name),
                                "again here",
                            );
                            continue;
                        }
                        self.decision_ids
                            .insert(d.name.name.clone(), self.decision_decls.len() as u32);
                        self.decision_decls.push((d, src.clone()));
                    }
                    ast::Item::Rule(r) => {
                        if let Some(&prev) = self.rule_ids.get(&r.id.name) {
                            let (psrc, pspan) = self
                                .rules
                                .get(prev as usize)
                                .map(|p| (p.src.clone(), p.decl.id.span))
                                .unwrap_or((src.clone(), r.id.span));
                            self.diags.push(
                                Diagnostic::error("regle::check::duplicate_rule", format!("rule `{}` is declared twice", r.id.name))
                                    .at(src, r.id.span, "declared again here")
                                    .also(&psrc, pspan, "first declared here")
                                    .help("a rule ID names one rule; give this one its own ID, or merge the two"),
                            );
                            // Still checked, for the problems in its body.
                            self.rules.push(RuleSlot {
                                decl: r,
                                src: src.clone(),
                                for_type: None,
                                in_progress: false,
                            });
                            continue;
                        }
                        self.rule_ids
                            .insert(r.id.name.clone(), self.rules.len() as u32);
                        self.rules.push(RuleSlot {
                            decl: r,
                            src: src.clone(),
                            for_type: None,
                            in_progress: false,
                        });
                    }
                }
            }
        }
        if self.policy_decl.is_none() {
            let mut d = Diagnostic::error(
                "regle::check::no_policy",
                "the policy has no `policy` block",
            )
            .help("add `policy \"name\" { version \"...\" subject id: input.id }` to one file");
            if let Some(m) = modules.first() {
                d = d.at(&m.source, Span::new(0, 0), "expected in one of the files");
            }
            self.diags.push(d);
        }
        // 2. Types of record fields, inputs, table columns.
        for i in 0..self.record_decls.len() {
            let (decl, src) = (self.record_decls[i].0, self.record_decls[i].1.clone());
            let mut fields = Vec::new();
            let mut seen = HashSet::new();
            for f in &decl.fields {
                if !seen.insert(f.name.name.clone()) {
                    self.err(
                        "regle::check::duplicate_name",
                        &src,
                        f.name.span,
                        format!("field `{}` is declared twice", f.name.name),
                        "again here",
                    );
                }
                let ty = self.resolve_type(&f.ty, &src);
                let default = f.default.as_ref().and_then(|e| self.literal(e, &ty, &src));
                fields.push(FieldDef {
                    name: f.name.name.clone(),
                    ty,
                    default,
                    domain: None,
                });
            }
            if let Some(r) = self.records.get_mut(i) {
                r.fields = fields;
            }
        }
        for i in 0..self.input_decls.len() {
            let (decl, src) = (self.input_decls[i].0, self.input_decls[i].1.clone());
            let ty = self.resolve_type(&decl.ty, &src);
            if let Some(inp) = self.inputs.get_mut(i) {
                inp.ty = ty;
            }
        }
        for i in 0..self.table_decls.len() {
            self.load_table(i);
        }
        // Fields whose values must be found in a table column.
        for i in 0..self.record_decls.len() {
            let (decl, src) = (self.record_decls[i].0, self.record_decls[i].1.clone());
            for (fi, f) in decl.fields.iter().enumerate() {
                let Some((table, column)) = &f.domain else {
                    continue;
                };
                let domain = self.domain(table, column, &src, f);
                if let Some(field) = self.records.get_mut(i).and_then(|r| r.fields.get_mut(fi)) {
                    field.domain = domain;
                }
            }
        }
        // 3. Bodies: definitions (in dependency order), decisions, rules.
        for id in 0..self.defs.len() {
            self.def_type(id as u32);
        }
        for i in 0..self.decision_decls.len() {
            let d = self.decision(i);
            self.decisions.push(d);
        }
    }

    fn type_taken(&mut self, name: &ast::Ident, src: &Source) -> bool {
        if let Some((_, psrc, pspan)) = self.types.get(&name.name) {
            let d = Diagnostic::error(
                "regle::check::duplicate_name",
                format!("type `{}` is declared twice", name.name),
            )
            .at(src, name.span, "declared again here")
            .also(&psrc.clone(), *pspan, "first declared here");
            self.diags.push(d);
            return true;
        }
        if ["Text", "Int", "Bool", "Date", "Version", "List", "Map"].contains(&name.name.as_str()) {
            self.err(
                "regle::check::duplicate_name",
                src,
                name.span,
                format!("`{}` is a built-in type", name.name),
                "choose another name",
            );
            return true;
        }
        false
    }

    fn resolve_type(&mut self, t: &ast::TypeExpr, src: &Source) -> Type {
        let arity = |n: usize, this: &mut Self| {
            if t.args.len() != n {
                this.err(
                    "regle::check::type_arguments",
                    src,
                    t.span,
                    format!(
                        "`{}` takes {n} type argument{}",
                        t.name.name,
                        if n == 1 { "" } else { "s" }
                    ),
                    "here",
                );
                false
            } else {
                true
            }
        };
        let base = match t.name.name.as_str() {
            "Text" | "Int" | "Bool" | "Date" | "Version" if !t.args.is_empty() => {
                arity(0, self);
                Type::Error
            }
            "Text" => Type::Text,
            "Int" => Type::Int,
            "Bool" => Type::Bool,
            "Date" => Type::Date,
            "Version" => Type::Version,
            "List" => {
                if arity(1, self) {
                    Type::list(self.resolve_type(&t.args[0], src))
                } else {
                    Type::Error
                }
            }
            "Map" => {
                if arity(2, self) {
                    let k = self.resolve_type(&t.args[0], src);
                    let v = self.resolve_type(&t.args[1], src);
                    Type::Map(Box::new(k), Box::new(v))
                } else {
                    Type::Error
                }
            }
            name => match self.types.get(name) {
                Some((ty, _, _)) => ty.clone(),
                None if self.table_names.iter().any(|t| t == name) => {
                    Type::Row(self.table_names.iter().position(|t| t == name).unwrap_or(0) as u32)
                }
                None => {
                    let mut known: Vec<&str> = self.types.keys().map(String::as_str).collect();
                    known.extend(self.table_names.iter().map(String::as_str));
                    known.extend(["Text", "Int", "Bool", "Date", "Version", "List", "Map"]);
                    let help = did_you_mean(name, known.iter().copied())
                        .unwrap_or_else(|| "declare it with `record` or `enum`, or use Text, Int, Bool, Date, Version, List<T>, Map<K, V>".to_string());
                    let d = Diagnostic::error(
                        "regle::check::unknown_type",
                        format!("unknown type `{name}`"),
                    )
                    .at(src, t.name.span, "not a type")
                    .help(help);
                    self.diags.push(d);
                    Type::Error
                }
            },
        };
        if t.optional {
            Type::optional(base)
        } else {
            base
        }
    }

    /// A literal default value (field defaults): constant expressions only.
    fn literal(&mut self, e: &Expr, ty: &Type, src: &Source) -> Option<Value> {
        let mut scope = Scope::new();
        let (ir, got) = self.expr(e, &mut scope, src);
        if !got.fits(ty) {
            let msg = format!(
                "this default is {}, but the field is {}",
                self.show(&got),
                self.show(ty)
            );
            self.mismatch(src, e.span, msg, "wrong type");
            return None;
        }
        match const_value(&ir) {
            Some(v) => Some(v),
            None => {
                self.err(
                    "regle::check::default_not_literal",
                    src,
                    e.span,
                    "a default must be a literal value",
                    "not a literal",
                )
                .help = Some("write a literal, like `[]`, `0`, `\"\"` or `false`".to_string());
                None
            }
        }
    }

    /// The values of `table.column`, for a field declared `in` it.
    fn domain(
        &mut self,
        table: &ast::Ident,
        column: &ast::Ident,
        src: &Source,
        f: &ast::FieldDecl,
    ) -> Option<Domain> {
        let Some(t) = self.table_names.iter().position(|n| *n == table.name) else {
            let help = did_you_mean(&table.name, self.table_names.iter().map(String::as_str));
            self.err(
                "regle::check::unknown_table",
                src,
                table.span,
                format!("no table is named `{}`", table.name),
                "unknown table",
            )
            .help = help;
            return None;
        };
        let t = self.tables.get(t)?;
        let Some(c) = t.columns.iter().position(|n| *n == column.name) else {
            let help = did_you_mean(&column.name, t.columns.iter().map(String::as_str))
                .unwrap_or_else(|| format!("its columns are: {}", t.columns.join(", ")));
            let msg = format!("table `{}` has no column `{}`", table.name, column.name);
            self.err(
                "regle::check::no_such_field",
                src,
                column.span,
                msg,
                "unknown column",
            )
            .help = Some(help);
            return None;
        };
        let want = self
            .records
            .iter()
            .find_map(|r| r.fields.iter().find(|x| x.name == f.name.name))
            .map(|x| x.ty.clone());
        let col_ty = t.types.get(c).cloned().unwrap_or(Type::Error);
        let elem = match want.as_ref().map(Type::strip_optional) {
            Some(Type::List(e)) => (**e).clone(),
            Some(other) => other.clone(),
            None => Type::Error,
        };
        if !col_ty.fits(&elem) && !elem.fits(&col_ty) {
            let msg = format!(
                "the field is {}, but column `{}.{}` holds {}",
                self.show(&elem),
                table.name,
                column.name,
                self.show(&col_ty)
            );
            self.mismatch(src, column.span, msg, "another type");
            return None;
        }
        let values = t
            .cells
            .get(c)
            .map(|col| col.iter().cloned().collect())
            .unwrap_or_default();
        Some(Domain {
            name: format!("{}.{}", table.name, column.name),
            values,
        })
    }

    fn load_table(&mut self, i: usize) {
        let (decl, src) = (self.table_decls[i].0, self.table_decls[i].1.clone());
        let mut columns = Vec::new();
        let mut seen = HashSet::new();
        for c in &decl.columns {
            if !seen.insert(c.name.name.clone()) {
                self.err(
                    "regle::check::duplicate_name",
                    &src,
                    c.name.span,
                    format!("column `{}` is declared twice", c.name.name),
                    "again here",
                );
            }
            let ty = self.resolve_type(&c.ty, &src);
            let readable = matches!(
                ty.strip_optional(),
                Type::Text | Type::Int | Type::Bool | Type::Date | Type::Version | Type::Error
            ) || matches!(ty.strip_optional(), Type::List(inner) if matches!(**inner, Type::Text | Type::Int | Type::Date | Type::Version));
            if !readable {
                let msg = format!("a table column cannot be {}", self.show(&ty));
                self.err("regle::check::bad_column_type", &src, c.ty.span, msg, "not readable from CSV")
                    .help = Some("use Text, Int, Bool, Date, Version, List<Text> (space-separated) or one of them with `?`".to_string());
            }
            columns.push((c.name.name.clone(), ty, c.name.span));
        }
        let base = Path::new(&src.name)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let path = base.join(&decl.path.value);
        let loaded = tables::load(
            &path,
            &columns,
            &src,
            decl.path.span,
            &mut self.diags,
            &mut self.symbols,
        );
        if let Some(t) = self.tables.get_mut(i) {
            t.types = columns.into_iter().map(|c| c.1).collect();
            if let Some(l) = loaded {
                t.cells = l.cells;
                t.rows = l.rows;
            } else {
                t.cells = vec![Vec::new(); t.types.len()];
            }
        }
    }

    /// The type of definition `id`, checking it first if need be (and the
    /// definitions it reads, each in turn).
    fn def_type(&mut self, id: DefId) -> Type {
        let waiting = self
            .defs
            .get(id as usize)
            .is_some_and(|s| matches!(s.state, DefState::Unchecked));
        let long_chain = self.def_nesting >= MAX_DEF_CHAIN;
        if waiting && (long_chain || self.expr_nesting >= crate::ir::MAX_EVAL_DEPTH) {
            // A chain of definitions each reading the next, declared
            // before it: checked no deeper (evaluation would recurse as
            // deep; see `ir::MAX_EVAL_DEPTH`).
            if let Some(slot) = self.defs.get_mut(id as usize) {
                slot.state = DefState::Done(Type::Error);
                if std::mem::replace(&mut self.said_too_deep, true) {
                    return Type::Error;
                }
                let d = too_deep_definitions(
                    &slot.src,
                    slot.decl.name.span,
                    &slot.decl.name.name,
                    long_chain,
                );
                self.diags.push(d);
            }
            return Type::Error;
        }
        self.def_nesting += 1;
        let ty = self.check_def(id);
        self.def_nesting -= 1;
        ty
    }

    fn check_def(&mut self, id: DefId) -> Type {
        let Some(slot) = self.defs.get_mut(id as usize) else {
            return Type::Error;
        };
        match &slot.state {
            DefState::Done(t) => return t.clone(),
            DefState::InProgress => {
                let (src, span, name) = (
                    slot.src.clone(),
                    slot.decl.name.span,
                    slot.decl.name.name.clone(),
                );
                self.err(
                    "regle::check::recursive_definition",
                    &src,
                    span,
                    format!("`{name}` depends on itself"),
                    "part of a cycle",
                )
                .help = Some("definitions may not refer to themselves, directly or through others: evaluation must always end".to_string());
                if let Some(s) = self.defs.get_mut(id as usize) {
                    s.state = DefState::Done(Type::Error);
                }
                return Type::Error;
            }
            DefState::Unchecked => {}
        }
        slot.state = DefState::InProgress;
        let decl = slot.decl;
        let src = slot.src.clone();
        let mut scope = Scope::new();
        let mut param_types = Vec::new();
        if let Some(params) = &decl.params {
            let mut seen = HashSet::new();
            for (name, t) in params {
                if !seen.insert(name.name.clone()) {
                    self.err(
                        "regle::check::duplicate_name",
                        &src,
                        name.span,
                        format!("parameter `{}` is listed twice", name.name),
                        "again here",
                    );
                }
                let ty = self.resolve_type(t, &src);
                let slot = scope.slot();
                scope.vars.push(Var::Named {
                    name: name.name.clone(),
                    slot,
                    ty: ty.clone(),
                });
                param_types.push(ty);
            }
        }
        if let Some(s) = self.defs.get_mut(id as usize) {
            s.param_types = param_types.clone();
        }
        let (body, mut ty) = self.expr(&decl.body, &mut scope, &src);
        if let Some(ret) = &decl.ret {
            let want = self.resolve_type(ret, &src);
            if !ty.fits(&want) {
                let msg = format!(
                    "`{}` is declared {}, but its body is {}",
                    decl.name.name,
                    self.show(&want),
                    self.show(&ty)
                );
                self.mismatch(&src, decl.body.span, msg, "this has the wrong type");
            }
            ty = want;
        }
        if let Some(s) = self.defs.get_mut(id as usize) {
            if !matches!(s.state, DefState::Done(_)) {
                s.state = DefState::Done(ty.clone());
            }
            s.ir = Some(Def {
                name: decl.name.name.clone(),
                params: param_types.len() as u32,
                frame: scope.next,
                body,
                ty: ty.clone(),
                memo: None,
            });
        }
        ty
    }

    fn decision(&mut self, i: usize) -> Option<Decision> {
        let (d, src) = (self.decision_decls[i].0, self.decision_decls[i].1.clone());
        let mut scope = Scope::new();
        let (over, over_ty) = self.expr(&d.over, &mut scope, &src);
        let elem = match over_ty.element() {
            Some(t) => t.clone(),
            None => {
                let msg = format!(
                    "a decision is taken for each item of a list, and this is {}",
                    self.show(&over_ty)
                );
                self.err(
                    "regle::check::not_a_list",
                    &src,
                    d.over.span,
                    msg,
                    "not a list",
                );
                Type::Error
            }
        };
        self.decision_types.push(elem.clone());
        let var = scope.slot();
        scope.vars.push(Var::Named {
            name: d.var.name.clone(),
            slot: var,
            ty: elem,
        });
        let Some((key_name, key_expr)) = &d.key else {
            self.err(
                "regle::check::decision_key",
                &src,
                d.name.span,
                format!("decision `{}` has no `key`", d.name.name),
                "add `key NAME: EXPR`",
            )
            .help = Some(format!(
                "the key names each item in the report, e.g. `key id: {}.id`",
                d.var.name
            ));
            return None;
        };
        let (key, _) = self.expr(key_expr, &mut scope, &src);
        if d.values.is_empty() {
            self.err(
                "regle::check::decision_values",
                &src,
                d.name.span,
                format!("decision `{}` lists no `values`", d.name.name),
                "add `values a, b, c`",
            );
            return None;
        }
        let values: Vec<String> = d.values.iter().map(|v| v.name.name.clone()).collect();
        let default = match &d.default {
            Some(def) => match values.iter().position(|v| *v == def.name) {
                Some(p) => p as u32,
                None => {
                    let help = did_you_mean(&def.name, values.iter().map(String::as_str));
                    self.err(
                        "regle::check::unknown_value",
                        &src,
                        def.span,
                        format!("`{}` is not one of the decision's values", def.name),
                        "not listed in `values`",
                    )
                    .help = help;
                    0
                }
            },
            None => {
                self.err(
                    "regle::check::decision_default",
                    &src,
                    d.name.span,
                    format!("decision `{}` has no `default`", d.name.name),
                    "add `default VALUE`",
                )
                .help = Some("the default is the value of an item no rule decides".to_string());
                0
            }
        };
        let mut show = Vec::new();
        for (n, e) in &d.show {
            let (ir, _) = self.expr(e, &mut scope, &src);
            show.push((n.name.clone(), ir));
        }
        let group_by = d
            .group_by
            .as_ref()
            .map(|e| self.expr(e, &mut scope, &src).0);
        let row_table = match self.decision_types.last() {
            Some(Type::Row(t))
                if key.reads_only_locals()
                    && show.iter().all(|(_, ir)| ir.reads_only_locals())
                    && group_by.as_ref().is_none_or(Ir::reads_only_locals) =>
            {
                Some(*t)
            }
            _ => None,
        };
        Some(Decision {
            name: d.name.name.clone(),
            over,
            var,
            frame: scope.next,
            key_name: key_name.name.clone(),
            key,
            values,
            labels: d
                .values
                .iter()
                .map(|v| v.label.as_ref().map(|l| l.value.clone()))
                .collect(),
            default,
            show,
            total: d.total.as_ref().map(|t| t.name.clone()),
            group_by,
            row_heads: row_table.map(|t| (t, Vec::new())),
            json: OnceLock::new(),
        })
    }

    /// The type of a rule's `for` item: `Some(None)` when it has none.
    fn rule_for_type(&mut self, r: RuleIdx) -> Option<Type> {
        let slot = self.rules.get(r as usize)?;
        if let Some(t) = &slot.for_type {
            return t.clone();
        }
        if slot.in_progress {
            return Some(Type::Error);
        }
        let (decl, src) = (slot.decl, slot.src.clone());
        if let Some(s) = self.rules.get_mut(r as usize) {
            s.in_progress = true;
        }
        let t = decl.for_each.as_ref().map(|(_, e)| {
            let mut scope = Scope::new();
            let (_, ty) = self.expr_quiet(e, &mut scope, &src);
            ty.element().cloned().unwrap_or(Type::Error)
        });
        if let Some(s) = self.rules.get_mut(r as usize) {
            s.for_type = Some(t.clone());
            s.in_progress = false;
        }
        t
    }

    /// Type an expression without reporting (it is reported where it is checked).
    fn expr_quiet(&mut self, e: &Expr, scope: &mut Scope, src: &Source) -> (Ir, Type) {
        let n = self.diags.len();
        let r = self.expr(e, scope, src);
        self.diags.truncate(n);
        r
    }

    fn rule(&mut self, r: RuleIdx) -> Option<RuleDef> {
        let slot = self.rules.get(r as usize)?;
        let (decl, src) = (slot.decl, slot.src.clone());
        let mut scope = Scope::new();
        let for_each = match &decl.for_each {
            Some((var, e)) => {
                let (ir, ty) = self.expr(e, &mut scope, &src);
                let elem = match ty.element() {
                    Some(t) => t.clone(),
                    None => {
                        let msg = format!("`for` takes a list, and this is {}", self.show(&ty));
                        self.err("regle::check::not_a_list", &src, e.span, msg, "not a list");
                        Type::Error
                    }
                };
                let slot = scope.slot();
                scope.vars.push(Var::Named {
                    name: var.name.clone(),
                    slot,
                    ty: elem,
                });
                Some((slot, ir))
            }
            None => None,
        };
        let mut lets = Vec::new();
        if decl.lets.len() > MAX_LETS {
            let first = decl
                .lets
                .get(MAX_LETS)
                .map(|l| l.0.span)
                .unwrap_or(decl.id.span);
            self.err(
                "regle::check::too_many_lets",
                &src,
                first,
                format!("a rule has at most {MAX_LETS} `let`s"),
                "one too many",
            )
            .help = Some("move some of them into `def`s".to_string());
        }
        for (name, e) in &decl.lets {
            let (ir, ty) = self.expr(e, &mut scope, &src);
            let slot = scope.slot();
            scope.vars.push(Var::Let {
                name: name.name.clone(),
                slot,
                ty,
                index: lets.len() as u32,
            });
            lets.push((slot, ir));
        }
        let when = decl
            .when
            .as_ref()
            .map(|e| self.condition(e, &mut scope, &src));
        // Conjuncts that read neither the item nor a `let` are the same for
        // every item: split them off, to be evaluated once.
        let (guard, when) = match (&for_each, when) {
            (Some((slot, _)), Some(w)) => {
                let conjuncts = match w {
                    Ir::And(items) => items,
                    other => vec![other],
                };
                let (fixed, per_item): (Vec<Ir>, Vec<Ir>) = conjuncts
                    .into_iter()
                    .partition(|c| !uses_local(c, *slot) && !uses_let(c));
                let join = |mut v: Vec<Ir>| match v.len() {
                    0 => None,
                    1 => v.pop(),
                    _ => Some(Ir::And(v)),
                };
                (join(fixed), join(per_item))
            }
            (_, w) => (None, w),
        };
        let mut outcomes = Vec::new();
        for o in &decl.outcomes {
            if let Some(o) = self.outcome(o, decl, &mut scope, &src) {
                outcomes.push(o);
            }
        }
        if decl.cite.is_none() {
            self.diags.push(
                Diagnostic::warning(
                    "regle::check::no_citation",
                    format!("rule `{}` cites no source text", decl.id.name),
                )
                .at(&src, decl.id.span, "no `cite`")
                .help("add `cite \"...\"` with the sentence of the source this rule encodes"),
            );
        }
        if decl.outcomes.is_empty() && decl.exception_to.is_none() {
            self.diags.push(
                Diagnostic::warning("regle::check::no_outcome", format!("rule `{}` has no outcome", decl.id.name))
                    .at(&src, decl.id.span, "never has an effect")
                    .help("add `error`, `warning`, `info`, `decide` or `document`, or make it an `exception to` another rule"),
            );
        }
        let mut overrides = Vec::new();
        for o in &decl.overrides {
            if let Some(idx) = self.rule_ref(o, &src) {
                overrides.push(idx);
            }
        }
        Some(RuleDef {
            id: decl.id.name.clone(),
            title: decl.title.value.clone(),
            cite: decl.cite.as_ref().map(|c| c.value.clone()),
            source: src.clone(),
            span: decl.id.span,
            frame: scope.next,
            for_each,
            lets,
            guard,
            when,
            outcomes,
            exceptions: Vec::new(),
            overrides,
            memo: None,
            asked: false,
        })
    }

    fn rule_ref(&mut self, id: &ast::Ident, src: &Source) -> Option<RuleIdx> {
        match self.rule_ids.get(&id.name) {
            Some(&i) => Some(i),
            None => {
                let help = did_you_mean(&id.name, self.rule_ids.keys().map(String::as_str));
                self.err(
                    "regle::check::unknown_rule",
                    src,
                    id.span,
                    format!("no rule has the ID `{}`", id.name),
                    "unknown rule",
                )
                .help = help;
                None
            }
        }
    }

    fn condition(&mut self, e: &Expr, scope: &mut Scope, src: &Source) -> Ir {
        let (ir, ty) = self.expr(e, scope, src);
        if !ty.fits(&Type::optional(Type::Bool)) {
            let msg = format!(
                "a condition must be true or false, and this is {}",
                self.show(&ty)
            );
            let help = match ty.strip_optional() {
                Type::List(_) => {
                    Some("to test that a list has items, write `exists(...)`".to_string())
                }
                _ if ty.is_optional() => {
                    Some("to test that a value is present, write `exists(...)`".to_string())
                }
                _ => None,
            };
            self.err(
                "regle::check::not_a_condition",
                src,
                e.span,
                msg,
                "not a condition",
            )
            .help = help;
        }
        ir
    }

    fn outcome(
        &mut self,
        o: &ast::Outcome,
        rule: &ast::RuleDecl,
        scope: &mut Scope,
        src: &Source,
    ) -> Option<Outcome> {
        match o {
            ast::Outcome::Diagnostic {
                severity,
                guard,
                at,
                message,
                ..
            } => {
                let guard = guard.as_ref().map(|g| self.condition(g, scope, src));
                let at = at.as_ref().and_then(|e| self.place(e, scope, src));
                let mut parts = Vec::new();
                for p in &message.parts {
                    match p {
                        ast::TemplatePart::Text(t) => parts.push(TemplatePart::Text(t.clone())),
                        ast::TemplatePart::Expr(e) => {
                            parts.push(TemplatePart::Expr(self.expr(e, scope, src).0))
                        }
                    }
                }
                Some(Outcome::Diagnostic {
                    severity: *severity,
                    guard,
                    at,
                    message: parts,
                })
            }
            ast::Outcome::Decide {
                decision,
                value,
                from,
                ..
            } => {
                let Some(&d) = self.decision_ids.get(&decision.name) else {
                    let help =
                        did_you_mean(&decision.name, self.decision_ids.keys().map(String::as_str));
                    self.err(
                        "regle::check::unknown_decision",
                        src,
                        decision.span,
                        format!("no decision is named `{}`", decision.name),
                        "unknown decision",
                    )
                    .help = help;
                    return None;
                };
                let (ddecl, _) = self.decision_decls.get(d as usize)?;
                let ddecl = *ddecl;
                let values: Vec<&str> = ddecl.values.iter().map(|v| v.name.name.as_str()).collect();
                let Some(v) = values.iter().position(|v| *v == value.name) else {
                    let help =
                        did_you_mean(&value.name, values.iter().copied()).unwrap_or_else(|| {
                            format!(
                                "the values of `{}` are: {}",
                                decision.name,
                                values.join(", ")
                            )
                        });
                    self.err(
                        "regle::check::unknown_value",
                        src,
                        value.span,
                        format!(
                            "`{}` is not a value of decision `{}`",
                            value.name, decision.name
                        ),
                        "unknown value",
                    )
                    .help = Some(help);
                    return None;
                };
                // The rule decides for its `for` item: it must be the decision's kind of item.
                let want = self
                    .decision_types
                    .get(d as usize)
                    .cloned()
                    .unwrap_or(Type::Error);
                match &rule.for_each {
                    None => {
                        self.err("regle::check::decide_without_for", src, decision.span, format!("`decide {}` needs the rule to say which item: add `for ... in ...`", decision.name), "for which item?")
                            .help = Some(format!("write `for {} in {}` before `when`", ddecl.var.name, expr_text(src, &ddecl.over)));
                    }
                    Some((var, _)) => {
                        let got = scope
                            .vars
                            .iter()
                            .find_map(|v| match v {
                                Var::Named { name, ty, .. } | Var::Let { name, ty, .. }
                                    if *name == var.name =>
                                {
                                    Some(ty.clone())
                                }
                                _ => None,
                            })
                            .unwrap_or(Type::Error);
                        if !got.fits(&want) || !want.fits(&got) {
                            let msg = format!(
                                "decision `{}` is taken for each {}, but this rule goes over {}",
                                decision.name,
                                self.show(&want),
                                self.show(&got)
                            );
                            self.mismatch(src, var.span, msg, "wrong kind of item");
                        }
                    }
                }
                let from = from.as_ref().map(|e| self.expr(e, scope, src).0);
                Some(Outcome::Decide {
                    decision: d,
                    value: v as u32,
                    from,
                })
            }
            ast::Outcome::Document {
                document,
                with,
                status,
                ..
            } => {
                let Some(&doc) = self.document_ids.get(&document.name) else {
                    let help =
                        did_you_mean(&document.name, self.document_ids.keys().map(String::as_str))
                            .unwrap_or_else(|| {
                                format!("declare it: `document {} \"its title\"`", document.name)
                            });
                    self.err(
                        "regle::check::unknown_document",
                        src,
                        document.span,
                        format!("no document is named `{}`", document.name),
                        "unknown document",
                    )
                    .help = Some(help);
                    return None;
                };
                let with = with
                    .iter()
                    .map(|(n, e)| (n.name.clone(), self.expr(e, scope, src).0))
                    .collect();
                let (status_ir, ty) = self.expr(status, scope, src);
                if !ty.fits(&Type::Enum(self.doc_status_enum)) {
                    let msg = format!("a document's status is `provided`, `incomplete` or `missing`, and this is {}", self.show(&ty));
                    self.mismatch(src, status.span, msg, "not a document status");
                }
                Some(Outcome::Document {
                    document: doc,
                    with,
                    status: status_ir,
                })
            }
        }
    }

    /// `at PATH`: a fact's path, kept as names for the report.
    fn place(&mut self, e: &Expr, scope: &mut Scope, src: &Source) -> Option<Place> {
        // Type-check it as an expression first, for unknown names and fields.
        let _ = self.expr(e, scope, src);
        let mut fields = Vec::new();
        let mut cur = e;
        loop {
            match &cur.kind {
                ExprKind::Field(base, f) => {
                    fields.push(f.name.clone());
                    cur = base;
                }
                ExprKind::Name(n) => {
                    fields.reverse();
                    let base = if let Some(slot) = scope.vars.iter().rev().find_map(|v| match v {
                        Var::Named { name, slot, .. } | Var::Let { name, slot, .. }
                            if *name == n.name =>
                        {
                            Some(*slot)
                        }
                        _ => None,
                    }) {
                        PlaceBase::Local(slot)
                    } else {
                        match self.values.get(&n.name) {
                            Some((ValueName::Input(i), _)) => PlaceBase::Input(*i),
                            Some((ValueName::Def(d), _)) => PlaceBase::Global(*d),
                            _ => return None,
                        }
                    };
                    return Some(Place { base, fields });
                }
                _ => {
                    self.err("regle::check::at_not_a_path", src, e.span, "`at` names a fact, like `candidacy.root_nru`", "not a path to a fact")
                        .help = Some("point at the fact the diagnostic is about, so the report can show its line".to_string());
                    return None;
                }
            }
        }
    }

    fn finish(mut self) -> (Policy, Vec<Diagnostic>) {
        // Rules, then exceptions and cycles between rules.
        let mut rules = Vec::new();
        for r in 0..self.rules.len() as u32 {
            rules.push(self.rule(r));
        }
        let exceptions: Vec<(usize, &ast::Ident, Source)> = self
            .rules
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| {
                slot.decl
                    .exception_to
                    .as_ref()
                    .map(|b| (i, b, slot.src.clone()))
            })
            .collect();
        for (i, base, src) in exceptions {
            let Some(b) = self.rule_ref(base, &src) else {
                continue;
            };
            if b as usize == i {
                self.diags.push(
                    Diagnostic::error(
                        "regle::check::exception_to_itself",
                        "a rule cannot be an exception to itself",
                    )
                    .at(&src, base.span, "this rule"),
                );
            } else if let Some(Some(bd)) = rules.get_mut(b as usize) {
                bd.exceptions.push(i as u32);
            }
        }
        // An exception holds for the same items as its rule.
        let pairs: Vec<(usize, u32)> = rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().map(|r| (i, r.exceptions.clone())))
            .flat_map(|(i, ex)| ex.into_iter().map(move |e| (i, e)))
            .collect();
        for (base, exc) in pairs {
            let bt = self.rule_for_type(base as u32);
            let et = self.rule_for_type(exc);
            let same = match (&bt, &et) {
                (None, None) => true,
                (Some(a), Some(b)) => a.fits(b) && b.fits(a),
                _ => false,
            };
            if !same {
                if let (Some(bs), Some(es)) = (self.rules.get(base), self.rules.get(exc as usize)) {
                    let describe = |t: &Option<Type>, c: &Checker| match t {
                        Some(t) => format!("each {}", c.show(t)),
                        None => "the whole input".to_string(),
                    };
                    let msg = format!(
                        "exception `{}` goes over {}, but rule `{}` goes over {}",
                        es.decl.id.name,
                        describe(&et, &self),
                        bs.decl.id.name,
                        describe(&bt, &self)
                    );
                    let d = Diagnostic::error("regle::check::exception_mismatch", msg)
                        .at(&es.src, es.decl.id.span, "this exception")
                        .also(&bs.src, bs.decl.id.span, "the rule it is an exception to")
                        .help("an exception must have the same `for` as its rule (or neither has one), so it can tell for which item the rule does not apply");
                    self.diags.push(d);
                }
            }
        }
        self.check_cycles(&rules);
        self.lint_conflicts(&rules);
        // Indexes for table queries, built once.
        // Table indexes, built once; registry ones when the registry is read.
        let requests = std::mem::take(&mut self.index_requests);
        let mut table_indexes = Vec::new();
        let mut index_specs = Vec::new();
        for (source, columns) in requests {
            let mut index = Index::default();
            if let LookupSource::Table(t) = source {
                if let Some(table) = self.tables.get(t as usize) {
                    for r in 0..table.rows {
                        let key: Vec<Value> = columns
                            .iter()
                            .map(|c| {
                                let c = c.first().copied().unwrap_or(0);
                                table
                                    .cells
                                    .get(c as usize)
                                    .and_then(|col| col.get(r as usize))
                                    .cloned()
                                    .unwrap_or_default()
                            })
                            .collect();
                        index.entry(key).or_default().push(r);
                    }
                }
            }
            table_indexes.push(index);
            index_specs.push(IndexSpec { source, columns });
        }
        let Some((pdecl, psrc)) = self.policy_decl.clone() else {
            return (dummy_policy(), self.diags);
        };
        let mut scope = Scope::new();
        let subject = pdecl
            .subject
            .as_ref()
            .map(|(n, e)| (n.name.clone(), self.expr(e, &mut scope, &psrc).0));
        self.lint_unused(&rules, subject.as_ref().map(|s| &s.1));
        // Every rule slot gave a rule: indexes stay positions in `self.rules`
        // (the report orders by rule ID, not by this order).
        let mut rules: Vec<RuleDef> = rules.into_iter().flatten().collect();
        let names: Vec<(Source, Span, String)> = self
            .defs
            .iter()
            .map(|d| (d.src.clone(), d.decl.name.span, d.decl.name.name.clone()))
            .collect();
        let complete = self.defs.iter().all(|d| d.ir.is_some());
        let mut defs: Vec<Def> = self.defs.into_iter().filter_map(|d| d.ir).collect();
        let mut too_deep = false;
        if complete {
            // Where a chain of definitions crosses the limit: the first
            // past it, reading none past it.
            let depths = crate::ir::eval_depths(&defs);
            for (i, (def, depth)) in defs.iter().zip(&depths).enumerate() {
                let mut read = Vec::new();
                def.body.defs_read(&mut read);
                let first = read.iter().all(|r| {
                    depths.get(*r as usize).copied().unwrap_or(0) <= crate::ir::MAX_EVAL_DEPTH
                });
                if *depth > crate::ir::MAX_EVAL_DEPTH && first {
                    if let Some((src, span, name)) = names.get(i) {
                        self.diags
                            .push(too_deep_definitions(src, *span, name, false));
                    }
                    too_deep = true;
                }
            }
        }
        if !too_deep {
            let (def_plans, rule_plans) =
                crate::ir::memo::plan(&defs, &rules, &self.inputs, &index_specs);
            for (d, plan) in defs.iter_mut().zip(def_plans) {
                d.memo = plan;
            }
            for (r, plan) in rules.iter_mut().zip(rule_plans) {
                r.memo = plan;
            }
            for r in crate::ir::asked_rules(&rules, &defs) {
                if let Some(rule) = rules.get_mut(r as usize) {
                    rule.asked = true;
                }
            }
        }
        let mut decisions: Vec<Decision> = self.decisions.into_iter().flatten().collect();
        for d in &mut decisions {
            if let Some((t, heads)) = &mut d.row_heads {
                let rows = self.tables.get(*t as usize).map_or(0, |t| t.rows);
                *heads = (0..rows).map(|_| OnceLock::new()).collect();
            }
        }
        // Errors first, then in reading order.
        let mut warnings = self.diags;
        warnings.sort_by(|a, b| {
            let place = |d: &Diagnostic| {
                d.primary
                    .as_ref()
                    .map(|p| (p.source.name.clone(), p.span.start))
            };
            a.severity
                .cmp(&b.severity)
                .then_with(|| place(a).cmp(&place(b)))
        });
        let order = crate::ir::evaluation_order(&rules, &defs);
        let policy = Policy {
            name: pdecl.name.value.clone(),
            version: pdecl.version.as_ref().map(|v| v.value.clone()),
            subject,
            labels: pdecl
                .labels
                .iter()
                .map(|(n, s)| (n.name.clone(), s.value.clone()))
                .collect(),
            enums: self.enums,
            records: self.records,
            inputs: self.inputs,
            tables: self.tables,
            documents: self.documents,
            defs,
            decisions,
            rules,
            order,
            subject_frame: scope.next,
            index_specs,
            table_indexes,
            symbols: self.symbols,
        };
        (policy, warnings)
    }

    /// Definitions nothing uses: often a typo elsewhere, or a rule that was
    /// meant to read them.
    fn lint_unused(&mut self, rules: &[Option<RuleDef>], subject: Option<&Ir>) {
        let mut roots: Vec<&Ir> = Vec::new();
        for r in rules.iter().flatten() {
            roots.extend(r.exprs());
        }
        for d in self.decisions.iter().flatten() {
            roots.push(&d.over);
            roots.push(&d.key);
            roots.extend(d.show.iter().map(|s| &s.1));
            roots.extend(d.group_by.as_ref());
        }
        roots.extend(subject);
        let mut stack: Vec<DefId> = deps(&roots).0;
        // `at` places may name a definition.
        for r in rules.iter().flatten() {
            for o in &r.outcomes {
                if let Outcome::Diagnostic {
                    at:
                        Some(Place {
                            base: PlaceBase::Global(d),
                            ..
                        }),
                    ..
                } = o
                {
                    stack.push(*d);
                }
            }
        }
        let mut used: HashSet<DefId> = HashSet::new();
        while let Some(d) = stack.pop() {
            if used.insert(d) {
                match self.defs.get(d as usize).and_then(|s| s.ir.as_ref()) {
                    Some(def) => stack.extend(deps(&[&def.body]).0),
                    // A definition in error: what it reads is unknown, and
                    // "unused" would be said of what it may well use.
                    None => return,
                }
            }
        }
        for (i, slot) in self.defs.iter().enumerate() {
            if !used.contains(&(i as DefId)) {
                self.diags.push(
                    Diagnostic::warning(
                        "regle::check::unused_definition",
                        format!("`{}` is defined but never used", slot.decl.name.name),
                    )
                    .at(
                        &slot.src,
                        slot.decl.name.span,
                        "not used by any rule or decision",
                    )
                    .help("remove it, or check the rule that was meant to use it"),
                );
            }
        }
    }

    /// A rule that, through `fires` and definitions, depends on itself
    /// would never finish evaluating.
    fn check_cycles(&mut self, rules: &[Option<RuleDef>]) {
        let def_deps: Vec<(Vec<DefId>, Vec<RuleIdx>)> = self
            .defs
            .iter()
            .map(|d| d.ir.as_ref().map(|d| deps(&[&d.body])).unwrap_or_default())
            .collect();
        let rule_deps: Vec<Vec<RuleIdx>> = rules
            .iter()
            .map(|r| {
                let Some(r) = r else { return Vec::new() };
                let mut irs: Vec<&Ir> = r.lets.iter().map(|l| &l.1).collect();
                irs.extend(r.for_each.as_ref().map(|f| &f.1));
                irs.extend(r.when.as_ref());
                irs.extend(r.guard.as_ref());
                let (ds, mut rs) = deps(&irs);
                let mut seen = HashSet::new();
                let mut stack = ds;
                while let Some(d) = stack.pop() {
                    if seen.insert(d) {
                        if let Some((dd, dr)) = def_deps.get(d as usize) {
                            stack.extend(dd);
                            rs.extend(dr);
                        }
                    }
                }
                rs.extend(&r.exceptions);
                rs
            })
            .collect();
        // Depth-first search for a cycle.
        let n = rule_deps.len();
        let mut state = vec![0u8; n];
        for start in 0..n {
            if state[start] != 0 {
                continue;
            }
            let mut stack = vec![(start, 0usize)];
            state[start] = 1;
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                let succ = rule_deps.get(node).and_then(|d| d.get(*next)).copied();
                *next += 1;
                match succ {
                    Some(s) => {
                        let s = s as usize;
                        match state.get(s) {
                            Some(0) => {
                                state[s] = 1;
                                stack.push((s, 0));
                            }
                            Some(1) => {
                                if let Some(slot) = self.rules.get(s) {
                                    let d = Diagnostic::error("regle::check::rule_cycle", format!("rule `{}` depends on itself through `fires` or its exceptions", slot.decl.id.name))
                                        .at(&slot.src, slot.decl.id.span, "part of a cycle")
                                        .help("a rule may not depend, through `fires`, definitions or exceptions, on its own outcome");
                                    self.diags.push(d);
                                }
                                return;
                            }
                            _ => {}
                        }
                    }
                    None => {
                        state[node] = 2;
                        stack.pop();
                    }
                }
            }
        }
    }

    /// Two rules that decide the same decision differently, neither
    /// overriding the other: a conflict whenever both hold for an item.
    fn lint_conflicts(&mut self, rules: &[Option<RuleDef>]) {
        let overrides = |a: usize, b: u32| -> bool {
            // Does `a` override `b`, directly or through a chain?
            let mut seen = HashSet::new();
            let mut stack = vec![a as u32];
            while let Some(x) = stack.pop() {
                if x == b && x as usize != a {
                    return true;
                }
                if seen.insert(x) {
                    if let Some(Some(r)) = rules.get(x as usize) {
                        stack.extend(&r.overrides);
                    }
                }
            }
            false
        };
        let mut deciders: BTreeMap<u32, Vec<(usize, u32)>> = BTreeMap::new();
        for (i, r) in rules.iter().enumerate() {
            let Some(r) = r else { continue };
            for o in &r.outcomes {
                if let Outcome::Decide {
                    decision, value, ..
                } = o
                {
                    deciders.entry(*decision).or_default().push((i, *value));
                }
            }
        }
        for list in deciders.values() {
            for (x, &(a, va)) in list.iter().enumerate() {
                for &(b, vb) in list.iter().skip(x + 1) {
                    if va != vb && !overrides(a, b as u32) && !overrides(b, a as u32) {
                        if let (Some(sa), Some(sb)) = (self.rules.get(a), self.rules.get(b)) {
                            let d = Diagnostic::warning(
                                "regle::check::possible_conflict",
                                format!("rules `{}` and `{}` decide the same items differently, and neither overrides the other", sa.decl.id.name, sb.decl.id.name),
                            )
                            .at(&sa.src, sa.decl.id.span, "this rule")
                            .also(&sb.src, sb.decl.id.span, "and this one")
                            .help(format!("say which wins: add `overrides {}` to `{}` (or the reverse)", sb.decl.id.name, sa.decl.id.name));
                            self.diags.push(d);
                        }
                    }
                }
            }
        }
    }
}

fn dummy_policy() -> Policy {
    Policy {
        name: String::new(),
        version: None,
        subject: None,
        labels: HashMap::new(),
        enums: Vec::new(),
        records: Vec::new(),
        inputs: Vec::new(),
        tables: Vec::new(),
        documents: Vec::new(),
        defs: Vec::new(),
        decisions: Vec::new(),
        rules: Vec::new(),
        order: Vec::new(),
        subject_frame: 0,
        index_specs: Vec::new(),
        table_indexes: Vec::new(),
        symbols: Symbols::default(),
    }
}

/// The source text of an expression, for help messages.
fn expr_text(src: &Source, e: &Expr) -> String {
    src.text
        .get(e.span.start..e.span.end)
        .unwrap_or("...")
        .to_string()
}

/// The value of a constant expression.
fn const_value(ir: &Ir) -> Option<Value> {
    match ir {
        Ir::Const(v) => Some(v.clone()),
        Ir::List(items) => items
            .iter()
            .map(const_value)
            .collect::<Option<Vec<_>>>()
            .map(Value::list),
        _ => None,
    }
}

/// Definitions and rules an expression refers to.
fn deps(irs: &[&Ir]) -> (Vec<DefId>, Vec<RuleIdx>) {
    let mut defs = Vec::new();
    let mut rules = Vec::new();
    let mut stack: Vec<&Ir> = irs.to_vec();
    while let Some(ir) = stack.pop() {
        match ir {
            Ir::Global(d) => defs.push(*d),
            Ir::Call(d, args) => {
                defs.push(*d);
                stack.extend(args);
            }
            Ir::Fires(r, arg) => {
                rules.push(*r);
                stack.extend(arg.as_deref());
            }
            _ => children(ir, &mut stack),
        }
    }
    (defs, rules)
}

/// Push the sub-expressions of `ir`.
pub(crate) fn children<'i>(ir: &'i Ir, out: &mut Vec<&'i Ir>) {
    ir.for_each_child(|c| out.push(c));
}

/// Does `ir` read a rule's `let`?
fn uses_let(ir: &Ir) -> bool {
    let mut stack = vec![ir];
    while let Some(ir) = stack.pop() {
        if matches!(ir, Ir::LetRef(..)) {
            return true;
        }
        children(ir, &mut stack);
    }
    false
}

fn uses_local(ir: &Ir, slot: u32) -> bool {
    let mut stack = vec![ir];
    while let Some(ir) = stack.pop() {
        if let Ir::Local(s) = ir {
            if *s == slot {
                return true;
            }
        }
        children(ir, &mut stack);
    }
    false
}

mod expr;

/// Definitions checked one inside the other, at most: a chain declared
/// last first is checked by recursion.
const MAX_DEF_CHAIN: usize = crate::ir::MAX_EVAL_DEPTH / 4;

/// A definition computed through a chain of definitions too long for an
/// evaluating thread's stack: `chain` when counted in definitions, else in
/// nested operations.
fn too_deep_definitions(src: &Source, span: Span, name: &str, chain: bool) -> Diagnostic {
    let message = if chain {
        format!("`{name}` reads a chain of more than {MAX_DEF_CHAIN} definitions, each reading the next")
    } else {
        format!(
            "`{name}` is computed through more than {} nested operations, definitions it reads included",
            crate::ir::MAX_EVAL_DEPTH
        )
    };
    Diagnostic::error("regle::check::too_deep", message)
        .at(src, span, "too deep")
    .help("a long chain of definitions, each reading the next: compute it in fewer steps, or from a table")
}
