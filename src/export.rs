//! Exporters: results to bytes (CSV, JSON). Pure functions; [`crate::output`] writes files.
//!
//! Numbers are written with Rust's shortest round-trip formatting, so the bytes depend only
//! on the values; an unknown value (a CI from one replication) is an empty cell.

use crate::engine::MinuteBin;
use crate::report::input::{
    KnownReplications, KnownSummary, KnownSummaryRow, RepRow, TimeRow, WaitGrid,
};
use crate::runner::{PointResult, RunResult};
use crate::scenario::{Param, Point, PoolKey, Scenario};
use crate::stats::{Estimate, HEADLINE, METRICS};
use crate::units::{time_to_secs, US_PER_S};
use serde::Serialize;

/// Quantiles written to `wait_quantiles.csv`.
pub fn wait_quantile_levels() -> Vec<f64> {
    let mut q: Vec<f64> = (0..100).map(|i| i as f64 / 100.0).collect();
    q.extend([0.995, 0.999, 1.0]);
    q
}

/// The parameter columns: `reserved` always, then the other swept parameters.
pub fn param_columns(s: &Scenario) -> Vec<Param> {
    let mut cols = vec![Param::Reserved];
    cols.extend(
        s.sweep
            .params
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| *p != Param::Reserved),
    );
    cols
}

/// The parameter columns' names (`reserved`, a `[sweep]` key, `pools.NAME.KEY`, a
/// gateway key).
pub fn param_column_names(s: &Scenario) -> Vec<String> {
    param_columns(s)
        .iter()
        .map(|p| p.column(&s.sweep.pool_names))
        .collect()
}

/// The parameter cells of a point: `reserved` is the pools' common value at the point
/// (empty when they differ); true/false settings are written as such.
pub fn param_cells(s: &Scenario, p: &PointResult) -> Vec<String> {
    let mut cells = Vec::new();
    each_param_cell(s, &param_columns(s), p, |c| cells.push(c.to_string()));
    cells
}

/// [`param_cells`] one at a time, for the `columns` of [`param_columns`]: a sweep of
/// many points writes them in three files and the terminal's table, and a Vec of Strings
/// per point (with the columns and each pool's `reserved` gathered anew) was most of
/// their cost.
pub fn each_param_cell(
    s: &Scenario,
    columns: &[Param],
    p: &PointResult,
    mut cell: impl FnMut(&str),
) {
    for &param in columns {
        match param {
            Param::Reserved => match reserved_at(s, &p.point) {
                Some(r) if r >= 0 => {
                    let mut digits = [0u8; 20];
                    let text = int_text(r as u64, &mut digits);
                    cell(std::str::from_utf8(text).expect("digits are ASCII"));
                }
                Some(r) => cell(&r.to_string()),
                None => cell(""),
            },
            _ => match p.point.get(param) {
                Some(v) => cell(&param.format_value(v)),
                None => cell(""),
            },
        }
    }
}

/// [`Scenario::reserved_at`] without building the point's model: only the pools'
/// `reserved`, set as `Scenario::model_at` sets it (the all-pools sweep, then each pool's
/// own, in the point's order). The parameter cells of a point are written three times (two
/// files and the terminal's table), and building a model clones the workload and gateway:
/// on a sweep of 10,000 points that was most of the time spent on these cells.
fn reserved_at(s: &Scenario, point: &Point) -> Option<i64> {
    // Pool i's value: the last of the values that set it, in the point's order.
    let of = |i: usize| {
        point
            .values
            .iter()
            .fold(s.pools[i].reserved, |r, &(param, v)| match param {
                Param::Reserved => v as i64,
                Param::Pool(j, PoolKey::Reserved) if j == i => v as i64,
                _ => r,
            })
    };
    if s.pools.is_empty() {
        return None;
    }
    let first = of(0);
    (1..s.pools.len()).all(|i| of(i) == first).then_some(first)
}

/// Paired difference of `metric` between `point` and `baseline`, replication by
/// replication (common random numbers make the pairs positively correlated).
pub fn paired_delta(point: &PointResult, baseline: &PointResult, metric: usize) -> Estimate {
    let d: Vec<f64> = point
        .reps
        .iter()
        .zip(&baseline.reps)
        .map(|(a, b)| a.metrics[metric] - b.metrics[metric])
        .collect();
    Estimate::of(&d)
}

/// The header row of `summary.csv`.
fn summary_header(s: &Scenario) -> Vec<String> {
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(param_column_names(s));
    header.push("replications".into());
    if s.precision.is_some() {
        header.push("precision_met".into());
    }
    for m in METRICS {
        header.push(m.into());
        header.push(format!("{m}_ci95"));
    }
    for m in HEADLINE {
        header.push(format!("{m}_delta"));
        header.push(format!("{m}_delta_ci95"));
    }
    header.extend(["warmup_suggested_s", "warmup_ok", "stationary"].map(String::from));
    header
}

/// `summary.csv`: one row per sweep point.
pub fn summary_csv(s: &Scenario, r: &RunResult) -> Vec<u8> {
    in_memory(|out| write_summary_csv(s, r, out))
}

/// Bytes a writer of a file writes, gathered in memory.
fn in_memory(write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<u64>) -> Vec<u8> {
    let mut bytes = Vec::new();
    write(&mut bytes).expect("writing to memory cannot fail");
    bytes
}

/// [`summary_csv`] written to `out`, a chunk at a time; the number of bytes written.
pub fn write_summary_csv(
    s: &Scenario,
    r: &RunResult,
    out: &mut dyn std::io::Write,
) -> std::io::Result<u64> {
    let header = summary_header(s);
    let headline: Vec<usize> = HEADLINE
        .iter()
        .map(|m| crate::stats::metric_index(m).expect("headline metrics are metrics"))
        .collect();
    let baseline = &r.points[s.sweep.baseline.min(r.points.len() - 1)];
    // Straight into the bytes, a cell at a time: a sweep of thousands of points made a
    // string per cell first, most of the time and memory of writing this file.
    let mut w = Cells::to(out);
    w.texts(&header);
    w.end();
    let columns = param_columns(s);
    let mut xs = Vec::new();
    for p in &r.points {
        w.int(p.point.index as u64);
        each_param_cell(s, &columns, p, |c| w.text(c));
        w.int(p.reps.len() as u64);
        if let Some(met) = p.precision_met {
            w.display(met);
        }
        for i in 0..METRICS.len() {
            // As `PointResult::estimate`, into one reused buffer.
            xs.clear();
            xs.extend(p.reps.iter().map(|rep| rep.metrics[i]));
            let e = Estimate::of(&xs);
            w.num(e.mean);
            w.opt(e.ci95);
        }
        for &i in &headline {
            let e = paired_delta(p, baseline, i);
            w.num(e.mean);
            w.opt(e.ci95);
        }
        match p.mser5 {
            Some(m) => {
                match m.truncate.map(|t| t as u64 * 60) {
                    Some(t) => {
                        w.int(t);
                        w.display(t as f64 <= time_to_secs(s.warmup));
                    }
                    None => {
                        w.cell(b"");
                        w.cell(b"");
                    }
                }
                w.display(m.stationary);
            }
            None => {
                for _ in 0..3 {
                    w.cell(b"");
                }
            }
        }
        w.end();
        w.spill()?;
    }
    w.finish()
}

/// The raw counts of `replications.csv`, in column order.
const COUNTS: [&str; 25] = [
    "sessions_arrived",
    "sessions_rejected",
    "sessions_finished",
    "sessions_intact",
    "sessions_abandoned",
    "requests_arrived",
    "requests_completed",
    "requests_rejected",
    "bound_requests",
    "migrations",
    "bound_rejections",
    "expired_rebinds",
    "rejected_queue_full",
    "rejected_wait_timeout",
    "rejected_no_account",
    "rejected_user_limit",
    "rejected_failover",
    "faults_rate_limit",
    "faults_overload",
    "faults_auth_error",
    "migrations_capacity",
    "migrations_fault",
    "migrations_limit",
    "cache_moves",
    "cache_move_tokens",
];

/// The metrics of `replications.csv` computed from its counts, in column order.
fn derived_metrics() -> Vec<&'static str> {
    METRICS
        .iter()
        .copied()
        .filter(|m| !COUNTS.contains(m) && *m != "continuity_failures")
        .collect()
}

/// The header row of `replications.csv`.
fn replications_header(s: &Scenario) -> Vec<String> {
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(param_column_names(s));
    header.extend(["replication", "seed"].map(String::from));
    header.extend(COUNTS.map(String::from));
    header.push("continuity_failures".into());
    header.extend(derived_metrics().iter().map(|m| m.to_string()));
    header.push("events".into());
    header
}

/// `replications.csv`, one row per (point, replication) with the raw counts, written to
/// `out` a chunk at a time; the number of bytes written.
pub fn write_replications_csv(
    s: &Scenario,
    r: &RunResult,
    out: &mut dyn std::io::Write,
) -> std::io::Result<u64> {
    let derived_index: Vec<usize> = derived_metrics()
        .iter()
        .map(|m| crate::stats::metric_index(m).expect("derived metrics are metrics"))
        .collect();
    let header = replications_header(s);
    // Straight into the bytes, as `summary_csv`.
    let mut w = Cells::to(out);
    w.texts(&header);
    w.end();
    let columns = param_columns(s);
    for p in &r.points {
        for rep in &p.reps {
            let c = &rep.counts;
            w.int(p.point.index as u64);
            each_param_cell(s, &columns, p, |c| w.text(c));
            w.int(rep.replication as u64);
            w.int(rep.seed);
            let counts = [
                c.sessions_arrived,
                c.sessions_rejected,
                c.sessions_finished,
                c.sessions_intact,
                c.sessions_abandoned,
                c.requests_arrived,
                c.requests_completed,
                c.requests_rejected,
                c.bound_requests,
                c.migrations,
                c.bound_rejections,
                c.expired_rebinds,
                c.rejected_queue_full,
                c.rejected_wait_timeout,
                c.rejected_no_account,
                c.rejected_user_limit,
                c.rejected_failover,
                c.faults_rate_limit,
                c.faults_overload,
                c.faults_auth_error,
                c.migrations_capacity,
                c.migrations_fault,
                c.migrations_limit,
                c.cache_moves,
                c.cache_move_tokens,
            ];
            for x in counts {
                w.int(x);
            }
            w.int(c.migrations + c.bound_rejections);
            for &i in &derived_index {
                w.num(rep.metrics[i]);
            }
            w.int(rep.events);
            w.end();
        }
        w.spill()?;
    }
    w.finish()
}

/// The rows of `summary.csv` and `replications.csv` as the report needs them, with the
/// values their cells hold (shortest round-trip numbers parse back to the same bits, an
/// unknown value is an empty cell, read as NaN), so that `run` can draw the report without
/// reading back the files it has just written. `bytes` are the files' sizes.
pub fn known_rows(
    s: &Scenario,
    r: &RunResult,
    bytes: (usize, usize),
) -> (KnownSummary, KnownReplications) {
    let read = |x: f64| if x.is_finite() { x } else { f64::NAN };
    let names = param_column_names(s);
    let mut rows = Vec::with_capacity(r.points.len());
    let mut reps = Vec::with_capacity(r.points.iter().map(|p| p.reps.len()).sum());
    let (nsr, cf) = (
        crate::stats::metric_index("new_session_rejection_rate").expect("a metric"),
        crate::stats::metric_index("continuity_failure_rate").expect("a metric"),
    );
    let columns = param_columns(s);
    let mut xs = Vec::new();
    for p in &r.points {
        let mut cells = Vec::with_capacity(columns.len());
        each_param_cell(s, &columns, p, |c| cells.push(c.to_string()));
        let values = (0..METRICS.len())
            .map(|i| {
                xs.clear();
                xs.extend(p.reps.iter().map(|rep| rep.metrics[i]));
                let e = Estimate::of(&xs);
                (read(e.mean), e.ci95.map_or(f64::NAN, read))
            })
            .collect();
        rows.push(KnownSummaryRow {
            point: p.point.index,
            param_cells: cells,
            replications: p.reps.len() as f64,
            values,
        });
        for rep in &p.reps {
            let c = &rep.counts;
            // In the order of `report::input::REJECTION_CAUSES`.
            let causes = [
                c.rejected_user_limit,
                c.rejected_queue_full,
                c.rejected_wait_timeout,
                c.rejected_no_account,
                c.rejected_failover,
            ];
            reps.push(RepRow {
                point: p.point.index,
                replication: rep.replication as usize,
                new_session_rejection_rate: read(rep.metrics[nsr]),
                continuity_failure_rate: read(rep.metrics[cf]),
                rejections: causes.map(|n| n as f64),
            });
        }
    }
    (
        KnownSummary {
            header: summary_header(s),
            param_columns: names.clone(),
            rows,
            bytes: bytes.0,
        },
        KnownReplications {
            header: replications_header(s),
            rows: reps,
            bytes: bytes.1,
        },
    )
}

/// The columns of `timeseries.csv`.
pub const TIMESERIES_COLUMNS: [&str; 10] = [
    "point",
    "minute",
    "time_s",
    "busy_slots",
    "waiting",
    "requests_completed",
    "new_session_rejections",
    "migrations",
    "bound_rejections",
    "continuity_failures",
];

/// `timeseries.csv`, per simulated minute of replication 0, per point, written to `out` a
/// chunk at a time; the number of bytes written.
pub fn write_timeseries_csv(
    s: &Scenario,
    r: &RunResult,
    out: &mut dyn std::io::Write,
) -> std::io::Result<u64> {
    // Row by row into the bytes, each number formatted into one reused buffer: a long
    // horizon has a row per minute, and a string per cell was most of the cost.
    let mut w = Cells::to(out);
    w.record(TIMESERIES_COLUMNS);
    for p in &r.points {
        for (m, bin) in p.timeseries.iter().enumerate() {
            let (time_s, busy_slots, waiting) = minute_averages(s, m, bin);
            w.int(p.point.index as u64);
            w.int(m as u64);
            w.num(time_s);
            w.num(busy_slots);
            w.num(waiting);
            w.int(bin.requests_completed);
            w.int(bin.new_session_rejections);
            w.int(bin.migrations);
            w.int(bin.bound_rejections);
            w.int(bin.migrations + bin.bound_rejections);
            w.end();
            w.spill()?;
        }
    }
    w.finish()
}

/// The start of minute `m` in seconds and its busy slots and waiting requests, time
/// averaged over the part of the minute inside the horizon.
fn minute_averages(s: &Scenario, m: usize, bin: &MinuteBin) -> (f64, f64, f64) {
    let start = m as u64 * 60_000_000;
    let len = (s.horizon - start).min(60_000_000) as f64;
    (
        start as f64 / US_PER_S,
        bin.busy_us as f64 / len,
        bin.waiting_us as f64 / len,
    )
}

/// The rows of `timeseries.csv` with the values the report reads back from its cells
/// (shortest round-trip numbers parse back to the same bits, an empty cell is NaN), so
/// that `run` can draw the report without reading the file it has just written.
pub fn timeseries_rows(s: &Scenario, r: &RunResult) -> Vec<TimeRow> {
    let read = |x: f64| if x.is_finite() { x } else { f64::NAN };
    let n = r.points.iter().map(|p| p.timeseries.len()).sum();
    let mut rows = Vec::with_capacity(n);
    for p in &r.points {
        for (m, bin) in p.timeseries.iter().enumerate() {
            let (_, busy_slots, waiting) = minute_averages(s, m, bin);
            rows.push(TimeRow {
                point: p.point.index,
                minute: m as f64,
                busy_slots: read(busy_slots),
                waiting: read(waiting),
                new_session_rejections: bin.new_session_rejections as f64,
                continuity_failures: (bin.migrations + bin.bound_rejections) as f64,
            });
        }
    }
    rows
}

/// The waits of `wait_quantiles.csv`: the slot-wait distribution per point, all
/// replications pooled, at [`wait_quantile_levels`], in seconds: the values the report
/// reads back from the file's cells. The points are taken in parallel on the caller's
/// rayon pool.
pub fn wait_grid(r: &RunResult) -> WaitGrid {
    use rayon::prelude::*;
    let levels = wait_quantile_levels();
    let mut waits_s = vec![0.0; r.points.len() * levels.len()];
    waits_s
        .par_chunks_mut(levels.len())
        .zip(r.points.par_iter())
        .for_each(|(out, p)| {
            // Every level in one pass over the point's bins (the levels increase): the
            // same values as the histogram's `value_at_quantile` for each (see the tests).
            let waits = p.wait_hist.values_at_quantiles(&levels);
            for (o, wait) in out.iter_mut().zip(waits) {
                *o = wait as f64 / US_PER_S;
            }
        });
    WaitGrid {
        levels,
        points: r.points.iter().map(|p| p.point.index).collect(),
        waits_s,
    }
}

/// `wait_quantiles.csv`: the slot-wait distribution per point, all replications pooled.
pub fn wait_quantiles_csv(r: &RunResult) -> Vec<u8> {
    in_memory(|out| write_wait_quantiles_csv(&wait_grid(r), out))
}

/// `wait_quantiles.csv` of `grid` written to `out`, a chunk at a time; the number of bytes
/// written.
pub fn write_wait_quantiles_csv(
    grid: &WaitGrid,
    out: &mut dyn std::io::Write,
) -> std::io::Result<u64> {
    // A row is its point's number and `,level,wait` after it. Every point has the same
    // levels, and neighbouring points often the same waits (none, in a sweep where no
    // request waits): those ends of rows are formatted once, and made again only when a
    // point's waits differ from the point before.
    let mut w = Cells::to(out);
    w.record(["point", "quantile", "wait_s"]);
    let levels: Vec<Vec<u8>> = grid
        .levels
        .iter()
        .map(|&q| {
            let mut text = Vec::new();
            push_num(&mut text, q);
            text
        })
        .collect();
    let mut tails = Vec::new();
    let mut ends = vec![0; levels.len()];
    let mut tails_of: Option<&[f64]> = None;
    let mut point = Vec::new();
    for (i, &p) in grid.points.iter().enumerate() {
        let waits = grid.waits_of(i);
        let same =
            tails_of.is_some_and(|t| t.iter().zip(waits).all(|(a, b)| a.to_bits() == b.to_bits()));
        if !same {
            tails.clear();
            for ((level, &wait), end) in levels.iter().zip(waits).zip(&mut ends) {
                tails.push(b',');
                tails.extend_from_slice(level);
                tails.push(b',');
                push_num(&mut tails, wait);
                tails.push(b'\n');
                *end = tails.len();
            }
            tails_of = Some(waits);
        }
        point.clear();
        push_int(&mut point, p as u64);
        let mut start = 0;
        for &end in &ends {
            w.out.extend_from_slice(&point);
            w.out.extend_from_slice(&tails[start..end]);
            start = end;
        }
        w.spill()?;
    }
    w.finish()
}

/// A CSV writer for rows of numbers, straight into bytes: a number's cell never needs
/// quoting (digits, `.` and `-`; an unknown value is an empty cell), so the bytes are what
/// the `csv` crate writes for the same cells, without its per-field work. Each cell is
/// formatted into one reused buffer.
///
/// Given a sink, the bytes go to it in chunks of [`CHUNK`] as rows end ([`Cells::spill`]):
/// a file of a large sweep is never whole in memory (its pages, faulted in and copied as
/// the buffer grew, cost more than formatting it).
struct Cells<'w> {
    out: Vec<u8>,
    buf: String,
    /// Whether the current row has a cell yet (the next one needs a comma).
    open: bool,
    sink: Option<&'w mut dyn std::io::Write>,
    /// Bytes already passed to the sink.
    written: u64,
}

/// The bytes [`Cells`] gathers before passing them on to its sink.
const CHUNK: usize = 1 << 16;

impl<'w> Cells<'w> {
    /// Cells gathered in memory ([`Cells::into_bytes`]).
    #[cfg(test)]
    fn new() -> Cells<'static> {
        Cells {
            out: Vec::new(),
            buf: String::new(),
            open: false,
            sink: None,
            written: 0,
        }
    }

    /// Cells written to `sink`, a chunk at a time; [`Cells::finish`] writes the rest.
    fn to(sink: &'w mut dyn std::io::Write) -> Cells<'w> {
        Cells {
            out: Vec::with_capacity(CHUNK + 1024),
            buf: String::new(),
            open: false,
            sink: Some(sink),
            written: 0,
        }
    }

    /// Passes the bytes gathered so far to the sink once they fill a chunk. Called
    /// between rows only (a row never straddles two calls to the sink, which does not
    /// matter for the bytes but keeps each write whole rows).
    fn spill(&mut self) -> std::io::Result<()> {
        if self.out.len() >= CHUNK {
            if let Some(sink) = self.sink.as_mut() {
                sink.write_all(&self.out)?;
                self.written += self.out.len() as u64;
                self.out.clear();
            }
        }
        Ok(())
    }

    /// Writes what is left to the sink; the number of bytes written in all.
    fn finish(mut self) -> std::io::Result<u64> {
        if let Some(sink) = self.sink.as_mut() {
            sink.write_all(&self.out)?;
            self.written += self.out.len() as u64;
            self.out.clear();
        }
        Ok(self.written)
    }

    /// A header row of plain names (letters, digits and `_`: nothing to quote).
    fn record<const N: usize>(&mut self, cells: [&str; N]) {
        for c in cells {
            debug_assert!(c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
            self.cell(c.as_bytes());
        }
        self.end();
    }

    fn cell(&mut self, bytes: &[u8]) {
        if self.open {
            self.out.push(b',');
        }
        self.out.extend_from_slice(bytes);
        self.open = true;
    }

    fn display(&mut self, x: impl std::fmt::Display) {
        use std::fmt::Write;
        self.buf.clear();
        write!(self.buf, "{x}").expect("formatting into a String cannot fail");
        let Cells { out, buf, open, .. } = self;
        if *open {
            out.push(b',');
        }
        out.extend_from_slice(buf.as_bytes());
        *open = true;
    }

    /// An unsigned integer, as `Display` writes it (see [`push_int`]).
    fn int(&mut self, x: u64) {
        if self.open {
            self.out.push(b',');
        }
        push_int(&mut self.out, x);
        self.open = true;
    }

    /// A cell of any text, quoted as the `csv` crate quotes it: only when it holds a
    /// comma, a quote or a line break (a quote is then doubled).
    fn text(&mut self, s: &str) {
        if !s.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
            self.cell(s.as_bytes());
            return;
        }
        self.cell(b"\"");
        for b in s.bytes() {
            if b == b'"' {
                self.out.push(b'"');
            }
            self.out.push(b);
        }
        self.out.push(b'"');
    }

    /// Text cells, in order (a header row ends with [`Cells::end`]).
    fn texts(&mut self, cells: &[String]) {
        for c in cells {
            self.text(c);
        }
    }

    /// An optional number: empty when unknown.
    fn opt(&mut self, x: Option<f64>) {
        match x {
            Some(x) => self.num(x),
            None => self.cell(b""),
        }
    }

    /// A number (see [`push_num`]).
    fn num(&mut self, x: f64) {
        if self.open {
            self.out.push(b',');
        }
        push_num(&mut self.out, x);
        self.open = true;
    }

    fn end(&mut self) {
        self.out.push(b'\n');
        self.open = false;
    }

    #[cfg(test)]
    fn into_bytes(self) -> Vec<u8> {
        assert!(
            self.sink.is_none(),
            "cells written to a sink are not in memory"
        );
        self.out
    }
}

/// An unsigned integer, as `Display` writes it: its digits, written here without the
/// formatting machinery (a long horizon's time series is mostly such cells).
fn push_int(out: &mut Vec<u8>, x: u64) {
    let mut digits = [0u8; 20];
    out.extend_from_slice(int_text(x, &mut digits));
}

/// The digits of `x` as `Display` writes them, at the end of `digits`.
fn int_text(x: u64, digits: &mut [u8; 20]) -> &[u8] {
    // Two digits at a time from a table (the standard library's way): a long
    // horizon's time series has seven integer cells per minute.
    const PAIRS: &[u8; 200] = b"00010203040506070809\
                                10111213141516171819\
                                20212223242526272829\
                                30313233343536373839\
                                40414243444546474849\
                                50515253545556575859\
                                60616263646566676869\
                                70717273747576777879\
                                80818283848586878889\
                                90919293949596979899";
    let mut at = digits.len();
    let mut rest = x;
    while rest >= 100 {
        let pair = (rest % 100) as usize * 2;
        rest /= 100;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if rest >= 10 {
        let pair = rest as usize * 2;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        digits[at] = b'0' + rest as u8;
    }
    &digits[at..]
}

/// A number's cell: shortest round-trip, empty when not finite. A whole number below 2^53
/// (the start of a minute, an average of 0) is written as its integer, which is what
/// `Display` writes for it, without formatting a float (not -0, which keeps its sign).
fn push_num(out: &mut Vec<u8>, x: f64) {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
                                                // Whole when converting to an integer and back gives it again (exact in this range;
                                                // `fract` would call the maths library's `trunc`).
    if (0.0..EXACT).contains(&x) && (x as u64) as f64 == x && x.is_sign_positive() {
        push_int(out, x as u64);
    } else if x.is_finite() {
        push_display_f64(out, x);
    }
}

/// A finite `x` as `Display` writes it (`format!("{x}")`): the shortest digits that read
/// back as `x`, in plain decimal notation, never with an exponent. The digits are `ryu`'s
/// (the same shortest, closest digits as the standard library's, several times faster;
/// the tests compare the two over edge values and millions of random numbers), laid out
/// here as `Display` lays them out: `ryu` itself writes `1e16` and `1.5e-7`. The two
/// differ only when `x` lies exactly halfway between the two closest shortest candidates
/// (`ryu` takes the even one, the standard library the upper one): such an `x` is written
/// by `Display` itself (see [`may_be_a_tie`]).
fn push_display_f64(out: &mut Vec<u8>, x: f64) {
    debug_assert!(x.is_finite());
    if x == 0.0 {
        out.extend_from_slice(if x.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    if may_be_a_tie(x) {
        use std::io::Write;
        let _ = write!(out, "{x}");
        return;
    }
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(x).as_bytes();
    let (text, negative) = match text.split_first() {
        Some((b'-', rest)) => (rest, true),
        _ => (text, false),
    };
    // `ryu` writes `d.ddd`, `0.000ddd` or `d.ddde-x`: split off the exponent, then
    // gather the significant digits and where the decimal point falls among them.
    let (mantissa, exp) = match text.iter().position(|&b| b == b'e') {
        Some(e) => (&text[..e], parse_exp(&text[e + 1..])),
        None => (text, 0),
    };
    let mut digits = [0u8; 24];
    let mut n = 0usize;
    // Digits before the point, less the zeros between `0.` and the first significant one.
    let mut point: Option<isize> = None;
    for &b in mantissa {
        if b == b'.' {
            point = Some(n as isize);
        } else if n > 0 || b != b'0' {
            digits[n] = b;
            n += 1;
        } else if let Some(p) = point.as_mut() {
            *p -= 1;
        }
    }
    let point = point.unwrap_or(n as isize) + exp;
    while n > 0 && digits[n - 1] == b'0' {
        n -= 1;
    }
    let digits = &digits[..n];
    if negative {
        out.push(b'-');
    }
    if point <= 0 {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + point.unsigned_abs(), b'0');
        out.extend_from_slice(digits);
    } else if point as usize >= n {
        out.extend_from_slice(digits);
        out.resize(out.len() + (point as usize - n), b'0');
    } else {
        let (int, frac) = digits.split_at(point as usize);
        out.extend_from_slice(int);
        out.push(b'.');
        out.extend_from_slice(frac);
    }
}

/// Whether `x` could lie exactly halfway between two decimals of at most 17 significant
/// digits: then its exact decimal expansion ends in 5 and has at most 18 significant
/// digits. `x` is `m * 2^e` with `m` odd: a whole number (`e >= 0`) never does (a
/// midpoint of two candidates at least 10 apart is farther from it than half its unit in
/// the last place, so one candidate alone reads back as `x`); otherwise its expansion is
/// `m * 5^-e` digits after the point, which must then be below 10^18. Such numbers are
/// few: sums of a few halves, quarters and so on (0.5, 2.75), rare as averages over a
/// minute of microseconds.
fn may_be_a_tie(x: f64) -> bool {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (m, e) = if biased == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), biased - 1075)
    };
    if m == 0 {
        return false;
    }
    let tz = m.trailing_zeros();
    let (m, e) = (m >> tz, e + tz as i32);
    if e >= 0 {
        return false;
    }
    let k = e.unsigned_abs();
    k <= 26 && (m as u128) * 5u128.pow(k) < 10u128.pow(18)
}

/// The exponent after `e` in `ryu`'s output (`-7`, `16`).
fn parse_exp(text: &[u8]) -> isize {
    let (digits, sign) = match text.split_first() {
        Some((b'-', rest)) => (rest, -1),
        _ => (text, 1),
    };
    sign * digits
        .iter()
        .fold(0isize, |e, &d| e * 10 + (d - b'0') as isize)
}

#[derive(Serialize)]
struct RunJson<'a> {
    slotsim_version: &'a str,
    scenario: ScenarioJson<'a>,
    seed: u64,
    horizon_s: f64,
    warmup_s: f64,
    replications: u32,
    precision: Option<f64>,
    max_replications: Option<u32>,
    replications_run: Vec<usize>,
    threads: usize,
    wall_time_s: f64,
    events_simulated: u64,
    events_per_second: f64,
    sweep: SweepJson,
    baseline_point: usize,
    targets: TargetsJson,
    total_slots: u64,
    common_random_numbers: bool,
    /// Per point, with a precision target: whether it was met.
    precision_met: Vec<Option<bool>>,
    /// Command-line flags that changed the scenario's settings, as given.
    command_line_overrides: &'a [String],
    /// What `run` warned about (warm-up, drift, precision not reached).
    warnings: &'a [String],
    /// Cap of the recommendation's decision rounds (replications per point); equal to
    /// `replications` when they are off or there are no targets.
    decision_max_replications: u32,
    /// "slots", or "price" with `[targets] price_per_account`.
    cost_basis: &'static str,
    /// Per point: the cost the recommendation compares (slots or price).
    point_costs: Vec<f64>,
    /// Per point: slots held back from new sessions (sum over accounts of min(max(R,0),C)).
    point_held_back: Vec<u64>,
}

#[derive(Serialize)]
struct ScenarioJson<'a> {
    name: &'a str,
    description: &'a str,
    path: &'a str,
    sha256: String,
    words: String,
    toml: &'a str,
}

#[derive(Serialize)]
struct SweepJson {
    parameters: Vec<String>,
    points: usize,
    labels: Vec<String>,
}

#[derive(Serialize)]
struct TargetsJson {
    continuity_failure_rate: Option<f64>,
    new_session_rejection_rate: Option<f64>,
    /// Written only when set, so run.json without cost targets is unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_move_cost_usd_per_hour: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_move_cost_usd_per_1k_requests: Option<f64>,
}

/// SHA-256 of the scenario text, hex.
pub fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `run.json`: provenance of the run.
pub fn run_json(
    s: &Scenario,
    r: &RunResult,
    common_random_numbers: bool,
    overrides: &[String],
    warnings: &[String],
) -> Vec<u8> {
    // One model per point for both of its cost figures.
    let (point_costs, point_held_back): (Vec<_>, Vec<_>) = r
        .points
        .iter()
        .map(|p| {
            let model = s.model_at(&p.point);
            (
                model.cost(s.account_prices.as_deref()).cost,
                model.cost(None).held_back,
            )
        })
        .unzip();
    let j = RunJson {
        slotsim_version: env!("CARGO_PKG_VERSION"),
        scenario: ScenarioJson {
            name: &s.name,
            description: &s.description,
            path: &s.file,
            sha256: sha256_hex(&s.source),
            words: s.words(),
            toml: &s.source,
        },
        seed: s.seed,
        horizon_s: time_to_secs(s.horizon),
        warmup_s: time_to_secs(s.warmup),
        replications: s.replications,
        precision: s.precision,
        max_replications: s.precision.map(|_| s.max_replications),
        replications_run: r.points.iter().map(|p| p.reps.len()).collect(),
        threads: r.threads,
        wall_time_s: r.wall_time_s,
        events_simulated: r.events,
        events_per_second: if r.wall_time_s > 0.0 {
            r.events as f64 / r.wall_time_s
        } else {
            0.0
        },
        sweep: SweepJson {
            parameters: s.sweep.param_names(),
            points: r.points.len(),
            labels: r.points.iter().map(|p| p.point.label()).collect(),
        },
        baseline_point: s.sweep.baseline,
        targets: TargetsJson {
            continuity_failure_rate: s.targets.continuity_failure_rate,
            new_session_rejection_rate: s.targets.new_session_rejection_rate,
            cache_move_cost_usd_per_hour: s.targets.cache_move_cost_usd_per_hour,
            cache_move_cost_usd_per_1k_requests: s.targets.cache_move_cost_usd_per_1k_requests,
        },
        total_slots: r.points.first().map_or(0, |p| p.total_slots),
        common_random_numbers,
        precision_met: r.points.iter().map(|p| p.precision_met).collect(),
        command_line_overrides: overrides,
        warnings,
        decision_max_replications: if s.targets.any() {
            s.decision_cap()
        } else {
            s.replications
        },
        cost_basis: if s.account_prices.is_some() {
            "price"
        } else {
            "slots"
        },
        point_costs,
        point_held_back,
    };
    let mut v = serde_json::to_vec_pretty(&j).expect("serialising plain data cannot fail");
    v.push(b'\n');
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A number's cell as a string, as the exporters wrote it before [`Cells`].
    fn num(x: f64) -> String {
        if x.is_finite() {
            format!("{x}")
        } else {
            String::new()
        }
    }

    fn opt(x: Option<f64>) -> String {
        x.map_or(String::new(), num)
    }

    fn display_f64(x: f64) -> String {
        let mut out = Vec::new();
        push_display_f64(&mut out, x);
        String::from_utf8(out).unwrap()
    }

    /// Numbers are written as `Display` writes them: edge values (powers of ten and of
    /// two, where `ryu` switches to exponents, the extremes, subnormals, values of many
    /// zeros), then random bit patterns (every exponent) and random averages of the kind
    /// the time series writes.
    #[test]
    fn numbers_are_written_as_display_writes_them() {
        use rand::{Rng, SeedableRng};
        let mut edges = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            0.2 + 0.1,
            1.5,
            2.0 / 3.0,
            123.0,
            123.456,
            1e-5,
            1.5e-7,
            9_999_999_999_999_998.0,
            1e15,
            1e16,
            1.234_5e16,
            1e17,
            1e21,
            1e22,
            1e23,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            5e-324,
            -5e-324,
            2.225_073_858_507_201e-308,
            9_007_199_254_740_993.0,
            100.000_000_000_001,
            1000.5,
            0.001_002_003,
        ];
        for e in -330..=310 {
            let p = 10f64.powi(e);
            edges.extend([p, -p, p * 1.5, p * 9.99, p / 3.0]);
        }
        // Every power of two (subnormal ones, then normal ones) and its neighbours.
        let twos = (0..52).map(|k| 1u64 << k).chain((1..2047).map(|e| e << 52));
        for bits in twos {
            let p = f64::from_bits(bits);
            edges.extend([
                p,
                -p,
                p * 1.25,
                f64::from_bits(bits - 1),
                f64::from_bits(bits + 1),
            ]);
        }
        // Odd multiples of small powers of two: halfway cases among them.
        for k in 1..=70 {
            let scale = 2f64.powi(-k);
            for m in [
                1u64,
                3,
                5,
                25,
                125,
                12_345,
                999_999,
                (1 << 53) - 1,
                (1 << 40) + 1,
            ] {
                edges.extend([m as f64 * scale, -(m as f64) * scale]);
            }
        }
        for x in edges.into_iter().filter(|x| x.is_finite()) {
            assert_eq!(display_f64(x), format!("{x}"), "{:e}", x);
        }
        let mut rng = rand_pcg::Pcg64::seed_from_u64(20_261_203);
        for _ in 0..1_000_000 {
            let x = f64::from_bits(rng.random::<u64>());
            if x.is_finite() {
                assert_eq!(display_f64(x), format!("{x}"), "{:e}", x);
            }
            let busy = rng.random_range(0..600_000_000u64) as f64;
            let len = rng.random_range(1..=60_000_000u64) as f64;
            let x = busy / len;
            assert_eq!(display_f64(x), format!("{x}"), "{:e}", x);
        }
    }

    /// Integer cells and whole numbers are their `Display` digits: every value to
    /// 100,000, powers of ten and their neighbours, the largest.
    #[test]
    fn integers_are_written_as_display_writes_them() {
        let mut xs: Vec<u64> = (0..=100_000).collect();
        for k in 0..20 {
            let p = 10u64.pow(k);
            xs.extend([p - 1, p, p + 1, p.saturating_mul(2) - 1]);
        }
        xs.extend([u64::MAX, u64::MAX - 1, 1 << 53, (1 << 53) - 1]);
        for x in xs {
            let mut c = Cells::new();
            c.int(x);
            assert_eq!(c.into_bytes(), x.to_string().into_bytes());
            if x < 1 << 53 {
                let mut c = Cells::new();
                c.num(x as f64);
                assert_eq!(c.into_bytes(), num(x as f64).into_bytes(), "{x}");
            }
        }
    }

    /// Rows written by [`Cells`] are byte for byte what the `csv` crate writes.
    #[test]
    fn cells_write_what_the_csv_crate_writes() {
        let rows: [(u64, f64, f64); 10] = [
            (0, 0.0, 1.5),
            (7, f64::NAN, -0.000_123_456_789),
            (u64::MAX, 1e300, f64::INFINITY),
            (12, 123_456_789.125, 2.0 / 3.0),
            (10, -0.0, 60.0),
            (99, 9_007_199_254_740_991.0, 9_007_199_254_740_992.0),
            (100, 1e16, -60.0),
            (1_000_000, 5e-324, 0.1 + 0.2),
            (u64::MAX / 10, 4_294_967_296.0, 1.0 - f64::EPSILON),
            (9, f64::MIN_POSITIVE, 1e15 + 0.5),
        ];
        let mut cells = Cells::new();
        cells.record(["point", "count", "quantile", "wait_s"]);
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["point", "count", "quantile", "wait_s"])
            .unwrap();
        for (a, b, c) in rows {
            cells.display(a);
            cells.int(a);
            cells.num(b);
            cells.num(c);
            cells.end();
            w.write_record([a.to_string(), a.to_string(), num(b), num(c)])
                .unwrap();
        }
        assert_eq!(
            String::from_utf8(cells.into_bytes()).unwrap(),
            String::from_utf8(w.into_inner().unwrap()).unwrap()
        );
    }

    /// `wait_quantiles.csv` of a grid, with the ends of rows made once for neighbouring
    /// points of the same waits, is what formatting every cell of every row writes, and
    /// [`Waits::rows`] are those rows, in order (and [`Waits::rows_of`] those of a few
    /// points): on a grid of odd values (-0, NaN, tiny,
    /// repeating) whose neighbouring points have the same waits, or differ at one level,
    /// then on one of more rows than a chunk holds.
    #[test]
    fn wait_quantiles_write_every_number_as_formatted() {
        use crate::report::input::{WaitQuantile, Waits};
        let levels = wait_quantile_levels();
        let n = levels.len();
        let odd = [
            0.0,
            0.0,
            1.5,
            1.5,
            -0.0,
            f64::NAN,
            2.0 / 3.0,
            0.0,
            1e-7,
            1.5,
        ];
        let points = [0usize, 1, 2, 7, 3, 4, 12345];
        let mut waits_s = Vec::new();
        for &point in &points {
            for k in 0..n {
                // Point 2 has point 1's waits; point 4 has point 3's but at one level.
                let j = match point {
                    2 => 1,
                    4 => 3,
                    p => p,
                };
                let wait = odd[(k * j + k / 3) % odd.len()];
                waits_s.push(if point == 4 && k == 50 { 0.25 } else { wait });
            }
        }
        let mut x: u64 = 99;
        let mut random = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 11
        };
        let many: Vec<f64> = (0..2000 * n)
            .map(|i| match random() % 4 {
                0 => (random() % 100_000_000) as f64 / US_PER_S,
                1 => 0.0,
                _ => (i / n % 7) as f64 / 8.0,
            })
            .collect();
        let grids = [
            WaitGrid {
                levels: levels.clone(),
                points: points.to_vec(),
                waits_s,
            },
            WaitGrid {
                levels: levels.clone(),
                points: (0..2000).map(|i| i * 3).collect(),
                waits_s: many,
            },
        ];
        for grid in grids {
            let rows: Vec<WaitQuantile> = Waits::Grid(grid.clone().into()).rows().collect();
            assert_eq!(rows.len(), grid.points.len() * n);
            let mut want = String::from("point,quantile,wait_s\n");
            for (i, r) in rows.iter().enumerate() {
                assert_eq!(
                    (r.point, r.quantile.to_bits(), r.wait_s.to_bits()),
                    (
                        grid.points[i / n],
                        levels[i % n].to_bits(),
                        grid.waits_s[i].to_bits()
                    )
                );
                want += &format!("{},{},{}\n", r.point, num(r.quantile), num(r.wait_s));
            }
            let got = in_memory(|out| write_wait_quantiles_csv(&grid, out));
            assert_eq!(String::from_utf8(got).unwrap(), want);
            // The rows of a few points, from the grid and from rows read back.
            let wanted = [grid.points[1], grid.points[grid.points.len() - 1]];
            let of_wanted: Vec<WaitQuantile> = rows
                .iter()
                .filter(|r| wanted.contains(&r.point))
                .copied()
                .collect();
            assert_eq!(of_wanted.len(), 2 * n);
            // By bits: NaN is a value here.
            let bits = |rows: Vec<WaitQuantile>| -> Vec<(usize, u64, u64)> {
                rows.iter()
                    .map(|r| (r.point, r.quantile.to_bits(), r.wait_s.to_bits()))
                    .collect()
            };
            let want = bits(of_wanted);
            assert_eq!(
                bits(Waits::Grid(grid.clone().into()).rows_of(&wanted)),
                want
            );
            assert_eq!(bits(Waits::Rows(rows).rows_of(&wanted)), want);
        }
    }

    /// The grid of a run holds what the former rows held (a row per point and level, the
    /// point's `values_at_quantiles` in seconds), and its file is those rows' cells.
    #[test]
    fn wait_grid_is_the_former_rows() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut s = crate::scenario::load_scenario(&dir.join("quick.toml")).unwrap();
        s.horizon = crate::units::secs_to_time(7200.0);
        s.replications = 4;
        let r = crate::runner::run(&s, &crate::runner::RunSettings::default(), &|_| {}).unwrap();
        let levels = wait_quantile_levels();
        let mut former = Vec::new();
        for p in &r.points {
            let waits = p.wait_hist.values_at_quantiles(&levels);
            for (&q, &wait) in levels.iter().zip(&waits) {
                former.push(crate::report::input::WaitQuantile {
                    point: p.point.index,
                    quantile: q,
                    wait_s: wait as f64 / US_PER_S,
                });
            }
        }
        let grid = wait_grid(&r);
        let rows: Vec<_> = crate::report::input::Waits::Grid(grid.into())
            .rows()
            .collect();
        assert_eq!(rows, former);
        assert!(former.iter().filter(|r| r.wait_s > 0.0).count() > 10);
        let mut want = String::from("point,quantile,wait_s\n");
        for r in &former {
            want += &format!("{},{},{}\n", r.point, num(r.quantile), num(r.wait_s));
        }
        assert_eq!(String::from_utf8(wait_quantiles_csv(&r)).unwrap(), want);
    }

    /// The quantiles taken from a point's bins in one pass are the histogram's
    /// `value_at_quantile`, level by level, for few values, many, and one.
    #[test]
    fn wait_quantiles_from_bins_match_the_histogram() {
        let levels = wait_quantile_levels();
        let mut x: u64 = 12345;
        for (values, spread) in [(5000u64, 50_000_000u64), (7, 1000), (1, 10), (300, 3)] {
            let mut h = hdrhistogram::Histogram::<u64>::new(3).unwrap();
            for i in 0..values {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                h.record_n((x >> 40) % spread + i % 2, 1 + i % 3).unwrap();
            }
            let bins = crate::runner::WaitBins::of(&h);
            let each: Vec<u64> = levels.iter().map(|&q| h.value_at_quantile(q)).collect();
            assert_eq!(bins.values_at_quantiles(&levels), each, "{values} values");
        }
        let empty = crate::runner::WaitBins::default();
        assert_eq!(empty.values_at_quantiles(&levels), vec![0; levels.len()]);
    }

    /// Text cells (a pool's name in a column name, a parameter's value) are quoted as the
    /// `csv` crate quotes them, and unknown numbers are empty cells.
    #[test]
    fn text_cells_are_quoted_as_the_csv_crate_quotes_them() {
        let rows: [[&str; 4]; 3] = [
            ["pools.a,b.reserved", "say \"hi\"", "", "plain_name"],
            ["line\nbreak", "carriage\rreturn", "true", "1.5"],
            ["\"", ",", "-0", "pools.pro.concurrency"],
        ];
        let mut cells = Cells::new();
        let mut w = csv::Writer::from_writer(Vec::new());
        for row in rows {
            cells.texts(&row.map(String::from));
            cells.opt(None);
            cells.opt(Some(0.25));
            cells.end();
            w.write_record(
                row.iter()
                    .map(|c| c.to_string())
                    .chain([opt(None), opt(Some(0.25))]),
            )
            .unwrap();
        }
        assert_eq!(
            String::from_utf8(cells.into_bytes()).unwrap(),
            String::from_utf8(w.into_inner().unwrap()).unwrap()
        );
    }

    /// The `reserved` cell read from the pools alone is the model's, at every point of a
    /// sweep of all pools' and one pool's `reserved` (common or not) and of other settings.
    #[test]
    fn reserved_without_the_model_is_the_models() {
        let text = r#"
            horizon = "1h"
            [[pools]]
            name = "max"
            accounts = 4
            concurrency = 3
            reserved = 1
            [[pools]]
            name = "backup"
            accounts = 2
            concurrency = 2
            [workload]
            arrival = { process = "poisson", rate = "3/min" }
            requests_per_session = { dist = "geometric", mean = 5 }
            think_time = { dist = "exponential", mean = "20s" }
            service_time = { dist = "exponential", mean = "15s" }
            [sweep]
            reserved = [0, 1, 2]
            [sweep.pools.max]
            reserved = [2]
            concurrency = [3, 4]
            [sweep.pools.backup]
            reserved = [0, 2]
        "#;
        for text in [text.to_string(), text.replace("reserved = [0, 2]", "")] {
            let s = crate::scenario::parse_scenario(&text, "test.toml").unwrap();
            let points = s.sweep.points();
            assert!(points.len() >= 6);
            let mut common = 0;
            for p in &points {
                assert_eq!(reserved_at(&s, p), s.reserved_at(p), "{}", p.label());
                common += usize::from(s.reserved_at(p).is_some());
                let result = PointResult {
                    point: p.clone(),
                    total_slots: 0,
                    reps: Vec::new(),
                    wait_hist: crate::runner::WaitBins::default(),
                    timeseries: Vec::new(),
                    precision_met: None,
                    mser5: None,
                    busy_by_minute: Vec::new(),
                };
                assert_eq!(param_cells(&s, &result), old_param_cells(&s, &result));
            }
            assert!(common > 0 && common < points.len());
        }
    }

    /// The parameter cells as the former code made them: the model's `reserved`, a
    /// String per cell.
    fn old_param_cells(s: &Scenario, p: &PointResult) -> Vec<String> {
        param_columns(s)
            .into_iter()
            .map(|param| match param {
                Param::Reserved => s
                    .reserved_at(&p.point)
                    .map_or(String::new(), |r| r.to_string()),
                _ => p
                    .point
                    .get(param)
                    .map_or(String::new(), |v| param.format_value(v)),
            })
            .collect()
    }
}
