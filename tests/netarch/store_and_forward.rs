//! Store-and-forward for offline recipients (issue 2).

use crate::common::{mean_ci999, run_all, scenario_with};

const SCENARIO: &str = include_str!("../../scenarios/store-and-forward.toml");

/// With exponential offline periods, a copy that finds its recipient offline waits a residual
/// offline time, which by memorylessness has the full period's mean (30 min here). The tolerance
/// is a 99.9% Student-t interval over independent replicates.
#[test]
fn wait_for_offline_recipient_matches_mean_offline_period() {
    let values: Vec<f64> = (1..=12)
        .map(|seed| {
            let s = scenario_with(SCENARIO, &[&format!("seed={seed}"), "world.users=1000"]);
            let r = run_all(&s);
            let a = &r.archs[0];
            assert_eq!(a.lost, 0, "nothing may expire with a 30-day retention");
            a.time_stored.mean_ms.expect("some copies were stored") / 60_000.0
        })
        .collect();
    let (mean, half) = mean_ci999(&values);
    assert!(half < 3.0, "interval too wide: ±{half} min");
    assert!((mean - 30.0).abs() <= half, "mean wait {mean:.2} min ± {half:.2}, expected 30 min");
}

#[test]
fn retention_shorter_than_absences_loses_messages_with_that_reason() {
    let s = scenario_with(SCENARIO, &["world.users=500", "arch.0.retention=10min"]);
    let r = run_all(&s);
    let a = &r.archs[0];
    let expired = a.lost_by_reason[&netarch::metrics::LossReason::RetentionExpired];
    // P(offline wait > 10 min) = e^{-1/3} ≈ 0.72 of the stored copies.
    assert!(expired > 0 && expired == a.lost, "lost {} expired {expired}", a.lost);
    let stored_share = a.latency_offline_at_send.count as f64 + expired as f64;
    assert!(expired as f64 / stored_share > 0.5);
}

#[test]
fn online_recipients_never_wait_in_storage() {
    let s = scenario_with(SCENARIO, &["world.users=500", "world.availability.always_online=1.0"]);
    let r = run_all(&s);
    let a = &r.archs[0];
    assert_eq!(a.time_stored.count, 0);
    assert_eq!(a.latency_offline_at_send.count, 0);
    assert!(a.latency.p99_ms.unwrap() < 1_000.0, "p99 {:?}", a.latency.p99_ms);
}
