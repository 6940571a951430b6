use super::*;
use crate::types::{Lines, Outcome};

const ITEM: ItemId = ItemId(1);
const OTHER: ItemId = ItemId(2);
const HOLD: Duration = Duration::from_secs(30);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn ledger(units: u64) -> Ledger {
    let mut ledger = Ledger::new(Config::new().hold_for(HOLD));
    ledger.stock(ITEM, units, Duration::ZERO);
    ledger.stock(OTHER, units, Duration::ZERO);
    ledger
}

fn reserved(reply: Reply) -> ReservationId {
    match reply.outcome {
        Outcome::Reserved { reservation, .. } => reservation,
        other => panic!("expected a reservation, got {other:?}"),
    }
}

fn check_conserved(ledger: &Ledger) {
    for (item, counts) in ledger.items() {
        assert!(counts.is_conserved(), "item {item:?}: {counts:?}");
    }
}

fn refusal(reply: Reply) -> Option<Refusal> {
    match reply.outcome {
        Outcome::Refused(refusal) => Some(refusal),
        _ => None,
    }
}

#[test]
fn exactly_the_stock_is_reserved_and_the_next_one_is_refused() {
    let mut ledger = ledger(3);
    for n in 0..3 {
        reserved(ledger.reserve(RequestKey(n), &[Line::new(ITEM, 1)], secs(1)));
    }
    let fourth = ledger.reserve(RequestKey(3), &[Line::new(ITEM, 1)], secs(1));
    assert_eq!(refusal(fourth), Some(Refusal::OutOfStock { item: ITEM }));
    let counts = ledger.counts(ITEM).expect("stocked");
    assert_eq!((counts.available, counts.reserved, counts.sold), (0, 3, 0));
    check_conserved(&ledger);
}

#[test]
fn a_retry_returns_the_first_outcome_even_a_refusal() {
    let mut ledger = ledger(1);
    let first = ledger.reserve(RequestKey(1), &[Line::new(ITEM, 2)], secs(1));
    assert_eq!(refusal(first), Some(Refusal::OutOfStock { item: ITEM }));
    // Stock arrives, but the same logical request keeps its first answer.
    ledger.stock(ITEM, 5, secs(2));
    assert_eq!(
        ledger.reserve(RequestKey(1), &[Line::new(ITEM, 2)], secs(3)),
        first
    );

    let reply = ledger.reserve(RequestKey(2), &[Line::new(ITEM, 1)], secs(3));
    let reservation = reserved(reply);
    let confirm = ledger.confirm(RequestKey(3), reservation, secs(4));
    assert_eq!(ledger.confirm(RequestKey(3), reservation, secs(5)), confirm);
    assert_eq!(ledger.counts(ITEM).map(|c| c.sold), Some(1));
    let second_key = ledger.confirm(RequestKey(4), reservation, secs(5));
    assert_eq!(refusal(second_key), Some(Refusal::AlreadyConfirmed));
}

#[test]
fn a_multi_item_order_reserves_all_lines_or_none() {
    let mut ledger = ledger(2);
    let too_much = [Line::new(ITEM, 1), Line::new(OTHER, 3)];
    let reply = ledger.reserve(RequestKey(1), &too_much, secs(1));
    assert_eq!(refusal(reply), Some(Refusal::OutOfStock { item: OTHER }));
    assert_eq!(
        ledger.counts(ITEM).map(|c| c.available),
        Some(2),
        "no partial decrement"
    );

    // Repeated lines for one item are added up before the check.
    let repeated = [Line::new(ITEM, 1), Line::new(ITEM, 2)];
    let reply = ledger.reserve(RequestKey(2), &repeated, secs(1));
    assert_eq!(refusal(reply), Some(Refusal::OutOfStock { item: ITEM }));

    let both = [Line::new(OTHER, 2), Line::new(ITEM, 1)];
    reserved(ledger.reserve(RequestKey(3), &both, secs(1)));
    assert_eq!(ledger.counts(ITEM).map(|c| c.reserved), Some(1));
    assert_eq!(ledger.counts(OTHER).map(|c| c.reserved), Some(2));
    check_conserved(&ledger);
}

#[test]
fn invalid_orders_and_unknown_items_are_refused() {
    let mut ledger = ledger(2);
    let cases: [(&[Line], Refusal); 4] = [
        (&[], Refusal::InvalidOrder),
        (
            &[Line {
                item: ITEM,
                units: 0,
            }],
            Refusal::InvalidOrder,
        ),
        (
            &[
                Line {
                    item: ITEM,
                    units: u32::MAX,
                },
                Line {
                    item: ITEM,
                    units: 1,
                },
            ],
            Refusal::InvalidOrder,
        ),
        (
            &[Line::new(ItemId(99), 1)],
            Refusal::UnknownItem { item: ItemId(99) },
        ),
    ];
    for (n, (lines, expected)) in cases.into_iter().enumerate() {
        let reply = ledger.reserve(RequestKey(n as u128), lines, secs(1));
        assert_eq!(refusal(reply), Some(expected), "{lines:?}");
    }
    let too_many: Vec<Line> = (0..=Lines::MAX as u32)
        .map(|i| Line::new(ItemId(i), 1))
        .collect();
    assert_eq!(
        refusal(ledger.reserve(RequestKey(9), &too_many, secs(1))),
        Some(Refusal::InvalidOrder)
    );
    let unknown = ledger.confirm(RequestKey(10), ReservationId(77), secs(1));
    assert_eq!(refusal(unknown), Some(Refusal::UnknownReservation));
}

#[test]
fn an_expired_hold_can_never_be_confirmed() {
    let mut ledger = ledger(1);
    let reservation = reserved(ledger.reserve(RequestKey(1), &[Line::new(ITEM, 1)], secs(10)));
    assert_eq!(ledger.poll_timeout(), Some(secs(40)));
    // The expiry tick has not run, but the hold lapsed at 40 s.
    let late = ledger.confirm(RequestKey(2), reservation, secs(40));
    assert_eq!(refusal(late), Some(Refusal::Expired));
    assert_eq!(
        ledger.reservation(reservation),
        Some(ReservationState::Expired)
    );
    assert_eq!(
        ledger.counts(ITEM).map(|c| (c.available, c.sold)),
        Some((1, 0))
    );
    // A clock that jumps back does not revive it.
    let early = ledger.confirm(RequestKey(3), reservation, secs(11));
    assert_eq!(refusal(early), Some(Refusal::Expired));
    check_conserved(&ledger);
}

#[test]
fn expiry_does_bounded_work_per_call() {
    let mut ledger = ledger(10);
    for n in 0..10 {
        reserved(ledger.reserve(RequestKey(n), &[Line::new(ITEM, 1)], secs(n as u64)));
    }
    // Holds made at 0..10 s lapse at 30..40 s; six are due by 35 s, three per call.
    assert_eq!(ledger.expire(secs(35), 3), 3);
    assert_eq!(ledger.counts(ITEM).map(|c| c.reserved), Some(7));
    assert_eq!(ledger.poll_timeout(), Some(secs(33)));
    assert_eq!(ledger.expire(secs(35), 100), 3);
    assert_eq!(ledger.expire(secs(35), 100), 0);
    assert_eq!(ledger.counts(ITEM).map(|c| c.reserved), Some(4));
    check_conserved(&ledger);
}

#[test]
fn replies_wait_for_the_journal_to_be_durable() {
    let mut ledger = ledger(1);
    let reply = ledger.reserve(RequestKey(1), &[Line::new(ITEM, 1)], secs(1));
    assert!(!ledger.is_durable(&reply));
    // Acknowledging past what the host has taken does not count.
    ledger.acknowledge(reply.lsn);
    assert!(!ledger.is_durable(&reply));
    let mut events = Vec::new();
    let lsn = ledger.drain_events(&mut events);
    assert_eq!((events.len(), lsn), (3, reply.lsn));
    ledger.acknowledge(lsn);
    assert!(ledger.is_durable(&reply));
    assert!(ledger.poll_event().is_none());
    let stats = ledger.stats();
    assert_eq!(
        (
            stats.n_reservations,
            stats.n_keys,
            stats.written,
            stats.durable
        ),
        (1, 1, lsn, lsn)
    );
}

#[test]
fn replay_rebuilds_the_same_ledger() {
    let mut ledger = ledger(5);
    let a = reserved(ledger.reserve(RequestKey(1), &[Line::new(ITEM, 2)], secs(1)));
    let b = reserved(ledger.reserve(
        RequestKey(2),
        &[Line::new(ITEM, 1), Line::new(OTHER, 1)],
        secs(2),
    ));
    let c = reserved(ledger.reserve(RequestKey(3), &[Line::new(OTHER, 4)], secs(3)));
    ledger.confirm(RequestKey(4), a, secs(4));
    ledger.release(RequestKey(5), b, secs(5));
    ledger.reserve(RequestKey(6), &[Line::new(ITEM, 9)], secs(6));
    ledger.expire(secs(60), 10);
    assert_eq!(ledger.reservation(c), Some(ReservationState::Expired));

    let mut events = Vec::new();
    ledger.drain_events(&mut events);
    let replayed = Ledger::replay(Config::new().hold_for(HOLD), events).expect("replays");
    assert!(replayed.same_state(&ledger));
    assert_eq!(
        replayed.reply_for(RequestKey(4)),
        ledger.reply_for(RequestKey(4))
    );
    assert!(replayed.is_durable(&ledger.reply_for(RequestKey(6)).expect("recorded")));
}

#[test]
fn replay_refuses_a_journal_that_does_not_fit() {
    let at = secs(1);
    let stocked = Event::Stocked {
        at,
        item: ITEM,
        units: 1,
        shard: 0,
    };
    let key = RequestKey(1);
    let reservation = ReservationId(0);
    let confirm = Event::Confirmed {
        at,
        key,
        reservation,
    };
    let error =
        Ledger::replay(Config::new(), [stocked.clone(), confirm]).expect_err("no such hold");
    assert_eq!(
        (error.index(), error.kind()),
        (1, ReplayErrorKind::Refused(Refusal::UnknownReservation))
    );
    assert_eq!(
        error.to_string(),
        "event 1 cannot be replayed: no such reservation"
    );

    let lines = Lines::normalize(&[Line::new(ITEM, 1)]).expect("valid");
    let reserve = |reservation| Event::Reserved {
        at,
        key,
        reservation,
        lines: lines.clone(),
        expires_at: secs(9),
    };
    let skipped = Ledger::replay(Config::new(), [stocked.clone(), reserve(ReservationId(3))]);
    assert_eq!(
        skipped.map_err(|e| e.kind()).err(),
        Some(ReplayErrorKind::OutOfOrder)
    );
    let reused = [
        stocked.clone(),
        stocked.clone(),
        reserve(reservation),
        reserve(ReservationId(1)),
    ];
    assert_eq!(
        Ledger::replay(Config::new(), reused)
            .map_err(|e| e.kind())
            .err(),
        Some(ReplayErrorKind::KeyReused)
    );
    let wrong_shard = Event::Stocked {
        at,
        item: ITEM,
        units: 1,
        shard: 1,
    };
    assert_eq!(
        Ledger::replay(Config::new(), [wrong_shard])
            .map_err(|e| e.kind())
            .err(),
        Some(ReplayErrorKind::WrongShard)
    );
    let overflow = Event::Stocked {
        at,
        item: ITEM,
        units: u64::MAX,
        shard: 0,
    };
    assert_eq!(
        Ledger::replay(Config::new(), [stocked, overflow])
            .map_err(|e| e.kind())
            .err(),
        Some(ReplayErrorKind::Overflow)
    );
}

#[test]
fn a_batch_runs_in_order() {
    let mut ledger = ledger(2);
    let lines = [Line::new(ITEM, 1)];
    let mut replies = Vec::new();
    let batch = [
        Request::Reserve {
            key: RequestKey(1),
            lines: &lines,
        },
        Request::Reserve {
            key: RequestKey(2),
            lines: &lines,
        },
        Request::Reserve {
            key: RequestKey(3),
            lines: &lines,
        },
        Request::Confirm {
            key: RequestKey(4),
            reservation: ReservationId(0),
        },
        Request::Release {
            key: RequestKey(5),
            reservation: ReservationId(1),
        },
    ];
    ledger.submit(&batch, secs(1), &mut replies);
    assert_eq!(replies.len(), 5);
    assert_eq!(
        refusal(replies[2]),
        Some(Refusal::OutOfStock { item: ITEM })
    );
    assert_eq!(
        replies[3].outcome,
        Outcome::Confirmed {
            reservation: ReservationId(0)
        }
    );
    assert_eq!(
        replies[4].outcome,
        Outcome::Released {
            reservation: ReservationId(1)
        }
    );
    assert_eq!(
        ledger.counts(ITEM).map(|c| (c.available, c.sold)),
        Some((1, 1))
    );
}
