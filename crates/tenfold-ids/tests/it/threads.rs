//! Real threads on one shared generator, and on lanes split from one generator.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tenfold_ids::{Clock, Generator, HighWater, Id64, Layout, Lease, ManualClock, Mint, Policy};
use tenfold_ids::{SharedGenerator, Timestamp};

const N_THREADS: usize = 8;
const IDS_PER_THREAD: usize = 100_000;

/// Mints `n` IDs from `generator` at `clock`'s time, acknowledging reservations and skipping
/// answers that ask to wait or refuse (the clock thread keeps moving).
fn mint_many(generator: &SharedGenerator, clock: &ManualClock, n: usize) -> Vec<Id64> {
    let mut ids = Vec::with_capacity(n);
    while ids.len() < n {
        match generator.mint_with(clock) {
            Ok(Mint::Id(id)) => ids.push(id),
            Ok(Mint::Reserve(reservation)) => generator.acknowledge(reservation).unwrap(),
            Ok(Mint::RetryAt(_)) | Err(_) => std::hint::spin_loop(),
        }
    }
    ids
}

#[test]
fn shared_generator_never_repeats_or_decreases() {
    let layout = Layout::twitter();
    let policy = Policy::borrow(Duration::from_millis(20)).and_wait(Duration::from_secs(5));
    let builder = Generator::builder(layout).policy(policy);
    let generator = builder
        .start_shared(Lease::forever(3), HighWater::ZERO)
        .unwrap();
    let clock = ManualClock::new(Timestamp::from_unix_ms(1_700_000_000_000));
    let done = AtomicBool::new(false);

    let per_thread: Vec<Vec<Id64>> = std::thread::scope(|scope| {
        // One thread plays the wall clock: forwards, and now and then a step back.
        scope.spawn(|| {
            let mut tick = 0u64;
            while !done.load(Ordering::Relaxed) {
                tick += 1;
                if tick.is_multiple_of(50) {
                    clock.step_back(Duration::from_millis(30));
                } else {
                    clock.advance(Duration::from_millis(1));
                }
                std::hint::spin_loop();
            }
        });
        let minters: Vec<_> = (0..N_THREADS)
            .map(|_| scope.spawn(|| mint_many(&generator, &clock, IDS_PER_THREAD)))
            .collect();
        let per_thread = minters
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect();
        done.store(true, Ordering::Relaxed);
        per_thread
    });

    for ids in &per_thread {
        assert!(
            ids.windows(2).all(|pair| pair[0] < pair[1]),
            "a thread saw a decrease"
        );
    }
    let mut all: Vec<Id64> = per_thread.into_iter().flatten().collect();
    let n_minted = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), n_minted, "duplicates among {n_minted} ids");
    assert_eq!(n_minted, N_THREADS * IDS_PER_THREAD);
}

#[test]
fn lanes_on_threads_never_collide() {
    let layout = Layout::discord();
    let builder = Generator::builder(layout).policy(Policy::wait(Duration::from_secs(1)));
    let generator = builder.start(Lease::forever(12), HighWater::ZERO).unwrap();
    let lanes = generator.split(N_THREADS).unwrap();
    let clock = ManualClock::new(Timestamp::from_unix_ms(1_700_000_000_000));

    let per_lane: Vec<Vec<Id64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = lanes
            .into_iter()
            .map(|mut lane| {
                let clock = &clock;
                scope.spawn(move || {
                    let mut ids = Vec::with_capacity(IDS_PER_THREAD);
                    while ids.len() < IDS_PER_THREAD {
                        match lane.mint(clock.now()) {
                            Ok(Mint::Id(id)) => ids.push(id),
                            Ok(Mint::Reserve(reservation)) => {
                                lane.acknowledge(reservation).unwrap();
                            }
                            // Each lane moves the shared clock on when its unit is used up.
                            Ok(Mint::RetryAt(at)) => clock.set(at.max(clock.now())),
                            Err(error) => panic!("{error}"),
                        }
                    }
                    ids
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect()
    });

    for ids in &per_lane {
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
    }
    let mut all: Vec<Id64> = per_lane.into_iter().flatten().collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), N_THREADS * IDS_PER_THREAD);
}
