//! Integration tests for `tenfold-sim`: fault rates against their configured values,
//! determinism of the trace, and the replicated register caught or cleared over many seeds.
//!
//! `SIM_SEED=n` replays one seed of the seeded tests and `SIM_SEEDS=n` runs `n` of them.

mod determinism;
mod rates;
mod register;
