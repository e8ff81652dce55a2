//! Regression tests from an independent review of the fault and limit model against its
//! precise rules: each pins one reading where the code once differed.

use crate::common::*;

/// One one-slot account with `extra` pool keys, sessions every 10 s (10, 20, ..., 90)
/// with one 1 s request each, horizon 100 s, no waiting.
fn one_account(extra: &str) -> String {
    format!(
        r#"
        horizon = 100
        replications = 1
        [gateway]
        sticky_max_waiting = 0
        fallback_max_waiting = 0
        [[pools]]
        accounts = 1
        concurrency = 1
        {extra}
        [workload]
        arrival = {{ process = "periodic", rate = "6/min" }}
        requests_per_session = {{ dist = "constant", value = 1 }}
        service_time = {{ dist = "constant", value = "1s" }}
        "#
    )
}

/// Per-request probabilities that add up to exactly 1 as decimals are allowed, although
/// their binary sum (0.33 + 0.56 + 0.11 = 1.0000000000000002) is a hair above 1; a sum
/// really above 1 is still an error.
#[test]
fn per_request_probabilities_summing_to_one_are_allowed() {
    let faults = |auth: &str| {
        one_account(&format!(
            "[pools.faults]\nrate_limit = {{ per_request = 0.33 }}\noverload = {{ per_request = 0.56 }}\nauth_error = {{ per_request = {auth} }}"
        ))
    };
    let s = scenario(&faults("0.11"));
    assert_eq!(s.pools[0].faults.per_request, [0.33, 0.56, 0.11]);
    let err = slotsim::scenario::parse_scenario(&faults("0.12"), "t.toml")
        .expect_err("a sum of 1.01 is an error");
    assert!(err.to_string().contains("add up to"), "{err}");
}

/// pause_at pauses after ceil(f x budget) completions, the exact product: 0.07 x 100 is 7
/// (not 8, as the binary product 7.000000000000001 would round up to). The account pauses
/// after the 7th completion (S6, 70-71) until the window's end (1 h): S7 (80) and S8 (90)
/// find no schedulable account (503).
#[test]
fn pause_at_uses_the_exact_product() {
    let text = one_account("window = { length = \"1h\", budget = 100, pause_at = 0.07 }");
    let s = scenario(&text);
    assert_eq!(s.pools[0].window.expect("a window").pause_after, Some(7));
    let c = run(&s).points[0].reps[0].counts.clone();
    assert_eq!((c.requests_completed, c.rejected_no_account), (7, 2));
    // A product that is not whole still rounds up: 0.9 x 5 = 4.5 -> 5.
    let s = scenario(&one_account(
        "window = { length = \"1h\", budget = 5, pause_at = 0.9 }",
    ));
    assert_eq!(s.pools[0].window.expect("a window").pause_after, Some(5));
}

/// The session limit on the sticky layer (docs/faults-and-limits.md's step-3 order: free slot, then the
/// registration, refused -> cause `limit`), and the load-aware layer moving on to the next
/// account when its pick refuses the session. Pool a (priority 10, two slots, max_sessions
/// = 1, idle 8 s), pool b (priority 50, two slots); sessions every 10 s with two 7 s
/// requests 9 s apart; horizon 30 s. S0 (10) registers on a and runs 10-17. S1 (20): S0 has
/// lapsed (10 + 8 <= 20) and is purged, S1 registers on a and runs 20-27. S0's second
/// request (26) is bound to a, which has a free slot, but S1 is active there (until 28):
/// refused, cause limit; the load-aware layer picks a first (priority), is refused again,
/// and takes b: one migration, of cause `limit`. Without the limit it stays on a.
#[test]
fn session_limit_refuses_the_sticky_hit_and_the_load_aware_pick() {
    let text = |limit: &str| {
        format!(
            r#"
            horizon = 30
            replications = 1
            [[pools]]
            name = "a"
            accounts = 1
            concurrency = 2
            priority = 10
            {limit}
            [[pools]]
            name = "b"
            accounts = 1
            concurrency = 2
            priority = 50
            [workload]
            arrival = {{ process = "periodic", rate = "6/min" }}
            requests_per_session = {{ dist = "constant", value = 2 }}
            think_time = {{ dist = "constant", value = "9s" }}
            service_time = {{ dist = "constant", value = "7s" }}
            "#
        )
    };
    let c = run(&scenario(&text(
        "max_sessions = 1\nsession_idle_timeout = \"8s\"",
    )))
    .points[0]
        .reps[0]
        .counts
        .clone();
    assert_eq!(
        (c.requests_arrived, c.requests_completed, c.bound_requests),
        (3, 3, 1)
    );
    assert_eq!(
        (c.migrations, c.migrations_limit, c.migrations_capacity),
        (1, 1, 0)
    );
    let c = run(&scenario(&text(""))).points[0].reps[0].counts.clone();
    assert_eq!((c.requests_completed, c.migrations), (3, 0));
}

/// RPM's sticky-only band keeps new sessions off the account: one account with base_rpm =
/// 1 (band 5 wide). S0 (10) runs 10-11: one completion in minute 0 puts the account in the
/// band, so S1-S4 (20-50) find no account any layer may use (503). Minute 1 starts with a
/// count of 0: S5 (60) runs; S6 (70) is turned away again. Completions are counted in the
/// minute they happen, failed or refused attempts not at all.
#[test]
fn rpm_band_keeps_new_sessions_off() {
    let text =
        one_account("base_rpm = 1\nrpm_sticky_buffer = 5").replace("horizon = 100", "horizon = 80");
    let c = run(&scenario(&text)).points[0].reps[0].counts.clone();
    assert_eq!(
        (
            c.sessions_arrived,
            c.requests_completed,
            c.rejected_no_account
        ),
        (7, 2, 5)
    );
}
