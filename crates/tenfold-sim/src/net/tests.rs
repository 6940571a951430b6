use super::*;

#[test]
fn global_preset_has_realistic_round_trips() {
    let config = NetConfig::global(10);
    let one_way = |a: u32, b: u32| config.link(NodeId(a), NodeId(b)).latency.mean();
    // Node 0 is in us-east and node 3 in ap-northeast: 145 ms round trip, plus 5% jitter.
    assert_eq!(one_way(0, 3), Duration::from_micros(72_500 + 3_625));
    assert_eq!(
        one_way(0, 5),
        Duration::from_micros(550),
        "nodes 0 and 5 share us-east"
    );
    for a in 0..5 {
        for b in 0..5 {
            let rtt = region_rtt(a, b);
            assert_eq!(rtt, region_rtt(b, a));
            if a != b {
                assert!(rtt >= Duration::from_millis(30) && rtt <= Duration::from_millis(250));
            }
        }
    }
}

#[test]
fn partitions_compose_and_heal() {
    let mut net = Network::new(&NetConfig::default(), 3);
    let (n0, n1, n2) = (NodeId(0), NodeId(1), NodeId(2));
    let first = net.partition(&[n0], &[n1, n2], true);
    assert!(net.is_cut(n0, n1) && net.is_cut(n0, n2));
    assert!(
        !net.is_cut(n1, n0),
        "one-way partitions leave the way back open"
    );
    let second = net.partition(&[n0], &[n1], false);
    assert!(net.is_cut(n1, n0));
    assert!(net.heal(first));
    assert!(!net.heal(first));
    assert!(net.is_cut(n0, n1), "the second partition still cuts 0 to 1");
    assert!(!net.is_cut(n0, n2));
    assert_eq!(net.n_partitions(), 1);
    assert!(net.heal(second));
    assert!(!net.is_cut(n0, n1) && !net.is_cut(n1, n0));
    let mut rng = SimRng::new(0);
    let mut stats = SimStats::default();
    assert_eq!(
        net.send(n0, n1, &mut rng, &mut stats),
        Fate::Arrives(1_000_000, None)
    );
    assert_eq!(stats, SimStats::default());
}

#[test]
fn random_sides_are_proper() {
    let net = Network::new(&NetConfig::default(), 2);
    let mut rng = SimRng::new(4);
    for _ in 0..100 {
        let (a, b) = net.random_sides(&mut rng);
        assert_eq!(a.len() + b.len(), 2);
        assert!(!a.is_empty() && !b.is_empty());
    }
}

#[test]
fn uniform_latency_stays_in_range() {
    let latency = Latency::uniform(Duration::from_millis(2), Duration::from_millis(4));
    let mut rng = SimRng::new(9);
    let (mut low, mut high) = (u64::MAX, 0);
    for _ in 0..10_000 {
        let nanos = latency.sample(&mut rng);
        low = low.min(nanos);
        high = high.max(nanos);
    }
    assert!((2_000_000..2_010_000).contains(&low), "{low}");
    assert!((3_990_001..=4_000_000).contains(&high), "{high}");
    assert_eq!(latency.mean(), Duration::from_millis(3));
}
