//! Over simulated time (first replication, per minute, warm-up included): busy slots,
//! waiting requests and failures per minute, for the baseline point and the featured one
//! (recommended, or closest to the targets).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{Axis, Unit};
use super::draw::{self, Chart, DrawResult, EnvelopeKey, Layout, LegendEntry, Symbol};
use super::{palette, Ctx};
use crate::report::input::TimeRow;

struct Shown<'a> {
    rows: Vec<&'a TimeRow>,
    color: RGBColor,
}

pub fn timeseries<DB: DrawingBackend>(
    ctx: &Ctx,
    root: &DrawingArea<DB, Shift>,
    layout: &mut Layout,
) -> DrawResult<(String, String)>
where
    DB::ErrorType: 'static,
{
    let title = "Over simulated time: baseline and chosen setting".to_string();
    let run = &ctx.data.run;
    let summary = &ctx.data.summary;
    let area = draw::title_block(root, &title, &ctx.subtitle())?;

    // Which points: the baseline, then the featured one if different.
    let mut chosen: Vec<(usize, String)> = Vec::new();
    let baseline = summary
        .points
        .iter()
        .position(|p| p.point == run.baseline_point)
        .unwrap_or(0);
    let featured = ctx.featured_index();
    // With a load sweep, compare at the same load: the baseline setting at the featured
    // point's load.
    let baseline = match (
        featured,
        summary.parameters.iter().position(|n| n == "load"),
    ) {
        (Some(f), Some(li)) => {
            let mut want = summary.points[baseline].params.clone();
            want[li] = summary.points[f].params[li];
            summary
                .points
                .iter()
                .position(|p| p.params == want)
                .unwrap_or(baseline)
        }
        _ => baseline,
    };
    if featured == Some(baseline) {
        chosen.push((
            baseline,
            format!(
                "baseline, also {}: {}",
                ctx.featured_role(),
                ctx.point_label(baseline)
            ),
        ));
    } else {
        chosen.push((baseline, format!("baseline: {}", ctx.point_label(baseline))));
        if let Some(f) = featured {
            chosen.push((
                f,
                format!("{}: {}", ctx.featured_role(), ctx.point_label(f)),
            ));
        }
    }
    let shown: Vec<Shown> = chosen
        .iter()
        .enumerate()
        .map(|(k, (i, _))| {
            let point = summary.points[*i].point;
            let mut rows: Vec<&TimeRow> = ctx
                .data
                .timeseries
                .iter()
                .filter(|r| r.point == point)
                .collect();
            rows.sort_by(|a, b| a.minute.total_cmp(&b.minute));
            Shown {
                rows,
                color: if k == 0 { palette(0) } else { palette(1) },
            }
        })
        .collect();

    let mut entries: Vec<LegendEntry> = chosen
        .iter()
        .zip(&shown)
        .map(|((_, l), s)| LegendEntry::new(l.clone(), s.color, Symbol::Plain))
        .collect();
    entries.push(LegendEntry::new(
        "warm-up (not measured)",
        RGBColor(0xAA, 0xAA, 0xAA),
        Symbol::Band,
    ));
    let area = draw::legend(&area, &entries)?;

    if shown.iter().all(|s| s.rows.is_empty()) {
        draw::empty_note(&area, "timeseries.csv has no rows for these points")?;
        let caption = "No time series was recorded for these points.".to_string();
        return Ok((title, caption));
    }

    let max_minute = shown
        .iter()
        .flat_map(|s| s.rows.iter().map(|r| r.minute + 1.0))
        .fold(1.0, f64::max);
    let hours = max_minute > 180.0;
    let scale = if hours { 1.0 / 60.0 } else { 1.0 };
    // The time axis ends at the horizon, not at the next round tick after it.
    let end_min = if run.horizon_s.is_finite() && run.horizon_s > 0.0 {
        run.horizon_s / 60.0
    } else {
        max_minute
    };
    let mut x = Axis::linear(0.0, end_min * scale, Unit::Number);
    x.hi = end_min * scale;
    x.ticks.retain(|t| *t <= x.hi + 1e-9);
    let x_desc = if hours {
        "simulated time (hours)"
    } else {
        "simulated time (minutes)"
    };
    let warmup = if run.warmup_s.is_finite() {
        run.warmup_s / 60.0 * scale
    } else {
        0.0
    };

    let panels = area.split_evenly((3, 1));
    let slot_line = {
        let swept_capacity = summary
            .parameters
            .iter()
            .any(|p| p == "concurrency" || p == "accounts");
        (!swept_capacity && run.total_slots.is_finite() && run.total_slots > 0.0)
            .then_some(run.total_slots)
    };

    let values = |f: &dyn Fn(&TimeRow) -> f64| -> Vec<f64> {
        shown
            .iter()
            .flat_map(|s| s.rows.iter().map(|r| f(r)))
            .collect()
    };
    let mut v = values(&|r| r.busy_slots);
    v.extend(slot_line);
    let y_busy = Axis::auto(&v, Unit::Number, false, true);
    let y_wait = Axis::auto(&values(&|r| r.waiting), Unit::Number, false, true);
    let mut v = values(&|r| r.continuity_failures);
    v.extend(values(&|r| r.new_session_rejections));
    let y_fail = Axis::auto(&v, Unit::Number, false, true);
    // One label width for all three panels, so that their time axes line up.
    let mut y_area = 0;
    for y in [&y_busy, &y_wait, &y_fail] {
        y_area = y_area.max(draw::y_label_width(&panels[0], y)?);
    }

    // Busy slots.
    let y = &y_busy;
    let mut c = draw::panel_sized(
        &panels[0],
        &x,
        y,
        Some("Busy slots (time average per minute)"),
        "",
        "busy slots",
        y_area,
    )?;
    shade_warmup(&mut c, y, warmup)?;
    if let Some(t) = slot_line {
        draw::target_line_colored(
            &mut c,
            t,
            &format!("all slots ({})", super::fmt_num(t)),
            draw::MUTED,
            2,
        )?;
    }
    for s in &shown {
        let pts = series(&c, layout, s, scale, Value::Busy);
        draw::line(&mut c, &pts, s.color, 2, false)?;
    }

    // Waiting requests.
    let y = &y_wait;
    let mut c = draw::panel_sized(
        &panels[1],
        &x,
        y,
        Some("Requests waiting for a slot (time average per minute)"),
        "",
        "waiting requests",
        y_area,
    )?;
    shade_warmup(&mut c, y, warmup)?;
    for s in &shown {
        let pts = series(&c, layout, s, scale, Value::Waiting);
        draw::line(&mut c, &pts, s.color, 2, false)?;
    }

    // Failures per minute.
    let y = &y_fail;
    let mut c = draw::panel_sized(
        &panels[2],
        &x,
        y,
        Some("Per minute: continuity failures (solid), new-session rejections (dashed)"),
        x_desc,
        "events per minute",
        y_area,
    )?;
    shade_warmup(&mut c, y, warmup)?;
    for s in &shown {
        let nsr = series(&c, layout, s, scale, Value::NewSessionRejections);
        draw::line(&mut c, &nsr, draw::lighten(s.color, 0.2), 2, true)?;
        let cf = series(&c, layout, s, scale, Value::ContinuityFailures);
        draw::line(&mut c, &cf, s.color, 2, false)?;
    }

    let caption = "One replication of each setting, minute by minute, warm-up included (grey). \
                   Busy slots near the total mean the pool is saturated; waiting requests and \
                   failures should be rare outside bursts."
        .to_string();
    Ok((title, caption))
}

/// A series reduced to what the plot's pixels can show: consecutive points that fall in
/// the same pixel column (`column` maps an x value to its column) keep only their lowest
/// and their highest point, in their order. Drawn as a line this covers the same pixels
/// as the whole series, every peak and dip included (a column's line spans from its
/// lowest to its highest value, and the segments between columns stay between those),
/// while the work of drawing and the SVG inlined in the report stay bounded by the
/// plot's width for any horizon. A series of at most two points per column is kept
/// whole. Points that are not finite are left out (the line skips them anyway).
pub(crate) fn pixel_envelope(pts: &[(f64, f64)], column: impl Fn(f64) -> i32) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut pts = pts
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .peekable();
    while let Some(first) = pts.next() {
        let col = column(first.0);
        let (mut lo, mut hi, mut lo_first) = (first, first, true);
        while let Some(&p) = pts.peek() {
            if column(p.0) != col {
                break;
            }
            pts.next();
            if p.1 < lo.1 {
                lo = p;
                lo_first = false;
            }
            if p.1 > hi.1 {
                hi = p;
                lo_first = true;
            }
        }
        // `lo_first`: the lowest point came before the highest one.
        let (a, b) = if lo_first { (lo, hi) } else { (hi, lo) };
        out.push(a);
        if b != a {
            out.push(b);
        }
    }
    out
}

/// Which value of a row a line shows.
#[derive(Clone, Copy)]
enum Value {
    Busy,
    Waiting,
    NewSessionRejections,
    ContinuityFailures,
}

/// The line of `value` of a shown point, its x in minutes times `scale` (the middle of
/// each minute), reduced to its [`envelope`] on `chart`. The SVG drawing takes the one
/// the PNG drawing made (see `draw::Layout`): same rows, same pixel columns.
fn series<DB: DrawingBackend>(
    chart: &Chart<DB>,
    layout: &mut Layout,
    s: &Shown,
    scale: f64,
    value: Value,
) -> Vec<(f64, f64)> {
    let range = chart.x_range();
    let pixels = chart.as_coord_spec().get_x_axis_pixel_range();
    let key = EnvelopeKey {
        // The rows' own address (in the run's data): the list of references to them is
        // made anew for each drawing.
        rows: s.rows.first().map_or(0, |r| *r as *const TimeRow as usize),
        len: s.rows.len(),
        value: value as u8,
        pixels: (pixels.start, pixels.end),
        range: (range.start.to_bits(), range.end.to_bits()),
    };
    layout.envelope(key, || {
        let pts: Vec<(f64, f64)> = s
            .rows
            .iter()
            .map(|r| {
                let y = match value {
                    Value::Busy => r.busy_slots,
                    Value::Waiting => r.waiting,
                    Value::NewSessionRejections => r.new_session_rejections,
                    Value::ContinuityFailures => r.continuity_failures,
                };
                ((r.minute + 0.5) * scale, y)
            })
            .collect();
        envelope(chart, &pts)
    })
}

/// [`pixel_envelope`] for the plot of `chart`.
fn envelope<DB: DrawingBackend>(chart: &Chart<DB>, pts: &[(f64, f64)]) -> Vec<(f64, f64)> {
    // The column of a point is what `backend_coord` gives for its x, worked out from the
    // x axis alone (the y half of `backend_coord` is thrown away, and a long run maps
    // every minute). Checked against `backend_coord` on the first and last points; should
    // the two ever differ, `backend_coord` is used throughout.
    let spec = chart.as_coord_spec();
    let range = spec.get_x_axis_pixel_range();
    let column = |x: f64| spec.x_spec().map(&x, (range.start, range.end));
    let same = |p: Option<&(f64, f64)>| match p {
        Some(p) if p.0.is_finite() => column(p.0) == chart.backend_coord(&(p.0, 0.0)).0,
        _ => true,
    };
    if same(pts.first()) && same(pts.last()) {
        pixel_envelope(pts, column)
    } else {
        pixel_envelope(pts, |x| chart.backend_coord(&(x, 0.0)).0)
    }
}

fn shade_warmup<DB: DrawingBackend>(chart: &mut Chart<DB>, y: &Axis, warmup: f64) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if warmup > 0.0 {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(0.0, y.lo), (warmup, y.hi)],
            draw::WARMUP.mix(0.35).filled(),
        )))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_of_at_most_two_points_per_column_are_drawn_whole() {
        let pts: Vec<(f64, f64)> = (0..1000).map(|i| (i as f64, (i % 7) as f64)).collect();
        assert_eq!(pixel_envelope(&pts, |x| x as i32), pts);
        assert_eq!(pixel_envelope(&pts, |x| (x / 2.0) as i32), pts);
    }

    /// A year of minutes on 1000 columns keeps every extreme and the order of x, in at
    /// most two points per column, each column's lowest and highest.
    #[test]
    fn long_series_keep_every_extreme_in_order() {
        let n = 366 * 1440;
        let pts: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                (
                    i as f64,
                    ((i as u64 * 7919) % 1013) as f64 + if i == 123_457 { 1e6 } else { 0.0 },
                )
            })
            .collect();
        let column = |x: f64| (x * 1000.0 / n as f64) as i32;
        let env = pixel_envelope(&pts, column);
        assert!(env.len() <= 2 * 1000, "{}", env.len());
        assert!(env.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(env.contains(&pts[123_457]), "the spike is kept");
        for col in 0..1000 {
            let (lo, hi) = pts
                .iter()
                .filter(|p| column(p.0) == col)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                    (lo.min(p.1), hi.max(p.1))
                });
            let kept: Vec<f64> = env
                .iter()
                .filter(|p| column(p.0) == col)
                .map(|p| p.1)
                .collect();
            assert_eq!(kept.iter().copied().fold(f64::INFINITY, f64::min), lo);
            assert_eq!(kept.iter().copied().fold(f64::NEG_INFINITY, f64::max), hi);
        }
    }

    #[test]
    fn points_that_are_not_finite_are_left_out() {
        let pts = [(0.0, 1.0), (0.5, f64::NAN), (1.0, 2.0), (f64::NAN, 3.0)];
        assert_eq!(pixel_envelope(&pts, |x| x as i32), [(0.0, 1.0), (1.0, 2.0)]);
    }
}
