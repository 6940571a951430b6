//! `tenfold-wal`: appends encoded in memory, recovery scans, and durable appends from 16
//! writers on real files beside okaywal doing the same work.

#![allow(
    missing_docs,
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::print_stdout
)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tenfold_wal::{Config, Log, MemStorage, RecoveryMode, recover};

/// Records appended between two flushes: one group commit.
const BATCH: usize = 1024;

/// `append` for a batch, then `poll_flush` to encode it: everything but the disk.
fn append(c: &mut Criterion) {
    let mut group = c.benchmark_group("wal/append");
    for size in [128usize, 4096] {
        let payload = vec![0x5A; size];
        let mut log = Log::new(Config::default(), 1);
        group.throughput(Throughput::Elements(BATCH as u64));
        group.bench_with_input(BenchmarkId::new("records", size), &payload, |b, payload| {
            b.iter(|| {
                for n in 0..BATCH as u64 {
                    black_box(log.append(n, payload).expect("payload under the maximum"));
                }
                black_box(log.poll_flush())
            });
        });
    }
    group.finish();
}

/// Recovery of 64 MiB of segments: every record checked, nothing written.
fn recovery_scan(c: &mut Criterion) {
    let mut group = c.benchmark_group("wal/recovery_scan");
    group.sample_size(20);
    for size in [128usize, 4096] {
        let config = Config::default().segment_size(16 << 20).preallocate(false);
        let mut log = Log::new(config, 2);
        let mut storage = MemStorage::new();
        let payload = vec![0xA5; size];
        let n_records = (64 << 20) / tenfold_wal::framed_len(size);
        for chunk in 0..n_records.div_ceil(BATCH) {
            for n in 0..BATCH.min(n_records - chunk * BATCH) {
                log.append(n as u64, &payload)
                    .expect("payload under the maximum");
            }
            let flush = log.poll_flush().expect("a batch to flush");
            for io in &flush.ops {
                storage.apply(io).expect("segments exist in order");
            }
        }
        let n_bytes = (n_records * tenfold_wal::framed_len(size)) as u64;
        group.throughput(Throughput::Bytes(n_bytes));
        group.bench_function(BenchmarkId::new("bytes", size), |b| {
            b.iter(|| recover(&storage, &config, RecoveryMode::Strict, None).expect("intact"));
        });
    }
    group.finish();
}

#[cfg(feature = "peers")]
mod durable {
    use std::sync::Arc;

    use criterion::{Criterion, Throughput};
    use okaywal::{Entry, EntryId, LogManager, SegmentReader, WriteAheadLog};
    use tenfold_host::wal::{SharedWal, WalDir};
    use tenfold_wal::{Config, Log};

    const WRITERS: usize = 16;
    const PER_WRITER: usize = 32;

    /// okaywal needs a manager; the bench keeps nothing, as the tenfold side keeps nothing.
    #[derive(Debug)]
    struct Discard;

    impl LogManager for Discard {
        fn recover(&mut self, _entry: &mut Entry<'_>) -> std::io::Result<()> {
            Ok(())
        }

        fn checkpoint_to(
            &mut self,
            _last_checkpointed_id: EntryId,
            _checkpointed_entries: &mut SegmentReader,
            _wal: &WriteAheadLog,
        ) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// 16 threads, each appending 32 records of 128 B and waiting for each to be durable.
    pub(super) fn sixteen_writers(c: &mut Criterion) {
        let mut group = c.benchmark_group("wal/durable_16_writers_128B");
        group.sample_size(10);
        group.throughput(Throughput::Elements((WRITERS * PER_WRITER) as u64));
        let payload = [0x33u8; 128];

        let scratch = tempfile::tempdir().expect("a temporary directory");
        let dir = WalDir::open(scratch.path().join("tenfold")).expect("open segments");
        let wal = Arc::new(SharedWal::new(Log::new(Config::default(), 3), dir));
        group.bench_function("tenfold-wal", |b| {
            b.iter(|| {
                run_writers(|| {
                    wal.append(1, &payload).expect("durable append");
                });
            });
        });

        let okay =
            WriteAheadLog::recover(scratch.path().join("okaywal"), Discard).expect("open okaywal");
        group.bench_function("okaywal", |b| {
            b.iter(|| {
                run_writers(|| {
                    let mut entry = okay.begin_entry().expect("begin entry");
                    entry.write_chunk(&payload).expect("write chunk");
                    entry.commit().expect("commit");
                });
            });
        });
        group.finish();
        latency_report(&wal, scratch.path());
    }

    /// Commit latency under 16 writers beside the latency of one append and `fdatasync` on
    /// its own, as percentiles (criterion reports means). Printed, not asserted.
    fn latency_report(wal: &SharedWal, dir: &std::path::Path) {
        use std::time::Instant;

        let payload = [0x44u8; 128];
        let commits = parking_lot::Mutex::new(Vec::new());
        run_writers(|| {
            let started = Instant::now();
            wal.append(2, &payload).expect("durable append");
            commits.lock().push(started.elapsed());
        });
        let scratch = tenfold_host::Dir::open(dir.join("fsync")).expect("open a directory");
        let mut file = scratch.create("probe").expect("create a probe file");
        let mut syncs = Vec::new();
        for _ in 0..WRITERS * PER_WRITER / 4 {
            let started = Instant::now();
            file.append(&payload).expect("append");
            file.sync_data().expect("fdatasync");
            syncs.push(started.elapsed());
        }
        let p = |samples: &mut Vec<std::time::Duration>, q: f64| {
            samples.sort_unstable();
            samples[((samples.len() - 1) as f64 * q) as usize]
        };
        let mut commits = commits.into_inner();
        let (commit_p50, commit_p99) = (p(&mut commits, 0.5), p(&mut commits, 0.99));
        let (sync_p50, sync_p99) = (p(&mut syncs, 0.5), p(&mut syncs, 0.99));
        println!(
            "wal/durable_16_writers_128B/latency: commit p50 {commit_p50:?} p99 {commit_p99:?}; \
             fdatasync alone p50 {sync_p50:?} p99 {sync_p99:?}; p99 ratio {:.2}",
            commit_p99.as_secs_f64() / sync_p99.as_secs_f64()
        );
    }

    fn run_writers(append: impl Fn() + Sync) {
        std::thread::scope(|scope| {
            for _ in 0..WRITERS {
                scope.spawn(|| {
                    for _ in 0..PER_WRITER {
                        append();
                    }
                });
            }
        });
    }
}

#[cfg(feature = "peers")]
criterion_group!(benches, append, recovery_scan, durable::sixteen_writers);
#[cfg(not(feature = "peers"))]
criterion_group!(benches, append, recovery_scan);
criterion_main!(benches);
