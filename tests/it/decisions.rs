//! The answer an operator acts on: decisions with stated confidence, the cheapest setting
//! that meets the targets, `slotsim plan`, and the warning for a pool that is too small.

use assert_cmd::Command;
use std::path::Path;

fn slotsim() -> Command {
    Command::cargo_bin("slotsim").expect("binary is built")
}

fn write(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// 4 accounts x 3 slots; `RATE` sessions per minute of 12 requests of mean 12.9 s.
const SMALL_POOL: &str = r#"
name = "small"
seed = 3
horizon = "1h"
warmup = "10m"
replications = 3
[[pools]]
name = "p"
accounts = 4
concurrency = 3
[workload]
arrival = { process = "poisson", rate = "RATE/min" }
requests_per_session = { dist = "geometric", mean = 12 }
think_time = { dist = "lognormal", median = "20s", p95 = "2m" }
service_time = { dist = "lognormal", median = "8s", p95 = "40s" }
[sweep]
reserved = [0, 1]
[targets]
continuity_failure_rate = 0.02
new_session_rejection_rate = 0.10
"#;

fn small_pool(rate: &str) -> String {
    // Decision rounds off (max_replications = replications), for speed.
    SMALL_POOL.replace("RATE", rate).replace(
        "replications = 3\n",
        "replications = 3\nmax_replications = 3\n",
    )
}

/// Offered load 6/min x 12 x 12.9 s = 15.5 slots against 12: `check` and `run` both say the
/// pool is too small and how many slots would do; at 2/min (5.2 slots) neither warns.
#[test]
fn overloaded_pool_is_warned_by_check_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let over = write(dir.path(), &small_pool("6"));
    let out = slotsim().arg("check").arg(&over).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("the pool is too small"), "{text}");
    assert!(text.contains("against 12 slots"), "{text}");
    // Erlang B at 15.49 Erlangs: 18 slots turn away at most 10%.
    assert!(text.contains("about 18 slots are needed"), "{text}");
    assert_eq!(
        text.matches("too small").count(),
        1,
        "one warning for both points: {text}"
    );

    let out = slotsim()
        .arg("run")
        .arg(&over)
        .args(["--quiet", "--out"])
        .arg(dir.path().join("o"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("warning: every sweep point: the pool is too small"),
        "{text}"
    );
    let run_json = std::fs::read_to_string(dir.path().join("o/run.json")).unwrap();
    assert!(run_json.contains("the pool is too small"));

    let fine = write(dir.path(), &small_pool("2"));
    let out = slotsim().arg("check").arg(&fine).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("too small"), "{text}");
}
