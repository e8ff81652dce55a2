//! Waiting for a slot: joining an account's or a user's wait, polls (or FIFO hand-off),
//! timeouts, and leaving a wait.

use super::{Acquired, Ev, Phase, Reject, Sim};
use crate::scenario::{PollConfig, WaitMode};
use crate::units::{secs_to_time, Time};
use rand::Rng;

/// sub2api's `nextBackoff`: the delay after a missed poll, from the previous (already
/// jittered) delay `prev_s` and a jitter factor drawn from [1 - jitter, 1 + jitter]:
/// clamp(min(multiplier x prev, max) x factor, initial, max).
pub(super) fn next_backoff(prev_s: f64, p: &PollConfig, factor: f64) -> f64 {
    ((prev_s * p.multiplier).min(p.max_s) * factor).clamp(p.initial_s, p.max_s)
}

impl<const PLAIN: bool> Sim<'_, PLAIN> {
    /// Joins the account's wait (429 when its waiter count is at the limit); the
    /// immediate first try already counts as a wait success.
    pub(super) fn join_wait(
        &mut self,
        rid: u32,
        account: u32,
        cap: u32,
        limit: u32,
        timeout: Time,
    ) {
        let a = &self.accounts[account as usize];
        if a.waiting >= limit {
            return self.reject(rid, Reject::QueueFull);
        }
        if a.busy < cap {
            return self.acquire(rid, account, Acquired::WaitSuccess);
        }
        self.with_account(account, |a| a.waiting += 1);
        self.waiting_up();
        let r = &mut self.requests.items[rid as usize];
        r.phase = Phase::AccountWait;
        r.account = account;
        r.wait_cap = cap;
        self.start_wait(rid, self.now.saturating_add(timeout), account);
    }

    /// Starts polling (or queueing, in FIFO mode) for the request's current phase.
    /// `target` is the account or the user waited on.
    pub(super) fn start_wait(&mut self, rid: u32, deadline: Time, target: u32) {
        let token = self.fresh_token();
        let r = &mut self.requests.items[rid as usize];
        r.deadline = deadline;
        r.token = token;
        match self.cfg.gateway.wait {
            WaitMode::Poll => {
                // The first delay is exactly the initial one, without jitter.
                r.poll_delay_s = self.cfg.gateway.poll.initial_s;
                self.schedule_poll(rid);
            }
            WaitMode::Fifo => {
                let q = match r.phase {
                    Phase::AccountWait => &mut self.accounts[target as usize].fifo,
                    _ => &mut self.users[target as usize].fifo,
                };
                q.push_back((rid, token));
                self.queue.push(deadline, Ev::Timeout { req: rid, token });
            }
        }
    }

    /// The next poll after the request's current delay, or the timeout if that comes first.
    pub(super) fn schedule_poll(&mut self, rid: u32) {
        let r = &self.requests.items[rid as usize];
        let at = self.now.saturating_add(secs_to_time(r.poll_delay_s).max(1));
        let (token, deadline, session) = (r.token, r.deadline, r.session);
        if at >= deadline {
            self.queue.push(deadline, Ev::Timeout { req: rid, token });
        } else {
            self.queue.push(
                at,
                Ev::Poll {
                    req: rid,
                    token,
                    session,
                },
            );
        }
    }

    pub(super) fn poll(&mut self, rid: u32, token: u32) {
        let r = &mut self.requests.items[rid as usize];
        if r.token != token {
            return;
        }
        match r.phase {
            Phase::AccountWait => {
                let account = r.account;
                if self.accounts[account as usize].busy < r.wait_cap {
                    self.leave_account_wait(rid);
                    return self.acquire(rid, account, Acquired::WaitSuccess);
                }
            }
            Phase::UserWait => {
                let s = r.session;
                let user = self.sessions.items[s as usize].user;
                let limit = self.cfg.users.as_ref().map_or(u32::MAX, |u| u.concurrency);
                if self.users[user as usize].busy < limit {
                    self.leave_user_wait(rid, user);
                    return self.dispatch(rid);
                }
            }
            Phase::Serving => return,
        }
        let p = &self.cfg.gateway.poll;
        let r = &mut self.requests.items[rid as usize];
        let jitter = if p.jitter > 0.0 {
            self.sessions.items[r.session as usize]
                .choices
                .random_range(1.0 - p.jitter..=1.0 + p.jitter)
        } else {
            1.0
        };
        r.poll_delay_s = next_backoff(r.poll_delay_s, p, jitter);
        self.schedule_poll(rid);
    }

    pub(super) fn fresh_token(&mut self) -> u32 {
        self.next_token = self.next_token.wrapping_add(1);
        self.next_token
    }

    pub(super) fn leave_account_wait(&mut self, rid: u32) {
        let token = self.fresh_token();
        let r = &mut self.requests.items[rid as usize];
        r.token = token;
        let account = r.account;
        self.with_account(account, |a| a.waiting -= 1);
        self.waiting_down();
    }

    pub(super) fn leave_user_wait(&mut self, rid: u32, user: u32) {
        let token = self.fresh_token();
        let r = &mut self.requests.items[rid as usize];
        r.token = token;
        r.holds_user_slot = true;
        let u = &mut self.users[user as usize];
        u.waiting -= 1;
        u.busy += 1;
    }

    pub(super) fn timeout(&mut self, rid: u32, token: u32) {
        let r = &mut self.requests.items[rid as usize];
        if r.token != token {
            return;
        }
        match r.phase {
            Phase::AccountWait => {
                self.leave_account_wait(rid);
                self.reject(rid, Reject::WaitTimeout);
            }
            Phase::UserWait => {
                let user = self.sessions.items[r.session as usize].user;
                r.token = self.next_token.wrapping_add(1);
                self.next_token = r.token;
                self.users[user as usize].waiting -= 1;
                self.reject(rid, Reject::UserLimit);
            }
            Phase::Serving => {}
        }
    }

    pub(super) fn release_user_slot(&mut self, sid: u32) {
        let user = self.sessions.items[sid as usize].user;
        self.users[user as usize].busy -= 1;
        if self.cfg.gateway.wait != WaitMode::Fifo {
            return;
        }
        while let Some((rid, token)) = self.users[user as usize].fifo.pop_front() {
            let r = &self.requests.items[rid as usize];
            let waits_here = self.sessions.items[r.session as usize].user == user;
            if r.token == token && r.phase == Phase::UserWait && waits_here {
                self.leave_user_wait(rid, user);
                return self.dispatch(rid);
            }
        }
    }

    /// FIFO mode: the freed slot goes to the longest waiter whose own cap admits it.
    pub(super) fn fifo_handoff_account(&mut self, account: u32) {
        let a = &mut self.accounts[account as usize];
        let requests = &self.requests.items;
        let live = |&(rid, token): &(u32, u32)| {
            let r = &requests[rid as usize];
            r.token == token && r.phase == Phase::AccountWait && r.account == account
        };
        while a.fifo.front().is_some_and(|e| !live(e)) {
            a.fifo.pop_front();
        }
        if a.fifo.len() > 2 * a.waiting as usize + 16 {
            a.fifo.retain(live);
        }
        let busy = a.busy;
        let pick = a
            .fifo
            .iter()
            .position(|e| live(e) && busy < requests[e.0 as usize].wait_cap);
        if let Some(i) = pick {
            let (rid, _) = a.fifo.remove(i).expect("position is in range");
            self.leave_account_wait(rid);
            self.acquire(rid, account, Acquired::WaitSuccess);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::streams::{stream, StreamKind};
    use crate::engine::test_support::{arrive, gateway, model, set};

    /// Joining a wait tries at once: the only account is at 100% load (one busy, one
    /// waiter) but has a free slot, which the newcomer takes without waiting.
    #[test]
    fn joining_a_wait_tries_at_once() {
        let cfg = gateway(1, 2, 0);
        let mut sim = Sim::new(&cfg, 1, false);
        set(&mut sim, 0, 1, 1, None);
        let rid = arrive(&mut sim, None);
        assert!(sim.requests.items[rid as usize].phase == Phase::Serving);
        assert_eq!((sim.accounts[0].busy, sim.accounts[0].waiting), (2, 1));
    }

    /// behind it (cap C) when a slot frees above C - R.
    #[test]
    fn fifo_fallback_waiter_does_not_block_a_sticky_waiter() {
        let cfg = gateway(1, 2, 1);
        let mut sim = Sim::new(&cfg, 1, false);
        set(&mut sim, 0, 2, 0, None);
        let fallback = arrive(&mut sim, None);
        let sticky = arrive(&mut sim, Some(0));
        assert!(sim.requests.items[fallback as usize].phase == Phase::AccountWait);
        assert!(sim.requests.items[sticky as usize].phase == Phase::AccountWait);
        assert_eq!(sim.accounts[0].waiting, 2);
        // One of the two running requests finishes: busy 2 -> 1, which only C admits.
        sim.with_account(0, |a| a.busy -= 1);
        sim.busy_total -= 1;
        sim.fifo_handoff_account(0);
        assert!(sim.requests.items[sticky as usize].phase == Phase::Serving);
        assert!(sim.requests.items[fallback as usize].phase == Phase::AccountWait);
        assert_eq!((sim.accounts[0].busy, sim.accounts[0].waiting), (2, 1));
    }

    /// The poll schedule against sub2api's `nextBackoff`, with the jitter stream fixed: a
    /// new session waits on the one full account (polling, 30 s limit); every poll misses.
    /// The first delay is exactly 100 ms; each later one is
    /// clamp(min(1.5 x previous, 2 s) x U(0.8, 1.2), 100 ms, 2 s), U drawn in turn from the
    /// session's gateway stream, which nothing else draws from while it waits.
    #[test]
    fn poll_schedule_is_sub2apis_next_backoff() {
        let cfg = model(
            r#"
            horizon = 1000
            replications = 1
            [[pools]]
            accounts = 1
            concurrency = 1
            [workload]
            arrival = { process = "periodic", rate = "1/h" }
            requests_per_session = { dist = "constant", value = 1 }
            service_time = { dist = "constant", value = "10s" }
            "#,
        );
        let mut sim = Sim::new(&cfg, 1, false);
        set(&mut sim, 0, 1, 0, None);
        let rid = arrive(&mut sim, None);
        assert!(sim.requests.items[rid as usize].phase == Phase::AccountWait);
        // The test session's gateway stream (see `arrive`), replayed by hand.
        let mut jitter = stream(1, StreamKind::Gateway, 999);
        let mut expected = vec![];
        let (mut t, mut d) = (100.0f64, 0.1f64);
        loop {
            let at = t + d;
            if at >= 130.0 {
                break;
            }
            expected.push(at);
            t = at;
            let u: f64 = jitter.random_range(0.8..=1.2);
            d = ((d * 1.5).min(2.0) * u).clamp(0.1, 2.0);
        }
        assert!(expected.len() > 15, "{expected:?}");
        let mut polls = vec![];
        let mut timeout = None;
        while let Some((at, ev)) = sim.queue.pop() {
            sim.now = at;
            match ev {
                Ev::Poll { req, token, .. } => {
                    polls.push(at);
                    sim.poll(req, token);
                }
                Ev::Timeout { req, token } => {
                    timeout = Some(at);
                    sim.timeout(req, token);
                }
                _ => {}
            }
        }
        // Times are whole microseconds: each delay is rounded once, so the sum drifts by
        // at most half a microsecond per poll.
        assert_eq!(polls.len(), expected.len());
        let mut t_us = 100_000_000u64;
        let mut d = 0.1f64;
        let mut jitter = stream(1, StreamKind::Gateway, 999);
        for (k, &got) in polls.iter().enumerate() {
            t_us += secs_to_time(d);
            assert_eq!(got, t_us, "poll {k}");
            assert!((got as f64 / 1e6 - expected[k]).abs() < 1e-5 * (k + 1) as f64);
            let u: f64 = jitter.random_range(0.8..=1.2);
            d = next_backoff(d, &cfg.gateway.poll, u);
        }
        assert_eq!(polls[0], 100_100_000, "the first delay is exactly 100 ms");
        assert_eq!(timeout, Some(130_000_000));
    }
}
