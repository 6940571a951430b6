//! Integration tests for `tenfold-ids`: the published test vectors, property tests, real
//! threads on the shared generator, and 1,024 nodes simulated under `tenfold-sim` and in a
//! faster model for volume.

mod fleet;
mod props;
#[cfg(feature = "serde")]
mod serde;
mod sim;
mod threads;
mod vectors;
