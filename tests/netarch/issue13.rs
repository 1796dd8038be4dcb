//! The smaller items of issue 13 (item 11), each through the binary: `arch.*` and naming an
//! entry by its preset's kind in `run --set`, `sweep --no-adversaries`, stale charts after
//! `plot --metric`, scenario names in completions, every chart listed after a run, a preset run's
//! title.

use std::path::Path;
use std::process::{Command, Output};

const TWO: &str = r#"
name = "two"
duration = "20min"
cooldown = "10min"
[world]
users = 40
[[arch]]
preset = "signal"
[[arch]]
preset = "signal"
name = "other"
[[adversary]]
kind = "global"
"#;

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("two.toml"), TWO).unwrap();
    dir
}

fn netarch(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netarch")).args(args).current_dir(cwd).output().unwrap()
}

fn ok(o: &Output) -> String {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(o.status.success(), "exit {:?}\n{}\n{}", o.status.code(), text(&o.stdout), text(&o.stderr));
    text(&o.stdout)
}

fn resolved_archs(folder: &Path) -> Vec<serde_json::Value> {
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(folder.join("results.json")).unwrap()).unwrap();
    doc["scenario"]["arch"].as_array().unwrap().clone()
}

#[test]
fn issue13_run_set_takes_arch_star_like_a_sweep_and_names_entries_by_kind() {
    let dir = workspace();
    let cwd = dir.path();
    ok(&netarch(&["run", "two.toml", "--set", "arch.*.retention=1h", "--out", "star", "-q"], cwd));
    let each = ["--set", "arch.0.retention=1h", "--set", "arch.1.retention=1h"];
    ok(&netarch(&[&["run", "two.toml", "--out", "each", "-q"][..], &each[..]].concat(), cwd));
    ok(&netarch(&["run", "two.toml", "--out", "plain", "-q"], cwd));
    let star = resolved_archs(&cwd.join("star"));
    assert_eq!(star, resolved_archs(&cwd.join("each")), "arch.* is every entry by index");
    assert_ne!(star, resolved_archs(&cwd.join("plain")), "and it changed something");
    // With --arch, only the chosen entries are set (as in a sweep).
    ok(&netarch(&["run", "two.toml", "--set", "arch.*.retention=1h", "--arch", "other", "--out", "one", "-q"], cwd));
    let one = resolved_archs(&cwd.join("one"));
    assert_eq!(one.len(), 1);
    assert_eq!(one[0], star[1], "the chosen entry got the value");
    // Two centralized entries: naming the kind is ambiguous, and the error lists both labels.
    let o = netarch(&["run", "two.toml", "--set", "arch.centralized.retention=1h", "--out", "x"], cwd);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("(signal)") && err.contains("(other)"), "{err}");
    // The default scenario has one centralized entry (a preset): its kind names it.
    ok(&netarch(&["check", "default", "--set", "arch.centralized.retention=1h"], cwd));
}

#[test]
fn issue13_sweep_has_no_adversaries_like_run() {
    let dir = workspace();
    let cwd = dir.path();
    let args = ["sweep", "two.toml", "--vary", "world.users=30,40", "-r", "1", "--metric", "delivery_ratio"];
    ok(&netarch(&[&args[..], &["--out", "with", "-q"]].concat(), cwd));
    ok(&netarch(&[&args[..], &["--no-adversaries", "--out", "without", "-q"]].concat(), cwd));
    let tidy = |f: &str| std::fs::read_to_string(cwd.join(f).join("tidy.csv")).unwrap();
    assert!(tidy("with").contains(",exposure."), "the adversary's figures are in the sweep");
    assert!(!tidy("without").contains(",exposure."), "no exposure analysis with --no-adversaries");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cwd.join("without/sweep.json")).unwrap()).unwrap();
    let plan = plan.get("plan").unwrap_or(&plan);
    assert_eq!(plan["no_adversaries"], true, "the plan records it: {plan}");
}

#[test]
fn issue13_plot_metric_removes_only_its_own_stale_charts() {
    let dir = workspace();
    let cwd = dir.path();
    let args = ["sweep", "two.toml", "--vary", "world.users=30,40", "-r", "1", "--metric", "delivery_ratio"];
    ok(&netarch(&[&args[..], &["--out", "s", "-q"]].concat(), cwd));
    let charts = cwd.join("s/charts");
    for ext in ["svg", "png", "pdf"] {
        assert!(charts.join(format!("sweep-delivery_ratio.{ext}")).is_file(), "{ext}");
    }
    ok(&netarch(&["plot", "s", "--metric", "latency.p50_ms", "-q"], cwd));
    assert!(charts.join("sweep-latency_p50_ms.svg").is_file());
    for ext in ["svg", "png", "pdf"] {
        assert!(!charts.join(format!("sweep-delivery_ratio.{ext}")).exists(), "stale {ext} removed");
    }
    // A chart-like file netarch did not write (not in its list) is never removed.
    std::fs::write(charts.join("sweep-mine.svg"), "<svg/>").unwrap();
    ok(&netarch(&["plot", "s", "--metric", "delivery_ratio", "-q"], cwd));
    assert!(charts.join("sweep-mine.svg").is_file());
    assert!(!charts.join("sweep-latency_p50_ms.svg").exists());
}

#[test]
fn issue13_completions_offer_scenario_names_and_a_path_still_runs() {
    let dir = workspace();
    let bash = ok(&netarch(&["completions", "bash"], dir.path()));
    for name in ["provider-outage", "default", "signal"] {
        assert!(bash.contains(name), "bash completions offer {name}");
    }
    let help = ok(&netarch(&["run", "--help"], dir.path()));
    assert!(!help.contains("possible values"), "help does not pretend only names are allowed");
}

#[test]
fn issue13_a_run_lists_every_chart_and_a_preset_run_has_its_title() {
    let dir = workspace();
    let cwd = dir.path();
    let out = ok(&netarch(&["run", "two.toml", "--out", "r"], cwd));
    for stem in ["latency-cdf", "delivery", "cost", "exposure"] {
        assert!(out.contains(&format!("{stem}.{{svg,png,pdf}}")), "{stem} listed:\n{out}");
        for ext in ["svg", "png", "pdf"] {
            assert!(cwd.join("r").join(format!("{stem}.{ext}")).is_file(), "{stem}.{ext} written");
        }
    }
    let small = ["--set", "world.users=40", "--set", "duration=20min", "--set", "warmup=0s", "--set", "cooldown=10min"];
    let out = ok(&netarch(&[&["run", "signal", "--out", "p"][..], &small[..]].concat(), cwd));
    // The header may wrap at the terminal's width: compare with whitespace collapsed.
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    let preset = netarch::scenario::presets::find("signal").unwrap().title;
    let preset = preset.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(!preset.is_empty() && flat.starts_with(&format!("signal (seed 1): {preset}")), "{out}");
}
