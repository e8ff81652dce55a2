//! Trust (issue 10): an output folder is a whole run or refused; `report` trusts nothing it
//! reads; runaway scenarios are refused up front or stopped; a killed run leaves the
//! earlier results whole.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn slotsim() -> Command {
    Command::cargo_bin("slotsim").expect("binary is built")
}

/// A scenario that runs in a fraction of a second.
pub const SMALL: &str = r#"
horizon = "2h"
warmup = "10m"
replications = 2
[[pools]]
accounts = 2
concurrency = 3
[workload]
arrival = { process = "poisson", rate = "2/min" }
requests_per_session = { dist = "geometric", mean = 5 }
think_time = { dist = "exponential", mean = "30s" }
service_time = { dist = "exponential", mean = "20s" }
[sweep]
reserved = [0, 1]
"#;

fn write_scenario(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("s.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn run_into(scenario: &Path, out: &Path, seed: u64) {
    slotsim()
        .arg("run")
        .arg(scenario)
        .args(["--quiet", "--seed", &seed.to_string(), "--out"])
        .arg(out)
        .assert()
        .success();
}

fn report_fails(out: &Path, fragments: &[&str]) -> String {
    let o = slotsim().arg("report").arg(out).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for f in fragments {
        assert!(err.contains(f), "missing {f:?} in: {err}");
    }
    err
}

#[test]
fn report_refuses_a_folder_that_mixes_two_runs() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), SMALL);
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("my-notes.txt"), "mine").unwrap();
    run_into(&scenario, &out, 1);
    let first_ts = std::fs::read(out.join("timeseries.csv")).unwrap();
    let first_run = std::fs::read(out.join("run.json")).unwrap();
    run_into(&scenario, &out, 2);
    assert_eq!(std::fs::read(out.join("my-notes.txt")).unwrap(), b"mine");
    slotsim().arg("report").arg(&out).assert().success();

    // A file of the earlier run put back: refused, naming it.
    let second_ts = std::fs::read(out.join("timeseries.csv")).unwrap();
    assert_ne!(first_ts, second_ts);
    std::fs::write(out.join("timeseries.csv"), &first_ts).unwrap();
    report_fails(&out, &["timeseries.csv", "mixes files of different runs"]);
    std::fs::write(out.join("timeseries.csv"), &second_ts).unwrap();

    // run.json of another run.
    std::fs::write(out.join("run.json"), &first_run).unwrap();
    report_fails(&out, &["run.json", "does not belong"]);

    // No manifest at all.
    std::fs::remove_file(out.join("manifest.json")).unwrap();
    report_fails(&out, &["manifest.json", "missing"]);
}

#[test]
fn an_unwritable_out_fails_before_simulating() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), SMALL);
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    // A folder under a regular file can never be created.
    let o = slotsim()
        .arg("run")
        .arg(&scenario)
        .args(["--quiet", "--out"])
        .arg(file.join("out"))
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("a-file"), "{err}");
    assert!(o.stdout.is_empty(), "nothing was simulated");
}
