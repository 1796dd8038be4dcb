//! The provider's queue against queueing theory (issue 2).

use crate::common::{mean_ci999, run_all, scenario_with};

const QUEUEING: &str = include_str!("../../scenarios/queueing.toml");

/// Mean server sojourn over independent replicates (seeds 1..=n).
fn sojourns(service_mean: &str, replicates: u64) -> Vec<f64> {
    (1..=replicates)
        .map(|seed| {
            let s = scenario_with(
                QUEUEING,
                &[&format!("seed={seed}"), &format!("arch.0.service_time.mean={service_mean}")],
            );
            let r = run_all(&s);
            r.archs[0].model.servers[0].mean_sojourn_ms.expect("messages were served")
        })
        .collect()
}

/// Always-online recipients, one server, exponential service, Poisson arrivals: the server is an
/// M/M/1 queue and its mean sojourn is 1/(mu - lambda). Superposed Poisson sends displaced by
/// independent network delays stay Poisson, so arrivals at the server are Poisson at 100/s.
///
/// Tolerance: replicates are independent, so their means give a Student-t interval; the test
/// fails only if theory falls outside the 99.9% interval (false alarm 1 in 1000), and the interval
/// itself must be narrower than 5% of the value, so the test can fail for a real error.
fn check_mm1(service_mean_ms: f64, replicates: u64) {
    let lambda = 100.0; // per second: 1000 users x 360/h
    let mu = 1000.0 / service_mean_ms;
    let expected_ms = 1000.0 / (mu - lambda);
    let values = sojourns(&format!("{service_mean_ms}ms"), replicates);
    let (mean, half) = mean_ci999(&values);
    assert!(half < 0.05 * expected_ms, "interval too wide to test anything: ±{half:.3} ms");
    assert!(
        (mean - expected_ms).abs() <= half,
        "load {:.1}: mean sojourn {mean:.3} ms ± {half:.3}, theory {expected_ms:.3} ms",
        lambda / mu
    );
}

#[test]
fn mm1_sojourn_at_load_half_matches_theory() {
    check_mm1(5.0, 10);
}

#[test]
fn mm1_sojourn_at_load_0_8_matches_theory() {
    // Sojourns are strongly autocorrelated near saturation: more replicates for the same width.
    check_mm1(8.0, 30);
}

#[test]
fn utilisation_matches_offered_load() {
    let s = scenario_with(QUEUEING, &["arch.0.service_time.mean=8ms"]);
    let r = run_all(&s);
    let util = r.archs[0].model.servers[0].utilisation;
    // 100/s x 8 ms = 0.8 during the sending period; ~54,000 services give a standard error of
    // the busy share near 0.005 (the queue's busy periods are long at this load).
    assert!((util - 0.8).abs() < 0.03, "utilisation {util}");
}
