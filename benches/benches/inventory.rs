//! `tenfold-inventory`: reserve/confirm/release on one hot item, beside a `Mutex<HashMap>`
//! ledger; admission rate checks, beside `governor` (with `--features peers`); and the whole
//! 500,000-buyer flash sale on the real arrival data.

#![allow(missing_docs, clippy::disallowed_methods, clippy::disallowed_types)]

use std::collections::HashMap;
use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tenfold_inventory::simulation::{self, MemoryJournal, SaleConfig};
use tenfold_inventory::{
    Admission, AdmissionConfig, ConcurrentLedger, Config, Gcra, ItemId, Ledger, Line, Outcome,
    Rate, Reply, Request, RequestKey, ReservationId, UserId,
};

const ITEM: ItemId = ItemId(1);
const LINE: [Line; 1] = [Line {
    item: ITEM,
    units: 1,
}];
/// Buyers per batch: each reserves, then confirms (three in four) or releases.
const BUYERS: usize = 4_096;
const NOW: Duration = Duration::from_secs(1);

fn key(buyer: usize, kind: u128) -> RequestKey {
    RequestKey((buyer as u128) << 2 | kind)
}

/// The reserve batch and the settle batch for `BUYERS` buyers; reservation `n` is the n-th
/// reserve's, as a fresh ledger numbers them.
fn settles(reservation_of: impl Fn(usize) -> ReservationId) -> Vec<Request<'static>> {
    (0..BUYERS)
        .map(|buyer| {
            let reservation = reservation_of(buyer);
            match buyer % 4 {
                3 => Request::Release {
                    key: key(buyer, 1),
                    reservation,
                },
                _ => Request::Confirm {
                    key: key(buyer, 1),
                    reservation,
                },
            }
        })
        .collect()
}

fn reserves() -> Vec<Request<'static>> {
    (0..BUYERS)
        .map(|buyer| Request::Reserve {
            key: key(buyer, 0),
            lines: &LINE,
        })
        .collect()
}

/// The naive ledger: one mutex over a map of request keys, a map of holds and the counts, with
/// the standard library's hasher, and the same room made up front as the ledgers get.
#[derive(Default)]
struct MutexLedger {
    inner: Mutex<MutexBooks>,
}

#[derive(Default)]
struct MutexBooks {
    available: u64,
    reserved: u64,
    sold: u64,
    next: u64,
    holds: HashMap<u64, u32>,
    keys: HashMap<u128, Outcome>,
}

impl MutexLedger {
    fn reserve(&self, key: RequestKey) -> Outcome {
        let mut books = self.inner.lock().expect("not poisoned");
        if let Some(outcome) = books.keys.get(&key.0) {
            return *outcome;
        }
        let outcome = if books.available == 0 {
            Outcome::Refused(tenfold_inventory::Refusal::OutOfStock { item: ITEM })
        } else {
            books.available -= 1;
            books.reserved += 1;
            let id = books.next;
            books.next += 1;
            books.holds.insert(id, 1);
            Outcome::Reserved {
                reservation: ReservationId(id),
                expires_at: NOW,
            }
        };
        books.keys.insert(key.0, outcome);
        outcome
    }

    fn settle(&self, key: RequestKey, reservation: ReservationId, confirm: bool) -> Outcome {
        let mut books = self.inner.lock().expect("not poisoned");
        if let Some(outcome) = books.keys.get(&key.0) {
            return *outcome;
        }
        let outcome = match books.holds.remove(&reservation.0) {
            Some(units) => {
                books.reserved -= u64::from(units);
                match confirm {
                    true => books.sold += u64::from(units),
                    false => books.available += u64::from(units),
                }
                Outcome::Confirmed { reservation }
            }
            None => Outcome::Refused(tenfold_inventory::Refusal::UnknownReservation),
        };
        books.keys.insert(key.0, outcome);
        outcome
    }

    fn run(&self, requests: &[Request<'_>]) {
        for request in requests {
            let outcome = match *request {
                Request::Reserve { key, .. } => self.reserve(key),
                Request::Confirm { key, reservation } => self.settle(key, reservation, true),
                Request::Release { key, reservation } => self.settle(key, reservation, false),
            };
            black_box(outcome);
        }
    }
}

/// Every request once, then every request again as a retry that must hit its key.
fn with_retries(requests: &[Request<'static>]) -> Vec<Request<'static>> {
    requests.iter().chain(requests).copied().collect()
}

fn hot_item(c: &mut Criterion) {
    let reserves = reserves();
    let ledger_settles = settles(|buyer| ReservationId(buyer as u64));
    let shards = 8;
    let mut group = c.benchmark_group("inventory/hot_item");
    for (name, retries) in [("once", false), ("with_retries", true)] {
        let (reserves, settles) = match retries {
            true => (with_retries(&reserves), with_retries(&ledger_settles)),
            false => (reserves.clone(), ledger_settles.clone()),
        };
        group.throughput(Throughput::Elements(
            (reserves.len() + settles.len()) as u64,
        ));
        group.bench_function(format!("ledger_batched/{name}"), |b| {
            let mut replies: Vec<Reply> = Vec::with_capacity(2 * reserves.len());
            b.iter_custom(|n_iterations| {
                timed(n_iterations, stocked_ledger, |ledger| {
                    replies.clear();
                    ledger.submit(&reserves, NOW, &mut replies);
                    ledger.submit(&settles, NOW, &mut replies);
                    black_box(&replies);
                })
            });
        });
        group.bench_function(format!("concurrent_batched_{shards}_shards/{name}"), |b| {
            let mut replies: Vec<Reply> = Vec::with_capacity(2 * reserves.len());
            b.iter_custom(|n_iterations| {
                timed(
                    n_iterations,
                    || stocked_concurrent(shards),
                    |ledger| {
                        replies.clear();
                        ledger.submit(&reserves, NOW, &mut replies);
                        let settles = settles_for(&replies[..BUYERS], retries);
                        replies.clear();
                        ledger.submit(&settles, NOW, &mut replies);
                        black_box(&replies);
                    },
                )
            });
        });
        group.bench_function(format!("mutex_hashmap/{name}"), |b| {
            b.iter_custom(|n_iterations| {
                let setup = || {
                    let books = MutexBooks {
                        available: BUYERS as u64,
                        holds: HashMap::with_capacity(BUYERS),
                        keys: HashMap::with_capacity(2 * BUYERS),
                        ..MutexBooks::default()
                    };
                    MutexLedger {
                        inner: Mutex::new(books),
                    }
                };
                timed(n_iterations, setup, |ledger| {
                    ledger.run(&reserves);
                    ledger.run(&settles);
                })
            });
        });
    }
    group.finish();
}

/// Times `routine` on `n_iterations` fresh inputs; building and dropping them is not timed.
fn timed<T>(n_iterations: u64, setup: impl Fn() -> T, mut routine: impl FnMut(&mut T)) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..n_iterations {
        let mut input = setup();
        let started = Instant::now();
        routine(&mut input);
        total += started.elapsed();
        drop(input);
    }
    total
}

fn stocked_ledger() -> Ledger {
    let config = Config::new()
        .hold_for(Duration::from_secs(60))
        .capacity(BUYERS);
    let mut ledger = Ledger::new(config);
    ledger.stock(ITEM, BUYERS as u64, Duration::ZERO);
    ledger
}

fn stocked_concurrent(shards: usize) -> ConcurrentLedger {
    let ledger = ConcurrentLedger::new(Config::new().shards(shards).capacity(BUYERS));
    ledger.stock(ITEM, BUYERS as u64, Duration::ZERO);
    ledger
}

/// The settle batch for the reservations a concurrent ledger handed out (its numbers depend on
/// the shard each key hashes to). Building it is part of the measured work, as in a service.
fn settles_for(replies: &[Reply], retries: bool) -> Vec<Request<'static>> {
    let reservation_of = |buyer: usize| match replies[buyer].outcome {
        Outcome::Reserved { reservation, .. } => reservation,
        _ => ReservationId(u64::MAX),
    };
    let settles = settles(reservation_of);
    match retries {
        true => with_retries(&settles),
        false => settles,
    }
}

fn admission(c: &mut Criterion) {
    const USERS: u64 = 10_000;
    let rate = Rate::per_second(10).expect("non-zero").burst(5);
    let mut group = c.benchmark_group("inventory/admission");
    group.throughput(Throughput::Elements(USERS));
    group.bench_function("gcra_direct", |b| {
        let mut gcra = Gcra::new(rate);
        let mut now = Duration::ZERO;
        b.iter(|| {
            for _ in 0..USERS {
                now += Duration::from_micros(50);
                black_box(gcra.check(now).is_ok());
            }
        });
    });
    group.bench_function("admission_join_keyed", |b| {
        let checkout = Rate::per_second(1_000).expect("non-zero");
        let mut admission = Admission::new(AdmissionConfig::new(rate, checkout), 0);
        let mut now = Duration::ZERO;
        b.iter(|| {
            now += Duration::from_millis(1);
            for user in 0..USERS {
                black_box(admission.join(UserId(user), 1, now));
            }
        });
    });
    #[cfg(feature = "peers")]
    governor_peers(&mut group, USERS);
    group.finish();
}

#[cfg(feature = "peers")]
fn governor_peers(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    users: u64,
) {
    use std::num::NonZeroU32;

    use governor::{Quota, RateLimiter};

    let per_second = NonZeroU32::new(10).expect("non-zero");
    let burst = NonZeroU32::new(5).expect("non-zero");
    let quota = Quota::per_second(per_second).allow_burst(burst);
    group.bench_function("governor_direct", |b| {
        let limiter = RateLimiter::direct(quota);
        b.iter(|| {
            for _ in 0..users {
                black_box(limiter.check().is_ok());
            }
        });
    });
    group.bench_function("governor_keyed", |b| {
        let limiter = RateLimiter::keyed(quota);
        b.iter(|| {
            for user in 0..users {
                black_box(limiter.check_key(&user).is_ok());
            }
        });
    });
}

fn flash_sale(c: &mut Criterion) {
    let shape = higgs_burst();
    let mut group = c.benchmark_group("inventory/flash_sale");
    group.sample_size(10);
    group.throughput(Throughput::Elements(500_000));
    group.bench_function("500k_buyers_10k_units", |b| {
        b.iter(|| {
            let config = SaleConfig::new(500_000, 10_000);
            let report = simulation::run(config, &shape, &mut MemoryJournal::default());
            let report = report.expect("an in-memory journal cannot fail");
            assert_eq!((report.sold, report.oversold), (10_000, 0));
            black_box(report)
        });
    });
    group.finish();
}

/// The two hours of the Higgs announcement burst, per second, as the `flash_sale` example
/// takes them.
fn higgs_burst() -> Vec<u32> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/social/higgs-activity-per-second.txt.gz"
    );
    let file = std::fs::File::open(path).expect("the arrival data is in data/");
    let per_second: Vec<u32> = BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .map(|line| line.expect("readable"))
        .filter(|line| !line.starts_with('#'))
        .map(|line| line.parse().expect("a count per line"))
        .collect();
    simulation::busiest_window(&per_second).to_vec()
}

criterion_group!(benches, hot_item, admission, flash_sale);
criterion_main!(benches);
