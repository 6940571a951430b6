use super::*;

#[test]
fn seeds_from_values() {
    assert_eq!(Seeds::from_values(None, None, 100).range(), 0..100);
    assert_eq!(Seeds::from_values(Some(42), None, 100).range(), 42..43);
    assert_eq!(Seeds::from_values(None, Some(7), 100).range(), 0..7);
    assert_eq!(Seeds::from_values(Some(5), Some(3), 100).range(), 5..8);
}

#[test]
fn run_stops_at_the_first_failure() {
    let mut ran = Vec::new();
    let result = Seeds::new(10, 5).run(|seed| {
        ran.push(seed);
        if seed == 12 {
            Err(failure(seed))
        } else {
            Ok(())
        }
    });
    assert_eq!(result.unwrap_err().seed(), 12);
    assert_eq!(ran, [10, 11, 12]);
    assert_eq!(Seeds::new(0, 3).run(|_| Ok(())), Ok(3));
}

#[test]
#[should_panic = "replay it with SIM_SEED=3"]
fn check_panics_with_the_seed() {
    Seeds::new(0, 5).check(|seed| {
        if seed == 3 {
            Err(failure(seed))
        } else {
            Ok(())
        }
    });
}

fn failure(seed: u64) -> Failure {
    let event = crate::TraceEvent {
        idx: 0,
        time: std::time::Duration::ZERO,
        kind: crate::EventKind::Start,
        node: crate::NodeId(0),
        peer: crate::NodeId(0),
        value: 0,
    };
    Failure::new(seed, "test", "broken".into(), event, vec![event])
}
