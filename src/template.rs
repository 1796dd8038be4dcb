//! Placeholders in a scenario's explanation: `{entry: metric}` stands for this run's figure of
//! `metric` (a dotted metric name, as sweeps name them) on the architecture labelled `entry`, or
//! on the world when `entry` is `world`; `{entry: metric | format}` picks how it is written.
//! `{{` and `}}` are literal braces.
//!
//! This module only reads the syntax; the scenario checks the names before a run and the outputs
//! fill the figures in after it. It depends on nothing else in the crate.

use std::ops::Range;

/// The entry name of the world's figures (`{world: users}`).
pub const WORLD: &str = "world";

/// How a figure is written; without one, the metric's name decides (see [`Format::NAMES`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A share as a percentage, as the tables write it ("42.0%", "0.40%", "100%").
    Percent,
    /// A share as a whole percentage ("42%").
    Percent0,
    /// Milliseconds as a human duration ("3.8 s", "1.81 h").
    Time,
    /// Bits with one decimal ("7.7 bits").
    Bits,
    /// A byte count in decimal units ("43 MB").
    Bytes,
    /// A whole count with thousands separators ("5,800").
    Count,
    /// Three significant digits ("0.940", "5.79").
    Number,
    /// Two decimals ("0.94").
    Decimal2,
}

impl Format {
    /// The suffix names, as written after `|`.
    pub const NAMES: [(&'static str, Format); 8] = [
        ("pct", Format::Percent),
        ("pct0", Format::Percent0),
        ("time", Format::Time),
        ("bits", Format::Bits),
        ("bytes", Format::Bytes),
        ("count", Format::Count),
        ("num", Format::Number),
        ("2dp", Format::Decimal2),
    ];

    /// The format a suffix names.
    pub fn parse(name: &str) -> Option<Format> {
        Format::NAMES.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }
}

/// One placeholder of a text.
#[derive(Clone, Debug, PartialEq)]
pub struct Placeholder {
    /// The architecture's label, or [`WORLD`].
    pub entry: String,
    /// The dotted metric name.
    pub metric: String,
    /// How to write it, when the text says.
    pub format: Option<Format>,
    /// Where it is in the text, braces included (byte offsets).
    pub span: Range<usize>,
}

/// A piece of a text: literal text, or a placeholder.
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    /// Text as written (doubled braces undone).
    Text(String),
    /// A figure to fill in.
    Figure(Placeholder),
}

/// Why a text's placeholders do not read.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    /// What is wrong.
    pub message: String,
    /// Byte offset in the text.
    pub at: usize,
}

/// Splits `text` into literal text and placeholders.
pub fn parse(text: &str) -> Result<Vec<Piece>, SyntaxError> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = text.char_indices().peekable();
    while let Some((i, c)) = rest.next() {
        match c {
            '{' if rest.peek().is_some_and(|&(_, n)| n == '{') => {
                rest.next();
                literal.push('{');
            }
            '}' if rest.peek().is_some_and(|&(_, n)| n == '}') => {
                rest.next();
                literal.push('}');
            }
            '}' => {
                return Err(SyntaxError { message: "a `}` without its `{` (write `}}` for a brace)".into(), at: i });
            }
            '{' => {
                let Some(len) = text[i + 1..].find('}') else {
                    return Err(SyntaxError {
                        message: "a `{` without its `}` (write `{{` for a brace)".into(),
                        at: i,
                    });
                };
                let inner = &text[i + 1..i + 1 + len];
                let span = i..i + len + 2;
                while rest.peek().is_some_and(|&(j, _)| j < span.end) {
                    rest.next();
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Figure(placeholder(inner, span)?));
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    Ok(pieces)
}

/// Reads the inside of `{...}`: `entry: metric` or `entry: metric | format`.
fn placeholder(inner: &str, span: Range<usize>) -> Result<Placeholder, SyntaxError> {
    let at = span.start;
    let bad = |message: String| SyntaxError { message, at };
    let Some((entry, rest)) = inner.split_once(": ") else {
        return Err(bad(format!(
            "`{{{inner}}}` is not a placeholder: write `{{<architecture>: <metric>}}`, e.g. `{{signal: latency.p50_ms}}`"
        )));
    };
    let (metric, format) = match rest.rsplit_once('|') {
        Some((m, f)) => {
            let f = f.trim();
            let Some(format) = Format::parse(f) else {
                let names: Vec<&str> = Format::NAMES.iter().map(|(n, _)| *n).collect();
                return Err(bad(format!("unknown format `{f}` in `{{{inner}}}`; use one of: {}", names.join(", "))));
            };
            (m.trim(), Some(format))
        }
        None => (rest.trim(), None),
    };
    let entry = entry.trim();
    if entry.is_empty() || metric.is_empty() {
        return Err(bad(format!("`{{{inner}}}` needs an architecture and a metric")));
    }
    Ok(Placeholder { entry: entry.to_owned(), metric: metric.to_owned(), format, span })
}

/// The placeholders of `text`.
pub fn placeholders(text: &str) -> Result<Vec<Placeholder>, SyntaxError> {
    Ok(parse(text)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Figure(f) => Some(f),
            Piece::Text(_) => None,
        })
        .collect())
}

/// `text` with each placeholder replaced by `figure(placeholder)`; a text whose placeholders do
/// not read comes back as it is.
pub fn fill(text: &str, mut figure: impl FnMut(&Placeholder) -> String) -> String {
    match parse(text) {
        Ok(pieces) => pieces
            .into_iter()
            .map(|p| match p {
                Piece::Text(t) => t,
                Piece::Figure(f) => figure(&f),
            })
            .collect(),
        Err(_) => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_name_an_entry_a_metric_and_maybe_a_format() {
        let text = "Linked {mixnet: exposure.gpa + timing.pair.learned | pct0} of {world: users}; {{braces}}.";
        let p = placeholders(text).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].entry, "mixnet");
        assert_eq!(p[0].metric, "exposure.gpa + timing.pair.learned");
        assert_eq!(p[0].format, Some(Format::Percent0));
        assert_eq!(&text[p[0].span.clone()], "{mixnet: exposure.gpa + timing.pair.learned | pct0}");
        assert_eq!((p[1].entry.as_str(), p[1].metric.as_str(), p[1].format), ("world", "users", None));
        let filled = fill(text, |f| format!("<{}>", f.metric));
        assert_eq!(filled, "Linked <exposure.gpa + timing.pair.learned> of <users>; {braces}.");
    }

    #[test]
    fn broken_placeholders_are_errors_with_a_position() {
        assert_eq!(parse("a { b").unwrap_err().at, 2);
        assert!(parse("a } b").is_err());
        assert!(parse("{no colon}").unwrap_err().message.contains("not a placeholder"));
        assert!(parse("{a: b | wat}").unwrap_err().message.contains("unknown format `wat`"));
        assert!(parse("{: b}").is_err());
        assert_eq!(parse("plain").unwrap(), vec![Piece::Text("plain".into())]);
    }
}
