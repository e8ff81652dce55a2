//! slotsim's integration tests, built as one binary.

mod cli;
mod common;
mod compare;
mod cost_targets;
mod decisions;
mod exact;
mod faults;
mod fuzz;
mod hand;
mod model_exact;
mod report;
mod review_faults;
mod review_traffic;
mod scenarios;
mod shard;
mod trace_sessions;
mod trust;
mod workloads;
