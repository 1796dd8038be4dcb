//! Headline figures and explanations generated from the run (issue 13, items 1 and 2): every
//! built-in scenario declares the figures its claim rests on, and its "What the run shows" text
//! quotes only figures of the run it is shown with.

use netarch::output::figures::Lookup;
use netarch::output::json::{RunFile, results_json};
use netarch::run::{entries, run};
use netarch::scenario::{Source, builtin, load, parse};

/// A built-in scenario run small, read back from its results document as the report reads it.
fn run_file(name: &str, sets: &[&str]) -> RunFile {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let s = parse(&load(name).unwrap(), &sets).unwrap_or_else(|e| panic!("{name}: {e}"));
    let r = run(&s, entries(&s), &|_, _| {}).unwrap();
    RunFile::parse(&results_json(&s, &r)).unwrap()
}

/// The filled "What the run shows" text of a run.
fn shows(file: &RunFile) -> String {
    file.figures.fill(&file.scenario.explain.shows)
}

#[test]
fn every_builtin_declares_headline_figures_the_run_has_and_fills_every_placeholder_issue_13() {
    for b in builtin::BUILTINS {
        let file = run_file(b.name, &["world.users=200"]);
        let e = &file.scenario.explain;
        assert!(!e.headline.is_empty(), "{}: no headline figures", b.name);
        assert!(e.shows.contains('{'), "{}: `shows` quotes no figure of the run", b.name);
        assert_eq!(file.figures.missing(&e.headline, &e.shows), Vec::<String>::new(), "{}", b.name);
        // Every headline figure is defined on at least one architecture.
        for m in &e.headline {
            let defined = (0..file.archs.len()).any(|i| matches!(file.figures.of_arch(i, m), Lookup::Value(_)));
            assert!(defined, "{}: headline figure `{m}` is undefined everywhere", b.name);
        }
        let text = shows(&file);
        assert!(!text.contains('{') && !text.contains('}'), "{}: unfilled placeholder\n{text}", b.name);
        assert!(!text.contains("[no figure"), "{}: {text}", b.name);
        // The heatmap shows the scenario's choice.
        if let Some(m) = &e.heatmap {
            let set = file.chart_set();
            let heat = set.exposure.unwrap_or_else(|| panic!("{}: no heatmap", b.name));
            assert!(heat.values.iter().flatten().any(Option::is_some), "{}: heatmap of `{m}` is empty", b.name);
        }
    }
}

#[test]
fn the_headline_block_of_results_json_has_a_value_per_architecture_issue_13() {
    let s = parse(&load("ip-exposure").unwrap(), &["world.users=200".into(), "duration=3h".into()]).unwrap();
    let r = run(&s, entries(&s), &|_, _| {}).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&results_json(&s, &r)).unwrap();
    let block = doc["headline"].as_array().unwrap();
    assert_eq!(block.len(), s.raw.explain.headline.len());
    for (row, name) in block.iter().zip(&s.raw.explain.headline) {
        assert_eq!(row["metric"].as_str(), Some(name.as_str()));
        let values = row["values"].as_array().unwrap();
        assert_eq!(values.len(), r.archs.len());
        for (v, a) in values.iter().zip(&r.archs) {
            assert_eq!(v["architecture"].as_str(), Some(a.name.as_str()));
        }
    }
    // The contact's identified addresses: some with direct connections, none over Tor (its guard
    // relay, not its contact, is at the other end), as the scenario's text says.
    let row = &block[0];
    assert_eq!(row["metric"], "exposure.a contact.addresses.identified");
    assert!(row["values"][0]["value"].as_f64().unwrap() > 0.0, "{row}");
    assert_eq!(row["values"][1]["value"].as_f64(), Some(0.0), "{row}");
    // ip-exposure's heatmap shows addresses, not pairs.
    let file = RunFile::parse(&results_json(&s, &r)).unwrap();
    let heat = file.chart_set().exposure.unwrap();
    assert!(heat.metric.contains("IP address"), "{}", heat.metric);
    assert!(doc["reading"].as_str().is_some_and(|t| t.contains("sender-recipient pair")), "the reading is in the file");
}

#[test]
fn a_changed_seed_and_population_changes_the_figures_the_text_states_issue_13() {
    // The issue's example: `--seed 3 --set world.users=600` on mixnet (shorter here, to stay fast).
    let short = ["duration=30min", "warmup=5min", "cooldown=10min"];
    let base = run_file("mixnet", &[&["world.users=300"][..], &short].concat());
    let other = run_file("mixnet", &[&["seed=3", "world.users=600"][..], &short].concat());
    let flat = |t: String| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let (a, b) = (flat(shows(&base)), flat(shows(&other)));
    assert_ne!(a, b, "the text states the run's figures");
    // The population is the run's: log2 of 300 or 600 people.
    assert!(a.contains("(log2 of 300 people)") && b.contains("(log2 of 600 people)"), "{a}\n---\n{b}");
    let bits =
        |f: &RunFile| match f.figures.get("session", "exposure.global observer + timing.anonymity.max_entropy_bits") {
            Lookup::Value(v) => v,
            other => panic!("{other:?}"),
        };
    assert!((bits(&base) - 300f64.log2()).abs() < 0.05 && (bits(&other) - 600f64.log2()).abs() < 0.05);
    assert!(a.contains(&format!("possible {:.1} bits", bits(&base))), "{a}");
}

#[test]
fn explain_without_a_run_names_figures_and_states_none_issue_13() {
    // The binary, run where no netarch-out/ folder is, so no earlier run is picked up.
    let explain = |args: &[&str], cwd: &std::path::Path| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_netarch"))
            .arg("explain")
            .args(args)
            .current_dir(cwd)
            .output()
            .unwrap();
        (o.status.code(), String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let empty = tempfile::tempdir().unwrap();
    let flat = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let (code, text) = explain(&["mixnet"], empty.path());
    let text = flat(&text);
    assert_eq!(code, Some(0));
    let shows = text.split("What the run shows:").nth(1).unwrap().split("Turn this knob next").next().unwrap();
    assert!(!shows.contains('{'), "{shows}");
    assert!(shows.contains("[p50 online@send of session]"), "{shows}");
    assert!(shows.contains("Figures in [brackets] come from a run"), "{shows}");
    // With a run folder, the figures are that run's.
    let dir = tempfile::tempdir().unwrap();
    let s = parse(&load("store-and-forward").unwrap(), &["world.users=100".into(), "duration=4h".into()]).unwrap();
    let r = run(&s, entries(&s), &|_, _| {}).unwrap();
    let folder = netarch::output::write_run_folder(&dir.path().join("sf"), &s, &r, "netarch run test").unwrap();
    let folder_arg = folder.to_str().unwrap();
    let (code, text) = explain(&["store-and-forward", "--run", folder_arg], empty.path());
    assert_eq!(code, Some(0));
    let text = flat(&text);
    let mean = r.archs[0].time_stored.mean_ms.unwrap();
    assert!(text.contains(&netarch::output::figures::format_value("time_stored.mean_ms", mean, None)), "{text}");
    assert!(text.contains("Figures from the run in"), "{text}");
    assert_ne!(explain(&["mixnet", "--run", folder_arg], empty.path()).0, Some(0), "a run of another scenario");
    let html = std::fs::read_to_string(folder.join("report.html")).unwrap();
    assert!(html.contains("Headline figures") && html.contains("Reading of this run"), "report sections");
    assert!(html.find("Headline figures").unwrap() < html.find("What the run shows").unwrap(), "headline first");
    assert!(!html.contains("[no figure"));
}

fn check_error(text: &str) -> String {
    let src = Source { file: "t.toml".into(), text: text.into(), dir: None };
    match parse(&src, &[]) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => format!("{e:?}"),
    }
}

const BASE: &str = r#"
name = "t"
duration = "10min"
[world]
users = 20
[[arch]]
kind = "centralized"
name = "one"
[[adversary]]
kind = "operator"
"#;

#[test]
fn unknown_names_are_check_errors_with_a_hint_issue_13() {
    let with = |explain: &str| format!("{BASE}[explain]\n{explain}\n");
    let e = check_error(&with("shows = \"Median {world: user}.\""));
    assert!(e.contains("the world has no figure `user`") && e.contains("users"), "{e}");
    let e = check_error(&with("shows = \"Median {one: latncy.p50_ms}.\""));
    assert!(e.contains("latncy"), "{e}");
    let e = check_error(&with("headline = [\"exposure.gpa.pair.learned\"]"));
    assert!(e.contains("names no adversary") && e.contains("operator"), "{e}");
    let e = check_error(&with("shows = \"a {broken\""));
    assert!(e.contains("without its `}`"), "{e}");
    let e = check_error(&with("heatmap = \"latency.p50_ms\""));
    assert!(e.contains("heatmap"), "{e}");
    // Well-formed names pass.
    let ok = with(
        "shows = \"{one: latency.p50_ms | time} of {world: users}\"\nheadline = [\"exposure.operator.pair.learned\"]\nheatmap = \"sender.learned\"",
    );
    let src = Source { file: "t.toml".into(), text: ok, dir: None };
    parse(&src, &[]).unwrap();
}

#[test]
fn no_adversaries_is_not_warned_about_missing_exposure_figures_issue_13() {
    // Without adversaries no exposure figure exists; the warning is for a text naming figures a
    // run should have had, so it stays quiet here and still speaks for a model figure.
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_netarch"))
            .args(["run", "sealed-sender", "-q", "--set", "world.users=60", "--set", "duration=2h"])
            .args(extra)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let quiet = run(&["--no-adversaries", "--out", "a"]);
    assert!(!quiet.contains("names figures"), "{quiet}");
    let warned =
        run(&["--no-adversaries", "--out", "b", "--set", "explain.headline=[\"model.figures.no_such_figure\"]"]);
    assert!(warned.contains("model.figures.no_such_figure"), "{warned}");
}
