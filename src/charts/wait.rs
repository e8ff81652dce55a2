//! The distribution of slot wait times per setting, from `wait_quantiles.csv`, drawn as
//! the share of served requests that waited longer than t, on log-log axes: most waits are
//! 0, and what matters is the tail (where a curve crosses 5% is its p95).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{floor_125, Axis, Unit};
use super::draw::{self, DrawResult, LegendEntry, Symbol};
use super::{palette, Ctx};

/// At most this many curves (one colour each).
const MAX_CURVES: usize = 8;

/// Quantiles above this are too coarse (few samples) to draw as a tail share.
const MAX_QUANTILE: f64 = 0.999;

struct Curve {
    label: String,
    color: RGBColor,
    /// (wait_s, share waiting longer), from the first positive wait on.
    pts: Vec<(f64, f64)>,
    /// Share of requests that waited at all.
    any_wait: f64,
}

pub fn wait_distribution<DB: DrawingBackend>(
    ctx: &Ctx,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<(String, String)>
where
    DB::ErrorType: 'static,
{
    let title = "Slot wait: share of served requests that waited longer than t".to_string();
    let area = draw::title_block(root, &title, &ctx.subtitle())?;
    let many_series = ctx.series.len() > 1;
    // More settings than distinct colours would be unreadable: show the baseline, the
    // featured setting and others evenly spread over the sweep, up to MAX_CURVES.
    let all = ctx.data.summary.points.len();
    let shown: Vec<usize> = if all <= MAX_CURVES {
        (0..all).collect()
    } else {
        let baseline = ctx
            .data
            .summary
            .points
            .iter()
            .position(|p| p.point == ctx.data.run.baseline_point)
            .unwrap_or(0);
        let mut v = vec![baseline];
        v.extend(ctx.featured_index());
        // Spread over the settings that served requests: one where no new session could
        // land has no wait to show and would only take a colour.
        let mut pool: Vec<usize> = (0..all).filter(|&i| !ctx.no_bound_requests(i)).collect();
        if pool.is_empty() {
            pool = (0..all).collect();
        }
        let n = pool.len();
        let mut k = 0;
        while v.len() < MAX_CURVES && k < MAX_CURVES {
            let i = pool[k * (n - 1) / (MAX_CURVES - 1)];
            if !v.contains(&i) {
                v.push(i);
            }
            k += 1;
        }
        v.sort_unstable();
        v.dedup();
        v
    };
    // The shown points' rows in one pass (a filter per point is quadratic in large
    // sweeps; rows of every point would copy them all). Which curve a row belongs to is
    // searched for among the few shown (sorted by point number), not hashed: a large
    // sweep has millions of rows.
    let mut slot: Vec<(usize, usize)> = shown
        .iter()
        .enumerate()
        .map(|(k, &i)| (ctx.data.summary.points[i].point, k))
        .collect();
    // The first curve of a point number gets its rows (as a map's first removal would).
    slot.sort_unstable();
    slot.dedup_by_key(|e| e.0);
    let curve_of = |point: usize| {
        slot.binary_search_by_key(&point, |e| e.0)
            .ok()
            .map(|j| slot[j].1)
    };
    let mut rows_of: Vec<Vec<(f64, f64)>> = vec![Vec::new(); shown.len()];
    // Only the shown points' rows are taken: rows made from the run's table skip the
    // other points whole, not row by row.
    let wanted: Vec<usize> = slot.iter().map(|e| e.0).collect();
    for w in ctx.data.waits.rows_of(&wanted) {
        if let (Some(k), true) = (curve_of(w.point), w.wait_s.is_finite()) {
            rows_of[k].push((w.quantile, w.wait_s));
        }
    }
    let dead = |i: usize| ctx.no_bound_requests(i);
    let curves: Vec<Curve> = shown
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let mut rows: Vec<(f64, f64)> = std::mem::take(&mut rows_of[k]);
            rows.sort_by(|a, b| a.0.total_cmp(&b.0));
            let q_zero = rows
                .iter()
                .filter(|(_, w)| *w <= 0.0)
                .map(|(q, _)| *q)
                .fold(f64::NAN, f64::max);
            let any_wait = if q_zero.is_nan() {
                1.0
            } else {
                (1.0 - q_zero).max(0.0)
            };
            let pts: Vec<(f64, f64)> = rows
                .iter()
                .filter(|(q, w)| *w > 0.0 && *q <= MAX_QUANTILE + 1e-12)
                .map(|(q, w)| (*w, 1.0 - q))
                .collect();
            let label = if many_series {
                ctx.point_label(i)
            } else {
                format!("{}={}", ctx.x_name, super::fmt_num(ctx.x_of(i)))
            };
            Curve {
                label: if dead(i) {
                    format!("{label} (no request served: no new session could land)")
                } else {
                    label
                },
                color: palette(k),
                pts,
                any_wait,
            }
        })
        .collect();

    let entries: Vec<LegendEntry> = curves
        .iter()
        .map(|c| {
            let l = if c.pts.is_empty() && c.any_wait <= 1e-3 && !c.label.ends_with("land)") {
                format!("{} (no request waited)", c.label)
            } else {
                c.label.clone()
            };
            LegendEntry::new(l, c.color, Symbol::Plain)
        })
        .collect();
    let area = draw::legend(&area, &entries)?;

    let waits: Vec<f64> = curves
        .iter()
        .flat_map(|c| c.pts.iter().map(|p| p.0))
        .collect();
    if waits.is_empty() {
        draw::empty_note(
            &area,
            "No served request waited for a slot in any setting (or wait_quantiles.csv is empty).",
        )?;
        let caption =
            "No request waited for a slot, so there is no wait distribution to show.".to_string();
        return Ok((title, caption));
    }
    let w_min = waits.iter().copied().fold(f64::MAX, f64::min);
    let w_max = waits.iter().copied().fold(f64::MIN, f64::max);
    let x = Axis::log(floor_125(w_min / 1.5), w_max, Unit::Number);
    let shares: Vec<f64> = curves
        .iter()
        .flat_map(|c| c.pts.iter().map(|p| p.1).chain([c.any_wait]))
        .filter(|s| *s > 0.0)
        .collect();
    let s_min = shares.iter().copied().fold(1.0, f64::min);
    let s_max = shares.iter().copied().fold(0.0, f64::max);
    let y = Axis::log(
        floor_125(s_min / 1.5),
        (s_max * 1.3).min(1.0),
        Unit::Percent,
    );
    let mut chart = draw::panel(
        &area,
        &x,
        &y,
        None,
        "slot wait t (seconds, log scale)",
        "requests that waited longer than t (log scale)",
    )?;
    for (share, name) in [(0.05, "p95"), (0.01, "p99"), (0.001, "p99.9")] {
        let yy = y.pos(share);
        if yy > y.lo && yy < y.hi {
            draw::reference_line(&mut chart, yy, name)?;
        }
    }
    for c in &curves {
        if c.pts.is_empty() {
            continue;
        }
        let mut pts = vec![(x.lo, y.pos(c.any_wait))];
        pts.extend(c.pts.iter().map(|(w, s)| (x.pos(*w), y.pos(*s))));
        draw::line(&mut chart, &pts, c.color, 3, false)?;
    }
    let mut caption =
        "For each setting, the share of served requests whose wait for an account slot \
                   exceeded t, all replications pooled. Lower and further left is better. Where \
                   a curve crosses the p95 line, t is its 95th percentile wait; requests that \
                   never waited make the curve start below 100%."
            .to_string();
    if shown.len() < all {
        caption.push_str(&format!(
            " Showing {} of {all} settings (the baseline, the featured one and others evenly \
             spread over the settings that served requests) so that each has its own colour; \
             wait_quantiles.csv has all.",
            shown.len()
        ));
    }
    Ok((title, caption))
}
