//! The command line: `check` and `eval`. Reads files, runs the pipeline,
//! prints, and maps the result to an exit code (0 clean, 1 findings,
//! 2 unreadable policy or facts).

use crate::check::{load_policy, Checked};
use crate::diag::Diagnostic;
use crate::eval::{evaluate, Facts, OutcomeKind, Report};
use crate::facts::tree::{Limits, ParseError, Tree};
use crate::facts::{json, typed, yaml};
use crate::ir::{Policy, Value};
use crate::render;
use crate::report;
use crate::source::{Source, SourceFile};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

/// Largest facts file read (an NDJSON batch included).
pub const MAX_FACTS_BYTES: u64 = 1024 * 1024 * 1024;
/// Most documents in one run.
pub const MAX_DOCUMENTS: usize = 10_000_000;

#[derive(Parser, Debug)]
#[command(name = "regle", version, about = "Evaluate facts against a declarative policy", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Parse and check a policy (a folder of .regle files, or one file), reporting every problem.
    Check {
        policy: PathBuf,
        #[arg(long, value_enum, default_value_t = DiagFormat::Human)]
        format: DiagFormat,
        /// Exit 1 when there are warnings.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Evaluate fact files (JSON, YAML, NDJSON; a folder; `-` for NDJSON on stdin) against a policy.
    Eval {
        policy: PathBuf,
        #[arg(required = true)]
        facts: Vec<PathBuf>,
        /// The registry file (solutions already referenced), for policies that declare a `registry` input.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// The evaluation date, YYYY-MM-DD (default: today).
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
        format: ReportFormat,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum DiagFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    Human,
    Json,
    Ndjson,
}

fn color_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

fn color_stdout() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

/// Print diagnostics on stderr, or as a JSON array on stdout.
fn print_diagnostics(diags: &[Diagnostic], format: DiagFormat) {
    match format {
        DiagFormat::Human => {
            let color = color_stderr();
            let mut err = std::io::stderr().lock();
            for d in diags {
                let _ = write!(err, "{}", render::human(d, color));
            }
            let errors = diags.iter().filter(|d| d.is_error()).count();
            let warnings = diags.len() - errors;
            if !diags.is_empty() {
                let _ = writeln!(err, "{errors} error(s), {warnings} warning(s)");
            }
        }
        DiagFormat::Json => {
            let arr = serde_json::Value::Array(diags.iter().map(render::json).collect());
            let _ = writeln!(
                std::io::stdout().lock(),
                "{}",
                serde_json::to_string_pretty(&arr).unwrap_or_default()
            );
        }
    }
}

pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Check {
            policy,
            format,
            deny_warnings,
        } => match load_policy(&policy) {
            Ok(Checked { warnings, .. }) => {
                print_diagnostics(&warnings, format);
                if format == DiagFormat::Human && warnings.is_empty() {
                    eprintln!("{}: no problem found", policy.display());
                }
                i32::from(deny_warnings && !warnings.is_empty())
            }
            Err(diags) => {
                print_diagnostics(&diags, format);
                2
            }
        },
        Command::Eval {
            policy,
            facts,
            registry,
            as_of,
            format,
        } => {
            let diag_format = if format == ReportFormat::Human {
                DiagFormat::Human
            } else {
                DiagFormat::Json
            };
            let checked = match load_policy(&policy) {
                Ok(c) => c,
                Err(diags) => {
                    print_diagnostics(&diags, DiagFormat::Human);
                    return 2;
                }
            };
            if !checked.warnings.is_empty() && format == ReportFormat::Human {
                print_diagnostics(&checked.warnings, DiagFormat::Human);
            }
            let as_of = match as_of {
                None => crate::ir::value::date::today(),
                Some(s) => match crate::ir::value::date::parse(&s) {
                    Some(d) => d,
                    None => {
                        let d = Diagnostic::error(
                            "regle::cli::bad_date",
                            format!("`--as-of {}` is not a date", s.escape_debug()),
                        )
                        .help("write it as YYYY-MM-DD, like 2026-05-20");
                        print_diagnostics(&[d], diag_format);
                        return 2;
                    }
                },
            };
            eval_command(&checked.policy, &facts, registry.as_deref(), as_of, format)
        }
    }
}

/// One document to evaluate: its source, parsed tree, and NDJSON line.
struct Doc {
    source: Source,
    line: Option<usize>,
    tree: Result<Tree, Vec<Diagnostic>>,
}

fn parse_error(source: &Source, e: ParseError) -> Diagnostic {
    Diagnostic::error(e.code, e.message)
        .at(source, e.span, e.label)
        .help_opt(e.help)
}

fn read_source(path: &Path) -> Result<Source, Diagnostic> {
    let name = path.display().to_string();
    let mut bytes = Vec::new();
    let res = if name == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_FACTS_BYTES + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_FACTS_BYTES + 1).read_to_end(&mut bytes))
    };
    if let Err(e) = res {
        return Err(Diagnostic::error(
            "regle::facts::unreadable",
            format!("cannot read `{name}`: {e}"),
        ));
    }
    if bytes.len() as u64 > MAX_FACTS_BYTES {
        return Err(Diagnostic::error(
            "regle::facts::too_large",
            format!("`{name}` is larger than {MAX_FACTS_BYTES} bytes"),
        )
        .help("split the batch into several files"));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let src = SourceFile::new(
                name.clone(),
                String::from_utf8_lossy(e.as_bytes()).into_owned(),
            );
            Err(Diagnostic::error(
                "regle::facts::not_utf8",
                format!("`{name}` is not valid UTF-8"),
            )
            .at(&src, crate::source::Span::new(at, at + 1), "this byte")
            .help("save the file as UTF-8"))
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Json,
    Yaml,
    Ndjson,
}

fn kind_of(path: &Path) -> Option<Kind> {
    if path.as_os_str() == "-" {
        return Some(Kind::Ndjson);
    }
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("json") => Some(Kind::Json),
        Some("yaml" | "yml") => Some(Kind::Yaml),
        Some("ndjson" | "jsonl") => Some(Kind::Ndjson),
        _ => None,
    }
}

/// Expand the command line's facts arguments: folders to their fact files
/// (sorted), each file to its documents.
fn documents(args: &[PathBuf], limits: &Limits) -> Vec<Doc> {
    let mut files = Vec::new();
    let mut docs = Vec::new();
    for a in args {
        if a.is_dir() {
            let mut inner: Vec<PathBuf> = std::fs::read_dir(a)
                .map(|rd| {
                    rd.filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| kind_of(p).is_some())
                        .collect()
                })
                .unwrap_or_default();
            inner.sort();
            files.extend(inner);
        } else {
            files.push(a.clone());
        }
    }
    for f in files {
        let source = match read_source(&f) {
            Ok(s) => s,
            Err(d) => {
                docs.push(Doc {
                    source: SourceFile::new(f.display().to_string(), ""),
                    line: None,
                    tree: Err(vec![d]),
                });
                continue;
            }
        };
        match kind_of(&f) {
            None => {
                let d = Diagnostic::error(
                    "regle::facts::unknown_format",
                    format!(
                        "`{}`: cannot tell the format from the file name",
                        f.display()
                    ),
                )
                .help("name facts files .json, .yaml, .yml, .ndjson or .jsonl");
                docs.push(Doc {
                    source,
                    line: None,
                    tree: Err(vec![d]),
                });
            }
            Some(Kind::Json) => {
                let tree = json::parse_json(&source.text, 0, limits)
                    .map_err(|e| vec![parse_error(&source, e)]);
                docs.push(Doc {
                    source,
                    line: None,
                    tree,
                });
            }
            Some(Kind::Yaml) => {
                let tree = yaml::parse_yaml(&source.text, limits)
                    .map_err(|e| vec![parse_error(&source, e)]);
                docs.push(Doc {
                    source,
                    line: None,
                    tree,
                });
            }
            Some(Kind::Ndjson) => {
                for (line, result) in json::parse_ndjson(&source.text, limits) {
                    if docs.len() >= MAX_DOCUMENTS {
                        break;
                    }
                    let tree = result.map_err(|e| vec![parse_error(&source, e)]);
                    docs.push(Doc {
                        source: source.clone(),
                        line: Some(line),
                        tree,
                    });
                }
            }
        }
    }
    docs
}

fn eval_command(
    policy: &Policy,
    facts: &[PathBuf],
    registry: Option<&Path>,
    as_of: i32,
    format: ReportFormat,
) -> i32 {
    let limits = Limits::default();
    let needs_registry = policy.inputs.iter().any(|i| i.registry);
    let diag_format = if format == ReportFormat::Human {
        DiagFormat::Human
    } else {
        DiagFormat::Json
    };
    // The registry: read once for the whole batch.
    let mut base_inputs: Vec<Option<Value>> = vec![None; policy.inputs.len()];
    let mut registry_doc: Option<(Source, Tree)> = None;
    match (registry, needs_registry) {
        (Some(path), true) => {
            let source = match read_source(path) {
                Ok(s) => s,
                Err(d) => {
                    print_diagnostics(&[d], diag_format);
                    return 2;
                }
            };
            let tree = match kind_of(path) {
                Some(Kind::Yaml) => yaml::parse_yaml(&source.text, &limits),
                _ => json::parse_json(&source.text, 0, &limits),
            };
            let tree = match tree {
                Ok(t) => t,
                Err(e) => {
                    print_diagnostics(&[parse_error(&source, e)], diag_format);
                    return 2;
                }
            };
            match typed::read_document(policy, &tree, &source, true) {
                Ok(values) => base_inputs = values,
                Err(diags) => {
                    print_diagnostics(&diags, diag_format);
                    return 2;
                }
            }
            registry_doc = Some((source, tree));
        }
        (None, true) => {
            let names: Vec<&str> = policy
                .inputs
                .iter()
                .filter(|i| i.registry)
                .map(|i| i.name.as_str())
                .collect();
            let d = Diagnostic::error(
                "regle::cli::no_registry",
                format!(
                    "this policy reads a registry ({}): give it with `--registry FILE`",
                    names.join(", ")
                ),
            );
            print_diagnostics(&[d], diag_format);
            return 2;
        }
        (Some(_), false) | (None, false) => {}
    }
    let docs = documents(facts, &limits);
    let mut worst = 0;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut json_items: Vec<String> = Vec::new();
    let color = color_stdout();
    for doc in docs {
        let result = doc.tree.and_then(|tree| {
            let values = typed::read_document(policy, &tree, &doc.source, false)?;
            let inputs: Vec<Option<Value>> = values.into_iter().zip(&base_inputs).map(|(a, b)| a.or_else(|| b.clone())).collect();
            let facts = Facts { inputs: &inputs, input_tree: Some(&tree), registry_tree: registry_doc.as_ref().map(|r| &r.1) };
            evaluate(policy, &facts, as_of).map_err(|_| {
                vec![Diagnostic::error("regle::eval::too_much_work", format!("evaluating this document took more than {} steps", crate::eval::MAX_STEPS))
                    .help("the policy does too much work for one document; look for a query over a large table without an equality filter")]
            })
        });
        match result {
            Ok(report) => {
                worst = worst.max(match report.outcome {
                    OutcomeKind::Complete => 0,
                    _ => 1,
                });
                emit_report(
                    &mut out,
                    &mut json_items,
                    policy,
                    &report,
                    &doc.source,
                    registry_doc.as_ref().map(|r| &r.0),
                    format,
                    color,
                );
            }
            Err(diags) => {
                worst = 2;
                emit_error(
                    &mut out,
                    &mut json_items,
                    &doc.source,
                    doc.line,
                    &diags,
                    format,
                );
            }
        }
    }
    if format == ReportFormat::Json {
        let text = if json_items.len() == 1 {
            json_items.pop().unwrap_or_default()
        } else {
            format!("[{}]", json_items.join(","))
        };
        let pretty = serde_json::from_str::<serde_json::Value>(&text)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .unwrap_or(text);
        let _ = writeln!(out, "{pretty}");
    }
    let _ = out.flush();
    worst
}

#[allow(clippy::too_many_arguments)]
fn emit_report(
    out: &mut impl Write,
    json_items: &mut Vec<String>,
    policy: &Policy,
    r: &Report,
    input: &Source,
    registry: Option<&Source>,
    format: ReportFormat,
    color: bool,
) {
    match format {
        ReportFormat::Human => {
            let mut s = String::new();
            report::human::report(
                &mut s,
                policy,
                r,
                Some(input),
                registry,
                &report::human::Style { color },
            );
            let _ = writeln!(out, "{s}");
        }
        ReportFormat::Json => {
            let mut s = String::new();
            report::json::report(&mut s, policy, r);
            json_items.push(s);
        }
        ReportFormat::Ndjson => {
            let mut s = String::new();
            report::json::report(&mut s, policy, r);
            let _ = writeln!(out, "{s}");
        }
    }
}

fn emit_error(
    out: &mut impl Write,
    json_items: &mut Vec<String>,
    source: &Source,
    line: Option<usize>,
    diags: &[Diagnostic],
    format: ReportFormat,
) {
    match format {
        ReportFormat::Human => print_diagnostics(diags, DiagFormat::Human),
        ReportFormat::Json | ReportFormat::Ndjson => {
            let v = serde_json::json!({
                "error": {
                    "file": source.name,
                    "line": line,
                    "diagnostics": diags.iter().map(render::json).collect::<Vec<_>>(),
                }
            });
            let s = v.to_string();
            if format == ReportFormat::Json {
                json_items.push(s);
            } else {
                let _ = writeln!(out, "{s}");
            }
        }
    }
}
