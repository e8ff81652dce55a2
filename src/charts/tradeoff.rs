//! The trade-off: new-session rejection (x) against continuity failure (y), one labelled
//! point per setting, with the region that meets `[targets]` shaded.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{Axis, Unit};
use super::draw::{self, DrawResult, Layout, LegendEntry, Placer, Rect, Symbol};
use super::Ctx;
use crate::recommend::fmt_pct;
use crate::report::input::fmt_num;

pub fn tradeoff<DB: DrawingBackend>(
    ctx: &Ctx,
    root: &DrawingArea<DB, Shift>,
    layout: &mut Layout,
) -> DrawResult<(String, String)>
where
    DB::ErrorType: 'static,
{
    let title = "Trade-off: continuity failures against new-session rejections".to_string();
    let points = &ctx.data.summary.points;
    let targets = ctx.data.run.targets;
    let (nsr, cf) = ("new_session_rejection_rate", "continuity_failure_rate");

    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let (xm, xc, ym, yc) = (p.mean(nsr), p.ci(nsr), p.mean(cf), p.ci(cf));
        xs.push(xm);
        if xc.is_finite() {
            xs.extend([(xm - xc).max(0.0), xm + xc]);
        }
        // A point without bound requests has no failure rate (0/0): it does not set the y range.
        if ctx.no_bound_requests(i) {
            continue;
        }
        ys.push(ym);
        if yc.is_finite() {
            ys.extend([(ym - yc).max(0.0), ym + yc]);
        }
    }
    xs.extend(targets.new_session_rejection_rate);
    ys.extend(targets.continuity_failure_rate);
    let x = Axis::auto(&xs, Unit::Percent, true, true);
    let y = Axis::auto(&ys, Unit::Percent, true, true);

    let area = draw::title_block(root, &title, &ctx.subtitle())?;
    let mut entries: Vec<LegendEntry> = ctx
        .series
        .iter()
        .filter_map(|s| {
            s.label
                .as_ref()
                .map(|l| LegendEntry::new(l.clone(), s.color, Symbol::Line))
        })
        .collect();
    if entries.is_empty() {
        entries.push(LegendEntry::new(
            format!("one point per {} value ({})", ctx.x_name, ctx.ci_words()),
            draw::MAIN_COLOR,
            Symbol::Line,
        ));
    }
    if let Some(i) = ctx.featured_index() {
        entries.push(LegendEntry::new(
            format!("{}: {}", ctx.featured_role(), ctx.point_label(i)),
            BLACK,
            Symbol::Ring,
        ));
    }
    if targets.any() {
        entries.push(LegendEntry::new(
            "target region (a point meets the targets only if its whole CI is inside)",
            draw::TARGET,
            Symbol::Band,
        ));
    }
    let dead = ctx.any_without_bound_requests();
    if dead {
        entries.push(draw::no_bound_entry());
    }
    if points.iter().enumerate().any(|(i, p)| {
        x.clamped(p.mean(nsr)) || (!ctx.no_bound_requests(i) && y.clamped(p.mean(cf)))
    }) {
        entries.push(LegendEntry::new(
            "0 (drawn on the edge of the log scale)",
            draw::MUTED,
            Symbol::Hollow,
        ));
    }
    let area = draw::legend(&area, &entries)?;
    let x_desc = format!(
        "new-session rejection rate{}",
        if x.log { " (log scale)" } else { "" }
    );
    let y_desc = format!(
        "continuity failure rate{}",
        if y.log { " (log scale)" } else { "" }
    );
    let mut chart = draw::panel(&area, &x, &y, None, &x_desc, &y_desc)?;

    let mut region: Option<((i32, i32), String)> = None;
    // Target region: x <= nsr target and y < cf target (either side open when unset).
    if targets.any() {
        let x1 = targets
            .new_session_rejection_rate
            .map_or(x.hi, |t| x.pos(t).min(x.hi));
        let y1 = targets
            .continuity_failure_rate
            .map_or(y.hi, |t| y.pos(t).min(y.hi));
        if x1 > x.lo && y1 > y.lo {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x.lo, y.lo), (x1, y1)],
                draw::TARGET.mix(0.12).filled(),
            )))?;
            let mut edges = Vec::new();
            if targets.new_session_rejection_rate.is_some() {
                edges.push(vec![(x1, y.lo), (x1, y1)]);
            }
            if targets.continuity_failure_rate.is_some() {
                edges.push(vec![(x.lo, y1), (x1, y1)]);
            }
            for e in edges {
                chart.draw_series(DashedLineSeries::new(e, 8, 5, draw::TARGET.stroke_width(2)))?;
            }
            let mut words = Vec::new();
            if let Some(t) = targets.new_session_rejection_rate {
                words.push(format!("rejections ≤ {}", fmt_pct(t)));
            }
            if let Some(t) = targets.continuity_failure_rate {
                words.push(format!("failures ≤ {}", fmt_pct(t)));
            }
            region = Some((
                draw::to_px(&chart, (x1, y1)),
                format!("target region: {}", words.join(", ")),
            ));
        }
    }

    // The labels' boxes: searched for in the first drawing, replayed in the second.
    let mut placer = Placer::with_layout(&chart, layout);

    // Series lines and CI whiskers, then markers; labels last, on top.
    let mut labels: Vec<((i32, i32), String, RGBColor)> = Vec::new();
    for s in &ctx.series {
        // A point without bound requests sits on the bottom edge as a grey cross, outside
        // the line: its failure rate is undefined, not 0.
        let pts: Vec<(f64, f64)> = s
            .members
            .iter()
            .map(|&i| {
                let yv = if ctx.no_bound_requests(i) {
                    y.lo
                } else {
                    y.pos(points[i].mean(cf))
                };
                (x.pos(points[i].mean(nsr)), yv)
            })
            .collect();
        let px: Vec<(i32, i32)> = pts.iter().map(|p| draw::to_px(&chart, *p)).collect();
        let (live, undefined): (Vec<_>, Vec<_>) = s
            .members
            .iter()
            .zip(&pts)
            .partition(|(&i, _)| !ctx.no_bound_requests(i));
        let live: Vec<(f64, f64)> = live.into_iter().map(|(_, p)| *p).collect();
        let undefined: Vec<(f64, f64)> = undefined.into_iter().map(|(_, p)| *p).collect();
        let live_px: Vec<(i32, i32)> = live.iter().map(|p| draw::to_px(&chart, *p)).collect();
        draw::line(&mut chart, &live, draw::lighten(s.color, 0.45), 2, false)?;
        placer.block_polyline(&live_px);
        let mut dead_labels: Vec<((i32, i32), Vec<String>)> = Vec::new();
        for (k, &i) in s.members.iter().enumerate() {
            let p = &points[i];
            if ctx.no_bound_requests(i) {
                // Such settings usually coincide (100% rejections, bottom edge): one label
                // per series and spot lists their values, e.g. "reserved=3, 4".
                placer.block_point(px[k], 9);
                let value = fmt_num(ctx.x_of(i));
                match dead_labels.iter_mut().find(|(q, _)| *q == px[k]) {
                    Some((_, values)) => values.push(value),
                    None => dead_labels.push((px[k], vec![value])),
                }
                continue;
            }
            let (xm, xc, ym, yc) = (p.mean(nsr), p.ci(nsr), p.mean(cf), p.ci(cf));
            if yc.is_finite() && yc > 0.0 {
                let (lo, hi) = (y.pos((ym - yc).max(0.0)), y.pos(ym + yc));
                chart.draw_series(std::iter::once(ErrorBar::new_vertical(
                    x.pos(xm),
                    lo,
                    y.pos(ym),
                    hi,
                    s.color.stroke_width(2),
                    8,
                )))?;
                let (a, b) = (
                    draw::to_px(&chart, (x.pos(xm), lo)),
                    draw::to_px(&chart, (x.pos(xm), hi)),
                );
                placer.block(Rect::span((a.0 - 5, a.1), (b.0 + 5, b.1)));
            }
            if xc.is_finite() && xc > 0.0 {
                let (lo, hi) = (x.pos((xm - xc).max(0.0)), x.pos(xm + xc));
                chart.draw_series(std::iter::once(ErrorBar::new_horizontal(
                    y.pos(ym),
                    lo,
                    x.pos(xm),
                    hi,
                    s.color.stroke_width(2),
                    8,
                )))?;
                let (a, b) = (
                    draw::to_px(&chart, (lo, y.pos(ym))),
                    draw::to_px(&chart, (hi, y.pos(ym))),
                );
                placer.block(Rect::span((a.0, a.1 - 5), (b.0, b.1 + 5)));
            }
            placer.block_point(px[k], 9);
            // The first point of a line names the parameter; the others just the value.
            let value = fmt_num(ctx.x_of(i));
            let text = if k == 0 {
                format!("{}={value}", ctx.x_name)
            } else {
                value
            };
            labels.push((px[k], text, s.color));
        }
        for (q, values) in dead_labels {
            labels.push((q, format!("{}={}", ctx.x_name, values.join(", ")), s.color));
        }
        let hollow: Vec<bool> = s
            .members
            .iter()
            .filter(|&&i| !ctx.no_bound_requests(i))
            .map(|&i| x.clamped(points[i].mean(nsr)) || y.clamped(points[i].mean(cf)))
            .collect();
        draw::markers(&mut chart, &live, &hollow, s.color, 6)?;
        draw::crosses(&mut chart, &undefined)?;
        if let Some(f) = ctx.featured_index() {
            if let Some(k) = s.members.iter().position(|&i| i == f) {
                draw::ring(&mut chart, pts[k])?;
            }
        }
    }
    let label_style = draw::font(draw::SMALL_SIZE + 1.0);
    for (p, text, color) in &labels {
        let style = label_style.color(color);
        let (w, h) = draw::label_size(&chart, text, &style)?;
        let r = placer.place(w, h, &Placer::around(*p, w, h));
        draw::draw_label(&chart, r, text, &style, Some(*p))?;
    }
    if let Some(((rx, ry), text)) = region {
        let style = draw::font(draw::SMALL_SIZE).color(&draw::TARGET);
        let (w, h) = draw::label_size(&chart, &text, &style)?;
        let (_, ah) = chart.plotting_area().dim_in_pixel();
        let bottom = ah as i32 - 4;
        let cands = [
            (rx - w - 6, ry + 6),
            (rx - w - 6, bottom - h - 4),
            (8, ry + 6),
            (8, bottom - h - 4),
            (rx - w - 6, ry - h - 6),
            (rx + 6, ry + 6),
        ];
        let r = placer.place(w, h, &cands);
        draw::draw_label(&chart, r, &text, &style, None)?;
    }

    let caption = format!(
        "Each point is one setting: further right rejects more new sessions, higher breaks \
         more running sessions. Raising {} usually moves a point right (more \
         rejections) and down (fewer failures); the best setting sits lowest without going right of the target. \
         {}Crosses are 95% confidence intervals.{}",
        ctx.x_name,
        if targets.any() {
            "The green box is the target region: a point meets the targets only when its \
             whole 95% confidence cross lies inside it; one whose cross straddles an edge is \
             undecided. "
        } else {
            "No [targets] are set, so no region is shaded. "
        },
        if dead {
            " Grey x marks on the bottom edge are settings without a single bound request: \
             no new session could get a slot (reserved ≥ concurrency leaves none), so their \
             continuity failure rate is undefined, not 0%; they never meet a continuity target."
        } else {
            ""
        }
    );
    Ok((title, caption))
}
