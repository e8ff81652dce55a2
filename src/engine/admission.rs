//! The gateway's admission: the user gate, the selection layers (sticky, load-aware,
//! fallback; docs/model.md section 2), the one decision whether an account may take a
//! request ([`schedulable`]), and taking and releasing an account slot.

use super::limits::{rpm_zone, RpmZone};
use super::select_index::{fallback_key, load_aware_key, pick_min, under_full_load};
use super::workload::service_time;
use super::{Account, Acquired, Cause, Ev, Phase, Reject, Sim};
use crate::scenario::{FallbackSelection, PoolConfig};
use crate::units::Time;

/// EffectiveConcurrency(C, R, is_bound) of PR #607, for C >= 1 (C <= 0 is rejected when
/// the scenario is validated). R < 0 behaves as 0; R >= C leaves new sessions no slot.
pub fn effective_concurrency(c: u32, r: i64, is_bound: bool) -> u32 {
    if is_bound || r <= 0 {
        c
    } else {
        (c as i64 - r).max(0) as u32
    }
}

impl<const PLAIN: bool> Sim<'_, PLAIN> {
    /// Step 1 of docs/model.md: a full user wait queue rejects first; otherwise the request
    /// joins the wait, whose immediate first try takes a free user slot at once.
    pub(super) fn user_gate(&mut self, rid: u32) {
        let Some(limits) = self.cfg.users.as_ref().filter(|_| !PLAIN) else {
            return self.dispatch(rid);
        };
        let sid = self.requests.items[rid as usize].session;
        let user = self.sessions.items[sid as usize].user;
        let u = &mut self.users[user as usize];
        if u.waiting >= limits.max_waiting {
            return self.reject(rid, Reject::UserLimit);
        }
        if u.busy < limits.concurrency {
            u.busy += 1;
            self.requests.items[rid as usize].holds_user_slot = true;
            return self.dispatch(rid);
        }
        u.waiting += 1;
        let deadline = self.now.saturating_add(limits.wait_timeout);
        self.start_wait(rid, deadline, user);
    }

    // ---- selection (steps 3-5 of docs/model.md section 2) ----------------------------------

    /// Runs selection for the request's current attempt: the sticky layer, then the
    /// load-aware layer, then the fallback queue.
    #[inline]
    pub(super) fn dispatch(&mut self, rid: u32) {
        let r = &mut self.requests.items[rid as usize];
        r.cause = None;
        if let Some(b) = r.bound {
            match self.sticky_layer(rid, b) {
                None => return,
                Some(cause) => self.requests.items[rid as usize].cause = Some(cause),
            }
        }
        if self.load_aware_layer(rid) {
            return;
        }
        self.fallback_layer(rid);
    }

    /// Step 3, on the request's bound account `b`. Returns None when the request was
    /// placed (a slot or a wait there), else why it goes on to step 4.
    fn sticky_layer(&mut self, rid: u32, b: u32) -> Option<Cause> {
        let gw = &self.cfg.gateway;
        let sid = self.requests.items[rid as usize].session;
        match self.usable(rid, b) {
            Usable::No(Cause::Fault) => {
                // The binding is deleted (if it still names this account).
                let s = &mut self.sessions.items[sid as usize];
                if s.binding.is_some_and(|(a, _)| a == b) {
                    s.binding = None;
                }
                return Some(Cause::Fault);
            }
            Usable::No(cause) => return Some(cause),
            Usable::Any | Usable::StickyOnly => {}
        }
        let a = &self.accounts[b as usize];
        if a.busy < a.concurrency {
            if self.guards() && !self.register_session(b, sid) {
                return Some(Cause::Limit);
            }
            self.acquire(rid, b, Acquired::StickyHit);
            return None;
        }
        if !gw.sticky_wait || a.waiting >= gw.sticky_max_waiting {
            return Some(Cause::Capacity);
        }
        let cap = a.concurrency;
        let (limit, timeout) = (gw.sticky_max_waiting, gw.sticky_wait_timeout);
        if self.guards() && !self.register_session(b, sid) {
            return Some(Cause::Limit);
        }
        self.join_wait(rid, b, cap, limit, timeout);
        None
    }

    /// Step 4: among accounts any layer may use, not failed for this request, with
    /// new-session capacity and a load rate (busy + waiting over that capacity) under
    /// 100%: priority, then load rate, then least recently used (never used first), ties
    /// at random. A session limit that refuses the pick sends it to the next one.
    /// Returns true when the request took a slot.
    fn load_aware_layer(&mut self, rid: u32) -> bool {
        if !self.guards() && self.accounts.len() == 1 {
            // One account, and no fault or limit that could set it aside (nor an index:
            // those are kept for many accounts): the scan below would have it as its
            // only candidate exactly when it is under full load, and a lone candidate
            // draws nothing for ties. Decided directly, without the load rate's
            // division and the scan.
            if !under_full_load(&self.accounts[0]) {
                return false;
            }
            self.acquire(rid, 0, Acquired::LoadAware);
            return true;
        }
        let sid = self.requests.items[rid as usize].session;
        let mut refused: Vec<u32> = Vec::new();
        loop {
            let (accounts, pools, now) = (&self.accounts, &self.cfg.pools, self.now);
            let failed = &self.requests.items[rid as usize].failed;
            let guarded = self.guards();
            let choices = &mut self.sessions.items[sid as usize].choices;
            let mut allowed = |i: u32| {
                let a = &accounts[i as usize];
                schedulable(a, &pools[a.pool as usize], now, failed, i) == Usable::Any
                    && !refused.contains(&i)
            };
            let pick = match self.index.as_ref().filter(|_| !PLAIN) {
                Some(index) if !guarded => index.pick_load_aware(None, choices),
                Some(index) => index.pick_load_aware(Some(&mut allowed), choices),
                None => {
                    let candidates = (accounts.iter().zip(0..)).filter_map(|(a, i)| {
                        let key = load_aware_key(a)?;
                        (!guarded || allowed(i)).then_some((key, i))
                    });
                    pick_min(candidates, choices)
                }
            };
            let Some(a) = pick else {
                return false;
            };
            if self.guards() && !self.register_session(a, sid) {
                refused.push(a);
                continue;
            }
            // load < 100 means busy + waiting < cap, so the acquire succeeds.
            self.acquire(rid, a, Acquired::LoadAware);
            return true;
        }
    }

    /// Step 5: the fallback queue, on the first candidate in the order priority, then
    /// least recently used (or at random within the priority), among accounts any layer may
    /// use with new-session capacity. With a session limit, a refused candidate sends the
    /// request to the next one. No candidate: 503, or `rejected_failover` once an attempt
    /// has failed.
    fn fallback_layer(&mut self, rid: u32) {
        let gw = &self.cfg.gateway;
        let by_lru = gw.fallback_selection == FallbackSelection::LastUsed;
        let sid = self.requests.items[rid as usize].session;
        let mut refused: Vec<u32> = Vec::new();
        loop {
            let (accounts, pools, now) = (&self.accounts, &self.cfg.pools, self.now);
            let failed = &self.requests.items[rid as usize].failed;
            let guarded = self.guards();
            let choices = &mut self.sessions.items[sid as usize].choices;
            let mut allowed = |i: u32| {
                let a = &accounts[i as usize];
                schedulable(a, &pools[a.pool as usize], now, failed, i) == Usable::Any
                    && !refused.contains(&i)
            };
            let pick = match self.index.as_ref().filter(|_| !PLAIN) {
                Some(index) if !guarded => index.pick_fallback(None, choices),
                Some(index) => index.pick_fallback(Some(&mut allowed), choices),
                // One account: the scan's only candidate, or none; a lone candidate draws
                // nothing for ties (as in the load-aware layer).
                None if !guarded && accounts.len() == 1 => {
                    fallback_key(&accounts[0], by_lru).map(|_| 0)
                }
                None => {
                    let candidates = (accounts.iter().zip(0..)).filter_map(|(a, i)| {
                        let key = fallback_key(a, by_lru)?;
                        (!guarded || allowed(i)).then_some((key, i))
                    });
                    pick_min(candidates, choices)
                }
            };
            let Some(a) = pick else {
                let why = if self.requests.items[rid as usize].failed.is_empty() {
                    Reject::NoAccount
                } else {
                    Reject::Failover
                };
                return self.reject(rid, why);
            };
            if self.guards() && !self.register_session(a, sid) {
                refused.push(a);
                continue;
            }
            let cap = self.accounts[a as usize].cap_new;
            let gw = &self.cfg.gateway;
            let (limit, timeout) = (gw.fallback_max_waiting, gw.fallback_wait_timeout);
            return self.join_wait(rid, a, cap, limit, timeout);
        }
    }

    /// Whether `account` may take request `rid` now (see [`schedulable`]).
    pub(super) fn usable(&self, rid: u32, account: u32) -> Usable {
        if !self.guards() {
            return Usable::Any;
        }
        let a = &self.accounts[account as usize];
        let failed = &self.requests.items[rid as usize].failed;
        schedulable(
            a,
            &self.cfg.pools[a.pool as usize],
            self.now,
            failed,
            account,
        )
    }

    /// The request takes a slot of `account` now. Whether the attempt fails is decided
    /// here; the binding is written (or refreshed) either way, unless the variants keep
    /// it; a failing attempt holds the slot for `time_to_error`, a serving one for its
    /// service time.
    pub(super) fn acquire(&mut self, rid: u32, account: u32, how: Acquired) {
        let now = self.now;
        let (ttl, openai, keeps_binding) =
            (self.hot.sticky_ttl, self.hot.openai, self.hot.keeps_binding);
        let sid = self.requests.items[rid as usize].session;
        let fails = if self.guards() {
            self.attempt_fails(account, sid)
        } else {
            None
        };
        self.with_account(account, |a| a.busy += 1);
        self.busy_up();
        let r = &mut self.requests.items[rid as usize];
        r.phase = Phase::Serving;
        r.account = account;
        r.fails = fails;
        let kept = keeps_binding && r.cause == Some(Cause::Capacity);
        let trace_service = r.work.service;
        let s = &mut self.sessions.items[sid as usize];
        if s.writes_binding {
            match how {
                Acquired::StickyHit if !openai => {}
                Acquired::StickyHit => s.binding = Some((account, now.saturating_add(ttl))),
                _ if kept => {}
                _ => s.binding = Some((account, now.saturating_add(ttl))),
            }
        }
        if fails.is_some() {
            let t = self.time_to_error(sid);
            self.queue.push(
                now.saturating_add(t),
                Ev::Complete {
                    req: rid,
                    session: sid,
                },
            );
            return;
        }
        match s.first_account {
            None => s.first_account = Some(account),
            Some(f) if f != account => s.intact = false,
            Some(_) => {}
        }
        // A request was served: the client's retries start afresh.
        s.retries_left = self.hot.client_retries;
        let service = service_time(trace_service, self.hot.service_time, &mut s.rng);
        if self.guards() {
            self.window_on_acquire(account);
        }
        self.record_acquire(rid);
        self.queue.push(
            now.saturating_add(service),
            Ev::Complete {
                req: rid,
                session: sid,
            },
        );
    }

    /// A request releases its slot of `account`.
    pub(super) fn release_account_slot(&mut self, account: u32) {
        let now = self.now;
        self.with_account(account, |a| {
            a.busy -= 1;
            a.last_used = Some(now);
        });
        self.busy_down();
    }
}

/// Which selection layers may use an account for a request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Usable {
    /// Every layer.
    Any,
    /// Only the sticky layer, for a request bound to it (RPM sticky-only band).
    StickyOnly,
    /// None, and why: `Fault` (cooling down, in error, paused by its usage window, or
    /// failed for this request) or `Limit` (RPM above the sticky-only band).
    No(Cause),
}

/// THE schedulability decision: whether account `a` (index `index`, of pool `pool`) may
/// take a request whose failed set is `failed`, at `now`. A function of the account's
/// state and the clock only (plus the request's failed set), so that an index over
/// accounts can keep it. The session limit is not part of it: it depends on the session
/// and is asked only where sub2api asks it.
pub(super) fn schedulable(
    a: &Account,
    pool: &PoolConfig,
    now: Time,
    failed: &[u32],
    index: u32,
) -> Usable {
    if a.error || now < a.down_until || failed.contains(&index) {
        return Usable::No(Cause::Fault);
    }
    if pool.base_rpm == 0 {
        return Usable::Any;
    }
    match rpm_zone(a, pool, now) {
        RpmZone::Green => Usable::Any,
        RpmZone::Yellow => Usable::StickyOnly,
        RpmZone::Red => Usable::No(Cause::Limit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_support::{arrive, gateway, model, set};
    use crate::scenario::ModelConfig;

    /// EffectiveConcurrency over the edge cases of docs/model.md section 1.
    #[test]
    fn effective_concurrency_table() {
        // (C, R, is_bound, expected)
        let table: &[(u32, i64, bool, u32)] = &[
            (5, -3, false, 5), // R < 0 behaves as 0
            (5, -3, true, 5),
            (5, 0, false, 5), // R = 0: no reservation
            (5, 0, true, 5),
            (5, 2, false, 3), // 0 < R < C
            (5, 2, true, 5),
            (5, 5, false, 0), // R = C: new sessions never land
            (5, 5, true, 5),
            (5, 9, false, 0), // R > C
            (5, 9, true, 5),
            (1, 1, false, 0),
            (1, 0, false, 1),
        ];
        for &(c, r, bound, want) in table {
            assert_eq!(
                effective_concurrency(c, r, bound),
                want,
                "C={c} R={r} bound={bound}"
            );
        }
    }

    /// A session every 10 s, one request of 25 s each, two pools of one 2-slot account.
    fn two_pools(backup_reserved: i64) -> ModelConfig {
        model(&format!(
            r#"
            horizon = 35
            replications = 1
            [gateway]
            sticky_max_waiting = 0
            fallback_max_waiting = 0
            [[pools]]
            name = "primary"
            accounts = 1
            concurrency = 2
            priority = 10
            [[pools]]
            name = "backup"
            accounts = 1
            concurrency = 2
            priority = 50
            reserved = {backup_reserved}
            [workload]
            arrival = {{ process = "periodic", rate = "6/min" }}
            requests_per_session = {{ dist = "constant", value = 1 }}
            service_time = {{ dist = "constant", value = "25s" }}
            "#
        ))
    }

    /// The lower priority number wins while it has room (t=10, 20); the third session
    /// (t=30) finds it full and goes to the backup pool.
    #[test]
    fn priority_pools_fill_in_order() {
        let cfg = two_pools(0);
        let mut sim = Sim::new(&cfg, 1, false);
        sim.run();
        assert_eq!(
            sim.accounts[0].last_used,
            Some(45_000_000),
            "primary served t=10 and t=20 (to 35, 45)"
        );
        assert_eq!(
            sim.accounts[1].last_used,
            Some(55_000_000),
            "backup served t=30 (to 55)"
        );
        assert_eq!(sim.counts.requests_completed, 3);
    }

    /// A backup pool whose reserve is its whole concurrency takes no new session: the third
    /// session is turned away (503) rather than sent there, even through the fallback queue.
    #[test]
    fn reserved_at_concurrency_skips_the_account_entirely() {
        let cfg = two_pools(2);
        let mut sim = Sim::new(&cfg, 1, false);
        sim.run();
        assert_eq!(sim.accounts[1].last_used, None);
        assert_eq!(
            (sim.counts.sessions_rejected, sim.counts.rejected_no_account),
            (1, 0)
        );
        assert_eq!(
            sim.counts.rejected_queue_full, 1,
            "fallback waits on the full primary, which admits no waiter"
        );
    }

    /// Least recently used first, never used before all: sessions every 5 s, 3 s of
    /// service, two one-slot accounts. S0 (5) takes X (random tie), S1 (10) takes the never
    /// used Y, S2 (15) takes X (released at 8, before Y at 13).
    #[test]
    fn load_aware_prefers_never_used_then_least_recently_used() {
        let cfg = model(
            r#"
            horizon = 16
            replications = 1
            [[pools]]
            accounts = 2
            concurrency = 1
            [workload]
            arrival = { process = "periodic", rate = "12/min" }
            requests_per_session = { dist = "constant", value = 1 }
            service_time = { dist = "constant", value = "3s" }
            "#,
        );
        let mut sim = Sim::new(&cfg, 1, false);
        sim.run();
        let mut last: Vec<Option<Time>> = sim.accounts.iter().map(|a| a.last_used).collect();
        last.sort();
        assert_eq!(last, vec![Some(13_000_000), Some(18_000_000)]);
    }

    /// Exact ties (never-used accounts) are broken uniformly at random: over 2000
    /// replications of a single request on four idle accounts, each account is chosen
    /// about a quarter of the time (binomial sd about 19; the bound is 5 sd).
    #[test]
    fn ties_are_broken_uniformly() {
        let cfg = model(
            r#"
            horizon = 11
            replications = 1
            [[pools]]
            accounts = 4
            concurrency = 1
            [workload]
            arrival = { process = "periodic", rate = "6/min" }
            requests_per_session = { dist = "constant", value = 1 }
            service_time = { dist = "constant", value = "1s" }
            "#,
        );
        let mut chosen = [0u32; 4];
        for seed in 0..2000 {
            let mut sim = Sim::new(&cfg, seed, false);
            sim.run();
            let i = sim
                .accounts
                .iter()
                .position(|a| a.last_used.is_some())
                .expect("one was used");
            chosen[i] += 1;
        }
        for n in chosen {
            assert!((n as f64 - 500.0).abs() < 5.0 * 19.4, "{chosen:?}");
        }
    }

    // Selection and waiting rules on hand-set account states: a request is issued into a
    // gateway whose accounts were given busy and waiting counts directly.

    /// The load rate counts waiters: an account with one busy slot and one waiter of two
    /// is at 100% and skipped, although it was never used and would otherwise win.
    #[test]
    fn load_rate_counts_waiters() {
        let cfg = gateway(2, 2, 0);
        let mut sim = Sim::new(&cfg, 1, false);
        set(&mut sim, 0, 1, 1, None);
        set(&mut sim, 1, 1, 0, Some(5));
        arrive(&mut sim, None);
        assert_eq!((sim.accounts[0].busy, sim.accounts[1].busy), (1, 2));
    }

    /// An account at exactly 100% load is not eligible in the load-aware layer.
    #[test]
    fn full_account_is_not_eligible() {
        let cfg = gateway(2, 2, 0);
        let mut sim = Sim::new(&cfg, 1, false);
        set(&mut sim, 0, 2, 0, None);
        set(&mut sim, 1, 0, 0, Some(5));
        arrive(&mut sim, None);
        assert_eq!((sim.accounts[0].busy, sim.accounts[1].busy), (2, 1));
    }

    /// One account (3 slots, 1 reserved: 2 for new sessions), no queue: a new session's
    /// request is placed exactly while busy + waiting < 2, the load rate under 100% (the
    /// direct path for a single account decides as the scan over accounts would).
    #[test]
    fn one_account_takes_new_sessions_under_full_load() {
        let cfg = model(
            r#"
            horizon = 1000
            replications = 1
            [gateway]
            fallback_max_waiting = 0
            [[pools]]
            accounts = 1
            concurrency = 3
            reserved = 1
            [workload]
            arrival = { process = "periodic", rate = "1/h" }
            requests_per_session = { dist = "constant", value = 1 }
            service_time = { dist = "constant", value = "10s" }
            "#,
        );
        for busy in 0..=3 {
            for waiting in 0..=2 {
                let mut sim = Sim::new(&cfg, 1, false);
                set(&mut sim, 0, busy, waiting, None);
                let by_scan = load_aware_key(&sim.accounts[0]).is_some();
                arrive(&mut sim, None);
                let served = sim.accounts[0].busy == busy + 1;
                assert_eq!(served, busy + waiting < 2, "busy {busy} waiting {waiting}");
                assert_eq!(served, by_scan, "busy {busy} waiting {waiting}");
            }
        }
    }

    /// A sticky request takes a free slot of its account even when others are waiting
    /// for it (waiters are not ahead of direct requests).
    #[test]
    fn sticky_hit_barges_ahead_of_waiters() {
        let cfg = gateway(1, 3, 1);
        let mut sim = Sim::new(&cfg, 1, false);
        set(&mut sim, 0, 2, 2, None);
        let rid = arrive(&mut sim, Some(0));
        assert!(sim.requests.items[rid as usize].phase == Phase::Serving);
        assert_eq!(sim.accounts[0].busy, 3);
    }

    /// Two one-slot accounts, FIFO waiting, with extra gateway settings.
    fn variant(gateway: &str) -> ModelConfig {
        model(&format!(
            r#"
            horizon = 1000
            replications = 1
            [gateway]
            wait = "fifo"
            {gateway}
            [[pools]]
            accounts = 2
            concurrency = 1
            [workload]
            arrival = {{ process = "periodic", rate = "1/h" }}
            requests_per_session = {{ dist = "constant", value = 1 }}
            service_time = {{ dist = "constant", value = "10s" }}
            "#
        ))
    }

    /// The binding of the session of request `rid`.
    fn binding(sim: &Sim, rid: u32) -> Option<(u32, Time)> {
        let sid = sim.requests.items[rid as usize].session;
        sim.sessions.items[sid as usize].binding
    }

    /// spillover_rebinds: a bound request whose account is full with a full queue is
    /// served on the other account (cause capacity). By default the placement rewrites
    /// the binding; with false the old binding (account 0, its old expiry) stays.
    #[test]
    fn spillover_rebinds_false_keeps_the_binding() {
        for (setting, want) in [
            ("", Some((1, 100_000_000 + 3_600_000_000))),
            ("spillover_rebinds = false", Some((0, Time::MAX))),
        ] {
            let cfg = variant(setting);
            let mut sim = Sim::new(&cfg, 1, false);
            set(&mut sim, 0, 1, 3, None);
            let rid = arrive(&mut sim, Some(0));
            let r = &sim.requests.items[rid as usize];
            assert!(r.phase == Phase::Serving && r.account == 1, "{setting}");
            assert_eq!(r.cause, Some(Cause::Capacity));
            assert_eq!(binding(&sim, rid), want, "{setting}");
        }
    }

    /// sticky_wait: a bound request whose account is full but whose queue has room waits
    /// there by default; with false it goes straight on to the other account, keeping its
    /// binding.
    #[test]
    fn sticky_wait_false_goes_on_and_keeps_the_binding() {
        let cfg = variant("");
        let mut sim = Sim::new(&cfg, 1, false);
        set(&mut sim, 0, 1, 0, None);
        let rid = arrive(&mut sim, Some(0));
        let r = &sim.requests.items[rid as usize];
        assert!(r.phase == Phase::AccountWait && r.account == 0);

        let cfg = variant("sticky_wait = false");
        let mut sim = Sim::new(&cfg, 1, false);
        set(&mut sim, 0, 1, 0, None);
        let rid = arrive(&mut sim, Some(0));
        let r = &sim.requests.items[rid as usize];
        assert!(r.phase == Phase::Serving && r.account == 1);
        assert_eq!(r.cause, Some(Cause::Capacity));
        assert_eq!(binding(&sim, rid), Some((0, Time::MAX)));
        assert_eq!(sim.accounts[0].waiting, 0);
    }

    /// The one schedulability decision over hand-set account states: cooling down, in
    /// error or failed for the request is a fault; RPM above the band a limit; within the
    /// band sticky-only; otherwise any layer.
    #[test]
    fn schedulable_by_account_state() {
        let cfg = model(
            r#"
            horizon = 1000
            replications = 1
            [[pools]]
            accounts = 1
            concurrency = 1
            base_rpm = 2
            rpm_sticky_buffer = 1
            [workload]
            arrival = { process = "periodic", rate = "1/h" }
            requests_per_session = { dist = "constant", value = 1 }
            service_time = { dist = "constant", value = "10s" }
            "#,
        );
        let pool = &cfg.pools[0];
        let now = 130_000_000; // minute 2
        let fresh = || {
            let mut a = Sim::new(&cfg, 1, false).accounts.remove(0);
            a.rpm_minute = 2;
            a
        };
        let a = fresh();
        assert_eq!(schedulable(&a, pool, now, &[], 0), Usable::Any);
        assert_eq!(
            schedulable(&a, pool, now, &[0], 0),
            Usable::No(Cause::Fault)
        );
        let mut a = fresh();
        a.down_until = now + 1;
        assert_eq!(schedulable(&a, pool, now, &[], 0), Usable::No(Cause::Fault));
        a.down_until = now;
        assert_eq!(schedulable(&a, pool, now, &[], 0), Usable::Any);
        a.error = true;
        assert_eq!(schedulable(&a, pool, now, &[], 0), Usable::No(Cause::Fault));
        for (count, want) in [
            (1, Usable::Any),
            (2, Usable::StickyOnly),
            (3, Usable::No(Cause::Limit)),
        ] {
            let mut a = fresh();
            a.rpm_count = count;
            assert_eq!(schedulable(&a, pool, now, &[], 0), want, "{count}");
            // A count from an earlier minute does not count.
            a.rpm_minute = 1;
            assert_eq!(schedulable(&a, pool, now, &[], 0), Usable::Any);
        }
    }
}
