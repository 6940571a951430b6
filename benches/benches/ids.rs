//! Minting and text forms of `tenfold-ids`, side by side with `uuid` (v7), `ulid` and
//! `snowflaked` (a maintained 64-bit snowflake crate) under the `peers` feature.
//!
//! Each group holds one comparison on the same clock, so the ratios hold on a noisy machine:
//!
//! - `ids/logical_clock`: one thread, time handed in by the bench (no clock read), one call
//!   per iteration; `ids/logical_clock_batch` mints 1,024 per iteration, as a host filling a
//!   batch does.
//! - `ids/real_clock`: one thread, the system clock. The 64-bit generators here run into
//!   their layout's cap of 4,096 IDs per millisecond (4.096 M/s); the score is the share of
//!   the cap they reach.
//! - `ids/two_threads`: two threads on one shared generator.
//! - `ids/text`: ULID and UUID text forms, encode then parse.

#![allow(missing_docs, clippy::disallowed_methods, clippy::disallowed_types)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use tenfold_host::{Clock as _, SystemClock};
use tenfold_ids::{Generator, HighWater, Id64, Layout, Lease, Mint, Mint128, Policy};
use tenfold_ids::{SharedGenerator, Timestamp, Ulid, UlidGenerator, Uuid, Uuid7Generator};

/// 2023-11-14, well inside every layout's lifetime.
const T0: u64 = 1_700_000_000_000;

fn twitter_generator(policy: Policy) -> Generator {
    let builder = Generator::builder(Layout::twitter()).policy(policy);
    builder
        .start(Lease::forever(1), HighWater::ZERO)
        .expect("node 1 fits")
}

/// Mints one ID, acknowledging reservations at once and calling again when asked to wait
/// (the clock is read anew by `now` on every call).
#[inline]
fn mint_one(generator: &mut Generator, now: impl Fn() -> Timestamp) -> Id64 {
    loop {
        match generator.mint(now()) {
            Ok(Mint::Id(id)) => return id,
            Ok(Mint::Reserve(reservation)) => generator.acknowledge(reservation).expect("same"),
            Ok(Mint::RetryAt(_)) => std::hint::spin_loop(),
            Err(error) => panic!("{error}"),
        }
    }
}

#[inline]
fn mint_shared(generator: &SharedGenerator, now: impl Fn() -> Timestamp) -> Id64 {
    loop {
        match generator.mint(now()) {
            Ok(Mint::Id(id)) => return id,
            Ok(Mint::Reserve(reservation)) => generator.acknowledge(reservation).expect("same"),
            Ok(Mint::RetryAt(_)) => std::hint::spin_loop(),
            Err(error) => panic!("{error}"),
        }
    }
}

/// A logical clock: 4,096 IDs per millisecond, the most a 12-bit sequence holds, so the
/// generator never has to wait or borrow.
fn logical(n_minted: u64) -> Timestamp {
    Timestamp::from_unix_ms(T0 + (n_minted >> 12))
}

fn system_now(clock: &SystemClock) -> Timestamp {
    Timestamp::from_duration(clock.wall())
}

fn logical_clock(c: &mut Criterion) {
    let mut group = c.benchmark_group("ids/logical_clock");
    group.throughput(Throughput::Elements(1));
    group.bench_function("tenfold_snowflake", |b| {
        let mut generator = twitter_generator(Policy::refuse());
        let mut n_minted = 0u64;
        b.iter(|| {
            n_minted += 1;
            black_box(mint_one(&mut generator, || logical(n_minted)))
        });
    });
    group.bench_function("tenfold_shared_snowflake", |b| {
        let generator = twitter_generator(Policy::refuse()).into_shared();
        let mut n_minted = 0u64;
        b.iter(|| {
            n_minted += 1;
            black_box(mint_shared(&generator, || logical(n_minted)))
        });
    });
    group.bench_function("tenfold_uuid7", |b| {
        let mut generator = Uuid7Generator::new(ChaCha8Rng::seed_from_u64(1));
        let mut n_minted = 0u64;
        b.iter(|| {
            n_minted += 1;
            let Ok(Mint128::Id(uuid)) = generator.mint(logical(n_minted)) else {
                panic!("the logical clock never runs behind");
            };
            black_box(uuid)
        });
    });
    group.bench_function("tenfold_ulid", |b| {
        let mut generator = UlidGenerator::new(ChaCha8Rng::seed_from_u64(1));
        let mut n_minted = 0u64;
        b.iter(|| {
            n_minted += 1;
            let Ok(Mint128::Id(ulid)) = generator.mint(logical(n_minted)) else {
                panic!("the logical clock never runs behind");
            };
            black_box(ulid)
        });
    });
    #[cfg(feature = "peers")]
    peers::logical_clock(&mut group);
    group.finish();
}

/// Minting in a loop of 1,024, as a host filling a batch of rows does: the per-ID figure is
/// throughput rather than the latency of a lone call.
fn logical_clock_batch(c: &mut Criterion) {
    const BATCH: usize = 1024;
    let mut group = c.benchmark_group("ids/logical_clock_batch");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("tenfold_snowflake", |b| {
        let mut generator = twitter_generator(Policy::refuse());
        let mut n_minted = 0u64;
        let mut ids = [Id64::default(); BATCH];
        b.iter(|| {
            for id in &mut ids {
                n_minted += 1;
                *id = mint_one(&mut generator, || logical(n_minted));
            }
            black_box(&ids);
        });
    });
    group.bench_function("tenfold_snowflake_block", |b| {
        let mut generator = twitter_generator(Policy::refuse());
        let mut n_minted = 0u64;
        let mut ids = [Id64::default(); BATCH];
        b.iter(|| {
            let mut n_filled = 0;
            while n_filled < BATCH {
                let now = logical(n_minted);
                match generator.mint_block(now, BATCH - n_filled) {
                    Ok(Mint::Id(block)) => {
                        for id in block {
                            ids[n_filled] = id;
                            n_filled += 1;
                        }
                        n_minted += 4096;
                    }
                    Ok(Mint::Reserve(reservation)) => {
                        generator.acknowledge(reservation).expect("same lease");
                    }
                    other => panic!("{other:?}"),
                }
            }
            black_box(&ids);
        });
    });
    #[cfg(feature = "peers")]
    peers::logical_clock_batch(&mut group, BATCH);
    group.finish();
}

fn real_clock(c: &mut Criterion) {
    let mut group = c.benchmark_group("ids/real_clock");
    group.throughput(Throughput::Elements(1));
    let clock = SystemClock::new();
    group.bench_function("tenfold_snowflake", |b| {
        let mut generator = twitter_generator(Policy::wait(Duration::from_secs(1)));
        b.iter(|| black_box(mint_one(&mut generator, || system_now(&clock))));
    });
    group.bench_function("tenfold_uuid7", |b| {
        let mut generator = Uuid7Generator::new(ChaCha8Rng::seed_from_u64(1));
        b.iter(|| match generator.mint(system_now(&clock)) {
            Ok(Mint128::Id(uuid)) => black_box(uuid),
            other => panic!("{other:?}"),
        });
    });
    group.bench_function("tenfold_ulid", |b| {
        let mut generator = UlidGenerator::new(ChaCha8Rng::seed_from_u64(1));
        b.iter(|| match generator.mint(system_now(&clock)) {
            Ok(Mint128::Id(ulid)) => black_box(ulid),
            other => panic!("{other:?}"),
        });
    });
    #[cfg(feature = "peers")]
    peers::real_clock(&mut group);
    group.finish();
}

/// Times `iters` IDs minted by two threads together, each minting half.
fn on_two_threads(iters: u64, mint: impl Fn(u64) + Sync) -> Duration {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                for n_minted in 0..iters / 2 {
                    mint(n_minted);
                }
            });
        }
    });
    started.elapsed()
}

fn shared_two_threads(c: &mut Criterion) {
    let mut group = c.benchmark_group("ids/two_threads");
    group.throughput(Throughput::Elements(1));
    group.bench_function("tenfold_shared_logical", |b| {
        // Each thread's logical clock runs at half the cap, so together they use all of it.
        // When the scheduler runs one thread alone for a while, the other one's clock falls
        // behind the minted IDs; it borrows to catch up, as a host with a slow clock would.
        let policy = Policy::borrow(Duration::from_secs(3600));
        let generator = twitter_generator(policy).into_shared();
        let mut n_before = 0;
        b.iter_custom(|iters| {
            let elapsed = on_two_threads(iters, |n_minted| {
                let now = logical(n_before + 2 * n_minted);
                black_box(mint_shared(&generator, || now));
            });
            n_before += iters;
            elapsed
        });
    });
    group.bench_function("tenfold_shared_real_clock", |b| {
        let clock = SystemClock::new();
        let policy = Policy::wait(Duration::from_secs(1));
        let generator = twitter_generator(policy).into_shared();
        b.iter_custom(|iters| {
            on_two_threads(iters, |_| {
                black_box(mint_shared(&generator, || system_now(&clock)));
            })
        });
    });
    #[cfg(feature = "peers")]
    peers::two_threads(&mut group);
    group.finish();
}

fn text(c: &mut Criterion) {
    let mut group = c.benchmark_group("ids/text");
    group.throughput(Throughput::Elements(1));
    let ulid: Ulid = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
        .parse()
        .expect("the spec's example");
    let uuid: Uuid = "017f22e2-79b0-7cc3-98c4-dc0c0c07398f"
        .parse()
        .expect("RFC 9562 A.6");
    let id = Id64::from_u64(175_928_847_299_117_063);
    group.bench_function("tenfold_ulid_round_trip", |b| {
        b.iter(|| black_box(black_box(ulid).to_string().parse::<Ulid>()));
    });
    group.bench_function("tenfold_uuid_round_trip", |b| {
        b.iter(|| black_box(black_box(uuid).to_string().parse::<Uuid>()));
    });
    group.bench_function("tenfold_id64_base62_round_trip", |b| {
        b.iter(|| black_box(Id64::parse_base62(&black_box(id).to_base62())));
    });
    #[cfg(feature = "peers")]
    peers::text(&mut group, ulid, uuid);
    group.finish();
}

#[cfg(feature = "peers")]
mod peers {
    use std::hint::black_box;
    use std::time::{Duration, SystemTime};

    use criterion::BenchmarkGroup;
    use criterion::measurement::WallTime;

    use super::{T0, on_two_threads};

    pub(super) fn logical_clock(group: &mut BenchmarkGroup<'_, WallTime>) {
        group.bench_function("uuid_v7", |b| {
            let context = uuid::ContextV7::new();
            let mut n_minted = 0u64;
            b.iter(|| {
                n_minted += 1;
                let ms = T0 + (n_minted >> 12);
                let nanos = (ms % 1000) as u32 * 1_000_000;
                let ts = uuid::Timestamp::from_unix(&context, ms / 1000, nanos);
                black_box(uuid::Uuid::new_v7(ts))
            });
        });
        group.bench_function("ulid", |b| {
            let mut generator = ulid::Generator::new();
            let mut n_minted = 0u64;
            b.iter(|| {
                n_minted += 1;
                let at = SystemTime::UNIX_EPOCH + Duration::from_millis(T0 + (n_minted >> 12));
                black_box(
                    generator
                        .generate_from_datetime(at)
                        .expect("80 bits hold it"),
                )
            });
        });
    }

    pub(super) fn logical_clock_batch(group: &mut BenchmarkGroup<'_, WallTime>, batch: usize) {
        group.bench_function("uuid_v7", |b| {
            let context = uuid::ContextV7::new();
            let mut n_minted = 0u64;
            let mut ids = vec![uuid::Uuid::nil(); batch];
            b.iter(|| {
                for id in &mut ids {
                    n_minted += 1;
                    let ms = T0 + (n_minted >> 12);
                    let nanos = (ms % 1000) as u32 * 1_000_000;
                    *id =
                        uuid::Uuid::new_v7(uuid::Timestamp::from_unix(&context, ms / 1000, nanos));
                }
                black_box(&ids);
            });
        });
        group.bench_function("ulid", |b| {
            let mut generator = ulid::Generator::new();
            let mut n_minted = 0u64;
            let mut ids = vec![ulid::Ulid::nil(); batch];
            b.iter(|| {
                for id in &mut ids {
                    n_minted += 1;
                    let at = SystemTime::UNIX_EPOCH + Duration::from_millis(T0 + (n_minted >> 12));
                    *id = generator
                        .generate_from_datetime(at)
                        .expect("80 bits hold it");
                }
                black_box(&ids);
            });
        });
    }

    pub(super) fn real_clock(group: &mut BenchmarkGroup<'_, WallTime>) {
        group.bench_function("snowflaked", |b| {
            let mut generator = snowflaked::Generator::new(1);
            b.iter(|| black_box(generator.generate::<u64>()));
        });
        group.bench_function("uuid_now_v7", |b| {
            b.iter(|| black_box(uuid::Uuid::now_v7()));
        });
        group.bench_function("ulid", |b| {
            let mut generator = ulid::Generator::new();
            b.iter(|| black_box(generator.generate().expect("80 bits hold it")));
        });
    }

    pub(super) fn two_threads(group: &mut BenchmarkGroup<'_, WallTime>) {
        group.bench_function("snowflaked_sync_real_clock", |b| {
            let generator = snowflaked::sync::Generator::new(1);
            b.iter_custom(|iters| {
                on_two_threads(iters, |_| {
                    black_box(generator.generate::<u64>());
                })
            });
        });
        group.bench_function("uuid_now_v7", |b| {
            b.iter_custom(|iters| {
                on_two_threads(iters, |_| {
                    black_box(uuid::Uuid::now_v7());
                })
            });
        });
    }

    pub(super) fn text(
        group: &mut BenchmarkGroup<'_, WallTime>,
        ulid: tenfold_ids::Ulid,
        uuid: tenfold_ids::Uuid,
    ) {
        let peer_ulid = ulid::Ulid(ulid.to_u128());
        let peer_uuid = uuid::Uuid::from_u128(uuid.to_u128());
        group.bench_function("ulid_round_trip", |b| {
            b.iter(|| black_box(ulid::Ulid::from_string(&black_box(peer_ulid).to_string())));
        });
        group.bench_function("uuid_round_trip", |b| {
            b.iter(|| black_box(uuid::Uuid::parse_str(&black_box(peer_uuid).to_string())));
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = logical_clock, logical_clock_batch, real_clock, shared_two_threads, text
}
criterion_main!(benches);
