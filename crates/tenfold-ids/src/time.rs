use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A wall-clock instant: whole milliseconds since the Unix epoch, 1970-01-01T00:00:00Z.
///
/// Every generator in this crate reads time as a `Timestamp` handed in by the host. Its
/// [`Display`](fmt::Display) form is RFC 3339 in UTC with milliseconds, such as
/// `2016-04-30T11:18:25.796Z`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Timestamp(u64);

impl Timestamp {
    /// The Unix epoch itself.
    pub const UNIX_EPOCH: Self = Self(0);

    /// The latest instant a `Timestamp` holds, about 584 million years after 1970.
    pub const MAX: Self = Self(u64::MAX);

    /// The instant `ms` milliseconds after the Unix epoch.
    #[inline]
    pub const fn from_unix_ms(ms: u64) -> Self {
        Self(ms)
    }

    /// The instant `since_epoch` after the Unix epoch, truncated to whole milliseconds and
    /// capped at [`Timestamp::MAX`].
    ///
    /// This is the bridge from a host clock that reports a [`Duration`] since the Unix epoch.
    #[inline]
    pub const fn from_duration(since_epoch: Duration) -> Self {
        let ms = since_epoch.as_secs().saturating_mul(1000);
        Self(ms.saturating_add(since_epoch.subsec_millis() as u64))
    }

    /// Milliseconds since the Unix epoch.
    #[inline]
    pub const fn unix_ms(self) -> u64 {
        self.0
    }

    /// Time since the Unix epoch.
    pub const fn as_duration(self) -> Duration {
        Duration::from_millis(self.0)
    }

    /// This instant moved `by` later, capped at [`Timestamp::MAX`].
    pub const fn saturating_add(self, by: Duration) -> Self {
        Self(self.0.saturating_add(Self::from_duration(by).0))
    }

    /// This instant moved `by` earlier, stopping at the Unix epoch.
    pub const fn saturating_sub(self, by: Duration) -> Self {
        Self(self.0.saturating_sub(Self::from_duration(by).0))
    }

    /// How long after `earlier` this instant is, or zero if it is not after it.
    pub const fn saturating_duration_since(self, earlier: Self) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl From<Duration> for Timestamp {
    fn from(since_epoch: Duration) -> Self {
        Self::from_duration(since_epoch)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0 / MS_PER_DAY;
        let ms_of_day = self.0 % MS_PER_DAY;
        let (year, month, day) = civil_from_days(days);
        let (hour, minute) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60);
        let (second, milli) = (ms_of_day / 1000 % 60, ms_of_day % 1000);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z"
        )
    }
}

/// The wall clock a host lends to a generator.
///
/// A generator never reads a clock by itself: every minting call takes a [`Timestamp`].
/// Hosts that prefer to hand over a clock implement this trait and call the generators'
/// `mint_with` methods. The clock may step backwards or forwards at any moment; the
/// generators are built to survive that (see [`Policy`](crate::Policy)).
pub trait Clock {
    /// The wall-clock time now.
    fn now(&self) -> Timestamp;
}

impl<C: Clock + ?Sized> Clock for &C {
    #[inline]
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

/// A wall clock set by hand, shareable between threads: the in-memory [`Clock`] for tests,
/// simulations and replays, and a logical clock for benchmarks.
#[derive(Debug, Default)]
pub struct ManualClock {
    ms: AtomicU64,
}

impl ManualClock {
    /// A clock that reads `now` until told otherwise.
    pub fn new(now: Timestamp) -> Self {
        Self {
            ms: AtomicU64::new(now.0),
        }
    }

    /// Sets the clock to `now`, forwards or backwards.
    pub fn set(&self, now: Timestamp) {
        self.ms.store(now.0, Ordering::Relaxed);
    }

    /// Moves the clock `by` later.
    pub fn advance(&self, by: Duration) {
        let by = Timestamp::from_duration(by).0;
        self.ms.fetch_add(by, Ordering::Relaxed);
    }

    /// Moves the clock `by` earlier, as an NTP correction or an operator would, stopping at
    /// the Unix epoch.
    pub fn step_back(&self, by: Duration) {
        let now = Timestamp(self.ms.load(Ordering::Relaxed));
        self.set(now.saturating_sub(by));
    }
}

impl Clock for ManualClock {
    #[inline]
    fn now(&self) -> Timestamp {
        Timestamp(self.ms.load(Ordering::Relaxed))
    }
}

/// Year, month (1–12) and day (1–31) of the proleptic Gregorian calendar for a count of days
/// since 1970-01-01.
///
/// The calendar repeats every 400 years (146,097 days). Counting years from March 1st puts
/// the leap day last, so the month follows from the day of the year by a linear formula.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Day 0 of this count is 0000-03-01, which is 719,468 days before 1970-01-01.
    let days = days + 719_468;
    let era = days / 146_097;
    let day_of_era = days % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

const MS_PER_DAY: u64 = 86_400_000;

#[cfg(test)]
mod tests;
