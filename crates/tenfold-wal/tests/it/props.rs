//! Laws over random logs: what is appended and flushed is what replay returns, and a crash
//! at any byte of the last flush leaves exactly a committed prefix.

use proptest::prelude::*;
use tenfold_wal::{Config, Io, Lsn, RecoveryMode, recover};

use crate::{Harness, writes};

proptest! {
    #[test]
    fn replay_returns_what_was_flushed(
        batches in prop::collection::vec(prop::collection::vec(0usize..300, 1..8), 1..12),
        segment_size in 200u64..2_000,
    ) {
        let mut h = Harness::new(Config::default().segment_size(segment_size).preallocate(false));
        for batch in &batches {
            for &len in batch {
                h.append(1, len);
            }
            let flush = h.take_flush();
            h.perform(&flush);
        }
        prop_assert_eq!(h.replay(&h.storage, RecoveryMode::Strict), h.appended.clone());
    }

    #[test]
    fn a_crash_anywhere_in_the_last_flush_leaves_a_committed_prefix(
        batches in prop::collection::vec(prop::collection::vec(0usize..120, 1..5), 2..6),
        segment_size in 200u64..1_000,
        cut_fraction in 0.0f64..1.0,
    ) {
        let mut h = Harness::new(Config::default().segment_size(segment_size).preallocate(false));
        let mut batch_ends = Vec::new();
        for batch in &batches {
            for &len in batch {
                h.append(1, len);
            }
            batch_ends.push(h.appended.len() as u64);
            let flush = h.take_flush();
            if batch_ends.len() < batches.len() {
                h.perform(&flush);
                continue;
            }
            // The last flush: apply its steps up to a byte cut somewhere in its writes.
            let total: usize = writes(&flush).iter().map(|w| w.2.len()).sum();
            let mut budget = (total as f64 * cut_fraction) as usize;
            for io in &flush.ops {
                match io {
                    Io::Write { segment, offset, bytes } => {
                        let n = budget.min(bytes.len());
                        budget -= n;
                        let torn = Io::Write { segment: *segment, offset: *offset, bytes: bytes[..n].to_vec() };
                        h.storage.apply(&torn).unwrap();
                        if n < bytes.len() {
                            break;
                        }
                    }
                    io => h.storage.apply(io).unwrap(),
                }
            }
        }
        let durable = batch_ends[batch_ends.len() - 2];
        let recovery = recover(&h.storage, &h.config, RecoveryMode::default(), Some(Lsn::new(durable)));
        let recovery = recovery.map_err(|e| TestCaseError::fail(e.to_string()))?;
        let last = recovery.last_lsn().get();
        prop_assert!(last >= durable, "lost acknowledged records: {} < {}", last, durable);
        // The last flush is one batch: it survives whole or not at all.
        let total = h.appended.len() as u64;
        prop_assert!(last == durable || last == total, "kept {} of {}..={}", last, durable + 1, total);
        prop_assert_eq!(h.replay(&h.storage, RecoveryMode::default()), h.expected(Lsn::new(last)));
    }
}
