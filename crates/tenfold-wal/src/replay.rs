//! Reading records back, from a checkpoint up to an LSN or a point in time.

use std::ops::ControlFlow;

use crate::format::RECORD_HEADER_LEN;
use crate::recovery::{RecoveryError, RecoveryMode, walk};
use crate::storage::Storage;
use crate::{Config, Lsn};

/// Where a replay stops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Until {
    /// At the end of the committed log.
    #[default]
    End,
    /// After the record with this LSN.
    Lsn(Lsn),
    /// After the last record whose timestamp is at most this.
    Timestamp(u64),
}

/// A committed record read back from storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its LSN.
    pub lsn: Lsn,
    /// The timestamp it was appended with (never below an earlier record's).
    pub timestamp: u64,
    /// Its payload.
    pub payload: Vec<u8>,
}

/// Reads the committed records after `after` (the LSN a checkpoint covers, or
/// [`Lsn::ZERO`] for the whole log), in LSN order, stopping at `until`.
///
/// Each segment is checked as [`recover`](crate::recover) checks it in `mode` before any of
/// its records is returned, so a replay never hands out a record from beyond damage that the
/// mode refuses.
///
/// # Errors
///
/// The [`RecoveryError`] that recovery would return for the segments read, or
/// [`RecoveryErrorKind::Gap`](crate::RecoveryErrorKind::Gap) if the log no longer holds the
/// record after `after` (its segment was purged) but holds later ones.
pub fn replay<S: Storage>(
    storage: &S,
    config: &Config,
    mode: RecoveryMode,
    after: Lsn,
    until: Until,
) -> Result<Vec<Record>, RecoveryError> {
    let mut records = Vec::new();
    let mut gap = None;
    walk(storage, config, mode, |bytes, infos| {
        for info in infos.iter().filter(|info| info.lsn > after) {
            // The first record must follow `after`: purged or missing segments are an error,
            // except in a salvage, which reports its gaps itself.
            if records.is_empty() && info.lsn.0 != after.0 + 1 && mode != RecoveryMode::Salvage {
                gap = Some(info.lsn);
                return ControlFlow::Break(());
            }
            let past = match until {
                Until::End => false,
                Until::Lsn(last) => info.lsn > last,
                Until::Timestamp(last) => info.timestamp > last,
            };
            if past {
                return ControlFlow::Break(());
            }
            let start = info.offset + RECORD_HEADER_LEN;
            let payload = bytes[start..start + info.len as usize].to_vec();
            records.push(Record {
                lsn: info.lsn,
                timestamp: info.timestamp,
                payload,
            });
        }
        ControlFlow::Continue(())
    })?;
    match gap {
        Some(found) => Err(RecoveryError::gap(Lsn(after.0 + 1), found)),
        None => Ok(records),
    }
}
