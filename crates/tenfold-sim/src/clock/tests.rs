use super::*;

#[test]
fn drift_is_exact() {
    let clock = NodeClock::new(Duration::ZERO, 0, 250);
    let mono = clock.monotonic(Duration::from_secs(1_000));
    assert_eq!(mono, Duration::from_millis(1_000_250));
    let slow = NodeClock::new(Duration::ZERO, 0, -100);
    assert_eq!(
        slow.monotonic(Duration::from_secs(10)),
        Duration::from_millis(9_999)
    );
}

#[test]
fn wall_has_offset_and_steps_both_ways() {
    let mut clock = NodeClock::new(DEFAULT_EPOCH, -5_000_000, 0);
    let now = Duration::from_secs(3);
    assert_eq!(
        clock.wall(now),
        DEFAULT_EPOCH + now - Duration::from_millis(5)
    );
    clock.step(-10_000_000_000);
    assert_eq!(
        clock.wall(now),
        DEFAULT_EPOCH + now - Duration::from_millis(10_005)
    );
    clock.step(20_000_000_000);
    assert_eq!(
        clock.wall(now),
        DEFAULT_EPOCH + now + Duration::from_millis(9_995)
    );
    assert_eq!(clock.monotonic(now), now);
}

#[test]
fn wall_saturates_at_zero() {
    let mut clock = NodeClock::new(Duration::from_secs(1), 0, 0);
    clock.step(-5_000_000_000);
    assert_eq!(clock.wall(Duration::ZERO), Duration::ZERO);
}

#[test]
fn timers_never_fire_early_by_local_time() {
    for drift in [-300, -1, 0, 1, 77, 500] {
        let clock = NodeClock::new(Duration::ZERO, 0, drift);
        for local in [1u64, 999, 1_000_000, 123_456_789] {
            let delay = clock.true_delay(Duration::from_nanos(local));
            let elapsed = clock.monotonic(delay);
            assert!(
                elapsed >= Duration::from_nanos(local),
                "drift {drift} local {local}"
            );
            let before = clock.monotonic(delay - Duration::from_nanos(1));
            assert!(before < Duration::from_nanos(local) + Duration::from_nanos(1));
        }
    }
}

#[test]
fn random_clocks_stay_in_bounds() {
    let config = ClockConfig {
        max_offset: Duration::from_millis(50),
        max_drift_ppm: 200,
        ..ClockConfig::default()
    };
    let mut rng = SimRng::new(3);
    for _ in 0..1_000 {
        let clock = NodeClock::random(&config, &mut rng);
        assert!(clock.offset_nanos().abs() <= 50_000_000);
        assert!(clock.drift_ppm().abs() <= 200);
    }
}

#[test]
#[should_panic = "stops the clock"]
fn a_stopped_clock_is_refused() {
    let _ = NodeClock::new(Duration::ZERO, 0, -1_000_000);
}
