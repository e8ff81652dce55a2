//! sub2api's other per-account limits (docs/faults-and-limits.md): the session limit
//! (`max_sessions` with `session_idle_timeout`) and the RPM limit with its sticky-only
//! band. [`super::admission`] asks these where sub2api does.

use super::{Account, Sim, MINUTE};
use crate::scenario::{PoolConfig, RpmStrategy};
use crate::units::Time;

/// Where an account's RPM count puts it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum RpmZone {
    /// Below base_rpm: any layer may use it.
    Green,
    /// The sticky-only band: only the sticky layer, for requests bound to it.
    Yellow,
    /// Above the band (tiered): no layer.
    Red,
}

/// The RPM zone of account `a` of `pool` at `now`, from its successful completions in the
/// current calendar minute.
pub(super) fn rpm_zone(a: &Account, pool: &PoolConfig, now: Time) -> RpmZone {
    let base = pool.base_rpm;
    if base == 0 {
        return RpmZone::Green;
    }
    let n = if a.rpm_minute == now / MINUTE {
        a.rpm_count
    } else {
        0
    };
    if n < base {
        return RpmZone::Green;
    }
    match pool.rpm_strategy {
        RpmStrategy::StickyExempt => RpmZone::Yellow,
        RpmStrategy::Tiered if n < base.saturating_add(pool.rpm_buffer()) => RpmZone::Yellow,
        RpmStrategy::Tiered => RpmZone::Red,
    }
}

impl<const PLAIN: bool> Sim<'_, PLAIN> {
    /// Registers session `sid` on `account` under the session limit: true when allowed
    /// (the session was active there and is refreshed, or there is room and it is added),
    /// false when refused. Entries idle for the timeout are purged first. Always true when
    /// the pool has no session limit.
    pub(super) fn register_session(&mut self, account: u32, sid: u32) -> bool {
        let now = self.now;
        let a = &mut self.accounts[account as usize];
        let pool = &self.cfg.pools[a.pool as usize];
        let limit = pool.max_sessions as usize;
        if limit == 0 {
            return true;
        }
        let idle = pool.session_idle_timeout;
        a.sessions.retain(|&(_, at)| at.saturating_add(idle) > now);
        let key = self.sessions.items[sid as usize].key;
        if let Some(e) = a.sessions.iter_mut().find(|(k, _)| *k == key) {
            e.1 = now;
            return true;
        }
        if a.sessions.len() < limit {
            a.sessions.push((key, now));
            return true;
        }
        false
    }
}
