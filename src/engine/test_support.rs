//! Helpers for the engine's unit tests: scenarios from text, and requests issued into a
//! gateway whose account states were set by hand.

use super::streams::{stream, Family, StreamKind};
use super::{Session, SessionStart, Sim};
use crate::scenario::ModelConfig;
use crate::units::Time;

pub(super) fn model(text: &str) -> ModelConfig {
    let s = crate::scenario::parse_scenario(text, "unit.toml").expect("valid test scenario");
    s.model_at(&s.sweep.points()[0])
}

/// A gateway with `accounts` accounts of `c` slots and reserve `r`, waiting in FIFO
/// order, at t = 100 s, with nothing running.
pub(super) fn gateway(accounts: u32, c: u32, r: i64) -> ModelConfig {
    model(&format!(
        r#"
        horizon = 1000
        replications = 1
        [gateway]
        wait = "fifo"
        [[pools]]
        accounts = {accounts}
        concurrency = {c}
        reserved = {r}
        [workload]
        arrival = {{ process = "periodic", rate = "1/h" }}
        requests_per_session = {{ dist = "constant", value = 1 }}
        service_time = {{ dist = "constant", value = "10s" }}
        "#
    ))
}

/// Issues one request of a new session (or one bound to `bound`) at t = 100 s.
pub(super) fn arrive(sim: &mut Sim, bound: Option<u32>) -> u32 {
    sim.now = 100_000_000;
    let mut session = Session::new(SessionStart {
        rng: stream(1, StreamKind::Session, 999),
        choices: Family::new(1, StreamKind::Gateway).lazy(999),
        binding: bound.map(|a| (a, Time::MAX)),
        writes_binding: true,
        counted: false,
        remaining: 1,
        retries_left: 0,
        user: 0,
        key: 999,
    });
    session.first_account = bound;
    let sid = sim.sessions.insert(session);
    sim.issue(sid);
    // The request of this session (each test session has exactly one).
    (0..sim.requests.items.len() as u32)
        .rev()
        .find(|&i| sim.requests.items[i as usize].session == sid)
        .expect("the request exists")
}

pub(super) fn set(sim: &mut Sim, account: usize, busy: u32, waiting: u32, last_used: Option<Time>) {
    sim.with_account(account as u32, |a| {
        a.busy = busy;
        a.waiting = waiting;
        a.last_used = last_used;
    });
    sim.busy_total = sim.accounts.iter().map(|a| a.busy as u64).sum();
    sim.waiting_total = sim.accounts.iter().map(|a| a.waiting as u64).sum();
}
