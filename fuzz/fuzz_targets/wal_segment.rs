//! Arbitrary bytes as a WAL segment: the decoder, recovery in every mode and replay must
//! return a verdict, never panic, and agree with each other.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tenfold_wal::{Config, Io, Lsn, MemStorage, RecoveryMode, Until, inspect_segment, recover, replay};

fuzz_target!(|bytes: &[u8]| {
    let config = Config::default().max_record_len(1 << 16);
    let inspected = inspect_segment(bytes, &config);

    let mut storage = MemStorage::new();
    let segment = inspected.as_ref().map_or(1, |report| report.header.segment);
    let create = Io::Create { segment, header: bytes.to_vec(), preallocate: 0 };
    storage.apply(&create).expect("create always succeeds");
    for mode in [RecoveryMode::Strict, RecoveryMode::TolerateTornTail, RecoveryMode::Salvage] {
        let Ok(recovery) = recover(&storage, &config, mode, None) else { continue };
        let records = replay(&storage, &config, mode, Lsn::ZERO, Until::End)
            .expect("replay accepts what recovery accepted");
        let n_recovered: u64 = recovery.segments().iter().map(|info| info.n_records).sum();
        assert_eq!(records.len() as u64, n_recovered);
        assert!(records.windows(2).all(|pair| pair[0].lsn < pair[1].lsn));
        if mode != RecoveryMode::Salvage {
            assert_eq!(records.last().map_or(Lsn::ZERO, |r| r.lsn), recovery.last_lsn().max(
                records.first().map_or(Lsn::ZERO, |r| r.lsn),
            ));
            // A file too short or zeroed to hold a header is a creation the crash cut short:
            // recovery removes it, and it holds nothing.
            let n_inspected = inspected.as_ref().map_or(0, |report| report.records.len());
            assert_eq!(records.len(), n_inspected);
        }
    }
});
