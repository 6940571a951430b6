//! Model-based property tests: random operations run against the ledger and against a plain
//! reference model, which must agree on every reply and every count. The operations include
//! crashes with replay, repeated and reordered deliveries, clock jumps both ways and bounded
//! expiry.
//!
//! `INVENTORY_OPS` sets the total number of operations (default 100,000) and
//! `INVENTORY_SEED` the seed (printed at the start, so a failure can be replayed).

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, RngAlgorithm, TestRng, TestRunner};
use tenfold_inventory::{
    Config, Counts, Event, ItemId, Ledger, Line, Lines, Outcome, Refusal, RequestKey,
    ReservationId, ReservationState,
};

const HOLD: Duration = Duration::from_millis(500);
const N_ITEMS: u32 = 3;
const OPS_PER_CASE: usize = 1_000;

#[derive(Clone, Copy, Debug)]
enum Op {
    Reserve {
        key: u8,
        lines: [(u8, u8); 2],
        n_lines: u8,
    },
    Confirm {
        key: u8,
        reservation: u8,
    },
    Release {
        key: u8,
        reservation: u8,
    },
    /// Delivers the `nth` request sent so far again, out of order.
    Redeliver {
        nth: u16,
    },
    Stock {
        item: u8,
        units: u8,
    },
    Expire {
        budget: u8,
    },
    Advance {
        millis: u16,
    },
    StepBack {
        millis: u16,
    },
    Sync,
    Crash,
}

fn op() -> impl Strategy<Value = Op> {
    let line = (0..N_ITEMS as u8 + 1, 0u8..4);
    prop_oneof![
        8 => (0u8..64, [line.clone(), line], 0u8..3)
            .prop_map(|(key, lines, n_lines)| Op::Reserve { key, lines, n_lines }),
        4 => (0u8..64, 0u8..40).prop_map(|(key, reservation)| Op::Confirm { key, reservation }),
        2 => (0u8..64, 0u8..40).prop_map(|(key, reservation)| Op::Release { key, reservation }),
        3 => any::<u16>().prop_map(|nth| Op::Redeliver { nth }),
        1 => (0..N_ITEMS as u8, 0u8..4).prop_map(|(item, units)| Op::Stock { item, units }),
        2 => (0u8..4).prop_map(|budget| Op::Expire { budget }),
        3 => (0u16..400).prop_map(|millis| Op::Advance { millis }),
        1 => (0u16..400).prop_map(|millis| Op::StepBack { millis }),
        3 => Just(Op::Sync),
        1 => Just(Op::Crash),
    ]
}

/// The reference: the rules written out as plainly as possible, with no journal.
#[derive(Clone, Debug, Default)]
struct Model {
    counts: BTreeMap<ItemId, Counts>,
    holds: Vec<(Vec<Line>, Duration, ReservationState)>,
    keys: HashMap<RequestKey, Outcome>,
    floor: Duration,
    /// The time of the last change, which is where a replayed ledger's clock starts.
    changed_at: Duration,
}

impl Model {
    fn observe(&mut self, now: Duration) -> Duration {
        self.floor = self.floor.max(now);
        self.floor
    }

    fn stock(&mut self, item: ItemId, units: u64, now: Duration) {
        self.changed_at = self.observe(now);
        let counts = self.counts.entry(item).or_default();
        counts.initial += units;
        counts.available += units;
    }

    fn reserve(&mut self, key: RequestKey, lines: &[Line], now: Duration) -> Outcome {
        let now = self.observe(now);
        if let Some(outcome) = self.keys.get(&key) {
            return *outcome;
        }
        let outcome = self.try_reserve(lines, now);
        self.changed_at = now;
        self.keys.insert(key, outcome);
        outcome
    }

    fn try_reserve(&mut self, lines: &[Line], now: Duration) -> Outcome {
        let mut wanted: BTreeMap<ItemId, u64> = BTreeMap::new();
        for line in lines {
            *wanted.entry(line.item).or_default() += u64::from(line.units);
        }
        let invalid = lines.is_empty()
            || lines.iter().any(|line| line.units == 0)
            || wanted.values().any(|&units| units > u64::from(u32::MAX));
        if invalid {
            return Outcome::Refused(Refusal::InvalidOrder);
        }
        for (&item, &units) in &wanted {
            match self.counts.get(&item) {
                None => return Outcome::Refused(Refusal::UnknownItem { item }),
                Some(counts) if counts.available < units => {
                    return Outcome::Refused(Refusal::OutOfStock { item });
                }
                Some(_) => {}
            }
        }
        for (&item, &units) in &wanted {
            let counts = self.counts.entry(item).or_default();
            counts.available -= units;
            counts.reserved += units;
        }
        let lines = wanted
            .iter()
            .map(|(&item, &units)| Line::new(item, units as u32))
            .collect();
        let expires_at = now + HOLD;
        self.holds
            .push((lines, expires_at, ReservationState::Active));
        let reservation = ReservationId(self.holds.len() as u64 - 1);
        Outcome::Reserved {
            reservation,
            expires_at,
        }
    }

    fn settle(
        &mut self,
        key: RequestKey,
        id: ReservationId,
        confirm: bool,
        now: Duration,
    ) -> Outcome {
        let now = self.observe(now);
        if let Some(outcome) = self.keys.get(&key) {
            return *outcome;
        }
        self.changed_at = now;
        let outcome = match self.holds.get(id.0 as usize).map(|hold| (hold.1, hold.2)) {
            None => Outcome::Refused(Refusal::UnknownReservation),
            Some((expires_at, ReservationState::Active)) if now >= expires_at => {
                self.close(id, ReservationState::Expired);
                Outcome::Refused(Refusal::Expired)
            }
            Some((_, ReservationState::Active)) if confirm => {
                self.close(id, ReservationState::Confirmed);
                Outcome::Confirmed { reservation: id }
            }
            Some((_, ReservationState::Active)) => {
                self.close(id, ReservationState::Released);
                Outcome::Released { reservation: id }
            }
            Some((_, ReservationState::Confirmed)) => Outcome::Refused(Refusal::AlreadyConfirmed),
            Some((_, ReservationState::Released)) => Outcome::Refused(Refusal::AlreadyReleased),
            Some((_, _)) => Outcome::Refused(Refusal::Expired),
        };
        self.keys.insert(key, outcome);
        outcome
    }

    fn close(&mut self, id: ReservationId, state: ReservationState) {
        let hold = &mut self.holds[id.0 as usize];
        hold.2 = state;
        for line in &hold.0 {
            let counts = self.counts.entry(line.item).or_default();
            counts.reserved -= u64::from(line.units);
            match state {
                ReservationState::Confirmed => counts.sold += u64::from(line.units),
                _ => counts.available += u64::from(line.units),
            }
        }
    }
}

/// A request as sent, so that it can be delivered again.
#[derive(Clone, Copy, Debug)]
enum Sent {
    Reserve(RequestKey, [Line; 2], usize),
    Settle(RequestKey, ReservationId, bool),
}

struct Harness {
    ledger: Ledger,
    model: Model,
    durable_model: Model,
    durable: Vec<Event>,
    sent: Vec<Sent>,
    now: Duration,
    n_ops: u64,
}

impl Harness {
    fn new() -> Self {
        let mut harness = Self {
            ledger: Ledger::new(config()),
            model: Model::default(),
            durable_model: Model::default(),
            durable: Vec::new(),
            sent: Vec::new(),
            now: Duration::ZERO,
            n_ops: 0,
        };
        for item in 0..N_ITEMS {
            harness.stock(ItemId(item), 4);
        }
        harness
    }

    fn stock(&mut self, item: ItemId, units: u64) {
        self.ledger.stock(item, units, self.now);
        self.model.stock(item, units, self.now);
    }

    fn run(&mut self, op: Op) {
        self.n_ops += 1;
        match op {
            Op::Reserve {
                key,
                lines,
                n_lines,
            } => {
                let lines = lines.map(|(item, units)| Line::new(ItemId(item.into()), units.into()));
                self.send(Sent::Reserve(RequestKey(key.into()), lines, n_lines.into()));
            }
            Op::Confirm { key, reservation } => {
                let key = RequestKey(key.into());
                self.send(Sent::Settle(key, ReservationId(reservation.into()), true));
            }
            Op::Release { key, reservation } => {
                let key = RequestKey(key.into());
                self.send(Sent::Settle(key, ReservationId(reservation.into()), false));
            }
            Op::Redeliver { nth } if !self.sent.is_empty() => {
                let sent = self.sent[usize::from(nth) % self.sent.len()];
                self.send(sent);
            }
            Op::Redeliver { .. } => {}
            Op::Stock { item, units } => self.stock(ItemId(item.into()), units.into()),
            Op::Expire { budget } => self.expire(budget.into()),
            Op::Advance { millis } => self.now += Duration::from_millis(millis.into()),
            Op::StepBack { millis } => {
                self.now = self
                    .now
                    .saturating_sub(Duration::from_millis(millis.into()));
            }
            Op::Sync => self.sync(),
            Op::Crash => self.crash(),
        }
        self.check_counts();
        if self.n_ops.is_multiple_of(64) {
            self.check_holds();
        }
    }

    fn send(&mut self, sent: Sent) {
        self.sent.push(sent);
        let (got, expected) = match sent {
            Sent::Reserve(key, lines, n_lines) => (
                self.ledger.reserve(key, &lines[..n_lines], self.now),
                self.model.reserve(key, &lines[..n_lines], self.now),
            ),
            Sent::Settle(key, reservation, true) => (
                self.ledger.confirm(key, reservation, self.now),
                self.model.settle(key, reservation, true, self.now),
            ),
            Sent::Settle(key, reservation, false) => (
                self.ledger.release(key, reservation, self.now),
                self.model.settle(key, reservation, false, self.now),
            ),
        };
        assert_eq!(got.outcome, expected, "{sent:?} at {:?}", self.now);
    }

    /// Expires with a budget, then checks that everything that expired was due, and brings
    /// the model along.
    fn expire(&mut self, budget: usize) {
        let now = self.model.observe(self.now);
        let n_expired = self.ledger.expire(self.now, budget);
        assert!(n_expired <= budget);
        let mut n_seen = 0;
        for index in 0..self.model.holds.len() {
            let id = ReservationId(index as u64);
            let (_, expires_at, state) = self.model.holds[index];
            if state == ReservationState::Active
                && self.ledger.reservation(id) == Some(ReservationState::Expired)
            {
                assert!(expires_at <= now, "{id:?} expired early");
                self.model.close(id, ReservationState::Expired);
                self.model.changed_at = now;
                n_seen += 1;
            }
        }
        assert_eq!(n_seen, n_expired);
    }

    fn sync(&mut self) {
        let lsn = self.ledger.drain_events(&mut self.durable);
        self.ledger.acknowledge(lsn);
        self.durable_model = self.model.clone();
    }

    /// Everything not synced is lost; the ledger is replayed from the durable events, which
    /// must give exactly the model as it was at the last sync.
    fn crash(&mut self) {
        self.ledger = match Ledger::replay(config(), self.durable.clone()) {
            Ok(ledger) => ledger,
            Err(error) => panic!("the durable journal must replay: {error}"),
        };
        self.model = self.durable_model.clone();
        self.model.floor = self.model.changed_at;
        self.check_holds();
    }

    fn check_counts(&self) {
        for (item, expected) in &self.model.counts {
            let counts = self.ledger.counts(*item);
            assert_eq!(counts, Some(*expected), "{item:?}");
            assert!(expected.is_conserved(), "{item:?}: {expected:?}");
        }
    }

    fn check_holds(&self) {
        for (index, (lines, _, state)) in self.model.holds.iter().enumerate() {
            let id = ReservationId(index as u64);
            assert_eq!(self.ledger.reservation(id), Some(*state), "{id:?}");
            assert!(Lines::normalize(lines).is_some());
        }
        let next = ReservationId(self.model.holds.len() as u64);
        assert_eq!(self.ledger.reservation(next), None);
    }

    /// Replays the whole journal, synced or not, and compares with the live ledger.
    fn check_replay(&mut self) {
        let mut all = self.durable.clone();
        self.ledger.drain_events(&mut all);
        let replayed = Ledger::replay(config(), all).expect("the journal replays");
        assert!(replayed.same_state(&self.ledger));
    }
}

fn config() -> Config {
    Config::new().hold_for(HOLD)
}

#[test]
fn the_ledger_agrees_with_the_model_through_crashes_and_replays() {
    #[allow(clippy::disallowed_methods)]
    let total_ops: u64 = std::env::var("INVENTORY_OPS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    #[allow(clippy::disallowed_methods)]
    let seed: u64 = std::env::var("INVENTORY_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0x5EED_2026);
    let cases = total_ops.div_ceil(OPS_PER_CASE as u64) as u32;
    eprintln!("model: {total_ops} operations in {cases} cases, INVENTORY_SEED={seed}");
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes);
    let runner_config = RunnerConfig {
        cases,
        failure_persistence: None,
        ..RunnerConfig::default()
    };
    let mut runner = TestRunner::new_with_rng(runner_config, rng);
    let n_ops = Cell::new(0u64);
    let strategy = proptest::collection::vec(op(), OPS_PER_CASE);
    let result = runner.run(&strategy, |ops| {
        let mut harness = Harness::new();
        for op in ops {
            harness.run(op);
        }
        harness.check_holds();
        harness.check_replay();
        n_ops.set(n_ops.get() + harness.n_ops);
        Ok(())
    });
    if let Err(error) = result {
        panic!("INVENTORY_SEED={seed}: {error}");
    }
    eprintln!("model: {} operations passed", n_ops.get());
    assert!(n_ops.get() >= total_ops);
}
