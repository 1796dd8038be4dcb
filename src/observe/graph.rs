//! What an adversary reconstructs about people rather than messages: who talks to whom (the
//! social graph), whose network address it knows, and who is in which room; and how that compares
//! with the truth.
//!
//! The reconstructed graph gets an undirected edge for every one-to-one message whose sender and
//! recipient the adversary tied together (directly or by correlation). Precision is the share of
//! its edges that are real contacts; recall is the share of the pairs that really exchanged
//! messages during the run that it found (no observer can learn a contact that never talks), and
//! recall of contacts the share of the whole contact graph. Addresses: a user's address is *seen*
//! when the adversary sees the device send or receive anything, and *identified* when it ties the
//! address to the account behind it (the identity and the address on one fragment of a message).

use serde::Serialize;

use crate::observe::knowledge::IntSet;
use crate::world::UserId;
use crate::world::social::{Contacts, Rooms};

/// A set of undirected edges between users: a bit per contact-graph adjacency slot for edges that
/// are contacts (every one-to-one message goes to a contact, so nearly all edges land here, at a
/// binary search and a bit each), and a hash set for the rest (wrong guesses, or every edge when
/// the contact graph is complete and stores no adjacency).
pub struct EdgeSet<'w> {
    contacts: &'w Contacts,
    offsets: std::sync::Arc<Vec<u64>>,
    bits: Vec<u64>,
    others: IntSet<u64>,
}

impl<'w> EdgeSet<'w> {
    /// Adjacency offsets of `contacts` (shared by every edge set of a run).
    pub fn offsets(contacts: &Contacts) -> std::sync::Arc<Vec<u64>> {
        let mut acc = 0u64;
        let mut v = Vec::with_capacity(contacts.users() as usize + 1);
        for u in 0..contacts.users() {
            v.push(acc);
            acc += contacts.of(u).len() as u64;
        }
        v.push(acc);
        std::sync::Arc::new(v)
    }

    /// An empty set over `contacts`, whose offsets are `offsets`.
    pub fn new(contacts: &'w Contacts, offsets: std::sync::Arc<Vec<u64>>) -> EdgeSet<'w> {
        let slots = *offsets.last().unwrap_or(&0) as usize;
        EdgeSet { contacts, offsets, bits: vec![0; slots.div_ceil(64)], others: IntSet::default() }
    }

    /// The adjacency slot of the contact edge `a`-`b`, if it is one (stored at the lower id).
    #[inline]
    fn slot(&self, a: UserId, b: UserId) -> Option<usize> {
        let (x, y) = (a.min(b), a.max(b));
        let list = self.contacts.of(x);
        list.binary_search(&y).ok().map(|i| self.offsets[x as usize] as usize + i)
    }

    /// Adds the edge `a`-`b`.
    #[inline]
    pub fn insert(&mut self, a: UserId, b: UserId) {
        self.insert_at(self.slot(a, b), a, b);
    }

    /// Where the edge `a`-`b` is kept: its contact-graph slot, or `None` for a non-contact. The
    /// same for every edge set over the same contacts and offsets, so it can be found once and
    /// used for several sets with [`EdgeSet::insert_at`].
    #[inline]
    pub fn locate(&self, a: UserId, b: UserId) -> Option<usize> {
        self.slot(a, b)
    }

    /// Adds the edge `a`-`b`, whose position [`EdgeSet::locate`] found.
    #[inline]
    pub fn insert_at(&mut self, at: Option<usize>, a: UserId, b: UserId) {
        match at {
            Some(i) => self.bits[i / 64] |= 1 << (i % 64),
            None => {
                self.others.insert(edge_key(a, b));
            }
        }
    }

    /// Number of edges.
    pub fn len(&self) -> u64 {
        self.bits.iter().map(|w| w.count_ones() as u64).sum::<u64>() + self.others.len() as u64
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Edges that are real contacts.
    fn contact_edges(&self) -> u64 {
        let hashed = self.others.iter().filter(|&&e| self.contacts.are_contacts((e >> 32) as u32, e as u32)).count();
        self.bits.iter().map(|w| w.count_ones() as u64).sum::<u64>() + hashed as u64
    }

    /// Edges present in both sets (which must share the contact graph).
    fn common(&self, other: &EdgeSet<'_>) -> u64 {
        let bits: u64 = self.bits.iter().zip(&other.bits).map(|(a, b)| (a & b).count_ones() as u64).sum();
        bits + self.others.iter().filter(|e| other.others.contains(e)).count() as u64
    }
}

/// The key of the undirected edge between `a` and `b`.
#[inline]
pub fn edge_key(a: UserId, b: UserId) -> u64 {
    let (x, y) = (a.min(b), a.max(b));
    ((x as u64) << 32) | y as u64
}

/// The key of `user`'s membership of `room`.
#[inline]
pub fn membership_key(room: u32, user: UserId) -> u64 {
    ((room as u64) << 32) | user as u64
}

/// The social graph an adversary reconstructed, against the truth.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GraphSummary {
    /// Edges the adversary holds.
    pub edges: u64,
    /// Those that are real contacts.
    pub correct_edges: u64,
    /// correct / edges.
    pub precision: Option<f64>,
    /// Share of the pairs that exchanged one-to-one messages during the run that it found.
    pub recall: Option<f64>,
    /// Share of all contact edges that it found.
    pub recall_of_contacts: Option<f64>,
}

/// Scores a reconstructed graph against the pairs that really talked and the contact graph.
pub fn score_graph(edges: &EdgeSet<'_>, talked: &EdgeSet<'_>, contacts: &Contacts) -> GraphSummary {
    let n = edges.len();
    let correct = edges.contact_edges();
    let found = edges.common(talked);
    let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
    GraphSummary {
        edges: n,
        correct_edges: correct,
        precision: ratio(correct, n),
        recall: ratio(found, talked.len()),
        recall_of_contacts: ratio(correct, contacts.edge_count()),
    }
}

/// Bit flags of what an adversary knows of each user's address.
pub const ADDRESS_SEEN: u8 = 1;
/// The address is tied to the user's account.
pub const ADDRESS_IDENTIFIED: u8 = 2;

/// Whose network addresses an adversary learned.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AddressSummary {
    /// Share of users whose device address it saw.
    pub seen: Option<f64>,
    /// Share of users whose address it tied to their account.
    pub identified: Option<f64>,
    /// Ties of an address to the wrong account.
    pub wrong_ties: u64,
}

/// Summarises per-user address flags.
pub fn score_addresses(flags: &[u8], wrong_ties: u64, exclude: Option<UserId>) -> AddressSummary {
    let n = flags.len() as u64 - exclude.is_some() as u64;
    let count = |bit: u8| {
        flags.iter().enumerate().filter(|&(u, f)| f & bit != 0 && Some(u as UserId) != exclude).count() as f64
    };
    AddressSummary {
        seen: (n > 0).then(|| count(ADDRESS_SEEN) / n as f64),
        identified: (n > 0).then(|| count(ADDRESS_IDENTIFIED) / n as f64),
        wrong_ties,
    }
}

/// Which room memberships an adversary learned.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RoomSummary {
    /// Memberships it learned that are real.
    pub learned: u64,
    /// Share of all memberships (room, member) that it learned.
    pub share: Option<f64>,
    /// Share of the memberships it holds that are real.
    pub precision: Option<f64>,
}

/// Scores learned memberships against the rooms.
pub fn score_rooms(learned: &IntSet<u64>, rooms: &Rooms) -> RoomSummary {
    let total: u64 = (0..rooms.len() as u32).map(|r| rooms.members(r).len() as u64).sum();
    let correct =
        learned.iter().filter(|&&k| rooms.members((k >> 32) as u32).binary_search(&(k as u32)).is_ok()).count() as u64;
    RoomSummary {
        learned: correct,
        share: (total > 0).then(|| correct as f64 / total as f64),
        precision: (!learned.is_empty()).then(|| correct as f64 / learned.len() as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};
    use crate::world::SocialModel;

    #[test]
    fn precision_and_recall_count_what_is_real_and_what_talked() {
        let mut rng = stream(1, Purpose::Social, 0);
        let contacts = Contacts::generate(20, &SocialModel::SmallWorld { degree: 4, rewire: 0.0 }, &mut rng);
        // Ring lattice: 0-1, 0-2 are contacts; 0-10 is not.
        let offsets = EdgeSet::offsets(&contacts);
        let mut talked = EdgeSet::new(&contacts, offsets.clone());
        talked.insert(0, 1);
        talked.insert(2, 0);
        talked.insert(1, 0);
        assert_eq!(talked.len(), 2);
        let mut edges = EdgeSet::new(&contacts, offsets);
        edges.insert(1, 0);
        edges.insert(0, 10);
        let g = score_graph(&edges, &talked, &contacts);
        assert_eq!((g.edges, g.correct_edges), (2, 1));
        assert_eq!((g.precision, g.recall), (Some(0.5), Some(0.5)));
        assert_eq!(g.recall_of_contacts, Some(1.0 / 40.0));
        // The complete graph stores no adjacency: every edge is hashed.
        let complete = Contacts::generate(5, &SocialModel::Complete, &mut rng);
        let mut all = EdgeSet::new(&complete, EdgeSet::offsets(&complete));
        all.insert(3, 4);
        all.insert(4, 3);
        assert_eq!(all.len(), 1);
        let g = score_graph(&all, &all, &complete);
        assert_eq!((g.precision, g.recall, g.recall_of_contacts), (Some(1.0), Some(1.0), Some(0.1)));
    }

    #[test]
    fn address_shares_leave_out_the_adversarys_own_device() {
        let flags = [ADDRESS_SEEN | ADDRESS_IDENTIFIED, ADDRESS_SEEN, 0, ADDRESS_SEEN | ADDRESS_IDENTIFIED];
        let a = score_addresses(&flags, 2, Some(3));
        assert_eq!((a.seen, a.identified, a.wrong_ties), (Some(2.0 / 3.0), Some(1.0 / 3.0), 2));
    }
}
