//! The workload that feeds the gateway: session and open-mode arrivals, each session's
//! requests (or, for agentic sessions, its turns and their steps), think and tool times,
//! client retries after a rejection, and the session's end.

use super::cache::WarmCopies;
use super::{Ev, Request, RequestWork, Session, SessionStart, Sim};
use crate::dist::Dist;
use crate::scenario::Workload;
use crate::units::{secs_to_time, Time};
use rand::Rng;
use rand_distr::{Distribution, Exp1};
use rand_pcg::Pcg64;

#[inline]
pub(super) fn exp_gap(rng: &mut Pcg64, rate: f64) -> Time {
    let e: f64 = Exp1.sample(rng);
    secs_to_time(e / rate).max(1)
}

/// The longest client back-off before a retry.
const MAX_RETRY_BACKOFF: Time = 60_000_000;

/// The back-off before retry `j0 + 1` (`j0` = retries already made since the last served
/// request): min(base x 2^j0, 60 s).
pub(super) fn retry_backoff(base: Time, j0: u32) -> Time {
    let doubled = if j0 >= 63 {
        Time::MAX
    } else {
        base.saturating_mul(1 << j0)
    };
    doubled.min(MAX_RETRY_BACKOFF)
}

impl<const PLAIN: bool> Sim<'_, PLAIN> {
    pub(super) fn session_arrival(&mut self) {
        let Workload::Sessions {
            ref requests_per_session,
            client_retries,
            ref context_tokens,
            ..
        } = self.cfg.workload
        else {
            unreachable!("session arrivals are scheduled only in sessions mode")
        };
        let index = self.next_session;
        self.next_session += 1;
        // The session's own stream: its length (requests, or turns), its user, then its
        // context size, in that order, so that a scenario without the later ones draws
        // exactly as before.
        let mut rng = self.streams.session.stream(index);
        let remaining = requests_per_session.sample_count(&mut rng);
        let user = self.draw_user(&mut rng);
        let context = context_tokens.as_ref().map_or(0.0, |d| d.sample(&mut rng));
        let counted = self.in_window(self.now);
        if counted {
            self.counts.sessions_arrived += 1;
        }
        let sid = self.add_session(SessionStart {
            rng,
            choices: self.streams.gateway.lazy(index),
            binding: None,
            writes_binding: true,
            counted,
            remaining,
            retries_left: client_retries,
            user,
            key: index,
        });
        self.sessions.items[sid as usize].context_tokens = context;
        let next = self.next_session_time();
        self.schedule_arrival(next, Ev::SessionArrival);
        self.issue(sid);
    }

    /// A new session, in a freed slot when there is one: filled in place there rather
    /// than moved in whole.
    #[inline]
    pub(super) fn add_session(&mut self, start: SessionStart) -> u32 {
        match self.sessions.reuse() {
            Some((sid, s)) => {
                s.reset(start);
                sid
            }
            None => self.sessions.insert(Session::new(start)),
        }
    }

    pub(super) fn draw_user(&self, rng: &mut Pcg64) -> u32 {
        match &self.cfg.users {
            Some(u) => rng.random_range(0..u.count),
            None => 0,
        }
    }

    /// Open mode: a single-request pseudo-session. A bound request names a uniformly
    /// random account as its binding and writes none; a new request counts as a session.
    pub(super) fn open_arrival(&mut self, bound: bool) {
        let Workload::Open {
            bound_rate,
            new_rate,
            ..
        } = self.cfg.workload
        else {
            unreachable!("open arrivals are scheduled only in open mode")
        };
        let (family, index) = if bound {
            self.next_bound += 1;
            (self.streams.bound_request, self.next_bound - 1)
        } else {
            self.next_session += 1;
            (self.streams.new_request, self.next_session - 1)
        };
        let mut rng = family.stream(index);
        let binding = if bound {
            let a = rng.random_range(0..self.accounts.len() as u32);
            Some((a, Time::MAX))
        } else {
            None
        };
        let user = self.draw_user(&mut rng);
        let counted = !bound && self.in_window(self.now);
        if counted {
            self.counts.sessions_arrived += 1;
        }
        let key = index | (bound as u64) << 63;
        let sid = self.add_session(SessionStart {
            rng,
            choices: self.streams.gateway.lazy(key),
            binding,
            writes_binding: false,
            counted,
            remaining: 1,
            retries_left: 0,
            user,
            key,
        });
        let next = if bound {
            self.now
                .saturating_add(exp_gap(&mut self.bound_arrivals_rng, bound_rate))
        } else {
            self.now
                .saturating_add(exp_gap(&mut self.arrivals_rng, new_rate))
        };
        self.schedule_arrival(next, Ev::OpenArrival { bound });
        // A bound request stands for a later request of some session, not for a session's
        // first: its rejection is a bound rejection, never a rejected session.
        self.sessions.items[sid as usize].first_open = !bound;
        self.issue(sid);
    }

    /// A session issues a request (attempt) now: read the binding, then the user gate.
    ///
    /// `issue_with` is inlined here, so that the empty work is written into the request
    /// as constants: passed to a call, it would be written in pieces on the stack and read
    /// back whole at once, which stalls the processor (see `EventQueue::push`).
    #[inline(never)]
    pub(super) fn issue(&mut self, sid: u32) {
        self.issue_with(sid, RequestWork::default())
    }

    /// Issues a request carrying `work` (a trace's service time and tokens). The first
    /// step of an agentic turn draws the turn's number of steps from the session's stream;
    /// a retried step is the same step and draws nothing.
    #[inline(always)]
    pub(super) fn issue_with(&mut self, sid: u32, mut work: RequestWork) {
        let now = self.now;
        let measured = self.in_window(now);
        let cache_ttl = self.hot.cache_ttl;
        let s = &mut self.sessions.items[sid as usize];
        if let Some(a) = self.hot.agentic.filter(|_| !PLAIN) {
            if s.steps_left == 0 {
                s.steps_left = a.steps_per_turn.sample_count(&mut s.rng);
            }
        }
        work.warm_any = s.cache.warm_somewhere(now, cache_ttl);
        work.completed_before = s.completed;
        let replayed = !PLAIN && s.trace.is_some();
        work.first = s.first_open;
        if replayed {
            // A replayed session's requests are each its own (no client retries): only
            // the first one issued is its first request.
            s.first_open = false;
        }
        // An expired binding is read as none, and left in place: a rejection leaves the
        // binding as it was, so a retry that finds it expired again counts again (an
        // expired rebind is an attempt whose binding had expired on arrival).
        let (bound, expired) = match s.binding {
            Some((a, expiry)) if now < expiry => (Some(a), false),
            Some(_) => (None, true),
            None => (None, false),
        };
        if measured {
            self.record_arrival(bound.is_some(), expired);
        }
        let token = self.next_token;
        let rid = match self.requests.reuse() {
            Some((rid, r)) => {
                r.reset(sid, measured, bound, token, now, work);
                rid
            }
            None => self.requests.insert(Request::new(
                sid,
                measured,
                bound,
                token,
                now,
                work,
                WarmCopies::default(),
            )),
        };
        if replayed {
            // Set here, not passed in: every other request's empty list is then written
            // into it as constants, where a list chosen among two would be written in
            // pieces on the stack and read back whole, a stall (see `EventQueue::push`).
            let warm = self.sessions.items[sid as usize]
                .cache
                .warm_accounts(now, cache_ttl);
            self.requests.items[rid as usize].warm_copies = warm;
        }
        self.next_token = self.next_token.wrapping_add(1);
        self.user_gate(rid);
    }

    /// The client after a rejection of a request (`first`: its session's first, or a
    /// retry of it): the session is no longer intact; it retries after the back-off while
    /// it has retries left, else it is abandoned.
    pub(super) fn client_after_rejection(&mut self, sid: u32, first: bool) {
        let (base, retries) = (self.hot.client_retry_backoff, self.hot.client_retries);
        let s = &mut self.sessions.items[sid as usize];
        s.intact = false;
        if s.trace.is_some() {
            // A replayed request is never retried; its session goes on with its next
            // recorded request.
            self.final_rejection(sid, first);
            return self.trace_request_done(sid);
        }
        // Retry j (1, 2, ...) since the last served request waits base x 2^(j-1), at most
        // 60 s, as the Anthropic and OpenAI SDKs back off.
        let j = retries.saturating_sub(s.retries_left);
        let at = self.now.saturating_add(retry_backoff(base, j));
        if s.retries_left == 0 {
            self.final_rejection(sid, first);
            self.end_session(sid, true);
        } else if at < self.hot.horizon {
            s.retries_left -= 1;
            self.queue.push(at, Ev::Issue { session: sid });
        } else {
            // The retry would come after the horizon: cut, like a next request would be
            // (neither finished, abandoned nor rejected).
            self.sessions.remove(sid);
        }
    }

    /// After a completed request the session continues after a think time (agentic:
    /// the next step after a tool time, or the next turn after a think time), or ends.
    pub(super) fn session_after_completion(&mut self, sid: u32) {
        let now = self.now;
        let s = &mut self.sessions.items[sid as usize];
        s.completed += 1;
        // Its first request has been answered: whatever it issues next is a later one.
        s.first_open = false;
        if !PLAIN && s.trace.is_some() {
            return self.trace_request_done(sid);
        }
        let think = match (self.hot.agentic.filter(|_| !PLAIN), self.hot.think_time) {
            (Some(a), Some(think_time)) => {
                s.steps_left -= 1;
                if s.steps_left > 0 {
                    think_time_of(&a.tool_time, &mut s.rng)
                } else {
                    s.remaining -= 1;
                    if s.remaining == 0 {
                        return self.end_session(sid, false);
                    }
                    think_time_of(think_time, &mut s.rng)
                }
            }
            (None, Some(think_time)) => {
                s.remaining -= 1;
                if s.remaining == 0 {
                    return self.end_session(sid, false);
                }
                think_time_of(think_time, &mut s.rng)
            }
            // Open mode (replayed sessions are handled above): one request per session.
            (_, None) => {
                return self.end_session(sid, false);
            }
        };
        let at = now.saturating_add(think);
        if at < self.hot.horizon {
            self.queue.push(at, Ev::Issue { session: sid });
        } else {
            // Cut by the horizon: neither finished nor abandoned.
            self.sessions.remove(sid);
        }
    }

    /// A request of session `sid` has been rejected for good (the client makes no more
    /// retries of it). A session is rejected when its first request is (README, "What a run
    /// writes"), counted once, in the session's cohort. In sessions mode a rejected first
    /// request abandons the session, so this is exactly "abandoned before any request
    /// was served"; a replayed session goes on, and may still be served later.
    fn final_rejection(&mut self, sid: u32, first: bool) {
        if first {
            self.record_session_rejected(self.sessions.items[sid as usize].counted);
        }
    }

    pub(super) fn end_session(&mut self, sid: u32, abandoned: bool) {
        let s = &self.sessions.items[sid as usize];
        if s.counted {
            let c = &mut self.counts;
            c.sessions_finished += 1;
            c.sessions_abandoned += abandoned as u64;
            c.sessions_intact += (!abandoned && s.intact) as u64;
        }
        self.sessions.remove(sid);
    }
}

/// A request's service time: the trace's (`trace`), or drawn from `dist` with its
/// session's own stream.
#[inline(always)] // one call, on every request: its register saves cost more than its size
pub(super) fn service_time(trace: Option<Time>, dist: Option<&Dist>, rng: &mut Pcg64) -> Time {
    match trace {
        Some(t) => t,
        None => {
            let d = dist.expect("trace requests carry their service time");
            secs_to_time(d.sample(rng))
        }
    }
}

#[inline]
fn think_time_of(d: &Dist, rng: &mut Pcg64) -> Time {
    secs_to_time(d.sample(rng))
}
