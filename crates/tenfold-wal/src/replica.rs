//! Replication before acknowledgement: a leader ships its log to followers and acknowledges a
//! write only once a majority of replicas, itself included, holds it durably.
//!
//! Each replica keeps its own [`Log`]. Entries carry the *epoch* of the leader that wrote them.
//! Choosing a leader is the host's job (its coordinator, or a consensus library); the host
//! calls [`Replica::promote`] with an epoch higher than any used before, and never gives two
//! promotions the same epoch (for example `round * n_replicas + id`). Promotion is safe on its
//! own: the candidate gathers the last (epoch, LSN) of a majority, each of which promises to
//! ignore older leaders, and it takes office only if its own log is the most complete of them.
//! Otherwise it names the replica that should be promoted instead.
//!
//! # The drive loop
//!
//! Like the log, a replica does no I/O. After any call, drain [`Replica::ready`]:
//!
//! 1. perform each [`Flush`] in [`Ready::flushes`], in order, on the replica's segments;
//! 2. persist [`Ready::hard_state`] if present (a small fsync'd file of its own);
//! 3. send [`Ready::messages`], and tell clients that writes up to [`Ready::committed`] are
//!    durable on a majority;
//! 4. call [`Replica::advance`] with how it went.
//!
//! The hard state holds the epoch promised and the highest LSN this replica has told a leader
//! it holds, so a follower syncs twice per batch. That second sync is what lets a replica
//! notice, after a restart, that damage cost it an entry it had accepted: such a replica does
//! not count towards a promotion's majority until a leader has brought it back up to that
//! LSN, so an entry acknowledged to a client cannot vanish with it.
//!
//! Between `ready` and `advance` make no other call. Messages may be lost, duplicated or
//! reordered; call [`Replica::handle_tick`] every few tens of milliseconds so that a leader
//! resends what was not answered.

use std::collections::BTreeMap;
use std::fmt;

use crate::log::{AppendError, Flush, Log};
use crate::recovery::{Recovery, RecoveryError, RecoveryMode};
use crate::replay::{Until, replay};
use crate::storage::Storage;
use crate::{Config, Lsn};

/// A replica's number, from 0 to `n_replicas - 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReplicaId(pub u32);

/// What a replica must keep durably apart from its log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct HardState {
    /// No leader of an older epoch is listened to.
    pub epoch: u64,
    /// The one replica `epoch` was promised to, once known: a second candidate with the
    /// same epoch is refused.
    pub leader: Option<ReplicaId>,
    /// The highest LSN this replica has told a leader it holds durably.
    pub accepted: Lsn,
}

/// How a replica is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaConfig {
    /// This replica's number, below `n_replicas`.
    pub id: ReplicaId,
    /// How many replicas there are; a majority is `n_replicas / 2 + 1`.
    pub n_replicas: u32,
    /// The layout of this replica's log.
    pub log: Config,
    /// The most entries one append message carries.
    pub max_batch: usize,
}

impl ReplicaConfig {
    /// Replica `id` of `n_replicas`, with the default log layout and batches of 64 entries.
    pub fn new(id: ReplicaId, n_replicas: u32) -> Self {
        Self {
            id,
            n_replicas,
            log: Config::default(),
            max_batch: 64,
        }
    }
}

/// How the host's work on a [`Ready`] went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Performed {
    /// Every flush and the hard state are durable, and the messages are sent.
    All,
    /// A write or sync failed; the replica stops.
    Failed,
}

/// One entry of the replicated log.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    /// The epoch of the leader that wrote it.
    pub epoch: u64,
    /// The leader's timestamp for it.
    pub timestamp: u64,
    /// Whether it holds application data or marks a new leader taking office.
    pub kind: EntryKind,
    /// The application's bytes; empty for a promotion.
    pub payload: Vec<u8>,
}

/// What an [`Entry`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EntryKind {
    /// Application data.
    Data,
    /// Appended by a new leader. Once it commits, every entry before it is committed too.
    Promotion,
}

/// What replicas send each other.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Message {
    /// Leader to follower: `entries` follow the entry at `prev`, whose epoch is `prev_epoch`.
    Append {
        /// The leader's epoch.
        epoch: u64,
        /// The LSN before the first entry.
        prev: Lsn,
        /// The epoch of the entry at `prev` (0 for the start of the log).
        prev_epoch: u64,
        /// The entries, in order.
        entries: Vec<Entry>,
        /// The leader's commit point.
        commit: Lsn,
    },
    /// Follower to leader: my log matches yours through `through`, durably.
    Accepted {
        /// The leader's epoch.
        epoch: u64,
        /// The last matching LSN.
        through: Lsn,
    },
    /// Follower to leader: my log does not hold your `prev`; mine ends at `last`.
    Mismatch {
        /// The leader's epoch.
        epoch: u64,
        /// Where to try from next.
        last: Lsn,
    },
    /// To the sender: I have promised a newer epoch.
    Stale {
        /// The epoch promised.
        epoch: u64,
    },
    /// Candidate to all: promise `epoch` and tell me how far your log goes.
    Survey {
        /// The candidate's epoch.
        epoch: u64,
    },
    /// The answer to a survey, sent once the promise is durable.
    SurveyReply {
        /// The candidate's epoch.
        epoch: u64,
        /// The replica's last LSN.
        last: Lsn,
        /// The epoch of that entry.
        last_epoch: u64,
        /// False if the replica lost entries it had accepted (damage found at restart) and
        /// no leader has brought it back yet: it must not count towards the majority.
        intact: bool,
    },
}

/// The work a replica hands its host; see the module docs for the order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use = "a replica makes no progress until its host performs the ready and advances"]
pub struct Ready {
    /// Persist this before anything else, if present.
    pub hard_state: Option<HardState>,
    /// The log's flushes, in order.
    pub flushes: Vec<Flush>,
    /// Messages to send once the above is durable.
    pub messages: Vec<(ReplicaId, Message)>,
    /// Entries through this LSN are durable on a majority.
    pub committed: Lsn,
    /// How a promotion ended, if one did.
    pub promotion: Option<Promotion>,
}

/// How a promotion ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Promotion {
    /// This replica leads.
    Won,
    /// Another replica's log is more complete: promote it instead, with a higher epoch.
    Defer(ReplicaId),
}

/// The part a replica plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Role {
    /// Following the given leader, if known.
    Follower(Option<ReplicaId>),
    /// Gathering promises for its promotion.
    Candidate,
    /// Leading.
    Leader,
}

/// Why a write was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProposeError {
    /// Only the leader takes writes; this is who it is, if known.
    NotLeader(Option<ReplicaId>),
    /// The log refused the entry.
    Append(AppendError),
}

/// Why a replica could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReplicaError {
    /// Reading the log back failed.
    Recovery(RecoveryError),
    /// A record that is not an entry this module wrote, or an LSN the log does not hold.
    BadEntry(Lsn),
    /// A configuration with no replicas, or an id not below `n_replicas`.
    BadConfig,
    /// `promote` with an epoch not above the one already promised.
    StaleEpoch {
        /// The epoch already promised.
        promised: u64,
    },
}

/// How a leader sees one follower.
#[derive(Clone, Copy, Debug)]
struct Progress {
    next: Lsn,
    matched: Lsn,
    waiting: bool,
}

/// One replica of a replicated log.
#[derive(Debug)]
pub struct Replica {
    id: ReplicaId,
    n_replicas: u32,
    max_batch: usize,
    log: Log,
    hard: HardState,
    hard_dirty: bool,
    /// Runs of the log by epoch: (first LSN of the run, epoch).
    epochs: Vec<(Lsn, u64)>,
    /// Entries appended since this replica started, from `cache_first`.
    cache: Vec<Entry>,
    cache_first: Lsn,
    role: Role,
    progress: BTreeMap<ReplicaId, Progress>,
    /// Survey replies: (last epoch, last LSN) and whether the replica counts.
    surveyed: BTreeMap<ReplicaId, ((u64, Lsn), bool)>,
    commit: Lsn,
    messages: Vec<(ReplicaId, Message)>,
    promotion: Option<Promotion>,
    stopped: bool,
}

impl Replica {
    /// A replica starting from its recovered log and its persisted hard state.
    ///
    /// # Errors
    ///
    /// [`ReplicaError::BadConfig`] for an id not below `n_replicas` or a batch of zero;
    /// [`ReplicaError::Recovery`] if the log cannot be read back; [`ReplicaError::BadEntry`]
    /// if it holds a record that is not a replicated entry.
    pub fn new<S: Storage>(
        config: ReplicaConfig,
        mut hard: HardState,
        recovery: Recovery,
        storage: &S,
        seed: u64,
    ) -> Result<Self, ReplicaError> {
        if config.id.0 >= config.n_replicas || config.max_batch == 0 {
            return Err(ReplicaError::BadConfig);
        }
        // FIXME(#5): this reads every payload to learn the epochs; an index of epoch runs
        // kept beside the hard state would make start-up independent of the log's size.
        let mode = RecoveryMode::TolerateTornTail;
        let until = Until::Lsn(recovery.last_lsn());
        let records =
            replay(storage, &config.log, mode, Lsn::ZERO, until).map_err(ReplicaError::Recovery)?;
        let mut epochs: Vec<(Lsn, u64)> = Vec::new();
        for record in &records {
            let entry = decode(&record.payload).ok_or(ReplicaError::BadEntry(record.lsn))?;
            if epochs.last().is_none_or(|&(_, epoch)| epoch != entry.epoch) {
                epochs.push((record.lsn, entry.epoch));
            }
        }
        // A log holding a newer epoch than the hard state was written after a promise whose
        // own write was lost: the promise stands.
        let mut hard_dirty = false;
        if let Some(&(_, newest)) = epochs.last()
            && newest > hard.epoch
        {
            hard = HardState {
                epoch: newest,
                leader: None,
                accepted: hard.accepted,
            };
            hard_dirty = true;
        }
        let log = Log::resume(config.log, recovery, seed);
        let cache_first = log.next_lsn();
        Ok(Self {
            id: config.id,
            n_replicas: config.n_replicas,
            max_batch: config.max_batch,
            log,
            hard,
            hard_dirty,
            epochs,
            cache: Vec::new(),
            cache_first,
            role: Role::Follower(None),
            progress: BTreeMap::new(),
            surveyed: BTreeMap::new(),
            commit: Lsn::ZERO,
            messages: Vec::new(),
            promotion: None,
            stopped: false,
        })
    }

    /// Starts a promotion to leader of `epoch`: promise it, and survey the others.
    ///
    /// # Errors
    ///
    /// [`ReplicaError::StaleEpoch`] unless `epoch` is above every epoch promised so far.
    pub fn promote(&mut self, epoch: u64) -> Result<(), ReplicaError> {
        if epoch <= self.hard.epoch {
            return Err(ReplicaError::StaleEpoch {
                promised: self.hard.epoch,
            });
        }
        self.promise(epoch, Some(self.id));
        self.role = Role::Candidate;
        self.surveyed.clear();
        let last = self.last_lsn();
        self.surveyed
            .insert(self.id, ((self.epoch_at(last), last), self.is_intact()));
        self.broadcast(&Message::Survey { epoch });
        self.tally_survey();
        Ok(())
    }

    /// Appends a write on the leader and starts replicating it. It is acknowledged once
    /// [`Ready::committed`] reaches the returned LSN.
    ///
    /// # Errors
    ///
    /// [`ProposeError::NotLeader`] on any replica but the leader; [`ProposeError::Append`] if
    /// the log refuses the entry.
    pub fn propose(&mut self, timestamp: u64, payload: &[u8]) -> Result<Lsn, ProposeError> {
        if self.role != Role::Leader || self.stopped {
            let leader = match self.role {
                Role::Follower(leader) => leader,
                _ => None,
            };
            return Err(ProposeError::NotLeader(leader));
        }
        let entry = Entry {
            epoch: self.hard.epoch,
            timestamp,
            kind: EntryKind::Data,
            payload: payload.to_vec(),
        };
        let lsn = self.append(entry).map_err(ProposeError::Append)?;
        for follower in self.followers() {
            self.send_cached(follower);
        }
        Ok(lsn)
    }

    /// Handles a message from another replica. `storage` is this replica's own segments,
    /// read when a follower's log must be cut or a lagging follower served.
    pub fn handle_message<S: Storage>(&mut self, storage: &S, from: ReplicaId, message: Message) {
        // Nothing from outside the group, or claiming to be this replica, is believed.
        if self.stopped || from.0 >= self.n_replicas || from == self.id {
            return;
        }
        match message {
            Message::Append {
                epoch,
                prev,
                prev_epoch,
                entries,
                commit,
            } => {
                self.handle_append(storage, from, epoch, (prev, prev_epoch), entries, commit);
            }
            Message::Accepted { epoch, through } => {
                self.handle_accepted(storage, from, epoch, through)
            }
            Message::Mismatch { epoch, last } => {
                if self.role == Role::Leader
                    && epoch == self.hard.epoch
                    && let Some(progress) = self.progress.get_mut(&from)
                {
                    let hint = last.0.saturating_add(1);
                    progress.next = Lsn(progress.next.0.saturating_sub(1).min(hint).max(1));
                    progress.waiting = false;
                    self.send_append(from, Some(storage));
                }
            }
            Message::Stale { epoch } => {
                if epoch > self.hard.epoch {
                    self.promise(epoch, None);
                    self.role = Role::Follower(None);
                }
            }
            Message::Survey { epoch } => {
                let promised_elsewhere = epoch == self.hard.epoch
                    && self.hard.leader.is_some_and(|leader| leader != from);
                if epoch < self.hard.epoch || promised_elsewhere {
                    self.messages.push((
                        from,
                        Message::Stale {
                            epoch: self.hard.epoch,
                        },
                    ));
                    return;
                }
                if epoch > self.hard.epoch || self.hard.leader.is_none() {
                    self.promise(epoch, Some(from));
                    self.role = Role::Follower(None);
                }
                // Sent after this ready's flushes, so everything appended is durable by then.
                let last = self.last_lsn();
                let last_epoch = self.epoch_at(last);
                let intact = self.is_intact();
                self.messages.push((
                    from,
                    Message::SurveyReply {
                        epoch,
                        last,
                        last_epoch,
                        intact,
                    },
                ));
            }
            Message::SurveyReply {
                epoch,
                last,
                last_epoch,
                intact,
            } => {
                if self.role == Role::Candidate && epoch == self.hard.epoch {
                    self.surveyed.insert(from, ((last_epoch, last), intact));
                    self.tally_survey();
                }
            }
        }
    }

    /// Resends what has gone unanswered: appends (and heartbeats carrying the commit point)
    /// from a leader, surveys from a candidate.
    pub fn handle_tick<S: Storage>(&mut self, storage: &S) {
        match self.role {
            Role::Leader => {
                for follower in self.followers() {
                    if let Some(progress) = self.progress.get_mut(&follower) {
                        progress.waiting = false;
                    }
                    self.send_append(follower, Some(storage));
                }
            }
            Role::Candidate => {
                let epoch = self.hard.epoch;
                for other in self.followers() {
                    if !self.surveyed.contains_key(&other) {
                        self.messages.push((other, Message::Survey { epoch }));
                    }
                }
            }
            Role::Follower(_) => {}
        }
    }

    /// The work for the host, or `None` if there is none.
    pub fn ready(&mut self) -> Option<Ready> {
        let mut flushes = Vec::new();
        if let Some(flush) = self.log.poll_flush() {
            flushes.push(flush);
        }
        let hard_state = std::mem::take(&mut self.hard_dirty).then_some(self.hard);
        let ready = Ready {
            hard_state,
            flushes,
            messages: std::mem::take(&mut self.messages),
            committed: self.commit,
            promotion: self.promotion.take(),
        };
        let idle = ready.hard_state.is_none()
            && ready.flushes.is_empty()
            && ready.messages.is_empty()
            && ready.promotion.is_none();
        (!idle).then_some(ready)
    }

    /// Reports how the host's work on `ready` went. After a failure the replica stops;
    /// rebuild it from recovery.
    pub fn advance(&mut self, ready: &Ready, performed: Performed) {
        if performed != Performed::All {
            self.log.handle_flush_failed();
            self.stopped = true;
            return;
        }
        for flush in &ready.flushes {
            self.log.handle_flushed(flush.through);
        }
        if self.role == Role::Leader {
            // The leader's own durable entries count as accepted by it.
            let durable = self.log.durable_lsn();
            if durable > self.hard.accepted {
                self.hard.accepted = durable;
                self.hard_dirty = true;
            }
            self.maybe_commit();
        }
        self.trim_cache();
    }

    /// The part this replica plays.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The commit point this replica knows: entries through it are durable on a majority.
    pub fn committed(&self) -> Lsn {
        self.commit
    }

    /// What this replica keeps durably apart from its log.
    pub fn hard_state(&self) -> HardState {
        self.hard
    }

    /// The epoch promised.
    pub fn epoch(&self) -> u64 {
        self.hard.epoch
    }

    /// The last LSN in this replica's log.
    pub fn last_lsn(&self) -> Lsn {
        Lsn(self.log.next_lsn().0 - 1)
    }

    /// The entry at `lsn`, from memory or from `storage`.
    ///
    /// # Errors
    ///
    /// [`ReplicaError::Recovery`] if reading `storage` fails, [`ReplicaError::BadEntry`] if
    /// the record is not an entry or the log does not reach `lsn`.
    pub fn entry<S: Storage>(&self, storage: &S, lsn: Lsn) -> Result<Entry, ReplicaError> {
        if lsn == Lsn::ZERO || lsn > self.last_lsn() {
            return Err(ReplicaError::BadEntry(lsn));
        }
        self.entries(storage, lsn, 1)?
            .pop()
            .ok_or(ReplicaError::BadEntry(lsn))
    }

    fn handle_append<S: Storage>(
        &mut self,
        storage: &S,
        from: ReplicaId,
        epoch: u64,
        (prev, prev_epoch): (Lsn, u64),
        entries: Vec<Entry>,
        commit: Lsn,
    ) {
        let promised_elsewhere =
            epoch == self.hard.epoch && self.hard.leader.is_some_and(|leader| leader != from);
        if epoch < self.hard.epoch || promised_elsewhere {
            self.messages.push((
                from,
                Message::Stale {
                    epoch: self.hard.epoch,
                },
            ));
            return;
        }
        if epoch > self.hard.epoch || self.hard.leader.is_none() {
            self.promise(epoch, Some(from));
        }
        self.role = Role::Follower(Some(from));
        let last = self.last_lsn();
        if prev > last || self.epoch_at(prev) != prev_epoch {
            let hint = if prev > last {
                last
            } else {
                Lsn(prev.0.saturating_sub(1))
            };
            self.messages
                .push((from, Message::Mismatch { epoch, last: hint }));
            return;
        }
        let through = Lsn(prev.0 + entries.len() as u64);
        let first_new = entries.iter().enumerate().position(|(idx, entry)| {
            let lsn = Lsn(prev.0 + 1 + idx as u64);
            lsn > last || self.epoch_at(lsn) != entry.epoch
        });
        if let Some(skip) = first_new {
            let lsn = Lsn(prev.0 + 1 + skip as u64);
            if lsn <= last {
                // A divergent suffix that no majority acknowledged: cut it, unless appends
                // of this round are still unflushed, in which case the leader will resend.
                debug_assert!(lsn > self.commit, "a committed entry diverged");
                if self.log.has_pending() || lsn <= self.commit {
                    return;
                }
                if self.log.truncate_after(storage, Lsn(lsn.0 - 1)).is_err() {
                    return;
                }
                self.forget_from(lsn);
                if self.hard.accepted >= lsn {
                    self.hard.accepted = Lsn(lsn.0 - 1);
                    self.hard_dirty = true;
                }
            }
            for entry in entries.into_iter().skip(skip) {
                if self.append(entry).is_err() {
                    return;
                }
            }
        }
        self.commit = self.commit.max(commit.min(through));
        if through > self.hard.accepted {
            // Persisted with this ready, before the message below is sent.
            self.hard.accepted = through;
            self.hard_dirty = true;
        }
        self.messages
            .push((from, Message::Accepted { epoch, through }));
    }

    fn handle_accepted<S: Storage>(
        &mut self,
        storage: &S,
        from: ReplicaId,
        epoch: u64,
        through: Lsn,
    ) {
        if self.role != Role::Leader || epoch != self.hard.epoch {
            return;
        }
        // A follower cannot hold more than this leader wrote.
        let through = through.min(self.last_lsn());
        let Some(progress) = self.progress.get_mut(&from) else {
            return;
        };
        progress.matched = progress.matched.max(through);
        progress.next = progress.next.max(Lsn(through.0 + 1));
        progress.waiting = false;
        self.maybe_commit();
        if self.progress[&from].next <= self.last_lsn() {
            self.send_append(from, Some(storage));
        }
    }

    /// Counts survey replies; with a majority of intact replicas, takes office or defers.
    fn tally_survey(&mut self) {
        let majority = self.n_replicas as usize / 2 + 1;
        let n_intact = self.surveyed.values().filter(|(_, intact)| *intact).count();
        if n_intact < majority {
            return;
        }
        let (own, _) = self.surveyed[&self.id];
        let best = self
            .surveyed
            .iter()
            .max_by_key(|(id, (last, _))| (*last, **id == self.id));
        if let Some((&best_id, &(best_last, _))) = best
            && best_last > own
        {
            self.role = Role::Follower(None);
            self.promotion = Some(Promotion::Defer(best_id));
            return;
        }
        self.role = Role::Leader;
        self.promotion = Some(Promotion::Won);
        let next = Lsn(self.last_lsn().0 + 1);
        self.progress = self
            .followers()
            .into_iter()
            .map(|id| {
                (
                    id,
                    Progress {
                        next,
                        matched: Lsn::ZERO,
                        waiting: false,
                    },
                )
            })
            .collect();
        let entry = Entry {
            epoch: self.hard.epoch,
            timestamp: 0,
            kind: EntryKind::Promotion,
            payload: Vec::new(),
        };
        if self.append(entry).is_err() {
            self.role = Role::Follower(None);
            return;
        }
        for follower in self.followers() {
            self.send_cached(follower);
        }
    }

    /// Sends `to` the entries from its `next`, reading `storage` for entries older than this
    /// replica's start, if given; without it, a follower that far behind waits for a tick.
    fn send_append<S: Storage>(&mut self, to: ReplicaId, storage: Option<&S>) {
        let Some(progress) = self.progress.get(&to).copied() else {
            return;
        };
        if progress.waiting {
            return;
        }
        let last = self.last_lsn();
        let count = (last.0 + 1)
            .saturating_sub(progress.next.0)
            .min(self.max_batch as u64);
        let entries = match (count, progress.next >= self.cache_first, storage) {
            (0, _, _) => Vec::new(),
            (_, true, _) => self.cached(progress.next, count as usize),
            (_, false, Some(storage)) => match self.entries(storage, progress.next, count as usize)
            {
                Ok(entries) => entries,
                Err(_) => return,
            },
            (_, false, None) => return,
        };
        let prev = Lsn(progress.next.0 - 1);
        let message = Message::Append {
            epoch: self.hard.epoch,
            prev,
            prev_epoch: self.epoch_at(prev),
            entries,
            commit: self.commit,
        };
        self.messages.push((to, message));
        if let Some(progress) = self.progress.get_mut(&to) {
            progress.waiting = true;
        }
    }

    /// Sends `to` what can be sent from memory.
    fn send_cached(&mut self, to: ReplicaId) {
        self.send_append(to, None::<&crate::MemStorage>);
    }

    fn maybe_commit(&mut self) {
        let mut matched: Vec<Lsn> = self.progress.values().map(|p| p.matched).collect();
        matched.push(self.log.durable_lsn());
        matched.sort_unstable_by(|a, b| b.cmp(a));
        let majority = self.n_replicas as usize / 2 + 1;
        let candidate = matched[majority - 1];
        // Only an entry of this epoch commits by counting; earlier ones commit beneath it.
        if candidate > self.commit && self.epoch_at(candidate) == self.hard.epoch {
            self.commit = candidate;
        }
    }

    fn append(&mut self, entry: Entry) -> Result<Lsn, AppendError> {
        let lsn = self.log.append(entry.timestamp, &encode(&entry))?;
        if self
            .epochs
            .last()
            .is_none_or(|&(_, epoch)| epoch != entry.epoch)
        {
            self.epochs.push((lsn, entry.epoch));
        }
        if self.cache.is_empty() {
            self.cache_first = lsn;
        }
        self.cache.push(entry);
        Ok(lsn)
    }

    /// Forgets the epochs and cached entries from `lsn` on, after a cut.
    fn forget_from(&mut self, lsn: Lsn) {
        self.epochs.retain(|&(first, _)| first < lsn);
        if lsn >= self.cache_first {
            self.cache.truncate((lsn.0 - self.cache_first.0) as usize);
        } else {
            self.cache.clear();
            self.cache_first = lsn;
        }
    }

    fn promise(&mut self, epoch: u64, leader: Option<ReplicaId>) {
        self.hard.epoch = epoch;
        self.hard.leader = leader;
        self.hard_dirty = true;
    }

    /// Whether this replica holds everything it ever told a leader it held.
    fn is_intact(&self) -> bool {
        self.last_lsn() >= self.hard.accepted
    }

    /// Drops cached entries that no follower needs any more.
    fn trim_cache(&mut self) {
        let needed = match self.role {
            Role::Leader => self
                .progress
                .values()
                .map(|p| p.matched)
                .min()
                .unwrap_or(self.commit),
            _ => self.commit,
        };
        let keep_from = needed.min(self.commit).0 + 1;
        if keep_from > self.cache_first.0 {
            let n_drop = ((keep_from - self.cache_first.0) as usize).min(self.cache.len());
            self.cache.drain(..n_drop);
            self.cache_first = Lsn(self.cache_first.0 + n_drop as u64);
        }
    }

    fn epoch_at(&self, lsn: Lsn) -> u64 {
        if lsn == Lsn::ZERO {
            return 0;
        }
        let idx = self.epochs.partition_point(|&(first, _)| first <= lsn);
        idx.checked_sub(1).map_or(0, |idx| self.epochs[idx].1)
    }

    fn followers(&self) -> Vec<ReplicaId> {
        (0..self.n_replicas)
            .map(ReplicaId)
            .filter(|&id| id != self.id)
            .collect()
    }

    fn broadcast(&mut self, message: &Message) {
        for to in self.followers() {
            self.messages.push((to, message.clone()));
        }
    }

    fn cached(&self, from: Lsn, count: usize) -> Vec<Entry> {
        let start = (from.0.saturating_sub(self.cache_first.0) as usize).min(self.cache.len());
        self.cache[start..(start + count).min(self.cache.len())].to_vec()
    }

    /// Up to `count` entries from `from`, from the cache or else from `storage`.
    // FIXME(#5): a read from storage replays the log from its first segment; picking the
    // segments by LSN range would make catching a follower up linear.
    fn entries<S: Storage>(
        &self,
        storage: &S,
        from: Lsn,
        count: usize,
    ) -> Result<Vec<Entry>, ReplicaError> {
        if from >= self.cache_first {
            return Ok(self.cached(from, count));
        }
        let until = Until::Lsn(Lsn(from.0 + count as u64 - 1));
        let config = self.log.config();
        let records = replay(
            storage,
            &config,
            RecoveryMode::TolerateTornTail,
            Lsn(from.0 - 1),
            until,
        )
        .map_err(ReplicaError::Recovery)?;
        let decode_record = |record: &crate::Record| {
            let entry = decode(&record.payload).ok_or(ReplicaError::BadEntry(record.lsn))?;
            Ok(Entry {
                timestamp: record.timestamp,
                ..entry
            })
        };
        records.iter().map(decode_record).collect()
    }
}

/// An entry as a log record's payload: epoch, kind, then the application's bytes.
fn encode(entry: &Entry) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + entry.payload.len());
    out.extend_from_slice(&entry.epoch.to_le_bytes());
    out.push(match entry.kind {
        EntryKind::Data => 0,
        EntryKind::Promotion => 1,
    });
    out.extend_from_slice(&entry.payload);
    out
}

fn decode(record: &[u8]) -> Option<Entry> {
    let epoch = u64::from_le_bytes(record.get(..8)?.try_into().ok()?);
    let kind = match record.get(8)? {
        0 => EntryKind::Data,
        1 => EntryKind::Promotion,
        _ => return None,
    };
    // The timestamp lives in the record's header; the caller fills it in.
    Some(Entry {
        epoch,
        timestamp: 0,
        kind,
        payload: record[9..].to_vec(),
    })
}

impl fmt::Display for ReplicaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Recovery(error) => write!(f, "reading the log back failed: {error}"),
            Self::BadEntry(lsn) => write!(f, "record {lsn} is not a replicated entry"),
            Self::BadConfig => f.write_str("the replica's id is not below the number of replicas"),
            Self::StaleEpoch { promised } => {
                write!(f, "epoch {promised} or a newer one was already promised")
            }
        }
    }
}

impl std::error::Error for ReplicaError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Recovery(error) => Some(error),
            _ => None,
        }
    }
}
