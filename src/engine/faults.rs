//! Upstream faults and usage windows (docs/faults-and-limits.md): whether an attempt that
//! takes a slot fails, what a failure does to the account and to the request (failover),
//! the per-account-hour fault processes, and each account's usage window.

use super::streams::{stream, StreamKind};
use super::workload::exp_gap;
use super::{Ev, Failure, Phase, Reject, Sim};
use crate::scenario::{FaultKind, WaitMode};
use crate::units::{secs_to_time, Time};
use rand::Rng;

const HOUR: Time = 3_600_000_000;

impl<const PLAIN: bool> Sim<'_, PLAIN> {
    /// Whether the attempt taking a slot of `account` now fails, and how: a used-up usage
    /// window fails without a draw; otherwise one uniform draw from the session's gateway
    /// stream against the pool's cumulative per-request probabilities (rate_limit,
    /// overload, auth_error). Only called when some pool is guarded.
    // Inlined, so that its result is not returned through memory: `Sim::acquire` would read
    // it back whole at once, a stall in every model, guarded or not (see `EventQueue::push`).
    #[inline]
    pub(super) fn attempt_fails(&mut self, account: u32, sid: u32) -> Option<Failure> {
        let now = self.now;
        let a = &self.accounts[account as usize];
        let pool = a.pool as usize;
        if let Some(w) = &self.cfg.pools[pool].window {
            if now < a.window_end && a.window_count >= w.budget {
                return Some(Failure::WindowExhausted(a.window_end));
            }
        }
        let cdf = self.fault_cdf[pool];
        if cdf[2] > 0.0 {
            let u: f64 = self.sessions.items[sid as usize].choices.random();
            if let Some(k) = (0..3).find(|&k| u < cdf[k]) {
                return Some(Failure::Drawn(FaultKind::ALL[k]));
            }
        }
        None
    }

    /// An attempt that will not fail takes a slot: a closed usage window opens here.
    #[inline(never)] // guarded models only: kept out of the unguarded event path
    pub(super) fn window_on_acquire(&mut self, account: u32) {
        let now = self.now;
        let a = &mut self.accounts[account as usize];
        if let Some(w) = &self.cfg.pools[a.pool as usize].window {
            if now >= a.window_end {
                a.window_end = window_end(now, w.length, w.align_hour);
                a.window_count = 0;
            }
        }
    }

    /// A successful completion on `account`: the usage window counts it (opening one if
    /// none is open) and may pause the account; the RPM counter counts it.
    #[inline(never)] // guarded models only: kept out of the unguarded event path
    pub(super) fn count_completion(&mut self, account: u32) {
        let now = self.now;
        let a = &mut self.accounts[account as usize];
        let pool = &self.cfg.pools[a.pool as usize];
        if let Some(w) = &pool.window {
            if now >= a.window_end {
                a.window_end = window_end(now, w.length, w.align_hour);
                a.window_count = 1;
            } else {
                a.window_count += 1;
            }
            if w.pause_after.is_some_and(|n| a.window_count >= n) {
                a.down_until = a.down_until.max(a.window_end);
            }
        }
        if pool.base_rpm > 0 {
            let minute = now / super::MINUTE;
            if a.rpm_minute != minute {
                a.rpm_minute = minute;
                a.rpm_count = 0;
            }
            a.rpm_count += 1;
        }
    }

    /// The slot time of a failing attempt: `time_to_error`, drawn from the session's
    /// gateway stream when it is not constant.
    #[inline(never)] // guarded models only: kept out of the unguarded event path
    pub(super) fn time_to_error(&mut self, sid: u32) -> Time {
        let d = &self.cfg.gateway.time_to_error;
        secs_to_time(d.sample(&mut self.sessions.items[sid as usize].choices))
    }

    /// Marks `account` after a fault of `kind`: a cooldown until `until` (the later of the
    /// old and new end), or an error for the rest of the replication.
    fn mark(&mut self, account: u32, kind: FaultKind, until: Time) {
        let a = &mut self.accounts[account as usize];
        match kind {
            FaultKind::RateLimit => a.rate_limited_until = a.rate_limited_until.max(until),
            FaultKind::Overload => a.overloaded_until = a.overloaded_until.max(until),
            FaultKind::AuthError => a.error = true,
        }
        a.down_until = a.down_until.max(until);
    }

    fn cooldown(&self, kind: FaultKind) -> Time {
        match kind {
            FaultKind::RateLimit => self.cfg.gateway.rate_limit_cooldown,
            FaultKind::Overload => self.cfg.gateway.overload_cooldown,
            FaultKind::AuthError => 0,
        }
    }

    fn count_fault(&mut self, kind: FaultKind) {
        let c = &mut self.counts;
        match kind {
            FaultKind::RateLimit => c.faults_rate_limit += 1,
            FaultKind::Overload => c.faults_overload += 1,
            FaultKind::AuthError => c.faults_auth_error += 1,
        }
    }

    /// A failing attempt's slot time is over: the slot is released (busy time, no
    /// completion, `last_used` not stamped), the account marked, the account added to the
    /// request's failed set, and selection restarts now with the binding read at arrival,
    /// unless the request has used up its attempts.
    pub(super) fn attempt_failed(&mut self, rid: u32, failure: Failure) {
        let now = self.now;
        let r = &mut self.requests.items[rid as usize];
        let account = r.account;
        r.fails = None;
        r.phase = Phase::UserWait;
        r.failed.push(account);
        let (measured, attempts) = (r.measured, r.failed.len());
        let (kind, until) = match failure {
            Failure::Drawn(kind) => (kind, now.saturating_add(self.cooldown(kind))),
            Failure::WindowExhausted(end) => (FaultKind::RateLimit, end),
        };
        self.mark(account, kind, until);
        if measured {
            self.count_fault(kind);
        }
        self.with_account(account, |a| a.busy -= 1);
        self.busy_down();
        if self.cfg.gateway.wait == WaitMode::Fifo {
            self.fifo_handoff_account(account);
        }
        if attempts > self.cfg.gateway.max_account_switches as usize {
            return self.reject(rid, Reject::Failover);
        }
        let token = self.fresh_token();
        let r = &mut self.requests.items[rid as usize];
        r.token = token;
        r.attempt_start = now;
        self.dispatch(rid);
    }

    /// Starts one Poisson fault process per (account, kind) with a per-account-hour rate,
    /// each on its own stream.
    pub(super) fn start_account_faults(&mut self) {
        if !self
            .cfg
            .pools
            .iter()
            .any(|p| p.faults.per_account_hour.iter().any(|&r| r > 0.0))
        {
            return;
        }
        let n = self.accounts.len();
        self.fault_rngs = (0..n * 3).map(|_| None).collect();
        for account in 0..n {
            let pool = self.accounts[account].pool as usize;
            for kind in FaultKind::ALL {
                let rate = self.cfg.pools[pool].faults.per_account_hour[kind as usize];
                if rate > 0.0 {
                    let i = account * 3 + kind as usize;
                    self.fault_rngs[i] =
                        Some(stream(self.rep_seed, StreamKind::AccountFaults, i as u64));
                    self.next_account_fault(account as u32, kind);
                }
            }
        }
    }

    fn next_account_fault(&mut self, account: u32, kind: FaultKind) {
        let pool = self.accounts[account as usize].pool as usize;
        let rate_per_s = self.cfg.pools[pool].faults.per_account_hour[kind as usize] / 3600.0;
        let rng = self.fault_rngs[account as usize * 3 + kind as usize]
            .as_mut()
            .expect("the stream exists for every process started");
        let at = self.now.saturating_add(exp_gap(rng, rate_per_s));
        if at < self.cfg.horizon {
            self.queue.push(at, Ev::AccountFault { account, kind });
        }
    }

    /// A per-account-hour fault event: ignored (and not counted) when the account is
    /// already unschedulable for this kind or in error; requests holding a slot or waiting
    /// there are not affected.
    pub(super) fn account_fault(&mut self, account: u32, kind: FaultKind) {
        let now = self.now;
        let a = &self.accounts[account as usize];
        let ignored = a.error
            || match kind {
                FaultKind::RateLimit => now < a.rate_limited_until,
                FaultKind::Overload => now < a.overloaded_until,
                FaultKind::AuthError => false,
            };
        if !ignored {
            self.mark(account, kind, now.saturating_add(self.cooldown(kind)));
            if self.in_window(now) {
                self.count_fault(kind);
            }
        }
        self.next_account_fault(account, kind);
    }
}

/// The end of a usage window opened at `t`: `length` after `t`, or after the top of the
/// hour of `t` when aligned.
fn window_end(t: Time, length: Time, align_hour: bool) -> Time {
    let start = if align_hour { t - t % HOUR } else { t };
    start.saturating_add(length)
}
