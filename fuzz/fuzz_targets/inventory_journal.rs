//! Arbitrary bytes as an inventory journal: decoding and replay, on the single-owner and the
//! sharded ledger, must return a verdict and never panic, and whatever replays must conserve
//! stock. (The two ledgers may disagree: a sharded journal names shards a single-owner
//! ledger does not have.)

#![no_main]

use libfuzzer_sys::fuzz_target;
use tenfold_inventory::{ConcurrentLedger, Config, Event, Ledger};

fuzz_target!(|data: &[u8]| {
    let mut events = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let Ok((event, used)) = Event::decode(rest) else { break };
        // Whatever decodes encodes back to the same bytes.
        let mut again = Vec::new();
        event.encode(&mut again);
        assert_eq!(again, rest[..used], "{event:?}");
        events.push(event);
        rest = &rest[used..];
    }
    let single = Ledger::replay(Config::new(), events.clone());
    let _ = ConcurrentLedger::replay(Config::new(), events);
    if let Ok(ledger) = single {
        for (item, counts) in ledger.items() {
            let total = counts.available + counts.reserved + counts.sold;
            assert_eq!(total, counts.initial, "item {item:?} does not add up: {counts:?}");
        }
    }
});
