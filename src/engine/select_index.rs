//! Ordered indexes over accounts for the load-aware and fallback layers, so that a
//! selection costs O(log accounts) instead of a scan of every account.
//!
//! - load-aware: accounts with new-session capacity and a load rate under 100%, grouped
//!   by the key (priority, load rate, last used (never used first));
//! - fallback: accounts with new-session capacity, grouped by (priority, last used, or
//!   nothing when the fallback picks at random).
//!
//! Each index keeps its distinct keys in order, and for each key the accounts that have
//! it (exact ties). A pick takes the least key whose group has an account the caller
//! allows (the one schedulability decision, accounts a session limit refused) and draws
//! one of the allowed accounts of that group uniformly, with one draw from the session's
//! stream when there is more than one. The engine keeps the indexes in step by taking an
//! account out before it changes its busy count, waiter count or last use and putting it
//! back after.
//!
//! Same law, other draws: small gateways (see `SCAN_MAX_ACCOUNTS`) are scanned as before
//! the indexes existed, by [`pick_min`], which also picks uniformly among the exactly tied
//! accounts but by reservoir sampling in account order, drawing on every tie met on the
//! way. Replaying those draws needs a visit to every account, so gateways large enough to
//! be indexed give other numbers for a given seed than before (with the same distribution);
//! smaller ones give the same numbers as before.

use super::Account;
use crate::units::Time;
use rand::Rng;
use std::collections::BTreeMap;

type LoadAwareKey = (i64, u64, Option<Time>);
type FallbackKey = (i64, Option<Time>);

/// The load rate in whole percent: (busy + waiting) * 100 / new-session capacity.
#[inline]
pub(super) fn load_rate(a: &Account) -> u64 {
    (a.busy as u64 + a.waiting as u64) * 100 / a.cap_new as u64
}

/// The load-aware key of an account, or None when the layer cannot pick it by load.
#[inline]
pub(super) fn load_aware_key(a: &Account) -> Option<LoadAwareKey> {
    if a.cap_new == 0 {
        return None;
    }
    let load = load_rate(a);
    (load < 100).then_some((a.priority, load, a.last_used))
}

/// The fallback key of an account, or None without new-session capacity.
#[inline]
pub(super) fn fallback_key(a: &Account, by_lru: bool) -> Option<FallbackKey> {
    let lru = if by_lru { a.last_used } else { None };
    (a.cap_new > 0).then_some((a.priority, lru))
}

/// Accounts grouped by key, keys in order.
struct Groups<K> {
    groups: BTreeMap<K, Vec<u32>>,
    /// Where each account sits in its group's list (when it is in one).
    pos: Vec<u32>,
    /// Emptied lists, kept for reuse (no allocation in the steady state).
    spare: Vec<Vec<u32>>,
}

impl<K: Ord + Copy> Groups<K> {
    fn new(accounts: usize) -> Self {
        Groups {
            groups: BTreeMap::new(),
            pos: vec![0; accounts],
            spare: Vec::new(),
        }
    }

    #[inline]
    fn insert(&mut self, key: K, i: u32) {
        let spare = &mut self.spare;
        let g = self
            .groups
            .entry(key)
            .or_insert_with(|| spare.pop().unwrap_or_default());
        self.pos[i as usize] = g.len() as u32;
        g.push(i);
    }

    #[inline]
    fn remove(&mut self, key: K, i: u32) {
        let g = self
            .groups
            .get_mut(&key)
            .expect("an indexed account is in the group of its key");
        let p = self.pos[i as usize] as usize;
        debug_assert_eq!(g[p], i);
        g.swap_remove(p);
        if let Some(&moved) = g.get(p) {
            self.pos[moved as usize] = p as u32;
        }
        if g.is_empty() {
            if let Some(v) = self.groups.remove(&key) {
                self.spare.push(v);
            }
        }
    }

    /// One account of the least key, drawn uniformly among the accounts of that key.
    #[inline]
    fn pick_any(&self, rng: &mut impl Rng) -> Option<u32> {
        let (_, g) = self.groups.iter().next()?;
        Some(match g.len() {
            1 => g[0],
            n => g[rng.random_range(0..n as u32) as usize],
        })
    }

    /// One account of the least key among those `allowed` admits, drawn uniformly among
    /// the allowed accounts of that key.
    fn pick_allowed(
        &self,
        mut allowed: impl FnMut(u32) -> bool,
        rng: &mut impl Rng,
    ) -> Option<u32> {
        for g in self.groups.values() {
            let n = g.iter().filter(|&&i| allowed(i)).count();
            if n == 0 {
                continue;
            }
            let j = if n == 1 {
                0
            } else {
                rng.random_range(0..n as u32) as usize
            };
            return g.iter().copied().filter(|&i| allowed(i)).nth(j);
        }
        None
    }

    /// (key, sorted members) of every group, for comparing indexes in tests.
    #[cfg(test)]
    fn canonical(&self) -> Vec<(K, Vec<u32>)> {
        self.groups
            .iter()
            .map(|(k, g)| {
                let mut g = g.clone();
                g.sort_unstable();
                (*k, g)
            })
            .collect()
    }
}

/// Both indexes.
pub(super) struct AccountIndex {
    load_aware: Groups<LoadAwareKey>,
    fallback: Groups<FallbackKey>,
    by_lru: bool,
}

impl AccountIndex {
    pub(super) fn new(accounts: &[Account], by_lru: bool) -> AccountIndex {
        let mut index = AccountIndex {
            load_aware: Groups::new(accounts.len()),
            fallback: Groups::new(accounts.len()),
            by_lru,
        };
        for (i, a) in accounts.iter().enumerate() {
            index.insert(a, i as u32);
        }
        index
    }

    /// Puts account `i` (in its current state `a`) into both indexes.
    #[inline]
    pub(super) fn insert(&mut self, a: &Account, i: u32) {
        if let Some(k) = load_aware_key(a) {
            self.load_aware.insert(k, i);
        }
        if let Some(k) = fallback_key(a, self.by_lru) {
            self.fallback.insert(k, i);
        }
    }

    /// Changes account `i` through `f`, keeping both indexes in step; keys that do not
    /// change are left in place.
    #[inline]
    pub(super) fn update<R>(
        &mut self,
        a: &mut Account,
        i: u32,
        f: impl FnOnce(&mut Account) -> R,
    ) -> R {
        let (la, fb) = (load_aware_key(a), fallback_key(a, self.by_lru));
        let r = f(a);
        let (la2, fb2) = (load_aware_key(a), fallback_key(a, self.by_lru));
        if la != la2 {
            if let Some(k) = la {
                self.load_aware.remove(k, i);
            }
            if let Some(k) = la2 {
                self.load_aware.insert(k, i);
            }
        }
        if fb != fb2 {
            if let Some(k) = fb {
                self.fallback.remove(k, i);
            }
            if let Some(k) = fb2 {
                self.fallback.insert(k, i);
            }
        }
        r
    }

    /// The load-aware pick; `allowed` None admits every account.
    pub(super) fn pick_load_aware(
        &self,
        allowed: Option<&mut dyn FnMut(u32) -> bool>,
        rng: &mut impl Rng,
    ) -> Option<u32> {
        match allowed {
            None => self.load_aware.pick_any(rng),
            Some(f) => self.load_aware.pick_allowed(f, rng),
        }
    }

    /// The fallback pick; `allowed` None admits every account.
    pub(super) fn pick_fallback(
        &self,
        allowed: Option<&mut dyn FnMut(u32) -> bool>,
        rng: &mut impl Rng,
    ) -> Option<u32> {
        match allowed {
            None => self.fallback.pick_any(rng),
            Some(f) => self.fallback.pick_allowed(f, rng),
        }
    }

    /// Whether two indexes hold the same accounts under the same keys.
    #[cfg(test)]
    pub(super) fn same_as(&self, other: &AccountIndex) -> bool {
        self.load_aware.canonical() == other.load_aware.canonical()
            && self.fallback.canonical() == other.fallback.canonical()
    }
}

/// The account with the least key among `candidates` (in account order), by a scan:
/// ties broken uniformly at random by reservoir sampling in account order, drawing on
/// every tie met on the way (also ties of a key a later account then beats). Small
/// gateways select this way, as slotsim always did; the indexes draw once among the final
/// tied set, which has the same law but other draws.
pub(super) fn pick_min<K: Ord>(
    candidates: impl Iterator<Item = (K, u32)>,
    rng: &mut impl Rng,
) -> Option<u32> {
    let mut best: Option<(K, u32)> = None;
    let mut ties = 0u32;
    for (key, i) in candidates {
        match &mut best {
            Some((k, _)) if key > *k => {}
            Some((k, idx)) if key == *k => {
                ties += 1;
                if rng.random_range(0..ties) == 0 {
                    *idx = i;
                }
            }
            _ => {
                best = Some((key, i));
                ties = 1;
            }
        }
    }
    best.map(|(_, i)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_pcg::Pcg64;
    use std::collections::VecDeque;

    fn account(cap_new: u32, priority: i64) -> Account {
        Account {
            concurrency: cap_new + 1,
            cap_new,
            priority,
            busy: 0,
            waiting: 0,
            last_used: None,
            fifo: VecDeque::new(),
            pool: 0,
            down_until: 0,
            error: false,
            rate_limited_until: 0,
            overloaded_until: 0,
            window_end: 0,
            window_count: 0,
            rpm_minute: 0,
            rpm_count: 0,
            sessions: Vec::new(),
        }
    }

    /// The accounts a pick may return: the allowed ones of the least key, by a scan.
    fn least<K: Ord + Copy>(
        keys: impl Iterator<Item = (Option<K>, u32)>,
        allowed: &dyn Fn(u32) -> bool,
    ) -> Vec<u32> {
        let keyed: Vec<(K, u32)> = keys
            .filter(|(_, i)| allowed(*i))
            .filter_map(|(k, i)| k.map(|k| (k, i)))
            .collect();
        let Some(m) = keyed.iter().map(|(k, _)| *k).min() else {
            return Vec::new();
        };
        keyed
            .into_iter()
            .filter(|(k, _)| *k == m)
            .map(|(_, i)| i)
            .collect()
    }

    /// Random changes of busy, waiting and last use on random gateways (few priorities,
    /// small capacities, so that ties are common), with random accounts ruled out: every
    /// pick is one of the scan's least-key accounts (none exactly when the scan has none),
    /// with no draw without a tie, and the indexes equal ones built afresh.
    #[test]
    fn picks_are_the_scans_least_accounts() {
        let mut rng = Pcg64::seed_from_u64(8);
        for case in 0..200 {
            let n = rng.random_range(1..60u32);
            let by_lru = case % 3 != 0;
            let mut accounts: Vec<Account> = (0..n)
                .map(|_| account(rng.random_range(0..4), rng.random_range(0..3)))
                .collect();
            let mut index = AccountIndex::new(&accounts, by_lru);
            let mut clock: Time = 0;
            for step in 0..400 {
                let i = rng.random_range(0..n);
                let change = rng.random_range(0..4);
                let waiting = rng.random_range(0..3);
                clock += rng.random_range(0..2); // equal instants make last-use ties too
                index.update(&mut accounts[i as usize], i, |a| match change {
                    0 => a.busy += 1,
                    1 => a.busy = a.busy.saturating_sub(1),
                    2 => a.waiting = waiting,
                    _ => a.last_used = Some(clock),
                });
                let banned: Vec<u32> = (0..n).filter(|_| rng.random_bool(0.2)).collect();
                let allowed = |i: u32| !banned.contains(&i);
                let keys = || accounts.iter().zip(0..);
                for layer in 0..2 {
                    let seed = case * 1000 + step;
                    let mut r = Pcg64::seed_from_u64(seed);
                    let (got, want, all) = if layer == 0 {
                        (
                            index.pick_load_aware(Some(&mut |i| allowed(i)), &mut r),
                            least(keys().map(|(a, i)| (load_aware_key(a), i)), &allowed),
                            least(keys().map(|(a, i)| (load_aware_key(a), i)), &|_| true),
                        )
                    } else {
                        (
                            index.pick_fallback(Some(&mut |i| allowed(i)), &mut r),
                            least(keys().map(|(a, i)| (fallback_key(a, by_lru), i)), &allowed),
                            least(keys().map(|(a, i)| (fallback_key(a, by_lru), i)), &|_| true),
                        )
                    };
                    match got {
                        None => assert!(want.is_empty(), "case {case} step {step}"),
                        Some(g) => assert!(
                            want.contains(&g),
                            "case {case} step {step}: {g} not in {want:?}"
                        ),
                    }
                    if want.len() <= 1 {
                        let mut fresh = Pcg64::seed_from_u64(seed);
                        assert_eq!(
                            r.random::<u64>(),
                            fresh.random::<u64>(),
                            "no draw without a tie"
                        );
                    }
                    let mut r = Pcg64::seed_from_u64(seed);
                    let any = if layer == 0 {
                        index.pick_load_aware(None, &mut r)
                    } else {
                        index.pick_fallback(None, &mut r)
                    };
                    assert_eq!(any.is_some(), !all.is_empty());
                    if let Some(a) = any {
                        assert!(all.contains(&a));
                    }
                }
            }
            assert!(
                index.same_as(&AccountIndex::new(&accounts, by_lru)),
                "case {case}"
            );
        }
    }

    /// Ties are drawn uniformly: five idle never-used accounts, 5000 picks, each about a
    /// fifth (binomial sd 28; the bound is 5 sd), whichever accounts are ruled out.
    #[test]
    fn ties_are_drawn_uniformly() {
        let accounts: Vec<Account> = (0..6).map(|_| account(2, 0)).collect();
        let index = AccountIndex::new(&accounts, true);
        let mut rng = Pcg64::seed_from_u64(5);
        let mut seen = [0u32; 6];
        for _ in 0..5000 {
            let a = index
                .pick_load_aware(Some(&mut |i| i != 3), &mut rng)
                .unwrap();
            seen[a as usize] += 1;
        }
        assert_eq!(seen[3], 0);
        for (i, &c) in seen.iter().enumerate().filter(|(i, _)| *i != 3) {
            assert!(
                (c as f64 - 1000.0).abs() < 5.0 * 28.3,
                "account {i}: {seen:?}"
            );
        }
    }

    /// In whole replications every change of an account reaches the indexes: checked
    /// against indexes built afresh from the accounts after every event, with two pools
    /// of different priority, reserves, poll and FIFO waits, fallback by last use and at
    /// random, under a load that fills the gateway at times.
    #[test]
    fn indexes_stay_in_step_in_whole_replications() {
        use crate::engine::test_support::model;
        use crate::engine::Sim;
        // The last case has faults, a session limit and an RPM band: picks then skip the
        // accounts the schedulability decision rules out.
        let guards = "max_sessions = 4\nbase_rpm = 6\n[pools.faults]\n\
                      rate_limit = { per_request = 0.05 }\noverload = { per_request = 0.02 }";
        for (wait, selection, guard) in [
            ("poll", "last_used", ""),
            ("fifo", "random", ""),
            ("poll", "last_used", guards),
        ] {
            let cfg = model(&format!(
                r#"
                horizon = "40m"
                warmup = "5m"
                replications = 1
                [gateway]
                wait = "{wait}"
                fallback_selection = "{selection}"
                [[pools]]
                name = "a"
                accounts = 20
                concurrency = 3
                reserved = 1
                priority = 10
                [[pools]]
                name = "b"
                accounts = 15
                concurrency = 2
                priority = 20
                {guard}
                [workload]
                arrival = {{ process = "poisson", rate = "40/min" }}
                requests_per_session = {{ dist = "geometric", mean = 6 }}
                think_time = {{ dist = "exponential", mean = "20s" }}
                service_time = {{ dist = "lognormal", median = "20s", p95 = "90s" }}
                "#
            ));
            let mut sim = Sim::new(&cfg, 3, false);
            assert!(sim.index.is_some(), "35 accounts are indexed");
            sim.check_index_every_event = true;
            sim.run();
            let o = sim.into_output();
            assert!(
                o.counts.requests_rejected > 0 && o.waiting_us > 0,
                "{:?}",
                o.counts
            );
        }
    }
}
