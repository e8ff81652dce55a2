//! Hand-checkable cases: periodic arrivals and constant times, asserted exactly.
//!
//! The base case: two accounts with one slot each, a session every 10 s (t = 10, 20, 30,
//! 40), two requests per session, service 7 s, think 9 s, horizon 45 s, no warm-up.
//!
//! | t  | event |
//! |----|-------|
//! | 10 | S0 r1: both accounts idle and never used: a random one, P (P busy to 17) |
//! | 20 | S1 r1: P was used at 17, Q never: Q (to 27) |
//! | 26 | S0 r2: bound to P, P idle: sticky hit (to 33) |
//! | 30 | S2 r1: P busy, Q idle: Q (to 37) |
//! | 36 | S1 r2: bound to Q, Q busy until 37. No waiting allowed: load-aware picks P: **migration** (to 43) |
//! | 40 | S3 r1: P busy, Q idle: Q (to 47) |
//! | 46, 56 | S2 r2 and S3 r2 would arrive after the horizon: not issued (sessions cut) |
//!
//! Six requests, two bound (S0 r2, S1 r2), one migration; S0 finishes intact (t = 33), S1
//! finishes migrated (t = 43). Busy slot-seconds in [0, 45]: 7 x 5 + 5 = 40.

use crate::common::*;
use slotsim::engine::Counts;

fn base(gateway: &str, pool_extra: &str) -> String {
    format!(
        r#"
        horizon = 45
        warmup = 0
        replications = 1
        [gateway]
        {gateway}
        [[pools]]
        accounts = 2
        concurrency = 1
        {pool_extra}
        [workload]
        arrival = {{ process = "periodic", rate = "6/min" }}
        requests_per_session = {{ dist = "constant", value = 2 }}
        think_time = {{ dist = "constant", value = "9s" }}
        service_time = {{ dist = "constant", value = "7s" }}
        "#
    )
}

#[test]
fn second_request_migrates_when_its_account_is_full_and_waiting_is_off() {
    let s = scenario(&base(
        "sticky_max_waiting = 0\nfallback_max_waiting = 0",
        "",
    ));
    let p = &run(&s).points[0];
    let c = &p.reps[0].counts;
    let want = Counts {
        sessions_arrived: 4,
        sessions_rejected: 0,
        sessions_finished: 2,
        sessions_intact: 1,
        sessions_abandoned: 0,
        requests_arrived: 6,
        requests_completed: 6,
        requests_rejected: 0,
        bound_requests: 2,
        migrations: 1,
        bound_rejections: 0,
        expired_rebinds: 0,
        rejected_queue_full: 0,
        rejected_wait_timeout: 0,
        rejected_no_account: 0,
        rejected_user_limit: 0,
        rejected_failover: 0,
        faults_rate_limit: 0,
        faults_overload: 0,
        faults_auth_error: 0,
        migrations_capacity: 1,
        migrations_fault: 0,
        migrations_limit: 0,
        // S1 r2's migration to P re-writes S1's cache (warm on Q since 27, never on P);
        // no context size is given, so no tokens.
        cache_moves: 1,
        cache_move_tokens: 0,
    };
    assert_eq!(c, &want);
    let m = |name: &str| p.estimate(name).mean;
    assert_eq!(m("continuity_failure_rate"), 0.5);
    assert_eq!(m("migration_rate"), 0.5);
    assert_eq!(m("sessions_intact_rate"), 0.5);
    assert_eq!(m("throughput_rps"), 6.0 / 45.0);
    assert_eq!(m("mean_busy_slots"), 40.0 / 45.0);
    assert_eq!(m("slot_utilization"), 40.0 / 90.0);
    assert_eq!(m("wait_p99_s"), 0.0);
}

/// With sticky waiting allowed, S1 r2 waits for Q (busy until 37) instead of migrating.
/// In FIFO mode the freed slot goes to it at once: a wait of exactly 1 s.
#[test]
fn bound_request_waits_on_its_account_instead_of_migrating_fifo() {
    let s = scenario(&base("wait = \"fifo\"", ""));
    let p = &run(&s).points[0];
    let c = &p.reps[0].counts;
    assert_eq!(
        (c.bound_requests, c.migrations, c.bound_rejections),
        (2, 0, 0)
    );
    assert_eq!(
        p.estimate("wait_mean_s").mean,
        1.0 / 6.0,
        "one request waited 1 s of six"
    );
    // Quantiles come from a histogram with 3 significant digits, rounded up within 0.1%.
    let p99 = p.estimate("wait_p99_s").mean;
    assert!((1.0..=1.001).contains(&p99), "{p99}");
}

/// The same with sub2api's polling: the waiter is served on its own account after its
/// polls find the slot free: 1 s plus at most one poll delay.
#[test]
fn bound_request_waits_on_its_account_instead_of_migrating_poll() {
    let s = scenario(&base("wait = \"poll\"", ""));
    let p = &run(&s).points[0];
    let c = &p.reps[0].counts;
    assert_eq!(
        (c.bound_requests, c.migrations, c.bound_rejections),
        (2, 0, 0)
    );
    let waited = p.estimate("wait_mean_s").mean * 6.0;
    // Polls after 36 s: 0.1 s, then each delay min(1.5 x previous, 2 s) x U(0.8, 1.2), the
    // jitter compounding: the first poll at or after 37 s lands between 1.0 s (all factors
    // 1.2 would cross at 1.187 s; the earliest crossing is just after 1.0 s) and 1.85 s
    // after arrival (the latest crossing over every sequence of factors is 1.842 s).
    assert!((1.0..=1.85).contains(&waited), "waited {waited} s");
}

/// With reserved = 1 on one-slot accounts, new
/// sessions have no capacity anywhere: every session is rejected with 503.
#[test]
fn reserved_at_concurrency_turns_every_new_session_away() {
    let s = scenario(&base(
        "sticky_max_waiting = 0\nfallback_max_waiting = 0",
        "reserved = 1",
    ));
    let c = &run(&s).points[0].reps[0].counts;
    assert_eq!(c.sessions_arrived, 4);
    assert_eq!(c.sessions_rejected, 4);
    assert_eq!(c.rejected_no_account, 4);
    assert_eq!(c.requests_completed, 0);
}

/// With one account and no waiting, a bound request that finds its account busy has
/// nowhere to go: a bound rejection (429, the fallback queue admits no waiter).
#[test]
fn bound_request_is_rejected_when_no_other_account_exists() {
    let text = base("sticky_max_waiting = 0\nfallback_max_waiting = 0", "")
        .replace("accounts = 2", "accounts = 1");
    let c = &run(&scenario(&text)).points[0].reps[0].counts;
    // t=10 S0 r1 (to 17); t=20 S1 r1 (to 27); t=26 S0 r2: bound, busy: rejected, S0 abandoned;
    // t=30 S2 r1 (to 37); t=36 S1 r2: bound, busy: rejected, S1 abandoned; t=40 S3 r1 (to 47).
    assert_eq!((c.sessions_arrived, c.sessions_rejected), (4, 0));
    assert_eq!(
        (c.bound_requests, c.migrations, c.bound_rejections),
        (2, 0, 2)
    );
    assert_eq!(
        (
            c.rejected_queue_full,
            c.sessions_abandoned,
            c.sessions_finished
        ),
        (2, 2, 2)
    );
    assert_eq!(c.sessions_intact, 0);
}

/// A negative reserved behaves exactly as 0.
#[test]
fn negative_reserved_behaves_as_zero() {
    let zero = run(&scenario(&base("", "reserved = 0")));
    let neg = run(&scenario(&base("", "reserved = -2")));
    assert_eq!(zero.points[0].reps[0].counts, neg.points[0].reps[0].counts);
}

/// Bindings expire sticky_ttl after they were written; on Anthropic a sticky hit does not
/// refresh them, on OpenAI it does.
#[test]
fn binding_ttl_and_platform_refresh() {
    // One session of three requests: t=60 r1 (to 67), think 9: r2 at 76 (to 83), r3 at 92.
    // TTL 20 s from the write at t=60: r2 at 76 is bound (76 < 80); r3 at 92 is not
    // (Anthropic: no refresh at 76), but is on OpenAI (refreshed at 76: live until 96).
    let text = |platform: &str| {
        format!(
            r#"
            horizon = 100
            replications = 1
            [gateway]
            platform = "{platform}"
            sticky_ttl = "20s"
            [[pools]]
            accounts = 2
            concurrency = 1
            [workload]
            arrival = {{ process = "periodic", rate = "1/min" }}
            requests_per_session = {{ dist = "constant", value = 3 }}
            think_time = {{ dist = "constant", value = "9s" }}
            service_time = {{ dist = "constant", value = "7s" }}
            "#
        )
    };
    let anthropic = run(&scenario(&text("anthropic")));
    let c = &anthropic.points[0].reps[0].counts;
    assert_eq!(
        (c.requests_arrived, c.bound_requests, c.expired_rebinds),
        (3, 1, 1)
    );
    let openai = run(&scenario(&text("openai")));
    let c = &openai.points[0].reps[0].counts;
    assert_eq!(
        (c.requests_arrived, c.bound_requests, c.expired_rebinds),
        (3, 2, 0)
    );
}

/// A retry reads its session's binding again: one one-slot account, no waiting, a 5 s
/// TTL, sessions at t = 10 and 20 with two requests each (service 8 s, think 4 s), one
/// client retry after 1 s. S0 r1 is served 10-18 (binding to 15); S1 r1 20-28. S0 r2 at
/// 22 finds its binding expired and the account busy: rejected; its retry at 23 finds the
/// binding still expired (a rejection leaves it as it was) and is rejected too. Both
/// attempts count an expired rebind. S1 r2 (32) and S2 (30) fall after the horizon.
#[test]
fn each_attempt_that_finds_an_expired_binding_counts() {
    let s = scenario(
        r#"
        horizon = 25
        warmup = 0
        replications = 1
        [gateway]
        sticky_ttl = "5s"
        sticky_max_waiting = 0
        fallback_max_waiting = 0
        [[pools]]
        accounts = 1
        concurrency = 1
        [workload]
        arrival = { process = "periodic", rate = "6/min" }
        requests_per_session = { dist = "constant", value = 2 }
        think_time = { dist = "constant", value = "4s" }
        service_time = { dist = "constant", value = "8s" }
        client_retries = 1
        "#,
    );
    let c = &run(&s).points[0].reps[0].counts;
    assert_eq!(
        (
            c.requests_arrived,
            c.requests_rejected,
            c.bound_requests,
            c.expired_rebinds,
            c.sessions_abandoned
        ),
        (4, 2, 0, 2, 1)
    );
}

/// Retries and the per-minute series: one one-slot account, no waiting, a one-request
/// session every 10 s (t = 10, 20, 30), service 15 s, three client retries (after 1, 2,
/// 4 s). S0 is served 10-25. S1 is rejected at 20, 21 and 23, and served at 27 (to 42).
/// S2 is rejected at 30, 31, 33 and 37, then has no retry left: the one rejected session.
/// The minute's `new_session_rejections` counts that session, not the seven rejected
/// attempts.
#[test]
fn a_session_is_rejected_once_when_its_first_request_runs_out_of_retries() {
    let s = scenario(
        r#"
        horizon = 40
        warmup = 0
        replications = 1
        [gateway]
        sticky_max_waiting = 0
        fallback_max_waiting = 0
        [[pools]]
        accounts = 1
        concurrency = 1
        [workload]
        arrival = { process = "periodic", rate = "6/min" }
        requests_per_session = { dist = "constant", value = 1 }
        service_time = { dist = "constant", value = "15s" }
        client_retries = 3
        "#,
    );
    let p = &run(&s).points[0];
    let c = &p.reps[0].counts;
    assert_eq!(
        (c.sessions_arrived, c.sessions_rejected, c.requests_rejected),
        (3, 1, 7)
    );
    let per_minute: u64 = p.timeseries.iter().map(|b| b.new_session_rejections).sum();
    assert_eq!(per_minute, 1);
}

/// Open mode: a rejected bound request is a bound rejection, never a rejected session,
/// in the headline counts and in the per-minute series alike (bound requests only, on
/// two one-slot accounts with no waiting, busy enough that some are rejected).
#[test]
fn open_mode_bound_rejections_are_not_new_session_rejections() {
    let s = scenario(
        r#"
        horizon = "1h"
        warmup = 0
        replications = 1
        [gateway]
        sticky_max_waiting = 0
        fallback_max_waiting = 0
        [[pools]]
        accounts = 2
        concurrency = 1
        [workload]
        mode = "open"
        bound_rate = "3/min"
        new_rate = 0
        service_time = { dist = "exponential", mean = "30s" }
        "#,
    );
    let p = &run(&s).points[0];
    let c = &p.reps[0].counts;
    assert!(c.bound_rejections > 10, "{}", c.bound_rejections);
    assert_eq!((c.sessions_arrived, c.sessions_rejected), (0, 0));
    let series =
        |f: fn(&slotsim::engine::MinuteBin) -> u64| -> u64 { p.timeseries.iter().map(f).sum() };
    assert_eq!(series(|b| b.new_session_rejections), 0);
    assert_eq!(series(|b| b.bound_rejections), c.bound_rejections);
}

/// One user with a limit of one request in flight: sessions at t=10, 20, 30, one request
/// of 15 s each, user waits of at most 8 s, FIFO waiting. S0 runs 10-25; S1 waits for the
/// user slot until 25 (5 s) and runs 25-40; S2 waits from 30 and times out at 38 (429).
#[test]
fn user_concurrency_limit_queues_then_times_out() {
    let text = r#"
        horizon = 35
        replications = 1
        [gateway]
        wait = "fifo"
        [[pools]]
        accounts = 2
        concurrency = 1
        [users]
        count = 1
        concurrency = 1
        wait_timeout = "8s"
        [workload]
        arrival = { process = "periodic", rate = "6/min" }
        requests_per_session = { dist = "constant", value = 1 }
        service_time = { dist = "constant", value = "15s" }
    "#;
    let p = &run(&scenario(text)).points[0];
    let c = &p.reps[0].counts;
    assert_eq!(
        (
            c.sessions_arrived,
            c.sessions_rejected,
            c.rejected_user_limit
        ),
        (3, 1, 1)
    );
    assert_eq!(c.requests_completed, 2);
    assert_eq!(p.estimate("wait_mean_s").mean, 2.5, "waits of 0 s and 5 s");
}

/// docs/model.md step 1 checks the user's wait queue before anything else: with one waiter
/// allowed and one waiting, a newcomer is turned away even at the instant a slot frees.
/// A session every second, 10 s of service, U = 1, one waiter: A (t=1) runs 1-11; B (t=2)
/// waits; t=3..10 are rejected (queue full); at t=11 A's slot frees just before K arrives,
/// but B is still waiting (it polls later), so K is rejected too. B is served afterwards.
#[test]
fn user_gate_checks_its_wait_queue_first() {
    let text = r#"
        horizon = 11.5
        replications = 1
        [[pools]]
        accounts = 1
        concurrency = 10
        [users]
        count = 1
        concurrency = 1
        max_waiting = 1
        [workload]
        arrival = { process = "periodic", rate = "1/s" }
        requests_per_session = { dist = "constant", value = 1 }
        service_time = { dist = "constant", value = "10s" }
    "#;
    let c = &run(&scenario(text)).points[0].reps[0].counts;
    assert_eq!(
        (
            c.sessions_arrived,
            c.sessions_rejected,
            c.rejected_user_limit
        ),
        (11, 9, 9)
    );
    assert_eq!(c.requests_completed, 2, "A and B");
}

/// Client retries: one account with one slot, no waiting, a session every 10 s with one
/// 15 s request, one retry after 6 s. S0 runs 10-25. S1 (t=20) is rejected, retries at 26
/// and runs 26-41. S2 (t=30) is rejected, retries at 36 (busy), is rejected again and
/// abandons.
#[test]
fn client_retries_reissue_rejected_requests() {
    let text = r#"
        horizon = 40
        replications = 1
        [gateway]
        sticky_max_waiting = 0
        fallback_max_waiting = 0
        [[pools]]
        accounts = 1
        concurrency = 1
        [workload]
        arrival = { process = "periodic", rate = "6/min" }
        requests_per_session = { dist = "constant", value = 1 }
        service_time = { dist = "constant", value = "15s" }
        client_retries = 1
        client_retry_backoff = "6s"
    "#;
    let c = &run(&scenario(text)).points[0].reps[0].counts;
    assert_eq!(
        (c.sessions_arrived, c.requests_arrived, c.requests_rejected),
        (3, 5, 3)
    );
    assert_eq!((c.sessions_rejected, c.sessions_abandoned), (1, 1));
    assert_eq!(
        (c.sessions_finished, c.sessions_intact),
        (3, 1),
        "S1 saw a rejection: not intact"
    );
    assert_eq!(c.requests_completed, 2);
}

// Regressions found in review.

/// FIFO waits on one account: every waiter is served in order and none is timed out by
/// an event left over from an earlier request whose slab slot it reuses.
/// One slot, a session every 10 s, 15 s of service: waits 0, 5, 10, 15, 20 s.
#[test]
fn fifo_waiters_are_not_hit_by_stale_timeouts() {
    let text = r#"
        horizon = 60
        replications = 1
        [gateway]
        wait = "fifo"
        [[pools]]
        accounts = 1
        concurrency = 1
        [workload]
        arrival = { process = "periodic", rate = "6/min" }
        requests_per_session = { dist = "constant", value = 1 }
        service_time = { dist = "constant", value = "15s" }
    "#;
    let p = &run(&scenario(text)).points[0];
    let c = &p.reps[0].counts;
    assert_eq!(
        (
            c.requests_arrived,
            c.requests_completed,
            c.requests_rejected
        ),
        (5, 5, 0)
    );
    assert_eq!(p.estimate("wait_mean_s").mean, 10.0);
}

/// FIFO user queues with several users keep every user's counters consistent (an
/// underflow panics in the test profile) and serve about as much as polling does.
#[test]
fn fifo_user_queues_stay_consistent() {
    let text = |wait: &str| {
        format!(
            r#"
            horizon = "30m"
            replications = 2
            [gateway]
            wait = "{wait}"
            [[pools]]
            accounts = 20
            concurrency = 5
            [users]
            count = 3
            concurrency = 1
            wait_timeout = "5s"
            [workload]
            arrival = {{ process = "poisson", rate = "1/s" }}
            requests_per_session = {{ dist = "constant", value = 1 }}
            service_time = {{ dist = "exponential", mean = "10s" }}
            "#
        )
    };
    let fifo = run(&scenario(&text("fifo"))).points[0]
        .estimate("requests_completed")
        .mean;
    let poll = run(&scenario(&text("poll"))).points[0]
        .estimate("requests_completed")
        .mean;
    // Three users, one request each at a time, 10 s each: at most about 3 x 180 = 540.
    assert!(
        fifo > 0.8 * poll && fifo < 1.25 * poll,
        "fifo {fifo}, poll {poll}"
    );
    assert!(fifo < 600.0, "{fifo}");
}

/// A rejected request whose retry would come after the horizon cuts its session, like a
/// next request after the horizon would: not finished, not abandoned, not rejected.
#[test]
fn retry_after_the_horizon_cuts_the_session() {
    let text = r#"
        horizon = 60
        replications = 1
        [gateway]
        sticky_max_waiting = 0
        fallback_max_waiting = 0
        [[pools]]
        accounts = 1
        concurrency = 1
        [workload]
        arrival = { process = "periodic", rate = "3/min" }
        requests_per_session = { dist = "constant", value = 1 }
        service_time = { dist = "constant", value = "50s" }
        client_retries = 1
        client_retry_backoff = "30s"
    "#;
    let c = &run(&scenario(text)).points[0].reps[0].counts;
    assert_eq!((c.sessions_arrived, c.requests_rejected), (2, 1));
    assert_eq!(
        (
            c.sessions_rejected,
            c.sessions_abandoned,
            c.sessions_finished
        ),
        (0, 0, 1)
    );
}

/// The per-minute series covers the warm-up for migrations too (the measured counts do not).
#[test]
fn timeseries_counts_warm_up_migrations() {
    let text = base("sticky_max_waiting = 0\nfallback_max_waiting = 0", "")
        .replace("warmup = 0", "warmup = 40");
    let p = &run(&scenario(&text)).points[0];
    assert_eq!(
        p.reps[0].counts.migrations, 0,
        "the migration (t=36) is in the warm-up"
    );
    assert_eq!(p.timeseries[0].migrations, 1);
}

// Waiting, in detail (cases suggested by a mutation audit).

/// One account with C = 2 and R = 1: a new session may use only one slot, even when it
/// waits in the fallback queue. S0 (t=10) takes the new-session slot until 30; S1 (t=20)
/// finds it taken and waits, although the reserved slot is free, until S0 releases at 30.
#[test]
fn reserve_holds_for_fallback_waiters() {
    for wait in ["fifo", "poll"] {
        let text = format!(
            r#"
            horizon = 25
            replications = 1
            [gateway]
            wait = "{wait}"
            [[pools]]
            accounts = 1
            concurrency = 2
            reserved = 1
            [workload]
            arrival = {{ process = "periodic", rate = "6/min" }}
            requests_per_session = {{ dist = "constant", value = 1 }}
            service_time = {{ dist = "constant", value = "20s" }}
            "#
        );
        let p = &run(&scenario(&text)).points[0];
        let c = &p.reps[0].counts;
        assert_eq!((c.requests_arrived, c.requests_completed), (2, 2), "{wait}");
        let waited = p.estimate("wait_mean_s").mean * 2.0;
        if wait == "fifo" {
            assert_eq!(waited, 10.0);
        } else {
            assert!((10.0..12.5).contains(&waited), "poll: {waited}");
        }
    }
}

/// A wait success writes the binding: S1's first request is served on A after waiting
/// (t=20 to 25), so its second request (t=40) is a bound request. One slot, two requests
/// per session, 15 s of service, no think time, FIFO:
/// S0 r1 10-25; S1 r1 waits 20-25, runs 25-40; S0 r2 (25, bound) waits, runs 40-55;
/// S2 (30) and S3 (40) wait in the fallback queue; S1 r2 (40) is bound and waits.
#[test]
fn a_wait_success_writes_the_binding() {
    let text = r#"
        horizon = 41
        replications = 1
        [gateway]
        wait = "fifo"
        [[pools]]
        accounts = 1
        concurrency = 1
        [workload]
        arrival = { process = "periodic", rate = "6/min" }
        requests_per_session = { dist = "constant", value = 2 }
        think_time = { dist = "constant", value = 0 }
        service_time = { dist = "constant", value = "15s" }
    "#;
    let c = &run(&scenario(text)).points[0].reps[0].counts;
    assert_eq!(c.requests_arrived, 6);
    assert_eq!(
        (c.bound_requests, c.migrations, c.bound_rejections),
        (2, 0, 0)
    );
}

/// The poll schedule exactly, without jitter: S1 r2 arrives at 36 and Q frees at 37; polls
/// come 0.1, 0.15, 0.225, 0.3375, 0.50625 s apart, so it is served at 36 + 1.31875.
#[test]
fn poll_backoff_schedule_without_jitter() {
    let s = scenario(&base("poll_jitter = 0", ""));
    let p = &run(&s).points[0];
    let waited = p.estimate("wait_mean_s").mean * 6.0;
    assert!((waited - 1.31875).abs() < 2e-6, "{waited}");
}

/// The backoff is capped at poll_max: a new session waits from t=20 for a slot that frees
/// at 25; delays 0.1 x 1.5^k up to 1.70859375 s, then 2 s: served 6.92578125 s later.
#[test]
fn poll_backoff_reaches_its_cap() {
    let text = r#"
        horizon = 25
        replications = 1
        [gateway]
        poll_jitter = 0
        [[pools]]
        accounts = 1
        concurrency = 1
        [workload]
        arrival = { process = "periodic", rate = "6/min" }
        requests_per_session = { dist = "constant", value = 1 }
        service_time = { dist = "constant", value = "15s" }
    "#;
    let p = &run(&scenario(text)).points[0];
    let waited = p.estimate("wait_mean_s").mean * 2.0;
    assert!((waited - 6.92578125).abs() < 5e-6, "{waited}");
}

/// A sticky wait times out after sticky_wait_timeout, not fallback_wait_timeout: S1 r2
/// (t=36) waits for Q (busy to 37) with a 0.5 s limit and is rejected at 36.5.
#[test]
fn sticky_wait_uses_its_own_timeout() {
    let s = scenario(&base(
        "sticky_wait_timeout = \"0.5s\"\nfallback_wait_timeout = \"30s\"",
        "",
    ));
    let c = &run(&s).points[0].reps[0].counts;
    assert_eq!(
        (c.bound_rejections, c.rejected_wait_timeout, c.migrations),
        (1, 1, 0)
    );
}

/// The fallback queue goes by priority: with both pools full, S2 (t=15) waits on the
/// primary account (frees at 25), not on the backup (frees at 30). Sessions every 5 s,
/// 20 s of service, one one-slot account per pool, FIFO.
#[test]
fn fallback_waits_on_the_preferred_pool() {
    let text = r#"
        horizon = 16
        replications = 1
        [gateway]
        wait = "fifo"
        [[pools]]
        name = "primary"
        accounts = 1
        concurrency = 1
        priority = 10
        [[pools]]
        name = "backup"
        accounts = 1
        concurrency = 1
        priority = 50
        [workload]
        arrival = { process = "periodic", rate = "12/min" }
        requests_per_session = { dist = "constant", value = 1 }
        service_time = { dist = "constant", value = "20s" }
    "#;
    let p = &run(&scenario(text)).points[0];
    assert_eq!(p.estimate("wait_mean_s").mean * 3.0, 10.0);
}

/// With sub2api's jitter each delay is scaled by a factor in [0.8, 1.2], so the same wait
/// lands at different times in different replications, always within the jittered range
/// of the schedule above: the poll at or after 37 s comes 1.0 to 1.85 s after arrival.
#[test]
fn poll_jitter_varies_the_wait_within_its_bounds() {
    let s = scenario(&base("", "").replace("replications = 1", "replications = 20"));
    let p = &run(&s).points[0];
    let i = slotsim::stats::metric_index("wait_mean_s").unwrap();
    let waits: Vec<f64> = p.reps.iter().map(|r| r.metrics[i] * 6.0).collect();
    assert!(waits.iter().all(|w| (1.0..=1.85).contains(w)), "{waits:?}");
    let distinct: std::collections::BTreeSet<u64> =
        waits.iter().map(|w| (w * 1e6).round() as u64).collect();
    assert!(
        distinct.len() >= 10,
        "jitter should spread the waits: {waits:?}"
    );
}
