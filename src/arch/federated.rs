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
//! ones; the engine's connectivity service keeps the timelines and calls back when a server is
//! back, and when a recipient's internet returns, which lets an online client sync). A client whose home server does not answer retries 2 s, 4 s, 8 s, 16 s and then gives
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
//!
//! Parts: `federated/placement.rs` (users on servers, the room index, blocking), `federation.rs` (Synapse's
//! back-off and the per-destination queues); this file holds the clients, the server queues and
//! local delivery.

use std::collections::HashMap;

use hdrhistogram::Histogram;
use rand::{RngExt, SeedableRng};

use crate::arch::kit::{Arrival, KeyedLists, Mailbox, ServiceQueue, Timers};
use crate::dist::Dist;
use crate::engine::DeliveryModel;
use crate::engine::observation::{NodeId, NodeKind, Visible};
use crate::engine::{Churn, Ctx, Dest, ModelEvent, MsgId, SimRng};
use crate::metrics::ModelReport;
use crate::metrics::recorder::LossReason;
use crate::rng::splitmix64;
use crate::time::{SimDuration, SimTime};
use crate::world::{RegionId, UserId};

mod federation;
mod placement;

pub use federation::{BACKOFF_JITTER, Backoff, request_retry_delay};
use federation::{Pair, Queued};
use placement::{RoomServer, unit, world_salt};

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

/// Stream tags for the world-seeded draws.
const TAG_PLACEMENT: u64 = 0x0001;
const TAG_REGIONS: u64 = 0x0002;
const TAG_OUTAGES: u64 = 0x0003;
const TAG_PAIR_BLOCK: u64 = 0x0004;
const TAG_SERVER_BLOCK: u64 = 0x0005;

/// Highest latency the model's histograms track: 400 days in microseconds.
const MAX_TRACKED_US: u64 = 400 * 86_400 * 1_000_000;

/// One home server: its FIFO queue and what it holds while down (whether it is up is the
/// engine's connectivity service's: `Ctx::node_up`).
struct Server {
    node: NodeId,
    queue: ServiceQueue<MsgId>,
    /// Events processed while down, routed when the server is back.
    held: Vec<MsgId>,
    /// Destination queues whose retry came due while this (origin) server was down.
    paused: Vec<u32>,
}

/// Counts and latency sums of one class of delivered copies (same-server or cross-server).
#[derive(Default)]
struct ClassStats {
    delivered: u64,
    latency_us: u128,
    pushed: Option<Histogram<u64>>,
}

/// Delivered copies by class, same-server and cross-server.
#[derive(Default)]
struct Classes {
    same: ClassStats,
    cross: ClassStats,
}

impl Classes {
    /// The last hop to `r` is on its way and arrives `after` from now (see `Ctx::deliver_in`).
    fn delivered(&mut self, ctx: &mut Ctx<'_>, home: &[u32], id: MsgId, r: UserId, pushed: bool, after: SimDuration) {
        let m = *ctx.msg(id);
        let same = home[m.sender as usize] == home[r as usize];
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
    classes: Classes,
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
            classes: Classes::default(),
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

    #[inline]
    fn up(&self, ctx: &Ctx<'_>, s: u32) -> bool {
        ctx.node_up(self.servers[s as usize].node)
    }

    /// Whether origin `o` can open a federation connection to `d` now.
    #[inline]
    fn reachable(&self, ctx: &Ctx<'_>, o: u32, d: u32) -> bool {
        self.up(ctx, o)
            && self.up(ctx, d)
            && ctx.internet_up(self.servers[o as usize].node)
            && ctx.internet_up(self.servers[d as usize].node)
    }

    /// Registers each server's fault timeline with the engine: its scheduled outages and the
    /// random ones. The random ones come from one world-seeded stream, server after server, so
    /// that several federated entries on one world see the same outages.
    fn register_faults(&mut self, ctx: &mut Ctx<'_>, salt: u64) {
        let churn = self.p.mtbf.map(|mtbf| Churn { mean_up: mtbf, mean_down: self.p.mttr });
        let mut rng = SimRng::seed_from_u64(splitmix64(salt ^ TAG_OUTAGES));
        let mut scheduled = Vec::new();
        for s in 0..self.servers.len() as u32 {
            scheduled.clear();
            scheduled.extend(self.p.outages.iter().filter(|o| o.server == s).map(|o| (o.start, o.end)));
            if churn.is_some() || !scheduled.is_empty() {
                ctx.add_node_faults_from(self.servers[s as usize].node, &scheduled, churn, &mut rng);
            }
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
        if !self.up(ctx, s) {
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
            self.classes.delivered(ctx, &self.home, id, r, true, d);
        } else {
            self.mailbox.store(ctx.now(), id, r);
        }
    }

    /// The user's client syncs: everything its home server stored for it comes down.
    fn flush(&mut self, ctx: &mut Ctx<'_>, r: UserId) {
        let s = self.home[r as usize];
        if !self.mailbox.has_mail(r) || !self.up(ctx, s) || !ctx.internet_up(r) {
            return;
        }
        let server = self.servers[s as usize].node;
        let (home, classes) = (&self.home, &mut self.classes);
        self.fetched += self.mailbox.sync(ctx, r, server, self.p.request_bytes, |ctx, id, after| {
            classes.delivered(ctx, home, id, r, false, after);
        });
    }

    // ---- outages ----

    /// Server `s` is back: what it processed while down is routed, its paused destination
    /// queues resume, and its online users sync.
    fn server_back(&mut self, ctx: &mut Ctx<'_>, s: u32) {
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
            self.servers.push(Server { node, queue, held: Vec::new(), paused: Vec::new() });
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
        self.register_faults(ctx, salt);
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
                if self.up(ctx, s) {
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

    fn on_node_change(&mut self, ctx: &mut Ctx<'_>, node: NodeId, up: bool) {
        // Home servers are added one after another, so their addresses are consecutive.
        let Some(first) = self.servers.first().map(|s| s.node) else { return };
        if up && node >= first && node - first < self.servers.len() as u32 {
            self.server_back(ctx, node - first);
        }
    }

    /// The user's internet is back: a client that stayed online syncs what was stored meanwhile.
    fn on_connectivity(&mut self, ctx: &mut Ctx<'_>, user: UserId, connected: bool) {
        if connected && ctx.is_online(user) {
            self.flush(ctx, user);
        }
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
        for (name, c) in [("same_server", &self.classes.same), ("cross_server", &self.classes.cross)] {
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
        let (mut outages, mut downtime) = (0u64, 0u128);
        for s in &self.servers {
            let (n, down) = ctx.node_faults(s.node);
            outages += n as u64;
            downtime += down.0 as u128;
        }
        f.insert("server_outages".into(), outages as f64);
        f.insert(
            "server_downtime_share".into(),
            downtime as f64 / (end.0.max(1) as f64 * self.servers.len().max(1) as f64),
        );
        report
    }
}
