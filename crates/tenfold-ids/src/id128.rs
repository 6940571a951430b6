//! 128-bit IDs: UUIDv7 (RFC 9562) and ULID, their generators and text forms.

use std::fmt;
use std::str::FromStr;

use rand_core::Rng;

use crate::codec::{self, ParseError};
use crate::id64::{ascii_str, ascii_string};
use crate::policy::Verdict;
use crate::{Clock, MintError, Policy, RangeError, Timestamp};

/// A UUID of any version, as 128 bits in RFC 9562 (big-endian) order.
///
/// [`Uuid7Generator`] mints version 7, whose first 48 bits are Unix milliseconds. The time of
/// version 1 and 6 UUIDs decodes too. Its [`Display`](fmt::Display) form is the hyphenated
/// lowercase text; [`FromStr`] takes that form in either case, or 32 bare hexadecimal digits.
///
/// # Example
///
/// ```
/// use tenfold_ids::Uuid;
///
/// let uuid: Uuid = "017F22E2-79B0-7CC3-98C4-DC0C0C07398F".parse()?;
/// assert_eq!(uuid.version(), 7);
/// assert_eq!(uuid.timestamp().map(|ts| ts.to_string()), Some("2022-02-22T19:22:22.000Z".into()));
/// assert_eq!(uuid.to_string(), "017f22e2-79b0-7cc3-98c4-dc0c0c07398f");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uuid(u128);

/// A ULID: 48 bits of Unix milliseconds, then 80 random bits, written as 26 characters of
/// Crockford base32.
///
/// # Example
///
/// ```
/// use tenfold_ids::Ulid;
///
/// let ulid: Ulid = "01ARZ3NDEKTSV4RRFFQ69G5FAV".parse()?;
/// assert_eq!(ulid.timestamp().unix_ms(), 1_469_922_850_259);
/// assert!("80000000000000000000000000".parse::<Ulid>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ulid(u128);

/// The answer to a 128-bit minting call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Mint128<T> {
    /// A fresh ID.
    Id(T),
    /// Nothing yet: the policy asks the host to call again once its clock reads this time.
    RetryAt(Timestamp),
}

/// Mints UUIDv7s that increase strictly, by RFC 9562 §6.2 method 1.
///
/// A 42-bit counter follows the millisecond timestamp: the 12 bits of `rand_a` and the top
/// 30 bits of `rand_b`. It starts from 41 random bits in each new millisecond (so its top
/// bit guards against rollover) and counts up by one within it; the last 32 bits are random
/// for every UUID. When the clock is behind the last UUID, or the counter is full, the next
/// UUID carries a time ahead of the clock, and the [`Policy`] decides whether to mint, to
/// answer `RetryAt`, or to refuse.
///
/// Uniqueness across processes rests on the random bits, drawn from the host's `R`; use a
/// generator seeded from the operating system, different for each process.
///
/// # Example
///
/// ```
/// use rand_chacha::ChaCha8Rng;
/// use rand_core::SeedableRng;
/// use tenfold_ids::{Mint128, Timestamp, Uuid7Generator};
///
/// let mut generator = Uuid7Generator::new(ChaCha8Rng::seed_from_u64(7));
/// let now = Timestamp::from_unix_ms(1_645_557_742_000);
/// let Mint128::Id(first) = generator.mint(now)? else { panic!("the clock is fine") };
/// let Mint128::Id(second) = generator.mint(now)? else { panic!("the clock is fine") };
/// assert!(first < second);
/// assert_eq!(second.version(), 7);
/// assert_eq!(second.timestamp(), Some(now));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Uuid7Generator<R> {
    rng: R,
    policy: Policy,
    last: Option<(u64, u64)>,
}

/// Mints ULIDs that increase strictly, as the ULID specification's monotonic mode does.
///
/// In a new millisecond the 80 random bits are drawn afresh; within one they count up by
/// one. When they are all ones, the specification asks the next call in that millisecond to
/// fail: with [`Policy::refuse`] it does, with [`MintError::SequenceExhausted`]. A policy
/// that borrows moves to the next millisecond instead.
#[derive(Debug)]
pub struct UlidGenerator<R> {
    rng: R,
    policy: Policy,
    last: Option<(u64, u128)>,
}

impl Uuid {
    /// The nil UUID, all zeros.
    pub const NIL: Self = Self(0);

    /// The max UUID, all ones.
    pub const MAX: Self = Self(u128::MAX);

    /// The UUID with these 128 bits.
    pub const fn from_u128(value: u128) -> Self {
        Self(value)
    }

    /// Its 128 bits.
    pub const fn to_u128(self) -> u128 {
        self.0
    }

    /// The UUID with these 16 bytes, in RFC 9562 order.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(u128::from_be_bytes(bytes))
    }

    /// Its 16 bytes, in RFC 9562 order.
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }

    /// The version field, bits 48 to 51.
    pub const fn version(self) -> u8 {
        (self.0 >> 76) as u8 & 0xF
    }

    /// The variant field, bits 64 to 65 (`0b10` for every RFC 9562 UUID but nil and max).
    pub const fn variant(self) -> u8 {
        (self.0 >> 62) as u8 & 0b11
    }

    /// The 60-bit count of 100 ns intervals since 1582-10-15 of a version 1 or 6 UUID.
    pub const fn gregorian_ticks(self) -> Option<u64> {
        // Both versions cut the count into 32, 16 and 12 bits. Version 6 puts the most
        // significant part first, version 1 the least significant.
        let first = (self.0 >> 96) as u64;
        let middle = (self.0 >> 80) as u64 & 0xFFFF;
        let last = (self.0 >> 64) as u64 & 0xFFF;
        match self.version() {
            1 => Some((last << 48) | (middle << 32) | first),
            6 => Some((first << 28) | (middle << 12) | last),
            _ => None,
        }
    }

    /// When a version 1, 6 or 7 UUID was minted, to the millisecond, or `None` for other
    /// versions (and for version 1 and 6 times before 1970).
    pub const fn timestamp(self) -> Option<Timestamp> {
        if self.version() == 7 {
            return Some(Timestamp::from_unix_ms((self.0 >> 80) as u64));
        }
        match self.gregorian_ticks() {
            Some(ticks) if ticks >= GREGORIAN_TO_UNIX_TICKS => {
                let ms = (ticks - GREGORIAN_TO_UNIX_TICKS) / 10_000;
                Some(Timestamp::from_unix_ms(ms))
            }
            _ => None,
        }
    }

    /// The smallest UUIDv7 of the millisecond `time`: the lower end of a range scan.
    ///
    /// # Errors
    ///
    /// [`RangeError::AfterEnd`] if `time` does not fit 48 bits.
    pub fn min_v7_at(time: Timestamp) -> Result<Self, RangeError> {
        let ms = check_48_bits(time)?;
        Ok(Self(u128::from(ms) << 80 | 7 << 76 | 0b10 << 62))
    }

    /// The largest UUIDv7 of the millisecond `time`.
    ///
    /// # Errors
    ///
    /// [`RangeError::AfterEnd`] if `time` does not fit 48 bits.
    pub fn max_v7_at(time: Timestamp) -> Result<Self, RangeError> {
        let ms = check_48_bits(time)?;
        let random = (0xFFF << 64) | (u128::from(u64::MAX) >> 2);
        Ok(Self(u128::from(ms) << 80 | 7 << 76 | 0b10 << 62 | random))
    }

    /// The UUID as 26 Crockford base32 digits, the way a ULID is written.
    pub fn to_base32(self) -> String {
        Ulid(self.0).to_string()
    }

    /// The UUID as 22 base62 digits.
    pub fn to_base62(self) -> String {
        base62_128(self.0)
    }

    /// Parses 26 Crockford base32 digits.
    ///
    /// # Errors
    ///
    /// As for [`Ulid`]'s [`FromStr`].
    pub fn parse_base32(text: &str) -> Result<Self, ParseError> {
        Ok(Self(text.parse::<Ulid>()?.0))
    }

    /// Parses 22 base62 digits.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] for a wrong length, a character outside `0-9A-Za-z`, or a value
    /// above 128 bits.
    pub fn parse_base62(text: &str) -> Result<Self, ParseError> {
        codec::decode_base62(text, BASE62_LEN, u128::MAX).map(Self)
    }
}

impl Ulid {
    /// The zero ULID.
    pub const NIL: Self = Self(0);

    /// The largest ULID, `7ZZZZZZZZZZZZZZZZZZZZZZZZZ`.
    pub const MAX: Self = Self(u128::MAX);

    /// The ULID with these 128 bits.
    pub const fn from_u128(value: u128) -> Self {
        Self(value)
    }

    /// Its 128 bits.
    pub const fn to_u128(self) -> u128 {
        self.0
    }

    /// The ULID of millisecond `time` with these 80 random bits.
    ///
    /// # Errors
    ///
    /// [`RangeError::AfterEnd`] if `time` does not fit 48 bits, [`RangeError::Sequence`] if
    /// `random` does not fit 80.
    pub fn from_parts(time: Timestamp, random: u128) -> Result<Self, RangeError> {
        let ms = check_48_bits(time)?;
        if random >> 80 != 0 {
            return Err(RangeError::Sequence);
        }
        Ok(Self(u128::from(ms) << 80 | random))
    }

    /// The millisecond it was minted in.
    pub const fn timestamp(self) -> Timestamp {
        Timestamp::from_unix_ms((self.0 >> 80) as u64)
    }

    /// Its 80 random bits.
    pub const fn random(self) -> u128 {
        self.0 & RANDOM_80
    }

    /// The smallest ULID of the millisecond `time`: the lower end of a range scan.
    ///
    /// # Errors
    ///
    /// [`RangeError::AfterEnd`] if `time` does not fit 48 bits.
    pub fn min_at(time: Timestamp) -> Result<Self, RangeError> {
        Self::from_parts(time, 0)
    }

    /// The largest ULID of the millisecond `time`.
    ///
    /// # Errors
    ///
    /// [`RangeError::AfterEnd`] if `time` does not fit 48 bits.
    pub fn max_at(time: Timestamp) -> Result<Self, RangeError> {
        Self::from_parts(time, RANDOM_80)
    }

    /// The ULID as 22 base62 digits.
    pub fn to_base62(self) -> String {
        base62_128(self.0)
    }

    /// Parses 22 base62 digits.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] for a wrong length, a character outside `0-9A-Za-z`, or a value
    /// above 128 bits.
    pub fn parse_base62(text: &str) -> Result<Self, ParseError> {
        codec::decode_base62(text, BASE62_LEN, u128::MAX).map(Self)
    }
}

impl<R: Rng> Uuid7Generator<R> {
    /// A generator drawing its random bits from `rng`, with the default [`Policy`].
    pub fn new(rng: R) -> Self {
        Self::with_policy(rng, Policy::default())
    }

    /// A generator drawing its random bits from `rng`, with `policy`.
    pub fn with_policy(rng: R, policy: Policy) -> Self {
        Self {
            rng,
            policy,
            last: None,
        }
    }

    /// A generator that continues after `last`, a UUIDv7 minted before (by this process
    /// before a restart, say): everything it mints is greater. Persisting the last UUID now
    /// and then, and resuming after it, keeps the order across restarts even when the clock
    /// went back in between.
    pub fn resume_after(rng: R, policy: Policy, last: Uuid) -> Self {
        let bits = last.to_u128();
        let counter = (bits >> 64 & 0xFFF) << 30 | (bits >> 32 & ((1 << 30) - 1));
        Self {
            rng,
            policy,
            last: Some(((bits >> 80) as u64, counter as u64)),
        }
    }

    /// Mints a UUIDv7 greater than every one this generator minted before.
    ///
    /// # Errors
    ///
    /// A [`MintError`] when the policy refuses, or `now` does not fit 48 bits of
    /// milliseconds.
    pub fn mint(&mut self, now: Timestamp) -> Result<Mint128<Uuid>, MintError> {
        let ms = now.unix_ms();
        let (time, counter) = match self.last {
            Some((last_ms, counter)) if ms <= last_ms && counter < COUNTER_42 => {
                (last_ms, Some(counter + 1))
            }
            Some((last_ms, _)) if ms <= last_ms => (last_ms + 1, None),
            _ => (ms, None),
        };
        if let Some(stalled) = check_ahead(&self.policy, now, time, counter.is_none())? {
            return Ok(stalled);
        }
        let counter = counter.unwrap_or_else(|| self.rng.next_u64() >> 23);
        self.last = Some((time, counter));
        let rand_a = u128::from(counter >> 30);
        let rand_b_high = u128::from(counter & ((1 << 30) - 1));
        let random_tail = u128::from(self.rng.next_u32());
        let value = u128::from(time) << 80 | 7 << 76 | rand_a << 64 | 0b10 << 62;
        Ok(Mint128::Id(Uuid(value | rand_b_high << 32 | random_tail)))
    }

    /// [`Uuid7Generator::mint`] with the time read from `clock`.
    ///
    /// # Errors
    ///
    /// As for [`Uuid7Generator::mint`].
    pub fn mint_with(&mut self, clock: &impl Clock) -> Result<Mint128<Uuid>, MintError> {
        self.mint(clock.now())
    }
}

impl<R: Rng> UlidGenerator<R> {
    /// A generator drawing its random bits from `rng`, with the default [`Policy`].
    pub fn new(rng: R) -> Self {
        Self::with_policy(rng, Policy::default())
    }

    /// A generator drawing its random bits from `rng`, with `policy`.
    pub fn with_policy(rng: R, policy: Policy) -> Self {
        Self {
            rng,
            policy,
            last: None,
        }
    }

    /// A generator that continues after `last`, a ULID minted before: everything it mints
    /// is greater, so the order holds across a restart.
    pub fn resume_after(rng: R, policy: Policy, last: Ulid) -> Self {
        Self {
            rng,
            policy,
            last: Some((last.timestamp().unix_ms(), last.random())),
        }
    }

    /// Mints a ULID greater than every one this generator minted before.
    ///
    /// # Errors
    ///
    /// A [`MintError`] when the policy refuses, or `now` does not fit 48 bits of
    /// milliseconds.
    pub fn mint(&mut self, now: Timestamp) -> Result<Mint128<Ulid>, MintError> {
        let ms = now.unix_ms();
        let (time, random) = match self.last {
            Some((last_ms, random)) if ms <= last_ms && random < RANDOM_80 => {
                (last_ms, Some(random + 1))
            }
            Some((last_ms, _)) if ms <= last_ms => (last_ms + 1, None),
            _ => (ms, None),
        };
        if let Some(stalled) = check_ahead(&self.policy, now, time, random.is_none())? {
            return Ok(stalled);
        }
        let random = random.unwrap_or_else(|| {
            let high = u128::from(self.rng.next_u64()) << 16;
            high | u128::from(self.rng.next_u64() >> 48)
        });
        self.last = Some((time, random));
        Ok(Mint128::Id(Ulid(u128::from(time) << 80 | random)))
    }

    /// [`UlidGenerator::mint`] with the time read from `clock`.
    ///
    /// # Errors
    ///
    /// As for [`UlidGenerator::mint`].
    pub fn mint_with(&mut self, clock: &impl Clock) -> Result<Mint128<Ulid>, MintError> {
        self.mint(clock.now())
    }
}

/// Applies `policy` to a 128-bit ID at millisecond `time`, which may be ahead of `now`;
/// `fresh` tells that the counter would start over (so a refusal one millisecond ahead means
/// the counter ran out).
fn check_ahead<T>(
    policy: &Policy,
    now: Timestamp,
    time: u64,
    fresh: bool,
) -> Result<Option<Mint128<T>>, MintError> {
    if time > MAX_48 {
        return Err(MintError::TimeExhausted);
    }
    let borrow_ms = u64::try_from(policy.max_borrow().as_millis()).unwrap_or(u64::MAX);
    let catch_up = Timestamp::from_unix_ms(time.saturating_sub(borrow_ms));
    match policy.judge(now, catch_up) {
        Verdict::Mint => Ok(None),
        Verdict::RetryAt(at) => Ok(Some(Mint128::RetryAt(at))),
        Verdict::Refuse if fresh && time == now.unix_ms() + 1 => Err(MintError::SequenceExhausted),
        Verdict::Refuse => Err(MintError::ClockBehind {
            by: Timestamp::from_unix_ms(time).saturating_duration_since(now),
        }),
    }
}

fn check_48_bits(time: Timestamp) -> Result<u64, RangeError> {
    match time.unix_ms() {
        ms if ms <= MAX_48 => Ok(ms),
        _ => Err(RangeError::AfterEnd),
    }
}

fn base62_128(value: u128) -> String {
    let mut text = [0; BASE62_LEN];
    codec::encode_base62(value, &mut text);
    ascii_string(&text)
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = [0; 36];
        codec::encode_uuid(self.0, &mut text);
        f.write_str(ascii_str(&text))
    }
}

impl FromStr for Uuid {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        codec::decode_uuid(text).map(Self)
    }
}

impl fmt::Display for Ulid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = [0; BASE32_LEN];
        codec::encode_base32(self.0, &mut text);
        f.write_str(ascii_str(&text))
    }
}

impl FromStr for Ulid {
    type Err = ParseError;

    /// Parses 26 Crockford base32 digits in either case; a first digit above `7` would need
    /// more than 128 bits and is rejected.
    fn from_str(text: &str) -> Result<Self, ParseError> {
        codec::decode_base32(text, BASE32_LEN, 128).map(Self)
    }
}

impl From<Ulid> for Uuid {
    fn from(ulid: Ulid) -> Self {
        Self(ulid.0)
    }
}

impl From<Uuid> for Ulid {
    fn from(uuid: Uuid) -> Self {
        Self(uuid.0)
    }
}

#[cfg(feature = "uuid")]
mod uuid_crate {
    use super::{Ulid, Uuid};

    impl From<Uuid> for uuid::Uuid {
        fn from(id: Uuid) -> Self {
            Self::from_u128(id.to_u128())
        }
    }

    impl From<uuid::Uuid> for Uuid {
        fn from(id: uuid::Uuid) -> Self {
            Self::from_u128(id.as_u128())
        }
    }

    impl From<Ulid> for uuid::Uuid {
        fn from(id: Ulid) -> Self {
            Self::from_u128(id.to_u128())
        }
    }

    impl From<uuid::Uuid> for Ulid {
        fn from(id: uuid::Uuid) -> Self {
            Self::from_u128(id.as_u128())
        }
    }
}

#[cfg(feature = "serde")]
mod serde_text {
    use std::fmt;
    use std::str::FromStr;

    use serde::de::Visitor;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Ulid, Uuid};

    /// Reads an ID from its text form.
    struct TextVisitor<T>(std::marker::PhantomData<T>);

    impl<T: FromStr<Err: fmt::Display>> Visitor<'_> for TextVisitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an id in text form")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<T, E> {
            text.parse().map_err(E::custom)
        }
    }

    macro_rules! text_serde {
        ($type:ty) => {
            impl Serialize for $type {
                fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    serializer.collect_str(self)
                }
            }

            impl<'de> Deserialize<'de> for $type {
                fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    deserializer.deserialize_str(TextVisitor(std::marker::PhantomData))
                }
            }
        };
    }

    text_serde!(Uuid);
    text_serde!(Ulid);
}

/// Ticks of 100 ns from 1582-10-15, the Gregorian epoch of UUID versions 1 and 6, to the
/// Unix epoch.
const GREGORIAN_TO_UNIX_TICKS: u64 = 0x01B2_1DD2_1381_4000;

const MAX_48: u64 = (1 << 48) - 1;

/// The largest value of the UUIDv7 counter.
const COUNTER_42: u64 = (1 << 42) - 1;

const RANDOM_80: u128 = (1 << 80) - 1;

const BASE32_LEN: usize = 26;

const BASE62_LEN: usize = 22;

#[cfg(test)]
mod tests;
