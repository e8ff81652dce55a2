//! The discrete-event engine and the gateway model of MODEL.md sections 1-3.
//!
//! One [`simulate`] call runs one replication of one model. Time is integer microseconds;
//! events are ordered by (time, sequence) so equal times run in scheduling order. The
//! engine does no I/O. Sessions and requests live in slabs whose slots are reused, so the
//! hot loop does not allocate per request and memory follows what is in flight.
//!
//! Random streams (common random numbers across sweep points): every session draws its
//! length, user, service and think times from its own stream keyed by (replication seed,
//! session index); the gateway's random choices for that session's requests (ties, poll
//! jitter) come from a second stream of the session's, and arrival times from streams of
//! their own. Changing R therefore changes only what R causes.

mod metrics;
mod queue;
mod slab;
mod streams;

pub use metrics::{Counts, MinuteBin, RepOutput};
pub use queue::EventQueue;
pub use streams::replication_seed;

use slab::Slab;
use streams::{stream, StreamKind};

use crate::dist::Dist;
use crate::scenario::{FallbackSelection, ModelConfig, Platform, WaitMode, Workload};
use crate::units::{secs_to_time, Time};
use hdrhistogram::Histogram;
use rand::Rng;
use rand_distr::{Distribution, Exp1};
use rand_pcg::Pcg64;
use std::collections::VecDeque;

/// EffectiveConcurrency(C, R, is_bound) of PR #607, for C >= 1 (C <= 0 is rejected when
/// the scenario is validated). R < 0 behaves as 0; R >= C leaves new sessions no slot.
pub fn effective_concurrency(c: u32, r: i64, is_bound: bool) -> u32 {
    if is_bound || r <= 0 {
        c
    } else {
        (c as i64 - r).max(0) as u32
    }
}

// ---------------------------------------------------------------------------------------
// Model state

struct Account {
    concurrency: u32,
    /// EffectiveConcurrency(C, R, false).
    cap_new: u32,
    priority: i64,
    busy: u32,
    /// One counter for sticky and fallback waiters, as sub2api keeps.
    waiting: u32,
    /// When the account last released a slot; None = never used (sorts first).
    last_used: Option<Time>,
    /// Waiters in arrival order (`wait = "fifo"` only): (request, token).
    fifo: VecDeque<(u32, u32)>,
}

#[derive(Default)]
struct User {
    busy: u32,
    waiting: u32,
    fifo: VecDeque<(u32, u32)>,
}

struct Session {
    /// The session's own draws: length, user, service and think times.
    rng: Pcg64,
    /// The gateway's random choices for this session's requests (ties, poll jitter), kept
    /// apart so that they do not shift the session's own draws, nor other sessions'.
    choices: Pcg64,
    /// (account, expiry): live while now < expiry.
    binding: Option<(u32, Time)>,
    /// False in open mode, where requests write no binding.
    writes_binding: bool,
    /// Counts in the session metrics (a real session arriving in the measured window).
    counted: bool,
    /// Requests still to issue, the current one included.
    remaining: u64,
    retries_left: u32,
    served_any: bool,
    first_account: Option<u32>,
    intact: bool,
    user: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    UserWait,
    AccountWait,
    Serving,
}

struct Request {
    session: u32,
    arrival: Time,
    measured: bool,
    /// The account its session's binding named at arrival.
    bound: Option<u32>,
    phase: Phase,
    holds_user_slot: bool,
    /// Account waited on or served by.
    account: u32,
    /// Slots the wait may use (C for sticky waiters, C - R for fallback waiters).
    wait_cap: u32,
    deadline: Time,
    /// Current un-jittered poll delay, seconds.
    poll_base_s: f64,
    /// A fresh value from the simulation-wide counter at creation, at every wait start and
    /// whenever the request leaves a wait: an event or queue entry carrying another value is
    /// stale (it may even name a slab slot that a newer request now uses) and is ignored.
    token: u32,
}

#[derive(Clone, Copy)]
enum Ev {
    SessionArrival,
    OpenArrival {
        bound: bool,
    },
    /// A session issues its next request (after a think time or a client retry back-off).
    Issue {
        session: u32,
    },
    Poll {
        req: u32,
        token: u32,
    },
    Timeout {
        req: u32,
        token: u32,
    },
    Complete {
        req: u32,
    },
}

#[derive(Clone, Copy)]
enum Reject {
    QueueFull,
    WaitTimeout,
    NoAccount,
    UserLimit,
}

#[derive(Clone, Copy)]
enum Acquired {
    StickyHit,
    LoadAware,
    WaitSuccess,
}

const MINUTE: Time = 60_000_000;

struct Sim<'a> {
    cfg: &'a ModelConfig,
    rep_seed: u64,
    now: Time,
    queue: EventQueue<Ev>,
    accounts: Vec<Account>,
    users: Vec<User>,
    sessions: Slab<Session>,
    requests: Slab<Request>,
    arrivals_rng: Pcg64,
    bound_arrivals_rng: Pcg64,
    next_session: u64,
    next_bound: u64,
    next_token: u32,
    counts: Counts,
    busy_total: u64,
    waiting_total: u64,
    last_integrated: Time,
    busy_slot_us: u128,
    waiting_us: u128,
    wait_hist: Histogram<u64>,
    wait_sum_us: u128,
    events: u64,
    timeseries: Option<Vec<MinuteBin>>,
}

/// Runs one replication of `cfg` with replication seed `rep_seed`. With `timeseries`,
/// also records per-minute busy, waiting and failure counts over [0, horizon).
pub fn simulate(cfg: &ModelConfig, rep_seed: u64, timeseries: bool) -> RepOutput {
    let mut sim = Sim::new(cfg, rep_seed, timeseries);
    sim.run();
    sim.into_output()
}

impl<'a> Sim<'a> {
    fn new(cfg: &'a ModelConfig, rep_seed: u64, timeseries: bool) -> Sim<'a> {
        let mut accounts = Vec::new();
        for pool in &cfg.pools {
            for _ in 0..pool.accounts {
                accounts.push(Account {
                    concurrency: pool.concurrency,
                    cap_new: effective_concurrency(pool.concurrency, pool.reserved, false),
                    priority: pool.priority,
                    busy: 0,
                    waiting: 0,
                    last_used: None,
                    fifo: VecDeque::new(),
                });
            }
        }
        let users = match &cfg.users {
            Some(u) => (0..u.count).map(|_| User::default()).collect(),
            None => Vec::new(),
        };
        let minutes = cfg.horizon.div_ceil(MINUTE) as usize;
        Sim {
            cfg,
            rep_seed,
            now: 0,
            queue: EventQueue::default(),
            accounts,
            users,
            sessions: Slab::new(),
            requests: Slab::new(),
            arrivals_rng: stream(rep_seed, StreamKind::SessionArrivals, 0),
            bound_arrivals_rng: stream(rep_seed, StreamKind::BoundArrivals, 0),
            next_session: 0,
            next_bound: 0,
            next_token: 0,
            counts: Counts::default(),
            busy_total: 0,
            waiting_total: 0,
            last_integrated: 0,
            busy_slot_us: 0,
            waiting_us: 0,
            wait_hist: Histogram::new(3)
                .expect("3 significant figures is a valid histogram precision"),
            wait_sum_us: 0,
            events: 0,
            timeseries: timeseries.then(|| vec![MinuteBin::default(); minutes]),
        }
    }

    fn into_output(self) -> RepOutput {
        let total_slots = self.accounts.iter().map(|a| a.concurrency as u64).sum();
        RepOutput {
            counts: self.counts,
            busy_slot_us: self.busy_slot_us,
            waiting_us: self.waiting_us,
            total_slots,
            measured: self.cfg.horizon - self.cfg.warmup,
            wait_hist: self.wait_hist,
            wait_sum_us: self.wait_sum_us,
            events: self.events,
            timeseries: self.timeseries,
        }
    }
}

fn exp_gap(rng: &mut Pcg64, rate: f64) -> Time {
    let e: f64 = Exp1.sample(rng);
    secs_to_time(e / rate).max(1)
}

impl Sim<'_> {
    fn run(&mut self) {
        match self.cfg.workload {
            Workload::Sessions { .. } => {
                let t = self.session_gap();
                self.schedule_arrival(t, Ev::SessionArrival);
            }
            Workload::Open {
                bound_rate,
                new_rate,
                ..
            } => {
                if bound_rate > 0.0 {
                    let t = exp_gap(&mut self.bound_arrivals_rng, bound_rate);
                    self.schedule_arrival(t, Ev::OpenArrival { bound: true });
                }
                if new_rate > 0.0 {
                    let t = exp_gap(&mut self.arrivals_rng, new_rate);
                    self.schedule_arrival(t, Ev::OpenArrival { bound: false });
                }
            }
        }
        while let Some((t, ev)) = self.queue.pop() {
            self.integrate_to(t);
            self.now = t;
            self.events += 1;
            match ev {
                Ev::SessionArrival => self.session_arrival(),
                Ev::OpenArrival { bound } => self.open_arrival(bound),
                Ev::Issue { session } => self.issue(session),
                Ev::Poll { req, token } => self.poll(req, token),
                Ev::Timeout { req, token } => self.timeout(req, token),
                Ev::Complete { req } => self.complete(req),
            }
        }
    }

    /// Arrivals happen only before the horizon.
    fn schedule_arrival(&mut self, t: Time, ev: Ev) {
        if t < self.cfg.horizon {
            self.queue.push(t, ev);
        }
    }

    fn in_window(&self, t: Time) -> bool {
        t >= self.cfg.warmup && t < self.cfg.horizon
    }

    /// Accumulates busy and waiting integrals from the last event time to `t`.
    fn integrate_to(&mut self, t: Time) {
        let from = self.last_integrated;
        if t <= from {
            return;
        }
        self.last_integrated = t;
        let lo = from.max(self.cfg.warmup);
        let hi = t.min(self.cfg.horizon);
        if hi > lo {
            let dt = (hi - lo) as u128;
            self.busy_slot_us += self.busy_total as u128 * dt;
            self.waiting_us += self.waiting_total as u128 * dt;
        }
        if let Some(bins) = &mut self.timeseries {
            let end = t.min(self.cfg.horizon);
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
    }

    fn bin(&mut self) -> Option<&mut MinuteBin> {
        let m = (self.now / MINUTE) as usize;
        self.timeseries.as_mut().and_then(|b| b.get_mut(m))
    }

    // ---- arrivals ----------------------------------------------------------------------

    fn session_arrival(&mut self) {
        let Workload::Sessions {
            ref requests_per_session,
            client_retries,
            ..
        } = self.cfg.workload
        else {
            unreachable!("session arrivals are scheduled only in sessions mode")
        };
        let index = self.next_session;
        self.next_session += 1;
        let mut rng = stream(self.rep_seed, StreamKind::Session, index);
        let remaining = requests_per_session.sample_count(&mut rng);
        let user = self.draw_user(&mut rng);
        let counted = self.in_window(self.now);
        if counted {
            self.counts.sessions_arrived += 1;
        }
        let sid = self.sessions.insert(Session {
            rng,
            choices: stream(self.rep_seed, StreamKind::Gateway, index),
            binding: None,
            writes_binding: true,
            counted,
            remaining,
            retries_left: client_retries,
            served_any: false,
            first_account: None,
            intact: true,
            user,
        });
        let next = self.now.saturating_add(self.session_gap());
        self.schedule_arrival(next, Ev::SessionArrival);
        self.issue(sid);
    }

    /// Time to the next session arrival.
    fn session_gap(&mut self) -> Time {
        match self.cfg.workload {
            Workload::Sessions {
                arrival_rate,
                periodic: true,
                ..
            } => secs_to_time(1.0 / arrival_rate).max(1),
            Workload::Sessions { arrival_rate, .. } => {
                exp_gap(&mut self.arrivals_rng, arrival_rate)
            }
            Workload::Open { .. } => unreachable!("session arrivals happen only in sessions mode"),
        }
    }

    fn draw_user(&self, rng: &mut Pcg64) -> u32 {
        match &self.cfg.users {
            Some(u) => rng.random_range(0..u.count),
            None => 0,
        }
    }

    /// Open mode: a single-request pseudo-session. A bound request names a uniformly
    /// random account as its binding and writes none; a new request counts as a session.
    fn open_arrival(&mut self, bound: bool) {
        let Workload::Open {
            bound_rate,
            new_rate,
            ..
        } = self.cfg.workload
        else {
            unreachable!("open arrivals are scheduled only in open mode")
        };
        let (kind, index) = if bound {
            self.next_bound += 1;
            (StreamKind::BoundRequest, self.next_bound - 1)
        } else {
            self.next_session += 1;
            (StreamKind::NewRequest, self.next_session - 1)
        };
        let mut rng = stream(self.rep_seed, kind, index);
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
        let sid = self.sessions.insert(Session {
            rng,
            choices: stream(
                self.rep_seed,
                StreamKind::Gateway,
                index | (bound as u64) << 63,
            ),
            binding,
            writes_binding: false,
            counted,
            remaining: 1,
            retries_left: 0,
            served_any: false,
            first_account: None,
            intact: true,
            user,
        });
        let next = if bound {
            self.now
                .saturating_add(exp_gap(&mut self.bound_arrivals_rng, bound_rate))
        } else {
            self.now
                .saturating_add(exp_gap(&mut self.arrivals_rng, new_rate))
        };
        self.schedule_arrival(next, Ev::OpenArrival { bound });
        self.issue(sid);
    }

    /// A session issues a request (attempt) now: read the binding, then the user gate.
    fn issue(&mut self, sid: u32) {
        let now = self.now;
        let measured = self.in_window(now);
        let s = &mut self.sessions.items[sid as usize];
        let mut bound = None;
        let mut expired = false;
        if let Some((a, expiry)) = s.binding {
            if now < expiry {
                bound = Some(a);
            } else {
                s.binding = None;
                expired = true;
            }
        }
        let user = s.user;
        if measured {
            self.counts.requests_arrived += 1;
            self.counts.bound_requests += bound.is_some() as u64;
            self.counts.expired_rebinds += expired as u64;
        }
        let rid = self.requests.insert(Request {
            session: sid,
            arrival: now,
            measured,
            bound,
            phase: Phase::UserWait,
            holds_user_slot: false,
            account: 0,
            wait_cap: 0,
            deadline: 0,
            poll_base_s: 0.0,
            token: self.next_token,
        });
        self.next_token = self.next_token.wrapping_add(1);
        let Some(limits) = &self.cfg.users else {
            return self.dispatch(rid);
        };
        // MODEL.md step 1: a full user wait queue rejects first; otherwise the request
        // joins the wait, whose immediate first try takes a free user slot at once.
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
        let deadline = now.saturating_add(limits.wait_timeout);
        self.start_wait(rid, deadline, user);
    }

    // ---- selection (MODEL.md section 2, steps 3-5) --------------------------------------

    fn dispatch(&mut self, rid: u32) {
        let gw = &self.cfg.gateway;
        let sid = self.requests.items[rid as usize].session;
        let choices = &mut self.sessions.items[sid as usize].choices;
        // Step 3: the sticky layer. Without a fault model every account is schedulable.
        if let Some(b) = self.requests.items[rid as usize].bound {
            let a = &self.accounts[b as usize];
            if a.busy < a.concurrency {
                return self.acquire(rid, b, Acquired::StickyHit);
            }
            if a.waiting < gw.sticky_max_waiting {
                let cap = a.concurrency;
                return self.join_wait(rid, b, cap, gw.sticky_max_waiting, gw.sticky_wait_timeout);
            }
        }
        // Step 4: the load-aware layer, with every account's new-session capacity:
        // priority, then load rate, then least recently used (never used first).
        let load_aware = self.accounts.iter().enumerate().filter_map(|(i, a)| {
            if a.cap_new == 0 {
                return None;
            }
            let load = (a.busy as u64 + a.waiting as u64) * 100 / a.cap_new as u64;
            (load < 100).then_some(((a.priority, load, a.last_used), i as u32))
        });
        if let Some(a) = pick_min(load_aware, choices) {
            // load < 100 means busy + waiting < cap, so the acquire succeeds.
            return self.acquire(rid, a, Acquired::LoadAware);
        }
        // Step 5: the fallback queue, on the first candidate only: priority, then least
        // recently used (or at random within the priority).
        let by_lru = gw.fallback_selection == FallbackSelection::LastUsed;
        let fallback = self.accounts.iter().enumerate().filter_map(|(i, a)| {
            let lru = if by_lru { a.last_used } else { None };
            (a.cap_new > 0).then_some(((a.priority, lru), i as u32))
        });
        let best = pick_min(fallback, choices);
        match best {
            None => self.reject(rid, Reject::NoAccount),
            Some(a) => {
                let cap = self.accounts[a as usize].cap_new;
                self.join_wait(
                    rid,
                    a,
                    cap,
                    gw.fallback_max_waiting,
                    gw.fallback_wait_timeout,
                )
            }
        }
    }

    /// Joins the account's wait (429 when its waiter count is at the limit); the
    /// immediate first try already counts as a wait success.
    fn join_wait(&mut self, rid: u32, account: u32, cap: u32, limit: u32, timeout: Time) {
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
    fn start_wait(&mut self, rid: u32, deadline: Time, target: u32) {
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
    fn schedule_poll(&mut self, rid: u32) {
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

    fn poll(&mut self, rid: u32, token: u32) {
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

    fn fresh_token(&mut self) -> u32 {
        self.next_token = self.next_token.wrapping_add(1);
        self.next_token
    }

    fn leave_account_wait(&mut self, rid: u32) {
        let token = self.fresh_token();
        let r = &mut self.requests.items[rid as usize];
        r.token = token;
        let a = &mut self.accounts[r.account as usize];
        a.waiting -= 1;
        self.waiting_total -= 1;
    }

    fn leave_user_wait(&mut self, rid: u32, user: u32) {
        let token = self.fresh_token();
        let r = &mut self.requests.items[rid as usize];
        r.token = token;
        r.holds_user_slot = true;
        let u = &mut self.users[user as usize];
        u.waiting -= 1;
        u.busy += 1;
    }

    fn timeout(&mut self, rid: u32, token: u32) {
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

    // ---- serving -------------------------------------------------------------------------

    fn acquire(&mut self, rid: u32, account: u32, how: Acquired) {
        let now = self.now;
        let ttl = self.cfg.gateway.sticky_ttl;
        let openai = self.cfg.gateway.platform == Platform::OpenAi;
        self.accounts[account as usize].busy += 1;
        self.busy_total += 1;
        let r = &mut self.requests.items[rid as usize];
        r.phase = Phase::Serving;
        r.account = account;
        let (measured, bound, arrival, sid) = (r.measured, r.bound, r.arrival, r.session);
        let s = &mut self.sessions.items[sid as usize];
        if s.writes_binding {
            match how {
                Acquired::StickyHit if !openai => {}
                _ => s.binding = Some((account, now.saturating_add(ttl))),
            }
        }
        s.served_any = true;
        s.retries_left = match self.cfg.workload {
            Workload::Sessions { client_retries, .. } => client_retries,
            Workload::Open { .. } => 0,
        };
        match s.first_account {
            None => s.first_account = Some(account),
            Some(f) if f != account => s.intact = false,
            Some(_) => {}
        }
        let service = match &self.cfg.workload {
            Workload::Sessions { service_time, .. } | Workload::Open { service_time, .. } => {
                secs_to_time(service_time.sample(&mut s.rng))
            }
        };
        let migrated = bound.is_some_and(|b| b != account);
        if migrated && now < self.cfg.horizon {
            if let Some(bin) = self.bin() {
                bin.migrations += 1;
            }
        }
        if measured {
            self.counts.migrations += migrated as u64;
            // The histogram grows as needed (auto-resize); saturate only past its u64 range.
            if self.wait_hist.record(now - arrival).is_err() {
                self.wait_hist.saturating_record(now - arrival);
            }
            self.wait_sum_us += (now - arrival) as u128;
        }
        self.queue
            .push(now.saturating_add(service), Ev::Complete { req: rid });
    }

    fn complete(&mut self, rid: u32) {
        let now = self.now;
        let r = &self.requests.items[rid as usize];
        let (account, sid, measured, holds_user) =
            (r.account, r.session, r.measured, r.holds_user_slot);
        let a = &mut self.accounts[account as usize];
        a.busy -= 1;
        a.last_used = Some(now);
        self.busy_total -= 1;
        if measured {
            self.counts.requests_completed += 1;
        }
        if now < self.cfg.horizon {
            if let Some(bin) = self.bin() {
                bin.requests_completed += 1;
            }
        }
        self.requests.remove(rid);
        if self.cfg.gateway.wait == WaitMode::Fifo {
            self.fifo_handoff_account(account);
        }
        if holds_user {
            self.release_user_slot(sid);
        }
        // The session continues after a think time, or ends.
        let s = &mut self.sessions.items[sid as usize];
        s.remaining -= 1;
        if s.remaining == 0 {
            return self.end_session(sid, false);
        }
        let think = match &self.cfg.workload {
            Workload::Sessions { think_time, .. } => think_time_of(think_time, &mut s.rng),
            Workload::Open { .. } => unreachable!("open-mode sessions have one request"),
        };
        let at = now.saturating_add(think);
        if at < self.cfg.horizon {
            self.queue.push(at, Ev::Issue { session: sid });
        } else {
            // Cut by the horizon: neither finished nor abandoned.
            self.sessions.remove(sid);
        }
    }

    fn release_user_slot(&mut self, sid: u32) {
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
    fn fifo_handoff_account(&mut self, account: u32) {
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

    fn reject(&mut self, rid: u32, why: Reject) {
        let r = &self.requests.items[rid as usize];
        let (sid, measured, bound, holds_user) =
            (r.session, r.measured, r.bound, r.holds_user_slot);
        let s = &self.sessions.items[sid as usize];
        let new_session = !s.served_any;
        if measured {
            let c = &mut self.counts;
            c.requests_rejected += 1;
            c.bound_rejections += bound.is_some() as u64;
            match why {
                Reject::QueueFull => c.rejected_queue_full += 1,
                Reject::WaitTimeout => c.rejected_wait_timeout += 1,
                Reject::NoAccount => c.rejected_no_account += 1,
                Reject::UserLimit => c.rejected_user_limit += 1,
            }
        }
        if self.now < self.cfg.horizon {
            if let Some(bin) = self.bin() {
                if bound.is_some() {
                    bin.bound_rejections += 1;
                } else if new_session {
                    bin.new_session_rejections += 1;
                }
            }
        }
        self.requests.remove(rid);
        if holds_user {
            self.release_user_slot(sid);
        }
        let backoff = match self.cfg.workload {
            Workload::Sessions {
                client_retry_backoff,
                ..
            } => client_retry_backoff,
            Workload::Open { .. } => 0,
        };
        let s = &mut self.sessions.items[sid as usize];
        s.intact = false;
        let at = self.now.saturating_add(backoff);
        if s.retries_left == 0 {
            self.end_session(sid, true);
        } else if at < self.cfg.horizon {
            s.retries_left -= 1;
            self.queue.push(at, Ev::Issue { session: sid });
        } else {
            // The retry would come after the horizon: cut, like a next request would be
            // (neither finished, abandoned nor rejected).
            self.sessions.remove(sid);
        }
    }

    fn end_session(&mut self, sid: u32, abandoned: bool) {
        let s = &self.sessions.items[sid as usize];
        if s.counted {
            let c = &mut self.counts;
            c.sessions_finished += 1;
            c.sessions_abandoned += abandoned as u64;
            c.sessions_rejected += (abandoned && !s.served_any) as u64;
            c.sessions_intact += (!abandoned && s.intact) as u64;
        }
        self.sessions.remove(sid);
    }
}

/// The account with the least key; ties broken uniformly at random (reservoir sampling,
/// which draws only when there is a tie).
fn pick_min<K: Ord>(candidates: impl Iterator<Item = (K, u32)>, rng: &mut Pcg64) -> Option<u32> {
    let mut best: Option<(K, u32)> = None;
    let mut ties = 0u32;
    for (key, i) in candidates {
        match &mut best {
            Some((k, _)) if key > *k => {}
            Some((k, idx)) if key == *k => {
                ties += 1;
                if rng.random_range(0..ties) == 0 {
                    *idx = i;
                }
            }
            _ => {
                best = Some((key, i));
                ties = 1;
            }
        }
    }
    best.map(|(_, i)| i)
}

fn think_time_of(d: &Dist, rng: &mut Pcg64) -> Time {
    secs_to_time(d.sample(rng))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// EffectiveConcurrency over the edge cases of MODEL.md section 1.
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

    fn model(text: &str) -> ModelConfig {
        let s = crate::scenario::parse_scenario(text, "unit.toml").expect("valid test scenario");
        s.model_at(&s.sweep.points()[0])
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

    /// A gateway with `accounts` accounts of `c` slots and reserve `r`, waiting in FIFO
    /// order, at t = 100 s, with nothing running.
    fn gateway(accounts: u32, c: u32, r: i64) -> ModelConfig {
        model(&format!(
            r#"
            horizon = 1000
            replications = 1
            [gateway]
            wait = "fifo"
            [[pools]]
            accounts = {accounts}
            concurrency = {c}
            reserved = {r}
            [workload]
            arrival = {{ process = "periodic", rate = "1/h" }}
            requests_per_session = {{ dist = "constant", value = 1 }}
            service_time = {{ dist = "constant", value = "10s" }}
            "#
        ))
    }

    /// Issues one request of a new session (or one bound to `bound`) at t = 100 s.
    fn arrive(sim: &mut Sim, bound: Option<u32>) -> u32 {
        sim.now = 100_000_000;
        let sid = sim.sessions.insert(Session {
            rng: stream(1, StreamKind::Session, 999),
            choices: stream(1, StreamKind::Gateway, 999),
            binding: bound.map(|a| (a, Time::MAX)),
            writes_binding: true,
            counted: false,
            remaining: 1,
            retries_left: 0,
            served_any: bound.is_some(),
            first_account: bound,
            intact: true,
            user: 0,
        });
        sim.issue(sid);
        // The request of this session (each test session has exactly one).
        (0..sim.requests.items.len() as u32)
            .rev()
            .find(|&i| sim.requests.items[i as usize].session == sid)
            .expect("the request exists")
    }

    fn set(sim: &mut Sim, account: usize, busy: u32, waiting: u32, last_used: Option<Time>) {
        let a = &mut sim.accounts[account];
        a.busy = busy;
        a.waiting = waiting;
        a.last_used = last_used;
        sim.busy_total = sim.accounts.iter().map(|a| a.busy as u64).sum();
        sim.waiting_total = sim.accounts.iter().map(|a| a.waiting as u64).sum();
    }

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

    /// FIFO: a fallback waiter at the head (cap C - R) does not block a sticky waiter
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
