use super::*;

#[test]
fn same_seed_same_stream() {
    let mut a = SimRng::new(7);
    let mut b = SimRng::new(7);
    for _ in 0..100 {
        assert_eq!(a.next_u64(), b.next_u64());
    }
}

#[test]
fn streams_differ() {
    let mut a = SimRng::for_stream(7, Stream::Node, 0, 0);
    let mut b = SimRng::for_stream(7, Stream::Node, 1, 0);
    let mut c = SimRng::for_stream(7, Stream::Disk, 0, 0);
    let (x, y, z) = (a.next_u64(), b.next_u64(), c.next_u64());
    assert!(x != y && y != z && x != z);
}

#[test]
fn the_stream_is_pinned() {
    // If this changes, every recorded failing seed in the project replays differently.
    let mut rng = SimRng::new(0);
    let first = rng.next_u64();
    let mut again = SimRng::new(0);
    assert_eq!(first, again.next_u64());
    assert_eq!(first, PINNED_FIRST_DRAW);
}

#[test]
fn below_stays_below_and_covers() {
    let mut rng = SimRng::new(1);
    let mut seen = [0u32; 10];
    for _ in 0..10_000 {
        let x = rng.below(10);
        assert!(x < 10);
        seen[x as usize] += 1;
    }
    // Each bucket expects 1000 with sigma about 30; 5 sigma is 150.
    for count in seen {
        assert!((850..=1150).contains(&count), "{seen:?}");
    }
    assert_eq!(rng.below(0), 0);
    assert_eq!(rng.between(5, 5), 5);
    assert_eq!(rng.between(5, 4), 5);
}

#[test]
fn exponential_mean() {
    let mut rng = SimRng::new(2);
    let n = 100_000;
    let total: f64 = (0..n).map(|_| rng.exponential(3.0)).sum();
    let mean = total / f64::from(n);
    // The standard error is 3 / sqrt(1e5), about 0.0095; allow 5 of them.
    assert!((mean - 3.0).abs() < 0.05, "{mean}");
}

const PINNED_FIRST_DRAW: u64 = 7_480_340_491_648_663_746;
