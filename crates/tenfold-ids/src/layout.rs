//! The bit layout of a 64-bit ID: how many bits hold time, node and sequence, and what one
//! tick of the time field means.

use std::fmt;
use std::time::Duration;

use crate::{Id64, Timestamp};

/// How a 64-bit ID is cut into a time, a node and a sequence field.
///
/// The time field counts *units* (1 ms, 10 ms, …) since the layout's *epoch*. The node field
/// tells apart the processes that mint at the same time, and the sequence field tells apart
/// the IDs one process mints within one unit. A layout is checked when it is built, so every
/// `Layout` value is a valid one.
///
/// # JavaScript
///
/// A JavaScript `number` holds integers exactly only up to 2^53 − 1. An ID from a layout
/// wider than 53 bits (all the presets but [`Layout::js_safe`]) gets rounded when a browser
/// parses it from JSON as a number, and two IDs can turn into the same value. Send such IDs
/// as strings (decimal, base32 or base62), or use a layout for which [`Layout::is_js_safe`]
/// holds.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use tenfold_ids::{Layout, Timestamp};
///
/// let layout = Layout::builder()
///     .time_bits(40)
///     .node_bits(11)
///     .sequence_bits(12)
///     .unit(Duration::from_millis(10))
///     .epoch(Timestamp::from_unix_ms(1_735_689_600_000))
///     .build()?;
/// assert_eq!(layout.runs_out_at().to_string(), "2373-06-04T06:57:57.760Z");
/// assert_eq!(layout.ids_per_second(), 409_600);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    time_bits: u8,
    node_bits: u8,
    sequence_bits: u8,
    node_split: u8,
    order: FieldOrder,
    unit_ms: u64,
    epoch: Timestamp,
}

/// Where the node and sequence fields sit below the time field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldOrder {
    /// Time, then node, then sequence in the lowest bits, as Twitter and Discord lay out.
    TimeNodeSequence,
    /// Time, then sequence, then node in the lowest bits, as Sonyflake lays out.
    TimeSequenceNode,
}

/// The fields of a decoded 64-bit ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Parts {
    /// The start of the time unit the ID was minted in.
    pub timestamp: Timestamp,
    /// The raw time field: units since the layout's epoch.
    pub time_units: u64,
    /// The node field.
    pub node: u64,
    /// The high part of the node field (Twitter's datacenter, Discord's worker).
    pub node_high: u64,
    /// The low part of the node field (Twitter's worker, Discord's process).
    pub node_low: u64,
    /// The sequence field.
    pub sequence: u64,
}

/// Sets the fields of a custom [`Layout`]; [`LayoutBuilder::build`] checks them.
///
/// It starts out as 41 time bits of 1 ms since the Unix epoch, 10 node bits and 12 sequence
/// bits, in Twitter's field order.
#[derive(Clone, Copy, Debug)]
pub struct LayoutBuilder {
    time_bits: u8,
    node_bits: u8,
    sequence_bits: u8,
    node_split: u8,
    order: FieldOrder,
    unit: Duration,
    epoch: Timestamp,
}

/// A [`Layout`] that cannot be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LayoutError {
    /// The time field needs between 1 and 63 bits.
    TimeBits(u8),
    /// The sequence field needs at least 1 bit.
    NoSequenceBits,
    /// The three fields together need more than 64 bits.
    TooWide {
        /// The bits the fields add up to.
        total: u32,
    },
    /// The node field is split into a high part wider than the field itself.
    NodeSplit,
    /// The time unit is not a whole number of milliseconds of at least one.
    Unit(Duration),
}

/// A value that does not fit a field of the layout, or an ID that the layout cannot hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RangeError {
    /// The time is before the layout's epoch.
    BeforeEpoch,
    /// The time is at or after the moment the time field runs out.
    AfterEnd,
    /// The node is wider than the node field.
    Node,
    /// The sequence is wider than the sequence field.
    Sequence,
    /// The ID has bits set above the layout's fields.
    ExtraBits,
}

impl Layout {
    /// Twitter's Snowflake: 41 bits of milliseconds since 2010-11-04T01:42:54.657Z, a 10-bit
    /// node (5 bits of datacenter, 5 of worker) and a 12-bit sequence. The top bit stays 0.
    pub const fn twitter() -> Self {
        Self::preset(
            41,
            10,
            12,
            5,
            FieldOrder::TimeNodeSequence,
            1,
            1_288_834_974_657,
        )
    }

    /// Discord's snowflake: 42 bits of milliseconds since 2015-01-01, a 10-bit node (5 bits
    /// of worker, 5 of process) and a 12-bit increment. It uses all 64 bits.
    pub const fn discord() -> Self {
        Self::preset(
            42,
            10,
            12,
            5,
            FieldOrder::TimeNodeSequence,
            1,
            1_420_070_400_000,
        )
    }

    /// Sonyflake (version 2 defaults): 39 bits of 10 ms units since 2025-01-01, an 8-bit
    /// sequence, then a 16-bit machine ID in the lowest bits. It caps out at 25,600 IDs a
    /// second for each machine.
    pub const fn sonyflake() -> Self {
        Self::preset(
            39,
            16,
            8,
            0,
            FieldOrder::TimeSequenceNode,
            10,
            1_735_689_600_000,
        )
    }

    /// A 53-bit layout that JavaScript numbers hold exactly: 38 bits of 10 ms units since
    /// 2025-01-01 (they last until 2112), 8 node bits and 7 sequence bits (12,800 IDs a second
    /// for each node).
    pub const fn js_safe() -> Self {
        Self::preset(
            38,
            8,
            7,
            4,
            FieldOrder::TimeNodeSequence,
            10,
            1_735_689_600_000,
        )
    }

    /// A builder for a custom layout.
    pub const fn builder() -> LayoutBuilder {
        LayoutBuilder {
            time_bits: 41,
            node_bits: 10,
            sequence_bits: 12,
            node_split: 0,
            order: FieldOrder::TimeNodeSequence,
            unit: Duration::from_millis(1),
            epoch: Timestamp::UNIX_EPOCH,
        }
    }

    /// Bits of the time field.
    pub const fn time_bits(&self) -> u32 {
        self.time_bits as u32
    }

    /// Bits of the node field.
    pub const fn node_bits(&self) -> u32 {
        self.node_bits as u32
    }

    /// Bits of the sequence field.
    pub const fn sequence_bits(&self) -> u32 {
        self.sequence_bits as u32
    }

    /// Bits of the high part of the node field (see [`Parts::node_high`]).
    pub const fn node_split(&self) -> u32 {
        self.node_split as u32
    }

    /// Where the node and sequence fields sit.
    pub const fn order(&self) -> FieldOrder {
        self.order
    }

    /// One tick of the time field.
    pub const fn unit(&self) -> Duration {
        Duration::from_millis(self.unit_ms)
    }

    /// The instant the time field counts from.
    pub const fn epoch(&self) -> Timestamp {
        self.epoch
    }

    /// Bits the three fields take together; the bits above them are always 0.
    pub const fn total_bits(&self) -> u32 {
        self.time_bits() + self.node_bits() + self.sequence_bits()
    }

    /// Whether every ID of this layout is at most 2^53 − 1, the largest integer a JavaScript
    /// number holds exactly.
    pub const fn is_js_safe(&self) -> bool {
        self.total_bits() <= 53
    }

    /// The largest node ID.
    pub const fn max_node(&self) -> u64 {
        mask(self.node_bits())
    }

    /// How many IDs one node can mint within one time unit.
    pub const fn ids_per_unit(&self) -> u64 {
        1 << self.sequence_bits
    }

    /// How many IDs one node can mint in a second without running ahead of its clock.
    pub const fn ids_per_second(&self) -> u64 {
        self.ids_per_unit() * 1000 / self.unit_ms
    }

    /// The first instant the time field cannot hold: IDs stop there.
    pub const fn runs_out_at(&self) -> Timestamp {
        Timestamp::from_unix_ms(self.time_at(1 << self.time_bits).unix_ms())
    }

    /// The ID with the given fields; `time` is rounded down to its unit.
    ///
    /// # Errors
    ///
    /// A [`RangeError`] if `time` is outside the layout's lifetime, or if `node` or
    /// `sequence` does not fit its field.
    pub fn compose(&self, time: Timestamp, node: u64, sequence: u64) -> Result<Id64, RangeError> {
        let units = self.units_at(time).ok_or(RangeError::BeforeEpoch)?;
        if units > mask(self.time_bits()) {
            return Err(RangeError::AfterEnd);
        }
        if node > self.max_node() {
            return Err(RangeError::Node);
        }
        if sequence > mask(self.sequence_bits()) {
            return Err(RangeError::Sequence);
        }
        let (node_shift, sequence_shift) = self.shifts();
        let time_field = units << (self.node_bits + self.sequence_bits);
        Ok(Id64::from_u64(
            time_field | node << node_shift | sequence << sequence_shift,
        ))
    }

    /// The fields of `id`.
    ///
    /// # Errors
    ///
    /// [`RangeError::ExtraBits`] if `id` has bits set above the layout's fields.
    pub fn decompose(&self, id: Id64) -> Result<Parts, RangeError> {
        let value = id.to_u64();
        if self.total_bits() < 64 && value >> self.total_bits() != 0 {
            return Err(RangeError::ExtraBits);
        }
        let (node_shift, sequence_shift) = self.shifts();
        let time_units = value >> (self.node_bits + self.sequence_bits);
        let node = value >> node_shift & self.max_node();
        let low_bits = self.node_bits() - self.node_split();
        Ok(Parts {
            timestamp: self.time_at(time_units),
            time_units,
            node,
            node_high: node >> low_bits,
            node_low: node & mask(low_bits),
            sequence: value >> sequence_shift & mask(self.sequence_bits()),
        })
    }

    /// The smallest ID any node can mint at `time`: the lower end of a range scan or a page
    /// that starts at `time`.
    ///
    /// # Errors
    ///
    /// A [`RangeError`] if `time` is outside the layout's lifetime.
    pub fn min_id_at(&self, time: Timestamp) -> Result<Id64, RangeError> {
        self.compose(time, 0, 0)
    }

    /// The largest ID any node can mint within the time unit that holds `time`.
    ///
    /// # Errors
    ///
    /// A [`RangeError`] if `time` is outside the layout's lifetime.
    pub fn max_id_at(&self, time: Timestamp) -> Result<Id64, RangeError> {
        let low = mask(self.node_bits() + self.sequence_bits());
        Ok(Id64::from_u64(self.min_id_at(time)?.to_u64() | low))
    }

    /// Whole units from the epoch to `time`, or `None` before the epoch. The count may be too
    /// large for the time field.
    #[inline]
    pub(crate) fn units_at(&self, time: Timestamp) -> Option<u64> {
        let since_epoch = time.unix_ms().checked_sub(self.epoch.unix_ms())?;
        Some(if self.unit_ms == 1 {
            since_epoch
        } else {
            since_epoch / self.unit_ms
        })
    }

    /// The start of unit number `units`, capped at [`Timestamp::MAX`].
    pub(crate) const fn time_at(&self, units: u64) -> Timestamp {
        let ms = units.saturating_mul(self.unit_ms);
        Timestamp::from_unix_ms(self.epoch.unix_ms().saturating_add(ms))
    }

    /// The bit offsets of the node and sequence fields.
    pub(crate) const fn shifts(&self) -> (u8, u8) {
        match self.order {
            FieldOrder::TimeNodeSequence => (self.sequence_bits, 0),
            FieldOrder::TimeSequenceNode => (0, self.node_bits),
        }
    }

    #[allow(clippy::too_many_arguments)]
    const fn preset(
        time_bits: u8,
        node_bits: u8,
        sequence_bits: u8,
        node_split: u8,
        order: FieldOrder,
        unit_ms: u64,
        epoch_ms: u64,
    ) -> Self {
        Self {
            time_bits,
            node_bits,
            sequence_bits,
            node_split,
            order,
            unit_ms,
            epoch: Timestamp::from_unix_ms(epoch_ms),
        }
    }
}

impl LayoutBuilder {
    /// Bits of the time field, 1 to 63.
    pub const fn time_bits(mut self, bits: u8) -> Self {
        self.time_bits = bits;
        self
    }

    /// Bits of the node field; 0 is allowed for a single minting process.
    pub const fn node_bits(mut self, bits: u8) -> Self {
        self.node_bits = bits;
        self
    }

    /// Bits of the sequence field, at least 1.
    pub const fn sequence_bits(mut self, bits: u8) -> Self {
        self.sequence_bits = bits;
        self
    }

    /// Bits of the high part of the node field, reported apart by [`Layout::decompose`].
    pub const fn node_split(mut self, bits: u8) -> Self {
        self.node_split = bits;
        self
    }

    /// Where the node and sequence fields sit.
    pub const fn order(mut self, order: FieldOrder) -> Self {
        self.order = order;
        self
    }

    /// One tick of the time field: a whole number of milliseconds, at least one.
    pub const fn unit(mut self, unit: Duration) -> Self {
        self.unit = unit;
        self
    }

    /// The instant the time field counts from.
    pub const fn epoch(mut self, epoch: Timestamp) -> Self {
        self.epoch = epoch;
        self
    }

    /// The layout, once its fields are checked.
    ///
    /// # Errors
    ///
    /// A [`LayoutError`] naming the first field that is out of range.
    pub fn build(self) -> Result<Layout, LayoutError> {
        if !(1..=63).contains(&self.time_bits) {
            return Err(LayoutError::TimeBits(self.time_bits));
        }
        if self.sequence_bits == 0 {
            return Err(LayoutError::NoSequenceBits);
        }
        let total = u32::from(self.time_bits) + u32::from(self.node_bits);
        let total = total + u32::from(self.sequence_bits);
        if total > 64 {
            return Err(LayoutError::TooWide { total });
        }
        if self.node_split > self.node_bits {
            return Err(LayoutError::NodeSplit);
        }
        let unit_ms = u64::try_from(self.unit.as_millis()).unwrap_or(0);
        if unit_ms == 0 || !self.unit.subsec_nanos().is_multiple_of(1_000_000) {
            return Err(LayoutError::Unit(self.unit));
        }
        Ok(Layout {
            time_bits: self.time_bits,
            node_bits: self.node_bits,
            sequence_bits: self.sequence_bits,
            node_split: self.node_split,
            order: self.order,
            unit_ms,
            epoch: self.epoch,
        })
    }
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TimeBits(bits) => write!(f, "{bits} time bits; expected 1 to 63"),
            Self::NoSequenceBits => f.write_str("the sequence field needs at least one bit"),
            Self::TooWide { total } => write!(f, "the fields need {total} bits; at most 64 fit"),
            Self::NodeSplit => f.write_str("the node split is wider than the node field"),
            Self::Unit(unit) => write!(f, "time unit {unit:?} is not a whole number of ms"),
        }
    }
}

impl std::error::Error for LayoutError {}

impl fmt::Display for RangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BeforeEpoch => "time is before the layout's epoch",
            Self::AfterEnd => "time is past the end of the layout's time field",
            Self::Node => "node does not fit the node field",
            Self::Sequence => "sequence does not fit the sequence field",
            Self::ExtraBits => "id has bits set above the layout's fields",
        })
    }
}

impl std::error::Error for RangeError {}

/// A mask of the `bits` lowest bits, for `bits` up to 64.
pub(crate) const fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    }
}

#[cfg(test)]
mod tests;
