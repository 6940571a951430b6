use std::time::Duration;

use tenfold_host::{Clock, ManualClock, SystemClock};

#[test]
fn system_monotonic_never_decreases() {
    let clock = SystemClock::new();
    let mut last = clock.monotonic();
    for _ in 0..10_000 {
        let now = clock.monotonic();
        assert!(now >= last, "monotonic clock went from {last:?} to {now:?}");
        last = now;
    }
}

#[test]
fn system_wall_clock_is_after_2024() {
    // 2024-01-01T00:00:00Z: a host whose clock reads earlier is misconfigured.
    let wall = SystemClock::new().wall();
    assert!(
        wall >= Duration::from_secs(1_704_067_200),
        "wall clock reads {wall:?}"
    );
}

#[test]
fn manual_clock_steps_wall_back_but_not_monotonic() {
    let clock = ManualClock::new(Duration::from_secs(1_000));
    clock.advance(Duration::from_millis(1_500));
    assert_eq!(clock.monotonic(), Duration::from_millis(1_500));
    assert_eq!(clock.wall(), Duration::from_millis(1_001_500));

    clock.set_wall(Duration::from_secs(900));
    assert_eq!(clock.wall(), Duration::from_secs(900));
    assert_eq!(clock.monotonic(), Duration::from_millis(1_500));
}
