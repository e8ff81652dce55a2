//! Turns a [`RawScenario`] into a [`Scenario`], or an error naming the key path, the bad
//! value and what is allowed.

use super::raw::*;
use super::*;
use crate::units::{duration_secs, plain_number, rate_per_sec, secs_to_time, Quantity};

/// The longest horizon: per-minute series are kept for it (about 0.5 M minutes).
pub const MAX_HORIZON_S: f64 = 366.0 * 86400.0;

/// The most replications per point.
pub const MAX_REPLICATIONS: u32 = 100_000;

/// The fastest rate a scenario may state, per second (a million arrivals a second is far
/// beyond any gateway; a simulation of it would not finish).
pub const MAX_RATE_PER_S: f64 = 1e6;

/// The most users of `[users] count`.
pub const MAX_USERS: u32 = 10_000_000;

/// The most pools.
pub const MAX_POOLS: usize = 1000;

/// The most values in one sweep list.
pub const MAX_SWEEP_VALUES: usize = 10_000;

/// The most sweep points.
pub const MAX_POINTS: usize = 100_000;

/// The most client retries of one request.
pub const MAX_CLIENT_RETRIES: i64 = 1000;

/// The longest scenario name (it names a folder).
pub const MAX_NAME_CHARS: usize = 100;

/// Parses and validates scenario text; `file` names it in errors.
pub fn parse_scenario(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
    let de = toml::Deserializer::new(text);
    let raw: RawScenario = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.message().trim().to_string();
        match inner.span() {
            Some(span) if path == "." || path.is_empty() || is_syntax(&message) => {
                let (line, column) = line_col(text, span.start);
                // Name the key the line assigns, when it assigns one.
                let key = text
                    .lines()
                    .nth(line.saturating_sub(1))
                    .and_then(|l| l.split_once('='))
                    .map(|(k, _)| k.trim())
                    .filter(|k| {
                        !k.is_empty()
                            && k.chars()
                                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                    });
                let message = match key {
                    Some(k) => format!("{message} (the value of `{k}`)"),
                    None => message,
                };
                ScenarioError::Syntax {
                    file: file.to_string(),
                    line,
                    column,
                    message,
                }
            }
            Some(span) => {
                let (line, column) = line_col(text, span.start);
                ScenarioError::Invalid {
                    file: file.to_string(),
                    path,
                    message: format!("{message} (line {line}, column {column})"),
                }
            }
            None => ScenarioError::Invalid {
                file: file.to_string(),
                path,
                message,
            },
        }
    })?;
    Validator { file }.scenario(raw, text)
}

fn is_syntax(message: &str) -> bool {
    // Messages of the TOML parser itself, as opposed to type errors of a known key.
    let m = message.to_ascii_lowercase();
    m.contains("expected") && !m.contains("invalid type") && !m.contains("unknown")
        || m.contains("duplicate key")
        || m.contains("invalid")
            && !m.contains("invalid type")
            && !m.contains("invalid value")
            && !m.contains("invalid length")
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// What a distribution fills: its parameters' unit and the values it may give.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    /// Seconds; parameters are durations.
    Time,
    /// Whole numbers >= 1.
    Count,
    /// Plain non-negative numbers (tokens).
    Amount,
}

struct Validator<'a> {
    file: &'a str,
}

type R<T> = Result<T, ScenarioError>;

impl Validator<'_> {
    fn err(&self, path: &str, message: String) -> ScenarioError {
        ScenarioError::Invalid {
            file: self.file.to_string(),
            path: path.to_string(),
            message,
        }
    }

    fn bad(&self, path: &str, q: &Quantity, why: &str) -> ScenarioError {
        self.err(path, format!("{q} {why}"))
    }

    /// A whole number in [min, max].
    fn int(&self, path: &str, q: &Quantity, min: i64, max: i64) -> R<i64> {
        let v = match q {
            Quantity::Int(i) => *i,
            Quantity::Float(x) if x.fract() == 0.0 && x.is_finite() && x.abs() < 9e15 => *x as i64,
            _ => {
                return Err(self.bad(
                    path,
                    q,
                    &format!("is not allowed: must be a whole number from {min} to {max}"),
                ))
            }
        };
        if v < min || v > max {
            return Err(self.bad(
                path,
                q,
                &format!("is out of range: must be a whole number from {min} to {max}"),
            ));
        }
        Ok(v)
    }

    fn opt_int(
        &self,
        path: &str,
        q: &Option<Quantity>,
        default: i64,
        min: i64,
        max: i64,
    ) -> R<i64> {
        q.as_ref()
            .map_or(Ok(default), |q| self.int(path, q, min, max))
    }

    fn count(&self, path: &str, q: &Option<Quantity>, default: u32, min: u32) -> R<u32> {
        Ok(self.opt_int(path, q, default as i64, min as i64, u32::MAX as i64)? as u32)
    }

    /// A duration in seconds; `positive` demands > 0, otherwise >= 0.
    fn secs(&self, path: &str, q: &Quantity, positive: bool) -> R<f64> {
        let s = duration_secs(q).map_err(|why| self.bad(path, q, &why))?;
        if s < 0.0 || (positive && s == 0.0) {
            let what = if positive { "> 0" } else { ">= 0" };
            return Err(self.bad(
                path,
                q,
                &format!("is not allowed: the duration must be {what}"),
            ));
        }
        if s > 1e9 {
            return Err(self.bad(
                path,
                q,
                "is too long: durations are limited to 1e9 seconds (about 31 years)",
            ));
        }
        Ok(s)
    }

    fn duration(
        &self,
        path: &str,
        q: &Option<Quantity>,
        default_s: f64,
        positive: bool,
    ) -> R<Time> {
        let s = match q {
            Some(q) => self.secs(path, q, positive)?,
            None => default_s,
        };
        Ok(secs_to_time(s))
    }

    fn rate(&self, path: &str, q: &Quantity) -> R<f64> {
        let r = rate_per_sec(q).map_err(|why| self.bad(path, q, &why))?;
        if r < 0.0 {
            return Err(self.bad(path, q, "is not allowed: rates must be >= 0"));
        }
        if r > MAX_RATE_PER_S {
            return Err(self.bad(
                path,
                q,
                &format!("is too fast: rates are limited to {MAX_RATE_PER_S:e} per second"),
            ));
        }
        Ok(r)
    }

    fn number(&self, path: &str, q: &Quantity, lo: f64, hi: f64) -> R<f64> {
        let x = plain_number(q).map_err(|why| self.bad(path, q, &why))?;
        if !(lo..=hi).contains(&x) {
            return Err(self.bad(
                path,
                q,
                &format!("is out of range: must be a number from {lo} to {hi}"),
            ));
        }
        Ok(x)
    }

    fn choice<T: Copy>(
        &self,
        path: &str,
        s: &Option<String>,
        default: T,
        options: &[(&str, T)],
    ) -> R<T> {
        let Some(s) = s else { return Ok(default) };
        options
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                let allowed: Vec<String> =
                    options.iter().map(|(n, _)| format!("\"{n}\"")).collect();
                self.err(
                    path,
                    format!(
                        "{s:?} is not allowed: must be one of {}",
                        allowed.join(", ")
                    ),
                )
            })
    }

    fn scenario(&self, raw: RawScenario, text: &str) -> R<Scenario> {
        let name = match raw.name {
            Some(n) => {
                if n.chars().count() > MAX_NAME_CHARS {
                    return Err(self.err(
                        "name",
                        format!("is {} characters long: at most {MAX_NAME_CHARS} (it names the output folder)", n.chars().count()),
                    ));
                }
                let ok = !n.is_empty()
                    && n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    && n != "."
                    && n != "..";
                if !ok {
                    return Err(self.err(
                        "name",
                        format!("{n:?} is not allowed: it names the output folder, so use letters, digits, '-', '_' or '.'"),
                    ));
                }
                n
            }
            None => default_name(self.file),
        };
        let seed = match &raw.seed {
            Some(q) => self.int("seed", q, 0, i64::MAX)? as u64,
            None => 1,
        };
        let horizon_q = raw.horizon.as_ref().ok_or_else(|| {
            self.err(
                "horizon",
                "is missing: give the simulated time per replication, e.g. horizon = \"6h\"".into(),
            )
        })?;
        let horizon_s = self.secs("horizon", horizon_q, true)?;
        if horizon_s > MAX_HORIZON_S {
            return Err(self.bad(
                "horizon",
                horizon_q,
                "is too long: at most \"366d\" of simulated time per replication",
            ));
        }
        let warmup_s = match &raw.warmup {
            Some(q) => self.secs("warmup", q, false)?,
            None => 0.0,
        };
        if warmup_s >= horizon_s {
            let q = raw
                .warmup
                .as_ref()
                .expect("warm-up >= horizon > 0 implies it was given");
            return Err(self.bad(
                "warmup",
                q,
                &format!(
                    "is not allowed: the warm-up must be shorter than the horizon ({horizon_q})"
                ),
            ));
        }
        let replications = self.opt_int(
            "replications",
            &raw.replications,
            10,
            1,
            MAX_REPLICATIONS as i64,
        )? as u32;
        let switches_given = raw
            .gateway
            .as_ref()
            .is_some_and(|g| g.max_account_switches.is_some());
        let gateway = self.gateway(raw.gateway.unwrap_or_default())?;
        let pools = self.pools(raw.pools)?;
        let workload = self.workload(raw.workload)?;
        let users = raw.users.map(|u| self.users(u)).transpose()?;
        let cost_given = raw.cost.is_some();
        let cost = self.cost(raw.cost)?;
        let sweep = self.sweep(raw.sweep.unwrap_or_default(), &pools, &workload)?;
        let plan = self.plan(raw.plan.unwrap_or_default(), &pools)?;
        let mut raw_targets = raw.targets.unwrap_or_default();
        let account_prices = self.prices(raw_targets.price_per_account.take(), &pools)?;
        let targets = self.targets(raw_targets)?;
        let precision = raw
            .precision
            .as_ref()
            .map(|q| self.number("precision", q, 1e-6, 10.0))
            .transpose()?;
        let max_replications_given = raw.max_replications.is_some();
        let max_replications = self.opt_int(
            "max_replications",
            &raw.max_replications,
            200,
            1,
            MAX_REPLICATIONS as i64,
        )? as u32;
        if (precision.is_some() || max_replications_given) && max_replications < replications {
            return Err(self.err(
                "max_replications",
                format!("{max_replications} is not allowed: it must be >= replications ({replications})"),
            ));
        }

        if matches!(workload, Workload::Open { .. }) {
            if let Some(i) = pools.iter().position(|p| p.max_sessions > 0) {
                return Err(self.err(
                    &format!("pools[{i}].max_sessions"),
                    format!("{} is not allowed in mode = \"open\": the session limit needs sessions (open-mode requests have none)", pools[i].max_sessions),
                ));
            }
        }
        let mut scenario = Scenario {
            name,
            description: raw.description.unwrap_or_default(),
            file: self.file.to_string(),
            source: text.to_string(),
            seed,
            horizon: secs_to_time(horizon_s),
            warmup: secs_to_time(warmup_s),
            replications,
            gateway,
            pools,
            workload,
            users,
            cost,
            cost_given,
            sweep,
            targets,
            precision,
            max_replications,
            max_replications_given,
            account_prices,
            plan,
            notes: Vec::new(),
        };
        scenario.notes = notes(&scenario);
        if switches_given
            && !scenario
                .pools
                .iter()
                .any(|p| p.faults.any() || p.window.is_some())
        {
            scenario.notes.push(
                "gateway.max_account_switches has no effect: no pool has faults or a usage window, so no attempt fails and no request switches accounts".into(),
            );
        }
        Ok(scenario)
    }

    fn gateway(&self, g: RawGateway) -> R<GatewayConfig> {
        let d = GatewayConfig::default();
        let ms = |t: Time| t as f64 / 1e6;
        let poll = PollConfig {
            initial_s: match &g.poll_initial {
                Some(q) => self.secs("gateway.poll_initial", q, true)?,
                None => d.poll.initial_s,
            },
            multiplier: match &g.poll_multiplier {
                Some(q) => self.number("gateway.poll_multiplier", q, 1.0, 100.0)?,
                None => d.poll.multiplier,
            },
            max_s: match &g.poll_max {
                Some(q) => self.secs("gateway.poll_max", q, true)?,
                None => d.poll.max_s,
            },
            jitter: match &g.poll_jitter {
                Some(q) => self.number("gateway.poll_jitter", q, 0.0, 0.99)?,
                None => d.poll.jitter,
            },
        };
        if poll.initial_s > poll.max_s {
            return Err(self.err(
                "gateway.poll_initial",
                format!(
                    "{} s is not allowed: it must be <= gateway.poll_max ({} s), which caps every delay",
                    poll.initial_s, poll.max_s
                ),
            ));
        }
        Ok(GatewayConfig {
            platform: self.choice(
                "gateway.platform",
                &g.platform,
                d.platform,
                &[
                    ("anthropic", Platform::Anthropic),
                    ("openai", Platform::OpenAi),
                ],
            )?,
            sticky_ttl: self.duration(
                "gateway.sticky_ttl",
                &g.sticky_ttl,
                ms(d.sticky_ttl),
                true,
            )?,
            sticky_max_waiting: self.count(
                "gateway.sticky_max_waiting",
                &g.sticky_max_waiting,
                d.sticky_max_waiting,
                0,
            )?,
            sticky_wait_timeout: self.duration(
                "gateway.sticky_wait_timeout",
                &g.sticky_wait_timeout,
                ms(d.sticky_wait_timeout),
                false,
            )?,
            fallback_max_waiting: self.count(
                "gateway.fallback_max_waiting",
                &g.fallback_max_waiting,
                d.fallback_max_waiting,
                0,
            )?,
            fallback_wait_timeout: self.duration(
                "gateway.fallback_wait_timeout",
                &g.fallback_wait_timeout,
                ms(d.fallback_wait_timeout),
                false,
            )?,
            fallback_selection: self.choice(
                "gateway.fallback_selection",
                &g.fallback_selection,
                d.fallback_selection,
                &[
                    ("last_used", FallbackSelection::LastUsed),
                    ("random", FallbackSelection::Random),
                ],
            )?,
            wait: self.choice(
                "gateway.wait",
                &g.wait,
                d.wait,
                &[("poll", WaitMode::Poll), ("fifo", WaitMode::Fifo)],
            )?,
            max_account_switches: self.count(
                "gateway.max_account_switches",
                &g.max_account_switches,
                d.max_account_switches,
                0,
            )?,
            poll,
            spillover_rebinds: g.spillover_rebinds.unwrap_or(d.spillover_rebinds),
            sticky_wait: g.sticky_wait.unwrap_or(d.sticky_wait),
            rate_limit_cooldown: self.duration(
                "gateway.rate_limit_cooldown",
                &g.rate_limit_cooldown,
                ms(d.rate_limit_cooldown),
                false,
            )?,
            overload_cooldown: self.duration(
                "gateway.overload_cooldown",
                &g.overload_cooldown,
                ms(d.overload_cooldown),
                false,
            )?,
            time_to_error: match &g.time_to_error {
                Some(dist) => self.dist("gateway.time_to_error", dist, Field::Time)?,
                None => d.time_to_error,
            },
        })
    }

    fn pools(&self, pools: Option<Vec<RawPool>>) -> R<Vec<PoolConfig>> {
        let pools = pools.unwrap_or_default();
        if pools.is_empty() {
            return Err(self.err(
                "pools",
                "is missing or empty: add at least one [[pools]] table with accounts and concurrency".into(),
            ));
        }
        if pools.len() > MAX_POOLS {
            return Err(self.err(
                "pools",
                format!("has {} pools: at most {MAX_POOLS}", pools.len()),
            ));
        }
        let mut out = Vec::with_capacity(pools.len());
        for (i, p) in pools.into_iter().enumerate() {
            let at = |k: &str| format!("pools[{i}].{k}");
            let accounts_q = p.accounts.as_ref().ok_or_else(|| {
                self.err(
                    &at("accounts"),
                    "is missing: how many accounts this pool has (>= 1)".into(),
                )
            })?;
            let accounts = self.int(&at("accounts"), accounts_q, 1, 1_000_000)? as u32;
            let concurrency = match &p.concurrency {
                Some(q) => {
                    let c = match q {
                        Quantity::Int(c) if *c <= 0 => {
                            return Err(self.bad(
                                &at("concurrency"),
                                q,
                                "is not allowed: concurrency must be >= 1 (sub2api's \"unlimited\" C <= 0 is not modelled)",
                            ))
                        }
                        _ => self.int(&at("concurrency"), q, 1, 1_000_000)?,
                    };
                    c as u32
                }
                None => 3,
            };
            let reserved = self.opt_int(&at("reserved"), &p.reserved, 0, -1_000_000, 1_000_000)?;
            let priority = self.opt_int(
                &at("priority"),
                &p.priority,
                50,
                -1_000_000_000,
                1_000_000_000,
            )?;
            let max_sessions = self.count(&at("max_sessions"), &p.max_sessions, 0, 0)?;
            let session_idle_timeout = self.duration(
                &at("session_idle_timeout"),
                &p.session_idle_timeout,
                300.0,
                true,
            )?;
            let base_rpm = self.count(&at("base_rpm"), &p.base_rpm, 0, 0)?;
            let rpm_strategy = self.choice(
                &at("rpm_strategy"),
                &p.rpm_strategy,
                RpmStrategy::Tiered,
                &[
                    ("tiered", RpmStrategy::Tiered),
                    ("sticky_exempt", RpmStrategy::StickyExempt),
                ],
            )?;
            let rpm_sticky_buffer = p
                .rpm_sticky_buffer
                .as_ref()
                .map(|q| self.int(&at("rpm_sticky_buffer"), q, 0, u32::MAX as i64))
                .transpose()?
                .map(|b| b as u32);
            let window = p
                .window
                .as_ref()
                .map(|w| self.window(&at("window"), w))
                .transpose()?;
            let faults = match &p.faults {
                Some(f) => self.faults(&at("faults"), f)?,
                None => PoolFaults::default(),
            };
            let named = p.name.is_some();
            let name = p.name.unwrap_or_else(|| format!("pool{i}"));
            // `plan --pool`, [plan] pool, price_per_account and sweep.pools pick a pool by
            // name: with two of one name they would pick one silently.
            if let Some(j) = out.iter().position(|q: &PoolConfig| q.name == name) {
                return Err(self.err(
                    &at("name"),
                    format!(
                        "{name:?}{} is also the name of pools[{j}]: give each pool a distinct name (pools are picked by name)",
                        if named { "" } else { " (the name of an unnamed pool)" }
                    ),
                ));
            }
            out.push(PoolConfig {
                name,
                accounts,
                concurrency,
                reserved,
                priority,
                faults,
                max_sessions,
                session_idle_timeout,
                base_rpm,
                rpm_strategy,
                rpm_sticky_buffer,
                window,
            });
        }
        let total: u64 = out.iter().map(|p| p.accounts as u64).sum();
        if total > 1_000_000 {
            return Err(self.err(
                "pools",
                format!("{total} accounts in all is too many: at most 1000000"),
            ));
        }
        Ok(out)
    }

    fn window(&self, path: &str, w: &RawWindow) -> R<WindowConfig> {
        let length = self.duration(&format!("{path}.length"), &w.length, 5.0 * 3600.0, true)?;
        let bq = w.budget.as_ref().ok_or_else(|| {
            self.err(
                &format!("{path}.budget"),
                "is missing: how many requests an account may complete per window, e.g. 900".into(),
            )
        })?;
        let budget = self.int(&format!("{path}.budget"), bq, 1, i64::MAX)? as u64;
        let pause_after = match &w.pause_at {
            Some(q) => {
                let p = format!("{path}.pause_at");
                let f = self.number(&p, q, 0.0, 1.0)?;
                if f <= 0.0 {
                    return Err(self.bad(&p, q, "is not allowed: pause_at must be > 0 and <= 1"));
                }
                // ceil(f x budget) of the exact product: a binary product a hair above a
                // whole number (0.07 x 100 = 7.000000000000001) is that number.
                let x = f * budget as f64;
                let whole = x.round();
                let n = if (x - whole).abs() <= 1e-9 * whole.max(1.0) {
                    whole
                } else {
                    x.ceil()
                };
                Some((n as u64).max(1))
            }
            None => None,
        };
        let align_hour = self.choice(
            &format!("{path}.align"),
            &w.align,
            false,
            &[("request", false), ("hour", true)],
        )?;
        if align_hour && length < 3_600_000_000 {
            return Err(self.err(
                &format!("{path}.length"),
                format!(
                    "{} s is not allowed with align = \"hour\": a window aligned to the hour must last at least 1h",
                    length as f64 / 1e6
                ),
            ));
        }
        Ok(WindowConfig {
            length,
            budget,
            pause_after,
            align_hour,
        })
    }

    fn faults(&self, path: &str, f: &RawFaults) -> R<PoolFaults> {
        let mut out = PoolFaults::default();
        let kinds = [
            (FaultKind::RateLimit, &f.rate_limit),
            (FaultKind::Overload, &f.overload),
            (FaultKind::AuthError, &f.auth_error),
        ];
        for (kind, raw) in kinds {
            let Some(raw) = raw else { continue };
            let at = |k: &str| format!("{path}.{}.{k}", kind.name());
            if raw.per_request.is_none() && raw.per_account_hour.is_none() {
                return Err(self.err(
                    &format!("{path}.{}", kind.name()),
                    "is empty: give per_request (a probability per attempt) or per_account_hour (events per account and hour)".into(),
                ));
            }
            if let Some(q) = &raw.per_request {
                out.per_request[kind as usize] = self.number(&at("per_request"), q, 0.0, 1.0)?;
            }
            if let Some(q) = &raw.per_account_hour {
                out.per_account_hour[kind as usize] =
                    self.number(&at("per_account_hour"), q, 0.0, 1e6)?;
            }
        }
        let total: f64 = out.per_request.iter().sum();
        // Decimal probabilities that add up to exactly 1 may sum a few ulps above it in
        // binary (0.33 + 0.56 + 0.11): only a sum above 1 by more than rounding is an error.
        if total > 1.0 + 1e-12 {
            return Err(self.err(
                path,
                format!("per_request probabilities add up to {total}: their sum must be <= 1 (one draw decides which fault, if any, an attempt meets)"),
            ));
        }
        Ok(out)
    }

    fn dist(&self, path: &str, d: &RawDist, field: Field) -> R<Dist> {
        const KINDS: &str = "\"constant\", \"exponential\", \"lognormal\", \"uniform\", \"gamma\", \"weibull\", \"bounded_pareto\", \"mixture\", \"empirical\" (times and amounts); \"constant\", \"geometric\", \"negative_binomial\", \"empirical\", \"mixture\" (counts)";
        let kind = d.dist.as_deref().ok_or_else(|| {
            self.err(
                &format!("{path}.dist"),
                format!("is missing: one of {KINDS}"),
            )
        })?;
        let fields: [(&str, &Option<Quantity>); 10] = [
            ("value", &d.value),
            ("mean", &d.mean),
            ("median", &d.median),
            ("p95", &d.p95),
            ("cv", &d.cv),
            ("min", &d.min),
            ("max", &d.max),
            ("shape", &d.shape),
            ("scale", &d.scale),
            ("alpha", &d.alpha),
        ];
        if d.weight.is_some() {
            return Err(self.err(
                &format!("{path}.weight"),
                "is allowed only in a component of a mixture".into(),
            ));
        }
        let allowed: &[&[&str]] = match kind {
            "constant" => &[&["value"]],
            "exponential" => &[&["mean"]],
            "lognormal" => &[&["median", "p95"], &["mean", "cv"]],
            "uniform" => &[&["min", "max"]],
            "geometric" => &[&["mean"]],
            "gamma" => &[&["mean", "cv"]],
            "weibull" => &[&["shape", "scale"], &["median", "shape"]],
            "bounded_pareto" => &[&["alpha", "min", "max"]],
            "negative_binomial" => &[&["mean", "cv"]],
            "mixture" => &[&["components"]],
            "empirical" => &[&["values"], &["file", "column"]],
            other => {
                return Err(self.err(
                    &format!("{path}.dist"),
                    format!("{other:?} is not allowed: must be one of {KINDS}"),
                ))
            }
        };
        let count_kind = matches!(kind, "geometric" | "negative_binomial");
        let any_kind = matches!(kind, "constant" | "empirical" | "mixture");
        if field == Field::Count && !count_kind && !any_kind {
            return Err(self.err(
                &format!("{path}.dist"),
                format!("{kind:?} is not allowed for a count: use \"constant\", \"geometric\", \"negative_binomial\", \"empirical\" or a \"mixture\" of these"),
            ));
        }
        if field != Field::Count && count_kind {
            return Err(self.err(
                &format!("{path}.dist"),
                format!("{kind:?} is for counts; for a time or an amount use \"exponential\", \"lognormal\", \"gamma\", \"weibull\", \"bounded_pareto\", \"uniform\", \"constant\", \"empirical\" or \"mixture\""),
            ));
        }
        let mut given: Vec<&str> = fields
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| *k)
            .collect();
        for (k, present) in [
            ("components", d.components.is_some()),
            ("values", d.values.is_some()),
            ("file", d.file.is_some()),
            ("column", d.column.is_some()),
        ] {
            if present {
                given.push(k);
            }
        }
        let Some(set) = allowed
            .iter()
            .find(|set| set.len() == given.len() && set.iter().all(|k| given.contains(k)))
        else {
            let want: Vec<String> = allowed
                .iter()
                .map(|s| format!("{{{}}}", s.join(", ")))
                .collect();
            return Err(self.err(
                path,
                format!(
                    "a {kind:?} distribution takes exactly {} (got {{{}}})",
                    want.join(" or "),
                    given.join(", ")
                ),
            ));
        };
        // Dimensionless parameters; the others are in the unit of the field.
        let plain = |k: &str| matches!(k, "cv" | "shape" | "alpha");
        let val = |k: &str| -> R<f64> {
            let q = fields
                .iter()
                .find(|(n, _)| *n == k)
                .and_then(|(_, v)| v.as_ref())
                .expect("checked above");
            let p = format!("{path}.{k}");
            if plain(k) || field != Field::Time {
                self.number(&p, q, 0.0, 1e12)
            } else {
                self.secs(&p, q, false)
            }
        };
        let (made, param) = match (kind, set[0]) {
            ("constant", _) => (Dist::constant(val("value")?), "value"),
            ("exponential", _) => (Dist::exponential(val("mean")?), "mean"),
            ("lognormal", "median") => {
                (Dist::lognormal_median_p95(val("median")?, val("p95")?), "")
            }
            ("lognormal", _) => (Dist::lognormal_mean_cv(val("mean")?, val("cv")?), ""),
            ("uniform", _) => (Dist::uniform(val("min")?, val("max")?), ""),
            ("geometric", _) => (Dist::geometric(val("mean")?), "mean"),
            ("gamma", _) => (Dist::gamma_mean_cv(val("mean")?, val("cv")?), ""),
            ("weibull", "shape") => (Dist::weibull(val("shape")?, val("scale")?), ""),
            ("weibull", _) => (Dist::weibull_median(val("median")?, val("shape")?), ""),
            ("bounded_pareto", _) => (
                Dist::bounded_pareto(val("alpha")?, val("min")?, val("max")?),
                "",
            ),
            ("negative_binomial", _) => (Dist::negative_binomial(val("mean")?, val("cv")?), ""),
            ("mixture", _) => {
                let comps = d.components.as_ref().expect("checked above");
                let mut parts = Vec::with_capacity(comps.len());
                for (i, c) in comps.iter().enumerate() {
                    let cp = format!("{path}.components[{i}]");
                    let wq = c.weight.as_ref().ok_or_else(|| {
                        self.err(
                            &format!("{cp}.weight"),
                            "is missing: each component of a mixture has a weight > 0".into(),
                        )
                    })?;
                    let w = self.number(&format!("{cp}.weight"), wq, 0.0, 1e12)?;
                    if w <= 0.0 {
                        return Err(self.bad(
                            &format!("{cp}.weight"),
                            wq,
                            "is not allowed: a weight must be > 0",
                        ));
                    }
                    let inner = RawDist {
                        weight: None,
                        ..c.clone()
                    };
                    parts.push((w, self.dist(&cp, &inner, field)?));
                }
                (Dist::mixture(parts), "components")
            }
            ("empirical", "values") => {
                let list = d.values.as_ref().expect("checked above");
                let mut xs = Vec::with_capacity(list.len());
                for (i, q) in list.iter().enumerate() {
                    let p = format!("{path}.values[{i}]");
                    xs.push(if field == Field::Time {
                        self.secs(&p, q, false)?
                    } else {
                        self.number(&p, q, 0.0, 1e15)?
                    });
                }
                (Dist::empirical(xs, "a list".into()), "values")
            }
            ("empirical", _) => {
                let file = d.file.as_ref().expect("checked above");
                let column = d.column.as_ref().expect("checked above");
                let resolved = self.resolve(file);
                let xs = crate::trace::read_column(&resolved, column)
                    .map_err(|e| self.err(&format!("{path}.file"), e))?;
                (
                    Dist::empirical(xs, format!("{file}, column {column:?}")),
                    "file",
                )
            }
            _ => unreachable!("every kind has its parameter sets"),
        };
        let at = if param.is_empty() {
            path.to_string()
        } else {
            format!("{path}.{param}")
        };
        let made = made.map_err(|why| self.err(&at, why))?;
        if field == Field::Count && !made.is_count() {
            return Err(self.err(
                &at,
                "is not allowed: a count must be a whole number >= 1 (every value of the distribution)".into(),
            ));
        }
        Ok(made)
    }

    /// A path from the scenario file: relative paths are taken from the scenario file's
    /// own folder, so a scenario runs from any working directory.
    fn resolve(&self, file: &str) -> std::path::PathBuf {
        let p = Path::new(file);
        if p.is_absolute() {
            return p.to_path_buf();
        }
        match Path::new(self.file).parent() {
            Some(dir) => dir.join(p),
            None => p.to_path_buf(),
        }
    }

    fn workload(&self, w: Option<RawWorkload>) -> R<Workload> {
        let w =
            w.ok_or_else(|| self.err("workload", "is missing: add a [workload] table".into()))?;
        #[derive(Clone, Copy)]
        enum Mode {
            Sessions,
            Open,
            Trace,
        }
        let mode = self.choice(
            "workload.mode",
            &w.mode,
            Mode::Sessions,
            &[
                ("sessions", Mode::Sessions),
                ("open", Mode::Open),
                ("trace", Mode::Trace),
            ],
        )?;
        let service = |w: &RawWorkload| -> R<Dist> {
            let d = w.service_time.as_ref().ok_or_else(|| {
                self.err(
                    "workload.service_time",
                    "is missing: e.g. { dist = \"lognormal\", median = \"10s\", p95 = \"60s\" }"
                        .into(),
                )
            })?;
            self.dist("workload.service_time", d, Field::Time)
        };
        let forbid = |present: bool, key: &str, mode: &str| -> R<()> {
            if present {
                Err(self.err(
                    &format!("workload.{key}"),
                    format!("is not used in mode = \"{mode}\": remove it"),
                ))
            } else {
                Ok(())
            }
        };
        match mode {
            Mode::Sessions => {
                forbid(w.bound_rate.is_some(), "bound_rate", "sessions")?;
                forbid(w.new_rate.is_some(), "new_rate", "sessions")?;
                let a = w.arrival.as_ref().ok_or_else(|| {
                    self.err(
                        "workload.arrival",
                        "is missing: e.g. { process = \"poisson\", rate = \"40/min\" }".into(),
                    )
                })?;
                #[derive(Clone, Copy, PartialEq)]
                enum Process {
                    Poisson,
                    Periodic,
                    Bursty,
                }
                let process = self.choice(
                    "workload.arrival.process",
                    &a.process,
                    Process::Poisson,
                    &[
                        ("poisson", Process::Poisson),
                        ("periodic", Process::Periodic),
                        ("bursty", Process::Bursty),
                    ],
                )?;
                let periodic = process == Process::Periodic;
                let bursty_cv = match (&a.cv, process) {
                    (Some(q), Process::Bursty) => {
                        let cv = self.number("workload.arrival.cv", q, 0.0, 1000.0)?;
                        if cv < 0.01 {
                            return Err(self.bad(
                                "workload.arrival.cv",
                                q,
                                "is not allowed: the inter-arrival cv must be from 0.01 to 1000 (above 1 is bursty)",
                            ));
                        }
                        Some(cv)
                    }
                    (None, Process::Bursty) => {
                        return Err(self.err(
                            "workload.arrival.cv",
                            "is missing: a bursty process needs its inter-arrival coefficient of variation, e.g. cv = 4".into(),
                        ))
                    }
                    (Some(_), _) => {
                        return Err(self.err(
                            "workload.arrival.cv",
                            "is used only with process = \"bursty\": remove it or set the process".into(),
                        ))
                    }
                    (None, _) => None,
                };
                let daily_profile = a
                    .daily_profile
                    .as_ref()
                    .map(|list| self.daily_profile(list))
                    .transpose()?;
                let rq = a.rate.as_ref().ok_or_else(|| {
                    self.err(
                        "workload.arrival.rate",
                        "is missing: e.g. \"40/min\"".into(),
                    )
                })?;
                let arrival_rate = self.rate("workload.arrival.rate", rq)?;
                if arrival_rate <= 0.0 {
                    return Err(self.bad(
                        "workload.arrival.rate",
                        rq,
                        "is not allowed: the session arrival rate must be > 0",
                    ));
                }
                let agentic_keys = w.turns_per_session.is_some()
                    || w.steps_per_turn.is_some()
                    || w.tool_time.is_some();
                let (requests_per_session, agentic) = if agentic_keys {
                    if w.requests_per_session.is_some() {
                        return Err(self.err(
                            "workload.requests_per_session",
                            "is not allowed together with turns_per_session, steps_per_turn or tool_time: an agentic session's requests are its turns' steps; remove one or the other".into(),
                        ));
                    }
                    let need = |key: &str,
                                d: &Option<RawDist>,
                                field: Field,
                                eg: &str|
                     -> R<Dist> {
                        let path = format!("workload.{key}");
                        let d = d.as_ref().ok_or_else(|| {
                            self.err(&path, format!("is missing: agentic sessions need turns_per_session, steps_per_turn and tool_time, e.g. {eg}"))
                        })?;
                        self.dist(&path, d, field)
                    };
                    let turns = need(
                        "turns_per_session",
                        &w.turns_per_session,
                        Field::Count,
                        "{ dist = \"negative_binomial\", mean = 9.2, cv = 3.5 }",
                    )?;
                    let steps = need(
                        "steps_per_turn",
                        &w.steps_per_turn,
                        Field::Count,
                        "{ dist = \"geometric\", mean = 8.8 }",
                    )?;
                    let tool = need(
                        "tool_time",
                        &w.tool_time,
                        Field::Time,
                        "{ dist = \"lognormal\", median = \"0.3s\", p95 = \"40s\" }",
                    )?;
                    (
                        turns,
                        Some(Agentic {
                            steps_per_turn: steps,
                            tool_time: tool,
                        }),
                    )
                } else {
                    let rps = w.requests_per_session.as_ref().ok_or_else(|| {
                        self.err(
                            "workload.requests_per_session",
                            "is missing: e.g. { dist = \"geometric\", mean = 16 } (or describe agentic sessions with turns_per_session, steps_per_turn and tool_time)".into(),
                        )
                    })?;
                    (
                        self.dist("workload.requests_per_session", rps, Field::Count)?,
                        None,
                    )
                };
                let think_time = match &w.think_time {
                    Some(d) => self.dist("workload.think_time", d, Field::Time)?,
                    None if requests_per_session == Dist::Constant { value: 1.0 } => Dist::Constant { value: 0.0 },
                    None => {
                        return Err(self.err(
                            "workload.think_time",
                            "is missing: sessions have more than one request (or turn), so give the time between them".into(),
                        ))
                    }
                };
                forbid(w.trace.is_some(), "trace", "sessions")?;
                forbid(w.ttft.is_some(), "ttft", "sessions")?;
                forbid(w.decode_rate.is_some(), "decode_rate", "sessions")?;
                Ok(Workload::Sessions {
                    arrival_rate,
                    periodic,
                    requests_per_session,
                    think_time,
                    service_time: service(&w)?,
                    client_retries: self.opt_int(
                        "workload.client_retries",
                        &w.client_retries,
                        0,
                        0,
                        MAX_CLIENT_RETRIES,
                    )? as u32,
                    client_retry_backoff: self.duration(
                        "workload.client_retry_backoff",
                        &w.client_retry_backoff,
                        1.0,
                        false,
                    )?,
                    arrivals: ArrivalShape {
                        bursty_cv,
                        daily_profile,
                    },
                    agentic,
                    context_tokens: w
                        .context_tokens
                        .as_ref()
                        .map(|d| self.dist("workload.context_tokens", d, Field::Amount))
                        .transpose()?,
                    context_growth: self.context_growth(&w)?,
                })
            }
            Mode::Trace => self.trace_workload(&w),
            Mode::Open => {
                forbid(w.arrival.is_some(), "arrival", "open")?;
                forbid(
                    w.requests_per_session.is_some(),
                    "requests_per_session",
                    "open",
                )?;
                forbid(w.think_time.is_some(), "think_time", "open")?;
                for (present, key) in [
                    (w.turns_per_session.is_some(), "turns_per_session"),
                    (w.steps_per_turn.is_some(), "steps_per_turn"),
                    (w.tool_time.is_some(), "tool_time"),
                    (w.context_tokens.is_some(), "context_tokens"),
                    (w.context_growth.is_some(), "context_growth"),
                    (w.trace.is_some(), "trace"),
                    (w.ttft.is_some(), "ttft"),
                    (w.decode_rate.is_some(), "decode_rate"),
                ] {
                    forbid(present, key, "open")?;
                }
                forbid(w.client_retries.is_some(), "client_retries", "open")?;
                forbid(
                    w.client_retry_backoff.is_some(),
                    "client_retry_backoff",
                    "open",
                )?;
                let rate = |key: &str, q: &Option<Quantity>| -> R<f64> {
                    let path = format!("workload.{key}");
                    let q = q.as_ref().ok_or_else(|| {
                        self.err(&path, "is missing in mode = \"open\": e.g. \"2/s\"".into())
                    })?;
                    self.rate(&path, q)
                };
                let bound_rate = rate("bound_rate", &w.bound_rate)?;
                let new_rate = rate("new_rate", &w.new_rate)?;
                if bound_rate + new_rate <= 0.0 {
                    return Err(self.err(
                        "workload.new_rate",
                        "0 is not allowed: bound_rate + new_rate must be > 0".into(),
                    ));
                }
                Ok(Workload::Open {
                    bound_rate,
                    new_rate,
                    service_time: service(&w)?,
                })
            }
        }
    }

    /// 24 hourly multipliers, each >= 0, not all 0; normalised to average 1.
    fn daily_profile(&self, list: &[Quantity]) -> R<Vec<f64>> {
        let path = "workload.arrival.daily_profile";
        if list.len() != 24 {
            return Err(self.err(
                path,
                format!(
                    "has {} values: give exactly 24 hourly multipliers (hour 0 starts at time 0)",
                    list.len()
                ),
            ));
        }
        let mut xs = Vec::with_capacity(24);
        for (i, q) in list.iter().enumerate() {
            xs.push(self.number(&format!("{path}[{i}]"), q, 0.0, 1e6)?);
        }
        let mean = xs.iter().sum::<f64>() / 24.0;
        if mean <= 0.0 {
            return Err(self.err(
                path,
                "is all zeros: at least one hour must have arrivals".into(),
            ));
        }
        Ok(xs.iter().map(|x| x / mean).collect())
    }

    fn context_growth(&self, w: &RawWorkload) -> R<f64> {
        w.context_growth.as_ref().map_or(Ok(0.0), |q| {
            self.number("workload.context_growth", q, 0.0, 1e9)
        })
    }

    fn trace_workload(&self, w: &RawWorkload) -> R<Workload> {
        let mode_only = |present: bool, key: &str| -> R<()> {
            if present {
                Err(self.err(
                    &format!("workload.{key}"),
                    "is not used in mode = \"trace\" (the trace gives arrivals, sessions and service times): remove it".into(),
                ))
            } else {
                Ok(())
            }
        };
        for (present, key) in [
            (w.arrival.is_some(), "arrival"),
            (w.requests_per_session.is_some(), "requests_per_session"),
            (w.think_time.is_some(), "think_time"),
            (w.service_time.is_some(), "service_time"),
            (w.turns_per_session.is_some(), "turns_per_session"),
            (w.steps_per_turn.is_some(), "steps_per_turn"),
            (w.tool_time.is_some(), "tool_time"),
            (w.context_tokens.is_some(), "context_tokens"),
            (w.bound_rate.is_some(), "bound_rate"),
            (w.new_rate.is_some(), "new_rate"),
            (w.client_retries.is_some(), "client_retries"),
            (w.client_retry_backoff.is_some(), "client_retry_backoff"),
        ] {
            mode_only(present, key)?;
        }
        let t = w.trace.as_ref().ok_or_else(|| {
            self.err(
                "workload.trace",
                "is missing in mode = \"trace\": e.g. { file = \"../data/mooncake_trace.jsonl\", format = \"mooncake\" }".into(),
            )
        })?;
        let name = t.file.clone().ok_or_else(|| {
            self.err(
                "workload.trace.file",
                "is missing: the trace file (relative to this scenario file's folder)".into(),
            )
        })?;
        #[derive(Clone, Copy, PartialEq)]
        enum F {
            Mooncake,
            Azure,
            Csv,
        }
        let f = match &t.format {
            Some(_) => self.choice(
                "workload.trace.format",
                &t.format,
                F::Csv,
                &[
                    ("mooncake", F::Mooncake),
                    ("azure", F::Azure),
                    ("csv", F::Csv),
                ],
            )?,
            None => {
                return Err(self.err(
                    "workload.trace.format",
                    "is missing: one of \"mooncake\", \"azure\", \"csv\"".into(),
                ))
            }
        };
        let csv_keys = [
            ("timestamp", &t.timestamp),
            ("session", &t.session),
            ("service_time", &t.service_time),
            ("input_tokens", &t.input_tokens),
            ("output_tokens", &t.output_tokens),
        ];
        if f != F::Csv {
            if let Some((k, _)) = csv_keys.iter().find(|(_, v)| v.is_some()) {
                return Err(self.err(
                    &format!("workload.trace.{k}"),
                    "names a column, which only format = \"csv\" takes: this format's columns are fixed".into(),
                ));
            }
        }
        let format = match f {
            F::Mooncake => crate::trace::TraceFormat::Mooncake,
            F::Azure => crate::trace::TraceFormat::Azure,
            F::Csv => {
                let timestamp = t.timestamp.clone().ok_or_else(|| {
                    self.err("workload.trace.timestamp", "is missing: the name of the column with each request's time (seconds, or a date and time)".into())
                })?;
                if t.service_time.is_none() && t.output_tokens.is_none() {
                    return Err(self.err(
                        "workload.trace.service_time",
                        "is missing: name a column of service times (seconds) or of output tokens (output_tokens = \"...\")".into(),
                    ));
                }
                crate::trace::TraceFormat::Csv(crate::trace::CsvColumns {
                    timestamp,
                    session: t.session.clone(),
                    service_time: t.service_time.clone(),
                    input_tokens: t.input_tokens.clone(),
                    output_tokens: t.output_tokens.clone(),
                })
            }
        };
        let has_key = match &format {
            crate::trace::TraceFormat::Mooncake => true,
            crate::trace::TraceFormat::Azure => false,
            crate::trace::TraceFormat::Csv(c) => c.session.is_some(),
        };
        use crate::trace::SessionRule;
        let sessions = match &t.sessions {
            None if has_key => SessionRule::Key,
            None => SessionRule::PerRequest,
            Some(Quantity::Str(s)) if s == "key" && has_key => SessionRule::Key,
            Some(Quantity::Str(s)) if s == "request" => SessionRule::PerRequest,
            Some(q @ Quantity::Int(_)) => {
                SessionRule::Clients(self.int("workload.trace.sessions", q, 1, 100_000_000)? as u32)
            }
            Some(q) => {
                return Err(self.bad(
                    "workload.trace.sessions",
                    q,
                    if has_key {
                        "is not allowed: must be \"key\" (the trace's own sessions), \"request\" (each request a session) or a number of client sessions to deal requests to at random"
                    } else {
                        "is not allowed: this trace has no session key, so must be \"request\" (each request a session) or a number of client sessions to deal requests to at random"
                    },
                ))
            }
        };
        let rate_scale = match &t.rate_scale {
            Some(q) => {
                let x = self.number("workload.trace.rate_scale", q, 0.0, 1e6)?;
                if x <= 0.0 {
                    return Err(self.bad(
                        "workload.trace.rate_scale",
                        q,
                        "is not allowed: it must be > 0",
                    ));
                }
                x
            }
            None => 1.0,
        };
        let ttft_s = match &w.ttft {
            Some(q) => self.secs("workload.ttft", q, false)?,
            None => 1.0,
        };
        let decode_rate = match &w.decode_rate {
            Some(q) => {
                let x = self.number("workload.decode_rate", q, 0.0, 1e9)?;
                if x <= 0.0 {
                    return Err(self.bad(
                        "workload.decode_rate",
                        q,
                        "is not allowed: tokens per second must be > 0",
                    ));
                }
                x
            }
            None => 40.0,
        };
        let path = self.resolve(&name);
        let count_keys = sessions == SessionRule::Key;
        let crate::trace::Scan {
            records,
            span_us,
            mean_service_s,
            key_counts,
        } = crate::trace::scan(&name, &path, &format, ttft_s, decode_rate, count_keys)
            .map_err(|e| self.err("workload.trace.file", e))?;
        let looped = t.looped.unwrap_or(false);
        if looped && span_us == 0 {
            return Err(self.err(
                "workload.trace.loop",
                "true is not allowed: every record of the trace has the same time, so a pass has no length to repeat".into(),
            ));
        }
        Ok(Workload::Trace {
            trace: crate::trace::TraceConfig {
                name,
                path,
                format,
                sessions,
                rate_scale,
                looped,
                ttft_s,
                decode_rate,
                records,
                span_us,
                mean_service_s,
                key_counts: std::sync::Arc::new(key_counts),
            },
            context_growth: self.context_growth(w)?,
        })
    }

    fn cost(&self, c: Option<RawCost>) -> R<CostConfig> {
        let d = CostConfig::default();
        let Some(c) = c else { return Ok(d) };
        let num = |key: &str, q: &Option<Quantity>, default: f64, hi: f64| -> R<f64> {
            q.as_ref().map_or(Ok(default), |q| {
                self.number(&format!("cost.{key}"), q, 0.0, hi)
            })
        };
        let cost = CostConfig {
            cache_ttl: self.duration("cost.cache_ttl", &c.cache_ttl, 3600.0, true)?,
            input_price_per_mtok: num(
                "input_price_per_mtok",
                &c.input_price_per_mtok,
                d.input_price_per_mtok,
                1e6,
            )?,
            cache_write_multiplier: num(
                "cache_write_multiplier",
                &c.cache_write_multiplier,
                d.cache_write_multiplier,
                1000.0,
            )?,
            cache_read_multiplier: num(
                "cache_read_multiplier",
                &c.cache_read_multiplier,
                d.cache_read_multiplier,
                1000.0,
            )?,
        };
        if cost.cache_read_multiplier > cost.cache_write_multiplier {
            return Err(self.err(
                "cost.cache_read_multiplier",
                format!(
                    "{} is not allowed: it must not exceed cache_write_multiplier ({}), or a cache move would save money",
                    cost.cache_read_multiplier, cost.cache_write_multiplier
                ),
            ));
        }
        Ok(cost)
    }

    fn users(&self, u: RawUsers) -> R<UserConfig> {
        let count = self.opt_int("users.count", &u.count, 1, 1, MAX_USERS as i64)? as u32;
        let cq = u.concurrency.as_ref().ok_or_else(|| {
            self.err(
                "users.concurrency",
                "is missing: requests one user may have in flight (sub2api's default is 5)".into(),
            )
        })?;
        let concurrency = self.int("users.concurrency", cq, 1, 1_000_000)? as u32;
        Ok(UserConfig {
            count,
            concurrency,
            // Every request joins the user's wait queue before its first try (docs/model.md
            // step 1), so 0 would turn every request away.
            max_waiting: self.count(
                "users.max_waiting",
                &u.max_waiting,
                concurrency.saturating_add(20),
                1,
            )?,
            wait_timeout: self.duration("users.wait_timeout", &u.wait_timeout, 30.0, false)?,
        })
    }

    /// The distinct values of one swept parameter, each checked as the key requires.
    fn sweep_values(&self, path: &str, list: &[Quantity], param: Param) -> R<Vec<f64>> {
        if list.is_empty() {
            return Err(self.err(path, "[] is not allowed: an empty sweep has no points; give at least one value or remove the key".into()));
        }
        if list.len() > MAX_SWEEP_VALUES {
            return Err(self.err(
                path,
                format!("has {} values: at most {MAX_SWEEP_VALUES}", list.len()),
            ));
        }
        let mut seen = std::collections::HashSet::with_capacity(list.len());
        let mut values = Vec::with_capacity(list.len());
        for (i, q) in list.iter().enumerate() {
            let p = format!("{path}[{i}]");
            let whole = |lo: i64, hi: i64| self.int(&p, q, lo, hi).map(|v| v as f64);
            let v = match param {
                Param::Reserved | Param::Pool(_, PoolKey::Reserved) => {
                    whole(-1_000_000, 1_000_000)?
                }
                Param::Concurrency
                | Param::Accounts
                | Param::Pool(_, PoolKey::Concurrency | PoolKey::Accounts) => whole(1, 1_000_000)?,
                Param::Pool(_, PoolKey::MaxSessions | PoolKey::BaseRpm) | Param::Gateway(_) => {
                    whole(0, u32::MAX as i64)?
                }
                Param::Load => {
                    let x = self.number(&p, q, 0.0, 1e6)?;
                    if x <= 0.0 {
                        return Err(self.bad(
                            &p,
                            q,
                            "is not allowed: a load multiplier must be > 0",
                        ));
                    }
                    x
                }
            };
            // +0.0 and -0.0 are the same value; every value here is finite.
            if !seen.insert((v + 0.0).to_bits()) {
                return Err(self.bad(&p, q, "is listed twice: each sweep value must be distinct"));
            }
            values.push(v);
        }
        Ok(values)
    }

    fn sweep(&self, s: RawSweep, pools: &[PoolConfig], workload: &Workload) -> R<Sweep> {
        let mut params = Vec::new();
        let lists = [
            (Param::Reserved, &s.reserved),
            (Param::Concurrency, &s.concurrency),
            (Param::Accounts, &s.accounts),
            (Param::Load, &s.load),
        ];
        for (param, list) in lists {
            let Some(list) = list else { continue };
            let path = format!("sweep.{}", param.key());
            params.push((param, self.sweep_values(&path, list, param)?));
        }
        if let Some(by_name) = &s.pools {
            for name in by_name.keys() {
                // Pool names are distinct (checked with the pools).
                if !pools.iter().any(|p| &p.name == name) {
                    let names: Vec<String> =
                        pools.iter().map(|p| format!("{:?}", p.name)).collect();
                    return Err(self.err(
                        &format!("sweep.pools.{name}"),
                        format!("names no pool: the pools are {}", names.join(", ")),
                    ));
                }
            }
            for (i, pool) in pools.iter().enumerate() {
                let Some(raw) = by_name.get(&pool.name) else {
                    continue;
                };
                let lists = [
                    (PoolKey::Accounts, &raw.accounts),
                    (PoolKey::Concurrency, &raw.concurrency),
                    (PoolKey::Reserved, &raw.reserved),
                    (PoolKey::MaxSessions, &raw.max_sessions),
                    (PoolKey::BaseRpm, &raw.base_rpm),
                ];
                for (key, list) in lists {
                    let Some(list) = list else { continue };
                    let path = format!("sweep.pools.{}.{}", pool.name, key.name());
                    let param = Param::Pool(i, key);
                    let values = self.sweep_values(&path, list, param)?;
                    if key == PoolKey::MaxSessions
                        && matches!(workload, Workload::Open { .. })
                        && values.iter().any(|&v| v > 0.0)
                    {
                        return Err(self.err(
                            &path,
                            "is not allowed in mode = \"open\": the session limit needs sessions (open-mode requests have none)".into(),
                        ));
                    }
                    params.push((param, values));
                }
            }
        }
        if let Some(g) = &s.gateway {
            for key in GatewayKey::ALL {
                let path = format!("sweep.gateway.{}", key.name());
                let bools = match key {
                    GatewayKey::SpilloverRebinds => Some(&g.spillover_rebinds),
                    GatewayKey::StickyWait => Some(&g.sticky_wait),
                    _ => None,
                };
                let values = match bools {
                    Some(None) => continue,
                    Some(Some(list)) => {
                        if list.is_empty() {
                            return Err(self.err(&path, "[] is not allowed: an empty sweep has no points; give at least one value or remove the key".into()));
                        }
                        let mut values = Vec::new();
                        for (i, &b) in list.iter().enumerate() {
                            let v = if b { 1.0 } else { 0.0 };
                            if values.contains(&v) {
                                return Err(self.err(
                                    &format!("{path}[{i}]"),
                                    format!(
                                        "{b} is listed twice: each sweep value must be distinct"
                                    ),
                                ));
                            }
                            values.push(v);
                        }
                        values
                    }
                    None => {
                        let list = match key {
                            GatewayKey::StickyMaxWaiting => &g.sticky_max_waiting,
                            GatewayKey::FallbackMaxWaiting => &g.fallback_max_waiting,
                            _ => &g.max_account_switches,
                        };
                        let Some(list) = list else { continue };
                        self.sweep_values(&path, list, Param::Gateway(key))?
                    }
                };
                params.push((Param::Gateway(key), values));
            }
        }
        let n = params
            .iter()
            .try_fold(1usize, |n, (_, v)| n.checked_mul(v.len()))
            .filter(|&n| n <= MAX_POINTS);
        let Some(n) = n else {
            return Err(self.err(
                "sweep",
                format!(
                    "has too many points: at most {MAX_POINTS} (the product of the list lengths)"
                ),
            ));
        };
        let sweep = Sweep {
            params,
            baseline: 0,
            pool_names: pools.iter().map(|p| p.name.clone()).collect(),
        };
        let baseline = match &s.baseline {
            Some(q) => self.int("sweep.baseline", q, 0, n as i64 - 1)? as usize,
            None => 0,
        };
        Ok(Sweep { baseline, ..sweep })
    }

    /// `[plan]`, with its defaults filled in.
    fn plan(&self, p: super::raw::RawPlan, pools: &[PoolConfig]) -> R<PlanConfig> {
        let pool = match &p.pool {
            None => 0,
            Some(name) => pools.iter().position(|q| &q.name == name).ok_or_else(|| {
                let names: Vec<&str> = pools.iter().map(|q| q.name.as_str()).collect();
                self.err(
                    "plan.pool",
                    format!(
                        "{name:?} names no pool (the pools are: {})",
                        names.join(", ")
                    ),
                )
            })?,
        };
        let current = pools[pool].accounts as i64;
        let min_accounts =
            self.opt_int("plan.min_accounts", &p.min_accounts, 1, 1, 100_000)? as u32;
        let max_accounts = self.opt_int(
            "plan.max_accounts",
            &p.max_accounts,
            (4 * current).clamp(min_accounts as i64, 100_000),
            1,
            100_000,
        )? as u32;
        if max_accounts < min_accounts {
            return Err(self.err(
                "plan.max_accounts",
                format!("{max_accounts} is not allowed: it must be >= plan.min_accounts ({min_accounts})"),
            ));
        }
        let reserved = match &p.reserved {
            Some(list) if list.is_empty() => {
                return Err(self.err(
                    "plan.reserved",
                    "is empty: list the reserved values to try, e.g. [0, 1, 2]".into(),
                ))
            }
            Some(list) => {
                let mut v = Vec::with_capacity(list.len());
                for (i, q) in list.iter().enumerate() {
                    let r = self.int(&format!("plan.reserved[{i}]"), q, 0, 1_000_000)?;
                    if v.contains(&r) {
                        return Err(self.err(
                            &format!("plan.reserved[{i}]"),
                            format!("{r} is listed twice"),
                        ));
                    }
                    v.push(r);
                }
                v
            }
            None => (0..pools[pool].concurrency as i64).collect(),
        };
        let max_load = p
            .max_load
            .as_ref()
            .map(|q| self.number("plan.max_load", q, 1e-6, 1e6))
            .transpose()?
            .unwrap_or(4.0);
        let load_step = p
            .load_step
            .as_ref()
            .map(|q| self.number("plan.load_step", q, 1e-6, 1e6))
            .transpose()?
            .unwrap_or(0.1);
        if max_load / load_step > 100_000.0 {
            return Err(self.err(
                "plan.load_step",
                format!("{load_step} is too small: at most 100000 load steps up to plan.max_load ({max_load})"),
            ));
        }
        Ok(PlanConfig {
            pool,
            min_accounts,
            max_accounts,
            reserved,
            max_load,
            load_step,
            accounts_by_flag: false,
            max_load_by_flag: false,
        })
    }

    /// `[targets] price_per_account`: a price for every pool, by name.
    fn prices(
        &self,
        prices: Option<std::collections::BTreeMap<String, Quantity>>,
        pools: &[PoolConfig],
    ) -> R<Option<Vec<f64>>> {
        let Some(prices) = prices else {
            return Ok(None);
        };
        for name in prices.keys() {
            if !pools.iter().any(|p| &p.name == name) {
                let names: Vec<&str> = pools.iter().map(|p| p.name.as_str()).collect();
                return Err(self.err(
                    &format!("targets.price_per_account.{name}"),
                    format!("names no pool (the pools are: {})", names.join(", ")),
                ));
            }
        }
        pools
            .iter()
            .map(|p| match prices.get(&p.name) {
                Some(q) => self.number(
                    &format!("targets.price_per_account.{}", p.name),
                    q,
                    0.0,
                    1e12,
                ),
                None => Err(self.err(
                    "targets.price_per_account",
                    format!(
                        "has no price for pool {:?}: give every pool a price, or none",
                        p.name
                    ),
                )),
            })
            .collect::<R<Vec<f64>>>()
            .map(Some)
    }

    fn targets(&self, t: RawTargets) -> R<Targets> {
        let rate = |key: &str, q: &Option<Quantity>| -> R<Option<f64>> {
            q.as_ref()
                .map(|q| self.number(&format!("targets.{key}"), q, 0.0, 1.0))
                .transpose()
        };
        let usd = |key: &str, q: &Option<Quantity>| -> R<Option<f64>> {
            q.as_ref()
                .map(|q| {
                    let path = format!("targets.{key}");
                    let x = plain_number(q).map_err(|why| self.bad(&path, q, &why))?;
                    if x.is_finite() && x >= 0.0 {
                        Ok(x)
                    } else {
                        Err(self.bad(
                            &path,
                            q,
                            "is out of range: must be a finite number of USD >= 0",
                        ))
                    }
                })
                .transpose()
        };
        Ok(Targets {
            continuity_failure_rate: rate("continuity_failure_rate", &t.continuity_failure_rate)?,
            new_session_rejection_rate: rate(
                "new_session_rejection_rate",
                &t.new_session_rejection_rate,
            )?,
            cache_move_cost_usd_per_hour: usd(
                "cache_move_cost_usd_per_hour",
                &t.cache_move_cost_usd_per_hour,
            )?,
            cache_move_cost_usd_per_1k_requests: usd(
                "cache_move_cost_usd_per_1k_requests",
                &t.cache_move_cost_usd_per_1k_requests,
            )?,
        })
    }
}

fn default_name(file: &str) -> String {
    let stem = Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("scenario");
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() {
        "scenario".into()
    } else {
        clean
    }
}

/// Legal settings worth pointing out in `slotsim check`.
fn notes(s: &Scenario) -> Vec<String> {
    let mut notes = Vec::new();
    let mut reserved_values: Vec<(String, i64, u32)> = s
        .pools
        .iter()
        .map(|p| (p.name.clone(), p.reserved, p.concurrency))
        .collect();
    for point in s.sweep.points() {
        let m = s.model_at(&point);
        for p in &m.pools {
            reserved_values.push((
                format!(
                    "{} at sweep point {} ({})",
                    p.name,
                    point.index,
                    point.label()
                ),
                p.reserved,
                p.concurrency,
            ));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (who, r, c) in reserved_values {
        let note = if r < 0 {
            Some(format!(
                "reserved = {r} behaves as 0 (docs/model.md section 1)"
            ))
        } else if r >= c as i64 {
            Some(format!(
                "reserved = {r} >= concurrency = {c}: new sessions never land on these accounts; only sessions already bound to them use them (docs/model.md section 1)"
            ))
        } else {
            None
        };
        if let Some(n) = note {
            if seen.insert(n.clone()) {
                notes.push(format!("{who}: {n}"));
            }
        }
    }
    if s.gateway.sticky_max_waiting == 0 && s.gateway.fallback_max_waiting == 0 {
        notes.push(
            "sticky_max_waiting = 0 and fallback_max_waiting = 0: a pure loss system (no waiting)"
                .into(),
        );
    }
    if s.warmup == 0 {
        notes.push("warmup = 0: the measurement starts from an empty gateway, which biases the results toward light load".into());
    }
    notes
}
