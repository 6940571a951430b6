//! Shared pieces of the tenfold examples: loaders for the data sets in `data/` and the report
//! the tour prints.
//!
//! The examples are where cores meet the host and each other. Nothing here is needed to use a
//! core; it is the glue a service would write, kept small so it can be read as a recipe.

// The examples are hosts: they read the clock, the files in `data/` and print their reports.
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::print_stdout
)]

pub mod data;
pub mod report;

/// The README's code, compiled by `cargo test` so that it cannot drift from the crates.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
