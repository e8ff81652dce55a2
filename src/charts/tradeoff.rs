//! The trade-off: new-session rejection (x) against continuity failure (y), one point per
//! setting, with the region that meets `[targets]` shaded. Every point is labelled with its
//! setting when there are at most [`MAX_LABELS`]; a larger sweep labels the points a user
//! choosing a setting looks for first (see [`labelled_points`]).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{Axis, Unit};
use super::draw::{self, DrawResult, Layout, LegendEntry, Placer, Rect, Symbol};
use super::Ctx;
use crate::recommend::fmt_pct;
use crate::report::input::fmt_num;

/// The most point labels the chart carries: about as many as its plotting area holds
/// readably. A sweep of thousands of settings labelled point by point is a grey mass of
/// leader lines (and the labels cost most of its drawing time), so beyond this only some
/// are labelled.
pub const MAX_LABELS: usize = 40;

/// Which points get a label, for a sweep of more than [`MAX_LABELS`] points (`None`: every
/// point, as for any sweep of at most that many). `series` holds each line's members (indices
/// into the points) in x order; `featured` is the ringed point; `meeting` flags the points that
/// meet the targets; `spot` is where a point is drawn, in pixels. Labelled, in this order of
/// importance (the order the labels are placed in, so the first get the places nearest
/// their points):
/// 1. the featured point (recommended, closest to the targets, or fewest failures);
/// 2. on each line, the first and last point that meet the targets (the ends of the range a
///    user can choose from);
/// 3. on each line, its first and last point (the extremes of the swept parameter);
/// 4. evenly spaced spots of each line, as many as the rest of the budget allows, so that
///    the reader can follow the parameter along the line.
///
/// One label per spot: settings drawn on the same pixel share the first one's label (which
/// then names them all, see `tradeoff`), and the spacing of step 4 counts distinct spots,
/// not settings, so that a line whose settings mostly coincide still gets its other spots
/// labelled. Returns the labelled points in that order.
pub fn labelled_points(
    series: &[&[usize]],
    featured: Option<usize>,
    meeting: &dyn Fn(usize) -> bool,
    spot: &dyn Fn(usize) -> (i32, i32),
) -> Option<Vec<usize>> {
    let total: usize = series.iter().map(|m| m.len()).sum();
    if total <= MAX_LABELS {
        return None;
    }
    let mut out: Vec<usize> = Vec::with_capacity(MAX_LABELS);
    let mut taken = std::collections::HashSet::new();
    let mut add = |i: usize, out: &mut Vec<usize>| {
        if taken.insert(spot(i)) {
            out.push(i);
        }
    };
    if let Some(f) = featured {
        add(f, &mut out);
    }
    for m in series {
        if let Some(&a) = m.iter().find(|&&i| meeting(i)) {
            add(a, &mut out);
        }
        if let Some(&b) = m.iter().rev().find(|&&i| meeting(i)) {
            add(b, &mut out);
        }
    }
    for m in series {
        if let (Some(&a), Some(&b)) = (m.first(), m.last()) {
            add(a, &mut out);
            add(b, &mut out);
        }
    }
    let left = MAX_LABELS.saturating_sub(out.len());
    let per_line = left / series.len().max(1);
    for m in series {
        // The first setting at each distinct spot of the line, in x order.
        let mut seen = std::collections::HashSet::new();
        let firsts: Vec<usize> = m
            .iter()
            .copied()
            .filter(|&i| seen.insert(spot(i)))
            .collect();
        let n = firsts.len();
        if n == 0 {
            continue;
        }
        if n <= per_line {
            firsts.iter().for_each(|&i| add(i, &mut out));
            continue;
        }
        let parts = per_line + 1;
        for j in 1..=per_line {
            // j / parts of the way along the line's spots, rounded.
            let k = (j * (n - 1) + parts / 2) / parts;
            add(firsts[k.min(n - 1)], &mut out);
        }
    }
    Some(out)
}

/// The `n` settings from `first` to `last` drawn at one spot, in a label's words.
fn span_words(first: &str, last: &str, n: usize) -> String {
    format!("{first} … {last} ({n} settings)")
}

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

    // Which points are labelled (`None`: all), and each one's rank in the order of placing.
    let mut meets = vec![false; points.len()];
    if let crate::recommend::Recommendation::Recommended { meeting, .. } = ctx.rec {
        let index: std::collections::HashMap<usize, usize> = points
            .iter()
            .enumerate()
            .map(|(i, p)| (p.point, i))
            .collect();
        for m in meeting {
            if let Some(&i) = index.get(&m.point) {
                meets[i] = true;
            }
        }
    }
    let members: Vec<&[usize]> = ctx.series.iter().map(|s| s.members.as_slice()).collect();
    let spot = |i: usize| {
        let yv = if ctx.no_bound_requests(i) {
            y.lo
        } else {
            y.pos(points[i].mean(cf))
        };
        draw::to_px(&chart, (x.pos(points[i].mean(nsr)), yv))
    };
    let chosen = labelled_points(&members, ctx.featured_index(), &|i| meets[i], &spot);
    let rank: Option<std::collections::HashMap<usize, usize>> = chosen
        .as_ref()
        .map(|c| c.iter().enumerate().map(|(r, &i)| (i, r)).collect());

    // Series lines and CI whiskers, then markers; labels last, on top.
    // A label: its point (pixels), text and colour.
    type Label = ((i32, i32), String, RGBColor);
    let mut labels: Vec<Label> = Vec::new();
    // With `rank`, the labels of the chosen points, by rank, placed before the others.
    let mut ranked: Vec<(usize, Label)> = Vec::new();
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
        // When only some points are labelled, each label names every setting of the line
        // drawn at its spot: the first, the last and how many.
        let mut at_spot: std::collections::HashMap<(i32, i32), (usize, usize, usize)> =
            std::collections::HashMap::new();
        if rank.is_some() {
            for (k, &i) in s.members.iter().enumerate() {
                if !ctx.no_bound_requests(i) {
                    let e = at_spot.entry(px[k]).or_insert((i, i, 0));
                    (e.1, e.2) = (i, e.2 + 1);
                }
            }
        }
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
            let r = match &rank {
                None => None,
                Some(rank) => match rank.get(&i) {
                    Some(&r) => Some(r),
                    None => continue,
                },
            };
            // The first point of a line names the parameter; the others just the value.
            let value = fmt_num(ctx.x_of(i));
            let text = if let Some(&(a, b, n @ 2..)) = at_spot.get(&px[k]) {
                let (a, b) = (fmt_num(ctx.x_of(a)), fmt_num(ctx.x_of(b)));
                format!("{}={}", ctx.x_name, span_words(&a, &b, n))
            } else if k == 0 {
                format!("{}={value}", ctx.x_name)
            } else {
                value
            };
            match r {
                Some(r) => ranked.push((r, (px[k], text, s.color))),
                None => labels.push((px[k], text, s.color)),
            }
        }
        for (q, values) in dead_labels {
            // In a large sweep one spot can gather thousands of settings: the first, the
            // last and how many.
            let values = if rank.is_some() && values.len() > 3 {
                span_words(&values[0], &values[values.len() - 1], values.len())
            } else {
                values.join(", ")
            };
            labels.push((q, format!("{}={values}", ctx.x_name), s.color));
        }
        let hollow: Vec<bool> = s
            .members
            .iter()
            .filter(|&&i| !ctx.no_bound_requests(i))
            .map(|&i| x.clamped(points[i].mean(nsr)) || y.clamped(points[i].mean(cf)))
            .collect();
        let (at, open) = super::sweep::once_per_pixel(&chart, &live, &hollow);
        draw::markers(&mut chart, &at, &open, s.color, 6)?;
        draw::crosses(&mut chart, &undefined)?;
        if let Some(f) = ctx.featured_index() {
            if let Some(k) = s.members.iter().position(|&i| i == f) {
                draw::ring(&mut chart, pts[k])?;
            }
        }
    }
    ranked.sort_by_key(|(r, _)| *r);
    let labels: Vec<_> = ranked.into_iter().map(|(_, l)| l).chain(labels).collect();
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
         {}Crosses are 95% confidence intervals.{}{}",
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
        },
        match &chosen {
            Some(c) => format!(
                " With {} settings, {} are labelled: the ringed one, the first and last that \
                 meet the targets and the ends of each line, then evenly spaced ones along \
                 it; the summary table lists every setting.",
                points.len(),
                c.len()
            ),
            None => String::new(),
        }
    );
    Ok((title, caption))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_sweeps_label_every_point() {
        let line: Vec<usize> = (0..MAX_LABELS).collect();
        assert_eq!(
            labelled_points(&[&line], Some(3), &|_| true, &|i| (i as i32, 0)),
            None
        );
    }

    #[test]
    fn large_sweeps_label_the_featured_point_the_ends_and_spaced_points() {
        let line: Vec<usize> = (0..10_000).collect();
        // Points 6,000 to 7,999 meet the targets; 6,500 is recommended.
        let meets = |i: usize| (6000..8000).contains(&i);
        let chosen = labelled_points(&[&line], Some(6500), &meets, &|i| (i as i32, 0)).unwrap();
        assert_eq!(chosen.len(), MAX_LABELS);
        assert_eq!(&chosen[..5], &[6500, 6000, 7999, 0, 9999]);
        let mut sorted = chosen.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), chosen.len(), "each point once");
        // The spaced points are spread along the whole line: no gap much wider than an
        // even share.
        let gap = sorted.windows(2).map(|w| w[1] - w[0]).max().unwrap();
        assert!(gap <= 10_000 / (MAX_LABELS - 5) + 2, "gap {gap}");
    }

    #[test]
    fn several_lines_share_the_budget_and_keep_their_ends() {
        let a: Vec<usize> = (0..100).collect();
        let b: Vec<usize> = (100..200).collect();
        let c: Vec<usize> = (200..300).collect();
        let chosen = labelled_points(&[&a, &b, &c], None, &|_| false, &|i| (i as i32, 0)).unwrap();
        assert!(chosen.len() <= MAX_LABELS);
        for end in [0, 99, 100, 199, 200, 299] {
            assert!(chosen.contains(&end), "{end}");
        }
        for line in [&a, &b, &c] {
            let n = chosen.iter().filter(|i| line.contains(i)).count();
            assert!(n >= MAX_LABELS / 3 - 2, "{n} labels on a line");
        }
    }

    #[test]
    fn settings_on_one_spot_share_a_label_and_the_other_spots_are_labelled() {
        // 10,000 settings, all but the last 8 drawn on one pixel (as when none rejects or
        // fails anything): one label there, and one for each of the 8 others.
        let line: Vec<usize> = (0..10_000).collect();
        let spot = |i: usize| (i.saturating_sub(9991) as i32 * 50, 0);
        let chosen = labelled_points(&[&line], Some(0), &|_| false, &spot).unwrap();
        let mut sorted = chosen.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [0, 9992, 9993, 9994, 9995, 9996, 9997, 9998, 9999]);
        assert_eq!(chosen[..2], [0, 9999]);
    }
}
