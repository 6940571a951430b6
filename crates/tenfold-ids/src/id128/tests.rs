use std::time::Duration;

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use super::{Mint128, Ulid, UlidGenerator, Uuid, Uuid7Generator};
use crate::{MintError, Policy, RangeError, Timestamp};

const T0: u64 = 1_645_557_742_000;

fn at(ms: u64) -> Timestamp {
    Timestamp::from_unix_ms(ms)
}

fn rng() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(4)
}

#[test]
fn uuid7_fields_and_counter() {
    let mut generator = Uuid7Generator::with_policy(rng(), Policy::refuse());
    let Ok(Mint128::Id(first)) = generator.mint(at(T0)) else {
        panic!("a fresh generator mints");
    };
    let Ok(Mint128::Id(second)) = generator.mint(at(T0)) else {
        panic!("a counter of 42 bits does not run out at once");
    };
    for uuid in [first, second] {
        assert_eq!((uuid.version(), uuid.variant()), (7, 0b10));
        assert_eq!(uuid.timestamp(), Some(at(T0)));
    }
    let counter = |uuid: Uuid| {
        (uuid.to_u128() >> 64 & 0xFFF) << 30 | (uuid.to_u128() >> 32 & ((1 << 30) - 1))
    };
    assert_eq!(counter(second), counter(first) + 1);
    assert!(
        counter(first) < 1 << 41,
        "the counter's top bit starts clear"
    );
}

#[test]
fn uuid7_clock_behind_follows_the_policy() {
    let mut refuse = Uuid7Generator::with_policy(rng(), Policy::refuse());
    let _ = refuse.mint(at(T0)).unwrap();
    let by = Duration::from_millis(5);
    assert_eq!(refuse.mint(at(T0 - 5)), Err(MintError::ClockBehind { by }));

    let mut borrow = Uuid7Generator::with_policy(rng(), Policy::borrow(by));
    let Ok(Mint128::Id(before)) = borrow.mint(at(T0)) else {
        panic!("mints")
    };
    let Ok(Mint128::Id(after)) = borrow.mint(at(T0 - 5)) else {
        panic!("borrows")
    };
    assert!(after > before);
    assert_eq!(after.timestamp(), Some(at(T0)));

    let mut wait = Uuid7Generator::with_policy(rng(), Policy::wait(by));
    let _ = wait.mint(at(T0)).unwrap();
    assert_eq!(wait.mint(at(T0 - 5)), Ok(Mint128::RetryAt(at(T0))));
}

#[test]
fn uuid7_counter_overflow_moves_to_the_next_millisecond() {
    let mut generator = Uuid7Generator::with_policy(rng(), Policy::wait(Duration::from_millis(1)));
    generator.last = Some((T0, (1 << 42) - 1));
    assert_eq!(generator.mint(at(T0)), Ok(Mint128::RetryAt(at(T0 + 1))));
    let mut refuse = Uuid7Generator::with_policy(rng(), Policy::refuse());
    refuse.last = Some((T0, (1 << 42) - 1));
    assert_eq!(refuse.mint(at(T0)), Err(MintError::SequenceExhausted));
    let Ok(Mint128::Id(next)) = refuse.mint(at(T0 + 1)) else {
        panic!("a new millisecond")
    };
    assert_eq!(next.timestamp(), Some(at(T0 + 1)));
}

#[test]
fn uuid7_rejects_times_past_48_bits() {
    let mut generator = Uuid7Generator::new(rng());
    assert_eq!(generator.mint(at(1 << 48)), Err(MintError::TimeExhausted));
    assert_eq!(Uuid::min_v7_at(at(1 << 48)), Err(RangeError::AfterEnd));
}

#[test]
fn ulid_increments_within_a_millisecond() {
    let mut generator = UlidGenerator::with_policy(rng(), Policy::refuse());
    let Ok(Mint128::Id(first)) = generator.mint(at(T0)) else {
        panic!("mints")
    };
    let Ok(Mint128::Id(second)) = generator.mint(at(T0)) else {
        panic!("mints")
    };
    assert_eq!(second.to_u128(), first.to_u128() + 1);
    let Ok(Mint128::Id(third)) = generator.mint(at(T0 + 1)) else {
        panic!("mints")
    };
    assert_eq!(third.timestamp(), at(T0 + 1));
}

#[test]
fn ulid_overflow_fails_as_the_spec_asks() {
    let mut generator = UlidGenerator::with_policy(rng(), Policy::refuse());
    generator.last = Some((T0, (1 << 80) - 1));
    assert_eq!(generator.mint(at(T0)), Err(MintError::SequenceExhausted));
    let mut borrow = UlidGenerator::with_policy(rng(), Policy::borrow(Duration::from_millis(1)));
    borrow.last = Some((T0, (1 << 80) - 1));
    let Ok(Mint128::Id(next)) = borrow.mint(at(T0)) else {
        panic!("borrows")
    };
    assert_eq!(next.timestamp(), at(T0 + 1));
}

#[test]
fn ranges_bracket_a_millisecond() {
    let min = Uuid::min_v7_at(at(T0)).unwrap();
    let max = Uuid::max_v7_at(at(T0)).unwrap();
    assert_eq!(min.to_string(), "017f22e2-79b0-7000-8000-000000000000");
    assert_eq!(max.to_string(), "017f22e2-79b0-7fff-bfff-ffffffffffff");
    assert_eq!(
        Ulid::min_at(at(T0)).unwrap().to_u128() >> 80,
        u128::from(T0)
    );
    assert_eq!(Ulid::max_at(at(T0)).unwrap().random(), (1 << 80) - 1);
    assert_eq!(Ulid::from_parts(at(T0), 1 << 80), Err(RangeError::Sequence));
}

#[test]
fn ulid_and_uuid_share_bits() {
    let ulid: Ulid = "01ARZ3NDEKTSV4RRFFQ69G5FAV".parse().unwrap();
    let uuid = Uuid::from(ulid);
    assert_eq!(Ulid::from(uuid), ulid);
    assert_eq!(uuid.to_base32(), "01ARZ3NDEKTSV4RRFFQ69G5FAV");
    assert_eq!(Uuid::parse_base62(&uuid.to_base62()), Ok(uuid));
    assert_eq!(Ulid::parse_base62(&ulid.to_base62()), Ok(ulid));
    assert_eq!(Uuid::from_bytes(uuid.to_bytes()), uuid);
    assert_eq!(Uuid::MAX.timestamp(), None);
    assert_eq!(Uuid::NIL.version(), 0);
}
