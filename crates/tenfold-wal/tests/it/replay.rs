//! Replay from a checkpoint to an LSN or a point in time, across segments and purges.

use tenfold_wal::{Config, Lsn, RecoveryMode, Until, replay};

use crate::Harness;

/// Forty records of 30 bytes (64 framed) in batches of 5, with segments of 48 + 4 * 64 bytes:
/// a batch never splits, so each segment grows to hold one whole batch of 5.
fn rolled() -> Harness {
    let mut h = Harness::new(Config::default().segment_size(304).preallocate(false));
    for _ in 0..8 {
        h.commit(5, 30);
    }
    h
}

#[test]
fn segments_roll_and_replay_returns_everything_in_order() {
    let h = rolled();
    assert_eq!(h.log.segments().len(), 8);
    assert!(h.log.segments().iter().all(|s| s.n_records == 5));
    assert_eq!(h.replay(&h.storage, RecoveryMode::Strict), h.appended);
}

#[test]
fn replay_stops_at_an_lsn_or_a_point_in_time() {
    let h = rolled();
    let mode = RecoveryMode::default();
    let to_lsn = replay(
        &h.storage,
        &h.config,
        mode,
        Lsn::new(10),
        Until::Lsn(Lsn::new(17)),
    )
    .unwrap();
    let lsns: Vec<u64> = to_lsn.iter().map(|r| r.lsn.get()).collect();
    assert_eq!(lsns, (11..=17).collect::<Vec<_>>());

    // Record n (from 1) has timestamp 1000 + 10 * (n - 1); 1_255 falls between 26 and 27.
    let to_time = replay(
        &h.storage,
        &h.config,
        mode,
        Lsn::ZERO,
        Until::Timestamp(1_255),
    )
    .unwrap();
    assert_eq!(to_time.last().unwrap().lsn, Lsn::new(26));
    assert_eq!(to_time, h.expected(Lsn::new(26)));
}

#[test]
fn purge_removes_only_segments_no_checkpoint_needs() {
    let mut h = rolled();
    // A checkpoint covers everything through LSN 21; replay resumes at 22.
    let removed = h.log.purge(Lsn::new(22));
    assert_eq!(removed, 4);
    h.commit(1, 30);
    let segments = tenfold_wal::Storage::segments(&h.storage).unwrap();
    assert_eq!(segments, [5, 6, 7, 8, 9]);
    let after = replay(
        &h.storage,
        &h.config,
        RecoveryMode::Strict,
        Lsn::new(21),
        Until::End,
    )
    .unwrap();
    let expected: Vec<_> = h
        .appended
        .iter()
        .filter(|r| r.lsn > Lsn::new(21))
        .cloned()
        .collect();
    assert_eq!(after, expected);
}
