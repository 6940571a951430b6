//! What a simulated node is: a sans-IO state machine behind the [`Node`] trait, and the
//! [`Context`] through which it sees its clock, disk and generator and emits its effects.

use std::fmt;
use std::fmt::Debug;
use std::hash::Hash;
use std::time::Duration;

use crate::clock::NodeClock;
use crate::disk::Disk;
use crate::rng::SimRng;

/// The index of a node in a simulation, from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NodeId(pub u32);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// A sans-IO state machine the simulator can drive.
///
/// The simulator calls one `handle_*` method per event. The node reacts through its
/// [`Context`]: it reads its clock, reads and writes its [`Disk`], draws from its generator,
/// and queues messages, timers and outputs, which the simulator carries out when the method
/// returns. Nothing else reaches the node, so a run depends on the seed alone.
///
/// When the node crashes its value is dropped: all volatile state is gone, and only what its
/// disk kept survives. On restart the simulator builds a fresh value with the factory given to
/// [`Sim::new`](crate::Sim::new) and calls [`Node::handle_start`], where the node recovers
/// from its disk. Timers set before a crash never fire after it.
pub trait Node {
    /// What nodes send each other. Its [`Hash`] feeds the trace hash, so it must not depend on
    /// `HashMap` order or addresses.
    type Message: Clone + Hash + Debug;
    /// An operation injected from outside, such as a client request.
    type Input: Clone + Hash + Debug;
    /// What a node reports to the outside, such as a client acknowledgement. Invariants see
    /// each output as it is made.
    type Output: Hash + Debug;

    /// The node starts: at time zero, and again after each restart.
    fn handle_start(&mut self, cx: &mut Context<'_, Self>);

    /// A message from `from` arrived.
    fn handle_message(&mut self, cx: &mut Context<'_, Self>, from: NodeId, message: Self::Message);

    /// A timer set with [`Context::set_timer`] fired.
    fn handle_timer(&mut self, cx: &mut Context<'_, Self>, token: u64);

    /// An external input arrived.
    fn handle_input(&mut self, cx: &mut Context<'_, Self>, input: Self::Input);
}

/// A node's view of the world during one `handle_*` call.
pub struct Context<'a, N: Node + ?Sized> {
    pub(crate) id: NodeId,
    pub(crate) n_nodes: u32,
    pub(crate) now: Duration,
    pub(crate) clock: &'a NodeClock,
    pub(crate) rng: &'a mut SimRng,
    pub(crate) disk: &'a mut Disk,
    pub(crate) effects: &'a mut Effects<N>,
}

/// The effects a node queued during one call, drained by the simulator afterwards.
pub(crate) struct Effects<N: Node + ?Sized> {
    pub(crate) sends: Vec<(NodeId, N::Message)>,
    pub(crate) timers: Vec<(Duration, u64)>,
    pub(crate) outputs: Vec<N::Output>,
    /// When the handler is to crash part way, how many disk calls preceded each send and
    /// each output.
    pub(crate) send_marks: Vec<usize>,
    pub(crate) output_marks: Vec<usize>,
}

impl<N: Node + ?Sized> Context<'_, N> {
    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// How many nodes the simulation has; their ids are `0..n_nodes`.
    pub fn n_nodes(&self) -> u32 {
        self.n_nodes
    }

    /// This node's monotonic clock: drifts, never goes backwards.
    pub fn monotonic(&self) -> Duration {
        self.clock.monotonic(self.now)
    }

    /// This node's wall clock, since the Unix epoch: offset, drifts and steps either way.
    pub fn wall(&self) -> Duration {
        self.clock.wall(self.now)
    }

    /// Sends `message` to `to`. It goes through the simulated network and may be delayed,
    /// lost, duplicated or cut off. A message to a node id that does not exist is dropped.
    pub fn send(&mut self, to: NodeId, message: N::Message) {
        if let Some(mark) = self.disk.journal_len() {
            self.effects.send_marks.push(mark);
        }
        self.effects.sends.push((to, message));
    }

    /// Sends `message` to every other node.
    pub fn broadcast(&mut self, message: &N::Message) {
        let me = self.id;
        for to in (0..self.n_nodes).map(NodeId).filter(|&to| to != me) {
            self.send(to, message.clone());
        }
    }

    /// Asks for [`Node::handle_timer`] with `token` once `after` has passed on this node's
    /// monotonic clock. Timers cannot be cancelled: give each a token the node can recognise
    /// as stale.
    pub fn set_timer(&mut self, after: Duration, token: u64) {
        self.effects.timers.push((after, token));
    }

    /// Reports `output` to the outside world, where invariants see it.
    pub fn output(&mut self, output: N::Output) {
        if let Some(mark) = self.disk.journal_len() {
            self.effects.output_marks.push(mark);
        }
        self.effects.outputs.push(output);
    }

    /// This node's generator, derived from the seed, the node's id and its restart count.
    pub fn rng(&mut self) -> &mut SimRng {
        self.rng
    }

    /// This node's disk, which survives crashes as the [`disk`](crate::disk) model says.
    pub fn disk(&mut self) -> &mut Disk {
        self.disk
    }
}

impl<N: Node + ?Sized> Debug for Context<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("id", &self.id)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl<N: Node + ?Sized> Effects<N> {
    pub(crate) fn new() -> Self {
        Self {
            sends: Vec::new(),
            timers: Vec::new(),
            outputs: Vec::new(),
            send_marks: Vec::new(),
            output_marks: Vec::new(),
        }
    }
}
