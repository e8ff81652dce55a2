//! Realistic workloads: distributions in scenario files, arrival processes, agentic
//! sessions, trace replay and the cost of cache moves.

use slotsim::dist::Dist;
use slotsim::scenario::{parse_scenario, Workload};

fn sessions_with(requests: &str, service: &str) -> String {
    format!(
        r#"
        horizon = "1h"
        [[pools]]
        accounts = 2
        [workload]
        arrival = {{ process = "poisson", rate = "1/min" }}
        requests_per_session = {requests}
        think_time = {{ dist = "constant", value = "1s" }}
        service_time = {service}
        "#
    )
}

fn error_of(text: &str) -> String {
    parse_scenario(text, "w.toml")
        .map(|_| ())
        .expect_err("the scenario is invalid")
        .to_string()
}

#[test]
fn new_distributions_parse_from_scenario_files() {
    let text = sessions_with(
        r#"{ dist = "negative_binomial", mean = 9.2, cv = 3.5 }"#,
        r#"{ dist = "mixture", components = [
            { weight = 3, dist = "gamma", mean = "5s", cv = 2 },
            { weight = 1, dist = "weibull", median = "30s", shape = 0.7 },
            { weight = 1, dist = "bounded_pareto", alpha = 1.1, min = "1s", max = "10m" },
            { weight = 1, dist = "empirical", values = ["1s", 2, "500ms"] } ] }"#,
    );
    let s = parse_scenario(&text, "w.toml").unwrap_or_else(|e| panic!("{e}"));
    let Workload::Sessions {
        requests_per_session,
        service_time,
        ..
    } = &s.workload
    else {
        panic!("sessions")
    };
    assert!(matches!(requests_per_session, Dist::NegBinomial { .. }));
    assert!((requests_per_session.mean() - 9.2).abs() < 1e-9);
    let Dist::Mixture { parts, cumulative } = service_time else {
        panic!("mixture")
    };
    assert_eq!(parts.len(), 4);
    for (c, want) in cumulative.iter().zip([0.5, 4.0 / 6.0, 5.0 / 6.0, 1.0]) {
        assert!((c - want).abs() < 1e-12, "{cumulative:?}");
    }
    assert_eq!(
        parts[3],
        Dist::empirical(vec![1.0, 2.0, 0.5], "a list".into()).unwrap()
    );
}

#[test]
fn empirical_column_of_a_csv_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.csv"), "a,secs\nx,1.5\ny,3\n").unwrap();
    let scenario = dir.path().join("s.toml");
    let text = sessions_with(
        r#"{ dist = "constant", value = 1 }"#,
        r#"{ dist = "empirical", file = "t.csv", column = "secs" }"#,
    );
    // Relative to the scenario file's folder.
    let s = parse_scenario(&text, scenario.to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"));
    let Workload::Sessions { service_time, .. } = &s.workload else {
        panic!()
    };
    assert!((service_time.mean() - 2.25).abs() < 1e-12);

    std::fs::write(dir.path().join("t.csv"), "a,secs\nx,1.5\ny,abc\n").unwrap();
    let e = parse_scenario(&text, scenario.to_str().unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("t.csv:3:") && e.contains("\"abc\""), "{e}");
    assert!(e.contains("workload.service_time.file"), "{e}");
    std::fs::write(dir.path().join("t.csv"), "a,secs\nx,1.5\ny\n").unwrap();
    let e = parse_scenario(&text, scenario.to_str().unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("t.csv:3:") && e.contains("truncated"), "{e}");
    let text = text.replace("\"secs\"", "\"nope\"");
    let e = parse_scenario(&text, scenario.to_str().unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no column \"nope\"") && e.contains("\"secs\""),
        "{e}"
    );
}

#[test]
fn distribution_errors_name_the_parameter() {
    let cases = [
        (
            sessions_with(
                r#"{ dist = "negative_binomial", mean = 9, cv = 0.1 }"#,
                r#"{ dist = "constant", value = 1 }"#,
            ),
            "workload.requests_per_session: negative_binomial cv = 0.1",
        ),
        (
            sessions_with(
                r#"{ dist = "gamma", mean = 9, cv = 1 }"#,
                r#"{ dist = "constant", value = 1 }"#,
            ),
            "workload.requests_per_session.dist: \"gamma\" is not allowed for a count",
        ),
        (
            sessions_with(
                r#"{ dist = "constant", value = 1 }"#,
                r#"{ dist = "weibull", shape = 0, scale = "1s" }"#,
            ),
            "workload.service_time: weibull shape = 0",
        ),
        (
            sessions_with(
                r#"{ dist = "constant", value = 1 }"#,
                r#"{ dist = "bounded_pareto", alpha = 1, min = "5s", max = "1s" }"#,
            ),
            "workload.service_time: bounded_pareto max = 1",
        ),
        (
            sessions_with(
                r#"{ dist = "constant", value = 1 }"#,
                r#"{ dist = "mixture", components = [{ dist = "constant", value = 1 }, { weight = 1, dist = "constant", value = 2 }] }"#,
            ),
            "workload.service_time.components[0].weight: is missing",
        ),
        (
            sessions_with(
                r#"{ dist = "empirical", values = [1, 2.5] }"#,
                r#"{ dist = "constant", value = 1 }"#,
            ),
            "workload.requests_per_session.values: is not allowed: a count must be a whole number",
        ),
        (
            sessions_with(
                r#"{ dist = "constant", value = 1 }"#,
                r#"{ dist = "gamma", mean = "1s" }"#,
            ),
            "a \"gamma\" distribution takes exactly {mean, cv} (got {mean})",
        ),
    ];
    for (text, want) in cases {
        let e = error_of(&text);
        assert!(e.contains(want), "wanted {want:?} in: {e}");
    }
}

/// One agentic session, timed by hand: it arrives at 3600 s (periodic, 1/h) and has 2
/// turns of 3 steps; service 1 s, tool time 2 s, think time 10 s. Steps are issued at
/// 3600, 3603, 3606 (turn 1; each completes 1 s later and the next follows 2 s after),
/// then 3617, 3620, 3623 (turn 2 starts 10 s after 3607), and the session ends at 3624.
/// A request is issued only before the horizon, so a run with horizon T counts the steps
/// issued before T: each step time is checked from both sides to the microsecond.
#[test]
fn agentic_session_by_hand() {
    use crate::common::{run, scenario};
    let mut s = scenario(
        r#"
        horizon = "2h"
        warmup = 0
        replications = 1
        [[pools]]
        accounts = 1
        concurrency = 1
        [workload]
        arrival = { process = "periodic", rate = "1/h" }
        turns_per_session = { dist = "constant", value = 2 }
        steps_per_turn = { dist = "constant", value = 3 }
        tool_time = { dist = "constant", value = "2s" }
        think_time = { dist = "constant", value = "10s" }
        service_time = { dist = "constant", value = "1s" }
        "#,
    );
    let issued = |s: &mut slotsim::scenario::Scenario, horizon_us: u64| {
        s.horizon = horizon_us;
        run(s).points[0].reps[0].counts.requests_arrived
    };
    let steps = [3600, 3603, 3606, 3617, 3620, 3623];
    for (k, t) in steps.iter().enumerate() {
        let t_us = t * 1_000_000;
        assert_eq!(issued(&mut s, t_us), k as u64, "before step {k} at {t} s");
        assert_eq!(
            issued(&mut s, t_us + 1),
            k as u64 + 1,
            "at step {k} at {t} s"
        );
    }
    s.horizon = 3700 * 1_000_000;
    let c = &run(&s).points[0].reps[0].counts;
    assert_eq!(
        (c.requests_completed, c.sessions_finished, c.sessions_intact),
        (6, 1, 1)
    );
}

/// The cost of a cache move on the hand-timed case of tests/it/hand.rs (two one-slot
/// accounts, a session every 10 s, two requests each, service 7 s, think 9 s): S1's
/// second request (36 s) finds its account Q busy and migrates to P, where S1 has no
/// cache while Q's copy (27 s) is warm: one move. Its context is 50 000 tokens at the
/// start plus 1 000 for the one request completed before: 51 000 tokens, costing
/// 51 000 x (2.0 - 0.1) x $3 / 10^6 = $0.2907.
#[test]
fn cost_of_a_cache_move_by_hand() {
    use crate::common::{run, scenario};
    let s = scenario(
        r#"
        horizon = 45
        warmup = 0
        replications = 1
        [gateway]
        sticky_max_waiting = 0
        fallback_max_waiting = 0
        [[pools]]
        accounts = 2
        concurrency = 1
        [workload]
        arrival = { process = "periodic", rate = "6/min" }
        requests_per_session = { dist = "constant", value = 2 }
        think_time = { dist = "constant", value = "9s" }
        service_time = { dist = "constant", value = "7s" }
        context_tokens = { dist = "constant", value = 50000 }
        context_growth = 1000
        [cost]
        cache_ttl = "1h"
        input_price_per_mtok = 3.0
        cache_write_multiplier = 2.0
        cache_read_multiplier = 0.1
        "#,
    );
    let r = run(&s);
    let p = &r.points[0];
    let c = &p.reps[0].counts;
    assert_eq!(
        (c.migrations, c.cache_moves, c.cache_move_tokens),
        (1, 1, 51_000)
    );
    let cost = p.estimate("cache_move_cost_usd").mean;
    assert!((cost - 0.2907).abs() < 1e-12, "{cost}");
    let per_1k = p.estimate("cache_move_cost_usd_per_1k_requests").mean;
    assert!((per_1k - 0.2907 * 1000.0 / 6.0).abs() < 1e-9, "{per_1k}");
    let per_hour = p.estimate("cache_move_cost_usd_per_hour").mean;
    assert!(
        (per_hour - 0.2907 * 3600.0 / 45.0).abs() < 1e-9,
        "{per_hour}"
    );
    // A cache TTL shorter than the 9 s gap: S1's cache is cold when it returns, so
    // there is nothing to move (the migration stays).
    let short = scenario(&s.source.replace("cache_ttl = \"1h\"", "cache_ttl = \"8s\""));
    let c = &run(&short).points[0].reps[0].counts;
    assert_eq!((c.migrations, c.cache_moves), (1, 0));
}

/// With a long cache TTL and short think times, and two requests per session (so a
/// session cannot return to an account it left), every migration re-writes a warm cache
/// on a cold account and every cache move is a migration: the counts are equal in every
/// replication of a loaded pool.
#[test]
fn cache_moves_equal_migrations_with_a_long_ttl_and_short_thinks() {
    use crate::common::{run, scenario};
    let s = scenario(
        r#"
        horizon = "1h"
        warmup = "5m"
        replications = 4
        [[pools]]
        accounts = 6
        concurrency = 2
        reserved = 0
        [workload]
        arrival = { process = "poisson", rate = "40/min" }
        requests_per_session = { dist = "constant", value = 2 }
        think_time = { dist = "exponential", mean = "5s" }
        service_time = { dist = "lognormal", median = "8s", p95 = "40s" }
        context_tokens = { dist = "lognormal", median = 100000, p95 = 400000 }
        [cost]
        cache_ttl = "1d"
        "#,
    );
    let r = run(&s);
    let mut total = 0;
    for rep in &r.points[0].reps {
        let c = &rep.counts;
        assert_eq!(
            c.cache_moves, c.migrations,
            "replication {}",
            rep.replication
        );
        total += c.migrations;
    }
    assert!(total > 100, "the pool is loaded enough to migrate: {total}");
}

// ---- trace replay on the real files in data/ -------------------------------------------

fn data(file: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(file)
        .display()
        .to_string()
}

fn trace_scenario(trace: &str, horizon: &str) -> String {
    format!(
        r#"
        horizon = "{horizon}"
        warmup = 0
        replications = 2
        [[pools]]
        accounts = 50
        concurrency = 4
        [workload]
        mode = "trace"
        trace = {trace}
        "#
    )
}

/// Every record of the Mooncake subset arrives, and its conversations (requests sharing
/// their first two blocks) are the sessions: both counted here independently, by
/// reading the file as JSON.
#[test]
fn mooncake_requests_and_sessions_match_an_independent_count() {
    let file = data("mooncake_conversation_trace_15min.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut keys = std::collections::HashSet::new();
    let mut n = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let ids = v["hash_ids"].as_array().unwrap();
        keys.insert((ids[0].as_u64().unwrap(), ids[1].as_u64().unwrap()));
        n += 1;
    }
    assert_eq!((n, keys.len()), (2728, 1895));
    let s = crate::common::scenario(&trace_scenario(
        &format!(r#"{{ file = "{file}", format = "mooncake" }}"#),
        "20m",
    ));
    let r = crate::common::run(&s);
    for rep in &r.points[0].reps {
        let c = &rep.counts;
        assert_eq!(c.requests_arrived, n);
        assert_eq!(c.sessions_arrived, keys.len() as u64);
        // Every conversation finishes with its last request (the trace ends at 15 min).
        assert_eq!(c.sessions_finished, keys.len() as u64);
        // Requests of a conversation after its first are bound (its binding is live).
        assert!(c.bound_requests > 0 && c.bound_requests <= n - keys.len() as u64);
    }
    // Each request its own session instead.
    let s = crate::common::scenario(&trace_scenario(
        &format!(r#"{{ file = "{file}", format = "mooncake", sessions = "request" }}"#),
        "20m",
    ));
    let c = &crate::common::run(&s).points[0].reps[0].counts;
    assert_eq!(
        (c.requests_arrived, c.sessions_arrived, c.bound_requests),
        (n, n, 0)
    );
}

/// The Azure code trace: one request per data row (counted here from the lines), each a
/// session of its own by default, or dealt to a fixed number of client sessions.
#[test]
fn azure_requests_match_an_independent_count() {
    let file = data("AzureLLMInferenceTrace_code.csv");
    let rows = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .count() as u64;
    assert_eq!(rows, 8819);
    let s = crate::common::scenario(&trace_scenario(
        &format!(r#"{{ file = "{file}", format = "azure" }}"#),
        "1h",
    ));
    let c = &crate::common::run(&s).points[0].reps[0].counts;
    assert_eq!((c.requests_arrived, c.sessions_arrived), (rows, rows));
    let s = crate::common::scenario(&trace_scenario(
        &format!(r#"{{ file = "{file}", format = "azure", sessions = 40 }}"#),
        "1h",
    ));
    let c = &crate::common::run(&s).points[0].reps[0].counts;
    assert_eq!(c.requests_arrived, rows);
    assert_eq!(
        c.sessions_arrived, 40,
        "every one of 40 clients gets requests"
    );
    assert_eq!(
        c.sessions_finished, 40,
        "each client's session finishes with its last request of the pass"
    );
}

/// A looped trace fills the horizon: each pass repeats every record, a period (span plus
/// one mean gap) after the previous pass; the rate scale compresses time.
#[test]
fn looped_trace_repeats_every_record() {
    let file = data("mooncake_conversation_trace_15min.jsonl");
    let s = crate::common::scenario(&trace_scenario(
        &format!(r#"{{ file = "{file}", format = "mooncake", loop = true, rate_scale = 4 }}"#),
        "1h",
    ));
    let slotsim::scenario::Workload::Trace { trace, .. } = &s.workload else {
        panic!()
    };
    assert_eq!((trace.records, trace.span_us), (2728, 899_999_000));
    // Three passes end at 3 periods / 4 (the first record of the fourth is at exactly
    // that time, which is the horizon: not issued).
    let mut s = s.clone();
    let period = trace.period_us() as f64;
    s.horizon = (3.0 * period / 4.0).round() as u64;
    let c = &crate::common::run(&s).points[0].reps[0].counts;
    assert_eq!(c.requests_arrived, 3 * 2728);
    assert_eq!(
        c.sessions_arrived,
        3 * 1895,
        "each pass has sessions of its own"
    );
    assert_eq!(
        c.sessions_finished,
        3 * 1895,
        "each finishes with the last request of its key in its pass"
    );
}

/// A csv trace with named columns: seconds, a session key and service times.
#[test]
fn csv_trace_with_named_columns() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.csv"),
        "when,who,secs\n1.0,a,5\n2.0,b,5\n3.5,a,5\n10,a,2\n",
    )
    .unwrap();
    let text = r#"
        horizon = 60
        warmup = 0
        replications = 1
        [[pools]]
        accounts = 2
        concurrency = 1
        [workload]
        mode = "trace"
        trace = { file = "t.csv", format = "csv", timestamp = "when", session = "who", service_time = "secs" }
        "#;
    let path = dir.path().join("s.toml");
    let s = parse_scenario(text, path.to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"));
    let r = crate::common::run(&s);
    let c = &r.points[0].reps[0].counts;
    // a@1 takes an account (to 6); b@2 the other (to 7); a@3.5 is bound to a full
    // account, waits (sticky) and is served at 6 (to 11); a@10 is bound, its account
    // is busy until 11, waits again and is served there at 11.
    assert_eq!(
        (
            c.requests_arrived,
            c.sessions_arrived,
            c.bound_requests,
            c.migrations
        ),
        (4, 2, 2, 0)
    );
    assert_eq!(c.requests_completed, 4);
    let busy_s = r.points[0].estimate("mean_busy_slots").mean * 60.0;
    assert!((busy_s - 17.0).abs() < 1e-9, "{busy_s}");
}

/// Truncated and malformed traces: the error names the file and the line, when the
/// scenario is checked (before anything runs), and the command exits with status 2.
#[test]
fn bad_trace_rows_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(data("mooncake_conversation_trace_15min.jsonl")).unwrap();
    let lines: Vec<&str> = src.lines().take(10).collect();
    // Line 10 cut in half, as a truncated download would leave it.
    let mut cut = lines[..9].join("\n");
    cut.push('\n');
    cut.push_str(&lines[9][..lines[9].len() / 2]);
    std::fs::write(dir.path().join("cut.jsonl"), cut).unwrap();
    let azure = std::fs::read_to_string(data("AzureLLMInferenceTrace_code.csv")).unwrap();
    let mut rows: Vec<String> = azure.lines().take(8).map(String::from).collect();
    rows[5] = "2023-11-16 18:17:05.1,4808".to_string(); // a field missing: line 6
    std::fs::write(dir.path().join("short.csv"), rows.join("\n")).unwrap();
    rows[5] = "2023-11-16 18:17:05.1,4808,ten".to_string();
    std::fs::write(dir.path().join("word.csv"), rows.join("\n")).unwrap();
    rows[5] = "2023-11-16 18:17:01.1,4808,10".to_string(); // earlier than line 5
    std::fs::write(dir.path().join("order.csv"), rows.join("\n")).unwrap();
    let cases = [
        ("cut.jsonl", "mooncake", "cut.jsonl:10:"),
        ("short.csv", "azure", "short.csv:6:"),
        ("word.csv", "azure", "word.csv:6: output tokens \"ten\""),
        (
            "order.csv",
            "azure",
            "order.csv:6: the timestamp is earlier",
        ),
    ];
    for (file, format, want) in cases {
        let text = trace_scenario(
            &format!(r#"{{ file = "{file}", format = "{format}" }}"#),
            "1h",
        );
        let path = dir.path().join("s.toml");
        std::fs::write(&path, &text).unwrap();
        let e = parse_scenario(&text, path.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(want) && e.contains("workload.trace.file"),
            "wanted {want:?} in {e}"
        );
        let out = assert_cmd::Command::cargo_bin("slotsim")
            .unwrap()
            .args(["check", path.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{file}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(want));
    }
}

/// Agentic, arrival and cost keys are validated with errors naming the key.
#[test]
fn workload_key_errors_name_the_key() {
    let base = |workload: &str, extra: &str| {
        format!(
            r#"
            horizon = "1h"
            [[pools]]
            accounts = 2
            [workload]
            {workload}
            service_time = {{ dist = "constant", value = "1s" }}
            {extra}
            "#
        )
    };
    let agentic = r#"turns_per_session = { dist = "constant", value = 2 }
            steps_per_turn = { dist = "constant", value = 2 }
            tool_time = { dist = "constant", value = "1s" }
            think_time = { dist = "constant", value = "1s" }"#;
    let cases = [
        (
            base(
                &format!("arrival = {{ rate = \"1/min\" }}\n{agentic}\nrequests_per_session = {{ dist = \"constant\", value = 2 }}"),
                "",
            ),
            "workload.requests_per_session: is not allowed together with turns_per_session",
        ),
        (
            base(
                "arrival = { rate = \"1/min\" }\nturns_per_session = { dist = \"constant\", value = 2 }\nthink_time = { dist = \"constant\", value = \"1s\" }",
                "",
            ),
            "workload.steps_per_turn: is missing",
        ),
        (
            base(&format!("arrival = {{ process = \"bursty\", rate = \"1/min\" }}\n{agentic}"), ""),
            "workload.arrival.cv: is missing",
        ),
        (
            base(&format!("arrival = {{ rate = \"1/min\", cv = 2 }}\n{agentic}"), ""),
            "workload.arrival.cv: is used only with process = \"bursty\"",
        ),
        (
            base(&format!("arrival = {{ rate = \"1/min\", daily_profile = [1, 2] }}\n{agentic}"), ""),
            "workload.arrival.daily_profile: has 2 values",
        ),
        (
            base(&format!("arrival = {{ rate = \"1/min\", daily_profile = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }}\n{agentic}"), ""),
            "workload.arrival.daily_profile: is all zeros",
        ),
        (
            base(&format!("arrival = {{ rate = \"1/min\" }}\n{agentic}"), "[cost]\ncache_read_multiplier = 3"),
            "cost.cache_read_multiplier: 3 is not allowed",
        ),
        (
            base(&format!("arrival = {{ rate = \"1/min\" }}\n{agentic}"), "[cost]\ncache_ttl = 0"),
            "cost.cache_ttl",
        ),
        (
            base(&format!("arrival = {{ rate = \"1/min\" }}\n{agentic}"), "[cost]\nprice = 3"),
            "price",
        ),
    ];
    for (text, want) in cases {
        let e = error_of(&text);
        assert!(e.contains(want), "wanted {want:?} in: {e}");
    }
}
