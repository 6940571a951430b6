//! Laws that hold for any input: minting only goes up, and every text form round-trips.

use std::time::Duration;

use proptest::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use tenfold_ids::{FieldOrder, Generator, HighWater, Id64, Layout, Lease, Mint, Mint128, Policy};
use tenfold_ids::{Timestamp, Ulid, UlidGenerator, Uuid, Uuid7Generator};

const T0: i64 = 1_700_000_000_000;

/// A clock move (in ms, either way; up to an hour) and how many IDs to try after it.
fn moves() -> impl Strategy<Value = Vec<(i64, usize)>> {
    let step = prop_oneof![-5i64..5, -3_600_000i64..3_600_000, Just(0)];
    prop::collection::vec((step, 1usize..300), 1..40)
}

fn policies() -> impl Strategy<Value = Policy> {
    let ms = |range: std::ops::Range<u64>| range.prop_map(Duration::from_millis);
    prop_oneof![
        Just(Policy::refuse()),
        ms(0..2000).prop_map(Policy::wait),
        ms(0..50).prop_map(Policy::borrow),
        (ms(0..50), ms(0..2000)).prop_map(|(borrow, wait)| Policy::borrow(borrow).and_wait(wait)),
    ]
}

/// Drives `mint` through the clock `moves`, waiting when asked to; returns the IDs with the
/// clock reading at which each was minted.
fn drive<T>(
    moves: &[(i64, usize)],
    mut mint: impl FnMut(Timestamp) -> Option<Result<T, Timestamp>>,
) -> Vec<(T, Timestamp)> {
    let mut now = T0;
    let mut minted = Vec::new();
    for &(step, n_tries) in moves {
        now += step;
        for _ in 0..n_tries {
            let at = Timestamp::from_unix_ms(now as u64);
            match mint(at) {
                Some(Ok(id)) => minted.push((id, at)),
                Some(Err(retry_at)) => now = retry_at.unix_ms() as i64,
                None => break,
            }
        }
    }
    minted
}

proptest! {
    #[test]
    fn generator_strictly_increases(moves in moves(), policy in policies(), lanes in 0usize..4) {
        let builder = Generator::builder(Layout::twitter()).policy(policy);
        let generator = builder.start(Lease::forever(77), HighWater::ZERO).unwrap();
        let mut generator = if lanes > 1 {
            generator.split(lanes).unwrap().remove(lanes - 1)
        } else {
            generator
        };
        let minted = drive(&moves, |now| loop {
            match generator.mint(now) {
                Ok(Mint::Id(id)) => return Some(Ok(id)),
                Ok(Mint::RetryAt(at)) => return Some(Err(at)),
                Ok(Mint::Reserve(reservation)) => generator.acknowledge(reservation).unwrap(),
                Err(_) => return None,
            }
        });
        for pair in minted.windows(2) {
            prop_assert!(pair[0].0 < pair[1].0, "{:?} then {:?}", pair[0], pair[1]);
        }
        for (id, at) in &minted {
            // No ID is ever further ahead of the clock than the policy lets it borrow.
            let time = Layout::twitter().decompose(*id).unwrap().timestamp;
            prop_assert!(time <= at.saturating_add(policy.max_borrow()));
        }
    }

    #[test]
    fn uuid7_strictly_increases(moves in moves(), policy in policies(), seed: u64) {
        let mut generator = Uuid7Generator::with_policy(ChaCha8Rng::seed_from_u64(seed), policy);
        let minted = drive(&moves, |now| match generator.mint(now) {
            Ok(Mint128::Id(id)) => Some(Ok(id)),
            Ok(Mint128::RetryAt(at)) => Some(Err(at)),
            Err(_) => None,
        });
        for pair in minted.windows(2) {
            prop_assert!(pair[0].0 < pair[1].0);
            prop_assert_eq!(pair[1].0.version(), 7);
        }
    }

    #[test]
    fn ulid_strictly_increases(moves in moves(), policy in policies(), seed: u64) {
        let mut generator = UlidGenerator::with_policy(ChaCha8Rng::seed_from_u64(seed), policy);
        let minted = drive(&moves, |now| match generator.mint(now) {
            Ok(Mint128::Id(id)) => Some(Ok(id)),
            Ok(Mint128::RetryAt(at)) => Some(Err(at)),
            Err(_) => None,
        });
        for pair in minted.windows(2) {
            prop_assert!(pair[0].0 < pair[1].0);
        }
    }

    #[test]
    fn id64_text_round_trips(value: u64) {
        let id = Id64::from_u64(value);
        prop_assert_eq!(id.to_string().parse::<Id64>(), Ok(id));
        prop_assert_eq!(Id64::parse_base32(&id.to_base32()), Ok(id));
        prop_assert_eq!(Id64::parse_base32(&id.to_base32().to_lowercase()), Ok(id));
        prop_assert_eq!(Id64::parse_base62(&id.to_base62()), Ok(id));
    }

    #[test]
    fn id64_text_keeps_order(a: u64, b: u64) {
        let (a, b) = (Id64::from_u64(a), Id64::from_u64(b));
        prop_assert_eq!(a.to_base32().cmp(&b.to_base32()), a.cmp(&b));
        prop_assert_eq!(a.to_base62().cmp(&b.to_base62()), a.cmp(&b));
    }

    #[test]
    fn id128_text_round_trips(value: u128) {
        let ulid = Ulid::from_u128(value);
        prop_assert_eq!(ulid.to_string().parse::<Ulid>(), Ok(ulid));
        prop_assert_eq!(Ulid::parse_base62(&ulid.to_base62()), Ok(ulid));
        let uuid = Uuid::from_u128(value);
        prop_assert_eq!(uuid.to_string().parse::<Uuid>(), Ok(uuid));
        prop_assert_eq!(uuid.to_string().to_uppercase().parse::<Uuid>(), Ok(uuid));
        prop_assert_eq!(uuid.to_string().replace('-', "").parse::<Uuid>(), Ok(uuid));
        prop_assert_eq!(Uuid::parse_base32(&uuid.to_base32()), Ok(uuid));
        prop_assert_eq!(Uuid::parse_base62(&uuid.to_base62()), Ok(uuid));
    }

    #[test]
    fn parsers_never_panic_and_accept_only_what_they_print(text in "\\PC{0,40}") {
        if let Ok(id) = text.parse::<Id64>() {
            prop_assert_eq!(id.to_string(), text.clone());
        }
        if let Ok(id) = Id64::parse_base32(&text) {
            prop_assert_eq!(Id64::parse_base32(&id.to_base32()), Ok(id));
        }
        if let Ok(id) = Id64::parse_base62(&text) {
            prop_assert_eq!(id.to_base62(), text.clone());
        }
        if let Ok(id) = text.parse::<Ulid>() {
            prop_assert_eq!(id.to_string().parse::<Ulid>(), Ok(id));
        }
        if let Ok(id) = text.parse::<Uuid>() {
            prop_assert_eq!(id.to_string().parse::<Uuid>(), Ok(id));
        }
    }

    #[test]
    fn base32_digit_strings_parse_within_range(text in "[0-9A-HJKMNP-TV-Z]{26}") {
        let parsed = text.parse::<Ulid>();
        let first = u32::from_str_radix(&text[..1], 36).unwrap_or(99);
        prop_assert_eq!(parsed.is_ok(), first <= 7, "{}", text);
    }

    #[test]
    fn layouts_compose_and_decompose(
        time_bits in 1u8..=63,
        node_bits in 0u8..=20,
        sequence_bits in 1u8..=22,
        sequence_low in any::<bool>(),
        unit_ms in 1u64..100,
        fields: (u64, u64, u64),
    ) {
        let order = if sequence_low { FieldOrder::TimeNodeSequence } else { FieldOrder::TimeSequenceNode };
        let built = Layout::builder()
            .time_bits(time_bits)
            .node_bits(node_bits)
            .sequence_bits(sequence_bits)
            .order(order)
            .unit(Duration::from_millis(unit_ms))
            .epoch(Timestamp::from_unix_ms(1_000_000))
            .build();
        let total = u32::from(time_bits) + u32::from(node_bits) + u32::from(sequence_bits);
        prop_assert_eq!(built.is_ok(), total <= 64);
        let Ok(layout) = built else { return Ok(()) };
        let units = fields.0 % (1 << time_bits.min(40));
        let node = fields.1 & layout.max_node();
        let sequence = fields.2 % layout.ids_per_unit();
        let time = Timestamp::from_unix_ms(1_000_000 + units * unit_ms);
        let id = layout.compose(time, node, sequence).unwrap();
        let parts = layout.decompose(id).unwrap();
        prop_assert_eq!((parts.timestamp, parts.node, parts.sequence), (time, node, sequence));
        prop_assert_eq!(layout.min_id_at(time).unwrap() <= id, true);
        prop_assert_eq!(id <= layout.max_id_at(time).unwrap(), true);
    }
}
