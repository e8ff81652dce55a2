//! `slotsim plan`: the smallest pool, or the largest load, for which some reserved value
//! meets every target. docs/decisions.md states the search rules.
//!
//! Each candidate (an account count of one pool, or a load multiplier) is evaluated by
//! running the scenario at that candidate for every reserved value to try, in parallel,
//! with the same seed (common random numbers: replication k of every candidate uses the
//! same streams) and the decision rounds of `run`; the candidate is *feasible* when the
//! recommendation among its reserved values meets the targets. Feasibility is assumed
//! monotone (more accounts, or less load, never hurts), so the search bisects, then checks
//! the neighbours of the answer.

use crate::recommend::{PointSummary, Recommendation};
use crate::runner::{self, Progress, RunError, RunSettings};
use crate::scenario::{Param, Scenario};
use std::collections::BTreeMap;

/// What is searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// The smallest number of accounts of `[plan] pool`.
    Accounts,
    /// The largest multiplier of the arrival rate.
    Load,
}

impl Search {
    pub fn name(self) -> &'static str {
        match self {
            Search::Accounts => "accounts",
            Search::Load => "load",
        }
    }
}

/// One evaluated candidate: every reserved value tried there.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Accounts of the searched pool (the scenario's when searching load).
    pub accounts: u32,
    /// Load multiplier (1 when searching accounts).
    pub load: f64,
    /// One summary per reserved value, in `[plan] reserved` order.
    pub points: Vec<(i64, PointSummary)>,
    /// The recommendation among the reserved values.
    pub recommendation: Recommendation,
    /// Events simulated to evaluate it (every reserved value and replication).
    pub events: u64,
    /// Wall time of its simulation, seconds (as `wall_time_s` of a run).
    pub wall_time_s: f64,
}

impl Candidate {
    /// Some reserved value meets every target.
    pub fn feasible(&self) -> bool {
        self.recommendation.recommended_point().is_some()
    }

    /// The reserved value recommended (feasible) or closest to the targets.
    pub fn best_reserved(&self) -> Option<i64> {
        let p = self.recommendation.featured_point()?;
        self.points.get(p).map(|(r, _)| *r)
    }

    /// The summary of the recommended (or closest) reserved value.
    pub fn best(&self) -> Option<&PointSummary> {
        let p = self.recommendation.featured_point()?;
        self.points.get(p).map(|(_, s)| s)
    }

    /// The searched coordinate: accounts or load.
    pub fn x(&self, search: Search) -> f64 {
        match search {
            Search::Accounts => self.accounts as f64,
            Search::Load => self.load,
        }
    }
}

/// The outcome of a plan.
#[derive(Debug, Clone)]
pub struct PlanOutcome {
    pub search: Search,
    /// The searched pool's name.
    pub pool: String,
    /// Every candidate evaluated, in increasing order of the searched coordinate.
    pub candidates: Vec<Candidate>,
    /// Index into `candidates` of the answer: the smallest feasible account count, or the
    /// largest feasible load. None when no candidate in the range is feasible.
    pub answer: Option<usize>,
    /// Candidates in the whole searched range (what an exhaustive grid would evaluate).
    pub grid_size: usize,
    /// Remarks: a non-monotone neighbour, a borderline candidate, the range edge.
    pub notes: Vec<String>,
}

impl PlanOutcome {
    /// What the search simulated: events and wall time of simulation, summed over the
    /// candidates it evaluated.
    pub fn simulated(&self) -> (u64, f64) {
        self.candidates
            .iter()
            .fold((0, 0.0), |(e, t), c| (e + c.events, t + c.wall_time_s))
    }
}

/// Runs the search. `progress` counts replications across candidates.
pub fn plan(
    s: &Scenario,
    search: Search,
    settings: &RunSettings,
    progress: Progress,
) -> Result<PlanOutcome, RunError> {
    let cfg = &s.plan;
    let pool = s.pools[cfg.pool].name.clone();
    let mut cache: BTreeMap<usize, Candidate> = BTreeMap::new();
    // Grid index -> candidate coordinate.
    type Coord = Box<dyn Fn(usize) -> (u32, f64)>;
    let (n, coord): (usize, Coord) = match search {
        Search::Accounts => {
            let lo = cfg.min_accounts;
            (
                (cfg.max_accounts - lo + 1) as usize,
                Box::new(move |i| (lo + i as u32, 1.0)),
            )
        }
        Search::Load => {
            let k = (cfg.max_load / cfg.load_step + 1e-9).floor().max(1.0) as usize;
            let step = cfg.load_step;
            let accounts = s.pools[cfg.pool].accounts;
            (
                k,
                Box::new(move |i| (accounts, crate::units::round_sig(step * (i + 1) as f64, 12))),
            )
        }
    };
    let eval_in = |cache: &mut BTreeMap<usize, Candidate>, i: usize| -> Result<bool, RunError> {
        if let Some(c) = cache.get(&i) {
            return Ok(c.feasible());
        }
        let (accounts, load) = coord(i);
        let c = evaluate(s, search, accounts, load, settings, progress)?;
        let f = c.feasible();
        cache.insert(i, c);
        Ok(f)
    };
    macro_rules! eval {
        ($i:expr) => {
            eval_in(&mut cache, $i)
        };
    }
    // Accounts: feasibility grows with the index; load: it shrinks.
    let mut notes = Vec::new();
    let answer = match search {
        Search::Accounts => {
            if !eval!(n - 1)? {
                None
            } else if eval!(0)? {
                Some(0)
            } else {
                let (mut bad, mut good) = (0usize, n - 1);
                while good - bad > 1 {
                    let mid = bad + (good - bad) / 2;
                    if eval!(mid)? {
                        good = mid;
                    } else {
                        bad = mid;
                    }
                }
                Some(good)
            }
        }
        Search::Load => {
            if !eval!(0)? {
                None
            } else if eval!(n - 1)? {
                Some(n - 1)
            } else {
                let (mut good, mut bad) = (0usize, n - 1);
                while bad - good > 1 {
                    let mid = good + (bad - good) / 2;
                    if eval!(mid)? {
                        good = mid;
                    } else {
                        bad = mid;
                    }
                }
                Some(good)
            }
        }
    };
    // Verify the neighbours of the answer: the one on the infeasible side must fail and
    // the one on the feasible side must pass, or monotonicity did not hold here.
    if let Some(a) = answer {
        let (worse, better) = match search {
            Search::Accounts => (a.checked_sub(1), (a + 1 < n).then_some(a + 1)),
            Search::Load => ((a + 1 < n).then_some(a + 1), a.checked_sub(1)),
        };
        if let Some(w) = worse {
            if eval!(w)? {
                notes.push(format!(
                    "not monotone: {} is feasible although the search passed it; the answer is the edge bisection found",
                    describe(search, &cache[&w], &pool)
                ));
            }
        }
        if let Some(b) = better {
            if !eval!(b)? {
                notes.push(format!(
                    "not monotone: {} is not feasible although the answer {} is; treat the answer as fragile",
                    describe(search, &cache[&b], &pool),
                    describe(search, &cache[&a], &pool)
                ));
            }
        }
        let edge = match search {
            Search::Accounts => a == 0,
            Search::Load => a == n - 1,
        };
        if edge {
            notes.push(match search {
                Search::Accounts => format!(
                    "the answer is the smallest account count searched ({}); fewer might do (lower {})",
                    cfg.min_accounts,
                    if cfg.accounts_by_flag {
                        "the MIN of --accounts"
                    } else {
                        "plan.min_accounts"
                    }
                ),
                Search::Load => format!(
                    "the answer is the largest load searched ({}); more might do (raise {})",
                    cfg.max_load,
                    if cfg.max_load_by_flag {
                        "--load-limit"
                    } else {
                        "plan.max_load"
                    }
                ),
            });
        }
    }
    for c in cache.values() {
        if c.recommendation.borderline() {
            notes.push(format!(
                "{} is borderline: an undecided reserved value could change whether it is feasible",
                describe(search, c, &pool)
            ));
        }
    }
    let keys: Vec<usize> = cache.keys().copied().collect();
    let answer = answer.map(|a| keys.iter().position(|k| *k == a).expect("answer evaluated"));
    Ok(PlanOutcome {
        search,
        pool,
        candidates: cache.into_values().collect(),
        answer,
        grid_size: n,
        notes,
    })
}

fn describe(search: Search, c: &Candidate, pool: &str) -> String {
    match search {
        Search::Accounts => format!("{} accounts of pool {pool:?}", c.accounts),
        Search::Load => format!("load x{}", c.load),
    }
}

/// The scenario at one candidate, with `[plan] reserved` as its sweep.
pub fn candidate_scenario(s: &Scenario, search: Search, accounts: u32, load: f64) -> Scenario {
    let mut c = s.clone();
    c.pools[s.plan.pool].accounts = accounts;
    let reserved: Vec<f64> = s.plan.reserved.iter().map(|&r| r as f64).collect();
    c.sweep.params = vec![(Param::Reserved, reserved)];
    if search == Search::Load {
        c.sweep.params.push((Param::Load, vec![load]));
    }
    c.sweep.baseline = 0;
    c
}

/// Evaluates one candidate: every reserved value, in parallel, with decision rounds.
pub fn evaluate(
    s: &Scenario,
    search: Search,
    accounts: u32,
    load: f64,
    settings: &RunSettings,
    progress: Progress,
) -> Result<Candidate, RunError> {
    let c = candidate_scenario(s, search, accounts, load);
    // Only the summaries decide a candidate: no per-minute series are recorded.
    let result = runner::run_recording(&c, settings, runner::Record::Summaries, progress)?;
    let summaries = runner::point_summaries(&c, &result.points);
    let recommendation = runner::recommendation(&c, &result.points);
    Ok(Candidate {
        accounts,
        load,
        points: s.plan.reserved.iter().copied().zip(summaries).collect(),
        recommendation,
        events: result.events,
        wall_time_s: result.wall_time_s,
    })
}

/// `plan.csv`: one row per (candidate, reserved value) evaluated.
pub fn plan_csv(o: &PlanOutcome, s: &Scenario) -> Vec<u8> {
    let t = runner::recommend_targets(s);
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "search",
        "pool",
        "accounts",
        "load",
        "reserved",
        "slots",
        "cost",
        "replications",
        "new_session_rejection_rate",
        "new_session_rejection_rate_ci95",
        "continuity_failure_rate",
        "continuity_failure_rate_ci95",
        "verdict",
        "candidate_feasible",
        "best",
        "answer",
    ];
    w.write_record(header)
        .expect("writing CSV to memory cannot fail");
    let num = |x: f64| {
        if x.is_finite() {
            format!("{x}")
        } else {
            String::new()
        }
    };
    for (ci, c) in o.candidates.iter().enumerate() {
        let best = c.recommendation.featured_point();
        let slots = {
            let cs = candidate_scenario(s, o.search, c.accounts, c.load);
            cs.model_at(&cs.sweep.points()[0]).cost(None).slots
        };
        for (i, (r, p)) in c.points.iter().enumerate() {
            let row = vec![
                o.search.name().to_string(),
                o.pool.clone(),
                c.accounts.to_string(),
                num(c.load),
                r.to_string(),
                slots.to_string(),
                num(p.cost),
                p.replications.to_string(),
                num(p.new_session_rejection_rate),
                num(p.new_session_rejection_rate_ci95),
                num(p.continuity_failure_rate),
                num(p.continuity_failure_rate_ci95),
                p.verdict(&t).word().to_string(),
                c.feasible().to_string(),
                (best == Some(i)).to_string(),
                (o.answer == Some(ci) && best == Some(i)).to_string(),
            ];
            w.write_record(&row)
                .expect("writing CSV to memory cannot fail");
        }
    }
    w.into_inner().expect("flushing CSV to memory cannot fail")
}

/// The short answer for the terminal and the report.
pub fn answer_text(o: &PlanOutcome, s: &Scenario) -> String {
    let t = runner::recommend_targets(s);
    let targets = crate::recommend::describe_targets(&t);
    let evidence = |c: &Candidate| -> String {
        match (c.best_reserved(), c.best()) {
            (Some(r), Some(p)) => format!(
                "reserved={r}: new-session rejections {}, continuity failures {}{} ({} replications)",
                crate::recommend::fmt_pct_ci(
                    p.new_session_rejection_rate,
                    p.new_session_rejection_rate_ci95
                ),
                crate::recommend::fmt_pct_ci(
                    p.continuity_failure_rate,
                    p.continuity_failure_rate_ci95
                ),
                crate::recommend::describe_cost(p, &t),
                p.replications
            ),
            _ => "no reserved value evaluated".to_string(),
        }
    };
    let mut text = match (o.search, o.answer) {
        (Search::Accounts, Some(a)) => {
            let c = &o.candidates[a];
            let mut t = format!(
                "Smallest pool: {} accounts of pool {:?} meet the targets ({targets}) with reserved={}. Evidence: {}.",
                c.accounts,
                o.pool,
                c.best_reserved().unwrap_or(0),
                evidence(c)
            );
            if let Some(prev) = o.candidates.iter().find(|p| p.accounts + 1 == c.accounts) {
                t.push_str(&format!(
                    " With {} accounts no reserved value meets them; the closest is {}.",
                    prev.accounts,
                    evidence(prev)
                ));
            }
            t
        }
        (Search::Accounts, None) => {
            let top = o
                .candidates
                .last()
                .expect("the largest candidate is evaluated");
            format!(
                "Unreachable in the searched range: even {} accounts of pool {:?} ({}) meet no target set ({targets}) with any reserved value tried; the closest there is {}. More accounts than that, or a lower load, would be needed.",
                top.accounts,
                o.pool,
                if s.plan.accounts_by_flag {
                    "the MAX of --accounts"
                } else {
                    "plan.max_accounts"
                },
                evidence(top)
            )
        }
        (Search::Load, Some(a)) => {
            let c = &o.candidates[a];
            let mut t = format!(
                "Largest load: x{} the scenario's arrival rate meets the targets ({targets}) with reserved={}. Evidence: {}.",
                c.load,
                c.best_reserved().unwrap_or(0),
                evidence(c)
            );
            if let Some(next) = o.candidates.iter().find(|p| p.load > c.load) {
                t.push_str(&format!(
                    " At x{} no reserved value meets them; the closest is {}.",
                    next.load,
                    evidence(next)
                ));
            }
            t
        }
        (Search::Load, None) => {
            let low = o
                .candidates
                .first()
                .expect("the smallest load is evaluated");
            format!(
                "Unreachable: even x{} the scenario's arrival rate (the smallest load step) meets no target set ({targets}); the closest there is {}. More accounts are needed (try slotsim plan without --max-load).",
                low.load,
                evidence(low)
            )
        }
    };
    text.push_str(&format!(
        " Evaluated {} of {} candidates (bisection, neighbours of the answer checked), each with every reserved value in {:?}.",
        o.candidates.len(),
        o.grid_size,
        s.plan.reserved
    ));
    if o.search == Search::Load {
        let steps: Vec<String> = o
            .candidates
            .iter()
            .map(|c| {
                format!(
                    "x{}: {}",
                    c.load,
                    match (c.feasible(), c.best_reserved()) {
                        (true, Some(r)) => format!("reserved={r}"),
                        _ => "none meets".to_string(),
                    }
                )
            })
            .collect();
        text.push_str(&format!(
            " Best reserved per load step evaluated: {}.",
            steps.join("; ")
        ));
    }
    for n in &o.notes {
        text.push_str(&format!(" Note: {n}."));
    }
    text
}
