//! Centralized delivery (Signal-like): every message goes through one provider's servers.
//!
//! Mechanism: the sender's device uploads the message to the provider (one hop). The provider is
//! a FIFO queue with `servers` parallel service channels and a service-time distribution (an
//! M/G/c queue when sends are Poisson). After service, each recipient copy is pushed over the
//! recipient's open connection if the recipient is online and reachable, or stored until the
//! recipient reconnects and fetches it (a request hop, then the message hop): when its app comes
//! online, when the provider recovers, or when its internet returns while the app stayed online. A stored copy older
//! than `retention` is lost with reason `retention_expired`. During a provider outage nothing is
//! accepted, pushed or fetched (the engine's connectivity service keeps the outage timeline): a sender's client holds what it could not upload and tries to reconnect
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

use rand::RngExt;

use crate::arch::kit::{Arrival, KeyedLists, Mailbox, ServiceQueue, Timers};
use crate::dist::Dist;
use crate::engine::DeliveryModel;
use crate::engine::observation::{NodeId, NodeKind, Visible};
use crate::engine::{Ctx, ModelEvent, MsgId, SimRng};
use crate::metrics::ModelReport;
use crate::metrics::recorder::LossReason;
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
const RETRY: u16 = 3; // a = user, b = timer generation

/// One deployment: its server's address and its FIFO service queue.
struct Deployment {
    node: NodeId,
    queue: ServiceQueue<MsgId>,
}

/// The centralized delivery model.
pub struct Centralized {
    name: String,
    p: CentralizedParams,
    deployments: Vec<Deployment>,
    user_deployment: Vec<u32>,
    /// Copies the provider stores for offline recipients.
    mailbox: Mailbox,
    /// Messages each sender's client holds while the provider cannot be reached.
    held: KeyedLists<MsgId>,
    /// Each client's reconnection timer.
    retry: Timers,
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
            deployments: Vec::new(),
            user_deployment: Vec::new(),
            mailbox: Mailbox::default(),
            held: KeyedLists::default(),
            retry: Timers::default(),
            scratch: Vec::new(),
            retries: 0,
            pushes: 0,
            fetched: 0,
        }
    }

    fn deployment_of(&self, user: UserId) -> usize {
        if self.user_deployment.is_empty() { 0 } else { self.user_deployment[user as usize] as usize }
    }

    /// Whether `user`'s deployment answers now (no provider outage covers it).
    #[inline]
    fn server_up(&self, ctx: &Ctx<'_>, user: UserId) -> bool {
        ctx.node_up(self.deployments[self.deployment_of(user)].node)
    }

    fn upload(&mut self, ctx: &mut Ctx<'_>, id: MsgId) {
        let sender = ctx.msg(id).sender;
        if !ctx.is_online(sender) || !ctx.internet_up(sender) {
            // The client holds it until it can reach the provider again.
            self.hold(ctx, sender, id);
            return;
        }
        let server = self.deployments[self.deployment_of(sender)].node;
        let visible = Visible { sender: !self.p.sealed_sender, ..Visible::BOTH };
        let bytes = ctx.msg(id).size;
        ctx.hop(id, sender, server, bytes, visible, None);
        let d = ctx.latency(sender, server);
        ctx.schedule_in(d, ModelEvent::for_msg(ARRIVE, id, 0));
    }

    /// Keeps a message on the sender's device and makes sure a reconnection attempt is coming.
    fn hold(&mut self, ctx: &mut Ctx<'_>, sender: UserId, id: MsgId) {
        self.held.push(sender, id);
        if !self.retry.is_armed(sender) && ctx.is_online(sender) {
            let generation = self.retry.arm(sender);
            ctx.schedule_in(self.p.client_retry, ModelEvent { kind: RETRY, a: sender, b: generation, c: 0 });
        }
    }

    /// A reconnection attempt: if the provider answers, everything held is uploaded; messages held
    /// longer than `client_give_up` are abandoned.
    fn retry(&mut self, ctx: &mut Ctx<'_>, user: UserId, generation: u32) {
        if !self.retry.fire(user, generation) || !ctx.is_online(user) || self.held.is_empty(user) {
            return; // nothing held, or on_online retries when the device is back
        }
        self.retries += 1;
        ctx.wake(user);
        let server = self.deployments[self.deployment_of(user)].node;
        ctx.overhead_hop(user, server, self.p.request_bytes);
        // Still unreachable: abandon what is too old, keep the rest (which re-arms the timer).
        let reachable = self.server_up(ctx, user) && ctx.internet_up(user);
        self.take_held(ctx, user, reachable);
    }

    /// Whether a message held since its send is past the client's give-up age at `now`.
    fn given_up(&self, ctx: &Ctx<'_>, id: MsgId, now: SimTime) -> bool {
        now.since(ctx.msg(id).created) >= self.p.client_give_up
    }

    /// Goes through what `user`'s client holds: messages past the give-up age are abandoned, the
    /// rest uploaded when the provider can be reached (`reachable`) or held again.
    fn take_held(&mut self, ctx: &mut Ctx<'_>, user: UserId, reachable: bool) {
        let mut chain = self.held.detach(user);
        while let Some(id) = self.held.pop(&mut chain) {
            if self.given_up(ctx, id, ctx.now()) {
                ctx.lose_all(id, LossReason::SenderGaveUp);
            } else if reachable {
                self.upload(ctx, id);
            } else {
                self.hold(ctx, user, id);
            }
        }
    }

    fn arrive(&mut self, ctx: &mut Ctx<'_>, id: MsgId) {
        let sender = ctx.msg(id).sender;
        if !self.server_up(ctx, sender) {
            // Rejected: the client keeps it and tries again later.
            self.hold(ctx, sender, id);
            return;
        }
        let d = self.deployment_of(ctx.msg(id).sender);
        let now = ctx.now();
        match self.deployments[d].queue.arrive(now, id) {
            Arrival::Serve => self.start_service(ctx, d, id, now),
            Arrival::Wait => {}
            Arrival::Full => ctx.lose_all(id, LossReason::QueueOverflow),
        }
    }

    fn start_service(&mut self, ctx: &mut Ctx<'_>, d: usize, id: MsgId, arrived: SimTime) {
        let s = self.p.service_time.sample_duration(ctx.rng());
        self.deployments[d].queue.begin(ctx.now(), arrived, s, &ctx.window());
        ctx.schedule_in(s, ModelEvent::for_msg(DONE, id, d as u32));
    }

    fn done(&mut self, ctx: &mut Ctx<'_>, id: MsgId, d: usize) {
        if let Some((next, arrived)) = self.deployments[d].queue.end_service() {
            self.start_service(ctx, d, next, arrived);
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
            } else if self.server_up(ctx, r) && ctx.is_online(r) && ctx.internet_up(r) {
                self.push(ctx, id, r);
            } else {
                self.mailbox.store(ctx.now(), id, r);
            }
        }
        self.scratch = recipients;
    }

    fn push(&mut self, ctx: &mut Ctx<'_>, id: MsgId, r: UserId) {
        let server = self.deployments[self.deployment_of(r)].node;
        let bytes = ctx.msg(id).size;
        ctx.hop(id, server, r, bytes, Visible::BOTH, Some(r));
        ctx.wake(r);
        self.pushes += 1;
        let d = ctx.latency(server, r);
        ctx.deliver_in(d, id, r, 2);
    }

    /// The recipient fetches everything stored for it: expired copies are lost, the rest are sent
    /// after the fetch request reaches the server.
    fn flush(&mut self, ctx: &mut Ctx<'_>, r: UserId) {
        if !self.mailbox.has_mail(r) || !self.server_up(ctx, r) || !ctx.internet_up(r) {
            return;
        }
        let server = self.deployments[self.deployment_of(r)].node;
        self.fetched += self.mailbox.sync(ctx, r, server, self.p.request_bytes, |ctx, id, after| {
            ctx.deliver_in(after, id, r, 2);
        });
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
            self.deployments.push(Deployment { node, queue: ServiceQueue::new(self.p.servers, self.p.queue_limit) });
        }
        if deployments > 1 {
            self.user_deployment = (0..users).map(|_| infra_rng.random_range(0..deployments as u32)).collect();
        }
        self.mailbox = Mailbox::new(users, Some(self.p.retention));
        self.held = KeyedLists::new(users);
        self.retry = Timers::new(users);
        if !self.p.outages.is_empty() {
            // A provider outage stops every deployment (the engine keeps the timeline).
            for d in 0..self.deployments.len() {
                ctx.add_node_faults(self.deployments[d].node, &self.p.outages, None);
            }
        }
        self.mailbox.connect_online(ctx);
    }

    fn on_send(&mut self, ctx: &mut Ctx<'_>, msg: MsgId) {
        self.upload(ctx, msg);
    }

    fn on_event(&mut self, ctx: &mut Ctx<'_>, ev: ModelEvent) {
        match ev.kind {
            ARRIVE => self.arrive(ctx, ev.msg()),
            DONE => self.done(ctx, ev.msg(), ev.c as usize),
            RETRY => self.retry(ctx, ev.a, ev.b),
            other => unreachable!("centralized model has no event kind {other}"),
        }
    }

    fn on_online(&mut self, ctx: &mut Ctx<'_>, user: UserId) {
        self.mailbox.connect(ctx, user);
        self.flush(ctx, user);
        if !self.held.is_empty(user) {
            let reachable = self.server_up(ctx, user) && ctx.internet_up(user);
            self.take_held(ctx, user, reachable);
        }
    }

    /// The provider is back: every online user of the deployment fetches what was stored.
    fn on_node_change(&mut self, ctx: &mut Ctx<'_>, node: NodeId, up: bool) {
        let Some(d) = self.deployments.iter().position(|dep| dep.node == node) else { return };
        if up {
            for u in 0..ctx.world().users() {
                if self.deployment_of(u) == d && ctx.is_online(u) {
                    self.flush(ctx, u);
                }
            }
        }
    }

    /// The recipient's internet is back: an app that stayed online reconnects and fetches what
    /// was stored meanwhile.
    fn on_connectivity(&mut self, ctx: &mut Ctx<'_>, user: UserId, connected: bool) {
        if connected && ctx.is_online(user) {
            self.flush(ctx, user);
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'_>) -> ModelReport {
        // Messages a client held past its give-up age are lost, not in flight; so are copies
        // whose retention ran out before the end.
        let end = ctx.window().run_end;
        for u in 0..self.held.keys() as UserId {
            for &id in self.held.iter(u) {
                if self.given_up(ctx, id, end) {
                    ctx.lose_all(id, LossReason::SenderGaveUp);
                }
            }
        }
        self.mailbox.expire_at_end(ctx);
        let w = ctx.window();
        let single = self.deployments.len() == 1;
        let servers = self
            .deployments
            .iter()
            .enumerate()
            .map(|(d, dep)| {
                let role = if single { "provider".into() } else { format!("deployment {d}") };
                ServiceQueue::stats(&role, [&dep.queue], &w)
            })
            .collect();
        let mut report = ModelReport { servers, ..ModelReport::default() };
        report.figures.insert("client_retries".into(), self.retries as f64);
        report.figures.insert("pushes".into(), self.pushes as f64);
        report.figures.insert("fetched_from_store".into(), self.fetched as f64);
        report
    }
}
