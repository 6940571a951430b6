//! `tenfold-wal` on real files: many writers through group commit, a torn tail on disk, and
//! recovery after the process's state is gone.

use std::sync::Arc;

use tenfold_host::wal::{SharedWal, WalDir};
use tenfold_wal::{Config, Log, Lsn, RecoveryMode, Until, recover, replay};

#[test]
fn many_writers_share_fsyncs_and_every_acknowledged_record_is_recovered() {
    const N_THREADS: u64 = 8;
    const PER_THREAD: u64 = 200;
    let scratch = tempfile::tempdir().unwrap();
    let config = Config::default().segment_size(16 << 10);
    let dir = WalDir::open(scratch.path()).unwrap();
    let wal = Arc::new(SharedWal::new(Log::new(config, 1), dir));

    #[allow(clippy::disallowed_methods)] // The writers are real threads.
    let handles: Vec<_> = (0..N_THREADS)
        .map(|thread| {
            let wal = Arc::clone(&wal);
            std::thread::spawn(move || {
                (0..PER_THREAD)
                    .map(|n| {
                        let payload = (thread * 1_000_000 + n).to_le_bytes();
                        let lsn = wal.append(n, &payload).unwrap();
                        // Acknowledged means durable.
                        assert!(wal.durable_lsn() >= lsn);
                        (lsn, payload)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut acknowledged: Vec<_> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    acknowledged.sort();
    drop(wal);

    let dir = WalDir::open(scratch.path()).unwrap();
    let recovery = recover(&dir, &config, RecoveryMode::Strict, None).unwrap();
    assert_eq!(recovery.last_lsn(), Lsn::new(N_THREADS * PER_THREAD));
    assert!(recovery.segments().len() > 1, "the log rolled segments");
    let records = replay(&dir, &config, RecoveryMode::Strict, Lsn::ZERO, Until::End).unwrap();
    let found: Vec<_> = records.iter().map(|r| (r.lsn, r.payload.clone())).collect();
    let expected: Vec<_> = acknowledged
        .iter()
        .map(|(lsn, p)| (*lsn, p.to_vec()))
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn a_torn_tail_on_disk_is_cut_and_writing_resumes_after_it() {
    let scratch = tempfile::tempdir().unwrap();
    let config = Config::default();
    let mut dir = WalDir::open(scratch.path()).unwrap();
    let mut log = Log::new(config, 2);
    for n in 0..10u64 {
        log.append(n, &n.to_le_bytes()).unwrap();
    }
    let flush = log.poll_flush().unwrap();
    dir.perform(&flush.ops).unwrap();
    log.handle_flushed(flush.through);

    // A crash half way through the next write leaves garbage after the committed records.
    let segment = tenfold_wal::segment_file_name(1);
    let mut file = dir.dir().open_file(&segment).unwrap();
    let end = 48 + 10 * 40;
    file.write_at(end, &[0x5A; 29]).unwrap();
    file.sync_data().unwrap();
    drop((file, log, dir));

    let mut dir = WalDir::open(scratch.path()).unwrap();
    let recovery = recover(&dir, &config, RecoveryMode::default(), Some(Lsn::new(10))).unwrap();
    assert_eq!(recovery.torn_tail().map(|torn| torn.offset), Some(end));
    let mut log = Log::resume(config, recovery, 3);
    assert_eq!(log.append(99, b"after").unwrap(), Lsn::new(11));
    let flush = log.poll_flush().unwrap();
    dir.perform(&flush.ops).unwrap();

    let records = replay(&dir, &config, RecoveryMode::Strict, Lsn::new(9), Until::End).unwrap();
    let payloads: Vec<&[u8]> = records.iter().map(|r| r.payload.as_slice()).collect();
    assert_eq!(payloads, [&9u64.to_le_bytes()[..], b"after"]);
}
