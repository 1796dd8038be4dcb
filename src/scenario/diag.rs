//! Scenario errors that point at the file, line, column and key, with a hint.
//!
//! Whatever stage finds a problem (TOML syntax, serde types, value checks) reports it with the
//! key's path; this module finds where that key is written (by walking toml's spanned parse of
//! the original text) and frames it for miette. A key that came from `--set` is reported as such.

use std::ops::Range;

use miette::{Diagnostic, NamedSource, SourceSpan};
use toml::de::{DeTable, DeValue};

use crate::output::text::printable;

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
    /// The scenario text, for the snippet.
    #[source_code]
    pub source_code: NamedSource<String>,
    /// Where in the text.
    #[label("here")]
    pub span: Option<SourceSpan>,
    /// How to fix it.
    #[help]
    pub hint: Option<String>,
    /// 1-based line, when known.
    pub line: Option<usize>,
}

/// Finds the byte range where `path` is written in `text`: the key itself when it is there, the
/// nearest enclosing table otherwise.
pub fn locate(text: &str, path: &KeyPath) -> Option<Range<usize>> {
    let (doc, _) = DeTable::parse_recoverable(text);
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

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(before.len(), |nl| before.len() - nl - 1) + 1;
    (line, col)
}

/// 1-based line and column of a byte offset, the column counted in characters (what an editor
/// shows).
pub fn line_col_chars(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(before, |nl| &before[nl + 1..]).chars().count() + 1;
    (line, col)
}

/// Places a problem in its file: finds the line (or notes it came from a command-line flag).
/// `overridden` lists the keys the command line set, each with its flag (`--set`, `--vary`).
pub fn frame(file: &str, text: &str, problem: Problem, overridden: &[(KeyPath, &str)]) -> ScenarioDiagnostic {
    let flag = overridden
        .iter()
        .rev()
        .find(|(o, _)| problem.path.starts_with(o) || o.starts_with(&problem.path) && !o.0.is_empty())
        .map(|(_, flag)| *flag);
    let from_cli = flag.is_some();
    let span = if from_cli && problem.span.is_none() {
        None
    } else {
        problem.span.clone().or_else(|| {
            // Walk up the path until a written key is found.
            let mut p = problem.path.clone();
            loop {
                if let Some(s) = locate(text, &p) {
                    break Some(s);
                }
                if p.0.pop().is_none() {
                    break None;
                }
            }
        })
    };
    let (location, line) = match &span {
        Some(s) => {
            let (l, c) = line_col(text, s.start);
            (format!("{file}:{l}:{c}"), Some(l))
        }
        None if from_cli => (format!("{file} (value from {})", flag.unwrap_or("--set")), None),
        None => (file.to_owned(), None),
    };
    // Keys, messages and the snippet go to the terminal: control characters are shown, not sent.
    ScenarioDiagnostic {
        location: printable(&location).into_owned(),
        key: printable(&problem.path.to_string()).into_owned(),
        message: printable(&problem.message).into_owned(),
        source_code: NamedSource::new(file, snippet_text(text)),
        span: span.map(|s| SourceSpan::from(s.start..s.end.max(s.start))),
        hint: problem.hint.map(|h| printable(&h).into_owned()),
        line,
    }
}

/// The scenario text for the snippet, each control character (but tab and line ends) replaced
/// by `?` byte for byte, so spans still point at the same bytes.
fn snippet_text(text: &str) -> String {
    if !text.chars().any(crate::output::text::is_forbidden_in_prose) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| if crate::output::text::is_forbidden_in_prose(c) { "?".repeat(c.len_utf8()) } else { c.to_string() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str =
        "name = \"x\"\n[world]\nusers = 5\n\n[[arch]]\nkind = \"a\"\n[[arch]]\nkind = \"b\"\nservers = 0\n";

    #[test]
    fn locates_keys_in_tables_and_arrays_of_tables() {
        let s = locate(DOC, &KeyPath::parse("world.users")).unwrap();
        assert_eq!(line_col(DOC, s.start), (3, 1));
        let s = locate(DOC, &KeyPath::parse("arch[1].servers")).unwrap();
        assert_eq!(line_col(DOC, s.start), (9, 1));
        assert!(locate(DOC, &KeyPath::parse("world.nothing")).is_none());
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
}
