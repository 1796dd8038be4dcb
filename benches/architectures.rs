//! Whole-run benchmarks: messages simulated per second for each architecture on the same world
//! (world generation excluded), on a 20,000-user version of the default scenario.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use netarch::run::{entries, run_on};
use netarch::scenario::{load, parse};
use netarch::world::World;

fn architectures(c: &mut Criterion) {
    let sets: Vec<String> =
        ["world.users=20000", "duration=2h", "warmup=0s", "cooldown=30min"].iter().map(|s| s.to_string()).collect();
    let mut s = parse(&load("default").expect("built-in"), &sets).expect("valid");
    s.adversaries.clear(); // the architectures alone; benches/exposure.rs measures the analysis
    let world = World::generate(s.world.clone(), s.seed());
    let mut g = c.benchmark_group("whole run, 20k users");
    g.sample_size(10);
    for (i, a) in s.archs.iter().enumerate() {
        // Count this architecture's messages once, to report messages per second.
        let one = |i: usize| {
            let mut e = entries(&s);
            let e = e.swap_remove(i);
            run_on(&world, &s, vec![e], &|_, _| {}).expect("run")
        };
        let messages = one(i).archs[0].messages_created;
        g.throughput(Throughput::Elements(messages));
        g.bench_function(format!("{} ({})", a.name, a.spec.kind()), |b| b.iter(|| one(i)));
    }
    g.finish();
}

criterion_group!(benches, architectures);
criterion_main!(benches);
