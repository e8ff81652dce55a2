//! The feasible region of `slotsim plan`: one column per evaluated candidate (accounts or
//! load), one row per reserved value, each cell coloured by its verdict on the targets.
//! Cells are drawn on a regular grid with labels outside it, so no label covers a cell.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::draw::{self, font, muted, DrawResult};
use super::RenderedChart;
use crate::plan::{PlanOutcome, Search};
use crate::recommend::{Targets, Verdict};
use crate::report::ReportError;

const MEETS: RGBColor = RGBColor(0x4C, 0xA8, 0x5A);
const UNDECIDED: RGBColor = RGBColor(0xF2, 0xB1, 0x34);
const FAILS: RGBColor = RGBColor(0xE8, 0xA0, 0x98);
const DEAD: RGBColor = RGBColor(0xBB, 0xBB, 0xBB);

fn draw_plan<DB: DrawingBackend>(
    o: &PlanOutcome,
    t: &Targets,
    concurrency: u32,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let what = match o.search {
        Search::Accounts => format!("accounts of pool {:?}", o.pool),
        Search::Load => "load (multiplier of the arrival rate)".to_string(),
    };
    let area = draw::title_block(
        root,
        "Feasible region: which reserved values meet the targets",
        &format!(
            "Each column is a candidate evaluated by the search ({what}); each cell one reserved value, coloured by its 95% verdict"
        ),
    )?;
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    // Legend row.
    let mut x = 90;
    for (label, color) in [
        ("meets the targets", MEETS),
        ("undecided (interval straddles a target)", UNDECIDED),
        ("fails a target", FAILS),
        ("R >= C: no new session can land", DEAD),
    ] {
        area.draw(&Rectangle::new([(x, 8), (x + 18, 26)], color.filled()))?;
        area.draw_text(label, &font(draw::SMALL_SIZE), (x + 24, 10))?;
        x += 34 + (label.len() as i32) * 8;
    }
    let cols = o.candidates.len().max(1) as i32;
    let rows = o.candidates.first().map_or(1, |c| c.points.len().max(1)) as i32;
    let (left, top, right, bottom) = (90, 64, 30, 80);
    let cw = ((w - left - right) / cols).clamp(8, 120);
    let ch = ((h - top - bottom) / rows).clamp(8, 80);
    for (ci, c) in o.candidates.iter().enumerate() {
        let x0 = left + ci as i32 * cw;
        let best = c.recommendation.featured_point();
        for (ri, (r, p)) in c.points.iter().enumerate() {
            let y0 = top + (rows - 1 - ri as i32) * ch;
            let color = if *r >= concurrency as i64 {
                DEAD
            } else {
                match p.verdict(t) {
                    Verdict::Meets => MEETS,
                    Verdict::Undecided => UNDECIDED,
                    Verdict::Fails => FAILS,
                }
            };
            area.draw(&Rectangle::new(
                [(x0 + 2, y0 + 2), (x0 + cw - 2, y0 + ch - 2)],
                color.filled(),
            ))?;
            if best == Some(ri) && c.feasible() {
                area.draw(&Rectangle::new(
                    [(x0 + 2, y0 + 2), (x0 + cw - 2, y0 + ch - 2)],
                    ShapeStyle::from(&BLACK).stroke_width(3),
                ))?;
            }
        }
        // Column label below the grid.
        let label = match o.search {
            Search::Accounts => c.accounts.to_string(),
            Search::Load => format!("x{}", c.load),
        };
        area.draw_text(
            &label,
            &font(draw::SMALL_SIZE),
            (x0 + cw / 2 - 4 * label.len() as i32, top + rows * ch + 6),
        )?;
        if o.answer == Some(ci) {
            area.draw_text(
                "answer",
                &font(draw::SMALL_SIZE),
                (x0 + cw / 2 - 24, top + rows * ch + 26),
            )?;
        }
    }
    if let Some(c) = o.candidates.first() {
        for (ri, (r, _)) in c.points.iter().enumerate() {
            let y0 = top + (rows - 1 - ri as i32) * ch;
            area.draw_text(
                &format!("R={r}"),
                &font(draw::SMALL_SIZE),
                (left - 50, y0 + ch / 2 - 7),
            )?;
        }
    }
    area.draw_text(
        &format!("{what} (only the candidates the search evaluated); black outline: the reserved value chosen at a feasible candidate"),
        &muted(draw::SMALL_SIZE),
        (left, top + rows * ch + 48),
    )?;
    Ok(())
}

/// Draws `plan_feasible.png` and `.svg` into `dir`.
pub fn render_plan(
    o: &PlanOutcome,
    t: &Targets,
    concurrency: u32,
    dir: &std::path::Path,
) -> Result<RenderedChart, ReportError> {
    super::register_fonts();
    let stem = "plan_feasible";
    let (w, h) = (1100u32, 620u32);
    let png = dir.join(format!("{stem}.png"));
    let svg = dir.join(format!("{stem}.svg"));
    let mut rgb = vec![0u8; (w as usize) * (h as usize) * 3];
    {
        let root = super::text::CrispText(BitMapBackend::with_buffer(&mut rgb, (w, h)))
            .into_drawing_area();
        draw_plan(o, t, concurrency, &root).map_err(|e| super::chart_error(&png, e))?;
        root.present().map_err(|e| super::chart_error(&png, e))?;
    }
    let bytes = super::encode_png(&rgb, w, h).map_err(|e| super::chart_error(&png, e))?;
    crate::output::write_atomic(dir, &format!("{stem}.png"), &bytes)?;
    let mut svg_text = String::new();
    {
        let root = super::svg::FastSvg::with_string(&mut svg_text, (w, h)).into_drawing_area();
        draw_plan(o, t, concurrency, &root).map_err(|e| super::chart_error(&svg, e))?;
        root.present().map_err(|e| super::chart_error(&svg, e))?;
    }
    crate::output::write_atomic(dir, &format!("{stem}.svg"), svg_text.as_bytes())?;
    Ok(RenderedChart {
        stem,
        title: "Feasible region".to_string(),
        caption: "Green cells meet every target at 95% confidence, amber ones are undecided, red ones fail; grey: reserved >= concurrency. Only the candidates the search evaluated are shown.".to_string(),
        png,
        svg,
        svg_text,
    })
}
