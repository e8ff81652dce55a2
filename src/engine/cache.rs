//! Prompt-cache moves (measurement): where each session's prompt cache is warm, and
//! whether a completed request re-wrote its whole context on a cold account.
//!
//! A session's cache is warm somewhere when its previous request completed less than
//! `cache_ttl` before this one arrived. Account X holds a warm copy when a request of
//! the session completed on X less than `cache_ttl` before this one arrived; a copy
//! written on X after it arrived (by a request of the same session that overlapped it,
//! as in trace replay) does not count, so the warm accounts are taken when the request
//! arrives. A completed request on X is a cache move when the session was warm
//! somewhere at its arrival and X held no warm copy then; returning to an account whose
//! copy is still warm is not a move. Its context counts the session's requests completed
//! before it arrived.

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

    /// The accounts with a copy written less than `ttl` before `now` (all copies are
    /// written at or before `now`: this is called when a request arrives).
    pub(super) fn warm_accounts(&self, now: Time, ttl: Time) -> Vec<u32> {
        self.copies
            .iter()
            .filter(|&&(_, t)| now.saturating_sub(t) < ttl)
            .map(|&(a, _)| a)
            .collect()
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
        let moved = work.warm_any && !r.warm_copies.contains(&account);
        let growth = match &self.cfg.workload {
            Workload::Sessions { context_growth, .. } | Workload::Trace { context_growth, .. } => {
                *context_growth
            }
            Workload::Open { .. } => 0.0,
        };
        let s = &mut self.sessions.items[r.session as usize];
        s.cache.completed(account, now, ttl);
        moved.then(|| {
            let tokens = work
                .input_tokens
                .unwrap_or(s.context_tokens + growth * work.completed_before as f64);
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
        assert_eq!(c.warm_accounts(109, ttl), vec![1]);
        assert_eq!(c.warm_accounts(50, ttl), vec![1]);
        c.completed(2, 60, ttl);
        // Account 1's copy (10) is still warm at 105; gone at 110.
        assert_eq!(c.warm_accounts(105, ttl), vec![1, 2]);
        assert_eq!(c.warm_accounts(110, ttl), vec![2]);
        c.completed(2, 200, ttl);
        assert_eq!(c.copies, vec![(2, 200)], "stale copies are dropped");
        assert!(
            c.warm_accounts(300, ttl).is_empty(),
            "exactly the TTL later is cold"
        );
    }
}
