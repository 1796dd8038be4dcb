//! Onion-routed delivery through storage swarms (Session/Tor-like; claims A2, A3, A4, S4).

use netarch::engine::{RunConfig, RunOutput, Sim};
use netarch::metrics::LossReason;
use netarch::observe::{NodeKind, NodeKinds, Observation, ObservationSink};
use netarch::scenario::{Scenario, Source, parse};
use netarch::world::{Regions, World};
use proptest::prelude::*;

use crate::common::{arch, run_all, scenario, scenario_with};

const LATENCY: &str = include_str!("../../scenarios/onion-latency.toml");
const OFFLINE: &str = include_str!("../../scenarios/offline-swarm.toml");
const CHURN: &str = include_str!("../../scenarios/relay-churn.toml");

/// Runs architecture `i` of a scenario on its world with the given observation sinks, returning
/// the engine's own output (the recorder's histograms, not only their summaries).
fn run_one<'w>(s: &Scenario, world: &'w World, i: usize, sinks: Vec<&'w mut dyn ObservationSink>) -> RunOutput {
    let mut model = s.archs[i].spec.build(&s.archs[i].name);
    let cfg = RunConfig { seed: s.seed(), arch_index: i as u64, window: s.window, deadline: s.deadline };
    Sim::new(world, model.as_mut(), cfg, sinks).run(&mut |_| {}).expect("conservation holds")
}

/// A one-region world with fixed delays: backbone one-way 50us (RTT 0.1 ms), access 10us, no
/// jitter, everyone always online, constant processing, no churn, no path-build cost, and a 1us
/// poll grid (every instant is a poll, so nothing waits for one).
fn fixed_delay_scenario(matrix: &std::path::Path, h: u32) -> String {
    format!(
        r#"
name = "formula"
duration = "1h"
cooldown = "10min"
[world]
users = 60
access_delay = "10us"
jitter = "0s"
[world.regions]
matrix = "{}"
[world.availability]
always_online = 1.0
[[arch]]
kind = "onion"
relays = 40
swarm_size = 5
path_length = {h}
path_build = "none"
relay_downtime = "0s"
relay_processing = {{ dist = "constant", value = "20us" }}
storage_processing = {{ dist = "constant", value = "30us" }}
poll_interval = "1us"
"#,
        matrix.display()
    )
}

/// With every delay fixed, each delivery takes exactly send + poll request + response:
/// 3(h+1)·D + 3A + 3h·P + 2S (module doc of `arch::onion`). The values stay below 2048 us, where
/// the latency histogram records every microsecond exactly, so min, median, max and mean must all
/// equal the formula.
#[test]
fn fixed_delays_give_the_formula_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let matrix = dir.path().join("lab.csv");
    std::fs::write(&matrix, "region,lab\nlab,0.1\n").unwrap();
    let (d, a, p, st) = (50u64, 10u64, 20u64, 30u64);
    for h in [1u64, 2, 3, 5] {
        let s = scenario(&fixed_delay_scenario(&matrix, h as u32));
        let world = World::generate(s.world.clone(), s.seed());
        let out = run_one(&s, &world, 0, Vec::new());
        let expected = 3 * (h + 1) * d + 3 * a + 3 * h * p + 2 * st;
        assert!(expected < 2048, "outside the histogram's exact range");
        let rec = &out.recorder;
        assert!(rec.delivered > 100, "h={h}: only {} delivered", rec.delivered);
        assert_eq!(rec.delivered, rec.copies_created, "h={h}: every copy arrives");
        assert_eq!(rec.latency.min(), expected, "h={h}: fastest delivery");
        assert_eq!(rec.latency.max(), expected, "h={h}: slowest delivery");
        assert_eq!(rec.latency.value_at_quantile(0.5), expected, "h={h}: median");
        assert_eq!(rec.latency.mean(), expected as f64, "h={h}: mean");
        // 2(h+1) hops per copy, one more when it was fetched from a replica of the entry member.
        assert!(rec.hops_sum >= rec.delivered * 2 * (h + 1), "h={h}: too few hops");
        assert!(rec.hops_sum <= rec.delivered * (2 * (h + 1) + 1), "h={h}: too many hops");
    }
}

/// Jitter and processing only ever add delay: no delivery can beat the fixed part of its hops,
/// 3(h+1)·D_min + 3A with D_min the smallest one-way backbone latency. With a 1us poll grid the
/// fastest deliveries come close to that bound; they exceed it by at most the mean jitter and
/// processing of their 3(h+1) hops.
#[test]
fn latency_is_never_below_the_sum_of_its_hops() {
    let text = r#"
name = "bound"
duration = "2h"
cooldown = "30min"
[world]
users = 400
[world.regions.weights]
europe_west = 1.0
[[arch]]
preset = "session"
relay_downtime = "0s"
poll_interval = "1us"
"#;
    let s = scenario(text);
    let world = World::generate(s.world.clone(), s.seed());
    let out = run_one(&s, &world, 0, Vec::new());
    let regions = Regions::default_matrix();
    let eu = regions.id("europe_west").unwrap();
    let d = regions.one_way(eu, eu).0;
    let access = 10_000u64;
    let h = 3u64;
    let bound = 3 * (h + 1) * d + 3 * access;
    let rec = &out.recorder;
    assert!(rec.delivered > 1000);
    // lowest_equivalent never exceeds the true minimum, so this cannot pass by rounding.
    assert!(rec.latency.min() >= bound, "fastest {} us below the hop sum {bound} us", rec.latency.min());
    let mean_excess = 3 * (h + 1) * 5_000 + (3 * h + 2) * 1_000;
    assert!(rec.latency.min() < bound + mean_excess, "fastest {} us far above the bound {bound} us", rec.latency.min());
}

/// Claim A2: on the same people and messages, onion routing's median latency is above the
/// centralized server's, for all copies and for copies to recipients online at send.
#[test]
fn onion_is_slower_than_centralized_on_the_same_workload() {
    let s = scenario_with(LATENCY, &["world.users=600", "duration=3h"]);
    let r = run_all(&s);
    let (signal, session) = (arch(&r, "signal"), arch(&r, "session"));
    assert_eq!(signal.copies_created, session.copies_created, "paired workload");
    let on = |a: &netarch::metrics::ArchSummary| a.latency_online_at_send.p50_ms.unwrap();
    assert!(on(session) > on(signal) + 1_000.0, "online p50: session {} ms, signal {} ms", on(session), on(signal));
    assert!(session.latency.p50_ms.unwrap() > signal.latency.p50_ms.unwrap());
    // Polling faster shortens the wait for the next poll and costs wake-ups.
    let fast = arch(&r, "session, 1s polling");
    assert!(on(fast) < on(session));
    assert!(fast.wakeups_per_device_hour.unwrap() > 4.0 * session.wakeups_per_device_hour.unwrap());
}

/// Claim A3: swarms deliver to recipients who were offline at send; with a TTL far longer than
/// absences nearly everything arrives, with a TTL shorter than most absences much is lost as
/// ttl_expired. The gap is checked against five binomial standard errors of the two ratios.
#[test]
fn swarms_deliver_to_offline_recipients_within_the_ttl() {
    let s = scenario_with(OFFLINE, &["world.users=800"]);
    let r = run_all(&s);
    let long = arch(&r, "TTL 14d");
    let short = arch(&r, "TTL 20min");
    assert!(long.latency_offline_at_send.count > 100, "offline recipients got their messages later");
    assert_eq!(long.lost_by_reason[&LossReason::TtlExpired], 0);
    let ratio = |a: &netarch::metrics::ArchSummary| a.delivered as f64 / a.copies_created as f64;
    assert!(ratio(long) > 0.98, "long TTL delivers {}", ratio(long));
    let n = long.copies_created as f64;
    let se = (ratio(long) * (1.0 - ratio(long)) / n + ratio(short) * (1.0 - ratio(short)) / n).sqrt();
    assert!(ratio(long) - ratio(short) > 5.0 * se, "long {} short {}", ratio(long), ratio(short));
    assert!(short.lost_by_reason[&LossReason::TtlExpired] > 0);
    // Monotone in the TTL.
    assert!(ratio(arch(&r, "TTL 3h")) <= ratio(long) && ratio(arch(&r, "TTL 3h")) >= ratio(short));
}

fn figure(a: &netarch::metrics::ArchSummary, k: &str) -> f64 {
    *a.model.figures.get(k).unwrap_or_else(|| panic!("{}: no figure `{k}`", a.name))
}

/// Claim A4: retries and relay failures are zero without churn and grow with it; heavy churn
/// loses messages as relay_failure after three attempts and stretches the latency tail. Counts
/// are compared with a margin of five Poisson standard deviations.
#[test]
fn failures_and_retries_grow_with_relay_churn() {
    let s = scenario_with(CHURN, &["world.users=600", "duration=3h"]);
    let r = run_all(&s);
    let (stable, default, heavy) = (arch(&r, "stable nodes"), arch(&r, "default churn"), arch(&r, "heavy churn"));
    for k in ["path_retries", "relay_failures", "storage_failures", "poll_retries", "relay_failure_losses"] {
        assert_eq!(figure(stable, k), 0.0, "stable nodes: {k}");
    }
    assert_eq!(stable.lost, 0);
    for k in ["path_retries", "relay_failures"] {
        let (lo, hi) = (figure(default, k), figure(heavy, k));
        assert!(hi - lo > 5.0 * (hi + lo).sqrt(), "{k}: default {lo}, heavy {hi}");
        assert!(lo > 0.0, "default churn: no {k}");
    }
    let lost = heavy.lost_by_reason[&LossReason::RelayFailure];
    assert!(lost > 0 && lost as f64 == figure(heavy, "relay_failure_losses"), "heavy churn lost {lost}");
    assert!(heavy.latency_online_at_send.p95_ms.unwrap() > stable.latency_online_at_send.p95_ms.unwrap() + 10_000.0);
    // Nodes spread over the world, far from European users: every hop is longer.
    let far = arch(&r, "nodes worldwide");
    assert!(far.latency_online_at_send.p50_ms.unwrap() > default.latency_online_at_send.p50_ms.unwrap());
}

/// One attempt only: every failed attempt loses the message at once, as relay_failure.
#[test]
fn a_single_attempt_loses_each_failed_message() {
    let s = scenario_with(CHURN, &["world.users=300", "duration=2h", "arch.2.max_attempts=1"]);
    let r = run_all(&s);
    let heavy = arch(&r, "heavy churn");
    assert_eq!(figure(heavy, "path_retries"), 0.0);
    assert!(heavy.lost_by_reason[&LossReason::RelayFailure] > 0);
}

/// Polls are computed, not simulated, but still counted: an always-online device polling its own
/// swarm every 5 s wakes 720 times an hour (one more per device for the poll at time zero).
#[test]
fn polls_wake_devices_at_the_polling_rate() {
    let text = r#"
name = "polls"
duration = "2h"
warmup = "30min"
cooldown = "30min"
[world]
users = 200
[world.availability]
always_online = 1.0
[[arch]]
preset = "session"
relay_downtime = "0s"
"#;
    let r = run_all(&scenario(text));
    let a = &r.archs[0];
    let hours = 2.0;
    let per_hour = a.wakeups_per_device_hour.unwrap();
    assert!((per_hour - 720.0).abs() <= 1.0 / hours, "{per_hour} wake-ups per device-hour");
    assert_eq!(figure(a, "polls"), 200.0 * 720.0 * hours);
    assert_eq!(figure(a, "poll_transmissions"), figure(a, "polls") * 8.0);
}

/// Records which node kinds send to which, and checks what each kind may read.
#[derive(Default)]
struct Topology {
    device_to_storage: u64,
    storage_to_device: u64,
    relay_reads: u64,
    storage_reads_sender: u64,
    storage_reads_recipient: u64,
    real_hops_into_storage: u64,
}

impl ObservationSink for Topology {
    fn observe(&mut self, o: &Observation, kinds: &NodeKinds<'_>) {
        let (from, to) = (kinds.of(o.from), kinds.of(o.to));
        self.device_to_storage += (from == NodeKind::Device && to == NodeKind::Storage) as u64;
        self.storage_to_device += (from == NodeKind::Storage && to == NodeKind::Device) as u64;
        if !o.real {
            return;
        }
        if to == NodeKind::Relay {
            self.relay_reads += (o.sender.is_some() || o.recipient.is_some() || o.room.is_some()) as u64;
        }
        if to == NodeKind::Storage {
            self.real_hops_into_storage += 1;
            self.storage_reads_sender += o.sender.is_some() as u64;
            self.storage_reads_recipient += (o.recipient == o.truth.recipient && o.recipient.is_some()) as u64;
        }
    }
}

/// What hops see: relays read nothing; the swarm reads the recipient (to store the message) but
/// never the sender; no device ever talks to a swarm member directly, in either direction, so the
/// recipient's polls come through its own path.
#[test]
fn relays_see_nothing_and_the_swarm_sees_only_the_recipient() {
    let text = r#"
name = "seen"
duration = "1h"
[world]
users = 200
[[arch]]
preset = "session"
"#;
    let s = scenario(text);
    let world = World::generate(s.world.clone(), s.seed());
    let mut topo = Topology::default();
    let out = run_one(&s, &world, 0, vec![&mut topo]);
    assert!(out.recorder.delivered > 100);
    assert_eq!(topo.device_to_storage, 0, "a device reached a swarm member directly");
    assert_eq!(topo.storage_to_device, 0, "a swarm member answered a device directly");
    assert_eq!(topo.relay_reads, 0, "a relay read an identity");
    assert_eq!(topo.storage_reads_sender, 0, "the swarm read a sender");
    assert!(topo.real_hops_into_storage > 0);
    assert_eq!(topo.storage_reads_recipient, topo.real_hops_into_storage, "every store names its recipient");
}

/// A path longer than the relays available, a fan-out larger than the swarm, and placement
/// weights without the matching placement are rejected with the key's path.
#[test]
fn impossible_onion_parameters_are_rejected_with_their_key() {
    let base = "name = \"bad\"\nduration = \"1h\"\n[world]\nusers = 50\n[[arch]]\nkind = \"onion\"\n";
    for (extra, key) in [
        ("relays = 4\nswarm_size = 3\npath_length = 5\n", "arch[0].path_length"),
        ("fan_out = 8\nswarm_size = 7\n", "arch[0].fan_out"),
        ("relay_weights = { europe_west = 1.0 }\n", "arch[0].relay_weights"),
        ("relay_placement = \"weights\"\nrelay_weights = { atlantis = 1.0 }\n", "arch[0].relay_weights.atlantis"),
        ("replication = 0\n", "arch[0].replication"),
        ("poll_interval = \"0s\"\n", "arch[0].poll_interval"),
    ] {
        let src = Source { file: "bad.toml".into(), text: format!("{base}{extra}"), dir: None };
        match parse(&src, &[]) {
            Err(netarch::scenario::ScenarioError::Invalid(d)) => {
                let text: Vec<String> = d.iter().map(|x| x.to_string()).collect();
                assert!(text.iter().any(|t| t.contains(key)), "{extra}: no `{key}` in {text:?}");
            }
            Err(e) => panic!("{extra}: unexpected error {e}"),
            Ok(_) => panic!("{extra}: accepted"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    /// Conservation under any mix of path length, fan-out, replication, churn, TTL, attempts,
    /// path-build rule and group messages: every copy ends delivered, lost or in flight.
    #[test]
    fn every_copy_is_accounted_for(
        h in 1u32..=5,
        fan_out in 1u32..=3,
        replication in 1u32..=5,
        down in prop_oneof![Just("0s"), Just("10min"), Just("1h")],
        ttl in prop_oneof![Just("5min"), Just("1h"), Just("14d")],
        attempts in 1u32..=3,
        build in prop_oneof![Just("none"), Just("guard-test"), Just("telescoping")],
        selection in prop_oneof![Just("uniform"), Just("bandwidth")],
        guards in any::<bool>(),
        room_share in prop_oneof![Just(0.0), Just(0.3)],
        seed in 1u64..1000,
    ) {
        let text = format!(
            r#"
name = "prop"
seed = {seed}
duration = "1h"
warmup = "10min"
cooldown = "30min"
[world]
users = 120
[world.rooms]
count = 6
size = 5
[world.workload]
room_share = {room_share}
[world.availability]
online = {{ dist = "exponential", mean = "20min" }}
offline = {{ dist = "exponential", mean = "20min" }}
[[arch]]
kind = "onion"
relays = 60
swarm_size = 5
path_length = {h}
fan_out = {fan_out}
replication = {replication}
relay_uptime = "1h"
relay_downtime = "{down}"
ttl = "{ttl}"
max_attempts = {attempts}
path_build = "{build}"
path_selection = "{selection}"
guards = {guards}
path_lifetime = "10min"
"#
        );
        let r = run_all(&scenario(&text));
        let a = &r.archs[0];
        prop_assert!(a.copies_created > 0);
        prop_assert_eq!(a.copies_created, a.delivered + a.lost + a.in_flight);
    }
}
