//! Trace replay's sessions by hand: a session is rejected when its first request is
//! (MODEL.md section 6).

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
/// horizon).
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
        assert_eq!(r.points[0].estimate("new_session_rejection_rate").mean, 0.5);
    }
}

/// Session B's first request (at 10 s) is rejected while A holds the slot; its second
/// (at 200 s) is served. B is still a rejected session (its first request was), counted
/// once. A later rejection of a session whose first request was served does not make it a
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
    assert_eq!((c.sessions_arrived, c.sessions_rejected), (2, 1));
}
