use super::{Format, ParseError, ParseErrorKind};
use super::{decode_base32, decode_base62, decode_decimal, decode_uuid};
use super::{encode_base32, encode_base62, encode_uuid};

fn error(format: Format, kind: ParseErrorKind) -> ParseError {
    ParseError::new(format, kind)
}

#[test]
fn base32_round_trips_and_pads() {
    let mut text = [0; 13];
    encode_base32(1, &mut text);
    assert_eq!(&text, b"0000000000001");
    encode_base32(u128::from(u64::MAX), &mut text);
    assert_eq!(&text, b"FZZZZZZZZZZZZ");
    assert_eq!(
        decode_base32("FZZZZZZZZZZZZ", 13, 64),
        Ok(u128::from(u64::MAX))
    );
    assert_eq!(
        decode_base32("fzzzzzzzzzzzz", 13, 64),
        Ok(u128::from(u64::MAX))
    );
}

#[test]
fn base32_reads_crockford_aliases() {
    assert_eq!(
        decode_base32("0000000000OIL", 13, 64),
        Ok(0b00000_00001_00001)
    );
    assert_eq!(
        decode_base32("0000000000oil", 13, 64),
        Ok(0b00000_00001_00001)
    );
}

#[test]
fn base32_rejects_bad_input() {
    let base32 = |kind| error(Format::Base32, kind);
    assert_eq!(
        decode_base32("", 13, 64),
        Err(base32(ParseErrorKind::Empty))
    );
    let length = ParseErrorKind::Length {
        expected: 13,
        found: 3,
    };
    assert_eq!(decode_base32("ABC", 13, 64), Err(base32(length)));
    let invalid = ParseErrorKind::InvalidChar { index: 12 };
    assert_eq!(decode_base32("000000000000U", 13, 64), Err(base32(invalid)));
    assert_eq!(
        decode_base32("G000000000000", 13, 64),
        Err(base32(ParseErrorKind::Overflow))
    );
    let multibyte = decode_base32("00000000000é", 13, 64);
    assert_eq!(
        multibyte,
        Err(base32(ParseErrorKind::InvalidChar { index: 11 }))
    );
}

#[test]
fn base62_round_trips_and_rejects() {
    let mut text = [0; 11];
    encode_base62(u128::from(u64::MAX), &mut text);
    assert_eq!(&text, b"LygHa16AHYF");
    assert_eq!(
        decode_base62("LygHa16AHYF", 11, u128::from(u64::MAX)),
        Ok(u128::from(u64::MAX))
    );
    let overflow = decode_base62("LygHa16AHYG", 11, u128::from(u64::MAX));
    assert_eq!(
        overflow,
        Err(error(Format::Base62, ParseErrorKind::Overflow))
    );
    let invalid = decode_base62("0000000000-", 11, u128::MAX);
    let kind = ParseErrorKind::InvalidChar { index: 10 };
    assert_eq!(invalid, Err(error(Format::Base62, kind)));
    let mut text = [0; 22];
    encode_base62(u128::MAX, &mut text);
    assert_eq!(
        decode_base62(std::str::from_utf8(&text).unwrap(), 22, u128::MAX),
        Ok(u128::MAX)
    );
    assert!(decode_base62("zzzzzzzzzzzzzzzzzzzzzz", 22, u128::MAX).is_err());
}

#[test]
fn decimal_is_canonical() {
    let decimal = |kind| error(Format::Decimal, kind);
    assert_eq!(decode_decimal("0"), Ok(0));
    assert_eq!(decode_decimal("18446744073709551615"), Ok(u64::MAX));
    assert_eq!(
        decode_decimal("18446744073709551616"),
        Err(decimal(ParseErrorKind::Overflow))
    );
    assert_eq!(
        decode_decimal("007"),
        Err(decimal(ParseErrorKind::LeadingZero))
    );
    assert_eq!(decode_decimal(""), Err(decimal(ParseErrorKind::Empty)));
    let plus = ParseErrorKind::InvalidChar { index: 0 };
    assert_eq!(decode_decimal("+7"), Err(decimal(plus)));
}

#[test]
fn uuid_text_both_forms() {
    let value = 0x017F22E2_79B0_7CC3_98C4_DC0C0C07398F_u128;
    let mut text = [0; 36];
    encode_uuid(value, &mut text);
    assert_eq!(&text, b"017f22e2-79b0-7cc3-98c4-dc0c0c07398f");
    assert_eq!(
        decode_uuid("017F22E2-79B0-7CC3-98C4-DC0C0C07398F"),
        Ok(value)
    );
    assert_eq!(decode_uuid("017F22E279B07CC398C4DC0C0C07398F"), Ok(value));
    let hyphen = ParseErrorKind::InvalidChar { index: 8 };
    let moved = decode_uuid("017F22E27-9B0-7CC3-98C4-DC0C0C07398F");
    assert_eq!(moved, Err(error(Format::Uuid, hyphen)));
    let length = ParseErrorKind::Length {
        expected: 36,
        found: 35,
    };
    let short = decode_uuid("017F22E2-79B0-7CC3-98C4-DC0C0C07398");
    assert_eq!(short, Err(error(Format::Uuid, length)));
}

#[test]
fn errors_read_as_lowercase_sentences() {
    let text = error(Format::Base32, ParseErrorKind::Overflow).to_string();
    assert_eq!(text, "invalid base32 id: value out of range");
    let text = error(Format::Uuid, ParseErrorKind::InvalidChar { index: 3 }).to_string();
    assert_eq!(text, "invalid uuid: unexpected character at 3");
}
