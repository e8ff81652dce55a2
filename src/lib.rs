//! slotsim: a deterministic discrete-event simulator of sub2api's account-slot admission
//! with sticky sessions and `reserved_concurrency`.

pub mod charts;
pub mod recommend;
pub mod report;
