//! Reading one segment: which records are committed, where the written data ends, and whether
//! damage lies in the unsynced tail or below the durable tail.

use crate::Lsn;
use crate::format::{
    ALIGN, RecordFault, RecordHeader, SEGMENT_HEADER_LEN, SegmentHeader, framed_len, peek,
};

/// Where a committed record sits in its segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordInfo {
    /// The record's LSN.
    pub lsn: Lsn,
    /// The timestamp it was appended with.
    pub timestamp: u64,
    /// The offset of its header in the segment.
    pub offset: usize,
    /// The length of its payload.
    pub len: u32,
}

/// What is wrong at a record position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The file ends inside a record.
    Truncated,
    /// Zeroes where a record was expected.
    Zeroed,
    /// A length larger than the configured maximum record.
    Length,
    /// Kind, flag or reserved bytes that this format never writes.
    Header,
    /// The checksum does not match: damaged bytes, a torn write, or a record written for a
    /// different file.
    Checksum,
    /// A valid record, but not the next one: it was written to the wrong place, or the record
    /// that belongs here went missing.
    Sequence {
        /// The LSN that should be here.
        expected: Lsn,
        /// The LSN that is here.
        found: Lsn,
    },
    /// Valid records of a batch whose last record never made it to disk.
    UncommittedBatch,
}

/// How the scan of a segment ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SegmentEnd {
    /// Written data ends after a committed batch, followed by zeroes or the end of the file.
    Clean,
    /// The data after `offset` is damaged or uncommitted, and nothing after it claims to have
    /// been written once it was durable: a torn write that was never acknowledged.
    Torn {
        /// The end of the last committed batch, where the cut goes.
        offset: usize,
        /// What was found.
        fault: Fault,
    },
    /// The data at `offset` is damaged, and the record `witness` further on was written after
    /// the damaged records were durable. Cutting here would lose acknowledged writes.
    Damaged {
        /// Where the damage is.
        offset: usize,
        /// What was found.
        fault: Fault,
        /// The later record that proves the damaged ones were durable.
        witness: Lsn,
    },
}

/// A segment as read from its bytes.
#[derive(Debug)]
pub(crate) struct SegmentScan {
    pub(crate) header: SegmentHeader,
    pub(crate) records: Vec<RecordInfo>,
    /// The end of the last committed batch: where the next write goes.
    pub(crate) committed_len: usize,
    pub(crate) end: SegmentEnd,
    /// Runs of LSNs skipped over by a salvage scan, each with the offset of the damage.
    pub(crate) skipped: Vec<(usize, Lsn, Lsn)>,
}

/// Scans the records of a segment whose header has been decoded.
///
/// With `salvage`, damage does not stop the scan: it resumes at the next valid record with a
/// higher LSN, and every valid record counts, committed or not.
pub(crate) fn scan(
    bytes: &[u8],
    header: SegmentHeader,
    max_len: u32,
    salvage: bool,
) -> SegmentScan {
    let mut scan = SegmentScan {
        header,
        // Enough for records of 96 bytes of payload or more without growing, capped so a huge
        // damaged file cannot reserve much; pages that go unused are never touched.
        records: Vec::with_capacity((bytes.len() / 128).min(1 << 20) + 16),
        committed_len: SEGMENT_HEADER_LEN,
        end: SegmentEnd::Clean,
        skipped: Vec::new(),
    };
    let mut offset = SEGMENT_HEADER_LEN;
    let mut expected = header.first_lsn;
    let mut n_committed = 0;
    loop {
        let fault =
            match RecordHeader::decode(&bytes[offset.min(bytes.len())..], header.salt, max_len) {
                Ok((record, _)) if record.lsn == expected => {
                    scan.records.push(RecordInfo {
                        lsn: record.lsn,
                        timestamp: record.timestamp,
                        offset,
                        len: record.len,
                    });
                    offset += framed_len(record.len as usize);
                    expected = Lsn(expected.0 + 1);
                    if record.end_of_batch || salvage {
                        n_committed = scan.records.len();
                        scan.committed_len = offset;
                    }
                    continue;
                }
                Ok((record, _)) => Fault::Sequence {
                    expected,
                    found: record.lsn,
                },
                Err(RecordFault::Short) if offset >= bytes.len() => {
                    // The file ends exactly at a record boundary.
                    break;
                }
                Err(fault) => fault.into(),
            };
        if salvage
            && let Some((resume, lsn)) = next_valid(bytes, offset, header.salt, max_len, expected)
        {
            if lsn > expected {
                scan.skipped.push((offset, expected, Lsn(lsn.0 - 1)));
            }
            offset = resume;
            expected = lsn;
            continue;
        }
        scan.end = classify(bytes, offset, fault, &scan, n_committed, max_len);
        break;
    }
    if offset >= bytes.len() && n_committed < scan.records.len() {
        scan.end = classify(
            bytes,
            scan.committed_len,
            Fault::UncommittedBatch,
            &scan,
            n_committed,
            max_len,
        );
    }
    scan.records.truncate(n_committed);
    scan
}

/// Decides whether the damage at `offset` is a torn tail or damage below the durable tail.
fn classify(
    bytes: &[u8],
    offset: usize,
    fault: Fault,
    scan: &SegmentScan,
    n_committed: usize,
    max_len: u32,
) -> SegmentEnd {
    let first_lost = match n_committed {
        0 => scan.header.first_lsn,
        n => Lsn(scan.records[n - 1].lsn.0 + 1),
    };
    let uncommitted = n_committed < scan.records.len();
    let rest = bytes.get(offset..).unwrap_or_default();
    if !uncommitted && matches!(fault, Fault::Zeroed | Fault::Truncated) && is_zero(rest) {
        return SegmentEnd::Clean;
    }
    // Look past the damage for any record that was written after a lost record was durable.
    // The cheap fields filter out almost every position before a checksum is computed.
    // FIXME(#5): a crafted segment can make every position pass the filter, which costs
    // segment size times record size; a checksum over the header alone would bound it.
    let mut at = offset + ALIGN;
    while at + crate::format::RECORD_HEADER_LEN <= bytes.len() {
        let claims_witness = peek(&bytes[at..], max_len)
            .is_some_and(|(lsn, durable)| lsn >= first_lost && durable >= first_lost);
        if claims_witness
            && let Ok((record, _)) = RecordHeader::decode(&bytes[at..], scan.header.salt, max_len)
        {
            return SegmentEnd::Damaged {
                offset,
                fault,
                witness: record.lsn,
            };
        }
        at += ALIGN;
    }
    let offset = scan.committed_len;
    let fault = if uncommitted {
        Fault::UncommittedBatch
    } else {
        fault
    };
    SegmentEnd::Torn { offset, fault }
}

/// The next position after `offset` holding a valid record with an LSN of at least `expected`.
fn next_valid(
    bytes: &[u8],
    offset: usize,
    salt: u64,
    max_len: u32,
    expected: Lsn,
) -> Option<(usize, Lsn)> {
    let mut at = offset + ALIGN;
    while at < bytes.len() {
        let plausible = peek(&bytes[at..], max_len).is_some_and(|(lsn, _)| lsn >= expected);
        if plausible
            && let Ok((record, _)) = RecordHeader::decode(&bytes[at..], salt, max_len)
            && record.lsn >= expected
        {
            return Some((at, record.lsn));
        }
        at += ALIGN;
    }
    None
}

fn is_zero(bytes: &[u8]) -> bool {
    let (words, tail) = bytes.as_chunks::<8>();
    words.iter().all(|word| u64::from_ne_bytes(*word) == 0) && tail.iter().all(|&b| b == 0)
}

impl From<RecordFault> for Fault {
    fn from(fault: RecordFault) -> Self {
        match fault {
            RecordFault::Short => Self::Truncated,
            RecordFault::Zeroed => Self::Zeroed,
            RecordFault::Length => Self::Length,
            RecordFault::Header => Self::Header,
            RecordFault::Checksum => Self::Checksum,
        }
    }
}
