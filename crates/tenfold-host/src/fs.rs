use std::fs;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Op};

/// A directory whose entries are made durable: every create, rename and delete in it is
/// followed by an fsync of the directory itself.
///
/// Without that fsync a crash can lose a file's *name* even when its contents were synced.
#[derive(Debug)]
pub struct Dir {
    path: PathBuf,
    handle: fs::File,
}

impl Dir {
    /// Opens the directory at `path`, creating it and any missing parents.
    ///
    /// # Errors
    ///
    /// [`Op::OpenDir`] if the directory cannot be created or opened, or [`Op::SyncDir`] if
    /// the parent of a newly created directory cannot be synced.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, Error> {
        let path = path.into();
        let existed = path.is_dir();
        fs::create_dir_all(&path).map_err(|e| Error::io(Op::OpenDir, &path, e))?;
        let handle = fs::File::open(&path).map_err(|e| Error::io(Op::OpenDir, &path, e))?;
        if !existed && let Some(parent) = path.parent() {
            // A bare name such as "orders.wal" has the empty path as its parent: the current
            // directory.
            let parent = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            let parent = fs::File::open(parent).map_err(|e| Error::io(Op::OpenDir, parent, e))?;
            parent
                .sync_all()
                .map_err(|e| Error::io(Op::SyncDir, &path, e))?;
        }
        Ok(Self { path, handle })
    }

    /// Creates the file `name`, which must not exist yet, and syncs the directory.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::AlreadyExists`] if it exists, [`ErrorKind::InvalidName`] if `name` is not
    /// a plain file name, or the operating system's error for [`Op::Create`] or
    /// [`Op::SyncDir`].
    pub fn create(&self, name: &str) -> Result<File, Error> {
        let path = self.child(name)?;
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(Op::Create, &path, e))?;
        self.sync()?;
        Ok(File::new(file, path, 0))
    }

    /// Opens the existing file `name` for reading and writing.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotFound`] if it does not exist, [`ErrorKind::InvalidName`] if `name` is
    /// not a plain file name, or the operating system's error for [`Op::Open`].
    pub fn open_file(&self, name: &str) -> Result<File, Error> {
        let path = self.child(name)?;
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(Op::Open, &path, e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io(Op::Open, &path, e))?
            .len();
        Ok(File::new(file, path, len))
    }

    /// Renames `from` to `to` atomically, replacing `to` if it exists, and syncs the directory.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotFound`] if `from` does not exist, [`ErrorKind::InvalidName`] for a name
    /// that is not plain, or the operating system's error for [`Op::Rename`] or [`Op::SyncDir`].
    pub fn rename(&self, from: &str, to: &str) -> Result<(), Error> {
        let from = self.child(from)?;
        let to = self.child(to)?;
        fs::rename(&from, &to).map_err(|e| Error::io(Op::Rename, &from, e))?;
        self.sync()
    }

    /// Deletes the file `name` and syncs the directory.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotFound`] if it does not exist, [`ErrorKind::InvalidName`] for a name
    /// that is not plain, or the operating system's error for [`Op::Remove`] or [`Op::SyncDir`].
    pub fn remove(&self, name: &str) -> Result<(), Error> {
        let path = self.child(name)?;
        fs::remove_file(&path).map_err(|e| Error::io(Op::Remove, &path, e))?;
        self.sync()
    }

    /// Syncs the directory, making every create, rename and delete in it durable.
    ///
    /// # Errors
    ///
    /// The operating system's error for [`Op::SyncDir`].
    pub fn sync(&self) -> Result<(), Error> {
        self.handle
            .sync_all()
            .map_err(|e| Error::io(Op::SyncDir, &self.path, e))
    }

    /// The names of the regular files in the directory, sorted.
    ///
    /// # Errors
    ///
    /// The operating system's error for [`Op::ListDir`]. Names that are not valid UTF-8 are
    /// skipped, since no file this crate creates has one.
    pub fn list(&self) -> Result<Vec<String>, Error> {
        let list_error = |e| Error::io(Op::ListDir, &self.path, e);
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.path).map_err(list_error)? {
            let entry = entry.map_err(list_error)?;
            if entry.file_type().map_err(list_error)?.is_file()
                && let Ok(name) = entry.file_name().into_string()
            {
                names.push(name);
            }
        }
        names.sort_unstable();
        Ok(names)
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn child(&self, name: &str) -> Result<PathBuf, Error> {
        let plain = !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0']);
        let path = self.path.join(name);
        match plain {
            true => Ok(path),
            false => Err(Error::new(Op::Open, &path, ErrorKind::InvalidName)),
        }
    }
}

/// An open file with positional I/O, atomic appends and fsync poisoning.
///
/// The file tracks its own length, so [`File::append`] needs no seek and no `stat`.
#[derive(Debug)]
pub struct File {
    file: fs::File,
    path: PathBuf,
    len: u64,
    poisoned: bool,
    #[cfg(test)]
    pub(crate) fail_next_sync: bool,
}

impl File {
    fn new(file: fs::File, path: PathBuf, len: u64) -> Self {
        Self {
            file,
            path,
            len,
            poisoned: false,
            #[cfg(test)]
            fail_next_sync: false,
        }
    }

    /// Appends `data` at the end of the file and returns the offset it starts at.
    ///
    /// The append lands whole or not at all: if the write fails part way, the file is cut
    /// back to its previous length before the error is returned.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NoSpace`] on a full disk, [`ErrorKind::Poisoned`] after a failed sync, or
    /// the operating system's error for [`Op::Write`].
    pub fn append(&mut self, data: &[u8]) -> Result<u64, Error> {
        let offset = self.len;
        self.write_at(offset, data)?;
        Ok(offset)
    }

    /// Writes all of `data` at `offset`, extending the file if it ends past the current end.
    ///
    /// If the write fails part way, a file that was being extended is cut back to its previous
    /// length. Bytes overwritten inside the old length may be partly changed.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NoSpace`] on a full disk, [`ErrorKind::Poisoned`] after a failed sync, or
    /// the operating system's error for [`Op::Write`].
    pub fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), Error> {
        self.check_poisoned(Op::Write)?;
        let Err(error) = self.file.write_all_at(data, offset) else {
            self.len = self.len.max(offset + data.len() as u64);
            return Ok(());
        };
        let error = Error::io(Op::Write, &self.path, error);
        if offset + data.len() as u64 > self.len && self.file.set_len(self.len).is_err() {
            self.poisoned = true;
        }
        Err(error)
    }

    /// Reads up to `buf.len()` bytes at `offset` and returns how many were read; fewer only at
    /// the end of the file.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Poisoned`] after a failed sync, or the operating system's error for
    /// [`Op::Read`].
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Error> {
        self.check_poisoned(Op::Read)?;
        let mut n_read = 0;
        while n_read < buf.len() {
            match self
                .file
                .read_at(&mut buf[n_read..], offset + n_read as u64)
            {
                Ok(0) => break,
                Ok(n) => n_read += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(Op::Read, &self.path, e)),
            }
        }
        Ok(n_read)
    }

    /// Fills `buf` from `offset`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnexpectedEof`] if the file ends first, [`ErrorKind::Poisoned`] after a
    /// failed sync, or the operating system's error for [`Op::Read`].
    pub fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        match self.read_at(offset, buf)? == buf.len() {
            true => Ok(()),
            false => Err(Error::new(Op::Read, &self.path, ErrorKind::UnexpectedEof)),
        }
    }

    /// Sets the file's length to `len`, cutting off or zero-extending its end.
    ///
    /// The new length is durable only after the next [`File::sync_all`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Poisoned`] after a failed sync, or the operating system's error for
    /// [`Op::Truncate`].
    pub fn truncate(&mut self, len: u64) -> Result<(), Error> {
        self.check_poisoned(Op::Truncate)?;
        self.file
            .set_len(len)
            .map_err(|e| Error::io(Op::Truncate, &self.path, e))?;
        self.len = len;
        Ok(())
    }

    /// Reserves disk blocks for the file up to `len` bytes without changing its length, so
    /// later appends up to there cannot fail for lack of space. Where the platform cannot
    /// reserve without extending, this does nothing.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NoSpace`] if the blocks are not there, [`ErrorKind::Poisoned`] after a
    /// failed sync, or the operating system's error for [`Op::Preallocate`].
    pub fn preallocate(&mut self, len: u64) -> Result<(), Error> {
        self.check_poisoned(Op::Preallocate)?;
        reserve(&self.file, len).map_err(|e| Error::io(Op::Preallocate, &self.path, e))
    }

    /// Makes the file's contents durable with `fdatasync`: the data and the metadata needed to
    /// read it back, such as a grown length.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::SyncFailed`] the first time a sync fails, and [`ErrorKind::Poisoned`] on
    /// every call after that. A failed sync is never retried as if nothing happened.
    pub fn sync_data(&mut self) -> Result<(), Error> {
        self.sync(fs::File::sync_data)
    }

    /// Makes the file's contents and all of its metadata durable with `fsync`.
    ///
    /// # Errors
    ///
    /// As for [`File::sync_data`].
    pub fn sync_all(&mut self) -> Result<(), Error> {
        self.sync(fs::File::sync_all)
    }

    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether an earlier sync failed, so that every call now returns
    /// [`ErrorKind::Poisoned`].
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sync(&mut self, sync: fn(&fs::File) -> io::Result<()>) -> Result<(), Error> {
        self.check_poisoned(Op::SyncFile)?;
        #[cfg(test)]
        if std::mem::take(&mut self.fail_next_sync) {
            self.poisoned = true;
            let error = io::Error::from_raw_os_error(libc::EIO);
            return Err(Error::io(Op::SyncFile, &self.path, error).with_kind(ErrorKind::SyncFailed));
        }
        sync(&self.file).map_err(|e| {
            self.poisoned = true;
            // Even a full disk found at sync time means the unsynced writes may be gone.
            Error::io(Op::SyncFile, &self.path, e).with_kind(ErrorKind::SyncFailed)
        })
    }

    fn check_poisoned(&self, op: Op) -> Result<(), Error> {
        match self.poisoned {
            true => Err(Error::new(op, &self.path, ErrorKind::Poisoned)),
            false => Ok(()),
        }
    }
}

#[cfg(target_os = "linux")]
fn reserve(file: &fs::File, len: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;

    let len =
        libc::off_t::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: the descriptor is open for as long as `file` is borrowed, and fallocate reads no
    // memory of ours.
    let rc = unsafe { libc::fallocate(file.as_raw_fd(), libc::FALLOC_FL_KEEP_SIZE, 0, len) };
    match rc {
        0 => Ok(()),
        _ => {
            let error = io::Error::last_os_error();
            // File systems without fallocate support lose nothing by skipping the reservation.
            match error.raw_os_error() {
                Some(libc::EOPNOTSUPP) => Ok(()),
                _ => Err(error),
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn reserve(_file: &fs::File, _len: u64) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests;
