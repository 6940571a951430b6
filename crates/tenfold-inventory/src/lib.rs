//! Flash-sale checkout with no I/O: fair admission, expiring reservations, idempotent
//! confirmation, and never one unit oversold.
//!
//! Half a million buyers want ten thousand units. This crate decides who gets them:
//!
//! - [`Admission`] limits how often each user may try ([`Gcra`], per user) and how fast buyers
//!   reach the checkout (a second [`Gcra`]), and queues them first come, first served. The
//!   queue issues a ticket only while unpromised units remain, so it closes the moment its
//!   tickets cover the stock: nobody waits for stock that is already gone.
//! - [`Ledger`] holds the stock. Buyers [`reserve`](Ledger::reserve) (every line of the order
//!   or none), then [`confirm`](Ledger::confirm) or [`release`](Ledger::release); holds that
//!   lapse [`expire`](Ledger::expire), a bounded number per call. After every step,
//!   `available + reserved + sold == initial` for every item, and a lapsed hold can never be
//!   confirmed.
//! - Every request carries a [`RequestKey`]. A retry with the same key gets the first
//!   [`Reply`], refusals included, so a double click never reserves or charges twice.
//! - [`ConcurrentLedger`] is the same ledger for many threads: each item's stock is split
//!   across shards that borrow from each other when they run short.
//!
//! # The no-I/O contract
//!
//! Nothing here reads a clock, touches a file, spawns a thread or draws randomness. Time is
//! the `now: Duration` argument of every call, on a clock the host keeps; times before the
//! latest one seen are treated as that one, so a clock that jumps back cannot revive a lapsed
//! hold. Hold expiry times are journaled, so the host's clock must keep counting across a
//! restart (wall time, or a monotonic clock whose offset the host stores).
//!
//! # Durability: events out, acknowledgements in
//!
//! Every state change is an [`Event`]. The ledger queues them; the host takes them with
//! [`Ledger::poll_event`] or [`Ledger::drain_events`], makes them durable (encoding each with
//! [`Event::encode`]), and calls [`Ledger::acknowledge`]. Each [`Reply`] names the journal
//! position ([`Lsn`]) it waits on: the host shows it to the buyer only once
//! [`Ledger::is_durable`] says so. An event carries its request key along with its effect, so
//! the key is recorded no later than the effect, and a confirmation a buyer has seen is on
//! disk. After a crash, [`Ledger::replay`] of the durable events rebuilds the same ledger;
//! requests whose events were lost were never answered, and their retries run afresh.
//!
//! # Example: a drive loop
//!
//! ```
//! use std::time::Duration;
//! use tenfold_inventory::{Config, Event, ItemId, Ledger, Line, Outcome, RequestKey};
//!
//! let config = Config::new().hold_for(Duration::from_secs(30));
//! let mut ledger = Ledger::new(config);
//! let item = ItemId(7);
//! let now = Duration::from_secs(1);
//! ledger.stock(item, 3, now);
//!
//! // A buyer reserves one unit, and clicks twice: the same key gets the same reply.
//! let key = RequestKey(0xB0B);
//! let reply = ledger.reserve(key, &[Line::new(item, 1)], now);
//! assert_eq!(ledger.reserve(key, &[Line::new(item, 1)], now), reply);
//!
//! // The host makes the events durable before the buyer sees the reply.
//! let mut journal: Vec<u8> = Vec::new();
//! let mut events = Vec::new();
//! let lsn = ledger.drain_events(&mut events);
//! for event in &events {
//!     event.encode(&mut journal);
//! }
//! // (The host writes and syncs `journal` here.)
//! ledger.acknowledge(lsn);
//! assert!(ledger.is_durable(&reply));
//!
//! let Outcome::Reserved { reservation, .. } = reply.outcome else {
//!     return Err("not reserved".into());
//! };
//! let confirmed = ledger.confirm(RequestKey(0xB0B1), reservation, now);
//! assert_eq!(confirmed.outcome, Outcome::Confirmed { reservation });
//!
//! // After a crash, replaying the durable events restores the ledger.
//! let mut durable = Vec::new();
//! let mut bytes = &journal[..];
//! while !bytes.is_empty() {
//!     let (event, used) = Event::decode(bytes)?;
//!     durable.push(event);
//!     bytes = &bytes[used..];
//! }
//! let recovered = Ledger::replay(config, durable)?;
//! assert_eq!(recovered.counts(item).map(|c| c.reserved), Some(1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Why not `governor` for admission
//!
//! [`governor`](https://docs.rs/governor) implements the same algorithm, GCRA, and can be made
//! to fit the contract: its limiters are generic over a clock trait, and with its default
//! features off (no `quanta`, no `jitter`) a host can pass a clock that returns the `now` it
//! was handed. It still reads that clock from inside `check`, rather than taking `now` as an
//! argument; its keyed state lives in a concurrent map that cannot be inspected, pruned with a
//! budget or rebuilt after a crash; and it has no notion of a queue that closes when tickets
//! cover the stock. [`Gcra`] is a dozen lines of arithmetic on one `Duration`, so this crate
//! keeps its own and benches it beside governor (`benches/benches/inventory.rs`).
//!
//! # Beyond one machine
//!
//! A ledger is one shard of a catalogue. Partition items across processes by item ID (an
//! order spanning partitions needs a two-phase protocol above this crate), journal each
//! ledger's events through the host's log (a replicated WAL, Kafka), and keep admission in
//! front of the ledger that owns the hot item.

mod admission;
mod book;
mod concurrent;
mod event;
mod ledger;
pub mod simulation;
mod types;

pub use admission::{Admission, AdmissionConfig, AdmissionStats, Gcra, Join, Rate, Ticket, UserId};
pub use book::ReservationState;
pub use concurrent::ConcurrentLedger;
pub use event::{DecodeError, DecodeErrorKind, Event};
pub use ledger::{Config, Ledger, ReplayError, ReplayErrorKind, Request, Stats};
pub use types::{
    Counts, ItemId, Line, Lines, Lsn, Outcome, Refusal, Reply, RequestKey, ReservationId,
};
