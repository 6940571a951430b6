//! `tenfold-wal` segments as files in a directory.
//!
//! ```
//! use tenfold_host::wal::WalDir;
//! use tenfold_wal::{Config, Log, RecoveryMode, recover};
//!
//! # let scratch = tempfile::tempdir()?;
//! let config = Config::default().segment_size(1 << 20);
//! let mut dir = WalDir::open(scratch.path())?;
//! let recovery = recover(&dir, &config, RecoveryMode::default(), None)?;
//! let mut log = Log::resume(config, recovery, 42);
//!
//! log.append(1, b"order 17 confirmed")?;
//! if let Some(flush) = log.poll_flush() {
//!     match dir.perform(&flush.ops) {
//!         Ok(()) => log.handle_flushed(flush.through),
//!         // After a failed write or fsync the log stops; recover from the files to go on.
//!         Err(_) => log.handle_flush_failed(),
//!     }
//! }
//! assert_eq!(log.durable_lsn().get(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;
use std::path::PathBuf;

use parking_lot::{Condvar, Mutex};
use tenfold_wal::{AppendError, Io, Log, Lsn, Storage, segment_file_name};

use crate::{Dir, Error, File};

/// A directory of segment files named by [`segment_file_name`], with the files being written
/// kept open.
#[derive(Debug)]
pub struct WalDir {
    dir: Dir,
    open: BTreeMap<u64, File>,
}

impl WalDir {
    /// Opens the directory at `path`, creating it if needed.
    ///
    /// # Errors
    ///
    /// As for [`Dir::open`].
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, Error> {
        Ok(Self {
            dir: Dir::open(path)?,
            open: BTreeMap::new(),
        })
    }

    /// Performs the steps of a flush (or a recovery's repairs) in order, stopping at the
    /// first that fails.
    ///
    /// # Errors
    ///
    /// The first step's error. The log must then be told with `handle_flush_failed`: a sync
    /// that failed once is never retried as if nothing happened.
    pub fn perform(&mut self, ops: &[Io]) -> Result<(), Error> {
        ops.iter().try_for_each(|io| self.perform_one(io))
    }

    /// The directory the segments are in.
    pub fn dir(&self) -> &Dir {
        &self.dir
    }

    fn perform_one(&mut self, io: &Io) -> Result<(), Error> {
        match io {
            Io::Create {
                segment,
                header,
                preallocate,
            } => {
                let mut file = self.dir.create(&segment_file_name(*segment))?;
                file.write_at(0, header)?;
                if *preallocate > 0 {
                    file.preallocate(*preallocate)?;
                }
                file.sync_all()?;
                self.open.insert(*segment, file);
            }
            Io::Write {
                segment,
                offset,
                bytes,
            } => self.file(*segment)?.write_at(*offset, bytes)?,
            Io::Sync { segment } => self.file(*segment)?.sync_data()?,
            Io::Truncate {
                segment,
                len,
                preallocate,
            } => {
                let file = self.file(*segment)?;
                file.truncate(*len)?;
                // A cut gives back the blocks past it; take them again for later appends.
                if *preallocate > 0 {
                    file.preallocate(*preallocate)?;
                }
                file.sync_all()?;
            }
            Io::Remove { segment } => {
                self.open.remove(segment);
                self.dir.remove(&segment_file_name(*segment))?;
            }
        }
        Ok(())
    }

    fn file(&mut self, segment: u64) -> Result<&mut File, Error> {
        match self.open.entry(segment) {
            Entry::Occupied(entry) => Ok(entry.into_mut()),
            Entry::Vacant(entry) => {
                Ok(entry.insert(self.dir.open_file(&segment_file_name(segment))?))
            }
        }
    }
}

impl Storage for WalDir {
    type Error = Error;

    fn segments(&self) -> Result<Vec<u64>, Error> {
        let names = self.dir.list()?;
        let segments = names.iter().filter_map(|name| {
            let number = name.strip_suffix(".wal")?;
            let segment = number.parse().ok()?;
            (segment_file_name(segment) == *name).then_some(segment)
        });
        Ok(segments.collect())
    }

    fn read_segment(&self, segment: u64) -> Result<Cow<'_, [u8]>, Error> {
        let file = self.dir.open_file(&segment_file_name(segment))?;
        let mut bytes = vec![0; file.len() as usize];
        file.read_exact_at(0, &mut bytes)?;
        Ok(Cow::Owned(bytes))
    }
}

/// A log shared by many threads, each of which waits until its record is durable: group
/// commit. Whichever waiting thread finds no flush in progress performs the next one for
/// everybody who appended before it, so one `fdatasync` covers many writers.
///
/// This is the one concurrent type in the WAL's host glue; the log itself stays a
/// single-owner state machine behind the lock.
#[derive(Debug)]
pub struct SharedWal {
    state: Mutex<SharedState>,
    flushed: Condvar,
    dir: Mutex<WalDir>,
}

#[derive(Debug)]
struct SharedState {
    log: Log,
    flushing: bool,
}

/// Why a [`SharedWal::append`] did not make its record durable.
#[derive(Debug)]
#[non_exhaustive]
pub enum SharedWalError {
    /// The log refused the record; nothing was written.
    Append(AppendError),
    /// The flush carrying the record failed. The log has stopped; recover from the files.
    Io(Error),
}

impl SharedWal {
    /// Shares `log`, writing its segments into `dir`.
    pub fn new(log: Log, dir: WalDir) -> Self {
        let state = SharedState {
            log,
            flushing: false,
        };
        Self {
            state: Mutex::new(state),
            flushed: Condvar::new(),
            dir: Mutex::new(dir),
        }
    }

    /// Appends a record and returns its LSN once it is durable.
    ///
    /// # Errors
    ///
    /// [`SharedWalError::Append`] if the log refuses the record (too large, or stopped after
    /// an earlier failure), [`SharedWalError::Io`] if the flush carrying it failed.
    pub fn append(&self, timestamp: u64, payload: &[u8]) -> Result<Lsn, SharedWalError> {
        let mut state = self.state.lock();
        let lsn = state
            .log
            .append(timestamp, payload)
            .map_err(SharedWalError::Append)?;
        let mut n_flushed = 0;
        loop {
            // A thread that just flushed carries one more batch if others appended meanwhile:
            // the disk starts on it at once instead of after a waiter has woken up.
            let carry = n_flushed == 1 && !state.flushing && state.log.has_pending();
            if state.log.durable_lsn() >= lsn && !carry {
                return Ok(lsn);
            }
            if state.log.is_stopped() {
                return Err(SharedWalError::Append(AppendError::Stopped));
            }
            if state.flushing {
                self.flushed.wait(&mut state);
                continue;
            }
            // No flush is in flight, so pending records (ours, unless carrying) go in this one.
            let Some(flush) = state.log.poll_flush() else {
                continue;
            };
            state.flushing = true;
            drop(state);
            let performed = self.dir.lock().perform(&flush.ops);
            state = self.state.lock();
            state.flushing = false;
            match performed {
                Ok(()) => state.log.handle_flushed(flush.through),
                Err(_) => state.log.handle_flush_failed(),
            }
            self.flushed.notify_all();
            performed.map_err(SharedWalError::Io)?;
            n_flushed += 1;
        }
    }

    /// The highest LSN known to be durable.
    pub fn durable_lsn(&self) -> Lsn {
        self.state.lock().log.durable_lsn()
    }
}

impl fmt::Display for SharedWalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Append(error) => write!(f, "append refused: {error}"),
            Self::Io(error) => write!(f, "flush failed: {error}"),
        }
    }
}

impl std::error::Error for SharedWalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Append(error) => Some(error),
            Self::Io(error) => Some(error),
        }
    }
}
