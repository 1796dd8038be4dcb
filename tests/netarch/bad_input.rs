//! Bad input: exit code 2, a message naming file, line and key, no panic, no output (issue 2).

use std::path::Path;
use std::process::Command;

const GOOD: &str =
    "name = \"t\"\nduration = \"1h\"\n\n[world]\nusers = 50\n\n[[arch]]\nkind = \"centralized\"\nservers = 2\n";

struct Outcome {
    code: Option<i32>,
    stderr: String,
    out_exists: bool,
}

fn run_cli(text: &str, extra: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_netarch"))
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .args(extra)
        .output()
        .unwrap();
    Outcome {
        code: output.status.code(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        out_exists: out.exists() || leftovers(dir.path()),
    }
}

/// Anything but the scenario file left in the folder (a temporary output folder, say).
fn leftovers(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().any(|e| e.unwrap().file_name() != "scenario.toml")
}

fn assert_rejected(text: &str, line: usize, key: &str) {
    let o = run_cli(text, &[]);
    assert_eq!(o.code, Some(2), "exit code; stderr:\n{}", o.stderr);
    assert!(o.stderr.contains(&format!("scenario.toml:{line}:")), "no line {line} in:\n{}", o.stderr);
    assert!(o.stderr.contains(&format!("`{key}`")), "no key `{key}` in:\n{}", o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    assert!(!o.out_exists, "output left behind");
}

#[test]
fn the_good_file_runs() {
    let o = run_cli(GOOD, &["--quiet"]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.out_exists);
}

#[test]
fn unknown_key() {
    assert_rejected(&GOOD.replace("servers = 2", "servers = 2\nserverz = 3"), 10, "arch[0].serverz");
    assert_rejected(&GOOD.replace("users = 50", "users = 50\nusres = 3"), 6, "world.usres");
}

#[test]
fn wrong_type() {
    assert_rejected(&GOOD.replace("users = 50", "users = \"many\""), 5, "world.users");
    assert_rejected(&GOOD.replace("duration = \"1h\"", "duration = 3600"), 2, "duration");
}

#[test]
fn missing_required_key() {
    let o = run_cli(&GOOD.replace("duration = \"1h\"\n", ""), &[]);
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("duration"), "{}", o.stderr);
    assert!(o.stderr.contains("scenario.toml"), "{}", o.stderr);
}

#[test]
fn impossible_values() {
    // A negative rate, a probability above 1, zero servers, a negative retention.
    assert_rejected(
        &format!("{GOOD}\n[world.workload]\nrate = \"-1/h\"\n").replace("[world]\nusers = 50\n", ""),
        10,
        "world.workload.rate",
    );
    assert_rejected(
        &GOOD.replace("users = 50", "users = 50\n[world.availability]\nalways_online = 1.5"),
        7,
        "world.availability.always_online",
    );
    assert_rejected(&GOOD.replace("servers = 2", "servers = 0"), 9, "arch[0].servers");
    assert_rejected(&GOOD.replace("servers = 2", "retention = \"-2d\""), 9, "arch[0].retention");
}

#[test]
fn size_beyond_the_machine() {
    assert_rejected(&GOOD.replace("users = 50", "users = 4000000000"), 5, "world.users");
}

#[test]
fn syntax_error_names_the_line() {
    let o = run_cli(&GOOD.replace("servers = 2", "servers = = 2"), &[]);
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("scenario.toml:9:"), "{}", o.stderr);
}

#[test]
fn unreadable_file() {
    let output = Command::new(env!("CARGO_BIN_EXE_netarch")).args(["run", "/nonexistent/x.toml"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/x.toml"), "{stderr}");
    let output = Command::new(env!("CARGO_BIN_EXE_netarch")).args(["run", "no-such-scenario"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("hint"), "a hint lists the built-in names");
}

#[test]
fn bad_set_override() {
    let o = run_cli(GOOD, &["--set", "world.users=0"]);
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("--set") && o.stderr.contains("world.users"), "{}", o.stderr);
    let o = run_cli(GOOD, &["--set", "nonsense"]);
    assert_eq!(o.code, Some(2));
}
