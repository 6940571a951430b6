//! The discrete-event loop: a queue of timed events over the nodes, the random fault process,
//! and the invariant checks after every event.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fmt;
use std::time::Duration;

use crate::clock::{ClockConfig, NodeClock};
use crate::disk::{Disk, DiskConfig, DiskStats};
use crate::net::{Fate, NetConfig, Network};
use crate::node::{Context, Effects, Node, NodeId};
use crate::rng::{SimRng, Stream};
use crate::trace::{EventKind, Trace, TraceEvent, digest};

/// Everything that shapes a run. Two runs with equal configs and the same nodes are identical.
///
/// [`Config::new`] gives a fault-free world; set the fields, or start from
/// [`Config::swarm`] to let the seed choose the faults.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The seed every random choice of the run derives from.
    pub seed: u64,
    /// How many nodes; their ids are `0..n_nodes`.
    pub n_nodes: u32,
    /// The network.
    pub net: NetConfig,
    /// Every node's disk.
    pub disk: DiskConfig,
    /// Every node's clocks.
    pub clocks: ClockConfig,
    /// Crashes and pauses.
    pub nodes: NodeFaults,
    /// How many of the last events a [`Failure`] reports.
    pub keep_events: usize,
    /// The most events a run may process before it fails as a livelock.
    pub max_events: u64,
}

impl Config {
    /// `n_nodes` nodes on a perfect network with 1 ms links, perfect clocks, and disks that
    /// lose only unsynced writes at a crash; no random faults.
    pub fn new(seed: u64, n_nodes: u32) -> Self {
        Self {
            seed,
            n_nodes,
            net: NetConfig::default(),
            disk: DiskConfig::default(),
            clocks: ClockConfig::default(),
            nodes: NodeFaults::default(),
            keep_events: 20,
            max_events: u64::MAX,
        }
    }
}

/// Random crashes and pauses of nodes. The default has none.
///
/// After each event, with probability `crash`, a random node crashes (if it is up and fewer
/// than `max_down` nodes are down) and restarts after a time drawn uniformly from
/// `restart_after`. With probability `crash_during`, a handler is cut short by a crash: the
/// simulator picks a point among the disk calls the handler made, and the calls, sends and
/// outputs after that point never happen (a write the handler believed synced may be torn),
/// and the node restarts as after any crash.
///
/// With probability `pause` after each event, a random running node stalls, as in a long GC
/// pause or a VM migration, for a time drawn from `pause_for`: it handles nothing meanwhile,
/// and everything addressed to it waits.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeFaults {
    /// The chance, after each event, that a random node crashes.
    pub crash: f64,
    /// The chance that a handler is cut short by a crash of its node.
    pub crash_during: f64,
    /// The range a crashed node's downtime is drawn from.
    pub restart_after: (Duration, Duration),
    /// The chance, after each event, that a random node pauses.
    pub pause: f64,
    /// The range a pause's length is drawn from.
    pub pause_for: (Duration, Duration),
    /// The most nodes random crashes may keep down at once.
    pub max_down: u32,
}

impl Default for NodeFaults {
    fn default() -> Self {
        Self {
            crash: 0.0,
            crash_during: 0.0,
            restart_after: (Duration::from_millis(10), Duration::from_secs(2)),
            pause: 0.0,
            pause_for: (Duration::from_millis(10), Duration::from_secs(1)),
            max_down: u32::MAX,
        }
    }
}

/// A fault to inject at a chosen time with [`Sim::schedule`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The node crashes and stays down until a [`Fault::Restart`].
    Crash(NodeId),
    /// A crashed node starts again; nothing happens if it is up.
    Restart(NodeId),
    /// The node stalls for the given time.
    Pause(NodeId, Duration),
    /// The node's wall clock steps by the given nanoseconds, backwards if negative.
    ClockStep(NodeId, i64),
    /// Links from `side_a` to `side_b` are cut, and back unless `one_way`; the cut heals after
    /// `heal_after`, or at a [`Fault::HealAll`].
    Partition {
        /// One side.
        side_a: Vec<NodeId>,
        /// The other side.
        side_b: Vec<NodeId>,
        /// Cut only the links from `side_a` to `side_b`.
        one_way: bool,
        /// When the cut heals by itself.
        heal_after: Option<Duration>,
    },
    /// Every partition heals.
    HealAll,
}

/// Counts of what a run did, for fault-rate checks and reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimStats {
    /// Events taken from the queue and processed.
    pub events: u64,
    /// Messages nodes sent.
    pub sent: u64,
    /// Messages handed to nodes, copies included.
    pub delivered: u64,
    /// Messages the network lost.
    pub lost: u64,
    /// Messages a partition cut off, when sent or when arriving.
    pub cut: u64,
    /// Messages and inputs that arrived at a crashed node, or were sent to no node.
    pub dropped: u64,
    /// Extra copies the network made.
    pub duplicated: u64,
    /// Messages the network held back so others could overtake them.
    pub reordered: u64,
    /// Timers that fired.
    pub timers: u64,
    /// Inputs handed to nodes.
    pub inputs: u64,
    /// Outputs nodes made.
    pub outputs: u64,
    /// Node starts, the first ones included.
    pub starts: u64,
    /// Crashes, those during a handler included.
    pub crashes: u64,
    /// Crashes that cut a handler short.
    pub interrupted: u64,
    /// Pauses.
    pub pauses: u64,
    /// Wall-clock steps.
    pub clock_steps: u64,
    /// Partitions begun.
    pub partitions: u64,
}

/// A discrete-event simulation of nodes of type `N`.
///
/// Time jumps from one event to the next. Events at the same instant run in the order they
/// were scheduled, so the order is fixed by the seed too. See the [crate docs](crate) for a
/// complete example.
pub struct Sim<N: Node> {
    config: Config,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Entry<N>>,
    slots: Vec<Slot<N>>,
    factory: Box<dyn FnMut(NodeId) -> N>,
    net: Network,
    rng: SimRng,
    trace: Trace,
    effects: Effects<N>,
    invariants: Vec<Invariant<N>>,
    step_outputs: Vec<(NodeId, N::Output)>,
    step_input: Option<N::Input>,
    stats: SimStats,
    fault_rate: f64,
}

/// What an invariant sees after each event: the event, what it produced, and every node.
pub struct Check<'a, N: Node> {
    event: TraceEvent,
    input: Option<&'a N::Input>,
    outputs: &'a [(NodeId, N::Output)],
    slots: &'a [Slot<N>],
}

/// The first invariant that did not hold: which, why, when, with the seed to replay it and the
/// last events before it. Its `Display` is the report a failing test prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure(Box<FailureDetail>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct FailureDetail {
    seed: u64,
    invariant: String,
    message: String,
    event: TraceEvent,
    last_events: Vec<TraceEvent>,
}

type Invariant<N> = (String, Box<dyn FnMut(&Check<'_, N>) -> Result<(), String>>);

struct Slot<N> {
    node: Option<N>,
    incarnation: u32,
    paused_until: u64,
    clock: NodeClock,
    rng: SimRng,
    disk: Disk,
}

enum Event<N: Node> {
    Start(NodeId),
    Deliver {
        from: NodeId,
        to: NodeId,
        message: N::Message,
    },
    Timer {
        node: NodeId,
        incarnation: u32,
        token: u64,
    },
    Input(NodeId, N::Input),
    Fault(Fault),
    Resume(NodeId),
    Heal(u64),
}

struct Entry<N: Node> {
    at: u64,
    seq: u64,
    event: Event<N>,
}

impl<N: Node> Sim<N> {
    /// A simulation of `config.n_nodes` nodes built by `factory`, each started at time zero.
    ///
    /// The factory is called again for each restart; the node then recovers from its disk in
    /// [`Node::handle_start`].
    pub fn new(config: Config, factory: impl FnMut(NodeId) -> N + 'static) -> Self {
        let seed = config.seed;
        let mut rng = SimRng::for_stream(seed, Stream::World, 0, 0);
        let slots = (0..config.n_nodes)
            .map(|idx| Slot {
                node: None,
                incarnation: 0,
                paused_until: 0,
                clock: NodeClock::random(&config.clocks, &mut rng),
                rng: SimRng::for_stream(seed, Stream::Node, idx, 0),
                disk: Disk::new(
                    config.disk.clone(),
                    SimRng::for_stream(seed, Stream::Disk, idx, 0),
                ),
            })
            .collect();
        let fault_rate =
            config.nodes.crash + config.nodes.pause + config.clocks.step + config.net.partition;
        let mut sim = Self {
            net: Network::new(&config.net, config.n_nodes),
            trace: Trace::new(config.keep_events),
            config,
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            slots,
            factory: Box::new(factory),
            rng,
            effects: Effects::new(),
            invariants: Vec::new(),
            step_outputs: Vec::new(),
            step_input: None,
            stats: SimStats::default(),
            fault_rate,
        };
        for idx in 0..sim.config.n_nodes {
            sim.push(0, Event::Start(NodeId(idx)));
        }
        sim
    }

    /// Adds a check to run after every event. The first one to return an error stops the run
    /// with a [`Failure`] naming it.
    pub fn invariant(
        &mut self,
        name: &str,
        check: impl FnMut(&Check<'_, N>) -> Result<(), String> + 'static,
    ) {
        self.invariants.push((name.to_owned(), Box::new(check)));
    }

    /// Schedules `input` to arrive at `node` at time `at` (or now, if `at` has passed).
    pub fn input_at(&mut self, at: Duration, node: NodeId, input: N::Input) {
        let at = self.at_or_now(at);
        self.push(at, Event::Input(node, input));
    }

    /// Schedules `fault` at time `at` (or now, if `at` has passed).
    pub fn schedule(&mut self, at: Duration, fault: Fault) {
        let at = self.at_or_now(at);
        self.push(at, Event::Fault(fault));
    }

    /// Processes the next event. Returns `Ok(false)` if there was none.
    ///
    /// # Errors
    ///
    /// The [`Failure`] of the first invariant that does not hold after the event, or a failure
    /// named `max_events` once [`Config::max_events`] events have run.
    pub fn step(&mut self) -> Result<bool, Failure> {
        let Some(entry) = self.queue.pop() else {
            return Ok(false);
        };
        self.now = entry.at;
        if let Some(event) = self.process(entry.event) {
            self.stats.events += 1;
            self.check(event)?;
            if self.fault_rate > 0.0 && self.rng.chance(self.fault_rate) {
                self.random_fault();
            }
        }
        Ok(true)
    }

    /// Processes every event due up to `deadline`, then sets the clock to `deadline`.
    ///
    /// # Errors
    ///
    /// As [`Sim::step`].
    pub fn run_until(&mut self, deadline: Duration) -> Result<(), Failure> {
        let deadline = deadline.as_nanos().min(u128::from(u64::MAX)) as u64;
        while self.queue.peek().is_some_and(|entry| entry.at <= deadline) {
            self.step()?;
        }
        self.now = self.now.max(deadline);
        Ok(())
    }

    /// Processes every event due in the next `span` of virtual time.
    ///
    /// # Errors
    ///
    /// As [`Sim::step`].
    pub fn run_for(&mut self, span: Duration) -> Result<(), Failure> {
        self.run_until(Duration::from_nanos(self.now).saturating_add(span))
    }

    /// The current virtual time since the start of the run.
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.now)
    }

    /// The node, or `None` while it is down.
    pub fn node(&self, id: NodeId) -> Option<&N> {
        self.slots.get(id.0 as usize)?.node.as_ref()
    }

    /// The node's disk, or `None` for an id with no node.
    pub fn disk(&self, id: NodeId) -> Option<&Disk> {
        self.slots.get(id.0 as usize).map(|slot| &slot.disk)
    }

    /// The node's clock, or `None` for an id with no node.
    pub fn clock(&self, id: NodeId) -> Option<&NodeClock> {
        self.slots.get(id.0 as usize).map(|slot| &slot.clock)
    }

    /// What the run did so far.
    pub fn stats(&self) -> SimStats {
        self.stats
    }

    /// What all disks did so far, added up.
    pub fn disk_stats(&self) -> DiskStats {
        self.slots.iter().fold(DiskStats::default(), |sum, slot| {
            add_disk_stats(sum, slot.disk.stats())
        })
    }

    /// The hash of every event so far. Equal seeds give equal hashes; that is the determinism
    /// check.
    pub fn trace_hash(&self) -> u64 {
        self.trace.hash()
    }

    /// The last [`Config::keep_events`] events, oldest first.
    pub fn last_events(&self) -> Vec<TraceEvent> {
        self.trace.last_events()
    }

    /// The run's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// How many events the trace holds so far: processed events and messages dropped when
    /// sent.
    pub fn n_trace_events(&self) -> u64 {
        self.trace.n_events()
    }

    /// How many partitions are in force.
    pub fn n_partitions(&self) -> usize {
        self.net.n_partitions()
    }

    /// How many events wait in the queue.
    pub fn n_pending(&self) -> usize {
        self.queue.len()
    }

    fn at_or_now(&self, at: Duration) -> u64 {
        (at.as_nanos().min(u128::from(u64::MAX)) as u64).max(self.now)
    }

    #[inline]
    fn push(&mut self, at: u64, event: Event<N>) {
        self.queue.push(Entry {
            at,
            seq: self.seq,
            event,
        });
        self.seq += 1;
    }

    #[inline]
    fn record(&mut self, kind: EventKind, node: NodeId, peer: NodeId, value: u64) -> TraceEvent {
        self.trace
            .record(Duration::from_nanos(self.now), kind, node, peer, value)
    }

    /// Carries out one event. Returns what the trace recorded, or `None` for an event that
    /// turned out to be void (a stale timer) or was put off (its node is paused).
    fn process(&mut self, event: Event<N>) -> Option<TraceEvent> {
        if let Some(node) = event.target() {
            let paused_until = self.slots.get(node.0 as usize)?.paused_until;
            if paused_until > self.now {
                self.push(paused_until, event);
                return None;
            }
        }
        match event {
            Event::Start(node) => self.start(node),
            Event::Deliver { from, to, message } => Some(self.deliver(from, to, message)),
            Event::Timer {
                node,
                incarnation,
                token,
            } => self.fire(node, incarnation, token),
            Event::Input(node, input) => Some(self.input(node, input)),
            Event::Fault(fault) => self.fault(fault),
            Event::Resume(node) => {
                self.slots[node.0 as usize].paused_until = 0;
                Some(self.record(EventKind::Resume, node, node, 0))
            }
            Event::Heal(id) => self
                .net
                .heal(id)
                .then(|| self.record(EventKind::Heal, NodeId(0), NodeId(0), id)),
        }
    }

    fn start(&mut self, node: NodeId) -> Option<TraceEvent> {
        let seed = self.config.seed;
        let slot = self.slots.get_mut(node.0 as usize)?;
        if slot.node.is_some() {
            return None;
        }
        slot.node = Some((self.factory)(node));
        slot.rng = SimRng::for_stream(seed, Stream::Node, node.0, slot.incarnation);
        let incarnation = slot.incarnation;
        self.stats.starts += 1;
        let event = self.record(EventKind::Start, node, node, u64::from(incarnation));
        self.call(node, N::handle_start);
        Some(event)
    }

    fn deliver(&mut self, from: NodeId, to: NodeId, message: N::Message) -> TraceEvent {
        let value = digest(&message);
        if self.net.is_cut(from, to) {
            self.stats.cut += 1;
            return self.record(EventKind::Drop, to, from, value);
        }
        if self.slots[to.0 as usize].node.is_none() {
            self.stats.dropped += 1;
            return self.record(EventKind::Drop, to, from, value);
        }
        self.stats.delivered += 1;
        let event = self.record(EventKind::Deliver, to, from, value);
        self.call(to, |state, cx| state.handle_message(cx, from, message));
        event
    }

    fn fire(&mut self, node: NodeId, incarnation: u32, token: u64) -> Option<TraceEvent> {
        let slot = &self.slots[node.0 as usize];
        if slot.incarnation != incarnation || slot.node.is_none() {
            return None;
        }
        self.stats.timers += 1;
        let event = self.record(EventKind::Timer, node, node, token);
        self.call(node, |state, cx| state.handle_timer(cx, token));
        Some(event)
    }

    fn input(&mut self, node: NodeId, input: N::Input) -> TraceEvent {
        let value = digest(&input);
        if self.slots[node.0 as usize].node.is_none() {
            self.stats.dropped += 1;
            return self.record(EventKind::Drop, node, node, value);
        }
        self.stats.inputs += 1;
        let event = self.record(EventKind::Input, node, node, value);
        if !self.invariants.is_empty() {
            self.step_input = Some(input.clone());
        }
        self.call(node, |state, cx| state.handle_input(cx, input));
        event
    }

    /// Runs one handler of a node that is up, then carries out its effects.
    #[inline]
    fn call(&mut self, node: NodeId, handler: impl FnOnce(&mut N, &mut Context<'_, N>)) {
        let interrupt = self.rng.chance(self.config.nodes.crash_during);
        let n_nodes = self.config.n_nodes;
        let slot = &mut self.slots[node.0 as usize];
        let Some(state) = slot.node.as_mut() else {
            return;
        };
        let before = interrupt.then(|| {
            let before = slot.disk.clone();
            slot.disk.begin_journal();
            before
        });
        let mut cx = Context {
            id: node,
            n_nodes,
            now: Duration::from_nanos(self.now),
            clock: &slot.clock,
            rng: &mut slot.rng,
            disk: &mut slot.disk,
            effects: &mut self.effects,
        };
        handler(state, &mut cx);
        match before {
            None => self.flush(node),
            Some(before) => self.interrupt(node, before),
        }
    }

    /// Crashes `node` part way through the handler that just ran: the disk calls after a
    /// random point never happened, nor did the sends and outputs after it, nor any timer.
    fn interrupt(&mut self, node: NodeId, before: Disk) {
        let slot = &mut self.slots[node.0 as usize];
        let journal = slot.disk.take_journal();
        let cut = self.rng.below(journal.len() as u64 + 1) as usize;
        slot.disk = before;
        slot.disk.replay(&journal[..cut]);

        let effects = &mut self.effects;
        effects.timers.clear();
        let mut marks = effects.send_marks.drain(..);
        effects
            .sends
            .retain(|_| marks.next().is_some_and(|mark| mark <= cut));
        drop(marks);
        let mut marks = effects.output_marks.drain(..);
        effects
            .outputs
            .retain(|_| marks.next().is_some_and(|mark| mark <= cut));
        drop(marks);
        self.flush(node);

        self.stats.interrupted += 1;
        if self.crash(node).is_some() {
            let after = draw(&mut self.rng, self.config.nodes.restart_after);
            self.push(
                self.now.saturating_add(after),
                Event::Fault(Fault::Restart(node)),
            );
        }
    }

    /// Sends the messages, sets the timers and collects the outputs of the last handler.
    fn flush(&mut self, from: NodeId) {
        let mut sends = std::mem::take(&mut self.effects.sends);
        for (to, message) in sends.drain(..) {
            self.send(from, to, message);
        }
        self.effects.sends = sends;

        let slot = &self.slots[from.0 as usize];
        let (clock, incarnation) = (slot.clock, slot.incarnation);
        let mut timers = std::mem::take(&mut self.effects.timers);
        for (after, token) in timers.drain(..) {
            let at = self
                .now
                .saturating_add(clock.true_delay(after).as_nanos() as u64);
            self.push(
                at,
                Event::Timer {
                    node: from,
                    incarnation,
                    token,
                },
            );
        }
        self.effects.timers = timers;

        self.stats.outputs += self.effects.outputs.len() as u64;
        let outputs = self.effects.outputs.drain(..).map(|output| (from, output));
        self.step_outputs.extend(outputs);
    }

    #[inline]
    fn send(&mut self, from: NodeId, to: NodeId, message: N::Message) {
        self.stats.sent += 1;
        if to.0 >= self.config.n_nodes {
            self.stats.dropped += 1;
            return;
        }
        match self.net.send(from, to, &mut self.rng, &mut self.stats) {
            Fate::Lost | Fate::Cut => {
                let value = digest(&message);
                self.record(EventKind::Drop, to, from, value);
            }
            Fate::Arrives(delay, None) => {
                self.push(self.now + delay, Event::Deliver { from, to, message });
            }
            Fate::Arrives(delay, Some(copy_delay)) => {
                let copy = message.clone();
                self.push(self.now + delay, Event::Deliver { from, to, message });
                self.push(
                    self.now + copy_delay,
                    Event::Deliver {
                        from,
                        to,
                        message: copy,
                    },
                );
            }
        }
    }

    fn fault(&mut self, fault: Fault) -> Option<TraceEvent> {
        match fault {
            Fault::Crash(node) => self.crash(node),
            Fault::Restart(node) => self.start(node),
            Fault::Pause(node, span) => self.pause(node, span),
            Fault::ClockStep(node, by) => {
                self.slots.get_mut(node.0 as usize)?.clock.step(by);
                self.stats.clock_steps += 1;
                Some(self.record(EventKind::ClockStep, node, node, by as u64))
            }
            Fault::Partition {
                side_a,
                side_b,
                one_way,
                heal_after,
            } => Some(self.partition(&side_a, &side_b, one_way, heal_after)),
            Fault::HealAll => {
                self.net.heal_all();
                Some(self.record(EventKind::Heal, NodeId(0), NodeId(0), u64::MAX))
            }
        }
    }

    fn crash(&mut self, node: NodeId) -> Option<TraceEvent> {
        let slot = self.slots.get_mut(node.0 as usize)?;
        slot.node.take()?;
        slot.incarnation += 1;
        slot.paused_until = 0;
        let n_lost = slot.disk.crash();
        self.stats.crashes += 1;
        Some(self.record(EventKind::Crash, node, node, n_lost))
    }

    fn pause(&mut self, node: NodeId, span: Duration) -> Option<TraceEvent> {
        let now = self.now;
        let slot = self.slots.get_mut(node.0 as usize)?;
        slot.node.as_ref()?;
        let until = now
            .saturating_add(span.as_nanos() as u64)
            .max(slot.paused_until);
        slot.paused_until = until;
        self.stats.pauses += 1;
        self.push(until, Event::Resume(node));
        Some(self.record(EventKind::Pause, node, node, until - now))
    }

    fn partition(
        &mut self,
        side_a: &[NodeId],
        side_b: &[NodeId],
        one_way: bool,
        heal_after: Option<Duration>,
    ) -> TraceEvent {
        let n_nodes = self.config.n_nodes;
        let keep = |side: &[NodeId]| {
            side.iter()
                .copied()
                .filter(|id| id.0 < n_nodes)
                .collect::<Vec<_>>()
        };
        let (side_a, side_b) = (keep(side_a), keep(side_b));
        let id = self.net.partition(&side_a, &side_b, one_way);
        if let Some(after) = heal_after {
            self.push(
                self.now.saturating_add(after.as_nanos() as u64),
                Event::Heal(id),
            );
        }
        self.stats.partitions += 1;
        let first = |side: &[NodeId]| side.first().copied().unwrap_or_default();
        self.record(
            EventKind::Partition,
            first(&side_a),
            first(&side_b),
            u64::from(one_way),
        )
    }

    /// One fault of the random process, chosen in proportion to the configured rates.
    fn random_fault(&mut self) {
        let n_nodes = self.config.n_nodes;
        if n_nodes == 0 {
            return;
        }
        let node = NodeId(self.rng.below(u64::from(n_nodes)) as u32);
        let mut pick = self.rng.unit() * self.fault_rate;
        let nodes = self.config.nodes.clone();
        if pick < nodes.crash {
            let n_down = self.slots.iter().filter(|slot| slot.node.is_none()).count();
            if n_down < nodes.max_down as usize && self.crash(node).is_some() {
                let after = draw(&mut self.rng, nodes.restart_after);
                self.push(
                    self.now.saturating_add(after),
                    Event::Fault(Fault::Restart(node)),
                );
            }
            return;
        }
        pick -= nodes.crash;
        if pick < nodes.pause {
            if self.slots[node.0 as usize].paused_until <= self.now {
                let span = draw(&mut self.rng, nodes.pause_for);
                self.pause(node, Duration::from_nanos(span));
            }
            return;
        }
        pick -= nodes.pause;
        if pick < self.config.clocks.step {
            let max = self
                .config
                .clocks
                .max_step
                .as_nanos()
                .min(i64::MAX as u128 / 2) as i64;
            let by = self.rng.between(0, 2 * max as u64) as i64 - max;
            self.fault(Fault::ClockStep(node, by));
            return;
        }
        let (side_a, side_b) = self.net.random_sides(&mut self.rng);
        let one_way = self.rng.chance(self.config.net.one_way);
        let heal_after = Duration::from_nanos(draw(&mut self.rng, self.config.net.heal_after));
        self.partition(&side_a, &side_b, one_way, Some(heal_after));
    }

    /// Runs the invariants after `event`.
    fn check(&mut self, event: TraceEvent) -> Result<(), Failure> {
        if self.stats.events >= self.config.max_events {
            let message = format!("{} events without reaching the deadline", self.stats.events);
            return Err(self.failure("max_events", message, event));
        }
        if self.invariants.is_empty() {
            self.step_outputs.clear();
            return Ok(());
        }
        let mut invariants = std::mem::take(&mut self.invariants);
        let check = Check {
            event,
            input: self.step_input.as_ref(),
            outputs: &self.step_outputs,
            slots: &self.slots,
        };
        let verdict = invariants.iter_mut().find_map(|(name, invariant)| {
            invariant(&check)
                .err()
                .map(|message| (name.clone(), message))
        });
        self.invariants = invariants;
        self.step_outputs.clear();
        self.step_input = None;
        match verdict {
            Some((name, message)) => Err(self.failure(&name, message, event)),
            None => Ok(()),
        }
    }

    fn failure(&self, invariant: &str, message: String, event: TraceEvent) -> Failure {
        Failure::new(
            self.config.seed,
            invariant,
            message,
            event,
            self.trace.last_events(),
        )
    }
}

impl<N: Node> fmt::Debug for Sim<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sim")
            .field("seed", &self.config.seed)
            .field("now", &self.now())
            .field("pending", &self.queue.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<'a, N: Node> Check<'a, N> {
    /// The event just processed.
    pub fn event(&self) -> &TraceEvent {
        &self.event
    }

    /// The virtual time of the event.
    pub fn now(&self) -> Duration {
        self.event.time
    }

    /// The input, if the event delivered one.
    pub fn input(&self) -> Option<&'a N::Input> {
        self.input
    }

    /// The outputs the event's handler made, with the node that made each.
    pub fn outputs(&self) -> &'a [(NodeId, N::Output)] {
        self.outputs
    }

    /// A node, or `None` while it is down.
    pub fn node(&self, id: NodeId) -> Option<&'a N> {
        self.slots.get(id.0 as usize)?.node.as_ref()
    }

    /// A node's disk.
    pub fn disk(&self, id: NodeId) -> Option<&'a Disk> {
        self.slots.get(id.0 as usize).map(|slot| &slot.disk)
    }

    /// How many nodes the simulation has.
    pub fn n_nodes(&self) -> u32 {
        self.slots.len() as u32
    }
}

impl<N: Node> fmt::Debug for Check<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("event", &self.event)
            .field("outputs", &self.outputs)
            .finish_non_exhaustive()
    }
}

impl Failure {
    /// A failure of `invariant` with seed `seed` after `event`, for harnesses that check
    /// something outside a [`Sim`].
    pub fn new(
        seed: u64,
        invariant: &str,
        message: String,
        event: TraceEvent,
        last_events: Vec<TraceEvent>,
    ) -> Self {
        Self(Box::new(FailureDetail {
            seed,
            invariant: invariant.to_owned(),
            message,
            event,
            last_events,
        }))
    }

    /// The seed of the failing run.
    pub fn seed(&self) -> u64 {
        self.0.seed
    }

    /// The name of the invariant that failed.
    pub fn invariant(&self) -> &str {
        &self.0.invariant
    }

    /// What the invariant said.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The event after which it failed.
    pub fn event(&self) -> &TraceEvent {
        &self.0.event
    }

    /// The events up to and including that one, oldest first.
    pub fn last_events(&self) -> &[TraceEvent] {
        &self.0.last_events
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let detail = &self.0;
        writeln!(
            f,
            "invariant `{}` failed with seed {} at event {}: {}",
            detail.invariant, detail.seed, detail.event, detail.message
        )?;
        writeln!(f, "replay it with SIM_SEED={}", detail.seed)?;
        writeln!(f, "the last {} events:", detail.last_events.len())?;
        for event in &detail.last_events {
            writeln!(f, "  {event}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

impl<N: Node> Event<N> {
    /// The node whose handler the event runs, which must be running for it to happen.
    fn target(&self) -> Option<NodeId> {
        match self {
            Self::Deliver { to, .. } => Some(*to),
            Self::Timer { node, .. } | Self::Input(node, _) => Some(*node),
            _ => None,
        }
    }
}

impl<N: Node> PartialEq for Entry<N> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<N: Node> Eq for Entry<N> {}

impl<N: Node> PartialOrd for Entry<N> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<N: Node> Ord for Entry<N> {
    /// Reversed, so the max-heap pops the earliest event, and of equal times the first one
    /// scheduled.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// A nanosecond count drawn uniformly from a range of durations.
fn draw(rng: &mut SimRng, (low, high): (Duration, Duration)) -> u64 {
    rng.between(low.as_nanos() as u64, high.as_nanos() as u64)
}

fn add_disk_stats(a: DiskStats, b: DiskStats) -> DiskStats {
    DiskStats {
        writes: a.writes + b.writes,
        bytes_written: a.bytes_written + b.bytes_written,
        syncs: a.syncs + b.syncs,
        sync_failures: a.sync_failures + b.sync_failures,
        crashes: a.crashes + b.crashes,
        lost_ops: a.lost_ops + b.lost_ops,
        torn_writes: a.torn_writes + b.torn_writes,
        zeroed_tails: a.zeroed_tails + b.zeroed_tails,
        bit_flips: a.bit_flips + b.bit_flips,
        misdirected: a.misdirected + b.misdirected,
        no_space: a.no_space + b.no_space,
    }
}

#[cfg(test)]
mod tests;
