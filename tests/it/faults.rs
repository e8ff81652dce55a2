//! Upstream faults, usage windows, account limits and gateway variants: hand-timed
//! timelines asserted exactly, and statistical checks against closed forms.

use crate::common::*;

/// Client retries back off exponentially: min(client_retry_backoff x 2^(j-1), 60 s) before
/// retry j. One one-slot account, no waiting, a session every 10 s with one 30 s request,
/// three retries after 2 s, 4 s, 8 s. S0 runs 10-40. S1 (t=20) is rejected and retries at
/// 22, 26 and 34, each rejected: abandoned. S2 (t=30) retries at 32 and 36; its third
/// retry (44) would come after the horizon (40): cut. With a constant back-off S2 would
/// retry at 32, 34, 36 and be abandoned too.
#[test]
fn client_retry_backoff_doubles() {
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
        service_time = { dist = "constant", value = "30s" }
        client_retries = 3
        client_retry_backoff = "2s"
    "#;
    let c = &run(&scenario(text)).points[0].reps[0].counts;
    assert_eq!(
        (c.sessions_arrived, c.requests_arrived, c.requests_rejected),
        (3, 8, 7)
    );
    assert_eq!((c.sessions_abandoned, c.sessions_finished), (1, 2));
}

/// Two one-slot pools: "a" (preferred, priority 10) and "b" (priority 50); one session
/// at t = 60 with `requests` requests of 7 s, 9 s apart; horizon 100 s; no waiting.
fn two_pools(gateway: &str, a_extra: &str, requests: u32) -> String {
    format!(
        r#"
        horizon = 100
        replications = 1
        [gateway]
        sticky_max_waiting = 0
        fallback_max_waiting = 0
        {gateway}
        [[pools]]
        name = "a"
        accounts = 1
        concurrency = 1
        priority = 10
        {a_extra}
        [[pools]]
        name = "b"
        accounts = 1
        concurrency = 1
        priority = 50
        [workload]
        arrival = {{ process = "periodic", rate = "1/min" }}
        requests_per_session = {{ dist = "constant", value = {requests} }}
        think_time = {{ dist = "constant", value = "9s" }}
        service_time = {{ dist = "constant", value = "7s" }}
        "#
    )
}

/// A failover that ends in a served request on another account (a migration, cause
/// `fault`). Pool a's window allows one request: r1 runs on a 60-67 (the window opens at
/// 60, counts 1 at 67); r2 (76) is bound to a and takes its free slot, but the budget is
/// used up: the attempt fails as a rate_limit fault after time_to_error (2 s, at 78), a
/// cools down until the window's end, the binding is deleted, and selection restarts at 78
/// with a failed: r2 runs on b 78-85, a migration whose wait counts from the restart (0).
#[test]
fn failover_ends_served_on_another_account() {
    let s = scenario(&two_pools(
        "time_to_error = { dist = \"constant\", value = \"2s\" }",
        "window = { length = \"5h\", budget = 1 }",
        2,
    ));
    let p = &run(&s).points[0];
    let c = &p.reps[0].counts;
    assert_eq!(
        (c.requests_arrived, c.requests_completed, c.bound_requests),
        (2, 2, 1)
    );
    assert_eq!(
        (c.faults_rate_limit, c.faults_overload, c.rejected_failover),
        (1, 0, 0)
    );
    assert_eq!(
        (c.migrations, c.migrations_fault, c.migrations_capacity),
        (1, 1, 0)
    );
    assert_eq!(p.estimate("wait_p99_s").mean, 0.0);
    // Busy slot-seconds: 7 on a, 2 of the failed attempt on a, 7 on b, over 100 s.
    assert_eq!(p.estimate("mean_busy_slots").mean, 16.0 / 100.0);
}

/// max_account_switches: every attempt on either pool fails (per_request = 1 on both).
/// The session's one request (t = 60) fails on a at 61 (time_to_error 1 s), then on b at
/// 62: with max_account_switches = 1 (two attempts) it is rejected then, as
/// rejected_failover, after two faults. With max_account_switches = 0 it is rejected at
/// 61 after one fault, although b was still there.
#[test]
fn max_account_switches_exhausted() {
    for switches in ["max_account_switches = 1", "max_account_switches = 0"] {
        let text = two_pools(switches, "", 1).replace(
            "priority = 50\n",
            "priority = 50\n[pools.faults]\nrate_limit = { per_request = 1.0 }\n",
        );
        let text = text.replace(
            "priority = 10\n",
            "priority = 10\n[pools.faults]\nrate_limit = { per_request = 1.0 }\n",
        );
        let c = run(&scenario(&text)).points[0].reps[0].counts.clone();
        let attempts = if switches.ends_with('1') { 2 } else { 1 };
        assert_eq!(c.faults_rate_limit, attempts, "{switches}");
        assert_eq!(
            (
                c.rejected_failover,
                c.requests_completed,
                c.sessions_rejected
            ),
            (1, 0, 1),
            "{switches}"
        );
    }
}

/// A usage window used up and reset. One one-slot account, window 30 s with budget 1,
/// sessions every 10 s with one 5 s request, horizon 50 s. S0 (10) opens the window
/// [10, 40) and completes at 15 (count 1). S1 (20) takes the free slot, fails (budget used
/// up; no draw) at 21 and finds nothing else: rejected_failover; the account cools down
/// until the window's end, 40. S2 (30): no schedulable account, nothing failed: 503. S3
/// (40): the cooldown is over and the window closed, so a new window opens [40, 70) and
/// S3 is served 40-45.
#[test]
fn usage_window_exhausted_and_reset() {
    let text = |window: &str| {
        format!(
            r#"
            horizon = 50
            replications = 1
            [gateway]
            sticky_max_waiting = 0
            fallback_max_waiting = 0
            [[pools]]
            accounts = 1
            concurrency = 1
            window = {window}
            [workload]
            arrival = {{ process = "periodic", rate = "6/min" }}
            requests_per_session = {{ dist = "constant", value = 1 }}
            service_time = {{ dist = "constant", value = "5s" }}
            "#
        )
    };
    let c = run(&scenario(&text("{ length = \"30s\", budget = 1 }"))).points[0].reps[0]
        .counts
        .clone();
    assert_eq!((c.sessions_arrived, c.requests_completed), (4, 2));
    assert_eq!(
        (
            c.faults_rate_limit,
            c.rejected_failover,
            c.rejected_no_account
        ),
        (1, 1, 1)
    );
    // With pause_at the account pauses as soon as the budget is reached (at 15), with no
    // failed attempt: S1 and S2 both find no account (503); S3 is served in a new window.
    let c = run(&scenario(&text(
        "{ length = \"30s\", budget = 1, pause_at = 1.0 }",
    )))
    .points[0]
        .reps[0]
        .counts
        .clone();
    assert_eq!((c.requests_completed, c.faults_rate_limit), (2, 0));
    assert_eq!((c.rejected_failover, c.rejected_no_account), (0, 2));
}

/// max_sessions = 1 on a two-slot account, idle timeout 25 s, sessions every 10 s with one
/// 5 s request. S0 (10) registers and runs. S1 (20) and S2 (30) find a free slot, but the
/// account's one session is S0 (active until 35): refused by the load-aware layer and by
/// the fallback queue alike, 503. S3 (40): S0 has lapsed and is purged, S3 registers and
/// runs. Without the limit all four run.
#[test]
fn max_sessions_one() {
    let text = |limit: &str| {
        format!(
            r#"
            horizon = 50
            replications = 1
            [[pools]]
            accounts = 1
            concurrency = 2
            {limit}
            [workload]
            arrival = {{ process = "periodic", rate = "6/min" }}
            requests_per_session = {{ dist = "constant", value = 1 }}
            service_time = {{ dist = "constant", value = "5s" }}
            "#
        )
    };
    let c = run(&scenario(&text(
        "max_sessions = 1\nsession_idle_timeout = \"25s\"",
    )))
    .points[0]
        .reps[0]
        .counts
        .clone();
    assert_eq!(
        (
            c.requests_completed,
            c.rejected_no_account,
            c.sessions_rejected
        ),
        (2, 2, 2)
    );
    let c = run(&scenario(&text(""))).points[0].reps[0].counts.clone();
    assert_eq!((c.requests_completed, c.sessions_rejected), (4, 0));
}

/// A tiered RPM band on pool a (base_rpm = 2, buffer 1): one session at 60 with four 1 s
/// requests, 1 s apart, all within the calendar minute [60, 120). r1 (60-61) and r2
/// (62-63) run on a (green; 2 completions). r3 (64) is bound to a, now sticky-only
/// (yellow): the sticky layer may still use it, so r3 runs on a (64-65; 3 completions).
/// r4 (66) finds a red (3 >= 2 + 1): no layer may use it, so it runs on b: a migration of
/// cause `limit`.
#[test]
fn tiered_rpm_band_zones() {
    let text = two_pools("", "base_rpm = 2\nrpm_sticky_buffer = 1", 4)
        .replace("\"9s\"", "\"1s\"")
        .replace("\"7s\"", "\"1s\"");
    let c = run(&scenario(&text)).points[0].reps[0].counts.clone();
    assert_eq!((c.requests_completed, c.bound_requests), (4, 3));
    assert_eq!((c.migrations, c.migrations_limit), (1, 1));
    // sticky_exempt never turns red: r4 stays on a.
    let c = run(&scenario(&text.replace(
        "rpm_sticky_buffer = 1",
        "rpm_sticky_buffer = 1\nrpm_strategy = \"sticky_exempt\"",
    )))
    .points[0]
        .reps[0]
        .counts
        .clone();
    assert_eq!((c.requests_completed, c.migrations), (4, 0));
}

/// 8 accounts of 3 slots about half busy, no sticky waiting (a full bound account sends
/// its request on: a capacity migration), sessions of geometric length; `faults` adds the
/// pool's faults.
fn cooldown_pool(faults: &str, sweep: &str) -> String {
    format!(
        r#"
        horizon = "4h"
        warmup = "20m"
        replications = 8
        [gateway]
        sticky_max_waiting = 0
        [[pools]]
        accounts = 8
        concurrency = 3
        {faults}
        [workload]
        arrival = {{ process = "poisson", rate = "6/min" }}
        requests_per_session = {{ dist = "geometric", mean = 8 }}
        think_time = {{ dist = "exponential", mean = "20s" }}
        service_time = {{ dist = "exponential", mean = "15s" }}
        {sweep}
        "#
    )
}

/// Cooldowns cause migrations that do not happen without faults, and their cause is
/// `fault`: a bound account found cooling down loses its session. Without faults no
/// migration has that cause; with them the fault migration rate is clearly above 0 (its
/// lower confidence bound, widened to 99.9%, is positive).
#[test]
fn cooldowns_cause_fault_migrations() {
    let faults = "[pools.faults]\nrate_limit = { per_account_hour = 1 }";
    let with = run(&scenario(&cooldown_pool(faults, "")));
    let without = run(&scenario(&cooldown_pool("", "")));
    let w = with.points[0].estimate("migration_rate_fault");
    assert!(w.mean - widened(&w) > 0.0, "{w:?}");
    assert!(with.points[0].estimate("faults_rate_limit").mean > 0.0);
    for rep in &without.points[0].reps {
        assert_eq!(rep.counts.migrations_fault, 0);
        assert_eq!(rep.counts.faults_rate_limit, 0);
    }
}

/// A reserve lowers capacity migrations but not fault migrations. Sweep R = 0 and 1 with
/// common random numbers: the paired difference of the capacity migration rate is
/// negative beyond its widened CI, while that of the fault migration rate is within its
/// widened CI (plus a slack of 10% of its value, for what R changes in who is bound where)
/// of 0.
#[test]
fn reserve_lowers_capacity_migrations_not_fault_migrations() {
    let faults = "[pools.faults]\nrate_limit = { per_account_hour = 1 }";
    let r = run(&scenario(&cooldown_pool(
        faults,
        "[sweep]\nreserved = [0, 1]",
    )));
    let m = |name: &str| slotsim::stats::metric_index(name).unwrap();
    let (p0, p1) = (&r.points[0], &r.points[1]);
    let cap = slotsim::export::paired_delta(p1, p0, m("migration_rate_capacity"));
    assert!(cap.mean + widened(&cap) < 0.0, "capacity: {cap:?}");
    let fault = slotsim::export::paired_delta(p1, p0, m("migration_rate_fault"));
    let base = p0.estimate("migration_rate_fault").mean;
    assert!(
        fault.mean.abs() <= widened(&fault) + 0.1 * base,
        "fault: {fault:?} (base {base})"
    );
}

/// One account whose only fault is a per-account-hour rate limit (rate 3/h, cooldown
/// 5 min): it is schedulable a share 1 / (1 + rate x cooldown) = 1 / 1.25 = 0.8 of the
/// time. Open-mode requests (Poisson, so they see time averages) that find it cooling down
/// are turned away (503), so the new-session rejection rate estimates 1 - 0.8 = 0.2. The
/// slots never fill (100 slots, 10 ms requests).
#[test]
fn one_account_availability_under_rate_limits() {
    let text = r#"
        horizon = "60h"
        warmup = "1h"
        replications = 12
        [[pools]]
        accounts = 1
        concurrency = 100
        [pools.faults]
        rate_limit = { per_account_hour = 3 }
        [workload]
        mode = "open"
        bound_rate = 0
        new_rate = "0.2/s"
        service_time = { dist = "constant", value = "10ms" }
    "#;
    let p = &run(&scenario(text)).points[0];
    let availability = 1.0 / (1.0 + 3.0 * (5.0 / 60.0));
    assert_close(p, "new_session_rejection_rate", 1.0 - availability);
}

const SWEPT: &str = r#"
    horizon = "1h"
    replications = 2
    [gateway]
    sticky_wait = true
    [[pools]]
    name = "max"
    accounts = 4
    concurrency = 3
    [[pools]]
    name = "backup"
    accounts = 2
    concurrency = 2
    [workload]
    arrival = { process = "poisson", rate = "3/min" }
    requests_per_session = { dist = "geometric", mean = 5 }
    think_time = { dist = "exponential", mean = "20s" }
    service_time = { dist = "exponential", mean = "15s" }
    [sweep]
    reserved = [0, 1]
    [sweep.gateway]
    sticky_wait = [true, false]
    spillover_rebinds = [false, true]
    [sweep.pools.backup]
    base_rpm = [0, 30]
    [sweep.pools.max]
    reserved = [2]
    concurrency = [3, 4]
"#;

/// Grid order: [sweep] keys, then each pool in [[pools]] order with its keys in the order
/// accounts, concurrency, reserved, max_sessions, base_rpm, then the gateway keys in the
/// order spillover_rebinds, sticky_wait, ...; the last varies fastest. Columns are named
/// `pools.NAME.KEY` and the bare gateway key; a pool's own sweep applies after the
/// all-pools one, and `reserved` is the common value or empty.
#[test]
fn pool_and_gateway_sweeps_in_grid_order() {
    let s = scenario(SWEPT);
    assert_eq!(
        s.sweep.param_names(),
        [
            "reserved",
            "pools.max.concurrency",
            "pools.max.reserved",
            "pools.backup.base_rpm",
            "spillover_rebinds",
            "sticky_wait"
        ]
    );
    let points = s.sweep.points();
    assert_eq!(points.len(), 2 * 2 * 2 * 2 * 2);
    assert_eq!(
        points[1].label(),
        "reserved=0, pools.max.concurrency=3, pools.max.reserved=2, pools.backup.base_rpm=0, spillover_rebinds=false, sticky_wait=false"
    );
    assert_eq!(
        points[2].label(),
        "reserved=0, pools.max.concurrency=3, pools.max.reserved=2, pools.backup.base_rpm=0, spillover_rebinds=true, sticky_wait=true"
    );
    let m = s.model_at(&points[31]);
    assert_eq!((m.pools[0].reserved, m.pools[1].reserved), (2, 1));
    assert_eq!((m.pools[0].concurrency, m.pools[1].base_rpm), (4, 30));
    assert!(m.gateway.spillover_rebinds && !m.gateway.sticky_wait);
    // reserved: 2 on max (its own sweep wins), r on backup: common only where r = 2.
    assert_eq!(s.reserved_at(&points[0]), None);
    let small = scenario(
        &SWEPT
            .replace("reserved = [0, 1]", "reserved = [2]")
            .replace("replications = 2", "replications = 1")
            .replace("horizon = \"1h\"", "horizon = \"5m\""),
    );
    let csv = String::from_utf8(slotsim::export::summary_csv(&small, &run(&small))).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with(
        "point,reserved,pools.max.concurrency,pools.max.reserved,pools.backup.base_rpm,spillover_rebinds,sticky_wait,replications"
    ), "{header}");
    let row = csv.lines().nth(1).unwrap();
    assert!(row.starts_with("0,2,3,2,0,false,true,"), "{row}");
}

/// Bad sweep and fault inputs name the key and what is allowed.
#[test]
fn bad_fault_limit_and_sweep_inputs_name_the_key() {
    let cases: &[(&str, &str, &str)] = &[
        ("[sweep.pools.max]", "[sweep.pools.nope]", "sweep.pools.nope"),
        ("base_rpm = [0, 30]", "base_rpm = [0, 30]\nslots = [1]", "slots"),
        ("sticky_wait = [true, false]", "sticky_wait = [true, true]", "sweep.gateway.sticky_wait[1]"),
        ("concurrency = [3, 4]", "concurrency = [0]", "sweep.pools.max.concurrency[0]"),
        ("concurrency = 3\n", "concurrency = 3\n[pools.faults]\nrate_limit = { per_request = 0.7 }\noverload = { per_request = 0.5 }\n", "pools[0].faults"),
        ("concurrency = 3\n", "concurrency = 3\n[pools.faults]\nrate_limit = {}\n", "pools[0].faults.rate_limit"),
        ("concurrency = 3\n", "concurrency = 3\n[pools.faults]\noverload = { per_hour = 1 }\n", "per_hour"),
        ("concurrency = 3\n", "concurrency = 3\nwindow = { length = \"5h\" }\n", "pools[0].window.budget"),
        ("concurrency = 3\n", "concurrency = 3\nwindow = { budget = 10, pause_at = 0 }\n", "pools[0].window.pause_at"),
        ("concurrency = 3\n", "concurrency = 3\nwindow = { budget = 10, length = \"30m\", align = \"hour\" }\n", "pools[0].window.length"),
        ("concurrency = 3\n", "concurrency = 3\nrpm_strategy = \"fast\"\n", "pools[0].rpm_strategy"),
        ("sticky_wait = true", "sticky_wait = 1", "gateway.sticky_wait"),
    ];
    for (from, to, fragment) in cases {
        assert!(SWEPT.contains(from), "{from}");
        let text = SWEPT.replacen(from, to, 1);
        let err = slotsim::scenario::parse_scenario(&text, "s.toml")
            .err()
            .unwrap_or_else(|| panic!("{to:?} was accepted"))
            .to_string();
        assert!(err.contains(fragment), "{to:?}: {err}");
    }
    // The session limit needs sessions.
    let open = r#"
        horizon = "1h"
        [[pools]]
        accounts = 1
        max_sessions = 2
        [workload]
        mode = "open"
        bound_rate = 1
        new_rate = 1
        service_time = { dist = "constant", value = "1s" }
    "#;
    let err = slotsim::scenario::parse_scenario(open, "s.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("pools[0].max_sessions") && err.contains("open"),
        "{err}"
    );
}

/// The example scenario of a Claude Max pool: its report and continuity chart split
/// continuity failures by cause, and faults, not capacity, cause most of them (briefly:
/// two replications of 3 hours).
#[test]
fn claude_max_example_report_shows_the_fault_share() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join("claude-max-faults.toml");
    let run_to = |out: &std::path::Path, threads: &str| {
        assert_cmd::Command::cargo_bin("slotsim")
            .unwrap()
            .arg("run")
            .arg(&scenario)
            .args(["--quiet", "--replications", "2", "--horizon", "3h"])
            .args(["--threads", threads, "--out"])
            .arg(out)
            .output()
            .unwrap()
    };
    let status = run_to(&out, "2");
    assert!(status.status.success(), "{status:?}");
    // Faults, windows and failovers draw from streams keyed by seed, replication, session
    // and account: the CSV files do not depend on the thread count.
    let one = dir.path().join("one");
    assert!(run_to(&one, "1").status.success());
    for f in ["summary.csv", "replications.csv", "timeseries.csv"] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(one.join(f)).unwrap(),
            "{f}"
        );
    }
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(stdout.contains("migr fault %"), "{stdout}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Continuity failures by cause"));
    assert!(html.contains("share a reserve can prevent"));
    let svg = std::fs::read_to_string(out.join("charts").join("continuity.svg")).unwrap();
    assert!(
        svg.contains("migration: fault"),
        "the chart splits migrations"
    );
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let mut lines = summary.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let v = |name: &str| cells[col(name)].parse::<f64>().unwrap();
        assert!(
            v("migration_rate_fault") > v("migration_rate_capacity"),
            "faults dominate: {line}"
        );
        assert!(v("faults_rate_limit") > 0.0);
    }
}

/// Pools a (preferred) and b of one slot each, sessions every 12 s (t = 12, 24, 36) with
/// three 7 s requests 9 s apart, horizon 45 s, FIFO waiting, no fallback waiting.
fn spill(gateway: &str) -> String {
    two_pools(gateway, "", 3)
        .replacen("sticky_max_waiting = 0\n", "", 1)
        .replace("horizon = 100", "horizon = 45")
        .replace("rate = \"1/min\"", "rate = \"5/min\"")
        .replace(
            "fallback_max_waiting = 0",
            "fallback_max_waiting = 0\nwait = \"fifo\"",
        )
}

/// spillover_rebinds = false keeps the binding. No sticky waiting. S0 r1 runs on a 12-19;
/// S1 r1 on a 24-31. S0 r2 (28) finds a busy: spills to b (28-35), a capacity migration.
/// S2 r1 (36) takes a (36-43). S1 r2 (40) finds a busy: spills to b (40-47), a migration.
/// S0 r3 (44): by default its binding now names b, busy, so it spills to a: a third
/// migration. With spillover_rebinds = false its binding still names a, free since 43: a
/// sticky hit, no migration.
#[test]
fn spillover_rebinds_false_keeps_the_binding_timeline() {
    let run_with = |g: &str| run(&scenario(&spill(g))).points[0].reps[0].counts.clone();
    let c = run_with("sticky_max_waiting = 0");
    assert_eq!(
        (c.bound_requests, c.migrations, c.migrations_capacity),
        (3, 3, 3)
    );
    assert_eq!(c.requests_completed, 6);
    let c = run_with("sticky_max_waiting = 0\nspillover_rebinds = false");
    assert_eq!(
        (c.bound_requests, c.migrations, c.migrations_capacity),
        (3, 2, 2)
    );
    assert_eq!(c.requests_completed, 6);
}

/// sticky_wait = false. Sticky waiting allowed (3 waiters). By default S0 r2 (28) waits
/// for a and gets it at 31 (31-38); S2 r1 (36) takes b; S1 r2 (40) finds a free again: no
/// migration, and S0 r3 (47) comes after the horizon. With sticky_wait = false S0 r2 goes
/// straight to b (28-35) keeping its binding to a; S2 r1 (36) takes a (36-43); S1 r2 (40)
/// spills to b (40-47); S0 r3 (44) finds a free: a sticky hit. Two capacity migrations.
#[test]
fn sticky_wait_false_timeline() {
    let run_with = |g: &str| run(&scenario(&spill(g))).points[0].reps[0].counts.clone();
    let c = run_with("sticky_max_waiting = 3");
    assert_eq!((c.bound_requests, c.migrations), (2, 0));
    let c = run_with("sticky_max_waiting = 3\nsticky_wait = false");
    assert_eq!(
        (c.bound_requests, c.migrations, c.migrations_capacity),
        (3, 2, 2)
    );
    assert_eq!(c.rejected_queue_full + c.rejected_wait_timeout, 0);
}
