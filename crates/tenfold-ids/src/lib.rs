//! Unique, time-sortable IDs for many nodes: 64-bit snowflakes, UUIDv7 and ULID.
//!
//! This crate is a sans-IO core. It never reads a clock, sleeps, spawns a thread, draws from
//! a global random generator or writes to disk. The host hands in the time as a
//! [`Timestamp`] (or a [`Clock`]), hands in a seeded random generator where one is needed,
//! and carries out the one effect the generators ask for, persisting a high-water mark, when
//! a [`Mint::Reserve`] comes back.
//!
//! # What is in it
//!
//! - [`Layout`]: the bit widths of the time, node and sequence fields of a 64-bit ID, the
//!   time unit and the epoch, checked when built. Presets reproduce Twitter, Discord and
//!   Sonyflake, and [`Layout::js_safe`] fits 53 bits for JavaScript clients.
//! - [`Generator`]: a single-owner generator for one node; [`Generator::mint_block`] hands
//!   out a [`Block`] of IDs at once. [`Generator::split`] gives each thread a lane of its
//!   own; [`SharedGenerator`] is one generator that many threads mint from without locks.
//! - [`Uuid7Generator`] and [`UlidGenerator`]: strictly increasing 128-bit IDs.
//! - Text forms: decimal, Crockford base32 and base62 for [`Id64`]; the UUID form, base32
//!   and base62 for [`Uuid`] and [`Ulid`]. Every parser returns a typed [`ParseError`].
//! - [`Layout::decompose`] and [`Layout::min_id_at`] (and their 128-bit kin) for reading IDs
//!   back and for range scans.
//!
//! # What can go wrong, and what the generators do about it
//!
//! | failure | answer |
//! | --- | --- |
//! | the wall clock steps back while running | the next ID is ahead of the clock; [`Policy`] borrows, asks to retry, or refuses |
//! | the clock stepped back while the process was down | a new generator starts at the persisted [`HighWater`] mark, above every earlier ID |
//! | the sequence runs out within one time unit | the same policy: borrow the next unit, retry at it, or refuse |
//! | time was borrowed ahead, then the process restarted | borrowed time is never past the persisted mark, so the restart starts above it |
//! | a second process or a restarted pod reuses the node ID | the [`Lease`] expires (or the host ends it with [`Generator::end_lease`]) and minting stops; the host's store fences out stale epochs |
//! | a JavaScript client reads a 64-bit ID | [`Layout::js_safe`] and [`Id64::is_js_safe`]; or send IDs as strings |
//!
//! # Example: a host's minting loop
//!
//! ```
//! use tenfold_ids::{Generator, HighWater, Layout, Lease, ManualClock, Mint, Policy};
//! use tenfold_ids::{Clock, Timestamp};
//! use std::time::Duration;
//!
//! let clock = ManualClock::new(Timestamp::from_unix_ms(1_700_000_000_000));
//! let mut durable_mark = HighWater::ZERO;
//! let mut generator = Generator::builder(Layout::twitter())
//!     .policy(Policy::borrow(Duration::from_millis(2)).and_wait(Duration::from_secs(1)))
//!     .start(Lease::forever(42), durable_mark)?;
//!
//! let mut ids = Vec::new();
//! while ids.len() < 10_000 {
//!     match generator.mint_with(&clock)? {
//!         Mint::Id(id) => ids.push(id),
//!         Mint::Reserve(reservation) => {
//!             durable_mark = durable_mark.max(reservation.up_to()); // Write it durably here.
//!             generator.acknowledge(reservation)?;
//!         }
//!         // A real host sleeps until `at`; this one moves its clock.
//!         Mint::RetryAt(at) => clock.set(at),
//!     }
//!     if ids.len() == 5_000 {
//!         clock.step_back(Duration::from_secs(3)); // An NTP step backwards.
//!         clock.advance(Duration::from_secs(3));
//!     }
//! }
//! assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod codec;
mod generator;
mod id128;
mod id64;
mod layout;
mod policy;
mod time;

pub use codec::{Format, ParseError, ParseErrorKind};
pub use generator::{
    Block, Generator, GeneratorBuilder, HighWater, Lease, LeaseMismatch, Mint, MintError,
    Reservation, SharedGenerator, SplitError, StartError, Stats,
};
pub use id64::Id64;
pub use id128::{Mint128, Ulid, UlidGenerator, Uuid, Uuid7Generator};
pub use layout::{FieldOrder, Layout, LayoutBuilder, LayoutError, Parts, RangeError};
pub use policy::Policy;
pub use time::{Clock, ManualClock, Timestamp};
