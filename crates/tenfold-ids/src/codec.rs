//! Text forms shared by the ID types: Crockford base32, base62, decimal and the UUID form.
//!
//! Every encoder writes a fixed number of characters, padding with the zero digit, so that
//! text order matches numeric order. Every decoder checks the length, each character and the
//! range before it returns a value, and reports the first problem as a [`ParseError`].

use std::fmt;

/// A string that is not a valid ID in the format it was parsed as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseError {
    format: Format,
    kind: ParseErrorKind,
}

/// The text format a [`ParseError`] came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// Decimal digits of an unsigned 64-bit integer.
    Decimal,
    /// Crockford base32, as ULIDs are written.
    Base32,
    /// Base62 with the digits `0-9A-Za-z`.
    Base62,
    /// The UUID text form, `8-4-4-4-12` hexadecimal digits or 32 without hyphens.
    Uuid,
}

/// What was wrong with the string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The string is empty.
    Empty,
    /// The string has the wrong number of bytes for the format.
    Length {
        /// The length the format needs, or the longest it allows.
        expected: usize,
        /// The length of the string.
        found: usize,
    },
    /// The byte at `index` is not a digit of the format, or not a hyphen where one belongs.
    InvalidChar {
        /// The byte offset of the first bad byte.
        index: usize,
    },
    /// The digits spell a value too large for the ID, such as a ULID above 128 bits.
    Overflow,
    /// A decimal number with a leading zero, which is not the canonical form of any ID.
    LeadingZero,
}

impl ParseError {
    pub(crate) fn new(format: Format, kind: ParseErrorKind) -> Self {
        Self { format, kind }
    }

    /// The format the string was parsed as.
    pub fn format(&self) -> Format {
        self.format
    }

    /// What was wrong with it.
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.format {
            Format::Decimal => "decimal id",
            Format::Base32 => "base32 id",
            Format::Base62 => "base62 id",
            Format::Uuid => "uuid",
        };
        write!(f, "invalid {what}: ")?;
        match self.kind {
            ParseErrorKind::Empty => f.write_str("empty string"),
            ParseErrorKind::Length { expected, found } => {
                write!(f, "expected {expected} characters, found {found}")
            }
            ParseErrorKind::InvalidChar { index } => write!(f, "unexpected character at {index}"),
            ParseErrorKind::Overflow => f.write_str("value out of range"),
            ParseErrorKind::LeadingZero => f.write_str("leading zero"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Writes `value` as `out.len()` Crockford base32 digits, most significant first.
pub(crate) fn encode_base32(mut value: u128, out: &mut [u8]) {
    for byte in out.iter_mut().rev() {
        *byte = BASE32_DIGITS[(value & 31) as usize];
        value >>= 5;
    }
}

/// Reads exactly `n_chars` Crockford base32 digits holding a value of at most `bits` bits.
///
/// Lowercase letters are accepted, and so are `I`, `L` (read as 1) and `O` (read as 0), as
/// Crockford's alphabet asks of a decoder.
pub(crate) fn decode_base32(text: &str, n_chars: usize, bits: u32) -> Result<u128, ParseError> {
    let error = |kind| ParseError::new(Format::Base32, kind);
    check_length(text, n_chars).map_err(error)?;
    let mut value = 0u128;
    for (index, &byte) in text.as_bytes().iter().enumerate() {
        let digit = BASE32_VALUES[usize::from(byte)];
        if digit == INVALID {
            return Err(error(ParseErrorKind::InvalidChar { index }));
        }
        value = (value << 5) | u128::from(digit);
    }
    let spare_bits = n_chars as u32 * 5 - bits;
    let first = BASE32_VALUES[usize::from(text.as_bytes()[0])];
    if spare_bits > 0 && u32::from(first) >> (5 - spare_bits) != 0 {
        return Err(error(ParseErrorKind::Overflow));
    }
    Ok(value)
}

/// Writes `value` as `out.len()` base62 digits, most significant first.
pub(crate) fn encode_base62(mut value: u128, out: &mut [u8]) {
    for byte in out.iter_mut().rev() {
        *byte = BASE62_DIGITS[(value % 62) as usize];
        value /= 62;
    }
}

/// Reads exactly `n_chars` base62 digits holding a value no greater than `max`.
pub(crate) fn decode_base62(text: &str, n_chars: usize, max: u128) -> Result<u128, ParseError> {
    let error = |kind| ParseError::new(Format::Base62, kind);
    check_length(text, n_chars).map_err(error)?;
    let mut value = 0u128;
    for (index, &byte) in text.as_bytes().iter().enumerate() {
        let digit = match byte {
            b'0'..=b'9' => byte - b'0',
            b'A'..=b'Z' => byte - b'A' + 10,
            b'a'..=b'z' => byte - b'a' + 36,
            _ => return Err(error(ParseErrorKind::InvalidChar { index })),
        };
        value = value
            .checked_mul(62)
            .and_then(|value| value.checked_add(u128::from(digit)))
            .filter(|&value| value <= max)
            .ok_or_else(|| error(ParseErrorKind::Overflow))?;
    }
    Ok(value)
}

/// Reads the canonical decimal form of a `u64`: digits only, no sign, no leading zero.
pub(crate) fn decode_decimal(text: &str) -> Result<u64, ParseError> {
    let error = |kind| ParseError::new(Format::Decimal, kind);
    let bytes = text.as_bytes();
    check_length(text, 0).map_err(error)?;
    if bytes.len() > 1 && bytes[0] == b'0' {
        return Err(error(ParseErrorKind::LeadingZero));
    }
    let mut value = 0u64;
    for (index, &byte) in bytes.iter().enumerate() {
        if !byte.is_ascii_digit() {
            return Err(error(ParseErrorKind::InvalidChar { index }));
        }
        value = value
            .checked_mul(10)
            .and_then(|value| value.checked_add(u64::from(byte - b'0')))
            .ok_or_else(|| error(ParseErrorKind::Overflow))?;
    }
    Ok(value)
}

/// Writes `value` in the hyphenated, lowercase UUID form.
pub(crate) fn encode_uuid(value: u128, out: &mut [u8; 36]) {
    for offset in HYPHENS {
        out[offset] = b'-';
    }
    for (byte_idx, byte) in value.to_be_bytes().into_iter().enumerate() {
        let at = UUID_BYTE_OFFSETS[byte_idx];
        out[at] = HEX_DIGITS[usize::from(byte >> 4)];
        out[at + 1] = HEX_DIGITS[usize::from(byte & 15)];
    }
}

/// Reads a UUID as 36 characters with hyphens at 8, 13, 18 and 23, or as 32 hexadecimal
/// digits. Either case is accepted.
pub(crate) fn decode_uuid(text: &str) -> Result<u128, ParseError> {
    let error = |kind| ParseError::new(Format::Uuid, kind);
    let bytes = text.as_bytes();
    let offsets = if bytes.len() == 36 {
        if let Some(&index) = HYPHENS.iter().find(|&&index| bytes[index] != b'-') {
            return Err(error(ParseErrorKind::InvalidChar { index }));
        }
        &UUID_BYTE_OFFSETS
    } else {
        check_length(text, 32).map_err(|kind| match kind {
            ParseErrorKind::Length { found, .. } => error(ParseErrorKind::Length {
                expected: 36,
                found,
            }),
            kind => error(kind),
        })?;
        &SIMPLE_BYTE_OFFSETS
    };
    let mut value = [0u8; 16];
    for (byte, &at) in value.iter_mut().zip(offsets) {
        let (high, low) = (
            HEX_VALUES[usize::from(bytes[at])],
            HEX_VALUES[usize::from(bytes[at + 1])],
        );
        if high == INVALID || low == INVALID {
            let index = if high == INVALID { at } else { at + 1 };
            return Err(error(ParseErrorKind::InvalidChar { index }));
        }
        *byte = high << 4 | low;
    }
    Ok(u128::from_be_bytes(value))
}

/// Checks that `text` has exactly `n_chars` bytes; `n_chars == 0` only rules out emptiness.
fn check_length(text: &str, n_chars: usize) -> Result<(), ParseErrorKind> {
    match text.len() {
        0 => Err(ParseErrorKind::Empty),
        found if n_chars != 0 && found != n_chars => Err(ParseErrorKind::Length {
            expected: n_chars,
            found,
        }),
        _ => Ok(()),
    }
}

/// The byte offsets of the hyphens in the UUID text form.
const HYPHENS: [usize; 4] = [8, 13, 18, 23];

/// Where each of the 16 bytes of a UUID starts in the hyphenated form, and without hyphens.
const UUID_BYTE_OFFSETS: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
const SIMPLE_BYTE_OFFSETS: [usize; 16] =
    [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30];

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The value of each byte as a hexadecimal digit, in either case, or [`INVALID`].
const HEX_VALUES: [u8; 256] = hex_values();

const BASE32_DIGITS: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

const BASE62_DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const INVALID: u8 = u8::MAX;

/// The value of each byte as a Crockford base32 digit, or [`INVALID`].
const BASE32_VALUES: [u8; 256] = base32_values();

const fn hex_values() -> [u8; 256] {
    let mut values = [INVALID; 256];
    let mut digit = 0;
    while digit < 16 {
        let byte = HEX_DIGITS[digit];
        values[byte as usize] = digit as u8;
        values[byte.to_ascii_uppercase() as usize] = digit as u8;
        digit += 1;
    }
    values
}

const fn base32_values() -> [u8; 256] {
    let mut values = [INVALID; 256];
    let mut digit = 0;
    while digit < 32 {
        let byte = BASE32_DIGITS[digit];
        values[byte as usize] = digit as u8;
        values[byte.to_ascii_lowercase() as usize] = digit as u8;
        digit += 1;
    }
    let aliases = [(b'I', 1), (b'L', 1), (b'O', 0)];
    let mut alias_idx = 0;
    while alias_idx < aliases.len() {
        let (byte, digit) = aliases[alias_idx];
        values[byte as usize] = digit;
        values[byte.to_ascii_lowercase() as usize] = digit;
        alias_idx += 1;
    }
    values
}

#[cfg(test)]
mod tests;
