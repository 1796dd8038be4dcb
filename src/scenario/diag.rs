//! Scenario errors that point at the file, line, column and key, with a hint.
//!
//! Whatever stage finds a problem (TOML syntax, serde types, value checks) reports it with the
//! key's path; this module finds where that key is written (by walking toml's spanned parse of
//! the original text) and frames it for miette. A key that came from `--set` is reported as such.

use std::ops::Range;

use miette::{Diagnostic, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use toml::de::{DeTable, DeValue};

use crate::text::printable;

/// One step of a key's path: a table key or an array index.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A key's path from the top of the scenario, e.g. `arch[0].servers`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// The top of the document.
    pub fn root() -> KeyPath {
        KeyPath(Vec::new())
    }

    /// This path extended by a key.
    pub fn key(&self, k: &str) -> KeyPath {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_owned()));
        p
    }

    /// This path extended by an index.
    pub fn index(&self, i: usize) -> KeyPath {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }

    /// Parses a dotted path as given to `--set` (`arch.0.servers` or `arch[0].servers`).
    pub fn parse(text: &str) -> KeyPath {
        let mut segs = Vec::new();
        for part in text.replace('[', ".").replace(']', "").split('.').filter(|s| !s.is_empty()) {
            match part.parse::<usize>() {
                Ok(i) => segs.push(Seg::Index(i)),
                Err(_) => segs.push(Seg::Key(part.to_owned())),
            }
        }
        KeyPath(segs)
    }

    /// Whether `self` starts with `prefix`.
    pub fn starts_with(&self, prefix: &KeyPath) -> bool {
        self.0.starts_with(&prefix.0)
    }
}

impl std::fmt::Display for KeyPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A problem with a scenario value, before it is placed in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// The key at fault.
    pub path: KeyPath,
    /// What is wrong, including what was expected.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
    /// A byte range already known (from the TOML parser).
    pub span: Option<Range<usize>>,
}

impl Problem {
    /// A problem at `path`.
    pub fn new(path: KeyPath, message: impl Into<String>) -> Problem {
        Problem { path, message: message.into(), hint: None, span: None }
    }

    /// The same problem with a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Problem {
        self.hint = Some(hint.into());
        self
    }
}

/// A scenario error framed for the terminal: file, line, column, key, message, hint.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{location}: `{key}`: {message}")]
#[diagnostic(code(netarch::scenario))]
pub struct ScenarioDiagnostic {
    /// "file:line:column", or "file" when the key is not in the file.
    pub location: String,
    /// The key's path.
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// The lines around the problem, for the snippet (never the whole file).
    #[source_code]
    pub source_code: Snippet,
    /// Where in the snippet.
    #[label("here")]
    pub span: Option<SourceSpan>,
    /// How to fix it.
    #[help]
    pub hint: Option<String>,
    /// 1-based line, when known.
    pub line: Option<usize>,
}

/// Widest piece of a line a snippet shows, in characters: a longer line is cut to a window
/// around the problem and marked with "…" (the terminal printer cannot frame columns past 65,535,
/// and 64 characters with miette's gutter fit an 80-column terminal).
pub const SNIPPET_WIDTH: usize = 64;

/// The few lines around a problem, cut to [`SNIPPET_WIDTH`], that a diagnostic shows: its size
/// does not grow with the file, so many problems in a big file cost linear time and memory.
#[derive(Debug, Clone, Default)]
pub struct Snippet {
    /// The file's name as errors give it.
    name: String,
    /// The shown lines.
    text: String,
    /// 0-based line number in the file of the snippet's first line.
    first_line: usize,
    /// Where the problem starts: its byte offset in the snippet and its 0-based column in the file
    /// (the snippet may have cut the start of a long line).
    label: (usize, usize),
}

impl Snippet {
    /// The shown text (for tests and size accounting).
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        // Report the file's line numbers (and the column before the cut), not the snippet's.
        let column = if inner.span().offset() == self.label.0 { self.label.1 } else { inner.column() };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line,
            column,
            inner.line_count(),
        )))
    }
}

/// Frames the problems of one text: parses it once and indexes its lines once, so that framing
/// n problems costs time linear in n and the text's size (issue 9).
pub struct Framer<'a> {
    file: &'a str,
    text: &'a str,
    doc: Option<toml::Spanned<DeTable<'a>>>,
    line_starts: Vec<usize>,
    overridden: &'a [(KeyPath, &'a str)],
}

impl<'a> Framer<'a> {
    /// A framer for `text`, named `file` in errors; keys in `overridden` came from the command
    /// line, each with its flag (`--set`, `--vary`).
    pub fn new(file: &'a str, text: &'a str, overridden: &'a [(KeyPath, &'a str)]) -> Framer<'a> {
        let line_starts = std::iter::once(0)
            .chain(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1))
            .collect();
        Framer { file, text, doc: None, line_starts, overridden }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        (line, self.text[start..offset].chars().count() + 1)
    }

    /// Places a problem in the file: finds the line (or notes it came from `--set`).
    pub fn frame(&mut self, problem: Problem) -> ScenarioDiagnostic {
        let flag = self
            .overridden
            .iter()
            .rev()
            .find(|(o, _)| problem.path.starts_with(o) || o.starts_with(&problem.path) && !o.0.is_empty())
            .map(|(_, flag)| *flag);
        let from_cli = flag.is_some();
        let span = if from_cli && problem.span.is_none() {
            None
        } else {
            problem.span.clone().or_else(|| {
                let text = self.text;
                let doc = self.doc.get_or_insert_with(|| DeTable::parse_recoverable(text).0);
                // Walk up the path until a written key is found.
                let mut p = problem.path.clone();
                loop {
                    if let Some(s) = locate_in(doc, &p) {
                        break Some(s);
                    }
                    if p.0.pop().is_none() {
                        break None;
                    }
                }
            })
        };
        let (location, line, source_code, span) = match &span {
            Some(s) => {
                let (l, c) = self.line_col(s.start);
                let (snippet, at) = self.snippet(s.clone());
                (format!("{}:{l}:{c}", self.file), Some(l), snippet, Some(at))
            }
            None if from_cli => {
                (format!("{} (value from {})", self.file, flag.unwrap_or("--set")), None, Snippet::default(), None)
            }
            None => (self.file.to_owned(), None, Snippet::default(), None),
        };
        // Keys, messages and the snippet go to the terminal: control characters are shown, not sent.
        ScenarioDiagnostic {
            location: printable(&location).into_owned(),
            key: printable(&problem.path.to_string()).into_owned(),
            message: printable(&problem.message).into_owned(),
            source_code,
            span,
            hint: problem.hint.map(|h| printable(&h).into_owned()),
            line,
        }
    }

    /// The line of `span` with one line either side, each cut to [`SNIPPET_WIDTH`]; and the span
    /// within it (clipped to the first line and the window).
    fn snippet(&self, span: Range<usize>) -> (Snippet, SourceSpan) {
        let text = self.text;
        let start = floor_char_boundary(text, span.start.min(text.len()));
        let line = self.line_starts.partition_point(|&s| s <= start) - 1;
        let first = line.saturating_sub(1);
        let last = (line + 1).min(self.line_starts.len() - 1);
        let mut out = String::new();
        let mut at = SourceSpan::from(0..0);
        let mut label = (0, 0);
        for l in first..=last {
            let ls = self.line_starts[l];
            let le = self.line_starts.get(l + 1).map_or(text.len(), |&n| n - 1);
            let full = text[ls..le].trim_end_matches('\r');
            if l > first {
                out.push('\n');
            }
            if l != line {
                out.push_str(&window(full, 0).0);
                continue;
            }
            let col = full[..(start - ls).min(full.len())].chars().count();
            let (shown, skipped) = window(full, col.saturating_sub(SNIPPET_WIDTH / 2));
            // The label's position in the shown line: "…" stands for the skipped characters.
            let marker = if skipped > 0 { "…".len() } else { 0 };
            let rel_chars = col - skipped;
            let rel: usize = shown[marker..].chars().take(rel_chars).map(char::len_utf8).sum::<usize>() + marker;
            let len_chars = text[start..span.end.clamp(start, le.max(start))].chars().count();
            let avail = shown[rel..].trim_end_matches('…');
            let len: usize = avail.chars().take(len_chars).map(char::len_utf8).sum();
            at = SourceSpan::from(out.len() + rel..out.len() + rel + len);
            label = (out.len() + rel, col);
            out.push_str(&shown);
        }
        (Snippet { name: self.file.to_owned(), text: snippet_text(out), first_line: first, label }, at)
    }
}

/// The snippet's text, each control character (but tab and line ends) replaced by `?` byte for
/// byte, so spans still point at the same bytes.
fn snippet_text(text: String) -> String {
    if !text.chars().any(crate::text::is_forbidden_in_prose) {
        return text;
    }
    text.chars()
        .map(|c| if crate::text::is_forbidden_in_prose(c) { "?".repeat(c.len_utf8()) } else { c.to_string() })
        .collect()
}

/// `line` from character `from` on, at most [`SNIPPET_WIDTH`] characters, with "…" where it was
/// cut; and how many characters were skipped at the start.
fn window(line: &str, from: usize) -> (String, usize) {
    let total = line.chars().count();
    let from = from.min(total.saturating_sub(SNIPPET_WIDTH));
    let mut shown = String::new();
    if from > 0 {
        shown.push('…');
    }
    shown.extend(line.chars().skip(from).take(SNIPPET_WIDTH));
    if from + SNIPPET_WIDTH < total {
        shown.push('…');
    }
    (shown, from)
}

/// The largest char boundary of `text` at or below `i`.
fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Finds the byte range where `path` is written in `text`: the key itself when it is there, the
/// nearest enclosing table otherwise.
pub fn locate(text: &str, path: &KeyPath) -> Option<Range<usize>> {
    locate_in(&DeTable::parse_recoverable(text).0, path)
}

fn locate_in(doc: &toml::Spanned<DeTable<'_>>, path: &KeyPath) -> Option<Range<usize>> {
    let mut best = None;
    let mut table = Some(doc.get_ref());
    let mut array: Option<&toml::de::DeArray<'_>> = None;
    for seg in &path.0 {
        match seg {
            Seg::Key(k) => {
                let t = table.take()?;
                let (key, value) = t.iter().find(|(key, _)| key.get_ref().as_ref() == k.as_str())?;
                best = Some(key.span());
                array = None;
                match value.get_ref() {
                    DeValue::Table(inner) => table = Some(inner),
                    DeValue::Array(a) => array = Some(a),
                    _ => {}
                }
            }
            Seg::Index(i) => {
                let a = array.take()?;
                let item = a.get(*i)?;
                best = Some(item.span());
                if let DeValue::Table(inner) = item.get_ref() {
                    table = Some(inner);
                }
            }
        }
    }
    best
}

/// Places one problem in its file (see [`Framer`] for many); `overridden` lists the keys the
/// command line set, each with its flag.
pub fn frame(file: &str, text: &str, problem: Problem, overridden: &[(KeyPath, &str)]) -> ScenarioDiagnostic {
    Framer::new(file, text, overridden).frame(problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str =
        "name = \"x\"\n[world]\nusers = 5\n\n[[arch]]\nkind = \"a\"\n[[arch]]\nkind = \"b\"\nservers = 0\n";

    #[test]
    fn locates_keys_in_tables_and_arrays_of_tables() {
        let s = locate(DOC, &KeyPath::parse("world.users")).unwrap();
        assert_eq!(crate::text::line_col(DOC, s.start), (3, 1));
        let s = locate(DOC, &KeyPath::parse("arch[1].servers")).unwrap();
        assert_eq!(crate::text::line_col(DOC, s.start), (9, 1));
        assert!(locate(DOC, &KeyPath::parse("world.nothing")).is_none());
    }

    #[test]
    fn the_line_index_agrees_with_a_direct_count() {
        // Framer indexes lines once; text::line_col counts from scratch. Every offset (inside
        // multi-byte characters and at line ends included) must land on the same place.
        let text = "a = \"é\"\r\n\n[t]\nk = \"日本\"";
        let framer = Framer::new("t.toml", text, &[]);
        for offset in 0..=text.len() + 2 {
            assert_eq!(framer.line_col(offset), crate::text::line_col(text, offset), "offset {offset}");
        }
        assert_eq!(crate::text::line_col(text, text.len()), (4, 9));
    }

    #[test]
    fn paths_print_and_parse() {
        let p = KeyPath::parse("arch.1.servers");
        assert_eq!(p.to_string(), "arch[1].servers");
        assert_eq!(KeyPath::parse("arch[1].servers"), p);
    }

    #[test]
    fn framing_falls_back_to_the_enclosing_table() {
        let d = frame("f.toml", DOC, Problem::new(KeyPath::parse("world.rooms"), "missing"), &[]);
        assert_eq!(d.line, Some(2));
        assert!(d.location.starts_with("f.toml:2:"));
    }

    #[test]
    fn a_long_line_is_cut_around_the_problem_with_its_true_column() {
        let text = format!("a = 1\nb = \"{}\" x\nc = 2\n", "z".repeat(70_000));
        let at = text.find(" x").unwrap() + 1;
        let p = Problem { span: Some(at..at + 1), ..Problem::new(KeyPath::root(), "bad") };
        let d = frame("f.toml", &text, p, &[]);
        assert_eq!(d.location, "f.toml:2:70008");
        let shown = d.source_code.text();
        assert!(shown.lines().all(|l| l.chars().count() <= SNIPPET_WIDTH + 2), "{shown}");
        assert!(shown.contains("…") && shown.contains("\" x"), "{shown}");
        let span = d.span.unwrap();
        assert_eq!(&shown[span.offset()..span.offset() + span.len()], "x");
    }

    #[test]
    fn issue_9_diagnostics_of_many_problems_hold_bounded_text_each() {
        // Each of n problems holds at most three snippet lines, whatever n and the file's size:
        // the diagnostics together hold O(n) bytes, not a copy of the file each (O(n²)).
        let n = 4000;
        let mut text = String::from("name = \"x\"\n");
        for _ in 0..n {
            text.push_str("[[arch]]\nkind = \"centralized\"\nservers = 0\n");
        }
        let mut framer = Framer::new("f.toml", &text, &[]);
        let bound = 3 * (SNIPPET_WIDTH + 3) * 4;
        for i in 0..n {
            let d = framer.frame(Problem::new(KeyPath::parse(&format!("arch[{i}].servers")), "bad"));
            assert_eq!(d.line, Some(4 + 3 * i));
            assert!(d.source_code.text().len() <= bound, "problem {i} holds {} bytes", d.source_code.text().len());
        }
    }
}
