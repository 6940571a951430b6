use std::time::Duration;

use super::{FieldOrder, Layout, LayoutError, RangeError, mask};
use crate::{Id64, Timestamp};

#[test]
fn presets_are_what_their_builders_make() {
    let twitter = Layout::builder()
        .time_bits(41)
        .node_bits(10)
        .sequence_bits(12)
        .node_split(5)
        .epoch(Timestamp::from_unix_ms(1_288_834_974_657))
        .build();
    assert_eq!(twitter, Ok(Layout::twitter()));
    let sonyflake = Layout::builder()
        .time_bits(39)
        .node_bits(16)
        .sequence_bits(8)
        .order(FieldOrder::TimeSequenceNode)
        .unit(Duration::from_millis(10))
        .epoch(Timestamp::from_unix_ms(1_735_689_600_000))
        .build();
    assert_eq!(sonyflake, Ok(Layout::sonyflake()));
    for layout in [Layout::discord(), Layout::js_safe()] {
        let rebuilt = Layout::builder()
            .time_bits(layout.time_bits() as u8)
            .node_bits(layout.node_bits() as u8)
            .sequence_bits(layout.sequence_bits() as u8)
            .node_split(layout.node_split() as u8)
            .unit(layout.unit())
            .epoch(layout.epoch())
            .build();
        assert_eq!(rebuilt, Ok(layout));
    }
}

#[test]
fn lifetimes_and_caps() {
    // 41 bits of ms last 69.7 years, 42 bits 139.4 years, Sonyflake's 39 × 10 ms 174.2.
    assert_eq!(
        Layout::twitter().runs_out_at().to_string(),
        "2080-07-10T17:30:30.209Z"
    );
    assert_eq!(
        Layout::discord().runs_out_at().to_string(),
        "2154-05-15T07:35:11.104Z"
    );
    assert_eq!(
        Layout::sonyflake().runs_out_at().to_string(),
        "2199-03-19T03:28:58.880Z"
    );
    assert_eq!(
        Layout::js_safe().runs_out_at().to_string(),
        "2112-02-09T13:44:29.440Z"
    );
    assert_eq!(Layout::twitter().ids_per_second(), 4_096_000);
    assert_eq!(Layout::sonyflake().ids_per_second(), 25_600);
    assert_eq!(Layout::js_safe().ids_per_second(), 12_800);
    assert!(Layout::js_safe().is_js_safe());
    assert!(!Layout::twitter().is_js_safe());
    assert_eq!(Layout::discord().total_bits(), 64);
}

#[test]
fn builder_rejects_bad_fields() {
    let build = |builder: super::LayoutBuilder| builder.build();
    assert_eq!(
        build(Layout::builder().time_bits(0)),
        Err(LayoutError::TimeBits(0))
    );
    assert_eq!(
        build(Layout::builder().time_bits(64)),
        Err(LayoutError::TimeBits(64))
    );
    assert_eq!(
        build(Layout::builder().sequence_bits(0)),
        Err(LayoutError::NoSequenceBits)
    );
    let too_wide = build(Layout::builder().time_bits(43));
    assert_eq!(too_wide, Err(LayoutError::TooWide { total: 65 }));
    assert_eq!(
        build(Layout::builder().node_split(11)),
        Err(LayoutError::NodeSplit)
    );
    let half_ms = Duration::from_micros(1500);
    assert_eq!(
        build(Layout::builder().unit(half_ms)),
        Err(LayoutError::Unit(half_ms))
    );
    let zero = build(Layout::builder().unit(Duration::ZERO));
    assert_eq!(zero, Err(LayoutError::Unit(Duration::ZERO)));
    assert_eq!(
        LayoutError::TooWide { total: 65 }.to_string(),
        "the fields need 65 bits; at most 64 fit"
    );
}

#[test]
fn compose_and_decompose_agree() {
    for layout in [
        Layout::twitter(),
        Layout::discord(),
        Layout::sonyflake(),
        Layout::js_safe(),
    ] {
        let time = Timestamp::from_unix_ms(layout.epoch().unix_ms() + 123_456_780);
        let id = layout.compose(time, layout.max_node(), 5).unwrap();
        let parts = layout.decompose(id).unwrap();
        assert_eq!(parts.timestamp, time);
        assert_eq!((parts.node, parts.sequence), (layout.max_node(), 5));
        let low_bits = layout.node_bits() - layout.node_split();
        assert_eq!(parts.node_high << low_bits | parts.node_low, parts.node);
    }
}

#[test]
fn sonyflake_keeps_the_machine_in_the_low_bits() {
    let layout = Layout::sonyflake();
    let time = Timestamp::from_unix_ms(layout.epoch().unix_ms() + 20);
    let id = layout.compose(time, 0xBEEF, 3).unwrap();
    assert_eq!(id.to_u64(), 2 << 24 | 3 << 16 | 0xBEEF);
}

#[test]
fn compose_checks_ranges() {
    let layout = Layout::twitter();
    let before = Timestamp::from_unix_ms(layout.epoch().unix_ms() - 1);
    assert_eq!(layout.compose(before, 0, 0), Err(RangeError::BeforeEpoch));
    assert_eq!(
        layout.compose(layout.runs_out_at(), 0, 0),
        Err(RangeError::AfterEnd)
    );
    assert_eq!(
        layout.compose(layout.epoch(), 1024, 0),
        Err(RangeError::Node)
    );
    assert_eq!(
        layout.compose(layout.epoch(), 0, 4096),
        Err(RangeError::Sequence)
    );
    assert_eq!(
        layout.decompose(Id64::from_u64(1 << 63)),
        Err(RangeError::ExtraBits)
    );
    assert!(
        Layout::discord()
            .decompose(Id64::from_u64(u64::MAX))
            .is_ok()
    );
}

#[test]
fn min_and_max_ids_bracket_a_unit() {
    let layout = Layout::sonyflake();
    let time = Timestamp::from_unix_ms(layout.epoch().unix_ms() + 1_005);
    let min = layout.min_id_at(time).unwrap();
    let max = layout.max_id_at(time).unwrap();
    assert_eq!(layout.decompose(min).unwrap().timestamp.unix_ms() % 10, 0);
    assert_eq!(max.to_u64() - min.to_u64(), mask(24));
    let next_unit = Timestamp::from_unix_ms(time.unix_ms() + 10);
    assert_eq!(
        layout.min_id_at(next_unit).unwrap().to_u64(),
        max.to_u64() + 1
    );
}
