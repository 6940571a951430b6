//! The writer: appends, group commit, segment roll, durability and retention.

use std::fmt;

use crate::format::{RecordHeader, SEGMENT_HEADER_LEN, SegmentHeader, framed_len};
use crate::recovery::{Recovery, RecoveryError, SegmentInfo, Tail};
use crate::storage::{Io, Storage};
use crate::{Config, Lsn};

/// A write-ahead log being written.
///
/// [`Log::append`] assigns the next LSN and buffers the record. [`Log::poll_flush`] turns
/// everything buffered into one [`Flush`]: the writes and syncs for the host to perform, in
/// order. When they are done, [`Log::handle_flushed`] advances the durable LSN, and only then
/// may the host acknowledge those records to anyone.
#[derive(Debug)]
pub struct Log {
    config: Config,
    seed: u64,
    segments: Vec<SegmentInfo>,
    tail: Option<Tail>,
    next_lsn: Lsn,
    last_timestamp: u64,
    durable: Lsn,
    flushed: Lsn,
    /// Records encoded for the tail segment and not yet handed to the host.
    buf: Vec<u8>,
    /// Where in `buf` the last of them starts, to mark it as the end of the batch.
    last_record: Option<usize>,
    /// Steps for the next flush that come before `buf`: repairs, removals, sealed segments.
    ops: Vec<Io>,
    stopped: bool,
}

/// The work for one group commit: perform `ops` in order, then call
/// [`Log::handle_flushed`] with `through`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "the records are not durable until the host performs the flush"]
pub struct Flush {
    /// The steps, in the order they must be done.
    pub ops: Vec<Io>,
    /// Every record up to this LSN is durable once the steps are done.
    pub through: Lsn,
}

/// Why an append was refused. The log is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppendError {
    /// The payload is longer than [`Config::max_record_len`].
    TooLarge {
        /// The payload's length.
        len: usize,
        /// The configured maximum.
        max: u32,
    },
    /// A flush failed, so what is on disk is unknown. Recover from storage to continue.
    Stopped,
}

impl Log {
    /// An empty log. `seed` is mixed into each segment's salt; draw it from the host's random
    /// source at every start, so no two incarnations of a segment file share a salt.
    pub fn new(config: Config, seed: u64) -> Self {
        Self {
            config,
            seed,
            segments: Vec::new(),
            tail: None,
            next_lsn: Lsn(1),
            last_timestamp: 0,
            durable: Lsn::ZERO,
            flushed: Lsn::ZERO,
            buf: Vec::new(),
            last_record: None,
            ops: Vec::new(),
            stopped: false,
        }
    }

    /// Continues a recovered log. The recovery's repairs come first in the next flush, before
    /// any new record.
    pub fn resume(config: Config, recovery: Recovery, seed: u64) -> Self {
        let last = recovery.last_lsn();
        let mut log = Self::new(config, seed);
        log.next_lsn = Lsn(last.0 + 1);
        log.durable = last;
        log.flushed = last;
        log.last_timestamp = recovery.last_timestamp;
        log.tail = recovery.tail;
        log.ops = recovery.repairs;
        log.segments = recovery.segments;
        log
    }

    /// Buffers a record and returns its LSN. The record is not durable until the flush that
    /// carries it is done.
    ///
    /// Timestamps are the host's (for example microseconds since the Unix epoch) and are kept
    /// in order: a timestamp below the last one is raised to it, so replay to a point in time
    /// sees a monotonic log even if the host's clock stepped back.
    ///
    /// # Errors
    ///
    /// [`AppendError::TooLarge`] for a payload over the maximum, [`AppendError::Stopped`] after
    /// a failed flush.
    pub fn append(&mut self, timestamp: u64, payload: &[u8]) -> Result<Lsn, AppendError> {
        if self.stopped {
            return Err(AppendError::Stopped);
        }
        if payload.len() > self.config.max_record_len as usize {
            let max = self.config.max_record_len;
            return Err(AppendError::TooLarge {
                len: payload.len(),
                max,
            });
        }
        self.last_timestamp = self.last_timestamp.max(timestamp);
        let lsn = self.next_lsn;
        let framed = framed_len(payload.len()) as u64;
        if self.needs_roll(framed) {
            self.roll_with_batch(lsn);
        }
        // A roll always leaves a tail segment and its info behind.
        let (Some(tail), Some(info)) = (self.tail.as_mut(), self.segments.last_mut()) else {
            unreachable!("no tail segment after a roll");
        };
        let header = RecordHeader {
            len: payload.len() as u32,
            lsn,
            timestamp: self.last_timestamp,
            end_of_batch: false,
            durable_at_write: self.durable,
        };
        self.last_record = Some(self.buf.len());
        header.encode(tail.salt, payload, &mut self.buf);
        tail.len += framed;
        info.last_lsn = lsn;
        info.n_records += 1;
        info.last_timestamp = self.last_timestamp;
        self.next_lsn = Lsn(lsn.0 + 1);
        Ok(lsn)
    }

    /// Takes everything appended since the last flush as one group commit.
    ///
    /// Call it whenever the host is ready to write: after appends, or on a timer to bound
    /// latency. It returns `None` when there is nothing to do, or after a failed flush.
    /// Several flushes may be outstanding at once; acknowledge them in order.
    pub fn poll_flush(&mut self) -> Option<Flush> {
        if self.stopped || (self.buf.is_empty() && self.ops.is_empty()) {
            return None;
        }
        self.seal_portion();
        self.flushed = Lsn(self.next_lsn.0 - 1);
        Some(Flush {
            ops: std::mem::take(&mut self.ops),
            through: self.flushed,
        })
    }

    /// Reports that the flush through `through` is done: every write and sync succeeded.
    /// The durable LSN advances to it.
    pub fn handle_flushed(&mut self, through: Lsn) {
        debug_assert!(
            through <= self.flushed,
            "acknowledged {through} beyond the last flush"
        );
        self.durable = self.durable.max(through.min(self.flushed));
    }

    /// Reports that a step of a flush failed. The log stops: after a failed sync nobody can
    /// say which bytes reached the disk, so the only safe way on is to recover from storage.
    pub fn handle_flush_failed(&mut self) {
        self.stopped = true;
    }

    /// Queues removal of every segment whose records all come before `keep_from`, except the
    /// segment being written. Use the LSN of the oldest checkpoint to keep. Returns how many
    /// segments will be removed; the removals come in the next flush.
    pub fn purge(&mut self, keep_from: Lsn) -> usize {
        let tail = self.tail.map(|tail| tail.segment);
        let n_before = self.segments.len();
        let ops = &mut self.ops;
        self.segments.retain(|info| {
            let remove = info.last_lsn < keep_from && Some(info.segment) != tail;
            if remove {
                ops.push(Io::Remove {
                    segment: info.segment,
                });
            }
            !remove
        });
        n_before - self.segments.len()
    }

    /// Removes every record after `keep`, for a replica whose unacknowledged suffix diverged
    /// from its leader's. The cut comes first in the next flush; appends continue at `keep + 1`.
    ///
    /// The steps remove later segments newest first and then cut the segment holding
    /// `keep + 1`, so a crash part way leaves a longer log that is still whole, never a gap.
    ///
    /// # Errors
    ///
    /// [`TruncateError::FlushPending`] unless every earlier flush was taken and performed
    /// (the cut is found by reading the segment back from `storage`), or
    /// [`TruncateError::Read`] if the segment cannot be read or no longer holds the record.
    /// The log is unchanged then.
    pub fn truncate_after<S: Storage>(
        &mut self,
        storage: &S,
        keep: Lsn,
    ) -> Result<(), TruncateError> {
        let cut = Lsn(keep.0 + 1);
        if cut >= self.next_lsn {
            return Ok(());
        }
        if self.has_pending() {
            return Err(TruncateError::FlushPending);
        }
        let Some(idx) = self.segments.iter().position(|info| info.last_lsn >= cut) else {
            return Ok(());
        };
        let segment = self.segments[idx].segment;
        let read = |e| TruncateError::Read(RecoveryError::storage(segment, e));
        let bytes = storage.read_segment(segment).map_err(read)?;
        let changed = || TruncateError::Read(RecoveryError::changed(segment));
        let header = SegmentHeader::decode(&bytes).map_err(|_| changed())?;
        let scan = crate::scan::scan(&bytes, header, self.config.max_record_len, false);
        let record = scan
            .records
            .iter()
            .find(|record| record.lsn == cut)
            .ok_or_else(changed)?;
        for removed in self.segments.drain(idx + 1..).rev() {
            self.ops.push(Io::Remove {
                segment: removed.segment,
            });
        }
        let preallocate = if self.config.preallocate {
            self.config.segment_size
        } else {
            0
        };
        self.ops.push(Io::Truncate {
            segment,
            len: record.offset as u64,
            preallocate,
        });
        let info = &mut self.segments[idx];
        info.n_records -= info.last_lsn.0 - keep.0;
        info.last_lsn = keep;
        self.tail = Some(Tail {
            segment,
            salt: header.salt,
            len: record.offset as u64,
        });
        self.next_lsn = cut;
        self.durable = self.durable.min(keep);
        self.flushed = self.flushed.min(keep);
        Ok(())
    }

    /// Whether appends or steps are waiting for the next [`Log::poll_flush`].
    pub fn has_pending(&self) -> bool {
        !self.buf.is_empty() || !self.ops.is_empty()
    }

    /// The configuration the log was made with.
    pub fn config(&self) -> Config {
        self.config
    }

    /// The highest LSN known to be durable.
    pub fn durable_lsn(&self) -> Lsn {
        self.durable
    }

    /// The LSN the next append gets.
    pub fn next_lsn(&self) -> Lsn {
        self.next_lsn
    }

    /// Whether a failed flush has stopped the log.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// The segments of the log, oldest first.
    pub fn segments(&self) -> &[SegmentInfo] {
        &self.segments
    }

    /// Whether a record of `framed` bytes must go to a new segment: the tail segment would
    /// grow past its size and holds something from an earlier batch. A segment holding only
    /// the current batch grows instead, so that a batch is never split.
    fn needs_roll(&self, framed: u64) -> bool {
        match self.tail {
            None => true,
            Some(tail) => {
                let before_batch = tail.len - self.buf.len() as u64;
                before_batch > SEGMENT_HEADER_LEN as u64
                    && tail.len + framed > self.config.segment_size
            }
        }
    }

    /// Starts a new segment and moves the current batch (appended since the last flush) into
    /// it, checksummed again with the new segment's salt, so the batch commits as one unit.
    /// `next` is the LSN of the record about to be appended.
    fn roll_with_batch(&mut self, next: Lsn) {
        let moved = std::mem::take(&mut self.buf);
        self.last_record = None;
        let mut records = Vec::new();
        if let Some(tail) = self.tail.as_mut() {
            let mut rest = &moved[..];
            while let Ok((record, payload)) = RecordHeader::decode(rest, tail.salt, u32::MAX) {
                rest = &rest[framed_len(payload.len())..];
                records.push((record, payload));
            }
            debug_assert!(rest.is_empty(), "the batch buffer holds only whole records");
            tail.len -= moved.len() as u64;
        }
        if let Some(info) = self.segments.last_mut() {
            info.n_records -= records.len() as u64;
            info.last_lsn = Lsn(info.last_lsn.0 - records.len() as u64);
        }
        self.roll(Lsn(next.0 - records.len() as u64));
        let (Some(tail), Some(info)) = (self.tail.as_mut(), self.segments.last_mut()) else {
            unreachable!("no tail segment after a roll");
        };
        for (record, payload) in records {
            self.last_record = Some(self.buf.len());
            record.encode(tail.salt, payload, &mut self.buf);
            tail.len += framed_len(payload.len()) as u64;
            info.last_lsn = record.lsn;
            info.n_records += 1;
            info.last_timestamp = record.timestamp;
        }
    }

    /// Ends the batch in the tail segment and queues its bytes for the host, with a sync.
    fn seal_portion(&mut self) {
        let (Some(tail), Some(last)) = (self.tail, self.last_record.take()) else {
            return;
        };
        RecordHeader::mark_end_of_batch(&mut self.buf[last..], tail.salt);
        // The next batch is likely the size of this one: reserve for it up front.
        let capacity = self.buf.len();
        let bytes = std::mem::replace(&mut self.buf, Vec::with_capacity(capacity));
        let offset = tail.len - bytes.len() as u64;
        self.ops.push(Io::Write {
            segment: tail.segment,
            offset,
            bytes,
        });
        self.ops.push(Io::Sync {
            segment: tail.segment,
        });
    }

    /// Starts a new segment whose first record is `first_lsn`.
    fn roll(&mut self, first_lsn: Lsn) {
        let segment = self.tail.map_or(1, |tail| tail.segment + 1);
        let salt = splitmix64(self.seed ^ segment.rotate_left(32));
        let header = SegmentHeader {
            segment,
            first_lsn,
            salt,
        };
        let preallocate = if self.config.preallocate {
            self.config.segment_size
        } else {
            0
        };
        self.ops.push(Io::Create {
            segment,
            header: header.encode().to_vec(),
            preallocate,
        });
        self.tail = Some(Tail {
            segment,
            salt,
            len: SEGMENT_HEADER_LEN as u64,
        });
        self.segments.push(SegmentInfo {
            segment,
            first_lsn,
            last_lsn: Lsn(first_lsn.0 - 1),
            n_records: 0,
            last_timestamp: self.last_timestamp,
        });
    }
}

/// A well-mixed 64-bit value from any 64-bit input.
fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Why [`Log::truncate_after`] did not cut the log. The log is unchanged.
#[derive(Debug)]
#[non_exhaustive]
pub enum TruncateError {
    /// Appends or steps are waiting for a flush; take and perform it first.
    FlushPending,
    /// The segment holding the cut could not be read, or no longer holds the record.
    Read(RecoveryError),
}

impl fmt::Display for TruncateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FlushPending => f.write_str("a flush is pending; perform it before cutting"),
            Self::Read(error) => write!(f, "cannot find the cut: {error}"),
        }
    }
}

impl std::error::Error for TruncateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::FlushPending => None,
            Self::Read(error) => Some(error),
        }
    }
}

impl fmt::Display for AppendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { len, max } => {
                write!(f, "record of {len} bytes is over the maximum of {max}")
            }
            Self::Stopped => f.write_str("the log stopped after a failed flush; recover it"),
        }
    }
}

impl std::error::Error for AppendError {}
