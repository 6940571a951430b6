//! Every text parser of `tenfold-ids`, and `Layout::decompose` on raw 64-bit values.
//!
//! Nothing may panic, and whatever a parser accepts must print to a form that parses back to
//! the same ID; the decimal and base62 parsers accept only their own printed form.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tenfold_ids::{Id64, Layout, Ulid, Uuid};

fuzz_target!(|data: &[u8]| {
    if data.len() >= 8 {
        let value = u64::from_le_bytes(data[..8].try_into().expect("eight bytes"));
        for layout in [
            Layout::twitter(),
            Layout::discord(),
            Layout::sonyflake(),
            Layout::js_safe(),
        ] {
            if let Ok(parts) = layout.decompose(Id64::from_u64(value)) {
                let id = layout.compose(parts.timestamp, parts.node, parts.sequence);
                assert_eq!(id, Ok(Id64::from_u64(value)));
            }
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = text.parse::<Id64>() {
        assert_eq!(id.to_string(), text);
    }
    if let Ok(id) = Id64::parse_base32(text) {
        assert_eq!(Id64::parse_base32(&id.to_base32()), Ok(id));
    }
    if let Ok(id) = Id64::parse_base62(text) {
        assert_eq!(id.to_base62(), text);
    }
    if let Ok(id) = text.parse::<Ulid>() {
        assert_eq!(id.to_string().parse::<Ulid>(), Ok(id));
    }
    if let Ok(id) = Ulid::parse_base62(text) {
        assert_eq!(id.to_base62(), text);
    }
    if let Ok(id) = text.parse::<Uuid>() {
        assert_eq!(id.to_string().parse::<Uuid>(), Ok(id));
        let _ = id.timestamp();
    }
    if let Ok(id) = Uuid::parse_base32(text) {
        assert_eq!(Uuid::parse_base32(&id.to_base32()), Ok(id));
    }
    if let Ok(id) = Uuid::parse_base62(text) {
        assert_eq!(id.to_base62(), text);
    }
});
