//! From replications to estimates: the per-replication metrics of docs/model.md section 5 and
//! their mean with a Student-t 95% confidence half-width across replications.

use crate::engine::RepOutput;
use crate::units::US_PER_S;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The per-replication metrics, in `summary.csv` column order. Each is a number computed
/// from one replication's counts; the summary reports its mean across replications.
pub const METRICS: [&str; 38] = [
    "sessions_arrived",
    "sessions_rejected",
    "new_session_rejection_rate",
    "bound_requests",
    "migrations",
    "bound_rejections",
    "continuity_failures",
    "continuity_failure_rate",
    "migration_rate",
    "bound_rejection_rate",
    "requests_arrived",
    "requests_completed",
    "requests_rejected",
    "request_rejection_rate",
    "throughput_rps",
    "slot_utilization",
    "mean_busy_slots",
    "mean_waiting",
    "wait_mean_s",
    "wait_p50_s",
    "wait_p95_s",
    "wait_p99_s",
    "sessions_finished",
    "sessions_intact_rate",
    "sessions_abandoned",
    "expired_rebinds",
    "faults_rate_limit",
    "faults_overload",
    "faults_auth_error",
    "rejected_failover",
    "migration_rate_capacity",
    "migration_rate_fault",
    "migration_rate_limit",
    "cache_moves",
    "cache_move_tokens",
    "cache_move_cost_usd",
    "cache_move_cost_usd_per_1k_requests",
    "cache_move_cost_usd_per_hour",
];

/// Index of a metric in [`METRICS`].
pub fn metric_index(name: &str) -> Option<usize> {
    METRICS.iter().position(|m| *m == name)
}

/// The headline metrics (paired differences, precision targets).
pub const HEADLINE: [&str; 4] = [
    "new_session_rejection_rate",
    "continuity_failure_rate",
    "throughput_rps",
    "slot_utilization",
];

/// A ratio that is 0 when the denominator is 0 (docs/model.md section 5).
pub fn ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        0.0
    } else {
        num / den
    }
}

/// The value of every metric for one replication, in [`METRICS`] order.
pub fn rep_metrics(o: &RepOutput) -> [f64; METRICS.len()] {
    let c = &o.counts;
    let f = |x: u64| x as f64;
    let measured_s = o.measured as f64 / US_PER_S;
    let mean_busy = ratio(o.busy_slot_us as f64, o.measured as f64);
    let continuity = c.migrations + c.bound_rejections;
    // Every moved token is written again at the write price instead of read.
    let move_cost = f(c.cache_move_tokens) * o.usd_per_token;
    let served = o.wait_hist.len();
    let q = |p: f64| {
        if served == 0 {
            0.0
        } else {
            o.wait_hist.value_at_quantile(p) as f64 / US_PER_S
        }
    };
    [
        f(c.sessions_arrived),
        f(c.sessions_rejected),
        ratio(f(c.sessions_rejected), f(c.sessions_arrived)),
        f(c.bound_requests),
        f(c.migrations),
        f(c.bound_rejections),
        f(continuity),
        ratio(f(continuity), f(c.bound_requests)),
        ratio(f(c.migrations), f(c.bound_requests)),
        ratio(f(c.bound_rejections), f(c.bound_requests)),
        f(c.requests_arrived),
        f(c.requests_completed),
        f(c.requests_rejected),
        ratio(f(c.requests_rejected), f(c.requests_arrived)),
        ratio(f(c.requests_completed), measured_s),
        ratio(mean_busy, o.total_slots as f64),
        mean_busy,
        ratio(o.waiting_us as f64, o.measured as f64),
        ratio(o.wait_sum_us as f64, served as f64) / US_PER_S,
        q(0.50),
        q(0.95),
        q(0.99),
        f(c.sessions_finished),
        ratio(f(c.sessions_intact), f(c.sessions_finished)),
        f(c.sessions_abandoned),
        f(c.expired_rebinds),
        f(c.faults_rate_limit),
        f(c.faults_overload),
        f(c.faults_auth_error),
        f(c.rejected_failover),
        ratio(f(c.migrations_capacity), f(c.bound_requests)),
        ratio(f(c.migrations_fault), f(c.bound_requests)),
        ratio(f(c.migrations_limit), f(c.bound_requests)),
        f(c.cache_moves),
        f(c.cache_move_tokens),
        move_cost,
        ratio(move_cost * 1000.0, f(c.requests_completed)),
        ratio(move_cost * 3600.0, measured_s),
    ]
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom. The inverse CDF is
/// an iterative search that costs microseconds, and a sweep asks for it for every metric
/// of every point with the same few `df`: values for small `df` are computed once per
/// process and kept (the same function, so the same bits).
pub fn t975(df: u64) -> f64 {
    const KEPT: usize = 256;
    static KNOWN: [std::sync::OnceLock<f64>; KEPT] = [const { std::sync::OnceLock::new() }; KEPT];
    match KNOWN.get(df as usize) {
        Some(cell) => *cell.get_or_init(|| t975_computed(df)),
        None => t975_computed(df),
    }
}

fn t975_computed(df: u64) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(f64::NAN)
}

/// A mean across replications with its 95% half-width (None with fewer than 2 values).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    pub ci95: Option<f64>,
    pub n: usize,
}

impl Estimate {
    /// Mean and Student-t half-width of `xs`, summed in order (deterministic).
    pub fn of(xs: &[f64]) -> Estimate {
        Estimate::of_values(xs.iter().copied())
    }

    /// [`Estimate::of`] the values `xs` yields, in order, without a slice of them (the
    /// same arithmetic, so the same bits): a sweep of many points asks for thousands.
    pub fn of_values(xs: impl ExactSizeIterator<Item = f64>) -> Estimate {
        let n = xs.len();
        if n == 0 {
            return Estimate {
                mean: f64::NAN,
                ci95: None,
                n,
            };
        }
        // Welford's online mean and variance.
        let (mut mean, mut m2) = (0.0, 0.0);
        for (i, x) in xs.enumerate() {
            let d = x - mean;
            mean += d / (i + 1) as f64;
            m2 += d * (x - mean);
        }
        let ci95 = (n >= 2).then(|| {
            let sd = (m2 / (n - 1) as f64).max(0.0).sqrt();
            t975(n as u64 - 1) * sd / (n as f64).sqrt()
        });
        Estimate { mean, ci95, n }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        // Standard t-table values, 0.975 quantile.
        for (df, want) in [
            (1, 12.706),
            (2, 4.303),
            (5, 2.571),
            (9, 2.262),
            (29, 2.045),
            (1000, 1.962),
        ] {
            assert!((t975(df) - want).abs() < 1e-3, "df={df}: {}", t975(df));
        }
    }

    #[test]
    fn estimate_known_values() {
        let e = Estimate::of(&[1.0, 2.0, 3.0, 4.0]);
        assert!((e.mean - 2.5).abs() < 1e-15);
        // sd = sqrt(5/3), half-width = t(3) * sd / 2
        let want = 3.182_446_305_284_263 * (5.0f64 / 3.0).sqrt() / 2.0;
        assert!((e.ci95.unwrap() - want).abs() < 1e-9);
        assert_eq!(Estimate::of(&[7.0]).ci95, None);
        assert_eq!(Estimate::of(&[7.0]).mean, 7.0);
        assert_eq!(Estimate::of(&[2.0, 2.0, 2.0]).ci95, Some(0.0));
    }

    #[test]
    fn ratio_is_zero_on_empty_denominator() {
        assert_eq!(ratio(0.0, 0.0), 0.0);
        assert_eq!(ratio(3.0, 4.0), 0.75);
    }
}

/// The MSER-5 warm-up heuristic (White 1997) on a series of per-minute observations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mser5 {
    /// Minutes to drop from the start (a multiple of 5), or None when MSER-5 is
    /// inconclusive: its minimum fell on the edge of the search (the first half) while the
    /// series shows no drift, which is what noise alone often does to short series.
    pub truncate: Option<usize>,
    /// Batches of 5 available.
    pub batches: usize,
    /// False when the minimum fell on the edge AND the third quarter of the series differs
    /// from the second half's remainder by more than [`DRIFT_Z`] standard errors: the run has
    /// not settled within the horizon, so its means are suspect.
    pub stationary: bool,
}

/// Standard errors between quarter means that count as drift (about 1% two-sided).
pub const DRIFT_Z: f64 = 2.58;

/// Relative distance from the minimum within which MSER-5 statistics of the linear pass
/// are recomputed exactly (the two ways of summing differ by far less than this).
pub const MSER_RECHECK_REL: f64 = 1e-9;
/// At most this many near-minimal truncations are recomputed (the first ones, so a flat
/// series, where every truncation ties, still costs linear time and keeps d = 0).
pub const MSER_RECHECK_MAX: usize = 16;

/// The MSER statistic of a tail of batch means, summed in two passes.
fn mser_exact(rest: &[f64]) -> f64 {
    let (m, _) = mean_var(rest);
    let ss: f64 = rest.iter().map(|b| (b - m) * (b - m)).sum();
    ss / (rest.len() * rest.len()) as f64
}

fn mean_var(xs: &[f64]) -> (f64, f64) {
    let m = xs.iter().sum::<f64>() / xs.len() as f64;
    let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len().max(2) - 1) as f64;
    (m, v)
}

/// Batches `series` into means of 5 and finds the truncation d minimising
/// MSER(d) = sum_{i>=d} (b_i - mean_d)^2 / (n - d)^2 over d in [0, n/2] (the first d on
/// ties). None with fewer than 8 batches (40 minutes: too short to judge).
///
/// Linear time: one backward pass keeps the mean and sum of squared deviations of every
/// tail (Welford's update). Those differ from a two-pass sum over each tail by rounding
/// only, so the few truncations whose statistic lies within [`MSER_RECHECK_REL`] of the
/// minimum are recomputed exactly as the two-pass sum and the least of those is taken;
/// the answer is the one the quadratic definition gives (tested on random series). The
/// one exception is a series flat to within rounding that is not made of exactly
/// representable equal values: there every truncation's statistic is rounding noise, the
/// quadratic definition picks by that noise, and this one takes the first of them.
pub fn mser5(series: &[f64]) -> Option<Mser5> {
    let batches: Vec<f64> = series
        .chunks_exact(5)
        .map(|c| c.iter().sum::<f64>() / 5.0)
        .collect();
    let n = batches.len();
    if n < 8 {
        return None;
    }
    let half = n / 2;
    // stats[d] for d in 0..=half, from one backward pass.
    let mut stats = vec![0.0; half + 1];
    let (mut mean, mut m2, mut k) = (0.0f64, 0.0f64, 0usize);
    for (i, &b) in batches.iter().enumerate().rev() {
        k += 1;
        let delta = b - mean;
        mean += delta / k as f64;
        m2 += delta * (b - mean);
        if i <= half {
            stats[i] = m2.max(0.0) / (k * k) as f64;
        }
    }
    let fast_min = stats.iter().copied().fold(f64::INFINITY, f64::min);
    let near: Vec<usize> = (0..=half)
        .filter(|&d| stats[d] <= fast_min + MSER_RECHECK_REL * fast_min.abs() + f64::MIN_POSITIVE)
        .take(MSER_RECHECK_MAX)
        .collect();
    let mut best = (f64::INFINITY, 0);
    for d in near {
        let stat = mser_exact(&batches[d..]);
        if stat < best.0 {
            best = (stat, d);
        }
    }
    Some(conclude(&batches, best.1))
}

/// MSER-5's verdict for the truncation point `d` (in batches) that minimised the
/// statistic over the first half of the `batches`: inside the half, truncate there; on its
/// edge, tell real drift (a level shift between the third quarter and the last) from noise.
fn conclude(batches: &[f64], d: usize) -> Mser5 {
    let n = batches.len();
    if d < n / 2 {
        return Mser5 {
            truncate: Some(5 * d),
            batches: n,
            stationary: true,
        };
    }
    let (q3, q4) = (&batches[n / 2..3 * n / 4], &batches[3 * n / 4..]);
    let ((m3, v3), (m4, v4)) = (mean_var(q3), mean_var(q4));
    let se = (v3 / q3.len() as f64 + v4 / q4.len() as f64).sqrt();
    let drift = (m3 - m4).abs() > DRIFT_Z * se;
    Mser5 {
        truncate: drift.then_some(5 * d),
        batches: n,
        stationary: !drift,
    }
}

#[cfg(test)]
mod mser_tests {
    use super::*;

    #[test]
    fn finds_an_initial_transient() {
        // 30 minutes ramping up from 0, then 170 minutes at a noisy plateau.
        let mut s: Vec<f64> = (0..30).map(|i| i as f64 / 30.0 * 10.0).collect();
        s.extend((0..170).map(|i| 10.0 + if i % 2 == 0 { 0.3 } else { -0.3 }));
        let m = mser5(&s).unwrap();
        assert!((20..=35).contains(&m.truncate.unwrap()), "{m:?}");
        assert!(m.stationary);
    }

    #[test]
    fn stationary_series_needs_no_truncation() {
        let s: Vec<f64> = (0..100)
            .map(|i| 5.0 + ((i * 7919) % 13) as f64 / 13.0)
            .collect();
        let m = mser5(&s).unwrap();
        assert!(m.truncate.unwrap() <= 10, "{m:?}");
        assert!(m.stationary);
    }

    #[test]
    fn steady_drift_is_not_stationary() {
        let s: Vec<f64> = (0..100)
            .map(|i| i as f64 + ((i * 31) % 7) as f64 * 0.1)
            .collect();
        assert!(!mser5(&s).unwrap().stationary);
    }

    /// A flat series whose second half happens to be calmer: the minimum lands on the
    /// edge, but without a level shift that is noise, not drift.
    #[test]
    fn calmer_tail_without_drift_is_inconclusive_not_drifting() {
        let s: Vec<f64> = (0..200)
            .map(|i| {
                5.0 + if i < 100 {
                    [-1.0, 1.0][i % 2]
                } else {
                    [-0.1, 0.1][i % 2]
                } * ((i / 5 % 2) as f64 * 2.0 - 1.0)
            })
            .collect();
        let m = mser5(&s).unwrap();
        assert_eq!((m.truncate, m.stationary), (None, true), "{m:?}");
    }

    /// The definition as first written: every truncation's statistic summed in two
    /// passes, O(n^2).
    fn mser5_quadratic(series: &[f64]) -> Option<Mser5> {
        let batches: Vec<f64> = series
            .chunks_exact(5)
            .map(|c| c.iter().sum::<f64>() / 5.0)
            .collect();
        let n = batches.len();
        if n < 8 {
            return None;
        }
        let mut best = (f64::INFINITY, 0);
        for d in 0..=n / 2 {
            let stat = mser_exact(&batches[d..]);
            if stat < best.0 {
                best = (stat, d);
            }
        }
        Some(conclude(&batches, best.1))
    }

    /// The linear-time MSER-5 gives exactly what the quadratic definition gives, on
    /// random series of many shapes: noise, transients, drift, integer plateaus (ties),
    /// saturated (constant whole-number) series and huge offsets.
    #[test]
    fn linear_mser_equals_the_quadratic_definition() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(11);
        for case in 0..3000 {
            let len = rng.random_range(0..700usize);
            let shape = case % 6;
            let offset = [0.0, 1e6, -3.0][case % 3];
            let level = rng.random_range(0.0..50.0);
            let ramp = rng.random_range(0..len.max(1));
            let s: Vec<f64> = (0..len)
                .map(|i| {
                    let noise: f64 = rng.random_range(-1.0..1.0);
                    offset
                        + match shape {
                            0 => level + noise,
                            1 => level * (i.min(ramp) as f64 / ramp.max(1) as f64) + noise,
                            2 => i as f64 * 0.01 * level + noise,
                            3 => (level + 3.0 * noise).round(),
                            // Saturated: the same whole number of busy slots.
                            4 => level.round(),
                            _ => level + noise * (1.0 + (i > len / 2) as u8 as f64 * 5.0),
                        }
                })
                .collect();
            assert_eq!(
                mser5(&s),
                mser5_quadratic(&s),
                "case {case}, shape {shape}, len {len}"
            );
        }
    }

    #[test]
    fn short_series_is_not_judged() {
        assert_eq!(mser5(&[1.0; 39]), None);
    }
}
