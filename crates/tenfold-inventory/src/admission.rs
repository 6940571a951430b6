//! Admission: rate limits per user and for the checkout, and a fair first-come queue that
//! closes once its tickets cover the stock.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use foldhash::fast::FixedState;

use crate::book::MAX_TIME;

/// A buyer (an account, a session or a device, as the host decides).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(pub u64);

/// A rate: one request every `period`, with up to `burst` at once after a quiet spell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub(crate) period: Duration,
    pub(crate) burst: u32,
}

impl Rate {
    /// `n` requests per second with a burst of one; `None` for zero.
    pub fn per_second(n: u32) -> Option<Self> {
        Self::every(Duration::from_secs(1) / n.max(1)).filter(|_| n > 0)
    }

    /// One request every `period`, with a burst of one; `None` for a zero period.
    pub fn every(period: Duration) -> Option<Self> {
        (!period.is_zero()).then_some(Self { period, burst: 1 })
    }

    /// Allows up to `burst` requests at once (at least one).
    pub fn burst(self, burst: u32) -> Self {
        Self {
            burst: burst.max(1),
            ..self
        }
    }

    /// The time between requests at the steady rate.
    pub fn period(&self) -> Duration {
        self.period
    }

    fn tolerance(&self) -> Duration {
        self.period.saturating_mul(self.burst - 1)
    }
}

/// The generic cell rate algorithm for one stream of requests: a token bucket kept as a
/// single time, the theoretical arrival time of the next request.
///
/// A request at `now` conforms if that time is no further ahead of `now` than the burst
/// allows; each conforming request pushes it one period on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gcra {
    rate: Rate,
    arrival: Duration,
}

impl Gcra {
    /// A limiter that has seen no request.
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            arrival: Duration::ZERO,
        }
    }

    /// Takes one request at `now`.
    ///
    /// # Errors
    ///
    /// The earliest time at which a request would conform, if this one does not. A refused
    /// request changes nothing.
    pub fn check(&mut self, now: Duration) -> Result<(), Duration> {
        check(self.rate, &mut self.arrival, now)
    }

    /// The earliest time at which a request conforms.
    pub fn ready_at(&self) -> Duration {
        self.arrival.saturating_sub(self.rate.tolerance())
    }
}

/// How admission behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdmissionConfig {
    per_user: Rate,
    checkout: Rate,
    hash_seed: u64,
}

impl AdmissionConfig {
    /// Each user may try to join `per_user` often, and the queue lets buyers through to the
    /// checkout at the `checkout` rate.
    pub fn new(per_user: Rate, checkout: Rate) -> Self {
        Self {
            per_user,
            checkout,
            hash_seed: 0,
        }
    }

    /// The seed of the per-user tables; see [`crate::Config::hash_seed`].
    pub fn hash_seed(self, hash_seed: u64) -> Self {
        Self { hash_seed, ..self }
    }
}

/// A place in the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ticket {
    /// Who holds it.
    pub user: UserId,
    /// Its number: tickets are admitted in number order.
    pub number: u64,
    /// The units it promises its holder.
    pub units: u32,
    /// When it was issued.
    pub issued_at: Duration,
}

/// The answer to [`Admission::join`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Join {
    /// The user holds `ticket` (a repeat click gets the ticket it already has), with `ahead`
    /// tickets before it.
    Queued {
        /// The ticket.
        ticket: Ticket,
        /// How many tickets will be admitted before it.
        ahead: u64,
    },
    /// The user tries too often; try again at `retry_at`.
    Throttled {
        /// When a try would conform.
        retry_at: Duration,
    },
    /// The tickets already issued cover all the stock: joining would mean waiting for
    /// nothing. Units given back reopen the queue.
    SoldOut,
}

/// Fair admission to a flash sale, with no I/O.
///
/// A user joins and gets a numbered ticket; tickets are admitted to the checkout in number
/// order at the checkout rate, so the first to come is the first served, and the rate limit
/// per user keeps repeat clicks and scripts from crowding others out. Each ticket promises its
/// units, and the queue issues tickets only while unpromised units remain, so it closes the
/// moment the tickets cover the stock. Units come back with [`Admission::give_back`] when a
/// reservation is released or expires, or with [`Admission::leave`], and reopen it.
#[derive(Debug)]
pub struct Admission {
    config: AdmissionConfig,
    arrivals: HashMap<UserId, Duration, FixedState>,
    arrivals_by_age: VecDeque<(Duration, UserId)>,
    checkout: Gcra,
    queue: VecDeque<Ticket>,
    holders: HashMap<UserId, Ticket, FixedState>,
    next_number: u64,
    unpromised: u64,
    floor: Duration,
    stats: AdmissionStats,
}

/// Counters for monitoring admission.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AdmissionStats {
    /// Tickets issued.
    pub issued: u64,
    /// Tickets admitted to the checkout.
    pub admitted: u64,
    /// Joins refused by the per-user rate.
    pub throttled: u64,
    /// Joins refused because the tickets covered the stock.
    pub sold_out: u64,
    /// Repeat joins answered with the ticket already held.
    pub repeats: u64,
}

impl Admission {
    /// Admission to a sale of `units` units.
    pub fn new(config: AdmissionConfig, units: u64) -> Self {
        let hasher = FixedState::with_seed(config.hash_seed);
        Self {
            config,
            arrivals: HashMap::with_hasher(hasher.clone()),
            arrivals_by_age: VecDeque::new(),
            checkout: Gcra::new(config.checkout),
            queue: VecDeque::new(),
            holders: HashMap::with_hasher(hasher),
            next_number: 0,
            unpromised: units,
            floor: Duration::ZERO,
            stats: AdmissionStats::default(),
        }
    }

    /// A user asks for `units` units at `now`.
    pub fn join(&mut self, user: UserId, units: u32, now: Duration) -> Join {
        let now = self.observe(now);
        let arrival = self.arrivals.entry(user).or_default();
        if let Err(retry_at) = check(self.config.per_user, arrival, now) {
            self.stats.throttled += 1;
            return Join::Throttled { retry_at };
        }
        self.arrivals_by_age.push_back((*arrival, user));
        if let Some(ticket) = self.holders.get(&user) {
            self.stats.repeats += 1;
            let ahead = ticket.number - self.queue.front().map_or(ticket.number, |t| t.number);
            return Join::Queued {
                ticket: *ticket,
                ahead,
            };
        }
        if units == 0 || self.unpromised < u64::from(units) {
            self.stats.sold_out += 1;
            return Join::SoldOut;
        }
        self.unpromised -= u64::from(units);
        let ticket = Ticket {
            user,
            number: self.next_number,
            units,
            issued_at: now,
        };
        self.next_number += 1;
        self.stats.issued += 1;
        self.holders.insert(user, ticket);
        self.queue.push_back(ticket);
        let ahead = ticket.number - self.queue.front().map_or(ticket.number, |t| t.number);
        Join::Queued { ticket, ahead }
    }

    /// The next ticket to let through to the checkout, if one is waiting and the checkout
    /// rate allows it at `now`. Call it until it returns `None`, then again at
    /// [`Admission::poll_timeout`].
    #[must_use]
    pub fn poll_admit(&mut self, now: Duration) -> Option<Ticket> {
        let now = self.observe(now);
        self.skip_departed();
        self.queue.front()?;
        self.checkout.check(now).ok()?;
        let ticket = self.queue.pop_front()?;
        self.holders.remove(&ticket.user);
        self.stats.admitted += 1;
        Some(ticket)
    }

    /// When the next waiting ticket can be admitted, if any is waiting.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Duration> {
        (!self.holders.is_empty()).then(|| self.checkout.ready_at().max(self.floor))
    }

    /// The user gives up their place; its units are promised to no one again. Returns
    /// whether the user held a ticket.
    pub fn leave(&mut self, user: UserId) -> bool {
        let Some(ticket) = self.holders.remove(&user) else {
            return false;
        };
        self.give_back(ticket.units.into());
        true
    }

    /// Units that were promised came back: a reservation was released or expired, or an
    /// admitted buyer did not reserve. The queue reopens for them.
    pub fn give_back(&mut self, units: u64) {
        self.unpromised = self.unpromised.saturating_add(units);
    }

    /// Forgets the rate state of users whose last try is long enough ago that forgetting
    /// changes nothing, looking at no more than `budget` entries.
    pub fn prune(&mut self, now: Duration, budget: usize) {
        let now = self.observe(now);
        for _ in 0..budget {
            let Some(&(arrival, user)) = self.arrivals_by_age.front() else {
                break;
            };
            if arrival > now {
                break;
            }
            self.arrivals_by_age.pop_front();
            if self.arrivals.get(&user) == Some(&arrival) {
                self.arrivals.remove(&user);
            }
        }
    }

    /// Units not yet promised to any ticket.
    pub fn unpromised(&self) -> u64 {
        self.unpromised
    }

    /// Tickets waiting to be admitted.
    pub fn waiting(&self) -> usize {
        self.holders.len()
    }

    /// Whether a join for one unit would be turned away as sold out.
    pub fn is_closed(&self) -> bool {
        self.unpromised == 0
    }

    /// Counters for monitoring.
    pub fn stats(&self) -> AdmissionStats {
        self.stats
    }

    fn observe(&mut self, now: Duration) -> Duration {
        self.floor = self.floor.max(now.min(MAX_TIME));
        self.floor
    }

    /// Drops tickets at the front whose holders left.
    fn skip_departed(&mut self) {
        while let Some(front) = self.queue.front() {
            match self.holders.get(&front.user) {
                Some(held) if held.number == front.number => break,
                _ => self.queue.pop_front(),
            };
        }
    }
}

/// The GCRA step on one stored arrival time.
fn check(rate: Rate, arrival: &mut Duration, now: Duration) -> Result<(), Duration> {
    let start = (*arrival).max(now);
    let earliest = start.saturating_sub(rate.tolerance());
    if earliest > now {
        return Err(earliest);
    }
    *arrival = start.saturating_add(rate.period).min(MAX_TIME);
    Ok(())
}

#[cfg(test)]
mod tests;
