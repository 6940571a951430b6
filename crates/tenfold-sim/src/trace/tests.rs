use super::*;

#[test]
fn fnv_matches_the_reference_vectors() {
    // FNV-1a 64 of "" and "a", from the FNV reference.
    let mut empty = Fnv::default();
    empty.write(b"");
    assert_eq!(empty.finish(), 0xcbf2_9ce4_8422_2325);
    let mut a = Fnv::default();
    a.write(b"a");
    assert_eq!(a.finish(), 0xaf63_dc4c_8601_ec8c);
}

#[test]
fn ring_keeps_the_last_events_in_order() {
    let mut trace = Trace::new(3);
    for i in 0..5u32 {
        trace.record(
            Duration::from_millis(u64::from(i)),
            EventKind::Timer,
            NodeId(i),
            NodeId(i),
            9,
        );
    }
    let idxs: Vec<u64> = trace.last_events().iter().map(|e| e.idx).collect();
    assert_eq!(idxs, [2, 3, 4]);
    assert_eq!(trace.n_events(), 5);
}

#[test]
fn hash_depends_on_every_field() {
    let base = |t: &mut Trace| {
        t.record(
            Duration::from_nanos(5),
            EventKind::Deliver,
            NodeId(1),
            NodeId(2),
            3,
        )
    };
    let mut reference = Trace::new(0);
    base(&mut reference);
    let variants: [fn(&mut Trace) -> TraceEvent; 5] = [
        |t| {
            t.record(
                Duration::from_nanos(6),
                EventKind::Deliver,
                NodeId(1),
                NodeId(2),
                3,
            )
        },
        |t| {
            t.record(
                Duration::from_nanos(5),
                EventKind::Drop,
                NodeId(1),
                NodeId(2),
                3,
            )
        },
        |t| {
            t.record(
                Duration::from_nanos(5),
                EventKind::Deliver,
                NodeId(0),
                NodeId(2),
                3,
            )
        },
        |t| {
            t.record(
                Duration::from_nanos(5),
                EventKind::Deliver,
                NodeId(1),
                NodeId(1),
                3,
            )
        },
        |t| {
            t.record(
                Duration::from_nanos(5),
                EventKind::Deliver,
                NodeId(1),
                NodeId(2),
                4,
            )
        },
    ];
    for variant in variants {
        let mut other = Trace::new(0);
        variant(&mut other);
        assert_ne!(other.hash(), reference.hash());
    }
    let mut same = Trace::new(0);
    base(&mut same);
    assert_eq!(same.hash(), reference.hash());
}

#[test]
fn digest_is_stable() {
    assert_eq!(digest(&0u8), digest(&0u8));
    assert_ne!(digest(&(1u32, 2u32)), digest(&(2u32, 1u32)));
}
