use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The two clocks a host hands to the cores.
///
/// Cores never read a clock themselves. A host reads one of these and passes the value in as
/// `now`, or wraps it in the small clock trait a core defines for itself.
///
/// - [`Clock::monotonic`] never goes backwards. Use it for timeouts, leases, token buckets and
///   anything measured as an interval.
/// - [`Clock::wall`] is calendar time. It can step forwards or backwards at any moment (NTP,
///   an operator, a VM migration). Use it only where the value itself matters, such as the
///   time bits of an ID or a flag that turns on at a given date, and expect it to misbehave.
pub trait Clock {
    /// Time since an origin fixed when the clock was made. Never decreases.
    fn monotonic(&self) -> Duration;

    /// Time since the Unix epoch, 1970-01-01T00:00:00Z.
    ///
    /// A system clock set before 1970 reads as [`Duration::ZERO`].
    fn wall(&self) -> Duration;
}

/// The operating system's clocks.
#[derive(Clone, Copy, Debug)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A system clock whose monotonic origin is now.
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn monotonic(&self) -> Duration {
        self.origin.elapsed()
    }

    fn wall(&self) -> Duration {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
    }
}

/// A clock that moves only when told to, for tests and replays.
///
/// It can be shared between threads. Its wall clock can be stepped backwards to reproduce an
/// NTP correction; its monotonic clock only goes forwards.
#[derive(Debug, Default)]
pub struct ManualClock {
    monotonic_nanos: AtomicU64,
    wall_nanos: AtomicU64,
}

impl ManualClock {
    /// A clock at monotonic zero whose wall clock reads `wall` since the Unix epoch.
    pub fn new(wall: Duration) -> Self {
        Self {
            monotonic_nanos: AtomicU64::new(0),
            wall_nanos: AtomicU64::new(saturating_nanos(wall)),
        }
    }

    /// Moves both clocks forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = saturating_nanos(by);
        self.monotonic_nanos.fetch_add(by, Ordering::Relaxed);
        self.wall_nanos.fetch_add(by, Ordering::Relaxed);
    }

    /// Sets the wall clock to `wall` since the Unix epoch, forwards or backwards, leaving the
    /// monotonic clock where it is.
    pub fn set_wall(&self, wall: Duration) {
        self.wall_nanos
            .store(saturating_nanos(wall), Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn monotonic(&self) -> Duration {
        Duration::from_nanos(self.monotonic_nanos.load(Ordering::Relaxed))
    }

    fn wall(&self) -> Duration {
        Duration::from_nanos(self.wall_nanos.load(Ordering::Relaxed))
    }
}

/// Nanoseconds in `duration`, capped at what a `u64` holds (about 584 years).
fn saturating_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
