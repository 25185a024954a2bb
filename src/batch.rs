//! Batch evaluation: documents read one at a time from files, folders and
//! NDJSON streams, evaluated in parallel chunks, written in input order.
//! Memory stays flat however long the batch: at most one chunk of
//! documents and reports is held at once (except for `--format json`,
//! whose single array is built whole).

use crate::diag::Diagnostic;
use crate::eval::{evaluate_with, Facts, Memo, OutcomeKind};
use crate::facts::tree::{Limits, ParseError, Tree};
use crate::facts::{json, typed, yaml};
use crate::ir::{Index, Policy, Value};
use crate::render;
use crate::report;
use crate::source::{Source, SourceFile, Span};
use rayon::prelude::*;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Largest facts file read whole (JSON, YAML, a registry).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// Longest NDJSON line (one document).
pub const MAX_LINE_BYTES: u64 = 16 * 1024 * 1024;
/// Most documents in one run.
pub const MAX_DOCUMENTS: u64 = 100_000_000;
/// Documents evaluated together before their reports are written, per
/// worker thread: enough to keep every worker busy, few enough that the
/// reports waiting to be written stay small (a report can be 20 KB).
const CHUNK_PER_THREAD: usize = 64;

/// Report buffers already written out, for the next reports: a report is
/// tens of kilobytes, and a buffer taken afresh for each is memory the
/// allocator hands out again only after a while (or gives back to the
/// system, to be faulted in and zeroed again). The 20,000 generated
/// candidacies peaked at 41 MiB with them, 44 without; 56 and 60 on two
/// threads (whole process, median of 9 to 11 runs; time unchanged).
struct Spare {
    buffers: std::sync::Mutex<Vec<String>>,
}

/// Buffers kept at most, and the largest kept.
const SPARE_BUFFERS: usize = 4 * CHUNK_PER_THREAD;
const SPARE_ROOM: usize = 1 << 20;

static SPARE: Spare = Spare::new();

impl Spare {
    const fn new() -> Spare {
        Spare {
            buffers: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// An empty buffer: one given back before, if any.
    fn take(&self) -> String {
        self.buffers
            .lock()
            .ok()
            .and_then(|mut b| b.pop())
            .unwrap_or_default()
    }

    /// A written report's buffer, kept for a later report unless it has no
    /// room, or too much, or enough are kept.
    fn give(&self, mut buffer: String) {
        if buffer.capacity() == 0 || buffer.capacity() > SPARE_ROOM {
            return;
        }
        buffer.clear();
        if let Ok(mut b) = self.buffers.lock() {
            if b.len() < SPARE_BUFFERS {
                b.push(buffer);
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Ndjson,
}

/// One document to evaluate.
pub struct Doc {
    pub source: Source,
    /// The NDJSON line, for a document read from one.
    pub line: Option<usize>,
    pub body: Body,
}

/// A document's text as read: to parse (by the worker that evaluates it,
/// so that parsing runs in parallel too), or unreadable.
pub enum Body {
    Unparsed(Kind, Limits),
    Unreadable(Vec<Diagnostic>),
}

impl Doc {
    fn unreadable(name: String, line: Option<usize>, d: Diagnostic) -> Doc {
        Doc {
            source: SourceFile::new(name, ""),
            line,
            body: Body::Unreadable(vec![d]),
        }
    }

    /// The document's tree, or why it cannot be read.
    pub fn parse(&self) -> Result<Tree, Vec<Diagnostic>> {
        match &self.body {
            Body::Unparsed(kind, limits) => {
                parse_file(&self.source, *kind, limits).map_err(|d| vec![d])
            }
            Body::Unreadable(d) => Err(d.clone()),
        }
    }
}

pub fn parse_error(source: &Source, e: ParseError) -> Diagnostic {
    Diagnostic::error(e.code, e.message)
        .at(source, e.span, e.label)
        .help_opt(e.help)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Json,
    Yaml,
    Ndjson,
}

pub fn kind_of(path: &Path) -> Option<Kind> {
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

fn not_utf8(name: &str, bytes: &[u8], first_line: usize, valid_up_to: usize) -> Diagnostic {
    let src = SourceFile::excerpt(
        name,
        String::from_utf8_lossy(bytes).into_owned(),
        first_line,
    );
    Diagnostic::error(
        "regle::facts::not_utf8",
        format!("`{name}` is not valid UTF-8"),
    )
    .at(&src, Span::new(valid_up_to, valid_up_to + 1), "this byte")
    .help("save the file as UTF-8")
}

/// Read a whole file (`-` is standard input), bounded and checked as UTF-8.
pub fn read_source(path: &Path) -> Result<Source, Diagnostic> {
    let name = path.display().to_string();
    let mut bytes = Vec::new();
    let res = if name == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
    } else {
        crate::source::read_bounded(path, MAX_FILE_BYTES).map(|b| {
            bytes = b;
            bytes.len()
        })
    };
    if let Err(e) = res {
        return Err(Diagnostic::error(
            "regle::facts::unreadable",
            format!("cannot read `{name}`: {e}"),
        ));
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Diagnostic::error(
            "regle::facts::too_large",
            format!("`{name}` is larger than {MAX_FILE_BYTES} bytes"),
        )
        .help(
            "split it, or give a batch as NDJSON (one document a line), which is read line by line",
        ));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            Err(not_utf8(&name, e.as_bytes(), 1, at))
        }
    }
}

/// Parse a whole JSON or YAML file as one tree.
pub fn parse_file(source: &Source, kind: Kind, limits: &Limits) -> Result<Tree, Diagnostic> {
    match kind {
        Kind::Yaml => yaml::parse_yaml(&source.text, limits),
        _ => json::parse_json(&source.text, 0, limits),
    }
    .map_err(|e| parse_error(source, e))
}

/// The documents of the command line's facts arguments, one at a time:
/// folders give their fact files (sorted), NDJSON files and standard input
/// are read line by line.
pub struct DocStream {
    files: VecDeque<PathBuf>,
    lines: Option<(String, Box<dyn BufRead + Send>, usize)>,
    limits: Limits,
    /// Bytes consumed so far, for a progress bar.
    pub bytes: u64,
    count: u64,
}

impl DocStream {
    pub fn new(args: &[PathBuf], limits: Limits) -> DocStream {
        let mut files = VecDeque::new();
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
                files.push_back(a.clone());
            }
        }
        DocStream {
            files,
            lines: None,
            limits,
            bytes: 0,
            count: 0,
        }
    }

    /// Total size of the files to read, when known (not for standard input).
    pub fn total_bytes(&self) -> Option<u64> {
        let mut total = 0;
        for f in &self.files {
            if f.as_os_str() == "-" {
                return None;
            }
            total += std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        }
        Some(total)
    }

    fn next_line(&mut self) -> Option<Doc> {
        let (name, reader, line) = self.lines.as_mut()?;
        loop {
            *line += 1;
            let mut buf = Vec::new();
            let read = reader
                .by_ref()
                .take(MAX_LINE_BYTES + 1)
                .read_until(b'\n', &mut buf);
            match read {
                Ok(0) => {
                    self.lines = None;
                    return None;
                }
                Err(e) => {
                    let d = Diagnostic::error(
                        "regle::facts::unreadable",
                        format!("cannot read `{name}`: {e}"),
                    );
                    let doc = Doc::unreadable(name.clone(), Some(*line), d);
                    self.lines = None;
                    return Some(doc);
                }
                Ok(n) => {
                    self.bytes += n as u64;
                    if buf.len() as u64 > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
                        // Skip the rest of this line.
                        let mut rest = Vec::new();
                        let _ = reader.read_until(b'\n', &mut rest);
                        self.bytes += rest.len() as u64;
                        let d = Diagnostic::error(
                            "regle::facts::line_too_long",
                            format!(
                                "line {line} of `{name}` is longer than {MAX_LINE_BYTES} bytes"
                            ),
                        )
                        .help("an NDJSON line holds one document; split the document");
                        return Some(Doc::unreadable(name.clone(), Some(*line), d));
                    }
                    while matches!(buf.last(), Some(b'\n' | b'\r')) {
                        buf.pop();
                    }
                    if *line == 1 && buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
                        buf.drain(..3);
                    }
                    if buf.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let text = match String::from_utf8(buf) {
                        Ok(t) => t,
                        Err(e) => {
                            let at = e.utf8_error().valid_up_to();
                            let d = not_utf8(name, e.as_bytes(), *line, at);
                            return Some(Doc::unreadable(name.clone(), Some(*line), d));
                        }
                    };
                    return Some(Doc {
                        source: SourceFile::excerpt(name.clone(), text, *line),
                        line: Some(*line),
                        body: Body::Unparsed(Kind::Json, self.limits),
                    });
                }
            }
        }
    }
}

impl Iterator for DocStream {
    type Item = Doc;

    fn next(&mut self) -> Option<Doc> {
        if self.count >= MAX_DOCUMENTS {
            return None;
        }
        loop {
            if let Some(doc) = self.next_line() {
                self.count += 1;
                return Some(doc);
            }
            let f = self.files.pop_front()?;
            let name = f.display().to_string();
            match kind_of(&f) {
                None => {
                    self.count += 1;
                    let d = Diagnostic::error("regle::facts::unknown_format", format!("`{name}`: cannot tell the format from the file name"))
                        .help("name facts files .json, .yaml, .yml, .ndjson or .jsonl (or give `-` for NDJSON on standard input)");
                    return Some(Doc::unreadable(name, None, d));
                }
                Some(Kind::Ndjson) => {
                    let reader: Result<Box<dyn BufRead + Send>, std::io::Error> = if name == "-" {
                        Ok(Box::new(BufReader::new(std::io::stdin())))
                    } else {
                        std::fs::File::open(&f).map(|file| {
                            Box::new(BufReader::with_capacity(1 << 16, file))
                                as Box<dyn BufRead + Send>
                        })
                    };
                    match reader {
                        Ok(r) => self.lines = Some((name, r, 0)),
                        Err(e) => {
                            self.count += 1;
                            let d = Diagnostic::error(
                                "regle::facts::unreadable",
                                format!("cannot read `{name}`: {e}"),
                            );
                            return Some(Doc::unreadable(name, None, d));
                        }
                    }
                }
                Some(kind) => {
                    self.count += 1;
                    self.bytes += std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
                    return Some(match read_source(&f) {
                        Ok(source) => Doc {
                            source,
                            line: None,
                            body: Body::Unparsed(kind, self.limits),
                        },
                        Err(d) => Doc::unreadable(name, None, d),
                    });
                }
            }
        }
    }
}

/// What stays the same for every document of a run.
pub struct Context<'a> {
    pub policy: &'a Policy,
    /// The registry's values, by input index (`None` for the others).
    pub registry: &'a [Option<Value>],
    pub registry_doc: Option<&'a crate::facts::Reparsed>,
    pub registry_indexes: &'a [Index],
    pub as_of: i32,
    pub format: Format,
    /// Colour the human report (standard output is a terminal).
    pub color: bool,
    /// Colour diagnostics (standard error is a terminal).
    pub color_errors: bool,
    /// Definitions' values remembered from document to document; `None`
    /// to compute everything afresh.
    pub memo: Option<Memo>,
}

/// One document's result, rendered.
pub struct Rendered {
    pub stdout: String,
    pub stderr: String,
    /// `None` when the document could not be read or evaluated.
    pub outcome: Option<OutcomeKind>,
}

/// Read, evaluate and render one document.
pub fn evaluate_doc(cx: &Context, doc: Doc) -> Rendered {
    let policy = cx.policy;
    let result = doc.parse().and_then(|tree| {
        let values = typed::read_document(policy, &tree, &doc.source, false)?;
        let inputs: Vec<Option<Value>> = values.into_iter().zip(cx.registry).map(|(a, b)| a.or_else(|| b.clone())).collect();
        let facts = Facts {
            inputs: &inputs,
            input_tree: Some(&tree),
            registry_tree: cx.registry_doc,
            registry_indexes: cx.registry_indexes,
        };
        evaluate_with(policy, &facts, cx.as_of, cx.memo.as_ref()).map_err(|_| {
            vec![Diagnostic::error(
                "regle::eval::too_much_work",
                format!("evaluating this document took more than {} steps", crate::eval::MAX_STEPS),
            )
            .help("the policy does too much work for one document; look for a query over a large table without an equality filter")]
        })
    });
    match result {
        Ok(r) => {
            let mut out = SPARE.take();
            match cx.format {
                Format::Human => {
                    report::human::report(
                        &mut out,
                        policy,
                        &r,
                        Some(&doc.source),
                        cx.registry_doc.map(|d| &d.source),
                        &report::human::Style { color: cx.color },
                    );
                    out.push('\n');
                }
                Format::Json | Format::Ndjson => report::json::report(&mut out, policy, &r),
            }
            Rendered {
                stdout: out,
                stderr: String::new(),
                outcome: Some(r.outcome),
            }
        }
        Err(diags) => match cx.format {
            Format::Human => Rendered {
                stdout: String::new(),
                stderr: diags
                    .iter()
                    .map(|d| render::human(d, cx.color_errors))
                    .collect(),
                outcome: None,
            },
            Format::Json | Format::Ndjson => {
                let v = serde_json::json!({
                    "error": {
                        "file": doc.source.name,
                        "line": doc.line,
                        "diagnostics": diags.iter().map(render::json).collect::<Vec<_>>(),
                    }
                });
                Rendered {
                    stdout: v.to_string(),
                    stderr: String::new(),
                    outcome: None,
                }
            }
        },
    }
}

/// Counts for the closing summary.
#[derive(Default, Debug)]
pub struct Summary {
    pub documents: u64,
    pub complete: u64,
    pub incomplete: u64,
    pub rejected: u64,
    pub unreadable: u64,
}

impl Summary {
    pub fn add(&mut self, outcome: Option<OutcomeKind>) {
        self.documents += 1;
        match outcome {
            Some(OutcomeKind::Complete) => self.complete += 1,
            Some(OutcomeKind::Incomplete) => self.incomplete += 1,
            Some(OutcomeKind::Rejected) => self.rejected += 1,
            None => self.unreadable += 1,
        }
    }
    /// 0 all complete, 1 some incomplete or rejected, 2 some unreadable.
    pub fn exit_code(&self) -> i32 {
        if self.unreadable > 0 {
            2
        } else if self.incomplete + self.rejected > 0 {
            1
        } else {
            0
        }
    }
}

/// Reports written without copying them: held until about `HOLD` bytes,
/// then handed to the output in one vectored write (a report is tens of
/// kilobytes; a buffered writer would copy each once more).
pub struct ReportWriter<W: std::io::Write> {
    inner: W,
    held: Vec<String>,
    /// Each report is followed by a newline (NDJSON).
    lines: bool,
    bytes: usize,
}

/// Bytes of reports held before they are written.
const HOLD: usize = 256 << 10;

impl<W: std::io::Write> ReportWriter<W> {
    pub fn new(inner: W, lines: bool) -> ReportWriter<W> {
        ReportWriter {
            inner,
            held: Vec::new(),
            lines,
            bytes: 0,
        }
    }

    /// Write `report` after those before it.
    pub fn push(&mut self, report: String) -> std::io::Result<()> {
        self.bytes += report.len();
        self.held.push(report);
        if self.bytes >= HOLD {
            self.flush()?;
        }
        Ok(())
    }

    /// Write every report held, and flush the output.
    pub fn flush(&mut self) -> std::io::Result<()> {
        let newline: &[u8] = if self.lines { b"\n" } else { b"" };
        let mut slices: Vec<std::io::IoSlice> = Vec::with_capacity(2 * self.held.len());
        for r in &self.held {
            // Nothing to write for an empty report (a human report of an
            // unreadable document: its diagnostics went to standard
            // error): an output given only empty slices writes nothing,
            // which would read as a closed output.
            if !r.is_empty() {
                slices.push(std::io::IoSlice::new(r.as_bytes()));
            }
            if !newline.is_empty() {
                slices.push(std::io::IoSlice::new(newline));
            }
        }
        let mut rest = slices.as_mut_slice();
        while !rest.is_empty() {
            match self.inner.write_vectored(rest) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => std::io::IoSlice::advance_slices(&mut rest, n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        drop(slices);
        self.held.drain(..).for_each(|r| SPARE.give(r));
        self.bytes = 0;
        self.inner.flush()
    }

    /// The output, for what is not a report (written after those held).
    pub fn inner(&mut self) -> std::io::Result<&mut W> {
        self.flush()?;
        Ok(&mut self.inner)
    }
}

/// Evaluate every document of `stream`, in parallel on `pool` when given,
/// calling `emit` with each result in input order.
pub fn run(
    cx: &Context,
    stream: &mut DocStream,
    pool: Option<&rayon::ThreadPool>,
    mut emit: impl FnMut(Rendered, u64),
) {
    loop {
        let threads = pool.map_or(1, rayon::ThreadPool::current_num_threads);
        let chunk: Vec<Doc> = stream.by_ref().take(CHUNK_PER_THREAD * threads).collect();
        if chunk.is_empty() {
            break;
        }
        let rendered: Vec<Rendered> = match pool {
            Some(pool) => {
                pool.install(|| chunk.into_par_iter().map(|d| evaluate_doc(cx, d)).collect())
            }
            None => chunk.into_iter().map(|d| evaluate_doc(cx, d)).collect(),
        };
        for r in rendered {
            emit(r, stream.bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output that takes at most 5 bytes and 2 slices a call, and is
    /// interrupted every other call.
    #[derive(Default)]
    struct Stingy {
        got: Vec<u8>,
        calls: usize,
        flushed: usize,
    }

    impl std::io::Write for Stingy {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.write_vectored(&[std::io::IoSlice::new(buf)])
        }
        fn write_vectored(&mut self, bufs: &[std::io::IoSlice]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls % 2 == 0 {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let mut n = 0;
            for b in bufs.iter().take(2) {
                let take = b.len().min(5 - n);
                self.got.extend_from_slice(&b[..take]);
                n += take;
                if n == 5 {
                    break;
                }
            }
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.flushed += 1;
            Ok(())
        }
    }

    /// Reports held and written in vectored writes reach the output whole
    /// and in order, each followed by a newline in NDJSON, however little
    /// each write takes; a large batch is written before it is all held.
    #[test]
    fn held_reports_are_written_whole_and_in_order() {
        for lines in [true, false] {
            let mut w = ReportWriter::new(Stingy::default(), lines);
            let reports = ["{\"a\":1}", "", "{\"bb\":[2,3]}", "x"];
            for r in reports {
                w.push(r.to_string()).unwrap();
            }
            assert!(w.inner.got.is_empty(), "held until flushed");
            w.flush().unwrap();
            let sep = if lines { "\n" } else { "" };
            let expected: String = reports.iter().map(|r| format!("{r}{sep}")).collect();
            assert_eq!(String::from_utf8(w.inner.got.clone()).unwrap(), expected);
            assert_eq!(w.inner.flushed, 1);
        }
        let mut w = ReportWriter::new(Vec::new(), true);
        w.push("y".repeat(HOLD)).unwrap();
        assert_eq!(
            w.inner.len(),
            HOLD + 1,
            "written once held bytes reach HOLD"
        );
    }

    /// A buffer given back is taken again, empty and with its room; one
    /// too large, or past the number kept, is let go.
    #[test]
    fn report_buffers_are_taken_again_within_bounds() {
        let spare = Spare::new();
        let mut report = String::with_capacity(30_000);
        report.push_str("{\"candidacy\":1}");
        let at = report.as_ptr();
        spare.give(report);
        let again = spare.take();
        assert!(again.is_empty());
        assert_eq!((again.as_ptr(), again.capacity() >= 30_000), (at, true));
        assert_eq!(spare.take().capacity(), 0, "none left: a new one");
        spare.give(String::with_capacity(SPARE_ROOM + 1));
        assert_eq!(spare.take().capacity(), 0, "too large to keep");
        for _ in 0..SPARE_BUFFERS + 5 {
            spare.give(String::with_capacity(8));
        }
        assert_eq!(spare.buffers.lock().unwrap().len(), SPARE_BUFFERS);
    }

    /// Empty reports (human reports of unreadable documents), last or
    /// alone, are no failed write: the others are written, and flushing
    /// succeeds.
    #[test]
    fn reports_ending_empty_are_not_a_failed_write() {
        for reports in [vec!["", ""], vec!["ab", "", "cd", "", ""]] {
            let mut w = ReportWriter::new(Stingy::default(), false);
            for r in &reports {
                w.push(r.to_string()).unwrap();
            }
            w.flush().expect("nothing failed to be written");
            assert_eq!(
                String::from_utf8(w.inner.got.clone()).unwrap(),
                reports.concat()
            );
        }
    }
}
