//! Peer-to-peer delivery (Briar-like; claims P1, P2, P3, P4, S3): both peers online, held by the
//! sender meanwhile, DHT lookups, the battery proxy, onion transport and the proximity mesh.

use netarch::engine::observation::{NodeKind, NodeKinds, Observation, ObservationSink};
use netarch::engine::{RunConfig, RunOutput, Sim};
use netarch::metrics::LossReason;
use netarch::rng::{Purpose, stream};
use netarch::scenario::Scenario;
use netarch::time::{SimDuration, SimTime};
use netarch::world::World;
use netarch::world::overlay::{LookupScratch, Overlay};
use proptest::prelude::*;
use rand::RngExt;

use crate::common::{arch, mean_ci999, run_all, run_text, scenario, scenario_with};

const BATTERY: &str = include_str!("../../scenarios/battery.toml");

/// Runs architecture `i` of a scenario on its world with observation sinks.
fn run_one<'w>(s: &Scenario, world: &'w World, i: usize, sinks: Vec<&'w mut dyn ObservationSink>) -> RunOutput {
    let mut model = s.archs[i].spec.build(&s.archs[i].name);
    let cfg = RunConfig { seed: s.seed(), arch_index: i as u64, window: s.window, deadline: s.deadline };
    Sim::new(world, model.as_mut(), cfg, sinks).run(&mut |_| {}).expect("conservation holds")
}

fn figure(r: &netarch::run::RunResults, name: &str, key: &str) -> f64 {
    *arch(r, name).model.figures.get(key).unwrap_or_else(|| panic!("{name} reports no `{key}`"))
}

/// Two people who each alternate exactly one hour online and one hour offline either overlap
/// always or never, depending on the states they start in. When they never overlap, a p2p message
/// is never delivered (the server delivers by storing); when they always do, every message is.
#[test]
fn disjoint_online_windows_deliver_nothing_until_they_overlap() {
    let (mut disjoint, mut overlapping) = (0, 0);
    for seed in 1..=16u64 {
        let text = format!(
            r#"
name = "two"
seed = {seed}
duration = "12h"
cooldown = "2h"
[world]
users = 2
[world.social]
model = "complete"
[world.availability]
online = {{ dist = "constant", value = "1h" }}
offline = {{ dist = "constant", value = "1h" }}
always_online = 0.0
[world.workload]
rate = "20/h"
[[arch]]
kind = "centralized"
name = "server"
[[arch]]
kind = "p2p"
name = "p2p"
"#
        );
        let r = run_text(&text);
        let (server, p2p) = (arch(&r, "server"), arch(&r, "p2p"));
        assert!(p2p.copies_created > 50, "seed {seed}: too few messages");
        let (online, offline) = (server.latency_online_at_send.count, server.latency_offline_at_send.count);
        if online == 0 && offline > 0 {
            // Every message was sent while the recipient was offline: the windows never overlap.
            disjoint += 1;
            assert!(server.delivered > 0, "seed {seed}: the server stores and forwards");
            assert_eq!(p2p.delivered, 0, "seed {seed}: p2p delivered without an overlap");
            assert_eq!(p2p.in_flight, p2p.copies_created, "seed {seed}: the sender's client holds every copy");
        } else if offline == 0 && online > 0 {
            overlapping += 1;
            assert_eq!(p2p.delivered, p2p.copies_created, "seed {seed}: both online, yet not delivered");
            assert!(p2p.latency.max_ms.unwrap() < 2_000.0, "seed {seed}: held although both were online");
        } else {
            panic!(
                "seed {seed}: constant periods must give full or no overlap ({online} online, {offline} offline at send)"
            );
        }
    }
    assert!(
        disjoint > 0 && overlapping > 0,
        "{disjoint} disjoint and {overlapping} overlapping seeds: both cases must be seen"
    );
}

fn availability_scenario(online_mean: &str, seed: u64) -> String {
    format!(
        r#"
name = "p2"
seed = {seed}
duration = "8h"
warmup = "1h"
cooldown = "6h"
deadline = "1h"
[world]
users = 400
[world.availability]
online = {{ dist = "weibull", mean = "{online_mean}", shape = 0.6 }}
offline = {{ dist = "exponential", mean = "2h" }}
always_online = 0.05
[[arch]]
kind = "centralized"
name = "server"
[[arch]]
kind = "p2p"
name = "p2p"
"#
    )
}

/// P2: the share delivered within the deadline falls as online spells shrink, and falls below the
/// server's once spells are short (both peers must be online at once). Paired differences over
/// six seeds must exclude zero at 99.9%.
#[test]
fn delivery_within_deadline_falls_as_online_time_shrinks() {
    let means = ["4h", "1h", "15min"];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); means.len()];
    let mut gap_short = Vec::new();
    for seed in 1..=6u64 {
        for (i, m) in means.iter().enumerate() {
            let r = run_text(&availability_scenario(m, seed));
            let p = arch(&r, "p2p").delivered_in_deadline_ratio.unwrap();
            ratios[i].push(p);
            if i == means.len() - 1 {
                gap_short.push(arch(&r, "server").delivered_in_deadline_ratio.unwrap() - p);
            }
        }
    }
    for i in 0..means.len() - 1 {
        let diffs: Vec<f64> = ratios[i].iter().zip(&ratios[i + 1]).map(|(a, b)| a - b).collect();
        let (mean, half) = mean_ci999(&diffs);
        assert!(mean - half > 0.0, "{} -> {}: in-deadline share fell by {mean:.3} ± {half:.3}", means[i], means[i + 1]);
    }
    let (mean, half) = mean_ci999(&gap_short);
    assert!(mean - half > 0.0, "15min spells: server beats p2p by {mean:.3} ± {half:.3}");
}

/// P1: over a Kademlia overlay (k = 20, α = 3) lookup rounds grow linearly in log n. Each round
/// resolves about log2(k·α) + 1 ≈ 6.9 bits of the target ID, so a tenfold growth adds about
/// log2(10) / 6.9 ≈ 0.48 rounds. Linear or square-root growth in n would make the second decade's
/// increase 10 or 3.2 times the first's.
#[test]
fn dht_lookup_hops_grow_as_log_n() {
    let sizes = [1_000u32, 10_000, 100_000];
    let lookups = 2000;
    let mut mean_rounds = Vec::new();
    for &n in &sizes {
        let o = Overlay::build(n, 20, &mut stream(7, Purpose::Infrastructure, n as u64));
        let mut scratch = LookupScratch::default();
        let mut rng = stream(7, Purpose::Replicate, n as u64);
        let mut rounds = 0u64;
        for _ in 0..lookups {
            let (a, b) = (rng.random_range(0..n), rng.random_range(0..n));
            let l = o.lookup(a, b, 3, &mut scratch, |_, _| SimDuration::from_millis(1));
            assert!(l.found, "n={n}: lookup {a}->{b} failed");
            assert!(l.rpcs <= 3 * l.rounds, "at most α requests per round");
            assert!((l.rounds as f64) <= (n as f64).log2(), "never worse than one bit per round");
            rounds += l.rounds as u64;
        }
        mean_rounds.push(rounds as f64 / lookups as f64);
    }
    let (d1, d2) = (mean_rounds[1] - mean_rounds[0], mean_rounds[2] - mean_rounds[1]);
    assert!(d1 > 0.2 && d2 > 0.2, "hops must grow with n: {mean_rounds:?}");
    assert!((0.6..1.6).contains(&(d2 / d1)), "growth per decade must be constant (log n): {mean_rounds:?}");
    let per_decade = 10f64.log2() / ((20.0f64 * 3.0).log2() + 1.0);
    let slope = (d1 + d2) / 2.0;
    assert!(
        slope > 0.5 * per_decade && slope < 2.0 * per_decade,
        "{slope:.3} rounds per decade, theory {per_decade:.3}"
    );
}

/// With DHT discovery the model runs real lookups, once per (sender, recipient) pair.
#[test]
fn dht_lookups_are_made_once_per_pair_and_reported() {
    let r = run_text(
        r#"
name = "dht"
duration = "3h"
[world]
users = 500
[[arch]]
kind = "p2p"
name = "contacts"
[[arch]]
kind = "p2p"
name = "dht"
discovery = "dht"
"#,
    );
    let dht = arch(&r, "dht");
    let lookups = figure(&r, "dht", "dht_lookups");
    assert!(lookups > 0.0);
    assert_eq!(figure(&r, "dht", "dht_lookups_failed"), 0.0);
    // At most one lookup per directed contact pair, and fewer than the messages sent.
    assert!(lookups <= 2.0 * r.world.contact_edges as f64);
    assert!(lookups < dht.messages_created as f64);
    let hops = figure(&r, "dht", "dht_mean_hops");
    assert!(hops > 0.3 && hops < 2.0, "500 nodes, k = 20: about one round, got {hops}");
    assert!(figure(&r, "dht", "dht_mean_latency_ms") > 0.0);
    // Each request and each reply is an overhead hop; keep-alives are the same in both runs.
    let rpcs = figure(&r, "dht", "dht_mean_rpcs") * lookups;
    let extra = dht.overhead_transmissions as f64 - arch(&r, "contacts").overhead_transmissions as f64;
    assert!((extra - 2.0 * rpcs).abs() < 0.5, "{extra} extra overhead hops for {rpcs} requests");
    assert!(!arch(&r, "contacts").model.figures.contains_key("dht_lookups"));
    // The first message to each contact waits for its lookup.
    assert!(dht.latency.mean_ms.unwrap() > arch(&r, "contacts").latency.mean_ms.unwrap());
}

/// A one-region world with fixed delays and everyone always online: every connection is open
/// from the start, so a direct message takes exactly D + 2A and an onion one (h + 1)·D + 2A.
#[test]
fn fixed_delays_give_one_link_direct_and_h_plus_one_over_onion() {
    let dir = tempfile::tempdir().unwrap();
    let matrix = dir.path().join("lab.csv");
    std::fs::write(&matrix, "region,lab\nlab,0.1\n").unwrap();
    let text = format!(
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
kind = "p2p"
name = "direct"
[[arch]]
kind = "p2p"
name = "onion"
transport = "onion"
onion_relays = 50
"#,
        matrix.display()
    );
    let s = scenario(&text);
    let world = World::generate(s.world.clone(), s.seed());
    let (d, a) = (50u64, 10u64);
    for (i, relays) in [(0usize, 0u64), (1, 6)] {
        let out = run_one(&s, &world, i, Vec::new());
        let rec = &out.recorder;
        let expected = (relays + 1) * d + 2 * a;
        assert!(rec.delivered > 100);
        assert_eq!(rec.delivered, rec.copies_created, "everyone is always online");
        assert_eq!(rec.latency.min(), expected, "{}", s.archs[i].name);
        assert_eq!(rec.latency.max(), expected, "{}", s.archs[i].name);
        assert_eq!(rec.hops_sum, rec.delivered * (relays + 1));
    }
}

/// Records, for real-message hops, whether a device received straight from another device.
#[derive(Default)]
struct DeviceLinks {
    device_to_device: u64,
    into_relays: u64,
    relays_reading_identities: u64,
}

impl ObservationSink for DeviceLinks {
    fn observe(&mut self, obs: &Observation, kinds: &NodeKinds<'_>) {
        if !obs.real {
            return;
        }
        let (from, to) = (kinds.of(obs.from), kinds.of(obs.to));
        if from == NodeKind::Device && to == NodeKind::Device {
            self.device_to_device += 1;
        }
        if to == NodeKind::Relay {
            self.into_relays += 1;
            self.relays_reading_identities += (obs.sender.is_some() || obs.recipient.is_some()) as u64;
        }
    }
}

/// S3/P4: onion transport raises the latency to online recipients, and no device then receives
/// from another device (nobody on the path sees both addresses); direct, every hop does.
#[test]
fn onion_transport_costs_latency_and_hides_addresses() {
    let s = scenario(
        r#"
name = "s3"
duration = "3h"
warmup = "30min"
[world]
users = 400
[[arch]]
kind = "p2p"
name = "direct"
[[arch]]
kind = "p2p"
name = "onion"
transport = "onion"
"#,
    );
    let world = World::generate(s.world.clone(), s.seed());
    let mut direct_links = DeviceLinks::default();
    let direct = run_one(&s, &world, 0, vec![&mut direct_links]);
    let mut onion_links = DeviceLinks::default();
    let onion = run_one(&s, &world, 1, vec![&mut onion_links]);
    let p50 = |o: &RunOutput| o.recorder.latency_online.value_at_quantile(0.5);
    assert!(p50(&onion) > 2 * p50(&direct), "onion p50 {} us against direct {} us", p50(&onion), p50(&direct));
    assert!(direct_links.device_to_device > 0 && direct_links.into_relays == 0);
    assert_eq!(onion_links.device_to_device, 0, "over onion no device receives from a device");
    assert!(onion_links.into_relays > 0);
    assert_eq!(onion_links.relays_reading_identities, 0, "relays read no identity");
    // The recipient still reads who sent it: the peer is a contact.
    assert!(onion.visibility.by_kind[&NodeKind::Device][1] > 0);
}

/// P3: keeping up with contacts costs far more wake-ups than push, even with keep-alives off.
#[test]
fn p2p_wakes_devices_more_than_push() {
    let r = run_all(&scenario_with(BATTERY, &["world.users=300", "duration=3h"]));
    let push = arch(&r, "signal").wakeups_per_device_hour.unwrap();
    let briar = arch(&r, "briar").wakeups_per_device_hour.unwrap();
    let polling = arch(&r, "briar, no keep-alives").wakeups_per_device_hour.unwrap();
    assert!(polling > 3.0 * push, "polling alone {polling:.1}/h against push {push:.1}/h");
    assert!(briar > polling, "keep-alives add wake-ups");
    assert_eq!(figure(&r, "briar, no keep-alives", "keepalives"), 0.0);
    assert!(
        arch(&r, "briar").connections_per_device_hour.unwrap()
            > arch(&r, "signal").connections_per_device_hour.unwrap()
    );
}

/// The battery proxy is arithmetic, so it can be checked exactly: with everyone always online and
/// nothing sent, each device polls at Briar's back-off from time zero (21 rounds in two hours:
/// 14 in the first 49.5 minutes, then one every 10 minutes) and every contact connection flushes
/// a keep-alive every 30 s on each side (240 per side in two hours).
#[test]
fn poll_rounds_and_keepalives_are_counted_exactly() {
    let text = r#"
name = "idle"
duration = "2h"
cooldown = "0s"
[world]
users = 50
[world.availability]
always_online = 1.0
[world.workload]
rate = "0/h"
[[arch]]
kind = "p2p"
name = "polls"
keepalive = "0s"
[[arch]]
kind = "p2p"
name = "polls and keep-alives"
"#;
    let r = run_text(text);
    let (n, e) = (50.0, r.world.contact_edges as f64);
    let hours = 2.0;
    assert_eq!(figure(&r, "polls", "poll_rounds"), 21.0 * n);
    assert_eq!(arch(&r, "polls").wakeups_per_device_hour.unwrap(), 21.0 * n / (n * hours));
    assert_eq!(figure(&r, "polls and keep-alives", "keepalives"), 240.0 * 2.0 * e);
    // Each keep-alive is one 514-byte transmission on the one link of a direct connection.
    let both = arch(&r, "polls and keep-alives");
    assert_eq!(both.overhead_transmissions as f64, 240.0 * 2.0 * e);
    assert_eq!(both.overhead_bytes as f64, 514.0 * 240.0 * 2.0 * e);
    assert_eq!(arch(&r, "polls").overhead_transmissions, 0);
    let expected = (21.0 * n + 480.0 * e) / (n * hours);
    assert!((arch(&r, "polls and keep-alives").wakeups_per_device_hour.unwrap() - expected).abs() < 1e-9);
}

/// Without the start-up poll a held copy waits for the next poll round of either peer, instead of
/// leaving the moment the recipient comes back.
#[test]
fn without_the_start_up_poll_copies_wait_for_a_poll_round() {
    let r = run_text(
        r#"
name = "nostart"
duration = "6h"
warmup = "1h"
cooldown = "3h"
[world]
users = 400
[[arch]]
kind = "p2p"
name = "poll on start"
[[arch]]
kind = "p2p"
name = "poll rounds only"
poll_on_start = false
"#,
    );
    let (on, off) = (arch(&r, "poll on start"), arch(&r, "poll rounds only"));
    let p50 = |a: &netarch::results::ArchSummary| a.online_to_delivery.p50_ms.unwrap();
    assert!(p50(off) > p50(on) + 10_000.0, "recipient back -> delivered: {} ms against {} ms", p50(off), p50(on));
    // The wait is about one poll interval (the recipient's first round comes 1 min after it is
    // back), not a loss: nearly as much arrives by the end.
    assert!(p50(off) < 11.0 * 60_000.0, "no wait beyond the 10-minute cap: {} ms", p50(off));
    assert!(off.delivered as f64 > 0.97 * on.delivered as f64);
}

/// Finds the hops made while a region was cut off and checks that each stayed inside the region.
struct OutageHops {
    region_of: Vec<u32>,
    cut: u32,
    start: SimTime,
    end: SimTime,
    inside: u64,
    across: u64,
}

impl ObservationSink for OutageHops {
    fn observe(&mut self, obs: &Observation, kinds: &NodeKinds<'_>) {
        if !obs.real || obs.time < self.start || obs.time >= self.end {
            return;
        }
        let dev = |n: u32| (kinds.of(n) == NodeKind::Device).then(|| self.region_of[n as usize]);
        let (a, b) = (dev(obs.from), dev(obs.to));
        if a == Some(self.cut) || b == Some(self.cut) {
            if a == b { self.inside += 1 } else { self.across += 1 }
        }
    }
}

/// S3 / C1-style: during a regional internet outage, same-region messages keep flowing over the
/// mesh (and only those: nothing crosses the region's border), so more arrive in time; without
/// the mesh nothing touches the region.
#[test]
fn mesh_keeps_same_region_messages_flowing_during_an_outage() {
    let s = scenario(
        r#"
name = "outage"
duration = "5h"
warmup = "1h"
cooldown = "2h"
deadline = "10min"
[world]
users = 600
[world.regions.weights]
europe_west = 0.5
na_east = 0.5
[[world.internet_outages]]
region = "europe_west"
start = "1h"
end = "5h"
[[arch]]
kind = "p2p"
name = "mesh"
mesh = true
[[arch]]
kind = "p2p"
name = "no mesh"
"#,
    );
    let world = World::generate(s.world.clone(), s.seed());
    let cut = world.params.regions.id("europe_west").unwrap() as u32;
    let sink = || OutageHops {
        region_of: world.user_region.iter().map(|&r| r as u32).collect(),
        cut,
        start: SimTime::ZERO + SimDuration::from_secs(3600),
        end: SimTime::ZERO + SimDuration::from_secs(5 * 3600),
        inside: 0,
        across: 0,
    };
    let (mut with, mut without) = (sink(), sink());
    let mesh = run_one(&s, &world, 0, vec![&mut with]);
    let plain = run_one(&s, &world, 1, vec![&mut without]);
    assert!(with.inside > 100, "same-region messages flow over the mesh: {}", with.inside);
    assert_eq!(with.across, 0, "nothing leaves the cut-off region");
    assert_eq!(without.inside + without.across, 0, "without the mesh the region is silent");
    assert!(
        mesh.recorder.delivered_in_deadline > plain.recorder.delivered_in_deadline + with.inside / 2,
        "{} against {} in time",
        mesh.recorder.delivered_in_deadline,
        plain.recorder.delivered_in_deadline
    );
    assert!(mesh.model.figures["mesh_deliveries"] > 0.0);
    assert_eq!(plain.model.figures["mesh_deliveries"], 0.0);
}

/// Copies a sender gave up on, and copies that outlived a mailbox, are lost with their reasons.
#[test]
fn give_up_and_mailbox_expiry_lose_copies_with_their_reasons() {
    let r = run_text(
        r#"
name = "losses"
duration = "6h"
cooldown = "6h"
[world]
users = 300
[world.availability]
online = { dist = "exponential", mean = "20min" }
offline = { dist = "exponential", mean = "4h" }
always_online = 0.0
[[arch]]
kind = "p2p"
name = "impatient"
give_up = "30min"
[[arch]]
kind = "p2p"
name = "short mailbox"
mailbox = 1.0
mailbox_ttl = "30min"
"#,
    );
    let impatient = arch(&r, "impatient");
    assert!(impatient.lost_by_reason[&LossReason::SenderGaveUp] > 0);
    assert_eq!(impatient.lost, impatient.lost_by_reason[&LossReason::SenderGaveUp]);
    let mb = arch(&r, "short mailbox");
    assert!(mb.lost_by_reason[&LossReason::TtlExpired] > 0);
    assert!(figure(&r, "short mailbox", "mailbox_deliveries") > 0.0);
    for a in &r.archs {
        assert_eq!(a.copies_created, a.delivered + a.lost + a.in_flight, "{}", a.name);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Every combination of options conserves messages (the engine checks created = delivered +
    /// lost + in flight at the end of every run), with rooms, outages and losses in play.
    #[test]
    fn every_option_combination_conserves_messages(
        seed in 1u64..1000,
        mailbox in prop::sample::select(vec![0.0, 0.5, 1.0]),
        mesh: bool,
        onion: bool,
        dht: bool,
        start_poll: bool,
        give_up_min in 10u32..600,
    ) {
        let text = format!(
            r#"
name = "mix"
seed = {seed}
duration = "3h"
warmup = "20min"
cooldown = "1h"
[world]
users = 150
[world.rooms]
count = 10
size = 5
[world.workload]
room_share = 0.3
[[world.internet_outages]]
region = "europe_west"
start = "1h"
end = "2h"
[[world.internet_outages]]
start = "150min"
end = "160min"
[[arch]]
kind = "p2p"
mailbox = {mailbox}
mailbox_ttl = "40min"
mesh = {mesh}
transport = "{}"
discovery = "{}"
poll_on_start = {start_poll}
give_up = "{give_up_min}min"
onion_relays = 100
"#,
            if onion { "onion" } else { "direct" },
            if dht { "dht" } else { "contacts" },
        );
        let r = run_text(&text);
        let a = &r.archs[0];
        prop_assert!(a.copies_created > 0);
        prop_assert_eq!(a.copies_created, a.delivered + a.lost + a.in_flight);
    }
}
