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

/// Little's law at the end of the run: with sends going on until the last moment (no cool-down),
/// the copies still on their way when the run stops are, on average, the send rate times the mean
/// latency. Copies are settled when their last hop leaves (`Ctx::deliver_in`), so this checks that
/// a copy due after the end is left in flight, not counted as delivered early, and that nothing
/// else is left over. Tolerance: the 99.9% Student-t interval of the per-replicate difference
/// between the count in flight and lambda times the replicate's mean latency; the interval must be
/// narrower than half of lambda W, so a run that delivered everything early (nothing in flight)
/// fails.
#[test]
fn copies_in_flight_at_the_end_follow_littles_law() {
    let lambda = 100.0; // copies per second: 1000 users x 360/h
    let (mut diffs, mut expected) = (Vec::new(), Vec::new());
    for seed in 1..=20 {
        let s = scenario_with(QUEUEING, &[&format!("seed={seed}"), "cooldown=0s"]);
        let a = &run_all(&s).archs[0];
        assert_eq!(a.lost, 0);
        let w_s = a.latency.mean_ms.expect("copies were delivered") / 1000.0;
        diffs.push(a.in_flight as f64 - lambda * w_s);
        expected.push(lambda * w_s);
    }
    let lw = expected.iter().sum::<f64>() / expected.len() as f64;
    let (mean, half) = mean_ci999(&diffs);
    assert!(half < 0.5 * lw, "interval too wide to test anything: ±{half:.2} against λW = {lw:.2}");
    assert!(mean.abs() <= half, "in flight minus λW: {mean:.2} ± {half:.2} (λW = {lw:.2})");
}

/// Issue 10: one definition of utilisation. The same offered load on a one-server federation and
/// on a provider reads the same busy share, over the sending period; with a cool-down as long as
/// the sending period, dividing by the whole run (as federated did) would read half of it, 0.4.
#[test]
fn federated_and_centralized_utilisation_agree_over_the_sending_period_issue_10() {
    let text = format!(
        "{QUEUEING}\n[[arch]]\nkind = \"federated\"\nname = \"one home server\"\nservers = 1\nworkers = 1\n\
         service_time = {{ dist = \"exponential\", mean = \"8ms\" }}\n"
    );
    let s = scenario_with(&text, &["arch.0.service_time.mean=8ms", "cooldown=9min"]);
    let r = run_all(&s);
    for a in &r.archs {
        let util = a.model.servers[0].utilisation;
        // 100/s x 8 ms = 0.8; the standard error is near 0.005 as above.
        assert!((util - 0.8).abs() < 0.03, "{}: utilisation {util}", a.name);
    }
}

const MIXNET: &str = include_str!("../../scenarios/mixnet.toml");

/// Issue 10: onion nodes and mixes report utilisation over the sending period too, so a longer
/// cool-down (no sends, only what is left draining) leaves it unchanged: real traffic inside the
/// sending period is the same event for event whatever follows it, so the figure is identical.
/// Dividing its busy time by the whole run after the warm-up, as onion and mixnet did, read less
/// than half as much with the 2-hour cool-down (165 minutes) as with the 30-minute one (75). The
/// mixnet with cover traffic is left out: its cover share is still estimated over the whole
/// measurement window (see `Mixnet::finish`).
#[test]
fn onion_and_mixnet_utilisation_does_not_depend_on_the_cool_down_issue_10() {
    let short = run_all(&scenario_with(MIXNET, &["cooldown=30min"]));
    let long = run_all(&scenario_with(MIXNET, &["cooldown=2h"]));
    let mut checked = 0;
    for (a, b) in short.archs.iter().zip(&long.archs).filter(|(a, _)| a.name != "mixnet") {
        for (x, y) in a.model.servers.iter().zip(&b.model.servers) {
            let (u, v) = (x.utilisation, y.utilisation);
            assert!(u > 0.0, "{} {}: no load", a.name, x.role);
            assert!((u - v).abs() <= 1e-9 * u, "{} {}: {u} with a 30 min cool-down, {v} with 2 h", a.name, x.role);
            checked += 1;
        }
    }
    assert_eq!(checked, 4, "session's two roles and the cover-free mixnet's two groups");
}
