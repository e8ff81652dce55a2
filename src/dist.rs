//! Probability distributions for workload fields, validated at construction.
//!
//! A [`Dist`] that exists is valid: its constructors check their parameters, so sampling
//! never fails. Time-valued distributions sample seconds; count-valued ones sample whole
//! numbers >= 1.

use rand::Rng;
use rand_distr::{Distribution, Exp1, StandardNormal};

/// z such that P(N(0,1) <= z) = 0.95.
const Z_95: f64 = 1.644_853_626_951_472_2;

/// A validated distribution.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    /// Always `value`.
    Constant { value: f64 },
    /// Exponential with the given mean.
    Exponential { mean: f64 },
    /// exp(N(mu, sigma^2)).
    LogNormal { mu: f64, sigma: f64 },
    /// Uniform on [min, max].
    Uniform { min: f64, max: f64 },
    /// Geometric on 1, 2, 3, ... with success probability `p` (mean 1/p).
    Geometric { p: f64 },
}

impl Dist {
    pub fn constant(value: f64) -> Result<Dist, String> {
        if value.is_finite() && value >= 0.0 {
            Ok(Dist::Constant { value })
        } else {
            Err(format!("constant value {value} must be finite and >= 0"))
        }
    }

    pub fn exponential(mean: f64) -> Result<Dist, String> {
        if mean.is_finite() && mean > 0.0 {
            Ok(Dist::Exponential { mean })
        } else {
            Err(format!("exponential mean {mean} must be finite and > 0"))
        }
    }

    /// Lognormal from its median and 95th percentile (p95 > median > 0).
    pub fn lognormal_median_p95(median: f64, p95: f64) -> Result<Dist, String> {
        if !(median.is_finite() && median > 0.0 && p95.is_finite() && p95 > median) {
            return Err(format!(
                "lognormal needs 0 < median < p95 (got median {median}, p95 {p95})"
            ));
        }
        Ok(Dist::LogNormal {
            mu: median.ln(),
            sigma: (p95 / median).ln() / Z_95,
        })
    }

    /// Lognormal from its mean and coefficient of variation (mean > 0, cv > 0).
    pub fn lognormal_mean_cv(mean: f64, cv: f64) -> Result<Dist, String> {
        if !(mean.is_finite() && mean > 0.0 && cv.is_finite() && cv > 0.0) {
            return Err(format!(
                "lognormal needs mean > 0 and cv > 0 (got mean {mean}, cv {cv})"
            ));
        }
        let s2 = (1.0 + cv * cv).ln();
        Ok(Dist::LogNormal {
            mu: mean.ln() - s2 / 2.0,
            sigma: s2.sqrt(),
        })
    }

    pub fn uniform(min: f64, max: f64) -> Result<Dist, String> {
        if min.is_finite() && max.is_finite() && min >= 0.0 && max >= min {
            Ok(Dist::Uniform { min, max })
        } else {
            Err(format!(
                "uniform needs 0 <= min <= max (got min {min}, max {max})"
            ))
        }
    }

    /// Geometric on 1, 2, ... with the given mean (>= 1).
    pub fn geometric(mean: f64) -> Result<Dist, String> {
        if mean.is_finite() && mean >= 1.0 {
            Ok(Dist::Geometric { p: 1.0 / mean })
        } else {
            Err(format!(
                "geometric mean {mean} must be >= 1 (counts start at 1)"
            ))
        }
    }

    /// The distribution's mean.
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Constant { value } => value,
            Dist::Exponential { mean } => mean,
            Dist::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Geometric { p } => 1.0 / p,
        }
    }

    /// Draws one value (seconds for time fields).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match *self {
            Dist::Constant { value } => value,
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            Dist::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Dist::Uniform { min, max } => min + (max - min) * rng.random::<f64>(),
            Dist::Geometric { .. } => self.sample_count(rng) as f64,
        }
    }

    /// Draws a count >= 1 (for count fields: constant or geometric).
    pub fn sample_count<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        match *self {
            Dist::Geometric { p } => {
                if p >= 1.0 {
                    return 1;
                }
                // Inversion: number of trials up to and including the first success.
                let u: f64 = 1.0 - rng.random::<f64>(); // in (0, 1]
                let k = (u.ln() / (1.0 - p).ln()).floor();
                if k.is_finite() && k < 1e15 {
                    k as u64 + 1
                } else {
                    1_000_000_000_000_000
                }
            }
            Dist::Constant { value } => value.round().max(1.0) as u64,
            _ => self.sample(rng).round().max(1.0) as u64,
        }
    }

    /// Short description for reports, with `unit` appended to time values.
    pub fn describe(&self, unit: &str) -> String {
        let f = |x: f64| format!("{}{unit}", crate::units::round_sig(x, 3));
        match *self {
            Dist::Constant { value } => format!("constant {}", f(value)),
            Dist::Exponential { mean } => format!("exponential, mean {}", f(mean)),
            Dist::LogNormal { mu, sigma } => format!(
                "lognormal, median {}, p95 {}, mean {}",
                f(mu.exp()),
                f((mu + Z_95 * sigma).exp()),
                f(self.mean())
            ),
            Dist::Uniform { min, max } => format!("uniform {}..{}", f(min), f(max)),
            Dist::Geometric { p } => {
                format!("geometric, mean {}", crate::units::round_sig(1.0 / p, 3))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn sample_mean(d: &Dist, n: usize) -> f64 {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(42);
        (0..n).map(|_| d.sample(&mut rng)).sum::<f64>() / n as f64
    }

    #[test]
    fn constructors_reject_bad_parameters() {
        assert!(Dist::exponential(0.0).is_err());
        assert!(Dist::exponential(f64::NAN).is_err());
        assert!(Dist::lognormal_median_p95(10.0, 5.0).is_err());
        assert!(Dist::lognormal_median_p95(0.0, 5.0).is_err());
        assert!(Dist::lognormal_mean_cv(1.0, 0.0).is_err());
        assert!(Dist::geometric(0.5).is_err());
        assert!(Dist::constant(-1.0).is_err());
        assert!(Dist::uniform(3.0, 2.0).is_err());
    }

    #[test]
    fn lognormal_parameterisations_agree() {
        let d = Dist::lognormal_median_p95(10.0, 60.0).unwrap();
        if let Dist::LogNormal { mu, sigma } = d {
            assert!((mu.exp() - 10.0).abs() < 1e-12);
            assert!(((mu + Z_95 * sigma).exp() - 60.0).abs() < 1e-9);
        }
        let d = Dist::lognormal_mean_cv(5.0, 2.0).unwrap();
        assert!((d.mean() - 5.0).abs() < 1e-12);
    }

    #[test]
    fn sample_means_match() {
        // 200k draws: standard error of the mean is sd/447; tolerances are ~5 standard errors.
        let n = 200_000;
        let e = Dist::exponential(2.0).unwrap();
        assert!((sample_mean(&e, n) - 2.0).abs() < 5.0 * 2.0 / (n as f64).sqrt());
        let l = Dist::lognormal_mean_cv(3.0, 1.0).unwrap();
        assert!((sample_mean(&l, n) - 3.0).abs() < 5.0 * 3.0 / (n as f64).sqrt());
        let g = Dist::geometric(4.0).unwrap();
        // variance (1-p)/p^2 = 12
        assert!((sample_mean(&g, n) - 4.0).abs() < 5.0 * 12f64.sqrt() / (n as f64).sqrt());
        let u = Dist::uniform(1.0, 3.0).unwrap();
        assert!((sample_mean(&u, n) - 2.0).abs() < 0.01);
    }

    #[test]
    fn geometric_counts_start_at_one() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(1);
        let g = Dist::geometric(1.0).unwrap();
        assert!((0..100).all(|_| g.sample_count(&mut rng) == 1));
        let g = Dist::geometric(3.0).unwrap();
        assert!((0..10_000).all(|_| g.sample_count(&mut rng) >= 1));
    }
}
