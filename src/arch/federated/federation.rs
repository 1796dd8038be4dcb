//! Federation between home servers: Synapse's retry discipline (request retries, the
//! per-destination back-off, the inbound reset) and the per-destination queues an origin keeps
//! for a destination it cannot reach. Events are never dropped here: they wait until the
//! destination answers.

use rand::RngExt;

use super::{FED_ARRIVE, Federated, PAIR_TIMER};
use crate::engine::observation::Visible;
use crate::engine::{Ctx, Dest, ModelEvent, MsgId};
use crate::metrics::recorder::LossReason;
use crate::time::{SimDuration, SimTime};

/// Bounds of the jitter factor Synapse multiplies each back-off step by
/// (`synapse/util/retryutils.py`: `random.uniform(0.8, 1.4)`).
pub const BACKOFF_JITTER: (f64, f64) = (0.8, 1.4);

/// Synapse's per-destination back-off: the interval to wait after a failed transaction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// First interval after a failure (Synapse `destination_min_retry_interval`, 10 min).
    pub min: SimDuration,
    /// Growth per further failure (Synapse `destination_retry_multiplier`, 2).
    pub multiplier: f64,
    /// Largest interval (Synapse `destination_max_retry_interval`, 7 days).
    pub max: SimDuration,
}

impl Backoff {
    /// The interval after one more failure, given the current one (zero when the destination was
    /// healthy) and a jitter factor drawn from [`BACKOFF_JITTER`]. As in Synapse's
    /// `RetryDestinationLimiter`, the first interval is `min` without jitter; later ones are
    /// `current × multiplier × jitter`, capped at `max`.
    pub fn next(&self, current: SimDuration, jitter: f64) -> SimDuration {
        if current == SimDuration::ZERO {
            return self.min;
        }
        SimDuration::from_secs_f64(current.as_secs_f64() * self.multiplier * jitter).min(self.max)
    }
}

/// Delay before the `k`-th retry (1-based) inside one federation transaction request:
/// `min(4^k s, cap) × jitter`, Synapse's "long retry" algorithm
/// (`synapse/http/matrixfederationclient.py`, `_send_request`).
pub fn request_retry_delay(k: u32, cap: SimDuration, jitter: f64) -> SimDuration {
    let base = SimDuration::from_secs_f64(4f64.powi(k.min(40) as i32)).min(cap);
    SimDuration::from_secs_f64(base.as_secs_f64() * jitter)
}

/// An origin server's view of one destination it has failed to reach at least once; its
/// waiting events are in `Federated::pair_queue` and its retry timer in `Federated::pair_timer`,
/// under the pair's index.
#[derive(Clone, Copy)]
pub(super) struct Pair {
    origin: u32,
    dest: u32,
    /// Current back-off interval; zero while the destination is healthy.
    interval: SimDuration,
    /// Retries left inside the current transaction request.
    requests_left: u32,
}

/// An event waiting in a destination queue.
#[derive(Clone, Copy)]
pub(super) struct Queued {
    msg: MsgId,
    queued_at: SimTime,
}

impl Federated {
    pub(super) fn pair_of(&self, o: u32, d: u32) -> Option<u32> {
        if !self.has_pairs[o as usize] {
            return None;
        }
        self.pair_index.get(&((o as u64) << 32 | d as u64)).copied()
    }

    fn pair_or_create(&mut self, o: u32, d: u32) -> u32 {
        if let Some(p) = self.pair_of(o, d) {
            return p;
        }
        let p = self.pairs.len() as u32;
        self.pairs.push(Pair {
            origin: o,
            dest: d,
            interval: SimDuration::ZERO,
            requests_left: self.p.request_retries,
        });
        self.pair_queue.add_key();
        self.pair_timer.add_key();
        self.pair_index.insert((o as u64) << 32 | d as u64, p);
        self.has_pairs[o as usize] = true;
        p
    }

    /// Origin `o` has event `id` for destination `d`.
    pub(super) fn federate(&mut self, ctx: &mut Ctx<'_>, id: MsgId, o: u32, d: u32) {
        if self.blocked(o, d) {
            self.fed_blocked_events += 1;
            self.lose_at(ctx, d, id, LossReason::FederationBlocked);
            return;
        }
        if let Some(p) = self.pair_of(o, d)
            && !self.pair_queue.is_empty(p)
        {
            // A transaction to `d` is already waiting: queue behind it.
            self.enqueue_pair(ctx, p, id);
            return;
        }
        if self.reachable(ctx, o, d) {
            self.send_fed(ctx, id, o, d);
        } else {
            let p = self.pair_or_create(o, d);
            self.enqueue_pair(ctx, p, id);
            self.attempt(ctx, p);
        }
    }

    fn send_fed(&mut self, ctx: &mut Ctx<'_>, id: MsgId, o: u32, d: u32) {
        let (from, to) = (self.servers[o as usize].node, self.servers[d as usize].node);
        let m = *ctx.msg(id);
        let recipient = match m.dest {
            Dest::User(r) => Some(r),
            Dest::Room(_) => None,
        };
        ctx.hop(id, from, to, m.size, Visible::BOTH, recipient);
        self.fed_transmissions += 1;
        let lat = ctx.latency(from, to);
        ctx.schedule_in(lat, ModelEvent::for_msg(FED_ARRIVE, id, d));
    }

    pub(super) fn fed_arrive(&mut self, ctx: &mut Ctx<'_>, id: MsgId, d: u32) {
        if !ctx.is_live(id) {
            return;
        }
        let o = self.home[ctx.msg(id).sender as usize];
        if !self.reachable(ctx, o, d) {
            // The destination went down while the transaction was on its way: the origin keeps
            // the event and retries.
            let p = self.pair_or_create(o, d);
            self.enqueue_pair(ctx, p, id);
            if !self.pair_timer.is_armed(p) {
                self.attempt(ctx, p);
            }
            return;
        }
        if self.p.wake_on_inbound {
            self.inbound(ctx, d, o);
        }
        self.enqueue(ctx, d, id);
    }

    fn enqueue_pair(&mut self, ctx: &mut Ctx<'_>, p: u32, id: MsgId) {
        self.fed_queued += 1;
        self.pair_queue.push(p, Queued { msg: id, queued_at: ctx.now() });
    }

    /// One transaction attempt from a pair's origin to its destination.
    pub(super) fn attempt(&mut self, ctx: &mut Ctx<'_>, p: u32) {
        let Pair { origin: o, dest: d, .. } = self.pairs[p as usize];
        if !self.up(ctx, o) {
            // A server that is down runs no timers: it resumes this queue when it is back.
            self.pair_timer.cancel(p);
            self.servers[o as usize].paused.push(p);
            return;
        }
        if self.reachable(ctx, o, d) {
            self.pair_succeeded(ctx, p);
            return;
        }
        self.fed_failed_attempts += 1;
        let jitter = ctx.rng().random_range(BACKOFF_JITTER.0..BACKOFF_JITTER.1);
        let max_requests = self.p.request_retries;
        let pr = &mut self.pairs[p as usize];
        let delay = if pr.requests_left > 0 {
            let k = max_requests - pr.requests_left + 1;
            pr.requests_left -= 1;
            request_retry_delay(k, self.p.request_retry_cap, jitter)
        } else {
            self.fed_failed_transactions += 1;
            pr.interval = self.p.backoff.next(pr.interval, jitter);
            pr.requests_left = max_requests;
            self.max_interval = self.max_interval.max(pr.interval);
            pr.interval
        };
        let generation = self.pair_timer.arm(p);
        ctx.schedule_in(delay, ModelEvent { kind: PAIR_TIMER, a: p, b: generation, c: 0 });
    }

    /// The destination answered: the back-off is cleared and every waiting event goes out.
    fn pair_succeeded(&mut self, ctx: &mut Ctx<'_>, p: u32) {
        let (o, d) = (self.pairs[p as usize].origin, self.pairs[p as usize].dest);
        let recovered = ctx.node_up_since(self.servers[d as usize].node);
        let counted_from = ctx.window().warmup_end;
        let now = ctx.now();
        {
            let pr = &mut self.pairs[p as usize];
            pr.interval = SimDuration::ZERO;
            pr.requests_left = self.p.request_retries;
        }
        let mut chain = self.pair_queue.detach(p);
        while let Some(q) = self.pair_queue.pop(&mut chain) {
            if ctx.is_live(q.msg) {
                if ctx.msg(q.msg).counted && q.queued_at >= counted_from {
                    self.fed_flushed += 1;
                    self.fed_queue_wait_us += now.since(q.queued_at).0 as u128;
                    if recovered > q.queued_at {
                        self.fed_after_recovery_n += 1;
                        self.fed_after_recovery_us += now.since(recovered).0 as u128;
                    }
                }
                self.send_fed(ctx, q.msg, o, d);
            }
        }
    }

    pub(super) fn pair_timer_fired(&mut self, ctx: &mut Ctx<'_>, p: u32, generation: u32) {
        if !self.pair_timer.fire(p, generation) {
            return;
        }
        if !self.pair_queue.is_empty(p) {
            self.attempt(ctx, p);
        }
    }

    /// Server `at` received a signed request from `from`: if `at` was backing off from `from`,
    /// Synapse marks `from` as up and wakes its queue (`Authenticator.reset_retry_timings`).
    fn inbound(&mut self, ctx: &mut Ctx<'_>, at: u32, from: u32) {
        let Some(p) = self.pair_of(at, from) else { return };
        let retries = self.p.request_retries;
        let pr = &mut self.pairs[p as usize];
        if !(self.pair_timer.is_armed(p) || pr.interval > SimDuration::ZERO) {
            return;
        }
        pr.interval = SimDuration::ZERO;
        pr.requests_left = retries;
        self.pair_timer.cancel(p);
        self.fed_inbound_resets += 1;
        if !self.pair_queue.is_empty(p) {
            self.attempt(ctx, p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    fn synapse() -> Backoff {
        Backoff { min: SimDuration::from_secs(600), multiplier: 2.0, max: SimDuration::from_secs(7 * 86_400) }
    }

    #[test]
    fn first_interval_is_the_minimum_without_jitter() {
        let b = synapse();
        assert_eq!(b.next(SimDuration::ZERO, 0.8), SimDuration::from_secs(600));
        assert_eq!(b.next(SimDuration::ZERO, 1.4), SimDuration::from_secs(600));
    }

    #[test]
    fn each_step_multiplies_within_the_jitter_bounds_and_stops_at_the_cap() {
        let b = synapse();
        let mut rng = stream(7, Purpose::Model, 0);
        for _ in 0..200 {
            let mut current = SimDuration::ZERO;
            let mut steps = 0;
            loop {
                let jitter = rng.random_range(BACKOFF_JITTER.0..BACKOFF_JITTER.1);
                let next = b.next(current, jitter);
                if current == SimDuration::ZERO {
                    assert_eq!(next, b.min);
                } else {
                    let lo = (current.as_secs_f64() * b.multiplier * BACKOFF_JITTER.0).min(b.max.as_secs_f64());
                    let hi = (current.as_secs_f64() * b.multiplier * BACKOFF_JITTER.1).min(b.max.as_secs_f64());
                    let got = next.as_secs_f64();
                    assert!(got >= lo - 1e-6 && got <= hi + 1e-6, "{got} outside [{lo}, {hi}] after {current}");
                    assert!(next > current || next == b.max, "back-off did not grow: {current} -> {next}");
                }
                assert!(next <= b.max);
                if next == b.max {
                    break;
                }
                current = next;
                steps += 1;
                assert!(steps < 40, "never reached the cap");
            }
            // 10 min to 7 days is a factor 1008: between log_2.8 and log_1.6 of it steps.
            assert!((6..=15).contains(&steps), "{steps} steps to the cap");
        }
    }

    #[test]
    fn jitter_extremes_give_the_extreme_sequences() {
        let b = synapse();
        let mut low = vec![b.next(SimDuration::ZERO, 0.8)];
        let mut high = vec![b.next(SimDuration::ZERO, 1.4)];
        for _ in 0..3 {
            low.push(b.next(*low.last().unwrap(), 0.8));
            high.push(b.next(*high.last().unwrap(), 1.4));
        }
        let mins = |v: &[SimDuration]| v.iter().map(|d| d.as_secs_f64() / 60.0).collect::<Vec<_>>();
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6);
        assert!(close(&mins(&low), &[10.0, 16.0, 25.6, 40.96]), "{:?}", mins(&low));
        assert!(close(&mins(&high), &[10.0, 28.0, 78.4, 219.52]), "{:?}", mins(&high));
    }

    #[test]
    fn request_retries_follow_synapse_long_retry_delays() {
        let cap = SimDuration::from_secs(60);
        let expect = [4.0, 16.0, 60.0, 60.0, 60.0];
        for (k, e) in (1..=5).zip(expect) {
            assert_eq!(request_retry_delay(k, cap, 1.0).as_secs_f64(), e);
            assert!((request_retry_delay(k, cap, 0.8).as_secs_f64() - 0.8 * e).abs() < 1e-6);
            assert!((request_retry_delay(k, cap, 1.4).as_secs_f64() - 1.4 * e).abs() < 1e-6);
        }
    }
}
