//! Per-node clocks: a fixed offset, a constant drift, and steps of the wall clock.

use std::time::Duration;

use crate::rng::SimRng;

/// How wrong the nodes' clocks are. The default is perfect clocks.
///
/// Each node gets an offset drawn uniformly from `-max_offset..=max_offset` and a drift drawn
/// uniformly from `-max_drift_ppm..=max_drift_ppm` when the simulation is made. During the run,
/// with probability `step` after each event, one node's wall clock steps forwards or backwards
/// by up to `max_step`, as an NTP correction or an operator would do it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClockConfig {
    /// The wall-clock reading of every node at virtual time zero, before offsets.
    pub epoch: Duration,
    /// The largest offset of a node's wall clock from true time, either way.
    pub max_offset: Duration,
    /// The largest drift of a node's clocks, in parts per million, either way.
    pub max_drift_ppm: u32,
    /// The chance, after each event, that some node's wall clock steps.
    pub step: f64,
    /// The largest step, either way.
    pub max_step: Duration,
}

impl Default for ClockConfig {
    fn default() -> Self {
        Self {
            epoch: DEFAULT_EPOCH,
            max_offset: Duration::ZERO,
            max_drift_ppm: 0,
            step: 0.0,
            max_step: Duration::ZERO,
        }
    }
}

/// One node's clock, as a function of the simulation's true virtual time.
///
/// - The monotonic reading is `true_time * (1 + drift)`. It counts from the start of the run
///   and carries on across restarts, like `CLOCK_BOOTTIME`, and it never goes backwards.
/// - The wall reading is `epoch + monotonic + offset + steps`, saturating at zero. Steps make
///   it jump either way; it is the clock to distrust.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeClock {
    epoch_nanos: i128,
    offset_nanos: i128,
    drift_ppm: i64,
}

impl NodeClock {
    /// A clock with the given wall offset in nanoseconds and drift in parts per million.
    ///
    /// # Panics
    ///
    /// If `drift_ppm` is -1,000,000 or below: such a clock would stand still or run backwards.
    pub fn new(epoch: Duration, offset_nanos: i64, drift_ppm: i64) -> Self {
        assert!(
            drift_ppm > -PPM,
            "a clock drift of {drift_ppm} ppm stops the clock"
        );
        Self {
            epoch_nanos: epoch.as_nanos() as i128,
            offset_nanos: i128::from(offset_nanos),
            drift_ppm,
        }
    }

    /// A clock with its offset and drift drawn from `config`.
    pub(crate) fn random(config: &ClockConfig, rng: &mut SimRng) -> Self {
        let offset = config.max_offset.as_nanos().min(i64::MAX as u128 / 2) as i64;
        let offset = rng.between(0, 2 * offset as u64) as i64 - offset;
        let drift = i64::from(config.max_drift_ppm.min(999_999));
        let drift = rng.between(0, 2 * drift as u64) as i64 - drift;
        Self::new(config.epoch, offset, drift)
    }

    /// The monotonic reading at true virtual time `now`.
    pub fn monotonic(&self, now: Duration) -> Duration {
        let now = now.as_nanos() as i128;
        let local = now + now * i128::from(self.drift_ppm) / i128::from(PPM);
        Duration::from_nanos(local.clamp(0, i128::from(u64::MAX)) as u64)
    }

    /// The wall reading at true virtual time `now`, since the Unix epoch.
    pub fn wall(&self, now: Duration) -> Duration {
        let mono = self.monotonic(now).as_nanos() as i128;
        let wall = self.epoch_nanos + mono + self.offset_nanos;
        Duration::from_nanos(wall.clamp(0, i128::from(u64::MAX)) as u64)
    }

    /// Steps the wall clock by `by_nanos`, forwards if positive.
    pub fn step(&mut self, by_nanos: i64) {
        self.offset_nanos += i128::from(by_nanos);
    }

    /// The true virtual time that passes while this clock's monotonic reading advances by
    /// `local`, rounded up so a timer never fires early by its own clock.
    pub fn true_delay(&self, local: Duration) -> Duration {
        let local = local.as_nanos();
        let rate = (PPM + self.drift_ppm) as u128;
        let nanos = (local * PPM as u128).div_ceil(rate);
        Duration::from_nanos(nanos.min(u128::from(u64::MAX)) as u64)
    }

    /// The drift in parts per million.
    pub fn drift_ppm(&self) -> i64 {
        self.drift_ppm
    }

    /// The current offset of the wall clock from true time, in nanoseconds, steps included.
    pub fn offset_nanos(&self) -> i128 {
        self.offset_nanos
    }
}

/// 2026-01-01T00:00:00Z, so that wall readings look like real timestamps.
pub const DEFAULT_EPOCH: Duration = Duration::from_secs(1_767_225_600);

const PPM: i64 = 1_000_000;

#[cfg(test)]
mod tests;
