use std::time::Duration;

use crate::Timestamp;

/// What a generator does when it cannot mint at the clock's current time: the clock went
/// back behind IDs already minted (an NTP step, a VM resume, an operator, a restart onto a
/// slower clock), or the sequence of the current time unit is used up.
///
/// Either way the next ID would have to carry a time *ahead* of the clock. The policy says
/// how far ahead the generator may go, and how long it may ask the host to wait:
///
/// - up to [`Policy::max_borrow`] ahead, it mints at once (it *borrows* time);
/// - beyond that, if the clock will catch up within [`Policy::max_wait`], it answers
///   `RetryAt` with the instant to try again, and never sleeps itself;
/// - beyond that, it refuses with an error.
///
/// Borrowed time is safe across restarts because no ID is ever minted past the host's
/// persisted high-water mark (see [`Generator`](crate::Generator)).
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use tenfold_ids::Policy;
///
/// let policy = Policy::borrow(Duration::from_millis(5)).and_wait(Duration::from_secs(1));
/// assert_eq!(policy.max_borrow(), Duration::from_millis(5));
/// assert_eq!(Policy::refuse().max_wait(), Duration::ZERO);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Policy {
    borrow: Duration,
    wait: Duration,
}

/// What a policy makes of a candidate ID that lies ahead of the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Mint,
    RetryAt(Timestamp),
    Refuse,
}

impl Policy {
    /// Never run ahead of the clock and never wait: refuse at once. This is what Twitter's
    /// Snowflake does when its clock goes back.
    pub const fn refuse() -> Self {
        Self {
            borrow: Duration::ZERO,
            wait: Duration::ZERO,
        }
    }

    /// Never run ahead of the clock; ask the host to wait for it up to `max`, then refuse.
    pub const fn wait(max: Duration) -> Self {
        Self {
            borrow: Duration::ZERO,
            wait: max,
        }
    }

    /// Mint up to `max` ahead of the clock, then refuse.
    pub const fn borrow(max: Duration) -> Self {
        Self {
            borrow: max,
            wait: Duration::ZERO,
        }
    }

    /// The same policy, asking the host to wait up to `max` once it may borrow no further.
    pub const fn and_wait(self, max: Duration) -> Self {
        Self {
            borrow: self.borrow,
            wait: max,
        }
    }

    /// How far ahead of the clock the generator mints.
    pub const fn max_borrow(&self) -> Duration {
        self.borrow
    }

    /// How long the generator asks the host to wait before it refuses.
    pub const fn max_wait(&self) -> Duration {
        self.wait
    }

    /// Judges a candidate minted at `candidate`, which lies ahead of `now`; `catch_up` is the
    /// instant from which the candidate is no more than the borrowing bound ahead.
    pub(crate) fn judge(&self, now: Timestamp, catch_up: Timestamp) -> Verdict {
        if catch_up <= now {
            Verdict::Mint
        } else if catch_up.saturating_duration_since(now) <= self.wait {
            Verdict::RetryAt(catch_up)
        } else {
            Verdict::Refuse
        }
    }
}

impl Default for Policy {
    /// Waits up to one second and never borrows.
    fn default() -> Self {
        Self::wait(Duration::from_secs(1))
    }
}
