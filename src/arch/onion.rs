//! Onion-routed delivery (Session/Tor-like): messages cross a path of service nodes to a storage
//! swarm, which the recipient polls through its own path.
//!
//! Mechanism. A population of `relays` service nodes sits in regions, each with a bandwidth and
//! an up/down churn process. A client keeps one path of `path_length` distinct nodes, chosen
//! uniformly or by bandwidth, whose first node is a persistent guard when `guards` is on; it
//! reuses the path until a node on it fails (or `path_lifetime` passes). Building a path costs
//! time: nothing, one round trip to test a new guard (Session), or Tor's telescoping round trips.
//! To send, the client wraps the message in onion layers and sends it through its path to
//! `fan_out` members of the recipient's swarm (the swarm is chosen by hashing the recipient, or
//! the room for group messages); every node adds link latency and processing. The swarm member
//! that receives it first stores it and forwards it to the other holders (`replication`). If a
//! node on the path, or the swarm member, is down when the message reaches it, the request dies
//! there; the client notices after `timeout`, waits `retry_delay`, drops the failed path (keeping
//! its guard unless the guard failed) and retries on a new one, up to `max_attempts` attempts,
//! after which every copy is lost as `relay_failure`. The recipient polls its swarm through its
//! own path: every `poll_interval` for its own swarm and, for groups, at an interval set by the
//! group's recent activity; the first poll is right when it comes online. A stored copy is
//! fetched by the first poll on that grid that leaves at or after it was stored (computed, not
//! simulated: no event per poll), from the member the request reaches if that member holds it
//! when the request arrives (the member that stored it, or a holder its replication hop has
//! reached; otherwise the next poll asks again), and delivered when the response has come back
//! through the recipient's path. A copy not fetched before `created + ttl` is lost as
//! `ttl_expired`.
//!
//! With fixed delays (no jitter, one region with one-way backbone latency `D`, access delay `A`
//! at device ends, constant relay processing `P` and storage processing `S`), no churn, a path
//! already built and a poll grid of one microsecond, a message to an online recipient takes
//! `send + request + response = 3(h+1)·D + 3A + 3h·P + 2S` for path length `h`: the send crosses
//! `h` relays to the swarm, the poll's request crosses the recipient's `h` relays to the swarm,
//! and the response comes back the same way. A coarser grid adds the wait for the next poll.
//!
//! What hops see: every relay sees only the previous and next address (`Visible::NOTHING`); the
//! guard sees the device's address, the last relay the swarm member's. The swarm member reads the
//! recipient's Session ID (or the group's) to store the message, never the sender's. The
//! recipient's poll arrives through its own path, so the swarm does not see the recipient's
//! address. Sources: session-desktop `onions.ts`, `onionPath.ts`, `MessageSender.ts`,
//! `retrieveRequest.ts`, `swarmPolling.ts`; oxen-core `service_node_rules.h`; docs/arch/onion.md.
//!
//! Simplifications, documented in docs/arch/onion.md: one path per client (Session keeps two);
//! clients do not know which nodes are down (a stale node list); acknowledgements and path-build
//! traffic are not simulated as hops; relays have no queue; a holder that is down when a copy is
//! replicated gets it when it is back (swarm sync); a copy stored while a poll's request is on its
//! way waits for the next poll.

mod polling;
mod relays;

pub use polling::{GroupPolling, next_poll, polls_between};
pub use relays::{Churn, Relays, Selection};

use rand::{RngExt, SeedableRng};

use crate::arch::kit::window::counting;
use crate::arch::kit::{Load, NONE};
use crate::dist::Dist;
use crate::engine::DeliveryModel;
use crate::engine::observation::{NodeId, NodeKind, Visible};
use crate::engine::{Ctx, Dest, ModelEvent, MsgId, SimRng};
use crate::metrics::ModelReport;
use crate::metrics::recorder::LossReason;
use crate::rng::splitmix64;
use crate::time::{SimDuration, SimTime};
use crate::world::{RegionId, UserId};

/// Longest path a scenario may ask for.
pub const MAX_PATH: usize = 10;
/// Most swarm members one message may be sent to.
pub const MAX_FAN_OUT: usize = 10;

/// Where service nodes are placed.
#[derive(Clone, Debug, PartialEq)]
pub enum Placement {
    /// In proportion to where users live.
    FollowUsers,
    /// Equally over every region.
    Uniform,
    /// By these weights, in matrix order.
    Weights(Vec<f64>),
}

/// What building a new path costs the client before it can use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathBuild {
    /// Nothing: onion requests need no circuit set-up.
    None,
    /// One direct round trip to test a newly chosen guard (Session's `testGuardNode`); a guard
    /// that fails the test costs a timeout and another candidate. Paths that keep their guard
    /// cost nothing.
    GuardTest,
    /// Tor's telescoping circuit: one round trip through the partial circuit per hop.
    Telescoping,
}

/// The onion architecture's parameters.
#[derive(Clone, Debug)]
pub struct OnionParams {
    /// Number of service nodes.
    pub relays: u32,
    /// Where they are placed.
    pub placement: Placement,
    /// Bandwidth of a node, bytes per second (a path-selection weight).
    pub bandwidth: Dist,
    /// Up/down churn of every node; `None`: nodes never fail.
    pub churn: Option<Churn>,
    /// Relays per path.
    pub path_length: u32,
    /// How path nodes are drawn.
    pub selection: Selection,
    /// Whether a client keeps its first hop across path rebuilds.
    pub guards: bool,
    /// What a new path costs before use.
    pub path_build: PathBuild,
    /// Age at which a path is rebuilt even if it works; `None`: kept until it fails.
    pub path_lifetime: Option<SimDuration>,
    /// Processing time at a relay, seconds.
    pub relay_processing: Dist,
    /// Processing time at a swarm member (store or retrieve), seconds.
    pub storage_processing: Dist,
    /// Time after which a client gives up on a request that got no answer.
    pub timeout: SimDuration,
    /// Wait between a timed-out attempt and the next.
    pub retry_delay: SimDuration,
    /// Attempts at sending a message before its copies are lost.
    pub max_attempts: u32,
    /// Target swarm size.
    pub swarm_size: u32,
    /// Swarm members a message is sent to.
    pub fan_out: u32,
    /// Swarm members holding each stored message; `None`: the whole swarm.
    pub replication: Option<u32>,
    /// Message time-to-live in the swarm, from its creation.
    pub ttl: SimDuration,
    /// Interval at which a client polls its own swarm.
    pub poll_interval: SimDuration,
    /// Intervals at which a client polls a group's swarm.
    pub group_polling: GroupPolling,
    /// Bytes of a poll request (and of an empty answer).
    pub request_bytes: u32,
}

const SEND_HOP: u16 = 0;
const RETRY: u16 = 1;
const RESEND: u16 = 2;
const FETCH: u16 = 3;
const FETCH_HOP: u16 = 4;
const FETCH_FAIL: u16 = 5;

/// One message's sending state, indexed by message slot.
#[derive(Clone, Copy, Default)]
struct SendState {
    generation: u32,
    attempt: u32,
    pending: u32,
    stored: bool,
    relay_failed: bool,
    guard_failed: bool,
    start: SimTime,
    path_gen: u32,
    path: [u32; MAX_PATH],
    dest: [u32; MAX_FAN_OUT],
    next_out: u32,
}

/// A client's current path.
#[derive(Clone, Copy)]
struct UserPath {
    hops: [u32; MAX_PATH],
    ready: SimTime,
    built: SimTime,
    generation: u32,
    valid: bool,
    guard: u32,
}

/// A copy stored in a swarm for one recipient, in that recipient's doubly linked list.
#[derive(Clone, Copy)]
struct StoredCopy {
    msg: MsgId,
    created: SimTime,
    swarm: u32,
    entry: u32,
    interval: SimDuration,
    stored_at: SimTime,
    fetch_at: SimTime,
    prev: u32,
    next: u32,
    bundle_next: u32,
    fetching: bool,
}

/// One poll exchange that found something to fetch: request out, answer back.
#[derive(Clone, Copy)]
struct Fetch {
    user: UserId,
    swarm: u32,
    member_pos: u32,
    path: [u32; MAX_PATH],
    path_gen: u32,
    start: SimTime,
    answered: SimTime,
    bundle: u32,
    relay_failed: bool,
    guard_failed: bool,
}

/// Counters reported in the model's figures (measurement window only).
#[derive(Default)]
struct Stats {
    path_builds: u64,
    build_us: u128,
    guard_changes: u64,
    guard_test_failures: u64,
    path_retries: u64,
    relay_failures: u64,
    storage_failures: u64,
    relay_failure_losses: u64,
    duplicate_stores: u64,
    replication_hops: u64,
    held_offline: u64,
    polls: u64,
    fetches: u64,
    poll_retries: u64,
    relay_load: Load,
    storage_load: Load,
}

/// The onion-routed delivery model.
pub struct Onion {
    name: String,
    p: OnionParams,
    h: usize,
    relays: Relays,
    sends: Vec<SendState>,
    paths: Vec<UserPath>,
    outbox_head: Vec<u32>,
    outbox_tail: Vec<u32>,
    copies: Vec<StoredCopy>,
    free_copies: Vec<u32>,
    head: Vec<u32>,
    tail: Vec<u32>,
    next_fetch: Vec<SimTime>,
    fetch_gen: Vec<u32>,
    fetches: Vec<Fetch>,
    free_fetches: Vec<u32>,
    room_last: Vec<SimTime>,
    scratch_users: Vec<UserId>,
    scratch_swarms: Vec<(u32, u32)>,
    scratch_members: Vec<u32>,
    replica_salt: u64,
    stats: Stats,
}

impl Onion {
    /// A model with the given label and parameters.
    pub fn new(name: &str, p: OnionParams) -> Onion {
        let h = (p.path_length as usize).clamp(1, MAX_PATH);
        Onion {
            name: name.to_owned(),
            p,
            h,
            relays: Relays::empty(),
            sends: Vec::new(),
            paths: Vec::new(),
            outbox_head: Vec::new(),
            outbox_tail: Vec::new(),
            copies: Vec::new(),
            free_copies: Vec::new(),
            head: Vec::new(),
            tail: Vec::new(),
            next_fetch: Vec::new(),
            fetch_gen: Vec::new(),
            fetches: Vec::new(),
            free_fetches: Vec::new(),
            room_last: Vec::new(),
            scratch_users: Vec::new(),
            scratch_swarms: Vec::new(),
            scratch_members: Vec::new(),
            replica_salt: 0,
            stats: Stats::default(),
        }
    }

    /// Whether service node `i` can be reached now: up, and its region has internet.
    #[inline]
    fn node_up(&mut self, ctx: &Ctx<'_>, i: u32) -> bool {
        self.relays.is_up(i, ctx.now()) && ctx.internet_up(self.relays.relay_node(i))
    }

    /// The swarm key of a destination: users and rooms hash into disjoint key ranges.
    fn swarm_key(dest: Dest) -> u64 {
        match dest {
            Dest::User(u) => u as u64,
            Dest::Room(r) => (1u64 << 40) | r as u64,
        }
    }

    /// What the swarm reads of a stored message: its recipient (or group) and its hash.
    fn store_visible(dest: Dest) -> Visible {
        match dest {
            Dest::User(_) => Visible { recipient: true, linkable: true, ..Visible::NOTHING },
            Dest::Room(_) => Visible { room: true, linkable: true, ..Visible::NOTHING },
        }
    }

    fn holders(&self, swarm: u32) -> u32 {
        let n = self.relays.members(swarm).len() as u32;
        self.p.replication.map_or(n, |r| r.min(n))
    }

    /// The client's usable path, building a new one if it has none (or it is too old). Returns
    /// when the path is ready for use.
    fn ensure_path(&mut self, ctx: &mut Ctx<'_>, u: UserId) -> SimTime {
        let now = ctx.now();
        let cur = self.paths[u as usize];
        let old = self.p.path_lifetime.is_some_and(|l| now >= cur.built + l);
        if cur.valid && !old {
            return cur.ready;
        }
        let h = self.h;
        let mut cost = SimDuration::ZERO;
        let mut hops = [NONE; MAX_PATH];
        let mut guard = if self.p.guards { cur.guard } else { NONE };
        if guard == NONE {
            // Candidates are tested in parallel (session-desktop `selectGuardNodes`), so failed
            // tests cost one timeout in all, then the good candidate's round trip.
            let mut failed = false;
            for _ in 0..16 {
                let g = self.relays.pick(ctx.rng(), &[]);
                guard = g;
                if self.p.path_build != PathBuild::GuardTest {
                    break;
                }
                if self.node_up(ctx, g) {
                    let node = self.relays.relay_node(g);
                    let rtt = ctx.latency(u, node) + ctx.latency(node, u);
                    cost += rtt;
                    break;
                }
                failed = true;
                if counting(ctx) {
                    self.stats.guard_test_failures += 1;
                }
            }
            if failed {
                cost += self.p.timeout;
            }
            if counting(ctx) {
                self.stats.guard_changes += 1;
            }
        }
        hops[0] = guard;
        for i in 1..h {
            hops[i] = self.relays.pick(ctx.rng(), &hops[..i]);
        }
        if self.p.path_build == PathBuild::Telescoping {
            // Extending the circuit to hop j costs a round trip through hops 1..=j.
            let mut prev: NodeId = u;
            let mut reach = SimDuration::ZERO;
            for &hop in &hops[..h] {
                let node = self.relays.relay_node(hop);
                reach += ctx.latency(prev, node);
                cost += reach + reach;
                prev = node;
            }
        }
        let ready = now + cost;
        self.paths[u as usize] = UserPath {
            hops,
            ready,
            built: now,
            generation: cur.generation.wrapping_add(1),
            valid: true,
            guard: if self.p.guards { guard } else { NONE },
        };
        if counting(ctx) {
            self.stats.path_builds += 1;
            self.stats.build_us += cost.0 as u128;
        }
        ready
    }

    /// Picks `k` distinct members of `swarm` among `allowed` positions (a window of holders
    /// starting at `first`, `count` long), preferring nodes not on `path` (a request's path
    /// excludes its destination, session-desktop `getOnionPath`). Writes swarm positions.
    fn choose_members(&mut self, rng: &mut SimRng, swarm: u32, first: u32, count: u32, path: &[u32], out: &mut [u32]) {
        let members = self.relays.members(swarm);
        let n = members.len() as u32;
        let mut pool = std::mem::take(&mut self.scratch_members);
        pool.clear();
        pool.extend((0..count).map(|j| (first + j) % n).filter(|&pos| !path.contains(&members[pos as usize])));
        let off_path = pool.len();
        pool.extend((0..count).map(|j| (first + j) % n).filter(|&pos| path.contains(&members[pos as usize])));
        for (i, slot) in out.iter_mut().enumerate() {
            // Partial Fisher-Yates within the off-path candidates first, then the rest.
            let hi = if i < off_path { off_path } else { pool.len() };
            let j = rng.random_range(i..hi);
            pool.swap(i, j);
            *slot = pool[i];
        }
        self.scratch_members = pool;
    }

    // ---- sending ----

    fn start_attempt(&mut self, ctx: &mut Ctx<'_>, id: MsgId) {
        let slot = id.slot as usize;
        let m = *ctx.msg(id);
        if !ctx.is_online(m.sender) {
            // The client holds the message until it is back online.
            self.sends[slot].next_out = NONE;
            let u = m.sender as usize;
            if self.outbox_head[u] == NONE {
                self.outbox_head[u] = id.slot;
            } else {
                self.sends[self.outbox_tail[u] as usize].next_out = id.slot;
            }
            self.outbox_tail[u] = id.slot;
            if counting(ctx) {
                self.stats.held_offline += 1;
            }
            return;
        }
        if !ctx.internet_up(m.sender) {
            ctx.schedule_in(self.p.timeout, ModelEvent::for_msg(RESEND, id, 0));
            return;
        }
        let ready = self.ensure_path(ctx, m.sender);
        let path = self.paths[m.sender as usize];
        let swarm = self.relays.swarm_of(Self::swarm_key(m.dest));
        let n = self.relays.members(swarm).len() as u32;
        let k = (self.p.fan_out as usize).min(n as usize).min(MAX_FAN_OUT);
        let mut positions = [0u32; MAX_FAN_OUT];
        let h = self.h;
        self.choose_members(ctx.rng(), swarm, 0, n, &path.hops[..h], &mut positions[..k]);
        let depart = ctx.now().max(ready);
        let s = &mut self.sends[slot];
        s.generation = id.generation;
        s.path = path.hops;
        s.path_gen = path.generation;
        for (b, &pos) in positions[..k].iter().enumerate() {
            s.dest[b] = self.relays.members(swarm)[pos as usize];
        }
        s.pending = k as u32;
        s.start = depart;
        s.relay_failed = false;
        s.guard_failed = false;
        for b in 0..k as u32 {
            if depart == ctx.now() {
                self.send_hop(ctx, id, b, 0);
            } else {
                ctx.schedule_at(depart, ModelEvent::for_msg(SEND_HOP, id, b << 8));
            }
        }
    }

    /// The message leaves position `pos` of branch `b`: the sender's device (0), relay `pos`
    /// (1..=h), or arrives processed at the swarm member (h+1).
    fn send_hop(&mut self, ctx: &mut Ctx<'_>, id: MsgId, b: u32, pos: usize) {
        if !ctx.is_live(id) {
            return;
        }
        let h = self.h;
        let s = self.sends[id.slot as usize];
        let m = *ctx.msg(id);
        let from = if pos == 0 {
            m.sender
        } else if pos <= h {
            let r = s.path[pos - 1];
            if !self.node_up(ctx, r) {
                self.branch_failed(ctx, id, pos);
                return;
            }
            self.relays.relay_node(r)
        } else {
            let member = s.dest[b as usize];
            if !self.node_up(ctx, member) {
                self.branch_failed(ctx, id, pos);
                return;
            }
            self.store(ctx, id, member);
            return;
        };
        let (to, visible, relay_next) = if pos < h {
            (self.relays.relay_node(s.path[pos]), Visible::NOTHING, true)
        } else {
            (self.relays.storage_node(s.dest[b as usize]), Self::store_visible(m.dest), false)
        };
        ctx.hop(id, from, to, m.size, visible, None);
        let d = ctx.latency(from, to) + self.process(ctx, relay_next);
        ctx.schedule_in(d, ModelEvent::for_msg(SEND_HOP, id, (b << 8) | (pos as u32 + 1)));
    }

    /// Draws the processing time at the next node and counts its load.
    fn process(&mut self, ctx: &mut Ctx<'_>, relay: bool) -> SimDuration {
        let dist = if relay { &self.p.relay_processing } else { &self.p.storage_processing };
        let d = dist.sample_duration(ctx.rng());
        let (now, w) = (ctx.now(), ctx.window());
        let load = if relay { &mut self.stats.relay_load } else { &mut self.stats.storage_load };
        // Nodes process at once (no queue); counted when the hop to the node is sent.
        load.record(now, now, d, &w);
        d
    }

    fn branch_failed(&mut self, ctx: &mut Ctx<'_>, id: MsgId, pos: usize) {
        let h = self.h;
        if counting(ctx) {
            if pos <= h {
                self.stats.relay_failures += 1;
            } else {
                self.stats.storage_failures += 1;
            }
        }
        let s = &mut self.sends[id.slot as usize];
        s.relay_failed |= (1..=h).contains(&pos);
        s.guard_failed |= pos == 1;
        s.pending -= 1;
        if s.pending == 0 && !s.stored {
            // No answer comes back: the client notices when its timeout runs out.
            let at = ctx.now().max(s.start + self.p.timeout) + self.p.retry_delay;
            ctx.schedule_at(at, ModelEvent::for_msg(RETRY, id, s.attempt));
        }
    }

    fn retry(&mut self, ctx: &mut Ctx<'_>, id: MsgId) {
        if !ctx.is_live(id) {
            return;
        }
        let s = &mut self.sends[id.slot as usize];
        s.attempt += 1;
        if s.attempt >= self.p.max_attempts {
            let counted = ctx.msg(id).counted;
            while ctx.is_live(id) {
                ctx.lose(id, LossReason::RelayFailure);
                if counted {
                    self.stats.relay_failure_losses += 1;
                }
            }
            return;
        }
        let (relay_failed, guard_failed, path_gen) = (s.relay_failed, s.guard_failed, s.path_gen);
        if counting(ctx) {
            self.stats.path_retries += 1;
        }
        let sender = ctx.msg(id).sender as usize;
        self.drop_path(sender, path_gen, relay_failed, guard_failed);
        self.start_attempt(ctx, id);
    }

    /// Drops a client's path after a failure on it (if it is still the path that failed), and
    /// its guard if the guard was the node that failed.
    fn drop_path(&mut self, u: usize, path_gen: u32, relay_failed: bool, guard_failed: bool) {
        let p = &mut self.paths[u];
        if relay_failed && p.generation == path_gen {
            p.valid = false;
            if guard_failed {
                p.guard = NONE;
            }
        }
    }

    /// A swarm member received the message: it stores one copy per recipient, forwards it to the
    /// other holders, and each online recipient's next poll is computed.
    fn store(&mut self, ctx: &mut Ctx<'_>, id: MsgId, member: u32) {
        let s = &mut self.sends[id.slot as usize];
        if s.stored {
            if counting(ctx) {
                self.stats.duplicate_stores += 1;
            }
            return;
        }
        s.stored = true;
        let now = ctx.now();
        let m = *ctx.msg(id);
        let swarm = self.relays.swarm_of(Self::swarm_key(m.dest));
        let n = self.relays.members(swarm).len() as u32;
        let entry = self.relays.members(swarm).iter().position(|&x| x == member).expect("member of its swarm") as u32;
        let holders = self.holders(swarm);
        let visible = Self::store_visible(m.dest);
        let from = self.relays.storage_node(member);
        for j in 1..holders {
            let to = self.relays.storage_node(self.relays.members(swarm)[((entry + j) % n) as usize]);
            ctx.hop(id, from, to, m.size, visible, None);
            if counting(ctx) {
                self.stats.replication_hops += 1;
            }
        }
        let interval = match m.dest {
            Dest::User(_) => self.p.poll_interval,
            Dest::Room(r) => {
                let last = self.room_last[r as usize];
                self.room_last[r as usize] = now;
                self.p.group_polling.interval((last != SimTime::NEVER).then_some(last), now)
            }
        };
        let mut recipients = std::mem::take(&mut self.scratch_users);
        recipients.clear();
        ctx.for_each_recipient(id, |u| recipients.push(u));
        for &r in &recipients {
            let copy = StoredCopy {
                msg: id,
                created: m.created,
                swarm,
                entry,
                interval,
                stored_at: now,
                fetch_at: SimTime::NEVER,
                prev: self.tail[r as usize],
                next: NONE,
                bundle_next: NONE,
                fetching: false,
            };
            let slot = match self.free_copies.pop() {
                Some(c) => {
                    self.copies[c as usize] = copy;
                    c
                }
                None => {
                    self.copies.push(copy);
                    self.copies.len() as u32 - 1
                }
            };
            if self.tail[r as usize] == NONE {
                self.head[r as usize] = slot;
            } else {
                self.copies[self.tail[r as usize] as usize].next = slot;
            }
            self.tail[r as usize] = slot;
            if ctx.is_online(r) {
                let at = next_poll(ctx.online_since(r), interval, now);
                self.copies[slot as usize].fetch_at = at;
                self.schedule_fetch(ctx, r, at);
            }
        }
        self.scratch_users = recipients;
    }

    fn unlink(&mut self, u: UserId, slot: u32) {
        let c = self.copies[slot as usize];
        if c.prev == NONE {
            self.head[u as usize] = c.next;
        } else {
            self.copies[c.prev as usize].next = c.next;
        }
        if c.next == NONE {
            self.tail[u as usize] = c.prev;
        } else {
            self.copies[c.next as usize].prev = c.prev;
        }
        self.free_copies.push(slot);
    }

    // ---- fetching ----

    /// Makes sure a poll that looks at the swarm happens at `at` or earlier.
    fn schedule_fetch(&mut self, ctx: &mut Ctx<'_>, u: UserId, at: SimTime) {
        let i = u as usize;
        if self.next_fetch[i] <= at {
            return;
        }
        self.next_fetch[i] = at;
        self.fetch_gen[i] = self.fetch_gen[i].wrapping_add(1);
        ctx.schedule_at(at, ModelEvent { kind: FETCH, a: u, b: self.fetch_gen[i], c: 0 });
    }

    /// A poll that finds copies due: expired copies are dropped by the swarm, and one request goes
    /// to each swarm holding due copies.
    fn poll(&mut self, ctx: &mut Ctx<'_>, u: UserId) {
        self.next_fetch[u as usize] = SimTime::NEVER;
        if !ctx.is_online(u) {
            return;
        }
        let now = ctx.now();
        if !ctx.internet_up(u) {
            self.schedule_fetch(ctx, u, now + self.p.timeout);
            return;
        }
        let mut swarms = std::mem::take(&mut self.scratch_swarms);
        swarms.clear();
        let mut next = SimTime::NEVER;
        let mut slot = self.head[u as usize];
        while slot != NONE {
            let c = self.copies[slot as usize];
            let following = c.next;
            if !c.fetching {
                if now >= c.created + self.p.ttl {
                    ctx.lose(c.msg, LossReason::TtlExpired);
                    self.unlink(u, slot);
                } else if c.fetch_at <= now {
                    if !swarms.iter().any(|&(s, _)| s == c.swarm) {
                        swarms.push((c.swarm, c.entry));
                    }
                } else {
                    next = next.min(c.fetch_at);
                }
            }
            slot = following;
        }
        for &(swarm, entry) in &swarms {
            self.start_fetch(ctx, u, swarm, entry);
        }
        self.scratch_swarms = swarms;
        if next != SimTime::NEVER {
            self.schedule_fetch(ctx, u, next);
        }
    }

    fn start_fetch(&mut self, ctx: &mut Ctx<'_>, u: UserId, swarm: u32, entry: u32) {
        let ready = self.ensure_path(ctx, u);
        let path = self.paths[u as usize];
        let holders = self.holders(swarm);
        let mut pos = [0u32; 1];
        let h = self.h;
        self.choose_members(ctx.rng(), swarm, entry, holders, &path.hops[..h], &mut pos);
        let depart = ctx.now().max(ready);
        let f = Fetch {
            user: u,
            swarm,
            member_pos: pos[0],
            path: path.hops,
            path_gen: path.generation,
            start: depart,
            answered: SimTime::NEVER,
            bundle: NONE,
            relay_failed: false,
            guard_failed: false,
        };
        let id = match self.free_fetches.pop() {
            Some(i) => {
                self.fetches[i as usize] = f;
                i
            }
            None => {
                self.fetches.push(f);
                self.fetches.len() as u32 - 1
            }
        };
        if counting(ctx) {
            self.stats.fetches += 1;
        }
        if depart == ctx.now() {
            self.fetch_hop(ctx, id, 0);
        } else {
            ctx.schedule_at(depart, ModelEvent { kind: FETCH_HOP, a: id, b: 0, c: 0 });
        }
    }

    /// The poll exchange `f` leaves position `pos`: the device (0), request relays (1..=h), the
    /// swarm member answering (h+1), response relays (h+2..=2h+1), or arrives at the device
    /// (2h+2).
    fn fetch_hop(&mut self, ctx: &mut Ctx<'_>, f: u32, pos: usize) {
        let h = self.h;
        let fx = self.fetches[f as usize];
        let u = fx.user;
        let member = self.relays.members(fx.swarm)[fx.member_pos as usize];
        let next_pos = ModelEvent { kind: FETCH_HOP, a: f, b: pos as u32 + 1, c: 0 };
        if pos <= h {
            // The request, which carries no message: overhead traffic.
            let from = if pos == 0 {
                u
            } else {
                let r = fx.path[pos - 1];
                if !self.node_up(ctx, r) {
                    self.fetch_failed_at(ctx, f, pos, true);
                    return;
                }
                self.relays.relay_node(r)
            };
            let (to, relay_next) = if pos < h {
                (self.relays.relay_node(fx.path[pos]), true)
            } else {
                (self.relays.storage_node(member), false)
            };
            ctx.overhead_hop(from, to, self.p.request_bytes);
            let d = ctx.latency(from, to) + self.process(ctx, relay_next);
            ctx.schedule_in(d, next_pos);
            return;
        }
        if pos == h + 1 && !self.node_up(ctx, member) {
            self.fetch_failed_at(ctx, f, pos, false);
            return;
        }
        if pos == h + 1 && !self.answer(ctx, f) {
            self.free_fetches.push(f);
            return;
        }
        if pos == 2 * h + 2 {
            self.fetch_arrived(ctx, f);
            return;
        }
        // The response, carrying the fetched copies back through the recipient's path.
        let from = if pos == h + 1 {
            self.relays.storage_node(member)
        } else {
            let r = fx.path[2 * h + 1 - pos];
            if !self.node_up(ctx, r) {
                self.fetch_failed_at(ctx, f, pos, true);
                return;
            }
            self.relays.relay_node(r)
        };
        // Response position pos leaves towards path[2h - pos] or, after the guard, the device.
        let (to, visible, relay_next) = if pos <= 2 * h {
            (self.relays.relay_node(fx.path[2 * h - pos]), Visible::NOTHING, true)
        } else {
            (u, Visible::BOTH, false)
        };
        // Read the bundle now: the answer above has just filled it.
        let mut c = self.fetches[f as usize].bundle;
        while c != NONE {
            let copy = self.copies[c as usize];
            let bytes = ctx.msg(copy.msg).size;
            ctx.hop(copy.msg, from, to, bytes, visible, Some(u));
            c = copy.bundle_next;
        }
        let d = ctx.latency(from, to) + if relay_next { self.process(ctx, true) } else { SimDuration::ZERO };
        ctx.schedule_in(d, next_pos);
    }

    /// When the swarm member at position `pos` holds `copy`: the member that stored it from the
    /// store on, another holder once the replication hop from that member has arrived (issue 9).
    /// The hop's delay is one draw of that link's latency from a stream keyed by the message and
    /// the member, so every poll asking the same member sees the same arrival, and no draw is
    /// taken from the model's stream.
    fn held_at(&self, ctx: &Ctx<'_>, copy: &StoredCopy, pos: u32) -> SimTime {
        if pos == copy.entry {
            return copy.stored_at;
        }
        let members = self.relays.members(copy.swarm);
        let from = self.relays.storage_node(members[copy.entry as usize]);
        let to = self.relays.storage_node(members[pos as usize]);
        let serial = ctx.msg(copy.msg).serial;
        let key = self.replica_salt ^ serial.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ pos as u64;
        let mut rng = SimRng::seed_from_u64(splitmix64(key));
        let w = ctx.world();
        copy.stored_at + w.params.delays.hop(&w.params.regions, ctx.region_of(from), ctx.region_of(to), 0, &mut rng)
    }

    /// The swarm member answers a poll with the copies for the recipient that were stored in the
    /// swarm at or before the poll left the device and that this member holds when the request
    /// arrives (a replica only once its replication hop has arrived); expired ones are dropped.
    /// A copy stored after the poll left waits for a later poll even if this one reaches the
    /// member after the store: polls that find nothing due are not simulated and could not take
    /// it along, so every copy follows the same rule whatever else its recipient receives
    /// (issue 9). Returns whether there is anything to send back.
    fn answer(&mut self, ctx: &mut Ctx<'_>, f: u32) -> bool {
        let now = ctx.now();
        let fx = self.fetches[f as usize];
        let u = fx.user;
        let n = self.relays.members(fx.swarm).len() as u32;
        let holders = self.holders(fx.swarm);
        let mut bundle = NONE;
        let mut bundle_tail = NONE;
        let mut missed = SimTime::NEVER;
        let mut slot = self.head[u as usize];
        while slot != NONE {
            let c = self.copies[slot as usize];
            let following = c.next;
            if c.swarm == fx.swarm && !c.fetching && c.stored_at <= fx.start {
                let holder = (fx.member_pos + n - c.entry) % n < holders;
                if now >= c.created + self.p.ttl {
                    ctx.lose(c.msg, LossReason::TtlExpired);
                    self.unlink(u, slot);
                } else if holder && self.held_at(ctx, &c, fx.member_pos) <= now {
                    let cm = &mut self.copies[slot as usize];
                    cm.fetching = true;
                    cm.bundle_next = NONE;
                    if bundle == NONE {
                        bundle = slot;
                    } else {
                        self.copies[bundle_tail as usize].bundle_next = slot;
                    }
                    bundle_tail = slot;
                } else {
                    // Due, but this member does not hold it (yet): the next poll asks again.
                    missed = missed.min(next_poll(ctx.online_since(u), c.interval, now + SimDuration(1)));
                }
            }
            slot = following;
        }
        if missed != SimTime::NEVER && ctx.is_online(u) {
            self.schedule_fetch(ctx, u, missed);
        }
        let fm = &mut self.fetches[f as usize];
        fm.bundle = bundle;
        fm.answered = now;
        bundle != NONE
    }

    fn fetch_arrived(&mut self, ctx: &mut Ctx<'_>, f: u32) {
        let fx = self.fetches[f as usize];
        let u = fx.user;
        let online = ctx.is_online(u);
        let member_pos = fx.member_pos;
        let mut c = fx.bundle;
        while c != NONE {
            let copy = self.copies[c as usize];
            let following = copy.bundle_next;
            if online {
                ctx.stored_for(copy.msg, fx.answered.since(copy.stored_at));
                let hops = 2 * (self.h as u32 + 1) + (member_pos != copy.entry) as u32;
                ctx.deliver(copy.msg, u, hops);
                self.unlink(u, c);
            } else {
                // The device went offline meanwhile: the copy is still in the swarm and is
                // fetched again when the recipient is back.
                self.copies[c as usize].fetching = false;
            }
            c = following;
        }
        // The device's wake-up for this poll is counted with every other poll (count_polls).
        self.free_fetches.push(f);
    }

    /// A node of the exchange was down: the copies in the response stay in the swarm, and the
    /// recipient notices when its timeout runs out.
    fn fetch_failed_at(&mut self, ctx: &mut Ctx<'_>, f: u32, pos: usize, relay: bool) {
        let h = self.h;
        if counting(ctx) {
            if relay {
                self.stats.relay_failures += 1;
            } else {
                self.stats.storage_failures += 1;
            }
        }
        let fx = self.fetches[f as usize];
        let mut c = fx.bundle;
        while c != NONE {
            self.copies[c as usize].fetching = false;
            c = self.copies[c as usize].bundle_next;
        }
        let fm = &mut self.fetches[f as usize];
        fm.bundle = NONE;
        fm.relay_failed = relay;
        fm.guard_failed = relay && (pos == 1 || pos == 2 * h + 1);
        let at = ctx.now().max(fx.start + self.p.timeout);
        ctx.schedule_at(at, ModelEvent { kind: FETCH_FAIL, a: f, b: 0, c: 0 });
    }

    fn fetch_timed_out(&mut self, ctx: &mut Ctx<'_>, f: u32) {
        let fx = self.fetches[f as usize];
        let u = fx.user;
        if counting(ctx) {
            self.stats.poll_retries += 1;
        }
        self.drop_path(u as usize, fx.path_gen, fx.relay_failed, fx.guard_failed);
        self.free_fetches.push(f);
        if ctx.is_online(u) {
            let at = next_poll(ctx.online_since(u), self.p.poll_interval, ctx.now());
            self.schedule_fetch(ctx, u, at);
        }
    }

    /// Counts the polls `u` made from when it came online (or the warm-up ended) to `end`, on its
    /// own swarm's grid and each of its groups' grids: device wake-ups and poll traffic.
    fn count_polls(&mut self, ctx: &mut Ctx<'_>, u: UserId, end: SimTime) {
        if end <= ctx.window().warmup_end {
            return;
        }
        let anchor = ctx.online_since(u);
        let from = anchor.max(ctx.window().warmup_end);
        let mut n = polls_between(anchor, self.p.poll_interval, from, end);
        for &room in ctx.world().rooms.of(u) {
            let last = self.room_last[room as usize];
            let interval = self.p.group_polling.interval((last != SimTime::NEVER).then_some(last), end);
            n += polls_between(anchor, interval, from, end);
        }
        self.stats.polls += n;
        ctx.wake_many(n);
    }
}

impl DeliveryModel for Onion {
    fn name(&self) -> &str {
        &self.name
    }

    /// Measured: about 11 engine events per message on the default world (paths, swarms, polls that fetch).
    fn work_per_message(&self) -> f64 {
        11.0
    }

    fn init(&mut self, ctx: &mut Ctx<'_>, infra_rng: &mut SimRng) {
        let world = ctx.world();
        let users = world.users() as usize;
        let regions = world.params.regions.len();
        let weights: Vec<f64> = match &self.p.placement {
            Placement::FollowUsers => world.params.region_weights.clone(),
            Placement::Uniform => vec![1.0; regions],
            Placement::Weights(w) => w.clone(),
        };
        let total: f64 = weights.iter().sum();
        let count = self.p.relays as usize;
        let mut placed: Vec<RegionId> = Vec::with_capacity(count);
        for _ in 0..count {
            let mut x = infra_rng.random::<f64>() * total;
            let mut region = weights.iter().rposition(|&w| w > 0.0).unwrap_or(0);
            for (r, &w) in weights.iter().enumerate() {
                if x < w {
                    region = r;
                    break;
                }
                x -= w;
            }
            placed.push(region as RegionId);
        }
        // Two consecutive address blocks: node i relays at relay_base + i, stores at
        // storage_base + i.
        let mut relay_base = NONE;
        for &r in &placed {
            let id = ctx.add_node(NodeKind::Relay, r);
            relay_base = relay_base.min(id);
        }
        let mut storage_base = NONE;
        for &r in &placed {
            let id = ctx.add_node(NodeKind::Storage, r);
            storage_base = storage_base.min(id);
        }
        self.relays = Relays::new(
            relay_base,
            storage_base,
            count,
            &self.p.bandwidth,
            self.p.selection,
            self.p.churn,
            self.p.swarm_size,
            infra_rng,
        );
        self.replica_salt = infra_rng.random();
        for i in 0..count as u32 {
            ctx.set_node_weight(self.relays.relay_node(i), self.relays.bandwidth(i));
        }
        let path = UserPath {
            hops: [NONE; MAX_PATH],
            ready: SimTime::ZERO,
            built: SimTime::ZERO,
            generation: 0,
            valid: false,
            guard: NONE,
        };
        self.paths = vec![path; users];
        self.outbox_head = vec![NONE; users];
        self.outbox_tail = vec![NONE; users];
        self.head = vec![NONE; users];
        self.tail = vec![NONE; users];
        self.next_fetch = vec![SimTime::NEVER; users];
        self.fetch_gen = vec![0; users];
        self.room_last = vec![SimTime::NEVER; world.rooms.len()];
        for u in 0..users as UserId {
            if ctx.is_online(u) {
                ctx.connect(u);
            }
        }
    }

    fn on_send(&mut self, ctx: &mut Ctx<'_>, msg: MsgId) {
        let slot = msg.slot as usize;
        if self.sends.len() <= slot {
            self.sends.resize(ctx.msg_slots().max(slot + 1), SendState::default());
        }
        self.sends[slot] =
            SendState { generation: msg.generation, next_out: NONE, path: [NONE; MAX_PATH], ..SendState::default() };
        self.start_attempt(ctx, msg);
    }

    fn on_event(&mut self, ctx: &mut Ctx<'_>, ev: ModelEvent) {
        match ev.kind {
            SEND_HOP => self.send_hop(ctx, ev.msg(), ev.c >> 8, (ev.c & 0xFF) as usize),
            RETRY => self.retry(ctx, ev.msg()),
            RESEND => {
                if ctx.is_live(ev.msg()) {
                    self.start_attempt(ctx, ev.msg());
                }
            }
            FETCH => {
                if ev.b == self.fetch_gen[ev.a as usize] && self.next_fetch[ev.a as usize] == ctx.now() {
                    self.poll(ctx, ev.a);
                }
            }
            FETCH_HOP => self.fetch_hop(ctx, ev.a, ev.b as usize),
            FETCH_FAIL => self.fetch_timed_out(ctx, ev.a),
            other => unreachable!("onion model has no event kind {other}"),
        }
    }

    fn on_online(&mut self, ctx: &mut Ctx<'_>, user: UserId) {
        ctx.connect(user);
        // The first poll is right on coming online: everything stored is due.
        let now = ctx.now();
        let mut slot = self.head[user as usize];
        while slot != NONE {
            let c = &mut self.copies[slot as usize];
            if !c.fetching {
                c.fetch_at = now;
            }
            slot = c.next;
        }
        self.fetch_gen[user as usize] = self.fetch_gen[user as usize].wrapping_add(1);
        self.poll(ctx, user);
        // Messages the client held while offline go out now.
        let mut out = std::mem::replace(&mut self.outbox_head[user as usize], NONE);
        self.outbox_tail[user as usize] = NONE;
        while out != NONE {
            let s = self.sends[out as usize];
            let id = MsgId { slot: out, generation: s.generation };
            out = s.next_out;
            if ctx.is_live(id) {
                self.start_attempt(ctx, id);
            }
        }
    }

    fn on_offline(&mut self, ctx: &mut Ctx<'_>, user: UserId) {
        let now = ctx.now();
        self.count_polls(ctx, user, now);
        self.next_fetch[user as usize] = SimTime::NEVER;
        self.fetch_gen[user as usize] = self.fetch_gen[user as usize].wrapping_add(1);
    }

    fn finish(&mut self, ctx: &mut Ctx<'_>) -> ModelReport {
        let end = ctx.window().run_end;
        let users = ctx.world().users();
        for u in 0..users {
            if ctx.is_online(u) {
                self.count_polls(ctx, u, end);
            }
        }
        // Polls that found nothing were counted, not simulated: their requests and empty answers
        // through the path are overhead traffic too.
        let empty_polls = self.stats.polls.saturating_sub(self.stats.fetches);
        let hops_per_poll = 2 * (self.h as u64 + 1);
        ctx.overhead_many(empty_polls * hops_per_poll, empty_polls * hops_per_poll * self.p.request_bytes as u64);
        // Copies whose time-to-live ran out before the end are lost, not in flight.
        let mut left = 0u64;
        for u in 0..users as usize {
            let mut slot = self.head[u];
            while slot != NONE {
                let c = self.copies[slot as usize];
                if !c.fetching && end >= c.created + self.p.ttl {
                    ctx.lose(c.msg, LossReason::TtlExpired);
                } else {
                    left += 1;
                }
                slot = c.next;
            }
        }
        let (w, count) = (ctx.window(), self.relays.len() as u32);
        let st = &self.stats;
        let servers = vec![
            st.relay_load.stats("service nodes (relay role)", count, &w),
            st.storage_load.stats("service nodes (storage role)", count, &w),
        ];
        let mut report = ModelReport { servers, ..ModelReport::default() };
        let h = self.h as f64;
        let f = &mut report.figures;
        let mut put = |k: &str, v: f64| {
            f.insert(k.into(), v);
        };
        put("relays", count as f64);
        put("swarms", self.relays.swarms() as f64);
        put("mean_swarm_size", count as f64 / self.relays.swarms().max(1) as f64);
        put("relay_availability", self.p.churn.map_or(1.0, |c| c.availability()));
        put("path_builds", st.path_builds as f64);
        if st.path_builds > 0 {
            put("mean_path_build_ms", st.build_us as f64 / st.path_builds as f64 / 1e3);
        }
        put("guard_changes", st.guard_changes as f64);
        put("guard_test_failures", st.guard_test_failures as f64);
        put("path_retries", st.path_retries as f64);
        put("relay_failures", st.relay_failures as f64);
        put("storage_failures", st.storage_failures as f64);
        put("relay_failure_losses", st.relay_failure_losses as f64);
        put("duplicate_stores", st.duplicate_stores as f64);
        put("replication_hops", st.replication_hops as f64);
        put("held_while_offline", st.held_offline as f64);
        put("polls", st.polls as f64);
        put("poll_transmissions", st.polls as f64 * 2.0 * (h + 1.0));
        put("poll_bytes", st.polls as f64 * 2.0 * (h + 1.0) * self.p.request_bytes as f64);
        put("fetch_exchanges", st.fetches as f64);
        put("poll_retries", st.poll_retries as f64);
        put("copies_in_swarms_at_end", left as f64);
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_population_has_one_empty_swarm() {
        let r = Relays::empty();
        assert!(r.is_empty());
        assert_eq!(r.swarms(), 1);
        assert!(r.members(0).is_empty());
    }
}
