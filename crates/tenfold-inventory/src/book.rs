//! The books of one shard: stock counts, reservations and request keys, changed only by
//! applying events.
//!
//! Live requests and journal replay go through the same [`Book::apply`], so a replayed book is
//! the live book by construction. `apply` checks an event against the books before it changes
//! anything, so an event is applied whole or not at all; the one check made last, a request
//! key used twice, fails only on a corrupt journal, whose replay is then abandoned.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use foldhash::fast::FixedState;

use crate::event::Event;
use crate::ledger::Config;
use crate::types::{
    Counts, ItemId, Line, Lines, Lsn, Outcome, Refusal, Reply, RequestKey, ReservationId,
};

/// The latest time the journal can encode: `u64::MAX` nanoseconds, about 584 years.
pub(crate) const MAX_TIME: Duration = Duration::from_nanos(u64::MAX);

/// Where a reservation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReservationState {
    /// Holding units until it is confirmed, released or expires.
    Active,
    /// Sold.
    Confirmed,
    /// Given up by the buyer.
    Released,
    /// Lapsed before it was confirmed.
    Expired,
}

/// Why an event cannot be applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Conflict {
    /// The request is refused; live, this becomes a `Refused` event.
    Refuse(Refusal),
    /// The request key already has an outcome.
    KeyReused,
    /// The reservation is not the next one this shard would number.
    OutOfOrder,
    /// The event names a shard that is not this one, or the same shard twice.
    WrongShard,
    /// A count would overflow a `u64`.
    Overflow,
}

/// The journal's unsent tail and its positions.
#[derive(Clone, Debug, Default)]
pub(crate) struct Journal {
    pub(crate) pending: VecDeque<Event>,
    pub(crate) written: u64,
    pub(crate) durable: u64,
}

impl Journal {
    pub(crate) fn with_capacity(events: usize) -> Self {
        let pending = VecDeque::with_capacity(events);
        Self {
            pending,
            ..Self::default()
        }
    }

    pub(crate) fn next_lsn(&self) -> Lsn {
        Lsn(self.written + 1)
    }

    pub(crate) fn push(&mut self, event: Event) -> Lsn {
        self.written += 1;
        self.pending.push_back(event);
        Lsn(self.written)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Hold {
    lines: Lines,
    expires_at: Duration,
    state: ReservationState,
}

#[derive(Clone, Debug)]
pub(crate) struct Book {
    shard: u8,
    n_shards: u64,
    hold_for: Duration,
    items: Items,
    holds: Vec<Hold>,
    // FIXME(#8): request keys and closed holds are kept forever; keep them for a retention
    // window instead, behind a journaled checkpoint that replay can start from.
    keys: HashMap<RequestKey, Reply, FixedState>,
    expiry_cursor: usize,
    floor: Duration,
}

/// A reserve request after its key was looked up.
pub(crate) enum Plan {
    /// The key already has an outcome.
    Known(Reply),
    /// The event to try.
    Try(Event),
}

impl Book {
    pub(crate) fn new(shard: u8, n_shards: usize, config: Config) -> Self {
        let hasher = FixedState::with_seed(config.hash_seed);
        let capacity = config.capacity / n_shards;
        let mut keys = HashMap::with_hasher(hasher.clone());
        keys.reserve(2 * capacity);
        let index = HashMap::with_hasher(hasher);
        Self {
            shard,
            n_shards: n_shards as u64,
            hold_for: config.hold_for,
            items: Items {
                list: Vec::new(),
                index,
            },
            holds: Vec::with_capacity(capacity),
            keys,
            expiry_cursor: 0,
            floor: Duration::ZERO,
        }
    }

    /// Moves the shard's clock to `now`, never backwards, and returns the time to use.
    pub(crate) fn observe(&mut self, now: Duration) -> Duration {
        self.floor = self.floor.max(now.min(MAX_TIME));
        self.floor
    }

    pub(crate) fn plan_reserve(&mut self, key: RequestKey, lines: &[Line], now: Duration) -> Plan {
        let at = self.observe(now);
        if let Some(reply) = self.keys.get(&key) {
            return Plan::Known(*reply);
        }
        let event = match Lines::normalize(lines) {
            Some(lines) => Event::Reserved {
                at,
                key,
                reservation: self.next_reservation(),
                lines,
                expires_at: at.saturating_add(self.hold_for).min(MAX_TIME),
            },
            None => {
                let refusal = Refusal::InvalidOrder;
                Event::Refused {
                    at,
                    key,
                    reservation: None,
                    refusal,
                }
            }
        };
        Plan::Try(event)
    }

    /// Confirms (`confirm`) or releases a reservation, expiring it first if it is due.
    pub(crate) fn settle(
        &mut self,
        key: RequestKey,
        reservation: ReservationId,
        confirm: bool,
        now: Duration,
        journal: &mut Journal,
    ) -> Reply {
        let at = self.observe(now);
        if let Some(reply) = self.keys.get(&key) {
            return *reply;
        }
        self.expire_if_due(reservation, at, journal);
        let event = match confirm {
            true => Event::Confirmed {
                at,
                key,
                reservation,
            },
            false => Event::Released {
                at,
                key,
                reservation,
            },
        };
        self.commit_or_refuse(event, journal)
    }

    /// Expires due reservations, visiting at most `budget` of them, and returns how many
    /// expired.
    pub(crate) fn expire(&mut self, now: Duration, budget: usize, journal: &mut Journal) -> usize {
        let at = self.observe(now);
        let mut n_expired = 0;
        for _ in 0..budget {
            let Some(hold) = self.holds.get(self.expiry_cursor) else {
                break;
            };
            if hold.expires_at > at {
                break;
            }
            if hold.state == ReservationState::Active {
                let reservation = self.reservation_at(self.expiry_cursor);
                self.commit_quietly(Event::Expired { at, reservation }, journal);
                n_expired += 1;
            }
            self.expiry_cursor += 1;
        }
        n_expired
    }

    /// Applies `event`, or a `Refused` event in its place if the request it answers is
    /// refused.
    pub(crate) fn commit_or_refuse(&mut self, event: Event, journal: &mut Journal) -> Reply {
        match self.apply(&event, journal.next_lsn()) {
            Ok(reply) => {
                let lsn = journal.push(event);
                reply.unwrap_or(Reply {
                    outcome: Outcome::Refused(Refusal::InvalidOrder),
                    lsn,
                })
            }
            Err(conflict) => {
                let refusal = match conflict {
                    Conflict::Refuse(refusal) => refusal,
                    // Live requests cannot reuse a key or skip a number: the key was looked up
                    // and the number chosen just before. Refuse rather than panic all the same.
                    _ => Refusal::InvalidOrder,
                };
                let refused = refused_for(&event, refusal);
                match self.apply(&refused, journal.next_lsn()) {
                    Ok(Some(reply)) => {
                        journal.push(refused);
                        reply
                    }
                    _ => Reply {
                        outcome: Outcome::Refused(refusal),
                        lsn: journal.next_lsn(),
                    },
                }
            }
        }
    }

    /// Applies an event that answers no request (stocking, moving, expiring).
    pub(crate) fn commit_quietly(&mut self, event: Event, journal: &mut Journal) -> bool {
        let applied = self.apply(&event, journal.next_lsn()).is_ok();
        if applied {
            journal.push(event);
        }
        applied
    }

    /// Applies one event, checking first that it fits the books, and returns the reply it
    /// records for a request key, if any.
    pub(crate) fn apply(&mut self, event: &Event, lsn: Lsn) -> Result<Option<Reply>, Conflict> {
        self.floor = self.floor.max(event.at());
        match event {
            Event::Stocked {
                item, units, shard, ..
            } => {
                if *shard != self.shard {
                    return Err(Conflict::WrongShard);
                }
                self.add_units(*item, *units)?;
                Ok(None)
            }
            Event::Moved {
                item,
                units,
                from,
                to,
                ..
            } => self.apply_moved(*item, *units, *from, *to),
            Event::Reserved {
                key,
                reservation,
                lines,
                expires_at,
                ..
            } => self.apply_reserved(*key, *reservation, lines, *expires_at, lsn),
            Event::Confirmed {
                at,
                key,
                reservation,
            } => self.apply_closing(*key, *reservation, *at, ReservationState::Confirmed, lsn),
            Event::Released {
                at,
                key,
                reservation,
            } => self.apply_closing(*key, *reservation, *at, ReservationState::Released, lsn),
            Event::Expired { at, reservation } => {
                let index = self.active_index(*reservation)?;
                if *at < self.holds[index].expires_at {
                    return Err(Conflict::Refuse(Refusal::UnknownReservation));
                }
                self.close(index, ReservationState::Expired);
                Ok(None)
            }
            Event::Refused { key, refusal, .. } => {
                let outcome = Outcome::Refused(*refusal);
                self.record(*key, outcome, lsn).map(Some)
            }
        }
    }

    /// The units `lines` need beyond what this shard has available, per item.
    pub(crate) fn shortfall(&self, lines: &[Line], out: &mut Vec<(ItemId, u64)>) {
        out.clear();
        for line in lines {
            let available = self
                .items
                .get(&line.item)
                .map_or(0, |counts| counts.available);
            if available < u64::from(line.units) {
                out.push((line.item, u64::from(line.units) - available));
            }
        }
    }

    pub(crate) fn counts(&self, item: ItemId) -> Option<Counts> {
        self.items.get(&item).copied()
    }

    pub(crate) fn items(&self) -> impl Iterator<Item = (ItemId, Counts)> + '_ {
        self.items.list.iter().copied()
    }

    pub(crate) fn reply(&self, key: RequestKey) -> Option<Reply> {
        self.keys.get(&key).copied()
    }

    pub(crate) fn state(&self, reservation: ReservationId) -> Option<ReservationState> {
        self.index_of(reservation)
            .and_then(|index| self.holds.get(index))
            .map(|hold| hold.state)
    }

    /// When the oldest hold not yet passed by the expiry cursor lapses. The hold may have been
    /// closed since, so this can be early, never late.
    pub(crate) fn next_expiry(&self) -> Option<Duration> {
        self.holds
            .get(self.expiry_cursor)
            .map(|hold| hold.expires_at)
    }

    pub(crate) fn n_reservations(&self) -> usize {
        self.holds.len()
    }

    pub(crate) fn n_keys(&self) -> usize {
        self.keys.len()
    }

    /// Whether two books hold the same stock, reservations and key outcomes.
    pub(crate) fn same_books(&self, other: &Self) -> bool {
        self.items == other.items && self.holds == other.holds && self.keys == other.keys
    }

    fn apply_moved(&mut self, item: ItemId, units: u64, from: u8, to: u8) -> ApplyResult {
        if from == to || (from != self.shard && to != self.shard) {
            return Err(Conflict::WrongShard);
        }
        if from == self.shard {
            let counts = self.items.get_mut(&item);
            let Some(counts) = counts.filter(|counts| counts.available >= units) else {
                return Err(Conflict::Refuse(Refusal::OutOfStock { item }));
            };
            counts.available -= units;
            counts.initial -= units;
            return Ok(None);
        }
        self.add_units(item, units)?;
        Ok(None)
    }

    fn apply_reserved(
        &mut self,
        key: RequestKey,
        reservation: ReservationId,
        lines: &Lines,
        expires_at: Duration,
        lsn: Lsn,
    ) -> ApplyResult {
        if reservation != self.next_reservation() {
            return Err(Conflict::OutOfOrder);
        }
        for line in lines.iter() {
            let Some(counts) = self.items.get(&line.item) else {
                return Err(Conflict::Refuse(Refusal::UnknownItem { item: line.item }));
            };
            if counts.available < u64::from(line.units) {
                return Err(Conflict::Refuse(Refusal::OutOfStock { item: line.item }));
            }
        }
        for line in lines.iter() {
            if let Some(counts) = self.items.get_mut(&line.item) {
                counts.available -= u64::from(line.units);
                counts.reserved += u64::from(line.units);
            }
        }
        let lines = lines.clone();
        let state = ReservationState::Active;
        self.holds.push(Hold {
            lines,
            expires_at,
            state,
        });
        let outcome = Outcome::Reserved {
            reservation,
            expires_at,
        };
        self.record(key, outcome, lsn).map(Some)
    }

    fn apply_closing(
        &mut self,
        key: RequestKey,
        reservation: ReservationId,
        at: Duration,
        state: ReservationState,
        lsn: Lsn,
    ) -> ApplyResult {
        let index = self.active_index(reservation)?;
        if at >= self.holds[index].expires_at {
            return Err(Conflict::Refuse(Refusal::Expired));
        }
        self.close(index, state);
        let outcome = match state {
            ReservationState::Confirmed => Outcome::Confirmed { reservation },
            _ => Outcome::Released { reservation },
        };
        self.record(key, outcome, lsn).map(Some)
    }

    /// The index of an active reservation, or the refusal for one that is not.
    fn active_index(&self, reservation: ReservationId) -> Result<usize, Conflict> {
        let index = self.index_of(reservation);
        let Some((index, hold)) = index.and_then(|i| Some((i, self.holds.get(i)?))) else {
            return Err(Conflict::Refuse(Refusal::UnknownReservation));
        };
        let refusal = match hold.state {
            ReservationState::Active => return Ok(index),
            ReservationState::Confirmed => Refusal::AlreadyConfirmed,
            ReservationState::Released => Refusal::AlreadyReleased,
            ReservationState::Expired => Refusal::Expired,
        };
        Err(Conflict::Refuse(refusal))
    }

    /// Ends an active hold: its units become sold, or available again.
    fn close(&mut self, index: usize, state: ReservationState) {
        let hold = &mut self.holds[index];
        hold.state = state;
        for line in hold.lines.iter() {
            // A hold's items exist and carry its units in `reserved`: `apply_reserved` put
            // them there, and only closing a hold takes them out, once.
            if let Some(counts) = self.items.get_mut(&line.item) {
                let units = u64::from(line.units);
                counts.reserved -= units;
                match state {
                    ReservationState::Confirmed => counts.sold += units,
                    _ => counts.available += units,
                }
            }
        }
    }

    fn expire_if_due(&mut self, reservation: ReservationId, at: Duration, journal: &mut Journal) {
        let due = self
            .index_of(reservation)
            .and_then(|index| self.holds.get(index))
            .is_some_and(|hold| hold.state == ReservationState::Active && at >= hold.expires_at);
        if due {
            self.commit_quietly(Event::Expired { at, reservation }, journal);
        }
    }

    fn add_units(&mut self, item: ItemId, units: u64) -> Result<(), Conflict> {
        let counts = self.items.get(&item).copied().unwrap_or_default();
        let (Some(initial), Some(available)) = (
            counts.initial.checked_add(units),
            counts.available.checked_add(units),
        ) else {
            return Err(Conflict::Overflow);
        };
        let counts = Counts {
            initial,
            available,
            ..counts
        };
        match self.items.get_mut(&item) {
            Some(slot) => *slot = counts,
            None => {
                self.items.index.insert(item, self.items.list.len());
                self.items.list.push((item, counts));
            }
        }
        Ok(())
    }

    /// Records the key's reply. A key that already has one is an error, found only here, after
    /// the event's other changes: live requests look their key up before they are planned, so
    /// only a corrupt journal reuses one, and replay then gives the whole ledger up.
    fn record(&mut self, key: RequestKey, outcome: Outcome, lsn: Lsn) -> Result<Reply, Conflict> {
        match self.keys.entry(key) {
            Entry::Occupied(_) => Err(Conflict::KeyReused),
            Entry::Vacant(slot) => Ok(*slot.insert(Reply { outcome, lsn })),
        }
    }

    fn next_reservation(&self) -> ReservationId {
        self.reservation_at(self.holds.len())
    }

    fn reservation_at(&self, index: usize) -> ReservationId {
        ReservationId(index as u64 * self.n_shards + u64::from(self.shard))
    }

    fn index_of(&self, reservation: ReservationId) -> Option<usize> {
        let shard = reservation.0 % self.n_shards;
        (shard == u64::from(self.shard)).then(|| (reservation.0 / self.n_shards) as usize)
    }
}

type ApplyResult = Result<Option<Reply>, Conflict>;

/// The items of a book, in the order they were first stocked. Orders name few items, so up to
/// a handful are found by a scan, which beats hashing; more go through the index.
#[derive(Clone, Debug)]
struct Items {
    list: Vec<(ItemId, Counts)>,
    index: HashMap<ItemId, usize, FixedState>,
}

impl Items {
    const SCANNED: usize = 8;

    fn position(&self, item: ItemId) -> Option<usize> {
        match self.list.len() <= Self::SCANNED {
            true => self.list.iter().position(|(id, _)| *id == item),
            false => self.index.get(&item).copied(),
        }
    }

    fn get(&self, item: &ItemId) -> Option<&Counts> {
        self.position(*item).map(|index| &self.list[index].1)
    }

    fn get_mut(&mut self, item: &ItemId) -> Option<&mut Counts> {
        self.position(*item).map(|index| &mut self.list[index].1)
    }
}

impl PartialEq for Items {
    fn eq(&self, other: &Self) -> bool {
        self.list == other.list
    }
}

/// The `Refused` event answering the request `event` recorded.
fn refused_for(event: &Event, refusal: Refusal) -> Event {
    let (at, key, reservation) = match event {
        Event::Reserved { at, key, .. } => (*at, *key, None),
        Event::Confirmed {
            at,
            key,
            reservation,
        }
        | Event::Released {
            at,
            key,
            reservation,
        } => (*at, *key, Some(*reservation)),
        Event::Refused {
            at,
            key,
            reservation,
            ..
        } => (*at, *key, *reservation),
        // Only request events are committed through `commit_or_refuse`.
        other => (other.at(), RequestKey(0), None),
    };
    Event::Refused {
        at,
        key,
        reservation,
        refusal,
    }
}
