//! Mix-network delivery (Loopix-like): stratified mix layers with random per-hop delays, Poisson
//! sending with loop and drop cover traffic, and providers that store messages for their users.
//!
//! Mechanism. Each user is registered with a provider (a gateway that also stores mail). A
//! message copy is split into fixed-size packets of `packet_payload` bytes each; every packet
//! goes sender → sender's provider → one mix in each of `layers` layers (picked uniformly per
//! layer and per packet) → the recipient's provider, which stores it until the recipient pulls.
//! Every mix holds each packet for an exponential delay of mean `mix_delay` (memoryless, so the
//! order packets leave a mix says nothing about the order they came in) plus its processing time.
//! A client sends on a Poisson schedule: real packets wait in the client's queue for the next
//! payload slot (rate `payload_rate`), and a slot with nothing queued sends a drop message
//! instead, so the rate of packets leaving the client does not change when it has something to
//! say. Independently it sends drop cover (`drop_rate`) to a random provider, which discards it,
//! and loop cover (`loop_rate`) through the mixes back to itself; each mix sends loops of its own
//! (`mix_loop_rate`). A client online pulls its provider every `pull_interval` (the first pull
//! right when it comes online); each pull returns at most `max_retrieve` stored packets, padded
//! with dummies to exactly `max_retrieve` when `pull_padding` is on, so a pull's answer does not
//! show whether it carried mail. A copy is delivered when its last packet reaches the recipient's
//! device; a packet stored longer than `retention` loses its copy (`retention_expired`). With
//! `payload_rate = 0` clients send real packets at once and no payload slots exist.
//!
//! Costs without events. Cover packets, empty payload slots and pulls are counted by arithmetic
//! (module `ledger`): the model sums user-seconds online and user-seconds with an empty queue and
//! draws each stream's count once at the end (exact in distribution). Only the pulls that carry
//! mail are simulated in the default `cover_observations = "counted"` mode, so the event count is
//! O(real packets × hops) plus O(users × online periods). For exposure analyses, `"full"` also
//! simulates every cover packet, pull and pull padding hop by hop as overhead hops (observations
//! with `real = false`), at one event per cover packet per hop; `"sampled"` simulates every pull
//! but only a share `cover_sample` of the cover packets. Costs are the same in every mode, and
//! every cover and pull hop reaches the engine's overhead counters exactly once: recorded hop by
//! hop (`Ctx::overhead_hop`) when simulated, added in bulk at the end (`Ctx::overhead_many`) when
//! counted.
//!
//! Latency. With every delay fixed but the mix delays, always-online users and single-packet
//! messages, a copy takes: the slot wait (an M/M/1 sojourn, mean 1/(payload_rate − packet rate
//! of the sender)), the network path (h + 4 link crossings: client → provider, provider → layer 1,
//! h − 1 between layers, layer h → provider, and the pull's request and answer), processing at
//! both providers and the h mixes, h exponential mix delays of mean `mix_delay`, and the wait for
//! the next pull (mean `pull_interval`/2). `tests/netarch/mixnet.rs` checks this.
//!
//! What hops see: the sender's provider authenticates its client, so it reads the sender but not
//! the recipient; each mix sees only the previous and next address (Sphinx packets are unlinkable
//! between hops: `Visible::NOTHING`); the recipient's provider reads the recipient it stores for,
//! never the sender; the pull answer reaches the recipient's own device. All packets have the same
//! size. Sources: Piotrowska et al., "The Loopix Anonymity System", USENIX Security 2017;
//! UCL-InfoSec/loopix (`config.json`, `loopix_provider.py`); nymtech/nym client defaults;
//! DEFAULTS.md §6; docs/arch/mixnet.md.
//!
//! Simplifications, documented in docs/arch/mixnet.md: mixes and providers never fail and have no
//! queue; regional internet outages affect clients only (the engine tells a client when its internet
//! returns: an unpaced queue leaves, the next pull fetches); packets arriving at a provider while a
//! pull's request is on its way wait for the next pull; returned loops do not push real packets
//! out of a full pull; acknowledgements and retransmissions are not modelled.

mod ledger;
mod packets;

use ledger::{Ledger, Stream, in_window};
use packets::{Copies, Kind, Lists, NONE, Packet, Pool, RecipientCopy};

use rand::RngExt;
use rand_distr::{Distribution, Exp};

use crate::arch::kit::window::{counting, in_sending_period};
use crate::arch::onion::{next_poll, polls_between};
use crate::dist::Dist;
use crate::engine::DeliveryModel;
use crate::engine::observation::{NodeId, NodeKind, Visible};
use crate::engine::{Ctx, ModelEvent, MsgId, SimRng};
use crate::metrics::recorder::LossReason;
use crate::metrics::{ModelReport, ServerStats};
use crate::time::{SimDuration, SimTime};
use crate::world::{RegionId, UserId};

/// Most mix layers a scenario may ask for (a Sphinx header is sized for a bounded route).
pub const MAX_LAYERS: u32 = 10;

/// Where mixes and providers run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// In proportion to where users live.
    FollowUsers,
    /// Equally over every region.
    Uniform,
}

/// Which cover traffic is simulated hop by hop, so that observers see it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CoverObservations {
    /// None: cover and pulls are only counted (fast at any scale; a global observer sees real
    /// traffic only, so it is not fooled).
    Counted,
    /// Every pull, and this share of the cover packets (a global observer faces fewer decoys than
    /// in the real network, so its success is an upper bound).
    Sampled(f64),
    /// Every cover packet and every pull, with its padding.
    Full,
}

impl CoverObservations {
    /// Share of cover packets simulated hop by hop.
    pub fn share(self) -> f64 {
        match self {
            CoverObservations::Counted => 0.0,
            CoverObservations::Sampled(s) => s,
            CoverObservations::Full => 1.0,
        }
    }

    /// Whether every pull is simulated (the pull grid runs as events).
    pub fn pulls_simulated(self) -> bool {
        self != CoverObservations::Counted
    }
}

/// The mix network's parameters.
#[derive(Clone, Debug)]
pub struct MixnetParams {
    /// Mix layers every packet crosses.
    pub layers: u32,
    /// Mixes in each layer.
    pub mixes_per_layer: u32,
    /// Providers (gateways that store for their users).
    pub providers: u32,
    /// Where mixes and providers run.
    pub placement: Placement,
    /// Mean of the exponential delay each mix holds a packet; zero: no delay.
    pub mix_delay: SimDuration,
    /// Processing time at a mix per packet, seconds.
    pub mix_processing: Dist,
    /// Processing time at a provider per packet, seconds.
    pub provider_processing: Dist,
    /// Payload slots per second per online client; 0: real packets leave at once, no slots.
    pub payload_rate: f64,
    /// Loop cover packets per second per online client.
    pub loop_rate: f64,
    /// Drop cover packets per second per online client.
    pub drop_rate: f64,
    /// Loop cover packets per second per mix.
    pub mix_loop_rate: f64,
    /// Interval between a client's pulls.
    pub pull_interval: SimDuration,
    /// Most packets one pull returns.
    pub max_retrieve: u32,
    /// Whether every pull answer is padded with dummies to `max_retrieve` packets.
    pub pull_padding: bool,
    /// Bytes of every packet on the wire.
    pub packet_bytes: u32,
    /// Message bytes one packet carries.
    pub packet_payload: u32,
    /// Bytes of a pull request.
    pub request_bytes: u32,
    /// How long a provider keeps a packet for its user.
    pub retention: SimDuration,
    /// Which cover traffic is simulated hop by hop.
    pub cover_observations: CoverObservations,
}

const SLOT: u16 = 0; // a = user, b = slot generation
const MOVE: u16 = 1; // a = packet, b = packet generation, c = position
const PULL: u16 = 2; // a = user, b = pull generation
const ANSWER: u16 = 3; // a = user, c = the request's one-way latency, us
const ARRIVE: u16 = 4; // a = packet, b = packet generation
const COVER: u16 = 5; // a = user, b = cover generation
const MIX_COVER: u16 = 6; // a = mix index

/// Counters of real traffic and of the simulation (measurement window only).
#[derive(Default)]
struct Stats {
    real_packets: u64,
    real_transmissions: u64,
    mix_delay_us: u128,
    mix_hops: u64,
    mix_busy_us: u128,
    /// Processing time of real packets inside the sending period, for utilisation.
    mix_busy_sending_us: u128,
    provider_busy_us: u128,
    provider_busy_sending_us: u128,
    provider_packets: u64,
    queue_wait_us: u128,
    queue_waits: u64,
    slot_wakeups: u64,
    requests_recorded: u64,
    fragmented_copies: u64,
    copies: u64,
}

/// The mix-network delivery model.
pub struct Mixnet {
    name: String,
    p: MixnetParams,
    h: usize,
    per_layer: u32,
    share: f64,
    mixes: Vec<NodeId>,
    providers: Vec<NodeId>,
    hosted: Vec<u32>,
    provider_of: Vec<u32>,
    pool: Pool,
    copies: Copies,
    queue: Lists,
    store: Lists,
    slot_gen: Vec<u32>,
    idle_since: Vec<SimTime>,
    next_pull: Vec<SimTime>,
    pull_gen: Vec<u32>,
    cover_gen: Vec<u32>,
    loops_waiting: Vec<u32>,
    slot_gap: Option<Exp<f64>>,
    delay: Option<Exp<f64>>,
    cover_gap: Option<Exp<f64>>,
    mix_cover_gap: Option<Exp<f64>>,
    ledger: Ledger,
    stats: Stats,
    scratch: Vec<UserId>,
}

impl Mixnet {
    /// A model with the given label and parameters.
    pub fn new(name: &str, p: MixnetParams) -> Mixnet {
        let h = p.layers.clamp(1, MAX_LAYERS) as usize;
        let per_layer = p.mixes_per_layer.max(1);
        let share = p.cover_observations.share();
        Mixnet {
            name: name.to_owned(),
            h,
            per_layer,
            share,
            p,
            mixes: Vec::new(),
            providers: Vec::new(),
            hosted: Vec::new(),
            provider_of: Vec::new(),
            pool: Pool::default(),
            copies: Copies::default(),
            queue: Lists::default(),
            store: Lists::default(),
            slot_gen: Vec::new(),
            idle_since: Vec::new(),
            next_pull: Vec::new(),
            pull_gen: Vec::new(),
            cover_gen: Vec::new(),
            loops_waiting: Vec::new(),
            slot_gap: None,
            delay: None,
            cover_gap: None,
            mix_cover_gap: None,
            ledger: Ledger::default(),
            stats: Stats::default(),
            scratch: Vec::new(),
        }
    }

    #[inline]
    fn paced(&self) -> bool {
        self.slot_gap.is_some()
    }

    /// Hops of one cover packet of stream `s`, from its sender to where it ends.
    fn cover_hops(&self, s: Stream) -> u64 {
        let h = self.h as u64;
        match s {
            // client → provider → h mixes → a provider
            Stream::PayloadDrop | Stream::Drop => h + 2,
            // the same to the client's own provider; without padding the way back to the client is
            // one more packet (with padding it takes a dummy's place in a pull answer)
            Stream::Loop => h + 2 + (!self.p.pull_padding) as u64,
            // the mix → one mix in each layer → back to itself
            Stream::MixLoop => h + 1,
        }
    }

    /// Rates per second of the cover streams, in [`Stream`] order.
    fn rates(&self) -> [f64; 4] {
        let payload = if self.paced() { self.p.payload_rate } else { 0.0 };
        [payload, self.p.drop_rate, self.p.loop_rate, self.p.mix_loop_rate]
    }

    fn random_mix(&self, ctx: &mut Ctx<'_>, layer: usize) -> NodeId {
        let j = ctx.rng().random_range(0..self.per_layer);
        self.mixes[layer * self.per_layer as usize + j as usize]
    }

    /// Whether a real packet's copy is settled already (its other fragments are discarded).
    fn dead(&self, ctx: &Ctx<'_>, copy: u32) -> bool {
        let c = self.copies.get(copy);
        c.lost || !ctx.is_live(c.msg)
    }

    /// Drops packet `pk`; a real fragment stops counting towards its copy.
    fn discard(&mut self, pk: u32) {
        let p = *self.pool.get(pk);
        self.pool.free(pk);
        if p.kind == Kind::Real {
            let c = self.copies.get_mut(p.copy);
            c.left -= 1;
            if c.left == 0 {
                self.copies.free(p.copy);
            }
        }
    }

    fn lose_copy(&mut self, ctx: &mut Ctx<'_>, copy: u32) {
        let c = self.copies.get_mut(copy);
        if !c.lost {
            c.lost = true;
            let msg = c.msg;
            if ctx.is_live(msg) {
                ctx.lose(msg, LossReason::RetentionExpired);
            }
        }
    }

    /// Records a hop of packet `pk` from `from` to `to`: a message hop for a real fragment, an
    /// overhead hop for cover.
    fn emit(&mut self, ctx: &mut Ctx<'_>, pk: u32, from: NodeId, to: NodeId, visible: Visible) {
        let p = *self.pool.get(pk);
        if p.kind == Kind::Real {
            let c = *self.copies.get(p.copy);
            ctx.hop(c.msg, from, to, self.p.packet_bytes, visible, Some(c.recipient));
            if counting(ctx) {
                self.stats.real_transmissions += 1;
            }
        } else {
            ctx.overhead_hop(from, to, self.p.packet_bytes);
        }
    }

    fn provider_time(&mut self, ctx: &mut Ctx<'_>, real: bool) -> SimDuration {
        let d = self.p.provider_processing.sample_duration(ctx.rng());
        if real {
            let now = ctx.now();
            self.stats.provider_busy_sending_us += in_sending_period(now, now + d, &ctx.window()) as u128;
        }
        if real && counting(ctx) {
            self.stats.provider_packets += 1;
            self.stats.provider_busy_us += d.0 as u128;
        }
        d
    }

    /// Processing plus the mixing delay at a mix.
    fn mix_time(&mut self, ctx: &mut Ctx<'_>, real: bool) -> SimDuration {
        let proc = self.p.mix_processing.sample_duration(ctx.rng());
        let delay = match &self.delay {
            Some(e) => SimDuration::from_secs_f64(e.sample(ctx.rng())),
            None => SimDuration::ZERO,
        };
        if real {
            let now = ctx.now();
            self.stats.mix_busy_sending_us += in_sending_period(now, now + proc, &ctx.window()) as u128;
        }
        if real && counting(ctx) {
            self.stats.mix_hops += 1;
            self.stats.mix_delay_us += delay.0 as u128;
            self.stats.mix_busy_us += proc.0 as u128;
        }
        proc + delay
    }

    // ---- the client ----

    fn schedule_slot(&mut self, ctx: &mut Ctx<'_>, u: UserId) {
        if let Some(gap) = &self.slot_gap {
            let d = SimDuration::from_secs_f64(gap.sample(ctx.rng())).max(SimDuration(1));
            ctx.schedule_in(d, ModelEvent { kind: SLOT, a: u, b: self.slot_gen[u as usize], c: 0 });
        }
    }

    /// Ends an idle period of `u` (its queue is about to fill): its empty slots were drops.
    fn end_idle(&mut self, ctx: &Ctx<'_>, u: UserId) {
        let since = std::mem::replace(&mut self.idle_since[u as usize], SimTime::NEVER);
        if since != SimTime::NEVER {
            self.ledger.idle_us += in_window(since, ctx.now(), &ctx.window()) as u128;
        }
    }

    /// A payload slot of a client with something queued: the first live packet leaves.
    fn slot(&mut self, ctx: &mut Ctx<'_>, u: UserId) {
        if !self.paced() {
            self.flush(ctx, u);
            return;
        }
        if !ctx.internet_up(u) {
            // The slot passes: the client cannot reach its provider.
            self.schedule_slot(ctx, u);
            return;
        }
        while let Some(pk) = self.queue.pop_front(&self.pool, u) {
            let p = *self.pool.get(pk);
            if p.kind == Kind::Real && self.dead(ctx, p.copy) {
                self.discard(pk);
                continue;
            }
            if counting(ctx) {
                self.stats.queue_waits += 1;
                self.stats.queue_wait_us += ctx.now().since(p.since).0 as u128;
                self.stats.slot_wakeups += 1;
            }
            ctx.wake(u);
            self.enter(ctx, pk);
            break;
        }
        if self.queue.is_empty(u) {
            self.idle_since[u as usize] = ctx.now();
        } else {
            self.schedule_slot(ctx, u);
        }
    }

    /// Without pacing: everything queued leaves at once, or when the client's internet is back
    /// (`on_connectivity`).
    fn flush(&mut self, ctx: &mut Ctx<'_>, u: UserId) {
        if !ctx.internet_up(u) {
            return;
        }
        while let Some(pk) = self.queue.pop_front(&self.pool, u) {
            let p = *self.pool.get(pk);
            if self.dead(ctx, p.copy) {
                self.discard(pk);
                continue;
            }
            if counting(ctx) {
                self.stats.queue_waits += 1;
                self.stats.queue_wait_us += ctx.now().since(p.since).0 as u128;
            }
            self.enter(ctx, pk);
        }
    }

    /// Packet `pk` leaves its client for the client's provider.
    fn enter(&mut self, ctx: &mut Ctx<'_>, pk: u32) {
        let p = *self.pool.get(pk);
        let from = p.owner;
        let to = self.providers[self.provider_of[from as usize] as usize];
        let real = p.kind == Kind::Real;
        if real && counting(ctx) {
            self.stats.real_packets += 1;
        }
        // The provider authenticates its client: it reads the sender, never the recipient. With
        // cover on, a real packet leaves exactly as the dummies around it do.
        let cover_like = self.p.payload_rate > 0.0 || self.p.loop_rate > 0.0 || self.p.drop_rate > 0.0;
        self.emit(ctx, pk, from, to, Visible { sender: true, cover_like, ..Visible::NOTHING });
        let d = ctx.latency(from, to) + self.provider_time(ctx, real);
        let g = {
            let pm = self.pool.get_mut(pk);
            pm.node = to;
            pm.generation
        };
        ctx.schedule_in(d, ModelEvent { kind: MOVE, a: pk, b: g, c: 0 });
    }

    /// Packet `pk` leaves position `pos`: the entry provider (0), mix layer `pos` (1..=h), or it
    /// has arrived, processed, at the exit provider (h + 1).
    fn step(&mut self, ctx: &mut Ctx<'_>, pk: u32, pos: usize) {
        let p = *self.pool.get(pk);
        if p.kind == Kind::Real && self.dead(ctx, p.copy) {
            self.discard(pk);
            return;
        }
        if p.kind == Kind::MixLoop {
            self.mix_loop_step(ctx, pk, pos);
            return;
        }
        let h = self.h;
        if pos > h {
            self.at_exit(ctx, pk);
            return;
        }
        let real = p.kind == Kind::Real;
        let (to, visible, d) = if pos < h {
            let to = self.random_mix(ctx, pos);
            let d = ctx.latency(p.node, to) + self.mix_time(ctx, real);
            (to, Visible::NOTHING, d)
        } else {
            // The exit provider reads the recipient it stores for.
            let to = self.providers[p.exit as usize];
            let d = ctx.latency(p.node, to) + self.provider_time(ctx, real);
            (to, Visible { recipient: true, ..Visible::NOTHING }, d)
        };
        self.emit(ctx, pk, p.node, to, visible);
        self.pool.get_mut(pk).node = to;
        ctx.schedule_in(d, ModelEvent { kind: MOVE, a: pk, b: p.generation, c: pos as u32 + 1 });
    }

    /// A mix loop crosses one mix in each layer, in layer order, then returns to its own mix (as
    /// the Loopix prototype's `create_loop_message` routes it): h + 1 hops.
    fn mix_loop_step(&mut self, ctx: &mut Ctx<'_>, pk: u32, pos: usize) {
        let h = self.h;
        if pos > h {
            self.pool.free(pk);
            return;
        }
        let p = *self.pool.get(pk);
        let to = if pos < h { self.random_mix(ctx, pos) } else { self.mixes[p.owner as usize] };
        self.emit(ctx, pk, p.node, to, Visible::NOTHING);
        let d = ctx.latency(p.node, to) + self.mix_time(ctx, false);
        self.pool.get_mut(pk).node = to;
        ctx.schedule_in(d, ModelEvent { kind: MOVE, a: pk, b: p.generation, c: pos as u32 + 1 });
    }

    /// A packet reached its exit provider: real fragments are stored, drops discarded, loops kept
    /// for their client's next pull.
    fn at_exit(&mut self, ctx: &mut Ctx<'_>, pk: u32) {
        let p = *self.pool.get(pk);
        match p.kind {
            Kind::Real => {
                let r = self.copies.get(p.copy).recipient;
                self.pool.get_mut(pk).since = ctx.now();
                self.store.push_back(&mut self.pool, r, pk);
                if ctx.is_online(r) && !self.p.cover_observations.pulls_simulated() {
                    let at = next_poll(ctx.online_since(r), self.p.pull_interval, ctx.now());
                    self.ensure_pull(ctx, r, at);
                }
            }
            Kind::Loop => {
                if !self.p.pull_padding && self.p.cover_observations.pulls_simulated() {
                    self.loops_waiting[p.owner as usize] += 1;
                }
                self.pool.free(pk);
            }
            Kind::Drop | Kind::MixLoop => self.pool.free(pk),
        }
    }

    // ---- pulls ----

    /// Makes sure `u` pulls at `at` or earlier (only pulls that fetch something are simulated in
    /// the counted mode).
    fn ensure_pull(&mut self, ctx: &mut Ctx<'_>, u: UserId, at: SimTime) {
        let i = u as usize;
        if self.next_pull[i] <= at {
            return;
        }
        self.next_pull[i] = at;
        self.pull_gen[i] = self.pull_gen[i].wrapping_add(1);
        ctx.schedule_at(at, ModelEvent { kind: PULL, a: u, b: self.pull_gen[i], c: 0 });
    }

    fn pull(&mut self, ctx: &mut Ctx<'_>, u: UserId) {
        let now = ctx.now();
        if now >= ctx.window().run_end {
            // A pull at the very end (clients online since the start pull on a grid that can
            // land on it) could deliver nothing, and the ledger counts pulls before the end only.
            return;
        }
        let simulated = self.p.cover_observations.pulls_simulated();
        if simulated {
            let next = now + self.p.pull_interval;
            ctx.schedule_at(next, ModelEvent { kind: PULL, a: u, b: self.pull_gen[u as usize], c: 0 });
        } else {
            self.next_pull[u as usize] = SimTime::NEVER;
        }
        if !ctx.internet_up(u) {
            // The pulls during the outage fail; the first one after it fetches (`on_connectivity`).
            return;
        }
        let provider = self.providers[self.provider_of[u as usize] as usize];
        ctx.overhead_hop(u, provider, self.p.request_bytes);
        if counting(ctx) {
            self.stats.requests_recorded += 1;
        }
        let lat = ctx.latency(u, provider);
        let c = lat.0.min(u32::MAX as u64) as u32;
        ctx.schedule_at(now + SimDuration(c as u64), ModelEvent { kind: ANSWER, a: u, b: 0, c });
    }

    /// The provider answers a pull that left the client `request_us` ago: up to `max_retrieve`
    /// packets stored by then, in the order they came; expired ones lose their copies.
    fn answer(&mut self, ctx: &mut Ctx<'_>, u: UserId, request_us: u32) {
        if !ctx.is_online(u) {
            return; // the connection is gone; the packets wait for the next pull
        }
        let now = ctx.now();
        let asked = SimTime(now.0 - request_us as u64);
        let provider = self.providers[self.provider_of[u as usize] as usize];
        let back = ctx.latency(provider, u);
        let mut taken = 0u32;
        while taken < self.p.max_retrieve {
            let pk = self.store.front(u);
            if pk == NONE || self.pool.get(pk).since > asked {
                break;
            }
            self.store.pop_front(&self.pool, u);
            let p = *self.pool.get(pk);
            if self.dead(ctx, p.copy) {
                self.discard(pk);
                continue;
            }
            if now.since(p.since) >= self.p.retention {
                self.lose_copy(ctx, p.copy);
                self.discard(pk);
                continue;
            }
            self.emit(ctx, pk, provider, u, Visible::BOTH);
            let g = {
                let pm = self.pool.get_mut(pk);
                pm.answered = now;
                pm.generation
            };
            ctx.schedule_in(back, ModelEvent { kind: ARRIVE, a: pk, b: g, c: 0 });
            taken += 1;
        }
        let w = ctx.window();
        if asked >= w.warmup_end && asked < w.run_end {
            self.ledger.pulled_real += taken as u64;
        }
        if self.p.cover_observations.pulls_simulated() {
            // The rest of the answer, as the wire shows it: dummies, or returned loops.
            let rest = if self.p.pull_padding {
                self.p.max_retrieve - taken
            } else {
                let n = self.loops_waiting[u as usize].min(self.p.max_retrieve - taken);
                self.loops_waiting[u as usize] -= n;
                n
            };
            for _ in 0..rest {
                ctx.overhead_hop(provider, u, self.p.packet_bytes);
            }
        } else if !self.store.is_empty(u) {
            let at = next_poll(ctx.online_since(u), self.p.pull_interval, (asked + SimDuration(1)).max(now));
            self.ensure_pull(ctx, u, at);
        }
    }

    /// A pulled packet reaches the recipient's device.
    fn arrive(&mut self, ctx: &mut Ctx<'_>, pk: u32) {
        let p = *self.pool.get(pk);
        let c = *self.copies.get(p.copy);
        if self.dead(ctx, p.copy) {
            self.discard(pk);
            return;
        }
        if !ctx.is_online(c.recipient) {
            // The provider keeps what the device did not confirm; the next pull gets it.
            self.store.push_front(&mut self.pool, c.recipient, pk);
            return;
        }
        self.pool.free(pk);
        let cm = self.copies.get_mut(p.copy);
        cm.left -= 1;
        if cm.left == 0 {
            ctx.stored_for(c.msg, p.answered.since(p.since));
            ctx.deliver(c.msg, c.recipient, self.h as u32 + 3);
            self.copies.free(p.copy);
        }
    }

    // ---- cover simulated hop by hop ----

    fn schedule_cover(&mut self, ctx: &mut Ctx<'_>, u: UserId) {
        if let Some(gap) = &self.cover_gap {
            let d = SimDuration::from_secs_f64(gap.sample(ctx.rng())).max(SimDuration(1));
            ctx.schedule_in(d, ModelEvent { kind: COVER, a: u, b: self.cover_gen[u as usize], c: 0 });
        }
    }

    /// The next packet of `u`'s observed cover streams (payload slots, loops and drops merged). A
    /// payload slot while real packets are queued is the real chain's, so it is skipped here.
    fn cover(&mut self, ctx: &mut Ctx<'_>, u: UserId) {
        self.schedule_cover(ctx, u);
        if !ctx.internet_up(u) {
            return;
        }
        let [payload, drop, lp, _] = self.rates();
        let x = ctx.rng().random::<f64>() * (payload + drop + lp);
        let stream = if x < payload {
            if !self.queue.is_empty(u) {
                return;
            }
            Stream::PayloadDrop
        } else if x < payload + lp {
            Stream::Loop
        } else {
            Stream::Drop
        };
        let (kind, exit) = match stream {
            Stream::Loop => (Kind::Loop, self.provider_of[u as usize]),
            _ => (Kind::Drop, ctx.rng().random_range(0..self.providers.len() as u32)),
        };
        if counting(ctx) {
            self.ledger.observed(stream);
        }
        ctx.wake(u);
        let pk = self.pool.alloc(Packet::new(kind, NONE, u, exit, u, ctx.now()));
        self.enter(ctx, pk);
    }

    fn mix_cover(&mut self, ctx: &mut Ctx<'_>, m: u32) {
        if let Some(gap) = &self.mix_cover_gap {
            let d = SimDuration::from_secs_f64(gap.sample(ctx.rng())).max(SimDuration(1));
            ctx.schedule_in(d, ModelEvent { kind: MIX_COVER, a: m, b: 0, c: 0 });
        }
        if counting(ctx) {
            self.ledger.observed(Stream::MixLoop);
        }
        let pk = self.pool.alloc(Packet::new(Kind::MixLoop, NONE, m, 0, self.mixes[m as usize], ctx.now()));
        self.mix_loop_step(ctx, pk, 0);
    }

    /// `u` is online from now: its payload slots, observed cover and pulls start.
    fn start_client(&mut self, ctx: &mut Ctx<'_>, u: UserId) {
        let now = ctx.now();
        if self.paced() {
            if self.queue.is_empty(u) {
                self.idle_since[u as usize] = now;
            } else {
                self.schedule_slot(ctx, u);
            }
        } else if !self.queue.is_empty(u) {
            // Held while the client had no internet and went offline meanwhile.
            ctx.schedule_at(now, ModelEvent { kind: SLOT, a: u, b: self.slot_gen[u as usize], c: 0 });
        }
        if self.p.cover_observations.pulls_simulated() {
            self.schedule_cover(ctx, u);
            ctx.schedule_at(now, ModelEvent { kind: PULL, a: u, b: self.pull_gen[u as usize], c: 0 });
        } else if !self.store.is_empty(u) {
            self.ensure_pull(ctx, u, now);
        }
    }

    /// Adds `u`'s online period up to `end` to the ledger: online and idle time, and its pulls.
    fn account(&mut self, ctx: &Ctx<'_>, u: UserId, end: SimTime) {
        let w = ctx.window();
        let since = ctx.online_since(u);
        self.ledger.online_us += in_window(since, end, &w) as u128;
        let idle = std::mem::replace(&mut self.idle_since[u as usize], SimTime::NEVER);
        if idle != SimTime::NEVER {
            self.ledger.idle_us += in_window(idle, end, &w) as u128;
        }
        let to = end.min(w.run_end);
        self.ledger.pulls += polls_between(since, self.p.pull_interval, since.max(w.warmup_end), to);
    }
}

impl DeliveryModel for Mixnet {
    fn name(&self) -> &str {
        &self.name
    }

    /// Measured: about 12.5 engine events per message with cover only counted (packets through
    /// the mixes, pulls that fetch). Observed cover dominates otherwise: on the `mixnet`
    /// scenario's workload, full cover is about 12,000 events per message and simulated pulls
    /// about 260.
    fn work_per_message(&self) -> f64 {
        let pulls = if self.p.cover_observations.pulls_simulated() { 260.0 } else { 0.0 };
        12.5 + pulls + 12_000.0 * self.share
    }

    fn init(&mut self, ctx: &mut Ctx<'_>, infra_rng: &mut SimRng) {
        let world = ctx.world();
        let users = world.users() as usize;
        let regions = world.params.regions.len();
        let weights: Vec<f64> = match self.p.placement {
            Placement::FollowUsers => world.params.region_weights.clone(),
            Placement::Uniform => vec![1.0; regions],
        };
        let total: f64 = weights.iter().sum();
        let place = |rng: &mut SimRng| -> RegionId {
            let mut x = rng.random::<f64>() * total;
            for (r, &w) in weights.iter().enumerate() {
                if x < w {
                    return r as RegionId;
                }
                x -= w;
            }
            weights.iter().rposition(|&w| w > 0.0).unwrap_or(0) as RegionId
        };
        let mixes = self.h * self.per_layer as usize;
        let mix_regions: Vec<RegionId> = (0..mixes).map(|_| place(infra_rng)).collect();
        let provider_regions: Vec<RegionId> = (0..self.p.providers.max(1)).map(|_| place(infra_rng)).collect();
        self.mixes = mix_regions.iter().map(|&r| ctx.add_node(NodeKind::Mix, r)).collect();
        self.providers = provider_regions.iter().map(|&r| ctx.add_node(NodeKind::Storage, r)).collect();
        // A client registers with a provider in its own region when there is one (assumption).
        let mut by_region: Vec<Vec<u32>> = vec![Vec::new(); regions.max(1)];
        for (i, &r) in provider_regions.iter().enumerate() {
            by_region[r as usize].push(i as u32);
        }
        let n = self.providers.len() as u32;
        self.provider_of = (0..users)
            .map(|u| {
                let local = &by_region[world.user_region[u] as usize];
                if local.is_empty() {
                    infra_rng.random_range(0..n)
                } else {
                    local[infra_rng.random_range(0..local.len())]
                }
            })
            .collect();
        self.hosted = vec![0; self.providers.len()];
        for &pv in &self.provider_of {
            self.hosted[pv as usize] += 1;
        }
        for (i, &node) in self.providers.iter().enumerate() {
            ctx.set_node_weight(node, self.hosted[i] as f64);
        }
        self.queue = Lists::new(users);
        self.store = Lists::new(users);
        self.slot_gen = vec![0; users];
        self.idle_since = vec![SimTime::NEVER; users];
        self.next_pull = vec![SimTime::NEVER; users];
        self.pull_gen = vec![0; users];
        self.cover_gen = vec![0; users];
        self.loops_waiting = vec![0; users];
        self.slot_gap = (self.p.payload_rate > 0.0).then(|| Exp::new(self.p.payload_rate).expect("positive rate"));
        self.delay = (self.p.mix_delay > SimDuration::ZERO)
            .then(|| Exp::new(1.0 / self.p.mix_delay.as_secs_f64()).expect("positive mean"));
        let [payload, drop, lp, ml] = self.rates();
        let client_rate = self.share * (payload + drop + lp);
        self.cover_gap = (client_rate > 0.0).then(|| Exp::new(client_rate).expect("positive rate"));
        self.mix_cover_gap = (self.share * ml > 0.0).then(|| Exp::new(self.share * ml).expect("positive rate"));
        for u in 0..users as UserId {
            if ctx.is_online(u) {
                ctx.connect(u);
                self.start_client(ctx, u);
            }
        }
        if self.mix_cover_gap.is_some() {
            for m in 0..mixes as u32 {
                self.mix_cover(ctx, m);
            }
        }
    }

    fn on_send(&mut self, ctx: &mut Ctx<'_>, msg: MsgId) {
        let m = *ctx.msg(msg);
        let now = ctx.now();
        let fragments = m.size.div_ceil(self.p.packet_payload.max(1)).max(1);
        let mut recipients = std::mem::take(&mut self.scratch);
        recipients.clear();
        ctx.for_each_recipient(msg, |u| recipients.push(u));
        let was_idle = self.queue.is_empty(m.sender);
        for &r in &recipients {
            let copy = self.copies.alloc(RecipientCopy { msg, recipient: r, left: fragments, lost: false });
            if counting(ctx) {
                self.stats.copies += 1;
                self.stats.fragmented_copies += (fragments > 1) as u64;
            }
            for _ in 0..fragments {
                let pk = self.pool.alloc(Packet::new(
                    Kind::Real,
                    copy,
                    m.sender,
                    self.provider_of[r as usize],
                    m.sender,
                    now,
                ));
                if self.paced() || !ctx.internet_up(m.sender) || !was_idle {
                    self.queue.push_back(&mut self.pool, m.sender, pk);
                } else {
                    self.enter(ctx, pk);
                }
            }
        }
        self.scratch = recipients;
        if was_idle && !self.queue.is_empty(m.sender) {
            if self.paced() {
                self.end_idle(ctx, m.sender);
                self.schedule_slot(ctx, m.sender);
            } else {
                // Unpaced, but the client has no internet: it sends once it is back.
                self.flush(ctx, m.sender);
            }
        }
    }

    fn on_event(&mut self, ctx: &mut Ctx<'_>, ev: ModelEvent) {
        match ev.kind {
            SLOT => {
                if ev.b == self.slot_gen[ev.a as usize] && ctx.is_online(ev.a) {
                    self.slot(ctx, ev.a);
                }
            }
            MOVE => {
                if self.pool.is_current(ev.a, ev.b) {
                    self.step(ctx, ev.a, ev.c as usize);
                }
            }
            PULL => {
                if ev.b == self.pull_gen[ev.a as usize] && ctx.is_online(ev.a) {
                    self.pull(ctx, ev.a);
                }
            }
            ANSWER => self.answer(ctx, ev.a, ev.c),
            ARRIVE => {
                if self.pool.is_current(ev.a, ev.b) {
                    self.arrive(ctx, ev.a);
                }
            }
            COVER => {
                if ev.b == self.cover_gen[ev.a as usize] && ctx.is_online(ev.a) {
                    self.cover(ctx, ev.a);
                }
            }
            MIX_COVER => self.mix_cover(ctx, ev.a),
            other => unreachable!("mixnet model has no event kind {other}"),
        }
    }

    fn on_online(&mut self, ctx: &mut Ctx<'_>, user: UserId) {
        ctx.connect(user);
        self.start_client(ctx, user);
    }

    /// The client's internet is back: without pacing its queue leaves at once; in the counted
    /// pull mode its first pull on the grid after now fetches what the provider stored.
    fn on_connectivity(&mut self, ctx: &mut Ctx<'_>, user: UserId, connected: bool) {
        if !connected || !ctx.is_online(user) {
            return;
        }
        if !self.paced() && !self.queue.is_empty(user) {
            self.flush(ctx, user);
        }
        if !self.p.cover_observations.pulls_simulated() && !self.store.is_empty(user) {
            let at = next_poll(ctx.online_since(user), self.p.pull_interval, ctx.now());
            self.ensure_pull(ctx, user, at);
        }
    }

    fn on_offline(&mut self, ctx: &mut Ctx<'_>, user: UserId) {
        let now = ctx.now();
        self.account(ctx, user, now);
        let i = user as usize;
        self.slot_gen[i] = self.slot_gen[i].wrapping_add(1);
        self.pull_gen[i] = self.pull_gen[i].wrapping_add(1);
        self.cover_gen[i] = self.cover_gen[i].wrapping_add(1);
        self.next_pull[i] = SimTime::NEVER;
    }

    fn finish(&mut self, ctx: &mut Ctx<'_>) -> ModelReport {
        let w = ctx.window();
        let end = w.run_end;
        let users = ctx.world().users();
        for u in 0..users {
            if ctx.is_online(u) {
                self.account(ctx, u, end);
            }
        }
        // Packets stored past their retention have lost their copies by now.
        for u in 0..users {
            let mut pk = self.store.front(u);
            while pk != NONE {
                let p = *self.pool.get(pk);
                if end.since(p.since) >= self.p.retention && !self.dead(ctx, p.copy) {
                    self.lose_copy(ctx, p.copy);
                }
                pk = p.next;
            }
        }
        let window_us = end.since(w.warmup_end).0;
        let mixes = self.mixes.len() as u64;
        let rates = self.rates();
        let counts = self.ledger.totals(rates, mixes, window_us, 1.0 - self.share, ctx.rng());
        let observed_sends: u64 = self.ledger.observed[..3].iter().sum();
        let client_sends: u64 = counts[..3].iter().sum();
        // Every client send and every pull wakes the device; observed sends woke it already.
        ctx.wake_many(client_sends - observed_sends + self.ledger.pulls);
        let padding = if self.p.pull_padding {
            (self.ledger.pulls * self.p.max_retrieve as u64).saturating_sub(self.ledger.pulled_real)
        } else {
            0
        };
        let bytes = self.p.packet_bytes as f64;
        let mut cover_tx = padding;
        for s in Stream::ALL {
            cover_tx += counts[s as usize] * self.cover_hops(s);
        }
        let cover_bytes = cover_tx as f64 * bytes;
        // The engine's overhead counters hold the hops recorded one by one (`overhead_hop`); add
        // exactly what was counted here instead: the cover packets drawn rather than simulated,
        // and, when pulls are not simulated, the padding of every pull and the requests of the
        // pulls that fetched nothing. Every cover or pull hop is then in them exactly once.
        let mut drawn_tx = 0u64;
        for s in Stream::ALL {
            let drawn = counts[s as usize] - self.ledger.observed[s as usize];
            drawn_tx += drawn * self.cover_hops(s);
        }
        let (unsimulated_padding, unsimulated_requests) = if self.p.cover_observations.pulls_simulated() {
            (0, 0)
        } else {
            (padding, self.ledger.pulls.saturating_sub(self.stats.requests_recorded))
        };
        let packets = drawn_tx + unsimulated_padding;
        ctx.overhead_many(
            packets + unsimulated_requests,
            packets * self.p.packet_bytes as u64 + unsimulated_requests * self.p.request_bytes as u64,
        );
        let real_bytes = self.stats.real_transmissions as f64 * bytes;
        let request_bytes = self.ledger.pulls as f64 * self.p.request_bytes as f64;
        let total_bytes = cover_bytes + real_bytes + request_bytes;

        let window_s = (window_us.max(1)) as f64;
        let st = &self.stats;
        let h = self.h as u64;
        // Client cover crosses h mixes; a mix loop h + 1 (it ends at its own mix).
        let cover_mix_packets = (counts[0] + counts[1] + counts[2] + counts[3]) * h + counts[3];
        let cover_provider_packets = (counts[0] + counts[1] + counts[2]) * 2;
        let mix_served = st.mix_hops + cover_mix_packets;
        let provider_served = st.provider_packets + cover_provider_packets;
        let mix_mean = self.p.mix_processing.mean() * 1e6;
        // Utilisation over the sending period, as every model reports it: real packets' processing
        // inside that period over its length. Cover is counted over the whole measurement window
        // (the ledger's totals), so its share is still taken over that window; it differs from
        // the sending period's share by a few percent when the cool-down is long.
        let sending_us = w.sends_end.since(w.warmup_end).0.max(1) as f64;
        let busy_share = |real_us: u128, cover_us: f64, nodes: u64| {
            let nodes = nodes.max(1) as f64;
            real_us as f64 / (sending_us * nodes) + cover_us / (window_s * nodes)
        };
        let provider_mean = self.p.provider_processing.mean() * 1e6;
        let servers = vec![
            ServerStats {
                role: "mix nodes".into(),
                count: mixes as u32,
                served: mix_served,
                utilisation: busy_share(st.mix_busy_sending_us, cover_mix_packets as f64 * mix_mean, mixes),
                peak_queue: 0,
                mean_sojourn_ms: (st.mix_hops > 0)
                    .then(|| (st.mix_busy_us + st.mix_delay_us) as f64 / st.mix_hops as f64 / 1e3),
                mean_wait_ms: (st.mix_hops > 0).then(|| st.mix_delay_us as f64 / st.mix_hops as f64 / 1e3),
            },
            ServerStats {
                role: "providers".into(),
                count: self.providers.len() as u32,
                served: provider_served,
                utilisation: busy_share(
                    st.provider_busy_sending_us,
                    cover_provider_packets as f64 * provider_mean,
                    self.providers.len() as u64,
                ),
                peak_queue: 0,
                mean_sojourn_ms: (st.provider_packets > 0)
                    .then(|| st.provider_busy_us as f64 / st.provider_packets as f64 / 1e3),
                mean_wait_ms: None,
            },
        ];
        let mut report = ModelReport { servers, ..ModelReport::default() };
        let f = &mut report.figures;
        let mut put = |k: &str, v: f64| {
            f.insert(k.into(), v);
        };
        put("layers", self.h as f64);
        put("mix_nodes", mixes as f64);
        put("providers", self.providers.len() as f64);
        put("real_packets", st.real_packets as f64);
        put("real_transmissions", st.real_transmissions as f64);
        put("real_bytes", real_bytes);
        put("copies_fragmented", st.fragmented_copies as f64);
        if st.copies > 0 {
            put("share_of_copies_fragmented", st.fragmented_copies as f64 / st.copies as f64);
        }
        if st.mix_hops > 0 {
            put("mean_mix_delay_ms", st.mix_delay_us as f64 / st.mix_hops as f64 / 1e3);
        }
        if st.queue_waits > 0 {
            put("mean_client_queue_ms", st.queue_wait_us as f64 / st.queue_waits as f64 / 1e3);
        }
        put("payload_drop_packets", counts[Stream::PayloadDrop as usize] as f64);
        put("drop_packets", counts[Stream::Drop as usize] as f64);
        put("loop_packets", counts[Stream::Loop as usize] as f64);
        put("mix_loop_packets", counts[Stream::MixLoop as usize] as f64);
        put("pull_padding_packets", padding as f64);
        put("cover_transmissions", cover_tx as f64);
        put("cover_bytes", cover_bytes);
        if total_bytes > 0.0 {
            put("cover_share_of_bytes", cover_bytes / total_bytes);
        }
        put("pulls", self.ledger.pulls as f64);
        put("pulled_real_packets", self.ledger.pulled_real as f64);
        put("pull_request_bytes", request_bytes);
        put("online_user_hours", self.ledger.online_us as f64 / 3.6e9);
        put("idle_user_hours", self.ledger.idle_us as f64 / 3.6e9);
        put("cover_observed_share", self.share);
        put("cover_packets_observed", self.ledger.observed.iter().sum::<u64>() as f64);
        put("client_send_wakeups", (client_sends + st.slot_wakeups) as f64);
        put("queued_at_clients_at_end", self.queue.total() as f64);
        put("stored_at_providers_at_end", self.store.total() as f64);
        put("peak_packets_in_flight", self.pool.peak() as f64);
        report
    }
}
