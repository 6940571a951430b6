//! The one kind of random generator in a simulation, and how its streams are derived from the
//! run's seed.

use std::convert::Infallible;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng as _, SeedableRng, TryRng};

/// A seeded, portable random generator: ChaCha8, whose output for a given seed is fixed by its
/// specification and will not change between releases or platforms.
///
/// Every random choice in a run, by the simulator or by a node, comes from a `SimRng` derived
/// from the run's seed, so the seed alone replays the run. It implements
/// [`rand_core::TryRng`](rand_chacha::rand_core::TryRng), so the extension methods of `rand`
/// 0.10 (`RngExt::random_range` and friends) work on it too.
#[derive(Clone, Debug)]
pub struct SimRng {
    inner: ChaCha8Rng,
}

/// What a derived stream is for. Each purpose and node gets its own ChaCha stream, so adding a
/// draw in one place never shifts the numbers another place sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stream {
    /// The simulator's own choices: latencies, losses, faults.
    World,
    /// The generator a node sees through its context.
    Node,
    /// A node's disk faults.
    Disk,
    /// The swarm's choice of which faults are on.
    Swarm,
}

impl SimRng {
    /// A generator for `seed` on stream 0.
    pub fn new(seed: u64) -> Self {
        Self::derive(seed, 0)
    }

    /// A generator for `seed` on the given ChaCha stream. Streams of one seed are independent.
    pub fn derive(seed: u64, stream: u64) -> Self {
        let mut key = [0; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(b"tenfold1");
        let mut inner = ChaCha8Rng::from_seed(key);
        inner.set_stream(stream);
        Self { inner }
    }

    /// The stream for `purpose` of node `node_idx`, in its `incarnation` (restart count).
    pub(crate) fn for_stream(seed: u64, purpose: Stream, node_idx: u32, incarnation: u32) -> Self {
        let purpose = purpose as u64;
        let stream = purpose << 56 | u64::from(node_idx) << 24 | u64::from(incarnation & 0xFF_FFFF);
        Self::derive(seed, stream)
    }

    /// A uniformly random `u64`.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A uniformly random number in `0..n`, or 0 if `n` is 0.
    ///
    /// Uses Lemire's multiply-shift reduction; the bias is below 2^-32 for `n` under 2^32,
    /// which no simulation can observe.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniformly random number in `low..=high`, or `low` if `high < low`.
    #[inline]
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high.saturating_sub(low).saturating_add(1))
    }

    /// A uniformly random float in `[0, 1)` with 53 bits of precision.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`. A `p` of 0 or below never draws and is never true, so a fault
    /// that is off costs nothing and does not shift the stream.
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// An exponentially distributed number with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * libm::log(1.0 - self.unit())
    }
}

impl TryRng for SimRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.inner.next_u32())
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.inner.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.inner.fill_bytes(dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
