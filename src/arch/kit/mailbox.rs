//! A mailbox: copies stored for their recipients, handed over in FIFO order when fetched.
//!
//! Every store-and-forward architecture keeps copies for a recipient who cannot take them now
//! (a provider, a home server, a mixnet provider, a storage swarm) and must then do the same
//! accounting, which is easy to forget: the time each copy waited (`Ctx::stored_for`, the
//! `time_stored` figures), the copies whose retention ran out (lost as `retention_expired`, when
//! fetched and at the end of the run), and the device connection a reconnecting app opens
//! (`Ctx::connect`, the battery figures). The mailbox does all of it; the model decides when a
//! recipient fetches and how a fetched copy travels.
//!
//! ```text
//! store(now, msg, r)            … the copy waits in r's list
//! let mut f = fetch(r, request) … r asks; `request` is how long the request takes to arrive
//! while let Some(msg) = next(ctx, &mut f) { hop + deliver }   expired copies are lost on the way
//! sync(ctx, r, server, bytes, settle) … the same, with the request and copy hops made here
//! expire_at_end(ctx)            … in `finish`: what outlived its retention by the end is lost
//! ```

use super::lists::{Chain, KeyedLists};
use crate::engine::observation::{NodeId, Visible};
use crate::engine::{Ctx, MsgId};
use crate::metrics::recorder::LossReason;
use crate::time::{SimDuration, SimTime};
use crate::world::UserId;

#[derive(Clone, Copy, Debug)]
struct Stored {
    msg: MsgId,
    stored_at: SimTime,
}

/// A fetch in progress: the copies taken out of a recipient's list, handed out by
/// [`Mailbox::next`].
#[derive(Debug)]
#[must_use = "the fetched copies are settled only as they are handed out"]
pub struct Fetch {
    chain: Chain,
    request: SimDuration,
}

/// Copies stored per recipient, with an optional retention.
#[derive(Clone, Debug, Default)]
pub struct Mailbox {
    lists: KeyedLists<Stored>,
    retention: Option<SimDuration>,
}

impl Mailbox {
    /// An empty mailbox for recipients `0..recipients`; a copy stored `retention` or longer is
    /// lost (`None`: kept forever).
    pub fn new(recipients: usize, retention: Option<SimDuration>) -> Self {
        Mailbox { lists: KeyedLists::new(recipients), retention }
    }

    /// Stores the copy of `msg` for `recipient` at `now`.
    #[inline]
    pub fn store(&mut self, now: SimTime, msg: MsgId, recipient: UserId) {
        self.lists.push(recipient, Stored { msg, stored_at: now });
    }

    /// Whether anything is stored for `recipient`.
    #[inline]
    pub fn has_mail(&self, recipient: UserId) -> bool {
        !self.lists.is_empty(recipient)
    }

    /// Copies stored now, for every recipient.
    pub fn len(&self) -> usize {
        self.lists.total()
    }

    /// Whether nothing is stored for anyone.
    pub fn is_empty(&self) -> bool {
        self.lists.is_all_empty()
    }

    /// `recipient` fetches everything stored for it; its request reaches the store `request`
    /// from now. The copies leave the mailbox and are handed out by [`Mailbox::next`].
    #[inline]
    pub fn fetch(&mut self, recipient: UserId, request: SimDuration) -> Fetch {
        Fetch { chain: self.lists.detach(recipient), request }
    }

    /// The next fetched copy still within its retention, in the order stored: its wait (until the
    /// request arrives) is recorded, and the model sends it on. Copies past their retention are
    /// lost on the way (`retention_expired`).
    #[inline]
    pub fn next(&mut self, ctx: &mut Ctx<'_>, fetch: &mut Fetch) -> Option<MsgId> {
        while let Some(c) = self.lists.pop(&mut fetch.chain) {
            let wait = ctx.now().since(c.stored_at);
            if self.expired(wait) {
                ctx.lose(c.msg, LossReason::RetentionExpired);
            } else {
                ctx.stored_for(c.msg, wait + fetch.request);
                return Some(c.msg);
            }
        }
        None
    }

    /// `recipient` syncs with the store at `server`: its request (`request_bytes` of overhead)
    /// goes up, then every stored copy still within its retention comes down in FIFO order, one
    /// hop each, and `settle(ctx, msg, after)` settles it, arriving `after` from now (the
    /// request's latency plus the copy's own). Returns how many copies came down. The model
    /// decides when a recipient may sync (its store up, its internet on).
    pub fn sync(
        &mut self,
        ctx: &mut Ctx<'_>,
        recipient: UserId,
        server: NodeId,
        request_bytes: u32,
        mut settle: impl FnMut(&mut Ctx<'_>, MsgId, SimDuration),
    ) -> u64 {
        ctx.overhead_hop(recipient, server, request_bytes);
        let request = ctx.latency(recipient, server);
        let mut fetch = self.fetch(recipient, request);
        let mut n = 0;
        while let Some(id) = self.next(ctx, &mut fetch) {
            let bytes = ctx.msg(id).size;
            ctx.hop(id, server, recipient, bytes, Visible::BOTH, Some(recipient));
            n += 1;
            let after = request + ctx.latency(server, recipient);
            settle(ctx, id, after);
        }
        n
    }

    /// The end of the run: copies whose retention ran out by then are lost (not in flight);
    /// the rest stay stored, in flight.
    pub fn expire_at_end(&mut self, ctx: &mut Ctx<'_>) {
        if self.retention.is_none() {
            return;
        }
        let end = ctx.window().run_end;
        for r in 0..self.lists.keys() as u32 {
            let mut chain = self.lists.detach(r);
            while let Some(c) = self.lists.pop(&mut chain) {
                if self.expired(end.since(c.stored_at)) {
                    ctx.lose(c.msg, LossReason::RetentionExpired);
                } else {
                    self.lists.push(r, c);
                }
            }
        }
    }

    /// `user`'s app opened its connection to the store (coming online, or at the start of the
    /// run): one device connection.
    #[inline]
    pub fn connect(&self, ctx: &mut Ctx<'_>, user: UserId) {
        ctx.connect(user);
    }

    /// Opens the connection of every user online now (the start of the run).
    pub fn connect_online(&self, ctx: &mut Ctx<'_>) {
        for u in 0..ctx.world().users() {
            if ctx.is_online(u) {
                ctx.connect(u);
            }
        }
    }

    #[inline]
    fn expired(&self, wait: SimDuration) -> bool {
        self.retention.is_some_and(|r| wait >= r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::DeliveryModel;
    use crate::engine::{ModelEvent, SimRng};
    use crate::metrics::ModelReport;
    use crate::results::ArchSummary;
    use crate::run::{Entry, run};
    use crate::scenario::{Source, parse};

    /// Stores every copy, whatever the recipient's state, and hands everything over when the
    /// recipient comes online: the mailbox alone does the accounting.
    struct StoreAll {
        mailbox: Mailbox,
        retention: Option<SimDuration>,
        /// The serial of the last copy each recipient received, to check the FIFO order.
        last_serial: Vec<u64>,
        out_of_order: u64,
    }

    impl DeliveryModel for StoreAll {
        fn name(&self) -> &str {
            "store all"
        }

        fn init(&mut self, ctx: &mut Ctx<'_>, _infra_rng: &mut SimRng) {
            let users = ctx.world().users() as usize;
            self.mailbox = Mailbox::new(users, self.retention);
            self.last_serial = vec![0; users];
            self.mailbox.connect_online(ctx);
        }

        fn on_send(&mut self, ctx: &mut Ctx<'_>, msg: MsgId) {
            let mut rs = Vec::new();
            ctx.for_each_recipient(msg, |r| rs.push(r));
            for r in rs {
                self.mailbox.store(ctx.now(), msg, r);
            }
        }

        fn on_event(&mut self, _ctx: &mut Ctx<'_>, _ev: ModelEvent) {}

        fn on_online(&mut self, ctx: &mut Ctx<'_>, user: UserId) {
            self.mailbox.connect(ctx, user);
            let mut fetch = self.mailbox.fetch(user, SimDuration::ZERO);
            while let Some(msg) = self.mailbox.next(ctx, &mut fetch) {
                let serial = ctx.msg(msg).serial + 1;
                self.out_of_order += (serial < self.last_serial[user as usize]) as u64;
                self.last_serial[user as usize] = serial;
                ctx.deliver(msg, user, 1);
            }
        }

        fn finish(&mut self, ctx: &mut Ctx<'_>) -> ModelReport {
            self.mailbox.expire_at_end(ctx);
            let mut report = ModelReport::default();
            report.figures.insert("out_of_order".into(), self.out_of_order as f64);
            report.figures.insert("still_stored".into(), self.mailbox.len() as f64);
            report
        }
    }

    fn run_store_all(retention: Option<SimDuration>) -> ArchSummary {
        let text = r#"
            name = "mailbox"
            duration = "6h"
            warmup = "1h"
            cooldown = "1h"
            [world]
            users = 300
            [world.availability]
            online = { dist = "exponential", mean = "30min" }
            offline = { dist = "exponential", mean = "30min" }
            always_online = 0.0
            [[arch]]
            preset = "signal"
        "#;
        let src = Source { file: "mailbox.toml".into(), text: text.into(), dir: None };
        let s = parse(&src, &[]).expect("a valid scenario");
        let model = StoreAll { mailbox: Mailbox::default(), retention, last_serial: Vec::new(), out_of_order: 0 };
        let entries = vec![Entry { name: "store all".into(), kind: "test".into(), model: Box::new(model) }];
        run(&s, entries, &|_, _| {}).expect("conservation holds").archs.remove(0)
    }

    #[test]
    fn every_fetched_copy_has_its_wait_recorded_in_fifo_order() {
        let a = run_store_all(None);
        assert!(a.delivered > 1000, "{} delivered", a.delivered);
        assert_eq!(a.lost, 0, "nothing expires without a retention");
        assert_eq!(a.time_stored.count, a.delivered, "every delivered copy waited in the mailbox");
        assert_eq!(a.model.figures["out_of_order"], 0.0);
        assert_eq!(a.in_flight as f64, a.model.figures["still_stored"], "what is left is stored, in flight");
        assert!(a.connections_per_device_hour.unwrap() > 0.0, "reconnections are counted");
    }

    #[test]
    fn a_zero_retention_loses_every_copy_as_expired_and_leaves_none_in_flight() {
        let a = run_store_all(Some(SimDuration::ZERO));
        assert!(a.copies_created > 1000);
        assert_eq!(a.delivered, 0);
        assert_eq!(a.in_flight, 0, "the end-of-run expiry settles what is still stored");
        assert_eq!(a.lost_by_reason[&LossReason::RetentionExpired], a.copies_created);
    }

    #[test]
    fn a_retention_bounds_every_recorded_wait() {
        let retention = SimDuration::from_secs(600);
        let a = run_store_all(Some(retention));
        assert!(a.delivered > 0 && a.lost > 0);
        assert!(a.time_stored.max_ms.unwrap() < 600_000.0 * 1.001, "max wait {:?}", a.time_stored.max_ms);
        assert_eq!(a.lost, a.lost_by_reason[&LossReason::RetentionExpired]);
    }
}
