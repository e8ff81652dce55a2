//! Trace replay's sessions by hand: a session is every request of its key in one pass
//! (not split by idle gaps), it finishes when the last of them is done, and it is
//! rejected when its first request is (README "What a run writes", docs/workloads.md).

use slotsim::runner::RunResult;
use slotsim::scenario::parse_scenario;

/// Runs `gateway_and_pools` against the trace `file_text` (written as `name`, read with
/// `trace`) for `horizon` seconds, no warm-up, one replication.
fn run_trace(
    name: &str,
    file_text: &str,
    trace: &str,
    horizon: u64,
    gateway_and_pools: &str,
) -> RunResult {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), file_text).unwrap();
    let text = format!(
        r#"
        horizon = {horizon}
        warmup = 0
        replications = 1
        {gateway_and_pools}
        [workload]
        mode = "trace"
        trace = {trace}
        "#
    );
    let path = dir.path().join("s.toml");
    let s = parse_scenario(&text, path.to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"));
    crate::common::run(&s)
}

/// One account of one slot and no waiting: a loss system.
const ONE_SLOT_NO_WAIT: &str = r#"
    [gateway]
    sticky_max_waiting = 0
    fallback_max_waiting = 0
    [[pools]]
    accounts = 1
    concurrency = 1
    "#;

/// A Mooncake row at `ms` with session key (`a`, `b`) served for 1 s + `out` / 40 s.
fn mooncake_row(ms: u64, a: u64, b: u64, out: u64) -> String {
    format!(
        "{{\"timestamp\": {ms}, \"input_length\": 1000, \"output_length\": {out}, \"hash_ids\": [{a}, {b}, 7]}}\n"
    )
}

/// Session A's only request takes the one slot at 0 s for 100 s; session B's only
/// request comes at 10 s, finds the slot busy and no wait allowed, and is rejected: B's
/// first request is rejected, so B is a rejected session, whatever the horizon (before,
/// it counted only once B had been idle for max(sticky_ttl, cache_ttl) = 1 h before the
/// horizon). Both sessions finish when their one request is done: A intact, B abandoned.
#[test]
fn a_session_whose_first_request_is_rejected_is_rejected_at_any_horizon() {
    let file = mooncake_row(0, 1, 2, 3960) + &mooncake_row(10_000, 3, 4, 3960);
    for horizon in [300, 4000] {
        let r = run_trace(
            "t.jsonl",
            &file,
            r#"{ file = "t.jsonl", format = "mooncake" }"#,
            horizon,
            ONE_SLOT_NO_WAIT,
        );
        let c = &r.points[0].reps[0].counts;
        assert_eq!(
            (c.sessions_arrived, c.sessions_rejected, c.requests_rejected),
            (2, 1, 1),
            "horizon {horizon}"
        );
        assert_eq!(
            (c.sessions_finished, c.sessions_abandoned, c.sessions_intact),
            (2, 1, 1),
            "horizon {horizon}"
        );
        assert_eq!(r.points[0].estimate("new_session_rejection_rate").mean, 0.5);
    }
}

/// Session B's first request (at 10 s) is rejected while A holds the slot; its second
/// (at 200 s) is served. B is still a rejected session (its first request was), counted
/// once; it is not abandoned (a request was served) nor intact (one was rejected). A
/// later rejection of a session whose first request was served does not make it a
/// rejected session: A's second request (at 250 s, while B's holds the slot) is rejected.
#[test]
fn only_the_first_request_decides_a_rejected_session() {
    let file = mooncake_row(0, 1, 2, 3960)
        + &mooncake_row(10_000, 3, 4, 3960)
        + &mooncake_row(200_000, 3, 4, 3960)
        + &mooncake_row(250_000, 1, 2, 40);
    let r = run_trace(
        "t.jsonl",
        &file,
        r#"{ file = "t.jsonl", format = "mooncake" }"#,
        1000,
        ONE_SLOT_NO_WAIT,
    );
    let c = &r.points[0].reps[0].counts;
    assert_eq!(
        (
            c.requests_arrived,
            c.requests_completed,
            c.requests_rejected
        ),
        (4, 2, 2)
    );
    assert_eq!(
        (
            c.sessions_arrived,
            c.sessions_rejected,
            c.sessions_finished,
            c.sessions_abandoned,
            c.sessions_intact
        ),
        (2, 1, 2, 0, 0)
    );
}

/// Two requests of key `a`, at 0 s and at 5000 s (1 s each), with a 1-hour sticky TTL
/// and cache TTL: one session, whose binding has expired when the second request comes
/// (an expired rebind, not a second session). Before, the session ended after an hour
/// idle and the second request started a new one.
#[test]
fn a_key_is_one_session_across_an_idle_gap() {
    let r = run_trace(
        "t.csv",
        "t,s,svc\n0,a,1\n5000,a,1\n",
        r#"{ file = "t.csv", format = "csv", timestamp = "t", session = "s", service_time = "svc" }"#,
        6000,
        "[[pools]]\naccounts = 1\nconcurrency = 1\n",
    );
    let c = &r.points[0].reps[0].counts;
    assert_eq!(
        (
            c.requests_arrived,
            c.sessions_arrived,
            c.expired_rebinds,
            c.bound_requests
        ),
        (2, 1, 1, 0)
    );
    assert_eq!(
        (c.sessions_finished, c.sessions_intact, c.sessions_rejected),
        (1, 1, 0)
    );
}

/// The session limit knows a returning key as the same session: one account with
/// `max_sessions = 1` and a 2-hour idle timeout. a at 0 s registers; b at 10 s is refused
/// (a is still active there) and rejected; a at 5000 s is the same session, refreshed and
/// served. (Had it been a new session, it would have been refused too.)
#[test]
fn the_session_limit_knows_a_returning_key() {
    let r = run_trace(
        "t.csv",
        "t,s,svc\n0,a,1\n10,b,1\n5000,a,1\n",
        r#"{ file = "t.csv", format = "csv", timestamp = "t", session = "s", service_time = "svc" }"#,
        6000,
        "[[pools]]\naccounts = 1\nconcurrency = 1\nmax_sessions = 1\nsession_idle_timeout = \"2h\"\n",
    );
    let c = &r.points[0].reps[0].counts;
    assert_eq!(
        (c.requests_completed, c.requests_rejected),
        (2, 1),
        "a is served twice, b refused"
    );
    assert_eq!(
        (c.sessions_arrived, c.sessions_rejected, c.sessions_finished),
        (2, 1, 2)
    );
}

/// A session finishes when the last request of its key is done, and one whose remaining
/// requests fall at or after the horizon is cut (arrived, not finished): b (at 10 s and
/// 500 s) is cut at a horizon of 300 s; a (0 s) and c (20 s, 30 s) finish, well before
/// an hour idle.
#[test]
fn a_session_finishes_with_its_last_request_or_is_cut() {
    let r = run_trace(
        "t.csv",
        "t,s,svc\n0,a,1\n10,b,1\n20,c,1\n30,c,1\n500,b,1\n",
        r#"{ file = "t.csv", format = "csv", timestamp = "t", session = "s", service_time = "svc" }"#,
        300,
        "[[pools]]\naccounts = 2\nconcurrency = 2\n",
    );
    let c = &r.points[0].reps[0].counts;
    assert_eq!(
        (c.requests_arrived, c.sessions_arrived, c.sessions_finished),
        (4, 3, 2)
    );
    assert_eq!(c.sessions_intact, 2);
}

/// Requests dealt at random to 3 client sessions: each client's requests of the pass
/// are one session, finished when its last one is done (the deal is known ahead), so
/// all 3 finish long before an hour idle; none is split in two. Looped, each pass deals
/// afresh (30 rows 2 s apart: a period of 60 s, three passes in 180 s): 9 sessions, all
/// finished.
#[test]
fn client_sessions_finish_with_their_last_request() {
    let rows: String = (0..30).map(|i| format!("{},1\n", 2 * i)).collect();
    for (looped, passes) in [(false, 1), (true, 3)] {
        let r = run_trace(
            "t.csv",
            &format!("t,svc\n{rows}"),
            &format!(
                r#"{{ file = "t.csv", format = "csv", timestamp = "t", service_time = "svc", sessions = 3, loop = {looped} }}"#
            ),
            180,
            "[[pools]]\naccounts = 2\nconcurrency = 2\n",
        );
        let c = &r.points[0].reps[0].counts;
        assert_eq!(
            (c.requests_arrived, c.requests_completed, c.sessions_arrived),
            (30 * passes, 30 * passes, 3 * passes)
        );
        assert_eq!((c.sessions_finished, c.sessions_rejected), (3 * passes, 0));
    }
}
