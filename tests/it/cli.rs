//! The command line end to end: bad input gives exit 2 and a message naming the key path;
//! results do not depend on --threads.

use assert_cmd::Command;
use std::path::Path;

fn slotsim() -> Command {
    Command::cargo_bin("slotsim").expect("binary is built")
}

const GOOD: &str = r#"
horizon = "1h"
warmup = "5m"
replications = 3
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

/// Writes `text` to a scenario file in a fresh folder.
fn scenario_file(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// (what is wrong, the scenario text, a fragment the message must contain)
fn bad_inputs() -> Vec<(&'static str, String, &'static str)> {
    let with = |from: &str, to: &str| {
        assert!(GOOD.contains(from), "{from}");
        GOOD.replacen(from, to, 1)
    };
    vec![
        (
            "unknown top-level key",
            format!("colour = 1\n{GOOD}"),
            "colour",
        ),
        (
            "unknown nested key",
            with("concurrency = 3", "concurrency = 3\nslots = 2"),
            "pools[0].slots",
        ),
        (
            "wrong type",
            with("replications = 3", "replications = \"three\""),
            "replications",
        ),
        (
            "wrong type for a table",
            with("[[pools]]", "gateway = 5\n[[pools]]"),
            "gateway",
        ),
        (
            "negative count",
            with("accounts = 2", "accounts = -2"),
            "pools[0].accounts",
        ),
        (
            "zero count",
            with("replications = 3", "replications = 0"),
            "replications",
        ),
        (
            "zero concurrency",
            with("concurrency = 3", "concurrency = 0"),
            "pools[0].concurrency",
        ),
        (
            "duration below the clock's resolution",
            with("horizon = \"1h\"", "horizon = \"0.4us\""),
            "horizon",
        ),
        (
            "sub-microsecond TTL",
            with(
                "replications = 3",
                "replications = 3\n[gateway]\nsticky_ttl = \"1e-9s\"",
            ),
            "gateway.sticky_ttl",
        ),
        (
            "non-finite duration",
            with("horizon = \"1h\"", "horizon = inf"),
            "horizon",
        ),
        (
            "negative duration",
            with("mean = \"30s\"", "mean = \"-30s\""),
            "workload.think_time.mean",
        ),
        (
            "unknown unit",
            with("mean = \"20s\"", "mean = \"20 parsecs\""),
            "workload.service_time.mean",
        ),
        (
            "negative rate",
            with("rate = \"2/min\"", "rate = \"-2/min\""),
            "workload.arrival.rate",
        ),
        (
            "zero rate",
            with("rate = \"2/min\"", "rate = 0"),
            "workload.arrival.rate",
        ),
        (
            "non-finite rate",
            with("rate = \"2/min\"", "rate = nan"),
            "workload.arrival.rate",
        ),
        (
            "warm-up >= horizon",
            with("warmup = \"5m\"", "warmup = \"1h\""),
            "warmup",
        ),
        (
            "horizon too long",
            with("horizon = \"1h\"", "horizon = \"400d\""),
            "horizon",
        ),
        (
            "too many replications",
            with("replications = 3", "replications = 1000000"),
            "replications",
        ),
        (
            "empty sweep",
            with("reserved = [0, 1]", "reserved = []"),
            "sweep.reserved",
        ),
        (
            "repeated sweep value",
            with("reserved = [0, 1]", "reserved = [1, 1]"),
            "sweep.reserved[1]",
        ),
        (
            "bad distribution",
            with(
                "dist = \"exponential\", mean = \"20s\"",
                "dist = \"pareto\", mean = \"20s\"",
            ),
            "workload.service_time.dist",
        ),
        (
            "wrong distribution parameters",
            with("mean = \"20s\"", "median = \"20s\""),
            "workload.service_time",
        ),
        (
            "bad choice",
            with("[[pools]]", "[gateway]\nwait = \"lifo\"\n[[pools]]"),
            "gateway.wait",
        ),
        (
            "target out of range",
            format!("{GOOD}\n[targets]\ncontinuity_failure_rate = 1.5"),
            "targets.continuity_failure_rate",
        ),
        (
            "missing pools",
            GOOD.replace("[[pools]]\naccounts = 2\nconcurrency = 3\n", ""),
            "pools",
        ),
        (
            "open-mode key in sessions mode",
            with("[sweep]", "bound_rate = 1\n[sweep]"),
            "workload.bound_rate",
        ),
        (
            "two pools of one name",
            with(
                "[[pools]]\naccounts = 2",
                "[[pools]]\nname = \"pro\"\naccounts = 1\n[[pools]]\nname = \"pro\"\naccounts = 2",
            ),
            "pools[1].name: \"pro\" is also the name of pools[0]",
        ),
        (
            "a pool named as an unnamed one is called",
            with(
                "[[pools]]\naccounts = 2",
                "[[pools]]\nname = \"pool1\"\naccounts = 1\n[[pools]]\naccounts = 2",
            ),
            "pools[1].name: \"pool1\" (the name of an unnamed pool) is also the name of pools[0]",
        ),
        (
            "syntax error",
            with("accounts = 2", "accounts = = 2"),
            "s.toml:",
        ),
    ]
}

#[test]
fn bad_scenarios_exit_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (what, text, fragment) in bad_inputs() {
        let path = scenario_file(dir.path(), &text);
        let out_dir = dir.path().join("out");
        for cmd in ["check", "run"] {
            let mut c = slotsim();
            c.arg(cmd).arg(&path);
            if cmd == "run" {
                c.arg("--quiet").arg("--out").arg(&out_dir);
            }
            let out = c.output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{what} ({cmd}): {stderr}");
            assert!(
                stderr.contains(fragment),
                "{what} ({cmd}): message lacks {fragment:?}: {stderr}"
            );
            assert!(
                stderr.contains("s.toml"),
                "{what} ({cmd}): message lacks the file: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        }
        assert!(
            !dir.path().join("out").exists(),
            "{what}: run wrote output for a bad scenario"
        );
    }
}

/// Where no request is bound (reserved >= concurrency), the rates per bound request are
/// undefined: the table shows n/a, not 0.00±0.00, and the advice names the reserve as the
/// cause instead of the load or the targets. summary.csv keeps its 0 beside
/// bound_requests = 0.
#[test]
fn no_bound_requests_show_as_not_measured_and_the_advice_names_the_reserve() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_file(
        dir.path(),
        &format!(
            "{}\n[targets]\ncontinuity_failure_rate = 0.05\n",
            GOOD.replace("reserved = [0, 1]", "reserved = [3, 4]")
        ),
    );
    let out_dir = dir.path().join("o");
    let out = slotsim()
        .arg("run")
        .arg(&path)
        .args(["--quiet", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let table: Vec<&str> = stdout.lines().take(3).collect();
    for row in &table[1..] {
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(&cells[4..7], ["n/a", "n/a", "n/a"], "{row}");
    }
    assert!(stdout.contains("(n/a: no bound requests"), "{stdout}");
    assert!(!stdout.contains("not even"), "{stdout}");
    assert!(
        stdout.contains("every reserved value swept (3, 4) is at or above concurrency (3)"),
        "{stdout}"
    );
    assert!(!stdout.contains("the quick account search:"), "{stdout}");
}

#[test]
fn check_accepts_the_good_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_file(dir.path(), GOOD);
    slotsim().arg("check").arg(&path).assert().success();
}

#[test]
fn check_notes_reserved_at_or_above_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_file(
        dir.path(),
        &GOOD.replace("reserved = [0, 1]", "reserved = [0, 3, -1]"),
    );
    let out = slotsim().arg("check").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("reserved = 3 >= concurrency = 3"),
        "{stdout}"
    );
    assert!(stdout.contains("behaves as 0"), "{stdout}");
}

#[test]
fn missing_file_exits_2() {
    let out = slotsim()
        .args(["check", "/no/such/scenario.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/scenario.toml"));
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_file(dir.path(), GOOD);
    let cases: &[(&[&str], &str)] = &[
        (&["--threads", "0"], "--threads"),
        (&["--threads", "many"], "--threads"),
        (&["--reserved", "a,b"], "--reserved"),
        (&["--reserved", "3..=1"], "--reserved"),
        (&["--horizon", "soon"], "--horizon"),
        (&["--horizon", "1m"], "--horizon"),
        (&["--replications", "0"], "--replications"),
        // Negative numbers are values of their flag, refused naming it and the range.
        (
            &["--seed", "-1"],
            "'--seed <N>': must be a whole number from 0 to",
        ),
        (
            &["--precision", "-0.1"],
            "--precision -0.1: must be a number in (0, 10]",
        ),
        (
            &["--threads", "-1"],
            "'--threads <N>': must be a whole number from 1 to 256",
        ),
        (
            &["--baseline", "-1"],
            "'--baseline <POINT>': must be a whole number from 0",
        ),
        (&["--replications", "-3"], "'--replications <N>'"),
        (&["--baseline", "7"], "--baseline"),
        (&["--precision", "0"], "--precision"),
        (&["--no-such-flag"], "--no-such-flag"),
        (&["--horizon", "400d"], "--horizon"),
        (&["--max-replications", "2"], "--max-replications"),
        (&["--replications", "4000000000"], "--replications"),
        (&["--max-replications", "0"], "--max-replications"),
    ];
    for (args, fragment) in cases {
        let out = slotsim()
            .arg("run")
            .arg(&path)
            .args(*args)
            .arg("--quiet")
            .arg("--out")
            .arg(dir.path().join("o"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(fragment), "{args:?}: {stderr}");
    }
    // An --out under a regular file cannot be made: a usage error, naming the file.
    let afile = dir.path().join("afile");
    std::fs::write(&afile, "x").unwrap();
    let with_targets = dir.path().join("t.toml");
    std::fs::write(
        &with_targets,
        format!("{GOOD}\n[targets]\ncontinuity_failure_rate = 0.1"),
    )
    .unwrap();
    for cmd in ["run", "plan"] {
        let out = slotsim()
            .arg(cmd)
            .arg(&with_targets)
            .arg("--quiet")
            .arg("--out")
            .arg(afile.join("sub"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {stderr}");
        assert!(
            stderr.contains("afile is a file, not a folder"),
            "{cmd}: {stderr}"
        );
    }
    let out = slotsim()
        .arg("report")
        .arg(dir.path().join("nothing-here"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn run_to(path: &Path, out: &Path, threads: &str, extra: &[&str]) {
    slotsim()
        .arg("run")
        .arg(path)
        .args(["--quiet", "--threads", threads, "--out"])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

#[test]
fn csv_is_byte_identical_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_file(dir.path(), GOOD);
    let (a, b) = (dir.path().join("t1"), dir.path().join("t2"));
    run_to(&path, &a, "1", &["--reserved", "0..=2"]);
    run_to(&path, &b, "2", &["--reserved", "0..=2"]);
    for f in [
        "summary.csv",
        "replications.csv",
        "timeseries.csv",
        "wait_quantiles.csv",
    ] {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(!x.is_empty(), "{f} is empty");
        assert!(x == y, "{f} differs between --threads 1 and --threads 2");
    }
    let summary = std::fs::read_to_string(a.join("summary.csv")).unwrap();
    assert_eq!(
        summary.lines().count(),
        4,
        "header + 3 points from --reserved 0..=2"
    );
    let header = summary.lines().next().unwrap();
    for col in [
        "point",
        "reserved",
        "replications",
        "sessions_arrived",
        "new_session_rejection_rate",
        "new_session_rejection_rate_ci95",
        "continuity_failure_rate",
        "continuity_failure_rate_ci95",
        "migration_rate",
        "bound_rejection_rate",
        "throughput_rps",
        "slot_utilization",
        "wait_p95_s",
        "sessions_intact_rate",
    ] {
        assert!(
            header.split(',').any(|h| h == col),
            "summary.csv lacks {col}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["threads"], 1);
    assert_eq!(json["scenario"]["sha256"].as_str().unwrap().len(), 64);
    assert!(json["events_simulated"].as_u64().unwrap() > 0);
}

/// Pools that disagree on reserved, with no sweep: the reserved column is empty and the
/// run (with its report) still succeeds.
#[test]
fn pools_with_different_reserved_and_no_sweep_run_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let text = GOOD.replace("[sweep]\nreserved = [0, 1]\n", "")
        + "[[pools]]\nname = \"spare\"\naccounts = 1\nconcurrency = 2\nreserved = 1\npriority = 60\n";
    let path = scenario_file(dir.path(), &text);
    let out = dir.path().join("o");
    run_to(&path, &out, "2", &[]);
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(
        summary.lines().nth(1).unwrap().starts_with("0,,"),
        "empty reserved cell: {summary}"
    );
    assert!(out.join("report.html").exists());
    assert!(!std::fs::read_dir(&out).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with(".slotsim-staging")));
}

/// A precision target missed at the cap is said on stdout, in run.json and in the report;
/// run.json records the command-line overrides.
#[test]
fn missed_precision_and_overrides_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_file(dir.path(), GOOD);
    let out = dir.path().join("o");
    let output = slotsim()
        .arg("run")
        .arg(&path)
        .args([
            "--quiet",
            "--precision",
            "0.001",
            "--max-replications",
            "4",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("precision target"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["precision_met"], serde_json::json!([false, false]));
    assert!(json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("precision target")));
    assert_eq!(
        json["command_line_overrides"],
        serde_json::json!(["--precision 0.001", "--max-replications 4"])
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Warnings") && html.contains("--precision 0.001"));
}

/// `run` end to end on the quick example: every output file, the recommendation on
/// stdout, a per-minute series, and `report` redrawing the same charts and page.
#[test]
fn run_writes_everything_and_report_redraws_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q");
    let quick = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quick.toml");
    let output = slotsim()
        .arg("run")
        .arg(&quick)
        .args(["--quiet", "--replications", "3", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Recommended setting") || stdout.contains("No setting meets"),
        "{stdout}"
    );
    for f in [
        "summary.csv",
        "replications.csv",
        "timeseries.csv",
        "wait_quantiles.csv",
        "run.json",
        "report.html",
    ] {
        assert!(std::fs::metadata(out.join(f)).unwrap().len() > 0, "{f}");
    }
    let charts = [
        "continuity",
        "new_session_rejection",
        "throughput_utilization",
        "tradeoff",
        "timeseries",
        "wait_cdf",
    ];
    for c in charts {
        for ext in ["png", "svg"] {
            assert!(
                std::fs::metadata(out.join(format!("charts/{c}.{ext}")))
                    .unwrap()
                    .len()
                    > 0
            );
        }
    }
    // 3 h horizon: 180 minutes for each of the 3 points, plus the header.
    let ts = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    assert_eq!(ts.lines().count(), 1 + 3 * 180);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for external in ["src=\"http", "href=\"http", "<script", "url(http"] {
        assert!(
            !html.contains(external),
            "report.html must be self-contained: {external}"
        );
    }
    let before: Vec<Vec<u8>> = charts
        .iter()
        .map(|c| std::fs::read(out.join(format!("charts/{c}.svg"))).unwrap())
        .collect();
    let page = std::fs::read(out.join("report.html")).unwrap();
    slotsim().arg("report").arg(&out).assert().success();
    let after: Vec<Vec<u8>> = charts
        .iter()
        .map(|c| std::fs::read(out.join(format!("charts/{c}.svg"))).unwrap())
        .collect();
    assert!(before == after, "report redraws the same charts");
    assert!(
        page == std::fs::read(out.join("report.html")).unwrap(),
        "and the same page"
    );
}

/// Sweeping `accounts` changes the pool size; a warm-up shorter than MSER-5 suggests is
/// warned about.
#[test]
fn accounts_sweep_and_short_warm_up_warning() {
    let dir = tempfile::tempdir().unwrap();
    let text = GOOD
        .replace("warmup = \"5m\"", "warmup = 0")
        .replace("rate = \"2/min\"", "rate = \"20/min\"")
        .replace("reserved = [0, 1]", "accounts = [2, 4]");
    let path = scenario_file(dir.path(), &text);
    let out = dir.path().join("o");
    let output = slotsim()
        .arg("run")
        .arg(&path)
        .args(["--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("looks too short"), "{stdout}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["sweep"]["parameters"], serde_json::json!(["accounts"]));
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(summary
        .lines()
        .next()
        .unwrap()
        .starts_with("point,reserved,accounts,"));
    let util = |line: usize| -> f64 {
        let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
        let i = header.iter().position(|h| *h == "mean_busy_slots").unwrap();
        summary
            .lines()
            .nth(line)
            .unwrap()
            .split(',')
            .nth(i)
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(
        util(2) > util(1),
        "twice the accounts carry more load at once"
    );
}
