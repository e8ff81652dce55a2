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

/// `report` redraws charts and report.html: deleted ones are drawn again, byte for byte.
/// A deleted file it reads is named as missing, not as a file of another run.
#[test]
fn report_redraws_deleted_charts_and_names_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), SMALL);
    let out = dir.path().join("out");
    run_into(&scenario, &out, 1);
    let charts = out.join("charts");
    let mut before: Vec<(std::ffi::OsString, Vec<u8>)> = std::fs::read_dir(&charts)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| (e.file_name(), std::fs::read(e.path()).unwrap()))
        .collect();
    before.sort();
    assert!(!before.is_empty());
    std::fs::remove_dir_all(&charts).unwrap();
    std::fs::remove_file(out.join("report.html")).unwrap();
    slotsim().arg("report").arg(&out).assert().success();
    let mut after: Vec<(std::ffi::OsString, Vec<u8>)> = std::fs::read_dir(&charts)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| (e.file_name(), std::fs::read(e.path()).unwrap()))
        .collect();
    after.sort();
    assert!(before == after, "the charts are drawn again, the same");
    assert!(out.join("report.html").is_file());
    // The folder is whole again: a second report checks every file.
    slotsim().arg("report").arg(&out).assert().success();
    std::fs::remove_file(out.join("summary.csv")).unwrap();
    let err = report_fails(&out, &["summary.csv", "missing", "run the scenario again"]);
    assert!(!err.contains("different runs"), "{err}");
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

/// Rewrites `manifest.json` so that it vouches for the files as they are now: a folder
/// that is whole but whose content is damaged (as a buggy writer or a hand edit would
/// leave it), so that `report`'s own checks of the content are what is tested.
fn reseal(out: &Path) {
    use sha2::{Digest, Sha256};
    let path = out.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for e in m["files"].as_array_mut().unwrap() {
        let bytes = std::fs::read(out.join(e["path"].as_str().unwrap())).unwrap();
        let sha: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        e["sha256"] = sha.into();
        e["bytes"] = (bytes.len() as u64).into();
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
}

/// Replaces the cell of `column` in data line `line` (1 = the first row after the header).
fn set_cell(file: &Path, line: usize, column: &str, value: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let col = lines[0].split(',').position(|h| h == column).unwrap();
    let mut cells: Vec<String> = lines[line].split(',').map(String::from).collect();
    cells[col] = value.to_string();
    lines[line] = cells.join(",");
    std::fs::write(file, lines.join("\n") + "\n").unwrap();
}

#[test]
fn report_refuses_damaged_inputs_naming_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), SMALL);
    let pristine = dir.path().join("pristine");
    run_into(&scenario, &pristine, 1);
    type Damage = fn(&Path);
    let cases: Vec<(&str, Damage, &[&str])> = vec![
        (
            "nan",
            |o| set_cell(&o.join("summary.csv"), 1, "continuity_failure_rate", "nan"),
            &["summary.csv", "line 2", "continuity_failure_rate", "finite"],
        ),
        (
            "inf",
            |o| set_cell(&o.join("summary.csv"), 2, "throughput_rps", "inf"),
            &["summary.csv", "line 3", "throughput_rps"],
        ),
        (
            "1e400",
            |o| set_cell(&o.join("wait_quantiles.csv"), 3, "wait_s", "1e400"),
            &["wait_quantiles.csv", "line 4", "wait_s"],
        ),
        (
            "negative rate",
            |o| {
                set_cell(
                    &o.join("summary.csv"),
                    1,
                    "new_session_rejection_rate",
                    "-1",
                )
            },
            &[
                "summary.csv",
                "new_session_rejection_rate",
                "\"-1\"",
                "0 to 1",
            ],
        ),
        (
            "minute = inf",
            |o| set_cell(&o.join("timeseries.csv"), 5, "minute", "inf"),
            &["timeseries.csv", "line 6", "minute"],
        ),
        (
            "minute far past the horizon",
            |o| set_cell(&o.join("timeseries.csv"), 5, "minute", "99999"),
            &["timeseries.csv", "minute 99999", "horizon"],
        ),
        (
            "columns shifted by one",
            |o| {
                let p = o.join("summary.csv");
                let text = std::fs::read_to_string(&p).unwrap();
                let shifted: Vec<String> = text
                    .lines()
                    .enumerate()
                    .map(|(i, l)| {
                        if i == 0 {
                            l.to_string()
                        } else {
                            format!("0,{l}")
                        }
                    })
                    .collect();
                std::fs::write(&p, shifted.join("\n") + "\n").unwrap();
            },
            &["summary.csv", "line 2"],
        ),
        (
            "a header named twice",
            |o| {
                let p = o.join("summary.csv");
                let text = std::fs::read_to_string(&p).unwrap();
                std::fs::write(&p, text.replacen("replications", "point", 1)).unwrap();
            },
            &["summary.csv", "twice"],
        ),
        (
            "a point no summary row has",
            |o| set_cell(&o.join("wait_quantiles.csv"), 1, "point", "7"),
            &["wait_quantiles.csv", "point 7"],
        ),
        (
            "run.json horizon out of range",
            |o| {
                let p = o.join("run.json");
                let mut v: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                v["horizon_s"] = (-5.0).into();
                std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
            },
            &["run.json", "horizon_s"],
        ),
        (
            "run.json not JSON",
            |o| std::fs::write(o.join("run.json"), "{\"seed\": 1e400").unwrap(),
            &["run.json"],
        ),
        (
            "empty file",
            |o| std::fs::write(o.join("timeseries.csv"), "").unwrap(),
            &["timeseries.csv", "empty"],
        ),
    ];
    for (what, damage, fragments) in cases {
        let out = dir.path().join(what.replace(' ', "_"));
        copy_dir(&pristine, &out);
        damage(&out);
        reseal(&out);
        let o = slotsim().arg("report").arg(&out).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
        for f in fragments {
            assert!(err.contains(f), "{what}: missing {f:?} in {err}");
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Each runaway case of the issue: refused before any simulation, with exit 2 and a
/// message naming the key or the estimate, within seconds.
#[test]
fn runaway_scenarios_are_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let with = |from: &str, to: &str| {
        assert!(SMALL.contains(from), "{from}");
        SMALL.replacen(from, to, 1)
    };
    let reserved_30: Vec<String> = (0..30).map(|i| i.to_string()).collect();
    let many_pools: String = (0..1001)
        .map(|i| format!("[[pools]]\nname = \"p{i}\"\naccounts = 1\n"))
        .collect();
    let long_list: Vec<String> = (0..20_000).map(|i| i.to_string()).collect();
    let cases: Vec<(&str, String, &[&str])> = vec![
        (
            "4294967295 users",
            with("[workload]", "[users]\ncount = 4294967295\nconcurrency = 1\n[workload]"),
            &["users.count"],
        ),
        (
            "30 points x 366 days",
            with("horizon = \"2h\"", "horizon = \"366d\"").replace(
                "reserved = [0, 1]",
                &format!("reserved = [{}]", reserved_30.join(",")),
            ),
            &["too big", "--force", "events"],
        ),
        (
            "1001 pools",
            with("[[pools]]\naccounts = 2\nconcurrency = 3\n", &many_pools),
            &["pools", "at most 1000"],
        ),
        (
            "a rate of 1e9/s",
            with("rate = \"2/min\"", "rate = 1e9"),
            &["workload.arrival.rate", "too fast"],
        ),
        (
            "100000 replications",
            with("replications = 2", "replications = 100000")
                .replace("horizon = \"2h\"", "horizon = \"6h\"")
                .replace("2/min", "40/min"),
            &["too big", "--force"],
        ),
        (
            "precision 1e-6 with 100000 replications allowed",
            with(
                "replications = 2",
                "replications = 2\nprecision = 1e-6\nmax_replications = 100000",
            )
            .replace("horizon = \"2h\"", "horizon = \"6h\"")
            .replace("2/min", "40/min"),
            &["too big"],
        ),
        (
            "1e12 requests per session, no service or think time",
            with("mean = 5 }", "mean = 1e12 }")
                .replace(
                    "think_time = { dist = \"exponential\", mean = \"30s\" }",
                    "think_time = { dist = \"constant\", value = 0 }",
                )
                .replace(
                    "service_time = { dist = \"exponential\", mean = \"20s\" }",
                    "service_time = { dist = \"constant\", value = 0 }",
                ),
            &["too big", "events"],
        ),
        (
            "unbounded retries",
            with(
                "[sweep]",
                "client_retries = 4294967295\nclient_retry_backoff = 0\n[sweep]",
            ),
            &["workload.client_retries"],
        ),
        (
            "a 1 us poll with a 1e9 s timeout",
            with(
                "[[pools]]",
                "[gateway]\npoll_initial = \"1us\"\npoll_max = \"1us\"\nfallback_wait_timeout = 1e9\n[[pools]]",
            ),
            &["polls"],
        ),
        (
            "a sweep list of 20000 values",
            with("reserved = [0, 1]", &format!("reserved = [{}]", long_list.join(","))),
            &["sweep.reserved", "at most 10000"],
        ),
        (
            "a 300-character name",
            format!("name = \"{}\"\n{SMALL}", "n".repeat(300)),
            &["name", "at most 100"],
        ),
        (
            "a number beyond 2^64",
            with("replications = 2", "replications = 36893488147419103232"),
            &["s.toml", "`replications`"],
        ),
    ];
    for (what, text, fragments) in cases {
        let path = write_scenario(dir.path(), &text);
        for cmd in ["check", "run"] {
            let start = std::time::Instant::now();
            let o = slotsim()
                .arg(cmd)
                .arg(&path)
                .args(["--out"])
                .arg(dir.path().join("out"))
                .timeout(std::time::Duration::from_secs(60))
                .output()
                .unwrap();
            let o = if cmd == "check" {
                // `check` takes no --out: run it plain.
                slotsim().arg(cmd).arg(&path).output().unwrap()
            } else {
                o
            };
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{what} ({cmd}): {err}");
            for f in fragments {
                assert!(err.contains(f), "{what} ({cmd}): missing {f:?} in {err}");
            }
            assert!(
                start.elapsed().as_secs() < 60,
                "{what} ({cmd}) was not refused up front"
            );
        }
        assert!(
            !dir.path().join("out").exists(),
            "{what}: nothing is written"
        );
    }
}

#[test]
fn non_regular_scenario_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = vec![PathBuf::from("/dev/zero"), dir.path().to_path_buf()];
    let fifo = dir.path().join("fifo.toml");
    if std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        paths.push(fifo);
    }
    let big = dir.path().join("big.toml");
    std::fs::write(&big, vec![b'#'; 5 << 20]).unwrap();
    paths.push(big);
    for p in paths {
        let o = slotsim()
            .arg("check")
            .arg(&p)
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{}: {err}", p.display());
        assert!(
            err.contains("regular file") || err.contains("bytes"),
            "{}: {err}",
            p.display()
        );
    }
}

#[test]
fn threads_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), SMALL);
    let o = slotsim()
        .arg("run")
        .arg(&scenario)
        .args(["--threads", "100000"])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--threads 100000") && err.contains("256"),
        "{err}"
    );
}

/// Zero-length steps that repeat: passing the estimate with --force, the watchdog stops it
/// within seconds, names the likely cause, and nothing is written.
#[test]
fn the_watchdog_stops_a_run_whose_time_stands_still() {
    let dir = tempfile::tempdir().unwrap();
    let text = SMALL
        .replace("mean = 5 }", "mean = 1e12 }")
        .replace(
            "think_time = { dist = \"exponential\", mean = \"30s\" }",
            "think_time = { dist = \"constant\", value = 0 }",
        )
        .replace(
            "service_time = { dist = \"exponential\", mean = \"20s\" }",
            "service_time = { dist = \"constant\", value = 0 }",
        );
    let scenario = write_scenario(dir.path(), &text);
    let out = dir.path().join("out");
    let run_into = |target: &std::path::Path| {
        slotsim()
            .arg("run")
            .arg(&scenario)
            .args(["--quiet", "--force", "--out"])
            .arg(target)
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .unwrap()
    };
    let start = std::time::Instant::now();
    let o = run_into(&out);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("stopped advancing"), "{err}");
    assert!(err.contains("service and think time of 0"), "{err}");
    assert!(start.elapsed().as_secs() < 60, "{:?}", start.elapsed());
    assert!(err.contains("nothing was written"), "{err}");
    // The run made the folder: it is removed with the run.
    assert!(!out.exists(), "the new output folder is removed");
    // A folder that was there before the run stays, as it was.
    std::fs::create_dir(&out).unwrap();
    let o = run_into(&out);
    assert_eq!(o.status.code(), Some(2));
    let left: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert!(
        left.is_empty(),
        "nothing is left in the output folder: {left:?}"
    );
    // Paths with `.` and `..`: a folder named before `..` is not a parent of the target,
    // so an empty folder that was there stays; folders made for `new/made/.` all go.
    std::fs::remove_dir(&out).unwrap();
    let kept = dir.path().join("kept");
    std::fs::create_dir(&kept).unwrap();
    let made = dir.path().join("new").join("made");
    for target in [out.join("..").join("kept"), made.join(".")] {
        let o = run_into(&target);
        assert_eq!(o.status.code(), Some(2), "{target:?}");
    }
    assert!(kept.is_dir(), "a folder that was there stays");
    assert!(
        !dir.path().join("new").exists(),
        "the folders the run made go"
    );
}

/// Ctrl-C into an output folder the run made (and its parent): exit 130, and both are
/// removed, as the message says ("the output folder is as it was").
#[cfg(unix)]
#[test]
fn ctrl_c_removes_the_output_folder_the_run_made() {
    let dir = tempfile::tempdir().unwrap();
    // Long enough never to finish before the signal.
    let text = SMALL.replace("horizon = \"2h\"", "horizon = \"366d\"");
    let scenario = write_scenario(dir.path(), &text);
    let out = dir.path().join("new").join("out");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("slotsim"))
        .arg("run")
        .arg(&scenario)
        .args(["--quiet", "--force", "--threads", "1", "--out"])
        .arg(&out)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The folder is made after the Ctrl-C handler is installed, before simulating.
    while !out.exists() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("the output folder is as it was"), "{err}");
    assert!(
        !dir.path().join("new").exists(),
        "the folders the run made are removed"
    );
}

/// The events budget of a replication, through the library.
#[test]
fn the_watchdog_stops_a_replication_past_its_events_budget() {
    use slotsim::engine::{simulate_watched, Stopped, Watch};
    let s = slotsim::scenario::parse_scenario(SMALL, "small.toml").unwrap();
    let model = s.model_at(&s.sweep.points()[0]);
    let watch = Watch {
        max_events: 1000,
        ..Watch::default()
    };
    let got = simulate_watched(&model, 1, false, watch);
    // The budget is checked every 65536 events, so a small replication finishes first.
    let events = simulate_watched(&model, 1, false, Watch::default())
        .unwrap()
        .events;
    if events > 65536 {
        assert!(matches!(got, Err(Stopped::EventBudget { .. })), "{got:?}");
    } else {
        assert!(got.is_ok());
    }
    let big = slotsim::scenario::parse_scenario(
        &SMALL.replace("horizon = \"2h\"", "horizon = \"200h\""),
        "big.toml",
    )
    .unwrap();
    let model = big.model_at(&big.sweep.points()[0]);
    let got = simulate_watched(&model, 1, false, watch);
    match got {
        Err(e @ Stopped::EventBudget { .. }) => {
            assert!(e.to_string().contains("budget of 1000 events"), "{e}")
        }
        other => panic!("{:?}", other.map(|o| o.events)),
    }
}

/// Kills a run (SIGKILL, then SIGINT) at instants spread over its simulation and its
/// writing: every time, the folder is the earlier run or the new one, whole, once the next
/// command has opened it, no staging folder is left, and SIGINT exits 130 with one line.
#[cfg(unix)]
#[test]
fn a_killed_run_leaves_the_earlier_or_the_new_run_whole() {
    let dir = tempfile::tempdir().unwrap();
    let quick = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quick.toml");
    let args = |seed: &str, out: &Path| -> Vec<std::ffi::OsString> {
        let mut v: Vec<std::ffi::OsString> = vec!["run".into(), quick.clone().into()];
        for a in ["--quiet", "--replications", "8", "--seed", seed, "--out"] {
            v.push(a.into());
        }
        v.push(out.into());
        v
    };
    let bin = assert_cmd::cargo::cargo_bin("slotsim");
    let run = |seed: &str, out: &Path| {
        let s = std::process::Command::new(&bin)
            .args(args(seed, out))
            .output()
            .unwrap();
        assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    };
    // The two possible outcomes, byte for byte.
    let (old_ref, new_ref) = (dir.path().join("old"), dir.path().join("new"));
    run("1", &old_ref);
    let started = std::time::Instant::now();
    run("2", &new_ref);
    let full = started.elapsed().as_secs_f64();
    let old_summary = std::fs::read(old_ref.join("summary.csv")).unwrap();
    let new_summary = std::fs::read(new_ref.join("summary.csv")).unwrap();
    assert_ne!(old_summary, new_summary);

    let mut outcomes = Vec::new();
    for signal in ["KILL", "INT"] {
        for step in 0..6 {
            let out = dir.path().join(format!("{signal}-{step}"));
            copy_dir(&old_ref, &out);
            std::fs::write(out.join("mine.txt"), "kept").unwrap();
            let mut child = std::process::Command::new(&bin)
                .args(args("2", &out))
                .stderr(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(std::time::Duration::from_secs_f64(
                full * (0.1 + 0.18 * step as f64),
            ));
            let _ = std::process::Command::new("kill")
                .args([format!("-{signal}"), child.id().to_string()])
                .status();
            let status = child.wait().unwrap();
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            if signal == "INT" && !status.success() {
                assert_eq!(status.code(), Some(130), "{err}");
                assert_eq!(err.trim().lines().count(), 1, "{err}");
                assert!(err.contains("interrupted"), "{err}");
            }
            // The next command finds a whole run, the earlier or the new.
            let o = slotsim().arg("report").arg(&out).output().unwrap();
            assert!(
                o.status.success(),
                "{signal} at step {step}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let summary = std::fs::read(out.join("summary.csv")).unwrap();
            let which = if summary == old_summary {
                "old"
            } else if summary == new_summary {
                "new"
            } else {
                panic!("{signal} at step {step}: summary.csv is neither run's")
            };
            outcomes.push(format!("{signal}{step}:{which}"));
            let stale: Vec<String> = std::fs::read_dir(&out)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".slotsim-"))
                .collect();
            assert!(stale.is_empty(), "{signal} at step {step}: {stale:?}");
            assert_eq!(std::fs::read(out.join("mine.txt")).unwrap(), b"kept");
        }
    }
    eprintln!("outcomes: {}", outcomes.join(" "));
}

/// `slotsim validate --quick`: every built-in exact check passes, each printed with its
/// exact value, the simulated value with its CI and the verdict.
#[test]
fn validate_quick_passes() {
    let o = slotsim()
        .args(["validate", "--quick", "--threads", "2"])
        .timeout(std::time::Duration::from_secs(300))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for f in [
        "guard channel",
        "Erlang B",
        "Erlang C",
        "session chain",
        "lognormal",
        "pass",
    ] {
        assert!(out.contains(f), "missing {f:?} in {out}");
    }
    assert!(!out.contains("FAIL"), "{out}");
}
