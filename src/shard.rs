//! Scale-out: `run --shard K/N` simulates one block of a sweep's (point, replication) work
//! and writes a partial result; `merge` checks that a set of partial results belongs
//! together and joins them into exactly the result one unsharded run gives.
//!
//! The partition: the sweep's work items are numbered replication-major,
//! item = replication x points + point, for replications 0..R and points 0..P (W = R x P
//! items). Shard K of N holds the contiguous items floor((K-1) W / N) to floor(K W / N) - 1,
//! so shard sizes differ by at most one item, each shard holds a contiguous block of
//! replications of each point, and with N > W some shards hold nothing (and are still valid
//! shards, needed for the merge).
//!
//! A shard folder holds `shard.json` (the shard's manifest: what it is, with SHA-256 checksums of the
//! other files), `scenario.toml` (the scenario text as run) and `shard-data.json` (the raw
//! per-replication records, the pooled wait histograms and the per-minute busy sums).

use crate::engine::{Counts, MinuteBin};
use crate::runner::{PartialRun, PointPartial, RepRecord};
use crate::stats::METRICS;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = "shard.json";
pub const DATA: &str = "shard-data.json";
pub const SCENARIO_COPY: &str = "scenario.toml";
pub const FORMAT: &str = "slotsim-shard";
pub const FORMAT_VERSION: u32 = 1;
/// Most shards a sweep may be split into.
pub const MAX_SHARDS: u32 = 1_000_000;
/// The partition, in words, as written into every manifest.
pub const PARTITION: &str = "replication-major contiguous blocks: work item i = replication * points + point; shard K of N holds items floor((K-1)*W/N) to floor(K*W/N)-1 of W = points * replications";

/// Shard K (1-based) of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSpec {
    pub k: u32,
    pub n: u32,
}

impl std::fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

impl ShardSpec {
    /// Parses "K/N".
    pub fn parse(text: &str) -> Result<ShardSpec, String> {
        let bad = || {
            format!(
                "--shard {text:?}: expected K/N with whole numbers 1 <= K <= N <= {MAX_SHARDS}, e.g. \"2/8\""
            )
        };
        let (k, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let k: u32 = k.trim().parse().map_err(|_| bad())?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        if n == 0 || n > MAX_SHARDS || k == 0 || k > n {
            return Err(bad());
        }
        Ok(ShardSpec { k, n })
    }

    /// The work items this shard holds, of `items` in all.
    pub fn items(&self, items: u64) -> Range<u64> {
        let at = |k: u32| (k as u128 * items as u128 / self.n as u128) as u64;
        at(self.k - 1)..at(self.k)
    }

    /// The replications of each of `points` points that this shard holds, out of
    /// `replications` per point.
    pub fn replications(&self, points: usize, replications: u32) -> Vec<Range<u32>> {
        let p = points as u64;
        let items = self.items(p * replications as u64);
        (0..p)
            .map(|i| {
                // First replication r with r * p + i >= bound.
                let first = |bound: u64| bound.saturating_sub(i).div_ceil(p) as u32;
                first(items.start)..first(items.end).max(first(items.start))
            })
            .collect()
    }
}

/// The command-line settings that change what a run computes, as given to `run`; the
/// merge applies them again to the scenario text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    pub seed: Option<u64>,
    pub replications: Option<u32>,
    pub horizon: Option<String>,
    pub reserved: Option<String>,
    pub baseline: Option<usize>,
    pub max_replications: Option<u32>,
    pub independent_streams: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioRef {
    pub name: String,
    /// The scenario file as given to `run`.
    pub path: String,
    /// SHA-256 of the scenario text (also the checksum of `scenario.toml`).
    pub sha256: String,
    /// [`inputs_sha256`]: the scenario as run, data files included.
    pub inputs_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Work {
    pub points: usize,
    pub replications_per_point: u32,
    /// W = points x replications.
    pub items: u64,
    /// This shard's items: first..end (end exclusive).
    pub first_item: u64,
    pub end_item: u64,
    /// Per point, the replications held: [first, end) (end exclusive; equal = none).
    pub replications: Vec<[u32; 2]>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSum {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// `shard.json`, the manifest of a shard folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub slotsim_version: String,
    pub scenario: ScenarioRef,
    /// The seed run (the scenario's, or --seed).
    pub seed: u64,
    pub shard: ShardSpec,
    pub partition: String,
    pub work: Work,
    pub overrides: Overrides,
    /// The same overrides as flags, as given (for run.json).
    pub command_line_overrides: Vec<String>,
    pub common_random_numbers: bool,
    pub threads: usize,
    pub wall_time_s: f64,
    pub events: u64,
    pub files: Vec<FileSum>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RepData {
    replication: u32,
    seed: u64,
    counts: Counts,
    /// The metrics in `METRICS` order, as IEEE-754 bit patterns (exact).
    metric_bits: Vec<u64>,
    events: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PointData {
    point: usize,
    reps: Vec<RepData>,
    /// Pooled slot waits: (highest value of a bucket in microseconds, count).
    wait_hist: Vec<[u64; 2]>,
    busy_by_minute: Vec<u128>,
    timeseries: Option<Vec<MinuteBin>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShardData {
    points: Vec<PointData>,
}

/// The bytes of `shard-data.json` for a partial run.
pub fn data_json(run: &PartialRun) -> Vec<u8> {
    let data = ShardData {
        points: run
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| PointData {
                point: i,
                reps: p
                    .reps
                    .iter()
                    .map(|r| RepData {
                        replication: r.replication,
                        seed: r.seed,
                        counts: r.counts.clone(),
                        metric_bits: r.metrics.iter().map(|x| x.to_bits()).collect(),
                        events: r.events,
                    })
                    .collect(),
                wait_hist: p.wait_hist.bins().iter().map(|&(v, n)| [v, n]).collect(),
                busy_by_minute: p.busy_by_minute.clone(),
                timeseries: p.timeseries.clone(),
            })
            .collect(),
    };
    let mut v = serde_json::to_vec(&data).expect("serialising plain data cannot fail");
    v.push(b'\n');
    v
}

/// Parses `shard-data.json` back into per-point partial results.
fn parse_data(bytes: &[u8]) -> Result<Vec<(usize, PointPartial)>, String> {
    let data: ShardData = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    data.points
        .into_iter()
        .map(|p| {
            let mut partial = PointPartial::empty().map_err(|e| e.to_string())?;
            let mut hist = hdrhistogram::Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
            for [v, c] in p.wait_hist {
                hist.record_n(v, c)
                    .map_err(|e| format!("wait histogram of point {}: {e:?}", p.point))?;
            }
            partial.wait_hist = crate::runner::WaitBins::of(&hist);
            partial.busy_by_minute = p.busy_by_minute;
            partial.timeseries = p.timeseries;
            for r in p.reps {
                let metrics: [f64; METRICS.len()] = r
                    .metric_bits
                    .iter()
                    .map(|&b| f64::from_bits(b))
                    .collect::<Vec<_>>()
                    .try_into()
                    .map_err(|v: Vec<f64>| {
                        format!(
                            "point {} replication {}: {} metrics, expected {}",
                            p.point,
                            r.replication,
                            v.len(),
                            METRICS.len()
                        )
                    })?;
                partial.reps.push(RepRecord {
                    replication: r.replication,
                    seed: r.seed,
                    counts: r.counts,
                    metrics,
                    events: r.events,
                });
            }
            Ok((p.point, partial))
        })
        .collect()
}

/// One checked shard folder.
pub struct Shard {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

/// Why shards cannot be merged. Every message names the folder and the problem.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MergeError(pub String);

fn shown(dir: &Path) -> String {
    dir.display().to_string()
}

/// `path` as the folder it names once created: symbolic links, `.` and `..` resolved one
/// component at a time, also past parts that do not exist yet (`new/..` is where
/// `new` would be created, as creating the output folder does).
fn resolved(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut cur = if path.is_absolute() {
        PathBuf::new()
    } else {
        std::env::current_dir().unwrap_or_default()
    };
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                cur.pop();
            }
            other => cur.push(other),
        }
        if let Ok(real) = cur.canonicalize() {
            cur = real;
        }
    }
    cur
}

/// Refuses an output folder that is one of the shard folders: publishing the merged run
/// there replaces the files of the run the folder holds (the shard's own), so the shard
/// would be lost. An output folder inside a shard folder, or a shard folder inside the
/// output folder, is allowed: a publish replaces only the files its folder's manifest
/// lists, never a file of another folder.
pub fn check_out_is_no_shard(out: &Path, shards: &[PathBuf]) -> Result<(), MergeError> {
    let target = resolved(out);
    match shards.iter().find(|dir| resolved(dir) == target) {
        Some(dir) => Err(MergeError(format!(
            "--out {}: is the shard folder {}: the merged run would replace the shard's files; give another --out folder",
            shown(out),
            shown(dir)
        ))),
        None => Ok(()),
    }
}

/// Reads a shard folder's manifest and checks its files against their checksums.
pub fn open_shard(dir: &Path) -> Result<Shard, MergeError> {
    let d = shown(dir);
    if !dir.is_dir() {
        let what = if dir.exists() {
            "is not a folder"
        } else {
            "no such folder"
        };
        return Err(MergeError(format!(
            "{d}: {what} (give the --out folders of `slotsim run SCENARIO --shard K/N`)"
        )));
    }
    let path = dir.join(MANIFEST);
    let bytes = std::fs::read(&path).map_err(|e| {
        MergeError(if e.kind() == std::io::ErrorKind::NotFound {
            format!("{d}: no {MANIFEST}: not a shard folder (write shards with `slotsim run SCENARIO --shard K/N --out DIR`)")
        } else {
            format!("{}: cannot read: {e}", shown(&path))
        })
    })?;
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
        MergeError(format!(
            "{}: damaged or not a slotsim shard manifest: {e}",
            shown(&path)
        ))
    })?;
    if manifest.format != FORMAT || manifest.format_version != FORMAT_VERSION {
        return Err(MergeError(format!(
            "{}: format {:?} version {}, this slotsim reads {FORMAT:?} version {FORMAT_VERSION}",
            shown(&path),
            manifest.format,
            manifest.format_version
        )));
    }
    for needed in [SCENARIO_COPY, DATA] {
        if !manifest.files.iter().any(|f| f.name == needed) {
            return Err(MergeError(format!(
                "{}: lists no checksum for {needed}: damaged manifest",
                shown(&path)
            )));
        }
    }
    for f in &manifest.files {
        if f.name.contains(['/', '\\']) || f.name.starts_with('.') {
            return Err(MergeError(format!(
                "{}: file name {:?} is not a plain file name: damaged manifest",
                shown(&path),
                f.name
            )));
        }
        let fp = dir.join(&f.name);
        let bytes = std::fs::read(&fp).map_err(|e| {
            MergeError(format!("{}: damaged shard: cannot read {}: {e}", d, f.name))
        })?;
        if bytes.len() as u64 != f.bytes || sha256_bytes(&bytes) != f.sha256 {
            return Err(MergeError(format!(
                "{d}: damaged shard: {} does not match the checksum in {MANIFEST} ({} bytes, expected {}); the file was changed or truncated after the shard ran; run shard {} again",
                f.name,
                bytes.len(),
                f.bytes,
                manifest.shard
            )));
        }
    }
    let scenario_sum = manifest
        .files
        .iter()
        .find(|f| f.name == SCENARIO_COPY)
        .map(|f| f.sha256.clone());
    if scenario_sum.as_deref() != Some(manifest.scenario.sha256.as_str()) {
        return Err(MergeError(format!(
            "{d}: damaged shard: {SCENARIO_COPY} is not the scenario the manifest names (SHA-256 differs)"
        )));
    }
    Ok(Shard {
        dir: dir.to_path_buf(),
        manifest,
    })
}

/// SHA-256 of the scenario as run: its validated settings after the command-line
/// overrides, including the values read from data files it names (empirical
/// distributions) and the bytes of a replayed trace, but not where the files are (the
/// scenario's own path, a trace's resolved path) nor the comments of the text. Shards with
/// the same scenario text but different data files differ here.
pub fn inputs_sha256(s: &crate::scenario::Scenario) -> Result<String, String> {
    let mut s = s.clone();
    s.file.clear();
    s.source.clear();
    s.notes.clear();
    let mut trace_sum = String::new();
    if let crate::scenario::Workload::Trace { trace, .. } = &mut s.workload {
        use sha2::Digest;
        let cannot = |e: std::io::Error| format!("{}: cannot read: {e}", trace.path.display());
        let mut file = std::fs::File::open(&trace.path).map_err(cannot)?;
        let mut hasher = sha2::Sha256::new();
        std::io::copy(&mut file, &mut hasher).map_err(cannot)?;
        trace_sum = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        trace.path = PathBuf::new();
    }
    Ok(sha256_bytes(format!("{s:?}\ntrace {trace_sum}").as_bytes()))
}

/// SHA-256 of bytes, hex.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// Checks that `shards` are all N shards of one sharded run, each once: same slotsim
/// version (this one), scenario, seed, overrides and N. Returns them sorted by K.
pub fn check_set(mut shards: Vec<Shard>) -> Result<Vec<Shard>, MergeError> {
    let Some(first) = shards.first() else {
        return Err(MergeError("merge: give at least one shard folder".into()));
    };
    let (a, ad) = (&first.manifest.clone(), shown(&first.dir));
    let own = env!("CARGO_PKG_VERSION");
    if a.slotsim_version != own {
        return Err(MergeError(format!(
            "{ad}: written by slotsim {}, this is slotsim {own}: merge with the version that ran the shards",
            a.slotsim_version
        )));
    }
    for s in &shards[1..] {
        let (b, bd) = (&s.manifest, shown(&s.dir));
        let differ = |what: &str, x: String, y: String| {
            Err(MergeError(format!(
                "{ad} and {bd} are not shards of the same run: different {what} ({x} vs {y})"
            )))
        };
        if b.slotsim_version != a.slotsim_version {
            return differ(
                "slotsim version",
                a.slotsim_version.clone(),
                b.slotsim_version.clone(),
            );
        }
        if b.scenario.sha256 != a.scenario.sha256 {
            return differ(
                "scenario",
                format!("{} sha256 {}…", a.scenario.path, short(&a.scenario.sha256)),
                format!("{} sha256 {}…", b.scenario.path, short(&b.scenario.sha256)),
            );
        }
        if b.scenario.inputs_sha256 != a.scenario.inputs_sha256
            && b.seed == a.seed
            && b.overrides == a.overrides
        {
            return differ(
                "input data (a data file or trace the scenario names differs)",
                format!("inputs sha256 {}…", short(&a.scenario.inputs_sha256)),
                format!("inputs sha256 {}…", short(&b.scenario.inputs_sha256)),
            );
        }
        if b.seed != a.seed {
            return differ("seed", a.seed.to_string(), b.seed.to_string());
        }
        if b.overrides != a.overrides || b.common_random_numbers != a.common_random_numbers {
            let flags = |m: &Manifest| {
                if m.command_line_overrides.is_empty() {
                    "no flags".to_string()
                } else {
                    m.command_line_overrides.join(" ")
                }
            };
            return differ("command-line settings", flags(a), flags(b));
        }
        if b.shard.n != a.shard.n {
            return differ(
                "shard counts",
                format!("shard {}", a.shard),
                format!("shard {}", b.shard),
            );
        }
        if b.work.items != a.work.items
            || b.work.points != a.work.points
            || b.work.replications_per_point != a.work.replications_per_point
        {
            return differ(
                "work",
                format!("{} items", a.work.items),
                format!("{} items", b.work.items),
            );
        }
    }
    shards.sort_by_key(|s| s.manifest.shard.k);
    for pair in shards.windows(2) {
        if pair[0].manifest.shard.k == pair[1].manifest.shard.k {
            return Err(MergeError(format!(
                "shard {} is given twice: {} and {}",
                pair[0].manifest.shard,
                shown(&pair[0].dir),
                shown(&pair[1].dir)
            )));
        }
    }
    let n = a.shard.n;
    if shards.len() as u64 != n as u64 {
        let have: std::collections::BTreeSet<u32> =
            shards.iter().map(|s| s.manifest.shard.k).collect();
        let missing: Vec<String> = (1..=n)
            .filter(|k| !have.contains(k))
            .take(10)
            .map(|k| format!("{k}/{n}"))
            .collect();
        let more = n as usize - shards.len() > missing.len();
        return Err(MergeError(format!(
            "shard{} {}{} missing: {} of {n} shards given; every shard 1/{n} to {n}/{n} is needed",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            if more {
                " and more are"
            } else if missing.len() == 1 {
                " is"
            } else {
                " are"
            },
            shards.len()
        )));
    }
    Ok(shards)
}

/// Reads every shard's data, checking that each shard holds exactly the work its manifest
/// and the partition say: per shard (in the given order), one partial result per point.
/// `points` and `replications` are the sweep's, from the scenario as run.
pub fn read_all(
    shards: &[Shard],
    points: usize,
    replications: u32,
) -> Result<Vec<Vec<PointPartial>>, MergeError> {
    let mut all = Vec::with_capacity(shards.len());
    for s in shards {
        let d = shown(&s.dir);
        let m = &s.manifest;
        let expected = m.shard.replications(points, replications);
        let listed: Vec<Range<u32>> = m.work.replications.iter().map(|[a, b]| *a..*b).collect();
        if m.work.points != points
            || m.work.replications_per_point != replications
            || listed != expected
        {
            return Err(MergeError(format!(
                "{d}: the manifest's work does not match shard {} of {points} points x {replications} replications: damaged manifest",
                m.shard
            )));
        }
        let bytes = std::fs::read(s.dir.join(DATA))
            .map_err(|e| MergeError(format!("{d}: cannot read {DATA}: {e}")))?;
        let data = parse_data(&bytes)
            .map_err(|e| MergeError(format!("{d}: damaged shard: {DATA}: {e}")))?;
        if data.len() != points {
            return Err(MergeError(format!(
                "{d}: damaged shard: {DATA} has {} points, the scenario {points}",
                data.len()
            )));
        }
        let mut parts = Vec::with_capacity(points);
        for (index, ((i, partial), range)) in data.into_iter().zip(&expected).enumerate() {
            let got: Vec<u32> = partial.reps.iter().map(|r| r.replication).collect();
            let want: Vec<u32> = range.clone().collect();
            if i != index || got != want || partial.timeseries.is_some() != range.contains(&0) {
                return Err(MergeError(format!(
                    "{d}: damaged shard: {DATA} entry {index} does not hold point {index}'s replications {range:?} as the manifest says"
                )));
            }
            parts.push(partial);
        }
        all.push(parts);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_shard_specs() {
        assert_eq!(ShardSpec::parse("2/8").unwrap(), ShardSpec { k: 2, n: 8 });
        assert_eq!(
            ShardSpec::parse(" 1 / 1 ").unwrap(),
            ShardSpec { k: 1, n: 1 }
        );
        for bad in [
            "",
            "3",
            "0/2",
            "3/2",
            "1/0",
            "a/b",
            "-1/2",
            "1/2/3",
            "1/2000000",
        ] {
            let e = ShardSpec::parse(bad).unwrap_err();
            assert!(e.contains("--shard"), "{bad}: {e}");
        }
    }

    /// Every (point, replication) lands in exactly one shard, in contiguous blocks whose
    /// sizes differ by at most one item.
    #[test]
    fn the_partition_covers_every_item_once() {
        for points in 1..5usize {
            for reps in 1..7u32 {
                for n in 1..12u32 {
                    let mut seen = vec![vec![0u32; reps as usize]; points];
                    let mut sizes = Vec::new();
                    for k in 1..=n {
                        let spec = ShardSpec { k, n };
                        let ranges = spec.replications(points, reps);
                        let size: u32 = ranges.iter().map(|r| r.len() as u32).sum();
                        assert_eq!(
                            size as u64,
                            spec.items(points as u64 * reps as u64).count() as u64
                        );
                        sizes.push(size);
                        for (p, r) in ranges.iter().enumerate() {
                            for rep in r.clone() {
                                seen[p][rep as usize] += 1;
                                let item = rep as u64 * points as u64 + p as u64;
                                assert!(spec.items(points as u64 * reps as u64).contains(&item));
                            }
                        }
                    }
                    assert!(
                        seen.iter().flatten().all(|&c| c == 1),
                        "{points} {reps} {n}"
                    );
                    let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                    assert!(hi - lo <= 1, "{sizes:?}");
                }
            }
        }
    }
}
