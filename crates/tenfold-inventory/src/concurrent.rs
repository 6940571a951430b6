//! The ledger for many threads: each item's stock split across shards that borrow from each
//! other.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crossbeam::utils::CachePadded;
use foldhash::fast::FixedState;
use parking_lot::{Mutex, MutexGuard};

use crate::book::{Book, Conflict, Journal, Plan, ReservationState};
use crate::event::Event;
use crate::ledger::{Config, ReplayError, Request};
use crate::types::{Counts, ItemId, Line, Lsn, Reply, RequestKey, ReservationId};

/// A `Send + Sync` stock ledger that many threads call at once.
///
/// This is the crate's one type with locks, because concurrency is the problem it solves: a
/// hot item that thousands of checkouts hit at the same moment. Each item's stock is split
/// across [`Config::shards`] shards, each a [`crate::Ledger`]'s books behind its own
/// `parking_lot` mutex. A reserve goes to the shard its key hashes to, and a confirm or
/// release to the shard that numbered the reservation, so all of one request's history stays
/// in one shard and most calls take one uncontended lock.
///
/// When a shard runs short it borrows: it takes every shard's lock, in index order, and moves
/// units from the others (at least what it lacks, and up to half of what each lender has). An
/// order is refused as out of stock only while all the locks are held and the shards together
/// lack the units, so no shard sells out while another still has stock.
///
/// Events go to one journal, appended while the shard's lock is held, so the journal's order
/// is one in which every shard's changes happened. The host drains, persists and acknowledges
/// it as with a [`crate::Ledger`]; [`ConcurrentLedger::replay`] rebuilds the shards.
#[derive(Debug)]
pub struct ConcurrentLedger {
    shards: Box<[CachePadded<Mutex<Book>>]>,
    journal: Mutex<Journal>,
    durable: AtomicU64,
    hasher: FixedState,
}

impl ConcurrentLedger {
    /// An empty ledger with `config.shards` shards.
    pub fn new(config: Config) -> Self {
        let shards = (0..config.shards)
            .map(|shard| {
                // `Config::shards` clamps the count to 1..=256, so every index fits a `u8`.
                let book = Book::new(shard as u8, config.shards, config);
                CachePadded::new(Mutex::new(book))
            })
            .collect();
        Self {
            shards,
            journal: Mutex::new(Journal::with_capacity(2 * config.capacity)),
            durable: AtomicU64::new(0),
            hasher: FixedState::with_seed(config.hash_seed),
        }
    }

    /// Rebuilds the shards from the journal's events, in order. `config` must have the shard
    /// count and hashing seed the journal was written with. Every event counts as durable.
    ///
    /// # Errors
    ///
    /// A [`ReplayError`] naming the first event that does not fit the shards built from the
    /// events before it.
    pub fn replay(
        config: Config,
        events: impl IntoIterator<Item = Event>,
    ) -> Result<Self, ReplayError> {
        let ledger = Self::new(config);
        {
            let mut books: Vec<_> = ledger.shards.iter().map(|shard| shard.lock()).collect();
            let mut journal = ledger.journal.lock();
            for (index, event) in events.into_iter().enumerate() {
                let lsn = journal.next_lsn();
                ledger
                    .apply_routed(&mut books, &event, lsn)
                    .map_err(|conflict| ReplayError::new(index as u64, conflict))?;
                // Shards each below `u64::MAX` can still sum past it; refuse such a journal.
                if let Event::Stocked { item, .. } = event
                    && total_initial(&books, item).is_none()
                {
                    return Err(ReplayError::new(index as u64, Conflict::Overflow));
                }
                journal.written = lsn.0;
            }
            journal.durable = journal.written;
            ledger.durable.store(journal.durable, Ordering::Release);
        }
        Ok(ledger)
    }

    /// Adds `units` of `item`, split evenly across the shards.
    ///
    /// Returns the position of the last `Stocked` event, or `None` if a count would overflow
    /// a `u64`, in which case nothing changed.
    pub fn stock(&self, item: ItemId, units: u64, now: Duration) -> Option<Lsn> {
        let mut books: Vec<_> = self.shards.iter().map(|shard| shard.lock()).collect();
        let stocked = total_initial(&books, item)?;
        stocked.checked_add(units)?;
        let mut journal = self.journal.lock();
        let n_shards = books.len() as u64;
        for (shard, book) in books.iter_mut().enumerate() {
            let at = book.observe(now);
            let share = units / n_shards + u64::from((shard as u64) < units % n_shards);
            let shard = shard as u8;
            book.commit_quietly(
                Event::Stocked {
                    at,
                    item,
                    units: share,
                    shard,
                },
                &mut journal,
            );
        }
        Some(Lsn(journal.written))
    }

    /// Holds every line of an order, or refuses it whole; see [`crate::Ledger::reserve`].
    pub fn reserve(&self, key: RequestKey, lines: &[Line], now: Duration) -> Reply {
        let shard = self.shard_of_key(key);
        let mut book = self.shards[shard].lock();
        let event = match book.plan_reserve(key, lines, now) {
            Plan::Known(reply) => return reply,
            Plan::Try(event) => event,
        };
        if needs_borrowing(&book, &event) {
            drop(book);
            return self.reserve_borrowing(shard, key, lines, now);
        }
        book.commit_or_refuse(event, &mut self.journal.lock())
    }

    /// Turns a reservation into a sale; see [`crate::Ledger::confirm`].
    pub fn confirm(&self, key: RequestKey, reservation: ReservationId, now: Duration) -> Reply {
        self.settle(key, reservation, true, now)
    }

    /// Gives a reservation's units back; see [`crate::Ledger::release`].
    pub fn release(&self, key: RequestKey, reservation: ReservationId, now: Duration) -> Reply {
        self.settle(key, reservation, false, now)
    }

    /// Runs a batch of requests at `now`, appending one reply per request, in request order.
    ///
    /// The batch takes each shard's lock once for all its requests to that shard. Requests to
    /// one shard run in batch order; a reserve that has to borrow runs after the rest.
    pub fn submit(&self, requests: &[Request<'_>], now: Duration, replies: &mut Vec<Reply>) {
        let base = replies.len();
        let mut order: Vec<(usize, usize)> = (requests.iter().enumerate())
            .map(|(index, request)| (self.shard_of_request(request), index))
            .collect();
        order.sort_unstable();
        let placeholder = Reply {
            outcome: crate::Outcome::Refused(crate::Refusal::InvalidOrder),
            lsn: Lsn(0),
        };
        replies.resize(base + requests.len(), placeholder);
        let mut deferred = Vec::new();
        for group in order.chunk_by(|a, b| a.0 == b.0) {
            let mut book = self.shards[group[0].0].lock();
            let mut journal = self.journal.lock();
            for &(_, index) in group {
                let reply = match requests[index] {
                    Request::Reserve { key, lines } => match book.plan_reserve(key, lines, now) {
                        Plan::Known(reply) => reply,
                        Plan::Try(event) if needs_borrowing(&book, &event) => {
                            deferred.push(index);
                            continue;
                        }
                        Plan::Try(event) => book.commit_or_refuse(event, &mut journal),
                    },
                    Request::Confirm { key, reservation } => {
                        book.settle(key, reservation, true, now, &mut journal)
                    }
                    Request::Release { key, reservation } => {
                        book.settle(key, reservation, false, now, &mut journal)
                    }
                };
                replies[base + index] = reply;
            }
        }
        for index in deferred {
            if let Request::Reserve { key, lines } = requests[index] {
                replies[base + index] = self.reserve(key, lines, now);
            }
        }
    }

    /// Expires lapsed reservations, looking at no more than `budget` per shard, and returns
    /// how many expired; see [`crate::Ledger::expire`].
    pub fn expire(&self, now: Duration, budget: usize) -> usize {
        let mut n_expired = 0;
        for shard in &self.shards[..] {
            let mut book = shard.lock();
            n_expired += book.expire(now, budget, &mut self.journal.lock());
        }
        n_expired
    }

    /// Moves every event not yet taken into `out`, oldest first, and returns the position of
    /// the last one.
    pub fn drain_events(&self, out: &mut Vec<Event>) -> Lsn {
        let mut journal = self.journal.lock();
        out.extend(journal.pending.drain(..));
        Lsn(journal.written)
    }

    /// Tells the ledger that the host made every event through `lsn` durable.
    pub fn acknowledge(&self, lsn: Lsn) {
        let mut journal = self.journal.lock();
        let taken = journal.written - journal.pending.len() as u64;
        journal.durable = journal.durable.max(lsn.0.min(taken));
        self.durable.store(journal.durable, Ordering::Release);
    }

    /// When to call [`ConcurrentLedger::expire`] next; see [`crate::Ledger::poll_timeout`].
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.shards
            .iter()
            .filter_map(|shard| shard.lock().next_expiry())
            .min()
    }

    /// Whether the host has made `reply` durable, so the buyer may see it.
    pub fn is_durable(&self, reply: &Reply) -> bool {
        reply.lsn.0 <= self.durable.load(Ordering::Acquire)
    }

    /// The stock of `item` summed over the shards, read with every shard locked so that the
    /// sum is one moment's state; `None` if it was never stocked.
    pub fn counts(&self, item: ItemId) -> Option<Counts> {
        let books: Vec<_> = self.shards.iter().map(|shard| shard.lock()).collect();
        books
            .iter()
            .filter_map(|book| book.counts(item))
            .reduce(|total, counts| Counts {
                // Replay and `stock` keep every item's total below `u64::MAX`.
                initial: total.initial.saturating_add(counts.initial),
                available: total.available.saturating_add(counts.available),
                reserved: total.reserved.saturating_add(counts.reserved),
                sold: total.sold.saturating_add(counts.sold),
            })
    }

    /// The stock of `item` in each shard, in shard order.
    pub fn shard_counts(&self, item: ItemId) -> Vec<Counts> {
        let books: Vec<_> = self.shards.iter().map(|shard| shard.lock()).collect();
        books
            .iter()
            .map(|book| book.counts(item).unwrap_or_default())
            .collect()
    }

    /// The first reply recorded for a reserve `key`, if any.
    pub fn reply_for_reserve(&self, key: RequestKey) -> Option<Reply> {
        self.shards[self.shard_of_key(key)].lock().reply(key)
    }

    /// Where a reservation stands, or `None` if it was never made.
    pub fn reservation(&self, reservation: ReservationId) -> Option<ReservationState> {
        self.shards[self.shard_of_reservation(reservation)]
            .lock()
            .state(reservation)
    }

    /// Whether `other` has the same shards holding the same stock, reservations and replies.
    pub fn same_state(&self, other: &Self) -> bool {
        if std::ptr::eq(self, other) {
            return true;
        }
        // Lock one ledger whole, then the other, always in address order, so two threads
        // comparing the same pair the other way round cannot deadlock.
        let (first, second) = if (self as *const Self) < (other as *const Self) {
            (self, other)
        } else {
            (other, self)
        };
        let first_books: Vec<_> = first.shards.iter().map(|shard| shard.lock()).collect();
        let second_books: Vec<_> = second.shards.iter().map(|shard| shard.lock()).collect();
        first_books.len() == second_books.len()
            && first_books
                .iter()
                .zip(&second_books)
                .all(|(a, b)| a.same_books(b))
    }

    fn settle(
        &self,
        key: RequestKey,
        reservation: ReservationId,
        confirm: bool,
        now: Duration,
    ) -> Reply {
        let mut book = self.shards[self.shard_of_reservation(reservation)].lock();
        if let Some(reply) = book.reply(key) {
            return reply;
        }
        book.settle(key, reservation, confirm, now, &mut self.journal.lock())
    }

    /// Reserves with every shard locked, moving units into `shard` first where it falls
    /// short.
    fn reserve_borrowing(
        &self,
        shard: usize,
        key: RequestKey,
        lines: &[Line],
        now: Duration,
    ) -> Reply {
        let mut books: Vec<_> = self.shards.iter().map(|shard| shard.lock()).collect();
        let mut journal = self.journal.lock();
        let event = match books[shard].plan_reserve(key, lines, now) {
            Plan::Known(reply) => return reply,
            Plan::Try(event) => event,
        };
        if let Event::Reserved { at, lines, .. } = &event {
            let mut shortfall = Vec::new();
            books[shard].shortfall(lines, &mut shortfall);
            for (item, missing) in shortfall {
                borrow(&mut books, &mut journal, shard, item, missing, *at);
            }
        }
        books[shard].commit_or_refuse(event, &mut journal)
    }

    fn apply_routed(
        &self,
        books: &mut [MutexGuard<'_, Book>],
        event: &Event,
        lsn: Lsn,
    ) -> Result<(), Conflict> {
        use crate::book::Conflict;
        let shard = match event {
            Event::Stocked { shard, .. } => usize::from(*shard),
            Event::Moved { from, to, .. } => {
                let (from, to) = (usize::from(*from), usize::from(*to));
                if from >= books.len() || to >= books.len() {
                    return Err(Conflict::WrongShard);
                }
                books[from].apply(event, lsn)?;
                return books[to].apply(event, lsn).map(drop);
            }
            Event::Reserved { reservation, .. }
            | Event::Confirmed { reservation, .. }
            | Event::Released { reservation, .. }
            | Event::Expired { reservation, .. }
            | Event::Refused {
                reservation: Some(reservation),
                ..
            } => self.shard_of_reservation(*reservation),
            Event::Refused {
                key,
                reservation: None,
                ..
            } => self.shard_of_key(*key),
        };
        let book = books.get_mut(shard).ok_or(Conflict::WrongShard)?;
        book.apply(event, lsn).map(drop)
    }

    fn shard_of_request(&self, request: &Request<'_>) -> usize {
        match request {
            Request::Reserve { key, .. } => self.shard_of_key(*key),
            Request::Confirm { reservation, .. } | Request::Release { reservation, .. } => {
                self.shard_of_reservation(*reservation)
            }
        }
    }

    fn shard_of_key(&self, key: RequestKey) -> usize {
        (self.hasher.hash_one(key) % self.shards.len() as u64) as usize
    }

    fn shard_of_reservation(&self, reservation: ReservationId) -> usize {
        (reservation.0 % self.shards.len() as u64) as usize
    }
}

/// Whether `event` is a reservation that `book` lacks the units for.
fn needs_borrowing(book: &Book, event: &Event) -> bool {
    let Event::Reserved { lines, .. } = event else {
        return false;
    };
    let mut shortfall = Vec::new();
    book.shortfall(lines, &mut shortfall);
    !shortfall.is_empty()
}

/// Moves units of `item` into shard `to` from the others: `missing` in all if they have it,
/// and up to half of each lender's stock, so the next orders need not borrow again.
fn borrow(
    books: &mut [MutexGuard<'_, Book>],
    journal: &mut Journal,
    to: usize,
    item: ItemId,
    mut missing: u64,
    at: Duration,
) {
    for from in (0..books.len()).filter(|&from| from != to) {
        if missing == 0 {
            break;
        }
        let available = books[from]
            .counts(item)
            .map_or(0, |counts| counts.available);
        let units = available.min(missing.max(available / 2));
        if units == 0 {
            continue;
        }
        // Shard indexes fit a `u8`: `Config::shards` caps the count at 256.
        let event = Event::Moved {
            at,
            item,
            units,
            from: from as u8,
            to: to as u8,
        };
        let lsn = journal.next_lsn();
        if books[from].apply(&event, lsn).is_ok() && books[to].apply(&event, lsn).is_ok() {
            journal.push(event);
            missing = missing.saturating_sub(units);
        }
    }
}

#[cfg(test)]
mod tests;

/// The units of `item` ever stocked, over all shards; `None` if the sum overflows.
fn total_initial(books: &[MutexGuard<'_, Book>], item: ItemId) -> Option<u64> {
    books
        .iter()
        .filter_map(|book| book.counts(item))
        .try_fold(0u64, |total, counts| total.checked_add(counts.initial))
}
