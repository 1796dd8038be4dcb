//! Plugging in your own routing model: a "community mailbox" architecture, run beside the
//! built-in four on the same world, without touching the crate.
//!
//! The model: every message goes to a randomly chosen always-online user (a volunteer's desktop)
//! that forwards it at once if the recipient is online, or keeps it until the recipient comes back.
//! The waiting copies are in the kit's `Mailbox`, which records how long each waited and counts
//! the recipients' reconnections, so the storage and battery figures are measured like the
//! built-in models' (`ARCHITECTURE.md`, "How a model uses the kit").
//!
//! Run it with `cargo run --release --example own_model`.

use netarch::arch::kit::Mailbox;
use netarch::engine::DeliveryModel;
use netarch::engine::observation::Visible;
use netarch::engine::{Ctx, ModelEvent, MsgId, SimRng};
use netarch::metrics::ModelReport;
use netarch::output::table::{reading, summary_table};
use netarch::run::{Entry, entries, run_on};
use netarch::scenario::{load, parse};
use netarch::time::SimDuration;
use netarch::world::{UserId, World};
use rand::RngExt;

const AT_MAILBOX: u16 = 0;
const DELIVER: u16 = 1;

/// Messages go through a volunteer's always-online desktop.
#[derive(Default)]
struct CommunityMailbox {
    volunteers: Vec<UserId>,
    /// Copies waiting for their recipients.
    mailbox: Mailbox,
    /// The volunteer holding each message, by message slot.
    holder: Vec<UserId>,
    forwarded: u64,
}

impl CommunityMailbox {
    /// Sends the copy on to `to`; `push` when it wakes the recipient's device (a copy handed
    /// over while the app is reconnecting finds the device awake).
    fn forward(&mut self, ctx: &mut Ctx<'_>, id: MsgId, from: UserId, to: UserId, push: bool) {
        let bytes = ctx.msg(id).size;
        ctx.hop(id, from, to, bytes, Visible::BOTH, Some(to));
        let delay = ctx.latency(from, to);
        ctx.schedule_in(delay, ModelEvent::for_msg(DELIVER, id, to));
        if push {
            ctx.wake(to);
        }
        self.forwarded += 1;
    }
}

impl DeliveryModel for CommunityMailbox {
    fn name(&self) -> &str {
        "community mailbox"
    }

    fn init(&mut self, ctx: &mut Ctx<'_>, _infra_rng: &mut SimRng) {
        let world = ctx.world();
        self.volunteers = (0..world.users()).filter(|&u| world.always_online[u as usize]).collect();
        // Copies wait as long as it takes (no retention).
        self.mailbox = Mailbox::new(world.users() as usize, None);
        self.mailbox.connect_online(ctx);
    }

    fn on_send(&mut self, ctx: &mut Ctx<'_>, id: MsgId) {
        let sender = ctx.msg(id).sender;
        let volunteer = self.volunteers[ctx.rng().random_range(0..self.volunteers.len())];
        let bytes = ctx.msg(id).size;
        ctx.hop(id, sender, volunteer, bytes, Visible::BOTH, None);
        let delay = ctx.latency(sender, volunteer);
        ctx.schedule_in(delay, ModelEvent::for_msg(AT_MAILBOX, id, volunteer));
        if self.holder.len() < ctx.msg_slots() {
            self.holder.resize(ctx.msg_slots(), 0);
        }
        self.holder[id.slot as usize] = volunteer;
    }

    fn on_event(&mut self, ctx: &mut Ctx<'_>, ev: ModelEvent) {
        match ev.kind {
            AT_MAILBOX => {
                let mut recipients = Vec::new();
                ctx.for_each_recipient(ev.msg(), |r| recipients.push(r));
                for r in recipients {
                    if ctx.is_online(r) {
                        self.forward(ctx, ev.msg(), ev.c, r, true);
                    } else {
                        self.mailbox.store(ctx.now(), ev.msg(), r);
                    }
                }
            }
            DELIVER => ctx.deliver(ev.msg(), ev.c, 2),
            _ => unreachable!(),
        }
    }

    fn on_online(&mut self, ctx: &mut Ctx<'_>, user: UserId) {
        // The app reconnects; the volunteers see it online and forward what they hold.
        self.mailbox.connect(ctx, user);
        let mut fetch = self.mailbox.fetch(user, SimDuration::ZERO);
        while let Some(id) = self.mailbox.next(ctx, &mut fetch) {
            let volunteer = self.holder[id.slot as usize];
            self.forward(ctx, id, volunteer, user, false);
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'_>) -> ModelReport {
        self.mailbox.expire_at_end(ctx);
        let mut report = ModelReport::default();
        report.figures.insert("forwarded".into(), self.forwarded as f64);
        report
    }
}

fn main() {
    let scenario = parse(&load("default").expect("built-in"), &[]).expect("valid");
    let world = World::generate(scenario.world.clone(), scenario.seed());
    let mut models = entries(&scenario);
    models.push(Entry {
        name: "community mailbox".into(),
        kind: "plug-in".into(),
        model: Box::new(CommunityMailbox::default()),
    });
    let results = run_on(&world, &scenario, models, &|_, _| {}).expect("conservation holds");
    println!("{}", summary_table(&results));
    println!("{}", reading(&results));
    // The figures a model gets from the kit's accounting, which a hand-written waiting list
    // silently left at 0.
    let own = results.archs.iter().find(|a| a.name == "community mailbox").expect("the plug-in ran");
    assert!(own.time_stored.count > 0, "copies waited for offline recipients, and the wait is recorded");
    assert!(own.wakeups_per_device_hour.is_some_and(|w| w > 0.0), "forwarding wakes the recipient's device");
    assert!(own.connections_per_device_hour.is_some_and(|c| c > 0.0), "reconnections are counted");
}
