//! The federated (Matrix-like) architecture: relaying, back-off, blocking, and the direction of
//! claims F1, F2 and F4 on small runs.

use std::collections::{BTreeMap, BTreeSet};

use netarch::arch::ArchSpec;
use netarch::arch::federated::Federated;
use netarch::engine::observation::{NodeKind, NodeKinds, Observation, ObservationSink};
use netarch::engine::{RunConfig, Sim};
use netarch::metrics::LossReason;
use netarch::results::ArchSummary;
use netarch::scenario::Scenario;
use netarch::world::World;

use crate::common::{arch, mean_ci999, run_all, run_text, scenario, scenario_with};

/// A figure of the model report.
fn fig(a: &ArchSummary, key: &str) -> f64 {
    *a.model.figures.get(key).unwrap_or_else(|| panic!("{}: no figure `{key}`", a.name))
}

/// Every real hop, by kinds of its ends.
#[derive(Default)]
struct Hops {
    /// (serial, sender, recipient, room) of device -> home server uploads.
    uploads: Vec<(u64, u32, Option<u32>, Option<u32>)>,
    /// (serial, from, to) of server -> server hops.
    federation: Vec<(u64, u32, u32)>,
    /// (sender, recipient) of home server -> device hops.
    deliveries: Vec<(u32, u32)>,
}

impl ObservationSink for Hops {
    fn observe(&mut self, o: &Observation, kinds: &NodeKinds<'_>) {
        if !o.real {
            return;
        }
        match (kinds.of(o.from), kinds.of(o.to)) {
            (NodeKind::Device, NodeKind::HomeServer) => {
                self.uploads.push((o.truth.serial, o.truth.sender, o.truth.recipient, o.room))
            }
            (NodeKind::HomeServer, NodeKind::HomeServer) => self.federation.push((o.truth.serial, o.from, o.to)),
            (NodeKind::HomeServer, NodeKind::Device) => {
                self.deliveries.push((o.truth.sender, o.truth.recipient.expect("a delivery names its recipient")))
            }
            other => panic!("unexpected hop between {other:?}"),
        }
    }
}

/// Runs the scenario's only (federated) architecture with a hop recorder; returns the world, the
/// model (for its placement) and the hops.
fn run_observed(s: &Scenario) -> (World, Federated, Hops) {
    let world = World::generate(s.world.clone(), s.seed());
    let ArchSpec::Federated(p) = &s.archs[0].spec else { panic!("not a federated entry") };
    let mut model = Federated::new("federated", p.clone());
    let mut hops = Hops::default();
    {
        let cfg = RunConfig { seed: s.seed(), arch_index: 0, window: s.window, deadline: s.deadline };
        let sinks: Vec<&mut dyn ObservationSink> = vec![&mut hops];
        Sim::new(&world, &mut model, cfg, sinks).run(&mut |_| {}).expect("conservation holds");
    }
    (world, model, hops)
}

const BLOCKED: &str = r#"
name = "blocked"
duration = "2h"
cooldown = "1h"
[world]
users = 600
[world.rooms]
count = 60
size = 6
[world.workload]
room_share = 0.3
[[arch]]
kind = "federated"
servers = 12
block_share = 0.3
blocked_pairs = [[0, 1]]
"#;

/// Issue: a blocked pair never delivers. Every delivery hop joins two users whose servers
/// federate; every 1:1 message between blocked servers is lost as `federation_blocked`.
#[test]
fn a_blocked_pair_never_delivers() {
    let s = scenario(BLOCKED);
    let (_, model, hops) = run_observed(&s);
    let home = model.home_servers();
    assert!(model.blocked(0, 1) && model.blocked(1, 0), "the listed pair is blocked both ways");
    for &(sender, recipient) in &hops.deliveries {
        let (a, b) = (home[sender as usize], home[recipient as usize]);
        assert!(!model.blocked(a, b), "user {sender} on {a} reached {recipient} on {b} across a block");
    }
    let blocked_direct = hops
        .uploads
        .iter()
        .filter(|u| u.3.is_none() && model.blocked(home[u.1 as usize], home[u.2.unwrap() as usize]))
        .count();
    assert!(blocked_direct > 0, "the run sent nothing across a block; the test would prove nothing");
    let r = run_all(&s);
    let a = &r.archs[0];
    let lost = a.lost_by_reason[&LossReason::FederationBlocked];
    // Room copies to members on blocked servers are lost too, so at least every direct one.
    assert!(lost >= blocked_direct as u64, "{lost} blocked losses for {blocked_direct} blocked direct messages");
    assert_eq!(a.lost, lost, "blocking is the only way to lose a message here");
    assert!(a.delivered > 0);
}

/// Issue: a room's event reaches every participating server exactly once, whatever the number of
/// its members there; no server outside the room receives it.
#[test]
fn a_room_event_reaches_each_participating_server_once() {
    let text = r#"
name = "rooms"
duration = "1h"
cooldown = "30min"
[world]
users = 800
[world.rooms]
count = 80
size = 10
[world.workload]
room_share = 0.6
[[arch]]
kind = "federated"
servers = 20
zipf_exponent = 0.7
"#;
    let s = scenario(text);
    let (world, model, hops) = run_observed(&s);
    let home = model.home_servers();
    let nodes = model.server_nodes();
    let server_of_node: BTreeMap<u32, u32> = nodes.iter().enumerate().map(|(i, &n)| (n, i as u32)).collect();
    let mut received: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
    for &(serial, from, to) in &hops.federation {
        received.entry(serial).or_default().push(server_of_node[&to]);
        let _ = from;
    }
    let mut checked = 0;
    let mut multi = 0;
    for &(serial, sender, _, room) in &hops.uploads {
        let Some(room) = room else { continue };
        let origin = home[sender as usize];
        let expected: BTreeSet<u32> =
            world.rooms.members(room).iter().map(|&m| home[m as usize]).filter(|&h| h != origin).collect();
        let mut got = received.remove(&serial).unwrap_or_default();
        got.sort_unstable();
        let unique: BTreeSet<u32> = got.iter().copied().collect();
        assert_eq!(got.len(), unique.len(), "room event {serial} reached a server twice: {got:?}");
        assert_eq!(unique, expected, "room event {serial} from server {origin}");
        checked += 1;
        multi += (expected.len() > 1) as u32;
    }
    assert!(checked > 100 && multi > 50, "too few room events spanning several servers ({checked}, {multi})");
}

/// Issue: back-off intervals follow the configured sequence. One origin, one destination down
/// for the rest of the run, no in-request retries: the failed transactions happen at t0, t0 + I1,
/// t0 + I1 + I2, ... with I1 = min and I(k+1) in [0.8, 1.4] × 2 × I(k), capped. The count must lie
/// between the counts of the slowest and the fastest jitter sequences, and the largest interval
/// must be the cap.
#[test]
fn backoff_follows_the_configured_sequence() {
    let text = r#"
name = "backoff"
duration = "6h"
cooldown = "0s"
[world]
users = 400
[world.availability]
always_online = 1.0
[[arch]]
kind = "federated"
servers = 2
request_retries = 0
backoff_min = "5min"
backoff_multiplier = 2.0
backoff_max = "40min"
outages = [{ server = 1, start = "30min", end = "7h" }]
"#;
    let r = run_text(text);
    let a = &r.archs[0];
    let failures = fig(a, "federation_failed_transactions");
    assert_eq!(failures, fig(a, "federation_failed_attempts"), "no in-request retries were asked for");
    assert_eq!(fig(a, "federation_max_backoff_s"), 2400.0, "the interval grows to the 40min cap");
    // The first failure comes with the first event for server 1 after 30 min: within seconds with
    // 400 always-online users sending 6/h each.
    let count = |jitter: f64, t0: f64| {
        let (min, cap, end) = (300.0, 2400.0, 6.0 * 3600.0);
        let (mut t, mut interval, mut n) = (t0, 0.0f64, 0);
        while t <= end {
            n += 1;
            interval = if interval == 0.0 { min } else { (interval * 2.0 * jitter).min(cap) };
            t += interval;
        }
        n as f64
    };
    let (fewest, most) = (count(1.4, 1860.0), count(0.8, 1800.0));
    assert!(fewest <= failures && failures <= most, "{failures} failed transactions, expected {fewest}..={most}");
    // Nothing of server 1's users' mail got through after the outage began.
    assert_eq!(fig(a, "federation_inbound_resets"), 0.0);
}

/// Claim F1: cross-server messages are delivered, one server-to-server hop and one service later
/// than same-server ones. In a one-region world the difference of the mean pushed latencies is
/// the mean of that hop (half the region's RTT plus mean jitter) plus a mean service time; the
/// tolerance is a 99.9% t interval over replicates.
#[test]
fn cross_server_delivery_costs_one_hop_and_one_service() {
    let text = r#"
name = "f1"
duration = "2h"
cooldown = "1h"
[world]
users = 800
[world.regions.weights]
europe_west = 1.0
[world.availability]
always_online = 0.5
[[arch]]
kind = "federated"
servers = 10
region = "europe_west"
"#;
    let regions = netarch::world::Regions::default_matrix();
    let ew = regions.id("europe_west").unwrap();
    let expected_ms = regions.one_way(ew, ew).as_millis_f64() + 5.0 + 2.0;
    let diffs: Vec<f64> = (1..=8)
        .map(|seed| {
            let r = run_all(&scenario_with(text, &[&format!("seed={seed}")]));
            let a = &r.archs[0];
            assert!(fig(a, "cross_server_delivered") > 0.0 && fig(a, "same_server_delivered") > 0.0);
            assert_eq!(a.lost, 0);
            fig(a, "cross_server_push_mean_latency_ms") - fig(a, "same_server_push_mean_latency_ms")
        })
        .collect();
    let (mean, half) = mean_ci999(&diffs);
    assert!(half < 3.0, "interval too wide: ±{half} ms");
    assert!(
        (mean - expected_ms).abs() <= half.max(0.2),
        "cross - same = {mean:.2} ± {half:.2} ms, expected {expected_ms:.2} ms"
    );
}

/// Claim F1 on the shipped scenario: federation delivers as much as one provider, cross-server
/// copies are the majority with a Zipf spread, and they are slower at the median.
#[test]
fn federation_scenario_shows_f1() {
    let s = scenario_with(include_str!("../../scenarios/federation.toml"), &["world.users=1000", "duration=3h"]);
    let r = run_all(&s);
    let (one, fed) = (arch(&r, "one provider"), arch(&r, "federation (Zipf)"));
    let even = arch(&r, "federation (even)");
    assert!(fed.delivery_ratio.unwrap() > one.delivery_ratio.unwrap() - 0.02);
    assert!(fig(fed, "cross_server_delivered") > fig(fed, "same_server_delivered"));
    assert!(fig(fed, "cross_server_push_p50_latency_ms") > fig(fed, "same_server_push_p50_latency_ms"));
    assert!(fig(even, "cross_server_contact_share") > fig(fed, "cross_server_contact_share"));
    assert!(even.transmissions_per_delivered.unwrap() > fed.transmissions_per_delivered.unwrap());
    assert!(fed.transmissions_per_delivered.unwrap() > one.transmissions_per_delivered.unwrap());
}

/// Claim F2: with the largest server down, its users' sends are lost as `sender_gave_up`, fewer
/// copies arrive within the deadline, and without Synapse's reset on inbound requests the
/// recovered server's mail waits longer for the next retry.
#[test]
fn federation_outage_scenario_shows_f2() {
    let s = scenario_with(include_str!("../../scenarios/federation-outage.toml"), &["world.users=1000"]);
    let r = run_all(&s);
    let (ok, down, no_reset) = (arch(&r, "no outage"), arch(&r, "largest down 2h"), arch(&r, "largest down, no reset"));
    assert_eq!(ok.lost, 0);
    assert!(down.lost_by_reason[&LossReason::SenderGaveUp] > 0);
    assert!(down.delivered_in_deadline_ratio.unwrap() < ok.delivered_in_deadline_ratio.unwrap() - 0.03);
    assert!(fig(down, "federation_failed_transactions") > 0.0);
    assert!(fig(down, "federation_inbound_resets") > 0.0);
    let (fast, slow) = (
        fig(down, "federation_delay_after_recovery_mean_ms"),
        fig(no_reset, "federation_delay_after_recovery_mean_ms"),
    );
    assert!(slow > 5.0 * fast, "after recovery: {fast:.0} ms with the reset, {slow:.0} ms without");
    // Without the reset the wait after recovery is bounded by the largest back-off interval.
    assert!(slow <= fig(no_reset, "federation_max_backoff_s") * 1e3);
    assert!(no_reset.delivered_in_deadline_ratio.unwrap() <= down.delivered_in_deadline_ratio.unwrap());
}

/// Claim F4: the share of contact pairs that can no longer talk grows with the blocking (nested
/// draws make it monotone), and copies lost as `federation_blocked` grow with it.
#[test]
fn defederation_scenario_shows_f4() {
    let s = scenario_with(include_str!("../../scenarios/defederation.toml"), &["world.users=1000"]);
    let r = run_all(&s);
    let names = ["no blocking", "5% of pairs", "20% of pairs", "50% of pairs"];
    let shares: Vec<f64> = names.iter().map(|n| fig(arch(&r, n), "blocked_pair_share")).collect();
    let lost: Vec<u64> = names.iter().map(|n| arch(&r, n).lost_by_reason[&LossReason::FederationBlocked]).collect();
    assert_eq!(shares[0], 0.0);
    assert_eq!(lost[0], 0);
    assert!(shares.windows(2).all(|w| w[0] <= w[1]), "blocked pair share not monotone: {shares:?}");
    assert!(shares[3] > shares[1] + 0.1, "{shares:?}");
    assert!(lost[3] > lost[1], "{lost:?}");
    assert!(arch(&r, "50% of pairs").delivery_ratio.unwrap() < arch(&r, "no blocking").delivery_ratio.unwrap() - 0.1);
    let two = arch(&r, "two largest block");
    assert_eq!(fig(two, "blocked_server_pairs"), 1.0);
    assert!(fig(two, "blocked_pair_share") > 0.05, "one block between the two largest servers cuts many contacts");
}

/// Against theory: each cross-server contact pair is blocked when its server pair is, which
/// happens with probability `block_share`; over worlds the blocked share of cross-server contact
/// pairs averages `block_share`.
#[test]
fn blocked_pair_share_averages_the_block_share() {
    let text = r#"
name = "share"
duration = "1min"
cooldown = "0s"
[world]
users = 1000
[[arch]]
kind = "federated"
servers = 50
zipf_exponent = 0.8
block_share = 0.3
"#;
    let ratios: Vec<f64> = (1..=16)
        .map(|seed| {
            let r = run_all(&scenario_with(text, &[&format!("seed={seed}")]));
            let a = &r.archs[0];
            fig(a, "blocked_pair_share") / fig(a, "cross_server_contact_share")
        })
        .collect();
    let (mean, half) = mean_ci999(&ratios);
    assert!(half < 0.1, "interval too wide: ±{half}");
    assert!((mean - 0.3).abs() <= half, "blocked share of cross-server pairs {mean:.3} ± {half:.3}, expected 0.3");
}

/// Every path at once (random outages, scheduled outages, blocking, defederated servers, rooms,
/// a short retention, a queue limit, sync polling): the engine's conservation check passes and
/// every loss has one of the model's reasons.
#[test]
fn conservation_holds_on_every_path() {
    let text = r#"
name = "everything"
duration = "3h"
warmup = "20min"
cooldown = "30min"
[world]
users = 700
[world.rooms]
count = 50
size = 7
[world.workload]
room_share = 0.3
rate = "20/h"
[[arch]]
kind = "federated"
servers = 15
mtbf = "3h"
mttr = "20min"
outages = [{ server = 0, start = "1h", end = "90min" }, { server = 0, start = "80min", end = "2h" }]
block_share = 0.1
defederated_share = 0.1
retention = "40min"
queue_limit = 3
service_time = { dist = "exponential", mean = "50ms" }
workers = 1
sync_timeout = "30s"
locality = 0.5
"#;
    let r = run_text(text);
    let a = &r.archs[0];
    assert_eq!(a.copies_created, a.delivered + a.lost + a.in_flight);
    let allowed = [
        LossReason::FederationBlocked,
        LossReason::SenderGaveUp,
        LossReason::RetentionExpired,
        LossReason::QueueOverflow,
    ];
    for (reason, n) in &a.lost_by_reason {
        assert!(*n == 0 || allowed.contains(reason), "{n} lost as {reason:?}");
    }
    for reason in allowed {
        assert!(a.lost_by_reason[&reason] > 0, "no loss as {reason:?}: the path was not exercised");
    }
    assert!(fig(a, "server_outages") > 1.0 && fig(a, "federation_failed_transactions") > 0.0);
    assert!(fig(a, "sync_long_polls") > 0.0);
}
