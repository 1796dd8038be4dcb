//! A FIFO queue in front of `c` identical service channels, and its load figures.
//!
//! A server (a provider, a home server, a relay) accepts work items; an item that finds a free
//! channel is served at once, one that does not waits in FIFO order, and one that finds
//! `limit` items waiting is refused. The model draws the service time and schedules the end of
//! service itself (so the queue owns no events); the queue keeps the figures:
//!
//! - an item counts as served when its service starts after arriving after the warm-up (its
//!   wait and service time are known then); wait is start minus arrival, sojourn is wait plus
//!   service;
//! - utilisation is busy time over available time during the sending period
//!   (`warmup_end..sends_end`), where the offered load is steady: busy time outside that period
//!   (the warm-up, the cool-down's drain) is not counted, as
//!   [`ServerStats::utilisation`](crate::metrics::ServerStats) documents. This is the one definition
//!   every architecture reports.
//!
//! Nodes that process without queueing (onion relays, mixes: every packet is processed at once,
//! in parallel) keep only a [`Load`], the same figures without a queue.

use std::collections::VecDeque;

use super::window::in_sending_period;
use crate::metrics::ServerStats;
use crate::time::Window;
use crate::time::{SimDuration, SimTime};

/// What became of an arriving item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// A channel was free and is now taken: start the item's service now ([`ServiceQueue::begin`]).
    Serve,
    /// Every channel is busy: the item waits and comes back from [`ServiceQueue::end_service`].
    Wait,
    /// Every channel is busy and the queue is at its limit: the item is refused.
    Full,
}

/// The work done by a group of service channels: what `ServerStats` is made of.
#[derive(Clone, Copy, Debug, Default)]
pub struct Load {
    served: u64,
    busy_us: u128,
    wait_us: u128,
    sojourn_us: u128,
}

impl Load {
    /// A service of length `service` starts at `start` for an item that arrived at `arrived`.
    #[inline]
    pub fn record(&mut self, start: SimTime, arrived: SimTime, service: SimDuration, w: &Window) {
        self.busy_us += in_sending_period(start, start + service, w) as u128;
        if arrived >= w.warmup_end {
            let wait = start.since(arrived);
            self.served += 1;
            self.wait_us += wait.0 as u128;
            self.sojourn_us += (wait + service).0 as u128;
        }
    }

    /// Adds another group's work to this one.
    pub fn add(&mut self, other: &Load) {
        self.served += other.served;
        self.busy_us += other.busy_us;
        self.wait_us += other.wait_us;
        self.sojourn_us += other.sojourn_us;
    }

    /// The figures of `channels` channels that did this work with no queue in front of them
    /// (nothing waits: `peak_queue` 0, no mean wait).
    pub fn stats(&self, role: &str, channels: u32, w: &Window) -> ServerStats {
        ServerStats { peak_queue: 0, mean_wait_ms: None, ..self.queued_stats(role, channels, w) }
    }

    fn queued_stats(&self, role: &str, channels: u32, w: &Window) -> ServerStats {
        let period_us = w.sends_end.since(w.warmup_end).0.max(1) as f64;
        let served = self.served;
        ServerStats {
            role: role.into(),
            count: channels,
            served,
            utilisation: self.busy_us as f64 / (period_us * channels.max(1) as f64),
            peak_queue: 0,
            mean_sojourn_ms: (served > 0).then(|| self.sojourn_us as f64 / served as f64 / 1e3),
            mean_wait_ms: (served > 0).then(|| self.wait_us as f64 / served as f64 / 1e3),
        }
    }
}

/// A c-channel FIFO queue of items `T` (typically message handles).
#[derive(Clone, Debug)]
pub struct ServiceQueue<T> {
    channels: u32,
    limit: Option<u32>,
    busy: u32,
    waiting: VecDeque<(T, SimTime)>,
    peak_waiting: u64,
    load: Load,
}

impl<T: Copy> ServiceQueue<T> {
    /// An idle queue with `channels` service channels and at most `limit` items waiting.
    pub fn new(channels: u32, limit: Option<u32>) -> Self {
        ServiceQueue { channels, limit, busy: 0, waiting: VecDeque::new(), peak_waiting: 0, load: Load::default() }
    }

    /// `item` arrives at `now`.
    #[inline]
    pub fn arrive(&mut self, now: SimTime, item: T) -> Arrival {
        if self.busy < self.channels {
            self.busy += 1;
            Arrival::Serve
        } else if self.limit.is_some_and(|l| self.waiting.len() as u64 >= l as u64) {
            Arrival::Full
        } else {
            self.waiting.push_back((item, now));
            self.peak_waiting = self.peak_waiting.max(self.waiting.len() as u64);
            Arrival::Wait
        }
    }

    /// An item that arrived at `arrived` starts a service of length `service` at `now` on a
    /// channel it holds (after [`Arrival::Serve`] or from [`ServiceQueue::end_service`]).
    #[inline]
    pub fn begin(&mut self, now: SimTime, arrived: SimTime, service: SimDuration, w: &Window) {
        self.load.record(now, arrived, service, w);
    }

    /// A service ended: the next waiting item and its arrival time, which takes over the channel
    /// (call [`ServiceQueue::begin`] for it), or `None` and the channel is free.
    #[inline]
    pub fn end_service(&mut self) -> Option<(T, SimTime)> {
        let next = self.waiting.pop_front();
        if next.is_none() {
            self.busy -= 1;
        }
        next
    }

    /// Items waiting now.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// The load figures of a group of queues reported as one (`role` names what they are).
    pub fn stats<'a>(role: &str, queues: impl IntoIterator<Item = &'a Self>, w: &Window) -> ServerStats
    where
        T: 'a,
    {
        let (mut channels, mut load, mut peak) = (0u32, Load::default(), 0);
        for q in queues {
            channels += q.channels;
            load.add(&q.load);
            peak = peak.max(q.peak_waiting);
        }
        ServerStats { peak_queue: peak, ..load.queued_stats(role, channels, w) }
    }
}

#[cfg(test)]
mod tests {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    use rand::SeedableRng;
    use rand_distr::{Distribution, Exp};

    use super::*;
    use crate::engine::SimRng;

    /// Drives one queue through arrivals `(time, service)` with a tiny event loop; returns the
    /// items refused.
    fn drive(q: &mut ServiceQueue<usize>, jobs: &[(SimTime, SimDuration)], w: &Window) -> Vec<usize> {
        // (time, 0 = end of service / 1 = arrival, job): ends first at equal times.
        let mut events: BinaryHeap<Reverse<(SimTime, u8, usize)>> =
            jobs.iter().enumerate().map(|(i, &(t, _))| Reverse((t, 1, i))).collect();
        let mut refused = Vec::new();
        while let Some(Reverse((now, kind, job))) = events.pop() {
            if kind == 1 {
                match q.arrive(now, job) {
                    Arrival::Serve => {
                        q.begin(now, now, jobs[job].1, w);
                        events.push(Reverse((now + jobs[job].1, 0, job)));
                    }
                    Arrival::Wait => {}
                    Arrival::Full => refused.push(job),
                }
            } else if let Some((next, arrived)) = q.end_service() {
                q.begin(now, arrived, jobs[next].1, w);
                events.push(Reverse((now + jobs[next].1, 0, next)));
            }
        }
        refused
    }

    fn s(x: u64) -> SimTime {
        SimTime(x * 1_000_000)
    }

    fn d(x: u64) -> SimDuration {
        SimDuration(x * 1_000_000)
    }

    #[test]
    fn a_busy_single_channel_queues_in_fifo_order_with_hand_computed_waits() {
        // Arrivals at 0, 1, 2 s, each needing 3 s: starts at 0, 3, 6; waits 0, 2, 4 s.
        let w = Window { warmup_end: s(0), sends_end: s(100), run_end: s(200) };
        let mut q = ServiceQueue::new(1, None);
        assert!(drive(&mut q, &[(s(0), d(3)), (s(1), d(3)), (s(2), d(3))], &w).is_empty());
        let st = ServiceQueue::stats("server", [&q], &w);
        assert_eq!(st.served, 3);
        assert_eq!(st.peak_queue, 2);
        assert_eq!(st.mean_wait_ms, Some(2000.0));
        assert_eq!(st.mean_sojourn_ms, Some(5000.0));
        assert!((st.utilisation - 9.0 / 100.0).abs() < 1e-12, "9 s busy in a 100 s sending period");
    }

    #[test]
    fn a_full_queue_refuses_and_c_channels_serve_in_parallel() {
        let w = Window { warmup_end: s(0), sends_end: s(10), run_end: s(20) };
        let mut q = ServiceQueue::new(2, Some(1));
        // Four at once on two channels and one waiting place: the fourth is refused.
        let jobs = [(s(0), d(4)), (s(0), d(4)), (s(0), d(4)), (s(0), d(4))];
        assert_eq!(drive(&mut q, &jobs, &w), [3]);
        let st = ServiceQueue::stats("server", [&q], &w);
        assert_eq!((st.count, st.served, st.peak_queue), (2, 3, 1));
        assert_eq!(st.mean_wait_ms, Some(4000.0 / 3.0));
        assert!((st.utilisation - 12.0 / 20.0).abs() < 1e-12, "12 channel-seconds of 2 × 10");
    }

    #[test]
    fn utilisation_counts_only_the_sending_period_and_served_only_after_the_warm_up() {
        // Busy 5..15 s: 5 s in the warm-up (0..10), then the sending period is 10..20,
        // then one service in the cool-down (25..30) that does not count.
        let w = Window { warmup_end: s(10), sends_end: s(20), run_end: s(40) };
        let mut q = ServiceQueue::new(1, None);
        drive(&mut q, &[(s(5), d(10)), (s(25), d(5))], &w);
        let st = ServiceQueue::stats("server", [&q], &w);
        assert!((st.utilisation - 0.5).abs() < 1e-12, "5 s of the 10 s sending period");
        assert_eq!(st.served, 1, "the item that arrived in the warm-up is not counted");
    }

    #[test]
    fn group_stats_add_channels_and_work() {
        let w = Window { warmup_end: s(0), sends_end: s(10), run_end: s(10) };
        let (mut a, mut b) = (ServiceQueue::new(1, None), ServiceQueue::new(3, None));
        drive(&mut a, &[(s(0), d(10))], &w);
        drive(&mut b, &[(s(0), d(2))], &w);
        let st = ServiceQueue::stats("servers", [&a, &b], &w);
        assert_eq!((st.count, st.served), (4, 2));
        assert!((st.utilisation - 12.0 / 40.0).abs() < 1e-12);
    }

    #[test]
    fn a_load_without_a_queue_reports_no_wait_and_its_busy_share() {
        let w = Window { warmup_end: s(10), sends_end: s(20), run_end: s(30) };
        let mut load = Load::default();
        load.record(s(5), s(5), d(10), &w); // arrived in the warm-up: busy 10..15 counts, not served
        load.record(s(12), s(12), d(2), &w);
        load.record(s(19), s(19), d(4), &w); // 1 s of it before the cool-down
        let st = load.stats("relays", 2, &w);
        assert_eq!((st.served, st.peak_queue, st.mean_wait_ms), (2, 0, None));
        assert_eq!(st.mean_sojourn_ms, Some(3000.0));
        assert!((st.utilisation - 8.0 / 20.0).abs() < 1e-12, "8 busy seconds of 2 × 10");
    }

    #[test]
    fn an_m_m_1_queue_matches_queueing_theory() {
        // λ = 0.5/s, μ = 1/s: ρ = 0.5, mean wait ρ/(μ − λ) = 1 s, mean sojourn 1/(μ − λ) = 2 s.
        let mut rng = SimRng::seed_from_u64(11);
        let (gap, service) = (Exp::new(0.5).unwrap(), Exp::new(1.0).unwrap());
        let n = 100_000;
        let mut t = 0.0;
        let jobs: Vec<(SimTime, SimDuration)> = (0..n)
            .map(|_| {
                t += gap.sample(&mut rng);
                (SimTime((t * 1e6) as u64), SimDuration::from_secs_f64(service.sample(&mut rng)))
            })
            .collect();
        let w = Window { warmup_end: SimTime::ZERO, sends_end: jobs[n - 1].0, run_end: SimTime(u64::MAX / 2) };
        // Batch means give the standard error of the means without assuming independence.
        let batches = 50;
        let per = n / batches;
        let (mut waits, mut sojourns, mut utils) = (Vec::new(), Vec::new(), Vec::new());
        for b in 0..batches {
            let batch = &jobs[b * per..(b + 1) * per];
            let bw = Window { warmup_end: batch[0].0, sends_end: batch[per - 1].0, run_end: w.run_end };
            let mut q = ServiceQueue::new(1, None);
            drive(&mut q, batch, &bw);
            let st = ServiceQueue::stats("server", [&q], &bw);
            waits.push(st.mean_wait_ms.unwrap() / 1e3);
            sojourns.push(st.mean_sojourn_ms.unwrap() / 1e3);
            utils.push(st.utilisation);
        }
        for (name, values, expect) in [("wait", &waits, 1.0), ("sojourn", &sojourns, 2.0), ("utilisation", &utils, 0.5)]
        {
            let m = values.iter().sum::<f64>() / batches as f64;
            let var = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (batches - 1) as f64;
            let se = (var / batches as f64).sqrt();
            // Each batch starts empty, which biases waits down by about one busy period's
            // share of the batch (under 1%); 5 standard errors plus that bias.
            let tol = 5.0 * se + 0.01 * expect;
            assert!((m - expect).abs() < tol, "mean {name} {m}, theory {expect}, tolerance {tol}");
        }
    }
}
