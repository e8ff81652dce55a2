//! Trace replay (workload): requests arrive at a trace's recorded times, scaled by the
//! rate factor and optionally looped, each with its recorded service time and tokens.
//! The trace is read one record ahead, so memory does not grow with its length.
//!
//! Sessions: requests with the same key in the same pass are one session, however far
//! apart (each pass of a looped trace is a fresh set of sessions); its binding expires
//! by its TTL as any session's does. A request arrives at its time whatever its
//! session's earlier requests are doing (open loop). A session finishes when the last
//! request of its key in the pass is done: the requests of each key are counted once per
//! run, when the trace is checked, and every replication reads those counts (for client
//! sessions, each pass's deal is drawn ahead), so a session's state is kept from its
//! first request to its last and freed then. Memory follows the distinct keys of one
//! pass (counted once per run), not the trace's length nor the number of loops.

use super::streams::{stream, StreamKind};
use super::{Ev, RequestWork, SessionStart, Sim};
use crate::scenario::Workload;
use crate::trace::{SessionKey, SessionRule, TraceReader, TraceRecord};
use crate::units::{secs_to_time, Time};
use rand::Rng;
use rand_pcg::Pcg64;
use std::collections::HashMap;

/// The replay's reading position and the sessions still expecting requests, by key.
pub(super) struct Replay {
    reader: Option<TraceReader>,
    /// The pass being read (0 for the first).
    pass: u64,
    /// The record whose arrival event is scheduled.
    next: Option<TraceRecord>,
    /// Sessions with requests still to arrive: (pass, key) -> session slot. A session
    /// leaves when its last request arrives, so a slot named here is never a finished
    /// session's, reused.
    sessions: HashMap<(u64, u128), u32>,
    /// Requests of each client session in the pass being read, when the rule is
    /// `Clients` (the trace's own keys are counted once per run, in its config).
    requests_per_client: HashMap<u128, u64>,
    /// Deals requests to client sessions when the rule is `Clients`.
    clients_rng: Pcg64,
    /// Set when the trace could not be read (it changed after it was checked).
    pub(super) error: Option<String>,
}

/// A replayed session's own state.
#[derive(Debug, Clone, Copy)]
pub(super) struct TraceSession {
    /// Its requests in flight.
    in_flight: u32,
    /// Its requests in this pass yet to arrive: when none is left and none is in flight,
    /// it has finished.
    to_arrive: u64,
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
            requests_per_client: HashMap::new(),
            clients_rng: stream(self.rep_seed, StreamKind::TraceClients, 0),
            error,
        });
        self.deal_pass();
        self.schedule_next_record();
    }

    /// Client sessions: deals the pass's requests ahead, with a copy of the stream that
    /// deals them as they arrive (the same draws in the same order), to know how many
    /// each client gets. The stream has made every draw of the earlier passes by then.
    fn deal_pass(&mut self) {
        let SessionRule::Clients(n) = self.trace_cfg().sessions else {
            return;
        };
        let records = self.trace_cfg().records;
        let rp = self.replay.as_mut().expect("replay started");
        let mut rng = rp.clients_rng.clone();
        rp.requests_per_client.clear();
        for _ in 0..records {
            let client = rng.random_range(0..n) as u128;
            *rp.requests_per_client.entry(client).or_insert(0) += 1;
        }
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
                    self.deal_pass();
                }
                Err(e) => rec = Err(e),
            }
        }
        let rp = self.replay.as_mut().expect("replay started");
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
        let trace = match &self.cfg.workload {
            Workload::Trace { trace, .. } => trace,
            _ => unreachable!("replay runs only in trace mode"),
        };
        let rule = trace.sessions;
        let key = match (rule, rec.key) {
            (SessionRule::Key, SessionKey::Shared(k)) => Some((pass, k)),
            (SessionRule::Clients(n), _) => Some((pass, rp.clients_rng.random_range(0..n) as u128)),
            _ => None,
        };
        let sid = match key.and_then(|k| rp.sessions.get(&k).copied()) {
            Some(sid) => sid,
            None => {
                // (A key missing from the counts can only come from a trace changed after
                // it was counted: its request is then a session of its own.)
                let counts = match rule {
                    SessionRule::Key => &*trace.key_counts,
                    SessionRule::PerRequest | SessionRule::Clients(_) => &rp.requests_per_client,
                };
                let requests = key.map_or(1, |(_, k)| counts.get(&k).copied().unwrap_or(1));
                self.new_trace_session(key, requests)
            }
        };
        // Before the request is issued: a rejection at once ends the session if this was
        // its last request.
        let ts = self.sessions.items[sid as usize]
            .trace
            .as_mut()
            .expect("a replayed session");
        ts.in_flight += 1;
        ts.to_arrive = ts.to_arrive.saturating_sub(1);
        if ts.to_arrive == 0 {
            if let Some(k) = key {
                let rp = self.replay.as_mut().expect("replay started");
                rp.sessions.remove(&k);
            }
        }
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

    /// A new session of `requests` requests (this pass's count of its key), named under
    /// `key` until its last request arrives.
    fn new_trace_session(&mut self, key: Option<(u64, u128)>, requests: u64) -> u32 {
        let index = self.next_session;
        self.next_session += 1;
        let mut rng = self.streams.session.stream(index);
        let user = self.draw_user(&mut rng);
        let counted = self.in_window(self.now);
        if counted {
            self.counts.sessions_arrived += 1;
        }
        // The session limit knows a session by its index, unique in the replication,
        // never by its slot, which a later session may reuse.
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
            in_flight: 0,
            to_arrive: requests,
        }));
        if let Some(k) = key {
            let rp = self.replay.as_mut().expect("replay started");
            rp.sessions.insert(k, sid);
        }
        sid
    }

    /// One of the session's requests finished (completed or rejected): the session
    /// finishes when that was its last (abandoned if none of its requests was served).
    /// One whose remaining requests come at or after the horizon never gets here: it is
    /// cut, as a sessions-mode session whose next request would come then.
    pub(super) fn trace_request_done(&mut self, sid: u32) {
        let s = &mut self.sessions.items[sid as usize];
        let ts = s.trace.as_mut().expect("a replayed session");
        ts.in_flight -= 1;
        if ts.in_flight == 0 && ts.to_arrive == 0 {
            let abandoned = s.first_account.is_none();
            self.end_session(sid, abandoned);
        }
    }
}
