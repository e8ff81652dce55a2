//! Scale-out: `run --shard K/N` then `merge` gives the unsharded run's CSV files byte for
//! byte; merge refuses shards that do not belong together, naming the problem.

use assert_cmd::Command;
use slotsim::shard::{Manifest, ShardSpec};
use std::path::{Path, PathBuf};

fn slotsim() -> Command {
    Command::cargo_bin("slotsim").expect("binary is built")
}

/// Three sweep points, two replications: 6 work items, so 7 shards leave one empty. One
/// hour gives MSER-5 its 8 batches, so the warm-up columns are filled in.
const SCENARIO: &str = r#"
name = "shards"
seed = 5
horizon = "1h"
warmup = "5m"
replications = 2
[[pools]]
accounts = 2
concurrency = 3
[workload]
arrival = { process = "poisson", rate = "3/min" }
requests_per_session = { dist = "geometric", mean = 5 }
think_time = { dist = "exponential", mean = "30s" }
service_time = { dist = "exponential", mean = "20s" }
[sweep]
reserved = [0, 1, 2]
"#;

/// With targets, an unsharded run adds decision rounds unless the replication count is
/// fixed with --max-replications.
const TARGETS: &str =
    "[targets]\ncontinuity_failure_rate = 0.02\nnew_session_rejection_rate = 0.1\n";

fn write_scenario(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs every shard of `n` into `dir/sK`, with `extra` flags; returns the folders.
fn run_shards(scenario: &Path, dir: &Path, n: u32, extra: &[&str]) -> Vec<PathBuf> {
    (1..=n)
        .map(|k| {
            let out = dir.join(format!("s{k}"));
            ok(slotsim()
                .arg("run")
                .arg(scenario)
                .args(["--quiet", "--shard", &format!("{k}/{n}"), "--out"])
                .arg(&out)
                .args(extra));
            out
        })
        .collect()
}

fn merge(shards: &[PathBuf], out: &Path) -> std::process::Output {
    slotsim()
        .arg("merge")
        .args(shards)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// The CSV files of an output folder, by name.
fn csv_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn merged_csv_files_are_byte_identical_to_an_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), "s.toml", &format!("{SCENARIO}{TARGETS}"));
    // Overrides given on the command line travel through the manifest to the merge.
    let flags = ["--seed", "11", "--baseline", "1", "--max-replications", "2"];
    for threads in ["1", "2"] {
        let full = dir.path().join(format!("full-{threads}"));
        ok(slotsim()
            .arg("run")
            .arg(&scenario)
            .args(["--quiet", "--threads", threads, "--out"])
            .arg(&full)
            .args(flags));
        let expected = csv_files(&full);
        let names: Vec<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
        for needed in [
            "summary.csv",
            "replications.csv",
            "timeseries.csv",
            "wait_quantiles.csv",
        ] {
            assert!(names.contains(&needed), "{names:?}");
        }
        // The warm-up check (MSER-5 over every replication's busy series) ran.
        let summary = String::from_utf8(
            expected[names.iter().position(|n| *n == "summary.csv").unwrap()]
                .1
                .clone(),
        )
        .unwrap();
        let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
        let col = header.iter().position(|c| *c == "stationary").unwrap();
        for row in summary.lines().skip(1) {
            let cell = row.split(',').nth(col).unwrap();
            assert!(cell == "true" || cell == "false", "{summary}");
        }
        for n in [1u32, 2, 3, 7] {
            let sdir = dir.path().join(format!("shards-{threads}-{n}"));
            let mut extra = vec!["--threads", threads];
            extra.extend(flags);
            let shards = run_shards(&scenario, &sdir, n, &extra);
            // Merge order does not matter: give the folders reversed.
            let mut given = shards.clone();
            given.reverse();
            let merged = sdir.join("merged");
            let out = merge(&given, &merged);
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "N={n} threads={threads}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(stdout.contains(&format!("merged {n} shard")), "{stdout}");
            let got = csv_files(&merged);
            assert_eq!(
                got.iter().map(|(n, _)| n).collect::<Vec<_>>(),
                names,
                "N={n} threads={threads}: the same CSV files"
            );
            for ((name, a), (_, b)) in expected.iter().zip(&got) {
                assert!(
                    a == b,
                    "N={n} threads={threads}: {name} differs from the unsharded run's"
                );
            }
            assert!(merged.join("report.html").is_file());
            assert!(merged.join("run.json").is_file());
            assert!(merged.join("charts").is_dir());
            // A shard folder holds the partial result only: no CSV, chart or report.
            for s in &shards {
                assert!(csv_files(s).is_empty());
                assert!(!s.join("report.html").exists() && !s.join("charts").exists());
            }
        }
    }
}

#[test]
fn the_manifest_says_what_the_shard_holds() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), "s.toml", SCENARIO);
    let shards = run_shards(&scenario, dir.path(), 4, &["--replications", "3"]);
    let mut covered = 0;
    for (i, s) in shards.iter().enumerate() {
        let text = std::fs::read_to_string(s.join("shard.json")).unwrap();
        let m: Manifest = serde_json::from_str(&text).expect("manifest parses");
        assert_eq!(m.format, "slotsim-shard");
        assert_eq!(m.slotsim_version, env!("CARGO_PKG_VERSION"));
        assert_eq!(
            m.shard,
            ShardSpec {
                k: i as u32 + 1,
                n: 4
            }
        );
        assert_eq!(m.seed, 5);
        assert_eq!(m.scenario.sha256, slotsim::export::sha256_hex(SCENARIO));
        assert_eq!(m.overrides.replications, Some(3));
        assert_eq!(m.command_line_overrides, vec!["--replications 3"]);
        assert_eq!((m.work.points, m.work.replications_per_point), (3, 3));
        assert_eq!(m.work.items, 9);
        let ranges = m.shard.replications(3, 3);
        let listed: Vec<_> = m.work.replications.iter().map(|[a, b]| *a..*b).collect();
        assert_eq!(listed, ranges);
        assert_eq!(m.work.first_item, covered);
        covered = m.work.end_item;
        let held: u64 = ranges.iter().map(|r| r.len() as u64).sum();
        assert_eq!(held, m.work.end_item - m.work.first_item);
        // The checksums are those of the files as written.
        for f in &m.files {
            let bytes = std::fs::read(s.join(&f.name)).unwrap();
            assert_eq!(f.bytes, bytes.len() as u64, "{}", f.name);
            assert_eq!(f.sha256, slotsim::shard::sha256_bytes(&bytes), "{}", f.name);
        }
        assert_eq!(
            std::fs::read_to_string(s.join("scenario.toml")).unwrap(),
            SCENARIO
        );
    }
    assert_eq!(covered, 9);
}

/// Merge must fail with exit 2, a message containing every fragment, and no output.
fn refused(shards: &[PathBuf], out: &Path, fragments: &[&str]) {
    let o = merge(shards, out);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{fragments:?}: {stderr}");
    for f in fragments {
        assert!(stderr.contains(f), "expected {f:?} in: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out.join("summary.csv").exists(), "nothing written");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// Merging into one of the shard folders would replace the shard's files with the merged
/// run's: refused, however the folder is spelled, and the shard is left whole.
#[test]
fn merge_refuses_an_out_folder_that_is_a_shard() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let scenario = write_scenario(d, "s.toml", SCENARIO);
    let s = run_shards(&scenario, &d.join("good"), 2, &[]);
    let before = std::fs::read_dir(&s[0]).unwrap().count();
    let link = d.join("link");
    std::os::unix::fs::symlink(&s[1], &link).unwrap();
    for out in [s[0].clone(), s[0].join("x").join(".."), link] {
        refused(&s, &out, &["--out", "is the shard folder", "another --out"]);
    }
    for shard in &s {
        for f in ["shard.json", "shard-data.json", "scenario.toml"] {
            assert!(shard.join(f).is_file(), "{} kept", shard.join(f).display());
        }
    }
    assert_eq!(
        std::fs::read_dir(&s[0]).unwrap().count(),
        before,
        "nothing added"
    );
    // A folder inside a shard folder is not the shard: merging there leaves the shard whole.
    let inside = s[0].join("merged");
    let o = merge(&s, &inside);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(inside.join("summary.csv").is_file());
    assert!(s[0].join("shard.json").is_file());
}

#[test]
fn merge_refuses_shards_that_do_not_belong_together() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let scenario = write_scenario(d, "s.toml", SCENARIO);
    let s = run_shards(&scenario, &d.join("good"), 3, &[]);
    let out = d.join("merged");

    // A missing shard.
    refused(
        &[s[0].clone(), s[2].clone()],
        &out,
        &["shard 2/3 is missing", "2 of 3 shards given"],
    );
    // A duplicated shard (the same shard twice, under two names).
    let dup = d.join("dup");
    copy_dir(&s[1], &dup);
    refused(
        &[s[0].clone(), s[1].clone(), dup.clone(), s[2].clone()],
        &out,
        &["shard 2/3 is given twice", &dup.display().to_string()],
    );
    // A shard of another scenario.
    let other = write_scenario(d, "other.toml", &SCENARIO.replace("3/min", "4/min"));
    let o = run_shards(&other, &d.join("other"), 3, &[]);
    refused(
        &[s[0].clone(), o[1].clone(), s[2].clone()],
        &out,
        &[
            "not shards of the same run",
            "different scenario",
            "other.toml",
        ],
    );
    // A shard of another seed.
    let o = run_shards(&scenario, &d.join("seed"), 3, &["--seed", "6"]);
    refused(
        &[s[0].clone(), s[1].clone(), o[2].clone()],
        &out,
        &["different seed (5 vs 6)"],
    );
    // A shard of another split.
    let o = run_shards(&scenario, &d.join("four"), 4, &[]);
    refused(
        &[s[0].clone(), s[1].clone(), o[2].clone()],
        &out,
        &["different shard counts"],
    );
    // A shard with other command-line settings.
    let o = run_shards(&scenario, &d.join("reps"), 3, &["--replications", "3"]);
    refused(
        &[s[0].clone(), o[1].clone(), s[2].clone()],
        &out,
        &["different command-line settings", "--replications 3"],
    );
    // A damaged shard: one byte of its data changed.
    let bad = d.join("damaged");
    copy_dir(&s[1], &bad);
    let mut data = std::fs::read(bad.join("shard-data.json")).unwrap();
    let i = data.iter().position(|&b| b.is_ascii_digit()).unwrap();
    data[i] = if data[i] == b'9' { b'8' } else { data[i] + 1 };
    std::fs::write(bad.join("shard-data.json"), &data).unwrap();
    refused(
        &[s[0].clone(), bad.clone(), s[2].clone()],
        &out,
        &["damaged shard", "shard-data.json", "checksum"],
    );
    // A truncated data file, and a damaged manifest.
    let cut = d.join("cut");
    copy_dir(&s[1], &cut);
    std::fs::write(cut.join("shard-data.json"), &data[..data.len() / 2]).unwrap();
    refused(&[s[0].clone(), cut, s[2].clone()], &out, &["damaged shard"]);
    let bad_manifest = d.join("bad-manifest");
    copy_dir(&s[1], &bad_manifest);
    std::fs::write(bad_manifest.join("shard.json"), "{\"format\": 1").unwrap();
    refused(
        &[s[0].clone(), bad_manifest, s[2].clone()],
        &out,
        &["shard.json", "damaged or not a slotsim shard manifest"],
    );
    // Not a shard folder at all.
    refused(&[s[0].clone(), d.to_path_buf()], &out, &["no shard.json"]);
    refused(&[d.join("nowhere")], &out, &["no such folder"]);
    // The good set still merges.
    let o = merge(&s, &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn shard_flags_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), "s.toml", SCENARIO);
    for (flags, fragment) in [
        (vec!["--shard", "0/3"], "--shard \"0/3\""),
        (vec!["--shard", "4/3"], "--shard \"4/3\""),
        (vec!["--shard", "x"], "K/N"),
        (
            vec!["--shard", "1/2", "--precision", "0.1"],
            "precision target",
        ),
    ] {
        let o = slotsim()
            .arg("run")
            .arg(&scenario)
            .args(["--quiet", "--out"])
            .arg(dir.path().join("out"))
            .args(&flags)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(fragment), "{flags:?}: {stderr}");
    }
    assert!(!dir.path().join("out").exists());
    // Decision rounds cannot be split in advance: refused, saying how to fix the count.
    let with_targets = write_scenario(dir.path(), "t.toml", &format!("{SCENARIO}{TARGETS}"));
    let o = slotsim()
        .arg("run")
        .arg(&with_targets)
        .args(["--quiet", "--shard", "1/2", "--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("decision rounds") && stderr.contains("--max-replications 2"),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists());
}

/// The run budget applies to a shard's own share of the work: a sweep too big for one
/// run is refused whole, while a shard of it that fits (here an empty one) runs.
#[test]
fn the_budget_counts_a_shards_share() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), "s.toml", SCENARIO);
    let big = ["--replications", "100000", "--horizon", "366d", "--quiet"];
    let o = slotsim()
        .arg("run")
        .arg(&scenario)
        .args(big)
        .arg("--out")
        .arg(dir.path().join("whole"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("too big"), "{stderr}");
    let out = dir.path().join("shard");
    let stdout = ok(slotsim()
        .arg("run")
        .arg(&scenario)
        .args(big)
        .args(["--shard", "1/1000000", "--out"])
        .arg(&out));
    assert!(stdout.contains("holds no work"), "{stdout}");
    let m: Manifest =
        serde_json::from_str(&std::fs::read_to_string(out.join("shard.json")).unwrap()).unwrap();
    assert_eq!(
        (m.work.first_item, m.work.end_item, m.work.items),
        (0, 0, 300_000)
    );
}

/// Shards must also agree on the data files the scenario names: the same scenario text
/// with a changed CSV column is refused, and so is a merge where the data changed since.
#[test]
fn merge_refuses_shards_whose_data_files_differ() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = SCENARIO.replace(
        r#"service_time = { dist = "exponential", mean = "20s" }"#,
        r#"service_time = { dist = "empirical", file = "t.csv", column = "secs" }"#,
    );
    assert_ne!(text, SCENARIO);
    let scenario = write_scenario(d, "s.toml", &text);
    let data = d.join("t.csv");
    std::fs::write(&data, "secs\n10\n20\n30\n").unwrap();
    let a = run_shards(&scenario, &d.join("a"), 2, &[]);
    std::fs::write(&data, "secs\n10\n20\n31\n").unwrap();
    let b = run_shards(&scenario, &d.join("b"), 2, &[]);
    let out = d.join("merged");
    refused(
        &[a[0].clone(), b[1].clone()],
        &out,
        &["different input data", "data file or trace"],
    );
    // b's data is current: b merges; a's is not any more: refused.
    let o = merge(&b, &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    refused(
        &a,
        &d.join("merged-a"),
        &["input data differs here", "s.toml"],
    );
}
