//! Noise control (noise.md): time spans, duplicate suppression per key and target, and
//! the records that remember deliveries between runs. No configuration syntax: all of it
//! comes from the command line and a small local state.

pub mod dedup;
pub mod span;
pub mod store;
