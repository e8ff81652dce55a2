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

use slotsim::plan::{self, Search};
use slotsim::recommend::Recommendation;
use slotsim::runner::{self, RunSettings};

fn settings() -> RunSettings {
    RunSettings {
        threads: Some(2),
        ..RunSettings::default()
    }
}

fn scenario(text: &str) -> slotsim::scenario::Scenario {
    slotsim::scenario::parse_scenario(text, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn recommend(s: &slotsim::scenario::Scenario) -> (Recommendation, runner::RunResult) {
    let r = runner::run(s, &settings(), &|_| {}).unwrap();
    (runner::recommendation(s, &r.points), r)
}

/// Guard-channel model (loss system, one account, C slots, R reserved): blocking of bound
/// and of new requests.
fn guard_channel(a: f64, b: f64, c: u32, r: u32) -> (f64, f64) {
    let t = c - r;
    let mut p = Vec::new();
    let mut term = 1.0;
    for n in 0..=c {
        if n > 0 {
            term *= if n <= t { a + b } else { a } / n as f64;
        }
        p.push(term);
    }
    let sum: f64 = p.iter().sum();
    let bound = p[c as usize] / sum;
    let new = p[t as usize..].iter().sum::<f64>() / sum;
    (bound, new)
}

const ONE_ACCOUNT: &str = r#"
name = "one-account"
seed = 11
horizon = "2000s"
warmup = "100s"
replications = 10
[gateway]
sticky_max_waiting = 0
fallback_max_waiting = 0
[[pools]]
name = "solo"
accounts = 1
concurrency = 4
[workload]
mode = "open"
bound_rate = 1
new_rate = 2
service_time = { dist = "exponential", mean = "1s" }
[sweep]
reserved = [0, 1, 2, 3]
[targets]
continuity_failure_rate = 0.06
new_session_rejection_rate = 0.75
[plan]
min_accounts = 1
max_accounts = 3
"#;

/// The best R from the exact formula: among R whose exact rates meet both targets, the
/// fewest new-session rejections (they grow with R, so: the smallest such R). Both `run`'s
/// recommendation and `plan` must find it.
#[test]
fn one_account_best_reserved_matches_the_guard_channel_formula() {
    let (cf_target, nsr_target) = (0.06, 0.75);
    let exact: Vec<(u32, f64, f64)> = (0..4)
        .map(|r| {
            let (b, n) = guard_channel(1.0, 2.0, 4, r);
            (r, b, n)
        })
        .collect();
    let best = exact
        .iter()
        .filter(|(_, b, n)| *b <= cf_target && *n <= nsr_target)
        .min_by(|x, y| x.2.total_cmp(&y.2))
        .map(|e| e.0)
        .expect("some R meets the targets exactly");
    assert_eq!(best, 2, "exact rates: {exact:?}");

    let s = scenario(ONE_ACCOUNT);
    let (rec, _) = recommend(&s);
    assert_eq!(
        rec.recommended_point(),
        Some(best as usize),
        "{}",
        rec.text()
    );
    assert!(!rec.borderline(), "{}", rec.text());

    let o = plan::plan(&s, Search::Accounts, &settings(), &|_| {}).unwrap();
    let a = o.answer.expect("one account suffices");
    assert_eq!(o.candidates[a].accounts, 1);
    assert_eq!(o.candidates[a].best_reserved(), Some(best as i64));
}

/// Open mode, 2 slots per account: more accounts spread the same traffic thinner.
const SEARCH: &str = r#"
name = "search"
seed = 5
horizon = "1500s"
warmup = "100s"
replications = 6
max_replications = 6
[gateway]
sticky_max_waiting = 0
fallback_max_waiting = 0
[[pools]]
name = "p"
accounts = 4
concurrency = 2
[workload]
mode = "open"
bound_rate = 2
new_rate = 2
service_time = { dist = "exponential", mean = "1s" }
[targets]
continuity_failure_rate = 0.08
new_session_rejection_rate = 0.08
[plan]
reserved = [0, 1]
min_accounts = 1
max_accounts = MAX
"#;

#[test]
fn account_search_agrees_with_the_exhaustive_grid_and_evaluates_fewer_candidates() {
    let s = scenario(&SEARCH.replace("MAX", "8"));
    let o = plan::plan(&s, Search::Accounts, &settings(), &|_| {}).unwrap();
    let found = o.candidates[o.answer.expect("8 accounts suffice")].accounts;
    // Exhaustive: every account count, smallest feasible one.
    let grid: Vec<bool> = (1..=8)
        .map(|a| {
            plan::evaluate(&s, Search::Accounts, a, 1.0, &settings(), &|_| {})
                .unwrap()
                .feasible()
        })
        .collect();
    let smallest = grid.iter().position(|f| *f).unwrap() as u32 + 1;
    assert_eq!(found, smallest, "grid feasibility: {grid:?}");
    assert!(
        smallest > 1 && smallest < 8,
        "the case should be interior: {grid:?}"
    );
    // Common random numbers: the search's candidate equals the grid's evaluation.
    let text = plan::answer_text(&o, &s);
    assert!(
        text.contains(&format!("Smallest pool: {smallest} accounts")),
        "{text}"
    );
    assert!(
        text.contains(&format!("With {} accounts", smallest - 1)),
        "{text}"
    );

    let big = scenario(&SEARCH.replace("MAX", "200"));
    let o = plan::plan(&big, Search::Accounts, &settings(), &|_| {}).unwrap();
    assert_eq!(o.candidates[o.answer.unwrap()].accounts, smallest);
    assert_eq!(o.grid_size, 200);
    assert!(
        o.candidates.len() <= 12,
        "evaluated {} candidates",
        o.candidates.len()
    );
    let csv = String::from_utf8(plan::plan_csv(&o, &big)).unwrap();
    assert_eq!(csv.lines().count(), 1 + 2 * o.candidates.len());
}

/// A target no account count in range reaches: plan says so and what would be needed;
/// run names the closest setting and says how many accounts would reach the targets.
#[test]
fn unreachable_target_is_reported_with_what_would_reach_it() {
    let s = scenario(&SEARCH.replace("MAX", "2"));
    let o = plan::plan(&s, Search::Accounts, &settings(), &|_| {}).unwrap();
    assert!(o.answer.is_none());
    let text = plan::answer_text(&o, &s);
    assert!(text.starts_with("Unreachable"), "{text}");
    assert!(text.contains("More accounts"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        &SEARCH
            .replace("MAX", "16")
            .replace("accounts = 4", "accounts = 2"),
    );
    let out = slotsim()
        .arg("run")
        .arg(&path)
        .args(["--quiet", "--out"])
        .arg(dir.path().join("o"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("No setting meets the targets"), "{text}");
    assert!(text.contains("What would reach them"), "{text}");
    assert!(text.contains("accounts of pool \"p\""), "{text}");
    // The search's simulation is reported after the sweep's, on the last line.
    let last = text.lines().last().unwrap();
    let searched: u64 = last
        .split("; the quick account search: ")
        .nth(1)
        .and_then(|x| x.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no search events on the last line: {last}"));
    assert!(searched > 0, "{last}");
}

/// A clear-cut case gives the same answer for 8 seeds; a near tie (R = 0's exact continuity
/// rate equals the target) is either reported borderline or settled by added replications.
#[test]
fn clear_cut_is_stable_across_seeds_and_a_near_tie_is_borderline_or_resolved() {
    let mut answers = Vec::new();
    for seed in 1..=8 {
        let s = scenario(
            &ONE_ACCOUNT
                .replace("seed = 11", &format!("seed = {seed}"))
                .replace("replications = 10", "replications = 6"),
        );
        let (rec, _) = recommend(&s);
        answers.push(rec.recommended_point());
    }
    assert!(answers.iter().all(|a| *a == Some(2)), "{answers:?}");

    let (r0_bound, _) = guard_channel(1.0, 2.0, 4, 0);
    let tie = ONE_ACCOUNT
        .replace(
            "continuity_failure_rate = 0.06",
            &format!("continuity_failure_rate = {r0_bound}"),
        )
        .replace(
            "replications = 10",
            "replications = 4\nmax_replications = 12",
        );
    let s = scenario(&tie);
    let (rec, r) = recommend(&s);
    let grew = r.points[0].reps.len() > 4;
    assert!(rec.borderline() || grew, "{}", rec.text());
    if rec.borderline() {
        assert!(
            rec.text().contains("Borderline: reserved=0"),
            "{}",
            rec.text()
        );
        assert_eq!(r.points[0].reps.len(), 12, "rounds ran up to the cap");
    }
    // The same scenario and seed give the same answer with any number of threads.
    let one = runner::run(
        &s,
        &RunSettings {
            threads: Some(1),
            ..RunSettings::default()
        },
        &|_| {},
    )
    .unwrap();
    assert_eq!(runner::recommendation(&s, &one.points), rec);
}

/// accounts x reserved: the cheapest setting (fewest slots) that meets the targets wins,
/// not the one with the fewest rejections.
#[test]
fn accounts_by_reserved_sweep_recommends_the_cheapest_feasible_setting() {
    // 6 accounts (12 slots) at reserved=0 meet both targets with room (continuity about
    // 9.5%, new-session rejections about 0.1%); 8 accounts reject fewer but cost more.
    let text = SEARCH
        .replace("MAX", "8")
        .replace(
            "[targets]",
            "[sweep]\nreserved = [0, 1]\naccounts = [2, 3, 4, 6, 8]\n[targets]",
        )
        .replace(
            "continuity_failure_rate = 0.08",
            "continuity_failure_rate = 0.15",
        );
    let s = scenario(&text);
    let (rec, r) = recommend(&s);
    let summaries = runner::point_summaries(&s, &r.points);
    let t = runner::recommend_targets(&s);
    let best = rec
        .recommended_point()
        .expect("some setting meets the targets");
    let meeting: Vec<_> = summaries.iter().filter(|p| p.meets(&t)).collect();
    let cheapest = meeting.iter().map(|p| p.cost).fold(f64::INFINITY, f64::min);
    assert_eq!(summaries[best].cost, cheapest, "{}", rec.text());
    assert!(
        meeting.iter().any(|p| p.cost > cheapest),
        "a dearer setting also meets them"
    );
    let fewest = meeting
        .iter()
        .map(|p| p.new_session_rejection_rate)
        .fold(f64::INFINITY, f64::min);
    assert!(
        summaries[best].new_session_rejection_rate > fewest,
        "the rule is cost, not rejections"
    );
    assert!(
        rec.text().contains("cheapest setting that meets them"),
        "{}",
        rec.text()
    );
}

/// `slotsim plan` end to end: answer on stdout, plan.csv, chart and page; bad input exits 2.
#[test]
fn plan_command_writes_its_files_and_rejects_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &SEARCH.replace("MAX", "8"));
    let out = slotsim()
        .arg("plan")
        .arg(&path)
        .args(["--quiet", "--out"])
        .arg(dir.path().join("plan"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("Smallest pool:"), "{text}");
    // The last line counts what the search simulated, over every candidate in plan.csv.
    let csv = std::fs::read_to_string(dir.path().join("plan/plan.csv")).unwrap();
    let candidates: std::collections::BTreeSet<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    let last = text.lines().last().unwrap();
    let words: Vec<&str> = last.split(' ').collect();
    assert!(words[0].parse::<u64>().unwrap() > 0, "{last}");
    assert!(
        last.ends_with(&format!("over {} candidates", candidates.len())),
        "{last}"
    );
    for f in [
        "plan.csv",
        "report.html",
        "charts/plan_feasible.png",
        "charts/plan_feasible.svg",
    ] {
        assert!(dir.path().join("plan").join(f).is_file(), "{f}");
    }
    let html = std::fs::read_to_string(dir.path().join("plan/report.html")).unwrap();
    assert!(html.contains("<h2>Plan</h2>"));
    let out = slotsim()
        .arg("plan")
        .arg(&path)
        .args([
            "--quiet",
            "--max-load",
            "--load-limit",
            "2",
            "--load-step",
            "0.5",
            "--out",
        ])
        .arg(dir.path().join("load"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Best reserved per load step"), "{text}");
    for (args, fragment) in [
        (&["--accounts", "5..=2"][..], "--accounts"),
        (&["--pool", "nope"][..], "--pool"),
        (&["--max-load", "--load-step", "0"][..], "--load-step"),
        (&["--reserved", "-1"][..], "--reserved"),
        // Flags that do not apply are refused, not ignored: --max-load keeps the pool's
        // accounts, and the load flags need --max-load.
        (
            &["--max-load", "--accounts", "1..=3"][..],
            "'--max-load' cannot be used with '--accounts",
        ),
        (&["--load-step", "0.5"][..], "--max-load"),
        // As for run: the flag's parser and its check name the same range.
        (&["--threads", "-1"][..], "from 1 to 256"),
        (
            &["--threads", "300"][..],
            "--threads 300: must be from 1 to 256",
        ),
        (&["--load-limit", "2"][..], "--max-load"),
    ] {
        let out = slotsim()
            .arg("plan")
            .arg(&path)
            .args(args)
            .arg("--quiet")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(fragment), "{args:?}: {stderr}");
    }
    // A limit set by a flag is named as the flag, not as the [plan] key it overrides.
    for (args, fragment) in [
        (
            &["--accounts", "1..=1"][..],
            "1 accounts of pool \"p\" (the MAX of --accounts)",
        ),
        (
            &["--accounts", "7..=8"][..],
            "fewer might do (lower the MIN of --accounts)",
        ),
        (
            &["--max-load", "--load-limit", "0.2", "--load-step", "0.1"][..],
            "more might do (raise --load-limit)",
        ),
    ] {
        let out = slotsim()
            .arg("plan")
            .arg(&path)
            .args(args)
            .arg("--quiet")
            .arg("--out")
            .arg(dir.path().join("limits"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stdout}");
        assert!(stdout.contains(fragment), "{args:?}: {stdout}");
        assert!(!stdout.contains("plan.m"), "{args:?}: {stdout}");
    }
    let no_targets = write(
        dir.path(),
        &SEARCH.replace("MAX", "8").replace(
            "continuity_failure_rate = 0.08\nnew_session_rejection_rate = 0.08\n",
            "",
        ),
    );
    let out = slotsim()
        .arg("plan")
        .arg(&no_targets)
        .arg("--quiet")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// With a tight user gate, almost every rejection comes from the gate: stdout and the
/// report say so, so the reserve is not blamed.
#[test]
fn rejections_by_cause_show_the_user_gate() {
    let dir = tempfile::tempdir().unwrap();
    let text = small_pool("2").replace(
        "[workload]",
        "[users]\ncount = 2\nconcurrency = 1\nwait_timeout = \"2s\"\n[workload]",
    );
    let path = write(dir.path(), &text);
    let out = slotsim()
        .arg("run")
        .arg(&path)
        .args(["--quiet", "--out"])
        .arg(dir.path().join("o"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Rejected requests by cause"), "{stdout}");
    let line = stdout
        .lines()
        .skip_while(|l| !l.starts_with("Rejected requests by cause"))
        .nth(2)
        .expect("a row for point 0");
    let cells: Vec<f64> = line
        .split_whitespace()
        .skip(2)
        .map(|c| c.parse().unwrap())
        .collect();
    assert!(
        cells[0] > 0.0 && cells[0] >= cells[1..].iter().sum::<f64>(),
        "{line}"
    );
    let html = std::fs::read_to_string(dir.path().join("o/report.html")).unwrap();
    assert!(html.contains("<h3>Rejected requests by cause</h3>"));
    assert!(html.contains("<th>user gate</th>"));
}
