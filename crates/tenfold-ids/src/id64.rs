use std::fmt;
use std::str::FromStr;

use crate::codec::{self, ParseError};

/// A 64-bit ID minted under some [`Layout`](crate::Layout).
///
/// It orders like the number it wraps, which is roughly the order of minting time. It does
/// not carry its layout: decode it with [`Layout::decompose`](crate::Layout::decompose).
///
/// Its [`Display`](fmt::Display) and [`FromStr`] forms are decimal, the way Twitter and
/// Discord print IDs. [`Id64::to_base32`] and [`Id64::to_base62`] give shorter fixed-width
/// forms whose text order matches the numeric order.
///
/// # JavaScript
///
/// Values above [`Id64::MAX_JS_SAFE`] lose precision in a JavaScript number; send them as
/// strings, or mint them under [`Layout::js_safe`](crate::Layout::js_safe).
///
/// # Example
///
/// ```
/// use tenfold_ids::Id64;
///
/// let id: Id64 = "175928847299117063".parse()?;
/// assert_eq!(id.to_base32(), "04W86BB0G4007");
/// assert_eq!(Id64::parse_base32("04W86BB0G4007")?, id);
/// assert_eq!(Id64::parse_base62(&id.to_base62())?, id);
/// assert!(!id.is_js_safe());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Id64(u64);

impl Id64 {
    /// The largest value a JavaScript number holds exactly, 2^53 − 1.
    pub const MAX_JS_SAFE: u64 = (1 << 53) - 1;

    /// Characters in the base32 form.
    pub const BASE32_LEN: usize = 13;

    /// Characters in the base62 form.
    pub const BASE62_LEN: usize = 11;

    /// The ID with the given value.
    #[inline]
    pub const fn from_u64(value: u64) -> Self {
        Self(value)
    }

    /// The value of the ID.
    #[inline]
    pub const fn to_u64(self) -> u64 {
        self.0
    }

    /// The value as a signed 64-bit integer, for databases without an unsigned type, or
    /// `None` if the top bit is set (possible only for 64-bit layouts such as Discord's).
    pub const fn to_i64(self) -> Option<i64> {
        if self.0 > i64::MAX as u64 {
            None
        } else {
            Some(self.0 as i64)
        }
    }

    /// Whether a JavaScript number holds this value exactly.
    pub const fn is_js_safe(self) -> bool {
        self.0 <= Self::MAX_JS_SAFE
    }

    /// The ID as 13 Crockford base32 digits.
    pub fn to_base32(self) -> String {
        let mut text = [0; Self::BASE32_LEN];
        codec::encode_base32(u128::from(self.0), &mut text);
        ascii_string(&text)
    }

    /// The ID as 11 base62 digits (`0-9A-Za-z`).
    pub fn to_base62(self) -> String {
        let mut text = [0; Self::BASE62_LEN];
        codec::encode_base62(u128::from(self.0), &mut text);
        ascii_string(&text)
    }

    /// Parses the decimal form: digits only, no sign and no leading zero.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] for an empty string, a non-digit, a leading zero or a value above
    /// `u64::MAX`.
    pub fn parse_decimal(text: &str) -> Result<Self, ParseError> {
        codec::decode_decimal(text).map(Self)
    }

    /// Parses 13 Crockford base32 digits, in either case.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] for a wrong length, a character outside the alphabet, or a value
    /// above 64 bits.
    pub fn parse_base32(text: &str) -> Result<Self, ParseError> {
        codec::decode_base32(text, Self::BASE32_LEN, 64).map(|value| Self(value as u64))
    }

    /// Parses 11 base62 digits.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] for a wrong length, a character outside `0-9A-Za-z`, or a value
    /// above `u64::MAX`.
    pub fn parse_base62(text: &str) -> Result<Self, ParseError> {
        let value = codec::decode_base62(text, Self::BASE62_LEN, u128::from(u64::MAX))?;
        Ok(Self(value as u64))
    }
}

impl From<Id64> for u64 {
    fn from(id: Id64) -> Self {
        id.0
    }
}

impl fmt::Display for Id64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Id64 {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        Self::parse_decimal(text)
    }
}

/// The text the encoders wrote, which is ASCII, as a `String`.
pub(crate) fn ascii_string(bytes: &[u8]) -> String {
    ascii_str(bytes).to_owned()
}

/// The text the encoders wrote, which is ASCII, as a `str`.
pub(crate) fn ascii_str(bytes: &[u8]) -> &str {
    // The encoders write ASCII digits only, so the fallback is never taken.
    std::str::from_utf8(bytes).unwrap_or_default()
}
