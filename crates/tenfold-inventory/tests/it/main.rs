//! Integration tests for `tenfold-inventory`: the flash-sale simulation, an exhaustive check of
//! small interleavings, model-based property tests, and real threads on the concurrent ledger.

// The tests print their seeds, operation counts and state counts, which are what they prove.
#![allow(clippy::print_stderr)]

mod exhaustive;
mod journal;
mod model;
mod simulation;
mod threads;
