//! Scenario text mutated at random never panics the loader, and every error it reports names a
//! line or a key (issue 9 §Tests): the property behind "bad input never panics".
//!
//! Each case takes a built-in scenario and applies a few edits of the kinds a hurried user or a
//! broken script makes: a value replaced by a hostile token (huge, negative, exponent form, the
//! wrong type, a control character), a line deleted, duplicated or cut short, a table header
//! repeated. Loading runs in-process (parse, then resolve); a valid result is fine, an error must
//! be framed. The binary maps these errors to exit code 2 (tests/netarch/bad_input.rs checks the
//! mapping on the command line).

use netarch::scenario::{ScenarioError, Source, builtin, parse};
use proptest::prelude::*;

/// Values that have broken a parser somewhere.
const TOKENS: &[&str] = &[
    "",
    "-1",
    "0",
    "1e9",
    "1e999",
    "-0.0",
    "9223372036854775808",
    "18446744073709551616",
    "4000000000",
    "\"\"",
    "\"1us\"",
    "\"0s\"",
    "\"100000w\"",
    "\"1e6w\"",
    "\"1000000/s\"",
    "\"1e9/s\"",
    "\"-5min\"",
    "\"1.5KB\"",
    "\"\\u0001\"",
    "\"\u{feff}\"",
    "[]",
    "{}",
    "[1, \"a\"]",
    "nan",
    "inf",
    "true",
    "=",
    "\"",
    "#",
    "[[arch]]",
    "[world]",
    "kind = \"mixnet\"",
    "preset = \"nothing\"",
];

/// One edit of a scenario's lines.
#[derive(Clone, Debug)]
enum Edit {
    /// Replace what follows the `=` of line `line` by a token.
    Value { line: usize, token: usize },
    /// Insert a token as a line of its own before line `line`.
    Insert { line: usize, token: usize },
    /// Delete a line.
    Delete { line: usize },
    /// Repeat a line.
    Duplicate { line: usize },
    /// Keep only the first `keep` characters of a line.
    Truncate { line: usize, keep: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    let line = 0usize..200;
    let token = 0..TOKENS.len();
    prop_oneof![
        4 => (line.clone(), token.clone()).prop_map(|(line, token)| Edit::Value { line, token }),
        2 => (line.clone(), token).prop_map(|(line, token)| Edit::Insert { line, token }),
        1 => line.clone().prop_map(|line| Edit::Delete { line }),
        1 => line.clone().prop_map(|line| Edit::Duplicate { line }),
        1 => (line, 0usize..40).prop_map(|(line, keep)| Edit::Truncate { line, keep }),
    ]
}

/// Applies the edits to `text`, line indices taken modulo the number of lines.
fn mutate(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for e in edits {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let n = lines.len();
        match *e {
            Edit::Value { line, token } => {
                let l = &mut lines[line % n];
                if let Some(eq) = l.find('=') {
                    l.truncate(eq + 1);
                    l.push(' ');
                    l.push_str(TOKENS[token]);
                }
            }
            Edit::Insert { line, token } => lines.insert(line % n, TOKENS[token].to_owned()),
            Edit::Delete { line } => {
                lines.remove(line % n);
            }
            Edit::Duplicate { line } => {
                let l = lines[line % n].clone();
                lines.insert(line % n, l);
            }
            Edit::Truncate { line, keep } => {
                let l = &mut lines[line % n];
                let cut = l.char_indices().nth(keep).map_or(l.len(), |(i, _)| i);
                l.truncate(cut);
            }
        }
    }
    lines.join("\n")
}

/// Cases per run: 400, or `NETARCH_FUZZ_CASES`.
fn fuzz_cases() -> u32 {
    std::env::var("NETARCH_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400)
}

proptest! {
    // Loading is fast (no simulation), so a few hundred cases cost about a second;
    // NETARCH_FUZZ_CASES=10000 runs a longer campaign.
    #![proptest_config(ProptestConfig { cases: fuzz_cases(), .. ProptestConfig::default() })]

    #[test]
    fn issue9_mutated_scenarios_never_panic_and_every_error_is_framed(
        which in 0..builtin::BUILTINS.len(),
        edits in proptest::collection::vec(edit(), 1..4),
    ) {
        let text = mutate(builtin::BUILTINS[which].text, &edits);
        let source = Source { file: "fuzz.toml".into(), text: text.clone(), dir: None };
        match parse(&source, &[]) {
            Ok(_) => {}
            Err(ScenarioError::Invalid(diagnostics)) => {
                prop_assert!(!diagnostics.is_empty(), "an invalid scenario has at least one problem");
                for d in &diagnostics {
                    let shown = d.to_string();
                    prop_assert!(
                        d.line.is_some() || !d.key.is_empty(),
                        "an error names neither a line nor a key: {shown}\n--- text ---\n{text}"
                    );
                    prop_assert!(shown.starts_with("fuzz.toml"), "an error names the file: {shown}");
                }
            }
            Err(other) => prop_assert!(false, "unexpected kind of error for a text: {other}"),
        }
    }
}
