//! An explicit-state model check: every interleaving of four buyers after three units, with
//! repeat clicks, group commits, a crash with replay, a clock jump past the holds and bounded
//! expiry, up to 12 steps. The invariants are checked in every state reached.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use tenfold_inventory::{
    Config, Event, ItemId, Ledger, Line, Outcome, Reply, RequestKey, ReservationState,
};

const ITEM: ItemId = ItemId(1);
const STOCK: u64 = 3;
const N_BUYERS: usize = 4;
const HOLD: Duration = Duration::from_secs(10);

/// What one buyer has sent and seen. A reply is seen only once it is durable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Buyer {
    reserve: Option<Reply>,
    seen_reserve: Option<Reply>,
    settle: Option<Reply>,
    seen_settle: Option<Reply>,
    repeated: bool,
}

#[derive(Clone, Debug)]
struct Node {
    ledger: Ledger,
    /// The ledger a crash would recover: the replay of `durable`.
    durable_ledger: Ledger,
    durable: Vec<Event>,
    pending: Vec<Event>,
    buyers: [Buyer; N_BUYERS],
    clock_jumped: bool,
    crashed: bool,
}

#[derive(Clone, Copy, Debug)]
enum Step {
    /// The buyer sends its next request: reserve, then confirm (buyers 0-2) or release (3).
    Send(usize),
    /// The buyer's last request arrives again, with the same key.
    Repeat(usize),
    /// The host persists the pending events and acknowledges them.
    Sync,
    /// The process dies: pending events are lost, the ledger is replayed from the durable ones.
    Crash,
    /// The clock jumps past every hold made so far, and the host expires what is due, one
    /// hold per call.
    Tick,
}

/// States reachable within `n` steps, for `n` = 0, 1, 2, ... The space is exhausted at 20
/// steps: 1,413,410 states, 5,960,121 transitions.
const STATES_WITHIN: [u64; 21] = [
    1, 6, 35, 180, 792, 3_026, 10_068, 29_282, 74_664, 167_045, 326_534, 555_216, 822_494,
    1_072_442, 1_255_538, 1_357_904, 1_399_916, 1_411_604, 1_413_368, 1_413_410, 1_413_410,
];

/// Steps explored by default: 8 keeps the debug-mode test near 20 s. Set
/// `INVENTORY_EXHAUSTIVE_STEPS=12` for the 12-step bound (822,494 states), or 20 or more for
/// the whole space (about 5 minutes in debug mode).
const DEFAULT_STEPS: usize = 8;

#[test]
fn every_interleaving_of_four_buyers_and_three_units_keeps_the_invariants() {
    #[allow(clippy::disallowed_methods)]
    let max_steps = std::env::var("INVENTORY_EXHAUSTIVE_STEPS").ok();
    let max_steps = max_steps
        .and_then(|steps| steps.parse().ok())
        .unwrap_or(DEFAULT_STEPS);
    let mut visited = HashSet::new();
    let mut frontier = vec![initial()];
    let mut n_states = 1u64;
    let mut n_transitions = 0u64;
    visited.insert(fingerprint(&frontier[0]));
    for _ in 0..max_steps {
        let mut next = Vec::new();
        for node in &frontier {
            for step in steps(node) {
                let child = apply(node, step);
                n_transitions += 1;
                if visited.insert(fingerprint(&child)) {
                    check(&child, step);
                    n_states += 1;
                    next.push(child);
                }
            }
        }
        frontier = next;
    }
    eprintln!(
        "exhaustive: {n_states} states within {max_steps} steps, {n_transitions} transitions, \
         {} states on the last frontier",
        frontier.len()
    );
    let expected = STATES_WITHIN[max_steps.min(STATES_WITHIN.len() - 1)];
    assert_eq!(n_states, expected);
    if max_steps >= STATES_WITHIN.len() - 1 {
        assert!(frontier.is_empty(), "the whole space was explored");
        assert_eq!(n_transitions, 5_960_121);
    }
}

fn initial() -> Node {
    let mut ledger = Ledger::new(config());
    ledger.stock(ITEM, STOCK, Duration::ZERO);
    // The stock is durable before the sale opens.
    let mut durable = Vec::new();
    let lsn = ledger.drain_events(&mut durable);
    ledger.acknowledge(lsn);
    let buyers = [Buyer::default(); N_BUYERS];
    let pending = Vec::new();
    let durable_ledger = ledger.clone();
    Node {
        ledger,
        durable_ledger,
        durable,
        pending,
        buyers,
        clock_jumped: false,
        crashed: false,
    }
}

fn config() -> Config {
    Config::new().hold_for(HOLD)
}

fn steps(node: &Node) -> Vec<Step> {
    let mut steps = Vec::new();
    for (index, buyer) in node.buyers.iter().enumerate() {
        let can_settle = buyer.settle.is_none()
            && matches!(
                buyer.seen_reserve,
                Some(Reply {
                    outcome: Outcome::Reserved { .. },
                    ..
                })
            );
        if buyer.reserve.is_none() || can_settle {
            steps.push(Step::Send(index));
        }
        if !buyer.repeated && buyer.reserve.is_some() {
            steps.push(Step::Repeat(index));
        }
    }
    if !node.pending.is_empty() {
        steps.push(Step::Sync);
        if !node.crashed {
            steps.push(Step::Crash);
        }
    }
    if !node.clock_jumped {
        steps.push(Step::Tick);
    }
    steps
}

fn now(node: &Node) -> Duration {
    match node.clock_jumped {
        false => Duration::from_secs(1),
        true => Duration::from_secs(1) + HOLD,
    }
}

fn reserve_key(buyer: usize) -> RequestKey {
    RequestKey(buyer as u128 * 2)
}

fn settle_key(buyer: usize) -> RequestKey {
    RequestKey(buyer as u128 * 2 + 1)
}

fn apply(node: &Node, step: Step) -> Node {
    let mut node = node.clone();
    let now = now(&node);
    match step {
        Step::Send(buyer) if node.buyers[buyer].reserve.is_none() => {
            node.buyers[buyer].reserve = Some(send_reserve(&mut node, buyer, now));
        }
        Step::Send(buyer) => node.buyers[buyer].settle = send_settle(&mut node, buyer, now),
        Step::Repeat(buyer) => {
            node.buyers[buyer].repeated = true;
            let (first, reply) = match node.buyers[buyer].settle {
                Some(first) => (Some(first), send_settle(&mut node, buyer, now)),
                None => (
                    node.buyers[buyer].reserve,
                    Some(send_reserve(&mut node, buyer, now)),
                ),
            };
            assert_eq!(reply, first, "a repeat must get the first reply");
        }
        Step::Sync => {
            node.durable.append(&mut node.pending);
            node.ledger.acknowledge(node.ledger.stats().written);
            node.durable_ledger = replay(node.durable.clone());
        }
        Step::Crash => crash(&mut node),
        Step::Tick => {
            node.clock_jumped = true;
            let now = self::now(&node);
            while node.ledger.poll_timeout().is_some_and(|due| due <= now) {
                assert!(node.ledger.expire(now, 1) <= 1, "expiry is bounded");
            }
        }
    }
    node.ledger.drain_events(&mut node.pending);
    observe(&mut node);
    node
}

fn send_reserve(node: &mut Node, buyer: usize, now: Duration) -> Reply {
    node.ledger
        .reserve(reserve_key(buyer), &[Line::new(ITEM, 1)], now)
}

/// Confirms (buyers 0 to 2) or releases (buyer 3) the reservation the buyer saw.
fn send_settle(node: &mut Node, buyer: usize, now: Duration) -> Option<Reply> {
    let Some(Outcome::Reserved { reservation, .. }) =
        node.buyers[buyer].seen_reserve.map(|reply| reply.outcome)
    else {
        return None;
    };
    Some(match buyer {
        3 => node.ledger.release(settle_key(buyer), reservation, now),
        _ => node.ledger.confirm(settle_key(buyer), reservation, now),
    })
}

fn replay(events: Vec<Event>) -> Ledger {
    match Ledger::replay(config(), events) {
        Ok(ledger) => ledger,
        Err(error) => panic!("the journal must replay: {error}"),
    }
}

fn crash(node: &mut Node) {
    node.crashed = true;
    node.pending.clear();
    node.ledger = node.durable_ledger.clone();
    for buyer in &mut node.buyers {
        // Requests whose replies were never durable were never answered: send them again.
        if buyer.seen_reserve.is_none() {
            buyer.reserve = None;
        }
        if buyer.seen_settle.is_none() {
            buyer.settle = None;
        }
    }
}

fn observe(node: &mut Node) {
    for buyer in &mut node.buyers {
        if buyer.seen_reserve.is_none() && buyer.reserve.is_some_and(|r| node.ledger.is_durable(&r))
        {
            buyer.seen_reserve = buyer.reserve;
        }
        if buyer.seen_settle.is_none() && buyer.settle.is_some_and(|r| node.ledger.is_durable(&r)) {
            buyer.seen_settle = buyer.settle;
        }
    }
}

fn check(node: &Node, step: Step) {
    let counts = node.ledger.counts(ITEM).unwrap_or_default();
    assert!(counts.is_conserved(), "{step:?}: {counts:?}");
    assert_eq!(counts.initial, STOCK, "{step:?}");
    let mut n_confirmed = 0;
    for (index, buyer) in node.buyers.iter().enumerate() {
        // Whatever a buyer saw is still the ledger's answer for that key, crash or not.
        if let Some(seen) = buyer.seen_reserve {
            assert_eq!(
                node.ledger.reply_for(reserve_key(index)),
                Some(seen),
                "{step:?}"
            );
        }
        if let Some(seen) = buyer.seen_settle {
            assert_eq!(
                node.ledger.reply_for(settle_key(index)),
                Some(seen),
                "{step:?}"
            );
        }
        if let Some(Reply {
            outcome: Outcome::Confirmed { reservation },
            ..
        }) = buyer.seen_settle
        {
            let state = node.ledger.reservation(reservation);
            assert_eq!(
                state,
                Some(ReservationState::Confirmed),
                "{step:?}: lost confirmation"
            );
        }
        let reserved = node
            .ledger
            .reply_for(reserve_key(index))
            .map(|reply| reply.outcome);
        if let Some(Outcome::Reserved { reservation, .. }) = reserved
            && node.ledger.reservation(reservation) == Some(ReservationState::Confirmed)
        {
            n_confirmed += 1;
        }
    }
    assert_eq!(
        counts.sold, n_confirmed,
        "{step:?}: one unit per confirmed buyer"
    );
    assert!(no_confirmation_after_expiry(
        node.durable.iter().chain(&node.pending)
    ));
    let mut all = node.durable.clone();
    all.extend(node.pending.iter().cloned());
    assert!(
        replay(all).same_state(&node.ledger),
        "{step:?}: replay differs"
    );
}

/// Every `Confirmed` event comes before the expiry time of the reservation it confirms.
fn no_confirmation_after_expiry<'a>(events: impl Iterator<Item = &'a Event>) -> bool {
    let mut expiries = Vec::new();
    for event in events {
        match event {
            Event::Reserved {
                reservation,
                expires_at,
                ..
            } => {
                expiries.push((*reservation, *expires_at));
            }
            Event::Confirmed {
                at, reservation, ..
            } => {
                let expiry = expiries.iter().find(|(r, _)| r == reservation);
                if expiry.is_none_or(|(_, expires_at)| at >= expires_at) {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}

/// Two 64-bit hashes of what a state means: the live and the durable ledger as the buyers
/// could ever observe them (stock counts, each key's outcome, each reservation's state), what
/// each buyer knows, and the clock. Two interleavings that differ only in the order of their
/// journal, and so in journal positions, lead to the same future and are explored once.
fn fingerprint(node: &Node) -> (u64, u64) {
    let hash = |seed: u64| {
        let mut hasher = DefaultHasher::new();
        seed.hash(&mut hasher);
        observable(&node.ledger, &mut hasher);
        observable(&node.durable_ledger, &mut hasher);
        for buyer in &node.buyers {
            let replies = [
                buyer.reserve,
                buyer.seen_reserve,
                buyer.settle,
                buyer.seen_settle,
            ];
            replies
                .map(|reply| reply.map(|reply| reply.outcome))
                .hash(&mut hasher);
            buyer.repeated.hash(&mut hasher);
        }
        (node.clock_jumped, node.crashed).hash(&mut hasher);
        hasher.finish()
    };
    (hash(1), hash(2))
}

fn observable(ledger: &Ledger, hasher: &mut DefaultHasher) {
    ledger.counts(ITEM).hash(hasher);
    for buyer in 0..N_BUYERS {
        let reserved = ledger
            .reply_for(reserve_key(buyer))
            .map(|reply| reply.outcome);
        reserved.hash(hasher);
        ledger
            .reply_for(settle_key(buyer))
            .map(|reply| reply.outcome)
            .hash(hasher);
        if let Some(Outcome::Reserved { reservation, .. }) = reserved {
            ledger.reservation(reservation).hash(hasher);
        }
    }
}
