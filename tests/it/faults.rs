//! Upstream faults, usage windows, account limits and gateway variants: hand-timed
//! timelines asserted exactly, and statistical checks against closed forms.

use crate::common::*;

/// Client retries back off exponentially: min(client_retry_backoff x 2^(j-1), 60 s) before
/// retry j. One one-slot account, no waiting, a session every 10 s with one 30 s request,
/// three retries after 2 s, 4 s, 8 s. S0 runs 10-40. S1 (t=20) is rejected and retries at
/// 22, 26 and 34, each rejected: abandoned. S2 (t=30) retries at 32 and 36; its third
/// retry (44) would come after the horizon (40): cut. With a constant back-off S2 would
/// retry at 32, 34, 36 and be abandoned too.
#[test]
fn client_retry_backoff_doubles() {
    let text = r#"
        horizon = 40
        replications = 1
        [gateway]
        sticky_max_waiting = 0
        fallback_max_waiting = 0
        [[pools]]
        accounts = 1
        concurrency = 1
        [workload]
        arrival = { process = "periodic", rate = "6/min" }
        requests_per_session = { dist = "constant", value = 1 }
        service_time = { dist = "constant", value = "30s" }
        client_retries = 3
        client_retry_backoff = "2s"
    "#;
    let c = &run(&scenario(text)).points[0].reps[0].counts;
    assert_eq!(
        (c.sessions_arrived, c.requests_arrived, c.requests_rejected),
        (3, 8, 7)
    );
    assert_eq!((c.sessions_abandoned, c.sessions_finished), (1, 2));
}
