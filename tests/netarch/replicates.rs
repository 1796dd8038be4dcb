//! `netarch run --replicates`, `netarch compare` and `netarch run --trace` (issue 13 items 7 and 9).
//! Replicates: the replicates are a sweep's point 0 (same
//! seeds, same tables), byte-identical whatever `--jobs`, and the folder holds replicate 0's
//! usual files, which a plain `netarch run --seed` repeats.

use std::path::Path;
use std::process::{Command, Output};

use netarch::rng::{Purpose, derive_seed};

const TINY: &str = r#"
name = "tiny"
seed = 9
duration = "1h"
cooldown = "30min"
deadline = "1min"
[world]
users = 150
[world.availability]
online = { dist = "exponential", mean = "20min" }
offline = { dist = "exponential", mean = "40min" }
always_online = 0.0
[[arch]]
preset = "signal"
[[arch]]
preset = "briar"
"#;

fn netarch(args: &[&str], cwd: &Path) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_netarch")).args(args).current_dir(cwd).output().unwrap();
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    o
}

fn read(p: impl AsRef<Path>) -> Vec<u8> {
    std::fs::read(p.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
}

#[test]
fn replicates_are_a_sweeps_point_and_do_not_depend_on_jobs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tiny.toml"), TINY).unwrap();
    let run = |out: &str, jobs: &str| netarch(&["run", "tiny.toml", "-r", "3", "-j", jobs, "--out", out], dir.path());
    let stdout = String::from_utf8_lossy(&run("a", "1").stdout).into_owned();
    run("b", "3");
    for f in [
        "tidy.csv",
        "aggregate.csv",
        "replicates.json",
        "latency-cdf-replicates.svg",
        "latency-cdf-replicates.pdf",
        "results.json",
        "report.html",
    ] {
        assert_eq!(read(dir.path().join("a").join(f)), read(dir.path().join("b").join(f)), "{f} differs with --jobs");
    }
    // Seeds as a sweep derives them for point 0 (docs/sweeps.md), one row set per replicate.
    let tidy = String::from_utf8(read(dir.path().join("a/tidy.csv"))).unwrap();
    let mut seeds: Vec<u64> = tidy.lines().skip(1).map(|l| l.split(',').nth(2).unwrap().parse().unwrap()).collect();
    seeds.dedup();
    let expected: Vec<u64> = (0..3).map(|r| derive_seed(9, Purpose::Replicate, r) >> 1).collect();
    assert_eq!(seeds, expected);
    // The aggregate's n counts the replicates; the interval of a share stays in [0, 1].
    let agg = String::from_utf8(read(dir.path().join("a/aggregate.csv"))).unwrap();
    let mut r = csv::Reader::from_reader(agg.as_bytes());
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let mut checked = 0;
    for row in r.records().map(Result::unwrap) {
        if &row[col("metric")] == "delivery_ratio" {
            assert_eq!(&row[col("n")], "3");
            assert_eq!(&row[col("interval")], "wilson");
            let (lo, hi): (f64, f64) = (row[col("ci95_low")].parse().unwrap(), row[col("ci95_high")].parse().unwrap());
            let mean: f64 = row[col("mean")].parse().unwrap();
            assert!(0.0 <= lo && lo <= mean && mean <= hi && hi <= 1.0, "{lo} {mean} {hi}");
            checked += 1;
        }
    }
    assert_eq!(checked, 2, "one row per architecture");
    // The folder's usual files are replicate 0's: a plain run with its seed gives the same results.
    let seed0 = expected[0].to_string();
    netarch(&["run", "tiny.toml", "--seed", &seed0, "--out", "single"], dir.path());
    assert_eq!(read(dir.path().join("a/summary.csv")), read(dir.path().join("single/summary.csv")));
    assert!(stdout.contains("3 replicates") && stdout.contains("delivered"), "{stdout}");
    // A second run replaces the folder it wrote (it recognises its own files).
    run("a", "2");
}

#[test]
fn compare_takes_two_run_folders_and_refuses_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("tiny.toml"), TINY).unwrap();
    netarch(&["run", "tiny.toml", "-r", "3", "--out", "a"], d);
    netarch(&["run", "tiny.toml", "-r", "3", "--seed", "10", "--out", "b"], d);
    let o = netarch(&["compare", "a", "b", "--out", "c"], d);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.contains("→") && text.contains("signal"), "{text}");
    let csv_text = String::from_utf8(read(d.join("c/compare.csv"))).unwrap();
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    // The differences are B − A of the two aggregates' means, with an interval around them.
    let mean_of = |folder: &str, arch: &str, metric: &str| -> f64 {
        let t = String::from_utf8(read(d.join(folder).join("aggregate.csv"))).unwrap();
        let mut r = csv::Reader::from_reader(t.as_bytes());
        let h = r.headers().unwrap().clone();
        let c = |n: &str| h.iter().position(|x| x == n).unwrap();
        let row = r.records().map(Result::unwrap).find(|x| &x[c("arch")] == arch && &x[c("metric")] == metric).unwrap();
        row[c("mean")].parse().unwrap()
    };
    let row = r
        .records()
        .map(Result::unwrap)
        .find(|x| &x[col("arch")] == "signal" && &x[col("metric")] == "delivery_ratio")
        .unwrap();
    let diff: f64 = row[col("difference")].parse().unwrap();
    let expected = mean_of("b", "signal", "delivery_ratio") - mean_of("a", "signal", "delivery_ratio");
    assert!((diff - expected).abs() < 1e-12, "{diff} against {expected}");
    let (lo, hi): (f64, f64) = (row[col("ci95_low")].parse().unwrap(), row[col("ci95_high")].parse().unwrap());
    assert!(lo <= diff && diff <= hi);
    assert!(d.join("c/report.html").is_file() && d.join("c/latency-cdf-compare.svg").is_file());
    assert!(read(d.join("c/latency-cdf-compare.pdf")).starts_with(b"%PDF-"), "the compare chart as a PDF");
    // Bad input: exit code 2 with the folder named.
    std::fs::create_dir(d.join("empty")).unwrap();
    for (args, needle) in
        [(vec!["compare", "a", "missing"], "does not exist"), (vec!["compare", "a", "empty"], "not a run folder")]
    {
        let o = Command::new(env!("CARGO_BIN_EXE_netarch")).args(&args).current_dir(d).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains(needle), "{}", String::from_utf8_lossy(&o.stderr));
    }
    netarch(&["run", "tiny.toml", "--arch", "signal", "--out", "s"], d);
    let o = Command::new(env!("CARGO_BIN_EXE_netarch")).args(["compare", "a", "s"]).current_dir(d).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("different architectures"));
    // Never replaces a folder it did not write.
    let o = Command::new(env!("CARGO_BIN_EXE_netarch"))
        .args(["compare", "a", "b", "--out", "a"])
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(d.join("a/results.json").is_file());
}

#[test]
fn a_trace_has_one_row_per_copy_and_agrees_with_the_results() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("tiny.toml"), TINY).unwrap();
    netarch(&["run", "tiny.toml", "--trace", "--out", "t1"], d);
    let out2 = Command::new(env!("CARGO_BIN_EXE_netarch"))
        .args(["run", "tiny.toml", "--trace", "--out", "t2"])
        .env("RAYON_NUM_THREADS", "1")
        .current_dir(d)
        .output()
        .unwrap();
    assert!(out2.status.success());
    for f in ["messages.csv", "timeseries.csv", "deliveries-over-time.svg", "deliveries-over-time.pdf"] {
        assert_eq!(read(d.join("t1").join(f)), read(d.join("t2").join(f)), "{f} depends on the schedule");
    }
    let results: serde_json::Value = serde_json::from_slice(&read(d.join("t1/results.json"))).unwrap();
    let text = String::from_utf8(read(d.join("t1/messages.csv"))).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap_or_else(|| panic!("no {n}"));
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    for a in results["architectures"].as_array().unwrap() {
        let name = a["name"].as_str().unwrap();
        let counted: Vec<&csv::StringRecord> =
            rows.iter().filter(|x| &x[col("architecture")] == name && &x[col("counted")] == "true").collect();
        let count = |o: &str| counted.iter().filter(|x| &x[col("outcome")] == o).count() as u64;
        assert_eq!(counted.len() as u64, a["copies_created"].as_u64().unwrap(), "{name}: rows = copies created");
        assert_eq!(count("delivered"), a["delivered"].as_u64().unwrap(), "{name}");
        assert_eq!(count("lost"), a["lost"].as_u64().unwrap(), "{name}");
        assert_eq!(count("in_flight"), a["in_flight"].as_u64().unwrap(), "{name}");
        for (reason, n) in a["lost_by_reason"].as_object().unwrap() {
            let got = counted.iter().filter(|x| &x[col("reason")] == reason.as_str()).count() as u64;
            assert_eq!(got, n.as_u64().unwrap(), "{name} {reason}");
        }
        // The latency column is the delivered copies' latency: its median matches the summary's
        // within the histogram's precision (3 significant digits).
        let mut lat: Vec<f64> = counted
            .iter()
            .filter(|x| &x[col("outcome")] == "delivered")
            .map(|x| x[col("latency_ms")].parse().unwrap())
            .collect();
        lat.sort_by(f64::total_cmp);
        if let (Some(p50), false) = (a["latency"]["p50_ms"].as_f64(), lat.is_empty()) {
            let mid = lat[(lat.len() - 1) / 2];
            assert!((mid - p50).abs() <= 0.002 * p50 + 0.01, "{name}: median {mid} against p50 {p50}");
        }
    }
    // The time series adds up to the trace: every row counted once by its interval.
    let ts = String::from_utf8(read(d.join("t1/timeseries.csv"))).unwrap();
    let mut r = csv::Reader::from_reader(ts.as_bytes());
    let th = r.headers().unwrap().clone();
    let tc = |n: &str| th.iter().position(|x| x == n).unwrap();
    let (mut sent, mut delivered) = (0u64, 0u64);
    for row in r.records().map(Result::unwrap) {
        sent += row[tc("sent")].parse::<u64>().unwrap();
        delivered += row[tc("delivered")].parse::<u64>().unwrap();
    }
    assert_eq!(sent, rows.len() as u64, "every copy is sent once");
    assert_eq!(delivered, rows.iter().filter(|x| &x[col("outcome")] == "delivered").count() as u64);
    let svg = String::from_utf8(read(d.join("t1/deliveries-over-time.svg"))).unwrap();
    assert!(roxmltree::Document::parse(&svg).is_ok() && svg.contains("<title>"));
}
