//! The naive register must be caught losing an acknowledged write; the correct one must not be.

use tenfold_sim::Seeds;
use tenfold_sim::register::{Mode, Workload};

/// How many writes each seed's workload makes.
const N_WRITES: u64 = 40;

#[test]
fn the_naive_register_is_caught_within_a_few_seeds() {
    let caught = (0..BOUND).find_map(|seed| {
        let workload = Workload::random(seed, 3, N_WRITES);
        workload.run(Workload::config(seed, 3), Mode::Naive).err()
    });
    let failure = caught.expect("the naive register survived every seed");
    assert!(failure.seed() < BOUND);
    assert_eq!(failure.invariant(), "acknowledged writes are never lost");
    assert!(
        failure
            .message()
            .contains("was acknowledged before it began")
    );
    assert!(!failure.last_events().is_empty());
}

#[test]
fn the_naive_register_is_caught_often() {
    let n_caught = (0..200)
        .filter(|&seed| {
            let workload = Workload::random(seed, 3, N_WRITES);
            workload
                .run(Workload::config(seed, 3), Mode::Naive)
                .is_err()
        })
        .count();
    assert!(n_caught >= 20, "caught on only {n_caught} of 200 seeds");
}

#[test]
fn the_quorum_register_survives_every_seed() {
    let seeds = Seeds::from_env(DEFAULT_SEEDS).unwrap_or_else(|error| panic!("{error}"));
    let mut n_acked = 0;
    seeds.check(|seed| {
        let workload = Workload::random(seed, 3, N_WRITES);
        let outcome = workload.run(Workload::config(seed, 3), Mode::Quorum)?;
        n_acked += outcome.acked;
        Ok(())
    });
    // A run with no faults acknowledges every write; faults take some, but never most.
    assert!(
        n_acked > seeds.count() * N_WRITES / 4,
        "{n_acked} acknowledged"
    );
}

/// The naive register must be caught within this many seeds.
const BOUND: u64 = 20;

/// Seeds the correct register runs in `cargo test` (about 10 s in debug); run the full soak with
/// `SIM_SEEDS=10000 cargo test --release -p tenfold-sim --test it quorum`.
const DEFAULT_SEEDS: u64 = 2_000;
