//! The discrete-event engine: the event queue, the world's processes, and the context a
//! delivery model acts through.
//!
//! One [`Sim`] runs one architecture on one world. It owns the pending events (a monotone radix
//! heap, [`queue::EventQueue`]), replays the world's availability and workload processes from
//! per-user streams (identical for every architecture, so comparisons are paired), hands
//! delivery events to the model, and records every delivered and lost copy. Models see only
//! [`Ctx`]: they schedule their own events, make hops, and settle copies; the engine checks
//! conservation (created = delivered + lost + in flight) at the end.

pub mod connectivity;
pub mod messages;
pub mod model;
pub mod observation;
pub mod queue;

use rand::RngExt;
use rand_distr::{Distribution, Exp};

use crate::metrics::ModelReport;
use crate::metrics::recorder::{LossReason, Recorder};
use crate::metrics::trace::{CopyRecord, CopySink, Outcome};
pub use crate::rng::SimRng;
use crate::rng::{self, Purpose, stream};
use crate::time::{SimDuration, SimTime, Window};
use crate::world::{RegionId, UserId, World};
pub use connectivity::Churn;
use connectivity::Connectivity;
pub use messages::{Dest, Message, MessageTable, MsgId};
pub use model::{DeliveryModel, ModelEvent};
use observation::{NodeId, NodeKind, NodeKinds, Observation, ObservationSink, Truth, VisibilityTally, Visible};
use queue::EventQueue;

/// What the engine needs to know about the run besides the world and the model.
#[derive(Clone, Copy, Debug)]
pub struct RunConfig {
    /// The run's seed.
    pub seed: u64,
    /// Position of the architecture in the scenario (selects its random streams).
    pub arch_index: u64,
    /// Warm-up, send and run ends.
    pub window: Window,
    /// Deadline for "delivered in time".
    pub deadline: SimDuration,
}

/// Figures about the engine itself, for performance reports.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct EngineStats {
    /// Events processed.
    pub events: u64,
    /// Most events pending at once.
    pub peak_pending_events: u64,
    /// Most messages in flight at once.
    pub peak_messages_in_flight: u64,
}

/// Everything a run produced.
pub struct RunOutput {
    /// Counters and histograms.
    pub recorder: Recorder,
    /// Copies still in flight at the end (recorded messages only).
    pub in_flight: u64,
    /// The model's own figures (server load, retries, lookups).
    pub model: ModelReport,
    /// Which identities each kind of node saw.
    pub visibility: VisibilityTally,
    /// Engine figures.
    pub engine: EngineStats,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Copies were created but are neither delivered, lost, nor in flight: a model bug.
    #[error(
        "conservation violated for {arch}: {created} copies created, {delivered} delivered + {lost} lost + {in_flight} in flight"
    )]
    Conservation { arch: String, created: u64, delivered: u64, lost: u64, in_flight: u64 },
}

/// Everything the world's processes keep per user, in one record so that a toggle or a send
/// touches one or two cache lines rather than one per field.
struct UserState {
    avail_rng: rng::UserRng,
    work_rng: rng::UserRng,
    online_since: SimTime,
    send_generation: u32,
    online: bool,
}

/// The context a delivery model acts through: time, world, randomness, messages, hops.
pub struct Ctx<'w> {
    now: SimTime,
    queue: EventQueue<ModelEvent>,
    world: &'w World,
    rng: SimRng,
    msgs: MessageTable,
    rec: Recorder,
    window: Window,
    users: Vec<UserState>,
    infra_region: Vec<RegionId>,
    infra_kind: Vec<NodeKind>,
    infra_weight: Vec<f64>,
    sinks: Vec<&'w mut dyn ObservationSink>,
    tally: VisibilityTally,
    send_gap: Option<Exp<f64>>,
    peak_pending: usize,
    conn: Connectivity,
    seed: u64,
    arch_index: u64,
    /// Receives every copy as it is settled (`netarch run --trace`), if any.
    copies: Option<&'w mut dyn CopySink>,
}

impl<'w> Ctx<'w> {
    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The shared world.
    #[inline]
    pub fn world(&self) -> &'w World {
        self.world
    }

    /// The model's own random stream.
    #[inline]
    pub fn rng(&mut self) -> &mut SimRng {
        &mut self.rng
    }

    /// The measurement window.
    pub fn window(&self) -> Window {
        self.window
    }

    /// Schedules a model event at `at`, which must not be in the past.
    #[inline]
    pub fn schedule_at(&mut self, at: SimTime, ev: ModelEvent) {
        assert!(at >= self.now, "event scheduled in the past: {at} < {}", self.now);
        debug_assert!(ev.kind < ModelEvent::RESERVED, "model event kind in the engine's range");
        self.queue.push(at.0, ev);
        self.peak_pending = self.peak_pending.max(self.queue.len());
    }

    /// Schedules a model event `after` from now.
    #[inline]
    pub fn schedule_in(&mut self, after: SimDuration, ev: ModelEvent) {
        self.schedule_at(self.now + after, ev);
    }

    /// Adds an infrastructure node (server, relay) in `region`; returns its network address.
    pub fn add_node(&mut self, kind: NodeKind, region: RegionId) -> NodeId {
        self.infra_region.push(region);
        self.infra_kind.push(kind);
        self.infra_weight.push(1.0);
        self.conn.add_node(self.infra_region.len() - 1);
        self.world.users() + self.infra_region.len() as u32 - 1
    }

    /// Registers the fault timeline of infrastructure node `node`: the scheduled `outages`
    /// (`[start, end)`) and, if given, exponential `churn` drawn from the node's own stream
    /// (keyed by run seed, architecture position and node, so adding a node shifts no other
    /// node's draws). Overlapping outages act as their union. The engine queues the transitions
    /// and calls `DeliveryModel::on_node_change` at each; `Ctx::node_up` answers in between.
    pub fn add_node_faults(&mut self, node: NodeId, outages: &[(SimTime, SimTime)], churn: Option<Churn>) {
        let index = (node - self.world.users()) as u64;
        let mut rng = stream(self.seed, Purpose::Churn, self.arch_index << 32 | index);
        self.add_node_faults_from(node, outages, churn, &mut rng);
    }

    /// [`Ctx::add_node_faults`] with the churn drawn from the caller's `rng`, for a model whose
    /// timelines must be the same under every architecture entry on one world (federated).
    pub fn add_node_faults_from(
        &mut self,
        node: NodeId,
        outages: &[(SimTime, SimTime)],
        churn: Option<Churn>,
        rng: &mut SimRng,
    ) {
        let users = self.world.users();
        assert!(node >= users, "fault timelines are for infrastructure nodes, not devices");
        let mut periods = outages.to_vec();
        if let Some(c) = churn {
            c.down_periods(rng, self.window.run_end, &mut periods);
        }
        connectivity::union(&mut periods);
        let a = node - users;
        for (start, end) in periods {
            self.queue.push(start.0, ModelEvent { kind: ModelEvent::NODE, a, b: 0, c: 0 });
            self.queue.push(end.0, ModelEvent { kind: ModelEvent::NODE, a, b: 1, c: 0 });
        }
        self.peak_pending = self.peak_pending.max(self.queue.len());
    }

    /// Whether infrastructure node `node` is up now (by its fault timeline; a device always is:
    /// its state is `is_online` and `connected`).
    #[inline]
    pub fn node_up(&self, node: NodeId) -> bool {
        let users = self.world.users();
        node < users || self.conn.node_up((node - users) as usize)
    }

    /// When infrastructure node `node` last came back up (zero if it never went down).
    pub fn node_up_since(&self, node: NodeId) -> SimTime {
        self.conn.node_up_since(node.saturating_sub(self.world.users()) as usize)
    }

    /// The outages infrastructure node `node` has had so far and its total time down up to now.
    pub fn node_faults(&self, node: NodeId) -> (u32, SimDuration) {
        self.conn.node_faults(node.saturating_sub(self.world.users()) as usize, self.now)
    }

    /// Sets an infrastructure node's weight: its bandwidth for relays, the users it hosts for
    /// home servers. Adversaries that pick "the largest" nodes or pick by bandwidth use it.
    pub fn set_node_weight(&mut self, node: NodeId, weight: f64) {
        let users = self.world.users();
        if node >= users {
            self.infra_weight[(node - users) as usize] = weight;
        }
    }

    /// The kinds and weights of every node, for adversaries choosing what they watch.
    pub fn node_kinds(&self) -> NodeKinds<'_> {
        NodeKinds {
            users: self.world.users(),
            infra: &self.infra_kind,
            weights: &self.infra_weight,
            user_regions: &self.world.user_region,
            infra_regions: &self.infra_region,
        }
    }

    /// The region of any node.
    #[inline]
    pub fn region_of(&self, node: NodeId) -> RegionId {
        let users = self.world.users();
        if node < users { self.world.user_region[node as usize] } else { self.infra_region[(node - users) as usize] }
    }

    /// Whether `node` is a user's device.
    #[inline]
    pub fn is_device(&self, node: NodeId) -> bool {
        node < self.world.users()
    }

    /// One draw of the one-way latency of a hop from `from` to `to` (backbone, access at device
    /// ends, jitter), from the model's stream.
    #[inline]
    pub fn latency(&mut self, from: NodeId, to: NodeId) -> SimDuration {
        let ends = self.is_device(from) as u64 + self.is_device(to) as u64;
        let (rf, rt) = (self.region_of(from), self.region_of(to));
        let w = self.world;
        w.params.delays.hop(&w.params.regions, rf, rt, ends, &mut self.rng)
    }

    /// Whether `node`'s region has internet now (no regional outage covers it).
    #[inline]
    pub fn internet_up(&self, node: NodeId) -> bool {
        self.conn.region_up(self.region_of(node))
    }

    /// Whether `user` can reach the internet now (whether or not the app is online).
    #[inline]
    pub fn connected(&self, user: UserId) -> bool {
        self.conn.region_up(self.world.user_region[user as usize])
    }

    /// Whether `user` is online now.
    #[inline]
    pub fn is_online(&self, user: UserId) -> bool {
        self.users[user as usize].online
    }

    /// When `user` last came online (meaningful while online).
    #[inline]
    pub fn online_since(&self, user: UserId) -> SimTime {
        self.users[user as usize].online_since
    }

    /// The message behind a live handle.
    #[inline]
    pub fn msg(&self, id: MsgId) -> &Message {
        self.msgs.get(id)
    }

    /// Whether a handle still names a message in flight.
    #[inline]
    pub fn is_live(&self, id: MsgId) -> bool {
        self.msgs.is_live(id)
    }

    /// Number of slots the message table has used so far; per-message side tables of a model
    /// can be sized with it.
    #[inline]
    pub fn msg_slots(&self) -> usize {
        self.msgs.capacity()
    }

    /// Calls `f` for each recipient copy of a message (the members of a room except the sender).
    #[inline]
    pub fn for_each_recipient(&self, id: MsgId, mut f: impl FnMut(UserId)) {
        let m = self.msgs.get(id);
        match m.dest {
            Dest::User(u) => f(u),
            Dest::Room(r) => {
                for &u in self.world.rooms.members(r) {
                    if u != m.sender {
                        f(u);
                    }
                }
            }
        }
    }

    /// Records a hop of a message from `from` to `to` that carries `bytes`, and what `to` can
    /// read of it; sinks observe it. `recipient` names the copy when the hop carries one.
    pub fn hop(
        &mut self,
        id: MsgId,
        from: NodeId,
        to: NodeId,
        bytes: u32,
        visible: Visible,
        recipient: Option<UserId>,
    ) {
        let m = *self.msgs.get(id);
        if m.counted {
            self.rec.transmissions += 1;
            self.rec.bytes += bytes as u64;
        }
        if self.sinks.is_empty() && !m.counted {
            return;
        }
        let room = match m.dest {
            Dest::Room(r) => Some(r),
            Dest::User(_) => None,
        };
        let true_recipient = match m.dest {
            Dest::User(u) => Some(u),
            Dest::Room(_) => recipient,
        };
        let obs = Observation {
            time: self.now,
            from,
            to,
            bytes,
            visible,
            sender: visible.sender.then_some(m.sender),
            recipient: if visible.recipient { true_recipient } else { None },
            room: if visible.room { room } else { None },
            truth: Truth { serial: m.serial, sender: m.sender, recipient: true_recipient, room, counted: m.counted },
            real: true,
        };
        self.emit(&obs);
    }

    /// Records a hop that carries no message (cover traffic, polling, lookups, acknowledgements).
    pub fn overhead_hop(&mut self, from: NodeId, to: NodeId, bytes: u32) {
        if self.now >= self.window.warmup_end {
            self.rec.overhead_transmissions += 1;
            self.rec.overhead_bytes += bytes as u64;
        }
        if self.sinks.is_empty() {
            return;
        }
        let obs = Observation {
            time: self.now,
            from,
            to,
            bytes,
            visible: Visible::NOTHING,
            sender: None,
            recipient: None,
            room: None,
            truth: Truth { serial: u64::MAX, sender: UserId::MAX, recipient: None, room: None, counted: false },
            real: false,
        };
        self.emit(&obs);
    }

    /// Counts overhead traffic computed in bulk rather than simulated hop by hop (the empty polls
    /// of a polling model): no observation is made, only the cost is recorded.
    pub fn overhead_many(&mut self, transmissions: u64, bytes: u64) {
        self.rec.overhead_transmissions += transmissions;
        self.rec.overhead_bytes += bytes;
    }

    fn emit(&mut self, obs: &Observation) {
        let kinds = NodeKinds {
            users: self.world.users(),
            infra: &self.infra_kind,
            weights: &self.infra_weight,
            user_regions: &self.world.user_region,
            infra_regions: &self.infra_region,
        };
        self.tally.observe(obs, &kinds);
        for s in self.sinks.iter_mut() {
            s.observe(obs, &kinds);
        }
    }

    /// Delivers the copy of `id` meant for `recipient`, after `hops` hops.
    pub fn deliver(&mut self, id: MsgId, recipient: UserId, hops: u32) {
        self.deliver_at(self.now, id, recipient, hops);
    }

    /// Delivers the copy of `id` meant for `recipient` when it arrives `after` from now, once
    /// nothing can happen to it on the way (its last hop is made and nothing the model does can
    /// stop it). It costs no event: the copy is settled now with the latency it will have. A copy
    /// that would arrive after the run ends stays in flight, as it would have. Returns whether the
    /// copy was delivered.
    pub fn deliver_in(&mut self, after: SimDuration, id: MsgId, recipient: UserId, hops: u32) -> bool {
        let at = self.now + after;
        let arrives = at <= self.window.run_end;
        if arrives {
            self.deliver_at(at, id, recipient, hops);
        }
        arrives
    }

    fn deliver_at(&mut self, at: SimTime, id: MsgId, recipient: UserId, hops: u32) {
        let m = self.msgs.settle_copy(id);
        self.retire_if_settled(&m);
        if !m.counted && self.copies.is_none() {
            return;
        }
        let online_at_send = match m.dest {
            Dest::User(_) => m.online_at_send,
            // For room copies: online continuously since the send.
            Dest::Room(_) => {
                self.users[recipient as usize].online && self.users[recipient as usize].online_since <= m.created
            }
        };
        let r = &self.users[recipient as usize];
        let since_online = (!online_at_send && r.online).then(|| at.since(r.online_since.max(m.created)));
        if let Some(sink) = self.copies.as_deref_mut() {
            sink.settled(&CopyRecord {
                message: m.serial,
                recipient: Some(recipient),
                sent: m.created,
                at,
                outcome: Outcome::Delivered,
                hops,
                online_at_send: Some(online_at_send),
                counted: m.counted,
            });
        }
        if !m.counted {
            return;
        }
        self.rec.delivered(at.since(m.created), online_at_send, hops, since_online);
    }

    /// Loses one copy of `id` for `reason`.
    pub fn lose(&mut self, id: MsgId, reason: LossReason) {
        let m = self.msgs.settle_copy(id);
        self.retire_if_settled(&m);
        if let Some(sink) = self.copies.as_deref_mut() {
            sink.settled(&settled_record(&m, self.now, Outcome::Lost(reason)));
        }
        if m.counted {
            self.rec.lost(reason);
        }
    }

    /// Tells the sinks that a message whose last copy was just settled makes no more hops.
    #[inline]
    fn retire_if_settled(&mut self, m: &Message) {
        if m.pending == 0 && !self.sinks.is_empty() {
            retire(&mut self.sinks, m, self.now);
        }
    }

    /// Loses every copy of `id` still pending.
    pub fn lose_all(&mut self, id: MsgId, reason: LossReason) {
        while self.msgs.is_live(id) {
            self.lose(id, reason);
        }
    }

    /// Records that a copy waited `wait` in storage before moving on.
    pub fn stored_for(&mut self, id: MsgId, wait: SimDuration) {
        if self.msgs.get(id).counted {
            self.rec.stored_for(wait);
        }
    }

    /// Counts a wake-up of `user`'s device (push received, poll, retry) — the battery proxy.
    #[inline]
    pub fn wake(&mut self, user: UserId) {
        if self.now >= self.window.warmup_end {
            self.rec.device_wakeups += 1;
        }
        let _ = user;
    }

    /// Counts `n` wake-ups at once (periodic polls computed arithmetically, not simulated).
    #[inline]
    pub fn wake_many(&mut self, n: u64) {
        if self.now >= self.window.warmup_end {
            self.rec.device_wakeups += n;
        }
    }

    /// Counts a connection opened by `user`'s device.
    #[inline]
    pub fn connect(&mut self, user: UserId) {
        if self.now >= self.window.warmup_end {
            self.rec.device_connections += 1;
        }
        let _ = user;
    }

    // ---- the world's processes ----

    fn schedule_world(&mut self, at: SimTime, kind: u16, user: UserId, generation: u32) {
        self.queue.push(at.0, ModelEvent { kind, a: user, b: generation, c: 0 });
    }

    fn next_send(&mut self, user: UserId) {
        if let Some(gap) = &self.send_gap {
            let u = &mut self.users[user as usize];
            let d = SimDuration::from_secs_f64(gap.sample(&mut u.work_rng));
            let (at, generation) = (self.now + d, u.send_generation);
            if at < self.window.sends_end {
                self.schedule_world(at, ModelEvent::SEND, user, generation);
            }
        }
    }

    fn create_message(&mut self, user: UserId) -> Option<MsgId> {
        let w = self.world;
        let rng = &mut self.users[user as usize].work_rng;
        let rooms = w.rooms.of(user);
        let to_room = !rooms.is_empty()
            && w.params.workload.room_share > 0.0
            && rng.random_bool(w.params.workload.room_share.min(1.0));
        let dest = if to_room {
            Dest::Room(rooms[rng.random_range(0..rooms.len())])
        } else {
            Dest::User(w.contacts.random_contact(user, rng)?)
        };
        let size = w.params.workload.size.sample(rng).round().clamp(1.0, u32::MAX as f64) as u32;
        let copies = match dest {
            Dest::User(_) => 1,
            Dest::Room(r) => w.rooms.members(r).iter().filter(|&&m| m != user).count() as u32,
        };
        if copies == 0 {
            return None;
        }
        let online_at_send = match dest {
            Dest::User(u) => self.users[u as usize].online,
            Dest::Room(_) => false,
        };
        let counted = self.now >= self.window.warmup_end;
        if counted {
            self.rec.created(copies);
        }
        if let Some(sink) = self.copies.as_deref_mut() {
            sink.created(self.now, copies, counted);
        }
        Some(self.msgs.insert(Message {
            sender: user,
            dest,
            size,
            created: self.now,
            serial: 0,
            pending: copies,
            counted,
            online_at_send,
        }))
    }
}

/// Tells every sink that message `m` makes no more hops.
fn retire(sinks: &mut [&mut dyn ObservationSink], m: &Message, now: SimTime) {
    let (recipient, room) = match m.dest {
        Dest::User(u) => (Some(u), None),
        Dest::Room(r) => (None, Some(r)),
    };
    let truth = Truth { serial: m.serial, sender: m.sender, recipient, room, counted: m.counted };
    for s in sinks.iter_mut() {
        s.retired(&truth, now);
    }
}

/// The trace record of a copy of `m` lost or left in flight at `at`: a one-to-one copy names its
/// recipient and their state at send; a room copy does not (settled by message, not by member).
fn settled_record(m: &Message, at: SimTime, outcome: Outcome) -> CopyRecord {
    let (recipient, online_at_send) = match m.dest {
        Dest::User(u) => (Some(u), Some(m.online_at_send)),
        Dest::Room(_) => (None, None),
    };
    CopyRecord {
        message: m.serial,
        recipient,
        sent: m.created,
        at,
        outcome,
        hops: 0,
        online_at_send,
        counted: m.counted,
    }
}

/// One architecture's run on one world.
pub struct Sim<'w, 'm> {
    ctx: Ctx<'w>,
    model: &'m mut dyn DeliveryModel,
    events: u64,
}

impl<'w, 'm> Sim<'w, 'm> {
    /// Prepares a run: the world's processes start, then the model builds its infrastructure.
    pub fn new(
        world: &'w World,
        model: &'m mut dyn DeliveryModel,
        cfg: RunConfig,
        sinks: Vec<&'w mut dyn ObservationSink>,
    ) -> Self {
        let n = world.users() as usize;
        let wp = &world.params;
        let send_gap = (wp.workload.rate_per_hour > 0.0)
            .then(|| Exp::new(wp.workload.rate_per_hour / 3600.0).expect("positive rate"));
        let (conn, net) = Connectivity::new(world);
        let mut ctx = Ctx {
            now: SimTime::ZERO,
            queue: EventQueue::new(),
            world,
            rng: stream(cfg.seed, Purpose::Model, cfg.arch_index),
            msgs: MessageTable::default(),
            rec: Recorder::new(cfg.deadline),
            window: cfg.window,
            users: (0..n as u64)
                .map(|u| UserState {
                    avail_rng: rng::user_stream(cfg.seed, Purpose::Availability, u),
                    work_rng: rng::user_stream(cfg.seed, Purpose::Workload, u),
                    online_since: SimTime::ZERO,
                    send_generation: 0,
                    online: false,
                })
                .collect(),
            infra_region: Vec::new(),
            infra_kind: Vec::new(),
            infra_weight: Vec::new(),
            sinks,
            tally: VisibilityTally::default(),
            send_gap,
            peak_pending: 0,
            conn,
            seed: cfg.seed,
            arch_index: cfg.arch_index,
            copies: None,
        };
        // Internet transitions first, so that at a shared instant they precede every other event.
        for &(at, region, up) in &net {
            ctx.queue.push(at.0, ModelEvent { kind: ModelEvent::NET, a: region, b: up as u32, c: 0 });
        }
        for u in 0..n {
            let online = if world.always_online[u] {
                true
            } else {
                let (online, first) = wp.availability.initial(&mut ctx.users[u].avail_rng);
                ctx.schedule_world(SimTime::ZERO + first, ModelEvent::TOGGLE, u as UserId, 0);
                online
            };
            ctx.users[u].online = online;
            if online {
                ctx.next_send(u as UserId);
            }
        }
        let mut infra_rng = stream(cfg.seed, Purpose::Infrastructure, cfg.arch_index);
        model.init(&mut ctx, &mut infra_rng);
        let kinds = NodeKinds {
            users: world.users(),
            infra: &ctx.infra_kind,
            weights: &ctx.infra_weight,
            user_regions: &world.user_region,
            infra_regions: &ctx.infra_region,
        };
        for s in ctx.sinks.iter_mut() {
            s.start(&kinds);
        }
        Sim { ctx, model, events: 0 }
    }

    /// Hands every copy to `sink` as it is settled, and those in flight when the run ends.
    pub fn with_copy_sink(mut self, sink: &'w mut dyn CopySink) -> Self {
        self.ctx.copies = Some(sink);
        self
    }

    /// Runs to the end of the window, calling `progress` with the share of simulated time done
    /// every few hundred thousand events.
    pub fn run(mut self, progress: &mut dyn FnMut(f64)) -> Result<RunOutput, SimError> {
        let end = self.ctx.window.run_end;
        while let Some((t, ev)) = self.ctx.queue.pop() {
            let t = SimTime(t);
            if t > end {
                break;
            }
            assert!(t >= self.ctx.now, "time ran backward");
            self.ctx.now = t;
            self.events += 1;
            if self.events & 0x3_FFFF == 0 {
                progress(t.0 as f64 / end.0.max(1) as f64);
            }
            match ev.kind {
                ModelEvent::TOGGLE => self.toggle(ev.a),
                ModelEvent::SEND => {
                    self.ctx.world.contacts.prefetch(ev.a);
                    let u = &self.ctx.users[ev.a as usize];
                    if ev.b == u.send_generation && u.online {
                        if let Some(id) = self.ctx.create_message(ev.a) {
                            self.model.on_send(&mut self.ctx, id);
                        }
                        self.ctx.next_send(ev.a);
                    }
                }
                ModelEvent::NODE => {
                    let up = ev.b == 1;
                    if self.ctx.conn.apply_node(ev.a as usize, up, t) {
                        let node = self.ctx.world.users() + ev.a;
                        self.model.on_node_change(&mut self.ctx, node, up);
                    }
                }
                ModelEvent::NET => self.internet(ev.a, ev.b == 1),
                _ => self.model.on_event(&mut self.ctx, ev),
            }
        }
        self.ctx.now = end;
        self.finish()
    }

    fn toggle(&mut self, user: UserId) {
        let now = self.ctx.now;
        let availability = &self.ctx.world.params.availability;
        let u = &mut self.ctx.users[user as usize];
        let now_online = !u.online;
        u.online = now_online;
        u.send_generation = u.send_generation.wrapping_add(1);
        let next = now + availability.period(now_online, &mut u.avail_rng);
        if now_online {
            u.online_since = now;
        }
        self.ctx.schedule_world(next, ModelEvent::TOGGLE, user, 0);
        if now_online {
            self.ctx.next_send(user);
            self.model.on_online(&mut self.ctx, user);
        } else {
            self.model.on_offline(&mut self.ctx, user);
        }
    }

    /// An internet transition: the users of each region whose state flips are told, in id order.
    fn internet(&mut self, region: u32, up: bool) {
        let mut flipped: Vec<RegionId> = Vec::new();
        self.ctx.conn.apply_internet(region, up, |r| flipped.push(r));
        for r in flipped {
            for i in 0..self.ctx.conn.users_of(r).len() {
                let u = self.ctx.conn.users_of(r)[i];
                self.model.on_connectivity(&mut self.ctx, u, up);
            }
        }
    }

    fn finish(self) -> Result<RunOutput, SimError> {
        let Sim { mut ctx, model, events } = self;
        let report = model.finish(&mut ctx);
        if !ctx.sinks.is_empty() {
            // What is still in flight makes no more hops either.
            for m in ctx.msgs.iter_live() {
                retire(&mut ctx.sinks, m, ctx.now);
            }
        }
        if let Some(sink) = ctx.copies.as_deref_mut() {
            for m in ctx.msgs.iter_live() {
                let r = settled_record(m, ctx.now, Outcome::InFlight);
                (0..m.pending).for_each(|_| sink.settled(&r));
            }
        }
        let in_flight: u64 = ctx.msgs.iter_live().filter(|m| m.counted).map(|m| m.pending as u64).sum();
        let rec = ctx.rec;
        let lost = rec.lost_total();
        if rec.copies_created != rec.delivered + lost + in_flight {
            return Err(SimError::Conservation {
                arch: model.name().to_owned(),
                created: rec.copies_created,
                delivered: rec.delivered,
                lost,
                in_flight,
            });
        }
        Ok(RunOutput {
            recorder: rec,
            in_flight,
            model: report,
            visibility: ctx.tally,
            engine: EngineStats {
                events,
                peak_pending_events: ctx.peak_pending as u64,
                peak_messages_in_flight: ctx.msgs.peak_live() as u64,
            },
        })
    }
}
