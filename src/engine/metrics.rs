//! What one replication measures: raw counts and integrals (docs/model.md section 5).
//! Rates and summaries are derived from these in [`crate::stats`].

use crate::units::Time;
use hdrhistogram::Histogram;

/// Raw counts of one replication, over requests (and sessions) arriving in
/// [warm-up, horizon), each with its final outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub sessions_arrived: u64,
    /// Sessions abandoned before any of their requests was served.
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
}

/// One simulated minute of the first replication, for plots.
#[derive(Debug, Clone, Default, PartialEq)]
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
}
