use std::sync::atomic::{AtomicU64, Ordering};

use super::shift_saturating;
use super::{HighWater, Lease, LeaseMismatch, Mint, MintError, Plan, Reservation, check_lease};
use crate::{Clock, Layout, Timestamp};

/// A generator of 64-bit IDs that many threads mint from at once, without locks.
///
/// It keeps the same promises as [`Generator`](crate::Generator): IDs are unique, each is
/// greater than every ID minted before it (across all threads), and none is minted beyond
/// an acknowledged high-water mark or after the lease expires. Each minting call is a
/// compare-and-swap on one atomic word.
///
/// Several threads may get the same [`Mint::Reserve`] at once; the host persists the
/// maximum and acknowledges each, which is harmless.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use tenfold_ids::{Generator, HighWater, Layout, Lease, Mint, Timestamp};
///
/// let generator = Generator::builder(Layout::discord())
///     .start_shared(Lease::forever(1), HighWater::ZERO)?;
/// let generator = Arc::new(generator);
/// let now = Timestamp::from_unix_ms(1_700_000_000_000);
/// if let Mint::Reserve(reservation) = generator.mint(now)? {
///     generator.acknowledge(reservation)?;
/// }
/// let Mint::Id(id) = generator.mint(now)? else { panic!("expected an id") };
/// assert_eq!(Layout::discord().decompose(id)?.timestamp, now);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SharedGenerator {
    /// The smallest packed `(time, counter)` value that may be minted next. It sits alone in
    /// its cache line, since every call writes it.
    next: Padded<AtomicU64>,
    reserved: AtomicU64,
    lease_expires_ms: AtomicU64,
    plan: Plan,
    lease: Lease,
}

/// A value aligned to its own cache line (two, on CPUs that fetch lines in pairs).
#[derive(Debug)]
#[repr(align(128))]
struct Padded<T>(T);

impl SharedGenerator {
    pub(super) fn new(plan: Plan, lease: Lease, next: u64, reserved: u64) -> Self {
        Self {
            next: Padded(AtomicU64::new(next)),
            reserved: AtomicU64::new(reserved),
            lease_expires_ms: AtomicU64::new(lease.expires_at.unix_ms()),
            plan,
            lease,
        }
    }

    /// Mints an ID, or says what must happen first; see
    /// [`Generator::mint`](crate::Generator::mint).
    ///
    /// # Errors
    ///
    /// As for [`Generator::mint`](crate::Generator::mint).
    #[inline]
    pub fn mint(&self, now: Timestamp) -> Result<Mint, MintError> {
        let expires_at = Timestamp::from_unix_ms(self.lease_expires_ms.load(Ordering::Relaxed));
        let lease = Lease {
            expires_at,
            ..self.lease
        };
        let cur = self.plan.current_unit(now, &lease)?;
        let reserved = self.reserved.load(Ordering::Relaxed);
        let floor = shift_saturating(cur, self.plan.counter_bits);
        let bound = self.plan.bound(cur, reserved);
        // Relaxed ordering is enough: uniqueness and order come from the single modification
        // order of `next`, and a stale `reserved` or lease is only ever more cautious.
        let mut current = self.next.0.load(Ordering::Relaxed);
        loop {
            let value = current.max(floor);
            if value >= bound {
                return self.plan.stall(now, cur, value, reserved, &lease);
            }
            let swap = self.next.0.compare_exchange_weak(
                current,
                value + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            match swap {
                Ok(_) => return Ok(Mint::Id(self.plan.compose(value))),
                Err(actual) => current = actual,
            }
        }
    }

    /// [`SharedGenerator::mint`] with the time read from `clock`.
    ///
    /// # Errors
    ///
    /// As for [`Generator::mint`](crate::Generator::mint).
    #[inline]
    pub fn mint_with(&self, clock: &impl Clock) -> Result<Mint, MintError> {
        self.mint(clock.now())
    }

    /// Takes note that the host has made `reservation` durable.
    ///
    /// # Errors
    ///
    /// [`LeaseMismatch`] if the reservation was made under another node ID or epoch.
    pub fn acknowledge(&self, reservation: Reservation) -> Result<(), LeaseMismatch> {
        check_lease(&self.lease, reservation.node, reservation.epoch)?;
        let up_to = reservation.up_to.0;
        self.reserved.fetch_max(up_to, Ordering::Relaxed);
        Ok(())
    }

    /// Moves the lease's expiry to that of `lease`, a renewal of the same node and epoch.
    ///
    /// # Errors
    ///
    /// [`LeaseMismatch`] if `lease` is for another node ID or epoch.
    pub fn renew(&self, lease: Lease) -> Result<(), LeaseMismatch> {
        check_lease(&self.lease, lease.node, lease.epoch)?;
        let expires_ms = lease.expires_at.unix_ms();
        self.lease_expires_ms.store(expires_ms, Ordering::Relaxed);
        Ok(())
    }

    /// Ends the lease at once; see [`Generator::end_lease`](crate::Generator::end_lease).
    pub fn end_lease(&self) {
        self.lease_expires_ms.store(0, Ordering::Relaxed);
    }

    /// The layout it mints under.
    pub fn layout(&self) -> &Layout {
        &self.plan.layout
    }

    /// The high-water mark acknowledged so far.
    pub fn high_water(&self) -> HighWater {
        HighWater(self.reserved.load(Ordering::Relaxed))
    }
}
