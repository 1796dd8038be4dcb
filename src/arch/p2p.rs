//! Peer-to-peer delivery (Briar-like): a message moves only over a direct connection between the
//! two peers' devices, which needs both of them online; until then the sender's client holds it.
//!
//! Mechanism. Each online device polls its contacts on Briar's back-off schedule (1 min × 1.2^n,
//! capped at 10 min, `n` reset whenever a connection opens; DEFAULTS.md §3; see `p2p/poll.rs`) and,
//! when `poll_on_start` is on, once more the moment its transport comes up (Briar's poller polls
//! a newly active transport at once: `PollerImpl`, TransportActiveEvent → `pollNow`). A poll
//! round connects to every reachable online contact not yet connected; a connection stays open
//! while both stay online and reachable, and carries messages both ways. So a pair's connection
//! opens at the first poll round of either peer after both became online and reachable, and a
//! held copy leaves then. The model computes that instant from the two peers' schedules instead
//! of ticking: with `poll_on_start` it is the moment the later peer came up; without it, the model
//! schedules one attempt at the earlier of the two peers' next rounds (recomputed if a reset moved
//! them), one event per waiting pair, never one per round. A copy whose recipient drops before it
//! arrives returns to the sender's client. A client gives up on a copy `give_up` after the send
//! (`sender_gave_up`; 2 days, the give-up of Briar's rendezvous, `RendezvousConstants`, taken as
//! an ASSUMPTION for messages — Briar itself retransmits for as long as the contact exists).
//!
//! Discovery. With `discovery = "contacts"` peers know each other's addresses from the contact
//! exchange (Briar: QR code or `briar://` links). With `"dht"` the first connection from a sender
//! to a recipient first runs a real iterative Kademlia lookup over an overlay of all devices
//! (XOR metric, k-buckets, α-parallel rounds; [`crate::world::overlay`]) built once per run from
//! the infrastructure stream; its rounds and round trips add to that first message's latency and
//! each request and reply is an overhead hop. The result is cached per (sender, recipient) pair
//! for the run (ASSUMPTION: addresses stay valid; Kademlia records live 24 h, XLattice tExpire),
//! so repeated messages do not look up again. Lookups are sent directly even over onion transport.
//!
//! Transport. `"direct"`: one hop between the devices. `"onion"`: peers talk onion service to
//! onion service, a circuit of `onion_hops` relays (6 — the client's 3 and the service's 3 meeting
//! at the rendezvous relay, DEFAULTS.md §5), whose first and last relays are each end's guard; each
//! relay is a hop with its own latency. Opening a connection costs `setup_round_trips` round trips
//! over the chosen path before the first message (ASSUMPTION: 1; Tor's telescoping circuit build
//! and introduction cost more, so onion setup is a lower bound). Mesh: with `mesh` on, two online
//! contacts in the same region with no internet (a regional outage) still connect over
//! Bluetooth/Wi-Fi if they are within reach (`mesh_reach`, a fixed per-pair draw), one hop of
//! `mesh_latency`. Mailbox: a share `mailbox` of users own an always-online Briar Mailbox in their
//! region; a sender that cannot reach such a recipient uploads the copy there instead (after a
//! 5 s batching delay, `MailboxUploadWorker`), and the owner downloads on reconnecting; a copy
//! older than `mailbox_ttl` is dropped (`ttl_expired`).
//!
//! Battery proxy. Wake-ups count: each poll round (arithmetically, between back-off resets, with
//! `Ctx::wake_many`), the start-up poll, each incoming connection, each received message, and
//! keep-alives: an idle open connection flushes a keep-alive every `keepalive` (30 s, Briar's
//! MAX_IDLE_TIME for Tor, read by `DuplexOutgoingSession` as the keep-alive period), counted per
//! side and per connection when the connection closes, never simulated; each is also overhead
//! traffic of `keepalive_size` bytes on every link of the connection's path (`Ctx::overhead_many`).
//! The connection attempts of poll rounds cost wake-ups but their traffic is not counted.
//! Connections count at the device that opens them. A push-based server counts one wake per push.
//!
//! What hops see. Direct: `from` and `to` are the two devices' addresses, so each peer learns the
//! other's IP address, and the peer (a contact) reads the sender's identity. Onion: every relay
//! sees only its neighbours' addresses and nothing of the message (`Visible::NOTHING`); the guard
//! of each end sees that end's IP address; the recipient receives from its guard, so neither
//! device sees the other's address, but still reads the sender's identity. Mesh: the two devices
//! see each other (radio addresses). A mailbox reads the recipient (its owner) but not the sender
//! (uploads are per-contact folders of encrypted files); the file it stores and serves is the same
//! on both legs (linkable). DHT lookups are overhead hops, which carry no identities in the
//! observation stream (a limitation: real DHT nodes learn who looks up whom).
//!
//! Simplifications (docs/arch/p2p.md): one poll schedule per device for all transports; the
//! randomised first interval after a start-up poll is not drawn; without `poll_on_start`, idle
//! connections (pairs with nothing held) do not reset the back-off, so poll wake-ups are then a
//! lower bound, and keep-alives are counted from the moment both peers are up (up to one poll
//! interval early); with the complete social graph (no stored contact lists) connection-level
//! costs (keep-alives, resets, incoming connections) are not counted; a path is drawn per message
//! (Tor keeps a circuit per connection); relays add no processing delay and never fail.

mod pending;
mod poll;

pub use pending::Pending;
pub use poll::PollSchedule;

use std::collections::HashSet;

use rand::RngExt;

use crate::arch::kit::NONE;
use crate::dist::Dist;
use crate::engine::DeliveryModel;
use crate::engine::observation::{NodeId, NodeKind, Visible};
use crate::engine::{Ctx, ModelEvent, MsgId, SimRng};
use crate::metrics::ModelReport;
use crate::metrics::recorder::LossReason;
use crate::rng::splitmix64;
use crate::time::{SimDuration, SimTime};
use crate::world::overlay::{LookupScratch, Overlay};
use crate::world::{RegionId, UserId};

/// How a sender learns where the recipient is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discovery {
    /// Addresses come with the contact exchange (Briar).
    Contacts,
    /// An iterative Kademlia lookup before the first connection to each recipient.
    Dht,
}

/// How two peers' devices reach each other over the internet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// One hop between the two devices; each sees the other's IP address.
    Direct,
    /// A circuit of onion relays between two onion services.
    Onion,
}

/// The peer-to-peer architecture's parameters.
#[derive(Clone, Debug)]
pub struct P2pParams {
    /// How peers find each other.
    pub discovery: Discovery,
    /// Kademlia bucket size k.
    pub dht_k: u32,
    /// Kademlia lookup parallelism α.
    pub dht_alpha: u32,
    /// Bytes of one lookup request or reply.
    pub dht_rpc_bytes: u32,
    /// Internet transport between peers.
    pub transport: Transport,
    /// Relays on an onion connection (both ends' circuits together).
    pub onion_hops: u32,
    /// Relays in the onion network.
    pub onion_relays: u32,
    /// Poll interval right after a back-off reset.
    pub poll_min: SimDuration,
    /// Cap of the poll interval.
    pub poll_max: SimDuration,
    /// Factor the poll interval grows by per round.
    pub poll_backoff: f64,
    /// Whether a device polls as soon as its transport comes up.
    pub poll_on_start: bool,
    /// Keep-alive period of an idle open connection; zero: no keep-alives.
    pub keepalive: SimDuration,
    /// Bytes of one keep-alive on one link.
    pub keepalive_bytes: u32,
    /// Round trips over the path to open a connection before the first message.
    pub setup_round_trips: u32,
    /// Age after which the sender's client stops trying.
    pub give_up: SimDuration,
    /// Share of users who own an always-online mailbox.
    pub mailbox: f64,
    /// How long a mailbox keeps an undownloaded copy.
    pub mailbox_ttl: SimDuration,
    /// Delay before a client uploads to a mailbox (batching).
    pub mailbox_upload_delay: SimDuration,
    /// Whether nearby devices connect over Bluetooth/Wi-Fi when the internet is down.
    pub mesh: bool,
    /// Share of same-region contact pairs within radio reach.
    pub mesh_reach: f64,
    /// One-way latency of a mesh hop, in seconds.
    pub mesh_latency: Dist,
}

/// A hop of a transmission (`a`, `b`: message; `c`: transit slot).
const HOP: u16 = 0;
/// A pair's next poll round (`a`: sender, `b`: recipient).
const ATTEMPT: u16 = 1;
/// Internet connectivity changes (`a`: region or [`ALL`]; `b`: 1 up, 0 down).
const NET_CHANGE: u16 = 2;

const ALL: u32 = u32::MAX;
const NO_TICK: u64 = u64::MAX;

/// What a transmission is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Leg {
    /// Sender to recipient over the internet (direct or onion).
    Peer,
    /// Sender to recipient over Bluetooth/Wi-Fi.
    Mesh,
    /// Sender to the recipient's mailbox.
    ToMailbox,
    /// Mailbox to its owner.
    FromMailbox,
}

/// A copy on its way: where it is on its path.
#[derive(Clone, Copy, Debug)]
struct Transit {
    msg: MsgId,
    sender: UserId,
    recipient: UserId,
    leg: Leg,
    /// Links crossed so far.
    step: u8,
    /// Links on the path.
    len: u8,
    /// Hops already made on an earlier leg (mailbox upload).
    earlier_hops: u8,
    /// When the transmission (its connection) started.
    started: SimTime,
    /// When the copy entered the mailbox (download leg).
    stored_at: SimTime,
}

/// A copy in a mailbox, linked into its owner's FIFO list.
#[derive(Clone, Copy, Debug)]
struct Stored {
    msg: MsgId,
    stored_at: SimTime,
    hops: u8,
    next: u32,
}

/// Whether and how a held copy can leave now.
enum Link {
    /// A connection is open (opened just now if `fresh`).
    Open { fresh: bool, mesh: bool },
    /// Both are up and reachable but neither has polled since: the connection opens then.
    Wait(SimTime),
    /// The recipient cannot be reached now.
    Closed,
}

/// The peer-to-peer delivery model.
pub struct P2p {
    name: String,
    p: P2pParams,
    schedule: PollSchedule,
    // Per user.
    anchor: Vec<SimTime>,
    prev_tick: Vec<u64>,
    guard: Vec<NodeId>,
    mailbox_node: Vec<NodeId>,
    mailbox_guard: Vec<NodeId>,
    mb_head: Vec<u32>,
    mb_tail: Vec<u32>,
    // Per region.
    epoch: Vec<SimTime>,
    region_offsets: Vec<u32>,
    region_users: Vec<UserId>,
    // Onion relays are nodes first_relay..first_relay + onion_relays.
    first_relay: NodeId,
    // Held copies, transits, mailbox contents.
    pending: Pending,
    transits: Vec<Transit>,
    paths: Vec<NodeId>,
    free_transits: Vec<u32>,
    stored: Vec<Stored>,
    free_stored: Vec<u32>,
    // Discovery.
    overlay: Option<Overlay>,
    lookup_scratch: LookupScratch,
    edge_base: Vec<u64>,
    looked_up: Vec<u64>,
    looked_up_other: HashSet<u64>,
    lookup_memo: Vec<(UserId, UserId, SimDuration)>,
    lookup_memo_at: SimTime,
    attempt_memo: Vec<(UserId, UserId)>,
    attempt_memo_at: SimTime,
    reach_salt: u64,
    // Scratch.
    scratch: Vec<u32>,
    recipients: Vec<UserId>,
    // Figures.
    lookups: u64,
    lookup_rounds: u64,
    lookup_rpcs: u64,
    lookup_latency_us: u128,
    lookups_failed: u64,
    poll_rounds: u64,
    keepalives: u64,
    connections: u64,
    failed_transmissions: u64,
    peer_deliveries: u64,
    mesh_deliveries: u64,
    mailbox_uploads: u64,
    mailbox_deliveries: u64,
}

impl P2p {
    /// A model with the given label and parameters.
    pub fn new(name: &str, p: P2pParams) -> P2p {
        let schedule = PollSchedule::new(p.poll_min, p.poll_max, p.poll_backoff);
        P2p {
            name: name.to_owned(),
            p,
            schedule,
            anchor: Vec::new(),
            prev_tick: Vec::new(),
            guard: Vec::new(),
            mailbox_node: Vec::new(),
            mailbox_guard: Vec::new(),
            mb_head: Vec::new(),
            mb_tail: Vec::new(),
            epoch: Vec::new(),
            region_offsets: Vec::new(),
            region_users: Vec::new(),
            first_relay: 0,
            pending: Pending::default(),
            transits: Vec::new(),
            paths: Vec::new(),
            free_transits: Vec::new(),
            stored: Vec::new(),
            free_stored: Vec::new(),
            overlay: None,
            lookup_scratch: LookupScratch::default(),
            edge_base: Vec::new(),
            looked_up: Vec::new(),
            looked_up_other: HashSet::new(),
            lookup_memo: Vec::new(),
            lookup_memo_at: SimTime::NEVER,
            attempt_memo: Vec::new(),
            attempt_memo_at: SimTime::NEVER,
            reach_salt: 0,
            scratch: Vec::new(),
            recipients: Vec::new(),
            lookups: 0,
            lookup_rounds: 0,
            lookup_rpcs: 0,
            lookup_latency_us: 0,
            lookups_failed: 0,
            poll_rounds: 0,
            keepalives: 0,
            connections: 0,
            failed_transmissions: 0,
            peer_deliveries: 0,
            mesh_deliveries: 0,
            mailbox_uploads: 0,
            mailbox_deliveries: 0,
        }
    }

    fn onion(&self) -> bool {
        self.p.transport == Transport::Onion
    }

    /// Relays a connection crosses between two ends over the internet.
    fn relays_on_path(&self) -> usize {
        if self.onion() { self.p.onion_hops as usize } else { 0 }
    }

    // ---- reachability ----

    fn region(&self, ctx: &Ctx<'_>, u: UserId) -> RegionId {
        ctx.world().user_region[u as usize]
    }

    fn in_reach(&self, a: UserId, b: UserId) -> bool {
        if self.p.mesh_reach >= 1.0 {
            return true;
        }
        let (lo, hi) = (a.min(b) as u64, a.max(b) as u64);
        let draw = splitmix64(self.reach_salt ^ (lo << 32 | hi));
        (draw as f64) < self.p.mesh_reach * 18_446_744_073_709_551_616.0
    }

    fn mesh_possible(&self, ctx: &Ctx<'_>, a: UserId, b: UserId) -> bool {
        self.p.mesh && self.region(ctx, a) == self.region(ctx, b) && self.in_reach(a, b)
    }

    /// Whether `a` and `b` could connect at time `t` (internet on both sides, or mesh).
    fn reachable_at(&self, ctx: &Ctx<'_>, a: UserId, b: UserId, t: SimTime) -> bool {
        let w = ctx.world();
        let net = w.params.internet_outages.is_empty()
            || (w.internet_up(self.region(ctx, a), t) && w.internet_up(self.region(ctx, b), t));
        net || self.mesh_possible(ctx, a, b)
    }

    /// Since when both `a` and `b` have been up with unchanged connectivity.
    fn both_up_since(&self, ctx: &Ctx<'_>, a: UserId, b: UserId) -> SimTime {
        ctx.online_since(a)
            .max(ctx.online_since(b))
            .max(self.epoch[self.region(ctx, a) as usize])
            .max(self.epoch[self.region(ctx, b) as usize])
    }

    /// Whether user `u` has been online with unchanged connectivity since `t`.
    fn up_since(&self, ctx: &Ctx<'_>, u: UserId, t: SimTime) -> bool {
        ctx.is_online(u) && ctx.online_since(u) <= t && self.epoch[self.region(ctx, u) as usize] <= t
    }

    // ---- the poll schedule ----

    fn latest_tick(&self, u: UserId, now: SimTime) -> Option<SimTime> {
        let a = self.anchor[u as usize];
        match self.schedule.last_at_or_before(now.since(a)) {
            Some(off) => Some(a + off),
            None => (self.prev_tick[u as usize] != NO_TICK).then_some(SimTime(self.prev_tick[u as usize])),
        }
    }

    fn next_tick(&self, u: UserId, now: SimTime) -> SimTime {
        let a = self.anchor[u as usize];
        a + self.schedule.next_at_or_after(now.since(a))
    }

    /// Counts the poll rounds of `u` since its last reset up to now (those after the warm-up).
    fn close_polls(&mut self, ctx: &mut Ctx<'_>, u: UserId) {
        let now = ctx.now();
        let a = self.anchor[u as usize];
        let warm = ctx.window().warmup_end;
        let all = self.schedule.count_within(now.since(a));
        let before = if warm > a { self.schedule.count_within(SimDuration(warm.since(a).0 - 1)) } else { 0 };
        let n = all.saturating_sub(before);
        if n > 0 && now >= warm {
            self.poll_rounds += n;
            ctx.wake_many(n);
        }
    }

    /// A connection opened at `u` now: its back-off resets.
    fn reset_backoff(&mut self, ctx: &mut Ctx<'_>, u: UserId) {
        let now = ctx.now();
        self.close_polls(ctx, u);
        self.prev_tick[u as usize] = self.latest_tick(u, now).map_or(NO_TICK, |t| t.0);
        self.anchor[u as usize] = now;
    }

    /// `u`'s transport came up now (it came online, or its internet came back): the back-off
    /// resets (Briar resets it when Tor has bootstrapped) and, with `poll_on_start`, it polls.
    fn transport_up(&mut self, ctx: &mut Ctx<'_>, u: UserId, was_offline: bool) {
        if was_offline {
            // Rounds of the last online period were counted when it ended.
            self.anchor[u as usize] = ctx.now();
            self.prev_tick[u as usize] = NO_TICK;
        } else {
            self.reset_backoff(ctx, u);
        }
        if self.p.poll_on_start {
            self.prev_tick[u as usize] = ctx.now().0;
            ctx.wake(u);
            if ctx.now() >= ctx.window().warmup_end {
                self.poll_rounds += 1;
            }
        }
    }

    /// Counts the keep-alives of the connection between `a` and `b` from when it opened to now,
    /// for `sides` of its two ends.
    fn close_connection(&mut self, ctx: &mut Ctx<'_>, a: UserId, b: UserId, sides: u64) {
        if self.p.keepalive == SimDuration::ZERO {
            return;
        }
        let now = ctx.now();
        let opened = self.both_up_since(ctx, a, b);
        if opened >= now || !self.reachable_at(ctx, a, b, opened) {
            return;
        }
        if !self.p.poll_on_start {
            let polled = self.latest_tick(a, now).max(self.latest_tick(b, now));
            if polled.is_none_or(|t| t < opened) {
                return;
            }
        }
        let from = opened.max(ctx.window().warmup_end);
        if now <= from {
            return;
        }
        let n = now.since(from).0 / self.p.keepalive.0 * sides;
        self.keepalives += n;
        ctx.wake_many(n);
        // Each keep-alive crosses every link of the connection's path (no event: bulk overhead).
        let links = n * (self.relays_on_path() as u64 + 1);
        ctx.overhead_many(links, links * self.p.keepalive_bytes as u64);
    }

    // ---- deciding what a held copy does ----

    fn link(&self, ctx: &Ctx<'_>, s: UserId, r: UserId) -> Link {
        if !ctx.is_online(r) {
            return Link::Closed;
        }
        let internet = ctx.internet_up(s) && ctx.internet_up(r);
        let mesh = !internet && self.mesh_possible(ctx, s, r);
        if !internet && !mesh {
            return Link::Closed;
        }
        let now = ctx.now();
        let since = self.both_up_since(ctx, s, r);
        if self.p.poll_on_start {
            return Link::Open { fresh: since == now, mesh };
        }
        let polled = self.latest_tick(s, now).max(self.latest_tick(r, now));
        match polled {
            Some(t) if t >= since => Link::Open { fresh: t == now, mesh },
            _ => Link::Wait(self.next_tick(s, now).min(self.next_tick(r, now))),
        }
    }

    /// Decides for a held copy: it leaves over an open connection, waits for the pair's next
    /// poll round, goes to the recipient's mailbox, or stays.
    fn try_copy(&mut self, ctx: &mut Ctx<'_>, idx: u32) {
        let h = *self.pending.get(idx);
        let now = ctx.now();
        if now.since(ctx.msg(h.msg).created) >= self.p.give_up {
            self.pending.remove(idx);
            ctx.lose(h.msg, LossReason::SenderGaveUp);
            return;
        }
        if !ctx.is_online(h.sender) {
            return;
        }
        match self.link(ctx, h.sender, h.recipient) {
            Link::Open { fresh, mesh } => {
                self.pending.remove(idx);
                self.send_to_peer(ctx, h.msg, h.sender, h.recipient, fresh, mesh);
            }
            Link::Wait(at) => self.schedule_attempt(ctx, h.sender, h.recipient, at),
            Link::Closed => {
                let mb = self.mailbox_node[h.recipient as usize];
                if mb != NONE && ctx.internet_up(h.sender) && ctx.internet_up(mb) {
                    self.pending.remove(idx);
                    self.upload(ctx, h.msg, h.sender, h.recipient);
                }
            }
        }
    }

    fn schedule_attempt(&mut self, ctx: &mut Ctx<'_>, s: UserId, r: UserId, at: SimTime) {
        if self.attempt_memo_at != ctx.now() {
            self.attempt_memo.clear();
            self.attempt_memo_at = ctx.now();
        }
        if !self.attempt_memo.contains(&(s, r)) {
            self.attempt_memo.push((s, r));
            ctx.schedule_at(at, ModelEvent { kind: ATTEMPT, a: s, b: r, c: 0 });
        }
    }

    /// Reconsiders every copy `u` holds (if online) and every copy held for `u`, and downloads
    /// `u`'s mailbox.
    fn flush_user(&mut self, ctx: &mut Ctx<'_>, u: UserId) {
        let mut list = std::mem::take(&mut self.scratch);
        list.clear();
        if ctx.is_online(u) {
            self.pending.of_sender(u, &mut list);
        }
        self.pending.of_recipient(u, &mut list);
        for &idx in &list {
            self.try_copy(ctx, idx);
        }
        self.scratch = list;
        self.download_mailbox(ctx, u);
    }

    /// Reconsiders the copies between `a` and `b`, both ways.
    fn flush_pair(&mut self, ctx: &mut Ctx<'_>, a: UserId, b: UserId) {
        let mut list = std::mem::take(&mut self.scratch);
        list.clear();
        self.pending.of_recipient(b, &mut list);
        self.pending.of_recipient(a, &mut list);
        for &idx in &list {
            let h = *self.pending.get(idx);
            if (h.sender, h.recipient) == (a, b) || (h.sender, h.recipient) == (b, a) {
                self.try_copy(ctx, idx);
            }
        }
        self.scratch = list;
    }

    // ---- discovery ----

    fn lookup_cached(&mut self, ctx: &Ctx<'_>, s: UserId, r: UserId) -> bool {
        let contacts = &ctx.world().contacts;
        if !self.edge_base.is_empty()
            && let Ok(i) = contacts.of(s).binary_search(&r)
        {
            let bit = self.edge_base[s as usize] + i as u64;
            let (word, mask) = ((bit / 64) as usize, 1u64 << (bit % 64));
            let seen = self.looked_up[word] & mask != 0;
            self.looked_up[word] |= mask;
            return seen;
        }
        !self.looked_up_other.insert((s as u64) << 32 | r as u64)
    }

    /// The time a DHT lookup for `r` adds before `s`'s first connection to it (zero when the
    /// result is cached or discovery is by contact exchange).
    fn lookup(&mut self, ctx: &mut Ctx<'_>, s: UserId, r: UserId) -> SimDuration {
        if self.overlay.is_none() {
            return SimDuration::ZERO;
        }
        if self.lookup_memo_at != ctx.now() {
            self.lookup_memo.clear();
            self.lookup_memo_at = ctx.now();
        }
        // Copies that leave together wait for the same lookup.
        if let Some(&(_, _, d)) = self.lookup_memo.iter().find(|m| (m.0, m.1) == (s, r)) {
            return d;
        }
        if self.lookup_cached(ctx, s, r) {
            return SimDuration::ZERO;
        }
        let bytes = self.p.dht_rpc_bytes;
        let overlay = self.overlay.as_ref().expect("dht discovery builds the overlay");
        let result = overlay.lookup(s, r, self.p.dht_alpha, &mut self.lookup_scratch, |q, p| {
            ctx.overhead_hop(q, p, bytes);
            ctx.overhead_hop(p, q, bytes);
            ctx.latency(q, p) + ctx.latency(p, q)
        });
        self.lookups += 1;
        self.lookup_rounds += result.rounds as u64;
        self.lookup_rpcs += result.rpcs as u64;
        self.lookup_latency_us += result.latency.0 as u128;
        self.lookups_failed += (!result.found) as u64;
        self.lookup_memo.push((s, r, result.latency));
        result.latency
    }

    // ---- transmissions ----

    fn new_transit(&mut self, t: Transit) -> u32 {
        let stride = self.relays_on_path();
        match self.free_transits.pop() {
            Some(i) => {
                self.transits[i as usize] = t;
                i
            }
            None => {
                self.transits.push(t);
                self.paths.resize(self.transits.len() * stride, 0);
                self.transits.len() as u32 - 1
            }
        }
    }

    /// Fills the relays of transit `slot` from `first_guard` to `last_guard`.
    fn pick_relays(&mut self, ctx: &mut Ctx<'_>, slot: u32, first_guard: NodeId, last_guard: NodeId) {
        let stride = self.relays_on_path();
        if stride == 0 {
            return;
        }
        let base = slot as usize * stride;
        self.paths[base] = first_guard;
        for i in 1..stride - 1 {
            self.paths[base + i] = self.first_relay + ctx.rng().random_range(0..self.p.onion_relays);
        }
        self.paths[base + stride - 1] = last_guard;
    }

    /// Node `i` (0 = source, `len` = destination) on transit `slot`'s path.
    fn node(&self, slot: u32, i: u8) -> NodeId {
        let t = &self.transits[slot as usize];
        if i == 0 {
            match t.leg {
                Leg::FromMailbox => self.mailbox_node[t.recipient as usize],
                _ => t.sender,
            }
        } else if i == t.len {
            match t.leg {
                Leg::ToMailbox => self.mailbox_node[t.recipient as usize],
                _ => t.recipient,
            }
        } else {
            self.paths[slot as usize * self.relays_on_path() + i as usize - 1]
        }
    }

    fn link_latency(&self, ctx: &mut Ctx<'_>, leg: Leg, from: NodeId, to: NodeId) -> SimDuration {
        if leg == Leg::Mesh { self.p.mesh_latency.sample_duration(ctx.rng()) } else { ctx.latency(from, to) }
    }

    /// One round trip over transit `slot`'s whole path.
    fn round_trip(&self, ctx: &mut Ctx<'_>, slot: u32) -> SimDuration {
        let (leg, len) = (self.transits[slot as usize].leg, self.transits[slot as usize].len);
        let mut d = SimDuration::ZERO;
        for i in 0..len {
            let (a, b) = (self.node(slot, i), self.node(slot, i + 1));
            d += self.link_latency(ctx, leg, a, b) + self.link_latency(ctx, leg, b, a);
        }
        d
    }

    /// Starts transit `slot` after `pre` (connection setup, lookup, batching).
    fn start(&mut self, ctx: &mut Ctx<'_>, slot: u32, pre: SimDuration) {
        if pre == SimDuration::ZERO {
            self.advance(ctx, slot);
        } else {
            let msg = self.transits[slot as usize].msg;
            ctx.schedule_in(pre, ModelEvent::for_msg(HOP, msg, slot));
        }
    }

    fn send_to_peer(&mut self, ctx: &mut Ctx<'_>, msg: MsgId, s: UserId, r: UserId, fresh: bool, mesh: bool) {
        let (leg, len) = if mesh { (Leg::Mesh, 1) } else { (Leg::Peer, self.relays_on_path() as u8 + 1) };
        let now = ctx.now();
        let t =
            Transit { msg, sender: s, recipient: r, leg, step: 0, len, earlier_hops: 0, started: now, stored_at: now };
        let slot = self.new_transit(t);
        if !mesh && self.onion() {
            let (gs, gr) = (self.guard[s as usize], self.guard[r as usize]);
            self.pick_relays(ctx, slot, gs, gr);
        }
        let mut pre = if mesh { SimDuration::ZERO } else { self.lookup(ctx, s, r) };
        if fresh {
            for _ in 0..self.p.setup_round_trips {
                pre += self.round_trip(ctx, slot);
            }
        }
        self.start(ctx, slot, pre);
    }

    fn upload(&mut self, ctx: &mut Ctx<'_>, msg: MsgId, s: UserId, r: UserId) {
        let now = ctx.now();
        let len = self.relays_on_path() as u8 + 1;
        let t = Transit {
            msg,
            sender: s,
            recipient: r,
            leg: Leg::ToMailbox,
            step: 0,
            len,
            earlier_hops: 0,
            started: now,
            stored_at: now,
        };
        let slot = self.new_transit(t);
        if self.onion() {
            let (gs, gm) = (self.guard[s as usize], self.mailbox_guard[r as usize]);
            self.pick_relays(ctx, slot, gs, gm);
        }
        ctx.connect(s);
        self.connections += 1;
        let mut pre = self.p.mailbox_upload_delay;
        for _ in 0..self.p.setup_round_trips {
            pre += self.round_trip(ctx, slot);
        }
        self.start(ctx, slot, pre);
    }

    /// The owner fetches everything its mailbox holds, if both can reach the internet.
    fn download_mailbox(&mut self, ctx: &mut Ctx<'_>, r: UserId) {
        let mb = self.mailbox_node[r as usize];
        if mb == NONE
            || self.mb_head[r as usize] == NONE
            || !ctx.is_online(r)
            || !ctx.internet_up(r)
            || !ctx.internet_up(mb)
        {
            return;
        }
        ctx.connect(r);
        self.connections += 1;
        let now = ctx.now();
        let mut i = self.mb_head[r as usize];
        self.mb_head[r as usize] = NONE;
        self.mb_tail[r as usize] = NONE;
        while i != NONE {
            let c = self.stored[i as usize];
            self.free_stored.push(i);
            i = c.next;
            let wait = now.since(c.stored_at);
            if wait >= self.p.mailbox_ttl {
                ctx.lose(c.msg, LossReason::TtlExpired);
                continue;
            }
            let len = self.relays_on_path() as u8 + 1;
            let t = Transit {
                msg: c.msg,
                sender: ctx.msg(c.msg).sender,
                recipient: r,
                leg: Leg::FromMailbox,
                step: 0,
                len,
                earlier_hops: c.hops,
                started: now,
                stored_at: c.stored_at,
            };
            let slot = self.new_transit(t);
            if self.onion() {
                let (gm, gr) = (self.mailbox_guard[r as usize], self.guard[r as usize]);
                self.pick_relays(ctx, slot, gm, gr);
            }
            // The owner's request travels the path once before the copy comes back.
            let mut pre = self.round_trip(ctx, slot);
            pre = SimDuration(pre.0 / 2);
            for _ in 0..self.p.setup_round_trips {
                pre += self.round_trip(ctx, slot);
            }
            ctx.stored_for(c.msg, wait + pre);
            self.start(ctx, slot, pre);
        }
    }

    fn store(&mut self, r: UserId, msg: MsgId, stored_at: SimTime, hops: u8) {
        let c = Stored { msg, stored_at, hops, next: NONE };
        let slot = match self.free_stored.pop() {
            Some(s) => {
                self.stored[s as usize] = c;
                s
            }
            None => {
                self.stored.push(c);
                self.stored.len() as u32 - 1
            }
        };
        let r = r as usize;
        if self.mb_head[r] == NONE {
            self.mb_head[r] = slot;
        } else {
            self.stored[self.mb_tail[r] as usize].next = slot;
        }
        self.mb_tail[r] = slot;
    }

    /// What the node at the end of link `step` reads.
    fn visible(&self, leg: Leg, last: bool) -> Visible {
        if !last {
            return Visible::NOTHING;
        }
        match leg {
            Leg::Peer => Visible { linkable: !self.onion(), ..Visible::BOTH },
            Leg::Mesh => Visible::BOTH,
            Leg::ToMailbox => Visible { recipient: true, linkable: true, ..Visible::NOTHING },
            Leg::FromMailbox => Visible::BOTH,
        }
    }

    /// Whether the source end of a transit is still there to send.
    fn departure_ok(&self, ctx: &Ctx<'_>, t: &Transit) -> bool {
        match t.leg {
            Leg::Peer | Leg::Mesh => self.up_since(ctx, t.sender, t.started),
            Leg::ToMailbox => {
                self.up_since(ctx, t.sender, t.started)
                    && self.epoch[self.region(ctx, t.recipient) as usize] <= t.started
            }
            Leg::FromMailbox => self.up_since(ctx, t.recipient, t.started),
        }
    }

    /// Makes the next hop of transit `slot`, or lands it.
    fn advance(&mut self, ctx: &mut Ctx<'_>, slot: u32) {
        let t = self.transits[slot as usize];
        if t.step == 0 && !self.departure_ok(ctx, &t) {
            self.fail(ctx, slot);
            return;
        }
        if t.step == t.len {
            self.arrive(ctx, slot);
            return;
        }
        let (from, to) = (self.node(slot, t.step), self.node(slot, t.step + 1));
        let bytes = ctx.msg(t.msg).size;
        let visible = self.visible(t.leg, t.step + 1 == t.len);
        ctx.hop(t.msg, from, to, bytes, visible, Some(t.recipient));
        let d = self.link_latency(ctx, t.leg, from, to);
        self.transits[slot as usize].step += 1;
        ctx.schedule_in(d, ModelEvent::for_msg(HOP, t.msg, slot));
    }

    fn arrive(&mut self, ctx: &mut Ctx<'_>, slot: u32) {
        let t = self.transits[slot as usize];
        match t.leg {
            Leg::Peer | Leg::Mesh | Leg::FromMailbox => {
                if !self.up_since(ctx, t.recipient, t.started) {
                    if t.leg == Leg::FromMailbox {
                        // The owner dropped: the copy stays in the mailbox.
                        self.free_transits.push(slot);
                        self.failed_transmissions += 1;
                        self.store(t.recipient, t.msg, t.stored_at, t.earlier_hops);
                    } else {
                        self.fail(ctx, slot);
                    }
                    return;
                }
                self.free_transits.push(slot);
                let counted = ctx.msg(t.msg).counted;
                ctx.deliver(t.msg, t.recipient, t.earlier_hops as u32 + t.len as u32);
                ctx.wake(t.recipient);
                if counted {
                    match t.leg {
                        Leg::Peer => self.peer_deliveries += 1,
                        Leg::Mesh => self.mesh_deliveries += 1,
                        _ => self.mailbox_deliveries += 1,
                    }
                }
            }
            Leg::ToMailbox => {
                if self.epoch[self.region(ctx, t.recipient) as usize] > t.started {
                    self.fail(ctx, slot);
                    return;
                }
                self.free_transits.push(slot);
                self.mailbox_uploads += 1;
                self.store(t.recipient, t.msg, ctx.now(), t.len);
                self.download_mailbox(ctx, t.recipient);
            }
        }
    }

    /// A transmission broke off: the copy is back with the sender's client.
    fn fail(&mut self, ctx: &mut Ctx<'_>, slot: u32) {
        let t = self.transits[slot as usize];
        self.free_transits.push(slot);
        self.failed_transmissions += 1;
        let idx = self.pending.insert(t.msg, t.sender, t.recipient);
        self.try_copy(ctx, idx);
    }

    // ---- connectivity changes ----

    /// Users of the regions an outage event affects.
    fn affected_users(&self, ctx: &Ctx<'_>, region: u32, out: &mut Vec<UserId>) {
        out.clear();
        if region == ALL {
            out.extend(0..ctx.world().users());
        } else {
            let (a, b) = (self.region_offsets[region as usize], self.region_offsets[region as usize + 1]);
            out.extend_from_slice(&self.region_users[a as usize..b as usize]);
        }
    }

    fn net_change(&mut self, ctx: &mut Ctx<'_>, region: u32, up: bool) {
        let mut users = std::mem::take(&mut self.recipients);
        self.affected_users(ctx, region, &mut users);
        let affected = |ctx: &Ctx<'_>, u: UserId| region == ALL || ctx.world().user_region[u as usize] as u32 == region;
        // Connections of the affected users close (or, over the mesh, carry on under a new epoch).
        for &x in &users {
            if !ctx.is_online(x) {
                continue;
            }
            for &y in ctx.world().contacts.of(x) {
                if ctx.is_online(y) && (!affected(ctx, y) || x < y) {
                    self.close_connection(ctx, x, y, 2);
                }
            }
        }
        let now = ctx.now();
        if region == ALL {
            self.epoch.iter_mut().for_each(|e| *e = now);
        } else {
            self.epoch[region as usize] = now;
        }
        for &x in &users {
            // (Another outage may still cover the user.)
            if !ctx.is_online(x) || !up || !ctx.internet_up(x) {
                continue;
            }
            self.transport_up(ctx, x, false);
            if self.p.poll_on_start {
                for &y in ctx.world().contacts.of(x) {
                    if ctx.is_online(y) && (!affected(ctx, y) || x < y) && self.reachable_at(ctx, x, y, now) {
                        ctx.connect(x);
                        self.connections += 1;
                        if !affected(ctx, y) {
                            ctx.wake(y);
                            self.reset_backoff(ctx, y);
                        }
                    }
                }
            }
        }
        for &x in &users {
            self.flush_user(ctx, x);
        }
        self.recipients = users;
    }
}

impl DeliveryModel for P2p {
    fn name(&self) -> &str {
        &self.name
    }

    /// Measured: about 8 engine events per message on the default world.
    fn work_per_message(&self) -> f64 {
        8.0
    }

    fn init(&mut self, ctx: &mut Ctx<'_>, infra_rng: &mut SimRng) {
        let w = ctx.world();
        let n = w.users() as usize;
        let regions = w.params.regions.len();
        if self.onion() {
            // Relays sit where a random user lives (ASSUMPTION: the relay population follows the
            // user population; Tor's is concentrated in Europe and North America).
            for i in 0..self.p.onion_relays {
                let region = if n == 0 { 0 } else { w.user_region[infra_rng.random_range(0..n)] };
                let node = ctx.add_node(NodeKind::Relay, region);
                if i == 0 {
                    self.first_relay = node;
                }
            }
            // One primary guard per device, kept for the run (Tor: 120-day guard lifetime).
            self.guard = (0..n).map(|_| self.first_relay + infra_rng.random_range(0..self.p.onion_relays)).collect();
        }
        self.mailbox_node = vec![NONE; n];
        self.mailbox_guard = vec![NONE; n];
        if self.p.mailbox > 0.0 {
            for u in 0..n {
                if infra_rng.random_bool(self.p.mailbox.min(1.0)) {
                    self.mailbox_node[u] = ctx.add_node(NodeKind::Storage, w.user_region[u]);
                    if self.onion() {
                        self.mailbox_guard[u] = self.first_relay + infra_rng.random_range(0..self.p.onion_relays);
                    }
                }
            }
        }
        if self.p.discovery == Discovery::Dht {
            self.overlay = Some(Overlay::build(n as u32, self.p.dht_k, infra_rng));
            if !w.contacts.is_complete() {
                let mut acc = 0u64;
                self.edge_base = (0..n as UserId)
                    .map(|u| {
                        let b = acc;
                        acc += w.contacts.degree(u) as u64;
                        b
                    })
                    .collect();
                self.looked_up = vec![0; acc.div_ceil(64) as usize];
            }
        }
        self.reach_salt = infra_rng.random();
        self.epoch = vec![SimTime::ZERO; regions];
        if !w.params.internet_outages.is_empty() {
            let mut count = vec![0u32; regions + 1];
            for &r in &w.user_region {
                count[r as usize + 1] += 1;
            }
            for i in 0..regions {
                count[i + 1] += count[i];
            }
            let mut fill = count.clone();
            self.region_users = vec![0; n];
            for (u, &r) in w.user_region.iter().enumerate() {
                self.region_users[fill[r as usize] as usize] = u as UserId;
                fill[r as usize] += 1;
            }
            self.region_offsets = count;
            // Downs first, so that at a shared instant one region goes dark before another
            // comes back (the queue is FIFO on ties).
            for o in &w.params.internet_outages {
                let a = o.region.map_or(ALL, |r| r as u32);
                ctx.schedule_at(o.start, ModelEvent { kind: NET_CHANGE, a, b: 0, c: 0 });
            }
            for o in &w.params.internet_outages {
                let a = o.region.map_or(ALL, |r| r as u32);
                ctx.schedule_at(o.end, ModelEvent { kind: NET_CHANGE, a, b: 1, c: 0 });
            }
        }
        self.pending = Pending::new(n);
        self.mb_head = vec![NONE; n];
        self.mb_tail = vec![NONE; n];
        self.anchor = vec![SimTime::ZERO; n];
        let start_tick = if self.p.poll_on_start { 0 } else { NO_TICK };
        self.prev_tick = vec![start_tick; n];
    }

    fn on_send(&mut self, ctx: &mut Ctx<'_>, msg: MsgId) {
        let sender = ctx.msg(msg).sender;
        let mut recipients = std::mem::take(&mut self.recipients);
        recipients.clear();
        ctx.for_each_recipient(msg, |u| recipients.push(u));
        for &r in &recipients {
            let idx = self.pending.insert(msg, sender, r);
            self.try_copy(ctx, idx);
        }
        self.recipients = recipients;
    }

    fn on_event(&mut self, ctx: &mut Ctx<'_>, ev: ModelEvent) {
        match ev.kind {
            HOP => self.advance(ctx, ev.c),
            ATTEMPT => {
                let (s, r) = (ev.a, ev.b);
                if !ctx.is_online(s) || !ctx.is_online(r) {
                    return;
                }
                match self.link(ctx, s, r) {
                    Link::Open { fresh, .. } => {
                        let now = ctx.now();
                        if fresh && !(self.anchor[s as usize] == now && self.anchor[r as usize] == now) {
                            self.reset_backoff(ctx, s);
                            self.reset_backoff(ctx, r);
                            ctx.connect(s);
                            self.connections += 1;
                        }
                        self.flush_pair(ctx, s, r);
                    }
                    Link::Wait(at) => self.schedule_attempt(ctx, s, r, at),
                    Link::Closed => {}
                }
            }
            NET_CHANGE => self.net_change(ctx, ev.a, ev.b == 1),
            other => unreachable!("p2p model has no event kind {other}"),
        }
    }

    fn on_online(&mut self, ctx: &mut Ctx<'_>, user: UserId) {
        self.transport_up(ctx, user, true);
        if self.p.poll_on_start {
            // The start-up poll connects to every reachable online contact; each of them takes an
            // incoming connection, which resets its back-off.
            let now = ctx.now();
            for &y in ctx.world().contacts.of(user) {
                if ctx.is_online(y) && self.reachable_at(ctx, user, y, now) {
                    ctx.connect(user);
                    self.connections += 1;
                    ctx.wake(y);
                    self.reset_backoff(ctx, y);
                }
            }
        }
        self.flush_user(ctx, user);
    }

    fn on_offline(&mut self, ctx: &mut Ctx<'_>, user: UserId) {
        self.close_polls(ctx, user);
        for &y in ctx.world().contacts.of(user) {
            if ctx.is_online(y) {
                self.close_connection(ctx, user, y, 2);
            }
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'_>) -> ModelReport {
        let end = ctx.now();
        for u in 0..ctx.world().users() {
            if !ctx.is_online(u) {
                continue;
            }
            self.close_polls(ctx, u);
            for &y in ctx.world().contacts.of(u) {
                if y > u && ctx.is_online(y) {
                    self.close_connection(ctx, u, y, 2);
                }
            }
        }
        // Copies whose client gave up before the end are lost, not in flight.
        let mut list = std::mem::take(&mut self.scratch);
        list.clear();
        self.pending.all(&mut list);
        for &idx in &list {
            let h = *self.pending.get(idx);
            if end.since(ctx.msg(h.msg).created) >= self.p.give_up {
                self.pending.remove(idx);
                ctx.lose(h.msg, LossReason::SenderGaveUp);
            }
        }
        self.scratch = list;
        for r in 0..self.mb_head.len() {
            let mut i = self.mb_head[r];
            while i != NONE {
                let c = self.stored[i as usize];
                if end.since(c.stored_at) >= self.p.mailbox_ttl {
                    ctx.lose(c.msg, LossReason::TtlExpired);
                }
                i = c.next;
            }
        }
        let mut report = ModelReport::default();
        let f = &mut report.figures;
        f.insert("poll_rounds".into(), self.poll_rounds as f64);
        f.insert("keepalives".into(), self.keepalives as f64);
        f.insert("connections_opened".into(), self.connections as f64);
        f.insert("failed_transmissions".into(), self.failed_transmissions as f64);
        f.insert("peer_deliveries".into(), self.peer_deliveries as f64);
        f.insert("mesh_deliveries".into(), self.mesh_deliveries as f64);
        f.insert("mailbox_uploads".into(), self.mailbox_uploads as f64);
        f.insert("mailbox_deliveries".into(), self.mailbox_deliveries as f64);
        f.insert("held_at_end".into(), self.pending.len() as f64);
        if self.overlay.is_some() {
            f.insert("dht_lookups".into(), self.lookups as f64);
            f.insert("dht_lookups_failed".into(), self.lookups_failed as f64);
            if self.lookups > 0 {
                let n = self.lookups as f64;
                f.insert("dht_mean_hops".into(), self.lookup_rounds as f64 / n);
                f.insert("dht_mean_rpcs".into(), self.lookup_rpcs as f64 / n);
                f.insert("dht_mean_latency_ms".into(), self.lookup_latency_us as f64 / n / 1e3);
            }
        }
        report
    }
}
