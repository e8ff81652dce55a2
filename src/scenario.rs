//! Scenarios: the validated description of one study (gateway settings, account pools,
//! workload, sweep, targets). A [`Scenario`] that exists is valid; the engine never sees
//! an invalid value. Parsing and validation live in [`raw`] and [`validate`].

mod raw;
mod validate;

use crate::dist::Dist;
use crate::units::Time;
use std::path::Path;

pub use validate::{
    parse_scenario, MAX_CLIENT_RETRIES, MAX_HORIZON_S, MAX_NAME_CHARS, MAX_POINTS, MAX_POOLS,
    MAX_RATE_PER_S, MAX_REPLICATIONS, MAX_SWEEP_VALUES, MAX_USERS,
};

/// A scenario could not be read or is invalid. Every message names the file and, for
/// invalid values, the key path, the value and what is allowed.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}: cannot read the scenario file: {reason}")]
    Read { file: String, reason: String },
    #[error("{file}:{line}:{column}: TOML syntax error: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: {path}: {message}")]
    Invalid {
        file: String,
        path: String,
        message: String,
    },
}

/// Reads and validates a scenario file.
pub fn load_scenario(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = read_input_file(path, MAX_SCENARIO_BYTES).map_err(|reason| ScenarioError::Read {
        file: file.clone(),
        reason,
    })?;
    parse_scenario(&text, &file)
}

/// The largest scenario file read (a scenario is a page of settings; an empirical
/// distribution's inline list fits many times over).
pub const MAX_SCENARIO_BYTES: u64 = 4 << 20;

/// Reads a text input file: only a regular file (not a FIFO, a device such as
/// `/dev/zero`, or a folder), of at most `max` bytes, in UTF-8. The reason is in words.
pub fn read_input_file(path: &Path, max: u64) -> Result<String, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err(
            "is not a regular file (a scenario must be a file, not a folder, device or pipe)"
                .to_string(),
        );
    }
    if meta.len() > max {
        return Err(format!("is {} bytes: at most {max} are read", meta.len()));
    }
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!("is more than {max} bytes: at most {max} are read"));
    }
    String::from_utf8(bytes).map_err(|e| format!("is not UTF-8 text: {e}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// A sticky hit does not refresh the binding's TTL.
    Anthropic,
    /// A sticky hit refreshes the binding's TTL.
    OpenAi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FallbackSelection {
    LastUsed,
    Random,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitMode {
    /// sub2api's polling with backoff and jitter: not FIFO, direct requests barge in.
    Poll,
    /// Idealised: a freed slot goes at once to the longest waiter its cap admits.
    Fifo,
}

/// sub2api's slot-wait polling (`nextBackoff`): the first retry exactly `initial_s` after
/// the immediate try; each later delay is the previous (jittered) one times `multiplier`,
/// capped at `max_s`, times a uniform factor in [1-jitter, 1+jitter], clamped to
/// [`initial_s`, `max_s`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollConfig {
    pub initial_s: f64,
    pub multiplier: f64,
    pub max_s: f64,
    pub jitter: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GatewayConfig {
    pub platform: Platform,
    pub sticky_ttl: Time,
    pub sticky_max_waiting: u32,
    pub sticky_wait_timeout: Time,
    pub fallback_max_waiting: u32,
    pub fallback_wait_timeout: Time,
    pub fallback_selection: FallbackSelection,
    pub wait: WaitMode,
    pub max_account_switches: u32,
    pub poll: PollConfig,
    /// A bound request served elsewhere because its account was merely full rewrites the
    /// binding (true, v0.1.83) or keeps it (false, PR #6164).
    pub spillover_rebinds: bool,
    /// A bound request whose account is full waits there (true) or goes straight to the
    /// load-aware layer keeping its binding (false, PR #7028).
    pub sticky_wait: bool,
    /// How long a rate-limited (429) account is unschedulable when no reset time is known.
    pub rate_limit_cooldown: Time,
    /// How long an overloaded (529) account is unschedulable.
    pub overload_cooldown: Time,
    /// How long an attempt that fails holds its slot, seconds.
    pub time_to_error: Dist,
}

impl Default for GatewayConfig {
    /// sub2api's defaults (docs/model.md section 4).
    fn default() -> Self {
        GatewayConfig {
            platform: Platform::Anthropic,
            sticky_ttl: 3600 * 1_000_000,
            sticky_max_waiting: 3,
            sticky_wait_timeout: 120 * 1_000_000,
            fallback_max_waiting: 100,
            fallback_wait_timeout: 30 * 1_000_000,
            fallback_selection: FallbackSelection::LastUsed,
            wait: WaitMode::Poll,
            max_account_switches: 10,
            poll: PollConfig {
                initial_s: 0.1,
                multiplier: 1.5,
                max_s: 2.0,
                jitter: 0.2,
            },
            spillover_rebinds: true,
            sticky_wait: true,
            rate_limit_cooldown: 300 * 1_000_000,
            overload_cooldown: 600 * 1_000_000,
            time_to_error: Dist::Constant { value: 1.0 },
        }
    }
}

/// A group of identical accounts.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolConfig {
    pub name: String,
    pub accounts: u32,
    /// Slots per account (>= 1).
    pub concurrency: u32,
    /// reserved_concurrency as written (negative behaves as 0; >= concurrency allowed).
    pub reserved: i64,
    /// Lower is preferred.
    pub priority: i64,
    /// Upstream faults of this pool's accounts.
    pub faults: PoolFaults,
    /// sub2api's session limit per account (0 = off).
    pub max_sessions: u32,
    /// A session stays active on an account this long after it last registered there.
    pub session_idle_timeout: Time,
    /// sub2api's RPM limit per account (0 = off).
    pub base_rpm: u32,
    pub rpm_strategy: RpmStrategy,
    /// Width of the sticky-only band above base_rpm (tiered strategy); None = sub2api's
    /// default, computed from the (possibly swept) concurrency, max_sessions and base_rpm.
    pub rpm_sticky_buffer: Option<u32>,
    /// A per-account usage window (Claude Pro/Max, Codex plans).
    pub window: Option<WindowConfig>,
}

impl PoolConfig {
    /// The sticky-only band's width: as given, else sub2api's default
    /// max(C + M, max(floor(B / 5), 1)).
    pub fn rpm_buffer(&self) -> u32 {
        self.rpm_sticky_buffer.unwrap_or_else(|| {
            self.concurrency
                .saturating_add(self.max_sessions)
                .max((self.base_rpm / 5).max(1))
        })
    }
}

/// The kinds of upstream fault, in the order of the per-request draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// 429: unschedulable for `rate_limit_cooldown` (or until the usage window resets).
    RateLimit = 0,
    /// 529: unschedulable for `overload_cooldown`.
    Overload = 1,
    /// 401/403: unschedulable for the rest of the replication.
    AuthError = 2,
}

impl FaultKind {
    pub const ALL: [FaultKind; 3] = [
        FaultKind::RateLimit,
        FaultKind::Overload,
        FaultKind::AuthError,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::RateLimit => "rate_limit",
            FaultKind::Overload => "overload",
            FaultKind::AuthError => "auth_error",
        }
    }
}

/// How often each kind of fault happens, indexed by [`FaultKind`]: a probability per
/// attempt that takes a slot, and a Poisson rate of events per account and hour.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PoolFaults {
    pub per_request: [f64; 3],
    pub per_account_hour: [f64; 3],
}

impl PoolFaults {
    pub fn any(&self) -> bool {
        self.per_request
            .iter()
            .chain(&self.per_account_hour)
            .any(|&x| x > 0.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RpmStrategy {
    /// base_rpm <= n < base_rpm + buffer: sticky only; beyond: unschedulable.
    Tiered,
    /// n >= base_rpm: sticky only, never unschedulable.
    StickyExempt,
}

/// A usage window: each account may complete `budget` requests per window of `length`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowConfig {
    pub length: Time,
    pub budget: u64,
    /// Pause the account once this many requests have completed in the window
    /// (ceil(pause_at x budget)), if set.
    pub pause_after: Option<u64>,
    /// Windows start at the top of the hour of the opening event (else at the event).
    pub align_hour: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Workload {
    /// Sessions arrive as a Poisson process and issue requests separated by think times.
    Sessions {
        arrival_rate: f64,
        /// Sessions arrive exactly every 1/rate (for hand-checkable cases) instead of Poisson.
        periodic: bool,
        /// Requests per session; with `agentic`, turns per session.
        requests_per_session: Dist,
        /// Between requests; with `agentic`, between turns (the human's gap).
        think_time: Dist,
        service_time: Dist,
        client_retries: u32,
        client_retry_backoff: Time,
        /// Arrivals over time: the daily profile and a bursty renewal process.
        arrivals: ArrivalShape,
        /// Agentic sessions: each turn is a run of steps separated by tool times.
        agentic: Option<Agentic>,
        /// Each session's context size in tokens (drawn at its arrival), if given.
        context_tokens: Option<Dist>,
        /// Tokens added to the context by each completed request of the session.
        context_growth: f64,
    },
    /// Requests replayed from a trace file at their recorded times (open loop).
    Trace {
        trace: crate::trace::TraceConfig,
        /// Tokens added to the context by each completed request of the session, when
        /// the trace gives no input token counts.
        context_growth: f64,
    },
    /// Two independent Poisson streams of single requests (docs/model.md section 6).
    Open {
        bound_rate: f64,
        new_rate: f64,
        service_time: Dist,
    },
}

/// How session arrivals spread over time (the rate itself is `arrival_rate`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ArrivalShape {
    /// Inter-arrival coefficient of variation of a renewal process (`process =
    /// "bursty"`): hyperexponential above 1, gamma below, exponential at 1.
    pub bursty_cv: Option<f64>,
    /// 24 hourly multipliers, normalised to average 1 over the day (hour 0 starts at
    /// time 0 and the profile repeats every 24 h).
    pub daily_profile: Option<Vec<f64>>,
}

/// Agentic sessions: a session is a sequence of turns; a turn is a sequence of steps
/// (requests) separated by tool times; turns are separated by the think time.
#[derive(Debug, Clone, PartialEq)]
pub struct Agentic {
    pub steps_per_turn: Dist,
    pub tool_time: Dist,
}

/// What a cache move costs (the `[cost]` table; every key has a default).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostConfig {
    /// How long a provider keeps a session's prompt cache warm after a request.
    pub cache_ttl: Time,
    pub input_price_per_mtok: f64,
    pub cache_write_multiplier: f64,
    pub cache_read_multiplier: f64,
}

impl Default for CostConfig {
    /// The 1-hour cache of Claude subscriptions at $3 per million input tokens.
    fn default() -> Self {
        CostConfig {
            cache_ttl: 3600 * 1_000_000,
            input_price_per_mtok: 3.0,
            cache_write_multiplier: 2.0,
            cache_read_multiplier: 0.1,
        }
    }
}

impl CostConfig {
    /// USD per token re-written by a cache move:
    /// (write multiplier - read multiplier) x input price / 10^6.
    pub fn usd_per_token(&self) -> f64 {
        (self.cache_write_multiplier - self.cache_read_multiplier) * self.input_price_per_mtok / 1e6
    }
}

/// Per-user concurrency limit (sub2api's user gate).
#[derive(Debug, Clone, PartialEq)]
pub struct UserConfig {
    /// Users that sessions are spread over, uniformly at random.
    pub count: u32,
    /// Requests of one user in flight at once (U).
    pub concurrency: u32,
    /// Waiters allowed per user (default U + 20).
    pub max_waiting: u32,
    pub wait_timeout: Time,
}

/// A parameter that a sweep can vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Param {
    /// Every pool's reserved.
    Reserved,
    /// Every pool's concurrency.
    Concurrency,
    /// Every pool's accounts.
    Accounts,
    /// A multiplier of the arrival rates.
    Load,
    /// One pool's key (`[sweep.pools.NAME]`); the pool by its index in `[[pools]]`.
    Pool(usize, PoolKey),
    /// A gateway key (`[sweep.gateway]`).
    Gateway(GatewayKey),
}

/// The keys of one pool that `[sweep.pools.NAME]` may vary, in grid order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PoolKey {
    Accounts,
    Concurrency,
    Reserved,
    MaxSessions,
    BaseRpm,
}

impl PoolKey {
    pub const ALL: [PoolKey; 5] = [
        PoolKey::Accounts,
        PoolKey::Concurrency,
        PoolKey::Reserved,
        PoolKey::MaxSessions,
        PoolKey::BaseRpm,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PoolKey::Accounts => "accounts",
            PoolKey::Concurrency => "concurrency",
            PoolKey::Reserved => "reserved",
            PoolKey::MaxSessions => "max_sessions",
            PoolKey::BaseRpm => "base_rpm",
        }
    }
}

/// The gateway keys that `[sweep.gateway]` may vary, in grid order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GatewayKey {
    SpilloverRebinds,
    StickyWait,
    StickyMaxWaiting,
    FallbackMaxWaiting,
    MaxAccountSwitches,
}

impl GatewayKey {
    pub const ALL: [GatewayKey; 5] = [
        GatewayKey::SpilloverRebinds,
        GatewayKey::StickyWait,
        GatewayKey::StickyMaxWaiting,
        GatewayKey::FallbackMaxWaiting,
        GatewayKey::MaxAccountSwitches,
    ];

    pub fn name(self) -> &'static str {
        match self {
            GatewayKey::SpilloverRebinds => "spillover_rebinds",
            GatewayKey::StickyWait => "sticky_wait",
            GatewayKey::StickyMaxWaiting => "sticky_max_waiting",
            GatewayKey::FallbackMaxWaiting => "fallback_max_waiting",
            GatewayKey::MaxAccountSwitches => "max_account_switches",
        }
    }

    /// A true/false setting (swept values 1 and 0).
    pub fn is_bool(self) -> bool {
        matches!(self, GatewayKey::SpilloverRebinds | GatewayKey::StickyWait)
    }
}

impl Param {
    /// The parameters of `[sweep]` itself, in the fixed grid order.
    pub const ALL: [Param; 4] = [
        Param::Reserved,
        Param::Concurrency,
        Param::Accounts,
        Param::Load,
    ];

    /// The parameter's key: "reserved", "max_sessions", "spillover_rebinds", ...
    pub fn key(self) -> &'static str {
        match self {
            Param::Reserved => "reserved",
            Param::Concurrency => "concurrency",
            Param::Accounts => "accounts",
            Param::Load => "load",
            Param::Pool(_, k) => k.name(),
            Param::Gateway(k) => k.name(),
        }
    }

    /// The parameter's column name: the key, or `pools.NAME.KEY` for one pool's key.
    pub fn column(self, pool_names: &[String]) -> String {
        match self {
            Param::Pool(i, k) => format!(
                "pools.{}.{}",
                pool_names.get(i).map_or("?", String::as_str),
                k.name()
            ),
            _ => self.key().to_string(),
        }
    }

    /// A value as written in CSV cells and labels (true/false for settings that are).
    pub fn format_value(self, v: f64) -> String {
        match self {
            Param::Gateway(k) if k.is_bool() => (v != 0.0).to_string(),
            _ => format!("{v}"),
        }
    }
}

/// The grid of points to compare. Parameters appear in the grid order (`[sweep]` keys in
/// the order of [`Param::ALL`], then each pool's keys in `[[pools]]` order, then the
/// gateway's); points enumerate the grid with the last parameter varying fastest.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sweep {
    pub params: Vec<(Param, Vec<f64>)>,
    /// Index of the point the paired differences are taken against.
    pub baseline: usize,
    /// The pools' names, for the columns of per-pool parameters.
    pub pool_names: Vec<String>,
}

/// One point of the sweep: a value for each swept parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub index: usize,
    pub values: Vec<(Param, f64)>,
    /// Column names of the values, in the same order.
    pub names: Vec<String>,
}

impl Point {
    pub fn get(&self, p: Param) -> Option<f64> {
        self.values.iter().find(|(q, _)| *q == p).map(|(_, v)| *v)
    }

    /// "reserved=2, pools.max.concurrency=5", or "scenario" for an empty sweep.
    pub fn label(&self) -> String {
        if self.values.is_empty() {
            return "scenario".to_string();
        }
        self.values
            .iter()
            .zip(&self.names)
            .map(|((p, v), name)| format!("{name}={}", p.format_value(*v)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Sweep {
    pub fn points(&self) -> Vec<Point> {
        let names = self.param_names();
        let mut points = vec![Vec::new()];
        for (param, values) in &self.params {
            let mut next = Vec::with_capacity(points.len() * values.len());
            for prefix in &points {
                for v in values {
                    let mut p: Vec<(Param, f64)> = prefix.clone();
                    p.push((*param, *v));
                    next.push(p);
                }
            }
            points = next;
        }
        points
            .into_iter()
            .enumerate()
            .map(|(index, values)| Point {
                index,
                values,
                names: names.clone(),
            })
            .collect()
    }

    /// The column names of the swept parameters, in grid order.
    pub fn param_names(&self) -> Vec<String> {
        self.params
            .iter()
            .map(|(p, _)| p.column(&self.pool_names))
            .collect()
    }
}

/// What "good enough" means for the recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Targets {
    pub continuity_failure_rate: Option<f64>,
    pub new_session_rejection_rate: Option<f64>,
    /// Cache-move cost (USD) per simulated hour, at most.
    pub cache_move_cost_usd_per_hour: Option<f64>,
    /// Cache-move cost (USD) per 1,000 completed requests, at most.
    pub cache_move_cost_usd_per_1k_requests: Option<f64>,
}

impl Targets {
    /// True when at least one target is set.
    pub fn any(&self) -> bool {
        self.continuity_failure_rate.is_some()
            || self.new_session_rejection_rate.is_some()
            || self.cache_move_cost_usd_per_hour.is_some()
            || self.cache_move_cost_usd_per_1k_requests.is_some()
    }
}

/// A validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The file it was read from, as given.
    pub file: String,
    /// The file's text, for provenance.
    pub source: String,
    pub seed: u64,
    pub horizon: Time,
    pub warmup: Time,
    pub replications: u32,
    pub gateway: GatewayConfig,
    pub pools: Vec<PoolConfig>,
    pub workload: Workload,
    pub users: Option<UserConfig>,
    /// The `[cost]` table (defaults when absent).
    pub cost: CostConfig,
    /// Whether the scenario has a `[cost]` table.
    pub cost_given: bool,
    pub sweep: Sweep,
    pub targets: Targets,
    /// Precision on demand: relative CI half-width target for the headline metrics.
    pub precision: Option<f64>,
    /// Cap on replications per point when `precision` is set (default 200), and for the
    /// recommendation's decision rounds when given (see [`Scenario::decision_cap`]).
    pub max_replications: u32,
    /// Whether `max_replications` was given (scenario key or flag) rather than defaulted.
    pub max_replications_given: bool,
    /// `[targets] price_per_account`, one price per pool in `pools` order.
    pub account_prices: Option<Vec<f64>>,
    /// `[plan]`: what `slotsim plan` searches (defaults when the table is absent).
    pub plan: PlanConfig,
    /// Remarks for `slotsim check` (legal but notable settings).
    pub notes: Vec<String>,
}

/// The model a single simulation runs: a scenario with one sweep point applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    pub horizon: Time,
    pub warmup: Time,
    pub gateway: GatewayConfig,
    pub pools: Vec<PoolConfig>,
    pub workload: Workload,
    pub users: Option<UserConfig>,
    pub cost: CostConfig,
}

/// `[plan]`: the search space of `slotsim plan` (docs/decisions.md).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanConfig {
    /// Index into `pools` of the pool whose accounts are searched (default the first).
    pub pool: usize,
    /// Account counts searched, inclusive (default 1 to 4 x the pool's accounts).
    pub min_accounts: u32,
    pub max_accounts: u32,
    /// Reserved values tried at each candidate, on every pool (default 0 to C - 1 of the
    /// searched pool).
    pub reserved: Vec<i64>,
    /// `--max-load`: load multipliers searched are load_step, 2 x load_step, ... up to
    /// max_load (defaults 0.1 and 4).
    pub max_load: f64,
    pub load_step: f64,
    /// Whether `plan --accounts` and `plan --load-limit` set the limits above: an answer at
    /// a limit names the flag to change, not the [plan] key.
    pub accounts_by_flag: bool,
    pub max_load_by_flag: bool,
}

/// Default cap of the decision rounds, as a multiple of `replications`.
pub const DECISION_CAP_FACTOR: u32 = 4;

/// What a point's pools cost and hold back (see docs/decisions.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointCost {
    /// Total slots: the sum over pools of accounts x concurrency.
    pub slots: u64,
    /// The cost the recommendation compares: `slots`, or the sum of accounts x price.
    pub cost: f64,
    /// Slots kept from new sessions: the sum over accounts of min(max(R, 0), C).
    pub held_back: u64,
}

impl ModelConfig {
    /// Total slots and the slots held back, from the resolved pools; `prices` (one per
    /// pool) turn the cost into a price.
    pub fn cost(&self, prices: Option<&[f64]>) -> PointCost {
        let slots = self
            .pools
            .iter()
            .map(|p| p.accounts as u64 * p.concurrency as u64)
            .sum();
        let held_back = self
            .pools
            .iter()
            .map(|p| p.accounts as u64 * p.reserved.clamp(0, p.concurrency as i64) as u64)
            .sum();
        let cost = match prices {
            Some(prices) => self
                .pools
                .iter()
                .zip(prices)
                .map(|(p, price)| p.accounts as f64 * price)
                .sum(),
            None => slots as f64,
        };
        PointCost {
            slots,
            cost,
            held_back,
        }
    }
}

impl Scenario {
    /// Replications per point the recommendation may grow to in its decision rounds:
    /// `max_replications` when given, else `DECISION_CAP_FACTOR` x `replications` (capped
    /// at the global maximum). Equal to `replications` turns decision rounds off.
    pub fn decision_cap(&self) -> u32 {
        if self.max_replications_given {
            self.max_replications.max(self.replications)
        } else {
            self.replications
                .saturating_mul(DECISION_CAP_FACTOR)
                .min(MAX_REPLICATIONS)
        }
    }

    /// Whether a run adds replications adaptively (precision rounds or decision rounds),
    /// so that its work cannot be split in advance (e.g. across shards).
    pub fn adaptive_replications(&self) -> bool {
        self.precision.is_some() || (self.targets.any() && self.decision_cap() > self.replications)
    }

    /// The scenario with the point's parameter values substituted.
    pub fn model_at(&self, point: &Point) -> ModelConfig {
        let mut pools = self.pools.clone();
        let mut workload = self.workload.clone();
        let mut gateway = self.gateway.clone();
        for &(param, v) in &point.values {
            match param {
                Param::Reserved => pools.iter_mut().for_each(|p| p.reserved = v as i64),
                Param::Concurrency => pools.iter_mut().for_each(|p| p.concurrency = v as u32),
                Param::Accounts => pools.iter_mut().for_each(|p| p.accounts = v as u32),
                Param::Pool(i, key) => {
                    let p = &mut pools[i];
                    match key {
                        PoolKey::Accounts => p.accounts = v as u32,
                        PoolKey::Concurrency => p.concurrency = v as u32,
                        PoolKey::Reserved => p.reserved = v as i64,
                        PoolKey::MaxSessions => p.max_sessions = v as u32,
                        PoolKey::BaseRpm => p.base_rpm = v as u32,
                    }
                }
                Param::Gateway(key) => match key {
                    GatewayKey::SpilloverRebinds => gateway.spillover_rebinds = v != 0.0,
                    GatewayKey::StickyWait => gateway.sticky_wait = v != 0.0,
                    GatewayKey::StickyMaxWaiting => gateway.sticky_max_waiting = v as u32,
                    GatewayKey::FallbackMaxWaiting => gateway.fallback_max_waiting = v as u32,
                    GatewayKey::MaxAccountSwitches => gateway.max_account_switches = v as u32,
                },
                Param::Load => match &mut workload {
                    Workload::Sessions { arrival_rate, .. } => *arrival_rate *= v,
                    Workload::Trace { trace, .. } => trace.rate_scale *= v,
                    Workload::Open {
                        bound_rate,
                        new_rate,
                        ..
                    } => {
                        *bound_rate *= v;
                        *new_rate *= v;
                    }
                },
            }
        }
        ModelConfig {
            horizon: self.horizon,
            warmup: self.warmup,
            gateway,
            pools,
            workload,
            users: self.users.clone(),
            cost: self.cost,
        }
    }

    /// Some pool has upstream faults, a usage window, a session limit or an RPM limit
    /// (possibly only at some sweep points): migrations may have causes other than
    /// capacity.
    pub fn has_faults_or_limits(&self) -> bool {
        let swept = self.sweep.params.iter().any(|(p, values)| {
            matches!(p, Param::Pool(_, PoolKey::MaxSessions | PoolKey::BaseRpm))
                && values.iter().any(|&v| v > 0.0)
        });
        swept
            || self.pools.iter().any(|p| {
                p.faults.any() || p.window.is_some() || p.max_sessions > 0 || p.base_rpm > 0
            })
    }

    /// The `reserved` column at a point: the pools' common value there (after the
    /// all-pools and per-pool sweeps), or None when they differ.
    pub fn reserved_at(&self, point: &Point) -> Option<i64> {
        if point.values.is_empty() {
            return self.common_reserved();
        }
        let pools = self.model_at(point).pools;
        let first = pools.first()?.reserved;
        pools.iter().all(|p| p.reserved == first).then_some(first)
    }

    /// The value reported in the `reserved` column when it is not swept: the pools'
    /// common value, or None when they differ.
    pub fn common_reserved(&self) -> Option<i64> {
        let first = self.pools.first()?.reserved;
        self.pools
            .iter()
            .all(|p| p.reserved == first)
            .then_some(first)
    }

    /// The scenario in one or two sentences, for reports.
    pub fn words(&self) -> String {
        use crate::units::{format_secs, round_sig, time_to_secs};
        let pools: Vec<String> = self
            .pools
            .iter()
            .map(|p| {
                let mut extra = String::new();
                for kind in FaultKind::ALL {
                    let (q, r) = (
                        p.faults.per_request[kind as usize],
                        p.faults.per_account_hour[kind as usize],
                    );
                    if q > 0.0 {
                        extra += &format!(
                            ", {} faults on {}% of attempts",
                            kind.name(),
                            round_sig(q * 100.0, 4)
                        );
                    }
                    if r > 0.0 {
                        extra += &format!(
                            ", {} faults {} per account-hour",
                            kind.name(),
                            round_sig(r, 4)
                        );
                    }
                }
                if let Some(w) = &p.window {
                    extra += &format!(
                        ", usage window of {} requests per {}{}",
                        w.budget,
                        format_secs(time_to_secs(w.length)),
                        w.pause_after
                            .map(|n| format!(" (paused after {n})"))
                            .unwrap_or_default()
                    );
                }
                if p.max_sessions > 0 {
                    extra += &format!(
                        ", at most {} sessions per account (idle timeout {})",
                        p.max_sessions,
                        format_secs(time_to_secs(p.session_idle_timeout))
                    );
                }
                if p.base_rpm > 0 {
                    extra += &format!(
                        ", RPM limit {} ({}, sticky band {})",
                        p.base_rpm,
                        match p.rpm_strategy {
                            RpmStrategy::Tiered => "tiered",
                            RpmStrategy::StickyExempt => "sticky_exempt",
                        },
                        p.rpm_buffer()
                    );
                }
                format!(
                    "{} ({} accounts x {} slots, reserved {}, priority {}{extra})",
                    p.name, p.accounts, p.concurrency, p.reserved, p.priority
                )
            })
            .collect();
        let work = match &self.workload {
            Workload::Sessions {
                arrival_rate,
                periodic,
                requests_per_session,
                think_time,
                service_time,
                arrivals,
                agentic,
                context_tokens,
                context_growth,
                ..
            } => {
                let process = match arrivals.bursty_cv {
                    Some(cv) => format!("bursty, inter-arrival cv {}", round_sig(cv, 3)),
                    None if *periodic => "periodic".into(),
                    None => "Poisson".into(),
                };
                let profile = if arrivals.daily_profile.is_some() {
                    ", shaped over the day by the daily profile"
                } else {
                    ""
                };
                let shape = match agentic {
                    Some(a) => format!(
                        "agentic sessions: turns per session: {}; steps per turn: {}; tool time: {}; think time between turns: {}",
                        requests_per_session.describe(""),
                        a.steps_per_turn.describe(""),
                        a.tool_time.describe("s"),
                        think_time.describe("s")
                    ),
                    None => format!(
                        "requests per session: {}; think time: {}",
                        requests_per_session.describe(""),
                        think_time.describe("s")
                    ),
                };
                let context = match context_tokens {
                    Some(d) => format!(
                        "; context: {} tokens, plus {} per completed request",
                        d.describe(""),
                        round_sig(*context_growth, 4)
                    ),
                    None => String::new(),
                };
                format!(
                    "Sessions arrive at {}/min ({process}{profile}); {shape}; service time: {}{context}.",
                    round_sig(arrival_rate * 60.0, 4),
                    service_time.describe("s")
                )
            }
            Workload::Trace { trace, .. } => format!("{}.", trace.describe()),
            Workload::Open { bound_rate, new_rate, service_time } => format!(
                "Open mode: bound requests at {}/s and new-session requests at {}/s (Poisson); service time: {}.",
                round_sig(*bound_rate, 4),
                round_sig(*new_rate, 4),
                service_time.describe("s")
            ),
        };
        format!(
            "Pools: {}. {} Gateway: platform \"{}\", sticky TTL {}, wait \"{}\", sticky queue {} / fallback queue {}{}. \
             Horizon {} with warm-up {}, {}.",
            pools.join("; "),
            work,
            match self.gateway.platform {
                Platform::Anthropic => "anthropic",
                Platform::OpenAi => "openai",
            },
            format_secs(time_to_secs(self.gateway.sticky_ttl)),
            match self.gateway.wait {
                WaitMode::Poll => "poll",
                WaitMode::Fifo => "fifo",
            },
            self.gateway.sticky_max_waiting,
            self.gateway.fallback_max_waiting,
            {
                let g = &self.gateway;
                let mut extra = match &self.users {
                    Some(u) => format!("; {} users with at most {} requests in flight each", u.count, u.concurrency),
                    None => String::new(),
                };
                if self.pools.iter().any(|p| p.faults.any() || p.window.is_some()) {
                    extra += &format!(
                        "; cooldowns {} (429) and {} (529), up to {} account switches per request",
                        format_secs(time_to_secs(g.rate_limit_cooldown)),
                        format_secs(time_to_secs(g.overload_cooldown)),
                        g.max_account_switches
                    );
                }
                if !g.spillover_rebinds {
                    extra += "; spillover_rebinds = false";
                }
                if !g.sticky_wait {
                    extra += "; sticky_wait = false";
                }
                extra
            },
            format_secs(time_to_secs(self.horizon)),
            format_secs(time_to_secs(self.warmup)),
            match self.precision {
                Some(p) => format!(
                    "{} to {} replications per point (until every headline 95% CI is within {}% of its mean)",
                    self.replications,
                    self.max_replications,
                    round_sig(p * 100.0, 3)
                ),
                None => format!("{} replications per point", self.replications),
            }
        )
    }
}
