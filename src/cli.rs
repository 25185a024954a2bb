//! The command line: `check` and `eval`. Reads files, runs the pipeline,
//! prints, and maps the result to an exit code (0 clean, 1 findings,
//! 2 unreadable policy or facts).

use crate::batch;
use crate::check::{load_policy, Checked};
use crate::diag::Diagnostic;
use crate::facts::tree::Limits;
use crate::facts::typed;
use crate::ir::{Policy, Value};
use crate::render;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

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
        /// How many documents to evaluate at once (default, or 0: one per core). The output is the same whatever the number.
        #[arg(long)]
        jobs: Option<usize>,
        /// Compute every definition afresh for each document, instead of reusing the values a batch's
        /// documents share (same reports, slower; to compare).
        #[arg(long)]
        no_memo: bool,
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
            jobs,
            no_memo,
        } => {
            let diag_format = if format == ReportFormat::Human {
                DiagFormat::Human
            } else {
                DiagFormat::Json
            };
            let checked = match load_policy(&policy) {
                Ok(c) => c,
                Err(diags) => {
                    print_diagnostics(&diags, diag_format);
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
            eval_command(
                &checked.policy,
                &facts,
                registry.as_deref(),
                as_of,
                format,
                jobs,
                !no_memo,
            )
        }
    }
}

fn eval_command(
    policy: &Policy,
    facts: &[PathBuf],
    registry: Option<&Path>,
    as_of: i32,
    format: ReportFormat,
    jobs: Option<usize>,
    memo: bool,
) -> i32 {
    let limits = Limits::default();
    let needs_registry = policy.inputs.iter().any(|i| i.registry);
    let diag_format = if format == ReportFormat::Human {
        DiagFormat::Human
    } else {
        DiagFormat::Json
    };
    // The registry: read, checked and indexed once for the whole batch.
    let mut base_inputs: Vec<Option<Value>> = vec![None; policy.inputs.len()];
    let mut registry_doc: Option<crate::facts::Reparsed> = None;
    match (registry, needs_registry) {
        (Some(path), true) => {
            let kind = batch::kind_of(path).unwrap_or(batch::Kind::Json);
            let loaded = batch::read_source(path).and_then(|source| {
                batch::parse_file(&source, kind, &limits).map(|tree| (source, tree))
            });
            let (source, tree) = match loaded {
                Ok(x) => x,
                Err(d) => {
                    print_diagnostics(&[d], diag_format);
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
            // Its values are read: the tree goes (parsed again only if a
            // diagnostic points into the registry), and its memory back to
            // the system before the workers start.
            drop(tree);
            crate::alloc::release_freed();
            registry_doc = Some(crate::facts::Reparsed::new(
                source,
                kind == batch::Kind::Yaml,
                limits,
            ));
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
    let registry_indexes = crate::eval::index_registry(policy, &base_inputs);
    // A pool of `--jobs` threads (0: one per core), with the stack evaluation needs.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .stack_size(crate::eval::STACK_SIZE)
        .build()
        .ok();
    let cx = batch::Context {
        policy,
        registry: &base_inputs,
        registry_doc: registry_doc.as_ref(),
        registry_indexes: &registry_indexes,
        as_of,
        format: match format {
            ReportFormat::Human => batch::Format::Human,
            ReportFormat::Json => batch::Format::Json,
            ReportFormat::Ndjson => batch::Format::Ndjson,
        },
        color: color_stdout(),
        color_errors: color_stderr(),
        memo: memo.then(|| {
            crate::eval::Memo::new(
                pool.as_ref()
                    .map_or(1, rayon::ThreadPool::current_num_threads),
            )
        }),
    };
    let mut stream = batch::DocStream::new(facts, limits);
    // A progress bar for a long batch, on a terminal only.
    let total = stream.total_bytes();
    let bar = if std::io::stderr().is_terminal() && total.is_none_or(|t| t > 1 << 20) {
        let bar = match total {
            Some(t) => indicatif::ProgressBar::new(t),
            None => indicatif::ProgressBar::new_spinner(),
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {binary_bytes}/{binary_total_bytes} {msg}",
        ) {
            bar.set_style(style);
        }
        Some(bar)
    } else {
        None
    };
    let started = std::time::Instant::now();
    let mut summary = batch::Summary::default();
    let mut out =
        batch::ReportWriter::new(std::io::stdout().lock(), format == ReportFormat::Ndjson);
    let mut json_items: Vec<String> = Vec::new();
    let mut failed_write = false;
    let run = |stream: &mut batch::DocStream,
               pool: Option<&rayon::ThreadPool>,
               summary: &mut batch::Summary,
               out: &mut batch::ReportWriter<std::io::StdoutLock>,
               json_items: &mut Vec<String>,
               failed_write: &mut bool| {
        batch::run(&cx, stream, pool, |r, bytes| {
            summary.add(r.outcome);
            if !r.stderr.is_empty() {
                let _ = write!(std::io::stderr().lock(), "{}", r.stderr);
            }
            match cx.format {
                batch::Format::Json => json_items.push(r.stdout),
                batch::Format::Ndjson | batch::Format::Human => {
                    if out.push(r.stdout).is_err() {
                        *failed_write = true;
                    }
                }
            }
            if let Some(b) = &bar {
                b.set_position(bytes);
                b.set_message(format!("{} documents", summary.documents));
            }
        });
    };
    run(
        &mut stream,
        pool.as_ref(),
        &mut summary,
        &mut out,
        &mut json_items,
        &mut failed_write,
    );
    if let Some(b) = &bar {
        b.finish_and_clear();
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
        if out.inner().and_then(|o| writeln!(o, "{pretty}")).is_err() {
            failed_write = true;
        }
    }
    if out.flush().is_err() {
        failed_write = true;
    }
    if summary.documents == 0 {
        eprintln!("regle: no document to evaluate (the facts given hold none)");
    }
    if summary.documents > 1 {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "{} documents: {} complete, {} incomplete, {} rejected, {} unreadable; {:.2} s, {:.0} documents/s",
            summary.documents,
            summary.complete,
            summary.incomplete,
            summary.rejected,
            summary.unreadable,
            secs,
            summary.documents as f64 / secs.max(1e-9)
        );
    }
    if failed_write {
        eprintln!("regle: could not write the reports (is the output closed?)");
        return 2;
    }
    summary.exit_code()
}
