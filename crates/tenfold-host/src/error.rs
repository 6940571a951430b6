use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A failed file operation: what was tried, on which path, and why it failed.
#[derive(Debug)]
pub struct Error {
    op: Op,
    path: PathBuf,
    kind: ErrorKind,
    source: Option<io::Error>,
}

/// The operation that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// Creating or opening a directory.
    OpenDir,
    /// Listing a directory.
    ListDir,
    /// Creating a new file.
    Create,
    /// Opening an existing file.
    Open,
    /// Writing bytes.
    Write,
    /// Reading bytes.
    Read,
    /// Changing a file's length.
    Truncate,
    /// Reserving space for a file.
    Preallocate,
    /// `fdatasync` or `fsync` of a file.
    SyncFile,
    /// `fsync` of a directory.
    SyncDir,
    /// Renaming a file.
    Rename,
    /// Deleting a file.
    Remove,
}

/// Why an operation failed, in the terms a storage engine acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file or directory does not exist.
    NotFound,
    /// A file of that name already exists.
    AlreadyExists,
    /// The disk or the quota is full. Nothing of the failed write remains in the file.
    NoSpace,
    /// A sync failed. What was written since the last good sync may be lost, and the file is
    /// now poisoned.
    SyncFailed,
    /// An earlier sync or roll back on this file failed, so its contents on disk are unknown.
    /// Reopen it and recover from what is really there.
    Poisoned,
    /// A read asked for bytes past the end of the file.
    UnexpectedEof,
    /// A file name that is empty, or holds a path separator, `.` or `..`.
    InvalidName,
    /// Any other operating-system error; [`std::error::Error::source`] has the details.
    Other,
}

impl Error {
    pub(crate) fn new(op: Op, path: &Path, kind: ErrorKind) -> Self {
        Self {
            op,
            path: path.to_owned(),
            kind,
            source: None,
        }
    }

    pub(crate) fn io(op: Op, path: &Path, source: io::Error) -> Self {
        let kind = match source.kind() {
            io::ErrorKind::NotFound => ErrorKind::NotFound,
            io::ErrorKind::AlreadyExists => ErrorKind::AlreadyExists,
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => ErrorKind::NoSpace,
            io::ErrorKind::UnexpectedEof => ErrorKind::UnexpectedEof,
            _ => ErrorKind::Other,
        };
        Self {
            op,
            path: path.to_owned(),
            kind,
            source: Some(source),
        }
    }

    pub(crate) fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// The operation that failed.
    pub fn op(&self) -> Op {
        self.op
    }

    /// The file or directory it failed on.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Why it failed.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            Op::OpenDir => "opening directory",
            Op::ListDir => "listing directory",
            Op::Create => "creating",
            Op::Open => "opening",
            Op::Write => "writing to",
            Op::Read => "reading from",
            Op::Truncate => "truncating",
            Op::Preallocate => "preallocating",
            Op::SyncFile => "syncing",
            Op::SyncDir => "syncing directory",
            Op::Rename => "renaming",
            Op::Remove => "removing",
        };
        let why = match self.kind {
            ErrorKind::NotFound => "not found",
            ErrorKind::AlreadyExists => "already exists",
            ErrorKind::NoSpace => "no space left on the device",
            ErrorKind::SyncFailed => "sync failed; unsynced writes may be lost",
            ErrorKind::Poisoned => "an earlier sync failed; reopen the file and recover",
            ErrorKind::UnexpectedEof => "read past the end of the file",
            ErrorKind::InvalidName => "not a plain file name",
            ErrorKind::Other => "i/o error",
        };
        write!(f, "{op} {}: {why}", self.path.display())?;
        if let Some(source) = &self.source {
            write!(f, " ({source})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|source| source as _)
    }
}
