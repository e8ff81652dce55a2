//! The simulator against exact results (docs/model.md section 6): the guard-channel model and
//! Erlang B in open mode, insensitivity to the service-time law, and the two-dimensional
//! Markov chain of session mode. Run times are sized for the optimised test profile.

use crate::common::*;
use crate::exact::{erlang_b, erlang_c, guard_channel, mmc_mean_wait, session_chain};
use slotsim::validate::open_scenario;

fn check_guard_channel(c: u32, rs: &[i32], a: f64, b: f64, service: &str, mean_service: f64) {
    let s = scenario(&open_scenario(c, rs, a, b, service, 4000, 20));
    let result = run(&s);
    for (p, &r) in result.points.iter().zip(rs) {
        let g = guard_channel(c, r, a, b, 1.0 / mean_service);
        assert_close(p, "new_session_rejection_rate", g.new_blocking);
        assert_close(p, "continuity_failure_rate", g.bound_blocking);
        assert_close(p, "bound_rejection_rate", g.bound_blocking);
        assert_eq!(
            p.estimate("migration_rate").mean,
            0.0,
            "one account: nowhere to migrate"
        );
        assert_close(p, "throughput_rps", g.throughput);
        assert_close(p, "slot_utilization", g.mean_busy / c as f64);
    }
}

#[test]
fn open_mode_matches_guard_channel_c5() {
    check_guard_channel(
        5,
        &[0, 1, 2, 3],
        1.5,
        2.5,
        r#"{ dist = "exponential", mean = "1s" }"#,
        1.0,
    );
}

#[test]
fn open_mode_matches_guard_channel_c12() {
    check_guard_channel(
        12,
        &[0, 2, 4],
        4.0,
        6.5,
        r#"{ dist = "exponential", mean = "1s" }"#,
        1.0,
    );
}

#[test]
fn reserved_zero_is_erlang_b() {
    // Its own case (not a point of the guard-channel tests): ten slots at 90% load.
    let (c, a, b) = (10, 3.0, 6.0);
    let s = scenario(&open_scenario(
        c,
        &[0],
        a,
        b,
        r#"{ dist = "exponential", mean = "1s" }"#,
        4000,
        20,
    ));
    let p = &run(&s).points[0];
    let eb = erlang_b(c, a + b);
    assert_close(p, "new_session_rejection_rate", eb);
    assert_close(p, "continuity_failure_rate", eb);
}

/// Both classes share a lognormal service time with the same mean: the blocking
/// probabilities do not change (insensitivity).
#[test]
fn guard_channel_is_insensitive_to_lognormal_service() {
    check_guard_channel(
        5,
        &[0, 1, 2, 3],
        1.5,
        2.5,
        r#"{ dist = "lognormal", mean = "1s", cv = 1.5 }"#,
        1.0,
    );
}

fn session_scenario(c: u32, r: i32, lambda: f64, q: f64, think: f64, service: f64) -> String {
    format!(
        r#"
        seed = 5
        horizon = 20000
        warmup = 500
        replications = 20
        [gateway]
        sticky_ttl = "3650d"
        sticky_max_waiting = 0
        fallback_max_waiting = 0
        [[pools]]
        accounts = 1
        concurrency = {c}
        reserved = {r}
        [workload]
        arrival = {{ process = "poisson", rate = {lambda} }}
        requests_per_session = {{ dist = "geometric", mean = {} }}
        think_time = {{ dist = "exponential", mean = {think} }}
        service_time = {{ dist = "exponential", mean = {service} }}
        "#,
        1.0 / (1.0 - q)
    )
}

fn check_session_chain(c: u32, r: i32, lambda: f64, q: f64, think: f64, service: f64) {
    let chain = session_chain(c, r, lambda, q, think, service);
    let s = scenario(&session_scenario(c, r, lambda, q, think, service));
    let p = &run(&s).points[0];
    assert_close(p, "new_session_rejection_rate", chain.new_session_rejection);
    assert_close(p, "continuity_failure_rate", chain.continuity_failure);
    assert_close(p, "throughput_rps", chain.throughput);
    assert_close(p, "mean_busy_slots", chain.mean_busy);
}

#[test]
fn session_mode_matches_markov_chain_c3_r1() {
    check_session_chain(3, 1, 0.5, 0.5, 2.0, 1.0);
}

#[test]
fn session_mode_matches_markov_chain_c5_r2() {
    check_session_chain(5, 2, 1.0, 0.75, 4.0, 1.0);
}

#[test]
fn session_mode_matches_markov_chain_c4_r0() {
    check_session_chain(4, 0, 1.2, 0.6, 3.0, 1.0);
}

/// Heavier versions: ten times the simulated time, no slack beyond the widened CI.
/// Run with `cargo test --test it -- --ignored heavy` (a few seconds after the build).
#[test]
#[ignore]
fn heavy_guard_channel_and_session_chain() {
    let (c, a, b) = (5, 1.5, 2.5);
    let rs = [0, 1, 2, 3];
    let s = scenario(&open_scenario(
        c,
        &rs,
        a,
        b,
        r#"{ dist = "exponential", mean = "1s" }"#,
        20000,
        40,
    ));
    for (p, &r) in run(&s).points.iter().zip(&rs) {
        let g = guard_channel(c, r, a, b, 1.0);
        assert_close_with(p, "new_session_rejection_rate", g.new_blocking, 0.0);
        assert_close_with(p, "continuity_failure_rate", g.bound_blocking, 0.0);
        assert_close_with(p, "throughput_rps", g.throughput, 0.0);
    }
    let chain = session_chain(3, 1, 0.5, 0.5, 2.0, 1.0);
    let text =
        session_scenario(3, 1, 0.5, 0.5, 2.0, 1.0).replace("horizon = 20000", "horizon = 200000");
    let p = &run(&scenario(&text)).points[0];
    assert_close_with(
        p,
        "new_session_rejection_rate",
        chain.new_session_rejection,
        0.0,
    );
    assert_close_with(p, "continuity_failure_rate", chain.continuity_failure, 0.0);
    assert_close_with(p, "throughput_rps", chain.throughput, 0.0);
}

/// FIFO waiting without reservation is M/M/c: the mean slot wait and the mean number
/// waiting match Erlang C (docs/model.md section 6). One account, C = 3, load 2.4.
#[test]
fn fifo_waiting_matches_erlang_c() {
    let (c, lambda) = (3, 2.4);
    let text = format!(
        r#"
        seed = 17
        horizon = 4000
        warmup = 200
        replications = 20
        [gateway]
        wait = "fifo"
        fallback_max_waiting = 1000000
        fallback_wait_timeout = "1000d"
        [[pools]]
        accounts = 1
        concurrency = {c}
        [workload]
        mode = "open"
        bound_rate = 0
        new_rate = {lambda}
        service_time = {{ dist = "exponential", mean = "1s" }}
        "#
    );
    let p = &run(&scenario(&text)).points[0];
    let wq = mmc_mean_wait(c, lambda, 1.0);
    assert!(erlang_c(c, lambda) > 0.5, "a case where waiting is common");
    assert_close(p, "wait_mean_s", wq);
    assert_close(p, "mean_waiting", lambda * wq);
    assert_eq!(p.estimate("new_session_rejection_rate").mean, 0.0);
}

/// Open-mode bound requests name a uniformly random account: with four accounts whose
/// reserve leaves no room to migrate (R = C = 2), each account is an Erlang loss system
/// with a quarter of the load, so continuity failures are B(2, 1).
#[test]
fn open_mode_spreads_bound_requests_evenly() {
    let text = r#"
        seed = 23
        horizon = 4000
        warmup = 200
        replications = 20
        [gateway]
        sticky_max_waiting = 0
        fallback_max_waiting = 0
        [[pools]]
        accounts = 4
        concurrency = 2
        reserved = 2
        [workload]
        mode = "open"
        bound_rate = 4
        new_rate = 0
        service_time = { dist = "exponential", mean = "1s" }
    "#;
    let p = &run(&scenario(text)).points[0];
    assert_close(p, "continuity_failure_rate", erlang_b(2, 1.0));
}
