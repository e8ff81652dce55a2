//! The watchdog of a replication's event loop: what an up-front estimate cannot foresee.
//! It stops a replication when simulated time stops advancing (too many events at one
//! instant), when the replication passes its events budget, or when the user interrupts
//! the run. It reads the loop's clock and event count and changes nothing else, so a run
//! it does not stop is bit-identical to one without it.

use crate::units::Time;
use std::sync::atomic::{AtomicBool, Ordering};

/// Limits of one replication.
#[derive(Debug, Clone, Copy)]
pub struct Watch {
    /// Set (by a Ctrl-C handler) to stop every replication.
    pub stop: Option<&'static AtomicBool>,
    /// Events one replication may simulate.
    pub max_events: u64,
    /// Events at one simulated instant before time is taken to have stopped.
    pub max_same_instant: u64,
}

/// Events at one instant no real scenario comes near (a burst of simultaneous arrivals is
/// thousands); a loop of zero-length steps passes it within a second.
pub const MAX_SAME_INSTANT: u64 = 5_000_000;

impl Default for Watch {
    fn default() -> Self {
        Watch {
            stop: None,
            max_events: u64::MAX,
            max_same_instant: MAX_SAME_INSTANT,
        }
    }
}

/// Why a replication was stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Stopped {
    #[error("simulated time stopped advancing at {at_s} s: {events} events at that one instant. Likely cause: steps that take no time and repeat (a service and think time of 0 with many requests per session, retries with no back-off, poll delays of 0)")]
    TimeStuck { at_s: f64, events: u64 },
    #[error("the replication passed its budget of {budget} events at simulated time {at_s} s. Likely cause: far more polls or retries per request than estimated (long wait timeouts with short poll delays, many client retries under overload); shorten the timeouts or the horizon, or pass --force to lift the budget")]
    EventBudget { budget: u64, at_s: f64 },
    #[error("interrupted")]
    Interrupted,
}

/// The watchdog's state in one replication's loop. The clock and the event count are the
/// loop's own (passed to [`Watchdog::tick`]), so that the watchdog keeps no copy of them.
pub(crate) struct Watchdog {
    watch: Watch,
    /// Events since simulated time last advanced.
    same: u64,
}

/// The event budget and the interrupt flag are checked once per this many events.
const CHECK_EVERY: u64 = 0x1_0000;

impl Watchdog {
    pub(crate) fn new(watch: Watch) -> Watchdog {
        Watchdog { watch, same: 0 }
    }

    /// Called once per event, at simulated time `t`; `prev` is the time of the previous
    /// event (0 before the first) and `events` counts the events so far, this one
    /// included.
    #[inline]
    pub(crate) fn tick(&mut self, t: Time, prev: Time, events: u64) -> Result<(), Stopped> {
        if t == prev {
            self.same += 1;
            if self.same > self.watch.max_same_instant {
                return Err(Stopped::TimeStuck {
                    at_s: crate::units::time_to_secs(t),
                    events: self.same,
                });
            }
        } else {
            self.same = 0;
        }
        if events % CHECK_EVERY == 0 {
            return self.check(t, events);
        }
        Ok(())
    }

    /// The budget and the interrupt flag (every [`CHECK_EVERY`] events).
    #[cold]
    fn check(&self, t: Time, events: u64) -> Result<(), Stopped> {
        if events > self.watch.max_events {
            return Err(Stopped::EventBudget {
                budget: self.watch.max_events,
                at_s: crate::units::time_to_secs(t),
            });
        }
        if self.watch.stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            return Err(Stopped::Interrupted);
        }
        Ok(())
    }
}
