//! A fast, seeded model of a fleet of 1,024 nodes minting 64-bit IDs, for volume: it skips
//! the network and event queue of `tenfold-sim` (see `sim.rs` for the run under it), so it
//! reaches 10^9 IDs in minutes. Every failure the issue lists happens: wall clocks stepping
//! back and forth by 1 ms to 1 h, crashes and restarts from the persisted high-water mark,
//! paused processes whose node ID is handed to a successor, and attempts to take a node ID
//! that is still leased. It counts duplicates, which must be zero.
//!
//! `IDS_SIM_IDS` sets the IDs per seed (default 10^6; 10^9 for the long run), `SIM_SEED`
//! replays one seed, and `SIM_SEEDS` sets how many seeds run (default 2).

use std::collections::HashMap;
use std::time::Duration;

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use tenfold_ids::{Generator, HighWater, Id64, Layout, Lease, Mint, MintError, Policy, Timestamp};

const N_NODES: u64 = 1024;
const LEASE_MS: u64 = 10_000;
const T0: u64 = 1_700_000_000_000;

/// What the lease service keeps durably for one node ID.
#[derive(Clone, Copy, Debug)]
struct NodeRecord {
    epoch: u64,
    high_water: HighWater,
    /// Ground-truth time the current lease runs out.
    expires_ms: u64,
}

/// One process: it holds a generator for a node ID under some epoch, and a wall clock that is
/// the ground truth plus an offset that steps.
struct Process {
    node: u64,
    epoch: u64,
    generator: Option<Generator>,
    offset_ms: i64,
    /// Until this ground-truth time the process is paused (a GC pause, a partition).
    paused_until: u64,
    last_id: Option<Id64>,
}

/// Figures of one simulated run.
#[derive(Debug, Default)]
struct Report {
    minted: u64,
    duplicates: u64,
    decreases: u64,
    overlapping_epochs: u64,
    clock_steps: u64,
    zombie_ids: u64,
    restarts: u64,
    takeovers: u64,
    reuse_refused: u64,
    fenced: u64,
    refusals: u64,
}

struct Sim {
    rng: ChaCha8Rng,
    true_ms: u64,
    store: Vec<NodeRecord>,
    processes: Vec<Process>,
    /// The lowest and highest ID minted under each `(node, epoch)`.
    ranges: HashMap<(u64, u64), (u64, u64)>,
    all_ids: Option<Vec<u64>>,
    report: Report,
}

impl Sim {
    fn new(seed: u64, keep_ids: bool) -> Self {
        let store = vec![
            NodeRecord {
                epoch: 0,
                high_water: HighWater::ZERO,
                expires_ms: 0,
            };
            N_NODES as usize
        ];
        let mut sim = Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            true_ms: T0,
            store,
            processes: Vec::new(),
            ranges: HashMap::new(),
            all_ids: keep_ids.then(Vec::new),
            report: Report::default(),
        };
        for node in 0..N_NODES {
            let process = sim
                .acquire(node)
                .expect("every node id is free at the start");
            sim.processes.push(process);
        }
        sim
    }

    fn below(&mut self, n: u64) -> u64 {
        self.rng.next_u64() % n
    }

    /// A clock step of 1 ms to 1 h, log-uniform, either way.
    fn clock_step(&mut self) -> i64 {
        let magnitude = 10f64.powf(self.below(6_557) as f64 / 1000.0) as i64;
        if self.below(2) == 0 {
            magnitude
        } else {
            -magnitude
        }
    }

    /// Asks the lease service for `node`; it grants a new epoch if the lease has run out.
    fn acquire(&mut self, node: u64) -> Option<Process> {
        let record = &mut self.store[node as usize];
        if record.expires_ms > self.true_ms {
            return None;
        }
        record.epoch += 1;
        record.expires_ms = self.true_ms + LEASE_MS;
        let (epoch, high_water) = (record.epoch, record.high_water);
        let offset_ms = if self.below(4) == 0 {
            self.clock_step()
        } else {
            0
        };
        let wall = (self.true_ms as i64 + offset_ms) as u64;
        let lease = Lease::new(node, epoch, Timestamp::from_unix_ms(wall + LEASE_MS));
        let policy = match self.below(3) {
            0 => Policy::refuse(),
            1 => Policy::wait(Duration::from_millis(100)),
            _ => Policy::borrow(Duration::from_millis(10)).and_wait(Duration::from_secs(1)),
        };
        let generator = Generator::builder(Layout::twitter()).policy(policy);
        let generator = generator
            .start(lease, high_water)
            .expect("node ids fit the layout");
        Some(Process {
            node,
            epoch,
            generator: Some(generator),
            offset_ms,
            paused_until: 0,
            last_id: None,
        })
    }

    fn step(&mut self) {
        self.true_ms += self.below(3);
        let process_idx = self.below(self.processes.len() as u64) as usize;
        if self.processes[process_idx].paused_until > self.true_ms {
            return;
        }
        match self.below(1000) {
            0..=899 => self.mint_batch(process_idx),
            900..=949 => self.renew(process_idx),
            950..=979 => {
                let step = self.clock_step();
                self.processes[process_idx].offset_ms += step;
                self.report.clock_steps += 1;
            }
            980..=989 => self.restart(process_idx),
            990..=994 => {
                // A pause longer than the lease: the node ID will go to a successor.
                self.processes[process_idx].paused_until = self.true_ms + 2 * LEASE_MS;
            }
            _ => self.try_take(),
        }
        self.hand_over_expired();
    }

    fn wall(&self, process_idx: usize) -> Timestamp {
        let wall = self.true_ms as i64 + self.processes[process_idx].offset_ms;
        Timestamp::from_unix_ms(wall.max(0) as u64)
    }

    fn mint_batch(&mut self, process_idx: usize) {
        let n = 1 + self.below(64);
        let now = self.wall(process_idx);
        for _ in 0..n {
            let process = &mut self.processes[process_idx];
            let Some(generator) = process.generator.as_mut() else {
                return;
            };
            match generator.mint(now) {
                Ok(Mint::Id(id)) => self.record(process_idx, id),
                Ok(Mint::Reserve(reservation)) => {
                    let record = &mut self.store[process.node as usize];
                    if record.epoch != reservation.epoch() {
                        // Fenced: a successor holds the node ID. The process stops minting.
                        process.generator = None;
                        self.report.fenced += 1;
                        return;
                    }
                    record.high_water = record.high_water.max(reservation.up_to());
                    generator.acknowledge(reservation).expect("same lease");
                }
                Ok(Mint::RetryAt(_)) => return,
                Err(MintError::LeaseExpired { .. }) => return self.renew(process_idx),
                Err(_) => {
                    self.report.refusals += 1;
                    return;
                }
            }
        }
    }

    fn record(&mut self, process_idx: usize, id: Id64) {
        let process = &mut self.processes[process_idx];
        if process.last_id.is_some_and(|last| last >= id) {
            self.report.decreases += 1;
        }
        process.last_id = Some(id);
        if self.store[process.node as usize].epoch != process.epoch {
            self.report.zombie_ids += 1;
        }
        let range = self.ranges.entry((process.node, process.epoch));
        let range = range.or_insert_with(|| (id.to_u64(), id.to_u64()));
        range.0 = range.0.min(id.to_u64());
        range.1 = range.1.max(id.to_u64());
        if let Some(all_ids) = &mut self.all_ids {
            all_ids.push(id.to_u64());
        }
        self.report.minted += 1;
    }

    /// Renews the lease if the service still has this process's epoch on record.
    fn renew(&mut self, process_idx: usize) {
        let wall = self.wall(process_idx);
        let process = &mut self.processes[process_idx];
        let record = &mut self.store[process.node as usize];
        let Some(generator) = process.generator.as_mut() else {
            return;
        };
        if record.epoch != process.epoch {
            // The service refuses the renewal: a successor holds the node ID. Stop for good.
            process.generator = None;
            self.report.fenced += 1;
            return;
        }
        record.expires_ms = self.true_ms + LEASE_MS;
        let lease = Lease::new(
            process.node,
            process.epoch,
            wall.saturating_add(ms(LEASE_MS)),
        );
        generator.renew(lease).expect("same node and epoch");
    }

    /// A crash and restart on the same node ID: the lease is released, and the new process
    /// starts from the stored mark, often with a clock that moved while it was down.
    fn restart(&mut self, process_idx: usize) {
        let node = self.processes[process_idx].node;
        let record = &mut self.store[node as usize];
        if record.epoch == self.processes[process_idx].epoch {
            record.expires_ms = 0;
        }
        if let Some(process) = self.acquire(node) {
            self.processes[process_idx] = process;
            self.report.restarts += 1;
        } else {
            self.processes[process_idx].generator = None;
        }
    }

    /// A new process asks for a random node ID, as a misconfigured second replica would.
    fn try_take(&mut self) {
        let node = self.below(N_NODES);
        match self.acquire(node) {
            Some(process) => {
                self.processes.push(process);
                self.report.takeovers += 1;
            }
            None => self.report.reuse_refused += 1,
        }
    }

    /// Node IDs whose holder is paused past its lease go to a new process; the paused one
    /// lives on as a zombie that may wake up and try to mint.
    fn hand_over_expired(&mut self) {
        if self.below(100) != 0 {
            return;
        }
        let paused: Vec<u64> = self
            .processes
            .iter()
            .filter(|process| process.paused_until > self.true_ms)
            .map(|process| process.node)
            .collect();
        for node in paused {
            if let Some(process) = self.acquire(node) {
                self.processes.push(process);
                self.report.takeovers += 1;
            }
        }
        // Processes that can no longer mint are gone for good; keep the list bounded.
        self.processes.retain(|process| process.generator.is_some());
    }

    fn finish(mut self) -> Report {
        // Per (node, epoch) the IDs increase, so disjoint ranges across epochs of one node
        // prove there are no duplicates, with no need to keep every ID.
        let mut by_node: HashMap<u64, Vec<(u64, u64)>> = HashMap::new();
        for (&(node, _), &range) in &self.ranges {
            by_node.entry(node).or_default().push(range);
        }
        for ranges in by_node.values_mut() {
            ranges.sort_unstable();
            let overlaps = ranges
                .windows(2)
                .filter(|pair| pair[0].1 >= pair[1].0)
                .count();
            self.report.overlapping_epochs += overlaps as u64;
        }
        if let Some(mut all_ids) = self.all_ids.take() {
            let n_ids = all_ids.len();
            all_ids.sort_unstable();
            all_ids.dedup();
            self.report.duplicates = (n_ids - all_ids.len()) as u64;
        }
        self.report
    }
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// Reads a number from the environment, for the knobs of the long runs.
#[allow(clippy::disallowed_methods)]
fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}

fn run(seed: u64, n_ids: u64) -> Report {
    let mut sim = Sim::new(seed, n_ids <= 20_000_000);
    let max_steps = n_ids * 50;
    let mut n_steps = 0;
    while sim.report.minted < n_ids {
        sim.step();
        n_steps += 1;
        assert!(
            n_steps < max_steps,
            "seed {seed}: stalled at {:?}",
            sim.report
        );
    }
    sim.finish()
}

#[test]
#[allow(clippy::print_stdout)]
fn a_fleet_of_1024_nodes_never_mints_a_duplicate() {
    let n_ids = env_u64("IDS_SIM_IDS").unwrap_or(1_000_000);
    let seeds: Vec<u64> = match env_u64("SIM_SEED") {
        Some(seed) => vec![seed],
        None => (0..env_u64("SIM_SEEDS").unwrap_or(2)).collect(),
    };
    for seed in seeds {
        let report = run(seed, n_ids);
        println!("ids fleet seed {seed}: {report:?}");
        let bad = report.duplicates + report.decreases + report.overlapping_epochs;
        assert_eq!(
            bad, 0,
            "seed {seed} (replay with SIM_SEED={seed}): {report:?}"
        );
        assert!(report.clock_steps > 0 && report.restarts > 0 && report.takeovers > 0);
        assert!(
            report.reuse_refused > 0 && report.fenced > 0,
            "seed {seed}: {report:?}"
        );
    }
}
