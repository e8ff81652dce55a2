//! Scenario files as written: every key optional at this level, unknown keys rejected.
//! [`super::validate`] turns these into a [`super::Scenario`] or a precise error.

use crate::units::Quantity;
use serde::Deserialize;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Option<String>,
    pub description: Option<String>,
    pub seed: Option<Quantity>,
    pub horizon: Option<Quantity>,
    pub warmup: Option<Quantity>,
    pub replications: Option<Quantity>,
    pub gateway: Option<RawGateway>,
    pub pools: Option<Vec<RawPool>>,
    pub workload: Option<RawWorkload>,
    pub users: Option<RawUsers>,
    pub cost: Option<RawCost>,
    pub sweep: Option<RawSweep>,
    pub targets: Option<RawTargets>,
    pub precision: Option<Quantity>,
    pub max_replications: Option<Quantity>,
    pub plan: Option<RawPlan>,
}

/// `[plan]`: what `slotsim plan` searches.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawPlan {
    pub pool: Option<String>,
    pub min_accounts: Option<Quantity>,
    pub max_accounts: Option<Quantity>,
    pub reserved: Option<Vec<Quantity>>,
    pub max_load: Option<Quantity>,
    pub load_step: Option<Quantity>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawGateway {
    pub platform: Option<String>,
    pub sticky_ttl: Option<Quantity>,
    pub sticky_max_waiting: Option<Quantity>,
    pub sticky_wait_timeout: Option<Quantity>,
    pub fallback_max_waiting: Option<Quantity>,
    pub fallback_wait_timeout: Option<Quantity>,
    pub fallback_selection: Option<String>,
    pub wait: Option<String>,
    pub max_account_switches: Option<Quantity>,
    pub poll_initial: Option<Quantity>,
    pub poll_multiplier: Option<Quantity>,
    pub poll_max: Option<Quantity>,
    pub poll_jitter: Option<Quantity>,
    pub spillover_rebinds: Option<bool>,
    pub sticky_wait: Option<bool>,
    pub rate_limit_cooldown: Option<Quantity>,
    pub overload_cooldown: Option<Quantity>,
    pub time_to_error: Option<RawDist>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPool {
    pub name: Option<String>,
    pub accounts: Option<Quantity>,
    pub concurrency: Option<Quantity>,
    pub reserved: Option<Quantity>,
    pub priority: Option<Quantity>,
    pub max_sessions: Option<Quantity>,
    pub session_idle_timeout: Option<Quantity>,
    pub base_rpm: Option<Quantity>,
    pub rpm_strategy: Option<String>,
    pub rpm_sticky_buffer: Option<Quantity>,
    pub window: Option<RawWindow>,
    pub faults: Option<RawFaults>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    pub length: Option<Quantity>,
    pub budget: Option<Quantity>,
    pub pause_at: Option<Quantity>,
    pub align: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawFaults {
    pub rate_limit: Option<RawFault>,
    pub overload: Option<RawFault>,
    pub auth_error: Option<RawFault>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub per_request: Option<Quantity>,
    pub per_account_hour: Option<Quantity>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArrival {
    pub process: Option<String>,
    pub rate: Option<Quantity>,
    pub cv: Option<Quantity>,
    pub daily_profile: Option<Vec<Quantity>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrace {
    pub file: Option<String>,
    pub format: Option<String>,
    pub rate_scale: Option<Quantity>,
    #[serde(rename = "loop")]
    pub looped: Option<bool>,
    /// "key" | "request" | a number of client sessions.
    pub sessions: Option<Quantity>,
    pub timestamp: Option<String>,
    pub session: Option<String>,
    pub service_time: Option<String>,
    pub input_tokens: Option<String>,
    pub output_tokens: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawCost {
    pub cache_ttl: Option<Quantity>,
    pub input_price_per_mtok: Option<Quantity>,
    pub cache_write_multiplier: Option<Quantity>,
    pub cache_read_multiplier: Option<Quantity>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawDist {
    pub dist: Option<String>,
    pub value: Option<Quantity>,
    pub mean: Option<Quantity>,
    pub median: Option<Quantity>,
    pub p95: Option<Quantity>,
    pub cv: Option<Quantity>,
    pub min: Option<Quantity>,
    pub max: Option<Quantity>,
    pub shape: Option<Quantity>,
    pub scale: Option<Quantity>,
    pub alpha: Option<Quantity>,
    /// Only inside a mixture's `components`.
    pub weight: Option<Quantity>,
    pub components: Option<Vec<RawDist>>,
    pub values: Option<Vec<Quantity>>,
    pub file: Option<String>,
    pub column: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub mode: Option<String>,
    pub arrival: Option<RawArrival>,
    pub requests_per_session: Option<RawDist>,
    pub think_time: Option<RawDist>,
    pub service_time: Option<RawDist>,
    pub client_retries: Option<Quantity>,
    pub client_retry_backoff: Option<Quantity>,
    pub bound_rate: Option<Quantity>,
    pub new_rate: Option<Quantity>,
    pub turns_per_session: Option<RawDist>,
    pub steps_per_turn: Option<RawDist>,
    pub tool_time: Option<RawDist>,
    pub context_tokens: Option<RawDist>,
    pub context_growth: Option<Quantity>,
    pub trace: Option<RawTrace>,
    pub ttft: Option<Quantity>,
    pub decode_rate: Option<Quantity>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUsers {
    pub count: Option<Quantity>,
    pub concurrency: Option<Quantity>,
    pub max_waiting: Option<Quantity>,
    pub wait_timeout: Option<Quantity>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    pub reserved: Option<Vec<Quantity>>,
    pub concurrency: Option<Vec<Quantity>>,
    pub accounts: Option<Vec<Quantity>>,
    pub load: Option<Vec<Quantity>>,
    pub baseline: Option<Quantity>,
    /// One pool's keys, by pool name.
    pub pools: Option<std::collections::BTreeMap<String, RawPoolSweep>>,
    pub gateway: Option<RawGatewaySweep>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawPoolSweep {
    pub accounts: Option<Vec<Quantity>>,
    pub concurrency: Option<Vec<Quantity>>,
    pub reserved: Option<Vec<Quantity>>,
    pub max_sessions: Option<Vec<Quantity>>,
    pub base_rpm: Option<Vec<Quantity>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawGatewaySweep {
    pub spillover_rebinds: Option<Vec<bool>>,
    pub sticky_wait: Option<Vec<bool>>,
    pub sticky_max_waiting: Option<Vec<Quantity>>,
    pub fallback_max_waiting: Option<Vec<Quantity>>,
    pub max_account_switches: Option<Vec<Quantity>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawTargets {
    pub continuity_failure_rate: Option<Quantity>,
    pub new_session_rejection_rate: Option<Quantity>,
    pub cache_move_cost_usd_per_hour: Option<Quantity>,
    pub cache_move_cost_usd_per_1k_requests: Option<Quantity>,
    /// Price of one account of each pool, by pool name (any currency).
    pub price_per_account: Option<std::collections::BTreeMap<String, Quantity>>,
}
