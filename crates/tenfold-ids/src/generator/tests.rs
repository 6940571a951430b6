use std::time::Duration;

use super::{Generator, HighWater, Lease, Mint, MintError, StartError};
use crate::{Id64, Layout, Policy, Timestamp};

const T0: u64 = 1_700_000_000_000;

fn at(ms: u64) -> Timestamp {
    Timestamp::from_unix_ms(ms)
}

fn start(policy: Policy, lease: Lease, high_water: HighWater) -> Generator {
    let builder = Generator::builder(Layout::twitter()).policy(policy);
    builder.start(lease, high_water).unwrap()
}

/// Mints up to `n` IDs at `now`, acknowledging every reservation, and returns them with the
/// answer that stopped it early, if any.
fn mint_n(
    generator: &mut Generator,
    now: Timestamp,
    n: usize,
) -> (Vec<Id64>, Option<Result<Mint, MintError>>) {
    let mut ids = Vec::new();
    while ids.len() < n {
        match generator.mint(now) {
            Ok(Mint::Id(id)) => ids.push(id),
            Ok(Mint::Reserve(reservation)) => generator.acknowledge(reservation).unwrap(),
            other => return (ids, Some(other)),
        }
    }
    (ids, None)
}

fn time_of(id: Id64) -> u64 {
    Layout::twitter().decompose(id).unwrap().timestamp.unix_ms()
}

#[test]
fn reserves_before_the_first_id() {
    let mut generator = start(
        Policy::refuse(),
        Lease::new(3, 9, Timestamp::MAX),
        HighWater::ZERO,
    );
    let Ok(Mint::Reserve(reservation)) = generator.mint(at(T0)) else {
        panic!("the first answer is a reservation");
    };
    let cur = T0 - Layout::twitter().epoch().unix_ms();
    assert_eq!((reservation.node(), reservation.epoch()), (3, 9));
    assert_eq!(reservation.up_to(), HighWater::from_u64(cur + 1000));
    assert!(matches!(generator.mint(at(T0)), Ok(Mint::Reserve(_))));
    generator.acknowledge(reservation).unwrap();
    assert_eq!(generator.high_water(), reservation.up_to());
    let Ok(Mint::Id(id)) = generator.mint(at(T0)) else {
        panic!("an id once acknowledged");
    };
    assert_eq!(time_of(id), T0);
    // The next reservation comes when minting reaches the mark.
    let (_, stop) = mint_n(&mut generator, at(T0 + 999), 1);
    assert_eq!(stop, None);
    assert!(matches!(
        generator.mint(at(T0 + 1000)),
        Ok(Mint::Reserve(_))
    ));
    assert_eq!(generator.stats().reservations, 3);
}

#[test]
fn exhausted_sequence_follows_the_policy() {
    let lease = Lease::forever(1);
    let mut refuse = start(Policy::refuse(), lease, HighWater::ZERO);
    let (ids, stop) = mint_n(&mut refuse, at(T0), 5000);
    assert_eq!(ids.len(), 4096);
    assert_eq!(stop, Some(Err(MintError::SequenceExhausted)));

    let mut wait = start(
        Policy::wait(Duration::from_millis(1)),
        lease,
        HighWater::ZERO,
    );
    let (ids, stop) = mint_n(&mut wait, at(T0), 5000);
    assert_eq!(ids.len(), 4096);
    assert_eq!(stop, Some(Ok(Mint::RetryAt(at(T0 + 1)))));
    let (more, _) = mint_n(&mut wait, at(T0 + 1), 1);
    assert_eq!(time_of(more[0]), T0 + 1);

    let mut borrow = start(
        Policy::borrow(Duration::from_millis(2)),
        lease,
        HighWater::ZERO,
    );
    let (ids, stop) = mint_n(&mut borrow, at(T0), 20_000);
    assert_eq!(ids.len(), 3 * 4096);
    assert_eq!(time_of(ids[3 * 4096 - 1]), T0 + 2);
    assert!(matches!(stop, Some(Err(MintError::ClockBehind { .. }))));
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
}

#[test]
fn clock_stepping_back_follows_the_policy() {
    let lease = Lease::forever(1);
    let step_back = at(T0 - 1000);
    let mut refuse = start(Policy::refuse(), lease, HighWater::ZERO);
    let (ids, _) = mint_n(&mut refuse, at(T0), 10);
    let by = Duration::from_secs(1);
    assert_eq!(refuse.mint(step_back), Err(MintError::ClockBehind { by }));

    let mut wait = start(Policy::wait(Duration::from_secs(2)), lease, HighWater::ZERO);
    let _ = mint_n(&mut wait, at(T0), 10);
    assert_eq!(wait.mint(step_back), Ok(Mint::RetryAt(at(T0))));
    assert_eq!(wait.stats().retries, 1);

    let mut borrow = start(
        Policy::borrow(Duration::from_secs(1)),
        lease,
        HighWater::ZERO,
    );
    let (before, _) = mint_n(&mut borrow, at(T0), 10);
    let (after, _) = mint_n(&mut borrow, step_back, 10);
    assert!(before[9] < after[0]);
    assert_eq!(time_of(after[0]), T0, "it keeps minting at the last time");
    assert_eq!(ids.len(), 10);
}

#[test]
fn restart_starts_above_the_stored_mark() {
    // The first life borrows ahead of its clock, then dies.
    let lease = Lease::forever(1);
    let mut first = start(
        Policy::borrow(Duration::from_millis(50)),
        lease,
        HighWater::ZERO,
    );
    let mut stored = HighWater::ZERO;
    let mut minted = Vec::new();
    while minted.len() < 100_000 {
        match first.mint(at(T0)) {
            Ok(Mint::Id(id)) => minted.push(id),
            Ok(Mint::Reserve(reservation)) => {
                stored = stored.max(reservation.up_to());
                first.acknowledge(reservation).unwrap();
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let last = minted[minted.len() - 1];
    assert!(time_of(last) > T0 + 20, "it borrowed ahead");

    // The second life starts with a clock that went back an hour while it was down.
    let policy = Policy::borrow(Duration::from_secs(7200));
    let mut second = start(policy, lease, stored);
    let (ids, stop) = mint_n(&mut second, at(T0 - 3_600_000), 1000);
    assert_eq!(stop, None);
    assert!(ids[0] > last);

    // With a policy that refuses, it says how far behind the clock is.
    let mut refusing = start(Policy::refuse(), lease, stored);
    let answer = refusing.mint(at(T0));
    assert!(
        matches!(answer, Err(MintError::ClockBehind { by }) if by >= Duration::from_millis(20))
    );
}

#[test]
fn lease_expiry_stops_minting() {
    let lease = Lease::new(5, 2, at(T0 + 10));
    let mut generator = start(Policy::refuse(), lease, HighWater::ZERO);
    let (ids, _) = mint_n(&mut generator, at(T0 + 9), 3);
    assert_eq!(ids.len(), 3);
    let expired = Err(MintError::LeaseExpired { at: at(T0 + 10) });
    assert_eq!(generator.mint(at(T0 + 10)), expired);
    assert!(generator.renew(Lease::new(5, 3, at(T0 + 20))).is_err());
    assert!(generator.renew(Lease::new(6, 2, at(T0 + 20))).is_err());
    generator.renew(Lease::new(5, 2, at(T0 + 20))).unwrap();
    let (more, _) = mint_n(&mut generator, at(T0 + 10), 1);
    assert!(more[0] > ids[2]);
    assert_eq!(
        generator.mint(at(T0 + 25)),
        Err(MintError::LeaseExpired { at: at(T0 + 20) })
    );
    generator.end_lease();
    assert_eq!(
        generator.mint(at(T0 + 11)),
        Err(MintError::LeaseExpired { at: at(0) })
    );
    generator.renew(Lease::new(5, 2, at(T0 + 20))).unwrap();
    let message = generator.renew(Lease::forever(5)).unwrap_err().to_string();
    assert_eq!(
        message,
        "lease for node 5 epoch 0 handed to the generator of node 5 epoch 2"
    );
}

#[test]
fn stale_reservations_are_refused() {
    let mut old = start(
        Policy::refuse(),
        Lease::new(5, 1, Timestamp::MAX),
        HighWater::ZERO,
    );
    let new = start(
        Policy::refuse(),
        Lease::new(5, 2, Timestamp::MAX),
        HighWater::ZERO,
    );
    let Ok(Mint::Reserve(reservation)) = old.mint(at(T0)) else {
        panic!("a reservation first");
    };
    let mut new = new;
    assert!(new.acknowledge(reservation).is_err());
    assert!(matches!(new.mint(at(T0)), Ok(Mint::Reserve(_))));
    old.acknowledge(reservation).unwrap();
}

#[test]
fn start_checks_node_and_mark() {
    let builder = Generator::builder(Layout::twitter());
    let node = builder.start(Lease::forever(1024), HighWater::ZERO);
    assert_eq!(
        node.unwrap_err(),
        StartError::Node {
            node: 1024,
            max: 1023
        }
    );
    let mark = builder.start(Lease::forever(1), HighWater::from_u64((1 << 41) + 1));
    assert_eq!(mark.unwrap_err(), StartError::HighWater);
}

#[test]
fn time_field_runs_out() {
    let layout = Layout::builder()
        .time_bits(4)
        .node_bits(0)
        .sequence_bits(1)
        .build()
        .unwrap();
    let builder = Generator::builder(layout).policy(Policy::borrow(Duration::from_secs(1)));
    let mut generator = builder.start(Lease::forever(0), HighWater::ZERO).unwrap();
    let mut ids = Vec::new();
    let stop = loop {
        match generator.mint(at(3)) {
            Ok(Mint::Id(id)) => ids.push(id.to_u64()),
            Ok(Mint::Reserve(reservation)) => generator.acknowledge(reservation).unwrap(),
            other => break other,
        }
    };
    assert_eq!(stop, Err(MintError::TimeExhausted));
    assert_eq!(ids, (6..32).collect::<Vec<_>>());
    assert_eq!(generator.mint(at(40)), Err(MintError::TimeExhausted));
}

#[test]
fn before_epoch_is_refused() {
    let mut generator = start(Policy::refuse(), Lease::forever(0), HighWater::ZERO);
    assert_eq!(generator.mint(at(1000)), Err(MintError::BeforeEpoch));
}

#[test]
fn lanes_own_disjoint_sequences() {
    let generator = start(
        Policy::wait(Duration::from_secs(1)),
        Lease::forever(9),
        HighWater::ZERO,
    );
    let mut lanes = generator.split(3).unwrap();
    assert_eq!(lanes.len(), 3);
    let mut all = Vec::new();
    for (lane_idx, lane) in lanes.iter_mut().enumerate() {
        let (ids, stop) = mint_n(lane, at(T0), 2000);
        assert_eq!(ids.len(), 1024, "a quarter of the sequence per lane");
        assert_eq!(stop, Some(Ok(Mint::RetryAt(at(T0 + 1)))));
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
        let sequence = Layout::twitter().decompose(ids[0]).unwrap().sequence;
        assert_eq!(sequence & 3, lane_idx as u64);
        all.extend(ids);
    }
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 3 * 1024);
    let lane = lanes.pop().unwrap();
    assert!(
        lane.split(2048).is_err(),
        "a lane of 10 counter bits splits 1024 ways at most"
    );
    let generator = start(Policy::refuse(), Lease::forever(9), HighWater::ZERO);
    assert!(generator.split(0).is_err());
}

#[test]
fn split_lanes_start_after_the_parent() {
    let mut generator = start(Policy::refuse(), Lease::forever(9), HighWater::ZERO);
    let (parent, _) = mint_n(&mut generator, at(T0), 5);
    let mut lanes = generator.split(2).unwrap();
    let (child, stop) = mint_n(&mut lanes[0], at(T0), 1);
    assert_eq!(stop, Some(Err(MintError::SequenceExhausted)));
    assert!(child.is_empty());
    let (child, _) = mint_n(&mut lanes[1], at(T0 + 1), 1);
    assert!(child[0] > parent[4]);
}

#[test]
fn shared_mints_like_the_single_owner() {
    let policy = Policy::borrow(Duration::from_millis(3));
    let mut single = start(policy, Lease::forever(4), HighWater::ZERO);
    let shared = start(policy, Lease::forever(4), HighWater::ZERO).into_shared();
    for now in [T0, T0, T0 + 5, T0 + 2, T0 + 9] {
        for _ in 0..5000 {
            let mut expected = single.mint(at(now));
            let mut found = shared.mint(at(now));
            if let (Ok(Mint::Reserve(one)), Ok(Mint::Reserve(other))) = (expected, found) {
                single.acknowledge(one).unwrap();
                shared.acknowledge(other).unwrap();
                expected = single.mint(at(now));
                found = shared.mint(at(now));
            }
            assert_eq!(expected, found);
        }
    }
    assert_eq!(shared.high_water(), single.high_water());
    shared.end_lease();
    let expired = Err(MintError::LeaseExpired { at: at(0) });
    assert_eq!(shared.mint(at(T0 + 9)), expired);
    assert!(shared.renew(Lease::forever(5)).is_err());
    shared.renew(Lease::forever(4)).unwrap();
    assert!(matches!(shared.mint(at(T0 + 9)), Ok(Mint::Id(_))));
}

#[test]
fn blocks_continue_the_sequence() {
    let mut generator = start(Policy::refuse(), Lease::forever(2), HighWater::ZERO);
    assert!(matches!(
        generator.mint_block(at(T0), 5),
        Ok(Mint::Reserve(_))
    ));
    let (first, _) = mint_n(&mut generator, at(T0), 1);
    let Ok(Mint::Id(block)) = generator.mint_block(at(T0), 10_000) else {
        panic!("a block of the rest of the unit");
    };
    assert_eq!(
        block.len(),
        4095,
        "the rest of the millisecond, and no more"
    );
    let ids: Vec<Id64> = block.collect();
    assert!(first[0] < ids[0] && ids.windows(2).all(|pair| pair[0] < pair[1]));
    assert!(ids.iter().all(|&id| time_of(id) == T0));
    assert_eq!(generator.mint(at(T0)), Err(MintError::SequenceExhausted));
    let Ok(Mint::Id(block)) = generator.mint_block(at(T0 + 1), 0) else {
        panic!("a block of one");
    };
    assert_eq!(block.len(), 1);
    let (next, _) = mint_n(&mut generator, at(T0 + 1), 1);
    assert!(next[0] > ids[4094]);
    assert_eq!(Layout::twitter().decompose(next[0]).unwrap().sequence, 1);
}
