//! What the log reads from the host, and what it asks the host to do.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// Read access to the host's segment files. The log never writes through this trait; writes
/// come back from [`Log::poll_flush`](crate::Log::poll_flush) as [`Io`] for the host to do.
pub trait Storage {
    /// The host's error type, returned as the source of a [`RecoveryError`].
    ///
    /// [`RecoveryError`]: crate::RecoveryError
    type Error: std::error::Error + Send + Sync + 'static;

    /// The numbers of the segment files that exist, in any order.
    ///
    /// # Errors
    ///
    /// The host's error if the listing fails.
    fn segments(&self) -> Result<Vec<u64>, Self::Error>;

    /// The whole of segment `segment`: borrowed if the host holds it in memory, read into a
    /// new buffer otherwise.
    ///
    /// # Errors
    ///
    /// The host's error if the segment cannot be read.
    fn read_segment(&self, segment: u64) -> Result<Cow<'_, [u8]>, Self::Error>;
}

/// One step of work for the host, in the order given.
///
/// Each step must be complete before the next starts: a `Sync` covers the writes before it,
/// and a `Create` of the next segment comes only after the previous one is synced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Io {
    /// Create segment `segment` (it does not exist yet), write `header` at offset 0, reserve
    /// `preallocate` bytes if the platform allows, sync the file, then sync its directory.
    Create {
        /// The segment number; the file name is the host's choice, e.g. from
        /// [`segment_file_name`](crate::segment_file_name).
        segment: u64,
        /// The segment header to write at offset 0.
        header: Vec<u8>,
        /// How many bytes to reserve for the file, or 0.
        preallocate: u64,
    },
    /// Write `bytes` at `offset` in segment `segment`.
    Write {
        /// The segment number.
        segment: u64,
        /// Where the bytes go.
        offset: u64,
        /// The bytes: whole, checksummed records.
        bytes: Vec<u8>,
    },
    /// Make every earlier write to segment `segment` durable (`fdatasync`).
    Sync {
        /// The segment number.
        segment: u64,
    },
    /// Cut segment `segment` to `len` bytes, reserve `preallocate` bytes for it again if the
    /// platform allows, and sync it: this removes a torn tail or a divergent suffix.
    Truncate {
        /// The segment number.
        segment: u64,
        /// The new length.
        len: u64,
        /// How many bytes to reserve for the file again, or 0.
        preallocate: u64,
    },
    /// Delete segment `segment` and sync its directory.
    Remove {
        /// The segment number.
        segment: u64,
    },
}

/// Segments held in memory: the reference host for tests and examples.
///
/// [`MemStorage::apply`] performs an [`Io`] exactly as a file-backed host would, except that
/// nothing is lost on a crash; the simulator's disk models that.
#[derive(Clone, Debug, Default)]
pub struct MemStorage {
    files: BTreeMap<u64, Vec<u8>>,
}

/// A segment that [`MemStorage`] does not hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MissingSegment(pub u64);

impl MemStorage {
    /// Empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    /// Performs one step of host work. Preallocation adds no bytes, as on a file system that
    /// reserves blocks without changing a file's length.
    ///
    /// # Errors
    ///
    /// [`MissingSegment`] if a write, truncate or remove names a segment that does not exist.
    pub fn apply(&mut self, io: &Io) -> Result<(), MissingSegment> {
        match io {
            Io::Create {
                segment, header, ..
            } => {
                self.files.insert(*segment, header.clone());
            }
            Io::Write {
                segment,
                offset,
                bytes,
            } => {
                let file = self
                    .files
                    .get_mut(segment)
                    .ok_or(MissingSegment(*segment))?;
                let start = *offset as usize;
                if file.len() < start + bytes.len() {
                    file.resize(start + bytes.len(), 0);
                }
                file[start..start + bytes.len()].copy_from_slice(bytes);
            }
            Io::Sync { segment } if !self.files.contains_key(segment) => {
                return Err(MissingSegment(*segment));
            }
            Io::Sync { .. } => {}
            Io::Truncate { segment, len, .. } => {
                let file = self
                    .files
                    .get_mut(segment)
                    .ok_or(MissingSegment(*segment))?;
                file.resize(*len as usize, 0);
            }
            Io::Remove { segment } => {
                self.files.remove(segment).ok_or(MissingSegment(*segment))?;
            }
        }
        Ok(())
    }

    /// The bytes of segment `segment`, if it exists.
    pub fn segment(&self, segment: u64) -> Option<&[u8]> {
        self.files.get(&segment).map(Vec::as_slice)
    }

    /// The bytes of segment `segment`, for tests that damage them on purpose.
    pub fn segment_mut(&mut self, segment: u64) -> Option<&mut Vec<u8>> {
        self.files.get_mut(&segment)
    }
}

impl Storage for MemStorage {
    type Error = MissingSegment;

    fn segments(&self) -> Result<Vec<u64>, MissingSegment> {
        Ok(self.files.keys().copied().collect())
    }

    fn read_segment(&self, segment: u64) -> Result<Cow<'_, [u8]>, MissingSegment> {
        let file = self.files.get(&segment).ok_or(MissingSegment(segment))?;
        Ok(Cow::Borrowed(file))
    }
}

impl fmt::Display for MissingSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "segment {} does not exist", self.0)
    }
}

impl std::error::Error for MissingSegment {}
