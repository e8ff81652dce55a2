//! Waiting for a slot: joining an account's or a user's wait, polls (or FIFO hand-off),
//! timeouts, and leaving a wait.

use super::{Acquired, Ev, Phase, Reject, Sim};
use crate::scenario::WaitMode;
use crate::units::{secs_to_time, Time};
use rand::Rng;

impl Sim<'_> {
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
        let a = &mut self.accounts[account as usize];
        if a.waiting >= limit {
            return self.reject(rid, Reject::QueueFull);
        }
        if a.busy < cap {
            return self.acquire(rid, account, Acquired::WaitSuccess);
        }
        a.waiting += 1;
        self.waiting_total += 1;
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
                r.poll_base_s = self.cfg.gateway.poll.initial_s;
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

    /// The next poll after the current delay, or the timeout if that comes first.
    pub(super) fn schedule_poll(&mut self, rid: u32) {
        let p = self.cfg.gateway.poll;
        let r = &self.requests.items[rid as usize];
        let base = r.poll_base_s.min(p.max_s);
        let jitter = if p.jitter > 0.0 {
            self.sessions.items[r.session as usize]
                .choices
                .random_range(1.0 - p.jitter..=1.0 + p.jitter)
        } else {
            1.0
        };
        let at = self.now.saturating_add(secs_to_time(base * jitter).max(1));
        let (token, deadline) = (r.token, r.deadline);
        if at >= deadline {
            self.queue.push(deadline, Ev::Timeout { req: rid, token });
        } else {
            self.queue.push(at, Ev::Poll { req: rid, token });
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
        let r = &mut self.requests.items[rid as usize];
        r.poll_base_s =
            (r.poll_base_s * self.cfg.gateway.poll.multiplier).min(self.cfg.gateway.poll.max_s);
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
        let a = &mut self.accounts[r.account as usize];
        a.waiting -= 1;
        self.waiting_total -= 1;
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
    use crate::engine::test_support::{arrive, gateway, set};

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
        sim.accounts[0].busy -= 1;
        sim.busy_total -= 1;
        sim.fifo_handoff_account(0);
        assert!(sim.requests.items[sticky as usize].phase == Phase::Serving);
        assert!(sim.requests.items[fallback as usize].phase == Phase::AccountWait);
        assert_eq!((sim.accounts[0].busy, sim.accounts[0].waiting), (2, 1));
    }
}
