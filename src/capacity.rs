//! Capacity arithmetic before any simulation: the offered load of a workload, and how many
//! slots it needs (Erlang B). Used by `check` and `run` to say when a pool is simply too
//! small, which no reserve can fix. docs/decisions.md states the rules.

use crate::scenario::{ModelConfig, Workload};

/// The offered load in Erlangs: the mean number of busy slots the workload would keep if
/// nothing were rejected = request rate x mean service time, where the request rate is the
/// session rate x mean requests per session (sessions mode) or the sum of both streams
/// (open mode). Retries and the user gate are not counted.
pub fn offered_load(model: &ModelConfig) -> f64 {
    match &model.workload {
        Workload::Sessions {
            arrival_rate,
            requests_per_session,
            service_time,
            agentic,
            ..
        } => {
            // Agentic sessions: turns per session x steps per turn requests.
            let steps = agentic.as_ref().map_or(1.0, |a| a.steps_per_turn.mean());
            arrival_rate * requests_per_session.mean() * steps * service_time.mean()
        }
        // A trace: its request rate (records over the scaled period) x its mean service.
        Workload::Trace { trace, .. } => {
            let period_s = trace.period_us() as f64 / 1e6 / trace.rate_scale;
            trace.records as f64 / period_s * trace.mean_service_s
        }
        Workload::Open {
            bound_rate,
            new_rate,
            service_time,
        } => (bound_rate + new_rate) * service_time.mean(),
    }
}

/// Erlang B: the share of requests a loss system of `servers` slots turns away at offered
/// load `a` Erlangs (exact recursion, stable for large `servers`).
pub fn erlang_b(servers: u64, a: f64) -> f64 {
    let mut b = 1.0;
    for n in 1..=servers {
        b = a * b / (n as f64 + a * b);
    }
    b
}

/// The fewest slots for which Erlang B at load `a` is at most `blocking`. Bounded: gives up
/// (returns None) past ten million slots.
pub fn slots_for_blocking(a: f64, blocking: f64) -> Option<u64> {
    if !(a.is_finite() && a >= 0.0) {
        return None;
    }
    let mut b = 1.0;
    if b <= blocking {
        return Some(0);
    }
    for n in 1..=10_000_000u64 {
        b = a * b / (n as f64 + a * b);
        if b <= blocking {
            return Some(n);
        }
    }
    None
}

/// Blocking used for the estimate of slots needed when `[targets]` sets no new-session
/// target.
pub const DEFAULT_BLOCKING: f64 = 0.01;

/// The pool's load at one point: offered Erlangs against slots.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadCheck {
    pub offered: f64,
    pub slots: u64,
    /// Slots for which Erlang B turns away at most `blocking` of the requests.
    pub needed: Option<u64>,
    pub blocking: f64,
}

impl LoadCheck {
    pub fn of(model: &ModelConfig, blocking: Option<f64>) -> LoadCheck {
        let offered = offered_load(model);
        let blocking = blocking.filter(|b| *b > 0.0).unwrap_or(DEFAULT_BLOCKING);
        LoadCheck {
            offered,
            slots: model.cost(None).slots,
            needed: slots_for_blocking(offered, blocking),
            blocking,
        }
    }

    /// Offered load over slots (above 1: more work arrives than the pool can serve).
    pub fn utilisation(&self) -> f64 {
        self.offered / self.slots as f64
    }

    pub fn overloaded(&self) -> bool {
        self.offered > self.slots as f64
    }

    /// The warning text, when the pool is overloaded.
    pub fn warning(&self, label: &str) -> Option<String> {
        if !self.overloaded() {
            return None;
        }
        let needed = match self.needed {
            Some(n) => format!(
                "about {n} slots are needed (Erlang B: {n} slots turn away at most {} of requests at this load without waiting)",
                crate::recommend::fmt_pct(self.blocking)
            ),
            None => "the slots needed could not be estimated".to_string(),
        };
        Some(format!(
            "{label}: the pool is too small: the workload offers {} slots' worth of work on average (session rate x requests per session x mean service time) against {} slots ({} of capacity); no reserved setting fixes that: {needed}, or the load must fall below {} of its present value",
            crate::units::round_sig(self.offered, 4),
            self.slots,
            crate::recommend::fmt_pct(self.utilisation()),
            crate::recommend::fmt_pct(self.slots as f64 / self.offered),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_b_known_values() {
        // Classic table values.
        assert!((erlang_b(1, 1.0) - 0.5).abs() < 1e-12);
        assert!((erlang_b(2, 1.0) - 0.2).abs() < 1e-12);
        assert!((erlang_b(10, 5.0) - 0.018_384).abs() < 1e-5);
        assert_eq!(erlang_b(0, 3.0), 1.0);
    }

    #[test]
    fn slots_for_blocking_is_the_smallest() {
        let n = slots_for_blocking(5.0, 0.02).unwrap();
        assert!(erlang_b(n, 5.0) <= 0.02);
        assert!(erlang_b(n - 1, 5.0) > 0.02);
        assert_eq!(slots_for_blocking(0.0, 0.01), Some(1));
    }
}
