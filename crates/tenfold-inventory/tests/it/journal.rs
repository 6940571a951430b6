//! Bad journals: whatever bytes the host reads back, decoding and replay return typed errors
//! and never panic.

use std::time::Duration;

use proptest::prelude::*;
use tenfold_inventory::{ConcurrentLedger, Config, Event, ItemId, Ledger, Line, RequestKey};

/// Decodes events until the bytes end or one fails to decode.
fn decode_all(mut bytes: &[u8]) -> Vec<Event> {
    let mut events = Vec::new();
    while let Ok((event, used)) = Event::decode(bytes) {
        events.push(event);
        bytes = &bytes[used..];
    }
    events
}

/// A real journal: stock, reservations, a confirm, a release, refusals and an expiry.
fn journal() -> Vec<u8> {
    let mut ledger = Ledger::new(Config::new().hold_for(Duration::from_secs(5)));
    ledger.stock(ItemId(1), 3, Duration::ZERO);
    ledger.stock(ItemId(2), 1, Duration::ZERO);
    let order = [Line::new(ItemId(1), 1), Line::new(ItemId(2), 1)];
    for key in 0..4 {
        ledger.reserve(
            RequestKey(key),
            &order[..1 + key as usize % 2],
            Duration::from_secs(1),
        );
    }
    ledger.confirm(
        RequestKey(10),
        tenfold_inventory::ReservationId(0),
        Duration::from_secs(2),
    );
    ledger.release(
        RequestKey(11),
        tenfold_inventory::ReservationId(1),
        Duration::from_secs(2),
    );
    ledger.expire(Duration::from_secs(9), 10);
    let mut events = Vec::new();
    ledger.drain_events(&mut events);
    let mut bytes = Vec::new();
    for event in &events {
        event.encode(&mut bytes);
    }
    bytes
}

#[test]
fn every_single_byte_change_is_decoded_or_refused_without_panic() {
    let bytes = journal();
    let n_events = decode_all(&bytes).len();
    assert_eq!(n_events, 9);
    let mut n_refused = 0;
    for index in 0..bytes.len() {
        for flip in [0x01, 0x80, 0xFF] {
            let mut damaged = bytes.clone();
            damaged[index] ^= flip;
            let events = decode_all(&damaged);
            let whole = events.len() == n_events;
            if !whole || Ledger::replay(Config::new(), events.clone()).is_err() {
                n_refused += 1;
            }
            let _ = ConcurrentLedger::replay(Config::new().shards(4), events);
        }
    }
    // Most damage is caught by decoding or replay; the rest is why the host frames and
    // checksums its journal.
    assert!(
        n_refused > bytes.len(),
        "{n_refused} of {} changes refused",
        3 * bytes.len()
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let events = decode_all(&bytes);
        let _ = Ledger::replay(Config::new(), events.clone());
        let _ = ConcurrentLedger::replay(Config::new().shards(3), events);
    }
}

/// From review: journals that no ledger writes must not replay into impossible stock.
#[test]
fn impossible_journals_are_refused_not_replayed() {
    let at = Duration::from_secs(1);
    let item = ItemId(4);
    // A move on a single-owner ledger would make units out of nothing.
    let stocked = Event::Stocked {
        at,
        item,
        units: 5,
        shard: 0,
    };
    let moved = Event::Moved {
        at,
        item,
        units: 1_000,
        from: 7,
        to: 0,
    };
    assert!(Ledger::replay(Config::new(), [stocked.clone(), moved]).is_err());
    assert!(Ledger::replay(Config::new(), [stocked]).is_ok());

    // Two shards' stock that sums past u64::MAX.
    let config = Config::new().shards(2);
    let huge = |shard| Event::Stocked {
        at,
        item,
        units: u64::MAX,
        shard,
    };
    assert!(ConcurrentLedger::replay(config, [huge(0), huge(1)]).is_err());
    let ledger = ConcurrentLedger::replay(config, [huge(0)]).unwrap();
    assert_eq!(ledger.counts(item).map(|c| c.initial), Some(u64::MAX));
}

/// From review: comparing a ledger with itself took its locks twice.
#[test]
fn a_ledger_is_the_same_as_itself() {
    let ledger = ConcurrentLedger::new(Config::new());
    assert!(ledger.same_state(&ledger));
}
