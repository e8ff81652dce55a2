//! Reading workload data files: a numeric column of a CSV file (for empirical
//! distributions) and request traces for replay, read as a stream.

use std::path::Path;

/// The most values an empirical column may hold (they are kept in memory).
pub const MAX_COLUMN_VALUES: usize = 10_000_000;

/// The largest data file read (a trace of tens of millions of requests fits).
pub const MAX_DATA_FILE_BYTES: u64 = 8 << 30;

/// A data file must be a regular file (not a FIFO that never ends, nor a device such as
/// `/dev/zero`) of at most [`MAX_DATA_FILE_BYTES`].
pub fn check_data_file(path: &Path) -> Result<(), String> {
    let file = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{file}: cannot read: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "{file}: is not a regular file (not a folder, device or pipe)"
        ));
    }
    if meta.len() > MAX_DATA_FILE_BYTES {
        return Err(format!(
            "{file}: is {} bytes: at most {MAX_DATA_FILE_BYTES} are read",
            meta.len()
        ));
    }
    Ok(())
}

/// Reads the numeric column `column` (by its header name) of the CSV file `path`.
/// Errors name the file, the line and the bad value.
pub fn read_column(path: &Path, column: &str) -> Result<Vec<f64>, String> {
    let file = path.display();
    check_data_file(path)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| format!("{file}: cannot read: {e}"))?;
    let headers = rdr
        .headers()
        .map_err(|e| format!("{file}: cannot read the header line: {e}"))?
        .clone();
    let Some(index) = headers.iter().position(|h| h.trim() == column) else {
        let names: Vec<String> = headers.iter().map(|h| format!("{:?}", h.trim())).collect();
        return Err(format!(
            "{file}: has no column {column:?}; its columns are {}",
            names.join(", ")
        ));
    };
    let mut values = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(&file.to_string(), &e)),
        }
        let line = record.position().map_or(0, |p| p.line());
        let cell = record.get(index).unwrap_or("").trim();
        let x: f64 = cell
            .parse()
            .map_err(|_| format!("{file}:{line}: column {column:?}: {cell:?} is not a number"))?;
        if !(x.is_finite() && x >= 0.0) {
            return Err(format!(
                "{file}:{line}: column {column:?}: {cell} is not allowed: values must be finite and >= 0"
            ));
        }
        if values.len() >= MAX_COLUMN_VALUES {
            return Err(format!(
                "{file}: column {column:?} has more than {MAX_COLUMN_VALUES} values; use a sample of it"
            ));
        }
        values.push(x);
    }
    if values.is_empty() {
        return Err(format!("{file}: column {column:?} has no values"));
    }
    Ok(values)
}

/// A CSV reader error as "file:line: what".
fn csv_error(file: &str, e: &csv::Error) -> String {
    match e.position() {
        Some(p) => format!("{file}:{}: {}", p.line(), csv_kind(e)),
        None => format!("{file}: {}", csv_kind(e)),
    }
}

fn csv_kind(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("the row has {len} fields where the header has {expected_len} (a truncated or malformed row)"),
        csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8".to_string(),
        _ => e.to_string(),
    }
}
