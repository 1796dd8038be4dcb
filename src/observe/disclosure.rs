//! The statistical disclosure attack: linking a recipient to its correspondents over repeated
//! messages, even when no single message can be linked.
//!
//! Each time a message reaches a targeted recipient `v`, the adversary writes down the users who
//! could have sent it: with addresses, the senders of the entries its timing-and-size model finds
//! plausible (see [`crate::observe::correlate`]); without addresses, the users its nodes delivered
//! a message to in the `window` before (they were online, and only online users send). Over many
//! messages `v`'s real correspondents turn up more often than their background rate, measured on
//! the same kind of candidate set before a delivery to someone else, while everybody else fades
//! into the background. Scores are the frequency in `v`'s windows minus the background frequency
//! (Danezis, "Statistical Disclosure Attacks", SEC 2003). A correspondent `a` counts as identified
//! at its `k`-th message to `v` when, right after that message, `a` scores strictly higher than
//! every user seen around `v` who is not one of `v`'s contacts: the attack has singled it out from
//! the crowd (`v`'s other correspondents may score higher still; the contact graph serves only to
//! score the attack, never the attack itself). This is the attack Martiny et al. ("Improving Signal's Sealed
//! Sender", NDSS 2021) mount on Signal's sealed sender, where automatic delivery receipts make the
//! correspondent active right after each delivery and about 5 messages suffice; netarch's models
//! send no receipts, so without addresses the activity left to use is who is online to receive.
//!
//! Cost and memory: one pass over the candidates of each delivery to a target and of one other
//! delivery per such delivery (the background sample); per-target score tables and one record per
//! (correspondent, target) pair; the number of targets is a scenario parameter. [`ActiveSet`] keeps
//! the distinct users seen in the window, updated as activity enters and leaves it.

use std::collections::VecDeque;

use serde::Serialize;

use crate::observe::knowledge::{IntMap, NONE};
use crate::time::{SimDuration, SimTime};
use crate::world::UserId;
use crate::world::social::Contacts;

/// The distinct users seen active in the last `window`, maintained incrementally.
pub struct ActiveSet {
    window_us: u64,
    activity: VecDeque<(u64, UserId)>,
    in_window: Vec<u32>,
    position: Vec<u32>,
    active: Vec<UserId>,
}

impl ActiveSet {
    /// An empty set over `users` that forgets activity older than `window`.
    pub fn new(users: u32, window: SimDuration) -> ActiveSet {
        ActiveSet {
            window_us: window.0.max(1),
            activity: VecDeque::new(),
            in_window: vec![0; users as usize],
            position: vec![NONE; users as usize],
            active: Vec::new(),
        }
    }

    /// Notes that `user` was active at `time` (times must not decrease).
    pub fn push(&mut self, time: SimTime, user: UserId) {
        let u = user as usize;
        if u >= self.in_window.len() {
            return;
        }
        self.evict(time);
        self.activity.push_back((time.0, user));
        self.in_window[u] += 1;
        if self.in_window[u] == 1 {
            self.position[u] = self.active.len() as u32;
            self.active.push(user);
        }
    }

    /// Forgets activity older than the window before `time`.
    pub fn evict(&mut self, time: SimTime) {
        let t = time.0;
        while let Some(&(x, u)) = self.activity.front() {
            if x + self.window_us >= t {
                break;
            }
            self.activity.pop_front();
            let ui = u as usize;
            self.in_window[ui] -= 1;
            if self.in_window[ui] == 0 {
                let p = self.position[ui] as usize;
                let last = *self.active.last().expect("u is active");
                self.active.swap_remove(p);
                if last != u {
                    self.position[last as usize] = p as u32;
                }
                self.position[ui] = NONE;
            }
        }
    }

    /// The distinct users active in the window (in no particular order).
    pub fn users(&self) -> &[UserId] {
        &self.active
    }
}

#[derive(Clone, Copy, Default)]
struct PairState {
    messages: u32,
    identified_at: u32,
}

/// The windows of one targeted recipient: who was in how many.
#[derive(Default)]
struct Target {
    windows: u32,
    /// Per user seen around the target: the windows it was in, and its place in `by_hits`.
    hits: IntMap<UserId, (u32, u32)>,
    /// The users by the number of windows they were in (so that the test of whether a
    /// correspondent stands out looks only at those who were in enough windows to compete).
    by_hits: Vec<Vec<UserId>>,
}

impl Target {
    /// User `u` was in one more window.
    fn hit(&mut self, u: UserId) {
        let (h, at) = self.hits.get(&u).copied().unwrap_or((0, NONE));
        if h > 0 {
            let bucket = &mut self.by_hits[h as usize];
            bucket.swap_remove(at as usize);
            if let Some(&moved) = bucket.get(at as usize) {
                self.hits.get_mut(&moved).expect("listed users have hits").1 = at;
            }
        }
        let h = h as usize + 1;
        if self.by_hits.len() <= h {
            self.by_hits.resize_with(h + 1, Vec::new);
        }
        self.hits.insert(u, (h as u32, self.by_hits[h].len() as u32));
        self.by_hits[h].push(u);
    }
}

/// One adversary's statistical disclosure attack.
pub struct Disclosure {
    is_target: Vec<bool>,
    targets: u32,
    per_target: IntMap<UserId, Target>,
    background: IntMap<UserId, u32>,
    background_windows: u32,
    background_owed: u32,
    pairs: IntMap<u64, PairState>,
}

impl Disclosure {
    /// An attack on `targets` among `users`.
    pub fn new(users: u32, targets: &[UserId]) -> Disclosure {
        let mut is_target = vec![false; users as usize];
        for &t in targets {
            is_target[t as usize] = true;
        }
        Disclosure {
            is_target,
            targets: targets.len() as u32,
            per_target: IntMap::default(),
            background: IntMap::default(),
            background_windows: 0,
            background_owed: 0,
            pairs: IntMap::default(),
        }
    }

    /// Whether the attack wants the candidates of a delivery to `recipient`: it is a target, or a
    /// background sample is owed.
    pub fn wants(&self, recipient: UserId) -> bool {
        self.is_target.get(recipient as usize).copied().unwrap_or(false) || self.background_owed > 0
    }

    /// A message reached `recipient`, and `candidates` are who could have sent it. `sender` is the
    /// truth, for one-to-one messages only, and is used only to score the attack.
    pub fn delivery(&mut self, recipient: UserId, sender: Option<UserId>, candidates: &[UserId], contacts: &Contacts) {
        if !self.is_target.get(recipient as usize).copied().unwrap_or(false) {
            if self.background_owed > 0 {
                for &u in candidates.iter().filter(|&&u| u != recipient) {
                    *self.background.entry(u).or_insert(0) += 1;
                }
                self.background_windows += 1;
                self.background_owed -= 1;
            }
            return;
        }
        let entry = self.per_target.entry(recipient).or_default();
        entry.windows += 1;
        for &u in candidates.iter().filter(|&&u| u != recipient) {
            entry.hit(u);
        }
        if let Some(a) = sender {
            let key = ((a as u64) << 32) | recipient as u64;
            let mut pair = self.pairs.get(&key).copied().unwrap_or_default();
            pair.messages += 1;
            if pair.identified_at == 0 && self.stands_out(recipient, a, contacts) {
                pair.identified_at = pair.messages;
            }
            self.pairs.insert(key, pair);
        }
        // Measure the background on the next delivery to someone else.
        self.background_owed += 1;
    }

    /// Whether `a` scores strictly higher, for `target`, than everyone seen around it who is not
    /// one of its contacts.
    fn stands_out(&self, target: UserId, a: UserId, contacts: &Contacts) -> bool {
        let Some(t) = self.per_target.get(&target) else { return false };
        let n = t.windows.max(1) as f64;
        let bg = self.background_windows.max(1) as f64;
        let score = |u: UserId, h: u32| h as f64 / n - self.background.get(&u).copied().unwrap_or(0) as f64 / bg;
        let Some(&(ha, _)) = t.hits.get(&a) else { return false };
        let sa = score(a, ha);
        // A user's score is at most its share of the windows (the background only lowers it), so
        // only those whose share reaches `sa` can match it: most windows first, until none can.
        for h in (1..t.by_hits.len()).rev() {
            if (h as f64 / n) < sa {
                break;
            }
            let rivals = &t.by_hits[h];
            if rivals.iter().any(|&u| u != a && !contacts.are_contacts(u, target) && score(u, h as u32) >= sa) {
                return false;
            }
        }
        true
    }

    /// What the attack achieved.
    pub fn summary(&self) -> DisclosureSummary {
        let tracked = self.pairs.len() as u64;
        let mut needed: Vec<u32> =
            self.pairs.values().filter(|p| p.identified_at > 0).map(|p| p.identified_at).collect();
        needed.sort_unstable();
        let five: Vec<&PairState> = self.pairs.values().filter(|p| p.messages >= 5 || p.identified_at > 0).collect();
        let within_five = five.iter().filter(|p| p.identified_at > 0 && p.identified_at <= 5).count();
        let ratio = |a: f64, b: f64| (b > 0.0).then(|| a / b);
        DisclosureSummary {
            targets: self.targets,
            pairs: tracked,
            identified: ratio(needed.len() as f64, tracked as f64),
            median_messages_to_identify: (!needed.is_empty()).then(|| {
                let m = needed.len();
                if m % 2 == 1 { needed[m / 2] as f64 } else { (needed[m / 2 - 1] + needed[m / 2]) as f64 / 2.0 }
            }),
            mean_messages_to_identify: ratio(needed.iter().map(|&x| x as f64).sum(), needed.len() as f64),
            identified_within_5: ratio(within_five as f64, five.len() as f64),
            messages_per_pair: ratio(self.pairs.values().map(|p| p.messages as f64).sum(), tracked as f64),
        }
    }
}

/// What a statistical disclosure attack achieved against the targeted recipients.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DisclosureSummary {
    /// Recipients targeted.
    pub targets: u32,
    /// (correspondent, target) pairs with at least one message the adversary saw delivered.
    pub pairs: u64,
    /// Share of those pairs whose correspondent the attack identified.
    pub identified: Option<f64>,
    /// Median number of the pair's messages it took, over identified pairs.
    pub median_messages_to_identify: Option<f64>,
    /// Mean number of messages it took, over identified pairs.
    pub mean_messages_to_identify: Option<f64>,
    /// Of the pairs with at least 5 messages (or identified earlier), the share identified by the
    /// 5th: Martiny et al.'s figure for sealed sender with delivery receipts.
    pub identified_within_5: Option<f64>,
    /// Mean messages seen per pair.
    pub messages_per_pair: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SimTime {
        SimTime(s * 1_000_000)
    }

    use crate::engine::rng::{Purpose, stream};
    use crate::world::SocialModel;

    /// A ring lattice of 10 users, each with its 2 neighbours either side as contacts.
    fn ring() -> Contacts {
        Contacts::generate(10, &SocialModel::SmallWorld { degree: 4, rewire: 0.0 }, &mut stream(1, Purpose::Social, 0))
    }

    #[test]
    fn a_lone_candidate_is_identified_at_once() {
        let c = ring();
        let mut d = Disclosure::new(10, &[3]);
        d.delivery(3, Some(4), &[4], &c);
        let s = d.summary();
        assert_eq!((s.pairs, s.identified, s.median_messages_to_identify), (1, Some(1.0), Some(1.0)));
    }

    #[test]
    fn a_correspondent_hidden_in_a_crowd_emerges_over_repeated_messages() {
        // Target 0 (contacts 1, 2, 8, 9) hears from user 1; every window also holds two of users
        // 3..=7 (not its contacts), in rotation, so only user 1 is in every window. Its other
        // contact 2 is in every window too, and may outscore 1: what counts is standing out from
        // the non-contacts.
        let c = ring();
        let mut d = Disclosure::new(10, &[0]);
        for i in 0..6u32 {
            d.delivery(0, Some(1), &[1, 2, 3 + i % 5, 3 + (i + 2) % 5], &c);
            assert!(d.wants(9));
            d.delivery(9, None, &[3 + (i + 4) % 5, 9], &c);
            assert!(!d.wants(9));
        }
        let s = d.summary();
        assert_eq!(s.pairs, 1);
        assert_eq!(s.identified, Some(1.0));
        assert_eq!(s.median_messages_to_identify, Some(2.0), "{s:?}");
        assert_eq!(s.identified_within_5, Some(1.0));
    }

    #[test]
    fn a_sender_always_in_a_crowd_of_the_same_size_is_never_singled_out() {
        let c = ring();
        let mut d = Disclosure::new(10, &[0]);
        for _ in 0..20 {
            d.delivery(0, Some(1), &[1, 4, 5, 6], &c);
        }
        assert_eq!(d.summary().identified, Some(0.0));
    }

    #[test]
    fn a_target_lists_each_user_under_its_number_of_windows() {
        let mut t = Target::default();
        for u in [1, 2, 3, 1, 2, 1, 4] {
            t.hit(u);
        }
        let mut buckets: Vec<Vec<UserId>> = t.by_hits.clone();
        buckets.iter_mut().for_each(|b| b.sort_unstable());
        assert_eq!(buckets, vec![vec![], vec![3, 4], vec![2], vec![1]]);
        for (&u, &(h, at)) in &t.hits {
            assert_eq!(t.by_hits[h as usize][at as usize], u, "user {u} is where its entry says");
        }
    }

    #[test]
    fn the_active_set_holds_each_user_once_while_in_the_window() {
        let mut a = ActiveSet::new(5, SimDuration::from_secs(10));
        for (t, u) in [(1, 1), (2, 2), (3, 1), (12, 3)] {
            a.push(at(t), u);
        }
        // At 12 s the activity of 1 s has left the window, that of 3 s has not; at 13 s that of
        // 2 s has too.
        let sorted = |a: &ActiveSet| {
            let mut v = a.users().to_vec();
            v.sort_unstable();
            v
        };
        assert_eq!(sorted(&a), vec![1, 2, 3]);
        a.evict(at(13));
        assert_eq!(sorted(&a), vec![1, 3]);
        a.evict(at(100));
        assert!(a.users().is_empty() && a.in_window.iter().all(|&c| c == 0));
    }
}
