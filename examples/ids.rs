//! IDs for a fleet: 1,024 nodes mint 64-bit IDs while their clocks step back and forth and
//! they crash, restart and fight over node IDs; then the example counts the duplicates.
//!
//! ```text
//! cargo run --release --example ids                       # simulate, then decode a sample
//! cargo run --release --example ids -- 175928847299117063 discord
//! cargo run --release --example ids -- 01ARZ3NDEKTSV4RRFFQ69G5FAV
//! ```
//!
//! This is the host's side of `tenfold-ids`. It bridges a `tenfold_host` clock into the
//! core's `Clock`, keeps each node's fencing epoch and high-water mark in a store (in memory
//! here; a real host writes it with a compare-and-set to its database, or to a file it
//! fsyncs), persists every reservation before acknowledging it, and sleeps when asked to.

#![allow(clippy::print_stdout, clippy::disallowed_methods)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use tenfold_host::{Clock as HostClock, ManualClock, SystemClock};
use tenfold_ids::{Clock, Generator, HighWater, Id64, Layout, Lease, Mint, MintError, Policy};
use tenfold_ids::{Timestamp, Ulid, Uuid};

const N_NODES: u64 = 1024;
const N_IDS: usize = 4_000_000;
const LEASE: Duration = Duration::from_secs(30);

/// A `tenfold_host` clock lent to the ID core: its wall clock is the time IDs carry.
struct WallClock<C>(C);

impl<C: HostClock> Clock for WallClock<C> {
    fn now(&self) -> Timestamp {
        Timestamp::from_duration(self.0.wall())
    }
}

/// What the host keeps durably for one node ID.
#[derive(Clone, Copy, Debug, Default)]
struct NodeRecord {
    epoch: u64,
    high_water: HighWater,
    holder: Option<usize>,
}

/// One running process: a generator under some epoch, and its own (simulated) clock.
struct Process {
    generator: Generator,
    clock: WallClock<ManualClock>,
}

#[derive(Debug, Default)]
struct Figures {
    minted: usize,
    clock_steps: u64,
    restarts: u64,
    reuse_refused: u64,
    takeovers: u64,
    fenced: u64,
    waits: u64,
}

fn main() -> ExitCode {
    let started = Instant::now();
    let (ids, figures) = simulate(0x1D5);
    let mut sorted: Vec<u64> = ids.iter().map(|id| id.to_u64()).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let duplicates = ids.len() - sorted.len();
    println!(
        "{} nodes minted {} ids in {:.0} ms: {duplicates} duplicates",
        N_NODES,
        figures.minted,
        started.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "  {} clock steps (1 ms to 1 h, both ways), {} restarts from the stored mark, \
         {} node-id grabs refused, {} node ids taken over from stalled holders, \
         {} stale processes stopped by fencing or lease expiry, {} waits",
        figures.clock_steps,
        figures.restarts,
        figures.reuse_refused,
        figures.takeovers,
        figures.fenced,
        figures.waits
    );
    live_burst();

    let sample = ids
        .get(ids.len() / 2)
        .map(ToString::to_string)
        .unwrap_or_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let text = args.first().unwrap_or(&sample);
    let layout = args.get(1).map_or("twitter", String::as_str);
    if let Err(error) = decode(text, layout) {
        println!("cannot decode {text:?}: {error}");
        return ExitCode::FAILURE;
    }
    if duplicates == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs the fleet until it has minted `N_IDS` IDs, and returns them.
fn simulate(seed: u64) -> (Vec<Id64>, Figures) {
    let mut rng = SplitMix(seed);
    let mut store = vec![NodeRecord::default(); N_NODES as usize];
    let start = Timestamp::from_unix_ms(1_700_000_000_000).as_duration();
    let mut processes: Vec<Option<Process>> = (0..N_NODES as usize)
        .map(|node| start_process(&mut store, node, node, start))
        .collect();
    let mut ids = Vec::with_capacity(N_IDS + 64);
    let mut figures = Figures::default();
    let mut zombies: Vec<Process> = Vec::new();
    let mut round = 0u64;
    while ids.len() < N_IDS {
        round += 1;
        for node in 0..N_NODES as usize {
            let event = rng.below(1000);
            let Some(process) = processes[node].as_mut() else {
                continue;
            };
            // Every node's clock moves on by a millisecond a round.
            process.clock.0.advance(Duration::from_millis(1));
            match event {
                0..=4 => {
                    step_clock(&process.clock.0, &mut rng);
                    figures.clock_steps += 1;
                }
                5..=6 => {
                    // A crash and restart, with a clock that may have stepped while down.
                    let wall = process.clock.0.wall();
                    store[node].holder = None;
                    processes[node] = start_process(&mut store, node, node, wall);
                    if let Some(process) = &processes[node] {
                        step_clock(&process.clock.0, &mut rng);
                    }
                    figures.restarts += 1;
                }
                7 => {
                    // A second process is started with a node ID that is already held.
                    let taken = rng.below(N_NODES) as usize;
                    if start_process(&mut store, taken, N_NODES as usize, Duration::ZERO).is_none()
                    {
                        figures.reuse_refused += 1;
                    }
                }
                8 => {
                    // The process stalls past its lease (a long pause, a partition), the
                    // store hands its node ID to a successor, and the old one wakes up later
                    // still holding its generator.
                    let wall = process.clock.0.wall();
                    store[node].holder = None;
                    zombies.extend(processes[node].take());
                    processes[node] = start_process(&mut store, node, node, wall);
                    figures.takeovers += 1;
                }
                _ => {}
            }
            let Some(process) = processes[node].as_mut() else {
                continue;
            };
            let burst = 1 + rng.below(8) as usize;
            if !mint_burst(process, &mut store[node], burst, &mut ids, &mut figures) {
                figures.fenced += 1;
                processes[node] = None;
            }
        }
        zombies.retain_mut(|zombie| {
            zombie.clock.0.advance(Duration::from_millis(1));
            let record = &mut store[zombie.generator.lease().node() as usize];
            let alive = mint_burst(zombie, record, 8, &mut ids, &mut figures);
            figures.fenced += u64::from(!alive);
            alive
        });
        if round.is_multiple_of(64) {
            // Renew every lease; the store only renews the current holder's epoch.
            for (node, process) in processes.iter_mut().enumerate() {
                if let Some(process) = process {
                    let lease = *process.generator.lease();
                    let expires = process.clock.now().saturating_add(LEASE);
                    let renewed = Lease::new(lease.node(), lease.epoch(), expires);
                    if store[node].epoch == lease.epoch() {
                        let _ = process.generator.renew(renewed);
                    }
                }
            }
        }
    }
    figures.minted = ids.len();
    (ids, figures)
}

/// Takes `node` in the store (a new fencing epoch) and starts a generator from its mark.
fn start_process(
    store: &mut [NodeRecord],
    node: usize,
    holder: usize,
    wall: Duration,
) -> Option<Process> {
    let record = &mut store[node];
    if record.holder.is_some() {
        return None;
    }
    record.epoch += 1;
    record.holder = Some(holder);
    let clock = WallClock(ManualClock::new(wall));
    let lease = Lease::new(node as u64, record.epoch, clock.now().saturating_add(LEASE));
    let policy = Policy::borrow(Duration::from_millis(5)).and_wait(Duration::from_secs(2));
    let generator = Generator::builder(Layout::twitter()).policy(policy);
    let generator = generator.start(lease, record.high_water).ok()?;
    Some(Process { generator, clock })
}

/// Mints up to `n` IDs. Returns false if the store fenced the process out.
fn mint_burst(
    process: &mut Process,
    record: &mut NodeRecord,
    n: usize,
    ids: &mut Vec<Id64>,
    figures: &mut Figures,
) -> bool {
    for _ in 0..n {
        match process.generator.mint_with(&process.clock) {
            Ok(Mint::Id(id)) => ids.push(id),
            Ok(Mint::Reserve(reservation)) => {
                if record.epoch != reservation.epoch() {
                    return false;
                }
                // Persist first, then acknowledge.
                record.high_water = record.high_water.max(reservation.up_to());
                let _ = process.generator.acknowledge(reservation);
            }
            Ok(Mint::RetryAt(at)) => {
                // A real host sleeps until `at`; the simulated clock jumps there.
                process.clock.0.set_wall(at.as_duration());
                figures.waits += 1;
            }
            Err(MintError::LeaseExpired { .. }) => return false,
            Err(_) => return true,
        }
    }
    true
}

/// Steps `clock` by 1 ms to 1 h, either way, log-uniformly.
fn step_clock(clock: &ManualClock, rng: &mut SplitMix) {
    let by = Duration::from_millis(10f64.powf(rng.below(6_557) as f64 / 1000.0) as u64);
    let wall = clock.wall();
    if rng.below(2) == 0 {
        clock.set_wall(wall + by);
    } else {
        clock.set_wall(wall.saturating_sub(by));
    }
}

/// Mints for 100 ms on the real system clock, the way a service would.
fn live_burst() {
    let clock = WallClock(SystemClock::new());
    let policy = Policy::wait(Duration::from_millis(5));
    let builder = Generator::builder(Layout::twitter()).policy(policy);
    let Ok(mut generator) = builder.start(Lease::forever(1), HighWater::ZERO) else {
        return;
    };
    let started = Instant::now();
    let mut n_minted = 0u64;
    let mut n_calls = 0u64;
    // Reading the time costs as much as minting, so check it every 256 calls.
    while !n_calls.is_multiple_of(256) || started.elapsed() < Duration::from_millis(100) {
        n_calls += 1;
        match generator.mint_with(&clock) {
            Ok(Mint::Id(_)) => n_minted += 1,
            Ok(Mint::Reserve(reservation)) => {
                let _ = generator.acknowledge(reservation);
            }
            Ok(Mint::RetryAt(at)) => {
                // Sleeping costs more than a millisecond's worth of IDs; spin through
                // short waits and sleep through long ones.
                let wait = at.saturating_duration_since(clock.now());
                if wait > Duration::from_millis(2) {
                    std::thread::sleep(wait);
                } else {
                    std::hint::spin_loop();
                }
            }
            Err(_) => break,
        }
    }
    let per_second = n_minted as f64 / started.elapsed().as_secs_f64();
    println!(
        "  live on the system clock: {n_minted} ids in {:.0} ms ({:.2} M/s; the layout's cap \
         is {:.3} M/s)",
        started.elapsed().as_secs_f64() * 1e3,
        per_second / 1e6,
        Layout::twitter().ids_per_second() as f64 / 1e6
    );
}

/// Prints what `text` holds: a UUID, a ULID, or a 64-bit ID under `layout`.
fn decode(text: &str, layout: &str) -> Result<(), String> {
    if text.len() == 36 || text.len() == 32 {
        let uuid: Uuid = text.parse().map_err(|e| format!("{e}"))?;
        let time = uuid
            .timestamp()
            .map_or_else(|| "none".into(), |ts| ts.to_string());
        println!("uuid {uuid}: version {}, time {time}", uuid.version());
        return Ok(());
    }
    if text.len() == 26 {
        let ulid: Ulid = text.parse().map_err(|e| format!("{e}"))?;
        println!(
            "ulid {ulid}: time {}, random {:#x}",
            ulid.timestamp(),
            ulid.random()
        );
        return Ok(());
    }
    let layout = match layout {
        "twitter" => Layout::twitter(),
        "discord" => Layout::discord(),
        "sonyflake" => Layout::sonyflake(),
        "js-safe" => Layout::js_safe(),
        other => return Err(format!("unknown layout {other:?}")),
    };
    // Decimal, then the 13-character base32 form, then base62: the three forms printed below.
    let id = text
        .parse::<Id64>()
        .or_else(|_| Id64::parse_base32(text))
        .or_else(|_| Id64::parse_base62(text))
        .map_err(|_| format!("not a decimal, base32 or base62 64-bit id: {text:?}"))?;
    let parts = layout.decompose(id).map_err(|e| format!("{e}"))?;
    println!(
        "id {id} ({} in base32, {} in base62): time {}, node {} (high {}, low {}), sequence {}",
        id.to_base32(),
        id.to_base62(),
        parts.timestamp,
        parts.node,
        parts.node_high,
        parts.node_low,
        parts.sequence
    );
    Ok(())
}

/// A small seeded generator (SplitMix64), so every run replays the same fleet.
struct SplitMix(u64);

impl SplitMix {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}
