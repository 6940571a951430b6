//! Swarm testing: each seed also chooses which faults are on and how often.
//!
//! A fixed mix of faults explores the same corner of the space on every seed. Here each seed
//! turns each kind of fault on with even odds and, if on, draws its rate log-uniformly over a
//! wide range, so that rare combinations (a torn write during a partition with a stepped
//! clock) come up within a few thousand seeds.

use std::time::Duration;

use crate::clock::ClockConfig;
use crate::disk::DiskConfig;
use crate::net::{Latency, LinkConfig, NetConfig};
use crate::rng::{SimRng, Stream};
use crate::sim::{Config, NodeFaults};

impl Config {
    /// A config for `seed` whose faults the seed also chooses: each kind is on or off with
    /// even odds, and its rate is drawn log-uniformly over a wide range. The choice draws from
    /// its own stream, so it does not shift the run's other random numbers.
    ///
    /// Disk capacity stays unlimited; set [`DiskConfig::capacity`] to test a full disk.
    pub fn swarm(seed: u64, n_nodes: u32) -> Self {
        let mut rng = SimRng::for_stream(seed, Stream::Swarm, 0, 0);
        Self {
            net: swarm_net(&mut rng),
            disk: swarm_disk(&mut rng),
            clocks: swarm_clocks(&mut rng),
            nodes: swarm_nodes(&mut rng),
            ..Self::new(seed, n_nodes)
        }
    }
}

fn swarm_net(rng: &mut SimRng) -> NetConfig {
    let base = Duration::from_nanos(log_uniform(rng, 50_000.0, 50_000_000.0) as u64);
    let latency = match rng.below(3) {
        0 => Latency::fixed(base),
        1 => Latency::uniform(base, base * 3),
        _ => Latency::exponential(base, base / 2),
    };
    let link = LinkConfig {
        latency,
        loss: maybe(rng, 0.001, 0.3),
        duplicate: maybe(rng, 0.001, 0.2),
        reorder: maybe(rng, 0.01, 0.5),
        reorder_delay: base * 4,
    };
    let mut net = NetConfig::uniform(link);
    net.partition = maybe(rng, 1e-4, 1e-2);
    net.one_way = rng.unit();
    net.heal_after = (Duration::from_millis(10), Duration::from_secs(5));
    net
}

fn swarm_disk(rng: &mut SimRng) -> DiskConfig {
    DiskConfig {
        sector_size: [1, 512, 4096][rng.below(3) as usize],
        torn_write: maybe(rng, 0.1, 1.0),
        zeroed_tail: maybe(rng, 0.1, 1.0),
        bit_flip: maybe(rng, 1e-4, 1e-2),
        misdirect: maybe(rng, 1e-4, 1e-2),
        sync_fail: maybe(rng, 1e-3, 1e-1),
        ..DiskConfig::default()
    }
}

fn swarm_clocks(rng: &mut SimRng) -> ClockConfig {
    ClockConfig {
        max_offset: Duration::from_nanos(rng.below(2_000_000_000)),
        max_drift_ppm: rng.below(500) as u32,
        step: maybe(rng, 1e-4, 1e-2),
        max_step: Duration::from_nanos(rng.below(10_000_000_000)),
        ..ClockConfig::default()
    }
}

fn swarm_nodes(rng: &mut SimRng) -> NodeFaults {
    NodeFaults {
        crash: maybe(rng, 1e-4, 1e-2),
        crash_during: maybe(rng, 1e-4, 1e-2),
        pause: maybe(rng, 1e-4, 1e-2),
        ..NodeFaults::default()
    }
}

/// Zero with even odds, or else a rate drawn log-uniformly from `low..high`.
fn maybe(rng: &mut SimRng, low: f64, high: f64) -> f64 {
    if rng.chance(0.5) {
        log_uniform(rng, low, high)
    } else {
        0.0
    }
}

fn log_uniform(rng: &mut SimRng, low: f64, high: f64) -> f64 {
    libm::exp(libm::log(low) + rng.unit() * (libm::log(high) - libm::log(low)))
}
