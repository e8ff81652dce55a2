//! Prompt-cache moves (measurement): where each session's prompt cache is warm, and
//! whether a completed request re-wrote its whole context on a cold account.
//!
//! A session's cache is warm somewhere when its previous request completed less than
//! `cache_ttl` before this one arrived. Account X holds a warm copy when a request of
//! the session completed on X less than `cache_ttl` before this one arrived (a copy
//! written on X after it arrived, by a request of the same session that overlapped it,
//! counts as warm too). A completed request on X is a cache move when the session was
//! warm somewhere at its arrival and X held no warm copy; returning to an account whose
//! copy is still warm is not a move.

use super::Sim;
use crate::scenario::Workload;
use crate::units::Time;

/// Per session: the last completion and the accounts with a copy, each with the time of
/// the session's last completion there (entries older than the TTL are dropped).
#[derive(Debug, Clone, Default)]
pub(super) struct SessionCache {
    last_complete: Option<Time>,
    copies: Vec<(u32, Time)>,
}

impl SessionCache {
    /// The previous request completed less than `ttl` before `now`.
    pub(super) fn warm_somewhere(&self, now: Time, ttl: Time) -> bool {
        self.last_complete
            .is_some_and(|c| now.saturating_sub(c) < ttl)
    }

    /// Account `account` has a copy written less than `ttl` before `arrival`.
    fn warm_on(&self, account: u32, arrival: Time, ttl: Time) -> bool {
        self.copies
            .iter()
            .any(|&(a, t)| a == account && (t >= arrival || arrival - t < ttl))
    }

    /// A request of the session completed on `account` at `now`.
    fn completed(&mut self, account: u32, now: Time, ttl: Time) {
        self.copies.retain(|&(a, t)| a != account && now - t < ttl);
        self.copies.push((account, now));
        self.last_complete = Some(self.last_complete.map_or(now, |c| c.max(now)));
    }
}

impl Sim<'_> {
    /// Request `rid` completed now: updates its session's cache and returns the context
    /// tokens it re-wrote when it was a cache move.
    pub(super) fn cache_on_completion(&mut self, rid: u32) -> Option<u64> {
        let ttl = self.cfg.cost.cache_ttl;
        let now = self.now;
        let r = &self.requests.items[rid as usize];
        let (account, work) = (r.account, r.work);
        let arrival = work.arrival;
        let growth = match &self.cfg.workload {
            Workload::Sessions { context_growth, .. } | Workload::Trace { context_growth, .. } => {
                *context_growth
            }
            Workload::Open { .. } => 0.0,
        };
        let s = &mut self.sessions.items[r.session as usize];
        let moved = work.warm_any && !s.cache.warm_on(account, arrival, ttl);
        s.cache.completed(account, now, ttl);
        moved.then(|| {
            let tokens = work
                .input_tokens
                .unwrap_or(s.context_tokens + growth * s.completed as f64);
            tokens.round().clamp(0.0, 1e15) as u64
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_copies_by_hand() {
        let ttl = 100;
        let mut c = SessionCache::default();
        assert!(!c.warm_somewhere(0, ttl));
        c.completed(1, 10, ttl);
        assert!(c.warm_somewhere(109, ttl));
        assert!(!c.warm_somewhere(110, ttl), "exactly the TTL later is cold");
        assert!(c.warm_on(1, 109, ttl));
        assert!(!c.warm_on(2, 50, ttl));
        c.completed(2, 60, ttl);
        // Account 1's copy (10) is still warm at 105; gone at 110.
        assert!(c.warm_on(1, 105, ttl));
        assert!(!c.warm_on(1, 110, ttl));
        c.completed(2, 200, ttl);
        assert_eq!(c.copies, vec![(2, 200)], "stale copies are dropped");
        // A copy written after the request arrived counts as warm.
        assert!(c.warm_on(2, 150, ttl));
    }
}
