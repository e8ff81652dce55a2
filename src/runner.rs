//! Runs a scenario's sweep: every point, every replication, in parallel with rayon.
//!
//! Results never depend on the number of threads: each replication is a pure function of
//! (scenario, point, replication index), results are gathered in index order, and the only
//! cross-replication merge (wait-time histograms) adds integer counts.

use crate::engine::{replication_seed, simulate_watched, Counts, MinuteBin, Stopped, Watch};
use crate::recommend::{self, PointSummary, Recommendation, Replicated};
use crate::scenario::{Param, Point, Scenario};
use crate::stats::{metric_index, mser5, rep_metrics, Estimate, Mser5, HEADLINE, METRICS};
use hdrhistogram::Histogram;
use rayon::prelude::*;
use std::time::Instant;

/// Absolute CI half-width that satisfies a precision target for rate metrics near 0.
pub const PRECISION_ABS_FLOOR: f64 = 0.001;

/// How to run (never what is computed, except `common_random_numbers`).
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Worker threads; None = all cores.
    pub threads: Option<usize>,
    /// Share every replication's random streams across sweep points (the default). Off,
    /// each point draws independent streams; for measuring what sharing buys.
    pub common_random_numbers: bool,
    /// The watchdog's limits for every replication (and the interrupt flag).
    pub watch: Watch,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            threads: None,
            common_random_numbers: true,
            watch: Watch::default(),
        }
    }
}

/// One replication's raw counts and metrics.
#[derive(Debug, Clone)]
pub struct RepRecord {
    pub replication: u32,
    pub seed: u64,
    pub counts: Counts,
    /// In [`METRICS`] order.
    pub metrics: [f64; METRICS.len()],
    pub events: u64,
}

/// Everything measured at one sweep point.
#[derive(Debug, Clone)]
pub struct PointResult {
    pub point: Point,
    pub total_slots: u64,
    pub reps: Vec<RepRecord>,
    /// Slot waits of all replications pooled, microseconds.
    pub wait_hist: WaitBins,
    /// Per-minute series of replication 0.
    pub timeseries: Vec<MinuteBin>,
    /// With a precision target: whether every headline metric met it.
    pub precision_met: Option<bool>,
    /// MSER-5 on busy slots per minute, averaged over replications (None if too short).
    pub mser5: Option<Mser5>,
    /// Busy slot-microseconds per minute, summed over replications (for MSER-5).
    pub busy_by_minute: Vec<u128>,
}

impl PointResult {
    /// Mean and CI of metric `name` across this point's replications.
    pub fn estimate(&self, name: &str) -> Estimate {
        let i = metric_index(name).expect("known metric name");
        Estimate::of_values(self.reps.iter().map(|r| r.metrics[i]))
    }
}

#[derive(Debug, Clone)]
pub struct RunResult {
    pub points: Vec<PointResult>,
    pub events: u64,
    pub threads: usize,
    pub wall_time_s: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot start {threads} worker threads: {reason}")]
    Threads { threads: usize, reason: String },
    #[error("merging wait-time histograms failed: {0}")]
    Histogram(String),
    #[error("trace replay: {0} (the file changed after the scenario was checked)")]
    Trace(String),
    /// The watchdog stopped a replication; nothing of the run is kept.
    #[error("{point}, replication {replication}: {why}")]
    Stopped {
        point: String,
        replication: u32,
        why: Stopped,
    },
}

impl RunError {
    /// Whether the run was interrupted by the user (Ctrl-C).
    pub fn interrupted(&self) -> bool {
        matches!(
            self,
            RunError::Stopped {
                why: Stopped::Interrupted,
                ..
            }
        )
    }
}

/// Called after each finished replication with the number done so far.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// A pool of `settings.threads` threads (every core when unset), and its size.
pub(crate) fn thread_pool(settings: &RunSettings) -> Result<(rayon::ThreadPool, usize), RunError> {
    let threads = settings
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| RunError::Threads {
            threads,
            reason: e.to_string(),
        })?;
    Ok((pool, threads))
}

/// What each replication records besides its counts and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// Everything `run` writes: the per-minute series (replication 0's for
    /// timeseries.csv, every replication's busy slots for MSER-5) as well.
    Everything,
    /// Only what the recommendation weighs: no per-minute series, so no MSER-5 either.
    /// For searches (`plan`, the quick account search of `run`) whose candidates are
    /// never written as a run.
    Summaries,
}

/// Runs every point of the scenario's sweep.
pub fn run(
    scenario: &Scenario,
    settings: &RunSettings,
    progress: Progress,
) -> Result<RunResult, RunError> {
    run_recording(scenario, settings, Record::Everything, progress)
}

/// [`run`], recording only what `record` says. Counts, metrics and wait times (and so
/// every summary and the recommendation) are the same either way.
pub fn run_recording(
    scenario: &Scenario,
    settings: &RunSettings,
    record: Record,
    progress: Progress,
) -> Result<RunResult, RunError> {
    let (pool, threads) = thread_pool(settings)?;
    let started = Instant::now();
    let done = std::sync::atomic::AtomicU64::new(0);
    let tick = || progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
    let points = scenario.sweep.points();
    let results: Result<Vec<PointResult>, RunError> = pool.install(|| {
        points
            .par_iter()
            .map(|p| run_point(scenario, p, settings, record, &tick))
            .collect()
    });
    let mut points = results?;
    pool.install(|| decision_rounds(scenario, &mut points, settings, record, &tick))?;
    let events = points.iter().flat_map(|p| &p.reps).map(|r| r.events).sum();
    Ok(RunResult {
        points,
        events,
        threads,
        wall_time_s: started.elapsed().as_secs_f64(),
    })
}

/// Some replications of every point, unfinished: what one shard of a sweep holds.
#[derive(Debug, Clone)]
pub struct PartialRun {
    /// One per sweep point, in point order.
    pub points: Vec<PointPartial>,
    pub events: u64,
    pub threads: usize,
    pub wall_time_s: f64,
}

/// Runs replications `reps[i]` of sweep point i, for every point, with a fixed
/// replication count: no precision or decision rounds, which need every replication of a
/// point (see [`Scenario::adaptive_replications`]).
pub fn run_partial(
    scenario: &Scenario,
    settings: &RunSettings,
    reps: &[std::ops::Range<u32>],
    progress: Progress,
) -> Result<PartialRun, RunError> {
    let (pool, threads) = thread_pool(settings)?;
    let started = Instant::now();
    let done = std::sync::atomic::AtomicU64::new(0);
    let tick = || progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
    let points = scenario.sweep.points();
    assert_eq!(points.len(), reps.len(), "one replication range per point");
    let results: Result<Vec<PointPartial>, RunError> = pool.install(|| {
        points
            .par_iter()
            .zip(reps)
            .map(|(p, r)| {
                run_replications(scenario, p, settings, Record::Everything, r.clone(), &tick)
            })
            .collect()
    });
    let points = results?;
    let events = points.iter().flat_map(|p| &p.reps).map(|r| r.events).sum();
    Ok(PartialRun {
        points,
        events,
        threads,
        wall_time_s: started.elapsed().as_secs_f64(),
    })
}

/// All replications of every point, from partial results (shards), joined in the given
/// order: the same results `run` gives when it adds no replications in rounds.
pub fn join_partials(
    scenario: &Scenario,
    parts: Vec<Vec<PointPartial>>,
) -> Result<Vec<PointResult>, RunError> {
    let mut points = scenario
        .sweep
        .points()
        .iter()
        .map(|p| empty_point(scenario, p))
        .collect::<Result<Vec<_>, _>>()?;
    for part in parts {
        for (result, partial) in points.iter_mut().zip(part) {
            result.absorb(partial)?;
        }
    }
    for p in &mut points {
        p.update_mser5(scenario);
    }
    Ok(points)
}

fn empty_point(scenario: &Scenario, point: &Point) -> Result<PointResult, RunError> {
    let model = scenario.model_at(point);
    Ok(PointResult {
        point: point.clone(),
        total_slots: model.cost(None).slots,
        reps: Vec::new(),
        wait_hist: WaitBins::default(),
        timeseries: Vec::new(),
        precision_met: None,
        mser5: None,
        busy_by_minute: Vec::new(),
    })
}

/// Slot waits pooled over replications, in microseconds, in the compact form a point
/// keeps: every non-empty bin of a histogram of 3 significant digits as (the highest value
/// of the bin, its count), in increasing order of value. The histogram itself holds a
/// count for every possible bin up to its largest value (tens of KB), so a sweep of many
/// points keeps these instead; [`WaitBins::histogram`] rebuilds the same bins exactly, so
/// every quantile is the histogram's, bit for bit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaitBins(Vec<(u64, u64)>);

impl WaitBins {
    /// The non-empty bins of `h`.
    pub fn of(h: &Histogram<u64>) -> WaitBins {
        WaitBins(
            h.iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect(),
        )
    }

    /// (highest value of a bin, count) of every non-empty bin, in increasing value.
    pub fn bins(&self) -> &[(u64, u64)] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds `other`'s counts, bin by bin: what adding the histograms does (a bin's
    /// highest value names it).
    pub fn add(&mut self, other: &WaitBins) -> Result<(), RunError> {
        if other.0.is_empty() {
            return Ok(());
        }
        let (a, b) = (std::mem::take(&mut self.0), &other.0);
        let mut out = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            let next = match (a.get(i), b.get(j)) {
                (Some(&x), Some(&y)) if x.0 == y.0 => {
                    i += 1;
                    j += 1;
                    let n = x.1.checked_add(y.1).ok_or_else(|| {
                        RunError::Histogram("a wait-time count overflowed".into())
                    })?;
                    (x.0, n)
                }
                (Some(&x), Some(&y)) if x.0 < y.0 => {
                    i += 1;
                    x
                }
                (Some(&x), None) => {
                    i += 1;
                    x
                }
                (_, Some(&y)) => {
                    j += 1;
                    y
                }
                (None, None) => unreachable!("the loop ends when both are done"),
            };
            out.push(next);
        }
        self.0 = out;
        Ok(())
    }

    /// The values at `quantiles` (increasing), exactly as `value_at_quantiles` of
    /// [`WaitBins::histogram`] gives them, without building it: a bin's value is the
    /// highest of its range, which the histogram returns for a quantile above 0, and the
    /// lowest of that range for 0. A histogram holds a count for every bin up to its largest
    /// value, so building one per point of a large sweep was most of writing the waits.
    /// 0 for every quantile when there are no bins (an empty histogram's answer).
    pub fn values_at_quantiles(&self, quantiles: &[f64]) -> Vec<u64> {
        debug_assert!(quantiles.windows(2).all(|w| w[0] <= w[1]));
        if self.0.is_empty() {
            return vec![0; quantiles.len()];
        }
        // Only the bucket arithmetic of a 3-digit histogram is used (it holds no counts),
        // made once: a new one zeroes its counts, and a large sweep asks once per point.
        static SHAPE: std::sync::OnceLock<Histogram<u64>> = std::sync::OnceLock::new();
        let shape = SHAPE.get_or_init(|| Histogram::new(3).expect("valid precision"));
        // The histogram's own total: counts added with saturation.
        let total = self.0.iter().fold(0u64, |t, &(_, n)| t.saturating_add(n));
        let (mut reached, mut next, mut value) = (0u64, 0, 0);
        quantiles
            .iter()
            .map(|&q| {
                let target = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
                while reached < target {
                    let Some(&(v, n)) = self.0.get(next) else {
                        break;
                    };
                    reached = reached.saturating_add(n);
                    value = v;
                    next += 1;
                }
                if q == 0.0 {
                    shape.lowest_equivalent(value)
                } else {
                    value
                }
            })
            .collect()
    }

    /// The histogram of these bins (3 significant digits), for its quantiles.
    pub fn histogram(&self) -> Result<Histogram<u64>, RunError> {
        let mut h = Histogram::new(3).map_err(|e| RunError::Histogram(e.to_string()))?;
        for &(v, n) in &self.0 {
            h.record_n(v, n)
                .map_err(|e| RunError::Histogram(format!("{e:?}")))?;
        }
        Ok(h)
    }
}

/// The raw results of some replications of one point: what one batch, or one shard,
/// produces, and what [`PointResult::absorb`] adds. Everything in it is an exact
/// per-replication value or an integer sum, so joining partials in any grouping gives the
/// same bits as running all replications at once.
#[derive(Debug, Clone)]
pub struct PointPartial {
    /// Sorted by replication index.
    pub reps: Vec<RepRecord>,
    /// Slot waits of these replications pooled, microseconds.
    pub wait_hist: WaitBins,
    /// Busy slot-microseconds per minute, summed over these replications (for MSER-5).
    pub busy_by_minute: Vec<u128>,
    /// Per-minute series of replication 0, when these replications include it.
    pub timeseries: Option<Vec<MinuteBin>>,
}

impl PointPartial {
    pub fn empty() -> Result<PointPartial, RunError> {
        Ok(PointPartial {
            reps: Vec::new(),
            wait_hist: WaitBins::default(),
            busy_by_minute: Vec::new(),
            timeseries: None,
        })
    }
}

fn add_minutes(sum: &mut Vec<u128>, add: &[u128]) {
    if sum.len() < add.len() {
        sum.resize(add.len(), 0);
    }
    for (s, a) in sum.iter_mut().zip(add) {
        *s += a;
    }
}

impl PointResult {
    /// Adds `partial`'s replications (none of which may already be here), keeping them in
    /// replication order. MSER-5 is left for [`PointResult::update_mser5`].
    pub fn absorb(&mut self, partial: PointPartial) -> Result<(), RunError> {
        self.wait_hist.add(&partial.wait_hist)?;
        add_minutes(&mut self.busy_by_minute, &partial.busy_by_minute);
        if let Some(ts) = partial.timeseries {
            self.timeseries = ts;
        }
        self.reps.extend(partial.reps);
        self.reps.sort_by_key(|r| r.replication);
        Ok(())
    }

    /// MSER-5 on the mean busy slots per whole minute over this point's replications.
    pub fn update_mser5(&mut self, scenario: &Scenario) {
        // Whole minutes only: the last partial minute would look like a drop in load.
        let whole = (scenario.model_at(&self.point).horizon / 60_000_000) as usize;
        let n = self.reps.len().max(1) as f64;
        let series: Vec<f64> = self.busy_by_minute[..whole.min(self.busy_by_minute.len())]
            .iter()
            .map(|&b| b as f64 / 60e6 / n)
            .collect();
        self.mser5 = mser5(&series);
    }
}

fn base_seed(scenario: &Scenario, point: &Point, settings: &RunSettings) -> u64 {
    if settings.common_random_numbers {
        scenario.seed
    } else {
        scenario.seed ^ (point.index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

fn run_point(
    scenario: &Scenario,
    point: &Point,
    settings: &RunSettings,
    record: Record,
    tick: &(dyn Fn() + Sync),
) -> Result<PointResult, RunError> {
    let mut result = empty_point(scenario, point)?;
    let mut target = scenario.replications;
    loop {
        extend_point(scenario, &mut result, target, settings, record, tick)?;
        let met = scenario
            .precision
            .map(|rel| precision_met(&result.reps, rel));
        result.precision_met = met;
        if met != Some(false) || target >= scenario.max_replications {
            return Ok(result);
        }
        target = next_replication_target(target, scenario.max_replications);
    }
}

/// Runs replications `result.reps.len()..target` of the point (replication k always from
/// the same seed), adds them to `result` in replication order and recomputes MSER-5.
fn extend_point(
    scenario: &Scenario,
    result: &mut PointResult,
    target: u32,
    settings: &RunSettings,
    record: Record,
    tick: &(dyn Fn() + Sync),
) -> Result<(), RunError> {
    let from = result.reps.len() as u32;
    let partial = run_replications(
        scenario,
        &result.point,
        settings,
        record,
        from..target,
        tick,
    )?;
    result.absorb(partial)?;
    result.update_mser5(scenario);
    Ok(())
}

/// Simulates replications `reps` of `point` (in parallel) into one partial result.
pub fn run_replications(
    scenario: &Scenario,
    point: &Point,
    settings: &RunSettings,
    record: Record,
    reps: std::ops::Range<u32>,
    tick: &(dyn Fn() + Sync),
) -> Result<PointPartial, RunError> {
    let model = scenario.model_at(point);
    let base_seed = base_seed(scenario, point, settings);
    let batch: Vec<u32> = reps.collect();
    // Each replication is reduced as soon as it ends to what is kept: its waits as bins
    // (merged into the batch's by bin), its per-minute busy slots added into the batch's
    // sum (integer sums: the same in any order), and replication 0's whole series for
    // timeseries.csv. Bins rather than histograms: a histogram holds a count for every bin
    // up to its largest value, and making an empty one for each of rayon's splits and
    // adding every replication's into it was about 8% of a sweep of 10,000 cheap points.
    type Acc = (
        Vec<(RepRecord, Option<Vec<MinuteBin>>)>,
        WaitBins,
        Vec<u128>,
    );
    let empty = || -> Acc { (Vec::new(), WaitBins::default(), Vec::new()) };
    let (mut got, waits, busy) = batch
        .par_iter()
        .map(|&rep| {
            let seed = replication_seed(base_seed, rep);
            let mut out =
                simulate_watched(&model, seed, record == Record::Everything, settings.watch)
                    .map_err(|why| RunError::Stopped {
                        point: point.label(),
                        replication: rep,
                        why,
                    })?;
            let trace_error = out.trace_error.take();
            tick();
            let record = RepRecord {
                replication: rep,
                seed,
                metrics: rep_metrics(&out),
                counts: out.counts,
                events: out.events,
            };
            let waits = WaitBins::of(&out.wait_hist);
            Ok((record, out.timeseries, waits, trace_error))
        })
        .try_fold(
            empty,
            |(mut v, mut w, mut busy), item: Result<_, RunError>| {
                let (r, ts, waits, trace_error) = item?;
                if let Some(e) = trace_error {
                    return Err(RunError::Trace(e));
                }
                w.add(&waits)?;
                let ts: Option<Vec<MinuteBin>> = ts;
                if let Some(ts) = &ts {
                    if busy.len() < ts.len() {
                        busy.resize(ts.len(), 0);
                    }
                    for (sum, bin) in busy.iter_mut().zip(ts) {
                        *sum += bin.busy_us;
                    }
                }
                let keep = ts.filter(|_| r.replication == 0);
                v.push((r, keep));
                Ok::<Acc, RunError>((v, w, busy))
            },
        )
        .try_reduce(empty, |(mut a, mut wa, mut busy), (b, wb, busy_b)| {
            wa.add(&wb)?;
            a.extend(b);
            add_minutes(&mut busy, &busy_b);
            Ok((a, wa, busy))
        })?;
    got.sort_by_key(|(r, _)| r.replication);
    let mut partial = PointPartial::empty()?;
    partial.wait_hist = waits;
    partial.busy_by_minute = busy;
    for (r, ts) in got {
        if ts.is_some() {
            partial.timeseries = ts;
        }
        partial.reps.push(r);
    }
    Ok(partial)
}

/// The recommendation's targets for a scenario.
pub fn recommend_targets(s: &Scenario) -> recommend::Targets {
    recommend::Targets {
        continuity_failure_rate: s.targets.continuity_failure_rate,
        new_session_rejection_rate: s.targets.new_session_rejection_rate,
        priced: s.account_prices.is_some(),
        cache_move_cost_usd_per_hour: s.targets.cache_move_cost_usd_per_hour,
        cache_move_cost_usd_per_1k_requests: s.targets.cache_move_cost_usd_per_1k_requests,
    }
}

/// What the recommendation weighs of each point, from results in memory (the report builds
/// the same values from the output files).
pub fn point_summaries(s: &Scenario, points: &[PointResult]) -> Vec<PointSummary> {
    let idx = |m: &str| metric_index(m).expect("known metric");
    let (nsr, cf) = (
        idx("new_session_rejection_rate"),
        idx("continuity_failure_rate"),
    );
    points
        .iter()
        .map(|p| {
            let cost = s.model_at(&p.point).cost(s.account_prices.as_deref());
            let e_nsr = p.estimate("new_session_rejection_rate");
            let e_cf = p.estimate("continuity_failure_rate");
            let e_hour = p.estimate("cache_move_cost_usd_per_hour");
            let e_1k = p.estimate("cache_move_cost_usd_per_1k_requests");
            PointSummary {
                point: p.point.index,
                label: p.point.label(),
                new_session_rejection_rate: e_nsr.mean,
                new_session_rejection_rate_ci95: e_nsr.ci95.unwrap_or(f64::NAN),
                continuity_failure_rate: e_cf.mean,
                continuity_failure_rate_ci95: e_cf.ci95.unwrap_or(f64::NAN),
                bound_requests: p.estimate("bound_requests").mean,
                cache_move_cost_usd_per_hour: e_hour.mean,
                cache_move_cost_usd_per_hour_ci95: e_hour.ci95.unwrap_or(f64::NAN),
                cache_move_cost_usd_per_1k_requests: e_1k.mean,
                cache_move_cost_usd_per_1k_requests_ci95: e_1k.ci95.unwrap_or(f64::NAN),
                load: p.point.get(Param::Load),
                cost: cost.cost,
                held_back: cost.held_back as f64,
                replications: p.reps.len(),
                reps: Replicated {
                    new_session_rejection_rate: p.reps.iter().map(|r| r.metrics[nsr]).collect(),
                    continuity_failure_rate: p.reps.iter().map(|r| r.metrics[cf]).collect(),
                },
            }
        })
        .collect()
}

/// The recommendation for results in memory.
pub fn recommendation(s: &Scenario, points: &[PointResult]) -> Recommendation {
    recommend::recommend(&point_summaries(s, points), &recommend_targets(s))
}

/// Decision rounds: while an undecided point could change the recommendation, add
/// replications to the points that could settle it (by half again, at least 2, per round)
/// up to [`Scenario::decision_cap`]. Deterministic: which points grow depends only on
/// results, and replication k of a point always uses the same seed.
fn decision_rounds(
    scenario: &Scenario,
    points: &mut [PointResult],
    settings: &RunSettings,
    record: Record,
    tick: &(dyn Fn() + Sync),
) -> Result<(), RunError> {
    if !scenario.targets.any() {
        return Ok(());
    }
    let cap = scenario.decision_cap();
    loop {
        let rec = recommendation(scenario, points);
        let refine: Vec<usize> = rec
            .points_to_refine()
            .iter()
            .copied()
            .filter(|&i| points.get(i).is_some_and(|p| (p.reps.len() as u32) < cap))
            .collect();
        if refine.is_empty() {
            return Ok(());
        }
        points
            .par_iter_mut()
            .filter(|p| refine.contains(&p.point.index))
            .try_for_each(|p| {
                let target = next_replication_target(p.reps.len() as u32, cap);
                extend_point(scenario, p, target, settings, record, tick)?;
                p.precision_met = scenario.precision.map(|rel| precision_met(&p.reps, rel));
                Ok::<(), RunError>(())
            })?;
    }
}

/// Precision on demand grows the replication count by half (at least 2) per round: few
/// rounds, little overshoot.
pub fn next_replication_target(current: u32, max: u32) -> u32 {
    current.saturating_add((current / 2).max(2)).min(max)
}

/// Whether every headline metric's CI half-width is within `rel` of its mean, or under
/// [`PRECISION_ABS_FLOOR`] for the rate metrics (whose means may be near 0).
pub fn precision_met(reps: &[RepRecord], rel: f64) -> bool {
    HEADLINE.iter().all(|name| {
        let i = metric_index(name).expect("headline metrics are metrics");
        let xs: Vec<f64> = reps.iter().map(|r| r.metrics[i]).collect();
        let e = Estimate::of(&xs);
        let floor = if *name == "throughput_rps" {
            0.0
        } else {
            PRECISION_ABS_FLOOR
        };
        match e.ci95 {
            None => false,
            Some(h) => h <= rel * e.mean.abs() || h <= floor,
        }
    })
}
