//! Integration tests for `tenfold-wal`: the format, recovery under every kind of damage, and
//! replay.

mod crash;
mod format;
mod props;
mod replay;
mod replication;
mod sim;

use tenfold_wal::{Config, Flush, Io, Log, Lsn, MemStorage, Record, RecoveryMode, Until};

/// A log with its in-memory storage and a record of everything appended.
struct Harness {
    config: Config,
    log: Log,
    storage: MemStorage,
    appended: Vec<Record>,
}

impl Harness {
    fn new(config: Config) -> Self {
        Self {
            config,
            log: Log::new(config, 7),
            storage: MemStorage::new(),
            appended: Vec::new(),
        }
    }

    /// Appends `n` records of `len` bytes each, with distinct contents and timestamps.
    fn append(&mut self, n: usize, len: usize) {
        for _ in 0..n {
            let idx = self.appended.len() as u64;
            let timestamp = 1_000 + idx * 10;
            let payload: Vec<u8> = (0..len).map(|i| (idx as usize * 31 + i) as u8).collect();
            let lsn = self.log.append(timestamp, &payload).unwrap();
            self.appended.push(Record {
                lsn,
                timestamp,
                payload,
            });
        }
    }

    /// Takes the next flush without performing it.
    fn take_flush(&mut self) -> Flush {
        self.log.poll_flush().expect("something to flush")
    }

    /// Performs a flush and acknowledges it.
    fn perform(&mut self, flush: &Flush) {
        for io in &flush.ops {
            self.storage.apply(io).unwrap();
        }
        self.log.handle_flushed(flush.through);
    }

    /// Appends `n` records of `len` bytes and makes them durable.
    fn commit(&mut self, n: usize, len: usize) {
        self.append(n, len);
        let flush = self.take_flush();
        self.perform(&flush);
    }

    /// The records up to `last`, as appended.
    fn expected(&self, last: Lsn) -> Vec<Record> {
        self.appended
            .iter()
            .filter(|r| r.lsn <= last)
            .cloned()
            .collect()
    }

    /// Replays `storage` whole in `mode`.
    fn replay(&self, storage: &MemStorage, mode: RecoveryMode) -> Vec<Record> {
        tenfold_wal::replay(storage, &self.config, mode, Lsn::ZERO, Until::End).unwrap()
    }
}

/// The writes of a flush, as (segment, offset, bytes).
fn writes(flush: &Flush) -> Vec<(u64, u64, Vec<u8>)> {
    flush
        .ops
        .iter()
        .filter_map(|io| match io {
            Io::Write {
                segment,
                offset,
                bytes,
            } => Some((*segment, *offset, bytes.clone())),
            _ => None,
        })
        .collect()
}
