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

use std::io::Write;
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
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot draw the chart: {message}", path.display())]
    Chart { path: PathBuf, message: String },
}

/// Reads `out_dir`, writes the charts and `report.html` into it, and returns the
/// recommendation.
pub fn render(out_dir: &Path) -> Result<ReportOutcome, ReportError> {
    let data = input::read_run_dir(out_dir)?;
    let points = data.summary.point_summaries();
    let recommendation = recommend::recommend(&points, &data.run.targets);
    let charts_dir = out_dir.join("charts");
    std::fs::create_dir_all(&charts_dir).map_err(|e| ReportError::Write {
        path: charts_dir.clone(),
        source: e,
    })?;
    let rendered = charts::render_all(&data, &recommendation, &charts_dir)?;
    let page = html::page(&data, &recommendation, &rendered);
    let report_path = out_dir.join("report.html");
    write_atomic(&report_path, page.as_bytes())?;

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

/// A temporary name beside `path` that keeps its extension (the PNG encoder picks the
/// format from it): `dir/.name.<pid>.partial.ext`.
pub(crate) fn temp_path_for(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tmp".to_string());
    dir.join(format!(".{stem}.{}.partial.{ext}", std::process::id()))
}

/// Moves a finished temporary file into place; removes it if that fails.
pub(crate) fn commit_temp(tmp: &Path, path: &Path) -> Result<(), ReportError> {
    std::fs::rename(tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        ReportError::Write {
            path: path.to_path_buf(),
            source: e,
        }
    })
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let tmp = temp_path_for(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(ReportError::Write {
            path: path.to_path_buf(),
            source: e,
        });
    }
    commit_temp(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.html");
        write_atomic(&p, b"hello").unwrap();
        write_atomic(&p, b"again").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"again");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn temp_name_keeps_extension() {
        let t = temp_path_for(Path::new("/a/b/continuity.png"));
        assert_eq!(t.extension().unwrap(), "png");
        assert_eq!(t.parent().unwrap(), Path::new("/a/b"));
        assert!(t.file_name().unwrap().to_string_lossy().starts_with('.'));
    }
}
