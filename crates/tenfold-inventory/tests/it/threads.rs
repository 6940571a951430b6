//! Real threads on the concurrent ledger: many buyers, one hot item, exactly the stock sold.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tenfold_inventory::{
    ConcurrentLedger, Config, ItemId, Line, Outcome, Refusal, Request, RequestKey,
};

const ITEM: ItemId = ItemId(1);

/// Each thread buys one unit at a time until the item is sold out: reserve, then confirm (or,
/// one time in five, release and try again), with every request sent twice.
#[test]
#[allow(clippy::disallowed_methods)]
fn threads_hammering_one_item_sell_exactly_the_stock() {
    const STOCK: u64 = 20_000;
    const N_THREADS: u64 = 8;
    let config = Config::new().shards(4).hold_for(Duration::from_secs(3_600));
    let ledger = Arc::new(ConcurrentLedger::new(config));
    ledger.stock(ITEM, STOCK, Duration::ZERO);
    let confirmed = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..N_THREADS)
        .map(|thread| {
            let ledger = Arc::clone(&ledger);
            let confirmed = Arc::clone(&confirmed);
            std::thread::spawn(move || buy_until_sold_out(&ledger, thread, &confirmed))
        })
        .collect();
    let mut n_refused = 0;
    for thread in threads {
        n_refused += thread.join().expect("a buyer thread panicked");
    }
    let counts = ledger.counts(ITEM).expect("stocked");
    eprintln!(
        "threads: {N_THREADS} threads, {} confirmed, {n_refused} refused, {counts:?}",
        confirmed.load(Ordering::Relaxed)
    );
    assert_eq!(confirmed.load(Ordering::Relaxed), STOCK);
    assert_eq!(
        (counts.sold, counts.reserved, counts.available),
        (STOCK, 0, 0)
    );
    assert!(counts.is_conserved());
    assert!(
        ledger
            .shard_counts(ITEM)
            .iter()
            .all(|shard| shard.available == 0)
    );
    assert_eq!(
        n_refused, N_THREADS,
        "each thread stops at its first out-of-stock"
    );

    // The journal, written by all the threads at once, replays to the same books.
    let mut events = Vec::new();
    ledger.drain_events(&mut events);
    let replayed = ConcurrentLedger::replay(config, events).expect("the journal replays");
    assert!(replayed.same_state(&ledger));
}

fn buy_until_sold_out(ledger: &ConcurrentLedger, thread: u64, confirmed: &AtomicU64) -> u64 {
    let now = Duration::from_secs(1);
    for attempt in 0u64.. {
        let key =
            |kind: u64| RequestKey((u128::from(thread) << 96) | u128::from(attempt << 2 | kind));
        let line = [Line::new(ITEM, 1)];
        let reply = ledger.reserve(key(0), &line, now);
        assert_eq!(
            ledger.reserve(key(0), &line, now),
            reply,
            "a retry gets the first reply"
        );
        let reservation = match reply.outcome {
            Outcome::Reserved { reservation, .. } => reservation,
            Outcome::Refused(Refusal::OutOfStock { .. }) => return 1,
            other => panic!("{other:?}"),
        };
        let settle = match attempt % 5 {
            4 => ledger.release(key(1), reservation, now),
            _ => ledger.confirm(key(1), reservation, now),
        };
        assert_eq!(ledger.confirm(key(1), reservation, now), settle);
        if let Outcome::Confirmed { .. } = settle.outcome {
            confirmed.fetch_add(1, Ordering::Relaxed);
        }
    }
    0
}

/// Batches from several threads at once, with borrowing between shards at the end.
#[test]
#[allow(clippy::disallowed_methods)]
fn batched_threads_never_oversell() {
    const STOCK: u64 = 5_000;
    let config = Config::new().shards(8);
    let ledger = Arc::new(ConcurrentLedger::new(config));
    ledger.stock(ITEM, STOCK, Duration::ZERO);
    let threads: Vec<_> = (0..4u128)
        .map(|thread| {
            let ledger = Arc::clone(&ledger);
            std::thread::spawn(move || {
                let line = [Line::new(ITEM, 1)];
                let mut n_reserved = 0u64;
                let mut replies = Vec::new();
                for batch in 0..40u128 {
                    let requests: Vec<Request<'_>> = (0..64u128)
                        .map(|n| RequestKey(thread << 64 | batch << 8 | n))
                        .map(|key| Request::Reserve { key, lines: &line })
                        .collect();
                    replies.clear();
                    ledger.submit(&requests, Duration::from_secs(1), &mut replies);
                    let reserved = replies
                        .iter()
                        .filter(|reply| matches!(reply.outcome, Outcome::Reserved { .. }));
                    n_reserved += reserved.count() as u64;
                }
                n_reserved
            })
        })
        .collect();
    let n_reserved: u64 = threads
        .into_iter()
        .map(|t| t.join().expect("no panic"))
        .sum();
    let counts = ledger.counts(ITEM).expect("stocked");
    eprintln!(
        "threads: batched, {n_reserved} reserved of {} asked",
        4 * 40 * 64
    );
    assert_eq!(n_reserved, STOCK);
    assert_eq!((counts.reserved, counts.available), (STOCK, 0));
}
