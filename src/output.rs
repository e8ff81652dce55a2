//! The one place that writes files. Each file is written to a temporary file in the same
//! folder and renamed into place, so a reader never sees a partly written output file.

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Creates `dir` (and parents) if needed.
pub fn ensure_dir(dir: &Path) -> Result<(), WriteError> {
    std::fs::create_dir_all(dir).map_err(|source| WriteError {
        path: dir.to_path_buf(),
        source,
    })
}

/// Writes `bytes` to `dir/name` atomically (temporary file + rename).
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, WriteError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let err = |source| WriteError {
        path: path.clone(),
        source,
    };
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    Ok(path)
}

/// Moves every file of `staging` (and of its subfolders) to the same place under `out`,
/// one rename each, then removes `staging`. A run writes and renders everything in a
/// staging folder first, so a failure half-way leaves the previous results untouched.
pub fn publish(staging: &Path, out: &Path) -> Result<(), WriteError> {
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError { path, source }
    };
    ensure_dir(out)?;
    let entries = std::fs::read_dir(staging).map_err(err(staging))?;
    for entry in entries {
        let entry = entry.map_err(err(staging))?;
        let from = entry.path();
        let to = out.join(entry.file_name());
        if entry.file_type().map_err(err(&from))?.is_dir() {
            publish(&from, &to)?;
        } else {
            std::fs::rename(&from, &to).map_err(err(&to))?;
        }
    }
    std::fs::remove_dir(staging).map_err(err(staging))
}

/// Removes a staging folder after a failure (best effort: the error being reported
/// matters more).
pub fn discard(staging: &Path) {
    let _ = std::fs::remove_dir_all(staging);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_replaces_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(dir.path(), "a.csv", b"one").unwrap();
        write_atomic(dir.path(), "a.csv", b"two").unwrap();
        assert_eq!(std::fs::read(dir.path().join("a.csv")).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn publish_moves_files_and_subfolders_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let (staging, out) = (dir.path().join("out/.staging"), dir.path().join("out"));
        write_atomic(&out, "old.csv", b"old").unwrap_or_else(|_| {
            ensure_dir(&out).unwrap();
            write_atomic(&out, "old.csv", b"old").unwrap()
        });
        ensure_dir(&staging.join("charts")).unwrap();
        write_atomic(&staging, "summary.csv", b"new").unwrap();
        write_atomic(&staging.join("charts"), "a.png", b"png").unwrap();
        publish(&staging, &out).unwrap();
        assert_eq!(std::fs::read(out.join("summary.csv")).unwrap(), b"new");
        assert_eq!(std::fs::read(out.join("charts/a.png")).unwrap(), b"png");
        assert_eq!(std::fs::read(out.join("old.csv")).unwrap(), b"old");
        assert!(!staging.exists());
    }

    #[test]
    fn reports_the_path_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/dir");
        let e = write_atomic(&missing, "x.csv", b"x").unwrap_err();
        assert!(e.to_string().contains("x.csv"), "{e}");
    }
}
