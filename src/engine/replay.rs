//! Trace replay (workload): requests arrive at a trace's recorded times, scaled by the
//! rate factor and optionally looped, each with its recorded service time and tokens.
//! The trace is read one record ahead, so memory does not grow with its length; a
//! session's state is kept while it may matter (a request in flight, a live binding or
//! a warm cache) and dropped when it has gone idle, so memory follows the sessions active
//! at once, not the trace's length nor the number of loops.
//!
//! Sessions: requests with the same key in the same pass are one session (each pass of
//! a looped trace is a fresh set of sessions). A request arrives at its time whatever
//! its session's earlier requests are doing (open loop).

use super::streams::{stream, StreamKind};
use super::{Ev, RequestWork, SessionStart, Sim};
use crate::scenario::Workload;
use crate::trace::{SessionKey, SessionRule, TraceReader, TraceRecord};
use crate::units::{secs_to_time, Time};
use rand::Rng;
use rand_pcg::Pcg64;
use std::collections::HashMap;

/// The replay's reading position and the live sessions by key.
pub(super) struct Replay {
    reader: Option<TraceReader>,
    /// The pass being read (0 for the first).
    pass: u64,
    /// The record whose arrival event is scheduled.
    next: Option<TraceRecord>,
    /// Live sessions: (pass, key) -> session slot.
    sessions: HashMap<(u64, u128), u32>,
    /// Deals requests to client sessions when the rule is `Clients`.
    clients_rng: Pcg64,
    /// Set when the trace could not be read (it changed after it was checked).
    pub(super) error: Option<String>,
}

/// A replayed session's own state.
#[derive(Debug, Clone, Copy)]
pub(super) struct TraceSession {
    /// Its entry in the live-session map, if it has a shared key.
    key: Option<(u64, u128)>,
    in_flight: u32,
    /// A fresh token at every request and idle check; an idle event carrying another
    /// one is stale.
    idle_token: u32,
}

impl<const PLAIN: bool> Sim<'_, PLAIN> {
    fn trace_cfg(&self) -> &crate::trace::TraceConfig {
        match &self.cfg.workload {
            Workload::Trace { trace, .. } => trace,
            _ => unreachable!("replay runs only in trace mode"),
        }
    }

    /// The arrival time of `rec` in pass `pass`, in simulated microseconds.
    fn trace_time(&self, pass: u64, rec: &TraceRecord) -> Time {
        let t = self.trace_cfg();
        let raw = pass as f64 * t.period_us() as f64 + rec.offset_us as f64;
        secs_to_time(raw / t.rate_scale / 1e6)
    }

    pub(super) fn start_replay(&mut self) {
        let (reader, error) = match TraceReader::open(self.trace_cfg()) {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e)),
        };
        self.replay = Some(Replay {
            reader,
            pass: 0,
            next: None,
            sessions: HashMap::new(),
            clients_rng: stream(self.rep_seed, StreamKind::TraceClients, 0),
            error,
        });
        self.schedule_next_record();
    }

    /// Reads the next record (starting a new pass at the end when looping) and schedules
    /// its arrival if it comes before the horizon.
    fn schedule_next_record(&mut self) {
        let looped = self.trace_cfg().looped;
        let cfg_trace = self.trace_cfg().clone();
        let rp = self.replay.as_mut().expect("replay started");
        let Some(reader) = rp.reader.as_mut() else {
            return;
        };
        let mut rec = reader.next();
        if matches!(rec, Ok(None)) && looped {
            match TraceReader::open(&cfg_trace) {
                Ok(r) => {
                    *reader = r;
                    rp.pass += 1;
                    rec = reader.next();
                }
                Err(e) => rec = Err(e),
            }
        }
        match rec {
            Ok(Some(r)) => {
                rp.next = Some(r);
                let pass = rp.pass;
                let at = self.trace_time(pass, &r);
                self.schedule_arrival(at, Ev::TraceArrival);
            }
            Ok(None) => {}
            Err(e) => {
                rp.error = Some(e);
                rp.reader = None;
            }
        }
    }

    /// The scheduled record arrives: its session (found or new) issues it.
    pub(super) fn trace_arrival(&mut self) {
        let rp = self.replay.as_mut().expect("replay started");
        let rec = rp.next.take().expect("an arrival event has its record");
        let pass = rp.pass;
        let rule = match &self.cfg.workload {
            Workload::Trace { trace, .. } => trace.sessions,
            _ => unreachable!("replay runs only in trace mode"),
        };
        let key = match (rule, rec.key) {
            (SessionRule::Key, SessionKey::Shared(k)) => Some((pass, k)),
            (SessionRule::Clients(n), _) => Some((pass, rp.clients_rng.random_range(0..n) as u128)),
            _ => None,
        };
        let existing = key.and_then(|k| rp.sessions.get(&k).copied());
        let sid = match existing {
            Some(sid) => sid,
            None => self.new_trace_session(key),
        };
        let token = self.fresh_token();
        let s = &mut self.sessions.items[sid as usize];
        let ts = s.trace.as_mut().expect("a replayed session");
        ts.in_flight += 1;
        ts.idle_token = token;
        self.issue_with(
            sid,
            RequestWork {
                service: Some(secs_to_time(rec.service_s)),
                input_tokens: rec.input_tokens,
                ..RequestWork::default()
            },
        );
        self.schedule_next_record();
    }

    fn new_trace_session(&mut self, key: Option<(u64, u128)>) -> u32 {
        let index = self.next_session;
        self.next_session += 1;
        let mut rng = self.streams.session.stream(index);
        let user = self.draw_user(&mut rng);
        let counted = self.in_window(self.now);
        if counted {
            self.counts.sessions_arrived += 1;
        }
        let sid = self.add_session(SessionStart {
            rng,
            choices: self.streams.gateway.lazy(index),
            binding: None,
            writes_binding: true,
            counted,
            remaining: u64::MAX,
            retries_left: 0,
            user,
            key: index,
        });
        self.sessions.items[sid as usize].trace = Some(Box::new(TraceSession {
            key,
            in_flight: 0,
            idle_token: 0,
        }));
        if let Some(k) = key {
            let rp = self.replay.as_mut().expect("replay started");
            rp.sessions.insert(k, sid);
        }
        sid
    }

    /// One of the session's requests finished (completed or rejected): when none is in
    /// flight, check back once its binding and its cache could both have gone cold.
    pub(super) fn trace_request_done(&mut self, sid: u32) {
        let idle_after = self.cfg.gateway.sticky_ttl.max(self.cfg.cost.cache_ttl);
        let token = self.fresh_token();
        let now = self.now;
        let s = &mut self.sessions.items[sid as usize];
        let ts = s.trace.as_mut().expect("a replayed session");
        ts.in_flight -= 1;
        ts.idle_token = token;
        if ts.in_flight == 0 {
            let at = now.saturating_add(idle_after);
            // Past the horizon nothing more can arrive: the session is simply cut.
            if at < self.cfg.horizon {
                self.queue.push(
                    at,
                    Ev::SessionIdle {
                        session: sid,
                        token,
                    },
                );
            }
        }
    }

    /// The session has had nothing in flight since its last request finished, which was
    /// long enough ago that its binding and its cache are cold: it ends (abandoned if
    /// none of its requests was ever served).
    pub(super) fn session_idle(&mut self, sid: u32, token: u32) {
        let Some(s) = self.sessions.items.get(sid as usize) else {
            return;
        };
        let Some(&ts) = s.trace.as_deref() else {
            return;
        };
        if ts.idle_token != token || ts.in_flight > 0 {
            return;
        }
        if let Some(k) = ts.key {
            let rp = self.replay.as_mut().expect("replay started");
            rp.sessions.remove(&k);
        }
        let abandoned = !s.served_any;
        self.end_session(sid, abandoned);
    }
}
