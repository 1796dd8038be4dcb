//! Exposure-analysis benchmarks.
//!
//! 1. A whole run of the four app presets on one world, without adversaries and with the six of
//!    the cost table in docs/exposure.md (operator, largest home server, 10% of relays, an ISP, a
//!    contact, a correlating global observer), in messages simulated per second: the ratio of the
//!    two is what the exposure analysis adds to a run (world generation excluded).
//! 2. The timing correlator alone, fed a synthetic stream of entries and exits at a fixed rate
//!    for growing numbers of messages: the time per message stays flat (the work per exit is the
//!    plausible entries of one window, never all pairs), so the total grows linearly.

use std::hint::black_box;

#[path = "support/xorshift.rs"]
mod xorshift;
use xorshift::XorShift;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use netarch::observe::correlate::Correlator;
use netarch::run::{entries, run_on};
use netarch::scenario::{Scenario, Source, parse};
use netarch::time::{SimDuration, SimTime};
use netarch::world::World;

/// The four presets on a 5,000-user world for 12 hours (about 190,000 messages per architecture),
/// with the six adversaries of the cost table.
const SCENARIO: &str = r#"
name = "exposure-bench"
duration = "12h"
warmup = "1h"
cooldown = "2h"
[world]
users = 5000
[[arch]]
preset = "signal"
[[arch]]
preset = "element"
[[arch]]
preset = "briar"
[[arch]]
preset = "session"
[[adversary]]
kind = "operator"
[[adversary]]
kind = "home_server"
[[adversary]]
kind = "relays"
share = 0.1
[[adversary]]
kind = "isp"
region = "europe_west"
[[adversary]]
kind = "contact"
[[adversary]]
kind = "global"
mode = "correlating"
"#;

fn whole_run(c: &mut Criterion) {
    let source = Source { file: "exposure-bench.toml".into(), text: SCENARIO.into(), dir: None };
    let six = parse(&source, &[]).expect("valid scenario");
    assert_eq!(six.adversaries.len(), 6);
    let none = Scenario { adversaries: Vec::new(), ..six.clone() };
    let world = World::generate(six.world.clone(), six.seed());
    let run = |s: &Scenario| run_on(&world, s, entries(s), &|_, _| {}).expect("run");
    let messages: u64 = run(&none).archs.iter().map(|a| a.messages_created).sum();
    let mut g = c.benchmark_group("whole run, 4 presets, 5k users, 12 h");
    g.sample_size(10);
    g.throughput(Throughput::Elements(messages));
    g.bench_function("no adversaries", |b| b.iter(|| run(&none)));
    g.bench_function("six adversaries", |b| b.iter(|| run(&six)));
    g.finish();
}

/// What the correlator is fed.
#[derive(Clone, Copy)]
enum Feed {
    Entry { addr: u32, bytes: u32, serial: u64 },
    Exit { bytes: u32, serial: u64 },
}

const USERS: u32 = 13_500;

/// `messages` messages entering at 12 per second (the 1M-message day of the cost table) from
/// random users, each leaving after 50 ms to 2 s with 0 to 3% more bytes, among twice as many
/// background entries of 100 to 200 bytes (polls, cover); sorted by time.
fn stream(messages: u64) -> Vec<(SimTime, Feed)> {
    let mut r = XorShift(0x2545_F491_4F6C_DD1D);
    let gap_us = 1_000_000 / 12;
    let mut v = Vec::with_capacity(messages as usize * 4);
    for serial in 0..messages {
        let t = serial * gap_us + r.below(gap_us);
        let bytes = 200 + r.below(4000) as u32;
        v.push((SimTime(t), Feed::Entry { addr: r.below(USERS as u64) as u32, bytes, serial }));
        let delay = 50_000 + r.below(1_950_000);
        let grown = bytes + (bytes as u64 * r.below(4) / 100) as u32;
        v.push((SimTime(t + delay), Feed::Exit { bytes: grown, serial }));
        for _ in 0..2 {
            let addr = r.below(USERS as u64) as u32;
            let poll = 100 + r.below(100) as u32;
            v.push((SimTime(serial * gap_us + r.below(gap_us)), Feed::Entry { addr, bytes: poll, serial: u64::MAX }));
        }
    }
    // Entries before exits at the same instant, as a hop is seen leaving before it arrives.
    v.sort_by_key(|&(t, f)| (t, matches!(f, Feed::Exit { .. })));
    v
}

fn correlator(c: &mut Criterion) {
    let mut g = c.benchmark_group("correlator alone, 12 messages/s, 60 s window");
    g.sample_size(10);
    for messages in [100_000u64, 200_000, 400_000] {
        let feed = stream(messages);
        g.throughput(Throughput::Elements(messages));
        g.bench_with_input(BenchmarkId::from_parameter(messages), &feed, |b, feed| {
            b.iter_batched_ref(
                || Correlator::new(USERS, SimDuration::from_secs(60), true),
                |c| {
                    let mut h = 0.0;
                    for &(t, f) in feed {
                        match f {
                            Feed::Entry { addr, bytes, serial } => c.entry(t, addr, bytes, serial),
                            Feed::Exit { bytes, serial } => h += c.exit(t, bytes, serial).entropy,
                        }
                    }
                    black_box(h)
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, whole_run, correlator);
criterion_main!(benches);
