use super::*;
use crate::types::{Outcome, Refusal};

const ITEM: ItemId = ItemId(1);

fn ledger(shards: usize, units: u64) -> ConcurrentLedger {
    let ledger = ConcurrentLedger::new(
        Config::new()
            .shards(shards)
            .hold_for(Duration::from_secs(30)),
    );
    ledger.stock(ITEM, units, Duration::ZERO);
    ledger
}

#[test]
fn stock_is_split_evenly_across_shards() {
    let ledger = ledger(4, 10);
    let initial: Vec<u64> = ledger
        .shard_counts(ITEM)
        .iter()
        .map(|c| c.initial)
        .collect();
    assert_eq!(initial, [3, 3, 2, 2]);
    assert_eq!(ledger.counts(ITEM).map(|c| c.available), Some(10));
    assert_eq!(ledger.stock(ITEM, u64::MAX, Duration::ZERO), None);
    assert_eq!(ledger.counts(ITEM).map(|c| c.initial), Some(10));
}

#[test]
fn no_shard_sells_out_while_another_has_stock() {
    let ledger = ledger(4, 10);
    let mut n_reserved = 0;
    for key in 0..12 {
        let reply = ledger.reserve(
            RequestKey(key),
            &[Line::new(ITEM, 1)],
            Duration::from_secs(1),
        );
        match reply.outcome {
            Outcome::Reserved { .. } => n_reserved += 1,
            Outcome::Refused(Refusal::OutOfStock { .. }) => {
                assert_eq!(ledger.counts(ITEM).map(|c| c.available), Some(0));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(n_reserved, 10);
    let counts = ledger.counts(ITEM).expect("stocked");
    assert!(counts.is_conserved());
    assert_eq!(counts.reserved, 10);
    // A single order larger than any shard's share is served by borrowing.
    let big = self::ledger(4, 10);
    let reply = big.reserve(RequestKey(1), &[Line::new(ITEM, 9)], Duration::from_secs(1));
    assert!(
        matches!(reply.outcome, Outcome::Reserved { .. }),
        "{reply:?}"
    );
    let moved = big
        .shard_counts(ITEM)
        .iter()
        .filter(|c| c.initial == 0)
        .count();
    assert!(moved >= 1, "{:?}", big.shard_counts(ITEM));
}

#[test]
fn a_batch_replies_in_request_order_and_replays_exactly() {
    let ledger = ledger(3, 6);
    let line = [Line::new(ITEM, 1)];
    let reserves: Vec<Request<'_>> = (0..8)
        .map(|key| Request::Reserve {
            key: RequestKey(key),
            lines: &line,
        })
        .collect();
    let mut replies = Vec::new();
    ledger.submit(&reserves, Duration::from_secs(1), &mut replies);
    let reserved: Vec<ReservationId> = replies
        .iter()
        .filter_map(|reply| match reply.outcome {
            Outcome::Reserved { reservation, .. } => Some(reservation),
            _ => None,
        })
        .collect();
    assert_eq!(reserved.len(), 6);
    for (index, reply) in replies.iter().enumerate() {
        assert_eq!(
            ledger.reply_for_reserve(RequestKey(index as u128)),
            Some(*reply)
        );
    }
    let settles: Vec<Request<'_>> = reserved
        .iter()
        .enumerate()
        .map(|(n, &reservation)| match n % 2 {
            0 => Request::Confirm {
                key: RequestKey(100 + n as u128),
                reservation,
            },
            _ => Request::Release {
                key: RequestKey(100 + n as u128),
                reservation,
            },
        })
        .collect();
    replies.clear();
    ledger.submit(&settles, Duration::from_secs(2), &mut replies);
    assert_eq!(
        ledger.counts(ITEM).map(|c| (c.available, c.sold)),
        Some((3, 3))
    );
    assert_eq!(
        ledger.reservation(reserved[0]),
        Some(ReservationState::Confirmed)
    );

    let mut events = Vec::new();
    let lsn = ledger.drain_events(&mut events);
    ledger.acknowledge(lsn);
    assert!(replies.iter().all(|reply| ledger.is_durable(reply)));
    let config = Config::new().shards(3).hold_for(Duration::from_secs(30));
    let replayed = ConcurrentLedger::replay(config, events.clone()).expect("replays");
    assert!(replayed.same_state(&ledger));
    let fewer_shards = ConcurrentLedger::replay(Config::new().shards(2), events);
    assert!(fewer_shards.is_err());
}

#[test]
fn expiry_runs_over_every_shard() {
    let ledger = ledger(2, 4);
    for key in 0..4 {
        ledger.reserve(
            RequestKey(key),
            &[Line::new(ITEM, 1)],
            Duration::from_secs(1),
        );
    }
    assert_eq!(ledger.poll_timeout(), Some(Duration::from_secs(31)));
    assert_eq!(ledger.expire(Duration::from_secs(31), 10), 4);
    assert_eq!(ledger.counts(ITEM).map(|c| c.available), Some(4));
    assert_eq!(ledger.poll_timeout(), None);
}

#[test]
fn the_concurrent_ledger_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ConcurrentLedger>();
}
