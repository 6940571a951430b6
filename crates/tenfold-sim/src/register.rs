//! A replicated register in two versions, the simulator's proving ground: a correct one that
//! acknowledges a write once a majority has it on disk, and a naive one that acknowledges at
//! once. The crate's tests, the tour and the bench run them; read this module as a larger
//! example of a node, its recovery from disk, its workload and its invariant.
//!
//! # The protocol
//!
//! Any node coordinates the operations it receives as inputs. A write carries a version chosen
//! by the client (versions only grow), and every replica keeps the value of the highest version
//! it has seen. A read asks every replica and returns the highest version among the first
//! majority to answer. The correct register ([`Mode::Quorum`]):
//!
//! - sends `Store` to every node (itself included), and acknowledges the write when a majority
//!   has answered `Stored`;
//! - answers `Stored` only after the record is appended to the replica's log and synced;
//! - answers reads only from what is synced; after a failed sync it reopens the log and
//!   recovers from what is really on the media;
//! - on start, scans its log, keeps the longest prefix of valid records, and truncates the rest
//!   so that later appends do not land behind garbage;
//! - resends what has not been answered every 100 ms, up to 30 times.
//!
//! The naive register ([`Mode::Naive`]) appends without syncing and acknowledges at once,
//! sending `Store` to the others without waiting.
//!
//! # What it claims, and what it does not
//!
//! The correct register never loses an acknowledged write under crashes, pauses, partitions,
//! loss, duplication, reordering, clock faults, torn writes, zeroed tails and failed syncs: a
//! read that begins after a write was acknowledged returns that version or a later one. It
//! does not claim to survive silent corruption of synced data (bit flips, misdirected writes):
//! that needs protocol-aware recovery, which this example leaves out, so
//! [`Workload::config`] turns those two faults off.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use crate::error::DiskErrorKind;
use crate::node::{Context, Node, NodeId};
use crate::sim::{Config, Failure, Sim, SimStats};
use crate::trace::{EventKind, digest};
use crate::{DiskStats, SimRng};

/// Which register a node runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Acknowledges a write once a majority has synced it.
    Quorum,
    /// Acknowledges a write at once, before anyone has it on disk.
    Naive,
}

/// One node of the register, in a cluster of up to 64 nodes.
#[derive(Debug)]
pub struct Register {
    mode: Mode,
    /// The highest version this node may report: synced, or in the naive mode, written.
    version: u64,
    value: u64,
    log_ok: bool,
    writes: BTreeMap<u64, Pending>,
    reads: BTreeMap<u64, Pending>,
}

/// What register nodes say to each other.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Message {
    /// Keep this version if it is newer than yours, and say so once it is on disk.
    Store {
        /// The coordinator's operation id.
        op: u64,
        /// The version.
        version: u64,
        /// The value.
        value: u64,
    },
    /// The version of `op` is durable here.
    Stored {
        /// The coordinator's operation id.
        op: u64,
    },
    /// What is your version?
    Query {
        /// The coordinator's operation id.
        op: u64,
    },
    /// My version.
    Reply {
        /// The coordinator's operation id.
        op: u64,
        /// The replica's version.
        version: u64,
    },
}

/// A client operation.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Input {
    /// Write `value` as `version`.
    Write {
        /// The version; a later write has a higher one.
        version: u64,
        /// The value.
        value: u64,
    },
    /// Read the register, as read number `id`.
    Read {
        /// The client's read number.
        id: u64,
    },
}

/// What the register tells the client.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Output {
    /// The write of this version is acknowledged.
    Acked {
        /// The version written.
        version: u64,
    },
    /// Read `id` saw `version`.
    Read {
        /// The client's read number.
        id: u64,
        /// The version it saw.
        version: u64,
    },
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    /// The client's version for a write, or read number for a read.
    client: u64,
    message: Message,
    answered: u64,
    best: u64,
    tries: u32,
}

impl Register {
    /// A fresh node, with nothing in memory; it recovers from its disk in `handle_start`.
    pub fn new(mode: Mode) -> Self {
        Self {
            mode,
            version: 0,
            value: 0,
            log_ok: false,
            writes: BTreeMap::new(),
            reads: BTreeMap::new(),
        }
    }

    /// The version this node would report.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Scans the log, keeps its valid prefix and makes that prefix the whole durable log.
    fn recover(&mut self, cx: &mut Context<'_, Self>) {
        let disk = cx.disk();
        if !disk.exists(LOG) && disk.create(LOG).is_err() {
            return;
        }
        for _ in 0..3 {
            let _ = disk.reopen(LOG);
            let Ok(bytes) = disk.read_all(LOG) else {
                continue;
            };
            let (valid_len, version, value) = scan(&bytes);
            if disk.truncate(LOG, valid_len).is_ok() && disk.sync(LOG).is_ok() {
                (self.version, self.value, self.log_ok) = (version, value, true);
                return;
            }
        }
        self.log_ok = false;
    }

    /// Appends a record; in the quorum mode also syncs it. Returns whether it is stored.
    fn persist(&mut self, cx: &mut Context<'_, Self>, version: u64, value: u64) -> bool {
        if !self.log_ok {
            self.recover(cx);
        }
        if version <= self.version {
            return self.log_ok;
        }
        if !self.log_ok || cx.disk().append(LOG, &record(version, value)).is_err() {
            return false;
        }
        if self.mode == Mode::Quorum {
            match cx.disk().sync(LOG) {
                Ok(()) => {}
                Err(error) if error.kind() == DiskErrorKind::SyncFailed => {
                    self.log_ok = false;
                    self.recover(cx);
                    return false;
                }
                Err(_) => return false,
            }
        }
        (self.version, self.value) = (version, value);
        true
    }

    fn begin(&mut self, cx: &mut Context<'_, Self>, client: u64, message: Message, is_write: bool) {
        let op = op_of(&message);
        let pending = Pending {
            client,
            message,
            answered: 0,
            best: 0,
            tries: 0,
        };
        if is_write {
            &mut self.writes
        } else {
            &mut self.reads
        }
        .insert(op, pending);
        for node in 0..cx.n_nodes() {
            cx.send(NodeId(node), message);
        }
        cx.set_timer(RETRY, op);
    }

    /// Counts an answer from `from` and finishes the operation once a majority answered.
    fn answer(&mut self, cx: &mut Context<'_, Self>, from: NodeId, op: u64, version: Option<u64>) {
        let majority = cx.n_nodes() / 2 + 1;
        let table = if version.is_some() {
            &mut self.reads
        } else {
            &mut self.writes
        };
        let Some(pending) = table.get_mut(&op) else {
            return;
        };
        pending.answered |= 1 << (from.0 % 64);
        pending.best = pending.best.max(version.unwrap_or(0));
        if pending.answered.count_ones() < majority {
            return;
        }
        let (client, best) = (pending.client, pending.best);
        table.remove(&op);
        match version {
            Some(_) => cx.output(Output::Read {
                id: client,
                version: best,
            }),
            None => cx.output(Output::Acked { version: client }),
        }
    }
}

impl Node for Register {
    type Message = Message;
    type Input = Input;
    type Output = Output;

    fn handle_start(&mut self, cx: &mut Context<'_, Self>) {
        self.recover(cx);
    }

    fn handle_message(&mut self, cx: &mut Context<'_, Self>, from: NodeId, message: Message) {
        match message {
            Message::Store { op, version, value } => {
                let stored = self.persist(cx, version, value);
                if stored && self.mode == Mode::Quorum {
                    cx.send(from, Message::Stored { op });
                }
            }
            Message::Query { op } => {
                if self.log_ok {
                    cx.send(
                        from,
                        Message::Reply {
                            op,
                            version: self.version,
                        },
                    );
                }
            }
            Message::Stored { op } => self.answer(cx, from, op, None),
            Message::Reply { op, version } => self.answer(cx, from, op, Some(version)),
        }
    }

    fn handle_timer(&mut self, cx: &mut Context<'_, Self>, op: u64) {
        let pending = match self.writes.get_mut(&op) {
            Some(pending) => pending,
            None => match self.reads.get_mut(&op) {
                Some(pending) => pending,
                None => return,
            },
        };
        pending.tries += 1;
        if pending.tries > MAX_TRIES {
            self.writes.remove(&op);
            self.reads.remove(&op);
            return;
        }
        let (message, answered) = (pending.message, pending.answered);
        for node in (0..cx.n_nodes()).filter(|node| answered & 1 << (node % 64) == 0) {
            cx.send(NodeId(node), message);
        }
        cx.set_timer(RETRY, op);
    }

    fn handle_input(&mut self, cx: &mut Context<'_, Self>, input: Input) {
        let op = cx.rng().next_u64();
        match input {
            Input::Write { version, value } => {
                let store = Message::Store { op, version, value };
                if self.mode == Mode::Quorum {
                    return self.begin(cx, version, store, true);
                }
                if self.persist(cx, version, value) {
                    cx.output(Output::Acked { version });
                    cx.broadcast(&store);
                }
            }
            Input::Read { id } => self.begin(cx, id, Message::Query { op }, false),
        }
    }
}

/// A client workload: timed operations, each at a node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Workload {
    ops: Vec<(Duration, NodeId, Input)>,
}

/// What one run of the register did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The simulator's counts.
    pub stats: SimStats,
    /// The disks' counts, added up.
    pub disk: DiskStats,
    /// Writes acknowledged to the client.
    pub acked: u64,
    /// Reads that completed.
    pub reads: u64,
    /// The run's trace hash.
    pub trace_hash: u64,
}

impl Workload {
    /// An empty workload.
    pub fn new() -> Self {
        Self::default()
    }

    /// `n` writes, 25 ms apart on average (exponentially, so some come in bursts), each to a
    /// random node and followed, up to 20 ms later, by a read at a random node.
    pub fn random(seed: u64, n_nodes: u32, n: u64) -> Self {
        let mut rng = SimRng::derive(seed, u64::MAX);
        let mut workload = Self::new();
        let mut at = Duration::ZERO;
        for _ in 0..n {
            at += Duration::from_nanos(rng.exponential(25e6) as u64);
            let node = NodeId(rng.below(u64::from(n_nodes)) as u32);
            workload.write(at, node, rng.next_u64());
            let node = NodeId(rng.below(u64::from(n_nodes)) as u32);
            workload.read(at + Duration::from_nanos(rng.below(20_000_000)), node);
        }
        workload
    }

    /// Adds a write at `node` at time `at`; its version is one more than the last write's.
    pub fn write(&mut self, at: Duration, node: NodeId, value: u64) {
        let version = self.n_writes() + 1;
        self.ops.push((at, node, Input::Write { version, value }));
    }

    /// Adds a read at `node` at time `at`.
    pub fn read(&mut self, at: Duration, node: NodeId) {
        let id = (self.ops.len() as u64 - self.n_writes()) + 1;
        self.ops.push((at, node, Input::Read { id }));
    }

    /// How many writes the workload has.
    pub fn n_writes(&self) -> u64 {
        let is_write = |op: &&(Duration, NodeId, Input)| matches!(op.2, Input::Write { .. });
        self.ops.iter().filter(is_write).count() as u64
    }

    /// The swarm config for `seed` with silent corruption turned off (see the module docs).
    pub fn config(seed: u64, n_nodes: u32) -> Config {
        let mut config = Config::swarm(seed, n_nodes);
        config.disk.bit_flip = 0.0;
        config.disk.misdirect = 0.0;
        config.max_events = 20_000_000;
        config
    }

    /// Runs the workload on `config.n_nodes` registers in `mode`, with the invariant that a
    /// read returns at least every version acknowledged before it began, until 60 s of virtual
    /// time after the last operation.
    ///
    /// # Errors
    ///
    /// The [`Failure`] of the first read that missed an acknowledged write.
    pub fn run(&self, config: Config, mode: Mode) -> Result<Outcome, Failure> {
        let mut sim = Sim::new(config, move |_| Register::new(mode));
        let client = Rc::new(RefCell::new(Client::default()));
        let observer = Rc::clone(&client);
        sim.invariant("acknowledged writes are never lost", move |check| {
            let mut client = observer.borrow_mut();
            if check.event().kind == EventKind::Input
                && let Some(Input::Read { id }) = check.input()
            {
                let floor = client.acked_max;
                client.floors.insert(*id, floor);
            }
            check
                .outputs()
                .iter()
                .try_for_each(|(_, output)| client.observe(output))
        });
        let mut end = Duration::ZERO;
        for &(at, node, input) in &self.ops {
            sim.input_at(at, node, input);
            end = end.max(at);
        }
        sim.run_until(end + Duration::from_secs(60))?;
        let client = client.borrow();
        Ok(Outcome {
            stats: sim.stats(),
            disk: sim.disk_stats(),
            acked: client.n_acked,
            reads: client.n_reads,
            trace_hash: sim.trace_hash(),
        })
    }
}

/// What the client saw: the highest acknowledged version, and for each read in flight the
/// highest acknowledged version when it began.
#[derive(Debug, Default)]
struct Client {
    acked_max: u64,
    n_acked: u64,
    n_reads: u64,
    floors: BTreeMap<u64, u64>,
}

impl Client {
    fn observe(&mut self, output: &Output) -> Result<(), String> {
        match *output {
            Output::Acked { version } => {
                self.acked_max = self.acked_max.max(version);
                self.n_acked += 1;
            }
            Output::Read { id, version } => {
                self.n_reads += 1;
                let floor = self.floors.remove(&id).unwrap_or(0);
                if version < floor {
                    return Err(format!(
                        "read {id} saw version {version}, but version {floor} was acknowledged \
                         before it began"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The longest prefix of valid records: its length, and the highest version and its value.
fn scan(bytes: &[u8]) -> (u64, u64, u64) {
    let (mut version, mut value) = (0, 0);
    let mut valid_len = 0;
    for chunk in bytes.chunks_exact(RECORD_LEN) {
        let word = |i: usize| {
            let mut le = [0; 8];
            le.copy_from_slice(&chunk[i * 8..i * 8 + 8]);
            u64::from_le_bytes(le)
        };
        if word(2) != digest(&(word(0), word(1))) {
            break;
        }
        if word(0) > version {
            (version, value) = (word(0), word(1));
        }
        valid_len += RECORD_LEN as u64;
    }
    (valid_len, version, value)
}

fn record(version: u64, value: u64) -> [u8; RECORD_LEN] {
    let mut bytes = [0; RECORD_LEN];
    bytes[..8].copy_from_slice(&version.to_le_bytes());
    bytes[8..16].copy_from_slice(&value.to_le_bytes());
    bytes[16..].copy_from_slice(&digest(&(version, value)).to_le_bytes());
    bytes
}

fn op_of(message: &Message) -> u64 {
    match *message {
        Message::Store { op, .. }
        | Message::Stored { op }
        | Message::Query { op }
        | Message::Reply { op, .. } => op,
    }
}

const LOG: &str = "register.log";
const RECORD_LEN: usize = 24;
const RETRY: Duration = Duration::from_millis(100);
const MAX_TRIES: u32 = 30;

#[cfg(test)]
mod tests;
