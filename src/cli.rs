//! The command line: raw flags (clap) kept apart from validated settings, and the three
//! commands `run`, `check` and `report`. Exit status: 0 success, 2 bad input or usage,
//! 1 any other failure.

use crate::export;
use crate::output::{ensure_dir, write_atomic};
use crate::recommend::{push_fixed, push_u64};
use crate::runner::{self, RunResult, RunSettings};
use crate::scenario::{
    load_scenario, Param, Scenario, ScenarioError, MAX_HORIZON_S, MAX_REPLICATIONS,
    MAX_SWEEP_VALUES,
};
use crate::shard::{self, ShardSpec};
use crate::units::{duration_secs, format_secs, secs_to_time, time_to_secs, Quantity};
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Debug, Parser)]
#[command(
    name = "slotsim",
    version,
    about = "Simulate sticky sessions and reserved concurrency on a shared pool of AI API accounts",
    long_about = "slotsim simulates sub2api's account-slot admission (sticky sessions, reserved_concurrency, \
                  waiting queues) for a scenario file, sweeps settings in parallel and reports which setting \
                  meets your targets.\n\nExit status: 0 success, 2 bad input or usage, 1 any other failure."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate every sweep point and write CSV, charts and a report.
    Run(RunArgs),
    /// Validate a scenario file and describe it; simulate nothing.
    Check {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Report the estimate without refusing a scenario over the budget.
        #[arg(long)]
        force: bool,
    },
    /// Find the smallest pool (or, with --max-load, the largest load) for which some
    /// reserved value meets the scenario's [targets]; writes plan.csv, a chart and report.html.
    Plan(PlanArgs),
    /// Check the simulator against results known exactly (guard channel, Erlang B and C,
    /// the session-mode Markov chain, insensitivity); exit 0 only if every check passes.
    Validate {
        /// A shorter version that runs in seconds.
        #[arg(long)]
        quick: bool,
        /// Worker threads [default: all cores]. Results never depend on it.
        #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = not_negative("from 1 to 256"))]
        threads: Option<usize>,
    },
    /// Redraw the charts and report.html from the files of an earlier run.
    Report {
        /// The output folder of an earlier `slotsim run`.
        out: PathBuf,
    },
    /// Join the shard folders of `slotsim run --shard K/N` (all N of them) into the output
    /// folder one unsharded run would write: the same CSV files, byte for byte, plus
    /// run.json, charts and report.
    Merge(MergeArgs),
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shard folders (the --out of each `slotsim run --shard K/N`), in any order.
    #[arg(required = true, value_name = "DIR")]
    pub shards: Vec<PathBuf>,
    /// Output folder [default: output/<name>/].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Default, clap::Args)]
pub struct RunArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Output folder [default: output/<name>/].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Master seed (overrides the scenario's), 0 to 9223372036854775807 as in scenario files.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = seed_value)]
    pub seed: Option<u64>,
    /// Replications per sweep point (overrides the scenario's).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub replications: Option<u32>,
    /// Simulated time per replication, warm-up included, e.g. "6h" (overrides the scenario's).
    #[arg(long, value_name = "DUR")]
    pub horizon: Option<String>,
    /// Values of reserved to sweep: a list "0,1,2" or an inclusive range "0..=4".
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub reserved: Option<String>,
    /// Worker threads [default: all cores]. Results never depend on it.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = not_negative("from 1 to 256"))]
    pub threads: Option<usize>,
    /// Sweep point the paired differences are taken against (0-based).
    #[arg(long, value_name = "POINT", allow_negative_numbers = true, value_parser = not_negative("from 0 (a sweep point's number)"))]
    pub baseline: Option<usize>,
    /// Add replications until every headline metric's 95% CI half-width is within REL of
    /// its mean (e.g. 0.05), up to --max-replications.
    #[arg(long, value_name = "REL", allow_negative_numbers = true)]
    pub precision: Option<f64>,
    /// Cap on replications per point, for --precision [default: the scenario's, else 200]
    /// and for the recommendation's decision rounds [default: the scenario's, else 4 x
    /// replications]; equal to --replications turns decision rounds off.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub max_replications: Option<u32>,
    /// Draw independent random streams per sweep point instead of common random numbers.
    #[arg(long)]
    pub independent_streams: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Run only shard K (1-based) of N of the sweep's work and write a partial result for
    /// `slotsim merge` [default --out: output/<name>-shard-K-of-N/].
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Run even when the up-front estimate of events or memory is over the budget.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The scenario file (TOML); its [targets] say what must be met, [plan] what to search.
    pub scenario: PathBuf,
    /// Search the largest multiplier of the arrival rate instead of the smallest pool.
    #[arg(long)]
    pub max_load: bool,
    /// Output folder [default: output/<name>/plan/].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The pool whose accounts are searched (overrides [plan] pool).
    #[arg(long, value_name = "NAME")]
    pub pool: Option<String>,
    /// Account counts searched, an inclusive range "MIN..=MAX" (overrides [plan]). Not
    /// with --max-load, which keeps the pool's accounts.
    #[arg(long, value_name = "RANGE", conflicts_with = "max_load")]
    pub accounts: Option<String>,
    /// Reserved values tried at each candidate: "0,1,2" or "0..=3" (overrides [plan] reserved).
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub reserved: Option<String>,
    /// Largest load multiplier searched with --max-load (overrides [plan] max_load).
    #[arg(
        long,
        value_name = "X",
        requires = "max_load",
        allow_negative_numbers = true
    )]
    pub load_limit: Option<f64>,
    /// Step between load multipliers with --max-load (overrides [plan] load_step).
    #[arg(
        long,
        value_name = "X",
        requires = "max_load",
        allow_negative_numbers = true
    )]
    pub load_step: Option<f64>,
    /// Master seed (overrides the scenario's).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = seed_value)]
    pub seed: Option<u64>,
    /// Replications per candidate and reserved value (overrides the scenario's).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub replications: Option<u32>,
    /// Cap of the decision rounds per candidate (overrides the scenario's).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub max_replications: Option<u32>,
    /// Worker threads [default: all cores]. Results never depend on it.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = not_negative("from 1 to 256"))]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// `--seed`: a whole number from 0 to 9223372036854775807, as in scenario files. Parsed
/// here so that a negative seed is refused naming the range (clap's own parser of u64
/// says only "invalid digit").
fn seed_value(text: &str) -> Result<u64, String> {
    match text.trim().parse::<i128>() {
        Ok(v) if (0..=i64::MAX as i128).contains(&v) => Ok(v as u64),
        _ => Err(format!("must be a whole number from 0 to {}", i64::MAX)),
    }
}

/// A whole-number flag that cannot be negative: `--threads -1` is refused saying what is
/// allowed (the range itself is checked with the other settings).
fn not_negative(allowed: &'static str) -> impl Fn(&str) -> Result<usize, String> + Clone {
    move |text| {
        text.trim()
            .parse::<usize>()
            .map_err(|_| format!("must be a whole number {allowed}"))
    }
}

/// Appends a formatted line to a String buffer (printed at once with [`emit`]).
macro_rules! outln {
    ($o:ident) => {
        $o.push('\n')
    };
    ($o:ident, $($t:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($o, $($t)*);
    }};
}

macro_rules! out {
    ($o:ident, $($t:tt)*) => {{
        use std::fmt::Write as _;
        let _ = write!($o, $($t)*);
    }};
}

/// Writes `text` to stdout. A closed pipe (`slotsim run ... | head`) is not an error.
fn emit(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Other(
            anyhow::Error::new(e).context("cannot write to standard output"),
        )),
        _ => Ok(()),
    }
}

/// A failure with its exit status.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input or usage: exit 2.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// Anything else: exit 1.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
    /// Ctrl-C: exit 130.
    #[error("interrupted (Ctrl-C): the run stopped and nothing was written; the output folder is as it was")]
    Interrupted,
    /// Ctrl-C as the results were being published: they were published whole. Exit 130.
    #[error("interrupted (Ctrl-C) as the run finished: its results were published whole in {}", .0.display())]
    InterruptedAfterPublish(PathBuf),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) | CliError::Scenario(_) => 2,
            CliError::Other(_) => 1,
            CliError::Interrupted | CliError::InterruptedAfterPublish(_) => 130,
        }
    }
}

/// Runs a parsed command line, printing results to stdout.
pub fn execute(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Check { scenario, force } => check(&scenario, force),
        Command::Run(args) => run(args),
        Command::Validate { quick, threads } => validate(quick, threads),
        Command::Plan(args) => plan(args),
        Command::Report { out } => report(&out),
        Command::Merge(args) => merge(args),
    }
}

/// The most worker threads `--threads` may ask for.
pub const MAX_THREADS: usize = 256;

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Refuses a scenario whose estimate is over the budget, unless forced.
fn within_budget(e: &crate::estimate::Estimate, force: bool) -> Result<(), CliError> {
    let over = e.over_budget();
    if over.is_empty() || force {
        return Ok(());
    }
    Err(CliError::Usage(format!(
        "this scenario is too big to run as it stands: {}.\n{}\nShorten the horizon, lower the rates, replications or sweep, or pass --force to run it anyway.",
        over.join("; "),
        e.words()
    )))
}

fn check(path: &Path, force: bool) -> Result<(), CliError> {
    let s = load_scenario(path)?;
    let estimate = crate::estimate::estimate(&s, default_threads());
    within_budget(&estimate, force)?;
    let points = s.sweep.points();
    let mut o = String::new();
    outln!(
        o,
        "ok: {}: scenario {:?}, {} sweep point{} x {} replication{}, horizon {}, warm-up {}",
        path.display(),
        s.name,
        points.len(),
        if points.len() == 1 { "" } else { "s" },
        s.replications,
        if s.replications == 1 { "" } else { "s" },
        format_secs(time_to_secs(s.horizon)),
        format_secs(time_to_secs(s.warmup)),
    );
    outln!(o, "{}", s.words());
    if !s.sweep.params.is_empty() {
        let labels: Vec<String> = points.iter().map(|p| p.label()).collect();
        outln!(o, "sweep: {}", labels.join(" | "));
    }
    for note in &s.notes {
        outln!(o, "note: {note}");
    }
    for w in overload_warnings(&s) {
        outln!(o, "warning: {w}");
    }
    outln!(o, "{}", estimate.words());
    for over in estimate.over_budget() {
        outln!(o, "warning: over the budget (--force): {over}");
    }
    emit(&o)
}

/// Parses `--reserved`: "0,1,2" or "0..=4".
pub fn parse_reserved_list(text: &str) -> Result<Vec<i64>, String> {
    let bad = || {
        format!("--reserved {text:?}: expected a comma-separated list of whole numbers (\"0,1,2\") or an inclusive range (\"0..=4\")")
    };
    let text = text.trim();
    let values: Vec<i64> = if let Some((a, b)) = text.split_once("..=") {
        let a: i64 = a.trim().parse().map_err(|_| bad())?;
        let b: i64 = b.trim().parse().map_err(|_| bad())?;
        if b < a {
            return Err(format!(
                "--reserved {text:?}: the range is empty ({b} < {a})"
            ));
        }
        if b - a >= MAX_SWEEP_VALUES as i64 {
            return Err(format!(
                "--reserved {text:?}: at most {MAX_SWEEP_VALUES} values, as in a sweep list"
            ));
        }
        (a..=b).collect()
    } else {
        text.split(',')
            .map(|v| v.trim().parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?
    };
    if values.len() > MAX_SWEEP_VALUES {
        return Err(format!(
            "--reserved: {} values: at most {MAX_SWEEP_VALUES}, as in a sweep list",
            values.len()
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for v in &values {
        if !seen.insert(v) {
            return Err(format!("--reserved {text:?}: {v} is listed twice"));
        }
        if v.abs() > 1_000_000 {
            return Err(format!(
                "--reserved {text:?}: {v} is out of range (at most 1000000 in size)"
            ));
        }
    }
    Ok(values)
}

/// Applies the command-line overrides to a validated scenario, validating them too.
fn apply_overrides(s: &mut Scenario, a: &RunArgs) -> Result<(), CliError> {
    if let Some(seed) = a.seed {
        s.seed = seed;
    }
    if let Some(n) = a.replications {
        if n == 0 || n > MAX_REPLICATIONS {
            return Err(CliError::Usage(format!(
                "--replications {n}: must be from 1 to {MAX_REPLICATIONS}"
            )));
        }
        s.replications = n;
    }
    if let Some(h) = &a.horizon {
        let secs = duration_secs(&Quantity::Str(h.clone()))
            .map_err(|why| CliError::Usage(format!("--horizon {h:?} {why}")))?;
        if !(secs > 0.0 && secs <= MAX_HORIZON_S) {
            return Err(CliError::Usage(format!(
                "--horizon {h:?}: must be > 0 and at most \"366d\""
            )));
        }
        let horizon = secs_to_time(secs);
        if horizon <= s.warmup {
            return Err(CliError::Usage(format!(
                "--horizon {h:?}: must be longer than the scenario's warm-up ({})",
                format_secs(time_to_secs(s.warmup))
            )));
        }
        s.horizon = horizon;
    }
    if let Some(list) = &a.reserved {
        let values = parse_reserved_list(list).map_err(CliError::Usage)?;
        let values: Vec<f64> = values.into_iter().map(|v| v as f64).collect();
        match s
            .sweep
            .params
            .iter_mut()
            .find(|(p, _)| *p == Param::Reserved)
        {
            Some((_, v)) => *v = values,
            None => s.sweep.params.insert(0, (Param::Reserved, values)),
        }
        let n = s
            .sweep
            .params
            .iter()
            .try_fold(1usize, |n, (_, v)| n.checked_mul(v.len()));
        if !n.is_some_and(|n| n <= crate::scenario::MAX_POINTS) {
            return Err(CliError::Usage(format!(
                "--reserved {list:?}: the sweep would have more than {} points",
                crate::scenario::MAX_POINTS
            )));
        }
        if s.sweep.baseline >= s.sweep.points().len() {
            s.sweep.baseline = 0;
        }
    }
    if let Some(b) = a.baseline {
        let n = s.sweep.points().len();
        if b >= n {
            return Err(CliError::Usage(format!(
                "--baseline {b}: there are {n} sweep points (0 to {})",
                n - 1
            )));
        }
        s.sweep.baseline = b;
    }
    if let Some(p) = a.precision {
        if !(p.is_finite() && p > 0.0 && p <= 10.0) {
            return Err(CliError::Usage(format!(
                "--precision {p}: must be a number in (0, 10], e.g. 0.05"
            )));
        }
        s.precision = Some(p);
    }
    if let Some(m) = a.max_replications {
        if m == 0 || m > MAX_REPLICATIONS {
            return Err(CliError::Usage(format!(
                "--max-replications {m}: must be from 1 to {MAX_REPLICATIONS}"
            )));
        }
        s.max_replications = m;
    }
    if a.max_replications.is_some() {
        s.max_replications_given = true;
    }
    if (s.precision.is_some() || s.max_replications_given) && s.max_replications < s.replications {
        return Err(CliError::Usage(format!(
            "--max-replications {}: must be >= the replications to start with ({})",
            s.max_replications, s.replications
        )));
    }
    if let Some(t) = a.threads {
        if t == 0 || t > MAX_THREADS {
            return Err(CliError::Usage(format!(
                "--threads {t}: must be from 1 to {MAX_THREADS}"
            )));
        }
    }

    Ok(())
}

fn run(a: RunArgs) -> Result<(), CliError> {
    let mut s = load_scenario(&a.scenario)?;
    apply_overrides(&mut s, &a)?;
    let shard = a
        .shard
        .as_deref()
        .map(ShardSpec::parse)
        .transpose()
        .map_err(CliError::Usage)?;
    if let Some(spec) = shard {
        check_shardable(&s, &a, spec)?;
    }
    let threads = a.threads.unwrap_or_else(default_threads);
    let estimate = match shard {
        None => crate::estimate::estimate(&s, threads),
        Some(spec) => {
            // A shard's budget is its own work: at most its largest block of replications
            // of a point, at every point (an upper bound).
            let most = spec
                .replications(s.sweep.points().len(), s.replications)
                .iter()
                .map(|r| r.len() as u32)
                .max()
                .unwrap_or(0)
                .max(1);
            let mut share = s.clone();
            share.replications = most;
            share.max_replications = most;
            share.max_replications_given = true;
            crate::estimate::estimate(&share, threads)
        }
    };
    within_budget(&estimate, a.force)?;
    if let Some(spec) = shard {
        return run_shard(&s, &a, spec);
    }
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&s.name));
    check_out(&out)?;
    let settings = run_settings(&s, &a);
    // The output folder is prepared before the simulation, so an unwritable `--out` fails
    // at once. Everything is written and rendered in the staging folder, then published
    // whole (see `output`): a failure or a kill at any point leaves the earlier run whole.
    let w = |e: crate::output::WriteError| CliError::Other(e.into());
    let stage = crate::output::Stage::new(&out).map_err(w)?;

    let points = s.sweep.points().len() as u64;
    let bar = progress_bar(points * s.replications as u64, a.quiet);
    let tick = progress_tick(&bar, time_to_secs(s.horizon));
    let result = runner::run(&s, &settings, &tick).map_err(|e| run_error(e, &bar))?;
    bar.finish_and_clear();
    finish(
        &s,
        &result,
        stage,
        &out,
        &search_settings(a.threads, settings.common_random_numbers),
        &overrides(&a),
        None,
    )
}

/// Set by the Ctrl-C handler; the watchdog of every replication reads it.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::Relaxed)
}

/// How `run` runs: threads, streams, and the watchdog (the events budget from the
/// estimate unless --force, the interrupt flag of a Ctrl-C handler installed here).
fn run_settings(s: &Scenario, a: &RunArgs) -> RunSettings {
    // A second handler cannot be installed (merge after run in one process): ignore.
    let _ = ctrlc::set_handler(|| {
        INTERRUPTED.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let estimate = crate::estimate::estimate(s, a.threads.unwrap_or_else(default_threads));
    RunSettings {
        threads: a.threads,
        common_random_numbers: !a.independent_streams,
        watch: crate::engine::Watch {
            stop: Some(&INTERRUPTED),
            max_events: if a.force {
                u64::MAX
            } else {
                estimate.events_budget_per_replication
            },
            max_same_instant: crate::engine::MAX_SAME_INSTANT,
        },
    }
}

fn run_error(e: runner::RunError, bar: &indicatif::ProgressBar) -> CliError {
    bar.finish_and_clear();
    if e.interrupted() {
        CliError::Interrupted
    } else if matches!(e, runner::RunError::Stopped { .. }) {
        // The watchdog: a scenario that cannot be simulated as it stands.
        CliError::Usage(format!("stopped: {e}; nothing was written"))
    } else {
        CliError::Other(e.into())
    }
}

fn validate(quick: bool, threads: Option<usize>) -> Result<(), CliError> {
    if let Some(t) = threads {
        if t == 0 || t > MAX_THREADS {
            return Err(CliError::Usage(format!(
                "--threads {t}: must be from 1 to {MAX_THREADS}"
            )));
        }
    }
    let _ = ctrlc::set_handler(|| {
        INTERRUPTED.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let settings = RunSettings {
        threads,
        watch: crate::engine::Watch {
            stop: Some(&INTERRUPTED),
            ..crate::engine::Watch::default()
        },
        ..RunSettings::default()
    };
    let checks = crate::validate::run(quick, &settings).map_err(|e| {
        if e.interrupted() {
            CliError::Interrupted
        } else {
            CliError::Other(e.into())
        }
    })?;
    let mut rows = vec![[
        "check".to_string(),
        "metric".to_string(),
        "exact".to_string(),
        "simulated ± 95% CI".to_string(),
        "allowed distance".to_string(),
        "result".to_string(),
    ]];
    for c in &checks {
        rows.push([
            c.case.clone(),
            c.metric.to_string(),
            format!("{:.6}", c.exact),
            format!("{:.6} ± {:.6}", c.simulated, c.ci95),
            format!("{:.6}", c.allowed),
            if c.passed() { "pass" } else { "FAIL" }.to_string(),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut o = String::new();
    for r in &rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i < 2 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        outln!(o, "{}", cells.join("  ").trim_end());
    }
    let failed = checks.iter().filter(|c| !c.passed()).count();
    outln!(
        o,
        "{} of {} checks passed (exact values from slotsim's own solvers; a check passes when the simulated mean is within its 95% CI widened to 99.9% coverage, plus 0.5% of the exact value and 1e-4)",
        checks.len() - failed,
        checks.len()
    );
    emit(&o)?;
    if failed > 0 {
        return Err(CliError::Other(anyhow::anyhow!(
            "validate: {failed} of {} checks failed",
            checks.len()
        )));
    }
    Ok(())
}

/// Refuses an output folder that is a file, or lies under one (`--out afile/sub`), before
/// anything is simulated or written.
fn check_out(out: &Path) -> Result<(), CliError> {
    if out.exists() && !out.is_dir() {
        return Err(CliError::Usage(format!(
            "--out {}: exists and is not a folder",
            out.display()
        )));
    }
    if let Some(file) = out
        .ancestors()
        .skip(1)
        .find(|a| !a.as_os_str().is_empty() && a.exists() && !a.is_dir())
    {
        return Err(CliError::Usage(format!(
            "--out {}: {} is a file, not a folder, so no folder can be made under it",
            out.display(),
            file.display()
        )));
    }
    Ok(())
}

fn progress_tick(bar: &indicatif::ProgressBar, horizon_s: f64) -> impl Fn(u64) + Sync + '_ {
    move |n: u64| {
        // A hidden bar (--quiet, or no terminal) shows nothing: its message need not be
        // made nor its state locked, at every replication (20,000 of a 10,000-point sweep
        // of 2 replications; about 1% of such a run, on the simulating threads).
        if bar.is_hidden() {
            return;
        }
        if n > bar.length().unwrap_or(0) {
            bar.set_length(n);
        }
        bar.set_position(n);
        bar.set_message(format!(
            "{} simulated",
            format_secs((n as f64 * horizon_s / 3600.0).round() * 3600.0)
        ));
    }
}

/// How the quick account search of [`what_would_reach`] runs: on the run's own threads
/// (`--threads`; it can be most of a run's work), with its streams, and with no events
/// budget (its candidates are larger than the run's points).
fn search_settings(threads: Option<usize>, crn: bool) -> RunSettings {
    RunSettings {
        threads,
        common_random_numbers: crn,
        watch: crate::engine::Watch {
            stop: Some(&INTERRUPTED),
            ..crate::engine::Watch::default()
        },
    }
}

/// From a whole sweep's results to the output folder and the printed summary: the one
/// path shared by `run` and `merge`. Everything is written and rendered in `stage`, then
/// published whole (see `output`): a failure or a kill at any point leaves the earlier run
/// whole.
fn finish(
    s: &Scenario,
    result: &RunResult,
    stage: crate::output::Stage,
    out: &Path,
    search: &RunSettings,
    overrides: &[String],
    shards: Option<u32>,
) -> Result<(), CliError> {
    let crn = search.common_random_numbers;
    let w = |e: crate::output::WriteError| CliError::Other(e.into());
    // The warnings go into run.json and after the terminal's table: they are made in
    // run.json's task, beside the other files (their checks of every point took about
    // 20 ms of a 10,000-point sweep, when nothing else ran).
    let warn = || {
        let mut warnings = overload_warnings(s);
        warnings.extend(warmup_warnings(s, result));
        // The quick account search simulates too, often more than the sweep: its events
        // and time are reported on their own, after the sweep's. Without targets the
        // recommendation is never that none meets them.
        let mut search_cost = None;
        if runner::recommend_targets(s).any()
            && matches!(
                runner::recommendation(s, &result.points),
                crate::recommend::Recommendation::NoneMeets { .. }
            )
        {
            if let Some((warning, cost)) = what_would_reach(s, search) {
                warnings.push(warning);
                search_cost = cost;
            }
        }
        warnings.extend(precision_warnings(s, result));
        (warnings, search_cost)
    };
    // Files, charts and the manifest's checksums are made in parallel on no more threads
    // than the run was given. The report and the terminal's table need only run.json and
    // the rows in memory, not the CSV files: they are made while those are written (one
    // thread on each at first, then each takes the other's tasks as its own run out).
    let (pool, _) = runner::thread_pool(search).map_err(|e| CliError::Other(e.into()))?;
    let dir = stage.dir();
    ensure_dir(dir).map_err(w)?;
    let waits = std::sync::Arc::new(pool.install(|| export::wait_grid(result)));
    let (sizes, made) = pool.install(|| {
        rayon::join(
            || write_csv_files(s, result, dir, &waits),
            || -> Result<_, CliError> {
                let (known, warned) =
                    write_run_json(s, result, dir, crn, overrides, warn, waits.clone())?;
                // The CSV files' sizes are not known yet: the report takes them as small
                // enough to be read (checked below).
                let (rendered, table) = rayon::join(
                    || crate::report::render_knowing(dir, known),
                    || summary_table(s, result),
                );
                Ok((rendered, table, warned))
            },
        )
    });
    let sizes = sizes?;
    let (mut rendered, table, (warnings, search_cost)) = made?;
    let max = crate::report::input::MAX_INPUT_BYTES;
    if sizes.0 as u64 > max || sizes.1 as u64 > max {
        // A file larger than the report reads: the report made from the files refuses it,
        // as it did when the report was made after them.
        rendered = pool.install(|| crate::report::render(dir));
    }
    let rendered = rendered.map_err(|e| CliError::Other(e.into()))?;
    if interrupted() {
        // Before the commit: the staging folder is removed, the earlier run stays.
        return Err(CliError::Interrupted);
    }
    pool.install(|| stage.publish(crate::output::Publish::NewRun))
        .map_err(w)?;
    if interrupted() {
        return Err(CliError::InterruptedAfterPublish(out.to_path_buf()));
    }

    let mut o = String::new();
    out!(o, "{table}");
    for w in &warnings {
        outln!(o, "warning: {w}");
    }
    outln!(o);
    outln!(o, "{}", rendered.text.trim_end());
    outln!(o);
    outln!(
        o,
        "wrote {} (summary.csv, replications.csv, timeseries.csv, wait_quantiles.csv, run.json, report.html, charts/, manifest.json)",
        out.display()
    );
    let mut last = match shards {
        None => format!(
            "{} events in {:.2} s on {} thread{} ({:.1} million events/s)",
            result.events,
            result.wall_time_s,
            result.threads,
            if result.threads == 1 { "" } else { "s" },
            crate::stats::ratio(result.events as f64, result.wall_time_s) / 1e6
        ),
        Some(n) => format!(
            "merged {n} shard{}: {} events in {:.2} s of simulation (the shards' times added)",
            if n == 1 { "" } else { "s" },
            result.events,
            result.wall_time_s,
        ),
    };
    if let Some((events, secs)) = search_cost {
        last.push_str(&format!(
            "; the quick account search: {events} events more in {secs:.2} s"
        ));
    }
    outln!(o, "{last}");
    emit(&o)
}

/// The settings a shard records so that `merge` can rebuild the scenario as run.
fn shard_overrides(a: &RunArgs) -> shard::Overrides {
    shard::Overrides {
        seed: a.seed,
        replications: a.replications,
        horizon: a.horizon.clone(),
        reserved: a.reserved.clone(),
        baseline: a.baseline,
        max_replications: a.max_replications,
        independent_streams: a.independent_streams,
    }
}

/// Refuses what a shard cannot run the way an unsharded run would: rounds that add
/// replications depending on all results.
fn check_shardable(s: &Scenario, a: &RunArgs, spec: ShardSpec) -> Result<(), CliError> {
    if s.precision.is_some() {
        return Err(CliError::Usage(format!(
            "--shard {spec}: a precision target (--precision, or `precision` in {}) adds replications in rounds decided on all replications of a point, which no shard sees; shard a fixed count instead (--replications N) or run without --shard",
            a.scenario.display()
        )));
    }
    if s.adaptive_replications() {
        return Err(CliError::Usage(format!(
            "--shard {spec}: {} has [targets], so an unsharded run adds replications to undecided points in decision rounds (up to {} per point), decided on all replications, which no shard sees; fix the count to shard it: --max-replications {} (equal to the replications per point; raise both with --replications N --max-replications N)",
            a.scenario.display(),
            s.decision_cap(),
            s.replications
        )));
    }
    Ok(())
}

/// `run --shard K/N`: simulates this shard's block of work and writes a partial result.
fn run_shard(s: &Scenario, a: &RunArgs, spec: ShardSpec) -> Result<(), CliError> {
    let out = a.out.clone().unwrap_or_else(|| {
        Path::new("output").join(format!("{}-shard-{}-of-{}", s.name, spec.k, spec.n))
    });
    check_out(&out)?;
    let settings = run_settings(s, a);
    // Prepared before the simulation, so an unwritable --out fails at once; published
    // whole, like a run's output folder.
    let w = |e: crate::output::WriteError| CliError::Other(e.into());
    let stage = crate::output::Stage::new(&out).map_err(w)?;
    let points = s.sweep.points().len();
    let reps = spec.replications(points, s.replications);
    let items_total = points as u64 * s.replications as u64;
    let items = spec.items(items_total);
    let bar = progress_bar(items.end - items.start, a.quiet);
    let tick = progress_tick(&bar, time_to_secs(s.horizon));
    let partial =
        runner::run_partial(s, &settings, &reps, &tick).map_err(|e| run_error(e, &bar))?;
    bar.finish_and_clear();

    let data = shard::data_json(&partial);
    let inputs_sum = shard::inputs_sha256(s).map_err(CliError::Usage)?;
    let scenario_text = s.source.as_bytes();
    let sum = |name: &str, bytes: &[u8]| shard::FileSum {
        name: name.to_string(),
        bytes: bytes.len() as u64,
        sha256: shard::sha256_bytes(bytes),
    };
    let manifest = shard::Manifest {
        format: shard::FORMAT.into(),
        format_version: shard::FORMAT_VERSION,
        slotsim_version: env!("CARGO_PKG_VERSION").into(),
        scenario: shard::ScenarioRef {
            name: s.name.clone(),
            path: s.file.clone(),
            sha256: export::sha256_hex(&s.source),
            inputs_sha256: inputs_sum,
        },
        seed: s.seed,
        shard: spec,
        partition: shard::PARTITION.into(),
        work: shard::Work {
            points,
            replications_per_point: s.replications,
            items: items_total,
            first_item: items.start,
            end_item: items.end,
            replications: reps.iter().map(|r| [r.start, r.end]).collect(),
        },
        overrides: shard_overrides(a),
        command_line_overrides: overrides(a),
        common_random_numbers: settings.common_random_numbers,
        threads: partial.threads,
        wall_time_s: partial.wall_time_s,
        events: partial.events,
        files: vec![
            sum(shard::SCENARIO_COPY, scenario_text),
            sum(shard::DATA, &data),
        ],
    };
    let mut manifest_bytes =
        serde_json::to_vec_pretty(&manifest).expect("serialising plain data cannot fail");
    manifest_bytes.push(b'\n');

    let staged = (|| {
        write_atomic(stage.dir(), shard::SCENARIO_COPY, scenario_text)?;
        write_atomic(stage.dir(), shard::DATA, &data)?;
        write_atomic(stage.dir(), shard::MANIFEST, &manifest_bytes)
    })();
    staged.map_err(w)?;
    stage.publish(crate::output::Publish::NewRun).map_err(w)?;

    let mut o = String::new();
    outln!(
        o,
        "wrote shard {spec} of {:?} to {} ({manifest}, {data_file}, {copy}): {} of {items_total} work items ({} point{} x {} replication{}), {} events in {:.2} s on {} thread{}",
        s.name,
        out.display(),
        if items.is_empty() {
            "none".to_string()
        } else {
            format!("items {} to {}", items.start, items.end - 1)
        },
        points,
        if points == 1 { "" } else { "s" },
        s.replications,
        if s.replications == 1 { "" } else { "s" },
        partial.events,
        partial.wall_time_s,
        partial.threads,
        if partial.threads == 1 { "" } else { "s" },
        manifest = shard::MANIFEST,
        data_file = shard::DATA,
        copy = shard::SCENARIO_COPY,
    );
    if items.is_empty() {
        outln!(
            o,
            "this shard holds no work ({} shards for {items_total} work items); it is still needed by `slotsim merge`",
            spec.n
        );
    }
    outln!(
        o,
        "join all {} shards with: slotsim merge DIR... --out DIR",
        spec.n
    );
    emit(&o)
}

/// `merge`: checks the shards belong together, joins them and writes the full output.
fn merge(a: MergeArgs) -> Result<(), CliError> {
    let bad = |e: shard::MergeError| CliError::Usage(e.0);
    let shards = a
        .shards
        .iter()
        .map(|d| shard::open_shard(d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    let shards = shard::check_set(shards).map_err(bad)?;
    let m = shards[0].manifest.clone();
    let text = std::fs::read_to_string(shards[0].dir.join(shard::SCENARIO_COPY)).map_err(|e| {
        CliError::Usage(format!(
            "{}: cannot read {}: {e}",
            shards[0].dir.display(),
            shard::SCENARIO_COPY
        ))
    })?;
    let mut s = crate::scenario::parse_scenario(&text, &m.scenario.path)?;
    let o = &m.overrides;
    let args = RunArgs {
        scenario: PathBuf::from(&m.scenario.path),
        seed: o.seed,
        replications: o.replications,
        horizon: o.horizon.clone(),
        reserved: o.reserved.clone(),
        baseline: o.baseline,
        max_replications: o.max_replications,
        independent_streams: o.independent_streams,
        ..RunArgs::default()
    };
    apply_overrides(&mut s, &args)?;
    if s.seed != m.seed {
        return Err(CliError::Usage(format!(
            "{}: damaged manifest: seed {} does not follow from the scenario and its overrides (seed {})",
            shards[0].dir.display(),
            m.seed,
            s.seed
        )));
    }
    let here = shard::inputs_sha256(&s).map_err(CliError::Usage)?;
    if here != m.scenario.inputs_sha256 {
        return Err(CliError::Usage(format!(
            "{}: the scenario's input data differs here from where the shards ran (inputs sha256 {}… vs {}…): a data file or trace that {} names was changed since; merge where the shards' data files are, unchanged",
            shards[0].dir.display(),
            &here[..12],
            &m.scenario.inputs_sha256[..m.scenario.inputs_sha256.len().min(12)],
            m.scenario.path
        )));
    }
    let points = s.sweep.points();
    let parts = shard::read_all(&shards, points.len(), s.replications).map_err(bad)?;
    let out = a.out.unwrap_or_else(|| Path::new("output").join(&s.name));
    shard::check_out_is_no_shard(&out, &a.shards).map_err(bad)?;
    check_out(&out)?;
    let stage = crate::output::Stage::new(&out).map_err(|e| CliError::Other(e.into()))?;
    let result = RunResult {
        points: runner::join_partials(&s, parts).map_err(|e| CliError::Other(e.into()))?,
        events: shards.iter().map(|x| x.manifest.events).sum(),
        threads: shards.iter().map(|x| x.manifest.threads).max().unwrap_or(1),
        wall_time_s: shards.iter().map(|x| x.manifest.wall_time_s).sum(),
    };
    finish(
        &s,
        &result,
        stage,
        &out,
        &search_settings(None, m.common_random_numbers),
        &m.command_line_overrides,
        Some(m.shard.n),
    )
}

fn plan(a: PlanArgs) -> Result<(), CliError> {
    use crate::plan::Search;
    let mut s = load_scenario(&a.scenario)?;
    if !s.targets.any() {
        return Err(CliError::Usage(format!(
            "{}: [targets]: plan needs at least one target (continuity_failure_rate, new_session_rejection_rate, cache_move_cost_usd_per_hour or cache_move_cost_usd_per_1k_requests)",
            a.scenario.display()
        )));
    }
    if let Some(seed) = a.seed {
        s.seed = seed;
    }
    if let Some(n) = a.replications {
        if n == 0 || n > MAX_REPLICATIONS {
            return Err(CliError::Usage(format!(
                "--replications {n}: must be from 1 to {MAX_REPLICATIONS}"
            )));
        }
        s.replications = n;
    }
    if let Some(m) = a.max_replications {
        if m < s.replications || m > MAX_REPLICATIONS {
            return Err(CliError::Usage(format!(
                "--max-replications {m}: must be from the replications ({}) to {MAX_REPLICATIONS}",
                s.replications
            )));
        }
        s.max_replications = m;
        s.max_replications_given = true;
    }
    if let Some(t) = a.threads {
        if t == 0 || t > MAX_THREADS {
            return Err(CliError::Usage(format!(
                "--threads {t}: must be from 1 to {MAX_THREADS}"
            )));
        }
    }
    if let Some(name) = &a.pool {
        s.plan.pool = s
            .pools
            .iter()
            .position(|p| &p.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = s.pools.iter().map(|p| p.name.as_str()).collect();
                CliError::Usage(format!(
                    "--pool {name:?}: no such pool (the pools are: {})",
                    names.join(", ")
                ))
            })?;
        if a.reserved.is_none() {
            s.plan.reserved = (0..s.pools[s.plan.pool].concurrency as i64).collect();
        }
    }
    if let Some(range) = &a.accounts {
        let bad = || {
            CliError::Usage(format!(
                "--accounts {range:?}: expected an inclusive range \"MIN..=MAX\" of whole numbers from 1 to 100000"
            ))
        };
        let (lo, hi) = range.split_once("..=").ok_or_else(bad)?;
        let lo: u32 = lo.trim().parse().map_err(|_| bad())?;
        let hi: u32 = hi.trim().parse().map_err(|_| bad())?;
        if lo == 0 || hi < lo || hi > 100_000 {
            return Err(bad());
        }
        s.plan.min_accounts = lo;
        s.plan.max_accounts = hi;
        s.plan.accounts_by_flag = true;
    }
    if let Some(list) = &a.reserved {
        let values = parse_reserved_list(list).map_err(CliError::Usage)?;
        if values.iter().any(|v| *v < 0) {
            return Err(CliError::Usage(format!(
                "--reserved {list:?}: plan tries reserved values >= 0"
            )));
        }
        s.plan.reserved = values;
    }
    for (flag, v) in [("--load-limit", a.load_limit), ("--load-step", a.load_step)] {
        if let Some(x) = v {
            if !(x.is_finite() && x > 0.0 && x <= 1e6) {
                return Err(CliError::Usage(format!(
                    "{flag} {x}: must be a number > 0 and at most 1000000"
                )));
            }
        }
    }
    if let Some(x) = a.load_limit {
        s.plan.max_load = x;
        s.plan.max_load_by_flag = true;
    }
    if let Some(x) = a.load_step {
        s.plan.load_step = x;
    }
    if s.plan.max_load / s.plan.load_step > 100_000.0 {
        return Err(CliError::Usage(format!(
            "--load-step {}: at most 100000 load steps up to {}",
            s.plan.load_step, s.plan.max_load
        )));
    }
    let search = if a.max_load {
        Search::Load
    } else {
        Search::Accounts
    };
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&s.name).join("plan"));
    check_out(&out)?;
    let settings = RunSettings {
        threads: a.threads,
        common_random_numbers: true,
        watch: crate::engine::Watch {
            stop: Some(&INTERRUPTED),
            ..crate::engine::Watch::default()
        },
    };
    let bar = progress_bar(0, a.quiet);
    let tick = |n: u64| {
        let _ = n;
        bar.inc(1);
    };
    let outcome =
        crate::plan::plan(&s, search, &settings, &tick).map_err(|e| CliError::Other(e.into()))?;
    bar.finish_and_clear();
    let answer = crate::plan::answer_text(&outcome, &s);
    let w = |e: crate::output::WriteError| CliError::Other(e.into());
    ensure_dir(&out).map_err(w)?;
    write_atomic(&out, "plan.csv", &crate::plan::plan_csv(&outcome, &s)).map_err(w)?;
    let charts = out.join("charts");
    ensure_dir(&charts).map_err(w)?;
    let targets = runner::recommend_targets(&s);
    let chart = crate::charts::plan::render_plan(
        &outcome,
        &targets,
        s.pools[s.plan.pool].concurrency,
        &charts,
    )
    .map_err(|e| CliError::Other(e.into()))?;
    let page =
        crate::report::html::plan_page(&s.name, &s.words(), &answer, &outcome, &targets, &chart);
    write_atomic(&out, "report.html", page.as_bytes()).map_err(w)?;
    let mut o = String::new();
    outln!(o, "{answer}");
    outln!(o);
    outln!(
        o,
        "wrote {} (plan.csv, report.html, charts/plan_feasible.png, charts/plan_feasible.svg)",
        out.display()
    );
    let (events, secs) = outcome.simulated();
    outln!(
        o,
        "{events} events in {secs:.2} s of simulation over {} candidates",
        outcome.candidates.len()
    );
    emit(&o)
}

/// The flags of `run` that changed the scenario's settings, as given.
fn overrides(a: &RunArgs) -> Vec<String> {
    let mut v = Vec::new();
    let mut add = |flag: &str, value: Option<String>| {
        if let Some(value) = value {
            v.push(format!("{flag} {value}"));
        }
    };
    add("--seed", a.seed.map(|x| x.to_string()));
    add("--replications", a.replications.map(|x| x.to_string()));
    add("--horizon", a.horizon.clone());
    add("--reserved", a.reserved.clone());
    add("--baseline", a.baseline.map(|x| x.to_string()));
    add("--precision", a.precision.map(|x| x.to_string()));
    add(
        "--max-replications",
        a.max_replications.map(|x| x.to_string()),
    );
    if a.independent_streams {
        v.push("--independent-streams".into());
    }
    v
}

/// When no setting meets the targets: a quick account search (`plan` with at most 4
/// replications and no decision rounds) from one account more than the largest swept pool.
///
/// Returns the warning, and the events and seconds the search simulated (none when no
/// account count can help, and nothing is searched).
pub fn what_would_reach(
    s: &Scenario,
    settings: &RunSettings,
) -> Option<(String, Option<(u64, f64)>)> {
    use crate::plan::{plan, Search};
    let mut q = s.clone();
    q.replications = q.replications.min(4);
    q.max_replications = q.replications;
    q.max_replications_given = true;
    q.precision = None;
    let pool = q.plan.pool;
    let current = s
        .sweep
        .points()
        .iter()
        .map(|p| s.model_at(p).pools[pool].accounts)
        .max()
        .unwrap_or(s.pools[pool].accounts);
    if current >= 100_000 {
        return None;
    }
    q.plan.min_accounts = current + 1;
    q.plan.max_accounts = q
        .plan
        .max_accounts
        .max(current.saturating_mul(4))
        .clamp(current + 1, 100_000);
    if let Some((_, values)) = s.sweep.params.iter().find(|(p, _)| *p == Param::Reserved) {
        let rs: Vec<i64> = values
            .iter()
            .map(|v| *v as i64)
            .filter(|v| *v >= 0)
            .collect();
        if !rs.is_empty() {
            q.plan.reserved = rs;
        }
    }
    // Reserved at or above concurrency on every pool leaves no slot a new session may
    // take, at any account count: the cause is the reserve, not the pool's size.
    let widest = s
        .pools
        .iter()
        .map(|p| p.concurrency as i64)
        .max()
        .unwrap_or(0);
    if q.plan.reserved.iter().all(|&r| r >= widest) {
        let list: Vec<String> = q.plan.reserved.iter().map(|r| r.to_string()).collect();
        return Some((
            format!(
                "no setting meets the targets, and more accounts would not help: every reserved value swept ({}) is at or above {}concurrency ({widest}), so no new session can ever get a slot (new-session capacity 0); sweep reserved values below concurrency",
                list.join(", "),
                if s.pools.len() > 1 { "every pool's " } else { "" }
            ),
            None,
        ));
    }
    let o = plan(&q, Search::Accounts, settings, &|_| {}).ok()?;
    let name = &s.pools[pool].name;
    let warning = match o.answer {
        Some(a) => {
            let c = &o.candidates[a];
            format!(
                "no setting meets the targets. What would reach them: about {} accounts of pool {name:?} (now at most {current}) with reserved={}, by a quick account search ({} replications per candidate); run `slotsim plan` for the confident answer",
                c.accounts,
                c.best_reserved().unwrap_or(0),
                q.replications
            )
        }
        None => format!(
            "no setting meets the targets. What would reach them: not even {} accounts of pool {name:?} do in a quick account search; lower the load or relax the targets",
            q.plan.max_accounts
        ),
    };
    Some((warning, Some(o.simulated())))
}

/// Sweep points whose offered load exceeds their slots; points with the same load and
/// slots share one warning (at most 5 warnings, then a count).
pub fn overload_warnings(s: &Scenario) -> Vec<String> {
    let points = s.sweep.points();
    let mut groups: Vec<(crate::capacity::LoadCheck, Vec<String>)> = Vec::new();
    for p in &points {
        let c =
            crate::capacity::LoadCheck::of(&s.model_at(p), s.targets.new_session_rejection_rate);
        if !c.overloaded() {
            continue;
        }
        match groups.iter_mut().find(|(g, _)| *g == c) {
            Some((_, labels)) => labels.push(p.label()),
            None => groups.push((c, vec![p.label()])),
        }
    }
    let n = groups.len();
    let mut all: Vec<String> = groups
        .into_iter()
        .take(5)
        .filter_map(|(c, labels)| {
            let label = if labels.len() == points.len() {
                if points.len() == 1 {
                    "scenario".to_string()
                } else {
                    "every sweep point".to_string()
                }
            } else {
                labels.join(" | ")
            };
            c.warning(&label)
        })
        .collect();
    if n > 5 {
        all.push(format!(
            "{} more groups of sweep points offer more load than their slots",
            n - 5
        ));
    }
    all
}

/// Points whose precision target was not reached before the replication cap.
pub fn precision_warnings(s: &Scenario, r: &RunResult) -> Vec<String> {
    let Some(rel) = s.precision else {
        return Vec::new();
    };
    r.points
        .iter()
        .filter(|p| p.precision_met == Some(false))
        .map(|p| {
            format!(
                "{}: the precision target ({}% of each headline mean) was not reached after {} replications (the cap); its CIs are wider than asked",
                p.point.label(),
                crate::units::round_sig(rel * 100.0, 3),
                p.reps.len()
            )
        })
        .collect()
}

fn progress_bar(len: u64, quiet: bool) -> indicatif::ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} replications ({msg}), {per_sec}, ETA {eta}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// Writes the CSV files and run.json (each atomically), in parallel on the current rayon
/// pool. Returns the rows of the CSV files as the report reads them, so that it need not
/// read them back.
pub fn write_outputs(
    s: &Scenario,
    r: &RunResult,
    out: &Path,
    crn: bool,
    overrides: &[String],
    warnings: &[String],
) -> Result<crate::report::input::Known, CliError> {
    ensure_dir(out).map_err(|e| CliError::Other(e.into()))?;
    let waits = std::sync::Arc::new(export::wait_grid(r));
    let (sizes, made) = rayon::join(
        || write_csv_files(s, r, out, &waits),
        || {
            let warn = || (warnings.to_vec(), ());
            write_run_json(s, r, out, crn, overrides, warn, waits.clone())
        },
    );
    let (mut known, _) = made?;
    known_sizes(&mut known, sizes?);
    Ok(known)
}

/// The four CSV files, each made and written as a task of its own (they do not depend on
/// one another), so that a sweep of many points writes them on every core of the caller's
/// pool. Returns the sizes of summary.csv and replications.csv.
///
/// Each file goes to its file a chunk at a time as it is made: a sweep of many points is
/// never whole in memory (copying and faulting in its pages cost more than the
/// formatting). The number of bytes each writer wrote is its file's size.
fn write_csv_files(
    s: &Scenario,
    r: &RunResult,
    out: &Path,
    waits: &crate::report::input::WaitGrid,
) -> Result<(usize, usize), CliError> {
    let stream = |name: &str,
                  make: &(dyn Fn(&mut dyn std::io::Write) -> std::io::Result<u64> + Sync)|
     -> Result<usize, CliError> {
        let mut size = 0;
        crate::output::write_atomic_with(out, name, |f| {
            size = make(f)?;
            Ok(())
        })
        .map_err(|e| CliError::Other(e.into()))?;
        Ok(size as usize)
    };
    let ((summary, replications), (timeseries, waits)) = rayon::join(
        || {
            rayon::join(
                || stream("summary.csv", &|f| export::write_summary_csv(s, r, f)),
                || {
                    stream("replications.csv", &|f| {
                        export::write_replications_csv(s, r, f)
                    })
                },
            )
        },
        || {
            rayon::join(
                || stream("timeseries.csv", &|f| export::write_timeseries_csv(s, r, f)),
                || {
                    stream("wait_quantiles.csv", &|f| {
                        export::write_wait_quantiles_csv(waits, f)
                    })
                },
            )
        },
    );
    timeseries?;
    waits?;
    Ok((summary?, replications?))
}

/// run.json, with the warnings `warn` makes (returned with what it gives beside them),
/// and beside it the rows of the CSV files as the report reads them, their files' sizes
/// not yet filled in (see [`known_sizes`]).
fn write_run_json<T: Send>(
    s: &Scenario,
    r: &RunResult,
    out: &Path,
    crn: bool,
    overrides: &[String],
    warn: impl FnOnce() -> (Vec<String>, T) + Send,
    waits: std::sync::Arc<crate::report::input::WaitGrid>,
) -> Result<(crate::report::input::Known, (Vec<String>, T)), CliError> {
    let (warned, ((summary, replications), timeseries)) = rayon::join(
        || -> Result<_, CliError> {
            let warned = warn();
            let json = export::run_json(s, r, crn, overrides, &warned.0);
            write_atomic(out, "run.json", &json).map_err(|e| CliError::Other(e.into()))?;
            Ok(warned)
        },
        || {
            rayon::join(
                || export::known_rows(s, r, (0, 0)),
                || export::timeseries_rows(s, r),
            )
        },
    );
    let known = crate::report::input::Known {
        timeseries,
        waits,
        summary: Some(summary),
        replications: Some(replications),
    };
    Ok((known, warned?))
}

/// Fills in the sizes of summary.csv and replications.csv (from [`write_csv_files`]).
fn known_sizes(known: &mut crate::report::input::Known, (summary, replications): (usize, usize)) {
    if let Some(k) = known.summary.as_mut() {
        k.bytes = summary;
    }
    if let Some(k) = known.replications.as_mut() {
        k.bytes = replications;
    }
}

/// MSER-5 verdicts worth a warning: a warm-up shorter than suggested, or no steady state.
pub fn warmup_warnings(s: &Scenario, r: &RunResult) -> Vec<String> {
    let warmup_s = time_to_secs(s.warmup);
    let mut warnings = Vec::new();
    for p in &r.points {
        let Some(m) = p.mser5 else { continue };
        let label = p.point.label();
        if !m.stationary {
            warnings.push(format!(
                "{label}: busy slots still drift in the second half of the horizon (MSER-5): the gateway may not reach a steady state; use a longer horizon or read the means as transient"
            ));
        } else if let Some(t) = m.truncate.filter(|&t| t as f64 * 60.0 > warmup_s) {
            warnings.push(format!(
                "{label}: the warm-up ({}) looks too short: MSER-5 on busy slots suggests discarding the first {}",
                format_secs(warmup_s),
                format_secs(t as f64 * 60.0)
            ));
        }
    }
    warnings
}

/// A table's cells written one after another into one text, each with where it ends and
/// its width in characters: a sweep of 10,000 points has a row each, and a String per cell
/// and a `format!` per number were most of the terminal table's time.
struct Grid {
    text: String,
    /// (end in `text`, width in characters) of each cell, row after row.
    cells: Vec<(usize, usize)>,
    cols: usize,
}

impl Grid {
    fn new(header: &[&str], params: &[String], rows: usize) -> Grid {
        let cols = 1 + params.len() + header.len();
        let mut g = Grid {
            text: String::with_capacity(cols * (rows + 1) * 8),
            cells: Vec::with_capacity(cols * (rows + 1)),
            cols,
        };
        g.cell("point");
        for c in params {
            g.cell(c);
        }
        for c in header {
            g.cell(c);
        }
        g
    }

    /// Ends the cell written since the previous one ended.
    fn end_cell(&mut self) {
        let start = self.cells.last().map_or(0, |c| c.0);
        let width = self.text[start..].chars().count();
        self.cells.push((self.text.len(), width));
    }

    /// Ends a cell of ASCII but for `extra` two-byte characters: its width needs no count.
    fn end_ascii(&mut self, extra: usize) {
        let start = self.cells.last().map_or(0, |c| c.0);
        self.cells
            .push((self.text.len(), self.text.len() - start - extra));
    }

    fn cell(&mut self, s: &str) {
        self.text.push_str(s);
        self.end_cell();
    }

    /// A row's first cells: the point's index and its parameters ('-' for an empty one).
    fn point_cells(&mut self, s: &Scenario, p: &runner::PointResult) {
        push_u64(&mut self.text, p.point.index as u64, 1, 0);
        self.end_ascii(0);
        let columns = export::param_columns(s);
        export::each_param_cell(s, &columns, p, |cell| {
            self.cell(if cell.is_empty() { "-" } else { cell })
        });
    }

    /// `digits` decimals of `x`, as `{:.digits$}` writes them.
    fn fixed(&mut self, x: f64, digits: usize) {
        push_fixed(&mut self.text, x, digits);
        self.end_ascii(0);
    }

    /// The mean, and `±` the 95% half-width when there is one, each to `digits` decimals.
    fn estimate(&mut self, e: &crate::stats::Estimate, scale: f64, digits: usize) {
        push_fixed(&mut self.text, scale * e.mean, digits);
        if let Some(h) = e.ci95 {
            self.text.push('±');
            push_fixed(&mut self.text, scale * h, digits);
            // '±' is two bytes and one character.
            self.end_ascii(1);
        } else {
            self.end_ascii(0);
        }
    }

    /// Right-aligned columns, two spaces apart: each cell padded on the left to its
    /// column's width in characters (as `{:>w$}` pads), trailing blanks of a row trimmed.
    fn render(&self, text: &mut String) {
        const SPACES: &str = "                                ";
        let mut widths = vec![0; self.cols];
        for row in self.cells.chunks(self.cols) {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.1);
            }
        }
        let rows = self.cells.len() / self.cols;
        let line: usize = widths.iter().sum::<usize>() + 2 * self.cols;
        text.reserve(rows * line);
        let mut start = 0;
        for row in self.cells.chunks(self.cols) {
            let line_start = text.len();
            for (k, (&(end, width), &w)) in row.iter().zip(&widths).enumerate() {
                if k > 0 {
                    text.push_str("  ");
                }
                let pad = w - width;
                if pad <= SPACES.len() {
                    text.push_str(&SPACES[..pad]);
                } else {
                    text.extend((0..pad).map(|_| ' '));
                }
                text.push_str(&self.text[start..end]);
                start = end;
            }
            let kept = line_start + text[line_start..].trim_end().len();
            text.truncate(kept);
            text.push('\n');
        }
    }
}

/// The human-readable summary printed by `run`.
/// A table cell of a rate that was not measured.
const NOT_MEASURED: &str = "n/a";

pub fn summary_table(s: &Scenario, r: &RunResult) -> String {
    use crate::stats::{metric_index, Estimate};
    let params = export::param_column_names(s);
    // Migrations split by cause, shown when something other than capacity can cause them.
    let causes = s.has_faults_or_limits();
    let mut header = vec![
        "reps",
        "new-sess rej %",
        "continuity fail %",
        "migr %",
        "bound rej %",
        "thr rps",
        "util %",
        "wait p95 s",
    ];
    if causes {
        header.extend(["migr capacity %", "migr fault %", "migr limit %"]);
    }
    let metric = |name| metric_index(name).expect("known metric name");
    let [new_rej, cont, migr, bound, thr, util, wait, migr_cap, migr_fault, migr_limit, bound_n] =
        [
            "new_session_rejection_rate",
            "continuity_failure_rate",
            "migration_rate",
            "bound_rejection_rate",
            "throughput_rps",
            "slot_utilization",
            "wait_p95_s",
            "migration_rate_capacity",
            "migration_rate_fault",
            "migration_rate_limit",
            "bound_requests",
        ]
        .map(metric);
    let mut g = Grid::new(&header, &params, r.points.len());
    for p in &r.points {
        // What `PointResult::estimate` gives, without looking the metric up by name.
        let est = |i: usize| Estimate::of_values(p.reps.iter().map(|r| r.metrics[i]));
        g.point_cells(s, p);
        push_u64(&mut g.text, p.reps.len() as u64, 1, 0);
        g.end_ascii(0);
        g.estimate(&est(new_rej), 100.0, 2);
        // Rates per bound request are 0/0 where no request was bound (every reserved
        // value >= concurrency, say): undefined, not 0, as the recommendation says.
        let measured = est(bound_n).mean > 0.0;
        if measured {
            g.estimate(&est(cont), 100.0, 2);
            g.fixed(100.0 * est(migr).mean, 2);
            g.fixed(100.0 * est(bound).mean, 2);
        } else {
            for _ in 0..3 {
                g.cell(NOT_MEASURED);
            }
        }
        g.fixed(est(thr).mean, 3);
        g.fixed(100.0 * est(util).mean, 1);
        g.fixed(est(wait).mean, 2);
        if causes {
            for m in [migr_cap, migr_fault, migr_limit] {
                if measured {
                    g.fixed(100.0 * est(m).mean, 2);
                } else {
                    g.cell(NOT_MEASURED);
                }
            }
        }
    }
    let mut text = String::new();
    g.render(&mut text);
    if r.points.iter().any(|p| p.reps.len() > 1) {
        text.push_str("(± is the 95% confidence half-width across replications)\n");
    }
    if text.contains(NOT_MEASURED) {
        text.push_str("(n/a: no bound requests, so no rate per bound request)\n");
    }
    causes_table(&mut text, s, r);
    cache_table(&mut text, s, r);
    text
}

/// Cache moves and their cost per point (docs/workloads.md), for scenarios with a
/// `[cost]` table.
fn cache_table(text: &mut String, s: &Scenario, r: &RunResult) {
    if !s.cost_given {
        return;
    }
    let header = [
        "cache moves",
        "moved tokens",
        "move cost $",
        "$ per 1k requests",
        "$ per hour",
    ];
    let mut g = Grid::new(&header, &export::param_column_names(s), r.points.len());
    for p in &r.points {
        g.point_cells(s, p);
        g.estimate(&p.estimate("cache_moves"), 1.0, 1);
        g.fixed(p.estimate("cache_move_tokens").mean, 0);
        g.estimate(&p.estimate("cache_move_cost_usd"), 1.0, 2);
        g.estimate(&p.estimate("cache_move_cost_usd_per_1k_requests"), 1.0, 3);
        g.estimate(&p.estimate("cache_move_cost_usd_per_hour"), 1.0, 2);
    }
    text.push_str(
        "\nCache moves (a session served where its prompt cache is cold while it is warm elsewhere) and their cost, per replication's measured window:\n",
    );
    g.render(text);
}

/// Rejected requests by cause at one point, each as a share of request attempts pooled
/// over the replications: user gate, queue full, wait timeout, no account, failover
/// exhausted.
pub fn rejection_causes(p: &runner::PointResult) -> [f64; 5] {
    let mut n = [0u64; 5];
    let mut attempts = 0u64;
    for r in &p.reps {
        let c = &r.counts;
        n[0] += c.rejected_user_limit;
        n[1] += c.rejected_queue_full;
        n[2] += c.rejected_wait_timeout;
        n[3] += c.rejected_no_account;
        n[4] += c.rejected_failover;
        attempts += c.requests_arrived;
    }
    n.map(|x| crate::stats::ratio(x as f64, attempts as f64))
}

/// The tables of rejections and migrations by cause (each only when something happened).
fn causes_table(text: &mut String, s: &Scenario, r: &RunResult) {
    // Migrations by cause are columns of the main table when faults or limits are set.
    let values: Vec<[f64; 5]> = r.points.iter().map(rejection_causes).collect();
    if values.iter().all(|c| c.iter().all(|x| *x == 0.0)) {
        return;
    }
    let header = [
        "user gate %",
        "queue full %",
        "wait timeout %",
        "no account %",
        "failover %",
    ];
    let mut g = Grid::new(&header, &export::param_column_names(s), r.points.len());
    for (p, c) in r.points.iter().zip(&values) {
        g.point_cells(s, p);
        for x in c {
            g.fixed(100.0 * x, 2);
        }
    }
    text.push_str(
        "\nRejected requests by cause (% of request attempts, pooled over replications):\n",
    );
    g.render(text);
}

fn report(out: &Path) -> Result<(), CliError> {
    if !out.is_dir() {
        let what = if out.exists() {
            "is not a folder"
        } else {
            "no such folder"
        };
        return Err(CliError::Usage(format!(
            "{}: {what} (give the output folder an earlier `slotsim run` wrote)",
            out.display()
        )));
    }
    let rendered = crate::report::redraw(out).map_err(|e| match e {
        crate::report::ReportError::Write(e) => CliError::Other(e.into()),
        e => CliError::Usage(e.to_string()),
    })?;
    let mut o = String::new();
    outln!(o, "{}", rendered.text.trim_end());
    outln!(o, "wrote {}", out.join("report.html").display());
    emit(&o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// The terminal table as it was written before it was made in place (a String per
    /// cell, a `format!` per number): the oracle for the new one's bytes.
    mod old {
        use super::super::{export, rejection_causes, RunResult, Scenario};

        fn pct(e: &crate::stats::Estimate) -> String {
            match e.ci95 {
                Some(h) => format!("{:.2}±{:.2}", 100.0 * e.mean, 100.0 * h),
                None => format!("{:.2}", 100.0 * e.mean),
            }
        }

        /// The human-readable summary printed by `run`.
        pub(super) fn summary_table(s: &Scenario, r: &RunResult) -> String {
            let mut header: Vec<String> = vec!["point".into()];
            header.extend(export::param_column_names(s));
            header.extend(
                [
                    "reps",
                    "new-sess rej %",
                    "continuity fail %",
                    "migr %",
                    "bound rej %",
                    "thr rps",
                    "util %",
                    "wait p95 s",
                ]
                .map(String::from),
            );
            // Migrations split by cause, shown when something other than capacity can cause them.
            let causes = s.has_faults_or_limits();
            if causes {
                header
                    .extend(["migr capacity %", "migr fault %", "migr limit %"].map(String::from));
            }
            let mut rows = vec![header];
            for p in &r.points {
                let mut row = vec![p.point.index.to_string()];
                for cell in export::param_cells(s, p) {
                    row.push(if cell.is_empty() { "-".into() } else { cell });
                }
                row.push(p.reps.len().to_string());
                row.push(pct(&p.estimate("new_session_rejection_rate")));
                let measured = p.estimate("bound_requests").mean > 0.0;
                let rate = |m: &str| {
                    if measured {
                        format!("{:.2}", 100.0 * p.estimate(m).mean)
                    } else {
                        "n/a".into()
                    }
                };
                row.push(if measured {
                    pct(&p.estimate("continuity_failure_rate"))
                } else {
                    "n/a".into()
                });
                row.push(rate("migration_rate"));
                row.push(rate("bound_rejection_rate"));
                row.push(format!("{:.3}", p.estimate("throughput_rps").mean));
                row.push(format!(
                    "{:.1}",
                    100.0 * p.estimate("slot_utilization").mean
                ));
                row.push(format!("{:.2}", p.estimate("wait_p95_s").mean));
                if causes {
                    for m in [
                        "migration_rate_capacity",
                        "migration_rate_fault",
                        "migration_rate_limit",
                    ] {
                        row.push(rate(m));
                    }
                }
                rows.push(row);
            }
            let mut text = align(rows);
            if r.points.iter().any(|p| p.reps.len() > 1) {
                text.push_str("(± is the 95% confidence half-width across replications)\n");
            }
            if text.contains("n/a") {
                text.push_str("(n/a: no bound requests, so no rate per bound request)\n");
            }
            text.push_str(&causes_table(s, r));
            text.push_str(&cache_table(s, r));
            text
        }

        /// Cache moves and their cost per point (docs/workloads.md), for scenarios with a
        /// `[cost]` table.
        fn cache_table(s: &Scenario, r: &RunResult) -> String {
            if !s.cost_given {
                return String::new();
            }
            let money = |e: &crate::stats::Estimate, digits: usize| match e.ci95 {
                Some(h) => format!("{:.digits$}±{:.digits$}", e.mean, h),
                None => format!("{:.digits$}", e.mean),
            };
            let mut header: Vec<String> = vec!["point".into()];
            header.extend(export::param_column_names(s));
            header.extend(
                [
                    "cache moves",
                    "moved tokens",
                    "move cost $",
                    "$ per 1k requests",
                    "$ per hour",
                ]
                .map(String::from),
            );
            let mut rows = vec![header];
            for p in &r.points {
                let mut row = vec![p.point.index.to_string()];
                for cell in export::param_cells(s, p) {
                    row.push(if cell.is_empty() { "-".into() } else { cell });
                }
                row.push(money(&p.estimate("cache_moves"), 1));
                row.push(format!("{:.0}", p.estimate("cache_move_tokens").mean));
                row.push(money(&p.estimate("cache_move_cost_usd"), 2));
                row.push(money(&p.estimate("cache_move_cost_usd_per_1k_requests"), 3));
                row.push(money(&p.estimate("cache_move_cost_usd_per_hour"), 2));
                rows.push(row);
            }
            let mut text = String::from(
                "\nCache moves (a session served where its prompt cache is cold while it is warm elsewhere) and their cost, per replication's measured window:\n",
            );
            text.push_str(&align(rows));
            text
        }

        /// Right-aligned columns, two spaces apart.
        fn align(rows: Vec<Vec<String>>) -> String {
            let widths: Vec<usize> = (0..rows[0].len())
                .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
                .collect();
            // Each cell right-aligned (padded on the left to its column's width in characters, as
            // `{:>w$}` pads), two spaces between cells, trailing blanks trimmed: written straight
            // into the text, since a sweep of many points has a row each and a string per padded
            // cell and per joined row was most of this table's time.
            let mut text = String::new();
            for row in rows {
                let start = text.len();
                for (k, (c, &w)) in row.iter().zip(&widths).enumerate() {
                    if k > 0 {
                        text.push_str("  ");
                    }
                    let pad = w.saturating_sub(c.chars().count());
                    for _ in 0..pad {
                        text.push(' ');
                    }
                    text.push_str(c);
                }
                let kept = start + text[start..].trim_end().len();
                text.truncate(kept);
                text.push('\n');
            }
            text
        }

        /// The tables of rejections and migrations by cause (each only when something happened).
        fn causes_table(s: &Scenario, r: &RunResult) -> String {
            // Migrations by cause are columns of the main table when faults or limits are set.
            let values: Vec<[f64; 5]> = r.points.iter().map(rejection_causes).collect();
            if values.iter().all(|c| c.iter().all(|x| *x == 0.0)) {
                return String::new();
            }
            let mut header: Vec<String> = vec!["point".into()];
            header.extend(export::param_column_names(s));
            header.extend(
                [
                    "user gate %",
                    "queue full %",
                    "wait timeout %",
                    "no account %",
                    "failover %",
                ]
                .map(String::from),
            );
            let mut rows = vec![header];
            for (p, c) in r.points.iter().zip(&values) {
                let mut row = vec![p.point.index.to_string()];
                for cell in export::param_cells(s, p) {
                    row.push(if cell.is_empty() { "-".into() } else { cell });
                }
                row.extend(c.iter().map(|x| format!("{:.2}", 100.0 * x)));
                rows.push(row);
            }
            format!(
                "\nRejected requests by cause (% of request attempts, pooled over replications):\n{}",
                align(rows)
            )
        }
    }

    /// The summary, rejections-by-cause and cache tables are byte for byte what the
    /// earlier code printed, on runs with and without faults and cost, a sweep whose
    /// `reserved` differs between pools ('-' cells), one replication (no '±') and NaN,
    /// negative and large values.
    #[test]
    fn summary_table_is_the_old_ones() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut scenarios: Vec<Scenario> = [
            "quick.toml",
            "claude-max-faults.toml",
            "claude-code-agentic.toml",
        ]
        .iter()
        .map(|f| crate::scenario::load_scenario(&dir.join(f)).unwrap())
        .collect();
        let pools = r#"
            horizon = "1h"
            replications = 3
            [[pools]]
            name = "max"
            accounts = 2
            concurrency = 3
            reserved = 1
            [[pools]]
            name = "backup"
            accounts = 1
            concurrency = 2
            [workload]
            arrival = { process = "poisson", rate = "30/min" }
            requests_per_session = { dist = "geometric", mean = 5 }
            think_time = { dist = "exponential", mean = "20s" }
            service_time = { dist = "exponential", mean = "15s" }
            [cost]
            [sweep]
            reserved = [0, 1]
            [sweep.pools.backup]
            reserved = [0, 1]
        "#;
        scenarios.push(crate::scenario::parse_scenario(pools, "pools.toml").unwrap());
        let settings = RunSettings {
            threads: Some(2),
            ..RunSettings::default()
        };
        let mut checked = 0;
        for mut s in scenarios {
            s.horizon = s.horizon.min(secs_to_time(2.0 * 3600.0));
            s.warmup = s.warmup.min(secs_to_time(600.0));
            s.replications = s.replications.min(3);
            let mut r = runner::run(&s, &settings, &|_| {}).unwrap();
            assert_eq!(
                summary_table(&s, &r),
                old::summary_table(&s, &r),
                "{}",
                s.name
            );
            // A point of one replication, and odd values in another.
            r.points[0].reps.truncate(1);
            let last = r.points.len() - 1;
            for (k, m) in r.points[last].reps[0].metrics.iter_mut().enumerate() {
                *m = [f64::NAN, -0.0125, 1e9 / 7.0, -3.0, 0.004999][k % 5];
            }
            let (new, old) = (summary_table(&s, &r), old::summary_table(&s, &r));
            assert_eq!(new, old, "{}", s.name);
            checked += usize::from(new.contains('±'))
                + usize::from(new.contains("NaN"))
                + usize::from(new.contains(" -  "))
                + usize::from(new.contains("Cache moves"))
                + usize::from(new.contains("Rejected requests by cause"));
        }
        assert!(checked >= 10, "{checked}");
    }

    #[test]
    fn reserved_lists() {
        assert_eq!(parse_reserved_list("0,1,2").unwrap(), vec![0, 1, 2]);
        assert_eq!(parse_reserved_list("0..=3").unwrap(), vec![0, 1, 2, 3]);
        assert_eq!(parse_reserved_list("-1, 2").unwrap(), vec![-1, 2]);
        for bad in ["", "a", "1,,2", "3..=1", "1,1", "0..4"] {
            assert!(parse_reserved_list(bad).is_err(), "{bad}");
        }
        // As many values as a scenario's sweep list may hold, in either form, and no more.
        assert_eq!(parse_reserved_list("0..=9999").unwrap().len(), 10_000);
        assert!(parse_reserved_list("0..=10000").is_err());
        let list = |n: i64| (0..n).map(|v| v.to_string()).collect::<Vec<_>>().join(",");
        assert_eq!(parse_reserved_list(&list(10_000)).unwrap().len(), 10_000);
        assert!(parse_reserved_list(&list(10_001)).is_err());
    }
}
