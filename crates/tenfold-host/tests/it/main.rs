//! Integration tests for `tenfold-host`, run against a fresh temporary directory each.

mod clock;
mod files;
#[cfg(feature = "wal")]
mod kill;
#[cfg(feature = "wal")]
mod wal;
