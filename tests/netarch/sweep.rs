//! Sweeps (issue 5): points × replicates with derived seeds, byte-identical tables whatever the
//! number of jobs or shards, resume after Ctrl-C, merge of shards run in separate processes,
//! redrawing without re-running, and the `[sweep]` tables of the teaching scenarios.
//!
//! Every sweep here is tiny (three points × two replicates of a 200-user hour) so the whole
//! module runs in seconds.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use netarch::rng::{Purpose, derive_seed};
use netarch::sweep::exec::{ExecOptions, execute};
use netarch::sweep::plan::{Plan, RunId, SweepRequest, resolve};
use netarch::sweep::tidy::flatten;

const TINY: &str = r#"
name = "tiny"
duration = "1h"
cooldown = "30min"
deadline = "1min"
[world]
users = 200
[world.availability]
online = { dist = "exponential", mean = "20min" }
offline = { dist = "exponential", mean = "40min" }
always_online = 0.0
[[arch]]
preset = "signal"
[[arch]]
preset = "briar"
"#;

const VARY: &str = "world.availability.always_online=0,0.5,1";

/// A temporary folder holding the tiny scenario as `tiny.toml`.
fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tiny.toml");
    std::fs::write(&file, TINY).unwrap();
    (dir, file)
}

fn netarch(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netarch")).args(args).current_dir(cwd).output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn read(p: impl AsRef<Path>) -> String {
    std::fs::read_to_string(p.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
}

fn request(file: &Path) -> SweepRequest {
    SweepRequest {
        scenario: file.display().to_string(),
        vary: vec![VARY.into()],
        replicates: Some(2),
        ..Default::default()
    }
}

fn sweep_in_process(plan: &Plan, source: &netarch::scenario::Source, out: &Path, jobs: usize) {
    let opts = ExecOptions { jobs, ..Default::default() };
    let done = execute(plan, source, out, &opts).expect("the sweep runs");
    assert_eq!((done.total, done.ran, done.skipped), (6, 6, 0));
    assert!(done.outputs.is_some(), "an unsharded sweep writes its tables");
}

/// Parsed tidy.csv rows.
fn tidy_rows(folder: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(folder.join("tidy.csv")).unwrap();
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r.records().map(|x| x.unwrap().iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

#[test]
fn one_job_and_two_jobs_give_byte_identical_tables() {
    let (dir, file) = workspace();
    let (plan, source) = resolve(&request(&file)).unwrap();
    let (a, b) = (dir.path().join("jobs1"), dir.path().join("jobs2"));
    sweep_in_process(&plan, &source, &a, 1);
    sweep_in_process(&plan, &source, &b, 2);
    for f in ["tidy.csv", "aggregate.csv", "sweep.json", "report.html", "charts/sweep-delivery_ratio.svg"] {
        assert!(read(a.join(f)) == read(b.join(f)), "{f} differs between --jobs 1 and --jobs 2");
    }
}

#[test]
fn three_shards_in_separate_processes_merge_into_the_unsharded_sweep() {
    let (dir, _) = workspace();
    let cwd = dir.path();
    let base = ["sweep", "tiny.toml", "--vary", VARY, "--replicates", "2", "--quiet"];
    ok(&netarch(&[&base[..], &["--out", "whole"]].concat(), cwd));
    let mut shards = Vec::new();
    for i in 0..3 {
        let out = format!("shard{i}");
        let stdout = ok(&netarch(&[&base[..], &["--shard", &format!("{i}/3"), "--out", &out]].concat(), cwd));
        assert!(stdout.is_empty(), "--quiet prints nothing");
        // A shard holds its share of the runs (runs k with k mod 3 = i) and no tables yet.
        let mut held: Vec<String> = std::fs::read_dir(cwd.join(&out).join("points"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        held.sort();
        let expected: Vec<String> = (0..6u64)
            .filter(|k| k % 3 == i)
            .map(|k| RunId { point: k / 2, replicate: (k % 2) as u32 }.file_name())
            .collect();
        assert_eq!(held, expected, "shard {i}");
        assert!(!cwd.join(&out).join("tidy.csv").exists());
        shards.push(out);
    }

    // Two of three shards are not a sweep: the merge says which shard is missing.
    let partial = netarch(&["merge", &shards[0], &shards[2], "--out", "merged"], cwd);
    assert_eq!(partial.status.code(), Some(2));
    assert!(text(&partial.stderr).contains("shard(s) 1/3"), "{}", text(&partial.stderr));
    assert!(!cwd.join("merged").exists(), "a failed merge leaves nothing behind");

    ok(&netarch(&["merge", &shards[0], &shards[1], &shards[2], "--out", "merged", "-q"], cwd));
    for f in ["tidy.csv", "aggregate.csv", "sweep.json", "points/p0001-r001.json"] {
        assert!(
            read(cwd.join("whole").join(f)) == read(cwd.join("merged").join(f)),
            "{f}: the merge differs from the unsharded sweep"
        );
    }
    assert!(cwd.join("merged/report.html").is_file() && cwd.join("merged/charts/sweep-latency_p95_ms.png").is_file());

    // Shards of another sweep do not merge with these.
    ok(&netarch(
        &[
            "sweep",
            "tiny.toml",
            "--vary",
            VARY,
            "--replicates",
            "2",
            "--seed",
            "9",
            "--shard",
            "1/3",
            "--out",
            "other",
            "-q",
        ],
        cwd,
    ));
    let mixed = netarch(&["merge", &shards[0], "other", &shards[2], "--out", "mixed"], cwd);
    assert_eq!(mixed.status.code(), Some(2));
    assert!(text(&mixed.stderr).contains("different sweep"), "{}", text(&mixed.stderr));
}

#[test]
fn resume_runs_only_the_missing_runs_and_refuses_another_plan() {
    let (dir, _) = workspace();
    let cwd = dir.path();
    let args = ["sweep", "tiny.toml", "--vary", VARY, "--replicates", "2", "--out", "s"];
    ok(&netarch(&[&args[..], &["-q"]].concat(), cwd));
    let whole = read(cwd.join("s/tidy.csv"));
    let kept = cwd.join("s/points/p0000-r000.json");
    let kept_time = std::fs::metadata(&kept).unwrap().modified().unwrap();
    for f in ["points/p0001-r000.json", "points/p0002-r001.json", "tidy.csv"] {
        std::fs::remove_file(cwd.join("s").join(f)).unwrap();
    }

    // Without --resume, an unfinished sweep is not overwritten.
    let refused = netarch(&args, cwd);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("--resume"), "{}", text(&refused.stderr));

    // --resume with other values is another sweep: refused, nothing touched.
    let other = netarch(
        &["sweep", "tiny.toml", "--vary", "world.availability.always_online=0,1", "--out", "s", "--resume"],
        cwd,
    );
    assert_eq!(other.status.code(), Some(2));
    assert!(text(&other.stderr).contains("different sweep"));

    let stdout = ok(&netarch(&[&args[..], &["--resume"]].concat(), cwd));
    assert!(stdout.contains("4 of 6 runs were already done; ran the other 2"), "{stdout}");
    assert_eq!(std::fs::metadata(&kept).unwrap().modified().unwrap(), kept_time, "a finished run is not run again");
    assert!(read(cwd.join("s/tidy.csv")) == whole, "resuming gives the same table as one go");
}

#[cfg(unix)]
#[test]
fn ctrl_c_keeps_finished_runs_and_says_how_to_resume() {
    let (dir, _) = workspace();
    let cwd = dir.path();
    // Enough runs, one at a time, that the signal arrives long before the end.
    let args =
        ["sweep", "tiny.toml", "--vary", "world.users=100:500:10", "--replicates", "3", "--jobs", "1", "--out", "s"];
    let mut child = Command::new(env!("CARGO_BIN_EXE_netarch"))
        .args(args)
        .current_dir(cwd)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let points = cwd.join("s/points");
    let count = || {
        std::fs::read_dir(&points)
            .map(|d| d.filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with('p')).count())
            .unwrap_or(0)
    };
    while count() == 0 {
        assert!(child.try_wait().unwrap().is_none(), "the sweep ended before it could be interrupted");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("resume with: netarch sweep tiny.toml") && stderr.contains("--resume"), "{stderr}");
    let done = count();
    assert!((1..41 * 3).contains(&done), "{done} runs kept");
    let leftovers: Vec<_> = std::fs::read_dir(&points)
        .unwrap()
        .filter(|e| !e.as_ref().unwrap().file_name().to_string_lossy().starts_with('p'))
        .collect();
    assert!(leftovers.is_empty(), "no half-written file is left: {leftovers:?}");
    assert!(!cwd.join("s/tidy.csv").exists(), "an interrupted sweep writes no tables");

    let stdout = ok(&netarch(&[&args[..], &["--resume"]].concat(), cwd));
    assert!(stdout.contains(&format!("{done} of 123 runs were already done")), "{stdout}");
    ok(&netarch(
        &["sweep", "tiny.toml", "--vary", "world.users=100:500:10", "--replicates", "3", "--out", "whole", "-q"],
        cwd,
    ));
    assert!(
        read(cwd.join("s/tidy.csv")) == read(cwd.join("whole/tidy.csv")),
        "an interrupted and resumed sweep equals one in one go"
    );
}

#[test]
fn tidy_has_one_row_per_run_architecture_and_metric_and_aggregates_follow() {
    let (dir, file) = workspace();
    let (plan, source) = resolve(&request(&file)).unwrap();
    let out = dir.path().join("s");
    sweep_in_process(&plan, &source, &out, 2);
    let (header, rows) = tidy_rows(&out);
    assert_eq!(
        header,
        ["point", "replicate", "seed", "world.availability.always_online", "arch", "kind", "metric", "value"]
    );

    // Every numeric leaf of every run file, and nothing else.
    let mut expected = 0;
    for k in 0..plan.runs() {
        let id = plan.run_id(k);
        let doc: serde_json::Value = serde_json::from_str(&read(out.join("points").join(id.file_name()))).unwrap();
        for (a, summary) in doc["architectures"].as_array().unwrap().iter().enumerate() {
            let metrics = flatten(summary);
            let mine: Vec<&Vec<String>> = rows
                .iter()
                .filter(|r| r[0] == id.point.to_string() && r[1] == id.replicate.to_string() && r[4] == plan.archs[a])
                .collect();
            assert_eq!(mine.len(), metrics.len(), "run {k} arch {a}");
            for (row, (m, v)) in mine.iter().zip(&metrics) {
                assert_eq!(&row[6], m);
                assert_eq!(row[7], v.map(|x| format!("{x}")).unwrap_or_default());
                assert_eq!(row[3], ["0", "0.5", "1"][id.point as usize]);
            }
            expected += metrics.len();
        }
    }
    assert_eq!(rows.len(), expected);
    let deliveries = rows.iter().filter(|r| r[6] == "delivery_ratio").count();
    assert_eq!(deliveries, 3 * 2 * 2, "points × replicates × architectures");

    // The aggregate of one group, recomputed here from the tidy rows: a share, so Wilson's
    // score interval at the effective sample size m = p(1 − p)/(s²/2), with t(0.975, 1) for z.
    let values: Vec<f64> = rows
        .iter()
        .filter(|r| r[0] == "0" && r[4] == "briar" && r[6] == "delivered_in_deadline_ratio")
        .map(|r| r[7].parse().unwrap())
        .collect();
    assert_eq!(values.len(), 2);
    let mean = (values[0] + values[1]) / 2.0;
    let sd = ((values[0] - mean).powi(2) + (values[1] - mean).powi(2)).sqrt();
    let z = 12.7062f64;
    let m = mean * (1.0 - mean) / (sd * sd / 2.0);
    let centre = (mean + z * z / (2.0 * m)) / (1.0 + z * z / m);
    let half = z / (1.0 + z * z / m) * (mean * (1.0 - mean) / m + z * z / (4.0 * m * m)).sqrt();
    let (low, high) = ((centre - half).max(0.0), (centre + half).min(1.0));
    let mut agg = csv::Reader::from_path(out.join("aggregate.csv")).unwrap();
    let row = agg
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[0] == "0" && &r[2] == "briar" && &r[4] == "delivered_in_deadline_ratio")
        .expect("an aggregate row");
    let num = |i: usize| row[i].parse::<f64>().unwrap();
    assert_eq!(&row[5], "2");
    assert!((num(6) - mean).abs() < 1e-12);
    assert!(sd > 0.0, "the two replicates differ, so the interval is not a point");
    assert!((num(8) - low).abs() < 1e-3 * half + 1e-12, "{} vs {low}", num(8));
    assert!((num(9) - high).abs() < 1e-3 * half + 1e-12, "{} vs {high}", num(9));
    assert_eq!(&row[10], "wilson");

    // The trend the sweep is for: with everyone always online, Briar delivers everything in
    // time; with nobody always online it cannot (both phones must be online).
    let briar_in_time = |point: &str| -> f64 {
        let v: Vec<f64> = rows
            .iter()
            .filter(|r| r[0] == point && r[4] == "briar" && r[6] == "delivered_in_deadline_ratio")
            .map(|r| r[7].parse().unwrap())
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    assert!(briar_in_time("2") > 0.99, "{}", briar_in_time("2"));
    assert!(briar_in_time("0") < briar_in_time("1") && briar_in_time("1") < briar_in_time("2"));
}

#[test]
fn seeds_depend_on_the_base_seed_point_and_replicate_only() {
    let (_dir, file) = workspace();
    let (two, _) = resolve(&request(&file)).unwrap();
    let (three, _) = resolve(&SweepRequest { replicates: Some(3), ..request(&file) }).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for k in 0..two.runs() {
        let id = two.run_id(k);
        let s = two.seed_of(id);
        assert_eq!(s, derive_seed(1, Purpose::Replicate, (id.point << 32) | id.replicate as u64) >> 1);
        assert!(s < 1 << 63, "a seed `netarch run --seed` accepts");
        assert_eq!(three.seed_of(id), s, "more replicates keep the seeds of the existing ones");
        seen.insert(s);
    }
    assert_eq!(seen.len(), 6, "every run has its own seed");
    let (other, _) = resolve(&SweepRequest { seed: Some(2), ..request(&file) }).unwrap();
    assert_ne!(other.seed_of(RunId { point: 0, replicate: 0 }), two.seed_of(RunId { point: 0, replicate: 0 }));
}

#[test]
fn one_run_of_a_sweep_is_repeated_by_netarch_run() {
    let (dir, file) = workspace();
    let (plan, source) = resolve(&request(&file)).unwrap();
    let out = dir.path().join("s");
    sweep_in_process(&plan, &source, &out, 2);
    let id = RunId { point: 1, replicate: 1 };
    let cmd = plan.run_command(id);
    let words: Vec<&str> = cmd.split(' ').skip(1).collect();
    ok(&netarch(&[&words[..], &["--out", "one", "-q"]].concat(), dir.path()));
    let run: serde_json::Value = serde_json::from_str(&read(dir.path().join("one/results.json"))).unwrap();
    let point: serde_json::Value = serde_json::from_str(&read(out.join("points").join(id.file_name()))).unwrap();
    assert_eq!(run["architectures"], point["architectures"], "`{cmd}` repeats the run");
}

#[test]
fn bad_sweeps_are_refused_before_anything_runs() {
    let (dir, _) = workspace();
    let cwd = dir.path();
    for (args, needle) in [
        (vec!["--vary", "world.usres=1,2"], "usres"),
        (vec!["--vary", "world.users=0,100"], "users"),
        (vec!["--vary", "world.users=1:0:1"], "stops before"),
        (vec!["--vary", VARY, "--shard", "3/3"], "numbered from 0"),
        (vec!["--vary", VARY, "--arch", "nobody"], "signal, briar"),
        (vec![], "nothing to vary"),
    ] {
        let o = netarch(&[&["sweep", "tiny.toml", "--out", "never"][..], &args[..]].concat(), cwd);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains(needle), "{args:?}: {}", text(&o.stderr));
        assert!(!cwd.join("never").exists(), "{args:?}: nothing written");
    }
}

#[test]
fn plot_redraws_sweep_and_run_charts_without_running() {
    let (dir, _) = workspace();
    let cwd = dir.path();
    ok(&netarch(&["sweep", "tiny.toml", "--vary", VARY, "--replicates", "2", "--out", "s", "-q"], cwd));
    let charts: Vec<PathBuf> = std::fs::read_dir(cwd.join("s/charts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "svg" || x == "png" || x == "pdf"))
        .collect();
    assert_eq!(charts.len(), 18, "six default metrics, SVG, PNG and PDF");
    let before: Vec<Vec<u8>> = charts.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let report = read(cwd.join("s/report.html"));
    std::fs::remove_dir_all(cwd.join("s/charts")).unwrap();
    std::fs::remove_file(cwd.join("s/report.html")).unwrap();
    std::fs::remove_dir_all(cwd.join("s/points")).unwrap(); // redrawn from tidy.csv alone
    ok(&netarch(&["plot", "s", "-q"], cwd));
    for (p, b) in charts.iter().zip(&before) {
        assert!(&std::fs::read(p).unwrap() == b, "{} is redrawn identically", p.display());
    }
    assert!(read(cwd.join("s/report.html")) == report);

    // Another metric on request; a metric that no run has is named.
    let o = netarch(&["plot", "s", "--metric", "model.figures.held_at_end", "--metric", "latency.p96_ms"], cwd);
    ok(&o);
    assert!(cwd.join("s/charts/sweep-model_figures_held_at_end.svg").is_file());
    // The charts of the metrics no longer charted are gone (issue 13, item 11); a file netarch
    // did not write stays.
    assert!(charts.iter().all(|p| !p.exists()), "stale charts are removed");
    assert!(text(&o.stderr).contains("latency.p96_ms"), "{}", text(&o.stderr));

    // A run folder, with an adversary so that it has an exposure heatmap: its charts and report
    // come back from results.json, byte for byte.
    std::fs::write(cwd.join("watched.toml"), format!("{TINY}[[adversary]]\nkind = \"global\"\n")).unwrap();
    let stdout = ok(&netarch(&["run", "watched.toml", "--out", "r"], cwd));
    assert!(stdout.contains("summary.csv, latency.csv, exposure.csv"), "the run names exposure.csv: {stdout}");
    let drawn: Vec<PathBuf> = std::fs::read_dir(cwd.join("r"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "svg" || x == "png" || x == "html"))
        .collect();
    for f in ["exposure.svg", "exposure.png", "latency-cdf.svg", "report.html"] {
        assert!(drawn.contains(&cwd.join("r").join(f)), "the run drew {f}");
    }
    let before: Vec<Vec<u8>> = drawn.iter().map(|p| std::fs::read(p).unwrap()).collect();
    drawn.iter().for_each(|p| std::fs::remove_file(p).unwrap());
    let stdout = ok(&netarch(&["plot", "r"], cwd));
    assert!(stdout.contains("report.html"), "{stdout}");
    for (p, b) in drawn.iter().zip(&before) {
        assert!(&std::fs::read(p).unwrap() == b, "{} is redrawn identically", p.display());
    }
    let report = read(cwd.join("r/report.html"));
    assert!(report.contains("netarch run watched.toml --seed 1"), "the report keeps the command that reproduces it");
    // A run without adversaries writes no exposure.csv and does not name one.
    let stdout = ok(&netarch(&["run", "tiny.toml", "--out", "plain"], cwd));
    assert!(!stdout.contains("exposure.csv") && !cwd.join("plain/exposure.csv").exists(), "{stdout}");
    assert_eq!(netarch(&["plot", "."], cwd).status.code(), Some(2), "a folder that is neither is refused");
}

#[test]
fn the_sweep_table_drives_the_sweep_and_the_command_line_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.toml");
    let table = "\n[sweep]\nreplicates = 3\narchs = [\"briar\"]\nset = [\"world.users=150\"]\nmetrics = [\"delivery_ratio\"]\n\
                 vary = [ { key = \"arch.*.poll_max\", values = [\"1min\", \"5min\"] }, { key = \"world.availability.always_online\", range = \"0:0.2:0.1\" } ]\n";
    std::fs::write(&file, format!("{TINY}{table}")).unwrap();
    let req = SweepRequest { scenario: file.display().to_string(), ..Default::default() };
    let plan = resolve(&req).unwrap_or_else(|e| panic!("{e}")).0;
    assert_eq!((plan.points(), plan.replicates, plan.archs.clone()), (6, 3, vec!["briar".to_owned()]));
    assert_eq!(plan.metrics, ["delivery_ratio"]);
    assert_eq!(
        plan.point_sets(5),
        ["world.users=150", "arch.1.poll_max=\"5min\"", "world.availability.always_online=0.2"],
        "arch.* is the selected entries; the second key varies fastest"
    );
    let cli = resolve(&SweepRequest { vary: vec!["world.users=100,200".into()], replicates: Some(1), ..req.clone() })
        .unwrap()
        .0;
    assert_eq!((cli.points(), cli.replicates), (2, 1), "--vary and --replicates replace the table's");
    assert_eq!(cli.sets, ["world.users=150"], "the table's `set` still applies (the varied key comes after it)");
}

#[test]
fn every_builtin_sweep_table_plans_and_checks_out() {
    let mut found = 0;
    for b in netarch::scenario::builtin::BUILTINS {
        let raw: netarch::scenario::schema::RawScenario = toml::from_str(b.text).unwrap();
        if raw.sweep.is_none() {
            continue;
        }
        found += 1;
        let (plan, _) = resolve(&SweepRequest { scenario: b.name.into(), ..Default::default() })
            .unwrap_or_else(|e| panic!("{}: {e}", b.name));
        assert!(plan.vary[0].values.len() >= 4, "{}: a trend needs several points", b.name);
        assert!(plan.replicates >= 3, "{}: confidence intervals need replicates", b.name);
    }
    assert!(found >= 4, "the F4, A4, P2 and A5 scenarios have [sweep] tables (and X1 when mixnet has one)");
}
