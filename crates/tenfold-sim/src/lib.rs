//! Deterministic simulation for sans-IO cores: virtual time, a faulty network, faulty disks
//! and wrong clocks, all driven by one seed, so that every failure replays from its seed.
//!
//! A distributed core cannot be shown correct on a real cluster, which never fails the same
//! way twice. Here the nodes are sans-IO state machines behind the [`Node`] trait, and
//! everything around them is simulated:
//!
//! - **Time** is virtual. [`Sim`] keeps a queue of timed events (deliver a message, fire a
//!   timer, hand over an input, inject a fault) and jumps to the next one. Events at the same
//!   instant run in the order they were scheduled.
//! - **One seed** drives every random choice, through per-purpose [`SimRng`] streams
//!   (ChaCha8, whose output is fixed by its specification). The same seed gives the same run,
//!   bit for bit: [`Sim::trace_hash`] hashes every event, so a test can assert it.
//! - **The network** ([`NetConfig`], [`LinkConfig`]) has per-link latency with jitter, loss,
//!   duplication and reordering, one-way and two-way partitions that heal, and a
//!   [`NetConfig::global`] preset of five regions 62 to 250 ms apart.
//! - **Nodes** ([`NodeFaults`], [`Fault`]) crash (volatile state gone, disk kept) between
//!   events or part way through a handler, restart, and pause.
//! - **Disks** ([`Disk`], [`DiskConfig`]) lose unsynced writes at a crash, tear the write in
//!   flight at a sector boundary or any byte, leave zeroed tails, flip bits, misdirect writes,
//!   fail syncs and fill up. The [`disk`] module states the crash model exactly.
//! - **Clocks** ([`ClockConfig`], [`NodeClock`]) have an offset and a drift per node, and wall
//!   clocks that step forwards and backwards.
//! - **Invariants** ([`Sim::invariant`]) run after every event; the first violation stops the
//!   run with a [`Failure`] that prints the seed, how to replay it and the last events.
//! - **Swarm testing** ([`Config::swarm`]): each seed also picks which faults are on and how
//!   often, so rare combinations come up.
//! - **Seeds** ([`Seeds::from_env`]): `SIM_SEED=n` replays seed `n`, `SIM_SEEDS=n` runs `n`.
//!
//! The simulator itself is a sans-IO library: it reads no clock, spawns no thread and touches
//! no file. [`register`] holds a larger worked example, a replicated register in a correct and
//! a naive version, which the crate's own tests run over thousands of seeds.
//!
//! # Example: testing a small protocol under faults
//!
//! Node 0 relays numbers to node 1, resending every 50 ms until node 1 says it has the number
//! on disk; then node 0 reports it acknowledged. The invariant: an acknowledged number is in
//! node 1's inbox, whatever crashes, losses and duplicates happened. (Take out the `sync` and
//! seed 8 fails: node 1 crashes and loses a number it had already confirmed.)
//!
//! ```
//! use std::collections::BTreeSet;
//! use std::time::Duration;
//!
//! use tenfold_sim::{Config, Context, Failure, Node, NodeId, Seeds, Sim};
//!
//! #[derive(Default)]
//! struct Relay {
//!     unacked: BTreeSet<u64>,
//! }
//!
//! #[derive(Clone, Debug, Hash)]
//! enum Message {
//!     Data(u64),
//!     Stored(u64),
//! }
//!
//! impl Node for Relay {
//!     type Message = Message;
//!     type Input = u64;
//!     type Output = u64;
//!
//!     fn handle_start(&mut self, cx: &mut Context<'_, Self>) {
//!         if !cx.disk().exists("inbox") {
//!             let _ = cx.disk().create("inbox");
//!         }
//!     }
//!
//!     fn handle_input(&mut self, cx: &mut Context<'_, Self>, n: u64) {
//!         self.unacked.insert(n);
//!         self.handle_timer(cx, n);
//!     }
//!
//!     fn handle_timer(&mut self, cx: &mut Context<'_, Self>, n: u64) {
//!         if self.unacked.contains(&n) {
//!             cx.send(NodeId(1), Message::Data(n));
//!             cx.set_timer(Duration::from_millis(50), n);
//!         }
//!     }
//!
//!     fn handle_message(&mut self, cx: &mut Context<'_, Self>, from: NodeId, message: Message) {
//!         match message {
//!             Message::Data(n) => {
//!                 let disk = cx.disk();
//!                 let appended = disk.append("inbox", &n.to_le_bytes());
//!                 match appended.and_then(|_| disk.sync("inbox")) {
//!                     Ok(()) => cx.send(from, Message::Stored(n)),
//!                     // A failed sync poisons the file; reopen it and wait for a resend.
//!                     Err(_) => drop(disk.reopen("inbox")),
//!                 }
//!             }
//!             Message::Stored(n) => {
//!                 if self.unacked.remove(&n) {
//!                     cx.output(n);
//!                 }
//!             }
//!         }
//!     }
//! }
//!
//! fn run(seed: u64) -> Result<(), Failure> {
//!     let mut config = Config::new(seed, 2);
//!     config.net.default_link.loss = 0.2;
//!     config.net.default_link.duplicate = 0.05;
//!     config.nodes.crash = 0.02;
//!     config.disk.sync_fail = 0.05;
//!     let mut sim = Sim::new(config, |_| Relay::default());
//!
//!     let mut acked = BTreeSet::new();
//!     sim.invariant("acknowledged numbers are on disk", move |check| {
//!         acked.extend(check.outputs().iter().map(|&(_, n)| n));
//!         let inbox = check.disk(NodeId(1)).and_then(|disk| disk.read_all("inbox").ok());
//!         let inbox = inbox.unwrap_or_default();
//!         let stored: BTreeSet<u64> = inbox
//!             .chunks_exact(8)
//!             .map(|bytes| u64::from_le_bytes(bytes.try_into().unwrap_or_default()))
//!             .collect();
//!         match acked.difference(&stored).next() {
//!             Some(n) => Err(format!("{n} was acknowledged but is not on disk")),
//!             None => Ok(()),
//!         }
//!     });
//!     for n in 0..20 {
//!         sim.input_at(Duration::from_millis(10 * n), NodeId(0), n);
//!     }
//!     sim.run_until(Duration::from_secs(10))
//! }
//!
//! // `SIM_SEEDS=100000 cargo test` soaks it; `SIM_SEED=n` replays one failing seed.
//! Seeds::from_env(50)?.check(run);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod clock;
pub mod disk;
mod error;
mod harness;
mod net;
mod node;
pub mod register;
mod rng;
mod sim;
mod swarm;
mod trace;

pub use clock::{ClockConfig, DEFAULT_EPOCH, NodeClock};
pub use disk::{Disk, DiskConfig, DiskStats};
pub use error::{DiskError, DiskErrorKind, DiskOp, SeedsError};
pub use harness::Seeds;
pub use net::{Jitter, Latency, LinkConfig, NetConfig, REGIONS, region_rtt};
pub use node::{Context, Node, NodeId};
pub use rng::SimRng;
pub use sim::{Check, Config, Failure, Fault, NodeFaults, Sim, SimStats};
pub use trace::{EventKind, TraceEvent, digest};
