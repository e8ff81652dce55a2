//! Reading an output folder written by `slotsim run`: `summary.csv`, `timeseries.csv`,
//! `wait_quantiles.csv` and `run.json`, into plain data that the charts and the page use.
//!
//! Columns are found by header name; unknown columns are ignored so that later versions
//! can append columns. Every problem is a [`ReportError`] naming the file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::ReportError;
use crate::recommend::{PointSummary, Targets};

/// The metric columns of `summary.csv`, each with a `_ci95` partner.
pub const METRICS: &[&str] = &crate::stats::METRICS;

/// Metrics the charts and the recommendation cannot do without.
const REQUIRED_METRICS: &[&str] = &[
    "new_session_rejection_rate",
    "continuity_failure_rate",
    "migration_rate",
    "bound_rejection_rate",
    "throughput_rps",
    "slot_utilization",
];

/// The parameters a sweep may vary, in the order `summary.csv` writes them.
pub const SWEEP_PARAMETERS: &[&str] = &["reserved", "concurrency", "accounts", "load"];

/// Everything read from one output folder.
#[derive(Debug, Clone)]
pub struct RunData {
    pub dir: PathBuf,
    pub run: RunInfo,
    pub summary: Summary,
    pub timeseries: Vec<TimeRow>,
    pub waits: Waits,
    /// `replications.csv`, when the folder has it (empty otherwise).
    pub replications: Vec<RepRow>,
}

impl RunData {
    /// What the recommendation weighs of each point: the summary's means and CIs, the
    /// per-replication values of `replications.csv` (for paired differences) and each
    /// point's cost from `run.json`.
    pub fn point_summaries(&self) -> Vec<PointSummary> {
        let mut points = self.summary.point_summaries();
        // Rows by point in one pass (a filter per point is quadratic in large sweeps).
        let mut by_point: std::collections::HashMap<usize, Vec<&RepRow>> =
            std::collections::HashMap::new();
        for r in &self.replications {
            by_point.entry(r.point).or_default().push(r);
        }
        // `points` are the summary's rows in order (a lookup by point number per point is
        // quadratic in large sweeps).
        for (p, row) in points.iter_mut().zip(&self.summary.points) {
            let mut rows: Vec<&RepRow> = by_point.get(&p.point).cloned().unwrap_or_default();
            rows.sort_by_key(|r| r.replication);
            // Only a complete run of replications 0..n pairs up with other points.
            if rows.iter().enumerate().all(|(i, r)| r.replication == i) {
                p.reps.new_session_rejection_rate =
                    rows.iter().map(|r| r.new_session_rejection_rate).collect();
                p.reps.continuity_failure_rate =
                    rows.iter().map(|r| r.continuity_failure_rate).collect();
            }
            p.replications = rows.len().max(row.replications.max(0.0) as usize);
            if let Some(&c) = self.run.point_costs.get(p.point) {
                p.cost = c;
            }
            if let Some(&h) = self.run.point_held_back.get(p.point) {
                p.held_back = h;
            }
        }
        points
    }

    /// Rejections by cause at one point, summed over its replications, in the order of
    /// [`REJECTION_CAUSES`]; None without `replications.csv`.
    pub fn rejections_by_cause(&self, point: usize) -> Option<[f64; 5]> {
        self.rejections_by_cause_all().remove(&point)
    }

    /// [`RunData::rejections_by_cause`] of every point that has replication rows, in one
    /// pass over them (summed in row order, as per point).
    pub fn rejections_by_cause_all(&self) -> std::collections::HashMap<usize, [f64; 5]> {
        let mut sums: std::collections::HashMap<usize, [f64; 5]> = std::collections::HashMap::new();
        for r in &self.replications {
            let sum = sums.entry(r.point).or_insert([0.0; 5]);
            for (s, c) in sum.iter_mut().zip(r.rejections) {
                *s += c;
            }
        }
        sums
    }
}

/// The rejection causes counted in `replications.csv` (column, words).
pub const REJECTION_CAUSES: [(&str, &str); 5] = [
    ("rejected_user_limit", "user gate"),
    ("rejected_queue_full", "queue full"),
    ("rejected_wait_timeout", "wait timeout"),
    ("rejected_no_account", "no account"),
    ("rejected_failover", "failover exhausted"),
];

/// One row of `replications.csv`: what the recommendation and the cause table use.
#[derive(Debug, Clone, PartialEq)]
pub struct RepRow {
    pub point: usize,
    pub replication: usize,
    pub new_session_rejection_rate: f64,
    pub continuity_failure_rate: f64,
    /// Counts in the order of [`REJECTION_CAUSES`] (NaN when a column is absent).
    pub rejections: [f64; 5],
}

/// Provenance and settings from `run.json`. Absent fields get neutral values
/// (empty strings, NaN, `None`) so that an older or partial file still renders.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    pub slotsim_version: String,
    pub scenario_name: String,
    pub scenario_description: String,
    pub scenario_path: String,
    pub scenario_sha256: String,
    pub scenario_words: String,
    pub scenario_toml: String,
    pub seed: Option<u64>,
    pub horizon_s: f64,
    pub warmup_s: f64,
    pub replications: Option<u64>,
    pub threads: Option<u64>,
    pub wall_time_s: f64,
    pub events_simulated: Option<u64>,
    /// Swept parameters in grid order: the first is the x axis, the rest make one line each.
    pub sweep_parameters: Vec<String>,
    pub baseline_point: usize,
    pub targets: Targets,
    pub total_slots: f64,
    /// Replications each point ran (they differ under a precision target).
    pub replications_run: Vec<u64>,
    /// Command-line flags that changed the scenario's settings.
    pub overrides: Vec<String>,
    /// What `run` warned about.
    pub warnings: Vec<String>,
    /// Each point's cost (slots, or the stated price), by point index.
    pub point_costs: Vec<f64>,
    /// Each point's slots held back for bound requests, by point index.
    pub point_held_back: Vec<f64>,
}

impl RunInfo {
    /// "10", or "8 to 60" when a precision target made points run different numbers.
    pub fn replications_words(&self) -> Option<String> {
        let (lo, hi) = (
            self.replications_run.iter().min(),
            self.replications_run.iter().max(),
        );
        match (lo, hi, self.replications) {
            (Some(lo), Some(hi), _) if lo != hi => Some(format!("{lo} to {hi}")),
            (Some(&r), _, _) | (None, _, Some(r)) => Some(r.to_string()),
            _ => None,
        }
    }
}

/// `summary.csv`: one row per sweep point, in sweep order.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The parameters that identify a point (first = x axis), all present as columns.
    pub parameters: Vec<String>,
    pub points: Vec<SummaryPoint>,
}

/// One row of `summary.csv`.
#[derive(Debug, Clone)]
pub struct SummaryPoint {
    pub point: usize,
    /// Values of [`Summary::parameters`], in that order.
    pub params: Vec<f64>,
    /// NaN when the column is absent.
    pub replications: f64,
    /// Mean and CI half-width per entry of [`METRICS`], NaN when absent or empty.
    values: Vec<(f64, f64)>,
}

impl SummaryPoint {
    /// Mean of a metric in [`METRICS`]; NaN when unknown.
    pub fn mean(&self, metric: &str) -> f64 {
        metric_index(metric).map_or(f64::NAN, |i| self.values[i].0)
    }

    /// 95% CI half-width of a metric in [`METRICS`]; NaN when unknown.
    pub fn ci(&self, metric: &str) -> f64 {
        metric_index(metric).map_or(f64::NAN, |i| self.values[i].1)
    }

    /// Mean and 95% CI half-width of the metric at index `i` of [`METRICS`] (a table of
    /// many points looks each index up once, not each name per row).
    pub fn at(&self, i: usize) -> (f64, f64) {
        self.values[i]
    }

    /// `reserved=2, concurrency=5`.
    pub fn label(&self, names: &[String]) -> String {
        names
            .iter()
            .zip(&self.params)
            .map(|(n, v)| format!("{n}={}", fmt_param(n, *v)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A sweep parameter's value in words: true/false for the gateway's on/off settings (read
/// as 1/0), the number otherwise.
pub fn fmt_param(name: &str, v: f64) -> String {
    let mut s = String::new();
    push_param(&mut s, is_on_off(name), v);
    s
}

/// Whether sweep parameter `name` is one of the gateway's on/off settings (see
/// [`fmt_param`]).
pub fn is_on_off(name: &str) -> bool {
    crate::scenario::GatewayKey::ALL
        .iter()
        .any(|k| k.is_bool() && k.name() == name)
}

/// [`fmt_param`] of a parameter whose [`is_on_off`] is `on_off`, appended to `out`.
pub fn push_param(out: &mut String, on_off: bool, v: f64) {
    if on_off && (v == 0.0 || v == 1.0) {
        out.push_str(if v == 1.0 { "true" } else { "false" });
    } else {
        push_num(out, v);
    }
}

impl Summary {
    /// The points as the recommendation sees them.
    pub fn point_summaries(&self) -> Vec<PointSummary> {
        self.points
            .iter()
            .map(|p| PointSummary {
                point: p.point,
                label: p.label(&self.parameters),
                new_session_rejection_rate: p.mean("new_session_rejection_rate"),
                new_session_rejection_rate_ci95: p.ci("new_session_rejection_rate"),
                continuity_failure_rate: p.mean("continuity_failure_rate"),
                continuity_failure_rate_ci95: p.ci("continuity_failure_rate"),
                bound_requests: p.mean("bound_requests"),
                cache_move_cost_usd_per_hour: p.mean("cache_move_cost_usd_per_hour"),
                cache_move_cost_usd_per_hour_ci95: p.ci("cache_move_cost_usd_per_hour"),
                cache_move_cost_usd_per_1k_requests: p.mean("cache_move_cost_usd_per_1k_requests"),
                cache_move_cost_usd_per_1k_requests_ci95: p
                    .ci("cache_move_cost_usd_per_1k_requests"),
                load: self
                    .parameters
                    .iter()
                    .position(|n| n == "load")
                    .map(|i| p.params[i]),
                cost: f64::NAN,
                held_back: 0.0,
                replications: p.replications.max(0.0) as usize,
                reps: Default::default(),
            })
            .collect()
    }

    /// The row of a sweep point index.
    pub fn by_point(&self, point: usize) -> Option<&SummaryPoint> {
        self.points.iter().find(|p| p.point == point)
    }
}

/// One row of `timeseries.csv`: one simulated minute of one point (first replication).
/// Only what the report draws is kept (a long horizon has a row per minute); the other
/// cells are still read and checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeRow {
    pub point: usize,
    pub minute: f64,
    pub busy_slots: f64,
    pub waiting: f64,
    pub new_session_rejections: f64,
    pub continuity_failures: f64,
}

/// One row of `wait_quantiles.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitQuantile {
    pub point: usize,
    pub quantile: f64,
    pub wait_s: f64,
}

/// The rows of `wait_quantiles.csv`: as read from the file, or as the run that wrote it
/// holds them.
#[derive(Debug, Clone)]
pub enum Waits {
    Rows(Vec<WaitQuantile>),
    Grid(std::sync::Arc<WaitGrid>),
}

impl Default for Waits {
    fn default() -> Self {
        Waits::Rows(Vec::new())
    }
}

/// `wait_quantiles.csv` as a run writes it: the same levels for every point, in order.
/// A sweep of 10,000 points has a million rows; this holds only their waits (a third of
/// the memory, made and read without a row each).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WaitGrid {
    pub levels: Vec<f64>,
    pub points: Vec<usize>,
    /// `points[i]`'s wait at `levels[k]`, seconds: `waits_s[i * levels.len() + k]`.
    pub waits_s: Vec<f64>,
}

impl WaitGrid {
    /// Point `i`'s waits, one per level.
    pub fn waits_of(&self, i: usize) -> &[f64] {
        let n = self.levels.len();
        &self.waits_s[i * n..(i + 1) * n]
    }
}

impl Waits {
    /// Every row, in the file's order.
    pub fn rows(&self) -> impl Iterator<Item = WaitQuantile> + '_ {
        let (rows, grid) = match self {
            Waits::Rows(rows) => (&rows[..], None),
            Waits::Grid(g) => (&[][..], Some(g)),
        };
        let from_grid = grid.into_iter().flat_map(|g| {
            g.points.iter().enumerate().flat_map(move |(i, &point)| {
                g.levels
                    .iter()
                    .zip(g.waits_of(i))
                    .map(move |(&quantile, &wait_s)| WaitQuantile {
                        point,
                        quantile,
                        wait_s,
                    })
            })
        });
        rows.iter().copied().chain(from_grid)
    }

    /// The rows of the points `wanted` holds (sorted), in the file's order. Of a grid,
    /// only those points' rows are made: the wait chart shows at most 8 points of a
    /// sweep of any size.
    pub fn rows_of(&self, wanted: &[usize]) -> Vec<WaitQuantile> {
        let is_wanted = |point: &usize| wanted.binary_search(point).is_ok();
        match self {
            Waits::Rows(rows) => rows
                .iter()
                .filter(|r| is_wanted(&r.point))
                .copied()
                .collect(),
            Waits::Grid(g) => {
                let mut out = Vec::new();
                for (i, point) in g.points.iter().enumerate().filter(|(_, p)| is_wanted(p)) {
                    out.extend(
                        g.levels
                            .iter()
                            .zip(g.waits_of(i))
                            .map(|(&quantile, &wait_s)| WaitQuantile {
                                point: *point,
                                quantile,
                                wait_s,
                            }),
                    );
                }
                out
            }
        }
    }

    /// The point of every row, in the file's order (of a grid, each point once: its
    /// rows are together).
    pub fn row_points(&self) -> Box<dyn Iterator<Item = usize> + '_> {
        match self {
            Waits::Rows(rows) => Box::new(rows.iter().map(|r| r.point)),
            Waits::Grid(g) => Box::new(g.points.iter().copied()),
        }
    }
}

pub(crate) fn metric_index(metric: &str) -> Option<usize> {
    METRICS.iter().position(|m| *m == metric)
}

/// A number for a label: integers without a decimal point, others trimmed.
pub fn fmt_num(v: f64) -> String {
    let mut s = String::new();
    push_num(&mut s, v);
    s
}

/// [`fmt_num`], appended to `out` (tables of many points write one per cell).
pub fn push_num(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push('?');
        return;
    }
    if v == v.trunc() && v.abs() < 1e15 {
        // The same bytes as `{}` of `v as i64`, without the formatter (a sweep's tables
        // write one per point and column).
        let n = v as i64;
        if n < 0 {
            out.push('-');
        }
        crate::recommend::push_u64(out, n.unsigned_abs(), 1, 0);
    } else {
        let start = out.len();
        // The same bytes as `{v:.4}` (see `push_fixed`), without the formatter's exact path.
        crate::recommend::push_fixed(out, v, 4);
        trim_fraction(out, start);
    }
}

/// Drops the trailing zeros of the fraction of the number written at `out[start..]`, and
/// its point when nothing is left after it (`2.5000` to `2.5`, `3.0000` to `3`); a number
/// without a point is left as it is.
pub(super) fn trim_fraction(out: &mut String, start: usize) {
    if out[start..].contains('.') {
        let kept = start
            + out[start..]
                .trim_end_matches('0')
                .trim_end_matches('.')
                .len();
        out.truncate(kept);
    }
}

/// Reads the four input files of `dir`.
pub fn read_run_dir(dir: &Path) -> Result<RunData, ReportError> {
    read_run_dir_knowing(dir, None)
}

/// The rows of `timeseries.csv` and `wait_quantiles.csv` as a run that has just written
/// them holds them in memory, with the values the files' cells read back as (see
/// [`crate::export::timeseries_rows`] and [`crate::export::wait_rows`]).
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub timeseries: Vec<TimeRow>,
    /// Shared with the writer of `wait_quantiles.csv`, which may still be writing it.
    pub waits: std::sync::Arc<WaitGrid>,
    /// `summary.csv` and `replications.csv`, when the run gives them.
    pub summary: Option<KnownSummary>,
    pub replications: Option<KnownReplications>,
}

/// `summary.csv` as a run holds it: its header, and per point the cells of the parameter
/// columns and the values of the other cells read (see [`crate::export::known_rows`]).
#[derive(Debug, Clone, Default)]
pub struct KnownSummary {
    pub header: Vec<String>,
    /// The parameter columns, in file order.
    pub param_columns: Vec<String>,
    pub rows: Vec<KnownSummaryRow>,
    /// The file's size.
    pub bytes: usize,
}

/// One row of [`KnownSummary`].
#[derive(Debug, Clone, Default)]
pub struct KnownSummaryRow {
    pub point: usize,
    /// The cells of [`KnownSummary::param_columns`], as written.
    pub param_cells: Vec<String>,
    pub replications: f64,
    /// Mean and CI half-width per entry of [`METRICS`] (NaN for an empty cell).
    pub values: Vec<(f64, f64)>,
}

/// `replications.csv` as a run holds it: its header and the rows the report reads.
#[derive(Debug, Clone, Default)]
pub struct KnownReplications {
    pub header: Vec<String>,
    pub rows: Vec<RepRow>,
    /// The file's size.
    pub bytes: usize,
}

/// Whether the file read would refuse the header itself: empty, too large, or a column twice.
fn header_refused(header: &[String], bytes: usize) -> bool {
    let mut seen = BTreeSet::new();
    bytes as u64 > MAX_INPUT_BYTES
        || header.iter().all(|h| h.trim().is_empty())
        || !header.iter().all(|h| seen.insert(h.trim()))
}

/// A cell's number as [`CsvFile::number`] reads it: NaN for an empty cell, None where the
/// reader would refuse it.
fn cell_number(cell: &str, column: &str) -> Option<f64> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Some(f64::NAN);
    }
    let v = cell.parse::<f64>().ok()?;
    let (lo, hi, _) = column_range(column);
    (v.is_finite() && (lo..=hi).contains(&v)).then_some(v)
}

/// A value held in memory, as reading its cell gives it: NaN stays NaN (an empty cell),
/// None where the reader would refuse it (out of `range`, its column's [`column_range`]).
fn known_number(v: f64, range: (f64, f64, &str)) -> Option<f64> {
    (v.is_nan() || (range.0..=range.1).contains(&v)).then_some(v)
}

/// An index as [`CsvFile::index`] reads it.
fn known_index(v: usize) -> Option<usize> {
    (v as f64 <= u32::MAX as f64).then_some(v)
}

/// [`read_summary`] of the rows a run holds: the same [`Summary`], or None wherever the
/// file read would fail (the file is then read, to fail as it does). The rows' values move
/// into the summary when it is made (a sweep of many points holds megabytes of them).
fn summary_of_known(k: &mut KnownSummary, sweep_parameters: &[String]) -> Option<Summary> {
    if header_refused(&k.header, k.bytes) {
        return None;
    }
    let column = |name: &str| k.param_columns.iter().position(|c| c == name);
    let reserved_known = column("reserved")
        .is_some_and(|c| k.rows.iter().all(|r| !r.param_cells[c].trim().is_empty()));
    let parameters = point_parameters(sweep_parameters, reserved_known);
    // Each parameter is a parameter column or the point number; anything else is left to
    // the file read.
    let param_cols: Vec<Option<usize>> = parameters
        .iter()
        .map(|p| match column(p) {
            Some(c) => Some(Some(c)),
            None if p == "point" => Some(None),
            None => None,
        })
        .collect::<Option<_>>()?;
    if k.rows.iter().any(|r| r.values.len() != METRICS.len()) {
        return None;
    }
    // Each column's range, looked up once.
    let metric_ranges: Vec<_> = METRICS
        .iter()
        .map(|m| (column_range(m), column_range(&format!("{m}_ci95"))))
        .collect();
    let replications_range = column_range("replications");
    let mut points = Vec::with_capacity(k.rows.len());
    let mut seen = BTreeSet::new();
    for row in &k.rows {
        let point = known_index(row.point)?;
        if !seen.insert(point) {
            return None;
        }
        let params = parameters
            .iter()
            .zip(&param_cols)
            .map(|(name, col)| match col {
                None => Some(point as f64),
                Some(c) => match row.param_cells[*c].trim() {
                    "true" => Some(1.0),
                    "false" => Some(0.0),
                    "" if name == "reserved" => Some(f64::NAN),
                    cell => cell_number(cell, name).filter(|v| !v.is_nan()),
                },
            })
            .collect::<Option<Vec<f64>>>()?;
        let replications = known_number(row.replications, replications_range)?;
        for (&(mean, ci), &(mean_range, ci_range)) in row.values.iter().zip(&metric_ranges) {
            known_number(mean, mean_range)?;
            known_number(ci, ci_range)?;
        }
        points.push(SummaryPoint {
            point,
            params,
            replications,
            values: Vec::new(),
        });
    }
    for (p, row) in points.iter_mut().zip(&mut k.rows) {
        p.values = std::mem::take(&mut row.values);
    }
    Some(Summary { parameters, points })
}

/// [`read_replications`] of the rows a run holds: the same rows, or None wherever the
/// file read would fail.
fn replications_of_known(k: KnownReplications) -> Option<Vec<RepRow>> {
    if header_refused(&k.header, k.bytes) {
        return None;
    }
    let (nsr, cf) = (
        column_range("new_session_rejection_rate"),
        column_range("continuity_failure_rate"),
    );
    let causes = REJECTION_CAUSES.map(|(c, _)| column_range(c));
    let mut seen = BTreeSet::new();
    for r in &k.rows {
        known_index(r.point)?;
        known_index(r.replication)?;
        if !seen.insert((r.point, r.replication)) {
            return None;
        }
        known_number(r.new_session_rejection_rate, nsr)?;
        known_number(r.continuity_failure_rate, cf)?;
        for (v, range) in r.rejections.iter().zip(causes) {
            known_number(*v, range)?;
        }
    }
    Some(k.rows)
}

/// [`read_run_dir`], taking the two largest files' rows from `known` instead of reading
/// them back: the same data, without parsing a row per simulated minute and 103 per
/// point. The same checks apply to them.
pub fn read_run_dir_knowing(dir: &Path, known: Option<Known>) -> Result<RunData, ReportError> {
    let run = read_run_json(&dir.join("run.json"))?;
    let (known, mut known_summary, known_reps) = match known {
        Some(mut k) => {
            let (summary, reps) = (k.summary.take(), k.replications.take());
            (Some(k), summary, reps)
        }
        None => (None, None, None),
    };
    // Rows in memory that the file reader would refuse are read from the file instead,
    // so that the run fails as the file would.
    let summary = match known_summary
        .as_mut()
        .and_then(|k| summary_of_known(k, &run.sweep_parameters))
    {
        Some(summary) => summary,
        None => read_summary(&dir.join("summary.csv"), &run.sweep_parameters)?,
    };
    drop(known_summary);
    // The file reader refuses minutes past its column range.
    let (_, max_minute, _) = column_range("minute");
    let (timeseries, waits) = match known {
        Some(k) if k.timeseries.iter().all(|r| r.minute <= max_minute) => {
            (k.timeseries, Waits::Grid(k.waits))
        }
        _ => (
            read_timeseries(&dir.join("timeseries.csv"))?,
            Waits::Rows(read_wait_quantiles(&dir.join("wait_quantiles.csv"))?),
        ),
    };
    let reps_path = dir.join("replications.csv");
    let replications = match known_reps.and_then(replications_of_known) {
        Some(rows) => rows,
        None if reps_path.exists() => read_replications(&reps_path)?,
        None => Vec::new(),
    };
    check_consistency(dir, &run, &summary, &timeseries, &waits, &replications)?;
    Ok(RunData {
        dir: dir.to_path_buf(),
        run,
        summary,
        timeseries,
        waits,
        replications,
    })
}

/// What one file says about another: every point named exists in `summary.csv`, the
/// baseline is one of them, time-series minutes are whole and inside the horizon.
fn check_consistency(
    dir: &Path,
    run: &RunInfo,
    summary: &Summary,
    timeseries: &[TimeRow],
    waits: &Waits,
    replications: &[RepRow],
) -> Result<(), ReportError> {
    let points: BTreeSet<usize> = summary.points.iter().map(|p| p.point).collect();
    // Rows come grouped by point (a sweep of many points has a million wait rows): the
    // last point found is remembered, so most rows need no search.
    let last = std::cell::Cell::new(None);
    let is_known = |point: &usize| {
        if last.get() == Some(*point) {
            return true;
        }
        let found = points.contains(point);
        if found {
            last.set(Some(*point));
        }
        found
    };
    let unknown = |file: &str, point: usize| {
        invalid(
            &dir.join(file),
            format!("point {point} is not a point of summary.csv"),
        )
    };
    if !summary.points.is_empty() && !is_known(&run.baseline_point) {
        return Err(invalid(
            &dir.join("run.json"),
            format!(
                "baseline_point = {} is not a point of summary.csv",
                run.baseline_point
            ),
        ));
    }
    if let Some(r) = timeseries.iter().find(|r| !is_known(&r.point)) {
        return Err(unknown("timeseries.csv", r.point));
    }
    if let Some(point) = waits.row_points().find(|p| !is_known(p)) {
        return Err(unknown("wait_quantiles.csv", point));
    }
    if let Some(r) = replications.iter().find(|r| !is_known(&r.point)) {
        return Err(unknown("replications.csv", r.point));
    }
    if !replications.is_empty() {
        let mut rows: std::collections::BTreeMap<usize, usize> = Default::default();
        for r in replications {
            *rows.entry(r.point).or_default() += 1;
        }
        for p in &summary.points {
            let n = rows.get(&p.point).copied().unwrap_or(0);
            if p.replications.is_finite() && n as f64 != p.replications {
                return Err(invalid(
                    &dir.join("replications.csv"),
                    format!(
                        "point {}: {n} rows, but summary.csv says {} replications (rows missing or added; run the scenario again)",
                        p.point, p.replications
                    ),
                ));
            }
        }
    }
    for r in timeseries {
        let beyond = run.horizon_s.is_finite() && r.minute * 60.0 > run.horizon_s + 60.0;
        if r.minute != r.minute.trunc() || beyond {
            return Err(invalid(
                &dir.join("timeseries.csv"),
                format!(
                    "point {}: minute {} is not a whole minute within the horizon ({} s)",
                    r.point, r.minute, run.horizon_s
                ),
            ));
        }
    }
    Ok(())
}

/// Reads `replications.csv` (the columns [`RepRow`] needs; others are ignored).
pub fn read_replications(path: &Path) -> Result<Vec<RepRow>, ReportError> {
    let csv = CsvFile::read(path)?;
    let point = csv.required_column("point")?;
    let rep = csv.required_column("replication")?;
    let nsr = csv.required_column("new_session_rejection_rate")?;
    let cf = csv.required_column("continuity_failure_rate")?;
    let causes: Vec<Option<usize>> = REJECTION_CAUSES
        .iter()
        .map(|(c, _)| csv.column(c))
        .collect();
    let mut out = Vec::with_capacity(csv.rows.len());
    let mut seen = BTreeSet::new();
    for row in 0..csv.rows.len() {
        let mut rejections = [f64::NAN; 5];
        for (r, c) in rejections.iter_mut().zip(&causes) {
            if let Some(c) = c {
                *r = csv.number(row, *c)?;
            }
        }
        let (p, r) = (csv.index(row, point)?, csv.index(row, rep)?);
        if !seen.insert((p, r)) {
            return Err(csv.duplicate(row, format!("point {p}, replication {r}")));
        }
        out.push(RepRow {
            point: p,
            replication: r,
            new_session_rejection_rate: csv.number(row, nsr)?,
            continuity_failure_rate: csv.number(row, cf)?,
            rejections,
        });
    }
    Ok(out)
}

/// A CSV file read whole, with the helpers that turn cells into numbers or errors.
struct CsvFile {
    path: PathBuf,
    header: Vec<String>,
    /// [`column_range`] of each column, looked up once (every number read is checked).
    ranges: Vec<(f64, f64, &'static str)>,
    rows: Vec<(u64, csv::StringRecord)>,
}

impl CsvFile {
    fn read(path: &Path) -> Result<CsvFile, ReportError> {
        let (mut csv, mut reader) = CsvFile::open(path)?;
        while let Some(row) = csv.next_record(&mut reader)? {
            csv.rows.push(row);
        }
        Ok(csv)
    }

    /// The file's header, checked, with no rows yet, and the reader of its rows: for
    /// files read a row at a time ([`CsvFile::read_each`]).
    fn open(path: &Path) -> Result<(CsvFile, csv::Reader<std::fs::File>), ReportError> {
        let file = open(path)?;
        check_regular(path, &file)?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .from_reader(file);
        let header = reader
            .headers()
            .map_err(|e| invalid(path, format!("cannot read the header row: {e}")))?
            .iter()
            .map(str::to_string)
            .collect::<Vec<_>>();
        if header.iter().all(|h| h.is_empty()) {
            return Err(invalid(
                path,
                "the file is empty (no header row)".to_string(),
            ));
        }
        for (i, h) in header.iter().enumerate() {
            if header[..i].contains(h) {
                return Err(invalid(
                    path,
                    format!("line 1: column `{h}` appears twice in the header"),
                ));
            }
        }
        let csv = CsvFile {
            path: path.to_path_buf(),
            ranges: header.iter().map(|h| column_range(h)).collect(),
            header,
            rows: Vec::new(),
        };
        Ok((csv, reader))
    }

    /// The next row and its line, or None at the end.
    fn next_record(
        &self,
        reader: &mut csv::Reader<std::fs::File>,
    ) -> Result<Option<(u64, csv::StringRecord)>, ReportError> {
        let mut rec = csv::StringRecord::new();
        let more = reader.read_record(&mut rec).map_err(|e| {
            let message = match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    pos, expected_len, len,
                } => format!(
                    "line {}: {len} cells, but the header has {expected_len} columns (a cell missing or added shifts every column after it)",
                    pos.as_ref().map_or(0, |p| p.line())
                ),
                _ => format!("malformed CSV: {e}"),
            };
            invalid(&self.path, message)
        })?;
        if !more {
            return Ok(None);
        }
        let line = rec.position().map_or(0, |p| p.line());
        Ok(Some((line, rec)))
    }

    /// Reads the file a row at a time, calling `each` with the file holding that row
    /// alone as row 0 (so every helper and error works as on a file read whole): a long
    /// file is never held in memory as text.
    fn read_each(
        path: &Path,
        mut each: impl FnMut(&CsvFile) -> Result<(), ReportError>,
    ) -> Result<CsvFile, ReportError> {
        let (mut csv, mut reader) = CsvFile::open(path)?;
        while let Some(row) = csv.next_record(&mut reader)? {
            csv.rows.clear();
            csv.rows.push(row);
            each(&csv)?;
        }
        csv.rows.clear();
        Ok(csv)
    }

    /// A row whose key (`what`) an earlier row already has: the file was spliced or a
    /// line repeated, and a report would count it twice.
    fn duplicate(&self, row: usize, what: String) -> ReportError {
        invalid(
            &self.path,
            format!(
                "line {}: {what} appears more than once (a row repeated; run the scenario again)",
                self.rows[row].0
            ),
        )
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    fn required_column(&self, name: &str) -> Result<usize, ReportError> {
        self.column(name).ok_or_else(|| ReportError::MissingColumn {
            path: self.path.clone(),
            column: name.to_string(),
        })
    }

    /// A number; an empty cell is NaN (unknown).
    fn number(&self, row: usize, col: usize) -> Result<f64, ReportError> {
        let (line, rec) = &self.rows[row];
        let cell = rec.get(col).unwrap_or("");
        if cell.is_empty() {
            return Ok(f64::NAN);
        }
        let bad = |allowed: &str| ReportError::BadValue {
            path: self.path.clone(),
            line: *line,
            column: self.header[col].clone(),
            value: cell.to_string(),
            allowed: allowed.to_string(),
        };
        let v = cell.parse::<f64>().map_err(|_| ReportError::BadNumber {
            path: self.path.clone(),
            line: *line,
            column: self.header[col].clone(),
            value: cell.to_string(),
        })?;
        if !v.is_finite() {
            return Err(bad("a finite number"));
        }
        let (lo, hi, words) = self.ranges[col];
        if !(lo..=hi).contains(&v) {
            return Err(bad(words));
        }
        Ok(v)
    }

    /// A sweep parameter's value: a number, true/false (1/0) for a setting, or NaN for
    /// an empty `reserved` cell (the pools differ at that point, as a per-pool sweep of
    /// reserved makes them).
    fn required_param(&self, row: usize, col: usize) -> Result<f64, ReportError> {
        match self.rows[row].1.get(col).unwrap_or("") {
            "true" => Ok(1.0),
            "false" => Ok(0.0),
            "" if self.header[col] == "reserved" => Ok(f64::NAN),
            _ => self.required_number(row, col),
        }
    }

    /// A number that must be present.
    fn required_number(&self, row: usize, col: usize) -> Result<f64, ReportError> {
        let v = self.number(row, col)?;
        if v.is_nan() {
            let (line, rec) = &self.rows[row];
            return Err(ReportError::BadNumber {
                path: self.path.clone(),
                line: *line,
                column: self.header[col].clone(),
                value: rec.get(col).unwrap_or("").to_string(),
            });
        }
        Ok(v)
    }

    /// A non-negative integer index such as `point`.
    fn index(&self, row: usize, col: usize) -> Result<usize, ReportError> {
        let v = self.required_number(row, col)?;
        if v < 0.0 || v != v.trunc() || v > u32::MAX as f64 {
            let (line, rec) = &self.rows[row];
            return Err(ReportError::BadNumber {
                path: self.path.clone(),
                line: *line,
                column: self.header[col].clone(),
                value: rec.get(col).unwrap_or("").to_string(),
            });
        }
        Ok(v as usize)
    }
}

/// The largest input file `report` reads (a year-long time series of many points is far
/// smaller).
pub const MAX_INPUT_BYTES: u64 = 1 << 30;

/// The values a column of slotsim's CSV files may hold: (low, high, in words). Every cell
/// read as a number is checked, so a damaged file is refused instead of drawn.
pub fn column_range(name: &str) -> (f64, f64, &'static str) {
    const ANY: (f64, f64, &str) = (f64::MIN, f64::MAX, "a finite number");
    const NONNEG: (f64, f64, &str) = (0.0, f64::MAX, "a number >= 0");
    const UNIT: (f64, f64, &str) = (0.0, 1.0, "a number from 0 to 1");
    if name.ends_with("_delta") {
        ANY
    } else if name.ends_with("_ci95") {
        NONNEG
    } else if name.ends_with("_rate")
        || name == "slot_utilization"
        || name == "quantile"
        || name.ends_with("_rate_ci95")
    {
        UNIT
    } else if name == "minute" {
        // A year of minutes, with room for a run's tail.
        (0.0, 1e6, "a whole minute from 0 to 1000000")
    } else if METRICS.contains(&name)
        || crate::export::TIMESERIES_COLUMNS.contains(&name)
        || REJECTION_CAUSES.iter().any(|(c, _)| *c == name)
        || matches!(
            name,
            "point"
                | "replication"
                | "replications"
                | "wait_s"
                | "load"
                | "accounts"
                | "concurrency"
        )
    {
        NONNEG
    } else {
        ANY
    }
}

fn check_regular(path: &Path, file: &std::fs::File) -> Result<(), ReportError> {
    let meta = file.metadata().map_err(|e| ReportError::Read {
        path: path.to_path_buf(),
        source: e,
    })?;
    if !meta.is_file() {
        return Err(invalid(path, "is not a regular file".to_string()));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(invalid(
            path,
            format!(
                "is {} bytes, more than `slotsim report` reads ({MAX_INPUT_BYTES})",
                meta.len()
            ),
        ));
    }
    Ok(())
}

fn open(path: &Path) -> Result<std::fs::File, ReportError> {
    std::fs::File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ReportError::MissingFile {
                path: path.to_path_buf(),
            }
        } else {
            ReportError::Read {
                path: path.to_path_buf(),
                source: e,
            }
        }
    })
}

fn invalid(path: &Path, message: String) -> ReportError {
    ReportError::Invalid {
        path: path.to_path_buf(),
        message,
    }
}

/// Reads `summary.csv`. `sweep_parameters` (from `run.json`) names the parameter columns;
/// when it is empty, `reserved` alone identifies a point.
pub fn read_summary(path: &Path, sweep_parameters: &[String]) -> Result<Summary, ReportError> {
    let csv = CsvFile::read(path)?;
    // Without a sweep, `reserved` identifies the point, unless the pools disagree on it
    // (an empty cell): then the point number does.
    let reserved_known = csv.column("reserved").is_some_and(|c| {
        csv.rows
            .iter()
            .all(|(_, rec)| !rec.get(c).unwrap_or("").is_empty())
    });
    let parameters = point_parameters(sweep_parameters, reserved_known);
    let point_col = csv.required_column("point")?;
    let param_cols = parameters
        .iter()
        .map(|p| csv.required_column(p))
        .collect::<Result<Vec<_>, _>>()?;
    for m in REQUIRED_METRICS {
        csv.required_column(m)?;
    }
    let replications_col = csv.column("replications");
    let metric_cols: Vec<(Option<usize>, Option<usize>)> = METRICS
        .iter()
        .map(|m| (csv.column(m), csv.column(&format!("{m}_ci95"))))
        .collect();

    let mut points = Vec::with_capacity(csv.rows.len());
    let mut seen = BTreeSet::new();
    for row in 0..csv.rows.len() {
        let point = csv.index(row, point_col)?;
        if !seen.insert(point) {
            return Err(invalid(
                path,
                format!(
                    "line {}: point {point} appears more than once",
                    csv.rows[row].0
                ),
            ));
        }
        let params = param_cols
            .iter()
            .map(|&c| csv.required_param(row, c))
            .collect::<Result<Vec<_>, _>>()?;
        let replications = match replications_col {
            Some(c) => csv.number(row, c)?,
            None => f64::NAN,
        };
        let mut values = Vec::with_capacity(METRICS.len());
        for (mean_col, ci_col) in &metric_cols {
            let mean = match mean_col {
                Some(c) => csv.number(row, *c)?,
                None => f64::NAN,
            };
            let ci = match ci_col {
                Some(c) => csv.number(row, *c)?,
                None => f64::NAN,
            };
            values.push((mean, ci));
        }
        points.push(SummaryPoint {
            point,
            params,
            replications,
            values,
        });
    }
    Ok(Summary { parameters, points })
}

/// Reads `timeseries.csv`.
pub fn read_timeseries(path: &Path) -> Result<Vec<TimeRow>, ReportError> {
    let (head, _) = CsvFile::open(path)?;
    let names = crate::export::TIMESERIES_COLUMNS;
    let cols = names
        .iter()
        .map(|n| head.required_column(n))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    CsvFile::read_each(path, |csv| {
        let row = 0;
        let n = |i: usize| csv.number(row, cols[i]);
        let (p, m) = (csv.index(row, cols[0])?, csv.index(row, cols[1])?);
        if !seen.insert((p, m)) {
            return Err(csv.duplicate(row, format!("point {p}, minute {m}")));
        }
        // Cells not kept are read for their checks, in column order as before.
        n(2)?;
        let busy_slots = n(3)?;
        let waiting = n(4)?;
        n(5)?;
        let new_session_rejections = n(6)?;
        n(7)?;
        n(8)?;
        out.push(TimeRow {
            point: p,
            minute: m as f64,
            busy_slots,
            waiting,
            new_session_rejections,
            continuity_failures: n(9)?,
        });
        Ok(())
    })?;
    Ok(out)
}

/// Reads `wait_quantiles.csv`.
pub fn read_wait_quantiles(path: &Path) -> Result<Vec<WaitQuantile>, ReportError> {
    let (head, _) = CsvFile::open(path)?;
    let point = head.required_column("point")?;
    let quantile = head.required_column("quantile")?;
    let wait = head.required_column("wait_s")?;
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    CsvFile::read_each(path, |csv| {
        let row = 0;
        let (p, q) = (csv.index(row, point)?, csv.required_number(row, quantile)?);
        if !seen.insert((p, q.to_bits())) {
            return Err(csv.duplicate(row, format!("point {p}, quantile {q}")));
        }
        out.push(WaitQuantile {
            point: p,
            quantile: q,
            wait_s: csv.number(row, wait)?,
        });
        Ok(())
    })?;
    Ok(out)
}

/// Reads `run.json`.
pub fn read_run_json(path: &Path) -> Result<RunInfo, ReportError> {
    let file = open(path)?;
    check_regular(path, &file)?;
    let text = std::io::read_to_string(file).map_err(|e| ReportError::Read {
        path: path.to_path_buf(),
        source: e,
    })?;
    let v: Value =
        serde_json::from_str(&text).map_err(|e| invalid(path, format!("not valid JSON: {e}")))?;
    if !v.is_object() {
        return Err(invalid(path, "expected a JSON object".to_string()));
    }
    let s = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    let u = |v: &Value, key: &str| v.get(key).and_then(Value::as_u64);
    let null = Value::Null;
    let scenario = v.get("scenario").unwrap_or(&null);
    let sweep = v.get("sweep").unwrap_or(&null);
    let targets = v.get("targets").unwrap_or(&null);

    let mut sweep_parameters = Vec::new();
    if let Some(list) = sweep.get("parameters") {
        let arr = list.as_array().ok_or_else(|| {
            invalid(
                path,
                "sweep.parameters must be a list of parameter names".to_string(),
            )
        })?;
        for p in arr {
            let name = p.as_str().ok_or_else(|| {
                invalid(
                    path,
                    format!("sweep.parameters: expected a name, found {p}"),
                )
            })?;
            if sweep_parameters.iter().any(|q: &String| q == name) {
                return Err(invalid(
                    path,
                    format!("sweep.parameters names {name:?} twice"),
                ));
            }
            sweep_parameters.push(name.to_string());
        }
    }
    let target = |key: &str| -> Result<Option<f64>, ReportError> {
        match targets.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(x) => match x.as_f64() {
                Some(t) if t.is_finite() && t >= 0.0 => Ok(Some(t)),
                _ => Err(invalid(
                    path,
                    format!("targets.{key}: expected a non-negative number or null, found {x}"),
                )),
            },
        }
    };
    let strings = |key: &str| -> Vec<String> {
        v.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let numbers = |key: &str| -> Vec<f64> {
        v.get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
            .unwrap_or_default()
    };
    // Numbers that are present must be in range; an absent one stays unknown (NaN).
    let ranged = |key: &str, lo: f64, hi: f64| -> Result<f64, ReportError> {
        match v.get(key) {
            None | Some(Value::Null) => Ok(f64::NAN),
            Some(x) => match x.as_f64() {
                Some(n) if n.is_finite() && n >= lo && n <= hi => Ok(n),
                _ => Err(invalid(
                    path,
                    format!("{key}: expected a number from {lo} to {hi}, found {x}"),
                )),
            },
        }
    };
    let horizon_s = ranged("horizon_s", 1e-6, 1e9)?;
    let warmup_s = ranged("warmup_s", 0.0, 1e9)?;
    if warmup_s >= horizon_s {
        return Err(invalid(
            path,
            format!("warmup_s = {warmup_s} is not shorter than horizon_s = {horizon_s}"),
        ));
    }
    let total_slots = ranged("total_slots", 1.0, f64::MAX)?;
    let wall_time_s = ranged("wall_time_s", 0.0, f64::MAX)?;
    let point_costs = numbers("point_costs");
    let point_held_back = numbers("point_held_back");
    for (key, list) in [
        ("point_costs", &point_costs),
        ("point_held_back", &point_held_back),
    ] {
        if let Some(x) = list.iter().find(|x| !(x.is_finite() && **x >= 0.0)) {
            return Err(invalid(
                path,
                format!("{key}: expected numbers >= 0, found {x}"),
            ));
        }
    }
    Ok(RunInfo {
        replications_run: v
            .get("replications_run")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default(),
        overrides: strings("command_line_overrides"),
        warnings: strings("warnings"),
        slotsim_version: s(&v, "slotsim_version"),
        scenario_name: s(scenario, "name"),
        scenario_description: s(scenario, "description"),
        scenario_path: s(scenario, "path"),
        scenario_sha256: s(scenario, "sha256"),
        scenario_words: s(scenario, "words"),
        scenario_toml: s(scenario, "toml"),
        seed: u(&v, "seed"),
        horizon_s,
        warmup_s,
        replications: u(&v, "replications"),
        threads: u(&v, "threads"),
        wall_time_s,
        events_simulated: u(&v, "events_simulated"),
        sweep_parameters,
        baseline_point: u(&v, "baseline_point").unwrap_or(0) as usize,
        targets: Targets {
            continuity_failure_rate: target("continuity_failure_rate")?,
            new_session_rejection_rate: target("new_session_rejection_rate")?,
            priced: v.get("cost_basis").and_then(Value::as_str) == Some("price"),
            cache_move_cost_usd_per_hour: target("cache_move_cost_usd_per_hour")?,
            cache_move_cost_usd_per_1k_requests: target("cache_move_cost_usd_per_1k_requests")?,
        },
        point_costs,
        point_held_back,
        total_slots,
    })
}

/// What identifies a point in the charts: the sweep's parameters; without a sweep,
/// `reserved` when every row names it, else the point number.
fn point_parameters(sweep_parameters: &[String], reserved_known: bool) -> Vec<String> {
    if !sweep_parameters.is_empty() {
        sweep_parameters.to_vec()
    } else if reserved_known {
        vec!["reserved".to_string()]
    } else {
        vec!["point".to_string()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const HEADER: &str = "point,reserved,replications,new_session_rejection_rate,\
        new_session_rejection_rate_ci95,continuity_failure_rate,continuity_failure_rate_ci95,\
        migration_rate,migration_rate_ci95,bound_rejection_rate,bound_rejection_rate_ci95,\
        throughput_rps,throughput_rps_ci95,slot_utilization,slot_utilization_ci95,precision_met";

    #[test]
    fn summary_reads_known_columns_and_ignores_others() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "summary.csv",
            &format!("{HEADER}\n0,0,1,0.01,,0.05,,0.04,,0.01,,3.5,,0.8,,true\n"),
        );
        let s = read_summary(&p, &[]).unwrap();
        assert_eq!(s.parameters, vec!["reserved".to_string()]);
        let pt = &s.points[0];
        assert_eq!(pt.mean("continuity_failure_rate"), 0.05);
        assert!(pt.ci("continuity_failure_rate").is_nan());
        assert!(pt.mean("wait_p95_s").is_nan());
        assert_eq!(pt.label(&s.parameters), "reserved=0");
    }

    #[test]
    fn garbage_number_names_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "summary.csv",
            &format!("{HEADER}\n0,0,1,0.01,,zero,,0.04,,0.01,,3.5,,0.8,,true\n"),
        );
        let e = read_summary(&p, &[]).unwrap_err().to_string();
        assert!(e.contains("summary.csv"), "{e}");
        assert!(e.contains("continuity_failure_rate"), "{e}");
        assert!(e.contains("zero"), "{e}");
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn missing_parameter_column_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "summary.csv",
            &format!("{HEADER}\n0,0,1,0.01,,0.1,,0.04,,0.01,,3.5,,0.8,,true\n"),
        );
        let e = read_summary(&p, &["concurrency".to_string()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("concurrency"), "{e}");
    }

    #[test]
    fn run_json_defaults_and_targets() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "run.json",
            r#"{"seed": 18446744073709551615, "targets": {"continuity_failure_rate": 0.01,
                "new_session_rejection_rate": null}, "sweep": {"parameters": ["reserved"]}}"#,
        );
        let r = read_run_json(&p).unwrap();
        assert_eq!(r.seed, Some(u64::MAX));
        assert_eq!(r.targets.continuity_failure_rate, Some(0.01));
        assert_eq!(r.targets.new_session_rejection_rate, None);
        assert!(r.horizon_s.is_nan());
        let p = write(
            dir.path(),
            "run.json",
            r#"{"targets": {"continuity_failure_rate": "x"}}"#,
        );
        let e = read_run_json(&p).unwrap_err().to_string();
        assert!(
            e.contains("run.json") && e.contains("continuity_failure_rate"),
            "{e}"
        );
    }

    #[test]
    fn number_labels() {
        assert_eq!(fmt_num(2.0), "2");
        assert_eq!(fmt_num(0.75), "0.75");
        assert_eq!(fmt_num(1.0 / 3.0), "0.3333");
    }
}
