//! Event-core benchmark: the hold model (pop the earliest event, push one at a random later
//! time) with a million pending events, for netarch's timing-wheel queue and, as the reference
//! point, std's binary heap ordered by (time, sequence).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;

#[path = "support/xorshift.rs"]
mod xorshift;
use xorshift::XorShift;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use netarch::engine::ModelEvent;
use netarch::engine::queue::EventQueue;

const PENDING: usize = 1_000_000;
const HOLDS: u64 = 2_000_000;

fn filled_wheel() -> EventQueue<ModelEvent> {
    let mut q = EventQueue::new();
    let mut r = XorShift(0x9E37_79B9_7F4A_7C15);
    for i in 0..PENDING {
        q.push(r.next() % 1_000_000_000, ModelEvent { kind: 0, a: i as u32, b: 0, c: 0 });
    }
    q
}

/// The binary heap carries the same 16-byte payload as a ModelEvent, as plain integers.
type HeapEntry = Reverse<(u64, u64, u32, u32, u32)>;

fn filled_heap() -> BinaryHeap<HeapEntry> {
    let mut h = BinaryHeap::with_capacity(PENDING);
    let mut r = XorShift(0x9E37_79B9_7F4A_7C15);
    for i in 0..PENDING {
        h.push(Reverse((r.next() % 1_000_000_000, i as u64, i as u32, 0, 0)));
    }
    h
}

fn hold(c: &mut Criterion) {
    let mut g = c.benchmark_group("hold model, 1M pending");
    g.throughput(Throughput::Elements(HOLDS));
    g.sample_size(10);
    g.bench_function("timing wheel (netarch)", |b| {
        b.iter_batched_ref(
            filled_wheel,
            |q| {
                let mut r = XorShift(12345);
                for _ in 0..HOLDS {
                    let (t, ev) = q.pop().expect("pending");
                    q.push(t + 1 + r.next() % 2_000_000, black_box(ev));
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("std BinaryHeap (time, seq)", |b| {
        b.iter_batched_ref(
            filled_heap,
            |h| {
                let mut r = XorShift(12345);
                let mut seq = PENDING as u64;
                for _ in 0..HOLDS {
                    let Reverse((t, _, a, b, c)) = h.pop().expect("pending");
                    seq += 1;
                    h.push(Reverse((t + 1 + r.next() % 2_000_000, seq, black_box(a), b, c)));
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, hold);
criterion_main!(benches);
