//! The discrete-event engine and the gateway model (docs/model.md, docs/faults-and-limits.md).
//!
//! Files per mechanism: [`workload`] feeds the gateway (arrivals, sessions, think times,
//! client retries); [`admission`] is the gateway's decision (the user gate, the selection
//! layers, and the one function, [`Sim::usable`], that says whether an account may take a
//! request); [`wait`] holds waits (polls, FIFO hand-off, timeouts); [`faults`] the
//! upstream faults and usage windows; [`limits`] sub2api's session and RPM limits;
//! [`metrics`] what is measured.
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

mod admission;
mod arrivals;
mod cache;
mod faults;
mod limits;
mod metrics;
mod queue;
mod replay;
mod select_index;
mod slab;
mod streams;
#[cfg(test)]
mod test_support;
mod wait;
mod watchdog;
mod workload;

pub use admission::effective_concurrency;
pub use metrics::{Counts, MinuteBin, RepOutput};
pub use queue::EventQueue;
#[doc(hidden)] // for bench/micro only (see `IndexBench`)
pub use select_index::IndexBench;
pub use streams::replication_seed;
pub use watchdog::{Stopped, Watch, MAX_SAME_INSTANT};

use select_index::AccountIndex;
use slab::Slab;
use streams::{stream, LazyStream, StreamKind};
use watchdog::Watchdog;
use workload::exp_gap;

use crate::dist::Dist;
use crate::scenario::{
    Agentic, FallbackSelection, FaultKind, ModelConfig, Platform, WaitMode, Workload,
};
use crate::units::Time;
use hdrhistogram::Histogram;
use rand_pcg::Pcg64;
use std::collections::VecDeque;

// ---------------------------------------------------------------------------------------
// Model state

/// An upstream account. Laid out by hand (`repr(C)`) so that what every selection and
/// every slot taken or freed reads comes first and fits the first cache line (the
/// alignment starts each account on a line): at 10,000 accounts the accounts do not stay
/// in the nearer caches, and a request then waits on one line of its account instead of
/// three. The fields after the first line are read only with faults, usage windows, limits
/// or `wait = "fifo"`.
#[repr(C, align(64))]
struct Account {
    // The first cache line.
    /// When the account last released a slot; None = never used (sorts first).
    last_used: Option<Time>,
    priority: i64,
    /// Unschedulable while now < down_until (the latest of the cooldowns and the window
    /// pause), or for good once `error` is set (401/403).
    down_until: Time,
    concurrency: u32,
    /// EffectiveConcurrency(C, R, false).
    cap_new: u32,
    busy: u32,
    /// One counter for sticky and fallback waiters, as sub2api keeps.
    waiting: u32,
    /// Index of the account's pool in the model's pools.
    pool: u32,
    error: bool,
    // The rest.
    /// End of the rate-limit (429) and overload (529) cooldowns.
    rate_limited_until: Time,
    overloaded_until: Time,
    /// The usage window: open while now < window_end; requests completed in it.
    window_end: Time,
    window_count: u64,
    /// Successful completions in calendar minute `rpm_minute`.
    rpm_minute: u64,
    rpm_count: u32,
    /// Waiters in arrival order (`wait = "fifo"` only): (request, token).
    fifo: VecDeque<(u32, u32)>,
    /// Sessions registered on the account (session key, time last registered), for the
    /// session limit.
    sessions: Vec<(u64, Time)>,
}

/// The fields every request reads are in an account's first cache line.
const _: () = assert!(std::mem::offset_of!(Account, error) < 64);

impl Account {
    /// An account at the start of a run: idle, never used, no cooldown, window or limit
    /// state yet.
    fn idle(concurrency: u32, cap_new: u32, priority: i64, pool: u32) -> Account {
        Account {
            concurrency,
            cap_new,
            priority,
            busy: 0,
            waiting: 0,
            last_used: None,
            fifo: VecDeque::new(),
            pool,
            down_until: 0,
            error: false,
            rate_limited_until: 0,
            overloaded_until: 0,
            window_end: 0,
            window_count: 0,
            rpm_minute: 0,
            rpm_count: 0,
            sessions: Vec::new(),
        }
    }
}

#[derive(Default)]
struct User {
    busy: u32,
    waiting: u32,
    fifo: VecDeque<(u32, u32)>,
}

/// Aligned on cache lines: at thousands of accounts sessions are far out of the caches
/// and each is fetched ahead of its event whole; aligned, its 256 bytes are four lines,
/// not five. Laid out by hand (`repr(C)`): the gateway's stream, all that a missed poll
/// reads of its session, is the first line, so that a poll fetches that line alone.
#[repr(C, align(64))]
struct Session {
    /// The gateway's random choices for this session's requests (ties, poll jitter), kept
    /// apart so that they do not shift the session's own draws, nor other sessions'.
    choices: LazyStream,
    /// The session's own draws: length, user, service and think times.
    rng: Pcg64,
    /// (account, expiry): live while now < expiry.
    binding: Option<(u32, Time)>,
    /// False in open mode, where requests write no binding.
    writes_binding: bool,
    /// Counts in the session metrics (a real session arriving in the measured window).
    counted: bool,
    /// Requests still to issue, the current one included.
    remaining: u64,
    retries_left: u32,
    /// The session's first request has no final outcome yet and the next request it
    /// issues is that one (a client's retry of it counts as it): see `RequestWork::first`.
    first_open: bool,
    /// The account of its first served request (None: nothing served yet).
    first_account: Option<u32>,
    intact: bool,
    user: u32,
    /// The session's index, unique in the replication (the session limit's key).
    key: u64,
    /// Agentic sessions: steps still to issue in the current turn, the current one
    /// included; 0 before the turn's first step is issued (its steps are drawn then).
    steps_left: u64,
    /// The session's context size at its start, tokens.
    context_tokens: f64,
    /// Requests of the session completed so far (each adds `context_growth` tokens).
    completed: u64,
    /// Where the session's prompt cache is warm (for cache moves).
    cache: cache::SessionCache,
    /// Trace replay: the session's requests in flight and still to arrive.
    /// (Boxed: most sessions are not replayed, and a smaller session is cheaper to move
    /// and to keep in cache.)
    trace: Option<Box<replay::TraceSession>>,
}

/// What a new session starts with; everything else about it starts empty (no request
/// served, no steps drawn, cold caches).
pub(super) struct SessionStart {
    pub(super) rng: Pcg64,
    pub(super) choices: LazyStream,
    pub(super) binding: Option<(u32, Time)>,
    pub(super) writes_binding: bool,
    pub(super) counted: bool,
    pub(super) remaining: u64,
    pub(super) retries_left: u32,
    pub(super) user: u32,
    pub(super) key: u64,
}

impl Session {
    /// A session with nothing yet done: no binding, no steps drawn, cold caches.
    fn new(start: SessionStart) -> Session {
        let SessionStart {
            rng,
            choices,
            binding,
            writes_binding,
            counted,
            remaining,
            retries_left,
            user,
            key,
        } = start;
        Session {
            rng,
            choices,
            binding,
            writes_binding,
            counted,
            remaining,
            retries_left,
            first_open: true,
            first_account: None,
            intact: true,
            user,
            key,
            steps_left: 0,
            context_tokens: 0.0,
            completed: 0,
            cache: cache::SessionCache::default(),
            trace: None,
        }
    }

    /// Makes this (freed) session a new one, as [`Session::new`] would, in place: the old
    /// one's boxed parts are dropped, its cache's lists emptied (keeping their memory).
    /// Field by field: a whole new session would be built on the stack and copied into
    /// the slot at once, which stalls the processor (see `EventQueue::push`). Every field
    /// is named, so a field added later cannot be forgotten here.
    #[inline]
    fn reset(&mut self, start: SessionStart) {
        let SessionStart {
            rng,
            choices,
            binding,
            writes_binding,
            counted,
            remaining,
            retries_left,
            user,
            key,
        } = start;
        let Session {
            rng: rng_,
            choices: choices_,
            binding: binding_,
            writes_binding: writes_binding_,
            counted: counted_,
            remaining: remaining_,
            retries_left: retries_left_,
            first_open,
            first_account,
            intact,
            user: user_,
            key: key_,
            steps_left,
            context_tokens,
            completed,
            cache,
            trace,
        } = self;
        *rng_ = rng;
        *choices_ = choices;
        *binding_ = binding;
        *writes_binding_ = writes_binding;
        *counted_ = counted;
        *remaining_ = remaining;
        *retries_left_ = retries_left;
        *first_open = true;
        *first_account = None;
        *intact = true;
        *user_ = user;
        *key_ = key;
        *steps_left = 0;
        *context_tokens = 0.0;
        *completed = 0;
        cache.clear();
        *trace = None;
    }
}

/// What a request brings with it besides its session: a trace's service time and token
/// count, and whether its session's cache was warm somewhere when it arrived.
#[derive(Clone, Copy, Default)]
struct RequestWork {
    /// The service time given by a trace (else it is drawn when a slot is taken).
    service: Option<Time>,
    /// The request's input tokens given by a trace.
    input_tokens: Option<f64>,
    /// The session's previous request completed less than the cache TTL before this
    /// one arrived.
    warm_any: bool,
    /// Requests of its session completed before it arrived (its context grows by
    /// `context_growth` for each).
    completed_before: u64,
    /// It is its session's first request (or a client's retry of it): if it is finally
    /// rejected, its session is a rejected session (see `Sim::final_rejection`).
    first: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    UserWait,
    AccountWait,
    Serving,
}

/// Aligned on cache lines, as [`Session`]: three lines a request, not three or four. Laid
/// out by hand (`repr(C)`), as [`Account`]: what a poll reads and writes, the most common
/// event at thousands of accounts (most waiting requests poll several times), comes first
/// and fits the first line, so that a poll's request is one line fetched ahead, not three.
#[repr(C, align(64))]
struct Request {
    // The first cache line.
    session: u32,
    /// Account waited on or served by.
    account: u32,
    /// Slots the wait may use (C for sticky waiters, C - R for fallback waiters).
    wait_cap: u32,
    /// A fresh value from the simulation-wide counter at creation, at every wait start and
    /// whenever the request leaves a wait: an event or queue entry carrying another value is
    /// stale (it may even name a slab slot that a newer request now uses) and is ignored.
    token: u32,
    deadline: Time,
    /// The delay before the next poll, seconds (already jittered).
    poll_delay_s: f64,
    /// The account its session's binding named at arrival.
    bound: Option<u32>,
    phase: Phase,
    holds_user_slot: bool,
    measured: bool,
    /// Why the last sticky-layer pass did not serve the request on its bound account.
    cause: Option<Cause>,
    /// When the current attempt started (arrival, or the failover): waits are measured
    /// from here.
    attempt_start: Time,
    /// When the request arrived (its session's cache is judged as it was then).
    arrived: Time,
    // The rest: read when a slot is taken or freed, or on a failure.
    /// The attempt holding a slot fails when its slot time ends (decided at the slot).
    fails: Option<Failure>,
    work: RequestWork,
    /// Accounts an attempt of this request failed on: excluded from selection.
    failed: Vec<u32>,
    /// Replayed sessions only (their requests may overlap): the accounts holding a warm
    /// copy of the session's cache when the request arrived. Other sessions have one
    /// request in flight at a time, so their cache is unchanged from the request's arrival
    /// to its completion and is read then (see `cache_on_completion`).
    warm_copies: cache::WarmCopies,
}

/// What a poll reads and writes is in a request's first cache line.
const _: () = assert!(std::mem::offset_of!(Request, arrived) + 8 <= 64);

/// A session is four cache lines and a request three (see their alignment).
const _: () = assert!(std::mem::size_of::<Session>() <= 256);
const _: () = assert!(std::mem::size_of::<Request>() <= 192);
/// The gateway's stream is a session's first line.
const _: () = assert!(std::mem::size_of::<LazyStream>() <= 64);

impl Request {
    /// A request of session `session` arriving now (`now`), before the user gate.
    fn new(
        session: u32,
        measured: bool,
        bound: Option<u32>,
        token: u32,
        now: Time,
        work: RequestWork,
        warm_copies: cache::WarmCopies,
    ) -> Request {
        Request {
            session,
            measured,
            bound,
            phase: Phase::UserWait,
            holds_user_slot: false,
            account: 0,
            wait_cap: 0,
            deadline: 0,
            poll_delay_s: 0.0,
            token,
            attempt_start: now,
            failed: Vec::new(),
            cause: None,
            fails: None,
            work,
            arrived: now,
            warm_copies,
        }
    }

    /// Makes this (freed) request a new one, as [`Request::new`] would with no warm copies
    /// (a replayed request's are set by the caller), in place (its lists keep their
    /// memory). Every field is named, so a field added later cannot be forgotten here.
    /// The warm copies are emptied in place: an empty list assigned whole would be built
    /// on the stack and copied at once, a stall (see `EventQueue::push`).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn reset(
        &mut self,
        session: u32,
        measured: bool,
        bound: Option<u32>,
        token: u32,
        now: Time,
        work: RequestWork,
    ) {
        let Request {
            session: session_,
            measured: measured_,
            bound: bound_,
            phase,
            holds_user_slot,
            account,
            wait_cap,
            deadline,
            poll_delay_s,
            token: token_,
            attempt_start,
            failed,
            cause,
            fails,
            work: work_,
            arrived,
            warm_copies: warm_copies_,
        } = self;
        *session_ = session;
        *measured_ = measured;
        *bound_ = bound;
        *phase = Phase::UserWait;
        *holds_user_slot = false;
        *account = 0;
        *wait_cap = 0;
        *deadline = 0;
        *poll_delay_s = 0.0;
        *token_ = token;
        *attempt_start = now;
        failed.clear();
        *cause = None;
        *fails = None;
        *work_ = work;
        *arrived = now;
        warm_copies_.clear();
    }
}

/// Why a bound request left its account (the cause of a migration).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cause {
    /// The account was full (and its queue full, or `sticky_wait = false`).
    Capacity,
    /// The account was unschedulable (cooldown, error, window pause) or failed.
    Fault,
    /// A session or RPM limit refused it.
    Limit,
}

/// How an attempt fails.
#[derive(Clone, Copy)]
enum Failure {
    /// A drawn fault of this kind.
    Drawn(FaultKind),
    /// The usage window's budget was used up: a 429 whose cooldown lasts until the
    /// window's end.
    WindowExhausted(Time),
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
    /// (`session` is the request's, carried so that its memory can be fetched early.)
    Poll {
        req: u32,
        token: u32,
        session: u32,
    },
    Timeout {
        req: u32,
        token: u32,
    },
    Complete {
        req: u32,
        session: u32,
    },
    /// A per-account-hour fault event.
    AccountFault {
        account: u32,
        kind: FaultKind,
    },
    /// The next request of a replayed trace.
    TraceArrival,
}

/// An event is at most 16 bytes, so that a queue entry (time, sequence, event) stays 32.
const _: () = assert!(std::mem::size_of::<Ev>() <= 16);

#[derive(Clone, Copy)]
enum Reject {
    QueueFull,
    WaitTimeout,
    NoAccount,
    UserLimit,
    /// Nothing left to fail over to, or max_account_switches used up.
    Failover,
}

#[derive(Clone, Copy)]
enum Acquired {
    StickyHit,
    LoadAware,
    WaitSuccess,
}

const MINUTE: Time = 60_000_000;

/// How many events ahead the request and session of an event are asked for (see
/// [`Sim::prefetch_for`]): the furthest the queue shows.
const FETCH_AT: usize = queue::LOOK_AHEAD - 1;

/// How many events ahead the account of an event is asked for (see
/// [`Sim::prefetch_for`]): after its request, before the event.
const POINT_AT: usize = FETCH_AT.div_ceil(2);

/// Gateways with at most this many accounts are scanned at each selection; larger ones
/// keep ordered indexes (the same picks and draws either way; see `select_index`).
const SCAN_MAX_ACCOUNTS: usize = 24;

/// Settings read for most events, taken out of the configuration once so that the event
/// path does not match the workload's kind each time.
struct Hot<'a> {
    warmup: Time,
    horizon: Time,
    /// Sessions mode: the think time (between requests, or turns).
    think_time: Option<&'a Dist>,
    /// Sessions and open modes (trace requests carry theirs).
    service_time: Option<&'a Dist>,
    agentic: Option<&'a Agentic>,
    /// Sessions mode; 0 otherwise.
    client_retries: u32,
    client_retry_backoff: Time,
    /// Sessions and trace modes; 0 in open mode.
    context_growth: f64,
    cache_ttl: Time,
    /// A request can be served away from its session's warm cache: the gateway has more
    /// than one account. With one account every copy is on it, so no completion can be a
    /// cache move and the caches are not kept (see `record_completion`).
    cache_moves: bool,
    /// Gateway settings read at every slot taken.
    sticky_ttl: Time,
    /// OpenAI platform: a sticky hit refreshes the binding's TTL.
    openai: bool,
    /// A request moved off its full bound account keeps its old binding
    /// (`spillover_rebinds = false` or `sticky_wait = false`).
    keeps_binding: bool,
}

impl<'a> Hot<'a> {
    fn new(cfg: &'a ModelConfig) -> Hot<'a> {
        let mut hot = Hot {
            warmup: cfg.warmup,
            horizon: cfg.horizon,
            think_time: None,
            service_time: None,
            agentic: None,
            client_retries: 0,
            client_retry_backoff: 0,
            context_growth: 0.0,
            cache_ttl: cfg.cost.cache_ttl,
            cache_moves: cfg.pools.iter().map(|p| p.accounts as u64).sum::<u64>() > 1,
            sticky_ttl: cfg.gateway.sticky_ttl,
            openai: cfg.gateway.platform == Platform::OpenAi,
            keeps_binding: !cfg.gateway.spillover_rebinds || !cfg.gateway.sticky_wait,
        };
        match &cfg.workload {
            Workload::Sessions {
                think_time,
                service_time,
                client_retries,
                client_retry_backoff,
                agentic,
                context_growth,
                ..
            } => {
                hot.think_time = Some(think_time);
                hot.service_time = Some(service_time);
                hot.agentic = agentic.as_ref();
                hot.client_retries = *client_retries;
                hot.client_retry_backoff = *client_retry_backoff;
                hot.context_growth = *context_growth;
            }
            Workload::Trace { context_growth, .. } => hot.context_growth = *context_growth,
            Workload::Open { service_time, .. } => hot.service_time = Some(service_time),
        }
        hot
    }
}

/// One replication's state. `PLAIN` says that the model uses none of the optional
/// mechanisms whose checks sit on the path of every request: a user gate, faults, usage
/// windows or limits, selection indexes, FIFO waits, agentic sessions, trace replay (see
/// [`is_plain`]). The engine is compiled once for such models and once for all others: in
/// the first, those checks are known to fail and the compiler drops them, with what they
/// guard. The rules are written once, the same code for both.
struct Sim<'a, const PLAIN: bool = false> {
    cfg: &'a ModelConfig,
    hot: Hot<'a>,
    rep_seed: u64,
    /// The families of the per-session streams (their shared seeding done once).
    streams: streams::Families,
    now: Time,
    queue: EventQueue<Ev>,
    accounts: Vec<Account>,
    /// Ordered indexes for selection, for gateways of more than [`SCAN_MAX_ACCOUNTS`]
    /// accounts (smaller ones are scanned: cheaper than keeping indexes, same picks).
    index: Option<AccountIndex>,
    /// Tests: compare the indexes with ones built afresh after every event.
    #[cfg(test)]
    check_index_every_event: bool,
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
    /// Integrated up to here outside steady stretches (see `integrate_to`).
    last_integrated: Time,
    /// The current steady stretch: from `steady_start` to before `steady_end` (0: none),
    /// in minute `steady_minute` and in [warm-up, horizon) (see `integrate_to`).
    steady_end: Time,
    steady_start: Time,
    steady_minute: usize,
    /// Busy slots and account waiters when the stretch started, and the sums of the times
    /// of their changes since, +1 or -1 each (wrapping; see `flush_steady`).
    steady_busy_start: u64,
    steady_waiting_start: u64,
    busy_moments: u128,
    waiting_moments: u128,
    busy_slot_us: u128,
    waiting_us: u128,
    wait_hist: Histogram<u64>,
    /// Waits of 0 not yet in `wait_hist` (see `record_acquire`).
    zero_waits: u64,
    wait_sum_us: u128,
    events: u64,
    timeseries: Option<Vec<MinuteBin>>,
    /// Per pool: the cumulative per-request fault probabilities, in [`FaultKind`] order.
    fault_cdf: Vec<[f64; 3]>,
    /// Some pool has faults, a usage window or a limit: the checks that cost nothing
    /// otherwise are made only then.
    guarded: bool,
    /// Streams of the per-account-hour fault processes, by account x 3 + kind.
    fault_rngs: Vec<Option<Pcg64>>,
    /// Session arrivals over time (daily profile, bursty renewal).
    clock: arrivals::ArrivalClock,
    /// Trace replay state (trace mode only).
    replay: Option<replay::Replay>,
}

/// Hints the processor to load the cache lines of `value` (x86-64 only; nothing elsewhere).
#[inline(always)]
pub(super) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let start = value as *const T as *const i8;
        let mut at = 0;
        // SAFETY: a prefetch reads nothing and never faults, whatever the address; SSE,
        // which it needs, is part of every x86-64 processor. And the addresses are inside
        // `value`.
        unsafe {
            while at < std::mem::size_of::<T>() {
                _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(at));
                at += 64;
            }
            // The last line, when the value does not start on a line.
            _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(std::mem::size_of::<T>() - 1));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Hints the processor to load the cache line of address `at`, which need not be valid
/// (see [`prefetch`]: a prefetch never faults).
#[inline(always)]
pub(super) fn prefetch_address<T>(at: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: as in `prefetch`: a prefetch reads nothing and never faults.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(at as *const i8) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// Hints the processor to load the cache line where `value` starts (see [`prefetch`]).
#[inline(always)]
pub(super) fn prefetch_line<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: as in `prefetch`: a prefetch reads nothing and never faults.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(value as *const T as *const i8) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Runs one replication of `cfg` with replication seed `rep_seed`. With `timeseries`,
/// also records per-minute busy, waiting and failure counts over [0, horizon).
pub fn simulate(cfg: &ModelConfig, rep_seed: u64, timeseries: bool) -> RepOutput {
    let watch = Watch {
        max_same_instant: u64::MAX,
        ..Watch::default()
    };
    simulate_watched(cfg, rep_seed, timeseries, watch).expect("an unlimited watch never stops")
}

/// [`simulate`] under a [`Watch`]: stopped (with the reason) when time stops advancing,
/// the events budget is passed or the run is interrupted.
pub fn simulate_watched(
    cfg: &ModelConfig,
    rep_seed: u64,
    timeseries: bool,
    watch: Watch,
) -> Result<RepOutput, Stopped> {
    if is_plain(cfg) {
        Sim::<true>::build(cfg, rep_seed, timeseries).run_to_output(watch)
    } else {
        Sim::<false>::build(cfg, rep_seed, timeseries).run_to_output(watch)
    }
}

/// Some pool has faults, a usage window or a limit.
fn has_guards(cfg: &ModelConfig) -> bool {
    cfg.pools
        .iter()
        .any(|p| p.faults.any() || p.window.is_some() || p.max_sessions > 0 || p.base_rpm > 0)
}

/// Whether a replication of `cfg` can run as a [`Sim`] with `PLAIN` set: a sessions
/// workload without agentic sessions, no user gate, no faults, windows or limits,
/// `wait = "poll"`, and few enough accounts to be scanned.
fn is_plain(cfg: &ModelConfig) -> bool {
    let accounts: u64 = cfg.pools.iter().map(|p| p.accounts as u64).sum();
    matches!(cfg.workload, Workload::Sessions { agentic: None, .. })
        && cfg.users.is_none()
        && !has_guards(cfg)
        && cfg.gateway.wait != WaitMode::Fifo
        && accounts <= SCAN_MAX_ACCOUNTS as u64
}

impl<'a> Sim<'a> {
    /// A replication of any model (the tests' way in).
    #[cfg(test)]
    fn new(cfg: &'a ModelConfig, rep_seed: u64, timeseries: bool) -> Sim<'a> {
        Sim::build(cfg, rep_seed, timeseries)
    }
}

impl<'a, const PLAIN: bool> Sim<'a, PLAIN> {
    fn build(cfg: &'a ModelConfig, rep_seed: u64, timeseries: bool) -> Sim<'a, PLAIN> {
        debug_assert!(!PLAIN || is_plain(cfg));
        let mut accounts = Vec::new();
        for (pool_index, pool) in cfg.pools.iter().enumerate() {
            for _ in 0..pool.accounts {
                accounts.push(Account::idle(
                    pool.concurrency,
                    effective_concurrency(pool.concurrency, pool.reserved, false),
                    pool.priority,
                    pool_index as u32,
                ));
            }
        }
        let users = match &cfg.users {
            Some(u) => (0..u.count).map(|_| User::default()).collect(),
            None => Vec::new(),
        };
        let minutes = cfg.horizon.div_ceil(MINUTE) as usize;
        let fault_cdf = cfg
            .pools
            .iter()
            .map(|p| {
                let q = p.faults.per_request;
                [q[0], q[0] + q[1], q[0] + q[1] + q[2]]
            })
            .collect();
        let guarded = has_guards(cfg);
        let by_lru = cfg.gateway.fallback_selection == FallbackSelection::LastUsed;
        let index =
            (accounts.len() > SCAN_MAX_ACCOUNTS).then(|| AccountIndex::new(&accounts, by_lru));
        let mut sim = Sim {
            cfg,
            hot: Hot::new(cfg),
            rep_seed,
            streams: streams::Families::new(rep_seed),
            now: 0,
            queue: EventQueue::default(),
            accounts,
            index,
            #[cfg(test)]
            check_index_every_event: false,
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
            steady_end: 0,
            steady_start: 0,
            steady_minute: 0,
            steady_busy_start: 0,
            steady_waiting_start: 0,
            busy_moments: 0,
            waiting_moments: 0,
            busy_slot_us: 0,
            waiting_us: 0,
            wait_hist: Histogram::new(3)
                .expect("3 significant figures is a valid histogram precision"),
            zero_waits: 0,
            wait_sum_us: 0,
            events: 0,
            timeseries: timeseries.then(|| vec![MinuteBin::default(); minutes]),
            fault_cdf,
            guarded,
            fault_rngs: Vec::new(),
            clock: arrivals::ArrivalClock::new(&cfg.workload),
            replay: None,
        };
        sim.set_steady_bounds(0);
        sim
    }

    fn run_to_output(mut self, watch: Watch) -> Result<RepOutput, Stopped> {
        self.run_watched(&mut Watchdog::new(watch))?;
        Ok(self.into_output())
    }

    fn into_output(mut self) -> RepOutput {
        if self.steady_end > 0 {
            // The run ended inside a stretch, at its last event (nothing changes after it).
            self.flush_steady(self.now);
        }
        if self.zero_waits > 0 {
            // 0 is always within the histogram's range.
            self.wait_hist
                .record_n(0, self.zero_waits)
                .expect("0 fits any histogram");
        }
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
            usd_per_token: self.cfg.cost.usd_per_token(),
            trace_error: self.replay.and_then(|r| r.error),
        }
    }
}

impl<const PLAIN: bool> Sim<'_, PLAIN> {
    /// Some pool has faults, a usage window or a limit (never in a plain model).
    #[inline(always)]
    fn guards(&self) -> bool {
        !PLAIN && self.guarded
    }

    /// The selection indexes, if the gateway keeps them (never in a plain model).
    #[inline(always)]
    fn index(&self) -> Option<&AccountIndex> {
        if PLAIN {
            None
        } else {
            self.index.as_ref()
        }
    }

    /// Runs without limits (unit tests).
    #[cfg(test)]
    fn run(&mut self) {
        let watch = Watch {
            max_same_instant: u64::MAX,
            ..Watch::default()
        };
        self.run_watched(&mut Watchdog::new(watch))
            .expect("an unlimited watch never stops");
    }

    fn run_watched(&mut self, dog: &mut Watchdog) -> Result<(), Stopped> {
        match self.cfg.workload {
            Workload::Sessions { .. } => {
                let t = self.next_session_time();
                self.schedule_arrival(t, Ev::SessionArrival);
            }
            Workload::Trace { .. } => self.start_replay(),
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
        self.start_account_faults();
        // The event's entry stays in the queue while it is handled: the first event it
        // schedules takes its place (see `EventQueue::take`).
        while let Some((t, ev)) = self.queue.take() {
            if self.queue.is_large() {
                self.prefetch_for(&ev);
            }
            self.events += 1;
            dog.tick(t, self.now, self.events)?;
            self.integrate_to(t);
            self.now = t;
            match ev {
                Ev::SessionArrival => self.session_arrival(),
                Ev::OpenArrival { bound } => self.open_arrival(bound),
                Ev::Issue { session } => self.issue(session),
                Ev::Poll { req, token, .. } => self.poll(req, token),
                Ev::Timeout { req, token } => self.timeout(req, token),
                Ev::Complete { req, .. } => self.complete(req),
                Ev::AccountFault { account, kind } => self.account_fault(account, kind),
                Ev::TraceArrival => self.trace_arrival(),
            }
            self.queue.settle();
            #[cfg(test)]
            if self.check_index_every_event {
                let by_lru = self.cfg.gateway.fallback_selection == FallbackSelection::LastUsed;
                let fresh = AccountIndex::new(&self.accounts, by_lru);
                let index = self.index.as_ref().expect("checked only with indexes");
                assert!(index.same_as(&fresh), "indexes out of step");
            }
        }
        Ok(())
    }

    /// Asks the processor to bring into its caches, ahead of the events that need them,
    /// the request and session of an event and then what they point to: at thousands of
    /// accounts these are hundreds of thousands of structures, and the first touch of one
    /// is otherwise a wait on memory (small runs, whose queue is small too, skip this).
    /// In stages, over the next events in order (see `EventQueue::peek`): the request
    /// and session of the event [`FETCH_AT`] events ahead; then, once they are near, the
    /// account they name (and its places in the indexes) of the event [`POINT_AT`] events
    /// ahead; then, for the next event if it is a poll that will take a slot, the rest of
    /// what taking it reads. A poll, the most common event, is asked only the lines it
    /// reads unless it takes a slot: its request's first line and its session's gateway
    /// stream (see `Request` and `Session`); the processor has room for only so many
    /// lines on their way. The current event's own are asked for again, in case it came
    /// into the queue too late to be seen ahead (the lines are then near, and asking
    /// costs little).
    /// A hint only: no state changes.
    #[inline]
    fn prefetch_for(&self, ev: &Ev) {
        self.prefetch_event(ev);
        if let Some(e) = self.queue.peek(FETCH_AT - 1) {
            self.prefetch_event(e);
        }
        if let Some(e) = self.queue.peek(POINT_AT - 1) {
            self.prefetch_pointed(e);
        }
        if let Some(e) = self.queue.peek(0) {
            self.prefetch_taking(e);
        }
        self.prefetch_pointed(ev);
    }

    /// The third stage of [`Sim::prefetch_for`], for a poll: if its account has a slot
    /// for it now (it most likely will when the poll comes), what taking the slot reads
    /// and changes: the rest of its request and session, and the account's places in the
    /// indexes. Reads the request and account, so they should be near.
    #[inline(always)]
    fn prefetch_taking(&self, ev: &Ev) {
        if let Ev::Poll { req, session, .. } = *ev {
            let Some(r) = self.requests.items.get(req as usize) else {
                return;
            };
            let Some(a) = self.accounts.get(r.account as usize) else {
                return;
            };
            if r.phase == Phase::AccountWait && a.busy < r.wait_cap {
                prefetch(r);
                if let Some(s) = self.sessions.items.get(session as usize) {
                    prefetch(s);
                }
                if let Some(index) = self.index() {
                    index.prefetch(r.account);
                }
            }
        }
    }

    /// The first stage of [`Sim::prefetch_for`]: the request and session of `ev`.
    #[inline(always)]
    fn prefetch_event(&self, ev: &Ev) {
        let (requests, sessions) = (&self.requests.items, &self.sessions.items);
        match *ev {
            Ev::Complete { req, session } => {
                if let Some(r) = requests.get(req as usize) {
                    prefetch(r);
                }
                if let Some(s) = sessions.get(session as usize) {
                    prefetch(s);
                }
            }
            Ev::Poll { req, session, .. } => {
                if let Some(r) = requests.get(req as usize) {
                    prefetch_line(r);
                }
                if let Some(s) = sessions.get(session as usize) {
                    prefetch_line(&s.choices);
                }
            }
            Ev::Timeout { req, .. } => {
                if let Some(r) = requests.get(req as usize) {
                    prefetch(r);
                }
            }
            Ev::Issue { session } => {
                if let Some(s) = sessions.get(session as usize) {
                    prefetch(s);
                }
            }
            _ => {}
        }
    }

    /// The second stage of [`Sim::prefetch_for`]: what the request and session of `ev`
    /// point to (the account of a completion or a poll, and its places in the indexes;
    /// the bound account of a new request). Reads them, so they should be near.
    #[inline(always)]
    fn prefetch_pointed(&self, ev: &Ev) {
        let (requests, sessions) = (&self.requests.items, &self.sessions.items);
        match *ev {
            Ev::Complete { req, .. } => {
                if let Some(r) = requests.get(req as usize) {
                    self.prefetch_account(r.account);
                }
            }
            Ev::Poll { req, .. } => {
                // Its first line only: all a poll that finds no slot reads of it.
                if let Some(a) = requests
                    .get(req as usize)
                    .and_then(|r| self.accounts.get(r.account as usize))
                {
                    prefetch_line(a);
                }
            }
            Ev::Issue { session } => {
                if let Some((a, _)) = sessions.get(session as usize).and_then(|s| s.binding) {
                    self.prefetch_account(a);
                }
            }
            _ => {}
        }
    }

    /// Hints the processor to load account `i` and where it sits in the indexes, which an
    /// event about to change it reads (see [`Sim::prefetch_for`]).
    #[inline]
    fn prefetch_account(&self, i: u32) {
        if let Some(index) = self.index() {
            index.prefetch(i);
            if let Some(a) = self.accounts.get(i as usize) {
                // Its first line only: what a slot freed reads and changes (see `Account`).
                prefetch_line(a);
            }
        }
    }

    /// Arrivals happen only before the horizon.
    #[inline]
    fn schedule_arrival(&mut self, t: Time, ev: Ev) {
        if t < self.hot.horizon {
            self.queue.push(t, ev);
        }
    }

    fn in_window(&self, t: Time) -> bool {
        t >= self.hot.warmup && t < self.hot.horizon
    }

    /// Changes account `i` through `f`: every change of an account's busy count, waiter
    /// count or last use goes through here, so that the selection indexes stay in step.
    #[inline]
    fn with_account<R>(&mut self, i: u32, f: impl FnOnce(&mut Account) -> R) -> R {
        let a = &mut self.accounts[i as usize];
        match &mut self.index {
            Some(index) if !PLAIN => index.update(a, i, f),
            _ => f(a),
        }
    }

    /// A request is turned away: measured, its user slot freed, and the client retries
    /// or gives up.
    fn reject(&mut self, rid: u32, why: Reject) {
        let r = &self.requests.items[rid as usize];
        let (sid, holds_user, first) = (r.session, r.holds_user_slot, r.work.first);
        self.record_rejection(rid, why);
        self.requests.remove(rid);
        if holds_user {
            self.release_user_slot(sid);
        }
        self.client_after_rejection(sid, first);
    }

    /// A request finishes: its account slot and user slot are freed (a FIFO waiter may
    /// take them), then its session continues.
    fn complete(&mut self, rid: u32) {
        let r = &self.requests.items[rid as usize];
        let (account, sid, holds_user) = (r.account, r.session, r.holds_user_slot);
        self.prefetch_account(account);
        // (Only faults make an attempt fail.)
        if let Some(failure) = r.fails.filter(|_| !PLAIN) {
            return self.attempt_failed(rid, failure);
        }
        self.record_completion(rid);
        self.release_account_slot(account);
        if self.guards() {
            self.count_completion(account);
        }
        self.requests.remove(rid);
        if !PLAIN && self.cfg.gateway.wait == WaitMode::Fifo {
            self.fifo_handoff_account(account);
        }
        // (Only a user gate holds user slots.)
        if !PLAIN && holds_user {
            self.release_user_slot(sid);
        }
        self.session_after_completion(sid);
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::model;
    use super::*;

    /// A busy gateway of a few accounts with reserves, sticky and fallback waits (polls and
    /// timeouts), client retries and warm caches that can move: every rule a plain model
    /// reaches.
    const BUSY: &str = r#"
        horizon = 3600
        warmup = 300
        replications = 1
        [gateway]
        sticky_ttl = "5m"
        sticky_max_waiting = 2
        fallback_max_waiting = 1
        sticky_wait_timeout = "3s"
        fallback_wait_timeout = "2s"
        [[pools]]
        accounts = 3
        concurrency = 3
        reserved = 1
        [[pools]]
        accounts = 1
        concurrency = 2
        priority = 10
        [workload]
        arrival = { process = "poisson", rate = "40/min" }
        requests_per_session = { dist = "geometric", mean = 5 }
        think_time = { dist = "exponential", mean = 6 }
        service_time = { dist = "exponential", mean = 2 }
        client_retries = 2
        "#;

    /// The plain engine and the general one give the same results on a plain model, seed
    /// by seed: every count, integral, wait and minute.
    #[test]
    fn plain_engine_matches_the_general_one() {
        let cfg = model(BUSY);
        assert!(is_plain(&cfg));
        for seed in 0..4 {
            let watch = Watch {
                max_same_instant: u64::MAX,
                ..Watch::default()
            };
            let plain = Sim::<true>::build(&cfg, seed, true)
                .run_to_output(watch)
                .expect("runs");
            let general = Sim::<false>::build(&cfg, seed, true)
                .run_to_output(watch)
                .expect("runs");
            assert!(plain.counts.requests_rejected > 0 && !plain.wait_hist.is_empty());
            assert!(plain.counts.migrations > 0 && plain.counts.cache_moves > 0);
            assert_eq!(plain.counts, general.counts, "seed {seed}");
            assert_eq!(
                (plain.busy_slot_us, plain.waiting_us, plain.wait_sum_us),
                (
                    general.busy_slot_us,
                    general.waiting_us,
                    general.wait_sum_us
                ),
                "seed {seed}"
            );
            assert_eq!(plain.events, general.events, "seed {seed}");
            assert!(plain.wait_hist == general.wait_hist, "seed {seed}");
            assert_eq!(plain.timeseries, general.timeseries, "seed {seed}");
        }
    }

    /// Each optional mechanism makes a model not plain.
    #[test]
    fn optional_mechanisms_are_not_plain() {
        let with = |gateway: &str, pool: &str, workload: &str, top: &str| {
            model(&format!(
                "horizon = 60\nreplications = 1\n{top}\n[gateway]\n{gateway}\n\
                 [[pools]]\nconcurrency = 2\n{pool}\n[workload]\n\
                 arrival = {{ process = \"poisson\", rate = 1 }}\n\
                 think_time = {{ dist = \"exponential\", mean = 4 }}\n\
                 service_time = {{ dist = \"exponential\", mean = 1 }}\n{workload}\n"
            ))
        };
        let requests = "requests_per_session = { dist = \"geometric\", mean = 4 }";
        assert!(is_plain(&with("", "accounts = 24", requests, "")));
        let agentic = "turns_per_session = { dist = \"geometric\", mean = 3 }\n\
                       steps_per_turn = { dist = \"geometric\", mean = 2 }\n\
                       tool_time = { dist = \"exponential\", mean = 1 }";
        for (gateway, pool, workload, top) in [
            ("wait = \"fifo\"", "accounts = 2", requests, ""),
            ("", "accounts = 25", requests, ""),
            ("", "accounts = 2\nbase_rpm = 5", requests, ""),
            ("", "accounts = 2\nmax_sessions = 5", requests, ""),
            ("", "accounts = 2", agentic, ""),
            (
                "",
                "accounts = 2",
                requests,
                "[users]\ncount = 3\nconcurrency = 1",
            ),
        ] {
            let cfg = with(gateway, pool, workload, top);
            assert!(!is_plain(&cfg), "{gateway} {pool} {workload} {top}");
        }
    }
}
