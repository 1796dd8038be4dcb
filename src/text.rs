//! Control characters in user text (names, titles, explanations) kept out of outputs.
//!
//! A leaf module (it imports nothing of the crate): scenario resolution and diagnostics use it
//! to refuse and show control characters, and every output uses it to escape them.
//!
//! Scenario resolution refuses control characters in names and titles, but text also comes back
//! from files netarch did not check this run (a `results.json` or `sweep.json` edited by hand and
//! redrawn with `netarch plot`), so every output escapes them once more: an SVG with U+0001 is
//! not well-formed XML, and an escape sequence on a terminal can rewrite what the user sees.

use std::borrow::Cow;

/// Whether `c` may not appear raw in a name or a one-line text (every Unicode control
/// character: C0, DEL and C1, newline and tab included).
pub fn is_forbidden_in_name(c: char) -> bool {
    c.is_control()
}

/// Whether `c` may not appear raw in multi-line prose (control characters other than newline and
/// tab; a carriage return ends Windows lines, so it passes too).
pub fn is_forbidden_in_prose(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\t' | '\r')
}

/// `text` with every control character but newline and tab written as a visible `\u{..}`
/// escape (borrowed when there is none, which is the usual case).
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t')) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && !matches!(c, '\n' | '\t') {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `xml` with every character XML 1.0 does not allow (C0 controls other than tab, newline and
/// carriage return, and U+FFFE, U+FFFF) written as a visible `\u{..}` escape, so the document
/// stays well-formed.
pub fn xml_safe(xml: String) -> String {
    let bad =
        |c: char| matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}');
    if !xml.chars().any(bad) {
        return xml;
    }
    let mut out = String::with_capacity(xml.len() + 8);
    for c in xml.chars() {
        if bad(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// 1-based line and column of a byte offset, the column counted in characters (what an editor
/// shows); an offset inside a character counts from that character's start. Used where one
/// position is wanted (the first byte of a file that is not UTF-8); `scenario::diag::Framer`
/// indexes a file's lines once to place many.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (before.matches('\n').count() + 1, before[start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible_escapes_issue_9() {
        assert_eq!(printable("signal"), "signal");
        assert!(matches!(printable("a\nb\tc"), Cow::Borrowed(_)));
        assert_eq!(printable("a\u{1}b\u{1b}[31m\u{7f}\u{85}"), "a\\u{1}b\\u{1b}[31m\\u{7f}\\u{85}");
        assert_eq!(xml_safe("<t>a\u{1}\u{ffff}\n</t>".into()), "<t>a\\u{1}\\u{ffff}\n</t>");
        // DEL and C1 are allowed by XML 1.0, so the SVG pass leaves them.
        assert_eq!(xml_safe("\u{7f}\u{85}".into()), "\u{7f}\u{85}");
    }
}
