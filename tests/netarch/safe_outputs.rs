//! Safe outputs (issue 9 §1 and §2): `--out` never deletes or moves what netarch did not write,
//! a destination is checked before anything is simulated, two writers of one folder do not both
//! win, a closed pipe ends a command quietly, an edited `sweep.json` is refused as bad input, and
//! `results.json` describes what ran.
//!
//! Every test runs the binary in its own temporary folder on a tiny scenario.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const TINY: &str = r#"
name = "tiny"
duration = "20min"
cooldown = "10min"
[world]
users = 40
[[arch]]
preset = "signal"
"#;

/// A temporary folder holding `tiny.toml` and a user's notes, which no test may lose.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tiny.toml"), TINY).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "my notes").unwrap();
    dir
}

fn netarch(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netarch")).args(args).current_dir(cwd).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(o.status.success(), "exit {:?}\n{}", o.status.code(), stderr(o));
}

/// The refusal every unsafe destination gets: exit 2, the path named, a way forward, no panic.
fn assert_refused(o: &Output, what: &str) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(2), "exit code; stderr:\n{e}");
    assert!(e.contains(what), "the message says what is there ({what}):\n{e}");
    assert!(e.contains("--out"), "the message says how to proceed:\n{e}");
    assert!(!e.contains("panicked"), "{e}");
}

/// Names in a folder, sorted, hidden ones included.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn issue9_run_into_a_users_folder_keeps_every_file() {
    let dir = workspace();
    let cwd = dir.path();
    std::fs::create_dir(cwd.join("somefolder")).unwrap();
    std::fs::write(cwd.join("somefolder/data.csv"), "a,b").unwrap();
    let o = netarch(&["run", "tiny.toml", "--out", "somefolder", "-q"], cwd);
    assert_refused(&o, "data.csv");
    assert_eq!(names(&cwd.join("somefolder")), ["data.csv"]);
    assert_eq!(names(cwd), ["notes.txt", "somefolder", "tiny.toml"], "nothing hidden left behind");
}

#[test]
fn issue9_run_into_the_working_folder_deletes_nothing() {
    let dir = workspace();
    let cwd = dir.path();
    let here = cwd.canonicalize().unwrap();
    let o = netarch(&["run", "tiny.toml", "--out", here.to_str().unwrap(), "-q"], cwd);
    assert_refused(&o, "folder netarch runs in");
    assert_eq!(names(cwd), ["notes.txt", "tiny.toml"]);
    for dot in [".", ".."] {
        assert_refused(&netarch(&["run", "tiny.toml", "--out", dot, "-q"], cwd), "give a new folder");
    }
    assert_eq!(std::fs::read_to_string(cwd.join("notes.txt")).unwrap(), "my notes");
}

#[test]
fn issue9_a_file_is_never_moved_and_later_runs_still_work() {
    let dir = workspace();
    let cwd = dir.path();
    for _ in 0..2 {
        let o = netarch(&["run", "tiny.toml", "--out", "notes.txt", "-q"], cwd);
        assert_refused(&o, "is a file");
        assert_eq!(names(cwd), ["notes.txt", "tiny.toml"], "no hidden copy of the file");
    }
    assert_refused(
        &netarch(&["sweep", "tiny.toml", "--vary", "world.users=20,30", "-r", "1", "--out", "notes.txt", "-q"], cwd),
        "is a file",
    );
    assert_eq!(std::fs::read_to_string(cwd.join("notes.txt")).unwrap(), "my notes");
}

#[test]
fn issue9_a_run_folder_is_replaced_by_a_run_and_nothing_else_is() {
    let dir = workspace();
    let cwd = dir.path();
    assert_ok(&netarch(&["run", "tiny.toml", "--out", "r", "-q"], cwd));
    let first = std::fs::read(cwd.join("r/results.json")).unwrap();
    assert_ok(&netarch(&["run", "tiny.toml", "--out", "r", "--seed", "5", "-q"], cwd));
    assert_ne!(std::fs::read(cwd.join("r/results.json")).unwrap(), first, "the run folder was replaced");
    assert_eq!(names(cwd), ["notes.txt", "r", "tiny.toml"], "no temporary, old folder or lock left");

    // A user's file inside a run folder makes it theirs: it is no longer replaced.
    std::fs::write(cwd.join("r/my-analysis.py"), "print(1)").unwrap();
    assert_refused(&netarch(&["run", "tiny.toml", "--out", "r", "-q"], cwd), "my-analysis.py");
    assert!(cwd.join("r/my-analysis.py").is_file() && cwd.join("r/results.json").is_file());
}

#[test]
fn issue9_a_run_never_replaces_a_sweep_and_a_merge_never_replaces_its_shards() {
    let dir = workspace();
    let cwd = dir.path();
    let sweep = ["sweep", "tiny.toml", "--vary", "world.users=20,30", "-r", "1", "-q"];
    assert_ok(&netarch(&[&sweep[..], &["--out", "sw"]].concat(), cwd));
    assert_refused(&netarch(&["run", "tiny.toml", "--out", "sw", "-q"], cwd), "sweep");
    assert!(cwd.join("sw/sweep.json").is_file() && cwd.join("sw/points").is_dir());

    // An unfinished sweep (one run file removed) is never replaced by a run or a merge.
    let first_run = std::fs::read_dir(cwd.join("sw/points")).unwrap().next().unwrap().unwrap().path();
    std::fs::remove_file(&first_run).unwrap();
    assert_refused(&netarch(&["run", "tiny.toml", "--out", "sw", "-q"], cwd), "sweep");
    assert!(cwd.join("sw/sweep.json").is_file());

    // Shards in one parent folder, with the job script beside them.
    std::fs::create_dir(cwd.join("job")).unwrap();
    std::fs::write(cwd.join("job/run.sbatch"), "#!/bin/sh").unwrap();
    for i in 0..2 {
        let out = format!("job/shard-{i}");
        assert_ok(&netarch(&[&sweep[..], &["--shard", &format!("{i}/2"), "--out", &out]].concat(), cwd));
    }
    let o = netarch(&["merge", "job/shard-0", "job/shard-1", "--out", "job", "-q"], cwd);
    assert_refused(&o, "run.sbatch");
    assert_eq!(names(&cwd.join("job")), ["run.sbatch", "shard-0", "shard-1"]);
    assert_refused(&netarch(&["merge", "job/shard-0", "job/shard-1", "--out", "sw", "-q"], cwd), "unfinished sweep");

    // A finished merged sweep is replaced by the same merge.
    assert_ok(&netarch(&["merge", "job/shard-0", "job/shard-1", "--out", "merged", "-q"], cwd));
    let tidy = std::fs::read(cwd.join("merged/tidy.csv")).unwrap();
    assert_ok(&netarch(&["merge", "job/shard-0", "job/shard-1", "--out", "merged", "-q"], cwd));
    assert_eq!(std::fs::read(cwd.join("merged/tidy.csv")).unwrap(), tidy);
    // ... but not by a run.
    assert_refused(&netarch(&["run", "tiny.toml", "--out", "merged", "-q"], cwd), "sweep");
}

#[test]
fn issue9_stale_temporaries_of_a_killed_run_are_no_reason_to_fail() {
    let dir = workspace();
    let cwd = dir.path();
    // What a run killed mid-write leaves: its temporary and backup folders and its lock, under a
    // process id that no longer runs (Linux ids stay far below this).
    let dead = u32::MAX - 7;
    std::fs::create_dir(cwd.join(format!(".r.tmp-{dead}"))).unwrap();
    std::fs::write(cwd.join(format!(".r.tmp-{dead}/results.json")), "{").unwrap();
    std::fs::create_dir(cwd.join(format!(".r.old-{dead}"))).unwrap();
    std::fs::write(cwd.join(".r.lock"), format!("{dead}\n")).unwrap();
    assert_ok(&netarch(&["run", "tiny.toml", "--out", "r", "-q"], cwd));
    assert_eq!(names(cwd), ["notes.txt", "r", "tiny.toml"]);
}

#[test]
fn issue9_an_unwritable_destination_fails_before_simulating() {
    let dir = workspace();
    let cwd = dir.path();
    // A path under a file cannot be created, whoever runs the test (root included). The run
    // would simulate for minutes; the refusal comes first, with nothing staged.
    let o = netarch(&["run", "tiny.toml", "--out", "notes.txt/run", "--set", "world.users=200000", "-q"], cwd);
    assert_refused(&o, "cannot be written");
    assert_eq!(names(cwd), ["notes.txt", "tiny.toml"]);
}

#[test]
fn issue9_two_runs_to_one_folder_one_wins_whole_the_other_fails_clearly() {
    let dir = workspace();
    let cwd = dir.path();
    // A run long enough that the second starts while the first simulates.
    let sets = ["--set", "world.users=3000", "--set", "duration=2h"];
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_netarch"))
            .args([&["run", "tiny.toml", "--out", "r", "-q"][..], &sets[..]].concat())
            .current_dir(cwd)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut first = spawn();
    // Wait until the first has taken the destination's lock, then start the second.
    while !cwd.join(".r.lock").exists() {
        if let Some(status) = first.try_wait().unwrap() {
            panic!("the first run ended early: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let second = spawn().wait_with_output().unwrap();
    let first_status = first.wait().unwrap();
    let mut first_err = String::new();
    first.stderr.take().unwrap().read_to_string(&mut first_err).unwrap();
    assert!(first_status.success(), "the first run wins: {first_err}");
    assert_refused(&second, "another netarch process");
    // The folder is the first run's, whole.
    let results = std::fs::read_to_string(cwd.join("r/results.json")).unwrap();
    assert!(results.contains("\"netarch_version\""));
    assert!(cwd.join("r/report.html").is_file());
    assert_eq!(names(cwd), ["notes.txt", "r", "tiny.toml"]);
}

/// Runs `args` with the reading end of standard output closed before the command writes
/// anything, as `| head -1` does once it has its line: every write meets a closed pipe.
fn with_stdout_closed(args: &[&str], cwd: &Path) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netarch"))
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (out.status.code(), stderr(&out))
}

#[test]
fn issue9_a_closed_pipe_ends_a_command_quietly() {
    let dir = workspace();
    let cwd = dir.path();
    for args in [
        &["schema"][..],
        &["completions", "bash"],
        &["list"],
        &["explain", "default"],
        &["check", "tiny.toml"],
        &["run", "tiny.toml", "--out", "r"],
    ] {
        let (code, err) = with_stdout_closed(args, cwd);
        assert_eq!(code, Some(0), "{args:?}: a quiet exit, not a panic\n{err}");
        assert!(err.is_empty(), "{args:?} printed nothing on stderr: {err}");
    }
    assert!(cwd.join("r/report.html").is_file(), "the run's folder is whole though its table was not read");
}

#[test]
fn issue9_an_edited_sweep_json_is_refused_as_bad_input() {
    let dir = workspace();
    let cwd = dir.path();
    assert_ok(&netarch(&["sweep", "tiny.toml", "--vary", "world.users=20,30", "-r", "1", "--out", "sw", "-q"], cwd));
    let plan = std::fs::read_to_string(cwd.join("sw/sweep.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&plan).unwrap();
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 3] = [
        ("plan.vary", |d| d["plan"]["vary"] = serde_json::json!([])),
        ("plan.vary[0].values", |d| d["plan"]["vary"][0]["values"] = serde_json::json!([])),
        ("plan.replicates", |d| d["plan"]["replicates"] = serde_json::json!(0)),
    ];
    for (key, edit) in edits {
        let mut d = doc.clone();
        edit(&mut d);
        std::fs::write(cwd.join("sw/sweep.json"), serde_json::to_string_pretty(&d).unwrap()).unwrap();
        for args in [&["plot", "sw"][..], &["merge", "sw", "--out", "m"]] {
            let o = netarch(args, cwd);
            let e = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?} with {key} edited: {e}");
            assert!(e.contains("sweep.json") && e.contains(key), "{args:?}: names the file and key:\n{e}");
            assert!(!e.contains("panicked"), "{e}");
        }
    }
    assert!(!cwd.join("m").exists());
}

#[test]
fn issue9_merge_of_a_missing_or_foreign_folder_or_a_corrupt_shard_is_bad_input() {
    let dir = workspace();
    let cwd = dir.path();
    for (folder, what) in [("nowhere", "does not exist"), ("notes.txt", "not a folder"), (".", "no sweep.json")] {
        let o = netarch(&["merge", folder, "--out", "m"], cwd);
        assert_eq!(o.status.code(), Some(2), "{folder}: {}", stderr(&o));
        assert!(stderr(&o).contains(what), "{folder}: {}", stderr(&o));
    }
    let sweep = ["sweep", "tiny.toml", "--vary", "world.users=20,30", "-r", "1", "-q"];
    for i in 0..2 {
        assert_ok(&netarch(&[&sweep[..], &["--shard", &format!("{i}/2"), "--out", &format!("s{i}")]].concat(), cwd));
    }
    let run = std::fs::read_dir(cwd.join("s1/points")).unwrap().next().unwrap().unwrap().path();
    std::fs::write(&run, "{\"netarch_version\": 3}").unwrap();
    let o = netarch(&["merge", "s0", "s1", "--out", "m"], cwd);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let shown = run.strip_prefix(cwd).unwrap().display().to_string();
    assert!(stderr(&o).contains(&shown), "names the shard's own file {shown}:\n{}", stderr(&o));
    assert!(!stderr(&o).contains(".tmp-"), "not a temporary path:\n{}", stderr(&o));
    assert!(!cwd.join("m").exists());
}

#[test]
fn issue9_results_json_describes_only_the_architectures_that_ran() {
    let dir = workspace();
    let cwd = dir.path();
    assert_ok(&netarch(
        &[
            "run",
            "default",
            "--arch",
            "briar",
            "--set",
            "world.users=300",
            "--set",
            "duration=20min",
            "--set",
            "warmup=0s",
            "--set",
            "cooldown=10min",
            "--out",
            "r",
            "-q",
        ],
        cwd,
    ));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cwd.join("r/results.json")).unwrap()).unwrap();
    let echoed: Vec<&str> =
        doc["scenario"]["arch"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    let ran: Vec<&str> = doc["architectures"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(ran, ["briar"]);
    assert_eq!(echoed, ran, "the scenario echo lists what ran, not the file's other architectures");
}

#[test]
fn issue9_an_error_to_a_closed_stderr_keeps_its_exit_code() {
    let dir = workspace();
    let cwd = dir.path();
    std::fs::write(cwd.join("bad.toml"), "name = \"t\"\nduration = \"1h\"\n[world]\nusers = 0\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_netarch"))
        .args(["run", "bad.toml", "--out", "r"])
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reading end of stderr closes before the error is written, as `2>&1 | head -0` does.
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(2), "bad input, not a panic (101)");
}
