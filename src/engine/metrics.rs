//! What one replication measures: raw counts and integrals (docs/model.md section 5).
//! Rates and summaries are derived from these in [`crate::stats`].

use super::{Cause, Reject, Sim, MINUTE};
use crate::units::Time;
use hdrhistogram::Histogram;

/// Raw counts of one replication, over requests (and sessions) arriving in
/// [warm-up, horizon), each with its final outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    pub sessions_arrived: u64,
    /// Sessions whose first request was rejected for good (after any retries of it).
    pub sessions_rejected: u64,
    /// Sessions that ended (last request completed, or abandoned after a rejection).
    pub sessions_finished: u64,
    /// Finished sessions with every request on one account and no rejection.
    pub sessions_intact: u64,
    /// Sessions that ended because a request was rejected (retries exhausted).
    pub sessions_abandoned: u64,
    /// Request attempts (retries count as attempts).
    pub requests_arrived: u64,
    pub requests_completed: u64,
    pub requests_rejected: u64,
    /// Attempts whose session had a live binding on arrival.
    pub bound_requests: u64,
    /// Bound attempts served on another account than the one bound at arrival.
    pub migrations: u64,
    /// Bound attempts rejected.
    pub bound_rejections: u64,
    /// Attempts whose session's binding had expired on arrival.
    pub expired_rebinds: u64,
    /// Rejections by cause: a full account wait queue (429).
    pub rejected_queue_full: u64,
    /// A slot wait that timed out (429).
    pub rejected_wait_timeout: u64,
    /// No account with new-session capacity (503).
    pub rejected_no_account: u64,
    /// The user gate: too many waiters or a user-slot wait timeout (429).
    pub rejected_user_limit: u64,
    /// Failover exhausted: no account left after a failed attempt, or
    /// max_account_switches used up (429).
    pub rejected_failover: u64,
    /// Upstream faults by kind: failed attempts of measured requests (drawn, or a used-up
    /// usage window for rate_limit) and per-account-hour events in [warm-up, horizon).
    pub faults_rate_limit: u64,
    pub faults_overload: u64,
    pub faults_auth_error: u64,
    /// Migrations by cause: the bound account was full (what a reserve can prevent) ...
    pub migrations_capacity: u64,
    /// ... unschedulable or failed for the request ...
    pub migrations_fault: u64,
    /// ... or refused by a session or RPM limit.
    pub migrations_limit: u64,
    /// Completed requests served on an account with no warm copy of their session's
    /// prompt cache while a copy was warm elsewhere (the context is written again).
    pub cache_moves: u64,
    /// The context tokens those requests wrote again.
    pub cache_move_tokens: u64,
}

/// One simulated minute of the first replication, for plots.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MinuteBin {
    /// Integral of busy slots over the minute, slot-microseconds.
    pub busy_us: u128,
    /// Integral of account waiters over the minute, request-microseconds.
    pub waiting_us: u128,
    pub requests_completed: u64,
    pub new_session_rejections: u64,
    pub migrations: u64,
    pub bound_rejections: u64,
}

/// Everything one replication produces.
#[derive(Debug, Clone)]
pub struct RepOutput {
    pub counts: Counts,
    /// Integral of busy slots over [warm-up, horizon], slot-microseconds.
    pub busy_slot_us: u128,
    /// Integral of account waiters over [warm-up, horizon], request-microseconds.
    pub waiting_us: u128,
    /// Sum of C over all accounts.
    pub total_slots: u64,
    /// horizon - warm-up.
    pub measured: Time,
    /// Slot wait (arrival to slot acquisition) of served measured requests, microseconds.
    pub wait_hist: Histogram<u64>,
    /// Exact sum of those waits, microseconds (for the mean).
    pub wait_sum_us: u128,
    pub events: u64,
    /// Per simulated minute over [0, horizon), when requested.
    pub timeseries: Option<Vec<MinuteBin>>,
    /// USD per token of a cache move (from the `[cost]` table).
    pub usd_per_token: f64,
    /// A replayed trace could not be read to the end (it changed after it was checked).
    pub trace_error: Option<String>,
}

impl<const PLAIN: bool> Sim<'_, PLAIN> {
    /// Accumulates busy and waiting integrals up to `t`, the time of the event about to be
    /// handled (before it changes anything).
    ///
    /// Most events fall inside the current steady stretch (from the event that started
    /// it to the end of its minute with a time series, or to the horizon, inside
    /// [warm-up, horizon)), and for them nothing is done here: the stretch's integrals are
    /// worked out once, when it ends, from the counts at its start and end and from the
    /// sum of the times of the changes in it (see `flush_steady`). The same whole numbers
    /// as summing count x interval at every event, without the work at every event.
    #[inline]
    pub(super) fn integrate_to(&mut self, t: Time) {
        if t < self.steady_end {
            return;
        }
        self.integrate_slow(t);
    }

    /// One more busy slot, now. Every change of `busy_total` goes through here or
    /// [`Sim::busy_down`], so that the stretch's integral can be worked out at its end.
    #[inline]
    pub(super) fn busy_up(&mut self) {
        self.busy_total += 1;
        self.busy_moments = self.busy_moments.wrapping_add(self.now as u128);
    }

    /// One busy slot fewer, now.
    #[inline]
    pub(super) fn busy_down(&mut self) {
        self.busy_total -= 1;
        self.busy_moments = self.busy_moments.wrapping_sub(self.now as u128);
    }

    /// One more account waiter, now (as [`Sim::busy_up`] for waiters).
    #[inline]
    pub(super) fn waiting_up(&mut self) {
        self.waiting_total += 1;
        self.waiting_moments = self.waiting_moments.wrapping_add(self.now as u128);
    }

    /// One account waiter fewer, now.
    #[inline]
    pub(super) fn waiting_down(&mut self) {
        self.waiting_total -= 1;
        self.waiting_moments = self.waiting_moments.wrapping_sub(self.now as u128);
    }

    /// Ends the current steady stretch at `x` (at or after its last change): adds its
    /// integrals to the totals and to its minute's bin (it lies in [warm-up, horizon) and,
    /// with a time series, in one minute).
    ///
    /// A count n(t) that starts the stretch (at time s) at n0 and changes by d_k at times
    /// t_k has, by parts, the integral n(x) x - n0 s - sum of d_k t_k over [s, x]; the
    /// moments hold that sum (wrapping, as the result is a whole number that fits).
    pub(super) fn flush_steady(&mut self, x: Time) {
        let s = self.steady_start as u128;
        let by_parts = |now: u64, start: u64, moments: u128| {
            (now as u128 * x as u128)
                .wrapping_sub(start as u128 * s)
                .wrapping_sub(moments)
        };
        let busy = by_parts(self.busy_total, self.steady_busy_start, self.busy_moments);
        let waiting = by_parts(
            self.waiting_total,
            self.steady_waiting_start,
            self.waiting_moments,
        );
        self.busy_slot_us += busy;
        self.waiting_us += waiting;
        if let Some(bins) = &mut self.timeseries {
            let bin = &mut bins[self.steady_minute];
            bin.busy_us += busy;
            bin.waiting_us += waiting;
        }
    }

    /// [`Sim::integrate_to`] at the end of a steady stretch (a minute boundary or the
    /// horizon) or outside one (before the warm-up's end, after the horizon); then sets
    /// the bounds of the next stretch.
    #[inline(never)]
    fn integrate_slow(&mut self, t: Time) {
        let closed = self.steady_end > 0;
        let from = if closed {
            // The stretch ran to its end: closed there, the rest integrated below.
            let end = self.steady_end;
            self.flush_steady(end);
            end
        } else {
            self.last_integrated
        };
        if t <= from && !closed {
            return;
        }
        self.last_integrated = t;
        let (warmup, horizon) = (self.hot.warmup, self.hot.horizon);
        let lo = from.max(warmup);
        let hi = t.min(horizon);
        if hi > lo {
            let dt = (hi - lo) as u128;
            self.busy_slot_us += self.busy_total as u128 * dt;
            if self.waiting_total > 0 {
                self.waiting_us += self.waiting_total as u128 * dt;
            }
        }
        if let Some(bins) = &mut self.timeseries {
            let end = t.min(horizon);
            let mut a = from;
            while a < end {
                let m = (a / MINUTE) as usize;
                let b = end.min((m as Time + 1) * MINUTE);
                let dt = (b - a) as u128;
                bins[m].busy_us += self.busy_total as u128 * dt;
                bins[m].waiting_us += self.waiting_total as u128 * dt;
                a = b;
            }
        }
        self.set_steady_bounds(t);
    }

    /// The bounds of the fast path for integrations starting at `from`: up to the end of
    /// `from`'s minute (with a time series) and the horizon, and only once the warm-up is
    /// over (0: no fast path).
    pub(super) fn set_steady_bounds(&mut self, from: Time) {
        let (warmup, horizon) = (self.hot.warmup, self.hot.horizon);
        let minute = from / MINUTE;
        self.steady_minute = minute as usize;
        self.steady_start = from;
        self.steady_busy_start = self.busy_total;
        self.steady_waiting_start = self.waiting_total;
        self.busy_moments = 0;
        self.waiting_moments = 0;
        self.steady_end = if from < warmup || from >= horizon {
            0
        } else if self.timeseries.is_some() {
            horizon.min((minute + 1).saturating_mul(MINUTE))
        } else {
            horizon
        };
    }

    /// The current minute's bin, when a time series is recorded. Events are measured
    /// after `integrate_to` their time, which leaves the minute of the current steady
    /// stretch, or of the event itself outside one, in `steady_minute`: the minute of
    /// `now` with a time series, read here without a division at every completion.
    fn bin(&mut self) -> Option<&mut MinuteBin> {
        let bins = self.timeseries.as_mut()?;
        debug_assert_eq!(
            self.steady_minute as Time,
            self.now / MINUTE,
            "measured at the time integrated to"
        );
        bins.get_mut(self.steady_minute)
    }

    /// A measured request (attempt) arrived, bound or not, its binding expired or not.
    pub(super) fn record_arrival(&mut self, bound: bool, expired: bool) {
        self.counts.requests_arrived += 1;
        self.counts.bound_requests += bound as u64;
        self.counts.expired_rebinds += expired as u64;
    }

    /// A request just took a slot on its account: its wait and whether it migrated.
    pub(super) fn record_acquire(&mut self, rid: u32) {
        let now = self.now;
        let r = &self.requests.items[rid as usize];
        let (measured, bound, arrival, account, cause) =
            (r.measured, r.bound, r.attempt_start, r.account, r.cause);
        let migrated = bound.is_some_and(|b| b != account);
        if migrated && now < self.hot.horizon {
            if let Some(bin) = self.bin() {
                bin.migrations += 1;
            }
        }
        if measured {
            if migrated {
                let c = &mut self.counts;
                c.migrations += 1;
                match cause {
                    Some(Cause::Fault) => c.migrations_fault += 1,
                    Some(Cause::Limit) => c.migrations_limit += 1,
                    Some(Cause::Capacity) | None => c.migrations_capacity += 1,
                }
            }
            let wait = now - arrival;
            if wait == 0 {
                // Most requests do not wait: counted here, added to the histogram at once
                // at the end (the same histogram as recording each one).
                self.zero_waits += 1;
            } else {
                // The histogram grows as needed (auto-resize); saturate only past its u64
                // range.
                if self.wait_hist.record(wait).is_err() {
                    self.wait_hist.saturating_record(wait);
                }
                self.wait_sum_us += wait as u128;
            }
        }
    }

    /// A request completed.
    pub(super) fn record_completion(&mut self, rid: u32) {
        let moved = if self.hot.cache_moves {
            self.cache_on_completion(rid)
        } else {
            None
        };
        if self.requests.items[rid as usize].measured {
            self.counts.requests_completed += 1;
            if let Some(tokens) = moved {
                self.counts.cache_moves += 1;
                self.counts.cache_move_tokens += tokens;
            }
        }
        if self.now < self.hot.horizon {
            if let Some(bin) = self.bin() {
                bin.requests_completed += 1;
            }
        }
    }

    /// A request is about to be rejected for `why`.
    pub(super) fn record_rejection(&mut self, rid: u32, why: Reject) {
        let r = &self.requests.items[rid as usize];
        let (measured, bound) = (r.measured, r.bound);
        if measured {
            let c = &mut self.counts;
            c.requests_rejected += 1;
            c.bound_rejections += bound.is_some() as u64;
            match why {
                Reject::QueueFull => c.rejected_queue_full += 1,
                Reject::WaitTimeout => c.rejected_wait_timeout += 1,
                Reject::NoAccount => c.rejected_no_account += 1,
                Reject::UserLimit => c.rejected_user_limit += 1,
                Reject::Failover => c.rejected_failover += 1,
            }
        }
        if self.now < self.hot.horizon {
            if let Some(bin) = self.bin() {
                bin.bound_rejections += bound.is_some() as u64;
            }
        }
    }

    /// A session's first request was rejected for good (no retry of it left): a rejected
    /// session, counted when the session is in the measured cohort (`counted`), and a
    /// new-session rejection in the current minute's series.
    pub(super) fn record_session_rejected(&mut self, counted: bool) {
        self.counts.sessions_rejected += counted as u64;
        if self.now < self.hot.horizon {
            if let Some(bin) = self.bin() {
                bin.new_session_rejections += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::test_support::model;
    use crate::engine::Sim;

    /// Busy-slot integrals by hand: a request every 11 s (from t = 11 s), each served
    /// for 7 s on the one slot, warm-up 15 s, horizon 100 s. Over [15 s, 100 s): 3 s of
    /// the first request, 7 s of each of the next seven, 1 s of the last (99 s to the
    /// horizon) = 53 s. Per minute over [0, 100 s): 7 x 4 + 5 (the request crossing into
    /// minute 1) = 33 s, then 2 + 7 x 3 + 1 = 24 s.
    #[test]
    fn busy_integrals_by_hand() {
        let cfg = model(
            r#"
            horizon = 100
            warmup = 15
            replications = 1
            [[pools]]
            accounts = 1
            concurrency = 1
            [workload]
            arrival = { process = "periodic", rate = 0.09090909090909091 }
            requests_per_session = { dist = "constant", value = 1 }
            service_time = { dist = "constant", value = "7s" }
            "#,
        );
        let mut sim = Sim::new(&cfg, 1, true);
        sim.run();
        let out = sim.into_output();
        assert_eq!(out.busy_slot_us, 53_000_000);
        assert_eq!(out.waiting_us, 0);
        let bins = out.timeseries.expect("recorded");
        let busy: Vec<u128> = bins.iter().map(|b| b.busy_us).collect();
        assert_eq!(busy, vec![33_000_000, 24_000_000]);
    }
}
