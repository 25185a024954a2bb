//! Policy tables: CSV files named by `table` declarations, read against
//! their declared columns. Each bad cell is a diagnostic at its CSV line.

use crate::diag::{did_you_mean, Diagnostic};
use crate::ir::value::{date, VersionValue};
use crate::ir::{Symbols, Type, Value};
use crate::source::{SourceFile, Span};
use std::path::Path;
use std::sync::Arc;

/// Largest table file read.
pub const MAX_TABLE_BYTES: u64 = 64 * 1024 * 1024;

pub struct LoadedTable {
    pub cells: Vec<Vec<Value>>,
    pub rows: u32,
}

/// Read `path` (already resolved against the policy file) for the declared
/// `columns`. `decl` is where the table is declared, for diagnostics that
/// are about the declaration rather than the file.
pub fn load(
    path: &Path,
    columns: &[(String, Type, Span)],
    decl_source: &crate::source::Source,
    decl_span: Span,
    diags: &mut Vec<Diagnostic>,
    symbols: &mut Symbols,
) -> Option<LoadedTable> {
    let display = path.display().to_string();
    let read = crate::source::read_bounded(path, MAX_TABLE_BYTES);
    if read
        .as_ref()
        .is_ok_and(|b| b.len() as u64 > MAX_TABLE_BYTES)
    {
        diags.push(
            Diagnostic::error(
                "regle::table::too_large",
                format!("table file `{display}` is larger than {MAX_TABLE_BYTES} bytes"),
            )
            .at(decl_source, decl_span, "declared here"),
        );
        return None;
    }
    let text = match read {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let src = SourceFile::new(display.clone(), String::from_utf8_lossy(e.as_bytes()));
                diags.push(
                    Diagnostic::error(
                        "regle::table::not_utf8",
                        format!("table file `{display}` is not valid UTF-8"),
                    )
                    .at(&src, Span::new(at, at + 1), "this byte")
                    .help("save the file as UTF-8"),
                );
                return None;
            }
        },
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    "regle::table::unreadable",
                    format!("cannot read table file `{display}`: {e}"),
                )
                .at(decl_source, decl_span, "this file")
                .help("the path is relative to the policy file that declares the table"),
            );
            return None;
        }
    };
    let text = text
        .strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(text);
    let src = SourceFile::new(display.clone(), text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(src.text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => {
            diags.push(csv_error(&src, &e));
            return None;
        }
    };
    // A missing column is reported, and the others are still read.
    let mut positions = Vec::new();
    let mut missing = false;
    for (name, _, span) in columns {
        match headers.iter().position(|h| h == name) {
            Some(i) => positions.push(Some(i)),
            None => {
                positions.push(None);
                missing = true;
                let help = did_you_mean(name, headers.iter().map(String::as_str))
                    .unwrap_or_else(|| format!("its columns are: {}", headers.join(", ")));
                diags.push(
                    Diagnostic::error(
                        "regle::table::missing_column",
                        format!("table file `{display}` has no column `{name}`"),
                    )
                    .at(decl_source, *span, "declared here")
                    .also(
                        &src,
                        Span::new(0, src.line_text(1).len()),
                        "the file's header",
                    )
                    .help(help),
                );
            }
        }
    }
    let mut cells: Vec<Vec<Value>> = vec![Vec::new(); columns.len()];
    let mut interned: Vec<rustc_hash::FxHashMap<String, Value>> =
        vec![rustc_hash::FxHashMap::default(); columns.len()];
    let mut rows = 0u32;
    let mut errors = 0;
    // One record, read into again for each row.
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                diags.push(csv_error(&src, &e));
                return None;
            }
        }
        let (line, start) = record
            .position()
            .map(|p| (p.line() as usize, p.byte() as usize))
            .unwrap_or((1, 0));
        for (c, ((name, ty, _), &pos)) in columns.iter().zip(&positions).enumerate() {
            let Some(pos) = pos else { continue };
            let cell = record.get(pos).unwrap_or("");
            let (Some(column), Some(intern)) = (cells.get_mut(c), interned.get_mut(c)) else {
                continue;
            };
            if let Some(v) = intern.get(cell) {
                column.push(v.clone());
                continue;
            }
            match parse_cell(cell, ty, symbols) {
                Ok(v) => {
                    intern.insert(cell.to_string(), v.clone());
                    column.push(v);
                }
                Err(what) => {
                    errors += 1;
                    if errors <= 20 {
                        diags.push(
                            Diagnostic::error(
                                "regle::table::bad_cell",
                                format!("column `{name}` of `{display}`, line {line}: {what}"),
                            )
                            .at(
                                &src,
                                Span::new(start, start + src.line_text(line).len()),
                                format!("`{}` here", cell.escape_debug()),
                            )
                            .also(
                                decl_source,
                                decl_span,
                                "the table is declared here",
                            ),
                        );
                    }
                    column.push(Value::None);
                }
            }
        }
        rows += 1;
    }
    if errors > 0 || missing {
        return None;
    }
    Some(LoadedTable { cells, rows })
}

fn csv_error(src: &crate::source::Source, e: &csv::Error) -> Diagnostic {
    let (line, offset) = match e.position() {
        Some(p) => (p.line() as usize, p.byte() as usize),
        None => (1, 0),
    };
    Diagnostic::error(
        "regle::table::syntax",
        format!("`{}` line {line} is not valid CSV: {e}", src.name),
    )
    .at(src, Span::new(offset, offset + 1), "here")
    .help("every row must have as many comma-separated cells as the header; quote cells holding commas")
}

/// Read one cell as a value of `ty`, or say what is wrong.
pub fn parse_cell(cell: &str, ty: &Type, symbols: &mut Symbols) -> Result<Value, String> {
    match ty {
        Type::Optional(inner) => {
            if cell.is_empty() {
                Ok(Value::None)
            } else {
                parse_cell(cell, inner, symbols)
            }
        }
        Type::Text => Ok(symbols.intern(cell)),
        Type::Int => cell
            .trim()
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| "expected a whole number".to_string()),
        Type::Bool => match cell.trim() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err("expected `true` or `false`".to_string()),
        },
        Type::Date => date::parse(cell.trim())
            .map(Value::Date)
            .ok_or_else(|| "expected a date written YYYY-MM-DD".to_string()),
        Type::Version => match crate::version::parse(cell) {
            Ok(v) => Ok(Value::Version(Arc::new(VersionValue::Valid(v)))),
            Err(e) => Err(e.message),
        },
        Type::List(inner) => cell
            .split_whitespace()
            .map(|part| parse_cell(part, inner, symbols))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::list),
        _ => Err("this column type cannot be read from CSV".to_string()),
    }
}
