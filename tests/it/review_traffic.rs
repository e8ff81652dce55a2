//! Independent review of the realistic-workload code: hand-timed cases of the cache-move
//! and context rules where requests of one session overlap (trace replay is open loop).

use slotsim::scenario::parse_scenario;

/// Runs a csv trace (columns t, s, svc: seconds, session, service seconds) on two
/// accounts of two slots each, reserved 0, `sticky_wait = false`, context growth 1 000
/// tokens per completed request, cache TTL 1 h.
fn run_csv(rows: &str) -> slotsim::runner::RunResult {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.csv"), format!("t,s,svc\n{rows}")).unwrap();
    let text = r#"
        horizon = 200
        warmup = 0
        replications = 1
        [gateway]
        sticky_wait = false
        [[pools]]
        accounts = 2
        concurrency = 2
        reserved = 0
        [workload]
        mode = "trace"
        trace = { file = "t.csv", format = "csv", timestamp = "t", session = "s", service_time = "svc" }
        context_growth = 1000
        [cost]
        cache_ttl = "1h"
        "#;
    let path = dir.path().join("s.toml");
    let s = parse_scenario(text, path.to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"));
    crate::common::run(&s)
}

/// One session a: r1 at 0 s (1 s) is served on some account A and completes at 1;
/// r2 at 2 and r3 at 2.5 (100 s each) fill A's two slots; r4 at 3 (5 s) finds A full,
/// and with `sticky_wait = false` spills to B (3 to 8): the session is warm (r1 completed
/// at 1) and B has no copy, a move of 1 000 tokens (one request completed before it).
/// r5 at 4 (10 s) also spills to B (4 to 14). When r5 arrived B held no copy: r4 only
/// completes there at 8, after r5 arrived. So r5 is a move too, of 1 000 tokens (still
/// one request completed before r5 arrived). r2 and r3 complete on A, warm since 1: no
/// move. Total: 2 moves, 2 000 tokens.
#[test]
fn a_copy_written_after_arrival_does_not_make_the_account_warm() {
    let r = run_csv("0,a,1\n2,a,100\n2.5,a,100\n3,a,5\n4,a,10\n");
    let c = &r.points[0].reps[0].counts;
    assert_eq!(
        (c.requests_completed, c.migrations),
        (5, 2),
        "r4 and r5 spill from A to B"
    );
    assert_eq!((c.cache_moves, c.cache_move_tokens), (2, 2_000));
}

/// The case above plus r6 at 20 s (1 s): A is still full (r2, r3 until 102), the binding
/// still names A (`sticky_wait = false` writes none on a capacity spill), so r6 spills to
/// B again, a third migration; but B holds warm copies (r4 at 8, r5 at 14), so it is not
/// a move.
#[test]
fn a_spill_back_to_a_warm_account_is_not_a_move() {
    let r = run_csv("0,a,1\n2,a,100\n2.5,a,100\n3,a,5\n4,a,10\n20,a,1\n");
    let c = &r.points[0].reps[0].counts;
    assert_eq!((c.requests_completed, c.migrations), (6, 3));
    assert_eq!((c.cache_moves, c.cache_move_tokens), (2, 2_000));
}
