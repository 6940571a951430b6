//! The 1,024-node proof, under `tenfold-sim`: 1,088 processes compete for the 1,024 node IDs
//! of a Twitter layout through a lease service, over a network that loses, duplicates and
//! reorders messages, while the simulator crashes and pauses processes (the service too) and
//! steps their wall clocks by 1 ms to 1 h either way (most steps are put right within a
//! second, as NTP would; the rest stay). Every minted ID goes to a ledger outside
//! the processes, which must end with no duplicate.
//!
//! The lease service keeps each node ID's fencing epoch and high-water mark on its simulated
//! disk and syncs before it answers. Processes start from the stored mark, reserve before
//! minting beyond it, and stop when the service fences them. Half of them time their lease on
//! the monotonic clock and end it themselves; the other half trust the wall clock, so when it
//! steps back they keep minting as zombies until fencing stops them.
//!
//! `IDS_SIM_IDS` sets the IDs per seed (default 10^6), `SIM_SEED` replays one seed and
//! `SIM_SEEDS` sets how many run (default 2).
//!
//! FIXME(#4): runs slow down faster than linearly past 10^7 IDs (10^7 takes 21 s in release,
//! 10^8 did not finish in 8 minutes); find out why, then run 10^9 here. Until then the 10^9
//! run is `fleet.rs`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::rc::Rc;
use std::time::Duration;

use tenfold_ids::{Generator, HighWater, Layout, Lease, Mint, MintError, Policy, Reservation};
use tenfold_ids::{Id64, Timestamp};
use tenfold_sim::{Config, Context, Failure, Fault, Node, NodeId, Seeds, Sim};

/// Node IDs of the layout (10 bits).
const N_NODE_IDS: u64 = 1024;
/// Processes competing for them; the lease service is the process after the last of them.
const N_WORKERS: u32 = 1088;
const SERVICE: NodeId = NodeId(N_WORKERS);
const LEASE: Duration = Duration::from_millis(100);
/// What a process takes off its lease for clock drift and delays.
const LEASE_MARGIN: Duration = Duration::from_millis(20);
const TICK: Duration = Duration::from_millis(5);
const RENEW_EVERY: Duration = Duration::from_millis(20);
const ASK_AGAIN_AFTER: Duration = Duration::from_millis(20);

#[derive(Clone, Copy, Debug, Hash)]
enum Message {
    /// Asks for a node ID; `sent` is the asker's monotonic time, echoed back.
    Acquire {
        node: u64,
        sent: Duration,
    },
    Granted {
        node: u64,
        epoch: u64,
        high_water: u64,
        sent: Duration,
    },
    Refused {
        node: u64,
    },
    Reserve {
        node: u64,
        epoch: u64,
        up_to: u64,
    },
    Reserved {
        node: u64,
        epoch: u64,
        up_to: u64,
    },
    Renew {
        node: u64,
        epoch: u64,
        sent: Duration,
    },
    Renewed {
        node: u64,
        epoch: u64,
        sent: Duration,
    },
    Fenced {
        node: u64,
        epoch: u64,
    },
}

/// Every ID minted in a run, kept outside the processes so that crashes do not erase it.
#[derive(Debug, Default)]
struct Ledger {
    minted: u64,
    /// The first and last ID of each `(node, epoch)`: one generator each.
    ranges: HashMap<(u64, u64), (u64, u64)>,
    decreases: u64,
    all_ids: Option<Vec<u64>>,
    granted: u64,
    refused: u64,
    fenced: u64,
    lease_ends: u64,
}

/// A simulated process: the lease service or a worker that mints IDs.
enum Process {
    Service(Service),
    Worker(Worker),
}

#[derive(Default)]
struct Service {
    records: HashMap<u64, (u64, u64)>,
    /// Until when, on the service's monotonic clock, each node ID is leased.
    leased_until: HashMap<u64, Duration>,
}

struct Worker {
    ledger: Rc<RefCell<Ledger>>,
    policy: Policy,
    trusts_wall_clock: bool,
    state: State,
}

enum State {
    Asking {
        node: u64,
        sent: Duration,
    },
    Minting {
        generator: Box<Generator>,
        node: u64,
        epoch: u64,
        /// When the lease ends on the monotonic clock.
        deadline: Duration,
        last_renew: Duration,
        pending: Option<Reservation>,
    },
}

impl Node for Process {
    type Message = Message;
    type Input = ();
    type Output = ();

    fn handle_start(&mut self, cx: &mut Context<'_, Self>) {
        match self {
            Self::Service(service) => service.start(cx),
            Self::Worker(worker) => worker.start(cx),
        }
    }

    fn handle_message(&mut self, cx: &mut Context<'_, Self>, from: NodeId, message: Message) {
        match self {
            Self::Service(service) => service.handle(cx, from, message),
            Self::Worker(worker) => worker.handle(cx, message),
        }
    }

    fn handle_timer(&mut self, cx: &mut Context<'_, Self>, _token: u64) {
        if let Self::Worker(worker) = self {
            worker.tick(cx);
        }
    }

    fn handle_input(&mut self, _cx: &mut Context<'_, Self>, _input: ()) {}
}

impl Service {
    /// Reloads every record from disk. Leases in force before a crash are unknown, so every
    /// node ID counts as leased for one more lease period.
    fn start(&mut self, cx: &mut Context<'_, Process>) {
        for name in cx.disk().list() {
            let Some(node) = name.strip_prefix("node-").and_then(|n| n.parse().ok()) else {
                continue;
            };
            let Ok(bytes) = cx.disk().read_all(&name) else {
                continue;
            };
            if let (Some(epoch), Some(high_water)) = (word(&bytes, 0), word(&bytes, 8)) {
                self.records.insert(node, (epoch, high_water));
            }
        }
        let until = cx.monotonic() + LEASE;
        self.leased_until = (0..N_NODE_IDS).map(|node| (node, until)).collect();
    }

    fn handle(&mut self, cx: &mut Context<'_, Process>, from: NodeId, message: Message) {
        let now = cx.monotonic();
        let reply = match message {
            Message::Acquire { node, sent } => {
                if self
                    .leased_until
                    .get(&node)
                    .is_some_and(|&until| until > now)
                {
                    Some(Message::Refused { node })
                } else {
                    let (epoch, high_water) = self.records.get(&node).copied().unwrap_or((0, 0));
                    self.store(cx, node, (epoch + 1, high_water)).then(|| {
                        self.leased_until.insert(node, now + LEASE);
                        Message::Granted {
                            node,
                            epoch: epoch + 1,
                            high_water,
                            sent,
                        }
                    })
                }
            }
            Message::Reserve { node, epoch, up_to } => match self.records.get(&node) {
                Some(&(current, high_water)) if current == epoch => {
                    let record = (epoch, high_water.max(up_to));
                    let stored = self.store(cx, node, record);
                    stored.then_some(Message::Reserved { node, epoch, up_to })
                }
                _ => Some(Message::Fenced { node, epoch }),
            },
            Message::Renew { node, epoch, sent } => match self.records.get(&node) {
                Some(&(current, _)) if current == epoch => {
                    self.leased_until.insert(node, now + LEASE);
                    Some(Message::Renewed { node, epoch, sent })
                }
                _ => Some(Message::Fenced { node, epoch }),
            },
            _ => None,
        };
        if let Some(reply) = reply {
            cx.send(from, reply);
        }
    }

    /// Writes and syncs a record; only then does the service answer.
    fn store(&mut self, cx: &mut Context<'_, Process>, node: u64, record: (u64, u64)) -> bool {
        let name = format!("node-{node}");
        let mut bytes = record.0.to_le_bytes().to_vec();
        bytes.extend_from_slice(&record.1.to_le_bytes());
        let disk = cx.disk();
        if !disk.exists(&name) && disk.create(&name).is_err() {
            return false;
        }
        let stored = disk
            .write_at(&name, 0, &bytes)
            .and_then(|()| disk.sync(&name));
        if stored.is_err() {
            let _ = disk.reopen(&name);
            return false;
        }
        self.records.insert(node, record);
        true
    }
}

impl Worker {
    fn new(id: NodeId, ledger: Rc<RefCell<Ledger>>) -> Self {
        let policy = match id.0 % 3 {
            0 => Policy::refuse(),
            1 => Policy::wait(Duration::from_millis(50)),
            _ => Policy::borrow(Duration::from_millis(10)).and_wait(Duration::from_millis(50)),
        };
        Self {
            ledger,
            policy,
            trusts_wall_clock: id.0.is_multiple_of(2),
            state: State::Asking {
                node: u64::from(id.0) % N_NODE_IDS,
                sent: Duration::ZERO,
            },
        }
    }

    fn start(&mut self, cx: &mut Context<'_, Process>) {
        self.ask(cx, u64::from(cx.id().0) % N_NODE_IDS);
        cx.set_timer(TICK, 0);
    }

    fn ask(&mut self, cx: &mut Context<'_, Process>, node: u64) {
        let sent = cx.monotonic();
        self.state = State::Asking { node, sent };
        cx.send(SERVICE, Message::Acquire { node, sent });
    }

    fn tick(&mut self, cx: &mut Context<'_, Process>) {
        cx.set_timer(TICK, 0);
        let now = cx.monotonic();
        match &mut self.state {
            State::Asking { node, sent } => {
                if now.saturating_sub(*sent) >= ASK_AGAIN_AFTER {
                    let node = *node;
                    self.ask(cx, node);
                }
            }
            State::Minting {
                generator,
                node,
                epoch,
                deadline,
                last_renew,
                ..
            } => {
                if !self.trusts_wall_clock && now >= *deadline {
                    generator.end_lease();
                }
                if now.saturating_sub(*last_renew) >= RENEW_EVERY {
                    *last_renew = now;
                    let (node, epoch) = (*node, *epoch);
                    cx.send(
                        SERVICE,
                        Message::Renew {
                            node,
                            epoch,
                            sent: now,
                        },
                    );
                }
                let n_ids = 1 + cx.rng().below(16);
                self.mint(cx, n_ids);
            }
        }
    }

    fn mint(&mut self, cx: &mut Context<'_, Process>, n_ids: u64) {
        let State::Minting {
            generator,
            node,
            epoch,
            pending,
            ..
        } = &mut self.state
        else {
            return;
        };
        let now = Timestamp::from_duration(cx.wall());
        for _ in 0..n_ids {
            match generator.mint(now) {
                Ok(Mint::Id(id)) => self.ledger.borrow_mut().record(*node, *epoch, id),
                Ok(Mint::Reserve(reservation)) => {
                    *pending = Some(reservation);
                    let up_to = reservation.up_to().to_u64();
                    let (node, epoch) = (*node, *epoch);
                    cx.send(SERVICE, Message::Reserve { node, epoch, up_to });
                    return;
                }
                Err(MintError::LeaseExpired { .. }) => {
                    self.ledger.borrow_mut().lease_ends += 1;
                    let node = *node;
                    return self.ask(cx, node);
                }
                Ok(Mint::RetryAt(_)) | Err(_) => return,
            }
        }
    }

    fn handle(&mut self, cx: &mut Context<'_, Process>, message: Message) {
        let wall = Timestamp::from_duration(cx.wall());
        let lease_end = wall.saturating_add(LEASE - LEASE_MARGIN);
        match (message, &mut self.state) {
            // Only the answer to the latest ask counts: a duplicated or late grant carries a
            // stale high-water mark.
            (
                Message::Granted {
                    node,
                    epoch,
                    high_water,
                    sent,
                },
                State::Asking {
                    node: asked,
                    sent: asked_at,
                },
            ) if (node, sent) == (*asked, *asked_at) => {
                let builder = Generator::builder(Layout::twitter()).policy(self.policy);
                let lease = Lease::new(node, epoch, lease_end);
                let Ok(generator) = builder.start(lease, HighWater::from_u64(high_water)) else {
                    return;
                };
                self.ledger.borrow_mut().granted += 1;
                self.state = State::Minting {
                    generator: Box::new(generator),
                    node,
                    epoch,
                    deadline: sent + LEASE - LEASE_MARGIN,
                    last_renew: cx.monotonic(),
                    pending: None,
                };
            }
            (Message::Refused { node }, State::Asking { node: asked, .. }) if node == *asked => {
                self.ledger.borrow_mut().refused += 1;
                // Another process holds it: try a random node ID at the next ask.
                *asked = cx.rng().below(N_NODE_IDS);
            }
            (
                Message::Reserved { node, epoch, up_to },
                State::Minting {
                    generator, pending, ..
                },
            ) => {
                let Some(reservation) = *pending else {
                    return;
                };
                let matches = (reservation.node(), reservation.epoch()) == (node, epoch);
                if matches && reservation.up_to().to_u64() == up_to {
                    *pending = None;
                    let _ = generator.acknowledge(reservation);
                }
            }
            (
                Message::Renewed { node, epoch, sent },
                State::Minting {
                    generator,
                    deadline,
                    ..
                },
            ) => {
                let renewed = generator.renew(Lease::new(node, epoch, lease_end));
                if renewed.is_ok() {
                    *deadline = (*deadline).max(sent + LEASE - LEASE_MARGIN);
                }
            }
            (
                Message::Fenced { node, epoch },
                State::Minting {
                    node: held,
                    epoch: ours,
                    ..
                },
            ) if (node, epoch) == (*held, *ours) => {
                self.ledger.borrow_mut().fenced += 1;
                let node = cx.rng().below(N_NODE_IDS);
                self.ask(cx, node);
            }
            _ => {}
        }
    }
}

impl Ledger {
    fn record(&mut self, node: u64, epoch: u64, id: Id64) {
        let id = id.to_u64();
        match self.ranges.entry((node, epoch)) {
            Entry::Vacant(entry) => {
                entry.insert((id, id));
            }
            Entry::Occupied(mut entry) => {
                let (first, last) = entry.get_mut();
                self.decreases += u64::from(id <= *last);
                *first = (*first).min(id);
                *last = (*last).max(id);
            }
        }
        if let Some(all_ids) = &mut self.all_ids {
            all_ids.push(id);
        }
        self.minted += 1;
    }

    /// Generators of one node ID must mint in disjoint ranges; with each one increasing,
    /// that rules duplicates out. Returns the overlaps, and the duplicates found by sorting
    /// every ID when they were kept.
    fn check(&mut self) -> (u64, u64) {
        let mut by_node: HashMap<u64, Vec<(u64, u64)>> = HashMap::new();
        for (&(node, _), &range) in &self.ranges {
            by_node.entry(node).or_default().push(range);
        }
        let mut overlaps = 0;
        for ranges in by_node.values_mut() {
            ranges.sort_unstable();
            overlaps += ranges
                .windows(2)
                .filter(|pair| pair[0].1 >= pair[1].0)
                .count() as u64;
        }
        let duplicates = self.all_ids.take().map_or(0, |mut all_ids| {
            let n_ids = all_ids.len();
            all_ids.sort_unstable();
            all_ids.dedup();
            (n_ids - all_ids.len()) as u64
        });
        (overlaps, duplicates)
    }
}

fn word(bytes: &[u8], offset: usize) -> Option<u64> {
    let word = bytes.get(offset..offset + 8)?;
    Some(u64::from_le_bytes(word.try_into().ok()?))
}

fn config(seed: u64) -> Config {
    let mut config = Config::new(seed, N_WORKERS + 1);
    config.net.default_link.loss = 0.01;
    config.net.default_link.duplicate = 0.01;
    config.net.default_link.reorder = 0.05;
    config.clocks.max_offset = Duration::from_secs(1);
    config.clocks.max_drift_ppm = 100;
    config.nodes.crash = 0.002;
    config.nodes.restart_after = (Duration::from_millis(10), Duration::from_millis(300));
    config.nodes.pause = 0.001;
    config.nodes.pause_for = (Duration::from_millis(50), Duration::from_millis(400));
    config.nodes.max_down = 100;
    config
}

/// Reads a number from the environment, for the long runs.
#[allow(clippy::disallowed_methods)]
fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

#[allow(clippy::print_stdout)]
fn run(seed: u64, n_ids: u64) -> Result<(), Failure> {
    let ledger = Rc::new(RefCell::new(Ledger {
        all_ids: (n_ids <= 20_000_000).then(Vec::new),
        ..Ledger::default()
    }));
    let factory_ledger = Rc::clone(&ledger);
    let mut sim = Sim::new(config(seed), move |id| {
        if id == SERVICE {
            Process::Service(Service::default())
        } else {
            Process::Worker(Worker::new(id, Rc::clone(&factory_ledger)))
        }
    });
    let mut steps = tenfold_sim::SimRng::new(seed ^ 0x1D5);
    let mut n_steps = 0;
    while ledger.borrow().minted < n_ids {
        // Five wall-clock steps every 10 ms, 1 ms to 1 h either way, log-uniform. Most are
        // put right again 10 ms to 1 s later, as NTP would; the rest stay.
        for _ in 0..5 {
            let at = sim.now() + Duration::from_micros(steps.below(10_000));
            let worker = NodeId(steps.below(u64::from(N_WORKERS)) as u32);
            let nanos = 10f64.powf(6.0 + steps.unit() * 6.556) as i64;
            let nanos = if steps.chance(0.5) { nanos } else { -nanos };
            sim.schedule(at, Fault::ClockStep(worker, nanos));
            if steps.chance(0.9) {
                let fixed_at = at + Duration::from_millis(steps.between(10, 1000));
                sim.schedule(fixed_at, Fault::ClockStep(worker, -nanos));
            }
            n_steps += 1;
        }
        sim.run_for(Duration::from_millis(10))?;
    }
    let stats = sim.stats();
    let mut ledger = ledger.borrow_mut();
    let (overlaps, duplicates) = ledger.check();
    println!(
        "ids under tenfold-sim, seed {seed}: {} ids by {N_WORKERS} processes on {N_NODE_IDS} \
         node ids, {duplicates} duplicates, {overlaps} overlapping generators, {} decreases; \
         {n_steps} clock steps, {} crashes, {} pauses, {} grants, {} refused, {} fenced, {} \
         lease ends, {} ms simulated",
        ledger.minted,
        ledger.decreases,
        stats.crashes,
        stats.pauses,
        ledger.granted,
        ledger.refused,
        ledger.fenced,
        ledger.lease_ends,
        sim.now().as_millis()
    );
    assert_eq!(
        duplicates + overlaps + ledger.decreases,
        0,
        "seed {seed}: {ledger:?}"
    );
    assert!(
        stats.crashes > 0 && stats.pauses > 0,
        "seed {seed}: {stats:?}"
    );
    assert!(ledger.refused > 0 && ledger.fenced > 0, "seed {seed}");
    Ok(())
}

#[test]
fn a_thousand_processes_never_mint_a_duplicate() {
    let n_ids = env_u64("IDS_SIM_IDS").unwrap_or(1_000_000);
    let seeds = Seeds::from_env(2).expect("SIM_SEED and SIM_SEEDS are numbers");
    seeds.check(|seed| run(seed, n_ids));
}
