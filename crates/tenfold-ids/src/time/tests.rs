use std::time::Duration;

use super::{Clock, ManualClock, Timestamp};

fn check(ms: u64, expected: &str) {
    assert_eq!(Timestamp::from_unix_ms(ms).to_string(), expected, "{ms} ms");
}

#[test]
fn formats_rfc3339() {
    check(0, "1970-01-01T00:00:00.000Z");
    check(951_782_400_000, "2000-02-29T00:00:00.000Z");
    check(1_645_557_742_000, "2022-02-22T19:22:22.000Z");
    check(1_288_834_974_657, "2010-11-04T01:42:54.657Z");
    check(1_420_070_400_000, "2015-01-01T00:00:00.000Z");
    check(4_102_444_799_999, "2099-12-31T23:59:59.999Z");
    check(281_474_976_710_655, "10889-08-02T05:31:50.655Z");
}

#[test]
fn converts_durations_to_whole_milliseconds() {
    let ts = Timestamp::from_duration(Duration::new(1, 999_999_999));
    assert_eq!(ts.unix_ms(), 1999);
    assert_eq!(Timestamp::from(Duration::MAX), Timestamp::MAX);
    assert_eq!(ts.as_duration(), Duration::from_millis(1999));
}

#[test]
fn saturates_at_both_ends() {
    let ts = Timestamp::from_unix_ms(5);
    assert_eq!(
        ts.saturating_sub(Duration::from_secs(1)),
        Timestamp::UNIX_EPOCH
    );
    assert_eq!(
        Timestamp::MAX.saturating_add(Duration::from_secs(1)),
        Timestamp::MAX
    );
    assert_eq!(ts.saturating_duration_since(Timestamp::MAX), Duration::ZERO);
    assert_eq!(
        Timestamp::MAX.saturating_duration_since(ts),
        Duration::from_millis(u64::MAX - 5)
    );
}

#[test]
fn manual_clock_steps_both_ways() {
    let clock = ManualClock::new(Timestamp::from_unix_ms(10_000));
    clock.advance(Duration::from_millis(5));
    assert_eq!(clock.now().unix_ms(), 10_005);
    clock.step_back(Duration::from_secs(1));
    let by_ref: &dyn Clock = &clock;
    assert_eq!((&by_ref).now().unix_ms(), 9_005);
    clock.step_back(Duration::from_secs(3600));
    assert_eq!(clock.now(), Timestamp::UNIX_EPOCH);
}
