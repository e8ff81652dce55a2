//! slotsim: a deterministic discrete-event simulator of sub2api's account-slot admission
//! with sticky sessions and `reserved_concurrency`, and a capacity planner built on it.
//!
//! Layers: [`scenario`] (files to validated settings), [`engine`] (one replication, no
//! I/O), [`stats`] (replications to estimates with confidence intervals), [`runner`]
//! (sweeps in parallel), [`export`] (results to bytes), [`output`] (the one place that
//! writes files), [`cli`] (the command line), [`report`]/[`charts`]/[`recommend`].

pub mod capacity;
pub mod charts;
pub mod cli;
pub mod dist;
pub mod engine;
pub mod estimate;
pub mod exact;
pub mod export;
pub mod output;
pub mod plan;
pub mod recommend;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod shard;
pub mod stats;
pub mod trace;
pub mod units;
pub mod validate;
