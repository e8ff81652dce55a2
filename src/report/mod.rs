//! The tuning report: reads an output folder written by `slotsim run` and writes
//! `<out>/charts/*.png`, `<out>/charts/*.svg` and `<out>/report.html`.
//!
//! The engine is not involved: everything comes from the files (`summary.csv`,
//! `timeseries.csv`, `wait_quantiles.csv`, `run.json`), so `slotsim report <OUT>` can redraw
//! an earlier run. The output depends on those files alone (no clock, no environment), and
//! every file is written to a temporary name in its folder and then renamed, so a reader
//! never sees a partly written file.

pub mod html;
pub mod input;

use std::path::{Path, PathBuf};

use crate::charts;
use crate::recommend::{self, Recommendation};

/// What [`render`] did.
#[derive(Debug, Clone)]
pub struct ReportOutcome {
    pub recommendation: Recommendation,
    /// The recommendation as a plain-text paragraph, for the terminal.
    pub text: String,
    /// Every file written: the charts (PNG and SVG) and `report.html`.
    pub files: Vec<PathBuf>,
}

/// Why a report could not be made. Each names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: file not found (is this a folder written by `slotsim run`?)", path.display())]
    MissingFile { path: PathBuf },
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("{}: missing column `{column}`", path.display())]
    MissingColumn { path: PathBuf, column: String },
    #[error("{}: line {line}, column `{column}`: {value:?} is not a valid number", path.display())]
    BadNumber {
        path: PathBuf,
        line: u64,
        column: String,
        value: String,
    },
    #[error(transparent)]
    Write(#[from] crate::output::WriteError),
    #[error("{}: cannot draw the chart: {message}", path.display())]
    Chart { path: PathBuf, message: String },
}

/// Reads `out_dir`, writes the charts and `report.html` into it, and returns the
/// recommendation.
pub fn render(out_dir: &Path) -> Result<ReportOutcome, ReportError> {
    let data = input::read_run_dir(out_dir)?;
    let points = data.point_summaries();
    let recommendation = recommend::recommend(&points, &data.run.targets);
    let charts_dir = out_dir.join("charts");
    crate::output::ensure_dir(&charts_dir)?;
    let rendered = charts::render_all(&data, &recommendation, &charts_dir)?;
    let page = html::page(&data, &recommendation, &rendered);
    let report_path = crate::output::write_atomic(out_dir, "report.html", page.as_bytes())?;

    let mut files = Vec::with_capacity(rendered.len() * 2 + 1);
    for c in &rendered {
        files.push(c.png.clone());
        files.push(c.svg.clone());
    }
    files.push(report_path);
    Ok(ReportOutcome {
        text: recommendation.text(),
        recommendation,
        files,
    })
}
