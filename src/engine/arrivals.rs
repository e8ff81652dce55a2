//! When sessions arrive: a Poisson, periodic or bursty renewal process at the stated
//! rate, optionally shaped over the day by a profile of 24 hourly multipliers.
//!
//! The profile works by a change of time. The base process runs in "operational time"
//! at the stated rate; an arrival at operational time u happens at the real time t with
//! Lambda(t) = u, where Lambda(t) is the integral of the multiplier up to t. The
//! multipliers are normalised to average 1 over the day, so Lambda(24 h) = 24 h and the
//! long-run rate is the stated rate exactly. For a Poisson base this is the
//! non-homogeneous Poisson process with rate (stated rate x multiplier of the hour);
//! for a bursty base it keeps the bursts and follows the profile. Without a profile the
//! real time is the operational time and the draws are the same as they always were.

use super::workload::exp_gap;
use super::Sim;
use crate::scenario::Workload;
use crate::units::{secs_to_time, Time};
use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma};
use rand_pcg::Pcg64;

const HOUR_S: f64 = 3600.0;
const DAY_S: f64 = 86_400.0;

/// The session arrival clock: the base process's gaps, its operational time and the
/// profile.
pub(super) struct ArrivalClock {
    /// Sessions mode only: the gaps, read off the workload once rather than at every
    /// arrival.
    gaps: Option<Gaps>,
    /// Operational time of the last arrival, microseconds.
    op_us: Time,
    /// Real time of the last arrival (arrivals never go back in time after rounding).
    last_real: Time,
    profile: Option<Profile>,
}

/// How the base process's gaps are drawn (the same draws, in the same order, as reading
/// the workload's settings at each arrival).
#[derive(Clone, Copy)]
enum Gaps {
    /// Periodic: always this gap.
    Fixed(Time),
    /// Bursty: a renewal process at `rate` with coefficient of variation `cv`.
    Renewal { rate: f64, cv: f64 },
    /// Poisson at this rate.
    Exponential(f64),
}

/// A daily profile: multipliers m_h (average 1) and the operational time at the start of
/// each hour, cum_h = 3600 (m_0 + ... + m_(h-1)) seconds.
pub(super) struct Profile {
    mult: [f64; 24],
    cum: [f64; 25],
}

impl Profile {
    pub(super) fn new(multipliers: &[f64]) -> Profile {
        let mut mult = [0.0; 24];
        mult.copy_from_slice(&multipliers[..24]);
        let mut cum = [0.0; 25];
        for h in 0..24 {
            cum[h + 1] = cum[h] + HOUR_S * mult[h];
        }
        Profile { mult, cum }
    }

    /// The real time (seconds) at which the operational clock reads `u` seconds: the
    /// inverse of Lambda, skipping hours whose multiplier is 0.
    pub(super) fn real_time(&self, u: f64) -> f64 {
        let per_day = self.cum[24];
        let days = (u / per_day).floor();
        let rest = u - days * per_day;
        // The hour h with cum[h] <= rest < cum[h + 1] (an empty hour has none).
        let mut h = self.cum[1..].partition_point(|c| *c <= rest).min(23);
        while self.mult[h] == 0.0 && h < 23 {
            h += 1;
        }
        days * DAY_S + h as f64 * HOUR_S + (rest - self.cum[h]) / self.mult[h]
    }
}

impl ArrivalClock {
    pub(super) fn new(w: &Workload) -> ArrivalClock {
        let (gaps, profile) = match *w {
            Workload::Sessions {
                arrival_rate,
                periodic,
                ref arrivals,
                ..
            } => {
                let gaps = if periodic {
                    Gaps::Fixed(secs_to_time(1.0 / arrival_rate).max(1))
                } else if let Some(cv) = arrivals.bursty_cv {
                    Gaps::Renewal {
                        rate: arrival_rate,
                        cv,
                    }
                } else {
                    Gaps::Exponential(arrival_rate)
                };
                (
                    Some(gaps),
                    arrivals.daily_profile.as_deref().map(Profile::new),
                )
            }
            _ => (None, None),
        };
        ArrivalClock {
            gaps,
            op_us: 0,
            last_real: 0,
            profile,
        }
    }
}

/// One inter-arrival time (seconds) of a renewal process with mean `1 / rate` and
/// coefficient of variation `cv`: a balanced-means two-phase hyperexponential above 1
/// (phase i with probability p_i and mean 1 / (2 p_i rate), so each phase carries half
/// the mean), a gamma with shape 1 / cv^2 below 1, an exponential at 1.
pub(super) fn renewal_gap_s(rng: &mut Pcg64, rate: f64, cv: f64) -> f64 {
    if cv > 1.0 {
        let c2 = cv * cv;
        let p1 = 0.5 * (1.0 + ((c2 - 1.0) / (c2 + 1.0)).sqrt());
        let u: f64 = rng.random::<f64>();
        let p = if u < p1 { p1 } else { 1.0 - p1 };
        let e: f64 = Exp1.sample(rng);
        e / (2.0 * p * rate)
    } else if cv < 1.0 {
        let shape = 1.0 / (cv * cv);
        Gamma::new(shape, 1.0 / (shape * rate))
            .expect("shape and scale are finite and > 0")
            .sample(rng)
    } else {
        let e: f64 = Exp1.sample(rng);
        e / rate
    }
}

impl<const PLAIN: bool> Sim<'_, PLAIN> {
    /// The real time of the next session arrival.
    pub(super) fn next_session_time(&mut self) -> Time {
        let clock = &mut self.clock;
        let gap = match clock.gaps {
            Some(Gaps::Exponential(rate)) => exp_gap(&mut self.arrivals_rng, rate),
            Some(Gaps::Fixed(gap)) => gap,
            Some(Gaps::Renewal { rate, cv }) => {
                secs_to_time(renewal_gap_s(&mut self.arrivals_rng, rate, cv)).max(1)
            }
            None => unreachable!("session arrivals happen only in sessions mode"),
        };
        clock.op_us = clock.op_us.saturating_add(gap);
        let real = match &clock.profile {
            None => clock.op_us,
            Some(p) => secs_to_time(p.real_time(clock.op_us as f64 / 1e6)).max(clock.last_real),
        };
        clock.last_real = real;
        real
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::streams::{stream, StreamKind};

    /// Lambda^-1 by hand: with multipliers 2 for hour 0 and 0 for hour 1 (others as
    /// needed to average 1), operational 1 h is real 30 min, and operational 2 h is real
    /// 2 h (hour 1 is skipped: it has no arrivals).
    #[test]
    fn profile_time_change_by_hand() {
        let mut m = vec![1.0; 24];
        m[0] = 2.0;
        m[1] = 0.0;
        let p = Profile::new(&m);
        assert!((p.real_time(3600.0) - 1800.0).abs() < 1e-9);
        assert!((p.real_time(7200.0) - 7200.0).abs() < 1e-9);
        assert!((p.real_time(7200.0 + 1800.0) - 9000.0).abs() < 1e-9);
        // A day of operational time is a day of real time.
        assert!((p.real_time(86_400.0 + 3600.0) - (86_400.0 + 1800.0)).abs() < 1e-9);
    }

    /// Counts per hour of the day of a daily-profile Poisson process match the profile:
    /// over 20 days at 120 sessions per hour, hour h gets 20 x 120 x m_h sessions on
    /// average (m_h normalised to average 1), each count within 5 Poisson standard
    /// deviations; the total is the stated rate times the time.
    #[test]
    fn daily_profile_counts_per_hour() {
        let profile = [
            0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 0.8, 1.1, 1.4, 1.6, 1.6, 1.5, 1.4, 1.5, 1.6, 1.6, 1.5,
            1.3, 1.1, 1.0, 0.9, 0.7, 0.5, 0.0,
        ];
        let list: Vec<String> = profile.iter().map(|x| x.to_string()).collect();
        let cfg = crate::engine::test_support::model(&format!(
            r#"
            horizon = "20d"
            [[pools]]
            accounts = 1
            [workload]
            arrival = {{ process = "poisson", rate = "120/h", daily_profile = [{}] }}
            requests_per_session = {{ dist = "constant", value = 1 }}
            service_time = {{ dist = "constant", value = "1s" }}
            "#,
            list.join(", ")
        ));
        let mut sim = Sim::new(&cfg, 5, false);
        let mut counts = [0u64; 24];
        let days = 20.0;
        loop {
            let t = sim.next_session_time();
            if t >= cfg.horizon {
                break;
            }
            counts[((t / 3_600_000_000) % 24) as usize] += 1;
        }
        let mean: f64 = profile.iter().sum::<f64>() / 24.0;
        for h in 0..24 {
            let want = days * 120.0 * profile[h] / mean;
            let got = counts[h] as f64;
            assert!(
                (got - want).abs() <= 5.0 * want.sqrt(),
                "hour {h}: {got} arrivals, expected {want}"
            );
        }
        let total: u64 = counts.iter().sum();
        let want = days * 24.0 * 120.0;
        assert!((total as f64 - want).abs() < 5.0 * want.sqrt(), "{total}");
        assert_eq!(counts[23], 0, "an hour with multiplier 0 has no arrivals");
    }

    /// The bursty renewal process: over 200 000 gaps the mean gap is 1 / rate and the
    /// coefficient of variation is the stated one. Tolerances: the mean within 5
    /// standard errors (sd = cv / rate); the cv, whose estimate is noisier for heavy
    /// mixtures, within 5% (cv 4) and 2% (cv 0.5).
    #[test]
    fn bursty_gaps_have_the_stated_rate_and_cv() {
        for (cv, tol) in [(4.0, 0.05), (0.5, 0.02), (1.0, 0.02)] {
            let rate = 2.0;
            let mut rng = stream(3, StreamKind::SessionArrivals, 0);
            let n = 200_000;
            let xs: Vec<f64> = (0..n).map(|_| renewal_gap_s(&mut rng, rate, cv)).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
            let se = cv / rate / (n as f64).sqrt();
            assert!(
                (mean - 1.0 / rate).abs() < 5.0 * se,
                "cv {cv}: mean gap {mean}"
            );
            assert!(
                ((sd / mean) / cv - 1.0).abs() < tol,
                "cv {cv}: measured {}",
                sd / mean
            );
        }
    }
}
