//! `slotsim validate`: the simulator against results known exactly, computed by
//! slotsim's own [`crate::exact`] solvers. Each check runs a scenario and compares one
//! metric's mean over replications with the exact value: it passes when the distance is
//! within the 95% confidence half-width widened to 99.9% coverage (Student t), plus a
//! slack of 0.5% of the exact value and 1e-4 for biases a confidence interval does not
//! cover (the empty start after the warm-up, microsecond rounding). The models are those
//! of docs/model.md section 6.

use crate::exact::{erlang_b, guard_channel, mmc_mean_wait, session_chain};
use crate::runner::{self, RunError, RunSettings};
use crate::scenario::parse_scenario;
use crate::stats::t975;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Coverage of the interval an exact value must fall in.
pub const COVERAGE: f64 = 0.999;
/// Slack beyond the widened interval: relative, and absolute.
pub const REL_SLACK: f64 = 0.005;
pub const ABS_SLACK: f64 = 1e-4;

/// One comparison.
#[derive(Debug, Clone)]
pub struct Check {
    /// The model and its parameters, in words.
    pub case: String,
    pub metric: &'static str,
    pub exact: f64,
    pub simulated: f64,
    /// 95% half-width of the simulated mean.
    pub ci95: f64,
    /// The allowed distance: the widened half-width plus the slack.
    pub allowed: f64,
}

impl Check {
    pub fn passed(&self) -> bool {
        (self.simulated - self.exact).abs() <= self.allowed
    }
}

/// A model with exact answers: a scenario and, per sweep point, (metric, exact value).
struct Case {
    name: String,
    scenario: String,
    expected: Vec<Vec<(&'static str, f64)>>,
}

/// The scenario text of the open-mode checks: one account, no waiting, bound requests at
/// `bound` per second and new ones at `new` per second, `reserved` swept over `rs`. Public
/// so that the test suite checks the same scenarios.
pub fn open_scenario(
    c: u32,
    rs: &[i32],
    bound: f64,
    new: f64,
    service: &str,
    horizon_s: u32,
    reps: u32,
) -> String {
    let list: Vec<String> = rs.iter().map(|r| r.to_string()).collect();
    format!(
        r#"
        seed = 11
        horizon = {horizon_s}
        warmup = 200
        replications = {reps}
        [gateway]
        sticky_max_waiting = 0
        fallback_max_waiting = 0
        [[pools]]
        accounts = 1
        concurrency = {c}
        [workload]
        mode = "open"
        bound_rate = {bound}
        new_rate = {new}
        service_time = {service}
        [sweep]
        reserved = [{}]
        "#,
        list.join(", ")
    )
}

#[allow(clippy::too_many_arguments)] // the model's parameters, named at the call
fn open_case(
    name: &str,
    c: u32,
    rs: &[i32],
    a: f64,
    b: f64,
    service: &str,
    horizon: u32,
    reps: u32,
) -> Case {
    let scenario = open_scenario(c, rs, a, b, service, horizon, reps);
    let expected = rs
        .iter()
        .map(|&r| {
            let g = guard_channel(c, r, a, b, 1.0);
            vec![
                ("new_session_rejection_rate", g.new_blocking),
                ("continuity_failure_rate", g.bound_blocking),
                ("throughput_rps", g.throughput),
                ("slot_utilization", g.mean_busy / c as f64),
            ]
        })
        .collect();
    Case {
        name: format!("{name}: C = {c}, bound {a}/s, new {b}/s, mean service 1 s"),
        scenario,
        expected,
    }
}

fn cases(quick: bool) -> Vec<Case> {
    // Simulated seconds and replications: `--quick` runs in a few seconds.
    let (h, n) = if quick { (1500, 10) } else { (8000, 30) };
    let exp = r#"{ dist = "exponential", mean = "1s" }"#;
    let mut v = vec![
        open_case("guard channel", 5, &[0, 1, 2, 3], 1.5, 2.5, exp, h, n),
        open_case("guard channel", 12, &[0, 2, 4], 4.0, 6.5, exp, h, n),
        open_case(
            "insensitivity (lognormal service, cv 1.5)",
            5,
            &[1, 2],
            1.5,
            2.5,
            r#"{ dist = "lognormal", mean = "1s", cv = 1.5 }"#,
            h,
            n,
        ),
    ];
    // Erlang B: R = 0, ten slots at 90% load.
    let eb = erlang_b(10, 9.0);
    let mut b = open_case("Erlang B", 10, &[0], 3.0, 6.0, exp, h, n);
    b.expected = vec![vec![
        ("new_session_rejection_rate", eb),
        ("continuity_failure_rate", eb),
    ]];
    v.push(b);
    // Session mode: the two-dimensional Markov chain.
    let session_h = if quick { 5000 } else { 30000 };
    for (c, r, lambda, q, think) in [(3u32, 1i32, 0.5, 0.5, 2.0), (5, 2, 1.0, 0.75, 4.0)] {
        let chain = session_chain(c, r, lambda, q, think, 1.0);
        v.push(Case {
            name: format!(
                "session chain: C = {c}, R = {r}, sessions {lambda}/s, continue {q}, think {think} s, service 1 s"
            ),
            scenario: format!(
                r#"
                seed = 5
                horizon = {session_h}
                warmup = 500
                replications = {n}
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
                service_time = {{ dist = "exponential", mean = 1 }}
                "#,
                1.0 / (1.0 - q)
            ),
            expected: vec![vec![
                ("new_session_rejection_rate", chain.new_session_rejection),
                ("continuity_failure_rate", chain.continuity_failure),
                ("throughput_rps", chain.throughput),
            ]],
        });
    }
    // Erlang C: FIFO waiting, no reserve, C = 3 at load 2.4.
    let (c, lambda) = (3u32, 2.4);
    let wq = mmc_mean_wait(c, lambda, 1.0);
    v.push(Case {
        name: format!("Erlang C (FIFO waiting): C = {c}, arrivals {lambda}/s, service 1 s"),
        scenario: format!(
            r#"
            seed = 17
            horizon = {h}
            warmup = 200
            replications = {n}
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
        ),
        expected: vec![vec![("wait_mean_s", wq), ("mean_waiting", lambda * wq)]],
    });
    v
}

/// The widened half-width of an estimate (see the module's description).
fn widened(ci95: f64, n: usize) -> f64 {
    if n < 2 || !ci95.is_finite() {
        return f64::INFINITY;
    }
    let df = (n - 1) as f64;
    let t = StudentsT::new(0.0, 1.0, df)
        .map(|t| t.inverse_cdf(0.5 + COVERAGE / 2.0))
        .unwrap_or(f64::NAN);
    ci95 * t / t975(n as u64 - 1)
}

/// Runs every check.
pub fn run(quick: bool, settings: &RunSettings) -> Result<Vec<Check>, RunError> {
    let mut checks = Vec::new();
    for case in cases(quick) {
        let s = parse_scenario(&case.scenario, "validate").expect("built-in scenarios are valid");
        let result = runner::run(&s, settings, &|_| {})?;
        for (p, expected) in result.points.iter().zip(&case.expected) {
            for &(metric, exact) in expected {
                let e = p.estimate(metric);
                let ci95 = e.ci95.unwrap_or(f64::NAN);
                let label = if result.points.len() > 1 {
                    format!("{}, {}", case.name, p.point.label())
                } else {
                    case.name.clone()
                };
                checks.push(Check {
                    case: label,
                    metric,
                    exact,
                    simulated: e.mean,
                    ci95,
                    allowed: widened(ci95, e.n) + REL_SLACK * exact.abs() + ABS_SLACK,
                });
            }
        }
    }
    Ok(checks)
}
