//! Published test vectors, each checked against exact values.
//!
//! Sources: RFC 9562 (May 2024) appendices A.1, A.5 and A.6; the ULID specification
//! (github.com/ulid/spec, README at commit d0c7170); the Discord API documentation and
//! Twitter's Snowflake (IdWorker.scala) for their layouts and epochs, with the decoded IDs
//! that the nyxx test suite (Discord) and client9/snowflake2time (Twitter) assert; the
//! Instagram sharding post for its layout; the TSID creator README for its base32 form.

use std::time::Duration;

use tenfold_ids::{FieldOrder, Id64, Layout, ParseErrorKind, Timestamp};
use tenfold_ids::{Mint128, Policy, Ulid, UlidGenerator, Uuid};

type Check = fn() -> Result<(), String>;

/// Fails with both values when they differ.
#[allow(clippy::needless_pass_by_value)] // Callers pass temporaries; by value reads better.
fn same<T: PartialEq + std::fmt::Debug>(what: &str, found: T, expected: T) -> Result<(), String> {
    if found == expected {
        Ok(())
    } else {
        Err(format!("{what}: found {found:?}, expected {expected:?}"))
    }
}

fn uuid(text: &str) -> Result<Uuid, String> {
    text.parse().map_err(|error| format!("{text}: {error}"))
}

fn ulid(text: &str) -> Result<Ulid, String> {
    text.parse().map_err(|error| format!("{text}: {error}"))
}

fn rfc9562_a6_v7() -> Result<(), String> {
    let id = uuid("017F22E2-79B0-7CC3-98C4-DC0C0C07398F")?;
    let bits = id.to_u128();
    same("unix_ts_ms", bits >> 80, 0x017F_22E2_79B0)?;
    same("version", id.version(), 7)?;
    same("rand_a", bits >> 64 & 0xFFF, 0xCC3)?;
    same("variant", id.variant(), 0b10)?;
    same("rand_b", bits & ((1 << 62) - 1), 0x18C4_DC0C_0C07_398F)?;
    same(
        "time",
        id.timestamp(),
        Some(Timestamp::from_unix_ms(1_645_557_742_000)),
    )?;
    same(
        "text",
        id.to_string(),
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398f".to_owned(),
    )
}

fn rfc9562_a5_v6() -> Result<(), String> {
    let id = uuid("1EC9414C-232A-6B00-B3C8-9F6BDECED846")?;
    same("version", id.version(), 6)?;
    same("ticks", id.gregorian_ticks(), Some(0x01EC_9414_C232_AB00))?;
    same("clock_seq", id.to_u128() >> 48 & 0x3FFF, 0x33C8)?;
    same("node", id.to_u128() & 0xFFFF_FFFF_FFFF, 0x9F6B_DECE_D846)?;
    same(
        "time",
        id.timestamp(),
        Some(Timestamp::from_unix_ms(1_645_557_742_000)),
    )
}

fn rfc9562_a1_v1() -> Result<(), String> {
    let id = uuid("C232AB00-9414-11EC-B3C8-9F6BDECED846")?;
    same("version", id.version(), 1)?;
    same("ticks", id.gregorian_ticks(), Some(0x01EC_9414_C232_AB00))?;
    same(
        "time",
        id.timestamp(),
        Some(Timestamp::from_unix_ms(1_645_557_742_000)),
    )
}

fn rfc9562_same_instant() -> Result<(), String> {
    let v7 = uuid("017F22E2-79B0-7CC3-98C4-DC0C0C07398F")?.timestamp();
    let v6 = uuid("1EC9414C-232A-6B00-B3C8-9F6BDECED846")?.timestamp();
    let v1 = uuid("C232AB00-9414-11EC-B3C8-9F6BDECED846")?.timestamp();
    same("v7 and v6", v7, v6)?;
    same("v6 and v1", v6, v1)?;
    same(
        "text",
        v7.map(|ts| ts.to_string()),
        Some("2022-02-22T19:22:22.000Z".into()),
    )
}

fn ulid_spec_example() -> Result<(), String> {
    let id = ulid("01ARZ3NDEKTSV4RRFFQ69G5FAV")?;
    same("ts", id.timestamp().unix_ms(), 1_469_922_850_259)?;
    same(
        "time",
        id.timestamp().to_string(),
        "2016-07-30T23:54:10.259Z".into(),
    )?;
    same("random", id.random(), 0xD676_4C61_EFB9_9302_BD5B)?;
    same("text", id.to_string(), "01ARZ3NDEKTSV4RRFFQ69G5FAV".into())
}

fn ulid_monotonic_sequence() -> Result<(), String> {
    let texts = [
        "01BX5ZZKBKACTAV9WEVGEMMVRY",
        "01BX5ZZKBKACTAV9WEVGEMMVRZ",
        "01BX5ZZKBKACTAV9WEVGEMMVS0",
        "01BX5ZZKBKACTAV9WEVGEMMVS1",
    ];
    let first = ulid(texts[0])?;
    same("ts", first.timestamp().unix_ms(), 1_508_808_576_371)?;
    same(
        "time",
        first.timestamp().to_string(),
        "2017-10-24T01:29:36.371Z".into(),
    )?;
    same("random tail", first.random() & 0xFFFF, 0x6F1E)?;
    for (step, text) in texts.iter().enumerate() {
        let id = ulid(text)?;
        same(text, id.to_u128(), first.to_u128() + step as u128)?;
    }
    // Our generator, started from the first, mints the others in the same millisecond.
    let at = first.timestamp();
    let before = Ulid::from_parts(at, first.random() - 1).map_err(|e| e.to_string())?;
    let mut generator = UlidGenerator::resume_after(ZeroRng, Policy::refuse(), before);
    for text in texts {
        let minted = generator.mint(at).map_err(|error| error.to_string())?;
        same(text, minted, Mint128::Id(ulid(text)?))?;
    }
    Ok(())
}

fn ulid_overflow_fails() -> Result<(), String> {
    let full = ulid("01BX5ZZKBKZZZZZZZZZZZZZZZZ")?;
    same("random", full.random(), (1 << 80) - 1)?;
    let mut generator = UlidGenerator::resume_after(ZeroRng, Policy::refuse(), full);
    let next = generator.mint(full.timestamp());
    same(
        "next call",
        next,
        Err(tenfold_ids::MintError::SequenceExhausted),
    )
}

fn ulid_bounds() -> Result<(), String> {
    let max = ulid("7ZZZZZZZZZZZZZZZZZZZZZZZZZ")?;
    same("max", max, Ulid::MAX)?;
    same("max ts", max.timestamp().unix_ms(), (1 << 48) - 1)?;
    let overflow = "80000000000000000000000000"
        .parse::<Ulid>()
        .map_err(|e| e.kind());
    same("129 bits", overflow, Err(ParseErrorKind::Overflow))?;
    same("zero", ulid("00000000000000000000000000")?, Ulid::NIL)
}

fn discord_decode() -> Result<(), String> {
    let parts = decode(Layout::discord(), 175_928_847_299_117_063)?;
    same("ts field", parts.time_units, 41_944_705_796)?;
    same(
        "time",
        parts.timestamp.to_string(),
        "2016-04-30T11:18:25.796Z".into(),
    )?;
    same(
        "worker, process, increment",
        (parts.node_high, parts.node_low, parts.sequence),
        (1, 0, 7),
    )
}

fn discord_zero() -> Result<(), String> {
    let parts = decode(Layout::discord(), 0)?;
    same(
        "time",
        parts.timestamp.to_string(),
        "2015-01-01T00:00:00.000Z".into(),
    )?;
    // Discord documents `(timestamp_ms - DISCORD_EPOCH) << 22` as the smallest ID of a time.
    let at = Timestamp::from_unix_ms(1_462_015_105_796);
    let min = Layout::discord().min_id_at(at).map_err(|e| e.to_string())?;
    same(
        "min id",
        min.to_u64(),
        (1_462_015_105_796 - 1_420_070_400_000) << 22,
    )
}

fn twitter_decode() -> Result<(), String> {
    let parts = decode(Layout::twitter(), 204_697_221_847_986_177)?;
    same("ts field", parts.time_units, 48_803_620_779)?;
    same(
        "time",
        parts.timestamp.to_string(),
        "2012-05-21T22:16:35.436Z".into(),
    )?;
    same(
        "datacenter, worker, seq",
        (parts.node_high, parts.node_low, parts.sequence),
        (1, 3, 1),
    )
}

fn instagram_decode() -> Result<(), String> {
    let layout = Layout::builder()
        .time_bits(41)
        .node_bits(13)
        .sequence_bits(10)
        .epoch(Timestamp::from_unix_ms(1_314_220_021_721))
        .build()
        .map_err(|e| e.to_string())?;
    let cases = [
        (
            2_384_288_897_814_875_714,
            "2020-08-26T13:43:27.313Z",
            2675,
            578,
        ),
        (
            2_383_568_809_444_681_765,
            "2020-08-25T13:52:46.090Z",
            2474,
            37,
        ),
    ];
    for (id, time, shard, sequence) in cases {
        let parts = decode(layout, id)?;
        same("time", parts.timestamp.to_string(), time.into())?;
        same(
            "shard, seq",
            (parts.node, parts.sequence),
            (shard, sequence),
        )?;
    }
    Ok(())
}

fn capacities() -> Result<(), String> {
    let years = |layout: Layout| {
        let span = layout.runs_out_at().unix_ms() - layout.epoch().unix_ms();
        (span as f64 / (365.25 * 86_400_000.0) * 10.0).round() / 10.0
    };
    same("41-bit ms years", years(Layout::twitter()), 69.7)?;
    same("42-bit ms years", years(Layout::discord()), 139.4)?;
    same("Sonyflake years", years(Layout::sonyflake()), 174.2)?;
    same(
        "Sonyflake per 10 ms",
        Layout::sonyflake().ids_per_unit(),
        256,
    )?;
    same(
        "Sonyflake per s",
        Layout::sonyflake().ids_per_second(),
        25_600,
    )?;
    same("12-bit per ms", Layout::twitter().ids_per_unit(), 4_096)?;
    same(
        "Sonyflake unit",
        Layout::sonyflake().unit(),
        Duration::from_millis(10),
    )?;
    same(
        "Sonyflake order",
        Layout::sonyflake().order(),
        FieldOrder::TimeSequenceNode,
    )
}

fn baidu_layout_builds() -> Result<(), String> {
    let layout = Layout::builder()
        .time_bits(28)
        .node_bits(22)
        .sequence_bits(13)
        .unit(Duration::from_secs(1))
        .epoch(Timestamp::from_unix_ms(1_463_702_400_000))
        .build()
        .map_err(|e| e.to_string())?;
    same("ids per second", layout.ids_per_second(), 8_192)?;
    same("total bits", layout.total_bits(), 63)
}

fn tsid_base32() -> Result<(), String> {
    let id = Id64::parse_base32("01226N0640J7K").map_err(|e| e.to_string())?;
    same("value", id.to_u64(), 38_358_284_406_638_835)?;
    let last = Id64::parse_base32("01226N0640J7T").map_err(|e| e.to_string())?;
    same("K to T, eight in a row", last.to_u64() - id.to_u64(), 7)?;
    same("text", id.to_base32(), "01226N0640J7K".into())
}

fn decode(layout: Layout, id: u64) -> Result<tenfold_ids::Parts, String> {
    layout
        .decompose(Id64::from_u64(id))
        .map_err(|e| e.to_string())
}

/// A random source of zeros: the vectors continue a known ULID, which draws nothing.
struct ZeroRng;

impl rand_core::TryRng for ZeroRng {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(0)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(0)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        dst.fill(0);
        Ok(())
    }
}

#[test]
#[allow(clippy::print_stdout)]
fn all_vectors() {
    let suite: &[(&str, Check)] = &[
        ("RFC 9562 A.6 v7", rfc9562_a6_v7),
        ("RFC 9562 A.5 v6", rfc9562_a5_v6),
        ("RFC 9562 A.1 v1", rfc9562_a1_v1),
        ("RFC 9562 v7/v6/v1 same instant", rfc9562_same_instant),
        ("ULID spec example", ulid_spec_example),
        ("ULID monotonic RY..S1", ulid_monotonic_sequence),
        ("ULID overflow fails", ulid_overflow_fails),
        ("ULID max, 129-bit, zero", ulid_bounds),
        ("Discord 175928847299117063", discord_decode),
        ("Discord 0 and min id", discord_zero),
        ("Twitter 204697221847986177", twitter_decode),
        ("Instagram media ids", instagram_decode),
        ("capacity facts", capacities),
        ("Baidu uid-generator layout", baidu_layout_builds),
        ("TSID base32", tsid_base32),
    ];
    let failures: Vec<String> = suite
        .iter()
        .filter_map(|(name, check)| check().err().map(|why| format!("{name}: {why}")))
        .collect();
    println!(
        "id vectors: {} passed, {} failed",
        suite.len() - failures.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}
