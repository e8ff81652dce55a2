//! The exact solvers live in the library ([`slotsim::exact`], also used by
//! `slotsim validate`); the statistical tests use them through this module.

pub use slotsim::exact::*;
