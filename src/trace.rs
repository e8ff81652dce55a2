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

// ---------------------------------------------------------------------------------------
// Trace replay

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::Arc;

/// A trace file's layout.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceFormat {
    /// JSON lines with `timestamp` (ms from the start), `input_length`, `output_length`
    /// and `hash_ids` (the ids of the prompt's 512-token blocks).
    Mooncake,
    /// AzureLLMInferenceTrace CSV: `TIMESTAMP` (date and time), `ContextTokens`,
    /// `GeneratedTokens`.
    Azure,
    /// A CSV file with a header line and the named columns.
    Csv(CsvColumns),
}

/// The columns of a `csv` trace. `timestamp` holds seconds (a number) or a date and time
/// (`YYYY-MM-DD hh:mm:ss.fff`); `service_time` holds seconds; tokens are counts.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvColumns {
    pub timestamp: String,
    pub session: Option<String>,
    pub service_time: Option<String>,
    pub input_tokens: Option<String>,
    pub output_tokens: Option<String>,
}

/// How the trace's requests form sessions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SessionRule {
    /// The trace's own key: Mooncake's first two `hash_ids`, or the csv session column.
    Key,
    /// Every request is a session of its own.
    PerRequest,
    /// Requests are dealt to this many client sessions uniformly at random (a stream of
    /// the replication's own), for traces without a session key.
    Clients(u32),
}

/// A validated trace: where it is, how to read it, and what a first full read found.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceConfig {
    /// The file as written in the scenario (for messages and reports).
    pub name: String,
    /// The file resolved against the scenario's folder.
    pub path: PathBuf,
    pub format: TraceFormat,
    pub sessions: SessionRule,
    /// Arrival times are divided by this (2 = twice as many requests per second).
    pub rate_scale: f64,
    /// Replay the trace again and again until the horizon.
    pub looped: bool,
    /// Service = ttft + output_tokens / decode_rate (when the trace has token counts).
    pub ttft_s: f64,
    pub decode_rate: f64,
    /// Records in one pass (found when the scenario was checked).
    pub records: u64,
    /// Time from the first to the last record, microseconds, before scaling.
    pub span_us: u64,
    /// The mean service time of its records, seconds.
    pub mean_service_s: f64,
    /// Requests of each session key in one pass, counted when the scenario was checked
    /// (empty unless sessions come from the trace's own key). Shared by every
    /// replication and worker thread: one copy per run.
    pub key_counts: Arc<HashMap<u128, u64>>,
}

impl TraceConfig {
    /// The time between the starts of two passes of a looped trace, microseconds before
    /// scaling: the span plus one mean gap between records, so the last record of a
    /// pass and the first of the next are as far apart as records are on average.
    pub fn period_us(&self) -> u64 {
        let gaps = self.records.saturating_sub(1).max(1);
        self.span_us + (self.span_us / gaps).max(1)
    }

    pub fn describe(&self) -> String {
        let format = match &self.format {
            TraceFormat::Mooncake => "Mooncake JSON lines",
            TraceFormat::Azure => "Azure LLM inference CSV",
            TraceFormat::Csv(_) => "CSV",
        };
        let sessions = match self.sessions {
            SessionRule::Key => "sessions from the trace's own key".to_string(),
            SessionRule::PerRequest => "every request a session of its own".to_string(),
            SessionRule::Clients(n) => {
                format!("requests dealt at random to {n} client sessions")
            }
        };
        format!(
            "Trace replay of {} ({format}, {} requests over {}), times scaled by 1/{}{}; {sessions}; service = {} s + output tokens / {} per s",
            self.name,
            self.records,
            crate::units::format_secs(self.span_us as f64 / 1e6),
            crate::units::round_sig(self.rate_scale, 4),
            if self.looped { ", looped" } else { "" },
            crate::units::round_sig(self.ttft_s, 4),
            crate::units::round_sig(self.decode_rate, 4),
        )
    }
}

/// A session key read from a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionKey {
    /// Requests with the same key belong to one session.
    Shared(u128),
    /// A session of its own.
    Own,
}

/// One request of a trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceRecord {
    /// Time since the trace's first record, microseconds, before scaling.
    pub offset_us: u64,
    pub key: SessionKey,
    /// Service time, seconds.
    pub service_s: f64,
    /// The request's input (context) tokens, when the trace has them.
    pub input_tokens: Option<f64>,
    /// 1-based line of the file it came from.
    pub line: u64,
}

enum Source {
    Lines {
        reader: BufReader<File>,
        buf: String,
    },
    Csv {
        reader: csv::Reader<File>,
        record: csv::StringRecord,
        /// Column indices: timestamp, session, service time, input and output tokens.
        cols: [Option<usize>; 5],
    },
}

/// Reads a trace one record at a time: memory does not grow with its length.
pub struct TraceReader {
    name: String,
    source: Source,
    format: TraceFormat,
    ttft_s: f64,
    decode_rate: f64,
    line: u64,
    /// The first record's raw time and the previous one's, microseconds.
    first_us: Option<i64>,
    prev_us: i64,
}

/// Mooncake's fields (others are ignored).
#[derive(serde::Deserialize)]
struct MooncakeRow {
    timestamp: f64,
    input_length: f64,
    output_length: f64,
    hash_ids: Vec<u64>,
}

/// The most a service time can be, seconds (a year).
const MAX_SERVICE_S: f64 = 366.0 * 86400.0;

impl TraceReader {
    /// Opens the trace for reading from its start.
    pub fn open(cfg: &TraceConfig) -> Result<TraceReader, String> {
        Self::open_parts(
            &cfg.name,
            &cfg.path,
            &cfg.format,
            cfg.ttft_s,
            cfg.decode_rate,
        )
    }

    pub fn open_parts(
        name: &str,
        path: &Path,
        format: &TraceFormat,
        ttft_s: f64,
        decode_rate: f64,
    ) -> Result<TraceReader, String> {
        let file = File::open(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
        let source = match format {
            TraceFormat::Mooncake => Source::Lines {
                reader: BufReader::new(file),
                buf: String::new(),
            },
            TraceFormat::Azure | TraceFormat::Csv(_) => {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .from_reader(file);
                let headers = reader.headers().map_err(|e| csv_error(name, &e))?.clone();
                let find = |col: &str| -> Result<usize, String> {
                    headers.iter().position(|h| h.trim() == col).ok_or_else(|| {
                        let names: Vec<String> =
                            headers.iter().map(|h| format!("{:?}", h.trim())).collect();
                        format!(
                            "{name}:1: has no column {col:?}; its columns are {}",
                            names.join(", ")
                        )
                    })
                };
                let opt = |col: &Option<String>| col.as_deref().map(find).transpose();
                let cols = match format {
                    TraceFormat::Azure => [
                        Some(find("TIMESTAMP")?),
                        None,
                        None,
                        Some(find("ContextTokens")?),
                        Some(find("GeneratedTokens")?),
                    ],
                    TraceFormat::Csv(c) => [
                        Some(find(&c.timestamp)?),
                        opt(&c.session)?,
                        opt(&c.service_time)?,
                        opt(&c.input_tokens)?,
                        opt(&c.output_tokens)?,
                    ],
                    TraceFormat::Mooncake => unreachable!("JSON lines are not CSV"),
                };
                Source::Csv {
                    reader,
                    record: csv::StringRecord::new(),
                    cols,
                }
            }
        };
        Ok(TraceReader {
            name: name.to_string(),
            source,
            format: format.clone(),
            ttft_s,
            decode_rate,
            line: 0,
            first_us: None,
            prev_us: i64::MIN,
        })
    }

    fn service(&self, output_tokens: f64) -> f64 {
        self.ttft_s + output_tokens / self.decode_rate
    }

    /// The next record, or None at the end of the file.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<TraceRecord>, String> {
        let name = self.name.clone();
        let (raw_us, key, service_s, input_tokens, line) = match &mut self.source {
            Source::Lines { reader, buf } => {
                let row: MooncakeRow = loop {
                    buf.clear();
                    let n = reader
                        .read_line(buf)
                        .map_err(|e| format!("{name}:{}: cannot read: {e}", self.line + 1))?;
                    if n == 0 {
                        return Ok(None);
                    }
                    self.line += 1;
                    if buf.trim().is_empty() {
                        continue;
                    }
                    break serde_json::from_str(buf.trim()).map_err(|e| {
                        format!(
                            "{name}:{}: not a Mooncake record (a JSON object with timestamp, input_length, output_length, hash_ids): {e}",
                            self.line
                        )
                    })?;
                };
                let line = self.line;
                for (what, x) in [
                    ("timestamp", row.timestamp),
                    ("input_length", row.input_length),
                    ("output_length", row.output_length),
                ] {
                    if !(x.is_finite() && x >= 0.0) {
                        return Err(format!(
                            "{name}:{line}: {what} = {x} is not allowed: it must be a number >= 0"
                        ));
                    }
                }
                let key = match row.hash_ids.as_slice() {
                    [a, b, ..] => SessionKey::Shared(((*a as u128) << 64) | *b as u128),
                    _ => SessionKey::Own,
                };
                let raw_us = (row.timestamp * 1000.0).round();
                let service = self.service(row.output_length);
                (raw_us, key, service, Some(row.input_length), line)
            }
            Source::Csv {
                reader,
                record,
                cols,
            } => {
                match reader.read_record(record) {
                    Ok(false) => return Ok(None),
                    Ok(true) => {}
                    Err(e) => return Err(csv_error(&name, &e)),
                }
                let line = record.position().map_or(0, |p| p.line());
                let cell = |i: usize| record.get(i).unwrap_or("").trim();
                let number = |i: Option<usize>, what: &str| -> Result<Option<f64>, String> {
                    let Some(i) = i else { return Ok(None) };
                    let c = cell(i);
                    match c.parse::<f64>() {
                        Ok(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
                        _ => Err(format!(
                            "{name}:{line}: {what} {c:?} is not allowed: it must be a number >= 0"
                        )),
                    }
                };
                let ts = cell(cols[0].expect("the timestamp column is always found"));
                let raw_us = match ts.parse::<f64>() {
                    Ok(x) if x.is_finite() && x >= 0.0 && !matches!(self.format, TraceFormat::Azure) => {
                        (x * 1e6).round()
                    }
                    _ => datetime_us(ts).ok_or_else(|| {
                        format!(
                            "{name}:{line}: timestamp {ts:?} is not allowed: it must be seconds (a number >= 0) or a date and time like \"2023-11-16 18:17:03.98\""
                        )
                    })? as f64,
                };
                let key = match cols[1] {
                    Some(i) => SessionKey::Shared(hash128(cell(i))),
                    None => SessionKey::Own,
                };
                let input = number(cols[3], "input tokens")?;
                let service = match (
                    number(cols[2], "service time")?,
                    number(cols[4], "output tokens")?,
                ) {
                    (Some(s), _) => s,
                    (None, Some(out)) => self.service(out),
                    (None, None) => {
                        unreachable!("validation demands service_time or output_tokens")
                    }
                };
                (raw_us, key, service, input, line)
            }
        };
        if raw_us.is_nan() || raw_us.abs() >= 9e18 {
            return Err(format!("{name}:{line}: the timestamp is out of range"));
        }
        let raw = raw_us as i64;
        if raw < self.prev_us {
            return Err(format!(
                "{name}:{line}: the timestamp is earlier than the previous record's: a trace must be in time order"
            ));
        }
        self.prev_us = raw;
        let first = *self.first_us.get_or_insert(raw);
        if !(service_s.is_finite() && service_s <= MAX_SERVICE_S) {
            return Err(format!(
                "{name}:{line}: the service time {service_s} s is not allowed: at most a year"
            ));
        }
        Ok(Some(TraceRecord {
            offset_us: (raw - first) as u64,
            key,
            service_s,
            input_tokens,
            line,
        }))
    }
}

/// What one full read of a trace found.
#[derive(Debug)]
pub struct Scan {
    pub records: u64,
    /// Time from the first to the last record, microseconds.
    pub span_us: u64,
    /// The mean service time of its records, seconds.
    pub mean_service_s: f64,
    /// Requests of each session key (empty unless asked for).
    pub key_counts: HashMap<u128, u64>,
}

/// Reads the whole trace once, checking every record. With `count_keys`, it also counts
/// the requests of each session key (requests without a key, each a session of its own,
/// are not counted): a replayed session finishes when the last request of its key is
/// done. Counting here, in the read the check makes anyway, spares every replication a
/// read of its own; the map holds one entry per distinct key.
pub fn scan(
    name: &str,
    path: &Path,
    format: &TraceFormat,
    ttft_s: f64,
    decode_rate: f64,
    count_keys: bool,
) -> Result<Scan, String> {
    let mut r = TraceReader::open_parts(name, path, format, ttft_s, decode_rate)?;
    let mut n = 0u64;
    let mut span = 0;
    let mut service = 0.0;
    let mut key_counts = HashMap::new();
    while let Some(rec) = r.next()? {
        n += 1;
        span = rec.offset_us;
        service += rec.service_s;
        if let (true, SessionKey::Shared(k)) = (count_keys, rec.key) {
            *key_counts.entry(k).or_insert(0) += 1;
        }
    }
    if n == 0 {
        return Err(format!("{name}: has no records"));
    }
    Ok(Scan {
        records: n,
        span_us: span,
        mean_service_s: service / n as f64,
        key_counts,
    })
}

/// A stable 128-bit hash of a session key string (FNV-1a, two lanes).
fn hash128(s: &str) -> u128 {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x8422_2325_cbf2_9ce4;
    for byte in s.bytes() {
        a = (a ^ byte as u64).wrapping_mul(0x0000_0100_0000_01b3);
        b = (b ^ byte as u64)
            .wrapping_mul(0x0000_0100_0000_01b3)
            .rotate_left(5);
    }
    ((a as u128) << 64) | b as u128
}

/// "YYYY-MM-DD hh:mm:ss[.fraction]" (or with a 'T') as microseconds since 1970-01-01.
fn datetime_us(s: &str) -> Option<i64> {
    let (date, time) = s.split_once([' ', 'T'])?;
    let mut d = date.splitn(3, '-');
    let y: i64 = d.next()?.parse().ok()?;
    let m: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let (hms, frac) = match time.split_once('.') {
        Some((a, b)) => (a, b),
        None => (time, ""),
    };
    let mut t = hms.splitn(3, ':');
    let h: i64 = t.next()?.parse().ok()?;
    let mi: i64 = t.next()?.parse().ok()?;
    let sec: i64 = t.next()?.parse().ok()?;
    if h > 23 || mi > 59 || sec > 60 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    // Microseconds from the fraction, rounded at the seventh digit.
    let mut digits: Vec<u8> = frac.bytes().map(|c| c - b'0').collect();
    digits.resize(7, 0);
    let f7: i64 = digits[..7].iter().fold(0, |acc, d| acc * 10 + *d as i64);
    let micro = (f7 + 5) / 10;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + mi * 60 + sec) * 1_000_000) + micro)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes() {
        assert_eq!(datetime_us("1970-01-01 00:00:00"), Some(0));
        assert_eq!(datetime_us("1970-01-02 00:00:01.5"), Some(86_401_500_000));
        // 2023-11-16 is 19677 days after 1970-01-01.
        assert_eq!(
            datetime_us("2023-11-16 18:17:03.9799600"),
            Some((19_677 * 86_400 + 18 * 3600 + 17 * 60 + 3) * 1_000_000 + 979_960)
        );
        assert_eq!(datetime_us("2023-13-01 00:00:00"), None);
        assert_eq!(datetime_us("yesterday"), None);
    }
}
