//! Every built-in scenario and app preset runs at small size, conserving messages.

use netarch::scenario::{builtin, load, parse, presets};

fn run_small(name: &str) {
    let src = load(name).unwrap();
    let sets = vec!["world.users=300".to_string()];
    let s = parse(&src, &sets).unwrap_or_else(|e| panic!("{name}: {e}"));
    let r = netarch::run::run(&s, netarch::run::entries(&s), &|_, _| {}).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(r.archs.len(), s.archs.len());
    for a in &r.archs {
        assert!(a.copies_created > 0, "{name}/{}: nothing was sent", a.name);
        assert_eq!(a.copies_created, a.delivered + a.lost + a.in_flight, "{name}/{}", a.name);
    }
}

#[test]
fn every_builtin_scenario_runs() {
    for b in builtin::BUILTINS {
        run_small(b.name);
    }
}

#[test]
fn every_preset_runs_by_name() {
    for p in presets::names() {
        run_small(p);
    }
}

/// What `netarch explain <name>` prints (the command line is the binary's, not the library's).
fn explain(name: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netarch")).args(["explain", name]).output().unwrap();
    assert!(out.status.success(), "explain {name}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_builtin_explains_itself_and_names_known_claims() {
    for b in builtin::BUILTINS {
        let text = explain(b.name);
        for heading in ["What it models", "What the run shows", "Turn this knob next", "Where the defaults come from"] {
            assert!(text.contains(heading), "{}: no `{heading}`", b.name);
        }
        let s = parse(&load(b.name).unwrap(), &[]).unwrap();
        assert!(!s.raw.title.is_empty(), "{} has no title", b.name);
    }
    for p in presets::names() {
        assert!(explain(p).contains("Where the defaults come from"));
    }
}
