//! The run's trace: a hash over every event, and the last few events kept for a failure report.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use crate::NodeId;

/// One event of a run, as the trace records it.
///
/// Payloads are not kept, only a 64-bit digest of them (see [`digest`]), so recording an event
/// costs a few multiplications and no allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    /// The index of the event in the run, from 0.
    pub idx: u64,
    /// Virtual time since the start of the run.
    pub time: Duration,
    /// What happened.
    pub kind: EventKind,
    /// The node it happened at.
    pub node: NodeId,
    /// The other node involved (the sender of a message), or the node itself.
    pub peer: NodeId,
    /// The payload digest, timer token, clock step or other figure of the event.
    pub value: u64,
}

/// What kind of event a [`TraceEvent`] records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    /// A node started, first or after a restart. The value is its incarnation.
    Start,
    /// A message was delivered. The value is its digest.
    Deliver,
    /// A message was dropped on the way: lost, cut by a partition, or its target was down.
    Drop,
    /// A timer fired. The value is its token.
    Timer,
    /// An external input was delivered. The value is its digest.
    Input,
    /// A node crashed. The value is how many unsynced bytes its disk lost.
    Crash,
    /// A node was paused. The value is the pause in nanoseconds.
    Pause,
    /// A paused node resumed.
    Resume,
    /// A node's wall clock stepped. The value is the step in nanoseconds, as two's complement.
    ClockStep,
    /// A partition began. The node and peer are one cut link; the value is 1 if one-way.
    Partition,
    /// Every partition healed.
    Heal,
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let time = self.time.as_nanos() as f64 / 1e6;
        write!(
            f,
            "#{:<8} {time:>14.6} ms  {:?} {}",
            self.idx, self.kind, self.node
        )?;
        if self.peer != self.node {
            write!(f, " <- {}", self.peer)?;
        }
        write!(f, " [{:#018x}]", self.value)
    }
}

/// The digest of a payload, as it goes into the trace hash: FNV-1a over what [`Hash`] feeds.
///
/// Derived `Hash` implementations are deterministic across runs and platforms of the same
/// endianness, as long as they do not iterate a `HashMap` or hash pointers.
pub fn digest<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut hasher = Fnv::default();
    value.hash(&mut hasher);
    hasher.finish()
}

/// The hash of every event so far and a ring of the most recent ones.
#[derive(Clone, Debug)]
pub(crate) struct Trace {
    hash: u64,
    n_events: u64,
    ring: Vec<TraceEvent>,
}

impl Trace {
    pub(crate) fn new(keep: usize) -> Self {
        Self {
            hash: FNV_OFFSET,
            n_events: 0,
            ring: Vec::with_capacity(keep),
        }
    }

    /// Folds an event into the hash and the ring, and returns it.
    #[inline]
    pub(crate) fn record(
        &mut self,
        time: Duration,
        kind: EventKind,
        node: NodeId,
        peer: NodeId,
        value: u64,
    ) -> TraceEvent {
        let time_nanos = time.as_nanos() as u64;
        let ids = u64::from(node.0) << 32 | u64::from(peer.0);
        for word in [time_nanos, kind as u64, ids, value] {
            self.hash = (self.hash ^ word).wrapping_mul(FNV_PRIME);
        }
        let event = TraceEvent {
            idx: self.n_events,
            time,
            kind,
            node,
            peer,
            value,
        };
        let capacity = self.ring.capacity();
        if capacity > 0 {
            if self.ring.len() < capacity {
                self.ring.push(event);
            } else {
                self.ring[(self.n_events % capacity as u64) as usize] = event;
            }
        }
        self.n_events += 1;
        event
    }

    pub(crate) fn hash(&self) -> u64 {
        self.hash
    }

    pub(crate) fn n_events(&self) -> u64 {
        self.n_events
    }

    /// The kept events, oldest first.
    pub(crate) fn last_events(&self) -> Vec<TraceEvent> {
        let mut events = self.ring.clone();
        events.sort_by_key(|event| event.idx);
        events
    }
}

/// FNV-1a, 64-bit. Small, fixed forever, and good enough to tell two traces apart.
#[derive(Clone, Copy, Debug)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(FNV_OFFSET)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
        }
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

#[cfg(test)]
mod tests;
