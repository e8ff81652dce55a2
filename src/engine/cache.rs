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
use crate::units::Time;

/// A short list kept inline while it has at most `N` items, on the heap beyond: a session
/// is almost always warm on one or two accounts, and the hot loop should not allocate for
/// it at every request.
#[derive(Debug, Clone)]
pub(super) enum Few<T: Copy + Default, const N: usize> {
    Inline { len: u8, items: [T; N] },
    Heap(Vec<T>),
}

impl<T: Copy + Default, const N: usize> Default for Few<T, N> {
    fn default() -> Self {
        Few::Inline {
            len: 0,
            items: [T::default(); N],
        }
    }
}

impl<T: Copy + Default, const N: usize> Few<T, N> {
    pub(super) fn as_slice(&self) -> &[T] {
        match self {
            Few::Inline { len, items } => &items[..*len as usize],
            Few::Heap(v) => v,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [T] {
        match self {
            Few::Inline { len, items } => &mut items[..*len as usize],
            Few::Heap(v) => v,
        }
    }

    fn push(&mut self, x: T) {
        match self {
            Few::Inline { len, items } if (*len as usize) < N => {
                items[*len as usize] = x;
                *len += 1;
            }
            Few::Inline { len, items } => {
                let mut v = Vec::with_capacity(2 * N);
                v.extend_from_slice(&items[..*len as usize]);
                v.push(x);
                *self = Few::Heap(v);
            }
            Few::Heap(v) => v.push(x),
        }
    }

    /// Empties the list in place, inline again: a list that once spilled to the heap
    /// (a session warm on more than `N` accounts) would otherwise leave every later
    /// session reusing its slab slot reading the heap, a cache miss at every completion.
    pub(super) fn clear(&mut self) {
        *self = Few::default();
    }

    /// Keeps the items `keep` says yes to, in their order.
    fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        match self {
            Few::Inline { len, items } => {
                let mut kept = 0;
                for i in 0..*len as usize {
                    if keep(&items[i]) {
                        items[kept] = items[i];
                        kept += 1;
                    }
                }
                *len = kept as u8;
            }
            Few::Heap(v) => v.retain(keep),
        }
    }
}

/// The accounts holding a warm copy of a session's cache when one of its requests arrived.
pub(super) type WarmCopies = Few<u32, 4>;

/// Per session: the last completion and the accounts with a copy, each with the time of
/// the session's last completion there (entries older than the TTL are dropped).
#[derive(Debug, Clone, Default)]
pub(super) struct SessionCache {
    last_complete: Option<Time>,
    copies: Few<(u32, Time), 2>,
}

impl SessionCache {
    /// Forgets every copy and the last completion, as a new session's cache, in place.
    pub(super) fn clear(&mut self) {
        self.last_complete = None;
        self.copies.clear();
    }

    /// The previous request completed less than `ttl` before `now`.
    pub(super) fn warm_somewhere(&self, now: Time, ttl: Time) -> bool {
        self.last_complete
            .is_some_and(|c| now.saturating_sub(c) < ttl)
    }

    /// The accounts with a copy written less than `ttl` before `now` (all copies are
    /// written at or before `now`: this is called when a request arrives).
    /// (Inlined: returned through memory, an empty list would be read back whole at once
    /// after being written in pieces, a stall at every request; see `EventQueue::push`.)
    #[inline]
    pub(super) fn warm_accounts(&self, now: Time, ttl: Time) -> WarmCopies {
        let mut warm = WarmCopies::default();
        for &(a, t) in self.copies.as_slice() {
            if now.saturating_sub(t) < ttl {
                warm.push(a);
            }
        }
        warm
    }

    /// Whether `account` held a copy written less than `ttl` before `at` (one of
    /// `warm_accounts(at, ttl)`), on the copies as they are now.
    pub(super) fn warm_on(&self, account: u32, at: Time, ttl: Time) -> bool {
        self.copies
            .as_slice()
            .iter()
            .any(|&(a, t)| a == account && at.saturating_sub(t) < ttl)
    }

    /// A request of the session completed on `account` at `now`.
    #[inline(always)] // the refresh in place is a few instructions at every completion
    fn completed(&mut self, account: u32, now: Time, ttl: Time) {
        match self.copies.as_mut_slice() {
            // Most completions are on the one account holding the session's only copy:
            // refreshed in place, as dropping it and adding it again would leave it.
            [(a, t)] if *a == account => *t = now,
            // The session's first completion: nothing to drop.
            [] => self.copies.push((account, now)),
            _ => {
                self.copies.retain(|&(a, t)| a != account && now - t < ttl);
                self.copies.push((account, now));
            }
        }
        self.last_complete = Some(self.last_complete.map_or(now, |c| c.max(now)));
    }
}

impl<const PLAIN: bool> Sim<'_, PLAIN> {
    /// Request `rid` completed now: updates its session's cache and returns the context
    /// tokens it re-wrote when it was a cache move.
    pub(super) fn cache_on_completion(&mut self, rid: u32) -> Option<u64> {
        let ttl = self.hot.cache_ttl;
        let now = self.now;
        let growth = self.hot.context_growth;
        let r = &self.requests.items[rid as usize];
        let (account, work) = (r.account, &r.work);
        let s = &mut self.sessions.items[r.session as usize];
        let warm_here = if s.trace.is_some() {
            r.warm_copies.as_slice().contains(&account)
        } else {
            // The only request of its session in flight: no completion of the session
            // changed its copies since this request arrived.
            s.cache.warm_on(account, r.arrived, ttl)
        };
        let moved = work.warm_any && !warm_here;
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

    /// The inline list behaves as a Vec, past its inline capacity too.
    #[test]
    fn few_matches_a_vec() {
        let mut few = Few::<u32, 2>::default();
        let mut vec = Vec::new();
        for i in 0..7u32 {
            few.push(i);
            vec.push(i);
            assert_eq!(few.as_slice(), vec.as_slice());
            if i % 3 == 2 {
                few.retain(|&x| x % 2 == 0);
                vec.retain(|&x| x % 2 == 0);
                assert_eq!(few.as_slice(), vec.as_slice());
            }
        }
        let mut few = Few::<u32, 3>::default();
        for i in 0..3 {
            few.push(i);
        }
        few.retain(|&x| x != 1);
        assert_eq!(few.as_slice(), [0, 2]);
        assert!(
            matches!(few, Few::Inline { .. }),
            "within capacity stays inline"
        );
        // A list that spilled to the heap is inline again once cleared (a reused
        // session slot starts with its copies in the session's own memory).
        for i in 0..5 {
            few.push(i);
        }
        assert!(matches!(few, Few::Heap(_)), "past capacity spills");
        few.clear();
        assert!(few.as_slice().is_empty());
        assert!(matches!(few, Few::Inline { .. }), "cleared is inline");
    }

    #[test]
    fn warm_copies_by_hand() {
        let ttl = 100;
        let mut c = SessionCache::default();
        assert!(!c.warm_somewhere(0, ttl));
        c.completed(1, 10, ttl);
        assert!(c.warm_somewhere(109, ttl));
        assert!(!c.warm_somewhere(110, ttl), "exactly the TTL later is cold");
        assert_eq!(c.warm_accounts(109, ttl).as_slice(), [1]);
        assert_eq!(c.warm_accounts(50, ttl).as_slice(), [1]);
        c.completed(2, 60, ttl);
        // Account 1's copy (10) is still warm at 105; gone at 110.
        assert_eq!(c.warm_accounts(105, ttl).as_slice(), [1, 2]);
        assert_eq!(c.warm_accounts(110, ttl).as_slice(), [2]);
        for at in [60, 105, 109, 110, 159, 160] {
            for a in [1, 2, 3] {
                let listed = c.warm_accounts(at, ttl).as_slice().contains(&a);
                assert_eq!(c.warm_on(a, at, ttl), listed, "account {a} at {at}");
            }
        }
        c.completed(2, 200, ttl);
        assert_eq!(c.copies.as_slice(), [(2, 200)], "stale copies are dropped");
        assert!(
            c.warm_accounts(300, ttl).as_slice().is_empty(),
            "exactly the TTL later is cold"
        );
    }
}
