//! Recovery after every kind of crash and disk fault: each one yields exactly the committed
//! prefix, or an error naming where the damage is.

use tenfold_wal::{
    Config, Fault, HeaderFault, Io, Log, Lsn, MemStorage, RecoveryErrorKind, RecoveryMode, recover,
};

use crate::{Harness, writes};

/// Three durable batches, and a fourth flushed but not yet performed.
fn durable_then_pending() -> (Harness, tenfold_wal::Flush) {
    let mut h = Harness::new(Config::default().segment_size(1 << 20));
    h.commit(5, 40);
    h.commit(5, 7);
    h.commit(5, 0);
    h.append(4, 100);
    let flush = h.take_flush();
    (h, flush)
}

#[test]
fn torn_last_write_at_every_byte_keeps_exactly_the_durable_prefix() {
    let (h, flush) = durable_then_pending();
    let [(segment, offset, bytes)] = writes(&flush).try_into().unwrap();
    let mut n_cases = 0;
    for cut in 0..=bytes.len() {
        for filler in [0x00, 0xA5] {
            let mut storage = h.storage.clone();
            let mut torn = bytes[..cut].to_vec();
            torn.resize(bytes.len() + 64, filler);
            // A cut inside the last record's zero padding, filled with zeroes, tears nothing.
            let whole = torn[..bytes.len()] == bytes[..];
            storage
                .apply(&Io::Write {
                    segment,
                    offset,
                    bytes: torn,
                })
                .unwrap();

            let recovery = recover(&storage, &h.config, RecoveryMode::default(), None).unwrap();
            let last = if whole { Lsn::new(19) } else { Lsn::new(15) };
            assert_eq!(
                recovery.last_lsn(),
                last,
                "cut at {cut}, filler {filler:#x}"
            );
            assert_eq!(
                h.replay(&storage, RecoveryMode::default()),
                h.expected(last)
            );
            n_cases += 1;
        }
    }
    assert_eq!(n_cases, 2 * (bytes.len() + 1));
    assert_eq!(bytes.len(), 4 * 136);
}

#[test]
fn unsynced_sectors_persisted_in_any_order_lose_only_the_unacknowledged_batch() {
    const SECTOR: usize = 64;
    let (h, flush) = durable_then_pending();
    let [(segment, offset, bytes)] = writes(&flush).try_into().unwrap();
    let n_sectors = bytes.len().div_ceil(SECTOR);
    assert_eq!(n_sectors, 9);
    for mask in 0u32..1 << n_sectors {
        let mut storage = h.storage.clone();
        for sector in (0..n_sectors).filter(|s| mask & (1 << s) != 0) {
            let start = sector * SECTOR;
            let chunk = bytes[start..(start + SECTOR).min(bytes.len())].to_vec();
            let io = Io::Write {
                segment,
                offset: offset + start as u64,
                bytes: chunk,
            };
            storage.apply(&io).unwrap();
        }
        let recovery = recover(&storage, &h.config, RecoveryMode::default(), None).unwrap();
        let all = mask == (1 << n_sectors) - 1;
        let last = if all { Lsn::new(19) } else { Lsn::new(15) };
        assert_eq!(recovery.last_lsn(), last, "sectors persisted: {mask:#b}");
    }
}

#[test]
fn every_bit_flip_in_written_data_is_detected() {
    let mut h = Harness::new(Config::default().segment_size(1 << 20));
    for len in [3, 40, 0, 17] {
        h.commit(3, len);
    }
    let durable = h.log.durable_lsn();
    let written = h.storage.segment(1).unwrap().len();
    let last_batch_start = written - 3 * 56;
    let (mut n_flips, mut n_detected, mut n_detected_without_hint) = (0, 0, 0);
    for at in 0..written {
        let mut storage = h.storage.clone();
        storage.segment_mut(1).unwrap()[at] ^= 1 << (at % 8);
        n_flips += 1;
        if recover(&storage, &h.config, RecoveryMode::default(), Some(durable)).is_err() {
            n_detected += 1;
        }
        // Without the host's durable LSN, a later batch is the witness, so every flip before
        // the last batch is still caught.
        if at < last_batch_start
            && recover(&storage, &h.config, RecoveryMode::default(), None).is_err()
        {
            n_detected_without_hint += 1;
        }
    }
    assert_eq!(n_flips, written);
    assert_eq!(n_detected, n_flips);
    assert_eq!(n_detected_without_hint, last_batch_start);
}

#[test]
fn damage_below_the_durable_tail_names_segment_and_offset() {
    let mut h = Harness::new(Config::default());
    h.commit(2, 8);
    h.commit(2, 8);
    h.commit(2, 8);
    // The first record of the second batch starts at 48 + 2 * 40.
    h.storage.segment_mut(1).unwrap()[128 + 35] ^= 0x10;
    let error = recover(&h.storage, &h.config, RecoveryMode::default(), None).unwrap_err();
    assert_eq!(error.segment(), 1);
    assert_eq!(error.offset(), 128);
    let expected = RecoveryErrorKind::Corrupt {
        fault: Fault::Checksum,
        witness: Lsn::new(5),
    };
    assert_eq!(error.kind(), expected);
    assert_eq!(
        error.to_string(),
        "segment 1 at offset 128: checksum mismatch below the durable tail \
         (record 5 was written after it was durable)"
    );
}

#[test]
fn misdirected_write_over_durable_data_is_detected() {
    let (mut h, flush) = durable_then_pending();
    let [(segment, _, bytes)] = writes(&flush).try_into().unwrap();
    // The disk puts the new batch on top of the second batch instead of after the third.
    let second_batch = 48 + 5 * 72;
    h.storage
        .apply(&Io::Write {
            segment,
            offset: second_batch,
            bytes,
        })
        .unwrap();
    let error = recover(&h.storage, &h.config, RecoveryMode::default(), None).unwrap_err();
    assert_eq!(error.offset(), second_batch);
    let fault = Fault::Sequence {
        expected: Lsn::new(6),
        found: Lsn::new(16),
    };
    assert_eq!(
        error.kind(),
        RecoveryErrorKind::Corrupt {
            fault,
            witness: Lsn::new(17)
        }
    );
}

#[test]
fn misdirected_write_past_the_tail_is_caught_by_the_next_batch() {
    let (mut h, flush) = durable_then_pending();
    let [(segment, offset, bytes)] = writes(&flush).try_into().unwrap();
    // The batch lands 4 KiB too far; the host, told it succeeded, acknowledges it.
    h.storage
        .apply(&Io::Write {
            segment,
            offset: offset + 4096,
            bytes,
        })
        .unwrap();
    h.log.handle_flushed(flush.through);
    h.commit(1, 10);
    let error = recover(&h.storage, &h.config, RecoveryMode::default(), None).unwrap_err();
    assert_eq!(error.offset(), offset);
    let expected = RecoveryErrorKind::Corrupt {
        fault: Fault::Zeroed,
        witness: Lsn::new(20),
    };
    assert_eq!(error.kind(), expected);
}

#[test]
fn records_from_another_file_are_never_accepted() {
    let (h, flush) = durable_then_pending();
    let [(segment, offset, _)] = writes(&flush).try_into().unwrap();
    // The same records, checksummed with another file's salt.
    let mut other = Log::new(h.config, 99);
    for record in &h.appended {
        other.append(record.timestamp, &record.payload).unwrap();
    }
    let foreign = writes(&other.poll_flush().unwrap()).remove(0).2;
    let mut storage = h.storage.clone();
    let tail = foreign[offset as usize - 48..].to_vec();
    storage
        .apply(&Io::Write {
            segment,
            offset,
            bytes: tail,
        })
        .unwrap();
    let recovery = recover(&storage, &h.config, RecoveryMode::default(), None).unwrap();
    assert_eq!(recovery.last_lsn(), Lsn::new(15));
    assert_eq!(recovery.torn_tail().unwrap().fault, Fault::Checksum);
}

#[test]
fn strict_mode_refuses_a_torn_tail_and_salvage_reads_around_damage() {
    let (h, flush) = durable_then_pending();
    let [(segment, offset, bytes)] = writes(&flush).try_into().unwrap();
    let mut storage = h.storage.clone();
    storage
        .apply(&Io::Write {
            segment,
            offset,
            bytes: bytes[..100].to_vec(),
        })
        .unwrap();
    let error = recover(&storage, &h.config, RecoveryMode::Strict, None).unwrap_err();
    assert_eq!(
        error.kind(),
        RecoveryErrorKind::TornTail {
            fault: Fault::Truncated
        }
    );
    assert_eq!(error.offset(), offset);

    // Damage in the middle of durable data: salvage skips exactly the damaged record.
    let mut storage = h.storage.clone();
    storage.segment_mut(1).unwrap()[48 + 72 + 40] ^= 1;
    let records = h.replay(&storage, RecoveryMode::Salvage);
    let lsns: Vec<u64> = records.iter().map(|r| r.lsn.get()).collect();
    let expected: Vec<u64> = (1..=15).filter(|&lsn| lsn != 2).collect();
    assert_eq!(lsns, expected);
    let recovery = recover(&storage, &h.config, RecoveryMode::Salvage, None).unwrap();
    let skipped = recovery.skipped();
    assert_eq!(skipped.len(), 1);
    assert_eq!(
        (skipped[0].first, skipped[0].last),
        (Lsn::new(2), Lsn::new(2))
    );
}

#[test]
fn sealed_segments_allow_no_damage_and_no_gaps() {
    let mut h = Harness::new(Config::default().segment_size(300).preallocate(false));
    for _ in 0..6 {
        h.commit(2, 50);
    }
    let segments = tenfold_wal::Storage::segments(&h.storage).unwrap();
    assert_eq!(segments, [1, 2, 3, 4, 5, 6]);

    // A torn-looking end in a sealed segment is damage: the segment was synced whole.
    let mut storage = h.storage.clone();
    let first = storage.segment_mut(1).unwrap();
    let len = first.len();
    first.truncate(len - 5);
    let error = recover(&storage, &h.config, RecoveryMode::default(), None).unwrap_err();
    assert_eq!(error.segment(), 1);
    assert!(matches!(
        error.kind(),
        RecoveryErrorKind::DamagedSealedSegment { .. }
    ));

    // A missing segment is a gap.
    let mut storage = h.storage.clone();
    storage.apply(&Io::Remove { segment: 3 }).unwrap();
    let error = recover(&storage, &h.config, RecoveryMode::default(), None).unwrap_err();
    let gap = RecoveryErrorKind::Gap {
        expected: Lsn::new(5),
        found: Lsn::new(7),
    };
    assert_eq!((error.segment(), error.kind()), (4, gap));
}

#[test]
fn a_segment_whose_creation_never_reached_disk_is_removed() {
    let mut h = Harness::new(Config::default().segment_size(300).preallocate(false));
    h.commit(2, 50);
    h.append(2, 50);
    let flush = h.take_flush();
    let mut storage = h.storage.clone();
    for io in &flush.ops {
        match io {
            // The crash comes after the file was created but before its header was synced.
            Io::Create {
                segment, header, ..
            } => {
                let zeroed = vec![0; header.len()];
                let create = Io::Create {
                    segment: *segment,
                    header: zeroed,
                    preallocate: 0,
                };
                storage.apply(&create).unwrap();
                break;
            }
            io => storage.apply(io).unwrap(),
        }
    }
    let recovery = recover(&storage, &h.config, RecoveryMode::default(), None).unwrap();
    assert_eq!(recovery.last_lsn(), Lsn::new(2));
    assert_eq!(recovery.repairs(), [Io::Remove { segment: 2 }]);

    // Resuming hands the removal to the host first, then writes segment 2 afresh.
    let mut log = Log::resume(h.config, recovery, 8);
    let after_crash = vec![0xC4; 100];
    log.append(5_000, &after_crash).unwrap();
    let flush = log.poll_flush().unwrap();
    assert_eq!(flush.ops[0], Io::Remove { segment: 2 });
    assert!(matches!(flush.ops[1], Io::Create { segment: 2, .. }));
    for io in &flush.ops {
        storage.apply(io).unwrap();
    }
    let records = h.replay(&storage, RecoveryMode::Strict);
    assert_eq!(records.len(), 3);
    assert_eq!(records[2].payload, after_crash);
}

#[test]
fn a_known_durable_lsn_turns_a_lost_last_batch_into_an_error() {
    let (mut h, flush) = durable_then_pending();
    h.log.handle_flushed(flush.through);
    let error = recover(
        &h.storage,
        &h.config,
        RecoveryMode::default(),
        Some(Lsn::new(19)),
    )
    .unwrap_err();
    let kind = RecoveryErrorKind::EndsBeforeDurable {
        recovered: Lsn::new(15),
        durable: Lsn::new(19),
    };
    assert_eq!(error.kind(), kind);
}

#[test]
fn a_failed_flush_stops_the_log_until_recovery() {
    let (mut h, _flush) = durable_then_pending();
    h.log.handle_flush_failed();
    assert!(h.log.is_stopped());
    assert_eq!(
        h.log.append(1, b"x"),
        Err(tenfold_wal::AppendError::Stopped)
    );
    assert!(h.log.poll_flush().is_none());
    assert_eq!(h.log.durable_lsn(), Lsn::new(15));
}

#[test]
fn resume_cuts_the_torn_tail_before_writing_again() {
    let (h, flush) = durable_then_pending();
    let [(segment, offset, bytes)] = writes(&flush).try_into().unwrap();
    let mut storage = h.storage.clone();
    storage
        .apply(&Io::Write {
            segment,
            offset,
            bytes: bytes[..200].to_vec(),
        })
        .unwrap();
    let recovery = recover(&storage, &h.config, RecoveryMode::default(), None).unwrap();
    let preallocate = 1 << 20; // The segment size: the cut takes its blocks back.
    assert_eq!(
        recovery.repairs(),
        [Io::Truncate {
            segment: 1,
            len: offset,
            preallocate
        }]
    );
    let mut log = Log::resume(h.config, recovery, 8);
    assert_eq!(log.append(9_999, b"next").unwrap(), Lsn::new(16));
    let flush = log.poll_flush().unwrap();
    for io in &flush.ops {
        storage.apply(io).unwrap();
    }
    let records = h.replay(&storage, RecoveryMode::Strict);
    assert_eq!(records.len(), 16);
    assert_eq!(records[15].payload, b"next");
    assert_eq!(records[15].timestamp, 9_999);
}

#[test]
fn foreign_files_are_refused_by_their_header() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/wal");
    for name in [
        "etcd-TestNew.wal",
        "etcd-TestNew.torn-tail-60.wal",
        "etcd-TestNew.zeroed-last-record.wal",
        "etcd-TestNew.bitflip-34.wal",
    ] {
        #[allow(clippy::disallowed_methods)] // Tests read their fixtures.
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let verdict = tenfold_wal::inspect_segment(&bytes, &Config::default());
        assert_eq!(verdict, Err(HeaderFault::Magic), "{name}");
    }
    let mut storage = MemStorage::new();
    storage
        .apply(&Io::Create {
            segment: 1,
            header: vec![0xFF; 72],
            preallocate: 0,
        })
        .unwrap();
    let error = recover(&storage, &Config::default(), RecoveryMode::default(), None).unwrap_err();
    assert_eq!(error.kind(), RecoveryErrorKind::BadHeader);
}

/// A batch that outgrows its segment moves whole into the next one, so a crash can never keep
/// half of it (found in review: it used to be split across the two segments).
#[test]
fn a_batch_that_outgrows_its_segment_commits_whole_in_the_next() {
    let mut h = Harness::new(Config::default().segment_size(300).preallocate(false));
    h.commit(1, 100);
    h.append(3, 100);
    let flush = h.take_flush();
    let kinds: Vec<_> = flush
        .ops
        .iter()
        .map(|io| match io {
            Io::Create { segment, .. } => ("create", *segment),
            Io::Write { segment, .. } => ("write", *segment),
            Io::Sync { segment } => ("sync", *segment),
            _ => ("other", 0),
        })
        .collect();
    assert_eq!(kinds, [("create", 2), ("write", 2), ("sync", 2)]);
    let [(segment, offset, bytes)] = writes(&flush).try_into().unwrap();
    for cut in (0..=bytes.len()).step_by(8) {
        let mut storage = h.storage.clone();
        let create = flush.ops[0].clone();
        storage.apply(&create).unwrap();
        storage
            .apply(&Io::Write {
                segment,
                offset,
                bytes: bytes[..cut].to_vec(),
            })
            .unwrap();
        let recovery = recover(&storage, &h.config, RecoveryMode::default(), None).unwrap();
        let last = if cut == bytes.len() {
            Lsn::new(4)
        } else {
            Lsn::new(1)
        };
        assert_eq!(recovery.last_lsn(), last, "cut at {cut}");
    }
    h.perform(&flush);
    assert_eq!(h.replay(&h.storage, RecoveryMode::Strict), h.appended);
}
