use std::fmt;
use std::ops::Deref;
use std::time::Duration;

/// A product (a SKU) whose stock the ledger counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemId(pub u32);

/// The idempotency key of one logical request, chosen by the client (a UUID fits).
///
/// Every retry of the same request carries the same key, and gets the first outcome back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestKey(pub u128);

/// A reservation, as the ledger numbered it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReservationId(pub u64);

/// A position in the journal: the number of events written up to and including one event.
///
/// A [`Reply`] may be shown to the buyer only once the host has made the journal durable
/// through the reply's `lsn`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

/// One line of an order: `units` of `item`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Line {
    /// The item.
    pub item: ItemId,
    /// How many units of it; zero is refused.
    pub units: u32,
}

impl Line {
    /// `units` of `item`.
    pub fn new(item: ItemId, units: u32) -> Self {
        Self { item, units }
    }
}

/// The lines of a reservation, sorted by item, one line per item, none of them empty.
///
/// A single line is stored inline, so the common one-item order allocates nothing.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Lines(LinesRepr);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum LinesRepr {
    One(Line),
    Many(Box<[Line]>),
}

impl Lines {
    /// The most lines one order may have.
    pub const MAX: usize = 64;

    /// Sorts `lines` by item and merges lines for the same item.
    ///
    /// Returns `None` for an order with no lines, a line of zero units, more than
    /// [`Lines::MAX`] distinct items, or an item whose units overflow a `u32`.
    pub fn normalize(lines: &[Line]) -> Option<Self> {
        if let [line] = lines {
            return (line.units > 0).then_some(Self(LinesRepr::One(*line)));
        }
        if lines.is_empty() || lines.iter().any(|line| line.units == 0) {
            return None;
        }
        let mut sorted = lines.to_vec();
        sorted.sort_unstable_by_key(|line| line.item);
        let mut merged: Vec<Line> = Vec::with_capacity(sorted.len());
        for line in sorted {
            match merged.last_mut() {
                Some(last) if last.item == line.item => {
                    last.units = last.units.checked_add(line.units)?;
                }
                _ => merged.push(line),
            }
        }
        Self::from_sorted(merged)
    }

    /// Wraps lines that are already sorted by item, unique and non-empty, as a decoder reads
    /// them; `None` if they are not.
    pub fn from_sorted(lines: Vec<Line>) -> Option<Self> {
        let valid = !lines.is_empty()
            && lines.len() <= Self::MAX
            && lines.iter().all(|line| line.units > 0)
            && lines.windows(2).all(|pair| pair[0].item < pair[1].item);
        match (valid, lines.as_slice()) {
            (false, _) => None,
            (true, [line]) => Some(Self(LinesRepr::One(*line))),
            (true, _) => Some(Self(LinesRepr::Many(lines.into_boxed_slice()))),
        }
    }
}

impl Deref for Lines {
    type Target = [Line];

    fn deref(&self) -> &[Line] {
        match &self.0 {
            LinesRepr::One(line) => std::slice::from_ref(line),
            LinesRepr::Many(lines) => lines,
        }
    }
}

/// The ledger's answer to one request, and the journal position it waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reply {
    /// What happened.
    pub outcome: Outcome,
    /// The event that recorded it. Show the outcome to the buyer only once the journal is
    /// durable through here.
    pub lsn: Lsn,
}

/// What a request did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The units are held for the buyer until `expires_at`.
    Reserved {
        /// The new reservation.
        reservation: ReservationId,
        /// When the hold lapses unless confirmed first.
        expires_at: Duration,
    },
    /// The reservation is now a sale.
    Confirmed {
        /// The confirmed reservation.
        reservation: ReservationId,
    },
    /// The reservation was given up and its units are available again.
    Released {
        /// The released reservation.
        reservation: ReservationId,
    },
    /// Nothing changed, for this reason.
    Refused(Refusal),
}

/// Why a request changed nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// Not enough units of this item are available.
    OutOfStock {
        /// The first item that fell short.
        item: ItemId,
    },
    /// The ledger has never been stocked with this item.
    UnknownItem {
        /// The unknown item.
        item: ItemId,
    },
    /// The order has no lines, a line of zero units, too many lines, or too many units.
    InvalidOrder,
    /// No such reservation exists.
    UnknownReservation,
    /// The reservation lapsed before it was confirmed or released.
    Expired,
    /// The reservation was already confirmed (under another request key).
    AlreadyConfirmed,
    /// The reservation was already released (under another request key).
    AlreadyReleased,
}

/// The stock of one item: `available + reserved + sold == initial` always holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Counts {
    /// Every unit ever stocked.
    pub initial: u64,
    /// Units free to reserve.
    pub available: u64,
    /// Units held by live reservations.
    pub reserved: u64,
    /// Units in confirmed reservations.
    pub sold: u64,
}

impl Counts {
    /// Whether `available + reserved + sold == initial`.
    pub fn is_conserved(&self) -> bool {
        let total = self.available as u128 + self.reserved as u128 + self.sold as u128;
        total == self.initial as u128
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfStock { item } => write!(f, "item {} is out of stock", item.0),
            Self::UnknownItem { item } => write!(f, "item {} is unknown", item.0),
            Self::InvalidOrder => f.write_str("the order is empty, too large or has a zero line"),
            Self::UnknownReservation => f.write_str("no such reservation"),
            Self::Expired => f.write_str("the reservation expired"),
            Self::AlreadyConfirmed => f.write_str("the reservation is already confirmed"),
            Self::AlreadyReleased => f.write_str("the reservation is already released"),
        }
    }
}
