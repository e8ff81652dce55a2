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
