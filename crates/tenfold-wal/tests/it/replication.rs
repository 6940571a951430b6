//! Replication under the simulator: 3 and 5 replicas, crashes and restarts, partitions, lost,
//! duplicated and reordered messages, torn writes, and leader changes at random moments.
//!
//! Clients send numbered writes to random replicas; the leader acknowledges a write once it
//! is committed. Invariants, after every event: two replicas never apply different entries at
//! one LSN, and an acknowledged write is what every replica applies at its LSN. At the end, with
//! the network healed and one last promotion, the leader holds every acknowledged write.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use tenfold_sim::{Config, Context, Failure, Fault, Node, NodeId, Seeds, Sim, SimRng};
use tenfold_wal::replica::{
    HardState, Message, Performed, Promotion, Replica, ReplicaConfig, ReplicaId, Role,
};
use tenfold_wal::{Lsn, RecoveryMode, recover};

use crate::sim::{DiskStorage, perform};

/// The hard state lives in two files written in turn, each with a sequence number and a
/// checksum, so a torn or rotted write leaves the other copy to fall back on.
const HARD_STATES: [&str; 2] = ["hard-state.0", "hard-state.1"];
const TICK: u64 = u64::MAX;

fn log_config() -> tenfold_wal::Config {
    tenfold_wal::Config::default()
        .segment_size(4096)
        .preallocate(false)
}

#[derive(Clone, Debug, Hash)]
enum Msg {
    Replica(Message),
    /// From a candidate that deferred: promote yourself with this epoch.
    Promote(u64),
}

#[derive(Clone, Debug, Hash)]
enum Cmd {
    Write(u64),
    Promote(u64),
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
enum Out {
    Acked { lsn: u64, value: u64 },
    Applied { lsn: u64, value: u64 },
}

struct ReplicaNode {
    replica: Option<Replica>,
    /// Writes this replica proposed as leader, waiting to commit.
    proposed: BTreeMap<u64, u64>,
    applied_through: Lsn,
    applied: BTreeMap<u64, u64>,
    /// The sequence number of the last hard-state copy written.
    hard_seq: u64,
    /// A promotion this replica deferred to another, resent on each tick until a leader of
    /// that epoch or a later one is heard from.
    deferred: Option<(NodeId, u64)>,
}

impl ReplicaNode {
    fn start(&mut self, cx: &mut Context<'_, Self>) {
        let n = cx.n_nodes();
        let id = ReplicaId(cx.id().0);
        let seed = cx.rng().next_u64();
        let disk = cx.disk();
        for name in disk.list() {
            let _ = disk.reopen(&name);
        }
        let copies = HARD_STATES.map(|name| disk.read_all(name).ok());
        let newest = copies
            .iter()
            .flatten()
            .filter_map(|bytes| decode_hard_state(bytes))
            .max_by_key(|(seq, _)| *seq);
        let hard = match (newest, copies.iter().any(Option::is_some)) {
            (Some((seq, hard)), _) => {
                self.hard_seq = seq;
                hard
            }
            (None, false) => HardState::default(),
            // Both copies are damaged: what this replica promised and accepted is unknown, so
            // it never counts towards a majority again (its log still raises its epoch).
            (None, true) => HardState {
                accepted: Lsn::new(tenfold_wal::MAX_LSN),
                ..HardState::default()
            },
        };
        let storage = DiskStorage(disk);
        let mode = RecoveryMode::TolerateTornTail;
        let recovery = match recover(&storage, &log_config(), mode, None) {
            Ok(recovery) => recovery,
            Err(_) => {
                // Damage below the durable tail: as an operator would, wipe the log and let a
                // leader rebuild it. The hard state still says what this replica accepted, so
                // it sits out promotions until then.
                for name in disk
                    .list()
                    .into_iter()
                    .filter(|name| name.ends_with(".wal"))
                {
                    let _ = disk.remove(&name);
                }
                let storage = DiskStorage(disk);
                recover(&storage, &log_config(), mode, None).expect("an empty log recovers")
            }
        };
        let storage = DiskStorage(disk);
        let config = ReplicaConfig {
            log: log_config(),
            ..ReplicaConfig::new(id, n)
        };
        let replica = Replica::new(config, hard, recovery, &storage, seed);
        let mut replica = replica.unwrap_or_else(|e| panic!("replica {}: {e}", id.0));
        // The coordinator's part: a leader that restarts is promoted again, with a new epoch.
        let hard = replica.hard_state();
        if hard.leader == Some(id) {
            let epoch = (hard.epoch / u64::from(n) + 1) * u64::from(n) + u64::from(id.0) + 1;
            let _ = replica.promote(epoch);
        }
        self.replica = Some(replica);
        self.applied_through = Lsn::ZERO;
        self.proposed.clear();
        self.drain(cx);
        cx.set_timer(Duration::from_millis(20), TICK);
    }

    /// Performs every ready: hard state, flushes, messages; then reports what committed.
    fn drain(&mut self, cx: &mut Context<'_, Self>) {
        loop {
            let Some(replica) = self.replica.as_mut() else {
                return;
            };
            let Some(ready) = replica.ready() else { return };
            let disk = cx.disk();
            let mut performed = true;
            for flush in &ready.flushes {
                performed = performed && flush.ops.iter().all(|io| perform(disk, io).is_ok());
            }
            if let (true, Some(hard)) = (performed, ready.hard_state) {
                self.hard_seq += 1;
                let name = HARD_STATES[(self.hard_seq % 2) as usize];
                let saved = if disk.exists(name) {
                    Ok(())
                } else {
                    disk.create(name)
                };
                let bytes = encode_hard_state(self.hard_seq, &hard);
                let saved = saved
                    .and_then(|()| disk.truncate(name, 0))
                    .and_then(|()| disk.write_at(name, 0, &bytes))
                    .and_then(|()| disk.sync(name));
                performed = saved.is_ok();
            }
            let performed = if performed {
                Performed::All
            } else {
                Performed::Failed
            };
            replica.advance(&ready, performed);
            if performed == Performed::Failed {
                // What reached the disk is unknown: start over from what is on it.
                self.replica = None;
                self.start(cx);
                return;
            }
            for (to, message) in ready.messages {
                cx.send(NodeId(to.0), Msg::Replica(message));
            }
            if let Some(Promotion::Defer(to)) = ready.promotion {
                let n = u64::from(cx.n_nodes());
                let epoch = (replica.epoch() / n + 1) * n + u64::from(to.0) + 1;
                self.deferred = Some((NodeId(to.0), epoch));
                cx.send(NodeId(to.0), Msg::Promote(epoch));
            }
            self.apply(cx, ready.committed);
        }
    }

    fn apply(&mut self, cx: &mut Context<'_, Self>, committed: Lsn) {
        let Some(replica) = self.replica.as_ref() else {
            return;
        };
        let storage = DiskStorage(cx.disk());
        let mut applied = Vec::new();
        let mut next = self.applied_through.get() + 1;
        while next <= committed.get() {
            let Ok(entry) = replica.entry(&storage, Lsn::new(next)) else {
                break;
            };
            if entry.payload.len() == 8 {
                applied.push((
                    next,
                    u64::from_le_bytes(entry.payload.try_into().unwrap_or_default()),
                ));
            }
            self.applied_through = Lsn::new(next);
            next += 1;
        }
        for (lsn, value) in applied {
            self.applied.insert(lsn, value);
            cx.output(Out::Applied { lsn, value });
            if self.proposed.remove(&lsn).is_some() {
                cx.output(Out::Acked { lsn, value });
            }
        }
    }
}

impl Node for ReplicaNode {
    type Message = Msg;
    type Input = Cmd;
    type Output = Out;

    fn handle_start(&mut self, cx: &mut Context<'_, Self>) {
        self.start(cx);
    }

    fn handle_message(&mut self, cx: &mut Context<'_, Self>, from: NodeId, message: Msg) {
        let Some(replica) = self.replica.as_mut() else {
            return;
        };
        match message {
            Msg::Replica(message) => {
                let storage = DiskStorage(cx.disk());
                replica.handle_message(&storage, ReplicaId(from.0), message);
            }
            Msg::Promote(epoch) => {
                let _ = replica.promote(epoch);
            }
        }
        self.drain(cx);
    }

    fn handle_timer(&mut self, cx: &mut Context<'_, Self>, token: u64) {
        if token != TICK {
            return;
        }
        if let Some(replica) = self.replica.as_mut() {
            let storage = DiskStorage(cx.disk());
            replica.handle_tick(&storage);
            match (self.deferred, replica.role()) {
                (Some((_, epoch)), Role::Follower(Some(_))) if replica.epoch() >= epoch => {
                    self.deferred = None;
                }
                (Some((to, epoch)), _) => cx.send(to, Msg::Promote(epoch)),
                (None, _) => {}
            }
        }
        self.drain(cx);
        cx.set_timer(Duration::from_millis(20), TICK);
    }

    fn handle_input(&mut self, cx: &mut Context<'_, Self>, cmd: Cmd) {
        let Some(replica) = self.replica.as_mut() else {
            return;
        };
        match cmd {
            Cmd::Write(value) => {
                let now = cx.wall().as_micros() as u64;
                if let Ok(lsn) = replica.propose(now, &value.to_le_bytes()) {
                    self.proposed.insert(lsn.get(), value);
                }
            }
            Cmd::Promote(epoch) => {
                let _ = replica.promote(epoch);
            }
        }
        self.drain(cx);
    }
}

/// What one run did.
struct Outcome {
    acked: u64,
    crashes: u64,
    /// 1 if damage left no safe promotion at the end.
    unavailable: u64,
}

fn run(seed: u64, n: u32) -> Result<Outcome, Failure> {
    let mut config = Config::new(seed, n);
    config.net.default_link.loss = 0.05;
    config.net.default_link.duplicate = 0.02;
    config.net.default_link.reorder = 0.1;
    config.disk.sector_size = 64;
    config.disk.torn_write = 0.5;
    config.disk.zeroed_tail = 0.3;
    config.disk.sync_fail = 0.005;
    config.disk.bit_flip = 0.0005;
    config.disk.misdirect = 0.0002;
    let mut sim = Sim::new(config, |_| ReplicaNode {
        replica: None,
        proposed: BTreeMap::new(),
        applied_through: Lsn::ZERO,
        applied: BTreeMap::new(),
        deferred: None,
        hard_seq: 0,
    });

    let mut applied_at: BTreeMap<u64, u64> = BTreeMap::new();
    let acked_by_leaders: Rc<RefCell<BTreeMap<u64, u64>>> = Rc::default();
    let acked = Rc::clone(&acked_by_leaders);
    sim.invariant(
        "one value per lsn, and acknowledged values stick",
        move |check| {
            for (node, out) in check.outputs() {
                let (lsn, value, what) = match *out {
                    Out::Applied { lsn, value } => (lsn, value, "applied"),
                    Out::Acked { lsn, value } => (lsn, value, "acknowledged"),
                };
                let mut acked = acked.borrow_mut();
                if let Some(&first) = applied_at.get(&lsn).or_else(|| acked.get(&lsn))
                    && first != value
                {
                    return Err(format!(
                        "{node} {what} {value} at lsn {lsn}, where {first} was"
                    ));
                }
                match out {
                    Out::Applied { .. } => applied_at.insert(lsn, value),
                    Out::Acked { .. } => acked.insert(lsn, value),
                };
            }
            Ok(())
        },
    );

    // Phase one, 4 s of trouble: writes, promotions, crashes, partitions.
    let mut rng = SimRng::derive(seed, 0x5e91);
    let n64 = u64::from(n);
    let mut round = 0;
    for tick in 0..400u64 {
        let at = Duration::from_millis(10 * tick);
        sim.input_at(at, NodeId(rng.below(n64) as u32), Cmd::Write(tick));
        if tick % 30 == 0 {
            round += 1;
            let node = rng.below(n64);
            sim.input_at(
                at,
                NodeId(node as u32),
                Cmd::Promote(round * n64 + node + 1),
            );
        }
        if rng.chance(0.02) {
            let node = NodeId(rng.below(n64) as u32);
            sim.schedule(at, Fault::Crash(node));
            sim.schedule(
                at + Duration::from_millis(rng.between(10, 300)),
                Fault::Restart(node),
            );
        }
        if rng.chance(0.01) {
            let node = NodeId(rng.below(n64) as u32);
            sim.schedule(
                at,
                Fault::Pause(node, Duration::from_millis(rng.between(50, 400))),
            );
        }
        if rng.chance(0.01) {
            let cut = rng.below(n64) as u32;
            let side_a = vec![NodeId(cut)];
            let side_b = (0..n).filter(|&id| id != cut).map(NodeId).collect();
            let heal_after = Some(Duration::from_millis(rng.between(50, 500)));
            sim.schedule(
                at,
                Fault::Partition {
                    side_a,
                    side_b,
                    one_way: false,
                    heal_after,
                },
            );
        }
    }
    // Phase two: everything heals and restarts, one last promotion, and writes go on.
    let calm = Duration::from_millis(4_000);
    sim.schedule(calm, Fault::HealAll);
    for node in 0..n {
        sim.schedule(calm, Fault::Restart(NodeId(node)));
    }
    // A promotion can be lost with a crash or a message; try a few, the last one well before
    // the end.
    for attempt in 0..3u64 {
        let final_round = round + 100 + attempt;
        let node = attempt % n64;
        let at = calm + Duration::from_millis(100 + 400 * attempt);
        sim.input_at(
            at,
            NodeId(node as u32),
            Cmd::Promote(final_round * n64 + node + 1),
        );
    }
    for tick in 0..100u64 {
        let at = calm + Duration::from_millis(1_000 + 10 * tick);
        for node in 0..n {
            sim.input_at(at, NodeId(node), Cmd::Write(1_000_000 + tick));
        }
    }
    sim.run_until(calm + Duration::from_millis(4_000))?;

    // The leader at the end holds every write acknowledged at any time.
    let leader = (0..n).filter_map(|id| sim.node(NodeId(id))).find(|node| {
        node.replica
            .as_ref()
            .is_some_and(|replica| replica.role() == Role::Leader)
    });
    let Some(leader) = leader else {
        // Damage that cost a majority of replicas entries they had accepted leaves no safe
        // promotion: the group stays without a leader rather than risk a write. Anything
        // else without a leader is a failure.
        let replicas = (0..n).filter_map(|id| sim.node(NodeId(id))?.replica.as_ref());
        let n_intact = replicas
            .filter(|r| r.last_lsn() >= r.hard_state().accepted)
            .count();
        if n_intact < n as usize / 2 + 1 {
            return Ok(Outcome {
                acked: 0,
                crashes: sim.stats().crashes,
                unavailable: 1,
            });
        }
        let states: Vec<String> = (0..n)
            .map(
                |id| match sim.node(NodeId(id)).and_then(|node| node.replica.as_ref()) {
                    Some(r) => {
                        format!(
                            "n{id}: {:?} last {} {:?}",
                            r.role(),
                            r.last_lsn(),
                            r.hard_state()
                        )
                    }
                    None => format!("n{id}: down"),
                },
            )
            .collect();
        let message = format!("no leader after the final promotion; {}", states.join("; "));
        return Err(end_failure(seed, &sim, message));
    };

    let acked = acked_by_leaders.borrow();
    for (lsn, value) in acked.iter() {
        if leader.applied.get(lsn) != Some(value) {
            return Err(end_failure(
                seed,
                &sim,
                format!("acknowledged {value} at {lsn} was lost"),
            ));
        }
    }
    Ok(Outcome {
        acked: acked.len() as u64,
        crashes: sim.stats().crashes,
        unavailable: 0,
    })
}

fn end_failure(seed: u64, sim: &Sim<ReplicaNode>, message: String) -> Failure {
    let events = sim.last_events();
    let last = events.last().copied();
    match last {
        Some(event) => Failure::new(seed, "end of run", message, event, events),
        None => panic!("seed {seed}: {message}"),
    }
}

/// Runs the seeds and returns how many ran, writes acknowledged, crashes, and runs that
/// ended without a safe promotion.
fn check_seeds(n: u32, default_seeds: u64) -> [u64; 4] {
    let seeds = Seeds::from_env(default_seeds).unwrap();
    let mut totals = [seeds.count(), 0, 0, 0];
    seeds.check(|seed| {
        let outcome = run(seed, n)?;
        totals[1] += outcome.acked;
        totals[2] += outcome.crashes;
        totals[3] += outcome.unavailable;
        Ok(())
    });
    assert!(totals[1] > 0, "writes were acknowledged");
    totals
}

#[test]
fn three_replicas_never_lose_an_acknowledged_write() {
    let [n_seeds, n_acked, n_crashes, n_stuck] = check_seeds(3, 150);
    println!(
        "3 replicas, {n_seeds} seeds: {n_acked} acknowledged, {n_crashes} crashes, none lost; \
         {n_stuck} ended with a damaged majority and no leader"
    );
}

#[test]
fn five_replicas_never_lose_an_acknowledged_write() {
    let [n_seeds, n_acked, n_crashes, n_stuck] = check_seeds(5, 60);
    println!(
        "5 replicas, {n_seeds} seeds: {n_acked} acknowledged, {n_crashes} crashes, none lost; \
         {n_stuck} ended with a damaged majority and no leader"
    );
}

/// A hard-state copy: sequence number, epoch, whether a leader is known and which, the
/// accepted LSN, then a CRC-32 of all that.
fn encode_hard_state(seq: u64, hard: &HardState) -> Vec<u8> {
    let mut bytes = seq.to_le_bytes().to_vec();
    bytes.extend_from_slice(&hard.epoch.to_le_bytes());
    bytes.push(u8::from(hard.leader.is_some()));
    bytes.extend_from_slice(&hard.leader.map_or(0, |leader| leader.0).to_le_bytes());
    bytes.extend_from_slice(&hard.accepted.get().to_le_bytes());
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    bytes
}

fn decode_hard_state(bytes: &[u8]) -> Option<(u64, HardState)> {
    let field = |at: usize| -> Option<u64> {
        Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
    };
    let crc = u32::from_le_bytes(bytes.get(29..33)?.try_into().ok()?);
    if bytes.len() != 33 || crc32fast::hash(&bytes[..29]) != crc {
        return None;
    }
    let leader = u32::from_le_bytes(bytes[17..21].try_into().ok()?);
    let leader = (bytes[16] == 1).then_some(ReplicaId(leader));
    let hard = HardState {
        epoch: field(8)?,
        leader,
        accepted: Lsn::new(field(21)?),
    };
    Some((field(0)?, hard))
}

/// A replica on in-memory storage, driven by hand.
struct Manual {
    replica: Replica,
    storage: tenfold_wal::MemStorage,
}

impl Manual {
    fn new(id: u32, n: u32) -> Self {
        let storage = tenfold_wal::MemStorage::new();
        let recovery = recover(&storage, &log_config(), RecoveryMode::Strict, None).unwrap();
        let hard = HardState::default();
        let config = ReplicaConfig {
            log: log_config(),
            ..ReplicaConfig::new(ReplicaId(id), n)
        };
        let replica = Replica::new(config, hard, recovery, &storage, 1).unwrap();
        Self { replica, storage }
    }

    /// Performs every ready and returns the messages it sent.
    fn settle(&mut self) -> Vec<(ReplicaId, Message)> {
        let mut sent = Vec::new();
        while let Some(ready) = self.replica.ready() {
            for flush in &ready.flushes {
                for io in &flush.ops {
                    self.storage.apply(io).unwrap();
                }
            }
            self.replica.advance(&ready, Performed::All);
            sent.extend(ready.messages);
        }
        sent
    }

    fn receive(&mut self, from: u32, message: Message) -> Vec<(ReplicaId, Message)> {
        self.replica
            .handle_message(&self.storage, ReplicaId(from), message);
        self.settle()
    }
}

/// Delivers the messages addressed to `to`, and returns everything sent in answer.
fn deliver(
    replicas: &mut [Manual],
    sent: &[(ReplicaId, Message)],
    from: u32,
    to: u32,
) -> Vec<(ReplicaId, Message)> {
    let mut answers = Vec::new();
    for (_, message) in sent.iter().filter(|(dest, _)| dest.0 == to) {
        answers.extend(replicas[to as usize].receive(from, message.clone()));
    }
    answers
}

/// A leader must not commit an entry of an earlier epoch by counting the replicas that hold
/// it: a later leader whose log has a different entry there could still take office and
/// replace it. Only once an entry of its own epoch is on a majority does it commit, and the
/// older entries with it.
#[test]
fn an_older_epochs_entry_commits_only_beneath_one_of_the_current_epoch() {
    let mut replicas: Vec<Manual> = (0..3).map(|id| Manual::new(id, 3)).collect();

    // Epoch 1: replica 0 leads; its promotion entry (lsn 1) reaches everyone.
    replicas[0].replica.promote(1).unwrap();
    let surveys = replicas[0].settle();
    let replies = deliver(&mut replicas, &surveys, 0, 1);
    let appends = replicas[0].receive(1, replies[0].1.clone());
    for to in [1, 2] {
        let acks = deliver(&mut replicas, &appends, 0, to);
        for (_, ack) in acks {
            replicas[0].receive(to, ack);
        }
    }
    assert_eq!(replicas[0].replica.committed(), Lsn::new(1));

    // Replica 0 writes "A" at lsn 2, but it reaches no one yet.
    assert_eq!(replicas[0].replica.propose(10, b"A").unwrap(), Lsn::new(2));
    replicas[0].settle();

    // Epoch 3: replica 0 leads again, surveyed by replica 1, and appends its promotion at 3.
    replicas[0].replica.promote(3).unwrap();
    let surveys = replicas[0].settle();
    let replies = deliver(&mut replicas, &surveys, 0, 1);
    replicas[0].receive(1, replies[0].1.clone());
    assert_eq!(replicas[0].replica.role(), Role::Leader);
    assert_eq!(replicas[0].replica.last_lsn(), Lsn::new(3));

    // Replica 1 holds "A" (epoch 1) but not yet the promotion: a majority has lsn 2, and it
    // must not count.
    replicas[0].receive(
        1,
        Message::Accepted {
            epoch: 3,
            through: Lsn::new(2),
        },
    );
    assert_eq!(replicas[0].replica.committed(), Lsn::new(1));

    // Once the epoch-3 entry is on a majority, both commit.
    replicas[0].receive(
        1,
        Message::Accepted {
            epoch: 3,
            through: Lsn::new(3),
        },
    );
    assert_eq!(replicas[0].replica.committed(), Lsn::new(3));
}

#[test]
fn promotion_defers_to_a_more_complete_log_and_stale_leaders_are_fenced() {
    let mut replicas: Vec<Manual> = (0..3).map(|id| Manual::new(id, 3)).collect();
    replicas[0].replica.promote(1).unwrap();
    let surveys = replicas[0].settle();
    let replies = deliver(&mut replicas, &surveys, 0, 1);
    let appends = replicas[0].receive(1, replies[0].1.clone());
    let acks = deliver(&mut replicas, &appends, 0, 1);
    replicas[0].receive(1, acks[0].1.clone());
    assert_eq!(replicas[0].replica.committed(), Lsn::new(1));

    // Replica 2 never heard of epoch 1; surveyed by replica 1, whose log is longer, it defers.
    replicas[2].replica.promote(5).unwrap();
    let surveys = replicas[2].settle();
    let replies = deliver(&mut replicas, &surveys, 2, 1);
    let Some((_, reply)) = replies.first() else {
        panic!("replica 1 answers the survey")
    };
    replicas[2].receive(1, reply.clone());
    let ready_promotion = replicas[2].replica.role();
    assert_eq!(ready_promotion, Role::Follower(None));

    // Replica 1 promised epoch 5: the old leader's appends are now refused as stale.
    replicas[0].replica.propose(20, b"late").unwrap();
    let appends = replicas[0].settle();
    let answers = deliver(&mut replicas, &appends, 0, 1);
    assert_eq!(answers, [(ReplicaId(0), Message::Stale { epoch: 5 })]);
    replicas[0].receive(1, Message::Stale { epoch: 5 });
    assert_eq!(replicas[0].replica.role(), Role::Follower(None));
    assert_eq!(
        replicas[0].replica.propose(21, b"x"),
        Err(tenfold_wal::replica::ProposeError::NotLeader(None))
    );
}
