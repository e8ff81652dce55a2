//! Shared helpers and the named tolerances of the statistical tests.

use slotsim::runner::{self, PointResult, RunResult, RunSettings};
use slotsim::scenario::{parse_scenario, Scenario};
use slotsim::stats::{t975, Estimate};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Coverage of the interval an exact value must fall in. The simulation's 95% half-width
/// is widened to this coverage (Student t), so each comparison fails by chance about once
/// in a thousand seeds, not once in twenty.
pub const COVERAGE: f64 = 0.999;

/// Absolute slack on rates, for what the CI does not cover: times rounded to microseconds,
/// and counting by arrival window (requests that straddle the window edges).
pub const RATE_SLACK: f64 = 0.002;

/// Relative slack on throughput, for the same edge effects.
pub const THROUGHPUT_REL_SLACK: f64 = 0.005;

pub fn scenario(text: &str) -> Scenario {
    parse_scenario(text, "test.toml").unwrap_or_else(|e| panic!("test scenario is invalid: {e}"))
}

pub fn run(s: &Scenario) -> RunResult {
    runner::run(
        s,
        &RunSettings {
            threads: Some(2),
            ..RunSettings::default()
        },
        &|_| {},
    )
    .expect("run succeeds")
}

/// Half-width of the `COVERAGE` interval, from an estimate's 95% half-width.
pub fn widened(e: &Estimate) -> f64 {
    let h = e.ci95.expect("at least two replications");
    let df = (e.n - 1) as f64;
    let t = StudentsT::new(0.0, 1.0, df)
        .unwrap()
        .inverse_cdf(0.5 + COVERAGE / 2.0);
    h * t / t975(e.n as u64 - 1)
}

/// Asserts that the point's `metric` agrees with `exact` within the widened CI plus `slack`.
pub fn assert_close(p: &PointResult, metric: &str, exact: f64, slack: f64) {
    let e = p.estimate(metric);
    let tol = widened(&e) + slack;
    assert!(
        (e.mean - exact).abs() <= tol,
        "{} {metric}: simulated {:.6} ± {:.6} (95%), exact {:.6}, allowed distance {:.6}",
        p.point.label(),
        e.mean,
        e.ci95.unwrap_or(f64::NAN),
        exact,
        tol
    );
}
