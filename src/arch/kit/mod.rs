//! The shared delivery mechanisms every architecture is built from, named once.
//!
//! An architecture file should hold its own idea (placement, federation, paths, mixing) and take
//! the machinery from here: [`slab::Slab`] (reused slots with generation-checked handles),
//! [`lists::KeyedLists`] (per-key FIFO lists over one node slab), [`mailbox::Mailbox`] (copies
//! stored for recipients, drained in FIFO order, expired by retention, with the storage and loss
//! accounting done through `Ctx`), [`service::ServiceQueue`] (a c-server FIFO queue and its
//! [`ServerStats`](crate::metrics::ServerStats); [`service::Load`] for nodes without a queue),
//! [`timers::Timers`] (re-armable per-key timers whose stale events are recognised), and the
//! time-window arithmetic in [`window`].

pub mod lists;
pub mod mailbox;
pub mod service;
pub mod slab;
pub mod timers;
pub mod window;

pub use lists::{Chain, KeyedLists};
pub use mailbox::Mailbox;
pub use service::{Arrival, Load, ServiceQueue};
pub use slab::{Handle, Slab};
pub use timers::Timers;
pub use window::in_window;

/// The "no index" sentinel of every intrusive link and optional slot in the kit and the models.
pub const NONE: u32 = u32::MAX;
