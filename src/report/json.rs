//! The JSON report, written directly (no intermediate tree): it is the
//! hot path of batch evaluation. Keys come in a fixed order, so the same
//! input gives a byte-identical report.

use crate::eval::{display, DecisionLine, Report};
use crate::ir::value::{date, Record};
use crate::ir::{
    DecidedJson, Decision, DecisionJson, LineHead, LineJson, LineRun, Policy, Value, MAX_RUN,
};
use std::fmt::Write;
use std::sync::Arc;

/// The bytes a JSON string cannot hold as they are: control characters,
/// `"`, `\\`, and DEL (escaped so that no terminal acts on it).
const ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t[0x7f] = true;
    t
};

/// No byte of `bytes` needs escaping; eight bytes at a time.
fn plain(bytes: &[u8]) -> bool {
    let chunks = bytes.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        if crate::swar::special(u64::from_le_bytes(word), true) != 0 {
            return false;
        }
    }
    !rest.iter().any(|&b| ESCAPE[b as usize])
}

/// Append `s` as a JSON string (control characters escaped).
pub fn string(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    if plain(bytes) {
        out.reserve(s.len() + 2);
        out.push('"');
        out.push_str(s);
        out.push('"');
        return;
    }
    out.reserve(s.len() + 2);
    out.push('"');
    let mut start = 0;
    while let Some(pos) = bytes
        .get(start..)
        .and_then(|rest| rest.iter().position(|&b| ESCAPE[b as usize]))
    {
        let i = start + pos;
        out.push_str(s.get(start..i).unwrap_or(""));
        match bytes.get(i).copied().unwrap_or(0) {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b => {
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or(""));
    out.push('"');
}

/// Append a value as JSON.
pub fn value(out: &mut String, policy: &Policy, v: &Value) {
    match v {
        Value::None => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Sym(id) => {
            let written = policy.symbols.written(*id, |s| {
                let mut json = String::with_capacity(s.len() + 2);
                string(&mut json, s);
                json
            });
            match written {
                Some(json) => out.push_str(json),
                None => string(out, policy.symbols.str(v)),
            }
        }
        Value::Text(s) => string(out, s),
        Value::Date(d) => string(out, &date::format(*d)),
        Value::Version(v) => string(out, v.text()),
        Value::Enum { ty, variant } => string(out, enum_name(policy, *ty, *variant)),
        Value::List(l) => {
            out.push('[');
            for (i, item) in l.items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                value(out, policy, item);
            }
            out.push(']');
        }
        Value::Record(r) => {
            out.push('{');
            members(out, policy, &r.names, &r.fields);
            out.push('}');
        }
        Value::Row(t, r) => {
            out.push('{');
            if let Some(table) = policy.tables.get(*t as usize) {
                for (i, (n, col)) in table.columns.iter().zip(&table.cells).enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    string(out, n);
                    out.push(':');
                    value(out, policy, col.get(*r as usize).unwrap_or(&Value::None));
                }
            }
            out.push('}');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, v)) in m.entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(out, &display(policy, k));
                out.push(':');
                value(out, policy, v);
            }
            out.push('}');
        }
    }
}

/// A record's members, `"name":value` separated by commas, for as many
/// values as `fields` has.
fn members(out: &mut String, policy: &Policy, names: &[Arc<str>], fields: &[Value]) {
    for (i, (n, f)) in names.iter().zip(fields).enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Field names are the policy's identifiers.
        key(out, n);
        value(out, policy, f);
    }
}

/// What every JSON line of decision `decl` repeats.
fn decision_json(decl: &Decision) -> DecisionJson {
    let mut first_key = String::from("{");
    key(&mut first_key, &decl.key_name);
    let show_keys = decl
        .show
        .iter()
        .map(|(name, _)| {
            let mut k = String::from(",");
            key(&mut k, name);
            k
        })
        .collect();
    // Each value's `status` and what follows it: whole, for a line no rule
    // decided; up to the rule's ID otherwise.
    let (undecided, decided) = decl
        .values
        .iter()
        .map(|v| {
            let mut k = String::from(",\"status\":");
            string(&mut k, v);
            k.push_str(",\"rule\":");
            (format!("{k}null,\"from\":null}}"), k)
        })
        .unzip();
    DecisionJson {
        first_key,
        show_keys,
        undecided,
        decided,
    }
}

/// How many of `lines`, from the first, no rule decided (each `default`,
/// with no `from`) and are of consecutive rows of the decision's table, at
/// most `MAX_RUN`: 1 for a line not of a row.
fn undecided_run(lines: &[DecisionLine], default: u32) -> usize {
    let Some(row) = lines.first().and_then(|l| l.head.row) else {
        return 1;
    };
    let mut n = 1;
    for (l, j) in lines.iter().take(MAX_RUN).zip(0..).skip(1) {
        let undecided = l.rule.is_none() && matches!(l.from, Value::None) && l.value == default;
        if !undecided || l.head.row != row.checked_add(j) {
            break;
        }
        n += 1;
    }
    n
}

pub fn enum_name(policy: &Policy, ty: u32, variant: u32) -> &str {
    policy
        .enums
        .get(ty as usize)
        .and_then(|e| e.variants.get(variant as usize))
        .map(String::as_str)
        .unwrap_or("")
}

/// A line's `from`: a record whose fields but the last are those of the
/// previous line's (lines decided from the same source, each from its own
/// item) repeats the text before its last value, written once a report.
fn from_value(
    out: &mut String,
    policy: &Policy,
    v: &Value,
    last: &mut Option<(Arc<Record>, String)>,
) {
    let Value::Record(r) = v else {
        return value(out, policy, v);
    };
    let (Some((end, rest)), true) = (r.fields.split_last(), r.names.len() == r.fields.len()) else {
        return value(out, policy, v);
    };
    let same = last.as_ref().is_some_and(|(l, _)| {
        Arc::ptr_eq(&l.names, &r.names)
            && l.fields.len() == r.fields.len()
            && l.fields.iter().zip(rest).all(|(a, b)| a.same(b))
    });
    if !same {
        let mut head = String::from("{");
        members(&mut head, policy, &r.names, rest);
        if !rest.is_empty() {
            head.push(',');
        }
        key(&mut head, r.names.get(rest.len()).map_or("", |n| &**n));
        *last = Some((r.clone(), head));
    }
    out.push_str(last.as_ref().map_or("", |(_, head)| head.as_str()));
    value(out, policy, end);
    out.push('}');
}

/// A key the report itself names: a fixed word or a policy identifier
/// (the grammar's `ident`: ASCII letters, digits and `_`), which never
/// needs escaping, so it is not scanned.
fn key(out: &mut String, k: &str) {
    out.reserve(k.len() + 3);
    out.push('"');
    out.push_str(k);
    out.push_str("\":");
}

/// Append one report as a compact JSON object.
pub fn report(out: &mut String, policy: &Policy, r: &Report) {
    // Room for the whole report at once: a long one is not copied as it grows.
    let lines: usize = r.decisions.iter().map(|d| d.lines.len()).sum();
    out.reserve(1024 + lines * 160 + (r.documents.len() + r.diagnostics.len()) * 400);
    out.push('{');
    if let Some((name, v)) = &r.subject {
        key(out, name);
        value(out, policy, v);
        out.push(',');
    }
    key(out, "policy");
    out.push('{');
    key(out, "name");
    string(out, &policy.name);
    out.push(',');
    key(out, "version");
    match &policy.version {
        Some(v) => string(out, v),
        None => out.push_str("null"),
    }
    out.push_str("},");
    key(out, "as_of");
    string(out, &date::format(r.as_of));
    out.push(',');
    key(out, "outcome");
    string(out, r.outcome.as_str());
    let rule_id = |i: u32| {
        policy
            .rules
            .get(i as usize)
            .map(|r| r.id.as_str())
            .unwrap_or("")
    };
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for d in &r.decisions {
        let Some(decl) = policy.decisions.get(d.decision as usize) else {
            continue;
        };
        out.push(',');
        key(out, &decl.name);
        out.push('[');
        // What every line repeats, written once a run: its keys, and each
        // value as a JSON string.
        let DecisionJson {
            first_key,
            show_keys,
            undecided,
            decided,
        } = decl.json.get_or_init(|| decision_json(decl));
        let mut per_value = vec![0usize; decl.values.len()];
        // A decided line's `status` and `rule`, by value and rule: a
        // report's decided lines have few of them.
        let mut tails: Vec<(u32, u32, String)> = Vec::new();
        // The last `from` record's text up to its last field's value.
        let mut last_from: Option<(Arc<Record>, String)> = None;
        // The same item shows the same head in every report, and the same
        // line when no rule decides it.
        let line_json = |head: &LineHead| -> LineJson {
            let mut text = String::from(",");
            text.push_str(first_key);
            value(&mut text, policy, &head.key);
            for (k, v) in show_keys.iter().zip(&head.show) {
                text.push_str(k);
                value(&mut text, policy, v);
            }
            let at = text.len();
            text.push_str(
                undecided
                    .get(decl.default as usize)
                    .map_or("", String::as_str),
            );
            LineJson { text, head: at }
        };
        let mut i = 0;
        while let Some(line) = d.lines.get(i) {
            let json = line.head.json.get_or_init(|| line_json(&line.head));
            // The first line without its comma.
            let start = usize::from(i == 0);
            let v = line.value as usize;
            match (line.rule, &line.from) {
                (None, Value::None) if v == decl.default as usize => {
                    let rest = d.lines.get(i..).unwrap_or(&[]);
                    let n = undecided_run(rest, decl.default);
                    if n < 2 {
                        out.push_str(json.text.get(start..).unwrap_or(""));
                    } else {
                        // Lines of consecutive rows, as the first report
                        // with a run from this row wrote them.
                        let run = line.head.run.get_or_init(|| {
                            let mut run = LineRun {
                                text: String::new(),
                                ends: Vec::with_capacity(n),
                            };
                            for l in rest.iter().take(n) {
                                let json = l.head.json.get_or_init(|| line_json(&l.head));
                                run.text.push_str(&json.text);
                                run.ends.push(run.text.len());
                            }
                            run
                        });
                        let m = n.min(run.ends.len()).max(1);
                        let end = run.ends.get(m - 1).copied().unwrap_or(0);
                        out.push_str(run.text.get(start..end).unwrap_or(""));
                        if let Some(c) = per_value.get_mut(v) {
                            *c += m - 1;
                        }
                        i += m - 1;
                    }
                }
                (None, Value::None) => {
                    out.push_str(json.text.get(start..json.head).unwrap_or(""));
                    out.push_str(undecided.get(v).map_or("", String::as_str));
                }
                (rule, from) => {
                    let tail = |rule: Option<u32>| {
                        let mut tail = decided.get(v).cloned().unwrap_or_default();
                        match rule {
                            Some(ri) => string(&mut tail, rule_id(ri)),
                            None => tail.push_str("null"),
                        }
                        tail.push_str(",\"from\":");
                        tail
                    };
                    // A row's line, kept from one report to the next.
                    let known = line.head.row.map(|_| {
                        line.head.decided.get_or_init(|| DecidedJson {
                            value: line.value,
                            rule,
                            text: json.text.get(..json.head).unwrap_or("").to_string()
                                + &tail(rule),
                        })
                    });
                    if let Some(known) = known.filter(|k| (k.value, k.rule) == (line.value, rule)) {
                        out.push_str(known.text.get(start..).unwrap_or(""));
                    } else {
                        out.push_str(json.text.get(start..json.head).unwrap_or(""));
                        let id = rule.unwrap_or(u32::MAX);
                        let at = match tails.iter().position(|t| (t.0, t.1) == (line.value, id)) {
                            Some(at) => at,
                            None => {
                                tails.push((line.value, id, tail(rule)));
                                tails.len() - 1
                            }
                        };
                        out.push_str(tails.get(at).map_or("", |t| t.2.as_str()));
                    }
                    from_value(out, policy, from, &mut last_from);
                    out.push('}');
                }
            }
            if let Some(c) = per_value.get_mut(v) {
                *c += 1;
            }
            i += 1;
        }
        out.push(']');
        if let Some(total) = &decl.total {
            counts.push((total.as_str(), d.lines.len()));
        }
        for (name, c) in decl.values.iter().zip(per_value) {
            counts.push((name.as_str(), c));
        }
    }
    out.push(',');
    key(out, "documents");
    out.push('[');
    for (i, d) in r.documents.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        key(out, "document");
        string(
            out,
            policy
                .documents
                .get(d.document as usize)
                .map(|d| d.name.as_str())
                .unwrap_or(""),
        );
        out.push(',');
        key(out, "rule");
        string(out, rule_id(d.rule));
        out.push(',');
        key(out, "status");
        string(
            out,
            crate::check::DOCUMENT_STATUS_VALUES
                .get(d.status as usize)
                .copied()
                .unwrap_or(""),
        );
        for (n, v) in &d.with {
            out.push(',');
            key(out, n);
            value(out, policy, v);
        }
        out.push('}');
    }
    out.push_str("],");
    key(out, "diagnostics");
    out.push('[');
    let (mut errors, mut warnings) = (0, 0);
    for (i, d) in r.diagnostics.iter().enumerate() {
        match d.severity {
            crate::diag::Severity::Error => errors += 1,
            crate::diag::Severity::Warning => warnings += 1,
            crate::diag::Severity::Info => {}
        }
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        key(out, "rule");
        match d.rule {
            Some(ri) => string(out, rule_id(ri)),
            None => out.push_str("null"),
        }
        out.push(',');
        key(out, "severity");
        string(out, d.severity.as_str());
        out.push(',');
        key(out, "message");
        string(out, &d.message);
        out.push(',');
        key(out, "at");
        match &d.at {
            Some(a) => string(out, a),
            None => out.push_str("null"),
        }
        out.push(',');
        key(out, "cite");
        match d
            .rule
            .and_then(|ri| policy.rules.get(ri as usize))
            .and_then(|r| r.cite.as_deref())
        {
            Some(c) => string(out, c),
            None => out.push_str("null"),
        }
        out.push('}');
    }
    out.push_str("],");
    key(out, "summary");
    out.push('{');
    for (name, c) in &counts {
        key(out, name);
        count(out, *c);
        out.push(',');
    }
    key(out, "errors");
    count(out, errors);
    out.push(',');
    key(out, "warnings");
    count(out, warnings);
    out.push_str("}}");
}

/// Append `n` in decimal, as `write!` would (without its machinery: a
/// report has a few counts).
fn count(out: &mut String, mut n: usize) {
    let mut digits = [b'0'; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        if let Some(d) = digits.get_mut(at) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || at == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(digits.get(at..).unwrap_or(&[])).unwrap_or(""));
}

#[cfg(test)]
mod tests {
    use crate::ir::value::{Record, Text, Value};
    use std::sync::Arc;

    /// A `from` record is written as `value` writes it, whether it repeats
    /// all but the last field of the line before it (same names, same
    /// values), or not (another value, other names, another shape).
    #[test]
    fn from_records_are_written_as_values_are() {
        let checked = crate::check::load_policy(std::path::Path::new("tests/fixtures/presence"))
            .expect("the fixture checks");
        let policy = &checked.policy;
        let names = |ns: &[&str]| -> Arc<[Arc<str>]> { ns.iter().map(|&n| Arc::from(n)).collect() };
        let (both, other, one) = (
            names(&["source", "item"]),
            names(&["source", "step"]),
            names(&["only"]),
        );
        let record = |names: &Arc<[Arc<str>]>, texts: &[&str]| {
            Value::Record(Arc::new(Record {
                names: names.clone(),
                fields: texts.iter().map(|t| Value::Text(Text::new(t))).collect(),
                origin: None,
            }))
        };
        let lines = [
            record(&both, &["N1", "r1"]),
            record(&both, &["N1", "r2"]),
            record(&both, &["N2", "r3"]),
            record(&other, &["N2", "r4"]),
            record(&both, &["N\"3", "r5"]),
            Value::None,
            record(&one, &["x"]),
            record(&both, &["N2", "r6"]),
        ];
        let mut last = None;
        for v in &lines {
            let (mut written, mut whole) = (String::new(), String::new());
            super::from_value(&mut written, policy, v, &mut last);
            super::value(&mut whole, policy, v);
            assert_eq!(written, whole);
        }
    }

    #[test]
    fn counts_are_written_as_write_would() {
        for n in [0, 7, 10, 99, 100, 12_345, usize::MAX] {
            let mut out = String::from("x");
            super::count(&mut out, n);
            assert_eq!(out, format!("x{n}"));
        }
    }

    #[test]
    fn strings_are_escaped_as_json_requires() {
        let mut out = String::new();
        super::string(&mut out, "a\"b\\c\nd\u{1}é\u{7f}");
        assert_eq!(out, "\"a\\\"b\\\\c\\nd\\u0001é\\u007f\"");
        let back: String = serde_json::from_str(&out).unwrap_or_default();
        assert_eq!(back, "a\"b\\c\nd\u{1}é\u{7f}");
    }

    /// The word-at-a-time test agrees with the table for every byte, at
    /// every place of a word and of the tail, next to any other byte.
    #[test]
    fn a_byte_needs_escaping_exactly_when_the_table_says() {
        for b in 0..=255u8 {
            for neighbour in [b'a', 0x00, 0x1f, 0x20, b'"', 0x7f, 0x80, 0xff] {
                for at in 0..19 {
                    let mut bytes = vec![b'a'; 19];
                    bytes[at] = b;
                    if at > 0 {
                        bytes[at - 1] = neighbour;
                    }
                    let expected = !bytes.iter().any(|&x| super::ESCAPE[x as usize]);
                    assert_eq!(
                        super::plain(&bytes),
                        expected,
                        "{b:#x} at {at} after {neighbour:#x}"
                    );
                }
            }
        }
    }
}
