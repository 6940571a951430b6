//! Each fault happens at its configured rate: counts land within five standard deviations of
//! their expectation, and what the nodes observe agrees with what the simulator counted.

use std::time::Duration;

use tenfold_sim::{
    ClockConfig, Config, Context, Disk, DiskConfig, Latency, LinkConfig, NetConfig, Node,
    NodeFaults, NodeId, Sim, SimRng, SimStats,
};

/// Node 0 sends one probe to node 1 per input; node 1 records what arrives and when.
#[derive(Debug, Default)]
struct Blaster {
    counts: Vec<u32>,
    latencies: Vec<u64>,
    max_id: Option<u64>,
    inversions: u64,
    walls: Vec<(Duration, Duration)>,
}

#[derive(Clone, Copy, Debug, Hash)]
struct Probe {
    id: u64,
    sent_nanos: u64,
}

impl Node for Blaster {
    type Message = Probe;
    type Input = u64;
    type Output = ();

    fn handle_start(&mut self, cx: &mut Context<'_, Self>) {
        cx.set_timer(Duration::from_millis(1), 0);
    }

    fn handle_message(&mut self, cx: &mut Context<'_, Self>, _: NodeId, probe: Probe) {
        let id = probe.id as usize;
        if self.counts.len() <= id {
            self.counts.resize(id + 1, 0);
        }
        self.counts[id] += 1;
        self.latencies
            .push(cx.monotonic().as_nanos() as u64 - probe.sent_nanos);
        if self.max_id.is_some_and(|max| probe.id < max) {
            self.inversions += 1;
        }
        self.max_id = self.max_id.max(Some(probe.id));
    }

    fn handle_timer(&mut self, cx: &mut Context<'_, Self>, _: u64) {
        if self.walls.len() < 10_000 {
            self.walls.push((cx.monotonic(), cx.wall()));
            cx.set_timer(Duration::from_millis(1), 0);
        }
    }

    fn handle_input(&mut self, cx: &mut Context<'_, Self>, id: u64) {
        let sent_nanos = cx.monotonic().as_nanos() as u64;
        cx.send(NodeId(1), Probe { id, sent_nanos });
    }
}

/// Sends `n` probes from node 0 to node 1, 10 µs apart, over `link`, and runs until all land.
fn blast(config: Config, n: u64) -> Sim<Blaster> {
    let mut sim = Sim::new(config, |_| Blaster::default());
    for id in 0..n {
        sim.input_at(Duration::from_micros(10 * id), NodeId(0), id);
    }
    sim.run_until(Duration::from_secs(20))
        .unwrap_or_else(|failure| panic!("{failure}"));
    sim
}

fn with_link(seed: u64, link: LinkConfig) -> Config {
    Config {
        net: NetConfig::uniform(link),
        ..Config::new(seed, 2)
    }
}

/// Asserts that `observed` successes of `n` trials of chance `p` are within 5 sigma.
#[track_caller]
fn assert_binomial(what: &str, observed: u64, n: u64, p: f64) {
    let mean = n as f64 * p;
    let sigma = (mean * (1.0 - p)).sqrt();
    let bound = 5.0 * sigma + 1.0;
    let (low, high) = (mean - bound, mean + bound);
    assert!(
        (low..=high).contains(&(observed as f64)),
        "{what}: {observed} of {n}, expected {mean:.0} (5 sigma: {low:.0}..={high:.0})"
    );
}

fn receiver(sim: &Sim<Blaster>) -> &Blaster {
    sim.node(NodeId(1))
        .expect("node 1 never crashes in this test")
}

const N: u64 = 100_000;

#[test]
fn loss_lands_at_its_rate() {
    let link = LinkConfig {
        loss: 0.1,
        ..LinkConfig::default()
    };
    let sim = blast(with_link(1, link), N);
    let stats = sim.stats();
    assert_binomial("lost", stats.lost, N, 0.1);
    let got = receiver(&sim);
    let n_distinct = got.counts.iter().filter(|&&count| count > 0).count() as u64;
    assert_eq!(
        n_distinct,
        N - stats.lost,
        "the receiver saw exactly what was not lost"
    );
    assert_eq!(stats.delivered, N - stats.lost);
    assert_eq!(stats.sent, N);
}

#[test]
fn duplication_lands_at_its_rate() {
    let link = LinkConfig {
        duplicate: 0.05,
        ..LinkConfig::default()
    };
    let sim = blast(with_link(2, link), N);
    assert_binomial("duplicated", sim.stats().duplicated, N, 0.05);
    let got = receiver(&sim);
    let n_twice = got.counts.iter().filter(|&&count| count == 2).count() as u64;
    assert_eq!(n_twice, sim.stats().duplicated);
    assert!(got.counts.iter().all(|&count| count == 1 || count == 2));
    assert_eq!(got.counts.len() as u64, N);
}

#[test]
fn reordering_lands_at_its_rate_and_is_seen() {
    let link = LinkConfig {
        reorder: 0.2,
        reorder_delay: Duration::from_millis(10),
        ..LinkConfig::default()
    };
    let sim = blast(with_link(3, link), N);
    let n_reordered = sim.stats().reordered;
    assert_binomial("reordered", n_reordered, N, 0.2);
    // A held-back probe is overtaken unless its extra delay is under the 10 µs spacing,
    // which happens to about 0.1% of them.
    let inversions = receiver(&sim).inversions;
    assert!(
        inversions <= n_reordered && inversions * 1000 >= n_reordered * 990,
        "{inversions}"
    );

    let in_order = blast(with_link(3, LinkConfig::default()), 10_000);
    assert_eq!(receiver(&in_order).inversions, 0);
}

#[test]
fn uniform_latency_has_its_mean_and_range() {
    let latency = Latency::uniform(Duration::from_millis(2), Duration::from_millis(4));
    let link = LinkConfig {
        latency,
        ..LinkConfig::default()
    };
    let sim = blast(with_link(4, link), N);
    let latencies = &receiver(&sim).latencies;
    assert_eq!(latencies.len() as u64, N);
    assert!(
        latencies
            .iter()
            .all(|&nanos| (2_000_000..=4_000_000).contains(&nanos))
    );
    // The standard deviation of U(2, 4) ms is 2/sqrt(12) ms, so that of the mean of 1e5 draws
    // is about 1.83 µs.
    let mean = latencies.iter().sum::<u64>() as f64 / N as f64;
    assert!((mean - 3e6).abs() < 5.0 * 1826.0, "mean {mean} ns");
}

#[test]
fn exponential_jitter_has_its_mean_and_tail() {
    let latency = Latency::exponential(Duration::from_millis(1), Duration::from_micros(500));
    let link = LinkConfig {
        latency,
        ..LinkConfig::default()
    };
    let sim = blast(with_link(5, link), N);
    let latencies = &receiver(&sim).latencies;
    let mean = latencies.iter().sum::<u64>() as f64 / N as f64;
    // The jitter's standard deviation is its mean, 500 µs, so the mean's is about 1.58 µs.
    assert!((mean - 1.5e6).abs() < 5.0 * 1581.0, "mean {mean} ns");
    assert!(latencies.iter().all(|&nanos| nanos >= 1_000_000));
    // An exponential exceeds twice its mean with probability e^-2.
    let n_tail = latencies.iter().filter(|&&nanos| nanos > 2_000_000).count() as u64;
    assert_binomial("tail past base + 2 means", n_tail, N, (-2.0f64).exp());
}

#[test]
fn node_and_clock_faults_land_at_their_rates() {
    let mut config = Config::new(6, 2);
    let instant = (Duration::from_nanos(1), Duration::from_nanos(1));
    config.nodes = NodeFaults {
        crash: 0.002,
        restart_after: instant,
        pause: 0.002,
        pause_for: instant,
        ..NodeFaults::default()
    };
    config.clocks = ClockConfig {
        step: 0.002,
        max_step: Duration::from_millis(5),
        ..ClockConfig::default()
    };
    config.net.partition = 0.002;
    config.net.heal_after = instant;
    let sim = blast(config, N);
    let stats: SimStats = sim.stats();
    // Every event draws once; a drawn fault is one of the four kinds with equal odds. A crash
    // or pause is skipped only if its node is already down or paused, which lasts 1 ns here.
    let n = stats.events;
    assert!(n > 2 * N, "{n} events");
    assert_binomial("crashes", stats.crashes, n, 0.002);
    assert_binomial("pauses", stats.pauses, n, 0.002);
    assert_binomial("clock steps", stats.clock_steps, n, 0.002);
    assert_binomial("partitions", stats.partitions, n, 0.002);
    assert_eq!(
        stats.starts,
        2 + stats.crashes,
        "every crashed node came back"
    );
    assert_eq!(sim.n_partitions(), 0, "every partition healed");
}

#[test]
fn clock_steps_move_the_wall_clock_both_ways() {
    let mut config = Config::new(7, 2);
    config.clocks = ClockConfig {
        max_offset: Duration::from_millis(100),
        max_drift_ppm: 300,
        step: 0.05,
        max_step: Duration::from_secs(1),
        ..ClockConfig::default()
    };
    let mut sim = Sim::new(config, |_| Blaster::default());
    sim.run_until(Duration::from_secs(20))
        .unwrap_or_else(|failure| panic!("{failure}"));
    let walls = &sim.node(NodeId(0)).unwrap().walls;
    assert_eq!(walls.len(), 10_000);
    let (mut n_back, mut n_jump) = (0, 0);
    for pair in walls.windows(2) {
        let ((mono_a, wall_a), (mono_b, wall_b)) = (pair[0], pair[1]);
        assert!(mono_b > mono_a, "the monotonic clock never goes back");
        n_back += u32::from(wall_b < wall_a);
        n_jump += u32::from(wall_b > wall_a + Duration::from_millis(2));
    }
    assert!(
        n_back > 50 && n_jump > 50,
        "{n_back} steps back, {n_jump} forward"
    );
    let clock = sim.clock(NodeId(0)).unwrap();
    assert!(clock.drift_ppm().abs() <= 300);
}

#[test]
fn global_preset_round_trips_match_the_regions() {
    let config = Config {
        net: NetConfig::global(5),
        ..Config::new(8, 5)
    };
    let sim = blast(config, 20_000);
    // Node 0 is in us-east and node 1 in us-west: 62 ms round trip, so 31 ms one way plus an
    // exponential jitter of mean 1.55 ms.
    let latencies = &receiver(&sim).latencies;
    let mean = latencies.iter().sum::<u64>() as f64 / latencies.len() as f64;
    let sigma_of_mean = 1.55e6 / (latencies.len() as f64).sqrt();
    assert!(
        (mean - 32.55e6).abs() < 5.0 * sigma_of_mean,
        "mean {mean} ns"
    );
}

#[test]
fn disk_write_and_sync_faults_land_at_their_rates() {
    let config = DiskConfig {
        sector_size: 16,
        bit_flip: 0.01,
        misdirect: 0.01,
        sync_fail: 0.01,
        ..DiskConfig::default()
    };
    let mut disk = Disk::new(config, SimRng::new(9));
    disk.create("f").unwrap();
    for i in 0..N {
        disk.append("f", &record(i)).unwrap();
        if disk.sync("f").is_err() {
            disk.reopen("f").unwrap();
            disk.truncate("f", 16 * (i + 1)).unwrap();
        }
    }
    let stats = disk.stats();
    assert_binomial("bit flips", stats.bit_flips, N, 0.01);
    assert_binomial("sync failures", stats.sync_failures, stats.syncs, 0.01);
    // The first write has nowhere else to go; every other one can be misdirected.
    assert_binomial("misdirected", stats.misdirected, N - 1, 0.01);
}

#[test]
fn every_bit_flip_damages_exactly_one_record_on_the_media() {
    let config = DiskConfig {
        bit_flip: 0.01,
        ..DiskConfig::default()
    };
    let mut disk = Disk::new(config, SimRng::new(10));
    disk.create("f").unwrap();
    for i in 0..N {
        disk.append("f", &record(i)).unwrap();
    }
    disk.sync("f").unwrap();
    let n_damaged = damaged_records(&disk);
    assert_eq!(n_damaged, 0, "the cache holds what was written");
    disk.crash();
    assert_eq!(damaged_records(&disk), disk.stats().bit_flips);
    assert_binomial("bit flips", disk.stats().bit_flips, N, 0.01);
}

#[test]
fn torn_writes_and_zeroed_tails_land_at_their_rates() {
    let config = DiskConfig {
        sector_size: 1,
        torn_write: 0.3,
        zeroed_tail: 0.5,
        ..DiskConfig::default()
    };
    let mut disk = Disk::new(config, SimRng::new(11));
    disk.create("f").unwrap();
    let n = 20_000;
    let (mut n_torn_seen, mut n_zeroed_seen) = (0, 0);
    for _ in 0..n {
        disk.append("f", &[0xAB; 64]).unwrap();
        disk.crash();
        let bytes = disk.read_all("f").unwrap();
        let n_kept = bytes.iter().take_while(|&&byte| byte == 0xAB).count();
        n_torn_seen += u64::from(n_kept > 0 && n_kept < 64);
        n_zeroed_seen += u64::from(bytes.len() == 64 && n_kept < 64);
        disk.truncate("f", 0).unwrap();
        disk.sync("f").unwrap();
    }
    let stats = disk.stats();
    assert_binomial("lost at a crash", stats.lost_ops, n, 0.5);
    assert_binomial("torn", stats.torn_writes, stats.lost_ops, 0.3);
    assert_binomial("zeroed tails", stats.zeroed_tails, stats.lost_ops, 0.5);
    // A tear that keeps 0 bytes looks like a plain loss, 1 time in 64.
    assert!(n_torn_seen <= stats.torn_writes && n_torn_seen * 64 >= stats.torn_writes * 60);
    assert_eq!(n_zeroed_seen, stats.zeroed_tails);
}

fn record(i: u64) -> [u8; 16] {
    let mut bytes = [0; 16];
    bytes[..8].copy_from_slice(&i.to_le_bytes());
    bytes[8..].copy_from_slice(&(!i).to_le_bytes());
    bytes
}

fn damaged_records(disk: &Disk) -> u64 {
    let bytes = disk.read_all("f").unwrap();
    let chunks = bytes.chunks_exact(16).enumerate();
    chunks
        .filter(|&(i, chunk)| chunk != record(i as u64))
        .count() as u64
}
