//! The journal: every state change as an event, and its binary encoding.

use std::fmt;
use std::time::Duration;

use crate::types::{ItemId, Line, Lines, Refusal, RequestKey, ReservationId};

/// One state change. The host makes events durable in order; replaying them rebuilds the
/// ledger exactly.
///
/// Every event that answers a request carries the request's key, so the key and the effect
/// become durable together: there is no moment at which one exists without the other.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Event {
    /// `units` were added to `item` in `shard` (always shard 0 in a [`crate::Ledger`]).
    Stocked {
        /// When.
        at: Duration,
        /// The item, created by its first `Stocked` event.
        item: ItemId,
        /// How many units were added.
        units: u64,
        /// The shard that holds them.
        shard: u8,
    },
    /// `units` of `item` moved from one shard to another of a [`crate::ConcurrentLedger`].
    Moved {
        /// When.
        at: Duration,
        /// The item.
        item: ItemId,
        /// How many available units moved.
        units: u64,
        /// The lending shard.
        from: u8,
        /// The borrowing shard.
        to: u8,
    },
    /// A reservation was made.
    Reserved {
        /// When.
        at: Duration,
        /// The request's key.
        key: RequestKey,
        /// The new reservation.
        reservation: ReservationId,
        /// What it holds.
        lines: Lines,
        /// When it lapses unless confirmed first.
        expires_at: Duration,
    },
    /// A reservation was confirmed: its units are sold.
    Confirmed {
        /// When.
        at: Duration,
        /// The request's key.
        key: RequestKey,
        /// The reservation.
        reservation: ReservationId,
    },
    /// A reservation was released by the buyer: its units are available again.
    Released {
        /// When.
        at: Duration,
        /// The request's key.
        key: RequestKey,
        /// The reservation.
        reservation: ReservationId,
    },
    /// A reservation lapsed: its units are available again.
    Expired {
        /// When.
        at: Duration,
        /// The reservation.
        reservation: ReservationId,
    },
    /// A request was refused; a retry with the same key gets the same refusal.
    Refused {
        /// When.
        at: Duration,
        /// The request's key.
        key: RequestKey,
        /// The reservation a confirm or release named, or `None` for a reserve.
        reservation: Option<ReservationId>,
        /// Why.
        refusal: Refusal,
    },
}

/// Bytes that do not hold a valid event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    offset: usize,
    kind: DecodeErrorKind,
}

/// What was wrong with the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The bytes end in the middle of an event.
    Truncated,
    /// The first byte names no kind of event.
    UnknownTag(u8),
    /// The lines of a reservation are empty, unsorted, repeated or hold a zero.
    InvalidLines,
    /// The refusal code is unknown.
    UnknownRefusal(u8),
    /// A flag byte is neither 0 nor 1.
    InvalidFlag(u8),
}

impl Event {
    /// When the event happened, on the host's clock.
    pub fn at(&self) -> Duration {
        match self {
            Self::Stocked { at, .. }
            | Self::Moved { at, .. }
            | Self::Reserved { at, .. }
            | Self::Confirmed { at, .. }
            | Self::Released { at, .. }
            | Self::Expired { at, .. }
            | Self::Refused { at, .. } => *at,
        }
    }

    /// Appends the event's encoding to `out`. Integers are little-endian and times are
    /// nanoseconds as `u64`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let tag = self.tag();
        out.push(tag);
        put_time(out, self.at());
        match self {
            Self::Stocked {
                item, units, shard, ..
            } => {
                out.extend_from_slice(&item.0.to_le_bytes());
                out.extend_from_slice(&units.to_le_bytes());
                out.push(*shard);
            }
            Self::Moved {
                item,
                units,
                from,
                to,
                ..
            } => {
                out.extend_from_slice(&item.0.to_le_bytes());
                out.extend_from_slice(&units.to_le_bytes());
                out.extend_from_slice(&[*from, *to]);
            }
            Self::Reserved {
                key,
                reservation,
                lines,
                expires_at,
                ..
            } => {
                out.extend_from_slice(&key.0.to_le_bytes());
                out.extend_from_slice(&reservation.0.to_le_bytes());
                put_time(out, *expires_at);
                // `Lines` never holds more than `Lines::MAX` (64) lines, so the count fits.
                out.push(lines.len() as u8);
                for line in lines.iter() {
                    out.extend_from_slice(&line.item.0.to_le_bytes());
                    out.extend_from_slice(&line.units.to_le_bytes());
                }
            }
            Self::Confirmed {
                key, reservation, ..
            }
            | Self::Released {
                key, reservation, ..
            } => {
                out.extend_from_slice(&key.0.to_le_bytes());
                out.extend_from_slice(&reservation.0.to_le_bytes());
            }
            Self::Expired { reservation, .. } => {
                out.extend_from_slice(&reservation.0.to_le_bytes());
            }
            Self::Refused {
                key,
                reservation,
                refusal,
                ..
            } => {
                out.extend_from_slice(&key.0.to_le_bytes());
                out.push(u8::from(reservation.is_some()));
                out.extend_from_slice(&reservation.map_or(0, |r| r.0).to_le_bytes());
                let (code, item) = refusal_code(*refusal);
                out.push(code);
                out.extend_from_slice(&item.to_le_bytes());
            }
        }
    }

    /// Decodes one event from the start of `bytes`, returning it and the number of bytes it
    /// took.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] if the bytes end early or hold something no encoder writes.
    pub fn decode(bytes: &[u8]) -> Result<(Self, usize), DecodeError> {
        let mut reader = Reader { bytes, offset: 0 };
        let event = reader.event()?;
        Ok((event, reader.offset))
    }

    fn tag(&self) -> u8 {
        match self {
            Self::Stocked { .. } => 1,
            Self::Moved { .. } => 2,
            Self::Reserved { .. } => 3,
            Self::Confirmed { .. } => 4,
            Self::Released { .. } => 5,
            Self::Expired { .. } => 6,
            Self::Refused { .. } => 7,
        }
    }
}

impl DecodeError {
    /// The offset in the input at which decoding failed.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What was wrong.
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid event at byte {}: ", self.offset)?;
        match self.kind {
            DecodeErrorKind::Truncated => f.write_str("the input ends inside the event"),
            DecodeErrorKind::UnknownTag(tag) => write!(f, "unknown event tag {tag}"),
            DecodeErrorKind::InvalidLines => f.write_str("invalid reservation lines"),
            DecodeErrorKind::UnknownRefusal(code) => write!(f, "unknown refusal code {code}"),
            DecodeErrorKind::InvalidFlag(flag) => write!(f, "flag byte {flag} is not 0 or 1"),
        }
    }
}

impl std::error::Error for DecodeError {}

struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl Reader<'_> {
    fn event(&mut self) -> Result<Event, DecodeError> {
        let tag = self.u8()?;
        let at = self.time()?;
        let event = match tag {
            1 => Event::Stocked {
                at,
                item: self.item()?,
                units: self.u64()?,
                shard: self.u8()?,
            },
            2 => Event::Moved {
                at,
                item: self.item()?,
                units: self.u64()?,
                from: self.u8()?,
                to: self.u8()?,
            },
            3 => self.reserved(at)?,
            4 => Event::Confirmed {
                at,
                key: self.key()?,
                reservation: self.reservation()?,
            },
            5 => Event::Released {
                at,
                key: self.key()?,
                reservation: self.reservation()?,
            },
            6 => Event::Expired {
                at,
                reservation: self.reservation()?,
            },
            7 => self.refused(at)?,
            _ => return Err(self.error_at(0, DecodeErrorKind::UnknownTag(tag))),
        };
        Ok(event)
    }

    fn reserved(&mut self, at: Duration) -> Result<Event, DecodeError> {
        let key = self.key()?;
        let reservation = self.reservation()?;
        let expires_at = self.time()?;
        let n_lines = usize::from(self.u8()?);
        let mut lines = Vec::with_capacity(n_lines.min(Lines::MAX));
        for _ in 0..n_lines {
            lines.push(Line {
                item: self.item()?,
                units: self.u32()?,
            });
        }
        let lines = Lines::from_sorted(lines)
            .ok_or_else(|| self.error_at(n_lines * 8 + 1, DecodeErrorKind::InvalidLines))?;
        Ok(Event::Reserved {
            at,
            key,
            reservation,
            lines,
            expires_at,
        })
    }

    fn refused(&mut self, at: Duration) -> Result<Event, DecodeError> {
        let key = self.key()?;
        let flag = self.u8()?;
        let reservation = self.reservation()?;
        // Only the encoder's own form is accepted: a field the flag or code leaves unused
        // must be zero, so no two byte strings decode to the same event.
        let reservation = match (flag, reservation.0) {
            (0, 0) => None,
            (1, _) => Some(reservation),
            _ => return Err(self.error_at(9, DecodeErrorKind::InvalidFlag(flag))),
        };
        let code = self.u8()?;
        let item = ItemId(self.u32()?);
        let refusal = match (code, item.0) {
            (1, _) => Refusal::OutOfStock { item },
            (2, _) => Refusal::UnknownItem { item },
            (3, 0) => Refusal::InvalidOrder,
            (4, 0) => Refusal::UnknownReservation,
            (5, 0) => Refusal::Expired,
            (6, 0) => Refusal::AlreadyConfirmed,
            (7, 0) => Refusal::AlreadyReleased,
            _ => return Err(self.error_at(5, DecodeErrorKind::UnknownRefusal(code))),
        };
        Ok(Event::Refused {
            at,
            key,
            reservation,
            refusal,
        })
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let end = self.offset + N;
        let bytes = self
            .bytes
            .get(self.offset..end)
            .ok_or_else(|| self.error_at(0, DecodeErrorKind::Truncated))?;
        self.offset = end;
        let mut out = [0; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.take()?))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.take()?))
    }

    fn time(&mut self) -> Result<Duration, DecodeError> {
        Ok(Duration::from_nanos(self.u64()?))
    }

    fn item(&mut self) -> Result<ItemId, DecodeError> {
        Ok(ItemId(self.u32()?))
    }

    fn key(&mut self) -> Result<RequestKey, DecodeError> {
        Ok(RequestKey(u128::from_le_bytes(self.take()?)))
    }

    fn reservation(&mut self) -> Result<ReservationId, DecodeError> {
        Ok(ReservationId(self.u64()?))
    }

    /// An error at `back` bytes before the current offset.
    fn error_at(&self, back: usize, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            offset: self.offset.saturating_sub(back),
            kind,
        }
    }
}

fn put_time(out: &mut Vec<u8>, time: Duration) {
    // The ledger caps every time it is given at `u64::MAX` nanoseconds, so this is exact.
    let nanos = u64::try_from(time.as_nanos()).unwrap_or(u64::MAX);
    out.extend_from_slice(&nanos.to_le_bytes());
}

fn refusal_code(refusal: Refusal) -> (u8, u32) {
    match refusal {
        Refusal::OutOfStock { item } => (1, item.0),
        Refusal::UnknownItem { item } => (2, item.0),
        Refusal::InvalidOrder => (3, 0),
        Refusal::UnknownReservation => (4, 0),
        Refusal::Expired => (5, 0),
        Refusal::AlreadyConfirmed => (6, 0),
        Refusal::AlreadyReleased => (7, 0),
    }
}

#[cfg(test)]
mod tests;
