//! A log written from fuzzer-chosen records, then damaged at fuzzer-chosen places: recovery
//! and replay must never panic, and never return a record that differs from what was
//! appended at its LSN.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tenfold_wal::{Config, Log, Lsn, MemStorage, RecoveryMode, Storage, Until, recover, replay};

fuzz_target!(|data: &[u8]| {
    let Some((&n_records, rest)) = data.split_first() else { return };
    let n_records = usize::from(n_records % 48) + 1;
    let (lengths, damage) = rest.split_at(rest.len().min(n_records));
    let config = Config::default().segment_size(512).preallocate(false).max_record_len(1024);
    let mut log = Log::new(config, 11);
    let mut storage = MemStorage::new();
    let mut appended = Vec::new();
    for (idx, &len) in lengths.iter().enumerate() {
        let payload: Vec<u8> = (0..usize::from(len) * 3).map(|i| (i + idx) as u8).collect();
        appended.push(payload.clone());
        log.append(idx as u64, &payload).expect("payload under the maximum");
        // Every third record ends a batch.
        if idx % 3 == 2 || idx + 1 == lengths.len() {
            let flush = log.poll_flush().expect("records to flush");
            for io in &flush.ops {
                storage.apply(io).expect("segments exist in order");
            }
            log.handle_flushed(flush.through);
        }
    }

    // Each 4 bytes of damage: segment, offset (2 bytes), and what to do there.
    let segments = storage.segments().expect("in memory");
    for chunk in damage.chunks_exact(4) {
        let segment = segments[usize::from(chunk[0]) % segments.len()];
        let Some(bytes) = storage.segment_mut(segment) else { continue };
        if bytes.is_empty() {
            continue;
        }
        let at = usize::from(u16::from_le_bytes([chunk[1], chunk[2]])) % bytes.len();
        match chunk[3] % 3 {
            0 => bytes[at] ^= 1 << (chunk[3] % 8),
            1 => bytes.truncate(at),
            _ => bytes[at..].iter_mut().take(usize::from(chunk[3])).for_each(|b| *b = 0),
        }
    }

    for mode in [RecoveryMode::Strict, RecoveryMode::TolerateTornTail, RecoveryMode::Salvage] {
        let _ = recover(&storage, &config, mode, None);
        let Ok(records) = replay(&storage, &config, mode, Lsn::ZERO, Until::End) else { continue };
        for record in records {
            let idx = record.lsn.get() as usize - 1;
            assert_eq!(Some(&record.payload), appended.get(idx), "lsn {} came back changed", record.lsn);
        }
    }
});
