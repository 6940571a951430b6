//! Minting 64-bit IDs: the single-owner [`Generator`], its lanes, and the shared
//! [`SharedGenerator`].

use std::fmt;
use std::time::Duration;

use crate::layout::mask;
use crate::policy::Verdict;
use crate::{Clock, Id64, Layout, Policy, Timestamp};

mod shared;

pub use shared::SharedGenerator;

/// A single-owner generator of 64-bit IDs for one node.
///
/// Each ID it mints is greater than the one before, and no two generators that hold
/// different leases on one node ID, or the same lease one after the other, ever mint the
/// same ID, whatever their clocks do. It gets there with two rules:
///
/// - **A lease.** The node ID is held under a [`Lease`] with a fencing epoch, granted by
///   whatever the host uses to hand out node IDs. Minting stops at the lease's expiry.
/// - **A high-water mark.** The generator mints only below a time its host has made durable.
///   When it needs more, [`Generator::mint`] answers [`Mint::Reserve`]; the host writes the
///   mark (refusing if a newer epoch holds the node), then calls
///   [`Generator::acknowledge`]. A restarted process starts from the stored mark, so it never
///   mints below anything its predecessor may have minted, even if the clock went back while
///   it was down, or the predecessor had borrowed time ahead of its clock.
///
/// The generator never reads a clock and never sleeps; see [`Policy`] for what it does when
/// the clock is behind.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use tenfold_ids::{Generator, HighWater, Layout, Lease, Mint, Timestamp};
///
/// // The host's durable record for node 7: the fencing epoch and the high-water mark.
/// let mut stored = (3, HighWater::ZERO);
/// let lease = Lease::new(7, stored.0, Timestamp::from_unix_ms(1_700_000_060_000));
/// let mut generator = Generator::builder(Layout::twitter()).start(lease, stored.1)?;
///
/// let now = Timestamp::from_unix_ms(1_700_000_000_000);
/// let mut ids = Vec::new();
/// while ids.len() < 3 {
///     match generator.mint(now)? {
///         Mint::Id(id) => ids.push(id),
///         Mint::Reserve(reservation) => {
///             // Persist, then acknowledge. A real host refuses if the epoch is stale.
///             assert_eq!(reservation.epoch(), stored.0);
///             stored.1 = stored.1.max(reservation.up_to());
///             generator.acknowledge(reservation)?;
///         }
///         Mint::RetryAt(at) => unreachable!("the clock stands still at {at}"),
///     }
/// }
/// assert!(ids[0] < ids[1] && ids[1] < ids[2]);
/// let parts = Layout::twitter().decompose(ids[2])?;
/// assert_eq!((parts.node, parts.sequence, parts.timestamp), (7, 2, now));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Generator {
    plan: Plan,
    lease: Lease,
    /// The smallest packed `(time, counter)` value that may be minted next.
    next: u64,
    /// Time units below which the host has made the high-water mark durable.
    reserved: u64,
    /// While `now - cache_start_ms < cache_width_ms`, the clock reads one unit, whose
    /// smallest packed value is `cache_floor`, and packed values below `cache_bound` may be
    /// minted without further checks.
    cache_start_ms: u64,
    cache_width_ms: u64,
    cache_floor: u64,
    cache_bound: u64,
    stats: Stats,
}

/// Sets up a [`Generator`] or [`SharedGenerator`] for a layout.
#[derive(Clone, Copy, Debug)]
pub struct GeneratorBuilder {
    layout: Layout,
    policy: Policy,
    reserve_ahead: Duration,
}

/// The right to mint under one node ID, granted by the host's lease service.
///
/// The `epoch` is a fencing token: each new grant of the node ID carries a greater epoch,
/// and the host's store refuses a high-water mark sent under an older one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Lease {
    node: u64,
    epoch: u64,
    expires_at: Timestamp,
}

/// A persisted bound on minted time: every ID minted under a node so far has a time field
/// below it. Store it as the number from [`HighWater::to_u64`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct HighWater(u64);

/// A request to raise the node's high-water mark to `up_to` before the generator mints
/// beyond the current one.
///
/// The host writes `max(stored, up_to)` durably, only if the stored fencing epoch is still
/// `epoch`, and then hands the reservation back to `acknowledge`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Reservation {
    node: u64,
    epoch: u64,
    up_to: HighWater,
}

/// The answer to a minting call: an ID (or, from [`Generator::mint_block`], a [`Block`] of
/// them), or what must happen first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Mint<T = Id64> {
    /// A fresh ID, or a block of them.
    Id(T),
    /// Nothing yet: the policy asks the host to call again once its clock reads this time.
    RetryAt(Timestamp),
    /// Nothing yet: persist this high-water mark, acknowledge it, and call again.
    Reserve(Reservation),
}

/// Why no ID can be minted now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MintError {
    /// The clock is behind IDs already minted (or the persisted high-water mark) by more than
    /// the policy lets the generator borrow or wait.
    ClockBehind {
        /// How far ahead of the clock the next ID would be.
        by: Duration,
    },
    /// The sequence of the current time unit is used up and the policy neither borrows nor
    /// waits long enough.
    SequenceExhausted,
    /// The clock reads a time before the layout's epoch.
    BeforeEpoch,
    /// The layout's time field has run out.
    TimeExhausted,
    /// The lease on the node ID has expired; renew it or stop minting.
    LeaseExpired {
        /// When it expired.
        at: Timestamp,
    },
}

/// A generator that cannot be started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartError {
    /// The lease's node ID does not fit the layout's node field.
    Node {
        /// The node ID of the lease.
        node: u64,
        /// The largest the layout holds.
        max: u64,
    },
    /// The high-water mark is beyond the end of the layout's time field.
    HighWater,
}

/// A lease or reservation handed to a generator that holds a different node or epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseMismatch {
    expected: (u64, u64),
    found: (u64, u64),
}

/// A split into lanes the sequence field cannot hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitError {
    n_lanes: usize,
    free_bits: u32,
}

/// IDs minted together by [`Generator::mint_block`], in increasing order.
///
/// Iterating costs a few shifts per ID and touches no shared state, which makes it the
/// fastest way to mint many IDs on one thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    composer: Composer,
    next: u64,
    end: u64,
}

/// Counts of the generator's slow-path events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Reservations asked of the host.
    pub reservations: u64,
    /// `RetryAt` answers.
    pub retries: u64,
    /// Errors returned.
    pub refusals: u64,
}

/// What a generator derives once from its layout, policy and lane.
#[derive(Clone, Copy, Debug)]
struct Plan {
    layout: Layout,
    policy: Policy,
    borrow_units: u64,
    ahead_units: u64,
    /// Sequence bits left for the counter once the lane bits are taken.
    counter_bits: u32,
    composer: Composer,
    /// `2^time_bits`: the first time the layout cannot hold.
    end_units: u64,
}

/// Turns a packed `(time, counter)` value into an ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Composer {
    counter_bits: u32,
    counter_mask: u64,
    lane_bits: u32,
    lane: u64,
    node_field: u64,
    sequence_shift: u32,
    time_shift: u32,
}

impl Generator {
    /// A builder for generators of `layout`, with the default policy and a one-second
    /// reservation.
    pub const fn builder(layout: Layout) -> GeneratorBuilder {
        GeneratorBuilder {
            layout,
            policy: Policy::wait(Duration::from_secs(1)),
            reserve_ahead: Duration::from_secs(1),
        }
    }

    /// Mints an ID, or says what must happen first.
    ///
    /// The clock reading `now` may go backwards or jump forwards between calls. Call again
    /// after a [`Mint::RetryAt`] once the clock reads the given time, and after a
    /// [`Mint::Reserve`] once it is acknowledged; until then no ID comes back.
    ///
    /// # Errors
    ///
    /// A [`MintError`] when the policy refuses, the lease has expired, or `now` is outside
    /// the layout's lifetime. The generator stays usable: a later call with a better clock
    /// or a renewed lease succeeds.
    #[inline]
    pub fn mint(&mut self, now: Timestamp) -> Result<Mint, MintError> {
        if now.unix_ms().wrapping_sub(self.cache_start_ms) < self.cache_width_ms {
            let value = self.next.max(self.cache_floor);
            if value < self.cache_bound {
                self.next = value + 1;
                return Ok(Mint::Id(self.plan.compose(value)));
            }
        }
        self.mint_slow(now)
    }

    /// Mints up to `max` IDs at once (at least one), as a [`Block`] to iterate.
    ///
    /// The block holds as many of the next IDs as the policy, the reservation and `max`
    /// allow; they all carry a time no further ahead of `now` than a single
    /// [`Generator::mint`] would give them.
    ///
    /// # Errors
    ///
    /// As for [`Generator::mint`].
    pub fn mint_block(&mut self, now: Timestamp, max: usize) -> Result<Mint<Block>, MintError> {
        let first = match self.mint(now)? {
            Mint::Id(_) => self.next - 1,
            Mint::RetryAt(at) => return Ok(Mint::RetryAt(at)),
            Mint::Reserve(reservation) => return Ok(Mint::Reserve(reservation)),
        };
        // The cache is fresh after any successful mint: `cache_bound` holds for `now`.
        let wanted = u64::try_from(max).unwrap_or(u64::MAX).max(1);
        let end = first
            .saturating_add(wanted)
            .min(self.cache_bound.max(first + 1));
        self.next = end;
        Ok(Mint::Id(Block {
            composer: self.plan.composer,
            next: first,
            end,
        }))
    }

    /// [`Generator::mint`] with the time read from `clock`.
    ///
    /// # Errors
    ///
    /// As for [`Generator::mint`].
    #[inline]
    pub fn mint_with(&mut self, clock: &impl Clock) -> Result<Mint, MintError> {
        self.mint(clock.now())
    }

    /// Takes note that the host has made `reservation` durable.
    ///
    /// # Errors
    ///
    /// [`LeaseMismatch`] if the reservation was made under another node ID or epoch.
    pub fn acknowledge(&mut self, reservation: Reservation) -> Result<(), LeaseMismatch> {
        check_lease(&self.lease, reservation.node, reservation.epoch)?;
        self.reserved = self.reserved.max(reservation.up_to.0);
        self.cache_width_ms = 0;
        Ok(())
    }

    /// Replaces the lease with a renewal of it (same node and epoch, a new expiry).
    ///
    /// # Errors
    ///
    /// [`LeaseMismatch`] if `lease` is for another node ID or epoch. A new epoch means a new
    /// holder: start a new generator from the stored high-water mark instead.
    pub fn renew(&mut self, lease: Lease) -> Result<(), LeaseMismatch> {
        check_lease(&self.lease, lease.node, lease.epoch)?;
        self.lease = lease;
        self.cache_width_ms = 0;
        Ok(())
    }

    /// Ends the lease at once: nothing more is minted until a [`Generator::renew`].
    ///
    /// The lease's expiry is compared with the wall-clock `now` of each minting call. A host
    /// that times its lease on a monotonic clock, as it should when its wall clock may step
    /// back, calls this when its own timer runs out.
    pub fn end_lease(&mut self) {
        self.lease.expires_at = Timestamp::UNIX_EPOCH;
        self.cache_width_ms = 0;
    }

    /// Splits this generator into `n_lanes` generators that share its node ID but never
    /// each other's IDs: each owns the sequence values with its lane number in the lowest
    /// bits. Hand one to each thread.
    ///
    /// Each lane's IDs increase; IDs of different lanes interleave. A lane mints
    /// `ids_per_unit / n_lanes` IDs per time unit (rounded to a power of two). The lanes
    /// start at the next time unit, and each asks for its own reservations: the host keeps
    /// the maximum.
    ///
    /// # Errors
    ///
    /// [`SplitError`] if `n_lanes` is zero or the sequence field has too few free bits.
    pub fn split(self, n_lanes: usize) -> Result<Vec<Self>, SplitError> {
        let extra_bits = n_lanes.next_power_of_two().trailing_zeros();
        if n_lanes == 0 || extra_bits > self.plan.counter_bits {
            return Err(SplitError {
                n_lanes,
                free_bits: self.plan.counter_bits,
            });
        }
        let start_time = self.next.div_ceil(1 << self.plan.counter_bits);
        let lanes = (0..n_lanes as u64).map(|lane_idx| {
            let mut plan = self.plan;
            let composer = &mut plan.composer;
            composer.lane |= lane_idx << composer.lane_bits;
            composer.lane_bits += extra_bits;
            composer.counter_bits -= extra_bits;
            composer.counter_mask = mask(composer.counter_bits);
            plan.counter_bits = composer.counter_bits;
            let mut lane = Self::with_plan(plan, self.lease, self.reserved);
            lane.next = shift_saturating(start_time, plan.counter_bits);
            lane
        });
        Ok(lanes.collect())
    }

    /// Turns this generator into one that many threads can mint from at once.
    pub fn into_shared(self) -> SharedGenerator {
        SharedGenerator::new(self.plan, self.lease, self.next, self.reserved)
    }

    /// The layout it mints under.
    pub fn layout(&self) -> &Layout {
        &self.plan.layout
    }

    /// The lease it holds.
    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    /// The high-water mark acknowledged so far.
    pub fn high_water(&self) -> HighWater {
        HighWater(self.reserved)
    }

    /// Counts of its slow-path events.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    fn with_plan(plan: Plan, lease: Lease, reserved: u64) -> Self {
        Self {
            plan,
            lease,
            next: shift_saturating(reserved, plan.counter_bits),
            reserved,
            cache_start_ms: 0,
            cache_width_ms: 0,
            cache_floor: 0,
            cache_bound: 0,
            stats: Stats::default(),
        }
    }

    /// The checks the fast path skips: the lease, the epoch, the policy and the reservation.
    #[cold]
    fn mint_slow(&mut self, now: Timestamp) -> Result<Mint, MintError> {
        let cur = self.plan.current_unit(now, &self.lease);
        let outcome = cur.and_then(|cur| {
            self.refresh_cache(cur);
            let value = self.next.max(self.cache_floor);
            if value < self.cache_bound {
                self.next = value + 1;
                return Ok(Mint::Id(self.plan.compose(value)));
            }
            self.plan.stall(now, cur, value, self.reserved, &self.lease)
        });
        self.stats.count(&outcome);
        outcome
    }

    fn refresh_cache(&mut self, cur: u64) {
        let layout = &self.plan.layout;
        let start = layout.time_at(cur).unix_ms();
        let next_start = layout.time_at(cur.saturating_add(1));
        let end = next_start.min(self.lease.expires_at).unix_ms();
        self.cache_start_ms = start;
        self.cache_width_ms = end.saturating_sub(start);
        self.cache_floor = shift_saturating(cur, self.plan.counter_bits);
        self.cache_bound = self.plan.bound(cur, self.reserved);
    }
}

impl GeneratorBuilder {
    /// What to do when the clock is behind or the sequence is used up.
    pub const fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// How far past the minting time each reservation reaches (at least one time unit).
    ///
    /// A longer reach means fewer writes for the host, and a longer wait for a successor
    /// on the same node whose clock is behind the stored mark.
    pub const fn reserve_ahead(mut self, ahead: Duration) -> Self {
        self.reserve_ahead = ahead;
        self
    }

    /// A generator that holds `lease` and starts at the node's stored `high_water` mark
    /// ([`HighWater::ZERO`] the first time the node ID is used).
    ///
    /// It mints nothing until its first reservation is acknowledged.
    ///
    /// # Errors
    ///
    /// A [`StartError`] if the node ID or the mark does not fit the layout.
    pub fn start(self, lease: Lease, high_water: HighWater) -> Result<Generator, StartError> {
        let plan = self.plan(&lease, high_water)?;
        Ok(Generator::with_plan(plan, lease, high_water.0))
    }

    /// As [`GeneratorBuilder::start`], for a generator many threads share.
    ///
    /// # Errors
    ///
    /// As for [`GeneratorBuilder::start`].
    pub fn start_shared(
        self,
        lease: Lease,
        high_water: HighWater,
    ) -> Result<SharedGenerator, StartError> {
        Ok(self.start(lease, high_water)?.into_shared())
    }

    fn plan(&self, lease: &Lease, high_water: HighWater) -> Result<Plan, StartError> {
        let layout = self.layout;
        if lease.node > layout.max_node() {
            return Err(StartError::Node {
                node: lease.node,
                max: layout.max_node(),
            });
        }
        let end_units = 1 << layout.time_bits();
        if high_water.0 > end_units {
            return Err(StartError::HighWater);
        }
        let unit_ms = layout.unit().as_millis() as u64;
        let ms = |duration: Duration| u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        let (node_shift, sequence_shift) = layout.shifts();
        Ok(Plan {
            layout,
            policy: self.policy,
            borrow_units: ms(self.policy.max_borrow()) / unit_ms,
            ahead_units: (ms(self.reserve_ahead) / unit_ms).max(1),
            counter_bits: layout.sequence_bits(),
            composer: Composer {
                counter_bits: layout.sequence_bits(),
                counter_mask: mask(layout.sequence_bits()),
                lane_bits: 0,
                lane: 0,
                node_field: lease.node << node_shift,
                sequence_shift: u32::from(sequence_shift),
                time_shift: layout.node_bits() + layout.sequence_bits(),
            },
            end_units,
        })
    }
}

impl Lease {
    /// A lease on `node` under fencing `epoch`, valid until `expires_at`.
    pub const fn new(node: u64, epoch: u64, expires_at: Timestamp) -> Self {
        Self {
            node,
            epoch,
            expires_at,
        }
    }

    /// A lease that never expires, for a node ID assigned by configuration. The host must
    /// then make sure no two processes run with the same node ID.
    pub const fn forever(node: u64) -> Self {
        Self::new(node, 0, Timestamp::MAX)
    }

    /// The node ID.
    pub const fn node(&self) -> u64 {
        self.node
    }

    /// The fencing epoch.
    pub const fn epoch(&self) -> u64 {
        self.epoch
    }

    /// When minting under it stops.
    pub const fn expires_at(&self) -> Timestamp {
        self.expires_at
    }
}

impl HighWater {
    /// The mark of a node ID nobody has minted under yet.
    pub const ZERO: Self = Self(0);

    /// The mark from its stored number.
    pub const fn from_u64(value: u64) -> Self {
        Self(value)
    }

    /// The number to store.
    pub const fn to_u64(self) -> u64 {
        self.0
    }
}

impl Reservation {
    /// The node ID whose mark to raise.
    pub const fn node(&self) -> u64 {
        self.node
    }

    /// The fencing epoch the reservation was made under.
    pub const fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The mark to persist.
    pub const fn up_to(&self) -> HighWater {
        self.up_to
    }
}

impl Stats {
    fn count<T>(&mut self, outcome: &Result<Mint, T>) {
        match outcome {
            Ok(Mint::Id(_)) => {}
            Ok(Mint::Reserve(_)) => self.reservations += 1,
            Ok(Mint::RetryAt(_)) => self.retries += 1,
            Err(_) => self.refusals += 1,
        }
    }
}

impl Plan {
    #[inline]
    fn compose(&self, value: u64) -> Id64 {
        self.composer.compose(value)
    }

    /// The time unit `now` falls in, if the lease and the layout allow minting then.
    fn current_unit(&self, now: Timestamp, lease: &Lease) -> Result<u64, MintError> {
        if now >= lease.expires_at {
            return Err(MintError::LeaseExpired {
                at: lease.expires_at,
            });
        }
        self.layout.units_at(now).ok_or(MintError::BeforeEpoch)
    }

    /// The packed values below the result may be minted while the clock reads unit `cur`.
    #[inline]
    fn bound(&self, cur: u64, reserved: u64) -> u64 {
        let borrowed = cur.saturating_add(self.borrow_units).saturating_add(1);
        let time_end = borrowed.min(reserved).min(self.end_units);
        shift_saturating(time_end, self.counter_bits)
    }

    /// Why the packed `value`, the least that may be minted next, cannot be minted now.
    fn stall(
        &self,
        now: Timestamp,
        cur: u64,
        value: u64,
        reserved: u64,
        lease: &Lease,
    ) -> Result<Mint, MintError> {
        let time = value >> self.counter_bits;
        if time >= self.end_units {
            return Err(MintError::TimeExhausted);
        }
        let catch_up = self.layout.time_at(time.saturating_sub(self.borrow_units));
        match self.policy.judge(now, catch_up) {
            Verdict::Mint => {}
            Verdict::RetryAt(at) => return Ok(Mint::RetryAt(at)),
            Verdict::Refuse if time == cur + 1 && value & self.composer.counter_mask == 0 => {
                return Err(MintError::SequenceExhausted);
            }
            Verdict::Refuse => {
                let by = self.layout.time_at(time).saturating_duration_since(now);
                return Err(MintError::ClockBehind { by });
            }
        }
        if time < reserved {
            // Within every bound but the last value of a 64-bit layout, which the saturating
            // bound leaves out.
            return Err(MintError::TimeExhausted);
        }
        Ok(Mint::Reserve(Reservation {
            node: lease.node,
            epoch: lease.epoch,
            up_to: HighWater(time.saturating_add(self.ahead_units).min(self.end_units)),
        }))
    }
}

impl Composer {
    /// The ID of the packed `(time, counter)` value.
    #[inline]
    fn compose(&self, value: u64) -> Id64 {
        let time = value >> self.counter_bits;
        let counter = value & self.counter_mask;
        let sequence = counter << self.lane_bits | self.lane;
        Id64::from_u64(time << self.time_shift | self.node_field | sequence << self.sequence_shift)
    }
}

impl Block {
    /// How many IDs are left in the block.
    pub fn len(&self) -> usize {
        usize::try_from(self.end - self.next).unwrap_or(usize::MAX)
    }

    /// Whether every ID of the block has been taken.
    pub fn is_empty(&self) -> bool {
        self.next == self.end
    }
}

impl Iterator for Block {
    type Item = Id64;

    #[inline]
    fn next(&mut self) -> Option<Id64> {
        (self.next < self.end).then(|| {
            self.next += 1;
            self.composer.compose(self.next - 1)
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len(), Some(self.len()))
    }
}

impl ExactSizeIterator for Block {}

impl fmt::Display for MintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ClockBehind { by } => write!(f, "clock is {by:?} behind ids already minted"),
            Self::SequenceExhausted => f.write_str("sequence of the current time unit used up"),
            Self::BeforeEpoch => f.write_str("clock reads a time before the layout's epoch"),
            Self::TimeExhausted => f.write_str("the layout's time field has run out"),
            Self::LeaseExpired { at } => write!(f, "node lease expired at {at}"),
        }
    }
}

impl std::error::Error for MintError {}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Node { node, max } => write!(f, "node id {node} is above the layout's {max}"),
            Self::HighWater => f.write_str("high-water mark is past the layout's time field"),
        }
    }
}

impl std::error::Error for StartError {}

impl fmt::Display for LeaseMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lease for node {} epoch {} handed to the generator of node {} epoch {}",
            self.found.0, self.found.1, self.expected.0, self.expected.1
        )
    }
}

impl std::error::Error for LeaseMismatch {}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot split into {} lanes with {} free sequence bits",
            self.n_lanes, self.free_bits
        )
    }
}

impl std::error::Error for SplitError {}

fn check_lease(lease: &Lease, node: u64, epoch: u64) -> Result<(), LeaseMismatch> {
    if (lease.node, lease.epoch) == (node, epoch) {
        Ok(())
    } else {
        Err(LeaseMismatch {
            expected: (lease.node, lease.epoch),
            found: (node, epoch),
        })
    }
}

/// `value << bits`, or `u64::MAX` if that overflows.
#[inline]
fn shift_saturating(value: u64, bits: u32) -> u64 {
    if value > u64::MAX >> bits {
        u64::MAX
    } else {
        value << bits
    }
}

#[cfg(test)]
mod tests;
