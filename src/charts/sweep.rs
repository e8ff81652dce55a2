//! Metrics against the swept parameter: continuity failures (split into migrations and
//! bound rejections), new-session rejections, throughput and slot utilisation. One line per
//! value of the other swept parameters; 95% CI bars from `summary.csv`.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{Axis, Unit};
use super::draw::{self, Chart, DrawResult, LegendEntry, Placer, Rect, Symbol};
use super::{palette, Ctx};
use crate::recommend::fmt_pct;

/// The markers to draw, without those that repeat the one just before them: same pixel,
/// same kind (open or filled). A sweep of thousands of settings puts runs of neighbours on
/// one pixel (most often a 0, drawn open on the edge of a log axis); a marker drawn again
/// over itself adds nothing to the picture (it only darkens its smoothed rim, by drawing
/// it twice), so each run is drawn once. Lines of at most `MAX_LABELS` settings keep every
/// marker, so that the charts of small sweeps stay those of earlier versions, byte for byte.
pub(crate) fn once_per_pixel<DB: DrawingBackend>(
    chart: &Chart<DB>,
    pts: &[(f64, f64)],
    hollow: &[bool],
) -> (Vec<(f64, f64)>, Vec<bool>) {
    if pts.len() <= super::tradeoff::MAX_LABELS {
        return (pts.to_vec(), hollow.to_vec());
    }
    let mut at = Vec::with_capacity(pts.len());
    let mut open = Vec::with_capacity(pts.len());
    let mut last = None;
    for (i, &p) in pts.iter().enumerate() {
        let h = hollow.get(i).copied().unwrap_or(false);
        if p.0.is_finite() && p.1.is_finite() {
            let key = (chart.backend_coord(&p), h);
            if last == Some(key) {
                continue;
            }
            last = Some(key);
        }
        at.push(p);
        open.push(h);
    }
    (at, open)
}

/// True for a rate per bound request, which is 0/0 (undefined) at a point without any bound
/// request.
fn per_bound_request(metric: &str) -> bool {
    metric == "continuity_failure_rate"
        || metric == "bound_rejection_rate"
        || metric.starts_with("migration_rate")
}

/// True when `metric` has no value at point `i`: a rate per bound request where there was none.
fn undefined_at(ctx: &Ctx, metric: &str, i: usize) -> bool {
    per_bound_request(metric) && ctx.no_bound_requests(i)
}

/// Values (mean ± CI) of `metric` for every point, for axis ranges.
fn extent(ctx: &Ctx, metric: &str, with_ci: bool) -> Vec<f64> {
    let value = MetricAt::new(ctx, metric);
    let mut v = Vec::new();
    for i in 0..ctx.data.summary.points.len() {
        if value.undefined(i) {
            continue;
        }
        let (m, ci) = value.mean_ci(i);
        v.push(m);
        if with_ci && ci.is_finite() {
            v.push(m + ci);
            // Every metric is non-negative: a t interval reaching below 0 is cut at 0.
            v.push((m - ci).max(0.0));
        }
    }
    v
}

/// A metric's values at the points, its name looked up once: a sweep of many points reads
/// each point's several times per chart, and a lookup by name per read cost more than the
/// drawing of some charts. The values are [`crate::report::input::SummaryPoint::mean`]'s
/// and `ci`'s.
struct MetricAt<'a> {
    ctx: &'a Ctx<'a>,
    at: Option<usize>,
    per_bound: bool,
}

impl<'a> MetricAt<'a> {
    fn new(ctx: &'a Ctx<'a>, metric: &str) -> Self {
        MetricAt {
            ctx,
            at: crate::report::input::metric_index(metric),
            per_bound: per_bound_request(metric),
        }
    }

    /// [`undefined_at`] of the metric.
    fn undefined(&self, i: usize) -> bool {
        self.per_bound && self.ctx.no_bound_requests(i)
    }

    /// Mean and CI half-width at point `i`; NaN for a metric that is not in the summary.
    fn mean_ci(&self, i: usize) -> (f64, f64) {
        self.at.map_or((f64::NAN, f64::NAN), |k| {
            self.ctx.data.summary.points[i].at(k)
        })
    }
}

/// A label placer for a panel, with the markers and CI bars of `metrics` (name, with CI) of
/// every series as obstacles, and their lines as soft ones: a label placed by it covers no
/// data point.
fn data_placer<DB: DrawingBackend>(
    ctx: &Ctx,
    chart: &Chart<DB>,
    y: &Axis,
    metrics: &[(&str, bool)],
) -> Placer<'static>
where
    DB::ErrorType: 'static,
{
    let mut placer = Placer::new(chart);
    for s in &ctx.series {
        for &(metric, with_ci) in metrics {
            let mut line = Vec::new();
            for &i in &s.members {
                let x = ctx.x_of(i) + s.dx;
                if undefined_at(ctx, metric, i) {
                    placer.block_point(draw::to_px(chart, (x, y.lo)), 9);
                    continue;
                }
                let p = &ctx.data.summary.points[i];
                let (m, ci) = (p.mean(metric), p.ci(metric));
                if !m.is_finite() {
                    continue;
                }
                let px = draw::to_px(chart, (x, y.pos(m)));
                placer.block_point(px, 9);
                line.push(px);
                if with_ci && ci.is_finite() && ci > 0.0 {
                    let a = draw::to_px(chart, (x, y.pos((m - ci).max(0.0))));
                    let b = draw::to_px(chart, (x, y.pos(m + ci)));
                    placer.block(Rect::span((a.0 - 6, a.1), (b.0 + 6, b.1)));
                }
            }
            placer.block_polyline(&line);
        }
    }
    placer
}

/// Draws one metric for every series: line, CI bars, markers; rings the featured point.
#[allow(clippy::too_many_arguments)]
fn metric_series<DB: DrawingBackend>(
    ctx: &Ctx,
    chart: &mut Chart<DB>,
    y: &Axis,
    metric: &str,
    with_ci: bool,
    color_override: Option<RGBColor>,
    dashed: bool,
    ring_featured: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let featured = ctx.featured_index();
    let value = MetricAt::new(ctx, metric);
    for s in &ctx.series {
        let color = color_override.unwrap_or(s.color);
        // Points where the metric is undefined (no bound request) leave the line and are
        // drawn as grey crosses on the bottom edge instead.
        let undefined: Vec<(f64, f64)> = s
            .members
            .iter()
            .filter(|&&i| value.undefined(i))
            .map(|&i| (ctx.x_of(i) + s.dx, y.lo))
            .collect();
        let s = &super::Series {
            members: s
                .members
                .iter()
                .copied()
                .filter(|&i| !value.undefined(i))
                .collect(),
            ..s.clone()
        };
        draw::crosses(chart, &undefined)?;
        let pts: Vec<(f64, f64)> = s
            .members
            .iter()
            .map(|&i| (ctx.x_of(i) + s.dx, y.pos(value.mean_ci(i).0)))
            .collect();
        let hollow: Vec<bool> = s
            .members
            .iter()
            .map(|&i| y.clamped(value.mean_ci(i).0))
            .collect();
        draw::line(chart, &pts, color, if dashed { 2 } else { 3 }, dashed)?;
        if with_ci {
            let bars: Vec<(f64, f64, f64, f64)> = s
                .members
                .iter()
                .map(|&i| {
                    let (m, ci) = value.mean_ci(i);
                    (
                        ctx.x_of(i) + s.dx,
                        y.pos((m - ci).max(0.0)),
                        y.pos(m),
                        y.pos(m + ci),
                    )
                })
                .collect();
            draw::ci_bars(chart, &bars, color)?;
        }
        let (at, open) = once_per_pixel(chart, &pts, &hollow);
        draw::markers(chart, &at, &open, color, 5)?;
        if ring_featured {
            if let Some(f) = featured {
                if let Some(k) = s.members.iter().position(|&i| i == f) {
                    draw::ring(chart, pts[k])?;
                }
            }
        }
    }
    Ok(())
}

/// Legend entries naming each series (two-parameter sweeps only).
fn series_entries(ctx: &Ctx) -> Vec<LegendEntry> {
    ctx.series
        .iter()
        .filter_map(|s| {
            s.label
                .as_ref()
                .map(|l| LegendEntry::new(l.clone(), s.color, Symbol::Line))
        })
        .collect()
}

fn featured_entry(ctx: &Ctx) -> Option<LegendEntry> {
    ctx.featured_index().map(|i| {
        LegendEntry::new(
            format!("{}: {}", ctx.featured_role(), ctx.point_label(i)),
            RGBColor(0, 0, 0),
            Symbol::Ring,
        )
    })
}

/// A legend entry explaining hollow markers, when some plotted value is a 0 clamped onto
/// the lower edge of a log axis.
fn zero_entry(ctx: &Ctx, y: &Axis, metrics: &[&str]) -> Option<LegendEntry> {
    let any = ctx.data.summary.points.iter().enumerate().any(|(i, p)| {
        metrics
            .iter()
            .any(|m| !undefined_at(ctx, m, i) && y.clamped(p.mean(m)))
    });
    any.then(|| {
        LegendEntry::new(
            "0 (drawn on the bottom edge of the log scale)",
            draw::MUTED,
            Symbol::Hollow,
        )
    })
}

/// The y axis title, saying when the scale is logarithmic.
fn y_title(base: &str, y: &Axis) -> String {
    if y.log {
        format!("{base} (log scale)")
    } else {
        base.to_string()
    }
}

fn x_desc(ctx: &Ctx) -> String {
    match ctx.x_name.as_str() {
        "reserved" => "reserved_concurrency (slots kept for bound requests, per account)".into(),
        "concurrency" => "concurrency (slots per account)".into(),
        "accounts" => "accounts in the pool".into(),
        "load" => "load (multiple of the scenario's arrival rate)".into(),
        other => other.to_string(),
    }
}

pub fn continuity<DB: DrawingBackend>(
    ctx: &Ctx,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<(String, String)>
where
    DB::ErrorType: 'static,
{
    let title = "Continuity failures: bound requests that lose their account".to_string();
    let target = ctx.data.run.targets.continuity_failure_rate;
    // With faults or limits, migrations are split by cause: capacity (what a reserve can
    // prevent), fault, limit (drawn only when some point has it).
    let has = |m: &str| {
        ctx.data.summary.points.iter().any(|p| {
            let v = p.mean(m);
            v.is_finite() && v > 0.0
        })
    };
    let (fault, limit) = (has("migration_rate_fault"), has("migration_rate_limit"));
    let mut migration_parts: Vec<(&str, &str, &str)> = Vec::new();
    if fault || limit {
        migration_parts.push((
            "migration_rate_capacity",
            "migration: capacity (a reserve can prevent)",
            "migration: capacity (R can prevent)",
        ));
        if fault {
            migration_parts.push((
                "migration_rate_fault",
                "migration: fault (cooldown, error, window)",
                "migration: fault",
            ));
        }
        if limit {
            migration_parts.push((
                "migration_rate_limit",
                "migration: limit (session or RPM limit)",
                "migration: limit",
            ));
        }
    } else {
        migration_parts.push((
            "migration_rate",
            "by migration to another account",
            "by migration",
        ));
    }
    let mut values = extent(ctx, "continuity_failure_rate", true);
    for (m, _, _) in &migration_parts {
        values.extend(extent(ctx, m, false));
    }
    values.extend(extent(ctx, "bound_rejection_rate", false));
    values.extend(target);
    let y = Axis::auto(&values, Unit::Percent, true, true);
    let area = draw::title_block(root, &title, &ctx.subtitle())?;
    let xd = x_desc(ctx);
    let yd = y_title("share of bound requests", &y);
    let mut plotted = vec!["continuity_failure_rate", "bound_rejection_rate"];
    plotted.extend(migration_parts.iter().map(|(m, _, _)| *m));
    let zero = zero_entry(ctx, &y, &plotted);
    let dead = ctx.any_without_bound_requests().then(draw::no_bound_entry);
    let target_label = target.map(|t| format!("target {}", fmt_pct(t)));

    if ctx.series.len() == 1 {
        let total = palette(0);
        let rej = palette(2);
        let migr_color = |k: usize| if k == 0 { palette(1) } else { palette(k + 2) };
        let mut entries = vec![LegendEntry::new(
            format!("all continuity failures ({})", ctx.ci_words()),
            total,
            Symbol::Line,
        )];
        for (k, (_, words, _)) in migration_parts.iter().enumerate() {
            entries.push(LegendEntry::new(*words, migr_color(k), Symbol::Dashed));
        }
        entries.push(LegendEntry::new(
            "by rejection (429/503)",
            rej,
            Symbol::Dashed,
        ));
        entries.extend(featured_entry(ctx));
        entries.extend(zero.clone());
        entries.extend(dead.clone());
        if target.is_some() {
            entries.push(LegendEntry::new(
                "target (CI must end at or below it)",
                draw::TARGET,
                Symbol::Rule,
            ));
        }
        let area = draw::legend(&area, &entries)?;
        let mut chart = draw::panel(&area, &ctx.x_axis, &y, None, &xd, &yd)?;
        if let Some(t) = target {
            draw::target_rule(&mut chart, y.pos(t))?;
        }
        for (k, (m, _, _)) in migration_parts.iter().enumerate() {
            metric_series(
                ctx,
                &mut chart,
                &y,
                m,
                false,
                Some(migr_color(k)),
                true,
                false,
            )?;
        }
        metric_series(
            ctx,
            &mut chart,
            &y,
            "bound_rejection_rate",
            false,
            Some(rej),
            true,
            false,
        )?;
        metric_series(
            ctx,
            &mut chart,
            &y,
            "continuity_failure_rate",
            true,
            Some(total),
            false,
            true,
        )?;
        if let (Some(t), Some(l)) = (target, &target_label) {
            let mut metrics: Vec<(&str, bool)> = vec![
                ("continuity_failure_rate", true),
                ("bound_rejection_rate", false),
            ];
            metrics.extend(migration_parts.iter().map(|(m, _, _)| (*m, false)));
            let mut placer = data_placer(ctx, &chart, &y, &metrics);
            draw::rule_label(&chart, &mut placer, y.pos(t), l, draw::TARGET)?;
        }
    } else {
        let mut entries = series_entries(ctx);
        entries.extend(featured_entry(ctx));
        entries.extend(zero.clone());
        entries.extend(dead.clone());
        if target.is_some() {
            entries.push(LegendEntry::new("target", draw::TARGET, Symbol::Rule));
        }
        let area = draw::legend(&area, &entries)?;
        let mut specs = vec![(
            "All continuity failures (± 95% CI)",
            "continuity_failure_rate",
            true,
        )];
        for (m, _, short) in &migration_parts {
            specs.push((short, m, false));
        }
        specs.push(("by rejection (429/503)", "bound_rejection_rate", false));
        let panels = area.split_evenly((1, specs.len()));
        for (k, (panel_area, (caption, metric, ci))) in panels.iter().zip(specs).enumerate() {
            let mut chart = draw::panel(
                panel_area,
                &ctx.x_axis,
                &y,
                Some(caption),
                &ctx.x_name,
                if k == 0 { &yd } else { "" },
            )?;
            if let (Some(t), true) = (target, k == 0) {
                draw::target_rule(&mut chart, y.pos(t))?;
            }
            metric_series(ctx, &mut chart, &y, metric, ci, None, false, k == 0)?;
            if let (Some(t), Some(l), true) = (target, &target_label, k == 0) {
                let mut placer = data_placer(ctx, &chart, &y, &[(metric, ci)]);
                draw::rule_label(&chart, &mut placer, y.pos(t), l, draw::TARGET)?;
            }
        }
    }
    let causes = if migration_parts.len() > 1 {
        " Migrations are split by cause: only capacity migrations (the bound account was \
         full) can be prevented by a reserve; fault migrations (the account was cooling down, \
         in error, paused by its usage window, or failed the request) and limit migrations (a \
         session or RPM limit refused it) happen whatever reserved is."
    } else {
        ""
    };
    let caption = format!(
        "A continuity failure is a request of a session that already has an account (a bound \
         request) that is served elsewhere (a migration, which loses the upstream prompt \
         cache) or rejected.{causes} Bars are 95% confidence intervals across replications{}.{}",
        target_label
            .map(|l| format!("; the dashed green line is the {l}"))
            .unwrap_or_default(),
        if dead.is_some() {
            " Grey x marks on the bottom edge are settings without a single bound request: \
             no new session could get a slot (reserved ≥ concurrency leaves none), so the \
             share is undefined, not 0%."
        } else {
            ""
        }
    );
    Ok((title, caption))
}

pub fn new_session_rejection<DB: DrawingBackend>(
    ctx: &Ctx,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<(String, String)>
where
    DB::ErrorType: 'static,
{
    let title = "New-session rejections: the cost of reserving slots".to_string();
    let target = ctx.data.run.targets.new_session_rejection_rate;
    let mut values = extent(ctx, "new_session_rejection_rate", true);
    values.extend(target);
    let y = Axis::auto(&values, Unit::Percent, true, true);
    let area = draw::title_block(root, &title, &ctx.subtitle())?;
    let mut entries = series_entries(ctx);
    if entries.is_empty() {
        entries.push(LegendEntry::new(
            format!(
                "sessions whose first request was turned away ({})",
                ctx.ci_words()
            ),
            draw::MAIN_COLOR,
            Symbol::Line,
        ));
    }
    entries.extend(featured_entry(ctx));
    entries.extend(zero_entry(ctx, &y, &["new_session_rejection_rate"]));
    let target_label = target.map(|t| format!("target {}", fmt_pct(t)));
    if target.is_some() {
        entries.push(LegendEntry::new(
            "target (CI must end at or below it)",
            draw::TARGET,
            Symbol::Rule,
        ));
    }
    let area = draw::legend(&area, &entries)?;
    let mut chart = draw::panel(
        &area,
        &ctx.x_axis,
        &y,
        None,
        &x_desc(ctx),
        &y_title("share of new sessions rejected", &y),
    )?;
    if let Some(t) = target {
        draw::target_rule(&mut chart, y.pos(t))?;
    }
    metric_series(
        ctx,
        &mut chart,
        &y,
        "new_session_rejection_rate",
        true,
        None,
        false,
        true,
    )?;
    if let (Some(t), Some(l)) = (target, &target_label) {
        let mut placer = data_placer(ctx, &chart, &y, &[("new_session_rejection_rate", true)]);
        draw::rule_label(&chart, &mut placer, y.pos(t), l, draw::TARGET)?;
    }
    let caption = "Share of arriving sessions whose first request was turned away (after any retries of it): reserved slots \
                   are closed to new sessions, so this rises with reserved_concurrency. Bars are \
                   95% confidence intervals."
        .to_string();
    Ok((title, caption))
}

pub fn throughput_utilization<DB: DrawingBackend>(
    ctx: &Ctx,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<(String, String)>
where
    DB::ErrorType: 'static,
{
    let title = "Throughput and slot utilisation".to_string();
    let area = draw::title_block(root, &title, &ctx.subtitle())?;
    let mut entries = series_entries(ctx);
    if entries.is_empty() {
        entries.push(LegendEntry::new(
            format!("mean ({})", ctx.ci_words()),
            draw::MAIN_COLOR,
            Symbol::Line,
        ));
    }
    entries.extend(featured_entry(ctx));
    let area = draw::legend(&area, &entries)?;
    let (top, bottom) = area.split_vertically(area.dim_in_pixel().1 / 2);

    let y1 = Axis::auto(
        &extent(ctx, "throughput_rps", true),
        Unit::Number,
        false,
        false,
    );
    let y2 = Axis::auto(
        &extent(ctx, "slot_utilization", true),
        Unit::Percent,
        false,
        false,
    );
    let y_area = draw::y_label_width(&top, &y1)?.max(draw::y_label_width(&top, &y2)?);
    let mut c1 = draw::panel_sized(
        &top,
        &ctx.x_axis,
        &y1,
        Some(if y1.lo > 0.0 {
            "Throughput (axis does not start at 0)"
        } else {
            "Throughput"
        }),
        "",
        "completed requests per second",
        y_area,
    )?;
    metric_series(ctx, &mut c1, &y1, "throughput_rps", true, None, false, true)?;

    let mut c2 = draw::panel_sized(
        &bottom,
        &ctx.x_axis,
        &y2,
        Some(if y2.lo > 0.0 {
            "Slot utilisation (axis does not start at 0)"
        } else {
            "Slot utilisation"
        }),
        &x_desc(ctx),
        "mean busy slots / all slots",
        y_area,
    )?;
    metric_series(
        ctx,
        &mut c2,
        &y2,
        "slot_utilization",
        true,
        None,
        false,
        true,
    )?;
    let caption = "Requests completed per second after warm-up, and the time-average share of \
                   all account slots that are busy. Axes are fitted to the data, so small \
                   differences show; read the numbers on the axis."
        .to_string();
    Ok((title, caption))
}
