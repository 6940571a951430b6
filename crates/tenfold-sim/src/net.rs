//! The simulated network: per-link latency, loss, duplication and reordering, and partitions.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::NodeId;
use crate::rng::SimRng;
use crate::sim::SimStats;

/// How long a message takes on a link: a base delay plus random jitter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Latency {
    base: Duration,
    jitter: Duration,
    shape: Jitter,
}

/// The distribution of the jitter added to a link's base delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jitter {
    /// Uniform in `0..=jitter`.
    Uniform,
    /// Exponential with mean `jitter`: mostly small, with a long tail, as queues make it.
    Exponential,
}

impl Latency {
    /// Always exactly `delay`.
    pub const fn fixed(delay: Duration) -> Self {
        Self {
            base: delay,
            jitter: Duration::ZERO,
            shape: Jitter::Uniform,
        }
    }

    /// Uniform in `min..=max`. If `max < min`, always `min`.
    pub fn uniform(min: Duration, max: Duration) -> Self {
        Self {
            base: min,
            jitter: max.saturating_sub(min),
            shape: Jitter::Uniform,
        }
    }

    /// `base` plus an exponential jitter with mean `mean_jitter`.
    pub const fn exponential(base: Duration, mean_jitter: Duration) -> Self {
        Self {
            base,
            jitter: mean_jitter,
            shape: Jitter::Exponential,
        }
    }

    /// The mean delay.
    pub fn mean(&self) -> Duration {
        match self.shape {
            Jitter::Uniform => self.base + self.jitter / 2,
            Jitter::Exponential => self.base + self.jitter,
        }
    }

    /// Draws one delay, in nanoseconds.
    fn sample(&self, rng: &mut SimRng) -> u64 {
        let base = self.base.as_nanos() as u64;
        let jitter = self.jitter.as_nanos() as u64;
        if jitter == 0 {
            return base;
        }
        match self.shape {
            Jitter::Uniform => base + rng.between(0, jitter),
            Jitter::Exponential => base + rng.exponential(jitter as f64) as u64,
        }
    }
}

/// The behaviour of one directed link. The default is a perfect link with 1 ms latency.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkConfig {
    /// The delay of each message.
    pub latency: Latency,
    /// The chance a message is lost.
    pub loss: f64,
    /// The chance a message that is not lost arrives twice; the copy has its own delay.
    pub duplicate: f64,
    /// The chance a message is held back by up to `reorder_delay` more, so later messages
    /// overtake it.
    pub reorder: f64,
    /// The most extra delay of a reordered message.
    pub reorder_delay: Duration,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            latency: Latency::fixed(Duration::from_millis(1)),
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::from_millis(10),
        }
    }
}

/// The whole network: a default link, overrides for some links, and random partitions.
///
/// With probability `partition` after each event, a random partition begins: a random proper
/// subset of the nodes is cut off from the rest, one way (the subset can hear but not be
/// heard) with probability `one_way` and both ways otherwise. It heals after a time drawn
/// uniformly from `heal_after`. Messages are checked against partitions when sent and again
/// when they arrive.
#[derive(Clone, Debug, PartialEq)]
pub struct NetConfig {
    /// The link every pair of nodes has unless overridden.
    pub default_link: LinkConfig,
    /// The chance, after each event, that a random partition begins.
    pub partition: f64,
    /// The share of random partitions that are one-way.
    pub one_way: f64,
    /// The range a random partition's lifetime is drawn from.
    pub heal_after: (Duration, Duration),
    links: BTreeMap<(NodeId, NodeId), LinkConfig>,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self::uniform(LinkConfig::default())
    }
}

impl NetConfig {
    /// Every link behaves like `link`; no partitions.
    pub fn uniform(link: LinkConfig) -> Self {
        Self {
            default_link: link,
            partition: 0.0,
            one_way: 0.0,
            heal_after: (Duration::from_millis(100), Duration::from_secs(5)),
            links: BTreeMap::new(),
        }
    }

    /// Nodes spread over the five regions of [`REGIONS`], node `i` in region `i % 5`. A link
    /// inside a region takes about 0.5 ms; between regions, half the round-trip time of
    /// [`region_rtt`] plus exponential jitter of 5% of it.
    pub fn global(n_nodes: u32) -> Self {
        let mut config = Self::uniform(LinkConfig {
            latency: Latency::exponential(Duration::from_micros(500), Duration::from_micros(50)),
            ..LinkConfig::default()
        });
        for from in 0..n_nodes {
            for to in 0..n_nodes {
                let (a, b) = (from as usize % REGIONS.len(), to as usize % REGIONS.len());
                if a != b {
                    let one_way = region_rtt(a, b) / 2;
                    let link = LinkConfig {
                        latency: Latency::exponential(one_way, one_way / 20),
                        ..config.default_link
                    };
                    config.links.insert((NodeId(from), NodeId(to)), link);
                }
            }
        }
        config
    }

    /// Overrides the link from `from` to `to`.
    pub fn with_link(mut self, from: NodeId, to: NodeId, link: LinkConfig) -> Self {
        self.links.insert((from, to), link);
        self
    }

    /// The link from `from` to `to`.
    pub fn link(&self, from: NodeId, to: NodeId) -> &LinkConfig {
        self.links.get(&(from, to)).unwrap_or(&self.default_link)
    }

    /// Applies `change` to the default link and every overridden one.
    pub fn map_links(mut self, change: impl Fn(&mut LinkConfig)) -> Self {
        change(&mut self.default_link);
        self.links.values_mut().for_each(change);
        self
    }
}

/// The regions of [`NetConfig::global`].
pub const REGIONS: [&str; 5] = ["us-east", "us-west", "eu-west", "ap-northeast", "sa-east"];

/// The typical round-trip time between two regions of [`REGIONS`], by index: from 62 ms
/// (us-east to us-west) to 250 ms (ap-northeast to sa-east), or 1 ms within a region.
pub fn region_rtt(a: usize, b: usize) -> Duration {
    const RTT_MS: [[u64; 5]; 5] = [
        [1, 62, 68, 145, 115],
        [62, 1, 130, 100, 175],
        [68, 130, 1, 210, 180],
        [145, 100, 210, 1, 250],
        [115, 175, 180, 250, 1],
    ];
    Duration::from_millis(RTT_MS[a % 5][b % 5])
}

/// What happens to one message sent on a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// It is lost.
    Lost,
    /// A partition cuts the link.
    Cut,
    /// It arrives after the first delay, and a copy after the second if there is one.
    Arrives(u64, Option<u64>),
}

/// The network's state during a run: links laid out as a matrix, and which links are cut.
#[derive(Clone, Debug)]
pub(crate) struct Network {
    n_nodes: usize,
    links: Vec<LinkConfig>,
    cuts: Vec<u32>,
    partitions: BTreeMap<u64, Vec<(u32, u32)>>,
    next_partition: u64,
}

impl Network {
    pub(crate) fn new(config: &NetConfig, n_nodes: u32) -> Self {
        let n = n_nodes as usize;
        let mut links = Vec::with_capacity(n * n);
        for from in 0..n_nodes {
            for to in 0..n_nodes {
                links.push(*config.link(NodeId(from), NodeId(to)));
            }
        }
        Self {
            n_nodes: n,
            links,
            cuts: vec![0; n * n],
            partitions: BTreeMap::new(),
            next_partition: 0,
        }
    }

    /// Decides the fate of a message from `from` to `to`, drawing only for faults that are on,
    /// and counts what happened in `stats`.
    #[inline]
    pub(crate) fn send(
        &self,
        from: NodeId,
        to: NodeId,
        rng: &mut SimRng,
        stats: &mut SimStats,
    ) -> Fate {
        let idx = from.0 as usize * self.n_nodes + to.0 as usize;
        if self.cuts[idx] > 0 {
            stats.cut += 1;
            return Fate::Cut;
        }
        let link = &self.links[idx];
        if rng.chance(link.loss) {
            stats.lost += 1;
            return Fate::Lost;
        }
        let mut delay = |rng: &mut SimRng| {
            let mut nanos = link.latency.sample(rng);
            if rng.chance(link.reorder) {
                nanos += rng.between(1, link.reorder_delay.as_nanos() as u64);
                stats.reordered += 1;
            }
            nanos
        };
        let first = delay(rng);
        let copy = rng.chance(link.duplicate).then(|| delay(rng));
        if copy.is_some() {
            stats.duplicated += 1;
        }
        Fate::Arrives(first, copy)
    }

    /// Whether the link from `from` to `to` is cut now.
    #[inline]
    pub(crate) fn is_cut(&self, from: NodeId, to: NodeId) -> bool {
        self.cuts[from.0 as usize * self.n_nodes + to.0 as usize] > 0
    }

    /// Cuts every link from a node of `side_a` to one of `side_b`, and back unless `one_way`.
    /// Returns the partition's id for [`Network::heal`].
    pub(crate) fn partition(&mut self, side_a: &[NodeId], side_b: &[NodeId], one_way: bool) -> u64 {
        let mut cut = Vec::new();
        for &a in side_a {
            for &b in side_b {
                cut.push((a.0, b.0));
                if !one_way {
                    cut.push((b.0, a.0));
                }
            }
        }
        for &(from, to) in &cut {
            self.cuts[from as usize * self.n_nodes + to as usize] += 1;
        }
        let id = self.next_partition;
        self.next_partition += 1;
        self.partitions.insert(id, cut);
        id
    }

    /// Draws a random partition: each node joins side A with even odds, redrawn until both
    /// sides have a node. Returns the sides; with fewer than two nodes, side B is empty and the
    /// partition cuts nothing.
    pub(crate) fn random_sides(&self, rng: &mut SimRng) -> (Vec<NodeId>, Vec<NodeId>) {
        if self.n_nodes < 2 {
            return ((0..self.n_nodes as u32).map(NodeId).collect(), Vec::new());
        }
        loop {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for node in 0..self.n_nodes as u32 {
                let side = if rng.chance(0.5) { &mut a } else { &mut b };
                side.push(NodeId(node));
            }
            if !a.is_empty() && !b.is_empty() {
                return (a, b);
            }
        }
    }

    /// Heals one partition. Returns false if it had healed already.
    pub(crate) fn heal(&mut self, id: u64) -> bool {
        let Some(cut) = self.partitions.remove(&id) else {
            return false;
        };
        for (from, to) in cut {
            self.cuts[from as usize * self.n_nodes + to as usize] -= 1;
        }
        true
    }

    /// Heals every partition.
    pub(crate) fn heal_all(&mut self) {
        self.partitions.clear();
        self.cuts.iter_mut().for_each(|cut| *cut = 0);
    }

    /// How many partitions are in force.
    pub(crate) fn n_partitions(&self) -> usize {
        self.partitions.len()
    }
}

#[cfg(test)]
mod tests;
