//! Charts of a sweep, drawn with plotters into `<out>/charts/` as PNG and SVG.
//!
//! Each chart is drawn by one generic function over the plotters backend, once into an RGB
//! buffer (encoded as PNG here, so no file is ever half written) and once into an SVG
//! string (by `svg`, byte for byte what plotters' SVG backend writes). Text uses DejaVu
//! Sans, embedded in the binary (see `assets/fonts/`), so a fresh machine without any
//! system font library still renders labelled axes.
//!
//! Sub-modules: [`axis`] picks scales from the data, `draw` holds the shared drawing
//! pieces (titles, legends, panels, label placement), and one module per chart family.

pub mod axis;
mod draw;
mod encode;
mod fill;
pub mod plan;
mod stamp;
mod svg;
mod sweep;
mod text;
mod timeseries;
mod tradeoff;
mod wait;

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::output::write_atomic;
use crate::recommend::Recommendation;
use crate::report::input::{fmt_num, RunData};
use crate::report::ReportError;

pub use draw::DrawResult;
pub(crate) use encode::encode_png;

/// The font family name under which the embedded font is registered.
pub const FONT_FAMILY: &str = "sans-serif";

static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font with plotters (once per process).
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            // The bytes are a known-good TrueType file compiled into the binary; a failure
            // here would only mean text is missing, so it is not worth a panic.
            let _ = plotters::style::register_font(FONT_FAMILY, style, FONT_BYTES);
        }
    });
}

/// One chart written as PNG and SVG.
#[derive(Debug, Clone)]
pub struct RenderedChart {
    /// File stem, e.g. `continuity`.
    pub stem: &'static str,
    /// Heading for the report.
    pub title: String,
    /// How to read the chart, for the report.
    pub caption: String,
    pub png: PathBuf,
    pub svg: PathBuf,
    /// The SVG document, for inlining into the page.
    pub svg_text: String,
}

/// The charts this module draws, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    Tradeoff,
    Continuity,
    NewSessionRejection,
    ThroughputUtilization,
    Timeseries,
    WaitCdf,
}

impl ChartKind {
    pub const ALL: [ChartKind; 6] = [
        ChartKind::Tradeoff,
        ChartKind::Continuity,
        ChartKind::NewSessionRejection,
        ChartKind::ThroughputUtilization,
        ChartKind::Timeseries,
        ChartKind::WaitCdf,
    ];

    pub fn stem(self) -> &'static str {
        match self {
            ChartKind::Tradeoff => "tradeoff",
            ChartKind::Continuity => "continuity",
            ChartKind::NewSessionRejection => "new_session_rejection",
            ChartKind::ThroughputUtilization => "throughput_utilization",
            ChartKind::Timeseries => "timeseries",
            ChartKind::WaitCdf => "wait_cdf",
        }
    }
}

/// A sweep line: the points that share the values of every parameter but the first.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    /// `concurrency=5` for two-parameter sweeps; `None` with a single parameter.
    pub label: Option<String>,
    pub color: RGBColor,
    /// Indices into `summary.points`, sorted by the x parameter.
    pub members: Vec<usize>,
    /// Small horizontal offset (in x units) so that CI bars of several lines do not overlap.
    pub dx: f64,
}

/// What every chart needs: the data, the recommendation and the sweep layout.
pub(crate) struct Ctx<'a> {
    pub data: &'a RunData,
    pub rec: &'a Recommendation,
    pub x_name: String,
    pub x_axis: axis::Axis,
    pub series: Vec<Series>,
}

impl<'a> Ctx<'a> {
    fn new(data: &'a RunData, rec: &'a Recommendation) -> Ctx<'a> {
        let s = &data.summary;
        let x_name = s.parameters[0].clone();
        let xs: Vec<f64> = s.points.iter().map(|p| p.params[0]).collect();
        let x_axis = axis::Axis::sweep(&xs);
        let mut groups: Vec<(Vec<f64>, Vec<usize>)> = Vec::new();
        for (i, p) in s.points.iter().enumerate() {
            let key = p.params[1..].to_vec();
            match groups.iter_mut().find(|(k, _)| k == &key) {
                Some((_, m)) => m.push(i),
                None => groups.push((key, vec![i])),
            }
        }
        groups.sort_by(|a, b| {
            a.0.iter()
                .zip(&b.0)
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let n = groups.len();
        let step = {
            let mut v = xs.clone();
            v.sort_by(f64::total_cmp);
            v.dedup();
            axis::min_step(&v)
        };
        let series = groups
            .into_iter()
            .enumerate()
            .map(|(gi, (key, mut members))| {
                members.sort_by(|a, b| {
                    s.points[*a].params[0]
                        .total_cmp(&s.points[*b].params[0])
                        .then(a.cmp(b))
                });
                let label = if key.is_empty() {
                    None
                } else {
                    Some(
                        s.parameters[1..]
                            .iter()
                            .zip(&key)
                            .map(|(n, v)| format!("{n}={}", crate::report::input::fmt_param(n, *v)))
                            .collect::<Vec<_>>()
                            .join(", "),
                    )
                };
                let dx = if n > 1 {
                    (gi as f64 - (n - 1) as f64 / 2.0) * step * (0.18 / n as f64).min(0.06)
                } else {
                    0.0
                };
                Series {
                    label,
                    color: if n > 1 { palette(gi) } else { draw::MAIN_COLOR },
                    members,
                    dx,
                }
            })
            .collect();
        Ctx {
            data,
            rec,
            x_name,
            x_axis,
            series,
        }
    }

    /// The featured point (recommended / closest / fewest failures) as an index into
    /// `summary.points`.
    pub fn featured_index(&self) -> Option<usize> {
        let p = self.rec.featured_point()?;
        self.data.summary.points.iter().position(|s| s.point == p)
    }

    /// What the featured point is, in words.
    pub fn featured_role(&self) -> &'static str {
        match self.rec {
            Recommendation::Recommended { .. } => "recommended",
            Recommendation::NoneMeets { .. } => "closest to targets",
            Recommendation::NoTargets { .. } => "fewest continuity failures",
            Recommendation::NoPoints => "",
        }
    }

    /// `reserved=2` for the point at index `i` of `summary.points` (every parameter).
    pub fn point_label(&self, i: usize) -> String {
        self.data.summary.points[i].label(&self.data.summary.parameters)
    }

    /// True when the point at index `i` of `summary.points` had no bound request at all: no
    /// new session ever got a slot (as when reserved >= concurrency), so every rate per bound
    /// request is 0/0, undefined, and must not be drawn as 0% failures. Same test as the
    /// recommendation's (such a point fails a continuity target).
    pub fn no_bound_requests(&self, i: usize) -> bool {
        // The column looked up once: a sweep asks this of every point, for many charts.
        static AT: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
        let at = *AT.get_or_init(|| crate::report::input::metric_index("bound_requests"));
        at.is_some_and(|k| self.data.summary.points[i].at(k).0 == 0.0)
    }

    /// Whether any point has no bound request (see [`Ctx::no_bound_requests`]).
    pub fn any_without_bound_requests(&self) -> bool {
        (0..self.data.summary.points.len()).any(|i| self.no_bound_requests(i))
    }

    /// The x value of the point at index `i`.
    pub fn x_of(&self, i: usize) -> f64 {
        self.data.summary.points[i].params[0]
    }

    /// `± 95% CI`, or a warning when no point has a confidence interval (one replication).
    pub fn ci_words(&self) -> &'static str {
        let known = self.data.summary.points.iter().any(|p| {
            p.ci("continuity_failure_rate").is_finite()
                || p.ci("new_session_rejection_rate").is_finite()
        });
        if known {
            "± 95% CI"
        } else {
            "CI unknown: 1 replication"
        }
    }

    /// A line to say which scenario this is, under each chart title.
    pub fn subtitle(&self) -> String {
        let run = &self.data.run;
        let mut parts = Vec::new();
        if !run.scenario_name.is_empty() {
            parts.push(format!("scenario {}", run.scenario_name));
        }
        if let Some(r) = run.replications_words() {
            parts.push(format!(
                "{r} replication{}",
                if r == "1" { "" } else { "s" }
            ));
        }
        if let Some(seed) = run.seed {
            parts.push(format!("seed {seed}"));
        }
        parts.join(" · ")
    }
}

/// Tableau 10, a palette that stays distinguishable for most colour-blind readers.
pub(crate) fn palette(i: usize) -> RGBColor {
    const P: [RGBColor; 10] = [
        RGBColor(0x4E, 0x79, 0xA7),
        RGBColor(0xF2, 0x8E, 0x2B),
        RGBColor(0xE1, 0x57, 0x59),
        RGBColor(0x59, 0xA1, 0x4F),
        RGBColor(0xB0, 0x7A, 0xA1),
        RGBColor(0x76, 0xB7, 0xB2),
        RGBColor(0xED, 0xC9, 0x48),
        RGBColor(0x9C, 0x75, 0x5F),
        RGBColor(0xFF, 0x9D, 0xA7),
        RGBColor(0xBA, 0xB0, 0xAC),
    ];
    P[i % P.len()]
}

/// Draws every chart into `dir` (which must exist) as PNG and SVG.
pub fn render_all(
    data: &RunData,
    rec: &Recommendation,
    dir: &Path,
) -> Result<Vec<RenderedChart>, ReportError> {
    register_fonts();
    if data.summary.points.is_empty() {
        return Err(ReportError::Invalid {
            path: data.dir.join("summary.csv"),
            message: "no sweep point rows: nothing to chart".to_string(),
        });
    }
    let ctx = Ctx::new(data, rec);
    // Charts are independent: draw them on every core (order kept by the collect).
    use rayon::prelude::*;
    ChartKind::ALL
        .par_iter()
        .map(|&kind| emit(&ctx, kind, dir))
        .collect()
}

fn size_of(ctx: &Ctx, kind: ChartKind) -> (u32, u32) {
    match kind {
        ChartKind::Continuity if ctx.series.len() > 1 => (1500, 640),
        ChartKind::Continuity | ChartKind::NewSessionRejection => (1100, 640),
        ChartKind::ThroughputUtilization => (1100, 860),
        ChartKind::Tradeoff => (1100, 780),
        ChartKind::Timeseries => (1100, 960),
        ChartKind::WaitCdf => (1100, 680),
    }
}

fn draw_kind<DB: DrawingBackend>(
    ctx: &Ctx,
    kind: ChartKind,
    root: &DrawingArea<DB, Shift>,
    layout: &mut draw::Layout,
) -> DrawResult<(String, String)>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    match kind {
        ChartKind::Continuity => sweep::continuity(ctx, root),
        ChartKind::NewSessionRejection => sweep::new_session_rejection(ctx, root),
        ChartKind::ThroughputUtilization => sweep::throughput_utilization(ctx, root),
        ChartKind::Tradeoff => tradeoff::tradeoff(ctx, root, layout),
        ChartKind::Timeseries => timeseries::timeseries(ctx, root, layout),
        ChartKind::WaitCdf => wait::wait_distribution(ctx, root),
    }
}

pub(crate) fn chart_error(path: &Path, e: impl std::fmt::Display) -> ReportError {
    ReportError::Chart {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

thread_local! {
    /// The pixels of the chart this thread draws (see `emit`).
    static CANVAS: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn emit(ctx: &Ctx, kind: ChartKind, dir: &Path) -> Result<RenderedChart, ReportError> {
    let stem = kind.stem();
    let (w, h) = size_of(ctx, kind);
    let png = dir.join(format!("{stem}.png"));
    let svg = dir.join(format!("{stem}.svg"));

    // Each thread draws into one canvas, cleared for every chart: a new one per chart is
    // megabytes of fresh pages, each faulted in and zeroed by the system, then unmapped.
    // What it held is not cleared: `draw_kind` starts by filling the whole canvas white,
    // every byte (clearing first wrote each byte twice). Only a canvas that grows gets
    // new bytes, which must be initialised.
    let mut rgb = CANVAS.with(|c| std::mem::take(&mut *c.borrow_mut()));
    let len = (w as usize) * (h as usize) * 3;
    if rgb.len() > len {
        rgb.truncate(len);
    } else {
        rgb.resize(len, 0);
    }
    // Label boxes found while drawing the PNG are reused for the SVG (same size, same text
    // metrics, so the same boxes): see `draw::Layout`.
    let mut layout = draw::Layout::default();
    let (title, caption) = {
        let root =
            text::CrispText(BitMapBackend::with_buffer(&mut rgb, (w, h))).into_drawing_area();
        let tc = draw_kind(ctx, kind, &root, &mut layout).map_err(|e| chart_error(&png, e))?;
        root.present().map_err(|e| chart_error(&png, e))?;
        tc
    };
    let bytes = encode_png(&rgb, w, h).map_err(|e| chart_error(&png, e))?;
    CANVAS.with(|c| *c.borrow_mut() = rgb);
    write_atomic(dir, &format!("{stem}.png"), &bytes)?;

    let mut svg_text = String::new();
    {
        let root = svg::FastSvg::with_string(&mut svg_text, (w, h)).into_drawing_area();
        layout.replay();
        draw_kind(ctx, kind, &root, &mut layout).map_err(|e| chart_error(&svg, e))?;
        root.present().map_err(|e| chart_error(&svg, e))?;
    }
    if !layout.replayed_whole() {
        return Err(chart_error(
            &svg,
            "the SVG drawing placed other labels than the PNG drawing",
        ));
    }
    write_atomic(dir, &format!("{stem}.svg"), svg_text.as_bytes())?;
    Ok(RenderedChart {
        stem,
        title,
        caption,
        png,
        svg,
        svg_text,
    })
}

/// A canvas of random light pixels (from `seed`), not plain white, so that blending shows
/// any difference: the tests that compare a drawing of ours with plotters' own draw on it.
#[cfg(test)]
fn noisy_canvas(w: u32, h: u32, seed: u64) -> Vec<u8> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    (0..w * h * 3)
        .map(|_| rng.random_range(128..=255))
        .collect()
}
