//! Inputs named exactly (issue 9 §4): the whole seed range, invalid UTF-8 placed by line and
//! column, `[sweep]` table errors at their file, line and key, numbers in exponent form, the
//! region matrix's limits, and control characters kept out of SVGs, reports and the terminal.
//!
//! Every test runs the binary on files in a temporary folder; every scenario is a 40-user hour,
//! so the module runs in seconds.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TINY: &str =
    "name = \"tiny\"\nduration = \"1h\"\n[world]\nusers = 40\n[[arch]]\nkind = \"centralized\"\nname = \"victim\"\n";

/// A temporary folder holding `tiny.toml` with `text`.
fn workspace(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tiny.toml"), text).unwrap();
    let cwd = dir.path().to_path_buf();
    (dir, cwd)
}

fn netarch(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netarch")).args(args).current_dir(cwd).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "exit {:?}\nstderr:\n{}", o.status.code(), text(&o.stderr));
    text(&o.stdout)
}

/// Asserts a refusal: exit code 2, every needle in stderr, no panic, no raw control character.
fn refused(o: &Output, needles: &[&str]) -> String {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "exit code; stderr:\n{err}");
    for n in needles {
        assert!(err.contains(n), "no `{n}` in:\n{err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert_no_raw_controls("stderr", &err);
    err
}

fn assert_no_raw_controls(what: &str, s: &str) {
    let bad: Vec<char> = s.chars().filter(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')).collect();
    assert!(bad.is_empty(), "{what} has raw control characters {bad:?}");
}

fn seed_of(folder: &Path) -> u64 {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("results.json")).unwrap()).unwrap();
    json["seed"].as_u64().expect("the seed is a u64 in results.json")
}

#[test]
fn issue_9_seeds_take_the_whole_range_0_to_2_pow_64_minus_1_from_the_flag_set_and_file() {
    let (_dir, cwd) = workspace(TINY);
    let max = u64::MAX.to_string();
    ok(&netarch(&["run", "tiny.toml", "--seed", &max, "--out", "flag", "-q"], &cwd));
    assert_eq!(seed_of(&cwd.join("flag")), u64::MAX);
    ok(&netarch(&["run", "tiny.toml", "--set", &format!("seed={max}"), "--out", "set", "-q"], &cwd));
    // In the file: bare (beyond a TOML integer) and as a string of digits.
    std::fs::write(cwd.join("bare.toml"), format!("seed = {max}\n{TINY}")).unwrap();
    std::fs::write(cwd.join("quoted.toml"), format!("seed = \"{max}\"\n{TINY}")).unwrap();
    ok(&netarch(&["run", "bare.toml", "--out", "bare", "-q"], &cwd));
    ok(&netarch(&["run", "quoted.toml", "--out", "quoted", "-q"], &cwd));
    let summary = |f: &str| std::fs::read(cwd.join(f).join("summary.csv")).unwrap();
    for f in ["set", "bare", "quoted"] {
        assert_eq!(seed_of(&cwd.join(f)), u64::MAX, "{f}");
        assert!(summary(f) == summary("flag"), "{f}: the same seed gives the same results");
    }
    // 2^63, the first seed a TOML integer cannot hold, and 0 run too.
    let half = (1u64 << 63).to_string();
    ok(&netarch(&["run", "tiny.toml", "--seed", &half, "--out", "half", "-q"], &cwd));
    assert_eq!(seed_of(&cwd.join("half")), 1 << 63);
    ok(&netarch(&["run", "tiny.toml", "--seed", "0", "--out", "zero", "-q"], &cwd));
    // A sweep's base seed takes the whole range too.
    let plan = ok(&netarch(&["sweep", "tiny.toml", "--vary", "world.users=30,40", "--seed", &max, "--dry-run"], &cwd));
    assert!(plan.contains(&format!("base seed {max}")), "{plan}");

    // Beyond the range, or negative: refused at the seed's line, with no hint about durations.
    std::fs::write(cwd.join("over.toml"), format!("seed = 18446744073709551616\n{TINY}")).unwrap();
    let err = refused(&netarch(&["run", "over.toml", "--out", "never"], &cwd), &["over.toml:1:8", "`seed`", &max]);
    assert!(!err.contains("duration"), "{err}");
    std::fs::write(cwd.join("negative.toml"), format!("seed = -1\n{TINY}")).unwrap();
    let err = refused(&netarch(&["run", "negative.toml", "--out", "never"], &cwd), &["negative.toml:1:", "`seed`"]);
    assert!(!err.contains("duration"), "{err}");
    refused(&netarch(&["run", "tiny.toml", "--set", "seed=18446744073709551616", "--out", "never"], &cwd), &["seed"]);
    assert!(!cwd.join("never").exists());
}

#[test]
fn issue_9_invalid_utf8_names_the_line_and_column_of_the_first_bad_byte() {
    let (_dir, cwd) = workspace(TINY);
    // Latin-1 `é` (0xE9) as the 5th character of line 3.
    let mut bytes = b"name = \"tiny\"\nduration = \"1h\"\n# caf".to_vec();
    bytes.extend_from_slice(b"\xe9 au lait\n");
    bytes.extend_from_slice(TINY.split_once("duration = \"1h\"\n").unwrap().1.as_bytes());
    std::fs::write(cwd.join("latin1.toml"), &bytes).unwrap();
    refused(&netarch(&["run", "latin1.toml", "--out", "never"], &cwd), &["latin1.toml:3:6", "UTF-8", "0xe9"]);

    // The same in a region matrix: its line and column, under the scenario's key.
    std::fs::write(cwd.join("m.csv"), b"region,a,b\na,10,20\nb,2\xff0,10\n").unwrap();
    let with_matrix = TINY.replace("users = 40\n", "users = 40\nregions = { matrix = \"m.csv\" }\n");
    std::fs::write(cwd.join("matrix.toml"), with_matrix).unwrap();
    refused(
        &netarch(&["run", "matrix.toml", "--out", "never"], &cwd),
        &["matrix.toml:5:13", "`world.regions.matrix`", "line 3, column 4", "UTF-8"],
    );
    assert!(!cwd.join("never").exists());
}

const SWEEP_BASE: &str =
    "name = \"tiny\"\nduration = \"1h\"\n[world]\nusers = 40\n[[arch]]\nkind = \"centralized\"\n[sweep]\n";

#[test]
fn issue_9_sweep_table_errors_name_the_file_line_and_key_not_a_flag() {
    let (_dir, cwd) = workspace(TINY);
    for (table, line_col, key) in [
        // A value that fails at a point: the value itself, line 8, column 47.
        ("vary = [{ key = \"world.users\", values = [100, 1] }]\n", "s.toml:8:47", "`sweep.vary[0].values[1]`"),
        ("vary = [{ key = \"world.users\", range = \"1:3:1\" }]\n", "s.toml:8:32", "`sweep.vary[0].range`"),
        ("vary = [{ key = \"world.users\", range = \"3:1:1\" }]\n", "s.toml:8:32", "`sweep.vary[0].range`"),
        ("vary = [{ key = \"world.users\", values = [] }]\n", "s.toml:8:32", "`sweep.vary[0].values`"),
        ("vary = [{ key = \"seed\", values = [1, 2] }]\n", "s.toml:8:11", "`sweep.vary[0].key`"),
        (
            "vary = [{ key = \"world.users\", values = [30] }, { key = \"world.users\", values = [40] }]\n",
            "s.toml:8:",
            "`sweep.vary[1].key`",
        ),
        (
            "set = [\"world.users\"]\nvary = [{ key = \"world.users\", values = [30] }]\n",
            "s.toml:8:8",
            "`sweep.set[0]`",
        ),
        (
            "set = [\"world.jitter=5\"]\nvary = [{ key = \"world.users\", values = [30] }]\n",
            "s.toml:8:8",
            "`sweep.set[0]`",
        ),
        (
            "archs = [\"nobody\"]\nvary = [{ key = \"world.users\", values = [30] }]\n",
            "s.toml:8:10",
            "`sweep.archs[0]`",
        ),
        ("replicates = 0\nvary = [{ key = \"world.users\", values = [30] }]\n", "s.toml:8:1", "`sweep.replicates`"),
    ] {
        std::fs::write(cwd.join("s.toml"), format!("{SWEEP_BASE}{table}")).unwrap();
        let err = refused(&netarch(&["sweep", "s.toml", "--out", "never"], &cwd), &[line_col, key]);
        // Not framed as a flag the user never typed.
        assert!(!err.contains("(value from") && !err.contains("error: --"), "{table}: {err}");
    }
    // The same mistakes on the command line keep the flag's wording.
    std::fs::write(cwd.join("s.toml"), format!("{SWEEP_BASE}vary = [{{ key = \"world.users\", values = [30] }}]\n"))
        .unwrap();
    refused(&netarch(&["sweep", "s.toml", "--vary", "world.users=100,1", "--out", "never"], &cwd), &["--vary"]);
    refused(&netarch(&["sweep", "s.toml", "--set", "world.users", "--out", "never"], &cwd), &["--set world.users"]);
    refused(&netarch(&["sweep", "s.toml", "--arch", "nobody", "--out", "never"], &cwd), &["--arch nobody"]);
    assert!(!cwd.join("never").exists());
}

#[test]
fn issue_9_numbers_in_exponent_form_are_read_where_units_are_and_refused_by_name_elsewhere() {
    let (_dir, cwd) = workspace(TINY);
    let exp = TINY.replace("duration = \"1h\"", "duration = \"3.6e3s\"\ndeadline = \"6e4ms\"")
        + "[world.workload]\nrate = \"6e0/h\"\nsize = { dist = \"constant\", value = \"1e3B\" }\n";
    let plain = TINY.replace("duration = \"1h\"", "duration = \"1h\"\ndeadline = \"1min\"")
        + "[world.workload]\nrate = \"6/h\"\nsize = { dist = \"constant\", value = \"1KB\" }\n";
    std::fs::write(cwd.join("exp.toml"), exp).unwrap();
    std::fs::write(cwd.join("plain.toml"), plain).unwrap();
    ok(&netarch(&["run", "exp.toml", "--out", "exp", "-q"], &cwd));
    ok(&netarch(&["run", "plain.toml", "--out", "plain", "-q"], &cwd));
    let summary = |f: &str| std::fs::read(cwd.join(f).join("summary.csv")).unwrap();
    assert!(summary("exp") == summary("plain"), "1e3B is 1KB, 3.6e3s is 1h: the same run");
    // A count in exponent form is a TOML float: refused, saying to write it in digits.
    std::fs::write(cwd.join("count.toml"), TINY.replace("users = 40", "users = 4e1")).unwrap();
    refused(&netarch(&["run", "count.toml", "--out", "never"], &cwd), &["count.toml:4:1", "`world.users`", "exponent"]);
    refused(&netarch(&["run", "tiny.toml", "--set", "world.users=4e1", "--out", "never"], &cwd), &["exponent"]);
}

/// A matrix of `n` regions named a, r1, r2, ... with every cell 10 ms.
fn square(n: usize) -> String {
    let names: Vec<String> = (0..n).map(|i| if i == 0 { "a".into() } else { format!("r{i}") }).collect();
    let mut text = format!("region,{}\n", names.join(","));
    for name in &names {
        text.push_str(&format!("{name},{}\n", vec!["10"; n].join(",")));
    }
    text
}

#[test]
fn issue_9_region_matrix_limits_are_checked_with_clear_errors() {
    let (_dir, cwd) = workspace(TINY);
    let scenario = TINY.replace("users = 40\n", "users = 40\nregions = { matrix = \"m.csv\" }\n") + "region = \"a\"\n";
    std::fs::write(cwd.join("m.toml"), scenario).unwrap();
    let check = |csv: &str| {
        std::fs::write(cwd.join("m.csv"), csv).unwrap();
        netarch(&["check", "m.toml"], &cwd)
    };
    ok(&check(&square(255)));
    for (csv, needles) in [
        (square(256), &["line 1", "256 regions", "1 to 255"][..]),
        ("region,a,b,a\na,1,2,3\nb,1,2,3\na,1,2,3\n".to_owned(), &["line 1, column 4", "`a` is named twice"][..]),
        ("region,a,b\na,1,2,3\nb,1,2\n".to_owned(), &["line 2", "3 cells", "the header 2"][..]),
        ("region,a,b\na,1,2\nb,1,2\nc,1,2\n".to_owned(), &["line 4", "beyond the 2 regions"][..]),
        ("region,\"a,b\"\n".to_owned(), &["line 1, column 2", "double quotes"][..]),
        ("regions,a\na,1\n".to_owned(), &["line 1", "header row `region,"][..]),
    ] {
        let mut all = vec!["m.toml:5:13", "`world.regions.matrix`"];
        all.extend_from_slice(needles);
        refused(&check(&csv), &all);
    }
    // A byte-order mark and a quoted header, as spreadsheets write them, read like plain CSV.
    let out = ok(&check("\u{feff}\"region\",\"a\",\"b\"\r\n\"a\",10,20\r\n\"b\",20,10\r\n"));
    assert!(out.starts_with("ok:"), "{out}");
}

#[test]
fn issue_9_control_characters_never_reach_an_svg_the_report_or_the_terminal() {
    let (_dir, cwd) = workspace(TINY);
    // In a scenario: refused at the key, with the character shown as an escape.
    std::fs::write(cwd.join("ctl.toml"), TINY.replace("\"victim\"", "\"vic\\u0001tim\"")).unwrap();
    refused(&netarch(&["run", "ctl.toml", "--out", "never"], &cwd), &["ctl.toml:7:1", "`arch[0].name`", "U+0001"]);
    std::fs::write(cwd.join("esc.toml"), format!("title = \"a\\u001b[31mred\"\n{TINY}")).unwrap();
    refused(&netarch(&["run", "esc.toml", "--out", "never"], &cwd), &["esc.toml:1:1", "`title`", "U+001B"]);
    assert!(!cwd.join("never").exists());

    // In a results.json edited by hand: `netarch plot` still writes well-formed SVG and a report
    // and prints no raw control character.
    ok(&netarch(&["run", "tiny.toml", "--out", "r", "-q"], &cwd));
    let json = std::fs::read_to_string(cwd.join("r/results.json")).unwrap();
    assert!(json.contains("victim"));
    std::fs::write(cwd.join("r/results.json"), json.replace("victim", "vic\\u0001\\u001b[31mtim")).unwrap();
    let o = netarch(&["plot", "r"], &cwd);
    let stdout = ok(&o);
    assert_no_raw_controls("stdout", &stdout);
    assert_no_raw_controls("stderr", &text(&o.stderr));
    let svgs: Vec<PathBuf> = std::fs::read_dir(cwd.join("r"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "svg"))
        .collect();
    assert!(svgs.len() >= 3, "{svgs:?}");
    for svg in &svgs {
        let xml = std::fs::read_to_string(svg).unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{} is not XML 1.0: {e}", svg.display()));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
    }
    let legend = std::fs::read_to_string(cwd.join("r/latency-cdf.svg")).unwrap();
    assert!(legend.contains("vic\\u{1}\\u{1b}[31mtim"), "the label is shown with escapes");
    let report = std::fs::read_to_string(cwd.join("r/report.html")).unwrap();
    assert_no_raw_controls("report.html", &report);
    assert!(report.contains("vic\\u{1}\\u{1b}[31mtim"));
}
