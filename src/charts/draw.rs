//! Drawing pieces shared by the charts: text styles, the title block, legends laid out
//! above the plot (so they never cover data), panels with axes from [`Axis`], lines,
//! markers, CI bars and point labels placed so that they do not overlap.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Axis;
use super::FONT_FAMILY;

pub type DrawResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

pub type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<Ticked, Ticked>>;

/// A linear f64 coordinate whose grid lines and labels are exactly the given ticks
/// (plotters' own f64 range picks its own ticks, and its key-point wrapper cannot take a
/// custom label formatter).
#[derive(Debug, Clone)]
pub struct Ticked {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ticked {
    pub fn new(axis: &Axis) -> Ticked {
        Ticked {
            lo: axis.lo,
            hi: axis.hi,
            ticks: axis.ticks.clone(),
        }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        let len = (limit.1 - limit.0) as f64;
        if span <= 0.0 || !v.is_finite() {
            return limit.0 + (len / 2.0) as i32;
        }
        let f = ((v - self.lo) / span).clamp(-10.0, 10.0);
        limit.0 + round_to_i32(len * f)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// `x.round() as i32` for the pixel offsets of [`Ticked::map`] (at most ten plot widths):
/// the same value, without a call into the maths library for `round` (which the baseline
/// x86-64 target has no instruction for). Every point of a long time series is mapped.
#[inline]
fn round_to_i32(x: f64) -> i32 {
    if x.abs() < 1e9 {
        // `trunc` by conversion (exact here), then half away from zero, as `round` does.
        let t = x as i64;
        let d = x - t as f64;
        let r = if d >= 0.5 {
            t + 1
        } else if d <= -0.5 {
            t - 1
        } else {
            t
        };
        r as i32
    } else {
        x.round() as i32
    }
}

pub const TEXT: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub const MUTED: RGBColor = RGBColor(0x66, 0x66, 0x66);
pub const GRID: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);
pub const MAIN_COLOR: RGBColor = RGBColor(0x1F, 0x4E, 0x8C);
pub const TARGET: RGBColor = RGBColor(0x2E, 0x8B, 0x3E);
/// Points whose rate is undefined (no bound request at all).
pub const UNDEFINED: RGBColor = RGBColor(0x8A, 0x8A, 0x8A);
pub const WARMUP: RGBColor = RGBColor(0xCC, 0xCC, 0xCC);

pub const TITLE_SIZE: f64 = 24.0;
pub const LABEL_SIZE: f64 = 16.0;
pub const DESC_SIZE: f64 = 17.0;
pub const SMALL_SIZE: f64 = 14.0;

/// `c` blended towards white by `f` (0 = unchanged, 1 = white).
pub fn lighten(c: RGBColor, f: f64) -> RGBColor {
    let m = |v: u8| (v as f64 + (255.0 - v as f64) * f).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

pub fn font(size: f64) -> TextStyle<'static> {
    (FONT_FAMILY, size).into_font().color(&TEXT)
}

pub fn muted(size: f64) -> TextStyle<'static> {
    (FONT_FAMILY, size).into_font().color(&MUTED)
}

/// Draws the chart title and a grey subtitle; returns the area below them.
pub fn title_block<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> DrawResult<DrawingArea<DB, Shift>>
where
    DB::ErrorType: 'static,
{
    root.draw_text(
        title,
        &(FONT_FAMILY, TITLE_SIZE, FontStyle::Bold)
            .into_font()
            .color(&TEXT),
        (18, 12),
    )?;
    let mut h = 46;
    if !subtitle.is_empty() {
        root.draw_text(subtitle, &muted(SMALL_SIZE), (18, 44))?;
        h = 68;
    }
    Ok(root.split_vertically(h).1)
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Symbol {
    /// A line with a marker on it.
    Line,
    /// A line alone (series drawn without markers).
    Plain,
    /// A dashed line with a marker.
    Dashed,
    /// A dashed line alone (a target or reference level).
    Rule,
    /// A filled box (a shaded region).
    Band,
    /// A black ring (the featured point).
    Ring,
    /// A hollow marker (a zero clamped onto a log axis).
    Hollow,
    /// A grey cross (a point whose rate is undefined: no bound request at all).
    Cross,
}

#[derive(Debug, Clone)]
pub struct LegendEntry {
    pub label: String,
    pub color: RGBColor,
    pub symbol: Symbol,
}

impl LegendEntry {
    pub fn new(label: impl Into<String>, color: RGBColor, symbol: Symbol) -> LegendEntry {
        LegendEntry {
            label: label.into(),
            color,
            symbol,
        }
    }
}

const LEGEND_ROW: i32 = 26;
const LEGEND_SYMBOL: i32 = 30;

/// Draws the legend as rows of entries across the top of `area`; returns the area below.
pub fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
) -> DrawResult<DrawingArea<DB, Shift>>
where
    DB::ErrorType: 'static,
{
    if entries.is_empty() {
        return Ok(area.split_vertically(4).1);
    }
    let style = font(LABEL_SIZE);
    let (w, _) = area.dim_in_pixel();
    let left = 24;
    let right = w as i32 - 16;
    let mut x = left;
    let mut row = 0;
    let mut placed = Vec::with_capacity(entries.len());
    for e in entries {
        let (tw, _) = area.estimate_text_size(&e.label, &style)?;
        let ew = LEGEND_SYMBOL + 6 + tw as i32;
        if x > left && x + ew > right {
            row += 1;
            x = left;
        }
        placed.push((x, row));
        x += ew + 26;
    }
    let height = (row + 1) * LEGEND_ROW + 8;
    let (top, rest) = area.split_vertically(height);
    for (e, (x, row)) in entries.iter().zip(placed) {
        let cy = row * LEGEND_ROW + LEGEND_ROW / 2 + 2;
        draw_symbol(&top, e, x, cy)?;
        top.draw_text(
            &e.label,
            &style.pos(Pos::new(HPos::Left, VPos::Center)),
            (x + LEGEND_SYMBOL + 6, cy),
        )?;
    }
    Ok(rest)
}

fn draw_symbol<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    e: &LegendEntry,
    x: i32,
    cy: i32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let c = e.color;
    match e.symbol {
        Symbol::Line => {
            area.draw(&PathElement::new(
                vec![(x, cy), (x + LEGEND_SYMBOL, cy)],
                c.stroke_width(3),
            ))?;
            area.draw(&Circle::new((x + LEGEND_SYMBOL / 2, cy), 4, c.filled()))?;
        }
        Symbol::Dashed => {
            area.draw(&PathElement::new(
                vec![(x, cy), (x + 9, cy)],
                c.stroke_width(3),
            ))?;
            area.draw(&PathElement::new(
                vec![(x + 21, cy), (x + LEGEND_SYMBOL, cy)],
                c.stroke_width(3),
            ))?;
            area.draw(&Circle::new((x + LEGEND_SYMBOL / 2, cy), 4, c.filled()))?;
        }
        Symbol::Plain => {
            area.draw(&PathElement::new(
                vec![(x, cy), (x + LEGEND_SYMBOL, cy)],
                c.stroke_width(3),
            ))?;
        }
        Symbol::Rule => {
            for (a, b) in [(0, 8), (12, 20), (24, LEGEND_SYMBOL)] {
                area.draw(&PathElement::new(
                    vec![(x + a, cy), (x + b, cy)],
                    c.stroke_width(2),
                ))?;
            }
        }
        Symbol::Band => {
            area.draw(&Rectangle::new(
                [(x, cy - 8), (x + LEGEND_SYMBOL, cy + 8)],
                c.mix(0.35).filled(),
            ))?;
            area.draw(&Rectangle::new(
                [(x, cy - 8), (x + LEGEND_SYMBOL, cy + 8)],
                c.stroke_width(1),
            ))?;
        }
        Symbol::Ring => {
            area.draw(&Circle::new(
                (x + LEGEND_SYMBOL / 2, cy),
                9,
                BLACK.stroke_width(2),
            ))?;
        }
        Symbol::Hollow => {
            area.draw(&Circle::new(
                (x + LEGEND_SYMBOL / 2, cy),
                5,
                c.stroke_width(2),
            ))?;
            area.draw(&Circle::new((x + LEGEND_SYMBOL / 2, cy), 3, WHITE.filled()))?;
        }
        Symbol::Cross => {
            let (cx, r) = (x + LEGEND_SYMBOL / 2, 6);
            for (a, b) in [((-r, -r), (r, r)), ((-r, r), (r, -r))] {
                area.draw(&PathElement::new(
                    vec![(cx + a.0, cy + a.1), (cx + b.0, cy + b.1)],
                    c.stroke_width(3),
                ))?;
            }
        }
    }
    Ok(())
}

/// The legend entry for points without any bound request (their rates are 0/0).
pub fn no_bound_entry() -> LegendEntry {
    LegendEntry::new(
        "no bound requests: no new session could land (R ≥ C), failure rate undefined, not 0",
        UNDEFINED,
        Symbol::Cross,
    )
}

/// Grey crosses at points in plot coordinates: points whose rate is undefined.
pub fn crosses<DB: DrawingBackend>(chart: &mut Chart<DB>, pts: &[(f64, f64)]) -> DrawResult
where
    DB::ErrorType: 'static,
{
    for &p in pts {
        if !(p.0.is_finite() && p.1.is_finite()) {
            continue;
        }
        let area = chart.plotting_area().strip_coord_spec();
        let c = to_px(chart, p);
        let r = 7;
        for (a, b) in [((-r, -r), (r, r)), ((-r, r), (r, -r))] {
            area.draw(&PathElement::new(
                vec![(c.0 + a.0, c.1 + a.1), (c.0 + b.0, c.1 + b.1)],
                UNDEFINED.stroke_width(3),
            ))?;
        }
    }
    Ok(())
}

/// Width in pixels the y tick labels and the rotated axis title need.
pub fn y_label_width<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, y: &Axis) -> DrawResult<u32>
where
    DB::ErrorType: 'static,
{
    let style = font(LABEL_SIZE);
    let mut w = 0;
    for t in &y.ticks {
        w = w.max(area.estimate_text_size(&y.label(*t), &style)?.0);
    }
    Ok(w + 44)
}

/// Builds a panel with a mesh from the two axes.
pub fn panel<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: &Axis,
    y: &Axis,
    caption: Option<&str>,
    x_desc: &str,
    y_desc: &str,
) -> DrawResult<Chart<'a, DB>>
where
    DB::ErrorType: 'static,
{
    let y_area = y_label_width(area, y)?;
    panel_sized(area, x, y, caption, x_desc, y_desc, y_area)
}

/// [`panel`] with a given width for the y label area, so that stacked panels line up.
pub fn panel_sized<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: &Axis,
    y: &Axis,
    caption: Option<&str>,
    x_desc: &str,
    y_desc: &str,
    y_area: u32,
) -> DrawResult<Chart<'a, DB>>
where
    DB::ErrorType: 'static,
{
    let mut builder = ChartBuilder::on(area);
    builder
        .margin_left(10)
        .margin_right(26)
        .margin_top(if caption.is_some() { 4 } else { 12 })
        .margin_bottom(6)
        .x_label_area_size(if x_desc.is_empty() { 30 } else { 58 })
        .y_label_area_size(y_area);
    if let Some(c) = caption {
        builder.caption(
            c,
            (FONT_FAMILY, DESC_SIZE, FontStyle::Bold)
                .into_font()
                .color(&TEXT),
        );
    }
    let mut chart = builder.build_cartesian_2d(Ticked::new(x), Ticked::new(y))?;
    let xf = |v: &f64| x.label(*v);
    let yf = |v: &f64| y.label(*v);
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .label_style(font(LABEL_SIZE))
        .axis_desc_style(font(DESC_SIZE))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(MUTED.stroke_width(1))
        .draw()?;
    Ok(chart)
}

/// A polyline through points in plot coordinates; NaN points break nothing, they are
/// skipped.
pub fn line<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    pts: &[(f64, f64)],
    color: RGBColor,
    width: u32,
    dashed: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let pts: Vec<(f64, f64)> = pts
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if pts.len() < 2 {
        return Ok(());
    }
    if dashed {
        chart.draw_series(DashedLineSeries::new(pts, 10, 6, color.stroke_width(width)))?;
    } else {
        chart.draw_series(LineSeries::new(pts, color.stroke_width(width)))?;
    }
    Ok(())
}

/// Markers at points in plot coordinates; `hollow[i]` draws an open marker (a value
/// clamped onto the lower edge of a log axis).
pub fn markers<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    pts: &[(f64, f64)],
    hollow: &[bool],
    color: RGBColor,
    radius: i32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    // A sweep of many points puts many markers on the same pixel: one drawn again in the
    // same colour changes nothing, so each pixel position is drawn once. Not with open
    // markers, whose white centre may cover another marker that a repeat would redraw.
    let any_hollow = hollow.iter().any(|&h| h);
    let mut drawn = PixelSet::default();
    for (i, &(x, y)) in pts.iter().enumerate() {
        if !(x.is_finite() && y.is_finite()) {
            continue;
        }
        if !any_hollow && !drawn.insert(chart.backend_coord(&(x, y))) {
            continue;
        }
        if hollow.get(i).copied().unwrap_or(false) {
            chart.draw_series(std::iter::once(Circle::new(
                (x, y),
                radius + 1,
                color.stroke_width(2),
            )))?;
            chart.draw_series(std::iter::once(Circle::new(
                (x, y),
                (radius - 1).max(1),
                WHITE.filled(),
            )))?;
        } else {
            chart.draw_series(std::iter::once(Circle::new((x, y), radius, color.filled())))?;
        }
    }
    Ok(())
}

/// A set of pixel positions (or boxes of them) that is only asked whether it holds one.
type PixelSet<T> = std::collections::HashSet<T, std::hash::BuildHasherDefault<PixelHasher>>;

/// A cheap hash for a few pixel coordinates: a sweep of thousands of points asks tens of
/// thousands of times whether a bar, a marker or a box is already drawn, and the standard
/// hasher (built to withstand keys chosen by an attacker, which pixels are not) cost about
/// as much as the drawing. Each coordinate is mixed in by a multiplication; the high bits
/// are folded into the low ones, which pick the table's bucket.
#[derive(Default)]
struct PixelHasher(u64);

impl PixelHasher {
    fn mix(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(23) ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

impl std::hash::Hasher for PixelHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.mix(u64::from(b));
        }
    }

    fn write_i32(&mut self, v: i32) {
        self.mix(u64::from(v as u32));
    }

    fn write_usize(&mut self, v: usize) {
        self.mix(v as u64);
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

/// Vertical CI bars, `(x, lo, mean, hi)` in plot coordinates.
pub fn ci_bars<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    bars: &[(f64, f64, f64, f64)],
    color: RGBColor,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    // (x, low, mean, high): ErrorBar also draws a dot at the mean, so it must be the
    // marker's own position (on a log axis it is not the bar's midpoint). Every bar here
    // has the same colour and width, so a bar that falls on the same pixels as one already
    // drawn changes nothing and is left out: a sweep of thousands of points has many.
    let mut drawn = PixelSet::default();
    for &(x, lo, mid, hi) in bars {
        if !(x.is_finite() && lo.is_finite() && hi.is_finite() && mid.is_finite()) || hi <= lo {
            continue;
        }
        let pixels = [(x, lo), (x, mid), (x, hi)].map(|p| chart.backend_coord(&p));
        if !drawn.insert(pixels) {
            continue;
        }
        chart.draw_series(std::iter::once(ErrorBar::new_vertical(
            x,
            lo,
            mid,
            hi,
            color.stroke_width(2),
            10,
        )))?;
    }
    Ok(())
}

/// A black ring around a point (the featured setting).
pub fn ring<DB: DrawingBackend>(chart: &mut Chart<DB>, p: (f64, f64)) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if p.0.is_finite() && p.1.is_finite() {
        chart.draw_series(std::iter::once(Circle::new(p, 10, BLACK.stroke_width(2))))?;
    }
    Ok(())
}

/// The dashed target line alone; its label comes later from [`rule_label`], once the data
/// it must not hide under (or cover) is known.
pub fn target_rule<DB: DrawingBackend>(chart: &mut Chart<DB>, y: f64) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (xr, yr) = (chart.x_range(), chart.y_range());
    if y >= yr.start && y <= yr.end {
        chart.draw_series(DashedLineSeries::new(
            vec![(xr.start, y), (xr.end, y)],
            8,
            5,
            TARGET.stroke_width(2),
        ))?;
    }
    Ok(())
}

/// Candidate top-left corners for the label of a horizontal line at pixel height `py` in an
/// area `aw` pixels wide: above then below its right end, then its left end, then its middle.
pub fn rule_label_candidates(aw: i32, py: i32, w: i32, h: i32) -> Vec<(i32, i32)> {
    let (right, left, mid) = (aw - w - 6, 8, (aw - w) / 2);
    let (above, below) = (py - h - 2, py + 3);
    vec![
        (right, above),
        (right, below),
        (left, above),
        (left, below),
        (mid, above),
        (mid, below),
    ]
}

/// The label of a horizontal line at `y` (plot coordinates), placed by `placer` beside the
/// line where it covers no marker, CI bar or earlier label, on a white box drawn on top.
pub fn rule_label<DB: DrawingBackend>(
    chart: &Chart<DB>,
    placer: &mut Placer,
    y: f64,
    label: &str,
    color: RGBColor,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (xr, yr) = (chart.x_range(), chart.y_range());
    if !(y >= yr.start && y <= yr.end) {
        return Ok(());
    }
    let style = font(SMALL_SIZE).color(&color);
    let (w, h) = label_size(chart, label, &style)?;
    let (aw, _) = chart.plotting_area().dim_in_pixel();
    let py = to_px(chart, (xr.start, y)).1;
    let r = placer.place(w, h, &rule_label_candidates(aw as i32, py, w, h));
    draw_label(chart, r, label, &style, None)
}

/// A thin grey reference line (e.g. the p95 level), labelled at its right end.
pub fn reference_line<DB: DrawingBackend>(chart: &mut Chart<DB>, y: f64, label: &str) -> DrawResult
where
    DB::ErrorType: 'static,
{
    target_line_colored(chart, y, label, RGBColor(0x99, 0x99, 0x99), 1)
}

/// A dashed horizontal line across the panel in `color`, labelled at its right end.
pub fn target_line_colored<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    y: f64,
    label: &str,
    color: RGBColor,
    width: u32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let xr = chart.x_range();
    let yr = chart.y_range();
    if !(y >= yr.start && y <= yr.end) {
        return Ok(());
    }
    chart.draw_series(DashedLineSeries::new(
        vec![(xr.start, y), (xr.end, y)],
        8,
        5,
        color.stroke_width(width),
    ))?;
    let (px, py) = chart.backend_coord(&(xr.end, y));
    let style = (FONT_FAMILY, SMALL_SIZE)
        .into_font()
        .color(&color)
        .pos(Pos::new(HPos::Right, VPos::Bottom));
    chart.plotting_area().strip_coord_spec().draw_text(
        label,
        &style,
        plot_rel(chart, (px - 6, py - 3)),
    )?;
    Ok(())
}

/// Converts an absolute backend coordinate to one relative to the chart's plotting area.
pub fn plot_rel<DB: DrawingBackend>(chart: &Chart<DB>, p: (i32, i32)) -> (i32, i32) {
    let (bx, by) = chart.plotting_area().get_base_pixel();
    (p.0 - bx, p.1 - by)
}

/// A message in the middle of an otherwise empty area.
pub fn empty_note<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, text: &str) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (w, h) = area.dim_in_pixel();
    area.draw_text(
        text,
        &muted(DESC_SIZE).pos(Pos::new(HPos::Center, VPos::Center)),
        (w as i32 / 2, h as i32 / 2),
    )?;
    Ok(())
}

/// An axis-aligned box in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

impl Rect {
    /// The box spanned by two corners in any order.
    pub fn span(a: (i32, i32), b: (i32, i32)) -> Rect {
        Rect {
            x0: a.0.min(b.0),
            y0: a.1.min(b.1),
            x1: a.0.max(b.0),
            y1: a.1.max(b.1),
        }
    }
    fn at(x: i32, y: i32, w: i32, h: i32) -> Rect {
        Rect {
            x0: x,
            y0: y,
            x1: x + w,
            y1: y + h,
        }
    }
    fn overlaps(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
    fn inside(&self, o: &Rect) -> bool {
        self.x0 >= o.x0 && self.x1 <= o.x1 && self.y0 >= o.y0 && self.y1 <= o.y1
    }
    /// The point of the box nearest to `p`.
    fn nearest(&self, p: (i32, i32)) -> (i32, i32) {
        (p.0.clamp(self.x0, self.x1), p.1.clamp(self.y0, self.y1))
    }
}

/// Places text boxes in a panel's plotting area (pixel coordinates relative to it) so that
/// they overlap neither each other nor the *hard* obstacles (markers, CI bars, other
/// labels), and if possible not the *soft* ones (lines).
pub struct Placer<'a> {
    bounds: Rect,
    hard: Obstacles,
    soft: Obstacles,
    /// Box sizes for which no spot of the grid was free: a box at least as large finds
    /// none either (obstacles are only added), so the grid is not searched again.
    full: Vec<(i32, i32)>,
    /// Where the boxes chosen are kept, or taken from when the layout is replayed.
    layout: Option<&'a mut Layout>,
}

/// The boxes a chart's placer chose, in the order they were asked for: kept from a chart's
/// first drawing (PNG) for its second (SVG). Both are drawn at the same size with the same
/// text metrics from the same data, so the search would find the same boxes again, and on
/// a sweep of thousands of points it is most of the trade-off chart's time.
///
/// It also keeps the time-series chart's pixel envelopes (see `timeseries`), each with
/// what it was made from, for the same reason: a long run has hundreds of thousands of
/// points to reduce, and the SVG's plots have the same pixel columns as the PNG's.
#[derive(Debug, Default)]
pub struct Layout {
    boxes: Vec<Rect>,
    /// The next box to hand out, once the layout is being replayed.
    next: Option<usize>,
    /// Envelopes in the order they were made, with their keys.
    envelopes: Vec<(EnvelopeKey, Vec<(f64, f64)>)>,
    /// The next envelope to hand out, once the layout is being replayed.
    next_envelope: usize,
}

/// What a kept envelope was made from: the series (its rows' address and number, which
/// stay put while both drawings of a chart are made from the same data, and which of
/// their values) and the plot's pixel columns (the x axis' pixels and range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvelopeKey {
    pub rows: usize,
    pub len: usize,
    pub value: u8,
    pub pixels: (i32, i32),
    pub range: (u64, u64),
}

impl Layout {
    /// The envelope made for `key` when the layout was kept, when replaying; otherwise
    /// (or if the next kept one was made from something else) `make`'s, kept.
    pub fn envelope(
        &mut self,
        key: EnvelopeKey,
        make: impl FnOnce() -> Vec<(f64, f64)>,
    ) -> Vec<(f64, f64)> {
        if self.replaying() {
            if let Some((k, env)) = self.envelopes.get_mut(self.next_envelope) {
                if *k == key {
                    self.next_envelope += 1;
                    return std::mem::take(env);
                }
            }
            return make();
        }
        let env = make();
        self.envelopes.push((key, env.clone()));
        env
    }
}

impl Layout {
    /// From now on a placer with this layout hands out the kept boxes instead of searching.
    pub fn replay(&mut self) {
        self.next = Some(0);
    }

    /// Whether a replay handed out every kept box (and no more were asked for).
    pub fn replayed_whole(&self) -> bool {
        match self.next {
            None => true,
            Some(n) => n == self.boxes.len(),
        }
    }

    fn replaying(&self) -> bool {
        self.next.is_some()
    }
}

/// Boxes, indexed by the 32-pixel cells of the area they cover, so that asking whether a
/// box overlaps any of them looks at the few in its cells, not at all of them (a sweep of
/// thousands of points has thousands of markers and labels).
struct Obstacles {
    rects: Vec<Rect>,
    /// Every box pushed, once: a box equal to one already there changes no answer, and a
    /// sweep of thousands of points stacks thousands of equal ones (markers on the same
    /// pixel, labels that found no free spot) in the same cells.
    seen: PixelSet<(i32, i32, i32, i32)>,
    cells: Vec<Vec<u32>>,
    cols: i32,
    rows: i32,
    origin: (i32, i32),
}

const CELL: i32 = 32;

impl Obstacles {
    fn new(bounds: &Rect) -> Obstacles {
        let cols = ((bounds.x1 - bounds.x0).max(1) + CELL - 1) / CELL;
        let rows = ((bounds.y1 - bounds.y0).max(1) + CELL - 1) / CELL;
        Obstacles {
            rects: Vec::new(),
            seen: PixelSet::default(),
            cells: vec![Vec::new(); (cols * rows) as usize],
            cols,
            rows,
            origin: (bounds.x0, bounds.y0),
        }
    }

    /// The cells a box touches, clamped to the area (a box partly outside is kept in the
    /// cells of its part inside; only boxes inside the area are ever asked about).
    fn cell_range(&self, r: &Rect) -> Option<(i32, i32, i32, i32)> {
        let cx0 = ((r.x0 - self.origin.0).div_euclid(CELL)).max(0);
        let cy0 = ((r.y0 - self.origin.1).div_euclid(CELL)).max(0);
        let cx1 = ((r.x1 - self.origin.0).div_euclid(CELL)).min(self.cols - 1);
        let cy1 = ((r.y1 - self.origin.1).div_euclid(CELL)).min(self.rows - 1);
        (cx0 <= cx1 && cy0 <= cy1).then_some((cx0, cy0, cx1, cy1))
    }

    fn push(&mut self, r: Rect) {
        if !self.seen.insert((r.x0, r.y0, r.x1, r.y1)) {
            return;
        }
        let id = self.rects.len() as u32;
        self.rects.push(r);
        if let Some((cx0, cy0, cx1, cy1)) = self.cell_range(&r) {
            for cy in cy0..=cy1 {
                for cx in cx0..=cx1 {
                    self.cells[(cy * self.cols + cx) as usize].push(id);
                }
            }
        }
    }

    fn any_overlaps(&self, r: &Rect) -> bool {
        let Some((cx0, cy0, cx1, cy1)) = self.cell_range(r) else {
            return false;
        };
        (cy0..=cy1).any(|cy| {
            (cx0..=cx1).any(|cx| {
                self.cells[(cy * self.cols + cx) as usize]
                    .iter()
                    .any(|&i| self.rects[i as usize].overlaps(r))
            })
        })
    }
}

impl<'a> Placer<'a> {
    pub fn new<DB: DrawingBackend>(chart: &Chart<DB>) -> Placer<'static> {
        let (w, h) = chart.plotting_area().dim_in_pixel();
        Placer::with_size(w, h)
    }

    /// A placer that keeps its choices in `layout`, or hands them out from it when it is
    /// replayed (then obstacles are not even recorded: nothing is searched).
    pub fn with_layout<DB: DrawingBackend>(
        chart: &Chart<DB>,
        layout: &'a mut Layout,
    ) -> Placer<'a> {
        let (w, h) = chart.plotting_area().dim_in_pixel();
        Placer {
            layout: Some(layout),
            ..Placer::with_size(w, h)
        }
    }

    /// A placer for an area of `w` x `h` pixels.
    pub fn with_size(w: u32, h: u32) -> Placer<'static> {
        let bounds = Rect::at(2, 2, w as i32 - 4, h as i32 - 4);
        Placer {
            bounds,
            hard: Obstacles::new(&bounds),
            soft: Obstacles::new(&bounds),
            full: Vec::new(),
            layout: None,
        }
    }

    fn replaying(&self) -> bool {
        self.layout.as_ref().is_some_and(|l| l.replaying())
    }

    pub fn block(&mut self, r: Rect) {
        if !self.replaying() {
            self.hard.push(r);
        }
    }

    pub fn block_point(&mut self, p: (i32, i32), radius: i32) {
        self.block(Rect::span(
            (p.0 - radius, p.1 - radius),
            (p.0 + radius, p.1 + radius),
        ));
    }

    /// Lines are soft obstacles, sampled as small boxes along each segment.
    pub fn block_polyline(&mut self, pts: &[(i32, i32)]) {
        if self.replaying() {
            return;
        }
        for w in pts.windows(2) {
            let (a, b) = (w[0], w[1]);
            let len = (((b.0 - a.0).pow(2) + (b.1 - a.1).pow(2)) as f64).sqrt();
            let n = (len / 4.0).ceil().max(1.0) as i32;
            for k in 0..=n {
                let x = a.0 + (b.0 - a.0) * k / n;
                let y = a.1 + (b.1 - a.1) * k / n;
                self.soft.push(Rect::span((x - 2, y - 2), (x + 2, y + 2)));
            }
        }
    }

    fn free(&self, r: &Rect, with_soft: bool) -> bool {
        r.inside(&self.bounds)
            && !self.hard.any_overlaps(r)
            && !(with_soft && self.soft.any_overlaps(r))
    }

    /// Finds a place for a `w` x `h` box from a list of candidate top-left corners (in order
    /// of preference), first avoiding lines too, then only hard obstacles; then the free spot
    /// of an 8-pixel grid over the area nearest to the first candidate (a leader line will
    /// join it to its point); falls back to the first candidate (clamped into the area) only
    /// when no spot at all is free. The chosen box becomes a hard obstacle.
    pub fn place(&mut self, w: i32, h: i32, candidates: &[(i32, i32)]) -> Rect {
        if let Some(layout) = self.layout.as_deref_mut() {
            if let Some(next) = layout.next {
                if let Some(&kept) = layout.boxes.get(next) {
                    layout.next = Some(next + 1);
                    return kept;
                }
                // More boxes asked for than kept: the drawings differ, which
                // `Layout::replayed_whole` reports; search (without obstacles) meanwhile.
                layout.next = Some(next + 1);
            }
        }
        let chosen = [true, false]
            .into_iter()
            .find_map(|with_soft| {
                candidates
                    .iter()
                    .map(|&(x, y)| Rect::at(x, y, w, h))
                    .find(|r| self.free(r, with_soft))
            })
            .or_else(|| self.nearest_free(w, h, candidates.first().copied().unwrap_or((0, 0))))
            .unwrap_or_else(|| {
                let (x, y) = candidates.first().copied().unwrap_or((0, 0));
                let x = x.clamp(self.bounds.x0, (self.bounds.x1 - w).max(self.bounds.x0));
                let y = y.clamp(self.bounds.y0, (self.bounds.y1 - h).max(self.bounds.y0));
                Rect::at(x, y, w, h)
            });
        self.hard.push(chosen);
        if let Some(layout) = self.layout.as_deref_mut() {
            if !layout.replaying() {
                layout.boxes.push(chosen);
            }
        }
        chosen
    }

    /// The free `w` x `h` box on an 8-pixel grid whose corner is nearest to `want` (ties
    /// broken by grid order, so the choice is deterministic).
    fn nearest_free(&mut self, w: i32, h: i32, want: (i32, i32)) -> Option<Rect> {
        if self.full.iter().any(|&(fw, fh)| w >= fw && h >= fh) {
            return None;
        }
        let mut best: Option<(i64, Rect)> = None;
        let mut y = self.bounds.y0;
        while y + h <= self.bounds.y1 {
            let mut x = self.bounds.x0;
            while x + w <= self.bounds.x1 {
                let r = Rect::at(x, y, w, h);
                let d = ((x - want.0) as i64).pow(2) + ((y - want.1) as i64).pow(2);
                if best.map_or(true, |(bd, _)| d < bd) && self.free(&r, false) {
                    best = Some((d, r));
                }
                x += 8;
            }
            y += 8;
        }
        if best.is_none() {
            self.full.push((w, h));
        }
        best.map(|(_, r)| r)
    }

    /// Candidate corners for a label of size `w` x `h` around a point, nearest first.
    pub fn around(p: (i32, i32), w: i32, h: i32) -> Vec<(i32, i32)> {
        let (x, y) = p;
        let mut out = Vec::new();
        for d in [9, 16, 28, 44, 64] {
            out.extend([
                (x + d, y - h / 2),
                (x - d - w, y - h / 2),
                (x - w / 2, y - d - h),
                (x - w / 2, y + d),
                (x + d * 2 / 3, y - h - d * 2 / 3),
                (x + d * 2 / 3, y + d * 2 / 3),
                (x - w - d * 2 / 3, y - h - d * 2 / 3),
                (x - w - d * 2 / 3, y + d * 2 / 3),
            ]);
        }
        out
    }
}

/// Pixel position of a plot coordinate, relative to the chart's plotting area.
pub fn to_px<DB: DrawingBackend>(chart: &Chart<DB>, p: (f64, f64)) -> (i32, i32) {
    plot_rel(chart, chart.backend_coord(&p))
}

/// Draws a label in a box chosen by [`Placer::place`], with a leader line to its point when
/// the box is not right beside it.
pub fn draw_label<DB: DrawingBackend>(
    chart: &Chart<DB>,
    r: Rect,
    text: &str,
    style: &TextStyle,
    point: Option<(i32, i32)>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let area = chart.plotting_area().strip_coord_spec();
    if let Some(p) = point {
        let n = r.nearest(p);
        let (dx, dy) = ((n.0 - p.0) as f64, (n.1 - p.1) as f64);
        let d = (dx * dx + dy * dy).sqrt();
        if d > 15.0 {
            let start = (
                p.0 + (dx / d * 8.0).round() as i32,
                p.1 + (dy / d * 8.0).round() as i32,
            );
            area.draw(&PathElement::new(vec![start, n], MUTED.stroke_width(1)))?;
        }
    }
    area.draw(&Rectangle::new(
        [(r.x0, r.y0), (r.x1, r.y1)],
        WHITE.mix(0.9).filled(),
    ))?;
    area.draw_text(text, style, (r.x0 + 3, r.y0 + 2))?;
    Ok(())
}

/// Size of a label box for `text`, with a small padding.
pub fn label_size<DB: DrawingBackend>(
    chart: &Chart<DB>,
    text: &str,
    style: &TextStyle,
) -> DrawResult<(i32, i32)>
where
    DB::ErrorType: 'static,
{
    let (w, h) = chart.plotting_area().estimate_text_size(text, style)?;
    Ok((w as i32 + 6, h as i32 + 5))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A replay hands out the kept envelopes in order while their keys match, and makes
    /// any other anew.
    #[test]
    fn kept_envelopes_are_handed_out_only_for_the_same_key() {
        let key = |value| EnvelopeKey {
            rows: 64,
            len: 3,
            value,
            pixels: (10, 500),
            range: (0, 1),
        };
        let mut layout = Layout::default();
        assert_eq!(layout.envelope(key(0), || vec![(0.0, 1.0)]), [(0.0, 1.0)]);
        assert_eq!(layout.envelope(key(1), || vec![(0.0, 2.0)]), [(0.0, 2.0)]);
        layout.replay();
        let unused = || -> Vec<(f64, f64)> { panic!("made anew") };
        assert_eq!(layout.envelope(key(0), unused), [(0.0, 1.0)]);
        assert_eq!(layout.envelope(key(2), || vec![(9.0, 9.0)]), [(9.0, 9.0)]);
        assert_eq!(layout.envelope(key(1), unused), [(0.0, 2.0)]);
        assert_eq!(layout.envelope(key(1), || vec![(5.0, 5.0)]), [(5.0, 5.0)]);
    }

    /// Halves, their neighbours one unit in the last place away, and random offsets of
    /// either sign, large and small: the same integer as `round`.
    #[test]
    fn pixel_rounding_is_rounding() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(5);
        let mut xs = vec![0.0, -0.0, 1e9, -1e9, 3e9, f64::NAN, f64::INFINITY];
        for k in -3000..3000 {
            let h = k as f64 + 0.5;
            let b = h.to_bits();
            xs.extend([h, f64::from_bits(b + 1), f64::from_bits(b - 1), k as f64]);
        }
        for _ in 0..100_000 {
            let scale = 10f64.powi(rng.random_range(-3..9));
            xs.push(rng.random_range(-1.0..1.0) * scale);
        }
        for x in xs {
            assert_eq!(round_to_i32(x), x.round() as i32, "{x:e}");
        }
    }

    #[test]
    fn placed_labels_do_not_overlap_points_or_each_other() {
        let mut p = Placer::with_size(600, 400);
        // A crowded diagonal of points, like a trade-off curve.
        let pts: Vec<(i32, i32)> = (0..12).map(|i| (100 + i * 25, 80 + i * 18)).collect();
        for &q in &pts {
            p.block_point(q, 8);
        }
        p.block_polyline(&pts);
        let mut placed = Vec::new();
        for &q in &pts {
            let r = p.place(70, 18, &Placer::around(q, 70, 18));
            placed.push(r);
        }
        for (i, a) in placed.iter().enumerate() {
            assert!(a.inside(&p.bounds), "{a:?}");
            for b in &placed[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} overlaps {b:?}");
            }
            for &q in &pts {
                let marker = Rect::span((q.0 - 8, q.1 - 8), (q.0 + 8, q.1 + 8));
                assert!(!a.overlaps(&marker), "{a:?} covers the point {q:?}");
            }
        }
    }

    /// When every spot around a point is taken, the label goes to the nearest free spot
    /// instead of onto the markers.
    #[test]
    fn label_never_covers_a_marker_when_its_neighbourhood_is_full() {
        let mut p = Placer::with_size(600, 400);
        // A dense block of markers around (150, 150), wider than the farthest candidate.
        let mut markers = Vec::new();
        for i in -12..=12 {
            for j in -8..=8 {
                markers.push((150 + i * 12, 150 + j * 12));
            }
        }
        for &m in &markers {
            p.block_point(m, 6);
        }
        let r = p.place(60, 16, &Placer::around((150, 150), 60, 16));
        assert!(r.inside(&p.bounds), "{r:?}");
        for &m in &markers {
            let b = Rect::span((m.0 - 6, m.1 - 6), (m.0 + 6, m.1 + 6));
            assert!(!r.overlaps(&b), "{r:?} covers the marker at {m:?}");
        }
    }

    /// A target line's label goes beside the line but never onto a data point: with markers
    /// right on the line at its right end (where the label used to be drawn regardless), it
    /// moves to a free spot.
    #[test]
    fn rule_label_avoids_markers_on_the_line() {
        let (aw, ah, py, w, h) = (600, 400, 120, 80, 18);
        let mut p = Placer::with_size(aw as u32, ah as u32);
        let markers: Vec<(i32, i32)> = vec![(560, py - 6), (540, py + 8), (30, py - 10)];
        for &m in &markers {
            p.block_point(m, 9);
        }
        let cands = rule_label_candidates(aw, py, w, h);
        let first = Rect::at(cands[0].0, cands[0].1, w, h);
        assert!(
            markers
                .iter()
                .any(|&m| first.overlaps(&Rect::span((m.0 - 9, m.1 - 9), (m.0 + 9, m.1 + 9)))),
            "the crafted layout must block the default spot"
        );
        let r = p.place(w, h, &cands);
        for &m in &markers {
            let b = Rect::span((m.0 - 9, m.1 - 9), (m.0 + 9, m.1 + 9));
            assert!(!r.overlaps(&b), "{r:?} covers the marker at {m:?}");
        }
        // Still beside the line: touching it from above or below.
        assert!(
            r.y1 <= py && r.y1 >= py - 4 || r.y0 >= py && r.y0 <= py + 4,
            "{r:?}"
        );
    }

    #[test]
    fn lighten_blends_towards_white() {
        assert_eq!(lighten(RGBColor(0, 100, 255), 0.5), RGBColor(128, 178, 255));
        assert_eq!(lighten(RGBColor(10, 20, 30), 0.0), RGBColor(10, 20, 30));
    }
}
