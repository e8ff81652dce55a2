//! Which sweep point to recommend, given the operator's `[targets]`.
//!
//! Pure logic, no IO: the report module reads `summary.csv` into [`PointSummary`] values and
//! calls [`recommend`]; the same [`Recommendation`] is printed by `slotsim run` and written
//! into `report.html`.
//!
//! The rule (issue 4): a point **meets** the targets when the upper end of its 95% confidence
//! interval for the continuity failure rate (mean + half-width) is strictly under the
//! continuity target, and its mean new-session rejection rate is at most the new-session
//! target (each only if set). Among the points that meet them, the least new-session
//! rejection wins (it is the cost that reserving slots imposes); ties go to the lower
//! continuity failure rate, then to the earlier point in sweep order. When none meets the
//! targets, the closest point is the one with the least *shortfall*, the sum over the set
//! targets of `max(0, value / target - 1)`, using the CI upper bound for continuity.
//! A half-width that is unknown (one replication: NaN) counts as zero width, and the text
//! says that the interval is unknown.
//!
//! A point with no bound requests cannot meet a continuity target: its rate is 0/0, not a
//! success (this happens when R >= C leaves new sessions nowhere to land).
//!
//! When the sweep varies `load`, load is the traffic, not a setting: the recommendation is
//! made over settings (the other parameters), each judged by its worst case over the swept
//! loads (highest new-session rejection, highest continuity CI upper bound, fewest bound
//! requests), so the recommended setting meets the targets at every load.

use std::cmp::Ordering;

/// The operator's goals, from the scenario's `[targets]` table. `None` = not set.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Targets {
    /// Continuity failures per bound request (a fraction).
    pub continuity_failure_rate: Option<f64>,
    /// Sessions turned away before any request was served, per arriving session (a fraction).
    pub new_session_rejection_rate: Option<f64>,
}

impl Targets {
    /// True when at least one target is set.
    pub fn any(&self) -> bool {
        self.continuity_failure_rate.is_some() || self.new_session_rejection_rate.is_some()
    }
}

/// The two metrics of one sweep point that the recommendation weighs.
#[derive(Debug, Clone, PartialEq)]
pub struct PointSummary {
    /// 0-based sweep point index (sweep order).
    pub point: usize,
    /// The setting in words, e.g. `reserved=2` or `reserved=2, concurrency=5`.
    pub label: String,
    pub new_session_rejection_rate: f64,
    /// Half-width of the 95% CI; NaN when unknown (one replication).
    pub new_session_rejection_rate_ci95: f64,
    pub continuity_failure_rate: f64,
    /// Half-width of the 95% CI; NaN when unknown (one replication).
    pub continuity_failure_rate_ci95: f64,
    /// Mean bound requests per replication; 0 means continuity was never put to the test.
    pub bound_requests: f64,
    /// The swept load multiplier of this point, when `load` is swept.
    pub load: Option<f64>,
}

impl PointSummary {
    /// Upper end of the continuity failure CI; an unknown half-width counts as 0.
    pub fn continuity_upper(&self) -> f64 {
        self.continuity_failure_rate + known_or_zero(self.continuity_failure_rate_ci95)
    }

    /// Whether any bound request was measured (the continuity rate is not 0/0).
    pub fn has_bound_requests(&self) -> bool {
        self.bound_requests > 0.0 || self.bound_requests.is_nan()
    }

    /// Whether this point meets every set target.
    pub fn meets(&self, targets: &Targets) -> bool {
        let cf_ok = match targets.continuity_failure_rate {
            Some(t) => self.has_bound_requests() && self.continuity_upper() < t,
            None => true,
        };
        let nsr_ok = match targets.new_session_rejection_rate {
            Some(t) => self.new_session_rejection_rate <= t,
            None => true,
        };
        cf_ok && nsr_ok
    }

    /// Relative amount by which the point misses the set targets (0 when it is within
    /// every target, as far as the shortfall measure can tell).
    pub fn shortfall(&self, targets: &Targets) -> f64 {
        let mut s = 0.0;
        if let Some(t) = targets.continuity_failure_rate {
            s += if self.has_bound_requests() {
                relative_excess(self.continuity_upper(), t)
            } else {
                1.0
            };
        }
        if let Some(t) = targets.new_session_rejection_rate {
            s += relative_excess(self.new_session_rejection_rate, t);
        }
        s
    }
}

/// The outcome of [`recommend`]. Points are carried by value so that the text needs
/// nothing else.
#[derive(Debug, Clone, PartialEq)]
pub enum Recommendation {
    /// `best` meets every set target with the least new-session rejection; `meeting` lists
    /// all points that meet them, in sweep order (`best` included).
    Recommended {
        best: PointSummary,
        meeting: Vec<PointSummary>,
        targets: Targets,
    },
    /// No point meets the targets; `closest` has the least shortfall.
    NoneMeets {
        closest: PointSummary,
        shortfall: f64,
        targets: Targets,
    },
    /// The scenario sets no target: nothing is recommended, but the least-cost point for
    /// each metric is named.
    NoTargets {
        least_new_session_rejection: PointSummary,
        least_continuity_failure: PointSummary,
    },
    /// There was no point at all (empty summary).
    NoPoints,
}

impl Recommendation {
    /// The point a report should feature next to the baseline: the recommended one, or
    /// the closest one when none meets the targets, or (without targets) the point with the
    /// fewest continuity failures.
    pub fn featured_point(&self) -> Option<usize> {
        match self {
            Recommendation::Recommended { best, .. } => Some(best.point),
            Recommendation::NoneMeets { closest, .. } => Some(closest.point),
            Recommendation::NoTargets {
                least_continuity_failure,
                ..
            } => Some(least_continuity_failure.point),
            Recommendation::NoPoints => None,
        }
    }

    /// The recommended point, only when one meets the targets.
    pub fn recommended_point(&self) -> Option<usize> {
        match self {
            Recommendation::Recommended { best, .. } => Some(best.point),
            _ => None,
        }
    }

    /// A short headline, e.g. `Recommended: reserved=2`.
    pub fn headline(&self) -> String {
        match self {
            Recommendation::Recommended { best, .. } => format!("Recommended: {}", best.label),
            Recommendation::NoneMeets { closest, .. } => {
                format!("No setting meets the targets; closest: {}", closest.label)
            }
            Recommendation::NoTargets { .. } => "No targets set: nothing recommended".to_string(),
            Recommendation::NoPoints => "No sweep points: nothing to recommend".to_string(),
        }
    }

    /// The plain-text paragraph for the terminal and the report.
    pub fn text(&self) -> String {
        match self {
            Recommendation::Recommended {
                best,
                meeting,
                targets,
            } => {
                let mut s = format!(
                    "Recommended setting: {}. It meets the targets ({}) with the fewest \
                     new-session rejections: {}; continuity failures {}.",
                    best.label,
                    describe_targets(targets),
                    describe_nsr(best, targets),
                    describe_cf(best, targets),
                );
                if meeting.len() > 1 {
                    let others: Vec<&str> = meeting
                        .iter()
                        .filter(|p| p.point != best.point)
                        .map(|p| p.label.as_str())
                        .collect();
                    s.push_str(&format!(
                        " {} other setting{} also meet{} the targets, at a higher cost: {}.",
                        others.len(),
                        if others.len() == 1 { "" } else { "s" },
                        if others.len() == 1 { "s" } else { "" },
                        others.join("; ")
                    ));
                } else {
                    s.push_str(" It is the only setting that meets the targets.");
                }
                s.push_str(&unknown_ci_note(best, true));
                s
            }
            Recommendation::NoneMeets {
                closest, targets, ..
            } => {
                let mut s = format!(
                    "No setting meets the targets ({}). The closest is {}: new-session \
                     rejections {}; continuity failures {}.",
                    describe_targets(targets),
                    closest.label,
                    describe_nsr(closest, targets),
                    describe_cf(closest, targets),
                );
                s.push_str(&unknown_ci_note(closest, true));
                s
            }
            Recommendation::NoTargets {
                least_new_session_rejection: n,
                least_continuity_failure: c,
            } => {
                let none = Targets::default();
                let mut s = format!(
                    "The scenario sets no [targets], so nothing is recommended. Fewest \
                     new-session rejections: {} ({}). Fewest continuity failures: {} ({}). \
                     Add continuity_failure_rate and/or new_session_rejection_rate under \
                     [targets] to get a recommendation.",
                    n.label,
                    describe_nsr(n, &none),
                    c.label,
                    describe_cf(c, &none),
                );
                let mut notes = unknown_ci_note(n, false);
                if notes.is_empty() {
                    notes = unknown_ci_note(c, false);
                }
                s.push_str(&notes);
                s
            }
            Recommendation::NoPoints => {
                "The summary has no sweep points, so there is nothing to recommend.".to_string()
            }
        }
    }
}

/// Applies the rule described in the module documentation.
pub fn recommend(points: &[PointSummary], targets: &Targets) -> Recommendation {
    if points.iter().any(|p| p.load.is_some()) {
        return recommend_points(&worst_case_over_load(points), targets);
    }
    recommend_points(points, targets)
}

/// One summary per setting (points equal but for `load`, grouped by their label without
/// the load), each the worst case over its loads; carries the index of its worst point.
pub fn worst_case_over_load(points: &[PointSummary]) -> Vec<PointSummary> {
    let mut groups: Vec<(String, Vec<&PointSummary>)> = Vec::new();
    for p in points {
        let key = setting_label(&p.label);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push(p),
            None => groups.push((key, vec![p])),
        }
    }
    groups
        .into_iter()
        .map(|(key, g)| {
            let by = |f: &dyn Fn(&PointSummary) -> f64| {
                *g.iter()
                    .max_by(|a, b| cmp_nan_last(f(a), f(b)))
                    .expect("groups are not empty")
            };
            let worst_nsr = by(&|p| p.new_session_rejection_rate);
            let worst_cf = by(&|p| p.continuity_upper());
            let loads: Vec<String> = g
                .iter()
                .filter_map(|p| p.load)
                .map(|l| format!("{l}"))
                .collect();
            PointSummary {
                point: worst_nsr.point,
                label: format!("{key} (worst case over load {})", loads.join(", ")),
                new_session_rejection_rate: worst_nsr.new_session_rejection_rate,
                new_session_rejection_rate_ci95: worst_nsr.new_session_rejection_rate_ci95,
                continuity_failure_rate: worst_cf.continuity_failure_rate,
                continuity_failure_rate_ci95: worst_cf.continuity_failure_rate_ci95,
                bound_requests: g
                    .iter()
                    .map(|p| p.bound_requests)
                    .fold(f64::INFINITY, f64::min),
                load: None,
            }
        })
        .collect()
}

/// "reserved=1, load=0.5" -> "reserved=1".
fn setting_label(label: &str) -> String {
    label
        .split(", ")
        .filter(|part| !part.starts_with("load="))
        .collect::<Vec<_>>()
        .join(", ")
}

fn recommend_points(points: &[PointSummary], targets: &Targets) -> Recommendation {
    if points.is_empty() {
        return Recommendation::NoPoints;
    }
    if !targets.any() {
        let least_nsr = points
            .iter()
            .min_by(|a, b| {
                cmp_nan_last(a.new_session_rejection_rate, b.new_session_rejection_rate)
                    .then(cmp_nan_last(
                        a.continuity_failure_rate,
                        b.continuity_failure_rate,
                    ))
                    .then(a.point.cmp(&b.point))
            })
            .expect("points is not empty");
        let least_cf = points
            .iter()
            .min_by(|a, b| {
                cmp_nan_last(a.continuity_failure_rate, b.continuity_failure_rate)
                    .then(cmp_nan_last(
                        a.new_session_rejection_rate,
                        b.new_session_rejection_rate,
                    ))
                    .then(a.point.cmp(&b.point))
            })
            .expect("points is not empty");
        return Recommendation::NoTargets {
            least_new_session_rejection: least_nsr.clone(),
            least_continuity_failure: least_cf.clone(),
        };
    }
    let mut meeting: Vec<&PointSummary> = points.iter().filter(|p| p.meets(targets)).collect();
    meeting.sort_by_key(|p| p.point);
    if let Some(best) = meeting.iter().min_by(|a, b| {
        cmp_nan_last(a.new_session_rejection_rate, b.new_session_rejection_rate)
            .then(cmp_nan_last(
                a.continuity_failure_rate,
                b.continuity_failure_rate,
            ))
            .then(a.point.cmp(&b.point))
    }) {
        return Recommendation::Recommended {
            best: (*best).clone(),
            meeting: meeting.iter().map(|p| (*p).clone()).collect(),
            targets: *targets,
        };
    }
    let closest = points
        .iter()
        .min_by(|a, b| {
            cmp_nan_last(a.shortfall(targets), b.shortfall(targets))
                .then(cmp_nan_last(
                    a.new_session_rejection_rate,
                    b.new_session_rejection_rate,
                ))
                .then(cmp_nan_last(
                    a.continuity_failure_rate,
                    b.continuity_failure_rate,
                ))
                .then(a.point.cmp(&b.point))
        })
        .expect("points is not empty");
    Recommendation::NoneMeets {
        closest: closest.clone(),
        shortfall: closest.shortfall(targets),
        targets: *targets,
    }
}

/// Formats a fraction as a percentage with enough digits to tell small rates apart:
/// `0%`, `0.0123%`, `0.412%`, `3.27%`, `41.2%`.
pub fn fmt_pct(x: f64) -> String {
    if x.is_nan() {
        return "n/a".to_string();
    }
    let p = x * 100.0;
    if p == 0.0 {
        return "0%".to_string();
    }
    let a = p.abs();
    let decimals = if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        // three significant digits, at most 4 decimals after the first non-zero one
        let lead = (-a.log10()).floor() as i32; // 0.412 -> 0, 0.0123 -> 1
        (lead + 3).clamp(3, 6) as usize
    };
    let s = format!("{p:.decimals$}");
    format!("{}%", trim_zeros(&s))
}

/// `mean ± half-width` as percentages (the half-width to two significant digits); an
/// unknown half-width is written `± ?`.
pub fn fmt_pct_ci(mean: f64, ci: f64) -> String {
    if ci.is_nan() {
        format!("{} ± ?", fmt_pct(mean))
    } else {
        format!("{} ± {}", fmt_pct(mean), fmt_pct(round_sig2(ci)))
    }
}

fn round_sig2(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let e = v.abs().log10().floor() as i32;
    let f = 10f64.powi(1 - e);
    (v * f).round() / f
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

fn known_or_zero(ci: f64) -> f64 {
    if ci.is_nan() {
        0.0
    } else {
        ci
    }
}

fn relative_excess(value: f64, target: f64) -> f64 {
    if value.is_nan() {
        return f64::INFINITY;
    }
    if target > 0.0 {
        (value / target - 1.0).max(0.0)
    } else if value > target {
        // A target of 0 can only be met by 0; measure the excess against a tiny scale so
        // that smaller values still count as closer.
        value / 1e-9
    } else {
        0.0
    }
}

fn cmp_nan_last(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.total_cmp(&b),
    }
}

/// The set targets in words, e.g. "continuity failures under 1% with 95% confidence,
/// new-session rejections at most 5%".
pub fn describe_targets(t: &Targets) -> String {
    let mut parts = Vec::new();
    if let Some(c) = t.continuity_failure_rate {
        parts.push(format!(
            "continuity failures under {} with 95% confidence",
            fmt_pct(c)
        ));
    }
    if let Some(n) = t.new_session_rejection_rate {
        parts.push(format!("new-session rejections at most {}", fmt_pct(n)));
    }
    parts.join(", ")
}

fn describe_nsr(p: &PointSummary, t: &Targets) -> String {
    let mut s = fmt_pct_ci(
        p.new_session_rejection_rate,
        p.new_session_rejection_rate_ci95,
    );
    if let Some(target) = t.new_session_rejection_rate {
        if p.new_session_rejection_rate <= target {
            s.push_str(&format!(" (within the {} target)", fmt_pct(target)));
        } else {
            s.push_str(&format!(" (above the {} target)", fmt_pct(target)));
        }
    }
    s
}

fn describe_cf(p: &PointSummary, t: &Targets) -> String {
    if !p.has_bound_requests() {
        return "not measured: no bound requests (no session ever got a slot)".to_string();
    }
    let mut s = fmt_pct_ci(p.continuity_failure_rate, p.continuity_failure_rate_ci95);
    let upper = p.continuity_upper();
    if !p.continuity_failure_rate_ci95.is_nan() {
        s.push_str(&format!(", CI upper bound {}", fmt_pct(upper)));
    }
    if let Some(target) = t.continuity_failure_rate {
        if upper < target {
            s.push_str(&format!(" (under the {} target)", fmt_pct(target)));
        } else {
            s.push_str(&format!(" (not under the {} target)", fmt_pct(target)));
        }
    }
    s
}

fn unknown_ci_note(p: &PointSummary, decided: bool) -> String {
    if !(p.continuity_failure_rate_ci95.is_nan() || p.new_session_rejection_rate_ci95.is_nan()) {
        String::new()
    } else if decided {
        " With a single replication the confidence interval is unknown, so the 95% condition \
         could not be checked: the decision used the means alone; run more replications to \
         trust it."
            .to_string()
    } else {
        " The confidence interval is unknown (a single replication); run more replications \
         to compare settings with confidence."
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(point: usize, nsr: f64, nsr_ci: f64, cf: f64, cf_ci: f64) -> PointSummary {
        PointSummary {
            point,
            label: format!("reserved={point}"),
            new_session_rejection_rate: nsr,
            new_session_rejection_rate_ci95: nsr_ci,
            continuity_failure_rate: cf,
            continuity_failure_rate_ci95: cf_ci,
            bound_requests: 100.0,
            load: None,
        }
    }

    const BOTH: Targets = Targets {
        continuity_failure_rate: Some(0.01),
        new_session_rejection_rate: Some(0.05),
    };

    #[test]
    fn picks_least_new_session_rejection_among_meeting() {
        let points = [
            pt(0, 0.001, 0.0005, 0.080, 0.004),  // fails continuity
            pt(1, 0.010, 0.002, 0.009, 0.0005),  // upper 0.0095 < 0.01: meets
            pt(2, 0.030, 0.004, 0.002, 0.0003),  // meets
            pt(3, 0.090, 0.010, 0.0005, 0.0001), // fails new-session
        ];
        let r = recommend(&points, &BOTH);
        match &r {
            Recommendation::Recommended { best, meeting, .. } => {
                assert_eq!(best.point, 1);
                let m: Vec<usize> = meeting.iter().map(|p| p.point).collect();
                assert_eq!(m, vec![1, 2]);
            }
            other => panic!("expected a recommendation, got {other:?}"),
        }
        assert_eq!(r.recommended_point(), Some(1));
        let text = r.text();
        assert!(
            text.starts_with("Recommended setting: reserved=1."),
            "{text}"
        );
        assert!(
            text.contains("1 other setting also meets the targets"),
            "{text}"
        );
        assert!(text.contains("reserved=2"), "{text}");
    }

    #[test]
    fn continuity_uses_the_ci_upper_bound_strictly() {
        // mean under target but mean + ci equal to it: does not meet
        let points = [pt(0, 0.0, 0.0, 0.008, 0.002), pt(1, 0.02, 0.0, 0.001, 0.0)];
        let r = recommend(&points, &BOTH);
        assert_eq!(r.recommended_point(), Some(1));
    }

    #[test]
    fn new_session_target_is_inclusive() {
        let points = [pt(0, 0.05, 0.01, 0.001, 0.0)];
        assert_eq!(recommend(&points, &BOTH).recommended_point(), Some(0));
    }

    #[test]
    fn ties_go_to_lower_continuity_then_lower_index() {
        let points = [
            pt(0, 0.02, 0.0, 0.005, 0.0),
            pt(1, 0.02, 0.0, 0.003, 0.0),
            pt(2, 0.02, 0.0, 0.003, 0.0),
        ];
        assert_eq!(recommend(&points, &BOTH).recommended_point(), Some(1));
        let points = [pt(0, 0.02, 0.0, 0.003, 0.0), pt(1, 0.02, 0.0, 0.003, 0.0)];
        assert_eq!(recommend(&points, &BOTH).recommended_point(), Some(0));
    }

    #[test]
    fn none_meets_names_the_closest_with_numbers() {
        let points = [
            pt(0, 0.00, 0.0, 0.050, 0.005),  // shortfall 4.5
            pt(1, 0.06, 0.01, 0.012, 0.001), // 0.3 + 0.2 = 0.5
            pt(2, 0.20, 0.02, 0.004, 0.001), // 3.0
        ];
        let r = recommend(&points, &BOTH);
        match &r {
            Recommendation::NoneMeets {
                closest, shortfall, ..
            } => {
                assert_eq!(closest.point, 1);
                assert!((shortfall - 0.5).abs() < 1e-9, "{shortfall}");
            }
            other => panic!("expected none meets, got {other:?}"),
        }
        let text = r.text();
        assert!(text.contains("No setting meets"), "{text}");
        assert!(text.contains("reserved=1"), "{text}");
        assert!(text.contains("6%"), "{text}");
        assert!(text.contains("1.2%"), "{text}");
        assert_eq!(r.featured_point(), Some(1));
        assert_eq!(r.recommended_point(), None);
    }

    #[test]
    fn only_one_target_set() {
        let t = Targets {
            continuity_failure_rate: Some(0.01),
            new_session_rejection_rate: None,
        };
        let points = [pt(0, 0.0, 0.0, 0.05, 0.0), pt(1, 0.5, 0.0, 0.001, 0.0)];
        assert_eq!(recommend(&points, &t).recommended_point(), Some(1));
        let t = Targets {
            continuity_failure_rate: None,
            new_session_rejection_rate: Some(0.01),
        };
        assert_eq!(recommend(&points, &t).recommended_point(), Some(0));
    }

    #[test]
    fn no_targets_names_least_cost_per_metric() {
        let points = [
            pt(0, 0.00, 0.0, 0.05, 0.01),
            pt(1, 0.01, 0.0, 0.01, 0.01),
            pt(2, 0.10, 0.0, 0.001, 0.0),
        ];
        let r = recommend(&points, &Targets::default());
        match &r {
            Recommendation::NoTargets {
                least_new_session_rejection,
                least_continuity_failure,
            } => {
                assert_eq!(least_new_session_rejection.point, 0);
                assert_eq!(least_continuity_failure.point, 2);
            }
            other => panic!("expected no targets, got {other:?}"),
        }
        assert_eq!(r.recommended_point(), None);
        assert!(r.text().contains("nothing is recommended"));
    }

    #[test]
    fn nan_ci_counts_as_zero_width_and_is_said() {
        let points = [pt(0, 0.01, f64::NAN, 0.009, f64::NAN)];
        let r = recommend(&points, &BOTH);
        assert_eq!(r.recommended_point(), Some(0));
        let text = r.text();
        assert!(text.contains("interval is unknown"), "{text}");
        assert!(text.contains("± ?"), "{text}");
    }

    #[test]
    fn nan_means_never_meet_and_sort_last() {
        let points = [pt(0, f64::NAN, 0.0, 0.001, 0.0), pt(1, 0.2, 0.0, 0.5, 0.0)];
        let r = recommend(&points, &BOTH);
        assert_eq!(r.featured_point(), Some(1));
    }

    #[test]
    fn empty_points() {
        assert_eq!(recommend(&[], &BOTH), Recommendation::NoPoints);
    }

    #[test]
    fn zero_target_is_handled() {
        let t = Targets {
            continuity_failure_rate: Some(0.0),
            new_session_rejection_rate: None,
        };
        let points = [pt(0, 0.0, 0.0, 0.02, 0.0), pt(1, 0.0, 0.0, 0.01, 0.0)];
        let r = recommend(&points, &t);
        assert_eq!(r.recommended_point(), None);
        assert_eq!(r.featured_point(), Some(1));
    }

    #[test]
    fn percent_formatting() {
        assert_eq!(fmt_pct(0.0), "0%");
        assert_eq!(fmt_pct(0.5), "50%");
        assert_eq!(fmt_pct(0.0327), "3.27%");
        assert_eq!(fmt_pct(0.00412), "0.412%");
        assert_eq!(fmt_pct(0.000123), "0.0123%");
        assert_eq!(fmt_pct(0.01), "1%");
        assert_eq!(fmt_pct(f64::NAN), "n/a");
        assert_eq!(fmt_pct_ci(0.01, f64::NAN), "1% ± ?");
        assert_eq!(fmt_pct_ci(0.1237, 0.00552), "12.4% ± 0.55%");
        assert_eq!(fmt_pct_ci(0.0297, 0.000545), "2.97% ± 0.055%");
    }

    /// R >= C: no session ever gets a slot, so no bound request exists and the continuity
    /// rate is 0/0. That is not a success.
    #[test]
    fn no_bound_requests_cannot_meet_a_continuity_target() {
        let mut dead = pt(5, 1.0, 0.0, 0.0, 0.0);
        dead.bound_requests = 0.0;
        let live = pt(3, 0.3, 0.01, 0.002, 0.001);
        let only_cf = Targets {
            continuity_failure_rate: Some(0.01),
            new_session_rejection_rate: None,
        };
        match recommend(&[live.clone(), dead.clone()], &only_cf) {
            Recommendation::Recommended { best, meeting, .. } => {
                assert_eq!(best.point, 3);
                assert_eq!(meeting.len(), 1);
            }
            other => panic!("{other:?}"),
        }
        let r = recommend(&[dead], &only_cf);
        assert!(matches!(r, Recommendation::NoneMeets { .. }), "{r:?}");
        assert!(r.text().contains("no bound requests"), "{}", r.text());
    }

    /// With a load sweep, settings are judged by their worst load.
    #[test]
    fn load_is_not_a_setting_worst_case_decides() {
        let at = |point: usize, r: u32, load: f64, nsr: f64, cf: f64| PointSummary {
            label: format!("reserved={r}, load={load}"),
            load: Some(load),
            ..pt(point, nsr, 0.001, cf, 0.001)
        };
        let points = [
            at(0, 0, 0.5, 0.00, 0.004),
            at(1, 0, 1.0, 0.01, 0.030), // R=0 fails continuity at full load
            at(2, 1, 0.5, 0.01, 0.002),
            at(3, 1, 1.0, 0.04, 0.008), // R=1 meets both at both loads
            at(4, 2, 0.5, 0.02, 0.001),
            at(5, 2, 1.0, 0.09, 0.002), // R=2 rejects too many new sessions at full load
        ];
        match recommend(&points, &BOTH) {
            Recommendation::Recommended { best, meeting, .. } => {
                assert_eq!(best.point, 3, "the worst-load point of the chosen setting");
                assert!(
                    best.label
                        .starts_with("reserved=1 (worst case over load 0.5, 1)"),
                    "{}",
                    best.label
                );
                assert_eq!(best.new_session_rejection_rate, 0.04);
                assert_eq!(meeting.len(), 1);
            }
            other => panic!("{other:?}"),
        }
    }
}
