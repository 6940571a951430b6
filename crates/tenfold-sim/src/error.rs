//! Errors of the simulated disk and of the seed harness.

use std::fmt;

/// A failed operation on a simulated [`Disk`](crate::Disk): what was tried, on which file,
/// and why it failed. The kinds match those of `tenfold-host`, so a storage trait implemented
/// over both sees the same failures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskError {
    op: DiskOp,
    name: String,
    kind: DiskErrorKind,
}

/// The disk operation that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiskOp {
    /// Creating a file.
    Create,
    /// Writing or appending bytes.
    Write,
    /// Reading bytes or a length.
    Read,
    /// Changing a file's length.
    Truncate,
    /// Making a file's writes durable.
    Sync,
    /// Renaming a file.
    Rename,
    /// Deleting a file.
    Remove,
}

/// Why a disk operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiskErrorKind {
    /// The file does not exist.
    NotFound,
    /// A file of that name already exists.
    AlreadyExists,
    /// The disk is full. Nothing of the failed write was applied.
    NoSpace,
    /// A sync failed. Some of the writes since the last good sync reached the media and some
    /// did not, and the file is now poisoned.
    SyncFailed,
    /// An earlier sync of this file failed. Call [`Disk::reopen`](crate::Disk::reopen) and
    /// recover from what is really on the media.
    Poisoned,
    /// A read asked for bytes past the end of the file.
    UnexpectedEof,
    /// A file name that is empty or holds a `/`.
    InvalidName,
}

impl DiskError {
    pub(crate) fn new(op: DiskOp, name: &str, kind: DiskErrorKind) -> Self {
        Self {
            op,
            name: name.to_owned(),
            kind,
        }
    }

    /// The operation that failed.
    pub fn op(&self) -> DiskOp {
        self.op
    }

    /// The file it failed on.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Why it failed.
    pub fn kind(&self) -> DiskErrorKind {
        self.kind
    }
}

impl fmt::Display for DiskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            DiskOp::Create => "creating",
            DiskOp::Write => "writing",
            DiskOp::Read => "reading",
            DiskOp::Truncate => "truncating",
            DiskOp::Sync => "syncing",
            DiskOp::Rename => "renaming",
            DiskOp::Remove => "removing",
        };
        let kind = match self.kind {
            DiskErrorKind::NotFound => "no such file",
            DiskErrorKind::AlreadyExists => "file exists",
            DiskErrorKind::NoSpace => "no space left on the simulated disk",
            DiskErrorKind::SyncFailed => "sync failed; unsynced writes may be lost",
            DiskErrorKind::Poisoned => "file poisoned by an earlier failed sync",
            DiskErrorKind::UnexpectedEof => "read past the end of the file",
            DiskErrorKind::InvalidName => "invalid file name",
        };
        write!(f, "{op} {:?}: {kind}", self.name)
    }
}

impl std::error::Error for DiskError {}

/// `SIM_SEED` or `SIM_SEEDS` held something other than a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedsError {
    variable: &'static str,
    value: String,
}

impl SeedsError {
    pub(crate) fn new(variable: &'static str, value: String) -> Self {
        Self { variable, value }
    }
}

impl fmt::Display for SeedsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={:?} is not a number (SIM_SEED=n replays seed n, SIM_SEEDS=n runs seeds 0..n)",
            self.variable, self.value
        )
    }
}

impl std::error::Error for SeedsError {}
