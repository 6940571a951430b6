//! The entry point of simulation tests: which seeds to run, and the report of the first that
//! fails.

use std::ops::Range;

use crate::error::SeedsError;
use crate::sim::Failure;

/// The seeds a simulation test runs: `start..start + count`.
///
/// [`Seeds::from_env`] lets one test serve for CI, for a long soak and for replaying a single
/// failure:
///
/// - nothing set: seeds `0..default_count`;
/// - `SIM_SEED=n`: seed `n` alone;
/// - `SIM_SEEDS=n`: seeds `0..n`;
/// - both: seeds `SIM_SEED..SIM_SEED + SIM_SEEDS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seeds {
    start: u64,
    count: u64,
}

impl Seeds {
    /// Seeds `start..start + count`.
    pub fn new(start: u64, count: u64) -> Self {
        Self { start, count }
    }

    /// The seeds `SIM_SEED` and `SIM_SEEDS` ask for, or `0..default_count`.
    ///
    /// # Errors
    ///
    /// A [`SeedsError`] if either variable is set to something other than a number.
    // This is the test harness's one door to its environment, which is how a developer or CI
    // asks to replay a seed or run more of them; the simulation itself never reads it.
    #[allow(clippy::disallowed_methods)]
    pub fn from_env(default_count: u64) -> Result<Self, SeedsError> {
        let read = |variable: &'static str| match std::env::var(variable) {
            Ok(value) => value
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| SeedsError::new(variable, value)),
            Err(_) => Ok(None),
        };
        Ok(Self::from_values(
            read("SIM_SEED")?,
            read("SIM_SEEDS")?,
            default_count,
        ))
    }

    /// The seeds for the given values of `SIM_SEED` and `SIM_SEEDS`.
    pub fn from_values(seed: Option<u64>, seeds: Option<u64>, default_count: u64) -> Self {
        match (seed, seeds) {
            (Some(start), Some(count)) => Self::new(start, count),
            (Some(start), None) => Self::new(start, 1),
            (None, Some(count)) => Self::new(0, count),
            (None, None) => Self::new(0, default_count),
        }
    }

    /// The seeds, in order.
    pub fn range(&self) -> Range<u64> {
        self.start..self.start.saturating_add(self.count)
    }

    /// How many seeds.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Runs `run` on each seed in order and stops at the first failure.
    ///
    /// # Errors
    ///
    /// The first [`Failure`].
    pub fn run(&self, mut run: impl FnMut(u64) -> Result<(), Failure>) -> Result<u64, Failure> {
        for seed in self.range() {
            run(seed)?;
        }
        Ok(self.count)
    }

    /// Runs `run` on each seed and panics with the first failure's report: its seed, how to
    /// replay it, and its last events. This is the call a simulation test makes.
    ///
    /// # Panics
    ///
    /// If a seed fails.
    pub fn check(&self, run: impl FnMut(u64) -> Result<(), Failure>) {
        if let Err(failure) = self.run(run) {
            panic!("{failure}");
        }
    }
}

#[cfg(test)]
mod tests;
