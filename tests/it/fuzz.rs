//! A seeded mutation fuzzer over scenario text, the validated scenario space and the
//! inputs of `report`. Each case is a mutation of a real file; the properties are: no
//! panic, and every refusal is a non-empty message (for `report`, exit status 0 or 2 with
//! words on stderr, never the panic status 101).
//!
//! A few cases run with `cargo test`; for a long run raise the count and pick a seed:
//! `SLOTSIM_FUZZ_CASES=200000 SLOTSIM_FUZZ_SEED=1 cargo test --release --test it fuzz`
//! (the seed and case number of a failure are printed, so it can be replayed).

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use slotsim::engine::Watch;
use slotsim::runner::{self, RunSettings};
use slotsim::scenario::parse_scenario;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn cases(default: u64) -> u64 {
    std::env::var("SLOTSIM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn seed() -> u64 {
    std::env::var("SLOTSIM_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20261202)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every scenario of the repository and a few crafted ones, with the path they are read
/// as (so that a trace file named relative to the scenario is found).
fn seeds() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let dir = root().join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    for p in files {
        out.push((
            p.display().to_string(),
            std::fs::read_to_string(&p).unwrap(),
        ));
    }
    let crafted = dir.join("crafted.toml").display().to_string();
    out.push((crafted.clone(), super::trust::SMALL.to_string()));
    out.push((
        crafted.clone(),
        "horizon = 60\n[[pools]]\naccounts = 1\nconcurrency = 1\n[workload]\nmode = \"requests\"\narrival = { process = \"poisson\", rate = 1 }\nservice_time = { dist = \"constant\", value = 0.5 }\n".to_string(),
    ));
    out.push((crafted, String::new()));
    out
}

const EXTREMES: &[&str] = &[
    "0",
    "-1",
    "1",
    "-0",
    "0.0",
    "1e308",
    "-1e308",
    "1e-308",
    "5e-324",
    "nan",
    "inf",
    "-inf",
    "18446744073709551616",
    "18446744073709551615",
    "9223372036854775807",
    "-9223372036854775808",
    "4294967296",
    "4294967295",
    "65536",
    "1000000000",
    "0.5",
    "true",
    "false",
    "\"\"",
    "\"0s\"",
    "\"1e308s\"",
    "\"nan s\"",
    "\"-1s\"",
    "\"1us\"",
    "\"1d\"",
    "\"100000d\"",
    "\"1/s\"",
    "\"0/min\"",
    "\"1e9/s\"",
    "\"inf/h\"",
    "\"3h\"",
    "\"1ms\"",
    "[]",
    "[0]",
    "[-1, 0, 1e308]",
    "{}",
    "{ dist = \"constant\", value = 0 }",
    "{ dist = \"exponential\", mean = \"1e300s\" }",
    "{ dist = \"lognormal\", mean = 1, cv = 1e300 }",
    "{ process = \"poisson\", rate = \"1e12/s\" }",
];

/// Every word that stands before `=` in the seed files, plus the known keys of other
/// tables: the pool of keys a mutation inserts.
fn known_keys(seeds: &[(String, String)]) -> Vec<String> {
    let mut keys: Vec<String> = [
        "horizon",
        "warmup",
        "replications",
        "seed",
        "precision",
        "max_replications",
        "accounts",
        "concurrency",
        "reserved",
        "name",
        "priority",
        "mode",
        "arrival",
        "rate",
        "process",
        "dist",
        "mean",
        "cv",
        "value",
        "values",
        "min",
        "max",
        "shape",
        "scale",
        "alpha",
        "requests_per_session",
        "think_time",
        "service_time",
        "client_retries",
        "sticky_ttl",
        "sticky_max_waiting",
        "sticky_wait_timeout",
        "fallback_max_waiting",
        "fallback_wait_timeout",
        "wait",
        "platform",
        "base_rpm",
        "rpm_strategy",
        "rpm_sticky_buffer",
        "faults",
        "window",
        "file",
        "format",
        "speed",
        "turns_per_session",
        "steps_per_turn",
        "tool_time",
        "input_tokens",
        "output_tokens",
        "context_tokens",
        "new_session_rejection_rate",
        "continuity_failure_rate",
        "price_per_account",
        "session_idle_timeout",
        "max_sessions",
        "ttft",
        "decode_rate",
        "sticky_exempt",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (_, text) in seeds {
        for line in text.lines() {
            for part in line.split([',', '{']) {
                if let Some((k, _)) = part.split_once('=') {
                    let k = k.trim();
                    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                        keys.push(k.to_string());
                    }
                }
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

const TABLES: &[&str] = &[
    "[gateway]",
    "[[pools]]",
    "[workload]",
    "[sweep]",
    "[targets]",
    "[cost]",
    "[users]",
    "[plan]",
    "[[faults]]",
    "[[limits]]",
    "[workload.agentic]",
    "[bogus]",
];

/// Replaces one number-like token (or the value after `=`) on a line with `v`.
fn replace_value(line: &str, v: &str, rng: &mut Pcg64) -> String {
    let bytes = line.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let s = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            spans.push((s, i));
        } else {
            i += 1;
        }
    }
    if !spans.is_empty() && rng.random_bool(0.7) {
        let (s, e) = spans[rng.random_range(0..spans.len())];
        let v = v.trim_matches('"');
        return format!("{}{}{}", &line[..s], v, &line[e..]);
    }
    match line.split_once('=') {
        Some((k, _)) => format!("{k}= {v}"),
        None => line.to_string(),
    }
}

fn mutate(text: &str, keys: &[String], rng: &mut Pcg64) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let n = rng.random_range(1..=4);
    for _ in 0..n {
        let len = lines.len();
        let at = if len == 0 {
            0
        } else {
            rng.random_range(0..len)
        };
        match rng.random_range(0..12) {
            0 if len > 0 => {
                lines.remove(at);
            }
            1 if len > 0 => {
                let l = lines[at].clone();
                lines.insert(at, l);
            }
            2 if len > 1 => {
                let b = rng.random_range(0..len);
                lines.swap(at, b);
            }
            3..=6 if len > 0 => {
                let v = EXTREMES[rng.random_range(0..EXTREMES.len())];
                lines[at] = replace_value(&lines[at], v, rng);
            }
            7 => {
                let k = &keys[rng.random_range(0..keys.len())];
                let v = EXTREMES[rng.random_range(0..EXTREMES.len())];
                lines.insert(at, format!("{k} = {v}"));
            }
            8 => {
                let t = TABLES[rng.random_range(0..TABLES.len())];
                lines.insert(at, t.to_string());
            }
            9 if len > 0 => {
                // Rename a key.
                if let Some((_, v)) = lines[at].clone().split_once('=') {
                    let k = &keys[rng.random_range(0..keys.len())];
                    lines[at] = format!("{k} ={v}");
                }
            }
            10 if len > 0 => {
                // A huge or odd string.
                let s = match rng.random_range(0..3) {
                    0 => "x".repeat(rng.random_range(1..100_000)),
                    1 => "\u{0}\u{feff}é\u{202e}".to_string(),
                    _ => "9".repeat(rng.random_range(1..400)),
                };
                lines[at] = replace_value(&lines[at], &format!("\"{s}\""), rng);
            }
            _ if len > 0 => {
                // Cut the line somewhere (truncation of a value or a table header).
                let l = &lines[at];
                let cut = rng.random_range(0..=l.len());
                if l.is_char_boundary(cut) {
                    lines[at] = l[..cut].to_string();
                }
            }
            _ => {}
        }
    }
    lines.join("\n")
}

/// Runs a validated scenario, cut down to a tiny run, when its estimate is small.
fn simulate_small(mut s: slotsim::scenario::Scenario) -> bool {
    const HALF_HOUR: u64 = 30 * 60 * 1_000_000;
    s.horizon = s.horizon.min(HALF_HOUR);
    s.warmup = s.warmup.min(s.horizon / 2);
    s.replications = 2;
    s.max_replications = 2;
    s.max_replications_given = true;
    s.precision = None;
    let e = slotsim::estimate::estimate(&s, 1);
    if e.points > 4 || e.events > 200_000.0 || !e.over_budget().is_empty() {
        return false;
    }
    let settings = RunSettings {
        threads: Some(1),
        watch: Watch {
            max_events: e.events_budget_per_replication,
            ..Watch::default()
        },
        ..RunSettings::default()
    };
    // An error (the watchdog, say) is an answer; only a panic fails.
    let _ = runner::run(&s, &settings, &|_| {});
    true
}

#[test]
fn fuzz_scenario_text() {
    let seeds = seeds();
    let keys = known_keys(&seeds);
    let seed = seed();
    let n = cases(300);
    let (mut ok, mut simulated) = (0u64, 0u64);
    for case in 0..n {
        let mut rng = Pcg64::seed_from_u64(seed ^ case.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let (file, base) = &seeds[rng.random_range(0..seeds.len())];
        let text = mutate(base, &keys, &mut rng);
        let parsed = catch_unwind(AssertUnwindSafe(|| parse_scenario(&text, file)));
        let Ok(parsed) = parsed else {
            panic!("seed {seed} case {case}: parse panicked on:\n{text}");
        };
        match parsed {
            Err(e) => assert!(
                !e.to_string().trim().is_empty(),
                "seed {seed} case {case}: empty error for:\n{text}"
            ),
            Ok(s) => {
                ok += 1;
                if rng.random_bool(0.25) {
                    let r = catch_unwind(AssertUnwindSafe(|| simulate_small(s)));
                    let Ok(ran) = r else {
                        panic!("seed {seed} case {case}: the run panicked on:\n{text}");
                    };
                    simulated += ran as u64;
                }
            }
        }
    }
    eprintln!("fuzz_scenario_text: {n} cases, {ok} valid, {simulated} simulated");
}

/// Damages one file of an output folder at random.
fn damage(bytes: &[u8], rng: &mut Pcg64) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes).to_string();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    if lines.is_empty() {
        return b"x".to_vec();
    }
    let at = rng.random_range(0..lines.len());
    match rng.random_range(0..8) {
        0..=3 => {
            // A cell (a CSV cell or a JSON number) set to a bad value.
            let v = [
                "nan",
                "NaN",
                "inf",
                "-inf",
                "1e400",
                "-1",
                "-1e308",
                "0",
                "",
                "x",
                "1e-400",
                "18446744073709551616",
                "\"",
                "-0",
            ][rng.random_range(0..14)];
            let mut cells: Vec<String> = lines[at].split(',').map(String::from).collect();
            let c = rng.random_range(0..cells.len());
            if lines[at].contains(':') && !lines[at].contains(',') {
                let (k, _) = lines[at].split_once(':').unwrap();
                lines[at] = format!("{k}: {v}");
            } else {
                cells[c] = v.to_string();
                lines[at] = cells.join(",");
            }
        }
        4 => {
            // Shift the cells of a row.
            let mut cells: Vec<String> = lines[at].split(',').map(String::from).collect();
            if rng.random_bool(0.5) {
                cells.insert(0, "0".to_string());
            } else if cells.len() > 1 {
                cells.remove(rng.random_range(0..cells.len()));
            }
            lines[at] = cells.join(",");
        }
        5 => lines.truncate(at),
        6 => {
            let l = lines[at].clone();
            lines.insert(at, l);
        }
        _ => {
            let mut b = bytes.to_vec();
            if !b.is_empty() {
                for _ in 0..rng.random_range(1..8) {
                    let i = rng.random_range(0..b.len());
                    b[i] = rng.random();
                }
            }
            return b;
        }
    }
    let mut s = lines.join("\n");
    if rng.random_bool(0.9) {
        s.push('\n');
    }
    s.into_bytes()
}

/// Rewrites `manifest.json` to vouch for the files as they are (see the trust tests), so
/// that `report`'s checks of the content are what is exercised.
fn reseal(out: &Path) {
    use sha2::{Digest, Sha256};
    let path = out.join("manifest.json");
    let Ok(m) = std::fs::read(&path) else { return };
    let Ok(mut m) = serde_json::from_slice::<serde_json::Value>(&m) else {
        return;
    };
    let Some(files) = m["files"].as_array_mut() else {
        return;
    };
    for e in files {
        let Some(p) = e["path"].as_str() else {
            continue;
        };
        let Ok(bytes) = std::fs::read(out.join(p)) else {
            continue;
        };
        let sha: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        e["sha256"] = sha.into();
        e["bytes"] = (bytes.len() as u64).into();
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn fuzz_report_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(&scenario, super::trust::SMALL).unwrap();
    let good = dir.path().join("good");
    assert_cmd::Command::cargo_bin("slotsim")
        .unwrap()
        .arg("run")
        .arg(&scenario)
        .args(["--quiet", "--out"])
        .arg(&good)
        .assert()
        .success();
    let files: Vec<String> = [
        "summary.csv",
        "replications.csv",
        "timeseries.csv",
        "wait_quantiles.csv",
        "run.json",
    ]
    .iter()
    .filter(|f| good.join(f).exists())
    .map(|f| f.to_string())
    .collect();
    let seed = seed();
    let n = cases(40).div_ceil(20);
    let work = dir.path().join("work");
    let mut refused = 0u64;
    for case in 0..n {
        let mut rng = Pcg64::seed_from_u64(seed ^ case.wrapping_mul(0xD1B5_4A32_D192_ED03));
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).unwrap();
        copy_dir(&good, &work);
        let mut what = Vec::new();
        // Case 0 is the folder undamaged: it must be reported (the harness itself works).
        for _ in 0..if case == 0 {
            0
        } else {
            rng.random_range(1..=3)
        } {
            let f = &files[rng.random_range(0..files.len())];
            let bytes = std::fs::read(work.join(f)).unwrap();
            std::fs::write(work.join(f), damage(&bytes, &mut rng)).unwrap();
            what.push(f.clone());
        }
        if rng.random_bool(0.9) {
            reseal(&work);
        }
        let o = assert_cmd::Command::cargo_bin("slotsim")
            .unwrap()
            .arg("report")
            .arg(&work)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        let code = o.status.code();
        let keep = || {
            let kept = std::env::temp_dir().join(format!("slotsim-fuzz-{seed}-{case}"));
            let _ = std::fs::remove_dir_all(&kept);
            std::fs::rename(&work, &kept).ok();
            kept
        };
        if !(code == Some(0) || code == Some(2)) || err.contains("panicked") {
            let kept = keep();
            panic!(
                "seed {seed} case {case}: report exited {code:?} after damaging {what:?} (kept in {}):\n{err}",
                kept.display()
            );
        }
        if code == Some(2) && err.trim().is_empty() {
            let kept = keep();
            panic!(
                "seed {seed} case {case}: refused without a message (kept in {})",
                kept.display()
            );
        }
        assert!(case > 0 || code == Some(0), "the undamaged folder: {err}");
        refused += (code == Some(2)) as u64;
    }
    eprintln!("fuzz_report_inputs: {n} cases, {refused} refused");
}

/// Found by `fuzz_report_inputs`: a repeated row of `replications.csv`, `timeseries.csv`
/// or `wait_quantiles.csv` (in a resealed folder) was accepted, and the report counted
/// that replication twice (rejections by cause, replication counts) or drew a minute twice.
#[test]
fn fuzz_found_a_repeated_row_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(&scenario, super::trust::SMALL).unwrap();
    let good = dir.path().join("good");
    assert_cmd::Command::cargo_bin("slotsim")
        .unwrap()
        .arg("run")
        .arg(&scenario)
        .args(["--quiet", "--out"])
        .arg(&good)
        .assert()
        .success();
    for (file, line, what) in [
        (
            "replications.csv",
            2,
            "point 0, replication 0 appears more than once",
        ),
        (
            "timeseries.csv",
            6,
            "point 0, minute 4 appears more than once",
        ),
        (
            "wait_quantiles.csv",
            6,
            "point 0, quantile 0.04 appears more than once",
        ),
    ] {
        let work = dir.path().join(format!("{file}-{line}-{}", what.len()));
        copy_dir(&good, &work);
        let text = std::fs::read_to_string(work.join(file)).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        if what.contains("rows") {
            lines.remove(line);
        } else {
            lines.insert(line, lines[line - 1]);
        }
        std::fs::write(work.join(file), lines.join("\n") + "\n").unwrap();
        reseal(&work);
        let o = assert_cmd::Command::cargo_bin("slotsim")
            .unwrap()
            .arg("report")
            .arg(&work)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{file}: {err}");
        assert!(err.contains(file) && err.contains(what), "{file}: {err}");
    }
}
