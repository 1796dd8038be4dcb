//! Mix-network delivery (Loopix-like; claim X1): latency against theory, cover traffic against
//! rate × online time and in the overhead counters exactly once, offline delivery through
//! providers, what each hop sees, conservation, and what a global observer links as mix delay and
//! cover grow, against onion routing on the same workload.

use std::sync::OnceLock;

use netarch::engine::observation::{NodeKind, NodeKinds, Observation, ObservationSink};
use netarch::engine::{RunConfig, RunOutput, Sim};
use netarch::metrics::LossReason;
use netarch::observe::exposure::AdversaryExposure;
use netarch::results::ArchSummary;
use netarch::run::RunResults;
use netarch::scenario::{Scenario, Source, parse};
use netarch::world::World;
use proptest::prelude::*;

use crate::common::{arch, run_all, scenario, scenario_with};

const X1: &str = include_str!("../../scenarios/mixnet.toml");

/// Runs architecture `i` of a scenario with the given observation sinks, returning the engine's
/// own output (the histograms, not only their summaries).
fn run_one<'w>(s: &Scenario, world: &'w World, i: usize, sinks: Vec<&'w mut dyn ObservationSink>) -> RunOutput {
    let mut model = s.archs[i].spec.build(&s.archs[i].name);
    let cfg = RunConfig { seed: s.seed(), arch_index: i as u64, window: s.window, deadline: s.deadline };
    Sim::new(world, model.as_mut(), cfg, sinks).run(&mut |_| {}).expect("conservation holds")
}

fn figure(a: &ArchSummary, k: &str) -> f64 {
    *a.model.figures.get(k).unwrap_or_else(|| panic!("{}: no figure `{k}`", a.name))
}

/// Five Poisson standard deviations around `mean`, at least 5.
fn poisson_tolerance(mean: f64) -> f64 {
    5.0 * mean.sqrt().max(1.0)
}

/// One region whose backbone one-way latency is 50 us, access 10 us at device ends, no jitter,
/// everyone always online, one-packet messages of 500 B, constant processing (20 us at a mix,
/// 30 us at a provider), pulls every 2 s. `rate` is the sends per hour of each user; `archs`
/// holds one `[[arch]]` body per architecture.
fn lab_scenario(matrix: &std::path::Path, users: u32, rate: &str, archs: &[String]) -> String {
    let mut text = format!(
        r#"
name = "lab"
duration = "1h"
warmup = "10min"
cooldown = "10min"
[world]
users = {users}
access_delay = "10us"
jitter = "0s"
[world.regions]
matrix = "{}"
[world.availability]
always_online = 1.0
[world.workload]
rate = "{rate}"
size = {{ dist = "constant", value = "500B" }}
"#,
        matrix.display()
    );
    for (i, body) in archs.iter().enumerate() {
        text.push_str(&format!(
            "[[arch]]\nkind = \"mixnet\"\nname = \"m{i}\"\nmix_processing = {{ dist = \"constant\", value = \"20us\" }}\nprovider_processing = {{ dist = \"constant\", value = \"30us\" }}\npull_interval = \"2s\"\n{body}\n"
        ));
    }
    text
}

/// The theory of `arch::mixnet` (module doc): (h + 4)·D + 3A + h·P_mix + 2·P_provider + h·d +
/// the M/M/1 sojourn in the send queue, 1/(payload_rate − send rate) (none when unpaced), + the
/// mean wait for the next pull, (I − 1 us)/2. Microseconds.
fn theory_us(h: f64, d_us: f64, payload: f64, send_rate: f64) -> f64 {
    let (backbone, access, p_mix, p_provider, pull) = (50.0, 10.0, 20.0, 30.0, 2e6);
    let slot = if payload > 0.0 { 1e6 / (payload - send_rate) } else { 0.0 };
    (h + 4.0) * backbone + 3.0 * access + h * p_mix + 2.0 * p_provider + h * d_us + slot + (pull - 1.0) / 2.0
}

/// Checks the mean latency of one run against the theory, within 4.5 standard errors of the
/// sample (a 99.9% interval is 3.3; the send queue makes successive latencies of one sender
/// weakly dependent) plus the histogram's 0.1% resolution.
fn assert_mean_near(out: &RunOutput, expected_us: f64, what: &str) {
    let rec = &out.recorder;
    assert!(rec.delivered > 1000, "{what}: only {} delivered", rec.delivered);
    assert_eq!(rec.delivered, rec.copies_created, "{what}: every copy to an always-online user arrives");
    let (mean, sd, n) = (rec.latency.mean(), rec.latency.stdev(), rec.delivered as f64);
    let tol = 4.5 * sd / n.sqrt() + 1e-3 * expected_us;
    assert!(
        (mean - expected_us).abs() < tol,
        "{what}: mean {mean:.0} us, theory {expected_us:.0} us, tolerance {tol:.0} us"
    );
}

/// With fixed network delays, the mean latency of always-online deliveries is the network path
/// plus h mix delays of mean d, plus the M/M/1 wait for a payload slot, plus half a pull interval:
/// for 1, 3 and 5 layers, delays from 0 to 0.5 s, paced and unpaced sending, and a send rate high
/// enough (0.1/s against 0.5 slots/s) that the queueing term (2.5 s instead of 2 s) matters.
#[test]
fn mean_latency_matches_the_theory() {
    let dir = tempfile::tempdir().unwrap();
    let matrix = dir.path().join("lab.csv");
    std::fs::write(&matrix, "region,lab\nlab,0.1\n").unwrap();
    // (layers, mean mix delay in us, payload slots per second)
    let cases = [(1u32, 0u64, 0.5f64), (3, 500_000, 0.5), (5, 200_000, 0.5), (3, 100_000, 0.0)];
    let bodies: Vec<String> = cases
        .iter()
        .map(|&(h, d, p)| format!("layers = {h}\nmix_delay = \"{d}us\"\npayload_rate = \"{p}/s\""))
        .collect();
    let s = scenario(&lab_scenario(&matrix, 300, "6/h", &bodies));
    let world = World::generate(s.world.clone(), s.seed());
    for (i, &(h, d, p)) in cases.iter().enumerate() {
        let out = run_one(&s, &world, i, Vec::new());
        let what = format!("h={h}, d={d}us, payload {p}/s");
        assert_mean_near(&out, theory_us(h as f64, d as f64, p, 6.0 / 3600.0), &what);
        assert_eq!(out.recorder.hops_sum, out.recorder.delivered * (h as u64 + 3), "{what}: h + 3 hops per copy");
    }

    // A busy sender: 0.1 sends per second against 0.5 slots per second.
    let busy = vec!["layers = 3\nmix_delay = \"100ms\"".to_string()];
    let s = scenario(&lab_scenario(&matrix, 40, "360/h", &busy));
    let world = World::generate(s.world.clone(), s.seed());
    let out = run_one(&s, &world, 0, Vec::new());
    assert_mean_near(&out, theory_us(3.0, 100_000.0, 0.5, 0.1), "busy sender");
    // The model's own figures agree: mean send-queue wait 2.5 s, mean mix delay 100 ms.
    let f = &out.model.figures;
    let n = out.recorder.delivered as f64;
    let queue = f["mean_client_queue_ms"];
    assert!((queue - 2500.0).abs() < 4.5 * 2500.0 / n.sqrt(), "mean send-queue wait {queue} ms");
    let delay = f["mean_mix_delay_ms"];
    assert!((delay - 100.0).abs() < 4.5 * 100.0 / (3.0 * n).sqrt(), "mean mix delay {delay} ms");
}

/// When each real packet (one per message here) was stored at its recipient's provider and when
/// the pull that took it was answered, in microseconds, from the hops of a world without jitter
/// whose links all take `link` and whose providers process a packet in `provider`.
struct PullTimes {
    link: u64,
    provider: u64,
    stored: std::collections::HashMap<u64, u64>,
    answered: Vec<(u64, u64)>,
}

impl ObservationSink for PullTimes {
    fn observe(&mut self, o: &Observation, kinds: &NodeKinds<'_>) {
        if !o.real {
            return;
        }
        match (kinds.of(o.from), kinds.of(o.to)) {
            (NodeKind::Mix, NodeKind::Storage) => {
                self.stored.insert(o.truth.serial, o.time.0 + self.link + self.provider);
            }
            (NodeKind::Storage, NodeKind::Device) => self.answered.push((o.truth.serial, o.time.0)),
            _ => {}
        }
    }
}

/// Issue 9, for the mixnet that borrows onion's poll grid: a pull takes only packets stored at
/// the provider before its request left the device, whether only the pulls carrying mail are
/// simulated (`counted`) or every pull is (`full`). With 250 ms one-way links, ten messages a
/// minute per recipient and a 2 s grid, one packet in eight reaches the provider while a pull's
/// request is on its way; each packet's pull is checked against the first grid point at or after
/// its store, computed here.
#[test]
fn pulls_take_only_packets_stored_before_they_left_issue_9() {
    let dir = tempfile::tempdir().unwrap();
    let matrix = dir.path().join("far.csv");
    std::fs::write(&matrix, "region,far\nfar,500\n").unwrap();
    let (link, access, provider, interval) = (250_000u64, 10u64, 30u64, 2_000_000u64);
    let modes = ["counted", "full"];
    let bodies: Vec<String> =
        modes.iter().map(|m| format!("layers = 1\nmix_delay = \"0us\"\ncover_observations = \"{m}\"")).collect();
    let s = scenario(&lab_scenario(&matrix, 20, "600/h", &bodies));
    let world = World::generate(s.world.clone(), s.seed());
    for (i, mode) in modes.iter().enumerate() {
        let mut times = PullTimes { link, provider, stored: Default::default(), answered: Vec::new() };
        run_one(&s, &world, i, vec![&mut times]);
        let mut on_its_way = 0u64;
        for &(serial, answered) in &times.answered {
            let stored = times.stored[&serial];
            // The request crosses one link with a device end.
            let left = answered - (link + access);
            assert_eq!(left % interval, 0, "{mode}, message {serial}: its pull left at {left} us, off the grid");
            let first_pull_after_store = stored.div_ceil(interval) * interval;
            assert_eq!(left, first_pull_after_store, "{mode}, message {serial}: stored at {stored} us");
            on_its_way += (!stored.is_multiple_of(interval) && stored % interval <= link + access) as u64;
        }
        let n = times.answered.len() as u64;
        assert!(n > 10_000, "{mode}: only {n} packets pulled");
        assert!(on_its_way * 20 > n, "{mode}: only {on_its_way} of {n} packets arrived while a pull was on its way");
    }
}

/// Latency grows with the mix delay, by about h × the change in its mean, on a world with
/// regions and jitter (the difference of two independent means is checked against the standard
/// errors of both).
#[test]
fn latency_grows_with_the_mix_delay() {
    let text = r#"
name = "delay"
duration = "1h"
warmup = "10min"
cooldown = "20min"
[world]
users = 300
[world.availability]
always_online = 1.0
[[arch]]
kind = "mixnet"
name = "no delay"
mix_delay = "0s"
[[arch]]
kind = "mixnet"
name = "0.5s"
mix_delay = "500ms"
[[arch]]
kind = "mixnet"
name = "2s"
mix_delay = "2s"
"#;
    let s = scenario(text);
    let world = World::generate(s.world.clone(), s.seed());
    let outs: Vec<RunOutput> = (0..3).map(|i| run_one(&s, &world, i, Vec::new())).collect();
    let stat =
        |o: &RunOutput| (o.recorder.latency.mean(), o.recorder.latency.stdev() / (o.recorder.delivered as f64).sqrt());
    let (m0, e0) = stat(&outs[0]);
    let (m1, e1) = stat(&outs[1]);
    let (m2, e2) = stat(&outs[2]);
    assert!(m0 < m1 && m1 < m2, "means {m0} {m1} {m2} us");
    for (lo, hi, elo, ehi, dd) in [(m0, m1, e0, e1, 500_000.0), (m1, m2, e1, e2, 1_500_000.0)] {
        let tol = 5.0 * (elo * elo + ehi * ehi).sqrt();
        let grew = hi - lo;
        assert!((grew - 3.0 * dd).abs() < tol, "grew {grew:.0} us for 3 × {dd} us (tolerance {tol:.0})");
    }
}

/// Cover traffic is counted per online time: loop packets are Poisson with mean loop_rate ×
/// user-seconds online, empty payload slots Poisson with mean payload_rate × user-seconds online
/// with nothing queued, so cover grows linearly with the cover rate; the byte figures follow from
/// the packet counts; observing every cover packet ("full") or a share ("sampled") changes none
/// of this, and the overhead hops observers see then match the counted cover.
#[test]
fn cover_traffic_is_rate_times_online_time() {
    let mut text = String::from(
        r#"
name = "cover"
duration = "2h"
warmup = "30min"
cooldown = "30min"
[world]
users = 250
"#,
    );
    let archs = [
        ("loop 0.1", "0.1/s", "counted"),
        ("loop 0.2", "0.2/s", "counted"),
        ("loop 0.4", "0.4/s", "counted"),
        ("loop 0.2 full", "0.2/s", "full"),
        ("loop 0.2 sampled", "0.2/s", "sampled"),
    ];
    for (name, rate, obs) in archs {
        text.push_str(&format!(
            "[[arch]]\nkind = \"mixnet\"\nname = \"{name}\"\nloop_rate = \"{rate}\"\ndrop_rate = \"0/s\"\nmix_loop_rate = \"0/s\"\ncover_observations = \"{obs}\"\ncover_sample = 0.25\n"
        ));
    }
    let r = run_all(&scenario(&text));
    let online_h = figure(&r.archs[0], "online_user_hours");
    assert!(online_h > 100.0, "{online_h} user-hours online");
    let (h, size, max) = (3.0, 2413.0, 50.0);
    for (a, (_, rate, _)) in r.archs.iter().zip(archs) {
        let rate: f64 = rate.trim_end_matches("/s").parse().unwrap();
        assert_eq!(figure(a, "online_user_hours"), online_h, "{}: the same people are online", a.name);
        let loops = figure(a, "loop_packets");
        let expected = rate * online_h * 3600.0;
        assert!(
            (loops - expected).abs() < poisson_tolerance(expected),
            "{}: {loops} loops, expected {expected}",
            a.name
        );
        let idle_h = figure(a, "idle_user_hours");
        assert!(idle_h <= online_h && idle_h > 0.95 * online_h, "{}: idle {idle_h} of {online_h} h", a.name);
        let drops = figure(a, "payload_drop_packets");
        let expected = 0.5 * idle_h * 3600.0;
        assert!(
            (drops - expected).abs() < poisson_tolerance(expected),
            "{}: {drops} empty slots, expected {expected}",
            a.name
        );
        assert_eq!(figure(a, "drop_packets"), 0.0);
        assert_eq!(figure(a, "mix_loop_packets"), 0.0);
        // Every pull answer is padded to 50 packets.
        let padding = figure(a, "pulls") * max - figure(a, "pulled_real_packets");
        assert_eq!(figure(a, "pull_padding_packets"), padding, "{}", a.name);
        let tx = (loops + drops) * (h + 2.0) + padding;
        assert_eq!(figure(a, "cover_transmissions"), tx, "{}", a.name);
        assert_eq!(figure(a, "cover_bytes"), tx * size, "{}", a.name);
        let share = figure(a, "cover_share_of_bytes");
        assert!(share > 0.99 && share < 1.0, "{}: cover share {share}", a.name);
    }
    // Linear in the rate: doubling the loop rate doubles the loop packets (five standard
    // deviations of the ratio of two Poisson counts).
    let l = |i: usize| figure(&r.archs[i], "loop_packets");
    for (lo, hi) in [(0, 1), (1, 2)] {
        let ratio = l(hi) / l(lo);
        let sd = ratio * (1.0 / l(hi) + 1.0 / l(lo)).sqrt();
        assert!((ratio - 2.0).abs() < 5.0 * sd, "loop packets grew {ratio}× for twice the rate");
    }
    // Each cover packet wakes its device: wake-ups grow with the rate.
    let wake = |i: usize| r.archs[i].wakeups_per_device_hour.unwrap();
    assert!(wake(0) < wake(1) && wake(1) < wake(2));

    // Observed modes: the counted-only run shows observers no cover at all; the full run shows
    // every cover packet, hop by hop, as overhead hops that add up to the counted cover.
    let (counted, full, sampled) = (&r.archs[1], &r.archs[3], &r.archs[4]);
    assert_eq!(figure(counted, "cover_packets_observed"), 0.0);
    // Counted cover reaches the engine's overhead counters in bulk, not as observed hops.
    assert_eq!(
        counted.overhead_transmissions as f64,
        figure(counted, "cover_transmissions") + figure(counted, "pulls"),
        "counted: every cover and pull hop in the overhead counters"
    );
    let cover_packets = figure(full, "loop_packets") + figure(full, "payload_drop_packets");
    assert_eq!(figure(full, "cover_packets_observed"), cover_packets, "full: every cover packet simulated");
    let emitted = full.overhead_transmissions as f64;
    let counted_tx = figure(full, "cover_transmissions") + figure(full, "pulls");
    assert!((emitted - counted_tx).abs() < 0.01 * counted_tx, "full: {emitted} overhead hops for {counted_tx} counted");
    let seen = figure(sampled, "cover_packets_observed");
    let total = figure(sampled, "loop_packets") + figure(sampled, "payload_drop_packets");
    let sd = (total * 0.25 * 0.75).sqrt();
    assert!((seen - 0.25 * total).abs() < 5.0 * sd, "sampled: {seen} of {total} observed");
}

/// A provider stores for offline users: copies sent while the recipient is offline arrive after
/// it comes back, right after its first pull (its time online before delivery is about one round
/// trip, well below the pull interval); with a retention shorter than typical absences, copies
/// are lost as retention_expired.
#[test]
fn providers_deliver_to_offline_recipients_within_retention() {
    let text = r#"
name = "offline"
duration = "2h"
warmup = "30min"
cooldown = "3h"
[world]
users = 300
[[arch]]
kind = "mixnet"
name = "keep 30d"
retention = "30d"
[[arch]]
kind = "mixnet"
name = "keep 10min"
retention = "10min"
"#;
    let r = run_all(&scenario(text));
    let (long, short) = (arch(&r, "keep 30d"), arch(&r, "keep 10min"));
    assert_eq!(long.lost, 0, "nothing expires in 30 days");
    assert!(
        long.latency_offline_at_send.count > 100,
        "only {} copies reached recipients offline at send",
        long.latency_offline_at_send.count
    );
    let back = long.online_to_delivery.p50_ms.unwrap();
    assert!(back < 1_000.0, "median {back} ms from coming online to delivery");
    assert!(long.time_stored.count > 0 && long.time_stored.p95_ms.unwrap() > 60_000.0, "copies waited at the provider");
    let expired = short.lost_by_reason[&LossReason::RetentionExpired];
    assert!(expired > 0 && expired == short.lost, "short retention lost {expired}");
    assert!(short.delivered < long.delivered);
}

/// What observers see, by node kind, for exposure analyses.
#[derive(Default)]
struct Seen {
    warmup_end: u64,
    packet: u32,
    request: u32,
    other_sizes: u64,
    requests_not_device_to_provider: u64,
    mix_reads: u64,
    entry_real: u64,
    entry_reads_recipient: u64,
    entry_misreads_sender: u64,
    exit_real: u64,
    exit_reads_sender: u64,
    exit_misreads_recipient: u64,
    to_device_not_from_provider: u64,
    device_to_device: u64,
    cover_entries: u64,
    cover_hops: u64,
}

impl ObservationSink for Seen {
    fn observe(&mut self, o: &Observation, kinds: &NodeKinds<'_>) {
        let (from, to) = (kinds.of(o.from), kinds.of(o.to));
        if o.bytes == self.request {
            self.requests_not_device_to_provider +=
                (o.real || from != NodeKind::Device || to != NodeKind::Storage) as u64;
        } else if o.bytes != self.packet {
            self.other_sizes += 1;
        }
        self.device_to_device += (from == NodeKind::Device && to == NodeKind::Device) as u64;
        if to == NodeKind::Device {
            self.to_device_not_from_provider += (from != NodeKind::Storage) as u64;
        }
        if !o.real {
            if o.bytes == self.packet {
                self.cover_hops += 1;
                if from == NodeKind::Device && o.time.0 >= self.warmup_end {
                    self.cover_entries += 1;
                }
            }
            return;
        }
        match (from, to) {
            (_, NodeKind::Mix) => {
                self.mix_reads += (o.sender.is_some() || o.recipient.is_some() || o.room.is_some()) as u64
            }
            (NodeKind::Device, NodeKind::Storage) => {
                self.entry_real += 1;
                self.entry_reads_recipient += o.recipient.is_some() as u64;
                self.entry_misreads_sender += (o.sender != Some(o.truth.sender)) as u64;
            }
            (NodeKind::Mix, NodeKind::Storage) => {
                self.exit_real += 1;
                self.exit_reads_sender += o.sender.is_some() as u64;
                self.exit_misreads_recipient += (o.recipient != o.truth.recipient || o.recipient.is_none()) as u64;
            }
            _ => {}
        }
    }
}

/// What hops see: every packet on every link has the same size (pull requests aside); mixes read
/// nothing; the sender's provider reads the sender and not the recipient; the recipient's provider
/// reads the recipient and not the sender; devices talk only to providers. With full cover
/// observations, every cover packet a client sends in the window appears on its link to its
/// provider, with the size of a real packet; in the counted mode observers see no cover packet.
#[test]
fn hops_see_only_their_neighbours_and_packets_look_alike() {
    let text = r#"
name = "seen"
duration = "40min"
warmup = "10min"
cooldown = "10min"
[world]
users = 120
[world.rooms]
count = 5
size = 4
[world.workload]
room_share = 0.2
[[arch]]
kind = "mixnet"
name = "full"
cover_observations = "full"
[[arch]]
kind = "mixnet"
name = "counted"
cover_observations = "counted"
"#;
    let s = scenario(text);
    let world = World::generate(s.world.clone(), s.seed());
    let fresh = || Seen { warmup_end: s.window.warmup_end.0, packet: 2413, request: 200, ..Seen::default() };
    let mut full = fresh();
    let out = run_one(&s, &world, 0, vec![&mut full]);
    assert!(out.recorder.delivered > 50);
    assert_eq!(full.other_sizes, 0, "a packet of another size");
    assert_eq!(full.requests_not_device_to_provider, 0);
    assert_eq!(full.device_to_device, 0);
    assert_eq!(full.to_device_not_from_provider, 0);
    assert_eq!(full.mix_reads, 0, "a mix read an identity");
    assert!(full.entry_real > 0 && full.exit_real > 0);
    assert_eq!(full.entry_reads_recipient, 0, "the sender's provider read a recipient");
    assert_eq!(full.entry_misreads_sender, 0, "the sender's provider did not read its client");
    assert_eq!(full.exit_reads_sender, 0, "the recipient's provider read a sender");
    assert_eq!(full.exit_misreads_recipient, 0, "the recipient's provider did not read the recipient");
    let f = &out.model.figures;
    let sent = f["loop_packets"] + f["drop_packets"] + f["payload_drop_packets"];
    assert_eq!(full.cover_entries as f64, sent, "every counted cover send appears on its first link");
    assert!(
        full.cover_hops as f64 > 10.0 * out.recorder.transmissions as f64,
        "cover outnumbers real traffic on the wire"
    );

    let mut counted = fresh();
    let out = run_one(&s, &world, 1, vec![&mut counted]);
    assert_eq!(counted.cover_hops, 0, "counted mode showed observers a cover packet");
    assert!(out.model.figures["cover_transmissions"] > 0.0, "but counted the cover");
}

/// The built-in X1 scenario at 250 users, run once for the tests that read it.
fn x1_results() -> &'static RunResults {
    static RESULTS: OnceLock<RunResults> = OnceLock::new();
    RESULTS.get_or_init(|| run_all(&scenario_with(X1, &["world.users=250"])))
}

/// Claim X1's cost side on the built-in scenario: the mix network is slower than onion routing
/// for recipients online at send, spends almost all of its bytes and device wake-ups on cover
/// traffic, and without cover it is faster and spends nothing on it.
#[test]
fn the_x1_scenario_pays_latency_and_bandwidth_for_cover() {
    let r = x1_results();
    let (onion, mix, bare) = (arch(r, "session"), arch(r, "mixnet"), arch(r, "mixnet, no cover"));
    assert_eq!(onion.copies_created, mix.copies_created, "paired workload");
    let online = |a: &ArchSummary| a.latency_online_at_send.p50_ms.unwrap();
    assert!(online(mix) > online(onion) + 1_000.0, "mixnet {} ms, onion {} ms", online(mix), online(onion));
    assert!(online(bare) < online(mix), "pacing adds a slot wait");
    assert!(figure(mix, "cover_share_of_bytes") > 0.9);
    assert_eq!(figure(bare, "cover_bytes"), 0.0);
    assert!(mix.wakeups_per_device_hour.unwrap() > 5.0 * onion.wakeups_per_device_hour.unwrap());
}

/// What the adversary labelled `name` learned on architecture `a`.
fn adv<'a>(a: &'a ArchSummary, name: &str) -> &'a AdversaryExposure {
    a.exposure.iter().find(|e| e.adversary == name).unwrap_or_else(|| panic!("no adversary `{name}` on {}", a.name))
}

fn share(v: Option<f64>) -> f64 {
    v.expect("a defined share")
}

/// Two-sided 99.9% quantile of the standard normal distribution.
const Z999: f64 = 3.29;

/// Largest chance difference between two shares measured on `n1` and `n2` messages: 3.29
/// standard errors of the difference, at the binomial worst case p = 1/2.
fn share_tolerance(n1: u64, n2: u64) -> f64 {
    Z999 * (0.25 / n1 as f64 + 0.25 / n2 as f64).sqrt()
}

/// Largest chance difference between two mean entropies over `n1` and `n2` messages, each value
/// within [0, `max_bits`]: its standard deviation is at most `max_bits`/2 (Popoviciu's inequality).
fn entropy_tolerance(max_bits: f64, n1: u64, n2: u64) -> f64 {
    Z999 * max_bits / 2.0 * (1.0 / n1 as f64 + 1.0 / n2 as f64).sqrt()
}

/// One global observer correlating timing and size, 100 always-online users at a low load (six
/// messages an hour each, one-packet messages), Session-like onion routing, and mix networks that
/// deliver without pacing and pull every second (so that neither a send slot nor a long pull wait
/// blurs timing): without delay or cover, then with mean mix delays of 1 s and 4 s, then with
/// loop and drop cover at 0.002/s and 0.02/s per client each, then with both the longest delay and
/// the most cover. Cover is observed packet by packet.
fn x1_lab() -> String {
    let mut text = String::from(
        r#"
name = "x1-lab"
duration = "1h"
warmup = "10min"
cooldown = "10min"
[world]
users = 100
availability = { always_online = 1.0 }
[world.workload]
rate = "6/h"
[[arch]]
preset = "session"
relays = 100
relay_downtime = "0s"
[[adversary]]
kind = "global"
mode = "correlating"
name = "global observer + timing"
"#,
    );
    for (name, delay, cover) in [
        ("bare", "0ms", "0"),
        ("delay 1s", "1s", "0"),
        ("delay 4s", "4s", "0"),
        ("cover 0.002/s", "0ms", "0.002"),
        ("cover 0.02/s", "0ms", "0.02"),
        ("delay 4s, cover 0.02/s", "4s", "0.02"),
    ] {
        text.push_str(&format!(
            "[[arch]]\nkind = \"mixnet\"\nname = \"{name}\"\nmix_delay = \"{delay}\"\npayload_rate = \"0/s\"\nloop_rate = \"{cover}/s\"\ndrop_rate = \"{cover}/s\"\nmix_loop_rate = \"0/s\"\npull_interval = \"1s\"\npull_padding = false\ncover_observations = \"full\"\n"
        ));
    }
    text
}

/// Claim X1's anonymity side (issue 4): on the mix network, the global observer's linking success
/// falls and the anonymity it leaves (mean entropy over senders) rises as the mix delay grows
/// (0, 1 s, 4 s) and as the cover rate grows (0, 0.002/s, 0.02/s), monotone within the sampling
/// error of the messages measured; with the longest delay and the most cover it links fewest; and
/// against Session-like onion routing on the same messages it links almost everything, far more
/// than against the mix network with long delays or cover.
#[test]
fn a_global_observer_links_less_and_knows_less_as_mix_delay_and_cover_grow() {
    let r = run_all(&scenario(&x1_lab()));
    let max_bits = (r.world.users as f64).log2();
    assert_eq!(
        adv(&r.archs[0], "global observer + timing").anonymity.as_ref().unwrap().max_entropy_bits,
        max_bits,
        "entropy is over every user"
    );
    // (linked share, messages, mean entropy, messages with an entropy)
    let point = |name: &str| {
        let e = adv(arch(&r, name), "global observer + timing");
        let an = e.anonymity.as_ref().expect("a correlating adversary has an anonymity summary");
        assert!(
            e.messages > 300 && an.messages > 300,
            "{name}: {} messages, {} with an entropy",
            e.messages,
            an.messages
        );
        (share(e.pair.learned), e.messages, an.mean_entropy_bits.unwrap(), an.messages)
    };
    for series in [["bare", "delay 1s", "delay 4s"], ["bare", "cover 0.002/s", "cover 0.02/s"]] {
        let pts: Vec<(f64, u64, f64, u64)> = series.iter().map(|n| point(n)).collect();
        let show = || format!("{series:?}: {pts:?}");
        for w in pts.windows(2) {
            let (a, b) = (w[0], w[1]);
            assert!(b.0 <= a.0 + share_tolerance(a.1, b.1), "linking grew: {}", show());
            assert!(b.2 >= a.2 - entropy_tolerance(max_bits, a.3, b.3), "entropy fell: {}", show());
        }
        let (first, last) = (pts[0], pts[2]);
        assert!(last.0 < first.0 - share_tolerance(first.1, last.1), "linking did not fall: {}", show());
        assert!(last.2 > first.2 + entropy_tolerance(max_bits, first.3, last.3), "entropy did not rise: {}", show());
    }
    // Without delay or cover there is something to protect: most messages are linked.
    let bare = point("bare");
    assert!(bare.0 > 0.5, "the bare mix network: {bare:?}");
    // Both together link no more than either alone.
    let both = point("delay 4s, cover 0.02/s");
    for alone in ["delay 4s", "cover 0.02/s"] {
        let a = point(alone);
        assert!(both.0 <= a.0 + share_tolerance(both.1, a.1), "{alone}: {a:?}, both: {both:?}");
    }
    // Onion routing on the same messages: the observer links nearly all of them, at least as many
    // as on the bare mix network, and far more (over half of all messages more) than with long
    // delays or cover.
    let onion = point("session");
    assert!(onion.0 > 0.9, "session: {onion:?}");
    assert!(onion.0 >= bare.0 - share_tolerance(onion.1, bare.1), "session {onion:?}, bare mixnet {bare:?}");
    for mixed in ["delay 4s", "cover 0.02/s", "delay 4s, cover 0.02/s"] {
        let m = point(mixed);
        assert!(onion.0 - m.0 > 0.5, "session {onion:?} against {mixed} {m:?}");
        assert!(onion.2 < m.2 - entropy_tolerance(max_bits, onion.3, m.3), "session {onion:?} against {mixed} {m:?}");
    }
}

/// Claim X1's anonymity side on the built-in scenario: a passive global observer links no pair
/// anywhere; correlating timing and size, it links many Session messages, fewer on the mix
/// network without cover, and (within sampling error) none with cover, where it is left with
/// most of the anonymity there is.
#[test]
fn the_x1_scenario_shows_cover_defeating_the_global_observer_that_links_onion_routing() {
    let r = x1_results();
    let (onion, mix, bare) = (arch(r, "session"), arch(r, "mixnet"), arch(r, "mixnet, no cover"));
    for a in [onion, mix, bare] {
        assert_eq!(adv(a, "global observer").pair.learned, Some(0.0), "{}: a passive observer linked a pair", a.name);
    }
    // Every packet a phone sends is a message without cover, so watching the phone's link shows
    // who sent each one; with cover the real packet looks like the dummies around it.
    let passive = |a: &ArchSummary| adv(a, "global observer").sender.learned;
    assert_eq!((passive(onion), passive(bare)), (Some(1.0), Some(1.0)));
    assert_eq!(passive(mix), Some(0.0), "a real packet among cover gave its sender away");
    let g = |a: &ArchSummary| adv(a, "global observer + timing").clone();
    let (go, gm, gb) = (g(onion), g(mix), g(bare));
    assert!(go.messages > 300, "{} messages", go.messages);
    let p = |e: &AdversaryExposure| share(e.pair.learned);
    let tol = |a: &AdversaryExposure, b: &AdversaryExposure| share_tolerance(a.messages, b.messages);
    assert!(p(&go) > p(&gb) + tol(&go, &gb), "session {:?}, no cover {:?}", go.pair, gb.pair);
    assert!(p(&gb) >= p(&gm) - tol(&gb, &gm), "no cover {:?}, cover {:?}", gb.pair, gm.pair);
    // With cover: within 3.29 worst-case standard errors of nothing.
    assert!(p(&gm) < Z999 * (0.25 / gm.messages as f64).sqrt(), "with cover {:?}", gm.pair);
    assert!(p(&go) > 10.0 * p(&gm) + tol(&go, &gm), "session {:?}, cover {:?}", go.pair, gm.pair);
    // The degree of anonymity (H / log2 N, each in [0, 1], so its standard deviation is at most 1/2).
    let degree = |e: &AdversaryExposure| {
        let an = e.anonymity.clone().unwrap();
        (an.mean_degree.unwrap(), an.messages)
    };
    let ((dm, nm), (db, nb), (d_onion, no)) = (degree(&gm), degree(&gb), degree(&go));
    assert!(dm > db + entropy_tolerance(1.0, nm, nb), "degree with cover {dm}, without {db}");
    assert!(dm > d_onion + entropy_tolerance(1.0, nm, no), "degree with cover {dm}, session {d_onion}");
    assert!(dm > 0.8, "with cover the observer is left with most of the anonymity: {dm}");
}

/// Cover traffic's cost is in the engine's overhead counters (`overhead_transmissions`,
/// `overhead_bytes` in the summary and results.json) exactly once in every observation mode:
/// counted by arithmetic, it equals the model's cover and pull figures exactly; simulated packet
/// by packet ("full") or partly ("sampled"), it agrees with the counted run on the same seed
/// within the Poisson noise of the cover counts (five standard deviations of the difference),
/// and every mode agrees with its own figures.
#[test]
fn cover_reaches_the_overhead_counters_once_in_every_observation_mode() {
    let mut text = String::from(
        r#"
name = "overhead"
duration = "1h"
warmup = "15min"
cooldown = "15min"
[world]
users = 150
"#,
    );
    for (name, obs) in [("counted", "counted"), ("full", "full"), ("sampled", "sampled")] {
        text.push_str(&format!(
            "[[arch]]\nkind = \"mixnet\"\nname = \"{name}\"\ncover_observations = \"{obs}\"\ncover_sample = 0.3\n"
        ));
    }
    let r = run_all(&scenario(&text));
    let (h, size) = (3.0, 2413.0);
    // Variance of the cover bytes: each stream's count is Poisson, each packet crosses its hops.
    let variance = |a: &ArchSummary| {
        let f = |k: &str| figure(a, k);
        let client = f("payload_drop_packets") + f("drop_packets") + f("loop_packets");
        (client * (h + 2.0) * (h + 2.0) + f("mix_loop_packets") * (h + 1.0) * (h + 1.0)) * size * size
    };
    let counted = arch(&r, "counted");
    let expected = |a: &ArchSummary| figure(a, "cover_bytes") + figure(a, "pull_request_bytes");
    assert!(figure(counted, "cover_bytes") > 1e9, "cover bytes {}", figure(counted, "cover_bytes"));
    assert_eq!(
        counted.overhead_bytes as f64,
        expected(counted),
        "counted: overhead bytes are the cover and pull bytes"
    );
    assert_eq!(
        counted.overhead_transmissions as f64,
        figure(counted, "cover_transmissions") + figure(counted, "pulls"),
        "counted: overhead transmissions are the cover and pull transmissions"
    );
    for name in ["full", "sampled"] {
        let a = arch(&r, name);
        let diff = a.overhead_bytes as f64 - counted.overhead_bytes as f64;
        let tol = 5.0 * (variance(a) + variance(counted)).sqrt();
        assert!(
            diff.abs() < tol,
            "{name}: {} overhead bytes, counted {} (tolerance {tol:.0})",
            a.overhead_bytes,
            counted.overhead_bytes
        );
        // Against its own figures, only the packets in flight at the two ends of the window
        // differ (recorded when they cross, counted when they are sent): well under 0.1%.
        let own = expected(a);
        assert!(
            (a.overhead_bytes as f64 - own).abs() < 1e-3 * own,
            "{name}: {} overhead bytes, {own} in its figures",
            a.overhead_bytes
        );
    }
}

/// Impossible values are rejected with the key's path.
#[test]
fn impossible_mixnet_parameters_are_rejected_with_their_key() {
    let base = "name = \"bad\"\nduration = \"1h\"\n[world]\nusers = 50\n[[arch]]\nkind = \"mixnet\"\n";
    for (extra, key) in [
        ("layers = 0\n", "arch[0].layers"),
        ("layers = 11\n", "arch[0].layers"),
        ("mixes_per_layer = 0\n", "arch[0].mixes_per_layer"),
        ("providers = 0\n", "arch[0].providers"),
        ("packet_payload = \"4KB\"\n", "arch[0].packet_payload"),
        ("pull_interval = \"0s\"\n", "arch[0].pull_interval"),
        ("max_retrieve = 0\n", "arch[0].max_retrieve"),
        ("retention = \"0s\"\n", "arch[0].retention"),
        ("cover_observations = \"full\"\npull_interval = \"1ms\"\n", "arch[0].pull_interval"),
        ("cover_observations = \"sampled\"\ncover_sample = 1.5\n", "arch[0].cover_sample"),
        ("cover_observations = \"sampled\"\ncover_sample = 0.0\n", "arch[0].cover_sample"),
        ("cover_observations = \"some\"\n", "arch[0].cover_observations"),
        ("loop_rate = \"-1/s\"\n", "arch[0].loop_rate"),
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

    /// Conservation under any mix of layers, delays, pacing, fragmentation, tiny pull intervals,
    /// small pulls, short retention, observation modes, group messages and an internet outage:
    /// every copy ends delivered, lost or in flight.
    #[test]
    fn every_copy_is_accounted_for(
        h in 1u32..=5,
        per_layer in 1u32..=4,
        delay in prop_oneof![Just("0s"), Just("20ms"), Just("2s")],
        payload in prop_oneof![Just("0/s"), Just("0.5/s"), Just("2/s")],
        pull in prop_oneof![Just("1us"), Just("1s"), Just("30s")],
        max_retrieve in 1u32..=5,
        padding in any::<bool>(),
        retention in prop_oneof![Just("2min"), Just("1h"), Just("30d")],
        obs in prop_oneof![Just("counted"), Just("sampled"), Just("full")],
        payload_bytes in prop_oneof![Just("300B"), Just("2KiB")],
        room_share in prop_oneof![Just(0.0), Just(0.3)],
        seed in 1u64..1000,
    ) {
        // Observed modes simulate every pull, so they are held to a realistic interval.
        let pull = if obs != "counted" && pull == "1us" { "1s" } else { pull };
        let text = format!(
            r#"
name = "prop"
seed = {seed}
duration = "40min"
warmup = "5min"
cooldown = "20min"
[world]
users = 60
[[world.internet_outages]]
start = "15min"
end = "20min"
[world.rooms]
count = 4
size = 4
[world.workload]
room_share = {room_share}
rate = "20/h"
[world.availability]
online = {{ dist = "exponential", mean = "10min" }}
offline = {{ dist = "exponential", mean = "10min" }}
[[arch]]
kind = "mixnet"
layers = {h}
mixes_per_layer = {per_layer}
providers = 3
mix_delay = "{delay}"
payload_rate = "{payload}"
loop_rate = "0.2/s"
drop_rate = "0.2/s"
pull_interval = "{pull}"
max_retrieve = {max_retrieve}
pull_padding = {padding}
retention = "{retention}"
cover_observations = "{obs}"
cover_sample = 0.3
packet_payload = "{payload_bytes}"
"#
        );
        let r = run_all(&scenario(&text));
        let a = &r.archs[0];
        prop_assert!(a.copies_created > 0);
        prop_assert_eq!(a.copies_created, a.delivered + a.lost + a.in_flight);
    }
}
