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
    #[error("{}: line {line}, column `{column}`: {value:?} is out of range (expected {allowed})", path.display())]
    BadValue {
        path: PathBuf,
        line: u64,
        column: String,
        value: String,
        allowed: String,
    },
    #[error(transparent)]
    Write(#[from] crate::output::WriteError),
    #[error("{}: cannot draw the chart: {message}", path.display())]
    Chart { path: PathBuf, message: String },
}

/// Reads `out_dir`, writes the charts and `report.html` into it, and returns the
/// recommendation. The files are read as they are (no manifest check): `run` renders into
/// its staging folder this way; [`redraw`] is the checked path for a published folder.
pub fn render(out_dir: &Path) -> Result<ReportOutcome, ReportError> {
    render_into(out_dir, out_dir)
}

/// [`render`] for a run that holds the rows of its two largest files in memory: the
/// same charts and page, without reading those files back.
pub fn render_knowing(out_dir: &Path, known: input::Known) -> Result<ReportOutcome, ReportError> {
    render_from(input::read_run_dir_knowing(out_dir, Some(known))?, out_dir)
}

/// Reads the run's files in `src` and writes the charts and `report.html` into `dest`.
pub fn render_into(src: &Path, dest: &Path) -> Result<ReportOutcome, ReportError> {
    render_from(input::read_run_dir(src)?, dest)
}

fn render_from(mut data: input::RunData, dest: &Path) -> Result<ReportOutcome, ReportError> {
    let points = data.point_summaries();
    let recommendation = recommend::recommend(&points, &data.run.targets);
    let charts_dir = dest.join("charts");
    crate::output::ensure_dir(&charts_dir)?;
    // The page's head (with the summary table, a row per point) is made while the charts
    // are drawn: it does not need them. It is one task and the charts are six, so it goes
    // first: begun last, it ran alone after the charts (the terminal's table, made beside
    // the report, kept the other thread until the charts had begun).
    let (head, rendered) = rayon::join(
        || html::page_head_of(&data, &recommendation, &points),
        || charts::render_all(&data, &recommendation, &charts_dir),
    );
    let rendered = rendered?;
    // Only the charts read the per-minute rows and the wait quantiles (the largest parts of
    // a long run and of a sweep of many points): they go before the page is written.
    data.timeseries = Vec::new();
    data.waits = input::Waits::default();
    let report_path = crate::output::write_atomic_with(dest, "report.html", |out| {
        html::write_page_after(out, &head, &data, &rendered)
    })?;

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

/// `slotsim report OUT`: finishes an interrupted publish, checks every file of the run
/// against its manifest, then redraws the charts and `report.html` and publishes them
/// as part of the same run (see [`crate::output`]). Charts or a page that were deleted
/// are drawn again: they are made from the other files alone.
pub fn redraw(out: &Path) -> Result<ReportOutcome, ReportError> {
    use crate::output::{recover, verify_but, Publish, Stage};
    recover(out)?;
    let remade = |p: &str| p == "report.html" || p.starts_with("charts/");
    let manifest = verify_but(out, &remade).map_err(|e| ReportError::Invalid {
        path: e.path,
        message: e.message,
    })?;
    let stage = Stage::new(out)?;
    let staged = stage.dir().to_path_buf();
    let mut outcome = render_into(out, &staged)?;
    stage.publish(Publish::SameRun {
        run_id: manifest.run_id,
    })?;
    for f in &mut outcome.files {
        if let Ok(rel) = f.strip_prefix(&staged) {
            *f = out.join(rel);
        }
    }
    Ok(outcome)
}
