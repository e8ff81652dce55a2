//! Shared helpers and the named tolerances of the statistical tests.

use slotsim::runner::{self, PointResult, RunResult, RunSettings};
use slotsim::scenario::{parse_scenario, Scenario};
use slotsim::stats::{t975, Estimate};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Coverage of the interval an exact value must fall in. The simulation's 95% half-width
/// is widened to this coverage (Student t), so each comparison fails by chance about once
/// in a thousand seeds, not once in twenty.
pub const COVERAGE: f64 = 0.999;

/// Relative slack beyond the widened CI, for biases the CI does not cover: what is left of
/// the empty start after the warm-up (about one service time in thousands of seconds),
/// times rounded to microseconds, and requests that straddle the window's edges. All
/// comparisons also pass with no slack at all; this keeps a seed change from failing them.
pub const REL_SLACK: f64 = 0.005;

/// Absolute slack, so that an exact value of 0 is not held to exactly 0.
pub const ABS_SLACK: f64 = 1e-4;

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

/// Asserts that the point's `metric` agrees with `exact` within the widened CI plus
/// the slack.
pub fn assert_close(p: &PointResult, metric: &str, exact: f64) {
    assert_close_with(p, metric, exact, REL_SLACK * exact.abs() + ABS_SLACK);
}

/// [`assert_close`] with an explicit slack (0 for the heavy checks).
pub fn assert_close_with(p: &PointResult, metric: &str, exact: f64, slack: f64) {
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
