//! Centralized delivery (Signal-like): every message goes through one provider's servers.
//!
//! Mechanism: the sender's device uploads the message to the provider (one hop). The provider is
//! a FIFO queue with `servers` parallel service channels and a service-time distribution (an
//! M/G/c queue when sends are Poisson). After service, each recipient copy is pushed over the
//! recipient's open connection if the recipient is online and reachable, or stored until the
//! recipient reconnects and fetches it (a request hop, then the message hop). A stored copy older
//! than `retention` is lost with reason `retention_expired`. During a provider outage nothing is
//! accepted, pushed or fetched: a sender's client holds what it could not upload and tries to reconnect
//! every `client_retry` while online (one wake-up and one connection attempt per try, whatever the
//! number of messages held), uploading everything held once the provider answers; a held message
//! older than `client_give_up` is lost (`sender_gave_up`). Accepted messages wait and move on when
//! the provider is back.
//!
//! Self-hosting (claim C2): with `deployments > 1`, users are spread uniformly over that many
//! isolated servers, each with its own queue, which cannot reach each other: a copy whose
//! recipient is on another deployment is lost as `unreachable`.
//!
//! What hops see: the upload shows the server the recipient and, unless sealed sender is on, the
//! sender's identity; the sender's IP address and the timing are visible either way (Signal blog,
//! "Technology preview: Sealed sender for Signal", 2018-10-29).

use std::collections::VecDeque;

use rand::RngExt;

use crate::arch::{DeliveryModel, ModelReport, ServerStats};
use crate::dist::Dist;
use crate::engine::{Ctx, ModelEvent, MsgId, SimRng};
use crate::metrics::recorder::LossReason;
use crate::observe::{NodeId, NodeKind, Visible};
use crate::time::{SimDuration, SimTime};
use crate::world::{RegionId, UserId};

/// The centralized architecture's parameters.
#[derive(Clone, Debug)]
pub struct CentralizedParams {
    /// Region of the provider's data centre (of deployment 0).
    pub region: RegionId,
    /// Parallel service channels per deployment.
    pub servers: u32,
    /// Time to process one message, in seconds.
    pub service_time: Dist,
    /// Most messages waiting per deployment; more are dropped (`queue_overflow`). `None`: no limit.
    pub queue_limit: Option<u32>,
    /// How long an undelivered copy is kept for an offline recipient.
    pub retention: SimDuration,
    /// Whether the sender's identity is hidden from the server.
    pub sealed_sender: bool,
    /// Number of isolated deployments users are spread over (1 = one provider).
    pub deployments: u32,
    /// Scheduled provider outages, `[start, end)`.
    pub outages: Vec<(SimTime, SimTime)>,
    /// How often a client retries an upload the provider did not accept.
    pub client_retry: SimDuration,
    /// How long after the send a client stops retrying.
    pub client_give_up: SimDuration,
    /// Bytes of a fetch request (overhead traffic).
    pub request_bytes: u32,
}

const ARRIVE: u16 = 0;
const DONE: u16 = 1;
const RETRY: u16 = 3; // a = user
const OUTAGE_START: u16 = 4;
const OUTAGE_END: u16 = 5;

const NONE: u32 = u32::MAX;

/// One deployment's FIFO service queue.
#[derive(Default)]
struct Queue {
    node: NodeId,
    busy: u32,
    waiting: VecDeque<(MsgId, SimTime)>,
    peak_waiting: u64,
    served: u64,
    busy_us: u128,
    sojourn_us: u128,
    wait_us: u128,
}

/// A copy stored for an offline recipient, linked into that recipient's FIFO list.
#[derive(Clone, Copy)]
struct StoredCopy {
    msg: MsgId,
    stored_at: SimTime,
    next: u32,
}

/// The centralized delivery model.
pub struct Centralized {
    name: String,
    p: CentralizedParams,
    queues: Vec<Queue>,
    user_deployment: Vec<u32>,
    arrival: Vec<SimTime>,
    stored: Vec<StoredCopy>,
    free_stored: Vec<u32>,
    head: Vec<u32>,
    tail: Vec<u32>,
    held_head: Vec<u32>,
    held_tail: Vec<u32>,
    retry_scheduled: Vec<bool>,
    down: bool,
    scratch: Vec<UserId>,
    retries: u64,
    pushes: u64,
    fetched: u64,
}

impl Centralized {
    /// A model with the given label and parameters.
    pub fn new(name: &str, p: CentralizedParams) -> Centralized {
        Centralized {
            name: name.to_owned(),
            p,
            queues: Vec::new(),
            user_deployment: Vec::new(),
            arrival: Vec::new(),
            stored: Vec::new(),
            free_stored: Vec::new(),
            head: Vec::new(),
            tail: Vec::new(),
            held_head: Vec::new(),
            held_tail: Vec::new(),
            retry_scheduled: Vec::new(),
            down: false,
            scratch: Vec::new(),
            retries: 0,
            pushes: 0,
            fetched: 0,
        }
    }

    fn deployment_of(&self, user: UserId) -> usize {
        if self.user_deployment.is_empty() { 0 } else { self.user_deployment[user as usize] as usize }
    }

    fn upload(&mut self, ctx: &mut Ctx<'_>, id: MsgId) {
        let sender = ctx.msg(id).sender;
        if !ctx.is_online(sender) || !ctx.internet_up(sender) {
            // The client holds it until it can reach the provider again.
            self.hold(ctx, sender, id);
            return;
        }
        let server = self.queues[self.deployment_of(sender)].node;
        let visible = Visible { sender: !self.p.sealed_sender, ..Visible::BOTH };
        let bytes = ctx.msg(id).size;
        ctx.hop(id, sender, server, bytes, visible, None);
        let d = ctx.latency(sender, server);
        ctx.schedule_in(d, ModelEvent::for_msg(ARRIVE, id, 0));
    }

    /// Keeps a message on the sender's device and makes sure a reconnection attempt is coming.
    fn hold(&mut self, ctx: &mut Ctx<'_>, sender: UserId, id: MsgId) {
        let slot = self.alloc(StoredCopy { msg: id, stored_at: ctx.now(), next: NONE });
        let u = sender as usize;
        if self.held_head[u] == NONE {
            self.held_head[u] = slot;
        } else {
            self.stored[self.held_tail[u] as usize].next = slot;
        }
        self.held_tail[u] = slot;
        if !self.retry_scheduled[u] && ctx.is_online(sender) {
            self.retry_scheduled[u] = true;
            ctx.schedule_in(self.p.client_retry, ModelEvent { kind: RETRY, a: sender, b: 0, c: 0 });
        }
    }

    /// A reconnection attempt: if the provider answers, everything held is uploaded; messages held
    /// longer than `client_give_up` are abandoned.
    fn retry(&mut self, ctx: &mut Ctx<'_>, user: UserId) {
        self.retry_scheduled[user as usize] = false;
        if !ctx.is_online(user) || self.held_head[user as usize] == NONE {
            return; // nothing held, or on_online retries when the device is back
        }
        self.retries += 1;
        ctx.wake(user);
        let server = self.queues[self.deployment_of(user)].node;
        ctx.overhead_hop(user, server, self.p.request_bytes);
        if self.down || !ctx.internet_up(user) {
            // Still unreachable: abandon what is too old, keep the rest (which re-arms the timer).
            self.drop_given_up(ctx, user);
            return;
        }
        self.upload_held(ctx, user);
    }

    fn drop_given_up(&mut self, ctx: &mut Ctx<'_>, user: UserId) {
        let mut slot = std::mem::replace(&mut self.held_head[user as usize], NONE);
        self.held_tail[user as usize] = NONE;
        while slot != NONE {
            let c = self.stored[slot as usize];
            self.free_stored.push(slot);
            if ctx.now().since(ctx.msg(c.msg).created) >= self.p.client_give_up {
                ctx.lose_all(c.msg, LossReason::SenderGaveUp);
            } else {
                self.hold(ctx, user, c.msg);
            }
            slot = c.next;
        }
    }

    fn upload_held(&mut self, ctx: &mut Ctx<'_>, user: UserId) {
        let mut slot = std::mem::replace(&mut self.held_head[user as usize], NONE);
        self.held_tail[user as usize] = NONE;
        while slot != NONE {
            let c = self.stored[slot as usize];
            self.free_stored.push(slot);
            if ctx.now().since(ctx.msg(c.msg).created) >= self.p.client_give_up {
                ctx.lose_all(c.msg, LossReason::SenderGaveUp);
            } else {
                self.upload(ctx, c.msg);
            }
            slot = c.next;
        }
    }

    fn alloc(&mut self, copy: StoredCopy) -> u32 {
        match self.free_stored.pop() {
            Some(s) => {
                self.stored[s as usize] = copy;
                s
            }
            None => {
                self.stored.push(copy);
                self.stored.len() as u32 - 1
            }
        }
    }

    fn arrive(&mut self, ctx: &mut Ctx<'_>, id: MsgId) {
        if self.down {
            // Rejected: the client keeps it and tries again later.
            let sender = ctx.msg(id).sender;
            self.hold(ctx, sender, id);
            return;
        }
        let d = self.deployment_of(ctx.msg(id).sender);
        if self.arrival.len() <= id.slot as usize {
            self.arrival.resize(ctx.msg_slots(), SimTime::ZERO);
        }
        self.arrival[id.slot as usize] = ctx.now();
        let q = &mut self.queues[d];
        if q.busy < self.p.servers {
            q.busy += 1;
            self.start_service(ctx, d, id);
        } else if self.p.queue_limit.is_some_and(|l| q.waiting.len() as u64 >= l as u64) {
            ctx.lose_all(id, LossReason::QueueOverflow);
        } else {
            q.waiting.push_back((id, ctx.now()));
            q.peak_waiting = q.peak_waiting.max(q.waiting.len() as u64);
        }
    }

    fn start_service(&mut self, ctx: &mut Ctx<'_>, d: usize, id: MsgId) {
        let s = self.p.service_time.sample_duration(ctx.rng());
        // Utilisation is measured over the sending period, where the offered load is steady.
        let w = ctx.window();
        let (from, to) = (ctx.now().max(w.warmup_end), (ctx.now() + s).min(w.sends_end));
        self.queues[d].busy_us += to.since(from).0 as u128;
        ctx.schedule_in(s, ModelEvent::for_msg(DONE, id, d as u32));
    }

    fn done(&mut self, ctx: &mut Ctx<'_>, id: MsgId, d: usize) {
        let now = ctx.now();
        let arrived = self.arrival[id.slot as usize];
        {
            let q = &mut self.queues[d];
            if arrived >= ctx.window().warmup_end {
                q.served += 1;
                q.sojourn_us += now.since(arrived).0 as u128;
            }
            if let Some((next, queued_at)) = q.waiting.pop_front() {
                if queued_at >= ctx.window().warmup_end {
                    q.wait_us += now.since(queued_at).0 as u128;
                }
                self.start_service(ctx, d, next);
            } else {
                self.queues[d].busy -= 1;
            }
        }
        self.route(ctx, id);
    }

    /// Pushes or stores each recipient copy of a processed message.
    fn route(&mut self, ctx: &mut Ctx<'_>, id: MsgId) {
        let sender_dep = self.deployment_of(ctx.msg(id).sender);
        let mut recipients = std::mem::take(&mut self.scratch);
        recipients.clear();
        ctx.for_each_recipient(id, |u| recipients.push(u));
        for &r in &recipients {
            if self.deployment_of(r) != sender_dep {
                ctx.lose(id, LossReason::Unreachable);
            } else if !self.down && ctx.is_online(r) && ctx.internet_up(r) {
                self.push(ctx, id, r);
            } else {
                self.store(ctx, id, r);
            }
        }
        self.scratch = recipients;
    }

    fn push(&mut self, ctx: &mut Ctx<'_>, id: MsgId, r: UserId) {
        let server = self.queues[self.deployment_of(r)].node;
        let bytes = ctx.msg(id).size;
        ctx.hop(id, server, r, bytes, Visible::BOTH, Some(r));
        ctx.wake(r);
        self.pushes += 1;
        let d = ctx.latency(server, r);
        ctx.deliver_in(d, id, r, 2);
    }

    fn store(&mut self, ctx: &mut Ctx<'_>, id: MsgId, r: UserId) {
        let slot = self.alloc(StoredCopy { msg: id, stored_at: ctx.now(), next: NONE });
        let r = r as usize;
        if self.head[r] == NONE {
            self.head[r] = slot;
        } else {
            self.stored[self.tail[r] as usize].next = slot;
        }
        self.tail[r] = slot;
    }

    /// The recipient fetches everything stored for it: expired copies are lost, the rest are sent
    /// after the fetch request reaches the server.
    fn flush(&mut self, ctx: &mut Ctx<'_>, r: UserId) {
        if self.head[r as usize] == NONE || self.down || !ctx.internet_up(r) {
            return;
        }
        let server = self.queues[self.deployment_of(r)].node;
        ctx.overhead_hop(r, server, self.p.request_bytes);
        let request = ctx.latency(r, server);
        let mut slot = self.head[r as usize];
        while slot != NONE {
            let c = self.stored[slot as usize];
            let wait = ctx.now().since(c.stored_at);
            if wait >= self.p.retention {
                ctx.lose(c.msg, LossReason::RetentionExpired);
            } else {
                ctx.stored_for(c.msg, wait + request);
                let bytes = ctx.msg(c.msg).size;
                ctx.hop(c.msg, server, r, bytes, Visible::BOTH, Some(r));
                self.fetched += 1;
                let d = request + ctx.latency(server, r);
                ctx.deliver_in(d, c.msg, r, 2);
            }
            self.free_stored.push(slot);
            slot = c.next;
        }
        self.head[r as usize] = NONE;
        self.tail[r as usize] = NONE;
    }
}

impl DeliveryModel for Centralized {
    fn name(&self) -> &str {
        &self.name
    }

    /// Measured: about 3.5 engine events per message on the default world (send, upload,
    /// service, and the world's toggles; the push delivers without an event).
    fn work_per_message(&self) -> f64 {
        3.5
    }

    fn init(&mut self, ctx: &mut Ctx<'_>, infra_rng: &mut SimRng) {
        let users = ctx.world().users() as usize;
        let deployments = self.p.deployments.max(1) as usize;
        for d in 0..deployments {
            // Deployment 0 is the provider's; self-hosted ones sit where a random user lives.
            let region = if d == 0 || users == 0 {
                self.p.region
            } else {
                ctx.world().user_region[infra_rng.random_range(0..users)]
            };
            let node = ctx.add_node(NodeKind::ProviderServer, region);
            self.queues.push(Queue { node, ..Queue::default() });
        }
        if deployments > 1 {
            self.user_deployment = (0..users).map(|_| infra_rng.random_range(0..deployments as u32)).collect();
        }
        self.head = vec![NONE; users];
        self.tail = vec![NONE; users];
        self.held_head = vec![NONE; users];
        self.held_tail = vec![NONE; users];
        self.retry_scheduled = vec![false; users];
        for (i, &(start, end)) in self.p.outages.iter().enumerate() {
            ctx.schedule_at(start, ModelEvent { kind: OUTAGE_START, a: i as u32, b: 0, c: 0 });
            ctx.schedule_at(end, ModelEvent { kind: OUTAGE_END, a: i as u32, b: 0, c: 0 });
        }
        for u in 0..users as UserId {
            if ctx.is_online(u) {
                ctx.connect(u);
            }
        }
    }

    fn on_send(&mut self, ctx: &mut Ctx<'_>, msg: MsgId) {
        self.upload(ctx, msg);
    }

    fn on_event(&mut self, ctx: &mut Ctx<'_>, ev: ModelEvent) {
        match ev.kind {
            ARRIVE => self.arrive(ctx, ev.msg()),
            DONE => self.done(ctx, ev.msg(), ev.c as usize),
            RETRY => self.retry(ctx, ev.a),
            OUTAGE_START => self.down = true,
            OUTAGE_END => {
                // Overlapping outages: up only when no other one covers now.
                let now = ctx.now();
                self.down = self.p.outages.iter().any(|&(s, e)| s <= now && now < e);
                if !self.down {
                    for u in 0..ctx.world().users() {
                        if ctx.is_online(u) {
                            self.flush(ctx, u);
                        }
                    }
                }
            }
            other => unreachable!("centralized model has no event kind {other}"),
        }
    }

    fn on_online(&mut self, ctx: &mut Ctx<'_>, user: UserId) {
        ctx.connect(user);
        self.flush(ctx, user);
        if self.held_head[user as usize] != NONE {
            if self.down || !ctx.internet_up(user) {
                self.drop_given_up(ctx, user);
            } else {
                self.upload_held(ctx, user);
            }
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'_>) -> ModelReport {
        // Copies whose retention ran out before the end are lost, not in flight; so are messages
        // a client held past its give-up age.
        let end = ctx.window().run_end;
        for u in 0..self.held_head.len() {
            let mut slot = self.held_head[u];
            while slot != NONE {
                let c = self.stored[slot as usize];
                if end.since(ctx.msg(c.msg).created) >= self.p.client_give_up {
                    ctx.lose_all(c.msg, LossReason::SenderGaveUp);
                }
                slot = c.next;
            }
        }
        for r in 0..self.head.len() {
            let mut slot = self.head[r];
            while slot != NONE {
                let c = self.stored[slot as usize];
                if end.since(c.stored_at) >= self.p.retention {
                    ctx.lose(c.msg, LossReason::RetentionExpired);
                }
                slot = c.next;
            }
        }
        let window_us = ctx.window().sends_end.since(ctx.window().warmup_end).0.max(1) as f64;
        let servers = self
            .queues
            .iter()
            .enumerate()
            .map(|(d, q)| ServerStats {
                role: if self.queues.len() == 1 { "provider".into() } else { format!("deployment {d}") },
                count: self.p.servers,
                served: q.served,
                utilisation: q.busy_us as f64 / (window_us * self.p.servers as f64),
                peak_queue: q.peak_waiting,
                mean_sojourn_ms: (q.served > 0).then(|| q.sojourn_us as f64 / q.served as f64 / 1e3),
                mean_wait_ms: (q.served > 0).then(|| q.wait_us as f64 / q.served as f64 / 1e3),
            })
            .collect();
        let mut report = ModelReport { servers, ..ModelReport::default() };
        report.figures.insert("client_retries".into(), self.retries as f64);
        report.figures.insert("pushes".into(), self.pushes as f64);
        report.figures.insert("fetched_from_store".into(), self.fetched as f64);
        report
    }
}
