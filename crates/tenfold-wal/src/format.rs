//! The segment format, byte by byte. The crate docs describe it for readers; this module is
//! the one place that encodes and decodes it.

use crate::Lsn;

/// The first eight bytes of every segment file.
pub(crate) const MAGIC: [u8; 8] = *b"TFWALSEG";
/// The format version this crate writes and reads.
pub(crate) const VERSION: u16 = 1;
/// Bytes in a segment header.
pub const SEGMENT_HEADER_LEN: usize = 48;
/// Bytes in a record header, before the payload.
pub const RECORD_HEADER_LEN: usize = 32;
/// Records start on multiples of this many bytes.
pub const ALIGN: usize = 8;
/// The record kind for application data.
pub(crate) const KIND_DATA: u8 = 1;
/// The flag on the last record of a batch; a batch without it is not committed.
pub(crate) const FLAG_END_OF_BATCH: u8 = 1;

/// A decoded segment header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    /// The segment's number, one more than the segment before it.
    pub segment: u64,
    /// The LSN of the segment's first record.
    pub first_lsn: Lsn,
    /// A value drawn for this file alone and mixed into every record checksum, so that records
    /// left behind by an earlier use of the file, or written into the wrong file, fail.
    pub salt: u64,
}

/// Why a segment header was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderFault {
    /// The file is shorter than a header.
    Short,
    /// The header is all zeroes: the file was created but its header never reached the disk.
    Zeroed,
    /// The file does not start with the segment magic.
    Magic,
    /// A format version this crate does not read.
    Version(u16),
    /// The header checksum does not match.
    Checksum,
    /// Reserved bytes that are not zero.
    Reserved,
    /// A first LSN of zero, or beyond [`MAX_LSN`].
    FirstLsn,
}

/// The highest LSN a log may reach; far beyond any real log, and far enough below `u64::MAX`
/// that arithmetic on LSNs read from damaged files cannot overflow.
pub const MAX_LSN: u64 = 1 << 62;

impl SegmentHeader {
    pub(crate) fn encode(&self) -> [u8; SEGMENT_HEADER_LEN] {
        let mut out = [0; SEGMENT_HEADER_LEN];
        out[0..8].copy_from_slice(&MAGIC);
        out[8..10].copy_from_slice(&VERSION.to_le_bytes());
        out[16..24].copy_from_slice(&self.segment.to_le_bytes());
        out[24..32].copy_from_slice(&self.first_lsn.0.to_le_bytes());
        out[32..40].copy_from_slice(&self.salt.to_le_bytes());
        let crc = crc32fast::hash(&out[..44]);
        out[44..48].copy_from_slice(&crc.to_le_bytes());
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, HeaderFault> {
        let Some(bytes) = bytes.get(..SEGMENT_HEADER_LEN) else {
            return Err(HeaderFault::Short);
        };
        if bytes.iter().all(|&b| b == 0) {
            return Err(HeaderFault::Zeroed);
        }
        if bytes[0..8] != MAGIC {
            return Err(HeaderFault::Magic);
        }
        if read_u32(bytes, 44) != crc32fast::hash(&bytes[..44]) {
            return Err(HeaderFault::Checksum);
        }
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        if version != VERSION {
            return Err(HeaderFault::Version(version));
        }
        if bytes[10..16].iter().chain(&bytes[40..44]).any(|&b| b != 0) {
            return Err(HeaderFault::Reserved);
        }
        let first_lsn = read_u64(bytes, 24);
        if first_lsn == 0 || first_lsn > MAX_LSN {
            return Err(HeaderFault::FirstLsn);
        }
        Ok(Self {
            segment: read_u64(bytes, 16),
            first_lsn: Lsn(first_lsn),
            salt: read_u64(bytes, 32),
        })
    }
}

/// The fixed part of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RecordHeader {
    pub(crate) len: u32,
    pub(crate) lsn: Lsn,
    pub(crate) timestamp: u64,
    pub(crate) end_of_batch: bool,
    /// The highest LSN known durable when this record was written, or zero.
    pub(crate) durable_at_write: Lsn,
}

/// Why the bytes at a record position are not a valid record of this segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecordFault {
    /// Fewer bytes remain than the header or the payload it announces.
    Short,
    /// A zeroed header: the end of written data, or a zeroed tail.
    Zeroed,
    /// The length is larger than the configured maximum.
    Length,
    /// The kind, flags, reserved bytes or padding hold values this version never writes.
    Header,
    /// The checksum does not match: damage, a torn write, or a record from another file.
    Checksum,
}

impl RecordHeader {
    /// Appends the record (header, payload and padding) to `out`.
    pub(crate) fn encode(&self, salt: u64, payload: &[u8], out: &mut Vec<u8>) {
        let mut header = [0; RECORD_HEADER_LEN];
        header[4..8].copy_from_slice(&self.len.to_le_bytes());
        header[8..16].copy_from_slice(&self.lsn.0.to_le_bytes());
        header[16..24].copy_from_slice(&self.timestamp.to_le_bytes());
        header[24] = KIND_DATA;
        header[25] = if self.end_of_batch {
            FLAG_END_OF_BATCH
        } else {
            0
        };
        let lag = self.lsn.0.saturating_sub(self.durable_at_write.0);
        header[28..32].copy_from_slice(&u32::try_from(lag).unwrap_or(u32::MAX).to_le_bytes());
        let start = out.len();
        out.extend_from_slice(&header);
        out.extend_from_slice(payload);
        let crc = record_crc(salt, &out[start + 4..]);
        out[start..start + 4].copy_from_slice(&crc.to_le_bytes());
        out.resize(start + framed_len(payload.len()), 0);
    }

    /// Sets the end-of-batch flag on the encoded record at the start of `record`, and
    /// checksums it again.
    pub(crate) fn mark_end_of_batch(record: &mut [u8], salt: u64) {
        record[25] |= FLAG_END_OF_BATCH;
        let len = read_u32(record, 4) as usize;
        let crc = record_crc(salt, &record[4..RECORD_HEADER_LEN + len]);
        record[..4].copy_from_slice(&crc.to_le_bytes());
    }

    /// Decodes and verifies the record at the start of `bytes`, returning it with its payload.
    pub(crate) fn decode(
        bytes: &[u8],
        salt: u64,
        max_len: u32,
    ) -> Result<(Self, &[u8]), RecordFault> {
        let Some(header) = bytes.get(..RECORD_HEADER_LEN) else {
            return Err(RecordFault::Short);
        };
        let len = read_u32(header, 4);
        if len > max_len {
            return Err(RecordFault::Length);
        }
        let Some(payload) = bytes.get(RECORD_HEADER_LEN..RECORD_HEADER_LEN + len as usize) else {
            return Err(RecordFault::Short);
        };
        let Some(padding) = bytes.get(RECORD_HEADER_LEN + len as usize..framed_len(len as usize))
        else {
            return Err(RecordFault::Short);
        };
        if padding.iter().any(|&b| b != 0) {
            return Err(RecordFault::Header);
        }
        let flags = header[25];
        if header[24] != KIND_DATA
            || flags & !FLAG_END_OF_BATCH != 0
            || header[26..28].iter().any(|&b| b != 0)
        {
            // A zeroed header lands here too, since kind 0 is never written.
            return match header.iter().all(|&b| b == 0) {
                true => Err(RecordFault::Zeroed),
                false => Err(RecordFault::Header),
            };
        }
        if read_u64(header, 8) > MAX_LSN {
            return Err(RecordFault::Header);
        }
        let covered = &bytes[4..RECORD_HEADER_LEN + payload.len()];
        if read_u32(header, 0) != record_crc(salt, covered) {
            return Err(RecordFault::Checksum);
        }
        let lsn = read_u64(header, 8);
        let lag = read_u32(header, 28);
        // A lag at its cap claims nothing: the durable LSN was too far behind to write down.
        let durable_at_write = match lag {
            u32::MAX => 0,
            lag => lsn.saturating_sub(u64::from(lag)),
        };
        let record = Self {
            len,
            lsn: Lsn(lsn),
            timestamp: read_u64(header, 16),
            end_of_batch: flags & FLAG_END_OF_BATCH != 0,
            durable_at_write: Lsn(durable_at_write),
        };
        Ok((record, payload))
    }
}

/// The LSN and the durable LSN a record header at the start of `bytes` claims, if its cheap
/// fields are plausible (kind, flags, reserved bytes, a length that fits): a filter to run
/// before paying for a checksum when searching damaged bytes.
pub(crate) fn peek(bytes: &[u8], max_len: u32) -> Option<(Lsn, Lsn)> {
    let header = bytes.get(..RECORD_HEADER_LEN)?;
    let len = read_u32(header, 4);
    let fits = len <= max_len && framed_len(len as usize) <= bytes.len();
    let fields_valid = header[24] == KIND_DATA
        && header[25] & !FLAG_END_OF_BATCH == 0
        && header[26] == 0
        && header[27] == 0;
    let lsn = read_u64(header, 8);
    if !fits || !fields_valid || lsn == 0 || lsn > MAX_LSN {
        return None;
    }
    let lag = read_u32(header, 28);
    let durable = if lag == u32::MAX {
        0
    } else {
        lsn.saturating_sub(u64::from(lag))
    };
    Some((Lsn(lsn), Lsn(durable)))
}

/// Bytes a record with a payload of `payload_len` bytes takes in a segment, padding included.
pub const fn framed_len(payload_len: usize) -> usize {
    (RECORD_HEADER_LEN + payload_len).next_multiple_of(ALIGN)
}

/// The CRC-32 of a record's bytes 4 up to the end of its payload, started from the file's
/// salt folded to 32 bits: one pass over contiguous bytes, and a record checksummed for
/// another file fails.
fn record_crc(salt: u64, covered: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new_with_initial((salt ^ (salt >> 32)) as u32);
    hasher.update(covered);
    hasher.finalize()
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}
