//! A deterministic flash-sale simulator: many buyers, one hot item, admission, the ledger, a
//! journal, and a crash, all in virtual time.
//!
//! The simulator is a host in miniature. It reads no clock and does no I/O: time is virtual,
//! randomness comes from the seed in [`SaleConfig`], and durability goes through the
//! [`Journal`] trait, which the caller implements ([`MemoryJournal`] keeps events in memory;
//! the `flash_sale` example writes them to a file and syncs it).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Duration;

use crate::admission::{Admission, AdmissionConfig, Join, Rate, UserId};
use crate::book::ReservationState;
use crate::event::Event;
use crate::ledger::{Config, Ledger, ReplayError};
use crate::types::{ItemId, Line, Outcome, Reply, RequestKey, ReservationId};

/// Where the simulator makes events durable, and reads them back after a crash.
pub trait Journal {
    /// Why persisting or recovering failed.
    type Error: std::fmt::Display;

    /// Makes `events` durable after those persisted before; when this returns `Ok`, they
    /// survive a crash.
    ///
    /// # Errors
    ///
    /// The storage's error; the simulation stops with it.
    fn persist(&mut self, events: &[Event]) -> Result<(), Self::Error>;

    /// After a crash: every event that was made durable, in order.
    ///
    /// # Errors
    ///
    /// The storage's error, or a journal that cannot be read back.
    fn recover(&mut self) -> Result<Vec<Event>, Self::Error>;
}

/// A [`Journal`] in memory: persisting is appending to a vector.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    events: Vec<Event>,
}

impl Journal for MemoryJournal {
    type Error = std::convert::Infallible;

    fn persist(&mut self, events: &[Event]) -> Result<(), Self::Error> {
        self.events.extend_from_slice(events);
        Ok(())
    }

    fn recover(&mut self) -> Result<Vec<Event>, Self::Error> {
        Ok(self.events.clone())
    }
}

/// The shape of a sale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SaleConfig {
    /// Buyers in all, spread over the arrival histogram in proportion to its counts.
    pub buyers: u32,
    /// Units of the one item on sale.
    pub units: u64,
    /// The virtual time one histogram bucket covers.
    pub bucket: Duration,
    /// How long a reservation holds.
    pub hold_for: Duration,
    /// How often one user may try to join.
    pub per_user: Rate,
    /// How fast the queue lets buyers through to the checkout.
    pub checkout: Rate,
    /// The group-commit interval: events are persisted, and replies released, once per tick.
    pub tick: Duration,
    /// Crash once, just before the group commit of the first tick at which this many units
    /// are sold.
    pub crash_at_sold: Option<u64>,
    /// The seed of every random choice.
    pub seed: u64,
}

impl SaleConfig {
    /// `buyers` buyers after `units` units; 20 ms buckets, holds of 30 s, one join per user
    /// per second, a checkout of 500 buyers per second (bursts of 20), 50 ms ticks, a crash at
    /// half the stock, seed 1.
    pub fn new(buyers: u32, units: u64) -> Self {
        Self {
            buyers,
            units,
            bucket: Duration::from_millis(20),
            hold_for: Duration::from_secs(30),
            per_user: Rate {
                period: Duration::from_secs(1),
                burst: 1,
            },
            checkout: Rate {
                period: Duration::from_millis(2),
                burst: 20,
            },
            tick: Duration::from_millis(50),
            crash_at_sold: Some(units / 2),
            seed: 1,
        }
    }
}

/// What a simulated sale did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SaleReport {
    /// Buyers who arrived.
    pub buyers: u64,
    /// Units on sale.
    pub units: u64,
    /// Units sold, as the ledger counts them.
    pub sold: u64,
    /// Buyers told their order is confirmed.
    pub buyers_confirmed: u64,
    /// Units sold beyond the stock (must be 0).
    pub oversold: u64,
    /// Units left unsold at the end while buyers were still waiting for one (must be 0).
    pub unsold_while_demand: u64,
    /// Confirmations told to a buyer that the ledger no longer holds after the crash (must
    /// be 0).
    pub lost_confirmations: u64,
    /// Buyers charged for more than one reservation, or whose retries got a different
    /// answer than the first (must be 0).
    pub double_charges: u64,
    /// Admitted buyers refused for lack of stock (must be 0: tickets cover only real stock).
    pub admitted_refused: u64,
    /// Tickets issued.
    pub tickets: u64,
    /// Joins refused by the per-user rate.
    pub throttled: u64,
    /// Joins turned away because tickets covered the stock.
    pub turned_away: u64,
    /// Repeat clicks on join, reserve and confirm.
    pub repeat_clicks: u64,
    /// Reservations that expired.
    pub expired: u64,
    /// Reservations released by their buyer.
    pub released: u64,
    /// Crashes, each followed by recovery from the journal.
    pub crashes: u64,
    /// Events persisted to the journal.
    pub events: u64,
    /// Group commits (one `persist` each).
    pub commits: u64,
    /// Events replayed at recovery.
    pub replayed: u64,
    /// Median wait in the queue, from ticket to admission.
    pub wait_p50: Duration,
    /// 99th percentile of the queue wait.
    pub wait_p99: Duration,
    /// Longest queue wait.
    pub wait_max: Duration,
    /// When the last unit was sold, in virtual time.
    pub sold_out_at: Duration,
}

/// Why a simulated sale stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum SaleError<E> {
    /// The journal failed.
    Journal(E),
    /// The recovered journal could not be replayed.
    Replay(ReplayError),
}

impl<E: std::fmt::Display> std::fmt::Display for SaleError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Journal(error) => write!(f, "journal failed: {error}"),
            Self::Replay(error) => write!(f, "recovery failed: {error}"),
        }
    }
}

impl<E: std::fmt::Debug + std::fmt::Display> std::error::Error for SaleError<E> {}

/// The two hours around the busiest minute of `per_second` (arrivals counted per second):
/// from 20 minutes before that minute to 100 minutes after, cut short at either end of the
/// data. The arrival shape the flash-sale example, the tour and the bench give [`run`].
pub fn busiest_window(per_second: &[u32]) -> &[u32] {
    let minute_sums = per_second
        .chunks(60)
        .map(|minute| minute.iter().sum::<u32>());
    let busiest = minute_sums
        .enumerate()
        .max_by_key(|&(_, sum)| sum)
        .map_or(0, |(i, _)| i);
    let start = (busiest * 60).saturating_sub(20 * 60).min(per_second.len());
    &per_second[start..(start + 120 * 60).min(per_second.len())]
}

/// Runs a flash sale: `shape` gives the relative number of arrivals in each bucket of
/// `config.bucket`, scaled so that `config.buyers` arrive in all.
///
/// # Errors
///
/// A [`SaleError`] if the journal fails or its events cannot be replayed after the crash.
pub fn run<J: Journal>(
    config: SaleConfig,
    shape: &[u32],
    journal: &mut J,
) -> Result<SaleReport, SaleError<J::Error>> {
    let mut sale = Sale::new(config, shape);
    sale.run(journal)?;
    Ok(sale.finish())
}

const ITEM: ItemId = ItemId(1);
const ORDER: [Line; 1] = [Line {
    item: ITEM,
    units: 1,
}];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Wake {
    Join,
    RepeatJoin,
    Decide,
    RepeatRequest,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Phase {
    #[default]
    Arriving,
    Queued,
    Reserving,
    Holding,
    Confirming,
    Waitlisted,
    Done,
}

#[derive(Clone, Copy, Debug, Default)]
struct Buyer {
    phase: Phase,
    attempt: u32,
    reservation: Option<ReservationId>,
    /// The request the buyer last sent with a key, for repeat clicks.
    last_asked: Option<Asked>,
    /// The first reply delivered for the last reserve and the last confirm or release.
    reserve_reply: Option<Reply>,
    settle_reply: Option<Reply>,
    confirmed: Option<ReservationId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Asked {
    Reserve,
    Confirm,
    Release,
}

/// A reply held until the journal is durable through it.
#[derive(Clone, Copy, Debug)]
struct InFlight {
    buyer: u32,
    asked: Asked,
    reply: Reply,
    repeat: bool,
}

struct Sale {
    config: SaleConfig,
    ledger: Ledger,
    admission: Admission,
    buyers: Vec<Buyer>,
    wakeups: BinaryHeap<Reverse<(Duration, u32, Wake)>>,
    in_flight: Vec<InFlight>,
    waitlist: VecDeque<u32>,
    waits: Vec<Duration>,
    events: Vec<Event>,
    rng: SplitMix,
    report: SaleReport,
    now: Duration,
}

impl Sale {
    fn new(config: SaleConfig, shape: &[u32]) -> Self {
        let mut rng = SplitMix(config.seed);
        let mut wakeups = BinaryHeap::new();
        for (buyer, at) in arrivals(config, shape, &mut rng).into_iter().enumerate() {
            wakeups.push(Reverse((at, buyer as u32, Wake::Join)));
        }
        let admission = Admission::new(admission_config(config), config.units);
        let mut ledger = Ledger::new(ledger_config(config));
        ledger.stock(ITEM, config.units, Duration::ZERO);
        let report = SaleReport {
            buyers: wakeups.len() as u64,
            units: config.units,
            ..Default::default()
        };
        Self {
            config,
            ledger,
            admission,
            buyers: vec![Buyer::default(); wakeups.len()],
            wakeups,
            in_flight: Vec::new(),
            waitlist: VecDeque::new(),
            waits: Vec::new(),
            events: Vec::new(),
            rng,
            report,
            now: Duration::ZERO,
        }
    }

    fn run<J: Journal>(&mut self, journal: &mut J) -> Result<(), SaleError<J::Error>> {
        loop {
            self.wake_due();
            self.admit_due();
            let n_expired = self.ledger.expire(self.now, 4_096);
            self.report.expired += n_expired as u64;
            self.give_back(n_expired as u64);
            if self.crash_due() {
                self.crash(journal)?;
            }
            self.group_commit(journal)?;
            let Some(next) = self.next_tick() else {
                return Ok(());
            };
            self.now = next;
        }
    }

    /// The next tick with anything to do, or `None` when the sale is over.
    fn next_tick(&self) -> Option<Duration> {
        let tick = self.config.tick.as_nanos().max(1);
        let candidates = [
            self.wakeups.peek().map(|Reverse((at, _, _))| *at),
            self.admission.poll_timeout(),
            self.ledger.poll_timeout(),
        ];
        let next = candidates.into_iter().flatten().min()?;
        let next = next.max(self.now + self.config.tick);
        let ticks = next.as_nanos().div_ceil(tick);
        Some(Duration::from_nanos(
            u64::try_from(ticks * tick).unwrap_or(u64::MAX),
        ))
    }

    fn wake_due(&mut self) {
        while let Some(&Reverse((at, buyer, wake))) = self.wakeups.peek() {
            if at > self.now {
                break;
            }
            self.wakeups.pop();
            match wake {
                Wake::Join => self.join(buyer),
                Wake::RepeatJoin => {
                    self.report.repeat_clicks += 1;
                    if self.buyers[buyer as usize].phase == Phase::Queued {
                        self.admission.join(UserId(buyer.into()), 1, self.now);
                    }
                }
                Wake::Decide => self.decide(buyer),
                Wake::RepeatRequest => self.repeat_request(buyer),
            }
        }
    }

    fn join(&mut self, buyer: u32) {
        let state = self.buyers[buyer as usize];
        if !matches!(state.phase, Phase::Arriving | Phase::Waitlisted) {
            return;
        }
        match self.admission.join(UserId(buyer.into()), 1, self.now) {
            Join::Queued { .. } => {
                self.buyers[buyer as usize].phase = Phase::Queued;
                if self.rng.chance(30) {
                    self.wake_within(0, 400, buyer, Wake::RepeatJoin);
                }
            }
            Join::Throttled { retry_at } => self.wake(retry_at, buyer, Wake::Join),
            _ => {
                self.buyers[buyer as usize].phase = Phase::Waitlisted;
                self.waitlist.push_back(buyer);
            }
        }
    }

    fn admit_due(&mut self) {
        while let Some(ticket) = self.admission.poll_admit(self.now) {
            let buyer = ticket.user.0 as u32;
            if self.buyers[buyer as usize].phase != Phase::Queued {
                self.admission.give_back(ticket.units.into());
                continue;
            }
            self.waits.push(self.now.saturating_sub(ticket.issued_at));
            self.buyers[buyer as usize].phase = Phase::Reserving;
            self.buyers[buyer as usize].attempt += 1;
            self.reserve(buyer);
            if self.rng.chance(10) {
                self.wake_within(0, 3_000, buyer, Wake::RepeatRequest);
            }
        }
    }

    fn reserve(&mut self, buyer: u32) {
        self.send(buyer, Asked::Reserve, false);
    }

    /// Sends the buyer's request for `asked` with its key, holding the reply until durable.
    fn send(&mut self, buyer: u32, asked: Asked, repeat: bool) {
        let key = self.key(buyer, asked);
        let reservation = self.buyers[buyer as usize].reservation;
        let reply = match (asked, reservation) {
            (Asked::Reserve, _) | (_, None) => self.ledger.reserve(key, &ORDER, self.now),
            (Asked::Confirm, Some(reservation)) => self.ledger.confirm(key, reservation, self.now),
            (Asked::Release, Some(reservation)) => self.ledger.release(key, reservation, self.now),
        };
        self.buyers[buyer as usize].last_asked = Some(asked);
        self.in_flight.push(InFlight {
            buyer,
            asked,
            reply,
            repeat,
        });
    }

    /// A buyer holding a reservation pays (90%), gives it back (5%) or walks away (5%).
    fn decide(&mut self, buyer: u32) {
        let state = self.buyers[buyer as usize];
        let (Phase::Holding, Some(reservation)) = (state.phase, state.reservation) else {
            return;
        };
        let roll = self.rng.below(100);
        let asked = match roll {
            0..90 => Asked::Confirm,
            90..95 => Asked::Release,
            _ => {
                self.buyers[buyer as usize].phase = Phase::Done;
                return;
            }
        };
        let _ = reservation;
        self.buyers[buyer as usize].phase = Phase::Confirming;
        self.send(buyer, asked, false);
        if self.rng.chance(20) {
            self.wake_within(0, 2_000, buyer, Wake::RepeatRequest);
        }
    }

    /// A repeat click or a retried delivery of the buyer's last request, with the same key.
    /// Its reply must equal the first reply delivered for that key.
    fn repeat_request(&mut self, buyer: u32) {
        let state = self.buyers[buyer as usize];
        let Some(asked) = state.last_asked else {
            return;
        };
        if matches!(
            state.phase,
            Phase::Arriving | Phase::Queued | Phase::Waitlisted
        ) {
            return;
        }
        self.report.repeat_clicks += 1;
        self.send(buyer, asked, true);
    }

    fn crash_due(&self) -> bool {
        let sold = self.ledger.counts(ITEM).map_or(0, |counts| counts.sold);
        self.report.crashes == 0 && self.config.crash_at_sold.is_some_and(|at| sold >= at)
    }

    /// Loses everything not yet durable, then recovers the ledger from the journal. Buyers
    /// whose request was lost try again with the same key; the queue is rebuilt empty, and
    /// its waiting buyers join again.
    fn crash<J: Journal>(&mut self, journal: &mut J) -> Result<(), SaleError<J::Error>> {
        self.report.crashes += 1;
        let events = journal.recover().map_err(SaleError::Journal)?;
        self.report.replayed = events.len() as u64;
        let config = ledger_config(self.config);
        self.ledger = Ledger::replay(config, events).map_err(SaleError::Replay)?;
        self.lost_confirmations_check();
        self.count_admission();
        let available = self
            .ledger
            .counts(ITEM)
            .map_or(0, |counts| counts.available);
        self.admission = Admission::new(admission_config(self.config), available);
        for lost in std::mem::take(&mut self.in_flight) {
            match (lost.asked, lost.repeat) {
                (_, true) => {}
                (Asked::Reserve, false) => self.buyers[lost.buyer as usize].phase = Phase::Queued,
                (asked, false) => self.send(lost.buyer, asked, false),
            }
        }
        for buyer in 0..self.buyers.len() as u32 {
            if self.buyers[buyer as usize].phase == Phase::Queued {
                self.buyers[buyer as usize].phase = Phase::Arriving;
                self.wake_within(0, 1_000, buyer, Wake::Join);
            }
        }
        self.notify(available);
        Ok(())
    }

    /// Every buyer told "confirmed" must still be confirmed in the recovered ledger.
    fn lost_confirmations_check(&mut self) {
        for buyer in &self.buyers {
            if let Some(reservation) = buyer.confirmed
                && self.ledger.reservation(reservation) != Some(ReservationState::Confirmed)
            {
                self.report.lost_confirmations += 1;
            }
        }
    }

    /// Persists the tick's events, then releases the replies they made durable.
    fn group_commit<J: Journal>(&mut self, journal: &mut J) -> Result<(), SaleError<J::Error>> {
        self.events.clear();
        let lsn = self.ledger.drain_events(&mut self.events);
        if !self.events.is_empty() {
            journal.persist(&self.events).map_err(SaleError::Journal)?;
            self.ledger.acknowledge(lsn);
            self.report.events += self.events.len() as u64;
            self.report.commits += 1;
        }
        for in_flight in std::mem::take(&mut self.in_flight) {
            match self.ledger.is_durable(&in_flight.reply) {
                true => self.deliver(in_flight),
                false => self.in_flight.push(in_flight),
            }
        }
        Ok(())
    }

    fn deliver(&mut self, in_flight: InFlight) {
        let InFlight {
            buyer,
            asked,
            reply,
            repeat,
        } = in_flight;
        let state = &mut self.buyers[buyer as usize];
        if repeat {
            let first = match asked {
                Asked::Reserve => state.reserve_reply,
                _ => state.settle_reply,
            };
            if first.is_some_and(|first| first != reply) {
                self.report.double_charges += 1;
            }
            return;
        }
        match asked {
            Asked::Reserve => state.reserve_reply = Some(reply),
            _ => state.settle_reply = Some(reply),
        }
        match (asked, reply.outcome) {
            (Asked::Reserve, Outcome::Reserved { reservation, .. }) => {
                state.reservation = Some(reservation);
                state.phase = Phase::Holding;
                self.wake_within(500, 25_000, buyer, Wake::Decide);
            }
            (Asked::Reserve, _) => {
                self.report.admitted_refused += 1;
                state.phase = Phase::Done;
                self.give_back(1);
            }
            (Asked::Confirm, Outcome::Confirmed { reservation }) => {
                if state.confirmed.is_some_and(|first| first != reservation) {
                    self.report.double_charges += 1;
                }
                if state.confirmed.is_none() {
                    self.report.buyers_confirmed += 1;
                    self.report.sold_out_at = self.now;
                }
                state.confirmed = Some(reservation);
                state.phase = Phase::Done;
            }
            (Asked::Release, Outcome::Released { .. }) => {
                self.report.released += 1;
                state.phase = Phase::Done;
                self.give_back(1);
            }
            // A confirm or release that found the hold lapsed: its units came back through
            // expiry already.
            _ => state.phase = Phase::Done,
        }
    }

    /// Units came back to the sale: reopen the queue and tell as many waitlisted buyers.
    fn give_back(&mut self, units: u64) {
        self.admission.give_back(units);
        self.notify(units);
    }

    /// Tells up to `units` waitlisted buyers that the queue has reopened.
    fn notify(&mut self, units: u64) {
        for _ in 0..units {
            let Some(buyer) = self.waitlist.pop_front() else {
                break;
            };
            self.wake_within(200, 800, buyer, Wake::Join);
        }
    }

    /// Wakes `buyer` between `min_ms` and `min_ms + spread_ms` milliseconds from now.
    fn wake_within(&mut self, min_ms: u64, spread_ms: u64, buyer: u32, wake: Wake) {
        let at = self.now + Duration::from_millis(min_ms + self.rng.below(spread_ms));
        self.wake(at, buyer, wake);
    }

    /// Adds the admission counters to the report (admission starts afresh after a crash).
    fn count_admission(&mut self) {
        let stats = self.admission.stats();
        self.report.tickets += stats.issued;
        self.report.throttled += stats.throttled;
        self.report.turned_away += stats.sold_out;
    }

    fn wake(&mut self, at: Duration, buyer: u32, wake: Wake) {
        self.wakeups.push(Reverse((at, buyer, wake)));
    }

    fn key(&self, buyer: u32, asked: Asked) -> RequestKey {
        let kind = match asked {
            Asked::Reserve => 0,
            Asked::Confirm => 1,
            Asked::Release => 2,
        };
        let attempt = self.buyers[buyer as usize].attempt;
        RequestKey((u128::from(buyer) << 64) | (u128::from(attempt) << 8) | kind)
    }

    fn finish(mut self) -> SaleReport {
        let counts = self.ledger.counts(ITEM).unwrap_or_default();
        self.count_admission();
        let report = &mut self.report;
        report.sold = counts.sold;
        report.oversold = counts.sold.saturating_sub(self.config.units);
        let demand_left = self
            .waitlist
            .iter()
            .any(|&b| self.buyers[b as usize].phase == Phase::Waitlisted);
        report.unsold_while_demand = match demand_left {
            true => counts.available + counts.reserved,
            false => 0,
        };
        self.waits.sort_unstable();
        let at = |q: usize| {
            self.waits
                .get(self.waits.len().saturating_sub(1) * q / 100)
                .copied()
        };
        report.wait_p50 = at(50).unwrap_or_default();
        report.wait_p99 = at(99).unwrap_or_default();
        report.wait_max = self.waits.last().copied().unwrap_or_default();
        self.report
    }
}

fn ledger_config(config: SaleConfig) -> Config {
    Config::new()
        .hold_for(config.hold_for)
        .hash_seed(config.seed)
}

fn admission_config(config: SaleConfig) -> AdmissionConfig {
    AdmissionConfig::new(config.per_user, config.checkout).hash_seed(config.seed)
}

/// Arrival times: each bucket's share of `config.buyers` (cumulative shares rounded down), spread
/// uniformly inside the bucket.
fn arrivals(config: SaleConfig, shape: &[u32], rng: &mut SplitMix) -> Vec<Duration> {
    let total: u64 = shape.iter().map(|&n| u64::from(n)).sum();
    let mut times = Vec::with_capacity(config.buyers as usize);
    if total == 0 {
        return times;
    }
    let buyers = u64::from(config.buyers);
    let mut carried = 0u128;
    let bucket_nanos = u64::try_from(config.bucket.as_nanos())
        .unwrap_or(u64::MAX)
        .max(1);
    for (bucket, &count) in shape.iter().enumerate() {
        // A running total keeps the sum exact: bucket i ends at floor(sum_i * buyers / total).
        carried += u128::from(count) * u128::from(buyers);
        let due = (carried / u128::from(total)) as usize;
        while times.len() < due {
            let offset = rng.below(bucket_nanos);
            times.push(Duration::from_nanos(bucket as u64 * bucket_nanos + offset));
        }
    }
    times.sort_unstable();
    times
}

/// SplitMix64: a tiny seeded generator, enough for a simulation's choices.
#[derive(Debug)]
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(bound.max(1))) >> 64) as u64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}
