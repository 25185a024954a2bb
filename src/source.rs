//! Source files and byte spans: what every diagnostic points into.
//!
//! Owns the text of policy, table and facts files once loaded, and the
//! conversion from byte offsets to lines and columns. Knows nothing of what
//! the text means.

use std::sync::Arc;

/// Read at most `max + 1` bytes of a file: more than `max` means too large.
/// Bounded by reading, not by the file's length, which a device or a FIFO
/// does not report.
pub fn read_bounded(path: &std::path::Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    // Room for the whole file at once: a 7 MB registry read into a buffer
    // grown by doubling would hold 8.4 MB for the whole run.
    let size = file.metadata().map_or(0, |m| m.len()).min(max);
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A half-open byte range `[start, end)` into one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The smallest span covering both.
    pub fn to(&self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// One loaded file: its display name and its text.
#[derive(Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    /// Where each line starts, found the first time a line is asked for
    /// (most files never need it: only a diagnostic does).
    line_starts: std::sync::OnceLock<Vec<usize>>,
    /// The line of the whole file this text starts at (an NDJSON line is
    /// its own source): 1 for a whole file.
    pub first_line: usize,
}

pub type Source = Arc<SourceFile>;

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Source {
        Arc::new(SourceFile {
            name: name.into(),
            text: text.into(),
            line_starts: std::sync::OnceLock::new(),
            first_line: 1,
        })
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            let mut starts = vec![0];
            let bytes = self.text.as_bytes();
            for (i, &b) in bytes.iter().enumerate() {
                // A lone CR ends a line as well as LF and CRLF do.
                if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                    starts.push(i + 1);
                }
            }
            starts
        })
    }

    /// A piece of a larger file (one NDJSON line) that starts at `first_line`.
    pub fn excerpt(name: impl Into<String>, text: impl Into<String>, first_line: usize) -> Source {
        let mut src = SourceFile::new(name, text);
        if let Some(s) = Arc::get_mut(&mut src) {
            s.first_line = first_line.max(1);
        }
        src
    }

    /// The name to show with a snippet: the file, and the line an excerpt starts at.
    pub fn display_name(&self) -> String {
        if self.first_line > 1 {
            format!("{} (line {})", self.name, self.first_line)
        } else {
            self.name.clone()
        }
    }

    /// 1-based line (in the whole file) and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let (line, col) = self.local_line_col(offset);
        (line + self.first_line - 1, col)
    }

    /// 1-based line and column within this text.
    pub fn local_line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts().binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts().get(line).copied().unwrap_or(0);
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line + 1, col + 1)
    }

    /// The text of the 1-based line `line`, without its end of line.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(&start) = self.line_starts().get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self
            .line_starts()
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        self.text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    /// Clamp a span inside the text and onto character boundaries, so that
    /// a renderer can always slice it.
    pub fn clamp(&self, span: Span) -> Span {
        let fix = |mut i: usize| {
            i = i.min(self.text.len());
            while i > 0 && !self.text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let start = fix(span.start);
        let end = fix(span.end).max(start);
        Span::new(start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_and_all_line_ends() {
        let f = SourceFile::new("t", "ab\r\nçd\re\nf");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(4), (2, 1));
        assert_eq!(f.line_col(6), (2, 2)); // after the two-byte ç
        assert_eq!(f.line_col(8), (3, 1)); // lone CR ends line 2
        assert_eq!(f.line_text(2), "çd");
        assert_eq!(f.line_col(10), (4, 1));
    }

    #[test]
    fn clamp_lands_on_char_boundaries() {
        let f = SourceFile::new("t", "é");
        assert_eq!(f.clamp(Span::new(1, 9)), Span::new(0, 2));
    }
}
