//! Probability distributions for workload fields, validated at construction.
//!
//! A [`Dist`] that exists is valid: its constructors check their parameters, so sampling
//! never fails. Time-valued distributions sample seconds; count-valued ones sample whole
//! numbers >= 1; token amounts sample plain numbers. Every constructor's error names the
//! parameter that is wrong and what is allowed.

use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma, Poisson, StandardNormal};
use std::sync::Arc;

/// z such that P(N(0,1) <= z) = 0.95.
const Z_95: f64 = 1.644_853_626_951_472_2;

/// The largest count a sampler returns (far beyond any horizon's worth of requests).
const MAX_COUNT: u64 = 1_000_000_000_000_000;

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
    /// Geometric on 1, 2, 3, ... with success probability `p` (mean 1/p); `ln_q` is
    /// ln(1 - p), computed once when the distribution is built rather than at each draw.
    Geometric { p: f64, ln_q: f64 },
    /// Gamma with shape k and scale theta (mean k theta, cv 1/sqrt(k)).
    Gamma { shape: f64, scale: f64 },
    /// Weibull: P(X > x) = exp(-(x / scale)^shape).
    Weibull { shape: f64, scale: f64 },
    /// Pareto with tail index `alpha`, truncated to [min, max].
    BoundedPareto { alpha: f64, min: f64, max: f64 },
    /// A count 1 + N, N negative binomial with `r` (> 0, real) and success probability
    /// `p`: P(N = k) = Gamma(k + r) / (k! Gamma(r)) p^r (1 - p)^k, mean r (1 - p) / p.
    NegBinomial { r: f64, p: f64 },
    /// One of `parts`, chosen with probability proportional to its weight; `cumulative`
    /// holds the running sums of the normalised weights (the last is 1).
    Mixture {
        cumulative: Vec<f64>,
        parts: Vec<Dist>,
    },
    /// A value drawn uniformly from `values` (a column of a file, or a list), each value
    /// as likely as its number of occurrences. `source` says where they came from.
    Empirical {
        values: Arc<Vec<f64>>,
        source: String,
    },
}

fn positive(name: &str, what: &str, x: f64) -> Result<f64, String> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(format!(
            "{what} {name} = {x} is not allowed: it must be a finite number > 0"
        ))
    }
}

/// A geometric count on 1, 2, ... with success probability `p` (`ln_q` = ln(1 - p)).
#[inline]
fn geometric_count<R: Rng + ?Sized>(p: f64, ln_q: f64, rng: &mut R) -> u64 {
    if p >= 1.0 {
        return 1;
    }
    // Inversion: number of trials up to and including the first success,
    // floor(ln u / ln(1 - p)) + 1. The ratio is >= 0 (both logarithms are <= 0), so the
    // conversion's truncation is the floor; and it is below 1e15 exactly when its floor
    // is. Below 2^63 the signed conversion gives the unsigned one's result in one
    // instruction.
    let u: f64 = 1.0 - rng.random::<f64>(); // in (0, 1]
    let k = u.ln() / ln_q;
    if k.is_finite() && k < 1e15 {
        k as i64 as u64 + 1
    } else {
        MAX_COUNT
    }
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
            let p = 1.0 / mean;
            Ok(Dist::Geometric {
                p,
                ln_q: (1.0 - p).ln(),
            })
        } else {
            Err(format!(
                "geometric mean {mean} must be >= 1 (counts start at 1)"
            ))
        }
    }

    /// Gamma from its mean and coefficient of variation: shape 1/cv^2, scale mean cv^2.
    pub fn gamma_mean_cv(mean: f64, cv: f64) -> Result<Dist, String> {
        let mean = positive("mean", "gamma", mean)?;
        let cv = positive("cv", "gamma", cv)?;
        let shape = 1.0 / (cv * cv);
        if !(1e-6..=1e9).contains(&shape) {
            return Err(format!(
                "gamma cv = {cv} is not allowed: it must be from 3e-5 to 1000"
            ));
        }
        Ok(Dist::Gamma {
            shape,
            scale: mean / shape,
        })
    }

    /// Weibull from its shape k and scale (the 63rd percentile).
    pub fn weibull(shape: f64, scale: f64) -> Result<Dist, String> {
        let shape = positive("shape", "weibull", shape)?;
        let scale = positive("scale", "weibull", scale)?;
        if !(0.01..=1000.0).contains(&shape) {
            return Err(format!(
                "weibull shape = {shape} is not allowed: it must be from 0.01 to 1000"
            ));
        }
        Ok(Dist::Weibull { shape, scale })
    }

    /// Weibull from its median and shape k: scale = median / ln(2)^(1/k).
    pub fn weibull_median(median: f64, shape: f64) -> Result<Dist, String> {
        let median = positive("median", "weibull", median)?;
        let shape = positive("shape", "weibull", shape)?;
        Dist::weibull(shape, median / std::f64::consts::LN_2.powf(1.0 / shape))
    }

    /// Pareto with tail index alpha on [min, max] (0 < min < max).
    pub fn bounded_pareto(alpha: f64, min: f64, max: f64) -> Result<Dist, String> {
        let alpha = positive("alpha", "bounded_pareto", alpha)?;
        let min = positive("min", "bounded_pareto", min)?;
        if !(max.is_finite() && max > min) {
            return Err(format!(
                "bounded_pareto max = {max} is not allowed: it must be finite and > min ({min})"
            ));
        }
        if !(0.01..=100.0).contains(&alpha) {
            return Err(format!(
                "bounded_pareto alpha = {alpha} is not allowed: it must be from 0.01 to 100"
            ));
        }
        Ok(Dist::BoundedPareto { alpha, min, max })
    }

    /// Negative binomial count on 1, 2, ... from its mean (> 1) and coefficient of
    /// variation. With N = X - 1 of mean m = mean - 1, Var N = m + m^2 / r, so
    /// r = m^2 / (cv^2 mean^2 - m); the cv must exceed sqrt(m) / mean (the Poisson case).
    /// A small r gives the heavy, mostly-ones shape of real turn counts.
    pub fn negative_binomial(mean: f64, cv: f64) -> Result<Dist, String> {
        if !(mean.is_finite() && mean > 1.0 && mean < 1e12) {
            return Err(format!(
                "negative_binomial mean = {mean} is not allowed: it must be > 1 and < 1e12 (counts start at 1; for a mean of 1 use constant 1)"
            ));
        }
        let cv = positive("cv", "negative_binomial", cv)?;
        let m = mean - 1.0;
        let excess = cv * cv * mean * mean - m;
        let floor = m.sqrt() / mean;
        if excess <= 0.0 {
            return Err(format!(
                "negative_binomial cv = {cv} is not allowed with mean {mean}: it must be > {} (the Poisson spread)",
                crate::units::round_sig(floor, 4)
            ));
        }
        let r = m * m / excess;
        if r < 1e-6 {
            return Err(format!(
                "negative_binomial cv = {cv} is not allowed with mean {mean}: the shape r = {r:.3e} would be below 1e-6; use a smaller cv"
            ));
        }
        Ok(Dist::NegBinomial { r, p: r / (r + m) })
    }

    /// A mixture of `(weight, dist)` parts; weights > 0, normalised to sum to 1.
    pub fn mixture(parts: Vec<(f64, Dist)>) -> Result<Dist, String> {
        if parts.len() < 2 {
            return Err(format!(
                "mixture needs at least 2 components (got {})",
                parts.len()
            ));
        }
        for (i, (w, _)) in parts.iter().enumerate() {
            if !(w.is_finite() && *w > 0.0) {
                return Err(format!(
                    "mixture component {i}: weight = {w} is not allowed: it must be a finite number > 0"
                ));
            }
        }
        let total: f64 = parts.iter().map(|(w, _)| w).sum();
        let mut acc = 0.0;
        let mut cumulative = Vec::with_capacity(parts.len());
        for (w, _) in &parts {
            acc += w / total;
            cumulative.push(acc);
        }
        *cumulative.last_mut().expect("at least two parts") = 1.0;
        Ok(Dist::Mixture {
            cumulative,
            parts: parts.into_iter().map(|(_, d)| d).collect(),
        })
    }

    /// Uniform draws from a list of observed values (finite, >= 0, at least one).
    pub fn empirical(values: Vec<f64>, source: String) -> Result<Dist, String> {
        if values.is_empty() {
            return Err(format!("empirical {source}: has no values"));
        }
        if let Some((i, x)) = values
            .iter()
            .enumerate()
            .find(|(_, x)| !(x.is_finite() && **x >= 0.0))
        {
            return Err(format!(
                "empirical {source}: value {} = {x} is not allowed: values must be finite and >= 0",
                i + 1
            ));
        }
        Ok(Dist::Empirical {
            values: Arc::new(values),
            source,
        })
    }

    /// Whether every value this distribution can give is a whole number >= 1, so that
    /// it can fill a count field.
    pub fn is_count(&self) -> bool {
        match self {
            Dist::Constant { value } => *value >= 1.0 && value.fract() == 0.0,
            Dist::Geometric { .. } | Dist::NegBinomial { .. } => true,
            Dist::Mixture { parts, .. } => parts.iter().all(Dist::is_count),
            Dist::Empirical { values, .. } => values.iter().all(|x| *x >= 1.0 && x.fract() == 0.0),
            _ => false,
        }
    }

    /// The distribution's mean.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Constant { value } => *value,
            Dist::Exponential { mean } => *mean,
            Dist::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Geometric { p, .. } => 1.0 / p,
            Dist::Gamma { shape, scale } => shape * scale,
            Dist::Weibull { shape, scale } => {
                scale * statrs::function::gamma::gamma(1.0 + 1.0 / shape)
            }
            Dist::BoundedPareto { alpha, min, max } => {
                let (a, l, h) = (*alpha, *min, *max);
                let tail = 1.0 - (l / h).powf(a);
                if (a - 1.0).abs() < 1e-12 {
                    l * (h / l).ln() / tail
                } else {
                    a * l / (a - 1.0) * (1.0 - (l / h).powf(a - 1.0)) / tail
                }
            }
            Dist::NegBinomial { r, p } => 1.0 + r * (1.0 - p) / p,
            Dist::Mixture { cumulative, parts } => {
                let mut prev = 0.0;
                let mut m = 0.0;
                for (c, d) in cumulative.iter().zip(parts) {
                    m += (c - prev) * d.mean();
                    prev = *c;
                }
                m
            }
            Dist::Empirical { values, .. } => values.iter().sum::<f64>() / values.len() as f64,
        }
    }

    /// Draws one value (seconds for time fields).
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        // The exponential is by far the most used: drawn inline, without the call.
        if let Dist::Exponential { mean } = self {
            let e: f64 = Exp1.sample(rng);
            return e * mean;
        }
        self.sample_any(rng)
    }

    /// [`Dist::sample`] for every distribution.
    fn sample_any<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Constant { value } => *value,
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            Dist::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Dist::Uniform { min, max } => min + (max - min) * rng.random::<f64>(),
            Dist::Geometric { .. } | Dist::NegBinomial { .. } => self.sample_count(rng) as f64,
            Dist::Gamma { shape, scale } => Gamma::new(*shape, *scale)
                .expect("shape and scale were validated")
                .sample(rng),
            Dist::Weibull { shape, scale } => {
                let u: f64 = 1.0 - rng.random::<f64>(); // in (0, 1]
                scale * (-u.ln()).powf(1.0 / shape)
            }
            Dist::BoundedPareto { alpha, min, max } => {
                // Inversion of F(x) = (1 - (min/x)^a) / (1 - (min/max)^a).
                let u: f64 = rng.random::<f64>();
                let tail = 1.0 - (min / max).powf(*alpha);
                (min * (1.0 - u * tail).powf(-1.0 / alpha)).min(*max)
            }
            Dist::Mixture { cumulative, parts } => {
                let u: f64 = rng.random::<f64>();
                let i = cumulative.partition_point(|c| *c <= u).min(parts.len() - 1);
                parts[i].sample(rng)
            }
            Dist::Empirical { values, .. } => values[rng.random_range(0..values.len())],
        }
    }

    /// Draws a count >= 1 (for count fields).
    #[inline]
    pub fn sample_count<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        // The geometric (sessions' usual length) is drawn inline, without the call and
        // without the register saves the other distributions' code needs.
        if let Dist::Geometric { p, ln_q } = self {
            return geometric_count(*p, *ln_q, rng);
        }
        self.sample_count_any(rng)
    }

    /// [`Dist::sample_count`] for every distribution.
    fn sample_count_any<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        match self {
            Dist::Geometric { p, ln_q } => geometric_count(*p, *ln_q, rng),
            Dist::NegBinomial { r, p } => {
                // Gamma-Poisson mixture: N ~ Poisson(L), L ~ Gamma(r, (1 - p) / p).
                let lambda: f64 = Gamma::new(*r, (1.0 - p) / p)
                    .expect("r and p were validated")
                    .sample(rng);
                if lambda.is_nan() || lambda <= 0.0 {
                    return 1;
                }
                let n: f64 = Poisson::new(lambda.min(1e15))
                    .expect("0 < lambda <= 1e15 is a valid Poisson mean")
                    .sample(rng);
                (n as u64).saturating_add(1).min(MAX_COUNT)
            }
            Dist::Constant { value } => value.round().max(1.0) as u64,
            Dist::Mixture { cumulative, parts } => {
                let u: f64 = rng.random::<f64>();
                let i = cumulative.partition_point(|c| *c <= u).min(parts.len() - 1);
                parts[i].sample_count(rng)
            }
            _ => {
                let x = self.sample(rng).round().max(1.0);
                if x < 1e15 {
                    x as u64
                } else {
                    MAX_COUNT
                }
            }
        }
    }

    /// Short description for reports, with `unit` appended to time values.
    pub fn describe(&self, unit: &str) -> String {
        let f = |x: f64| format!("{}{unit}", crate::units::round_sig(x, 3));
        let n = |x: f64| crate::units::round_sig(x, 3).to_string();
        match self {
            Dist::Constant { value } => format!("constant {}", f(*value)),
            Dist::Exponential { mean } => format!("exponential, mean {}", f(*mean)),
            Dist::LogNormal { mu, sigma } => format!(
                "lognormal, median {}, p95 {}, mean {}",
                f(mu.exp()),
                f((mu + Z_95 * sigma).exp()),
                f(self.mean())
            ),
            Dist::Uniform { min, max } => format!("uniform {}..{}", f(*min), f(*max)),
            Dist::Geometric { p, .. } => {
                format!("geometric, mean {}", n(1.0 / p))
            }
            Dist::Gamma { shape, .. } => format!(
                "gamma, mean {}, cv {}",
                f(self.mean()),
                n(1.0 / shape.sqrt())
            ),
            Dist::Weibull { shape, scale } => format!(
                "Weibull, shape {}, scale {}, mean {}",
                n(*shape),
                f(*scale),
                f(self.mean())
            ),
            Dist::BoundedPareto { alpha, min, max } => format!(
                "bounded Pareto, alpha {}, {}..{}, mean {}",
                n(*alpha),
                f(*min),
                f(*max),
                f(self.mean())
            ),
            Dist::NegBinomial { r, .. } => {
                let m = self.mean();
                let cv = ((m - 1.0) + (m - 1.0).powi(2) / r).sqrt() / m;
                format!("negative binomial from 1, mean {}, cv {}", n(m), n(cv))
            }
            Dist::Mixture { cumulative, parts } => {
                let mut prev = 0.0;
                let items: Vec<String> = cumulative
                    .iter()
                    .zip(parts)
                    .map(|(c, d)| {
                        let w = c - prev;
                        prev = *c;
                        format!("{}: {}", n(w), d.describe(unit))
                    })
                    .collect();
                format!("mixture [{}], mean {}", items.join("; "), f(self.mean()))
            }
            Dist::Empirical { values, source } => format!(
                "empirical, {} values from {source}, mean {}",
                values.len(),
                f(self.mean())
            ),
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
    /// Draws n values with a fixed seed.
    fn draws(d: &Dist, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
        (0..n).map(|_| d.sample(&mut rng)).collect()
    }

    /// The sample mean is within 5 standard errors of `mean` (sd the distribution's own),
    /// and the share of draws at or below `q` (its closed-form p-quantile) is within 5
    /// binomial standard errors of p.
    fn check(d: &Dist, n: usize, mean: f64, sd: f64, p: f64, q: f64) {
        let xs = draws(d, n, 7);
        let m = xs.iter().sum::<f64>() / n as f64;
        let se = sd / (n as f64).sqrt();
        assert!(
            (m - mean).abs() < 5.0 * se,
            "{d:?}: mean {m} vs {mean} (se {se})"
        );
        assert!(
            (d.mean() - mean).abs() < 1e-9 * mean.max(1.0),
            "{d:?}: mean()"
        );
        let below = xs.iter().filter(|x| **x <= q).count() as f64 / n as f64;
        let bse = (p * (1.0 - p) / n as f64).sqrt();
        assert!(
            (below - p).abs() < 5.0 * bse,
            "{d:?}: P(X <= {q}) = {below} vs {p}"
        );
    }

    #[test]
    fn gamma_mean_and_quantile() {
        use statrs::distribution::{ContinuousCDF, Gamma as G};
        let n = 100_000;
        for (mean, cv) in [(10.0, 0.5), (2.0, 3.0)] {
            let d = Dist::gamma_mean_cv(mean, cv).unwrap();
            let shape = 1.0 / (cv * cv);
            // statrs: Gamma(shape, rate)
            let q90 = G::new(shape, shape / mean).unwrap().inverse_cdf(0.9);
            check(&d, n, mean, mean * cv, 0.9, q90);
        }
    }

    #[test]
    fn weibull_mean_and_quantile() {
        use statrs::function::gamma::gamma;
        let n = 100_000;
        for (k, scale) in [(0.5, 3.0), (2.0, 10.0)] {
            let d = Dist::weibull(k, scale).unwrap();
            let m = scale * gamma(1.0 + 1.0 / k);
            let sd = scale * (gamma(1.0 + 2.0 / k) - gamma(1.0 + 1.0 / k).powi(2)).sqrt();
            // Q(p) = scale (-ln(1 - p))^(1/k)
            let q = scale * (-(1.0f64 - 0.75).ln()).powf(1.0 / k);
            check(&d, n, m, sd, 0.75, q);
        }
        // The median form: half the draws at or below the median.
        let d = Dist::weibull_median(5.0, 0.7).unwrap();
        let xs = draws(&d, 40_000, 3);
        let below = xs.iter().filter(|x| **x <= 5.0).count() as f64 / 40_000.0;
        assert!((below - 0.5).abs() < 5.0 * 0.5 / 200.0, "{below}");
    }

    #[test]
    fn bounded_pareto_mean_and_quantile() {
        let n = 100_000;
        for (a, l, h) in [(1.2, 1.0, 1000.0), (1.0, 0.5, 50.0), (2.5, 2.0, 20.0)] {
            let d = Dist::bounded_pareto(a, l, h).unwrap();
            // E X^2 in closed form gives the sd.
            let tail = 1.0 - (l / h).powf(a);
            let ex2 = if (a - 2.0f64).abs() < 1e-12 {
                a * l.powf(a) * (h / l).ln() / tail
            } else {
                a * l.powf(a) * (h.powf(2.0 - a) - l.powf(2.0 - a)) / ((2.0 - a) * tail)
            };
            let m = if (a - 1.0f64).abs() < 1e-12 {
                l * (h / l).ln() / tail
            } else {
                a * l.powf(a) * (h.powf(1.0 - a) - l.powf(1.0 - a)) / ((1.0 - a) * tail)
            };
            let sd = (ex2 - m * m).sqrt();
            let p = 0.9;
            let q = l * (1.0 - p * tail).powf(-1.0 / a);
            check(&d, n, m, sd, p, q);
            assert!(draws(&d, 10_000, 1).iter().all(|x| *x >= l && *x <= h));
        }
    }

    /// P(N <= k) of the negative binomial by its recurrence.
    fn nb_cdf(r: f64, p: f64, k: u64) -> f64 {
        let mut pmf = p.powf(r);
        let mut cdf = pmf;
        for j in 0..k {
            pmf *= (j as f64 + r) / (j as f64 + 1.0) * (1.0 - p);
            cdf += pmf;
        }
        cdf
    }

    #[test]
    fn negative_binomial_mean_and_quantile() {
        let n = 100_000;
        // Real agentic sessions: mean 9.2 turns, median 1, p90 18 (cv 3.5 fits all three).
        let d = Dist::negative_binomial(9.2, 3.5).unwrap();
        let Dist::NegBinomial { r, p } = d else {
            unreachable!()
        };
        let m = 8.2;
        assert!((r * (1.0 - p) / p - m).abs() < 1e-9);
        let sd = (m + m * m / r).sqrt();
        let mut rng = rand_pcg::Pcg64::seed_from_u64(11);
        let xs: Vec<u64> = (0..n).map(|_| d.sample_count(&mut rng)).collect();
        assert!(xs.iter().all(|x| *x >= 1));
        let mean = xs.iter().sum::<u64>() as f64 / n as f64;
        assert!((mean - 9.2).abs() < 5.0 * sd / (n as f64).sqrt(), "{mean}");
        assert!((d.mean() - 9.2).abs() < 1e-9);
        // The median is 1: P(X = 1) = p^r >= 0.5.
        let p1 = nb_cdf(r, p, 0);
        assert!(p1 > 0.5, "P(X = 1) = {p1}");
        let p90 = (0..).find(|k| nb_cdf(r, p, *k) >= 0.9).unwrap() + 1;
        assert_eq!(p90, 18);
        for k in [0u64, 4, 17] {
            let want = nb_cdf(r, p, k);
            let got = xs.iter().filter(|x| **x <= k + 1).count() as f64 / n as f64;
            let se = (want * (1.0 - want) / n as f64).sqrt();
            assert!(
                (got - want).abs() < 5.0 * se,
                "P(X <= {}) {got} vs {want}",
                k + 1
            );
        }
        assert!(
            Dist::negative_binomial(9.0, 0.1).is_err(),
            "below the Poisson spread"
        );
        assert!(Dist::negative_binomial(1.0, 1.0).is_err());
    }

    #[test]
    fn mixture_mean_and_quantile() {
        let n = 100_000;
        let d = Dist::mixture(vec![
            (3.0, Dist::exponential(1.0).unwrap()),
            (1.0, Dist::constant(10.0).unwrap()),
        ])
        .unwrap();
        // 0.75 Exp(1) + 0.25 delta(10): mean 3.25, E X^2 = 0.75 * 2 + 0.25 * 100 = 26.5.
        let sd = (26.5f64 - 3.25 * 3.25).sqrt();
        // P(X <= 2) = 0.75 (1 - e^-2).
        check(&d, n, 3.25, sd, 0.75 * (1.0 - (-2.0f64).exp()), 2.0);
        assert!(Dist::mixture(vec![(1.0, Dist::constant(1.0).unwrap())]).is_err());
        assert!(Dist::mixture(vec![
            (0.0, Dist::constant(1.0).unwrap()),
            (1.0, Dist::constant(2.0).unwrap())
        ])
        .is_err());
    }

    #[test]
    fn empirical_mean_and_quantile() {
        let n = 100_000;
        let values = vec![1.0, 1.0, 1.0, 2.0, 5.0, 40.0];
        let d = Dist::empirical(values.clone(), "a list".into()).unwrap();
        let m = values.iter().sum::<f64>() / 6.0;
        let sd = (values.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 6.0).sqrt();
        check(&d, n, m, sd, 0.5, 1.0);
        assert!(d.is_count());
        assert!(!Dist::empirical(vec![0.5], "x".into()).unwrap().is_count());
        assert!(Dist::empirical(vec![], "x".into()).is_err());
        assert!(Dist::empirical(vec![1.0, -1.0], "x".into())
            .unwrap_err()
            .contains("value 2"));
    }

    #[test]
    fn new_constructors_name_the_bad_parameter() {
        assert!(Dist::gamma_mean_cv(0.0, 1.0).unwrap_err().contains("mean"));
        assert!(Dist::gamma_mean_cv(1.0, -1.0).unwrap_err().contains("cv"));
        assert!(Dist::weibull(0.0, 1.0).unwrap_err().contains("shape"));
        assert!(Dist::weibull(1.0, f64::NAN).unwrap_err().contains("scale"));
        assert!(Dist::bounded_pareto(1.0, 2.0, 1.0)
            .unwrap_err()
            .contains("max"));
        assert!(Dist::bounded_pareto(0.0, 1.0, 2.0)
            .unwrap_err()
            .contains("alpha"));
        assert!(Dist::bounded_pareto(1.0, 0.0, 2.0)
            .unwrap_err()
            .contains("min"));
        assert!(Dist::negative_binomial(5.0, 0.0)
            .unwrap_err()
            .contains("cv"));
    }
}
