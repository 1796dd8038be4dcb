//! Federated delivery (Matrix/Element-like): users live on many home servers that relay events to
//! each other.
//!
//! Mechanism: users are spread over `servers` home servers by a Zipf law (a few large servers,
//! many small ones), optionally copying a contact's server (`locality`). The sender's client
//! uploads the event to its home server (one hop); the home server is a FIFO queue with `workers`
//! service channels. After service, copies for users of the same server are pushed to online
//! recipients (the answer to their pending `/sync` long-poll) or stored until they reconnect;
//! every other server that has recipients (for a room: every participating server) gets the event
//! once, server to server, and serves its own users the same way. A room event therefore crosses
//! each participating server exactly once, whatever the number of members there.
//!
//! Failures: home servers go down (random outages with exponential `mtbf`/`mttr`, and scheduled
//! ones). A client whose home server does not answer retries 2 s, 4 s, 8 s, 16 s and then gives
//! up (`sender_gave_up`; Element marks the event "not sent"). An origin server that cannot reach
//! a destination keeps the destination's events in a per-destination queue and retries the way
//! Synapse does: inside one transaction request up to `request_retries` retries spaced
//! 4^k s (capped, jittered), then a destination back-off of `backoff_min`, multiplied by
//! `backoff_multiplier` × U(0.8, 1.4) per further failure, capped at `backoff_max`
//! ([`Backoff`]). A signed request arriving from the destination resets the back-off at once
//! (`wake_on_inbound`). Events are never dropped by federation: they wait until the destination
//! is back. A server that is down keeps what it already accepted and routes it when it returns.
//! A client with a `sync_timeout` keeps a `/sync` long-poll open while online; its polls (and the
//! device wake-ups they cost) are counted arithmetically per online period, never scheduled.
//!
//! Blocking (claim F4): a share of server pairs (`block_share`), a share of servers that federate
//! with nobody (`defederated_share`), and listed pairs (`blocked_pairs`) refuse each other's
//! events: copies between them are lost with reason `federation_blocked`. Blocking acts like a
//! room ACL, so an event is not relayed around a block through a third server.
//!
//! What each hop sees: Matrix encrypts only an event's `content`; the `sender`, `room_id`,
//! `origin` and timestamps of every event are in clear for the servers that handle it, and each
//! participating server holds the room's membership (spec.matrix.org, Server-Server API, PDUs;
//! the seed: "Profile pictures, reactions, and nicknames are not encrypted"). So the upload, the
//! server-to-server hop and the delivery hop all show sender, recipient(s) and room to the
//! receiving server ([`Visible::BOTH`]); the home server also learns the client's IP address.
//!
//! Determinism and pairing: placement, server regions, random outages and blocking draw from
//! streams seeded by a fingerprint of the world, not by the architecture's position, so several
//! federated entries on one world put the same people on the same servers and see the same
//! outages; blocking is nested (a pair blocked at share 0.1 stays blocked at 0.2). Run-time draws
//! (latency jitter, service times, back-off jitter) use the model's own stream.

use std::collections::HashMap;

use hdrhistogram::Histogram;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Exp};

use crate::arch::kit::{Arrival, KeyedLists, Mailbox, ServiceQueue, Timers};
use crate::dist::Dist;
use crate::engine::DeliveryModel;
use crate::engine::observation::{NodeId, NodeKind, Visible};
use crate::engine::{Ctx, Dest, ModelEvent, MsgId, SimRng};
use crate::metrics::ModelReport;
use crate::metrics::recorder::LossReason;
use crate::rng::splitmix64;
use crate::time::{SimDuration, SimTime};
use crate::world::{RegionId, UserId, World};

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

/// A scheduled outage of one home server, `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerOutage {
    /// The server, by Zipf rank (0 is the largest in expectation).
    pub server: u32,
    /// When it goes down.
    pub start: SimTime,
    /// When it is back.
    pub end: SimTime,
}

/// The federated architecture's parameters.
#[derive(Clone, Debug)]
pub struct FederatedParams {
    /// Number of home servers.
    pub servers: u32,
    /// Zipf exponent of the users-per-server law: server of rank k gets a share ∝ k^-s.
    pub zipf_exponent: f64,
    /// Probability that a user joins the server of an already placed contact instead of drawing
    /// one from the Zipf law.
    pub locality: f64,
    /// Region of the largest server (rank 0); the others sit where one of their users lives.
    pub region: RegionId,
    /// Parallel service channels per server.
    pub workers: u32,
    /// Time to process one event at a server, in seconds.
    pub service_time: Dist,
    /// Most events waiting per server; more are dropped (`queue_overflow`). `None`: no limit.
    pub queue_limit: Option<u32>,
    /// How long a server keeps an undelivered event for an offline user; `None`: forever.
    pub retention: Option<SimDuration>,
    /// Mean time between random outages of each server; `None`: no random outages.
    pub mtbf: Option<SimDuration>,
    /// Mean length of a random outage.
    pub mttr: SimDuration,
    /// Scheduled outages.
    pub outages: Vec<ServerOutage>,
    /// Destination back-off after failed transactions.
    pub backoff: Backoff,
    /// Retries inside one transaction request before it counts as failed.
    pub request_retries: u32,
    /// Cap of the delay between retries inside one request.
    pub request_retry_cap: SimDuration,
    /// Whether a request arriving from a destination resets the back-off towards it.
    pub wake_on_inbound: bool,
    /// Share of server pairs that block each other.
    pub block_share: f64,
    /// Share of servers that federate with no other server.
    pub defederated_share: f64,
    /// Server pairs (by rank) that block each other.
    pub blocked_pairs: Vec<(u32, u32)>,
    /// First delay of a client's upload retries; each further retry doubles it.
    pub client_retry: SimDuration,
    /// Upload retries before the client gives up.
    pub client_retries: u32,
    /// Timeout of the `/sync` long-poll of a client that keeps a sync loop running while online
    /// (one poll, and one device wake-up, per timeout); `None`: a push-woken mobile client.
    pub sync_timeout: Option<SimDuration>,
    /// Bytes of a `/sync` request (overhead traffic).
    pub request_bytes: u32,
}

const UPLOAD_ARRIVE: u16 = 0;
const FED_ARRIVE: u16 = 1;
const DONE: u16 = 2;
const CLIENT_RETRY: u16 = 5;
const PAIR_TIMER: u16 = 6;
const OUTAGE_START: u16 = 7;
const OUTAGE_END: u16 = 8;

/// Stream tags for the world-seeded draws.
const TAG_PLACEMENT: u64 = 0x0001;
const TAG_REGIONS: u64 = 0x0002;
const TAG_OUTAGES: u64 = 0x0003;
const TAG_PAIR_BLOCK: u64 = 0x0004;
const TAG_SERVER_BLOCK: u64 = 0x0005;

/// Highest latency the model's histograms track: 400 days in microseconds.
const MAX_TRACKED_US: u64 = 400 * 86_400 * 1_000_000;

/// One home server: its FIFO queue, its state, and what it holds while down.
struct Server {
    node: NodeId,
    queue: ServiceQueue<MsgId>,
    /// Outages covering now (random and scheduled may overlap); up when zero.
    down: u32,
    down_since: SimTime,
    up_since: SimTime,
    downtime_us: u128,
    outages: u64,
    /// Events processed while down, routed when the server is back.
    held: Vec<MsgId>,
    /// Destination queues whose retry came due while this (origin) server was down.
    paused: Vec<u32>,
}

/// An origin server's view of one destination it has failed to reach at least once; its
/// waiting events are in `Federated::pair_queue` and its retry timer in `Federated::pair_timer`,
/// under the pair's index.
#[derive(Clone, Copy)]
struct Pair {
    origin: u32,
    dest: u32,
    /// Current back-off interval; zero while the destination is healthy.
    interval: SimDuration,
    /// Retries left inside the current transaction request.
    requests_left: u32,
}

/// An event waiting in a destination queue.
#[derive(Clone, Copy)]
struct Queued {
    msg: MsgId,
    queued_at: SimTime,
}

/// The servers of one room and the range of its members on each, in `room_members`.
#[derive(Clone, Copy)]
struct RoomServer {
    server: u32,
    start: u32,
    end: u32,
}

/// Counts and latency sums of one class of delivered copies (same-server or cross-server).
#[derive(Default)]
struct ClassStats {
    delivered: u64,
    latency_us: u128,
    pushed: Option<Histogram<u64>>,
}

/// The federated delivery model.
pub struct Federated {
    name: String,
    p: FederatedParams,
    servers: Vec<Server>,
    /// Each user's home server.
    home: Vec<u32>,
    /// Users of each server: `server_users[server_user_off[s]..server_user_off[s + 1]]`.
    server_user_off: Vec<u32>,
    server_users: Vec<UserId>,
    room_off: Vec<u32>,
    room_servers: Vec<RoomServer>,
    room_members: Vec<UserId>,
    isolated: Vec<bool>,
    block_salt: u64,
    pairs: Vec<Pair>,
    pair_index: HashMap<u64, u32>,
    has_pairs: Vec<bool>,
    /// Each pair's destination queue.
    pair_queue: KeyedLists<Queued>,
    /// Each pair's retry timer.
    pair_timer: Timers,
    /// Copies each home server stores for its offline users.
    mailbox: Mailbox,
    scratch: Vec<UserId>,
    same: ClassStats,
    cross: ClassStats,
    figures: Vec<(&'static str, f64)>,
    client_retries: u64,
    client_gave_up: u64,
    pushes: u64,
    fetched: u64,
    fed_transmissions: u64,
    fed_blocked_events: u64,
    fed_queued: u64,
    fed_failed_attempts: u64,
    fed_failed_transactions: u64,
    fed_inbound_resets: u64,
    fed_queue_wait_us: u128,
    fed_flushed: u64,
    fed_after_recovery_us: u128,
    fed_after_recovery_n: u64,
    max_interval: SimDuration,
    held_events: u64,
    sync_polls: u64,
}

impl Federated {
    /// A model with the given label and parameters.
    pub fn new(name: &str, p: FederatedParams) -> Federated {
        Federated {
            name: name.to_owned(),
            p,
            servers: Vec::new(),
            home: Vec::new(),
            server_user_off: Vec::new(),
            server_users: Vec::new(),
            room_off: Vec::new(),
            room_servers: Vec::new(),
            room_members: Vec::new(),
            isolated: Vec::new(),
            block_salt: 0,
            pairs: Vec::new(),
            pair_index: HashMap::new(),
            has_pairs: Vec::new(),
            pair_queue: KeyedLists::default(),
            pair_timer: Timers::default(),
            mailbox: Mailbox::default(),
            scratch: Vec::new(),
            same: ClassStats::default(),
            cross: ClassStats::default(),
            figures: Vec::new(),
            client_retries: 0,
            client_gave_up: 0,
            pushes: 0,
            fetched: 0,
            fed_transmissions: 0,
            fed_blocked_events: 0,
            fed_queued: 0,
            fed_failed_attempts: 0,
            fed_failed_transactions: 0,
            fed_inbound_resets: 0,
            fed_queue_wait_us: 0,
            fed_flushed: 0,
            fed_after_recovery_us: 0,
            fed_after_recovery_n: 0,
            max_interval: SimDuration::ZERO,
            held_events: 0,
            sync_polls: 0,
        }
    }

    /// Each user's home server (by rank), once the model is initialised.
    pub fn home_servers(&self) -> &[u32] {
        &self.home
    }

    /// The network address of each home server, by rank, once the model is initialised.
    pub fn server_nodes(&self) -> Vec<NodeId> {
        self.servers.iter().map(|s| s.node).collect()
    }

    /// Whether servers `a` and `b` refuse each other's events.
    pub fn blocked(&self, a: u32, b: u32) -> bool {
        if a == b {
            return false;
        }
        if self.isolated[a as usize] || self.isolated[b as usize] {
            return true;
        }
        let (lo, hi) = (a.min(b), a.max(b));
        if self.p.block_share > 0.0
            && unit(splitmix64(self.block_salt ^ ((lo as u64) << 32 | hi as u64))) < self.p.block_share
        {
            return true;
        }
        !self.p.blocked_pairs.is_empty() && self.p.blocked_pairs.binary_search(&(lo, hi)).is_ok()
    }

    #[inline]
    fn up(&self, s: u32) -> bool {
        self.servers[s as usize].down == 0
    }

    /// Whether origin `o` can open a federation connection to `d` now.
    #[inline]
    fn reachable(&self, ctx: &Ctx<'_>, o: u32, d: u32) -> bool {
        self.up(o)
            && self.up(d)
            && ctx.internet_up(self.servers[o as usize].node)
            && ctx.internet_up(self.servers[d as usize].node)
    }

    // ---- placement (init) ----

    fn place_users(&mut self, world: &World, salt: u64) {
        let n = world.users() as usize;
        let s = self.p.servers.max(1) as usize;
        let mut cdf = Vec::with_capacity(s);
        let mut acc = 0.0;
        for k in 0..s {
            acc += ((k + 1) as f64).powf(-self.p.zipf_exponent);
            cdf.push(acc);
        }
        let mut rng = SimRng::seed_from_u64(splitmix64(salt ^ TAG_PLACEMENT));
        let mut home = vec![0u32; n];
        for u in 0..n {
            // Three draws per user whatever the parameters, so placements stay aligned.
            let x: f64 = rng.random();
            let coin: f64 = rng.random();
            let pick: u64 = rng.random();
            let zipf = cdf.partition_point(|&c| c <= x * acc).min(s - 1) as u32;
            home[u] = if self.p.locality > 0.0 && coin < self.p.locality {
                let earlier = if world.contacts.is_complete() {
                    u
                } else {
                    world.contacts.of(u as u32).partition_point(|&v| (v as usize) < u)
                };
                if earlier == 0 {
                    zipf
                } else if world.contacts.is_complete() {
                    home[(pick % earlier as u64) as usize]
                } else {
                    home[world.contacts.of(u as u32)[(pick % earlier as u64) as usize] as usize]
                }
            } else {
                zipf
            };
        }
        let mut off = vec![0u32; s + 1];
        for &h in &home {
            off[h as usize + 1] += 1;
        }
        for i in 0..s {
            off[i + 1] += off[i];
        }
        let mut fill: Vec<u32> = off[..s].to_vec();
        let mut users = vec![0 as UserId; n];
        for (u, &h) in home.iter().enumerate() {
            users[fill[h as usize] as usize] = u as UserId;
            fill[h as usize] += 1;
        }
        self.home = home;
        self.server_user_off = off;
        self.server_users = users;
    }

    fn users_of(&self, s: u32) -> std::ops::Range<usize> {
        self.server_user_off[s as usize] as usize..self.server_user_off[s as usize + 1] as usize
    }

    fn build_rooms(&mut self, world: &World) {
        let rooms = world.rooms.len();
        self.room_off = Vec::with_capacity(rooms + 1);
        self.room_off.push(0);
        let mut members: Vec<UserId> = Vec::new();
        for r in 0..rooms as u32 {
            members.clear();
            members.extend_from_slice(world.rooms.members(r));
            members.sort_by_key(|&u| (self.home[u as usize], u));
            let base = self.room_members.len() as u32;
            let mut i = 0;
            while i < members.len() {
                let server = self.home[members[i] as usize];
                let start = i;
                while i < members.len() && self.home[members[i] as usize] == server {
                    i += 1;
                }
                self.room_servers.push(RoomServer { server, start: base + start as u32, end: base + i as u32 });
            }
            self.room_members.extend_from_slice(&members);
            self.room_off.push(self.room_servers.len() as u32);
        }
    }

    fn schedule_outages(&mut self, ctx: &mut Ctx<'_>, salt: u64) {
        let end = ctx.window().run_end;
        if let Some(mtbf) = self.p.mtbf {
            let mut rng = SimRng::seed_from_u64(splitmix64(salt ^ TAG_OUTAGES));
            let up = Exp::new(1.0 / mtbf.as_secs_f64().max(1e-6)).expect("positive mtbf");
            let down = Exp::new(1.0 / self.p.mttr.as_secs_f64().max(1e-6)).expect("positive mttr");
            let p_down = self.p.mttr.as_secs_f64() / (mtbf.as_secs_f64() + self.p.mttr.as_secs_f64());
            for s in 0..self.servers.len() as u32 {
                // Exponential periods are memoryless, so starting in the stationary state with a
                // fresh period is exact.
                let mut t = SimTime::ZERO;
                let mut is_down = rng.random_bool(p_down.clamp(0.0, 1.0));
                while t <= end {
                    let len =
                        SimDuration::from_secs_f64(if is_down { down.sample(&mut rng) } else { up.sample(&mut rng) })
                            .max(SimDuration(1));
                    if is_down {
                        ctx.schedule_at(t, ModelEvent { kind: OUTAGE_START, a: s, b: 0, c: 0 });
                        ctx.schedule_at(t + len, ModelEvent { kind: OUTAGE_END, a: s, b: 0, c: 0 });
                    }
                    t += len;
                    is_down = !is_down;
                }
            }
        }
        for o in &self.p.outages {
            ctx.schedule_at(o.start, ModelEvent { kind: OUTAGE_START, a: o.server, b: 0, c: 0 });
            ctx.schedule_at(o.end, ModelEvent { kind: OUTAGE_END, a: o.server, b: 0, c: 0 });
        }
    }

    /// Figures of the static structure: server sizes, cross-server and blocked contact pairs.
    fn structure_figures(&mut self, world: &World) {
        let n = world.users() as f64;
        let counts: Vec<u64> = (0..self.servers.len() as u32).map(|s| self.users_of(s).len() as u64).collect();
        let largest = counts.iter().copied().max().unwrap_or(0);
        let mut nonempty: Vec<u32> = (0..counts.len() as u32).filter(|&s| counts[s as usize] > 0).collect();
        nonempty.sort_unstable();
        let (mut total, mut cross, mut blocked) = (0f64, 0f64, 0f64);
        if world.contacts.is_complete() {
            total = n * (n - 1.0) / 2.0;
            let same: f64 = counts.iter().map(|&c| c as f64 * (c as f64 - 1.0) / 2.0).sum();
            cross = total - same;
            for (i, &a) in nonempty.iter().enumerate() {
                for &b in &nonempty[i + 1..] {
                    if self.blocked(a, b) {
                        blocked += counts[a as usize] as f64 * counts[b as usize] as f64;
                    }
                }
            }
        } else {
            for u in 0..world.users() {
                let hu = self.home[u as usize];
                for &v in world.contacts.of(u) {
                    if v <= u {
                        continue;
                    }
                    total += 1.0;
                    let hv = self.home[v as usize];
                    if hu != hv {
                        cross += 1.0;
                        if self.blocked(hu, hv) {
                            blocked += 1.0;
                        }
                    }
                }
            }
        }
        let mut blocked_server_pairs = 0u64;
        for (i, &a) in nonempty.iter().enumerate() {
            for &b in &nonempty[i + 1..] {
                blocked_server_pairs += self.blocked(a, b) as u64;
            }
        }
        self.figures.push(("servers", self.servers.len() as f64));
        self.figures.push(("servers_with_users", nonempty.len() as f64));
        self.figures.push(("largest_server_share", largest as f64 / n.max(1.0)));
        self.figures.push(("blocked_server_pairs", blocked_server_pairs as f64));
        self.figures.push(("defederated_servers", self.isolated.iter().filter(|&&x| x).count() as f64));
        if total > 0.0 {
            self.figures.push(("cross_server_contact_share", cross / total));
            self.figures.push(("blocked_pair_share", blocked / total));
        }
    }

    // ---- clients ----

    fn upload(&mut self, ctx: &mut Ctx<'_>, id: MsgId, attempt: u32) {
        let sender = ctx.msg(id).sender;
        if !ctx.is_online(sender) || !ctx.internet_up(sender) {
            self.client_failed(ctx, id, attempt);
            return;
        }
        let server = self.servers[self.home[sender as usize] as usize].node;
        let bytes = ctx.msg(id).size;
        ctx.hop(id, sender, server, bytes, Visible::BOTH, None);
        let d = ctx.latency(sender, server);
        ctx.schedule_in(d, ModelEvent::for_msg(UPLOAD_ARRIVE, id, attempt));
    }

    /// Attempt `attempt` (0-based) failed: retry after client_retry × 2^attempt, or give up.
    fn client_failed(&mut self, ctx: &mut Ctx<'_>, id: MsgId, attempt: u32) {
        if attempt >= self.p.client_retries {
            self.client_gave_up += 1;
            ctx.lose_all(id, LossReason::SenderGaveUp);
            return;
        }
        self.client_retries += 1;
        ctx.wake(ctx.msg(id).sender);
        let delay = self.p.client_retry.saturating_mul(1u64 << attempt.min(40));
        ctx.schedule_in(delay, ModelEvent::for_msg(CLIENT_RETRY, id, attempt + 1));
    }

    // ---- server queues ----

    /// An event arrives at server `s` for processing (as origin or as destination).
    fn enqueue(&mut self, ctx: &mut Ctx<'_>, s: u32, id: MsgId) {
        let now = ctx.now();
        match self.servers[s as usize].queue.arrive(now, id) {
            Arrival::Serve => self.start_service(ctx, s, id, now),
            Arrival::Wait => {}
            Arrival::Full => self.lose_at(ctx, s, id, LossReason::QueueOverflow),
        }
    }

    fn start_service(&mut self, ctx: &mut Ctx<'_>, s: u32, id: MsgId, arrived: SimTime) {
        let service = self.p.service_time.sample_duration(ctx.rng());
        self.servers[s as usize].queue.begin(ctx.now(), arrived, service, &ctx.window());
        ctx.schedule_in(service, ModelEvent::for_msg(DONE, id, s));
    }

    fn done(&mut self, ctx: &mut Ctx<'_>, id: MsgId, s: u32) {
        if let Some((next, arrived)) = self.servers[s as usize].queue.end_service() {
            self.start_service(ctx, s, next, arrived);
        }
        if !self.up(s) {
            // Persisted but not routed: it moves on when the server is back.
            self.held_events += 1;
            self.servers[s as usize].held.push(id);
            return;
        }
        self.route_at(ctx, s, id);
    }

    fn route_at(&mut self, ctx: &mut Ctx<'_>, s: u32, id: MsgId) {
        if !ctx.is_live(id) {
            return;
        }
        if self.home[ctx.msg(id).sender as usize] == s {
            self.route_origin(ctx, s, id)
        } else {
            self.deliver_local(ctx, s, id)
        }
    }

    /// At the sender's home server: serve local recipients, relay to every other server involved.
    fn route_origin(&mut self, ctx: &mut Ctx<'_>, o: u32, id: MsgId) {
        let m = *ctx.msg(id);
        match m.dest {
            Dest::User(r) => {
                let d = self.home[r as usize];
                if d == o { self.local(ctx, o, id, r) } else { self.federate(ctx, id, o, d) }
            }
            Dest::Room(room) => {
                for i in self.room_off[room as usize]..self.room_off[room as usize + 1] {
                    let e = self.room_servers[i as usize];
                    if e.server == o {
                        for j in e.start..e.end {
                            let u = self.room_members[j as usize];
                            if u != m.sender {
                                self.local(ctx, o, id, u);
                            }
                        }
                    } else {
                        self.federate(ctx, id, o, e.server);
                    }
                }
            }
        }
    }

    /// The recipients of `id` whose home server is `s`, into the scratch vector.
    fn recipients_on(&mut self, ctx: &Ctx<'_>, id: MsgId, s: u32) -> Vec<UserId> {
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        let m = ctx.msg(id);
        match m.dest {
            Dest::User(r) => {
                if self.home[r as usize] == s {
                    out.push(r);
                }
            }
            Dest::Room(room) => {
                for i in self.room_off[room as usize]..self.room_off[room as usize + 1] {
                    let e = self.room_servers[i as usize];
                    if e.server == s {
                        out.extend(
                            self.room_members[e.start as usize..e.end as usize].iter().filter(|&&u| u != m.sender),
                        );
                    }
                }
            }
        }
        out
    }

    /// At a destination server: serve its users' copies.
    fn deliver_local(&mut self, ctx: &mut Ctx<'_>, s: u32, id: MsgId) {
        let recipients = self.recipients_on(ctx, id, s);
        for &r in &recipients {
            self.local(ctx, s, id, r);
        }
        self.scratch = recipients;
    }

    /// Loses the copies of `id` whose recipients are on server `s` (or every copy when `s` is the
    /// origin and the event never got past it).
    fn lose_at(&mut self, ctx: &mut Ctx<'_>, s: u32, id: MsgId, reason: LossReason) {
        if self.home[ctx.msg(id).sender as usize] == s {
            ctx.lose_all(id, reason);
            return;
        }
        let recipients = self.recipients_on(ctx, id, s);
        for _ in &recipients {
            ctx.lose(id, reason);
        }
        self.scratch = recipients;
    }

    fn local(&mut self, ctx: &mut Ctx<'_>, s: u32, id: MsgId, r: UserId) {
        if ctx.is_online(r) && ctx.internet_up(r) {
            let server = self.servers[s as usize].node;
            let bytes = ctx.msg(id).size;
            ctx.hop(id, server, r, bytes, Visible::BOTH, Some(r));
            ctx.wake(r);
            self.pushes += 1;
            let d = ctx.latency(server, r);
            self.delivered(ctx, id, r, true, d);
        } else {
            self.mailbox.store(ctx.now(), id, r);
        }
    }

    /// The user's client syncs: everything its home server stored for it comes down.
    fn flush(&mut self, ctx: &mut Ctx<'_>, r: UserId) {
        let s = self.home[r as usize];
        if !self.mailbox.has_mail(r) || !self.up(s) || !ctx.internet_up(r) {
            return;
        }
        let server = self.servers[s as usize].node;
        ctx.overhead_hop(r, server, self.p.request_bytes);
        let request = ctx.latency(r, server);
        let mut fetch = self.mailbox.fetch(r, request);
        while let Some(id) = self.mailbox.next(ctx, &mut fetch) {
            let bytes = ctx.msg(id).size;
            ctx.hop(id, server, r, bytes, Visible::BOTH, Some(r));
            self.fetched += 1;
            let d = request + ctx.latency(server, r);
            self.delivered(ctx, id, r, false, d);
        }
    }

    /// The last hop to `r` is on its way and arrives `after` from now (see `Ctx::deliver_in`).
    fn delivered(&mut self, ctx: &mut Ctx<'_>, id: MsgId, r: UserId, pushed: bool, after: SimDuration) {
        let m = *ctx.msg(id);
        let same = self.home[m.sender as usize] == self.home[r as usize];
        if ctx.deliver_in(after, id, r, if same { 2 } else { 3 }) && m.counted {
            let latency = (ctx.now() + after).since(m.created).0;
            let class = if same { &mut self.same } else { &mut self.cross };
            class.delivered += 1;
            class.latency_us += latency as u128;
            if pushed {
                class.pushed.get_or_insert_with(histogram).saturating_record(latency.clamp(1, MAX_TRACKED_US));
            }
        }
    }

    // ---- federation ----

    fn pair_of(&self, o: u32, d: u32) -> Option<u32> {
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
    fn federate(&mut self, ctx: &mut Ctx<'_>, id: MsgId, o: u32, d: u32) {
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

    fn fed_arrive(&mut self, ctx: &mut Ctx<'_>, id: MsgId, d: u32) {
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
    fn attempt(&mut self, ctx: &mut Ctx<'_>, p: u32) {
        let Pair { origin: o, dest: d, .. } = self.pairs[p as usize];
        if !self.up(o) {
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
        let recovered = self.servers[d as usize].up_since;
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

    fn pair_timer_fired(&mut self, ctx: &mut Ctx<'_>, p: u32, generation: u32) {
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

    // ---- outages ----

    fn outage_start(&mut self, ctx: &mut Ctx<'_>, s: u32) {
        let now = ctx.now();
        let q = &mut self.servers[s as usize];
        if q.down == 0 {
            q.down_since = now;
            q.outages += 1;
        }
        q.down += 1;
    }

    fn outage_end(&mut self, ctx: &mut Ctx<'_>, s: u32) {
        let now = ctx.now();
        {
            let q = &mut self.servers[s as usize];
            q.down -= 1;
            if q.down > 0 {
                return;
            }
            q.downtime_us += now.since(q.down_since).0 as u128;
            q.up_since = now;
        }
        let held = std::mem::take(&mut self.servers[s as usize].held);
        for &id in &held {
            self.route_at(ctx, s, id);
        }
        let mut held = held;
        held.clear();
        self.servers[s as usize].held = held;
        let paused = std::mem::take(&mut self.servers[s as usize].paused);
        for &p in &paused {
            if !self.pair_queue.is_empty(p) && !self.pair_timer.is_armed(p) {
                self.attempt(ctx, p);
            }
        }
        let mut paused = paused;
        paused.clear();
        self.servers[s as usize].paused = paused;
        for i in self.users_of(s) {
            let u = self.server_users[i];
            if ctx.is_online(u) {
                self.flush(ctx, u);
            }
        }
    }

    /// Counts the `/sync` long-polls of an online period that ended (or is cut by the run's end)
    /// at `until`: one per `sync_timeout`, computed instead of simulated.
    fn count_polls(&mut self, ctx: &mut Ctx<'_>, since: SimTime, until: SimTime) {
        let Some(timeout) = self.p.sync_timeout else { return };
        let from = since.max(ctx.window().warmup_end);
        if until > from && timeout > SimDuration::ZERO {
            let n = until.since(from).0 / timeout.0;
            self.sync_polls += n;
            ctx.wake_many(n);
        }
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_TRACKED_US, 3).expect("valid histogram bounds")
}

/// A 64-bit hash to a uniform number in [0, 1).
#[inline]
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A fingerprint of the world (who lives where, how many contacts, who is always online): the
/// same world always gives the same value, another seed almost surely another.
fn world_salt(world: &World) -> u64 {
    let mut h = splitmix64(world.users() as u64 ^ 0x6665_6465_7261_7465);
    for u in 0..world.users() {
        let word = (world.user_region[u as usize] as u64) << 40
            | (world.always_online[u as usize] as u64) << 39
            | world.contacts.degree(u) as u64;
        h = splitmix64(h ^ word);
    }
    h ^ world.contacts.edge_count() ^ (world.rooms.len() as u64) << 48
}

impl DeliveryModel for Federated {
    fn name(&self) -> &str {
        &self.name
    }

    /// Measured: about 5 engine events per message on the default world.
    fn work_per_message(&self) -> f64 {
        5.0
    }

    fn init(&mut self, ctx: &mut Ctx<'_>, _infra_rng: &mut SimRng) {
        let world = ctx.world();
        let users = world.users() as usize;
        let salt = world_salt(world);
        self.place_users(world, salt);
        self.build_rooms(world);
        let s = self.p.servers.max(1);
        let mut rng = SimRng::seed_from_u64(splitmix64(salt ^ TAG_REGIONS));
        for k in 0..s {
            // The largest server's region is a parameter; a smaller one runs where one of its
            // users lives (an empty one where a random user lives).
            let members = self.users_of(k);
            let region = if k == 0 || users == 0 {
                self.p.region
            } else if members.is_empty() {
                world.user_region[rng.random_range(0..users)]
            } else {
                world.user_region[self.server_users[rng.random_range(members)] as usize]
            };
            let node = ctx.add_node(NodeKind::HomeServer, region);
            ctx.set_node_weight(node, self.users_of(k).len() as f64);
            let queue = ServiceQueue::new(self.p.workers, self.p.queue_limit);
            self.servers.push(Server {
                node,
                queue,
                down: 0,
                down_since: SimTime::ZERO,
                up_since: SimTime::ZERO,
                downtime_us: 0,
                outages: 0,
                held: Vec::new(),
                paused: Vec::new(),
            });
        }
        self.block_salt = splitmix64(salt ^ TAG_PAIR_BLOCK);
        let server_salt = splitmix64(salt ^ TAG_SERVER_BLOCK);
        self.isolated = (0..s).map(|k| unit(splitmix64(server_salt ^ k as u64)) < self.p.defederated_share).collect();
        let mut listed: Vec<(u32, u32)> = self.p.blocked_pairs.iter().map(|&(a, b)| (a.min(b), a.max(b))).collect();
        listed.sort_unstable();
        listed.dedup();
        self.p.blocked_pairs = listed;
        self.has_pairs = vec![false; s as usize];
        self.mailbox = Mailbox::new(users, self.p.retention);
        self.structure_figures(world);
        self.schedule_outages(ctx, salt);
        self.mailbox.connect_online(ctx);
    }

    fn on_send(&mut self, ctx: &mut Ctx<'_>, msg: MsgId) {
        self.upload(ctx, msg, 0);
    }

    fn on_event(&mut self, ctx: &mut Ctx<'_>, ev: ModelEvent) {
        match ev.kind {
            UPLOAD_ARRIVE => {
                let id = ev.msg();
                let s = self.home[ctx.msg(id).sender as usize];
                if self.up(s) {
                    self.enqueue(ctx, s, id);
                } else {
                    // The home server does not answer (a 5xx from its proxy): the client retries.
                    self.client_failed(ctx, id, ev.c);
                }
            }
            FED_ARRIVE => self.fed_arrive(ctx, ev.msg(), ev.c),
            DONE => self.done(ctx, ev.msg(), ev.c),
            CLIENT_RETRY => {
                if ctx.is_live(ev.msg()) {
                    self.upload(ctx, ev.msg(), ev.c);
                }
            }
            PAIR_TIMER => self.pair_timer_fired(ctx, ev.a, ev.b),
            OUTAGE_START => self.outage_start(ctx, ev.a),
            OUTAGE_END => self.outage_end(ctx, ev.a),
            other => unreachable!("federated model has no event kind {other}"),
        }
    }

    fn on_online(&mut self, ctx: &mut Ctx<'_>, user: UserId) {
        self.mailbox.connect(ctx, user);
        self.flush(ctx, user);
    }

    fn on_offline(&mut self, ctx: &mut Ctx<'_>, user: UserId) {
        let (since, now) = (ctx.online_since(user), ctx.now());
        self.count_polls(ctx, since, now);
    }

    fn finish(&mut self, ctx: &mut Ctx<'_>) -> ModelReport {
        let end = ctx.window().run_end;
        self.mailbox.expire_at_end(ctx);
        for u in 0..ctx.world().users() {
            if ctx.is_online(u) {
                let since = ctx.online_since(u);
                self.count_polls(ctx, since, end);
            }
        }
        let w = ctx.window();
        let largest =
            (0..self.servers.len() as u32).max_by_key(|&s| (self.users_of(s).len(), std::cmp::Reverse(s))).unwrap_or(0);
        let mut servers = vec![ServiceQueue::stats("largest home server", [&self.servers[largest as usize].queue], &w)];
        if self.servers.len() > 1 {
            let rest = self.servers.iter().enumerate().filter(|&(i, _)| i as u32 != largest).map(|(_, s)| &s.queue);
            servers.push(ServiceQueue::stats("other home servers", rest, &w));
        }
        let mut report = ModelReport { servers, ..ModelReport::default() };
        let f = &mut report.figures;
        for &(k, v) in &self.figures {
            f.insert(k.into(), v);
        }
        for (name, c) in [("same_server", &self.same), ("cross_server", &self.cross)] {
            f.insert(format!("{name}_delivered"), c.delivered as f64);
            if c.delivered > 0 {
                f.insert(format!("{name}_mean_latency_ms"), c.latency_us as f64 / c.delivered as f64 / 1e3);
            }
            if let Some(h) = c.pushed.as_ref().filter(|h| !h.is_empty()) {
                f.insert(format!("{name}_pushed"), h.len() as f64);
                f.insert(format!("{name}_push_mean_latency_ms"), h.mean() / 1e3);
                f.insert(format!("{name}_push_p50_latency_ms"), h.value_at_quantile(0.5) as f64 / 1e3);
                f.insert(format!("{name}_push_p95_latency_ms"), h.value_at_quantile(0.95) as f64 / 1e3);
            }
        }
        f.insert("client_retries".into(), self.client_retries as f64);
        f.insert("client_gave_up".into(), self.client_gave_up as f64);
        f.insert("pushes".into(), self.pushes as f64);
        f.insert("fetched_from_store".into(), self.fetched as f64);
        if self.p.sync_timeout.is_some() {
            f.insert("sync_long_polls".into(), self.sync_polls as f64);
        }
        f.insert("federation_transmissions".into(), self.fed_transmissions as f64);
        f.insert("federation_blocked_events".into(), self.fed_blocked_events as f64);
        f.insert("federation_queued_events".into(), self.fed_queued as f64);
        f.insert("federation_failed_attempts".into(), self.fed_failed_attempts as f64);
        f.insert("federation_failed_transactions".into(), self.fed_failed_transactions as f64);
        f.insert("federation_inbound_resets".into(), self.fed_inbound_resets as f64);
        f.insert("federation_max_backoff_s".into(), self.max_interval.as_secs_f64());
        if self.fed_flushed > 0 {
            f.insert(
                "federation_queue_wait_mean_ms".into(),
                self.fed_queue_wait_us as f64 / self.fed_flushed as f64 / 1e3,
            );
        }
        if self.fed_after_recovery_n > 0 {
            f.insert(
                "federation_delay_after_recovery_mean_ms".into(),
                self.fed_after_recovery_us as f64 / self.fed_after_recovery_n as f64 / 1e3,
            );
        }
        f.insert("events_held_during_outage".into(), self.held_events as f64);
        let outages: u64 = self.servers.iter().map(|s| s.outages).sum();
        let mut downtime: u128 = self.servers.iter().map(|s| s.downtime_us).sum();
        for s in &self.servers {
            if s.down > 0 {
                downtime += end.since(s.down_since).0 as u128;
            }
        }
        f.insert("server_outages".into(), outages as f64);
        f.insert(
            "server_downtime_share".into(),
            downtime as f64 / (end.0.max(1) as f64 * self.servers.len().max(1) as f64),
        );
        report
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

    #[test]
    fn unit_hash_is_uniform_enough() {
        let n = 100_000u64;
        let below: u64 = (0..n).filter(|&i| unit(splitmix64(i)) < 0.3).count() as u64;
        // Binomial(1e5, 0.3): sd ≈ 145; 5 sd.
        assert!((below as f64 - 30_000.0).abs() < 725.0, "{below}");
    }
}
