//! Same scenario and seed, same bytes; serial or parallel (issue 2).

use netarch::output::json::results_json;
use netarch::run::{entries, run};

use crate::common::scenario_with;

const OUTAGE: &str = include_str!("../../scenarios/provider-outage.toml");

fn results(seed: u64, threads: usize) -> String {
    let s = scenario_with(OUTAGE, &["world.users=400", &format!("seed={seed}")]);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let r = pool.install(|| run(&s, entries(&s), &|_, _| {}).unwrap());
    results_json(&s, &r)
}

#[test]
fn same_seed_gives_identical_results_json() {
    assert_eq!(results(7, 2), results(7, 2));
}

#[test]
fn serial_and_parallel_runs_are_identical() {
    assert_eq!(results(7, 1), results(7, 2));
}

#[test]
fn a_different_seed_gives_different_results() {
    assert_ne!(results(7, 2), results(8, 2));
}
