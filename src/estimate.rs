//! The work and memory a scenario needs, estimated before anything is simulated, and the
//! budget `check` and `run` hold it to (`--force` runs past it).
//!
//! The estimate is arithmetic on the scenario's settings, not a trial run:
//!
//! - **requests** per replication: sessions arriving over the horizon (rate x load x
//!   horizon) x the mean number of requests per session (open mode: both streams' rates x
//!   horizon), times the attempts a request may make (1 + `client_retries`);
//! - **events**: [`EVENTS_PER_REQUEST`] per attempt (measured: about 3.3 on the example
//!   scenarios), summed over every sweep point and replication (the most replications a
//!   point may run when a precision target or decision rounds may add some);
//! - **polls**: the polls of one wait until its timeout, from the back-off schedule; a wait
//!   of more than [`MAX_POLLS_PER_WAIT`] polls is refused on its own, since at load every
//!   waiting request may make them all;
//! - **memory**: the per-minute series (see [`SERIES_BYTES_PER_MINUTE`]) of every
//!   replication a worker thread holds, the series kept per point for the output files,
//!   the state of one replication per thread (users, accounts, sessions in flight), and a
//!   replayed trace's requests per session key (one entry per distinct key, counted once
//!   per run: every thread reads the same map).
//!
//! The constants are this implementation's sizes; whoever changes how the series are kept
//! changes them here.

use crate::scenario::{Param, Scenario, WaitMode, Workload};
use crate::units::time_to_secs;

/// Simulated events per request attempt (arrival, slot taken, completion, next request).
pub const EVENTS_PER_REQUEST: f64 = 4.0;

/// Bytes per simulated minute of one replication's series while it is being collected
/// (one `MinuteBin`: two 128-bit integrals and four counts).
pub const SERIES_BYTES_PER_MINUTE: f64 = 64.0;

/// Bytes per simulated minute kept per sweep point until the output is written: the series
/// of replication 0, the busy-slot sums for MSER-5 and about 100 bytes of `timeseries.csv`
/// text.
pub const KEPT_BYTES_PER_MINUTE: f64 = 64.0 + 16.0 + 100.0;

/// Bytes of simulation state per user, per account and per session in flight.
pub const USER_BYTES: f64 = 48.0;
pub const ACCOUNT_BYTES: f64 = 256.0;
pub const SESSION_BYTES: f64 = 256.0;

/// Bytes per distinct session key of a replayed trace: its entry in the map of requests
/// per key (a 16-byte key, an 8-byte count, padded to 32, plus the table's control byte
/// and free buckets), at the peak of building it, when the table doubles and the old
/// one is still held. Measured: `slotsim check` of a CSV trace of 1 million (2 million)
/// rows, each with its own key, peaks at 106,468 KB (207,732 KB) by `/usr/bin/time -f
/// %M`, against 5,244 KB (5,452 KB) with `sessions = "request"`: 104 bytes per key.
pub const KEY_BYTES: f64 = 104.0;

/// Fixed cost of a process and of a replication (histograms, queues).
pub const BASE_BYTES: f64 = 32e6;
pub const REPLICATION_BYTES: f64 = 2e6;

/// The budget: events over the whole run (at about 10 million events a second per core,
/// some 15 minutes on one core), and peak memory.
pub const EVENT_BUDGET: f64 = 1e10;
pub const MEMORY_BUDGET_BYTES: f64 = 4e9;

/// The most polls one wait may make before its timeout.
pub const MAX_POLLS_PER_WAIT: f64 = 1e6;

/// What a run of a scenario will need.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub points: usize,
    /// The most replications a point may run.
    pub replications: u32,
    /// Request attempts per replication, summed over the points' loads / points (a mean).
    pub requests_per_replication: f64,
    pub events: f64,
    pub peak_memory_bytes: f64,
    /// Polls of one wait that runs to its timeout (the longest of the gateway's waits).
    pub polls_per_wait: f64,
    pub threads: usize,
    /// The watchdog's limit for one replication: 4 x the events of a replication at the
    /// highest load with every attempt polling a whole wait, plus 10 million.
    pub events_budget_per_replication: u64,
}

impl Estimate {
    /// What is over the budget, in words; empty when within it.
    pub fn over_budget(&self) -> Vec<String> {
        let mut over = Vec::new();
        if self.events > EVENT_BUDGET {
            over.push(format!(
                "about {} simulated events, more than the budget of {} (roughly {} on one core)",
                big(self.events),
                big(EVENT_BUDGET),
                duration_words(self.events / 1e7)
            ));
        }
        if self.peak_memory_bytes > MEMORY_BUDGET_BYTES {
            over.push(format!(
                "about {} of memory at peak, more than the budget of {}",
                bytes(self.peak_memory_bytes),
                bytes(MEMORY_BUDGET_BYTES)
            ));
        }
        if self.polls_per_wait > MAX_POLLS_PER_WAIT {
            over.push(format!(
                "a wait that runs to its timeout polls about {} times (the poll back-off is far shorter than the wait timeout), more than {}",
                big(self.polls_per_wait),
                big(MAX_POLLS_PER_WAIT)
            ));
        }
        over
    }

    /// One line for `check` and `run`.
    pub fn words(&self) -> String {
        format!(
            "estimate: {} point{} x up to {} replication{}, about {} requests per replication, {} events, peak memory about {} on {} thread{}",
            self.points,
            if self.points == 1 { "" } else { "s" },
            self.replications,
            if self.replications == 1 { "" } else { "s" },
            big(self.requests_per_replication),
            big(self.events),
            bytes(self.peak_memory_bytes),
            self.threads,
            if self.threads == 1 { "" } else { "s" },
        )
    }
}

fn big(x: f64) -> String {
    if !x.is_finite() {
        return "an unbounded number of".to_string();
    }
    match x {
        x if x >= 1e12 => format!("{:.3e}", x),
        x if x >= 1e9 => format!("{:.1} billion", x / 1e9),
        x if x >= 1e6 => format!("{:.1} million", x / 1e6),
        x if x >= 1e4 => format!("{:.0} thousand", x / 1e3),
        x => format!("{x:.0}"),
    }
}

fn bytes(b: f64) -> String {
    if !b.is_finite() {
        return "unbounded".to_string();
    }
    match b {
        b if b >= 1e12 => format!("{:.1} TB", b / 1e12),
        b if b >= 1e9 => format!("{:.1} GB", b / 1e9),
        b => format!("{:.0} MB", (b / 1e6).max(1.0)),
    }
}

fn duration_words(s: f64) -> String {
    if !s.is_finite() || s > 86400.0 * 365.0 {
        "years".to_string()
    } else if s > 86400.0 {
        format!("{:.0} days", s / 86400.0)
    } else if s > 3600.0 {
        format!("{:.0} hours", s / 3600.0)
    } else {
        format!("{:.0} minutes", (s / 60.0).max(1.0))
    }
}

/// Polls of one wait of `timeout_s` under the poll back-off (`fifo` waits do not poll).
fn polls_in(timeout_s: f64, s: &Scenario) -> f64 {
    if s.gateway.wait == WaitMode::Fifo || timeout_s <= 0.0 {
        return 0.0;
    }
    let p = &s.gateway.poll;
    // The smallest delay the schedule can reach bounds the number of polls from above.
    let min_delay = (p.initial_s.min(p.max_s) * (1.0 - p.jitter)).max(1e-6);
    let mut t = 0.0;
    let mut n = 1.0;
    let mut d = p.initial_s;
    // Walk the growth phase; after it every delay is at least max_s x (1 - jitter).
    for _ in 0..10_000 {
        if t >= timeout_s || d >= p.max_s {
            break;
        }
        t += d.max(1e-6);
        n += 1.0;
        d *= p.multiplier.max(1.0);
    }
    if t < timeout_s {
        let floor = (p.max_s * (1.0 - p.jitter)).max(min_delay);
        n += (timeout_s - t) / floor;
    }
    n
}

/// Estimates a run of `s` on `threads` worker threads.
pub fn estimate(s: &Scenario, threads: usize) -> Estimate {
    let horizon_s = time_to_secs(s.horizon);
    let minutes = (horizon_s / 60.0).ceil() + 1.0;
    let points = s.sweep.points();
    let n = points.len().max(1);
    let replications = if s.precision.is_some() {
        s.max_replications.max(s.replications)
    } else {
        s.decision_cap().max(s.replications)
    };
    let (rate, per_session, retries, session_life_s) = match &s.workload {
        Workload::Sessions {
            arrival_rate,
            requests_per_session,
            think_time,
            service_time,
            client_retries,
            agentic,
            ..
        } => {
            let turns = requests_per_session.mean().max(1.0);
            let (steps, tool) = agentic.as_ref().map_or((1.0, 0.0), |a| {
                (
                    a.steps_per_turn.mean().max(1.0),
                    a.tool_time.mean().max(0.0),
                )
            });
            let m = turns * steps;
            let life = m * service_time.mean().max(0.0)
                + turns * think_time.mean().max(0.0)
                + turns * (steps - 1.0) * tool;
            (*arrival_rate, m, *client_retries as f64, life)
        }
        // A replayed trace: its request rate, each request counted as a session that
        // is kept until its binding and cache could have gone cold.
        Workload::Trace { trace, .. } => {
            let period_s = trace.period_us() as f64 / 1e6 / trace.rate_scale;
            let idle_s = time_to_secs(s.gateway.sticky_ttl.max(s.cost.cache_ttl));
            (
                trace.records as f64 / period_s,
                1.0,
                0.0,
                trace.mean_service_s + idle_s,
            )
        }
        Workload::Open {
            bound_rate,
            new_rate,
            service_time,
        } => (
            bound_rate + new_rate,
            1.0,
            0.0,
            service_time.mean().max(0.0),
        ),
    };
    let load_sum: f64 = points
        .iter()
        .map(|p| p.get(Param::Load).unwrap_or(1.0))
        .sum::<f64>()
        .max(1.0);
    let max_load = points
        .iter()
        .filter_map(|p| p.get(Param::Load))
        .fold(1.0_f64, f64::max);
    let attempts_per_request = 1.0 + retries;
    let requests_at_load_1 = rate * horizon_s * per_session * attempts_per_request;
    let requests_per_replication = requests_at_load_1 * load_sum / n as f64;
    let events = requests_at_load_1 * load_sum * replications as f64 * EVENTS_PER_REQUEST;

    let max_accounts = points
        .iter()
        .filter_map(|p| p.get(Param::Accounts))
        .fold(0.0_f64, f64::max);
    let accounts: f64 = if max_accounts > 0.0 {
        max_accounts * s.pools.len() as f64
    } else {
        s.pools.iter().map(|p| p.accounts as f64).sum()
    };
    let users = s.users.as_ref().map_or(0.0, |u| u.count as f64);
    // Sessions in flight (Little's law), plus a margin for the arrival spread.
    let live_sessions = rate * max_load * session_life_s.min(horizon_s) * 1.5 + 100.0;
    let per_replication = REPLICATION_BYTES
        + users * USER_BYTES
        + accounts * ACCOUNT_BYTES
        + live_sessions * SESSION_BYTES;
    let workers = threads.clamp(1, n.saturating_mul(replications as usize).max(1)) as f64;
    // Each point collects the series of its replications before it is summarised, and
    // the worker threads may work on every point at once (measured: 30 points of a
    // 366-day horizon held over 8 GB): count a batch for every point.
    let points_at_once = n as f64;
    let batch = replications as f64;
    let series = points_at_once * batch * minutes * SERIES_BYTES_PER_MINUTE
        + n as f64 * minutes * KEPT_BYTES_PER_MINUTE;
    // A replayed trace's requests per key: one map for the whole run, shared by the threads.
    let key_map = match &s.workload {
        Workload::Trace { trace, .. } => trace.key_counts.len() as f64 * KEY_BYTES,
        _ => 0.0,
    };
    let peak_memory_bytes = BASE_BYTES + workers * per_replication + series + key_map;

    let polls_per_wait = polls_in(
        time_to_secs(s.gateway.sticky_wait_timeout)
            .max(time_to_secs(s.gateway.fallback_wait_timeout))
            .max(
                s.users
                    .as_ref()
                    .map_or(0.0, |u| time_to_secs(u.wait_timeout)),
            ),
        s,
    );
    let budget = requests_at_load_1 * max_load * (EVENTS_PER_REQUEST + polls_per_wait) * 4.0 + 1e7;
    Estimate {
        events_budget_per_replication: if budget < u64::MAX as f64 {
            budget as u64
        } else {
            u64::MAX
        },
        points: n,
        replications,
        requests_per_replication,
        events,
        peak_memory_bytes,
        polls_per_wait,
        threads: workers as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse_scenario;

    fn scenario(extra: &str, workload: &str) -> Scenario {
        let text = format!(
            r#"
horizon = "6h"
replications = 10
{extra}
[[pools]]
accounts = 20
concurrency = 5
[workload]
{workload}
"#
        );
        parse_scenario(&text, "t.toml").unwrap()
    }

    const SESSIONS: &str = r#"arrival = { process = "poisson", rate = "20/min" }
requests_per_session = { dist = "geometric", mean = 16 }
think_time = { dist = "exponential", mean = "20s" }
service_time = { dist = "exponential", mean = "10s" }"#;

    #[test]
    fn the_example_is_within_budget_and_its_numbers_add_up() {
        let s = scenario("", SESSIONS);
        let e = estimate(&s, 2);
        // 20/min x 360 min x 16 requests.
        assert!(
            (e.requests_per_replication - 115_200.0).abs() < 1.0,
            "{e:?}"
        );
        // Decision rounds may take a point to 4 x 10 replications.
        assert_eq!(e.replications, 40);
        assert!((e.events - 115_200.0 * 40.0 * EVENTS_PER_REQUEST).abs() < 10.0);
        assert!(e.over_budget().is_empty(), "{:?}", e.over_budget());
        assert!(e.words().contains("events"), "{}", e.words());
        // sub2api's schedule: 120 s of polling is some 60-70 polls.
        assert!(
            (40.0..100.0).contains(&e.polls_per_wait),
            "{}",
            e.polls_per_wait
        );
    }

    #[test]
    fn runaway_settings_are_over_budget() {
        let long = scenario(
            "[sweep]\nreserved = [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29]",
            SESSIONS,
        );
        let mut long = long;
        long.horizon = 366 * 86400 * 1_000_000;
        let e = estimate(&long, 2);
        assert!(!e.over_budget().is_empty(), "{}", e.words());

        let huge_sessions = scenario(
            "",
            r#"arrival = { process = "poisson", rate = "20/min" }
requests_per_session = { dist = "geometric", mean = 1e12 }
think_time = { dist = "constant", value = 0 }
service_time = { dist = "constant", value = 0 }"#,
        );
        let over = estimate(&huge_sessions, 2).over_budget();
        assert!(over.iter().any(|o| o.contains("events")), "{over:?}");

        let users = scenario("[users]\ncount = 10000000\nconcurrency = 1", SESSIONS);
        let e = estimate(&users, 100);
        assert!(e.peak_memory_bytes > 10e9, "{}", e.words());

        let polls = scenario(
            "[gateway]\npoll_initial = \"1us\"\npoll_max = \"1us\"\nfallback_wait_timeout = 1e9",
            SESSIONS,
        );
        let over = estimate(&polls, 2).over_budget();
        assert!(over.iter().any(|o| o.contains("polls")), "{over:?}");
    }

    /// A trace whose every request has its own key: the estimate holds one map entry per
    /// key, once for the run whatever the number of threads, and none when the trace's
    /// keys are not used.
    #[test]
    fn a_traces_distinct_keys_are_counted_once_per_run() {
        let dir = tempfile::tempdir().unwrap();
        let keys = 5000;
        let mut csv = String::from("t,sid,svc\n");
        for i in 0..keys {
            csv += &format!("{i},s{i},1\n");
        }
        // Every key twice: the map holds distinct keys, not requests.
        for i in 0..keys {
            csv += &format!("{},s{i},1\n", keys + i);
        }
        let file = dir.path().join("t.csv");
        std::fs::write(&file, csv).unwrap();
        let trace = |sessions: &str| {
            scenario(
                "",
                &format!(
                    "mode = \"trace\"\ntrace = {{ file = {:?}, format = \"csv\", timestamp = \"t\", session = \"sid\", service_time = \"svc\", sessions = \"{sessions}\" }}",
                    file.to_str().unwrap()
                ),
            )
        };
        let (by_key, by_request) = (trace("key"), trace("request"));
        for threads in [1, 4] {
            let extra = estimate(&by_key, threads).peak_memory_bytes
                - estimate(&by_request, threads).peak_memory_bytes;
            assert!(
                (extra - keys as f64 * KEY_BYTES).abs() < 1.0,
                "{threads} threads: {extra}"
            );
        }
    }
}
