//! The statistical disclosure attack: linking a recipient to its correspondents over repeated
//! messages, even when no single message can be linked.
//!
//! Each time a message reaches a targeted recipient `v`, the adversary writes down the users who
//! could have sent it: the sender itself when it already knows it (it read the sender's identity,
//! or saw the message leave the sender's device); otherwise, with addresses, the senders of the
//! entries its timing-and-size model finds plausible (see [`crate::observe::correlate`]), and
//! without addresses the users its nodes delivered a message to in the `window` before (they were
//! online, and only online users send). Over many messages `v`'s real correspondents turn up more
//! often than their background rate, measured on the same kind of candidate set at a delivery to
//! someone else, while everybody else fades into the background. Scores are the frequency in
//! `v`'s windows minus the background frequency (Danezis, "Statistical Disclosure Attacks", SEC
//! 2003).
//!
//! After each delivery to `v` the attack names its guesses: it ranks every user it has seen around
//! `v` (the attacker does not know `v`'s contacts, so everyone it saw is a rival) and names the
//! `m` best, `m` being the number of `v`'s correspondents so far, and only those ranked among the
//! first `m` even when ties are broken against them. Danezis's attacker likewise knows how many
//! correspondents its target has and takes the most likely ones; with one correspondent this is
//! Martiny et al.'s criterion ("Improving Signal's Sealed Sender", NDSS 2021): the sender is
//! linked once it has the highest score of all users. A pair (`a`, `v`) is identified at `a`'s
//! `k`-th message when `a` is first named after it wrote; a user named for `v` that wrote nothing
//! to `v` during the run is a wrong identification, counted apart. Where the attack has nothing to
//! learn (candidates independent of who writes), a named user is a correspondent only by chance,
//! and the unit tests check that it scores at that chance. Martiny et al.'s attack uses Signal's
//! automatic delivery receipts, which make the correspondent active right after each delivery, so
//! about 5 messages suffice; netarch's models send no receipts, so without addresses the activity
//! left to use is who is online to receive.
//!
//! Cost and memory: one pass over the candidates of each delivery to a target and of one other
//! delivery per such delivery (the background sample), and a ranking of the users who were in
//! enough of the target's windows to place among the first; per-target score tables, one record
//! per (correspondent, target) pair and one per wrongly named pair; the number of targets is a
//! scenario parameter. [`ActiveSet`] keeps the distinct users seen in the window, updated as
//! activity enters and leaves it.

use std::collections::VecDeque;

use serde::Serialize;

use crate::observe::knowledge::{IntMap, IntSet, NONE};
use crate::time::{SimDuration, SimTime};
use crate::world::UserId;

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
    /// Distinct one-to-one correspondents seen so far: how many users the attack names.
    correspondents: u32,
    /// Per user seen around the target: the windows it was in, and its place in `by_hits`.
    hits: IntMap<UserId, (u32, u32)>,
    /// The users by the number of windows they were in (so that ranking looks only at those who
    /// were in enough windows to compete for a place among the first).
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
    /// Every (user, target) the attack named while the user had written nothing to the target;
    /// those that never wrote to it during the run are its wrong identifications.
    named_early: IntSet<u64>,
    /// Scores of the users ranked for one naming (reused).
    ranked: Vec<(f64, UserId)>,
    /// The users named by the last naming (reused).
    named: Vec<UserId>,
}

/// The key of the pair (correspondent `a`, target `v`).
#[inline]
fn pair_key(a: UserId, v: UserId) -> u64 {
    ((a as u64) << 32) | v as u64
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
            named_early: IntSet::default(),
            ranked: Vec::new(),
            named: Vec::new(),
        }
    }

    /// Whether the attack wants the candidates of a delivery to `recipient`: it is a target, or a
    /// background sample is owed.
    pub fn wants(&self, recipient: UserId) -> bool {
        self.is_target.get(recipient as usize).copied().unwrap_or(false) || self.background_owed > 0
    }

    /// A message reached `recipient`, and `candidates` are who could have sent it (a single one
    /// when the adversary knows the sender). `sender` is the truth, for one-to-one messages only,
    /// and is used only to score the attack and to tell it how many correspondents to name.
    pub fn delivery(&mut self, recipient: UserId, sender: Option<UserId>, candidates: &[UserId]) {
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
            let pair = self.pairs.entry(pair_key(a, recipient)).or_default();
            pair.messages += 1;
            if pair.messages == 1 {
                entry.correspondents += 1;
            }
        }
        self.name(recipient);
        for &u in &self.named {
            let key = pair_key(u, recipient);
            match self.pairs.get_mut(&key) {
                Some(p) if p.identified_at == 0 => p.identified_at = p.messages,
                Some(_) => {}
                None => {
                    self.named_early.insert(key);
                }
            }
        }
        // Measure the background on the next delivery to someone else.
        self.background_owed += 1;
    }

    /// Ranks every user seen around `target` by score (its share of the target's windows minus
    /// its share of the background windows) and leaves in `named` those ranked among the first
    /// `m`, `m` being the target's correspondents so far, even when ties are broken against them:
    /// the users whose score is strictly above the `m + 1`-th highest.
    fn name(&mut self, target: UserId) {
        self.named.clear();
        let Some(t) = self.per_target.get(&target) else { return };
        let m = t.correspondents as usize;
        if m == 0 {
            return;
        }
        let n = t.windows.max(1) as f64;
        let bg = self.background_windows.max(1) as f64;
        let background = &self.background;
        let score = |u: UserId, h: usize| h as f64 / n - background.get(&u).copied().unwrap_or(0) as f64 / bg;
        let ranked = &mut self.ranked;
        ranked.clear();
        // A user's score is at most its share of the windows (the background only lowers it), so
        // once the m + 1 best so far outscore what the next bucket could reach, the rest cannot
        // change the threshold.
        let mut threshold = f64::NEG_INFINITY;
        for h in (1..t.by_hits.len()).rev() {
            if ranked.len() > m && h as f64 / n <= threshold {
                break;
            }
            ranked.extend(t.by_hits[h].iter().map(|&u| (score(u, h), u)));
            if ranked.len() > m {
                ranked.select_nth_unstable_by(m, |a, b| b.0.total_cmp(&a.0));
                threshold = ranked[m].0;
            }
        }
        self.named.extend(ranked.iter().filter(|&&(s, _)| s > threshold).map(|&(_, u)| u));
    }

    /// What the attack achieved.
    pub fn summary(&self) -> DisclosureSummary {
        let tracked = self.pairs.len() as u64;
        let mut needed: Vec<u32> =
            self.pairs.values().filter(|p| p.identified_at > 0).map(|p| p.identified_at).collect();
        needed.sort_unstable();
        let five: Vec<&PairState> = self.pairs.values().filter(|p| p.messages >= 5 || p.identified_at > 0).collect();
        let within_five = five.iter().filter(|p| p.identified_at > 0 && p.identified_at <= 5).count();
        let wrong = self.named_early.iter().filter(|k| !self.pairs.contains_key(k)).count();
        let ratio = |a: f64, b: f64| (b > 0.0).then(|| a / b);
        DisclosureSummary {
            targets: self.targets,
            pairs: tracked,
            identified: ratio(needed.len() as f64, tracked as f64),
            wrongly_identified: ratio(wrong as f64, tracked as f64),
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
    /// Share of those pairs whose correspondent the attack identified (named it after it wrote).
    pub identified: Option<f64>,
    /// (user, target) pairs the attack named although the user wrote nothing to the target during
    /// the run, as a share of `pairs` (so that it reads beside `identified`).
    pub wrongly_identified: Option<f64>,
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

    use crate::rng::{Purpose, stream};
    use rand::RngExt;

    #[test]
    fn a_lone_candidate_is_identified_at_once() {
        let mut d = Disclosure::new(10, &[3]);
        d.delivery(3, Some(4), &[4]);
        let s = d.summary();
        assert_eq!((s.pairs, s.identified, s.median_messages_to_identify), (1, Some(1.0), Some(1.0)));
        assert_eq!(s.wrongly_identified, Some(0.0));
    }

    #[test]
    fn a_correspondent_hidden_in_a_crowd_emerges_over_repeated_messages() {
        // Target 0 hears from user 1; every window also holds two of users 3..=7, in rotation, so
        // only user 1 is in every window, and it is named once it outranks them all.
        let mut d = Disclosure::new(10, &[0]);
        for i in 0..6u32 {
            d.delivery(0, Some(1), &[1, 3 + i % 5, 3 + (i + 2) % 5]);
            assert!(d.wants(9));
            d.delivery(9, None, &[3 + (i + 4) % 5, 9]);
            assert!(!d.wants(9));
        }
        let s = d.summary();
        assert_eq!(s.pairs, 1);
        assert_eq!(s.identified, Some(1.0));
        assert_eq!(s.median_messages_to_identify, Some(2.0), "{s:?}");
        assert_eq!(s.identified_within_5, Some(1.0));
        assert_eq!(s.wrongly_identified, Some(0.0));
    }

    #[test]
    fn a_sender_always_in_a_crowd_of_the_same_size_is_never_singled_out() {
        let mut d = Disclosure::new(10, &[0]);
        for _ in 0..20 {
            d.delivery(0, Some(1), &[1, 4, 5, 6]);
        }
        let s = d.summary();
        assert_eq!((s.identified, s.wrongly_identified), (Some(0.0), Some(0.0)));
    }

    #[test]
    fn a_non_contact_that_outranks_the_correspondent_is_a_wrong_identification_issue_9() {
        // User 5 is in every window, the correspondent 1 in every other one: the attack names 5,
        // which never wrote to the target. The contact graph does not shield the guess.
        let mut d = Disclosure::new(10, &[0]);
        for i in 0..10u32 {
            let c: &[UserId] = if i % 2 == 0 { &[1, 5] } else { &[5, 2 + i % 3] };
            d.delivery(0, Some(1), c);
        }
        let s = d.summary();
        assert_eq!((s.pairs, s.wrongly_identified), (1, Some(1.0)), "{s:?}");
        // At the first message 1 and 5 tie, so neither is named; 5 leads from then on.
        assert_eq!(s.identified, Some(0.0), "{s:?}");
    }

    #[test]
    fn with_every_sender_known_each_correspondent_is_named_at_its_first_message() {
        // Direct knowledge: the only candidate of each delivery is its sender. Target 0 hears from
        // 1 often and from 2 once; both are named, nobody else is.
        let mut d = Disclosure::new(10, &[0]);
        for s in [1, 1, 1, 2, 1, 1] {
            d.delivery(0, Some(s), &[s]);
            d.delivery(7, Some(8), &[8]);
        }
        let s = d.summary();
        assert_eq!((s.pairs, s.identified, s.wrongly_identified), (2, Some(1.0), Some(0.0)), "{s:?}");
        assert_eq!(s.median_messages_to_identify, Some(1.0));
    }

    /// One null world: every target hears from one fixed correspondent, drawn uniformly, while
    /// the candidate sets of every delivery (target and background alike) are `c` users drawn
    /// uniformly, independent of who writes; with `leak`, the correspondent is also in each of its
    /// target's windows (the control: something to learn). Returns (pairs identified, wrong pairs
    /// named, pairs).
    fn null_world(users: u32, targets: u32, deliveries: u32, c: usize, seed: u64, leak: bool) -> (f64, f64, u64) {
        let mut rng = stream(seed, Purpose::Adversary, 7);
        let ts: Vec<UserId> = (0..targets).collect();
        let mut d = Disclosure::new(users, &ts);
        let partner: Vec<UserId> = ts.iter().map(|&v| (v + 1 + rng.random_range(0..users - 1)) % users).collect();
        let draw = |rng: &mut crate::engine::SimRng| -> Vec<UserId> {
            let mut v: Vec<UserId> = Vec::with_capacity(c);
            while v.len() < c {
                let u = rng.random_range(0..users);
                if !v.contains(&u) {
                    v.push(u);
                }
            }
            v
        };
        for _ in 0..deliveries {
            for &v in &ts {
                let mut cand = draw(&mut rng);
                let a = partner[v as usize];
                if leak && !cand.contains(&a) {
                    cand[0] = a;
                }
                d.delivery(v, Some(a), &cand);
                let cand = draw(&mut rng);
                d.delivery(targets + rng.random_range(0..users - targets), None, &cand);
            }
        }
        let s = d.summary();
        assert_eq!(s.pairs, targets as u64);
        (s.identified.unwrap() * s.pairs as f64, s.wrongly_identified.unwrap() * s.pairs as f64, s.pairs)
    }

    #[test]
    fn where_there_is_nothing_to_learn_the_attack_names_correspondents_at_chance_issue_9() {
        // Each target has one correspondent, independent of the candidates, so every name the
        // attack gives is a uniformly random user among the `users - 1` others: a name is right
        // with probability 1 / (users - 1). Over the pairs, the right ones R and the wrong ones W
        // satisfy E[R] = (R + W) / (users - 1) given the names, with R a sum of independent
        // Bernoulli trials (one per target, p = names / (users - 1)), so its standard deviation
        // is at most sqrt(E[R]). Four of them, plus one for the discreteness, is the tolerance.
        let (users, targets) = (80, 40);
        let (mut right, mut wrong) = (0.0, 0.0);
        for seed in 1..=12 {
            let (r, w, _) = null_world(users, targets, 12, 8, seed, false);
            right += r;
            wrong += w;
        }
        let expected = (right + wrong) / (users - 1) as f64;
        let tolerance = 4.0 * expected.sqrt() + 1.0;
        assert!(wrong > 20.0 * right.max(1.0), "wrong names dominate: {right} right, {wrong} wrong");
        assert!((right - expected).abs() <= tolerance, "{right} right vs chance {expected:.1} ± {tolerance:.1}");
        // The control: the same world with the correspondent in its target's every window. It is
        // found; early names, before it leads, are still wrong ones.
        let (r, w, pairs) = null_world(users, targets, 12, 8, 1, true);
        assert!(r >= 0.9 * pairs as f64 && w < r, "{r} right, {w} wrong of {pairs}");
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
