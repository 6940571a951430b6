//! What a durable append costs on this machine: the floor under every WAL and store figure.

#![allow(missing_docs, clippy::disallowed_methods, clippy::disallowed_types)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tenfold_host::Dir;

fn append(c: &mut Criterion) {
    let scratch = tempfile::tempdir().expect("a temporary directory for the bench");
    let dir = Dir::open(scratch.path()).expect("open the bench directory");
    let mut group = c.benchmark_group("host/append");
    for size in [64usize, 4096] {
        let payload = vec![0xA5; size];
        group.throughput(Throughput::Bytes(size as u64));
        let mut file = dir
            .create(&format!("append-{size}"))
            .expect("create a bench file");
        group.bench_with_input(BenchmarkId::new("no_sync", size), &payload, |b, payload| {
            b.iter(|| file.append(payload).expect("append"));
        });
        let mut file = dir
            .create(&format!("synced-{size}"))
            .expect("create a bench file");
        group.bench_with_input(
            BenchmarkId::new("fdatasync", size),
            &payload,
            |b, payload| {
                b.iter(|| {
                    file.append(payload).expect("append");
                    file.sync_data().expect("fdatasync");
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, append);
criterion_main!(benches);
