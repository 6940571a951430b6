//! Reading a log back after a crash or a clean stop.

use std::fmt;
use std::ops::ControlFlow;

use crate::format::{HeaderFault, SegmentHeader};
use crate::scan::{self, Fault, RecordInfo, SegmentEnd};
use crate::storage::{Io, Storage};
use crate::{Config, Lsn};

/// How much damage recovery accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecoveryMode {
    /// Any damage or uncommitted data is an error, even a torn tail. Use it after a clean
    /// shutdown, when the log must end exactly where it was left.
    Strict,
    /// A torn or zeroed tail after the last committed batch of the last segment is cut off;
    /// any other damage is an error. The right mode after a crash.
    #[default]
    TolerateTornTail,
    /// Keep every record that can be read and verified, skip what cannot, and report the LSN
    /// ranges skipped. For operators rescuing data, never for normal start-up.
    Salvage,
}

/// What recovery found: the committed log, and the repairs to make before writing again.
#[derive(Clone, Debug)]
pub struct Recovery {
    pub(crate) segments: Vec<SegmentInfo>,
    pub(crate) tail: Option<Tail>,
    pub(crate) repairs: Vec<Io>,
    pub(crate) last_timestamp: u64,
    torn: Option<TornTail>,
    skipped: Vec<Skipped>,
}

/// The segment that writing resumes in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tail {
    pub(crate) segment: u64,
    pub(crate) salt: u64,
    pub(crate) len: u64,
}

/// One segment of a recovered log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    /// The segment number.
    pub segment: u64,
    /// The LSN of its first record.
    pub first_lsn: Lsn,
    /// The LSN of its last record; one less than `first_lsn` if it holds none.
    pub last_lsn: Lsn,
    /// The number of committed records in it.
    pub n_records: u64,
    /// The timestamp of its last record, or of the record before it if it holds none.
    pub last_timestamp: u64,
}

/// A tail that recovery cut off in [`RecoveryMode::TolerateTornTail`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TornTail {
    /// The segment it was in.
    pub segment: u64,
    /// Where the cut was made: the end of the last committed batch.
    pub offset: u64,
    /// What was found there.
    pub fault: Fault,
}

/// A run of records that [`RecoveryMode::Salvage`] could not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The segment the damage is in.
    pub segment: u64,
    /// Where the damage starts.
    pub offset: u64,
    /// The first LSN lost.
    pub first: Lsn,
    /// The last LSN lost.
    pub last: Lsn,
}

/// Damage that recovery will not repair silently.
#[derive(Debug)]
pub struct RecoveryError {
    segment: u64,
    offset: u64,
    kind: RecoveryErrorKind,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// What is wrong, in a form a program can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecoveryErrorKind {
    /// The host's storage failed to list or read a segment.
    Storage,
    /// A segment header that is not one this crate wrote.
    BadHeader,
    /// A header that names another segment number than the file it was read from.
    WrongSegment {
        /// The segment number found in the header.
        found: u64,
    },
    /// Segment numbers or LSNs do not follow on from the segment before: a file is missing.
    Gap {
        /// The LSN the segment should start at.
        expected: Lsn,
        /// The LSN it starts at.
        found: Lsn,
    },
    /// Damage below the durable tail: records after it were written once the damaged ones
    /// were durable, so cutting here would lose acknowledged writes.
    Corrupt {
        /// What is wrong at the offset.
        fault: Fault,
        /// A later record that proves the damaged ones had been made durable.
        witness: Lsn,
    },
    /// Damage in a segment that was sealed: every byte of it was synced before the next
    /// segment was created, so nothing in it may be torn.
    DamagedSealedSegment {
        /// What is wrong at the offset.
        fault: Fault,
    },
    /// A torn tail in [`RecoveryMode::Strict`].
    TornTail {
        /// What is wrong at the offset.
        fault: Fault,
    },
    /// The log ends before an LSN the host knows was durable: the last acknowledged records
    /// are gone.
    EndsBeforeDurable {
        /// The last LSN recovered.
        recovered: Lsn,
        /// The LSN the host knows was durable.
        durable: Lsn,
    },
}

impl Recovery {
    /// The last committed LSN, or [`Lsn::ZERO`] for an empty log.
    pub fn last_lsn(&self) -> Lsn {
        self.segments.last().map_or(Lsn::ZERO, |info| info.last_lsn)
    }

    /// The segments of the log, oldest first.
    pub fn segments(&self) -> &[SegmentInfo] {
        &self.segments
    }

    /// The tail that was cut off, if there was one.
    pub fn torn_tail(&self) -> Option<TornTail> {
        self.torn
    }

    /// What a salvage skipped.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// The repairs that [`Log::resume`](crate::Log::resume) hands the host before any new
    /// write: cutting off a torn tail, removing a segment whose creation never completed.
    pub fn repairs(&self) -> &[Io] {
        &self.repairs
    }
}

/// Reads every segment in `storage` and returns the committed log.
///
/// `durable`, when the host knows it (from a replica, a checkpoint or a clean-shutdown
/// marker), is an LSN that was acknowledged as durable; a log that ends before it is an
/// error rather than a silent loss.
///
/// # Errors
///
/// A [`RecoveryError`] naming the segment and offset of damage that the `mode` does not
/// accept, or the host's storage error.
pub fn recover<S: Storage>(
    storage: &S,
    config: &Config,
    mode: RecoveryMode,
    durable: Option<Lsn>,
) -> Result<Recovery, RecoveryError> {
    let recovery = walk(storage, config, mode, |_, _| ControlFlow::Continue(()))?;
    let recovered = recovery.last_lsn();
    if let Some(durable) = durable
        && recovered < durable
    {
        let kind = RecoveryErrorKind::EndsBeforeDurable { recovered, durable };
        let segment = recovery.segments.last().map_or(0, |info| info.segment);
        return Err(RecoveryError::new(segment, 0, kind));
    }
    Ok(recovery)
}

/// Reads the segments in order, checking each as `mode` demands, and shows `visit` the bytes
/// and committed records of each segment until it breaks.
pub(crate) fn walk<S: Storage>(
    storage: &S,
    config: &Config,
    mode: RecoveryMode,
    mut visit: impl FnMut(&[u8], &[RecordInfo]) -> ControlFlow<()>,
) -> Result<Recovery, RecoveryError> {
    let mut numbers = storage
        .segments()
        .map_err(|e| RecoveryError::storage(0, e))?;
    numbers.sort_unstable();
    let mut recovery = Recovery {
        segments: Vec::new(),
        tail: None,
        repairs: Vec::new(),
        last_timestamp: 0,
        torn: None,
        skipped: Vec::new(),
    };
    for (idx, &segment) in numbers.iter().enumerate() {
        let is_last = idx + 1 == numbers.len();
        let bytes = storage
            .read_segment(segment)
            .map_err(|e| RecoveryError::storage(segment, e))?;
        let records = recover_segment(&mut recovery, segment, &bytes, is_last, config, mode)?;
        if visit(&bytes, &records).is_break() {
            break;
        }
    }
    Ok(recovery)
}

/// Adds one segment to the recovery, in segment order.
fn recover_segment(
    recovery: &mut Recovery,
    segment: u64,
    bytes: &[u8],
    is_last: bool,
    config: &Config,
    mode: RecoveryMode,
) -> Result<Vec<RecordInfo>, RecoveryError> {
    let header = match SegmentHeader::decode(bytes) {
        Ok(header) if header.segment == segment => header,
        Ok(header) => {
            let kind = RecoveryErrorKind::WrongSegment {
                found: header.segment,
            };
            return Err(RecoveryError::new(segment, 0, kind));
        }
        // A crash between creating the file and syncing its header leaves a short or zeroed
        // file. Only the newest segment can be in that state, and it holds nothing yet.
        Err(HeaderFault::Short | HeaderFault::Zeroed)
            if is_last && mode != RecoveryMode::Strict =>
        {
            recovery.repairs.push(Io::Remove { segment });
            return Ok(Vec::new());
        }
        Err(_) => return Err(RecoveryError::new(segment, 0, RecoveryErrorKind::BadHeader)),
    };
    let expected = Lsn(recovery.last_lsn().0 + 1);
    if header.first_lsn != expected
        && !(recovery.segments.is_empty() || mode == RecoveryMode::Salvage)
    {
        let kind = RecoveryErrorKind::Gap {
            expected,
            found: header.first_lsn,
        };
        return Err(RecoveryError::new(segment, 0, kind));
    }

    let salvage = mode == RecoveryMode::Salvage;
    let scan = scan::scan(bytes, header, config.max_record_len, salvage);
    for &(offset, first, last) in &scan.skipped {
        recovery.skipped.push(Skipped {
            segment,
            offset: offset as u64,
            first,
            last,
        });
    }
    match scan.end {
        SegmentEnd::Clean => {}
        SegmentEnd::Damaged {
            offset,
            fault,
            witness,
        } => {
            let kind = RecoveryErrorKind::Corrupt { fault, witness };
            return Err(RecoveryError::new(segment, offset as u64, kind));
        }
        SegmentEnd::Torn { offset, fault } if !is_last && !salvage => {
            let kind = RecoveryErrorKind::DamagedSealedSegment { fault };
            return Err(RecoveryError::new(segment, offset as u64, kind));
        }
        SegmentEnd::Torn { offset, fault } if mode == RecoveryMode::Strict => {
            return Err(RecoveryError::new(
                segment,
                offset as u64,
                RecoveryErrorKind::TornTail { fault },
            ));
        }
        SegmentEnd::Torn { offset, fault } => {
            recovery.torn = Some(TornTail {
                segment,
                offset: offset as u64,
                fault,
            });
            if is_last {
                let preallocate = if config.preallocate {
                    config.segment_size
                } else {
                    0
                };
                recovery.repairs.push(Io::Truncate {
                    segment,
                    len: offset as u64,
                    preallocate,
                });
            }
        }
    }
    push_segment(recovery, segment, &header, &scan.records);
    recovery.tail = Some(Tail {
        segment,
        salt: header.salt,
        len: scan.committed_len as u64,
    });
    Ok(scan.records)
}

fn push_segment(
    recovery: &mut Recovery,
    segment: u64,
    header: &SegmentHeader,
    records: &[RecordInfo],
) {
    if let Some(last) = records.last() {
        recovery.last_timestamp = recovery.last_timestamp.max(last.timestamp);
    }
    // In a salvage the first readable record may come after a skipped run.
    let first_lsn = records
        .first()
        .map_or(header.first_lsn, |record| record.lsn);
    let last_lsn = records
        .last()
        .map_or_else(|| Lsn(header.first_lsn.0.saturating_sub(1)), |r| r.lsn);
    recovery.segments.push(SegmentInfo {
        segment,
        first_lsn,
        last_lsn,
        n_records: records.len() as u64,
        last_timestamp: recovery.last_timestamp,
    });
}

impl RecoveryError {
    fn new(segment: u64, offset: u64, kind: RecoveryErrorKind) -> Self {
        Self {
            segment,
            offset,
            kind,
            source: None,
        }
    }

    /// Records from `expected` on were asked for, but the log goes on only from `found`.
    pub(crate) fn gap(expected: Lsn, found: Lsn) -> Self {
        Self::new(0, 0, RecoveryErrorKind::Gap { expected, found })
    }

    /// A segment no longer holds what the log knew it held.
    pub(crate) fn changed(segment: u64) -> Self {
        Self::new(segment, 0, RecoveryErrorKind::BadHeader)
    }

    pub(crate) fn storage(
        segment: u64,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            segment,
            offset: 0,
            kind: RecoveryErrorKind::Storage,
            source: Some(Box::new(source)),
        }
    }

    /// The segment the problem is in.
    pub fn segment(&self) -> u64 {
        self.segment
    }

    /// The byte offset in the segment where it starts.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// What is wrong.
    pub fn kind(&self) -> RecoveryErrorKind {
        self.kind
    }
}

impl fmt::Display for RecoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "segment {} at offset {}: ", self.segment, self.offset)?;
        match self.kind {
            RecoveryErrorKind::Storage => f.write_str("storage error")?,
            RecoveryErrorKind::BadHeader => f.write_str("not a valid segment header")?,
            RecoveryErrorKind::WrongSegment { found } => {
                write!(f, "header names segment {found}")?;
            }
            RecoveryErrorKind::Gap { expected, found } => {
                write!(
                    f,
                    "starts at lsn {found}, expected {expected}: a segment is missing"
                )?;
            }
            RecoveryErrorKind::Corrupt { fault, witness } => write!(
                f,
                "{fault} below the durable tail (record {witness} was written after it was durable)"
            )?,
            RecoveryErrorKind::DamagedSealedSegment { fault } => {
                write!(f, "{fault} in a sealed segment")?;
            }
            RecoveryErrorKind::TornTail { fault } => write!(f, "{fault} at the tail")?,
            RecoveryErrorKind::EndsBeforeDurable { recovered, durable } => write!(
                f,
                "log ends at lsn {recovered} but lsn {durable} was acknowledged as durable"
            )?,
        }
        if let Some(source) = &self.source {
            write!(f, " ({source})")?;
        }
        Ok(())
    }
}

impl std::error::Error for RecoveryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|source| source as _)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("truncated record"),
            Self::Zeroed => f.write_str("zeroed record"),
            Self::Length => f.write_str("record length over the maximum"),
            Self::Header => f.write_str("invalid record header"),
            Self::Checksum => f.write_str("checksum mismatch"),
            Self::Sequence { expected, found } => {
                write!(f, "record {found} where record {expected} belongs")
            }
            Self::UncommittedBatch => f.write_str("uncommitted batch"),
        }
    }
}
