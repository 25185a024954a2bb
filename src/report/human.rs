//! The report for a person: outcome first, then what to deposit grouped,
//! what is exempt and why, the documents, and each problem with the line
//! of the facts file it is about and the source text it breaks. Words come
//! from the policy's `label`s where it gives them.

use crate::diag::Severity;
use crate::eval::{display, OutcomeKind, Report};
use crate::ir::value::DocRef;
use crate::ir::Policy;
use crate::render::clean;
use crate::source::Source;
use std::fmt::Write;

pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

fn label<'a>(policy: &'a Policy, word: &'a str) -> &'a str {
    policy
        .labels
        .get(word)
        .map(String::as_str)
        .unwrap_or(match word {
            "as_of" => "as of",
            w => w,
        })
}

/// Write one report as text.
pub fn report(
    out: &mut String,
    policy: &Policy,
    r: &Report,
    input: Option<&Source>,
    registry: Option<&Source>,
    style: &Style,
) {
    let l = |w| label(policy, w);
    let outcome = l(r.outcome.as_str());
    let outcome = match r.outcome {
        OutcomeKind::Complete => style.paint("1;32", outcome),
        OutcomeKind::Incomplete => style.paint("1;33", outcome),
        OutcomeKind::Rejected => style.paint("1;31", outcome),
    };
    let subject = r
        .subject
        .as_ref()
        .map(|(n, v)| format!("{} {}", l(n), clean(&display(policy, v))))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{} — {}: {}",
        style.paint("1", &subject),
        l("outcome"),
        outcome
    );
    let _ = writeln!(
        out,
        "{} {} {}, {} {}",
        l("policy"),
        policy.name,
        policy.version.as_deref().unwrap_or(""),
        l("as_of"),
        crate::ir::value::date::format(r.as_of)
    );
    let rule = |i: u32| policy.rules.get(i as usize);
    if !r.diagnostics.is_empty() {
        let _ = writeln!(out, "\n{}", style.paint("1", l("diagnostics")));
        let mut diags: Vec<_> = r.diagnostics.iter().collect();
        diags.sort_by_key(|d| d.severity);
        for d in diags {
            let sev = match d.severity {
                Severity::Error => style.paint("1;31", l("error")),
                Severity::Warning => style.paint("1;33", l("warning")),
                Severity::Info => style.paint("1;34", l("info")),
            };
            let r = d.rule.and_then(rule);
            let id = r.map(|r| format!("[{}]", r.id)).unwrap_or_default();
            let _ = writeln!(out, "  {sev}{id} {}", clean(&d.message));
            if let Some(at) = &d.at {
                let src = match d.location.map(|l| l.0) {
                    Some(DocRef::Input) => input,
                    Some(DocRef::Registry) => registry,
                    None => None,
                };
                match (src, d.location) {
                    (Some(src), Some((_, span))) => {
                        let (line, col) = src.line_col(span.start);
                        let (local, _) = src.local_line_col(span.start);
                        let _ = writeln!(
                            out,
                            "    {} {} ({}:{line}:{col})",
                            l("at"),
                            clean(at),
                            src.name
                        );
                        let _ = writeln!(out, "    {line:>5} │ {}", clean(src.line_text(local)));
                    }
                    _ => {
                        let _ = writeln!(out, "    {} {}", l("at"), clean(at));
                    }
                }
            }
            if let Some(cite) = r.and_then(|r| r.cite.as_deref()) {
                let _ = writeln!(
                    out,
                    "    {}",
                    style.paint("2", &format!("« {} »", clean(cite)))
                );
            }
        }
    }
    if !r.documents.is_empty() {
        let _ = writeln!(out, "\n{}", style.paint("1", l("documents")));
        for d in &r.documents {
            let status = crate::check::DOCUMENT_STATUS_VALUES
                .get(d.status as usize)
                .copied()
                .unwrap_or("");
            let mark = match d.status {
                0 => style.paint("32", "✓"),
                1 => style.paint("33", "~"),
                _ => style.paint("31", "✗"),
            };
            let title = policy
                .documents
                .get(d.document as usize)
                .map(|d| d.title.as_str())
                .unwrap_or("");
            let extra: Vec<String> = d
                .with
                .iter()
                .map(|(n, v)| format!("{n} {}", clean(&display(policy, v))))
                .collect();
            let extra = if extra.is_empty() {
                String::new()
            } else {
                format!(" ({})", extra.join(", "))
            };
            let id = rule(d.rule).map(|r| r.id.as_str()).unwrap_or("");
            let _ = writeln!(
                out,
                "  {mark} {}{extra}: {} [{id}]",
                clean(title),
                l(status)
            );
        }
    }
    for d in &r.decisions {
        let Some(decl) = policy.decisions.get(d.decision as usize) else {
            continue;
        };
        let _ = writeln!(
            out,
            "\n{}",
            style.paint("1", &format!("{} ({})", l(&decl.name), d.lines.len()))
        );
        for (vi, vname) in decl.values.iter().enumerate() {
            let lines: Vec<_> = d.lines.iter().filter(|x| x.value as usize == vi).collect();
            if lines.is_empty() {
                continue;
            }
            let vlabel = decl
                .labels
                .get(vi)
                .cloned()
                .flatten()
                .unwrap_or_else(|| vname.clone());
            let _ = writeln!(out, "  {} ({})", style.paint("1;36", &vlabel), lines.len());
            // Lines of one value, by the rule that decided them, then by group.
            let mut rules: Vec<Option<u32>> = lines.iter().map(|x| x.rule).collect();
            rules.sort_by_key(|r| r.and_then(rule).map(|r| r.id.clone()));
            rules.dedup();
            for ri in rules {
                let indent = if let Some(r) = ri.and_then(rule) {
                    let _ = writeln!(
                        out,
                        "    {} {}",
                        style.paint("2", &format!("[{}]", r.id)),
                        clean(&r.title)
                    );
                    "      "
                } else {
                    "    "
                };
                let mut groups: Vec<(String, Vec<String>)> = Vec::new();
                for line in lines.iter().filter(|x| x.rule == ri) {
                    let group = short(policy, &line.head.group);
                    let mut item = clean(&short(policy, &line.head.key));
                    if !matches!(line.from, crate::ir::Value::None) {
                        let _ = write!(item, " ← {}", clean(&short(policy, &line.from)));
                    }
                    // One line a group, groups in the order they first appear.
                    match groups.iter_mut().find(|(g, _)| *g == group) {
                        Some((_, items)) => items.push(item),
                        None => groups.push((group, vec![item])),
                    }
                }
                for (g, items) in groups {
                    let head = if g.is_empty() {
                        String::new()
                    } else {
                        format!("{} ", style.paint("1", &clean(&g)))
                    };
                    let _ = writeln!(out, "{indent}{head}{}", items.join(", "));
                }
            }
        }
    }
}

/// A value in few words: a record's values joined by spaces.
fn short(policy: &Policy, v: &crate::ir::Value) -> String {
    match v {
        crate::ir::Value::Record(r) => r
            .fields
            .iter()
            .map(|f| display(policy, f))
            .collect::<Vec<_>>()
            .join(" "),
        v => display(policy, v),
    }
}
