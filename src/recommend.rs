//! Which sweep point to recommend, given the operator's `[targets]`: the decision rules of
//! docs/decisions.md, as pure functions of the per-point (and per-replication) results.
//!
//! Pure logic, no IO. `slotsim run` builds [`PointSummary`] values from its results in
//! memory (and calls [`recommend`] between rounds of added replications); the report
//! module builds the same values from `summary.csv`, `replications.csv` and `run.json`, so
//! the printed answer and the report's answer are the same function of the same numbers.
//!
//! The rules, in short (docs/decisions.md says them in full):
//!
//! - **Verdict per target**, at 95% confidence: a point *meets* a target when the upper end
//!   of its 95% confidence interval (mean + half-width) is at or under the target, *fails*
//!   when the lower end is above it, and is *undecided* when the interval straddles it. A
//!   point meets the targets when it meets each set target, fails them when it fails one,
//!   and is undecided otherwise. An unknown half-width (one replication) counts as zero
//!   width, and the text says so. A point with no bound requests fails a continuity target
//!   (its rate is 0/0, not a success: R >= C leaves new sessions nowhere to land).
//! - **Choice** among the points that meet the targets: the cheapest wins (fewest slots, or
//!   the stated price per account); among equally cheap ones, the fewest new-session
//!   rejections, where points whose paired difference from the leader is not significant
//!   are *equivalent*; among equivalents, the one holding back the least capacity (fewest
//!   reserved slots), then the lower continuity failure rate, then sweep order.
//! - **How sure**: an undecided point that would be chosen instead if it met the targets
//!   could change the answer. `run` adds replications to such points in rounds; when one
//!   remains undecided the answer is *borderline*, and the text says which point and why.
//! - **Load**: when the sweep varies `load`, load is the traffic, not a setting: each
//!   setting is judged at every swept load (it meets the targets when it meets them at every
//!   load, fails when it fails at one) and compared by its worst case over the loads.
//! - **Cost targets** (`cache_move_cost_usd_per_hour`, `cache_move_cost_usd_per_1k_requests`)
//!   are "at most" targets judged by the same 95% rule as the rates.

use crate::stats::Estimate;
use std::cmp::Ordering;

/// The operator's goals, from the scenario's `[targets]` table. `None` = not set.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Targets {
    /// Continuity failures per bound request (a fraction).
    pub continuity_failure_rate: Option<f64>,
    /// Sessions whose first request was rejected for good, per arriving session (a fraction).
    pub new_session_rejection_rate: Option<f64>,
    /// True when costs are prices per account stated by the operator, false when they are
    /// slot counts.
    pub priced: bool,
    /// Cache-move cost (USD) per simulated hour.
    pub cache_move_cost_usd_per_hour: Option<f64>,
    /// Cache-move cost (USD) per 1,000 completed requests.
    pub cache_move_cost_usd_per_1k_requests: Option<f64>,
}

impl Targets {
    /// No target set, costs in slots.
    pub const NONE: Targets = Targets {
        continuity_failure_rate: None,
        new_session_rejection_rate: None,
        priced: false,
        cache_move_cost_usd_per_hour: None,
        cache_move_cost_usd_per_1k_requests: None,
    };

    /// True when at least one target is set.
    pub fn any(&self) -> bool {
        self.continuity_failure_rate.is_some()
            || self.new_session_rejection_rate.is_some()
            || self.cache_move_cost_usd_per_hour.is_some()
            || self.cache_move_cost_usd_per_1k_requests.is_some()
    }
}

/// A point's standing against a target (or all targets) at 95% confidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The whole 95% confidence interval is at or under the target.
    Meets,
    /// The whole interval is above the target (or the rate cannot be measured).
    Fails,
    /// The interval straddles the target.
    Undecided,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Meets => "meets",
            Verdict::Fails => "fails",
            Verdict::Undecided => "undecided",
        }
    }

    fn and(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Verdict::Fails, _) | (_, Verdict::Fails) => Verdict::Fails,
            (Verdict::Undecided, _) | (_, Verdict::Undecided) => Verdict::Undecided,
            _ => Verdict::Meets,
        }
    }
}

/// The verdict of a mean with a 95% half-width (NaN = unknown, counted as 0) on a target.
pub fn verdict(mean: f64, ci95: f64, target: f64) -> Verdict {
    if mean.is_nan() {
        return Verdict::Fails;
    }
    let h = known_or_zero(ci95);
    if mean + h <= target {
        Verdict::Meets
    } else if mean - h > target {
        Verdict::Fails
    } else {
        Verdict::Undecided
    }
}

/// Per-replication values of one point, indexed by replication number. Replication k of
/// every point uses the same random streams (common random numbers), so values with the same
/// index pair up for paired differences.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Replicated {
    pub new_session_rejection_rate: Vec<f64>,
    pub continuity_failure_rate: Vec<f64>,
}

/// What the recommendation weighs of one sweep point.
#[derive(Debug, Clone, PartialEq, Default)]
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
    /// Cache-move cost (USD) per hour, with its 95% half-width (NaN when unknown).
    pub cache_move_cost_usd_per_hour: f64,
    pub cache_move_cost_usd_per_hour_ci95: f64,
    /// Cache-move cost (USD) per 1,000 requests, with its 95% half-width (NaN when unknown).
    pub cache_move_cost_usd_per_1k_requests: f64,
    pub cache_move_cost_usd_per_1k_requests_ci95: f64,
    /// The swept load multiplier of this point, when `load` is swept.
    pub load: Option<f64>,
    /// What the point's pools cost: total slots, or (with prices) the sum of accounts x
    /// price per account. NaN when unknown (an old output folder): costs are then not compared.
    pub cost: f64,
    /// Slots held back from new sessions: the sum over accounts of min(max(R, 0), C).
    pub held_back: f64,
    /// Replications run.
    pub replications: usize,
    /// Per-replication values; empty when unknown (paired differences then fall back to
    /// comparing the two confidence intervals).
    pub reps: Replicated,
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

    /// Verdict on the continuity target (Meets when it is not set).
    pub fn continuity_verdict(&self, targets: &Targets) -> Verdict {
        match targets.continuity_failure_rate {
            Some(_) if !self.has_bound_requests() => Verdict::Fails,
            Some(t) => verdict(
                self.continuity_failure_rate,
                self.continuity_failure_rate_ci95,
                t,
            ),
            None => Verdict::Meets,
        }
    }

    /// Verdict on the new-session target (Meets when it is not set).
    pub fn new_session_verdict(&self, targets: &Targets) -> Verdict {
        match targets.new_session_rejection_rate {
            Some(t) => verdict(
                self.new_session_rejection_rate,
                self.new_session_rejection_rate_ci95,
                t,
            ),
            None => Verdict::Meets,
        }
    }

    /// Verdict on the cache-move cost targets together (Meets when neither is set).
    pub fn cost_verdict(&self, targets: &Targets) -> Verdict {
        let one =
            |t: Option<f64>, mean: f64, ci: f64| t.map_or(Verdict::Meets, |t| verdict(mean, ci, t));
        one(
            targets.cache_move_cost_usd_per_hour,
            self.cache_move_cost_usd_per_hour,
            self.cache_move_cost_usd_per_hour_ci95,
        )
        .and(one(
            targets.cache_move_cost_usd_per_1k_requests,
            self.cache_move_cost_usd_per_1k_requests,
            self.cache_move_cost_usd_per_1k_requests_ci95,
        ))
    }

    /// Verdict on every set target together.
    pub fn verdict(&self, targets: &Targets) -> Verdict {
        self.continuity_verdict(targets)
            .and(self.new_session_verdict(targets))
            .and(self.cost_verdict(targets))
    }

    /// Whether this point meets every set target at 95% confidence.
    pub fn meets(&self, targets: &Targets) -> bool {
        self.verdict(targets) == Verdict::Meets
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
        if let Some(t) = targets.cache_move_cost_usd_per_hour {
            s += relative_excess(self.cache_move_cost_usd_per_hour, t);
        }
        if let Some(t) = targets.cache_move_cost_usd_per_1k_requests {
            s += relative_excess(self.cache_move_cost_usd_per_1k_requests, t);
        }
        s
    }
}

/// A paired difference `a - b` of the new-session rejection rate, with its 95% half-width,
/// over the replications both points ran. Falls back to the difference of the means with
/// the sum of the two half-widths when per-replication values are unknown.
pub fn paired_nsr_difference(a: &PointSummary, b: &PointSummary) -> (f64, f64) {
    let (xa, xb) = (
        &a.reps.new_session_rejection_rate,
        &b.reps.new_session_rejection_rate,
    );
    let n = xa.len().min(xb.len());
    if n >= 2 {
        let d: Vec<f64> = xa[..n].iter().zip(&xb[..n]).map(|(x, y)| x - y).collect();
        let e = Estimate::of(&d);
        return (e.mean, e.ci95.unwrap_or(f64::NAN));
    }
    (
        a.new_session_rejection_rate - b.new_session_rejection_rate,
        known_or_zero(a.new_session_rejection_rate_ci95)
            + known_or_zero(b.new_session_rejection_rate_ci95),
    )
}

/// Whether `a` and `b` differ significantly in new-session rejections (95%, paired).
pub fn significantly_different(a: &PointSummary, b: &PointSummary) -> bool {
    let (d, h) = paired_nsr_difference(a, b);
    !h.is_nan() && d.abs() > h
}

/// One setting the recommendation chooses among: a sweep point, or (with a load sweep) the
/// points of one setting at every load.
#[derive(Debug, Clone, PartialEq)]
struct Unit<'a> {
    /// The worst case over the members (the point itself without a load sweep, borrowed:
    /// a sweep of many points would otherwise copy every point twice).
    summary: std::borrow::Cow<'a, PointSummary>,
    /// The member points.
    members: Vec<&'a PointSummary>,
    verdict: Verdict,
}

impl Unit<'_> {
    fn summary(&self) -> &PointSummary {
        &self.summary
    }
}

/// The outcome of [`recommend`]. Points are carried by value so that the text needs
/// nothing else.
#[derive(Debug, Clone, PartialEq)]
pub enum Recommendation {
    /// `best` meets every set target and wins by the choice rule; `meeting` lists all points
    /// that meet them, in sweep order (`best` included).
    Recommended {
        best: PointSummary,
        meeting: Vec<PointSummary>,
        /// Points as cheap as `best` whose new-session rejections do not differ
        /// significantly from the fewest (`best` not included).
        equivalent: Vec<PointSummary>,
        /// Undecided points that would be chosen instead if they met the targets.
        pending: Vec<PointSummary>,
        /// Sweep points (indices) whose added replications could settle `pending`.
        refine: Vec<usize>,
        targets: Targets,
    },
    /// No point meets the targets; `closest` has the least shortfall.
    NoneMeets {
        closest: PointSummary,
        shortfall: f64,
        /// Undecided points: each might meet the targets with more replications.
        pending: Vec<PointSummary>,
        refine: Vec<usize>,
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

    /// True when an undecided point could still change the answer.
    pub fn borderline(&self) -> bool {
        match self {
            Recommendation::Recommended { pending, .. }
            | Recommendation::NoneMeets { pending, .. } => !pending.is_empty(),
            _ => false,
        }
    }

    /// The sweep points whose added replications could change or settle the answer.
    pub fn points_to_refine(&self) -> &[usize] {
        match self {
            Recommendation::Recommended { refine, .. }
            | Recommendation::NoneMeets { refine, .. } => refine,
            _ => &[],
        }
    }

    /// A short headline, e.g. `Recommended: reserved=2`.
    pub fn headline(&self) -> String {
        let b = if self.borderline() {
            " (borderline)"
        } else {
            ""
        };
        match self {
            Recommendation::Recommended { best, .. } => {
                format!("Recommended: {}{b}", best.label)
            }
            Recommendation::NoneMeets { closest, .. } => {
                format!(
                    "No setting meets the targets{b}; closest: {}",
                    closest.label
                )
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
                equivalent,
                pending,
                targets,
                ..
            } => {
                let mut s = format!(
                    "Recommended setting: {}. It meets the targets ({}): new-session \
                     rejections {}; continuity failures {}{}.",
                    best.label,
                    describe_targets(targets),
                    describe_nsr(best, targets),
                    describe_cf(best, targets),
                    describe_cost(best, targets),
                );
                let dearer: Vec<&PointSummary> = meeting
                    .iter()
                    .filter(|p| costs_known(p, best) && p.cost > best.cost)
                    .collect();
                let same_cost_worse: Vec<&PointSummary> = meeting
                    .iter()
                    .filter(|p| {
                        p.point != best.point
                            && !dearer.iter().any(|d| d.point == p.point)
                            && !equivalent.iter().any(|e| e.point == p.point)
                    })
                    .collect();
                if !dearer.is_empty() {
                    s.push_str(&format!(
                        " It is the cheapest setting that meets them ({}); {} more expensive \
                         one{} also meet{} them: {}.",
                        cost_words(best, targets),
                        dearer.len(),
                        plural(dearer.len()),
                        if dearer.len() == 1 { "s" } else { "" },
                        dearer
                            .iter()
                            .map(|p| format!("{} ({})", p.label, cost_words(p, targets)))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ));
                }
                if !equivalent.is_empty() {
                    s.push_str(&format!(
                        " Equivalent within noise (their new-session rejections do not differ \
                         significantly, paired over the same replications): {}; chosen among \
                         them: the one holding back the fewest slots for bound sessions ({}).",
                        list_settings(equivalent.iter().map(|p| p.label.as_str())),
                        best.held_back
                    ));
                }
                if !same_cost_worse.is_empty() {
                    s.push_str(&format!(
                        " Also meeting the targets, with significantly more new-session \
                         rejections: {}.",
                        list_settings(same_cost_worse.iter().map(|p| p.label.as_str()))
                    ));
                }
                if meeting.len() == 1 {
                    s.push_str(" It is the only setting that meets the targets.");
                }
                s.push_str(&confidence_words(pending, targets, best.replications));
                s.push_str(&unknown_ci_note(best, true));
                s
            }
            Recommendation::NoneMeets {
                closest,
                pending,
                targets,
                ..
            } => {
                let mut s = format!(
                    "No setting meets the targets ({}). The closest is {}: new-session \
                     rejections {}; continuity failures {}{}.",
                    describe_targets(targets),
                    closest.label,
                    describe_nsr(closest, targets),
                    describe_cf(closest, targets),
                    describe_cost(closest, targets),
                );
                if pending.is_empty() {
                    s.push_str(" This is firm: every setting fails a target at 95% confidence.");
                } else {
                    s.push_str(&confidence_words(pending, targets, closest.replications));
                }
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
                     Add continuity_failure_rate, new_session_rejection_rate or a cache-move \
                     cost target under [targets] to get a recommendation.",
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

/// Settings named one after another ("reserved=1; reserved=2"), with every run of four
/// or more that differ in one whole-number parameter counting up by one written as its
/// ends and its length ("reserved=1 … 57 (57 settings)"): the run leaves no value out,
/// so nothing is lost, and a sweep of thousands of settings gives a sentence, not a page.
fn list_settings<'a>(labels: impl Iterator<Item = &'a str>) -> String {
    let labels: Vec<Vec<&str>> = labels.map(|l| l.split(", ").collect()).collect();
    // The position of the one part in which `b` is `a` with a whole number one higher.
    let next = |a: &[&str], b: &[&str]| -> Option<usize> {
        if a.len() != b.len() {
            return None;
        }
        let mut differs = (0..a.len()).filter(|&i| a[i] != b[i]);
        let (i, None) = (differs.next()?, differs.next()) else {
            return None;
        };
        let (ka, va) = a[i].split_once('=')?;
        let (kb, vb) = b[i].split_once('=')?;
        let (va, vb) = (va.parse::<i64>().ok()?, vb.parse::<i64>().ok()?);
        (ka == kb && va.checked_add(1) == Some(vb)).then_some(i)
    };
    let mut out: Vec<String> = Vec::new();
    let mut s = 0;
    while s < labels.len() {
        let mut e = s;
        if let Some(i) = labels.get(s + 1).and_then(|b| next(&labels[s], b)) {
            e = s + 1;
            while e + 1 < labels.len() && next(&labels[e], &labels[e + 1]) == Some(i) {
                e += 1;
            }
            if e - s >= 3 {
                let mut parts: Vec<String> = labels[s].iter().map(|p| p.to_string()).collect();
                let last = labels[e][i].split_once('=').map_or("", |(_, v)| v);
                parts[i] = format!("{} … {last}", labels[s][i]);
                out.push(format!("{} ({} settings)", parts.join(", "), e - s + 1));
                s = e + 1;
                continue;
            }
            e = s;
        }
        out.push(labels[e].join(", "));
        s = e + 1;
    }
    out.join("; ")
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn costs_known(a: &PointSummary, b: &PointSummary) -> bool {
    !a.cost.is_nan() && !b.cost.is_nan()
}

fn cost_words(p: &PointSummary, t: &Targets) -> String {
    if t.priced {
        format!("price {}", crate::units::round_sig(p.cost, 6))
    } else {
        format!("{} slots", p.cost)
    }
}

/// How sure the answer is, in words.
fn confidence_words(pending: &[PointSummary], t: &Targets, reps: usize) -> String {
    if pending.is_empty() {
        return format!(
            " The answer is firm: every verdict it rests on holds at 95% confidence per \
             target ({reps} replications at the chosen point)."
        );
    }
    let what: Vec<String> = pending
        .iter()
        .map(|p| {
            let mut why = Vec::new();
            if p.continuity_verdict(t) == Verdict::Undecided {
                why.push(format!("continuity failures {}", describe_cf(p, t)));
            }
            if p.new_session_verdict(t) == Verdict::Undecided {
                why.push(format!("new-session rejections {}", describe_nsr(p, t)));
            }
            for (target, mean, ci, what) in cost_parts(p, t) {
                if verdict(mean, ci, target) == Verdict::Undecided {
                    why.push(format!("{what} {}", describe_usd(mean, ci, target)));
                }
            }
            format!(
                "{} after {} replications ({})",
                p.label,
                p.replications,
                why.join("; ")
            )
        })
        .collect();
    format!(
        " Borderline: {} {} undecided (the 95% interval straddles a target), and would be \
         preferred if {} met the targets; treat the answer as a close call, or raise \
         max_replications.",
        what.join("; "),
        if pending.len() == 1 { "is" } else { "are" },
        if pending.len() == 1 { "it" } else { "they" }
    )
}

/// Applies the rules described in the module documentation.
pub fn recommend(points: &[PointSummary], targets: &Targets) -> Recommendation {
    if points.is_empty() {
        return Recommendation::NoPoints;
    }
    let units = units(points, targets);
    if !targets.any() {
        let least_nsr = units
            .iter()
            .map(|u| u.summary())
            .min_by(|a, b| {
                cmp_nan_last(a.new_session_rejection_rate, b.new_session_rejection_rate)
                    .then(cmp_nan_last(
                        a.continuity_failure_rate,
                        b.continuity_failure_rate,
                    ))
                    .then(a.point.cmp(&b.point))
            })
            .expect("points is not empty");
        let least_cf = units
            .iter()
            .map(|u| u.summary())
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
    let meeting: Vec<&Unit> = units
        .iter()
        .filter(|u| u.verdict == Verdict::Meets)
        .collect();
    let undecided: Vec<&Unit> = units
        .iter()
        .filter(|u| u.verdict == Verdict::Undecided)
        .collect();
    let refine_of = |us: &[&Unit]| -> Vec<usize> {
        let mut v: Vec<usize> = us
            .iter()
            .flat_map(|u| &u.members)
            .filter(|p| p.verdict(targets) == Verdict::Undecided)
            .map(|p| p.point)
            .collect();
        v.sort_unstable();
        v
    };
    if !meeting.is_empty() {
        let min_cost = meeting
            .iter()
            .map(|u| u.summary.cost)
            .filter(|c| !c.is_nan())
            .fold(f64::INFINITY, f64::min);
        let cheapest: Vec<&Unit> = meeting
            .iter()
            .copied()
            .filter(|u| u.summary.cost.is_nan() || u.summary.cost <= min_cost)
            .collect();
        let leader = cheapest
            .iter()
            .min_by(|a, b| by_rejections(&a.summary, &b.summary))
            .expect("cheapest is not empty");
        let group: Vec<&Unit> = cheapest
            .iter()
            .copied()
            .filter(|u| {
                u.summary.point == leader.summary.point
                    || !significantly_different(&u.summary, &leader.summary)
            })
            .collect();
        let best = group
            .iter()
            .min_by(|a, b| by_held_back(&a.summary, &b.summary))
            .expect("group is not empty");
        let pending: Vec<&Unit> = undecided
            .iter()
            .copied()
            .filter(|u| could_beat(&u.summary, &best.summary, &leader.summary))
            .collect();
        let mut meeting_s: Vec<PointSummary> =
            meeting.iter().map(|u| u.summary().clone()).collect();
        meeting_s.sort_by_key(|p| p.point);
        return Recommendation::Recommended {
            best: best.summary().clone(),
            meeting: meeting_s,
            equivalent: group
                .iter()
                .filter(|u| u.summary.point != best.summary.point)
                .map(|u| u.summary().clone())
                .collect(),
            refine: refine_of(&pending),
            pending: pending.iter().map(|u| u.summary().clone()).collect(),
            targets: *targets,
        };
    }
    let closest = units
        .iter()
        .map(|u| u.summary())
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
        refine: refine_of(&undecided),
        pending: undecided.iter().map(|u| u.summary().clone()).collect(),
        targets: *targets,
    }
}

/// Whether undecided `u`, if it met the targets, would be chosen instead of `best`
/// (`leader`: the fewest new-session rejections among the cheapest meeting points).
fn could_beat(u: &PointSummary, best: &PointSummary, leader: &PointSummary) -> bool {
    if !costs_known(u, best) {
        return true;
    }
    if u.cost < best.cost {
        return true;
    }
    if u.cost > best.cost {
        return false;
    }
    let clearly_fewer = u.new_session_rejection_rate < leader.new_session_rejection_rate
        && significantly_different(u, leader);
    let equivalent = !significantly_different(u, leader);
    clearly_fewer || (equivalent && by_held_back(u, best) == Ordering::Less)
}

fn by_rejections(a: &PointSummary, b: &PointSummary) -> Ordering {
    cmp_nan_last(a.new_session_rejection_rate, b.new_session_rejection_rate)
        .then(cmp_nan_last(
            a.continuity_failure_rate,
            b.continuity_failure_rate,
        ))
        .then(a.point.cmp(&b.point))
}

fn by_held_back(a: &PointSummary, b: &PointSummary) -> Ordering {
    cmp_nan_last(a.held_back, b.held_back).then(by_rejections(a, b))
}

/// The settings to choose among: each point, or with a load sweep one unit per setting.
fn units<'a>(points: &'a [PointSummary], targets: &Targets) -> Vec<Unit<'a>> {
    if !points.iter().any(|p| p.load.is_some()) {
        return points
            .iter()
            .map(|p| Unit {
                summary: std::borrow::Cow::Borrowed(p),
                members: vec![p],
                verdict: p.verdict(targets),
            })
            .collect();
    }
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
            let verdict = g
                .iter()
                .map(|p| p.verdict(targets))
                .fold(Verdict::Meets, Verdict::and);
            Unit {
                summary: std::borrow::Cow::Owned(worst_case(&key, &g)),
                members: g,
                verdict,
            }
        })
        .collect()
}

/// One summary per setting (points equal but for `load`, grouped by their label without
/// the load), each the worst case over its loads; carries the index of its worst point.
pub fn worst_case_over_load(points: &[PointSummary]) -> Vec<PointSummary> {
    units(points, &Targets::default())
        .into_iter()
        .map(|u| u.summary.into_owned())
        .collect()
}

fn worst_case(key: &str, g: &[&PointSummary]) -> PointSummary {
    let by = |f: &dyn Fn(&PointSummary) -> f64| {
        *g.iter()
            .max_by(|a, b| cmp_nan_last(f(a), f(b)))
            .expect("groups are not empty")
    };
    let worst_nsr = by(&|p| p.new_session_rejection_rate);
    let worst_cf = by(&|p| p.continuity_upper());
    let worst_hour = by(&|p| {
        p.cache_move_cost_usd_per_hour + known_or_zero(p.cache_move_cost_usd_per_hour_ci95)
    });
    let worst_1k = by(&|p| {
        p.cache_move_cost_usd_per_1k_requests
            + known_or_zero(p.cache_move_cost_usd_per_1k_requests_ci95)
    });
    let loads: Vec<String> = g
        .iter()
        .filter_map(|p| p.load)
        .map(|l| format!("{l}"))
        .collect();
    // Per replication, the worst value over the loads (replication k of every load shares
    // its streams, so these still pair up across settings).
    let n = g
        .iter()
        .map(|p| p.reps.new_session_rejection_rate.len())
        .min()
        .unwrap_or(0);
    let worst_rep = |f: &dyn Fn(&PointSummary) -> &Vec<f64>| -> Vec<f64> {
        (0..n)
            .map(|k| g.iter().map(|p| f(p)[k]).fold(f64::NEG_INFINITY, f64::max))
            .collect()
    };
    let m = g
        .iter()
        .map(|p| p.reps.continuity_failure_rate.len())
        .min()
        .unwrap_or(0);
    let reps = Replicated {
        new_session_rejection_rate: worst_rep(&|p| &p.reps.new_session_rejection_rate),
        continuity_failure_rate: if m >= n {
            worst_rep(&|p| &p.reps.continuity_failure_rate)
        } else {
            Vec::new()
        },
    };
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
        cache_move_cost_usd_per_hour: worst_hour.cache_move_cost_usd_per_hour,
        cache_move_cost_usd_per_hour_ci95: worst_hour.cache_move_cost_usd_per_hour_ci95,
        cache_move_cost_usd_per_1k_requests: worst_1k.cache_move_cost_usd_per_1k_requests,
        cache_move_cost_usd_per_1k_requests_ci95: worst_1k.cache_move_cost_usd_per_1k_requests_ci95,
        load: None,
        cost: g[0].cost,
        held_back: g[0].held_back,
        replications: g.iter().map(|p| p.replications).min().unwrap_or(0),
        reps,
    }
}

/// "reserved=1, load=0.5" -> "reserved=1".
fn setting_label(label: &str) -> String {
    label
        .split(", ")
        .filter(|part| !part.starts_with("load="))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Formats a fraction as a percentage with enough digits to tell small rates apart:
/// `0%`, `0.0123%`, `0.412%`, `3.27%`, `41.2%`.
pub fn fmt_pct(x: f64) -> String {
    let mut s = String::new();
    push_pct(&mut s, x);
    s
}

/// [`fmt_pct`], appended to `out`: a table of many points writes thousands of them, and
/// a string of its own for each (and another for its digits) was most of their cost.
pub fn push_pct(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("n/a");
        return;
    }
    let p = x * 100.0;
    if p == 0.0 {
        out.push_str("0%");
        return;
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
    let start = out.len();
    push_fixed(out, p, decimals);
    let kept = start + trim_zeros(&out[start..]).len();
    out.truncate(kept);
    out.push('%');
}

/// `n` in decimal, at least `min_digits` digits (zeros in front), with a point before the
/// last `point` of them when `point` > 0.
pub(crate) fn push_u64(out: &mut String, mut n: u64, min_digits: usize, point: usize) {
    let mut buf = [b'0'; 48];
    let mut i = buf.len();
    let mut written = 0;
    while n > 0 || written < min_digits.max(1) {
        if point > 0 && written == point {
            i -= 1;
            buf[i] = b'.';
        }
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        written += 1;
    }
    out.reserve(buf.len() - i);
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// `x` with `digits` decimals (at most 6), the same bytes as `{:.digits$}`, written in
/// place. Rust prints the exact binary value correctly rounded; `x * 10^digits` carries a
/// rounding error of at most half an ulp, so when its fraction is clear of one half by
/// more than that, the nearest integer to it is the nearest to the exact value and gives
/// the digits. Ties and near-ties, huge numbers, infinities and NaN go to the formatter.
pub(crate) fn push_fixed(out: &mut String, x: f64, digits: usize) {
    use std::fmt::Write as _;
    const POW10: [f64; 7] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6];
    if digits < POW10.len() && x.is_finite() {
        let scaled = x.abs() * POW10[digits];
        if scaled < 2f64.powi(50) {
            let whole = scaled.floor();
            // Exact (the fraction of a double is a double).
            let frac = scaled - whole;
            // Far above the multiplication's error (at most scaled * 2^-53): the exact
            // product is on the same side of one half, so its rounding is `n`.
            let margin = scaled * 2f64.powi(-48) + f64::MIN_POSITIVE;
            if (frac - 0.5).abs() > margin {
                let n = whole as u64 + u64::from(frac > 0.5);
                if x.is_sign_negative() {
                    out.push('-');
                }
                push_u64(out, n, digits + 1, digits);
                return;
            }
        }
    }
    let _ = write!(out, "{x:.digits$}");
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
        parts.push(format!("continuity failures at most {}", fmt_pct(c)));
    }
    if let Some(n) = t.new_session_rejection_rate {
        parts.push(format!("new-session rejections at most {}", fmt_pct(n)));
    }
    if let Some(c) = t.cache_move_cost_usd_per_hour {
        parts.push(format!(
            "cache-move cost at most {} USD per hour",
            fmt_usd(c)
        ));
    }
    if let Some(c) = t.cache_move_cost_usd_per_1k_requests {
        parts.push(format!(
            "cache-move cost at most {} USD per 1,000 requests",
            fmt_usd(c)
        ));
    }
    let mut s = parts.join(", ");
    if !s.is_empty() {
        s.push_str(", each with 95% confidence");
    }
    s
}

fn describe_nsr(p: &PointSummary, t: &Targets) -> String {
    let mut s = fmt_pct_ci(
        p.new_session_rejection_rate,
        p.new_session_rejection_rate_ci95,
    );
    if let Some(target) = t.new_session_rejection_rate {
        s.push_str(&verdict_words(p.new_session_verdict(t), target));
    }
    s
}

/// The set cost targets of `t` with `p`'s values: (target, mean, ci95, words).
fn cost_parts(p: &PointSummary, t: &Targets) -> Vec<(f64, f64, f64, &'static str)> {
    let mut v = Vec::new();
    if let Some(target) = t.cache_move_cost_usd_per_hour {
        v.push((
            target,
            p.cache_move_cost_usd_per_hour,
            p.cache_move_cost_usd_per_hour_ci95,
            "cache-move cost per hour",
        ));
    }
    if let Some(target) = t.cache_move_cost_usd_per_1k_requests {
        v.push((
            target,
            p.cache_move_cost_usd_per_1k_requests,
            p.cache_move_cost_usd_per_1k_requests_ci95,
            "cache-move cost per 1,000 requests",
        ));
    }
    v
}

/// `; cache-move cost per hour 1.2 ± 0.1 USD (within the 2 USD target)` for each set cost
/// target; empty when none is set.
pub fn describe_cost(p: &PointSummary, t: &Targets) -> String {
    cost_parts(p, t)
        .into_iter()
        .map(|(target, mean, ci, what)| format!("; {what} {}", describe_usd(mean, ci, target)))
        .collect()
}

fn describe_usd(mean: f64, ci: f64, target: f64) -> String {
    let ci_s = if ci.is_nan() {
        "?".to_string()
    } else {
        fmt_usd(round_sig2(ci))
    };
    let words = match verdict(mean, ci, target) {
        Verdict::Meets => "within",
        Verdict::Fails => "above",
        Verdict::Undecided => "undecided: straddles",
    };
    format!(
        "{} ± {ci_s} USD ({words} the {} USD target)",
        fmt_usd(mean),
        fmt_usd(target)
    )
}

/// A USD amount to four significant digits (`n/a` when unknown).
pub fn fmt_usd(x: f64) -> String {
    if x.is_nan() {
        "n/a".to_string()
    } else {
        format!("{}", crate::units::round_sig(x, 4))
    }
}

fn verdict_words(v: Verdict, target: f64) -> String {
    match v {
        Verdict::Meets => format!(" (within the {} target)", fmt_pct(target)),
        Verdict::Fails => format!(" (above the {} target)", fmt_pct(target)),
        Verdict::Undecided => format!(" (undecided: straddles the {} target)", fmt_pct(target)),
    }
}

fn describe_cf(p: &PointSummary, t: &Targets) -> String {
    if !p.has_bound_requests() {
        return "not measured: no bound requests (no session ever got a slot)".to_string();
    }
    let mut s = fmt_pct_ci(p.continuity_failure_rate, p.continuity_failure_rate_ci95);
    if let Some(target) = t.continuity_failure_rate {
        s.push_str(&verdict_words(p.continuity_verdict(t), target));
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

    /// A percentage as the former code wrote it: `{:.d$}` through the formatter.
    fn old_push_pct(out: &mut String, x: f64) {
        use std::fmt::Write as _;
        if x.is_nan() {
            out.push_str("n/a");
            return;
        }
        let p = x * 100.0;
        if p == 0.0 {
            out.push_str("0%");
            return;
        }
        let a = p.abs();
        let decimals = if a >= 10.0 {
            1
        } else if a >= 1.0 {
            2
        } else {
            let lead = (-a.log10()).floor() as i32;
            (lead + 3).clamp(3, 6) as usize
        };
        let start = out.len();
        let _ = write!(out, "{p:.decimals$}");
        let kept = start + trim_zeros(&out[start..]).len();
        out.truncate(kept);
        out.push('%');
    }

    /// Percentages written in place are the former code's, on rates of every size, the
    /// rounding ties and near-ties of each number of decimals, and odd values.
    #[test]
    fn percentages_are_the_former_ones() {
        let mut xs = vec![
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            1.0,
            0.5,
            0.000125,
            0.00049999,
            0.0005,
            0.123456,
            0.99995,
            1e-9,
            1e300,
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mantissa = (state >> 11) as f64 / (1u64 << 53) as f64;
            xs.push(mantissa * 10f64.powi(((state >> 3) % 12) as i32 - 10));
            // Half a unit of the last decimal shown, for 1 to 6 decimals.
            let k = (state >> 20) % 100_000;
            let d = (state % 6) as i32 + 1;
            xs.push((k as f64 + 0.5) / 10f64.powi(d) / 100.0);
        }
        let (mut new, mut old) = (String::new(), String::new());
        for x in xs.iter().flat_map(|&x| [x, -x]) {
            new.clear();
            old.clear();
            push_pct(&mut new, x);
            old_push_pct(&mut old, x);
            assert_eq!(new, old, "{x:e}");
        }
    }

    #[test]
    fn runs_of_settings_are_written_by_their_ends() {
        let list = |l: &[&str]| list_settings(l.iter().copied());
        assert_eq!(list(&[]), "");
        assert_eq!(list(&["reserved=1"]), "reserved=1");
        // Three in a row stay as they are; four or more become a run.
        assert_eq!(
            list(&["reserved=1", "reserved=2", "reserved=3", "reserved=5"]),
            "reserved=1; reserved=2; reserved=3; reserved=5"
        );
        assert_eq!(
            list(&[
                "reserved=1",
                "reserved=2",
                "reserved=3",
                "reserved=4",
                "reserved=6"
            ]),
            "reserved=1 … 4 (4 settings); reserved=6"
        );
        // A gap, a step other than one, or a fraction ends a run.
        assert_eq!(
            list(&["reserved=0", "reserved=2", "reserved=4", "reserved=6"]),
            "reserved=0; reserved=2; reserved=4; reserved=6"
        );
        assert_eq!(
            list(&["load=0.5", "load=1.5", "load=2.5", "load=3.5"]),
            "load=0.5; load=1.5; load=2.5; load=3.5"
        );
        // The other parameters must stay the same, and only one may change.
        assert_eq!(
            list(&[
                "reserved=1, accounts=4",
                "reserved=2, accounts=4",
                "reserved=3, accounts=4",
                "reserved=4, accounts=4",
                "reserved=4, accounts=5",
                "reserved=5, accounts=6",
            ]),
            "reserved=1 … 4, accounts=4 (4 settings); reserved=4, accounts=5; \
             reserved=5, accounts=6"
        );
        // A run may vary a later parameter, and two runs may follow one another.
        assert_eq!(
            list(&[
                "reserved=1, accounts=4",
                "reserved=1, accounts=5",
                "reserved=1, accounts=6",
                "reserved=1, accounts=7",
                "reserved=2, accounts=1",
                "reserved=3, accounts=1",
                "reserved=4, accounts=1",
                "reserved=5, accounts=1",
            ]),
            "reserved=1, accounts=4 … 7 (4 settings); reserved=2 … 5, accounts=1 (4 settings)"
        );
    }

    fn pt(point: usize, nsr: f64, nsr_ci: f64, cf: f64, cf_ci: f64) -> PointSummary {
        PointSummary {
            point,
            label: format!("reserved={point}"),
            new_session_rejection_rate: nsr,
            new_session_rejection_rate_ci95: nsr_ci,
            continuity_failure_rate: cf,
            continuity_failure_rate_ci95: cf_ci,
            bound_requests: 100.0,
            replications: 10,
            ..Default::default()
        }
    }

    const BOTH: Targets = Targets {
        continuity_failure_rate: Some(0.01),
        new_session_rejection_rate: Some(0.05),
        priced: false,
        ..Targets::NONE
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
            text.contains("Also meeting the targets, with significantly more"),
            "{text}"
        );
        assert!(text.contains("The answer is firm"), "{text}");
        assert!(text.contains("reserved=2"), "{text}");
    }

    #[test]
    fn a_ci_straddling_the_target_is_undecided_and_makes_the_answer_borderline() {
        // point 0: mean under the target, but the interval reaches over it
        let points = [pt(0, 0.0, 0.0, 0.009, 0.002), pt(1, 0.02, 0.0, 0.001, 0.0)];
        assert_eq!(points[0].verdict(&BOTH), Verdict::Undecided);
        let r = recommend(&points, &BOTH);
        assert_eq!(r.recommended_point(), Some(1));
        assert!(r.borderline());
        assert_eq!(r.points_to_refine(), &[0]);
        assert!(r.text().contains("Borderline: reserved=0"), "{}", r.text());
        assert!(r.headline().contains("borderline"));
        // the interval touching the target from below meets it
        let points = [pt(0, 0.0, 0.0, 0.008, 0.002), pt(1, 0.02, 0.0, 0.001, 0.0)];
        assert_eq!(recommend(&points, &BOTH).recommended_point(), Some(0));
        assert!(!recommend(&points, &BOTH).borderline());
        // wholly above: fails
        assert_eq!(pt(0, 0.0, 0.0, 0.013, 0.002).verdict(&BOTH), Verdict::Fails);
    }

    #[test]
    fn an_undecided_point_that_could_not_win_does_not_make_it_borderline() {
        // point 1 is undecided but rejects clearly more new sessions than point 0
        let points = [
            pt(0, 0.001, 0.0005, 0.002, 0.001),
            pt(1, 0.04, 0.001, 0.009, 0.002),
        ];
        let r = recommend(&points, &BOTH);
        assert_eq!(r.recommended_point(), Some(0));
        assert!(!r.borderline(), "{r:?}");
    }

    #[test]
    fn new_session_target_is_inclusive() {
        let points = [pt(0, 0.05, 0.0, 0.001, 0.0)];
        assert_eq!(recommend(&points, &BOTH).recommended_point(), Some(0));
    }

    /// Equivalent settings (paired difference within noise): the one holding back fewer
    /// slots wins, even with a slightly higher mean.
    #[test]
    fn equivalents_are_chosen_by_capacity_held_back() {
        let mut a = pt(0, 0.0002, 0.0002, 0.004, 0.001);
        a.held_back = 8.0;
        a.reps.new_session_rejection_rate = vec![0.0, 0.0004, 0.0002, 0.0];
        let mut b = pt(1, 0.00025, 0.0002, 0.003, 0.001);
        b.held_back = 0.0;
        b.reps.new_session_rejection_rate = vec![0.0001, 0.0004, 0.0002, 0.0001];
        let r = recommend(&[a, b], &BOTH);
        assert_eq!(r.recommended_point(), Some(1));
        let text = r.text();
        assert!(text.contains("Equivalent within noise"), "{text}");
        assert!(!text.contains("higher cost"), "{text}");
    }

    /// The cheapest point that meets the targets wins over one with fewer rejections.
    #[test]
    fn cheapest_meeting_point_wins() {
        let mut small = pt(0, 0.04, 0.001, 0.005, 0.001);
        small.cost = 84.0;
        let mut big = pt(1, 0.0, 0.0, 0.002, 0.001);
        big.cost = 120.0;
        let mut too_small = pt(2, 0.2, 0.01, 0.05, 0.002);
        too_small.cost = 72.0;
        let r = recommend(&[small, big, too_small], &BOTH);
        assert_eq!(r.recommended_point(), Some(0));
        let text = r.text();
        assert!(
            text.contains("cheapest setting that meets them (84 slots)"),
            "{text}"
        );
        assert!(text.contains("reserved=1 (120 slots)"), "{text}");
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
            priced: false,
            ..Targets::NONE
        };
        let points = [pt(0, 0.0, 0.0, 0.05, 0.0), pt(1, 0.5, 0.0, 0.001, 0.0)];
        assert_eq!(recommend(&points, &t).recommended_point(), Some(1));
        let t = Targets {
            continuity_failure_rate: None,
            new_session_rejection_rate: Some(0.01),
            priced: false,
            ..Targets::NONE
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
            priced: false,
            ..Targets::NONE
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
            priced: false,
            ..Targets::NONE
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

    fn with_cost(mut p: PointSummary, per_hour: f64, ci: f64) -> PointSummary {
        p.cache_move_cost_usd_per_hour = per_hour;
        p.cache_move_cost_usd_per_hour_ci95 = ci;
        p
    }

    /// A cost target is judged like the rate targets: meets when the interval's upper end is
    /// at or under it, fails when its lower end is above, undecided in between; an
    /// undecided cheaper point makes the answer borderline and is named for refinement.
    #[test]
    fn cost_target_uses_the_confidence_rule() {
        let t = Targets {
            cache_move_cost_usd_per_hour: Some(10.0),
            ..BOTH
        };
        let ok = pt(0, 0.01, 0.001, 0.001, 0.0001);
        assert_eq!(with_cost(ok.clone(), 8.0, 2.0).verdict(&t), Verdict::Meets);
        assert_eq!(with_cost(ok.clone(), 13.0, 2.0).verdict(&t), Verdict::Fails);
        assert_eq!(
            with_cost(ok.clone(), 9.0, 2.0).verdict(&t),
            Verdict::Undecided
        );
        // unset: the cost does not matter
        assert_eq!(
            with_cost(ok.clone(), 1e9, 0.0).verdict(&BOTH),
            Verdict::Meets
        );
        // unknown cost (NaN mean) fails a set cost target
        assert_eq!(
            with_cost(ok.clone(), f64::NAN, 0.0).verdict(&t),
            Verdict::Fails
        );

        let points = [
            with_cost(pt(0, 0.01, 0.001, 0.001, 0.0001), 9.0, 2.0), // undecided, fewer rejections
            with_cost(pt(1, 0.03, 0.001, 0.001, 0.0001), 4.0, 1.0), // meets
        ];
        let r = recommend(&points, &t);
        assert_eq!(r.recommended_point(), Some(1));
        assert!(r.borderline());
        assert_eq!(r.points_to_refine(), &[0]);
        let text = r.text();
        assert!(
            text.contains("cache-move cost per hour 9 ± 2 USD (undecided"),
            "{text}"
        );
        assert!(text.contains("cost at most 10 USD per hour"), "{text}");

        // none meets: the excess over the cost target counts in the closest-setting distance
        let t1k = Targets {
            cache_move_cost_usd_per_1k_requests: Some(1.0),
            ..Targets::NONE
        };
        let mut a = pt(0, 0.0, 0.0, 0.0, 0.0);
        a.cache_move_cost_usd_per_1k_requests = 3.0; // shortfall 2
        let mut b = pt(1, 0.0, 0.0, 0.0, 0.0);
        b.cache_move_cost_usd_per_1k_requests = 1.5; // shortfall 0.5
        match recommend(&[a, b], &t1k) {
            Recommendation::NoneMeets {
                closest, shortfall, ..
            } => {
                assert_eq!(closest.point, 1);
                assert!((shortfall - 0.5).abs() < 1e-12);
            }
            other => panic!("{other:?}"),
        }
    }

    /// With a load sweep, a cost target is judged at every load and the setting carries the
    /// cost of the load whose interval reaches highest.
    #[test]
    fn cost_target_with_a_load_sweep_uses_the_worst_load() {
        let t = Targets {
            cache_move_cost_usd_per_hour: Some(10.0),
            ..Targets::NONE
        };
        let at = |point: usize, r: u32, load: f64, cost: f64| PointSummary {
            label: format!("reserved={r}, load={load}"),
            load: Some(load),
            ..with_cost(pt(point, 0.01, 0.001, 0.001, 0.0001), cost, 1.0)
        };
        let points = [
            at(0, 0, 0.5, 4.0),
            at(1, 0, 1.0, 12.0), // R=0 fails the cost target at full load
            at(2, 1, 0.5, 2.0),
            at(3, 1, 1.0, 6.0),
        ];
        match recommend(&points, &t) {
            Recommendation::Recommended { best, .. } => {
                assert!(
                    best.label.starts_with("reserved=1 (worst case"),
                    "{}",
                    best.label
                );
                assert_eq!(best.cache_move_cost_usd_per_hour, 6.0);
            }
            other => panic!("{other:?}"),
        }
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

    /// The in-place fixed-decimals writer gives `{:.d$}`'s bytes: ties and near-ties of
    /// the rounding, signs (negative zero too), tiny, huge and non-finite numbers.
    #[test]
    fn fixed_decimals_are_the_formatters() {
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            0.125,
            0.375,
            1.005,
            2.675,
            0.045,
            1.0 / 3.0,
            2.0 / 3.0,
            99.995,
            99.9949999,
            999.5,
            1e-300,
            5e-324,
            1e15,
            1.125e15,
            4.5e15,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0049999999999999,
            0.005,
            0.0050000000000001,
        ];
        // Numbers of every size, and k / 10^d + half a unit (the near-ties) as computed.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mantissa = (state >> 11) as f64 / (1u64 << 53) as f64;
            let exp = ((state >> 3) % 40) as i32 - 20;
            xs.push(mantissa * 10f64.powi(exp));
            let k = (state >> 20) % 100_000;
            let d = (state % 4) as i32;
            xs.push((k as f64 + 0.5) / 10f64.powi(d));
            xs.push(100.0 * ((k as f64 + 0.5) / 10f64.powi(d + 2)));
        }
        let mut out = String::new();
        for x in xs.iter().flat_map(|&x| [x, -x]) {
            for digits in 0..=6 {
                out.clear();
                out.push_str("ab");
                push_fixed(&mut out, x, digits);
                assert_eq!(&out[2..], format!("{x:.digits$}"), "{x:e} to {digits}");
            }
        }
    }
}
