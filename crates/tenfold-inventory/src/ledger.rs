//! The single-owner stock ledger.

use std::fmt;
use std::time::Duration;

use crate::book::{Book, Conflict, Journal, Plan, ReservationState};
use crate::event::Event;
use crate::types::{Counts, ItemId, Line, Lsn, Refusal, Reply, RequestKey, ReservationId};

/// How a ledger behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub(crate) hold_for: Duration,
    pub(crate) hash_seed: u64,
    pub(crate) shards: usize,
    pub(crate) capacity: usize,
}

impl Config {
    /// Holds last 10 minutes; hashing seed 0; 8 shards for a [`crate::ConcurrentLedger`].
    pub fn new() -> Self {
        Self {
            hold_for: Duration::from_secs(600),
            hash_seed: 0,
            shards: 8,
            capacity: 0,
        }
    }

    /// How long a reservation holds its units before it expires.
    pub fn hold_for(mut self, hold_for: Duration) -> Self {
        self.hold_for = hold_for;
        self
    }

    /// The seed of the hash tables that index request keys. Give a random seed from the
    /// host's generator where clients choose keys, so that no client can aim for collisions.
    /// It must be the same when a journal is replayed under a [`crate::ConcurrentLedger`],
    /// since it decides which shard a key lives in.
    pub fn hash_seed(mut self, hash_seed: u64) -> Self {
        self.hash_seed = hash_seed;
        self
    }

    /// Room for this many reservations (and twice as many request keys and journal events)
    /// from the start, so that a sale does not pause to grow its tables. A
    /// [`crate::ConcurrentLedger`] divides it among its shards. Default 0.
    pub fn capacity(mut self, reservations: usize) -> Self {
        self.capacity = reservations;
        self
    }

    /// How many shards a [`crate::ConcurrentLedger`] splits each item's stock into, from 1 to
    /// 256; other values are clamped. A [`Ledger`] ignores it.
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards.clamp(1, 256);
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

/// One request in a batch for [`Ledger::submit`] or [`crate::ConcurrentLedger::submit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    /// Hold every line of an order, or none of them.
    Reserve {
        /// The request's idempotency key.
        key: RequestKey,
        /// The order's lines.
        lines: &'a [Line],
    },
    /// Turn a reservation into a sale.
    Confirm {
        /// The request's idempotency key.
        key: RequestKey,
        /// The reservation.
        reservation: ReservationId,
    },
    /// Give a reservation's units back.
    Release {
        /// The request's idempotency key.
        key: RequestKey,
        /// The reservation.
        reservation: ReservationId,
    },
}

/// The stock ledger of one process: a single-owner state machine with no I/O.
///
/// Every change is an [`Event`] queued for the host. The host takes them with
/// [`Ledger::poll_event`] or [`Ledger::drain_events`], makes them durable, calls
/// [`Ledger::acknowledge`], and only then shows the buyer the [`Reply`] it is holding
/// ([`Ledger::is_durable`] says when). After a crash, [`Ledger::replay`] of the durable
/// events rebuilds the same ledger.
#[derive(Clone, Debug)]
pub struct Ledger {
    book: Book,
    journal: Journal,
}

impl Ledger {
    /// An empty ledger.
    pub fn new(config: Config) -> Self {
        let book = Book::new(0, 1, config);
        let journal = Journal::with_capacity(2 * config.capacity);
        Self { book, journal }
    }

    /// Rebuilds a ledger from the events of its journal, in order. Every event counts as
    /// durable.
    ///
    /// # Errors
    ///
    /// A [`ReplayError`] naming the first event that does not fit the ledger built from the
    /// events before it, such as a confirmation of a reservation that was never made.
    pub fn replay(
        config: Config,
        events: impl IntoIterator<Item = Event>,
    ) -> Result<Self, ReplayError> {
        let mut ledger = Self::new(config);
        for (index, event) in events.into_iter().enumerate() {
            let lsn = ledger.journal.next_lsn();
            // Units move only between the shards of a sharded ledger; here a move would make
            // or destroy stock.
            if matches!(event, Event::Moved { .. }) {
                return Err(ReplayError::new(index as u64, Conflict::WrongShard));
            }
            if let Err(conflict) = ledger.book.apply(&event, lsn) {
                return Err(ReplayError::new(index as u64, conflict));
            }
            ledger.journal.written = lsn.0;
        }
        ledger.journal.durable = ledger.journal.written;
        Ok(ledger)
    }

    /// Adds `units` of `item` to the stock, creating the item on first use.
    ///
    /// Returns the position of the `Stocked` event, or `None` if the count would overflow a
    /// `u64`, in which case nothing changed.
    pub fn stock(&mut self, item: ItemId, units: u64, now: Duration) -> Option<Lsn> {
        let at = self.book.observe(now);
        let event = Event::Stocked {
            at,
            item,
            units,
            shard: 0,
        };
        let applied = self.book.commit_quietly(event, &mut self.journal);
        applied.then_some(Lsn(self.journal.written))
    }

    /// Holds every line of an order until `now` plus the configured hold, or refuses it
    /// whole. A retry with the same `key` returns the first reply, refusal included.
    pub fn reserve(&mut self, key: RequestKey, lines: &[Line], now: Duration) -> Reply {
        match self.book.plan_reserve(key, lines, now) {
            Plan::Known(reply) => reply,
            Plan::Try(event) => self.book.commit_or_refuse(event, &mut self.journal),
        }
    }

    /// Turns a reservation into a sale. A reservation whose hold has lapsed by `now` is
    /// expired instead and the confirmation is refused, whether or not
    /// [`Ledger::expire`] has reached it yet.
    pub fn confirm(&mut self, key: RequestKey, reservation: ReservationId, now: Duration) -> Reply {
        self.book
            .settle(key, reservation, true, now, &mut self.journal)
    }

    /// Gives a reservation's units back before it lapses.
    pub fn release(&mut self, key: RequestKey, reservation: ReservationId, now: Duration) -> Reply {
        self.book
            .settle(key, reservation, false, now, &mut self.journal)
    }

    /// Runs a batch of requests in order at `now`, appending one reply per request.
    pub fn submit(&mut self, requests: &[Request<'_>], now: Duration, replies: &mut Vec<Reply>) {
        replies.reserve(requests.len());
        for request in requests {
            let reply = match *request {
                Request::Reserve { key, lines } => self.reserve(key, lines, now),
                Request::Confirm { key, reservation } => self.confirm(key, reservation, now),
                Request::Release { key, reservation } => self.release(key, reservation, now),
            };
            replies.push(reply);
        }
    }

    /// Expires reservations whose hold lapsed by `now`, oldest first, looking at no more than
    /// `budget` reservations, and returns how many it expired. Call it when
    /// [`Ledger::poll_timeout`] is due; with a small budget, call again until it returns 0.
    pub fn expire(&mut self, now: Duration, budget: usize) -> usize {
        self.book.expire(now, budget, &mut self.journal)
    }

    /// The next event for the host to make durable, oldest first. Call it after any call
    /// that changes the ledger, until it returns `None`.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.journal.pending.pop_front()
    }

    /// Moves every event not yet taken into `out`, and returns the position of the last one.
    pub fn drain_events(&mut self, out: &mut Vec<Event>) -> Lsn {
        out.extend(self.journal.pending.drain(..));
        Lsn(self.journal.written)
    }

    /// Tells the ledger that the host made every event through `lsn` durable.
    pub fn acknowledge(&mut self, lsn: Lsn) {
        let taken = self.journal.written - self.journal.pending.len() as u64;
        self.journal.durable = self.journal.durable.max(lsn.0.min(taken));
    }

    /// When to call [`Ledger::expire`] next: when the oldest reservation it has not yet
    /// passed lapses. That reservation may have been confirmed or released since, so the time
    /// can be early, never late.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.book.next_expiry()
    }

    /// Whether the host has made `reply` durable, so the buyer may see it.
    pub fn is_durable(&self, reply: &Reply) -> bool {
        reply.lsn.0 <= self.journal.durable
    }

    /// How far the journal is durable.
    pub fn durable_lsn(&self) -> Lsn {
        Lsn(self.journal.durable)
    }

    /// The stock of `item`, or `None` if it was never stocked.
    pub fn counts(&self, item: ItemId) -> Option<Counts> {
        self.book.counts(item)
    }

    /// Every item and its stock, in no particular order.
    pub fn items(&self) -> impl Iterator<Item = (ItemId, Counts)> + '_ {
        self.book.items()
    }

    /// The first reply recorded for `key`, if any.
    pub fn reply_for(&self, key: RequestKey) -> Option<Reply> {
        self.book.reply(key)
    }

    /// Where a reservation stands, or `None` if it was never made.
    pub fn reservation(&self, reservation: ReservationId) -> Option<ReservationState> {
        self.book.state(reservation)
    }

    /// Counters for monitoring.
    pub fn stats(&self) -> Stats {
        Stats {
            n_reservations: self.book.n_reservations() as u64,
            n_keys: self.book.n_keys() as u64,
            written: Lsn(self.journal.written),
            durable: Lsn(self.journal.durable),
        }
    }

    /// Whether `other` holds the same stock, reservations and recorded replies. The journal
    /// positions and the expiry cursor are not compared.
    pub fn same_state(&self, other: &Self) -> bool {
        self.book.same_books(&other.book)
    }
}

/// Counters for monitoring a ledger.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Reservations ever made.
    pub n_reservations: u64,
    /// Request keys with a recorded reply.
    pub n_keys: u64,
    /// Events written to the journal.
    pub written: Lsn,
    /// Events the host acknowledged as durable.
    pub durable: Lsn,
}

/// A journal that cannot be replayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayError {
    index: u64,
    kind: ReplayErrorKind,
}

/// Why an event could not be replayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplayErrorKind {
    /// The event's change is impossible in the ledger so far, for this reason.
    Refused(Refusal),
    /// The event records a second outcome for a request key.
    KeyReused,
    /// The event numbers a reservation out of sequence.
    OutOfOrder,
    /// The event names a shard the ledger does not have.
    WrongShard,
    /// The event overflows a stock count.
    Overflow,
}

impl ReplayError {
    pub(crate) fn new(index: u64, conflict: Conflict) -> Self {
        let kind = match conflict {
            Conflict::Refuse(refusal) => ReplayErrorKind::Refused(refusal),
            Conflict::KeyReused => ReplayErrorKind::KeyReused,
            Conflict::OutOfOrder => ReplayErrorKind::OutOfOrder,
            Conflict::WrongShard => ReplayErrorKind::WrongShard,
            Conflict::Overflow => ReplayErrorKind::Overflow,
        };
        Self { index, kind }
    }

    /// The 0-based position of the offending event in the replayed sequence.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Why it could not be replayed.
    pub fn kind(&self) -> ReplayErrorKind {
        self.kind
    }
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "event {} cannot be replayed: ", self.index)?;
        match self.kind {
            ReplayErrorKind::Refused(refusal) => write!(f, "{refusal}"),
            ReplayErrorKind::KeyReused => f.write_str("its request key already has an outcome"),
            ReplayErrorKind::OutOfOrder => f.write_str("its reservation is numbered out of order"),
            ReplayErrorKind::WrongShard => {
                f.write_str("it names a shard this ledger does not have")
            }
            ReplayErrorKind::Overflow => f.write_str("it overflows a stock count"),
        }
    }
}

impl std::error::Error for ReplayError {}

#[cfg(test)]
mod tests;
