//! A write-ahead log that does no I/O: checksummed segments, group commit, crash recovery that
//! tells a torn tail from real damage, and replay from a checkpoint to any LSN or point in
//! time.
//!
//! The log never touches a file. [`Log::append`] buffers records; [`Log::poll_flush`] hands
//! the host a [`Flush`], the exact writes and syncs to perform, in order; the host performs
//! them and calls [`Log::handle_flushed`], and only then are those records durable and may be
//! acknowledged. After a crash, [`recover`] reads the segments back through the [`Storage`]
//! trait and [`Log::resume`] continues where the committed log ends.
//!
//! [`replica`] replicates the log: a leader acknowledges a write only once a majority of
//! replicas holds it durably, epochs fence old leaders, and a promotion continues from the
//! most complete log of a majority, so no acknowledged write is lost across a leader change.
//!
//! # Driving it
//!
//! ```
//! use tenfold_wal::{Config, Log, Lsn, MemStorage, RecoveryMode, Until, recover, replay};
//!
//! let config = Config::default().segment_size(1 << 20);
//! let mut storage = MemStorage::new();
//! let mut log = Log::new(config, 0x5eed);
//!
//! // Append, then commit the batch as one group.
//! let first = log.append(1_000, b"put a=1")?;
//! log.append(1_001, b"put b=2")?;
//! if let Some(flush) = log.poll_flush() {
//!     for io in &flush.ops {
//!         storage.apply(io)?; // a real host writes, fdatasyncs, creates files here
//!     }
//!     log.handle_flushed(flush.through);
//! }
//! assert_eq!(log.durable_lsn(), Lsn::new(2));
//!
//! // After a crash: recover, resume, and replay from a checkpoint.
//! let recovery = recover(&storage, &config, RecoveryMode::TolerateTornTail, None)?;
//! let log = Log::resume(config, recovery, 0x5eed + 1);
//! assert_eq!(log.next_lsn(), Lsn::new(3));
//! let records = replay(&storage, &config, RecoveryMode::default(), first, Until::End)?;
//! assert_eq!(records[0].payload, b"put b=2");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The segment format
//!
//! A log is a run of segment files numbered 1, 2, 3, … Every integer is little-endian.
//!
//! A segment starts with a 48-byte header:
//!
//! | bytes | field |
//! | --- | --- |
//! | 0..8 | magic `TFWALSEG` |
//! | 8..10 | format version, 1 |
//! | 10..16 | zero |
//! | 16..24 | segment number |
//! | 24..32 | LSN of the segment's first record |
//! | 32..40 | salt: a value drawn for this file alone |
//! | 40..44 | zero |
//! | 44..48 | CRC-32 of bytes 0..44 |
//!
//! Records follow, each starting on a multiple of 8 bytes:
//!
//! | bytes | field |
//! | --- | --- |
//! | 0..4 | CRC-32 of bytes 4..32 of this header and the payload, with the salt folded to 32 bits (low XOR high) as the initial value |
//! | 4..8 | payload length |
//! | 8..16 | LSN |
//! | 16..24 | timestamp, as the host gave it (never below the previous record's) |
//! | 24 | kind: 1 for data |
//! | 25 | flags: bit 0 marks the last record of a batch |
//! | 26..28 | zero |
//! | 28..32 | durable lag: this record's LSN minus the highest LSN that was durable when it was written (all ones: unknown) |
//! | 32.. | payload, then zero padding to a multiple of 8 |
//!
//! After the last record the file holds zeroes (from preallocation) or ends.
//!
//! # What recovery promises
//!
//! - **Batches commit as a unit.** Records count only up to the last record carrying the
//!   end-of-batch flag; a batch cut short by a crash disappears whole. A batch never spans two
//!   segments: when it outgrows the tail segment it moves whole into a new one, and a batch
//!   larger than a segment gets one of its own.
//! - **Misplaced records are caught.** The salt in every checksum rejects records left over
//!   from an earlier use of the file or written into the wrong file, and LSNs must run on by
//!   one, so a record written to the wrong offset or a missing record breaks the sequence.
//! - **A torn tail is cut; damage is reported.** Each record says which LSN was durable when
//!   it was written. If any record past a damaged spot was written after the damaged records
//!   were durable, the damage is below the durable tail and recovery fails with the segment
//!   and offset, never truncating. Otherwise the damaged or uncommitted tail was never
//!   acknowledged and [`RecoveryMode::TolerateTornTail`] cuts it off.
//! - **Sealed segments are whole.** The writer syncs a segment completely before it creates
//!   the next, so damage in any segment but the last is always an error.
//! - **The last acknowledged flush.** Damage to the very last durable flush (the last two,
//!   when the host pipelines flushes) leaves no later record to witness it. A host that knows
//!   a durable LSN from elsewhere passes it to [`recover`], which then fails instead of ending
//!   short; [`replica`] keeps that LSN in each replica's hard state for exactly this.
//!
//! # Durability rules for the host
//!
//! Perform each [`Io`] in order and completely before the next. If a write or sync fails,
//! call [`Log::handle_flush_failed`]; the log stops, because after a failed `fsync` nobody
//! knows what reached the disk. Drop it, then [`recover`] from storage.

mod format;
mod log;
mod recovery;
mod replay;
pub mod replica;
mod scan;
mod storage;

use std::fmt;

pub use format::{
    ALIGN, HeaderFault, MAX_LSN, RECORD_HEADER_LEN, SEGMENT_HEADER_LEN, SegmentHeader, framed_len,
};
pub use log::{AppendError, Flush, Log, TruncateError};
pub use recovery::{
    Recovery, RecoveryError, RecoveryErrorKind, RecoveryMode, SegmentInfo, Skipped, TornTail,
    recover,
};
pub use replay::{Record, Until, replay};
pub use scan::{Fault, RecordInfo, SegmentEnd};
pub use storage::{Io, MemStorage, MissingSegment, Storage};

/// A log sequence number: the position of a record in the log, starting at 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub(crate) u64);

impl Lsn {
    /// The LSN before the first record: "nothing yet".
    pub const ZERO: Self = Self(0);

    /// The LSN `n`.
    pub const fn new(n: u64) -> Self {
        Self(n)
    }

    /// The number inside.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How the log lays out its segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    segment_size: u64,
    max_record_len: u32,
    preallocate: bool,
}

impl Config {
    /// Rolls to a new segment once a segment would grow past `bytes`. A single record larger
    /// than that gets a segment of its own. Default 64 MiB.
    pub fn segment_size(mut self, bytes: u64) -> Self {
        self.segment_size = bytes;
        self
    }

    /// The largest payload [`Log::append`] accepts, and the largest length recovery believes.
    /// Default 16 MiB. Read a log with a maximum at least as large as the one it was written
    /// with: a longer record looks like damage.
    pub fn max_record_len(mut self, bytes: u32) -> Self {
        self.max_record_len = bytes;
        self
    }

    /// Whether [`Io::Create`] asks the host to reserve a whole segment's blocks up front, so
    /// appends cannot fail for space half way through a segment. Default on.
    pub fn preallocate(mut self, on: bool) -> Self {
        self.preallocate = on;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            segment_size: 64 << 20,
            max_record_len: 16 << 20,
            preallocate: true,
        }
    }
}

/// The file name this crate suggests for segment `segment`: zero-padded, so names sort in
/// segment order.
pub fn segment_file_name(segment: u64) -> String {
    format!("{segment:020}.wal")
}

/// Everything a segment holds, for operators and tools: its header, its committed records and
/// how it ends. This is the decoder the `wal` example's `dump` and `verify` use.
///
/// # Errors
///
/// A [`HeaderFault`] if the bytes do not start with a valid segment header.
pub fn inspect_segment(bytes: &[u8], config: &Config) -> Result<SegmentReport, HeaderFault> {
    let header = SegmentHeader::decode(bytes)?;
    let scan = scan::scan(bytes, header, config.max_record_len, false);
    Ok(SegmentReport {
        header,
        records: scan.records,
        committed_len: scan.committed_len as u64,
        end: scan.end,
    })
}

/// What [`inspect_segment`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentReport {
    /// The segment header.
    pub header: SegmentHeader,
    /// The committed records, in order.
    pub records: Vec<RecordInfo>,
    /// Where the committed data ends.
    pub committed_len: u64,
    /// How the data ends: cleanly, in a torn tail, or in damage below the durable tail.
    pub end: SegmentEnd,
}
