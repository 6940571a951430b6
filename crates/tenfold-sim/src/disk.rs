//! A simulated disk with named files, a page cache, and a precise crash model.
//!
//! # The model
//!
//! Each file has two images: the *cache*, which every read sees, and the *media*, which is what
//! survives a crash. A write or truncate changes the cache at once and joins the file's queue
//! of *pending* operations. [`Disk::sync`] applies the queue to the media in order and empties
//! it. Creating, renaming and removing a file are durable at once, as on a host that syncs the
//! directory after each of them (as `tenfold-host` does).
//!
//! Faults, each with its own rate in [`DiskConfig`]:
//!
//! - **Bit flip** (per write): one random bit of the write is flipped on its way to the media.
//!   The cache holds the intended bytes, so the damage shows only after a crash or
//!   [`Disk::reopen`], as with real silent corruption.
//! - **Misdirected write** (per write): the write reaches the media at another sector-aligned
//!   offset of the same file, overwriting what was there. The file's length on the media is
//!   still that of the intended write, and the intended range keeps its old contents.
//! - **Failed sync** (per sync): each pending operation, in order, reaches the media or not
//!   with even odds; the queue is emptied either way, and the file is *poisoned*: every later
//!   operation on it fails with [`DiskErrorKind::Poisoned`] until [`Disk::reopen`] or a crash.
//!   This is Linux's behaviour after a failed `fsync` (the dirty pages are dropped), made
//!   explicit the way `tenfold-host` makes it.
//! - **Full disk**: a write that would take the sum of the files' lengths past
//!   [`DiskConfig::capacity`] fails with [`DiskErrorKind::NoSpace`] and changes nothing.
//!
//! At a crash ([`Disk::crash`]), for each file with `n` pending operations:
//!
//! 1. A number `k` is drawn uniformly from `0..=n`; the first `k` operations reach the media
//!    whole, in order. Writes are never reordered.
//! 2. If `k < n`, operation `k` was in flight. With probability [`DiskConfig::torn_write`] a
//!    write in flight is *torn*: a prefix of it reaches the media, cut at a sector boundary of
//!    the file (any byte if [`DiskConfig::sector_size`] is 1), chosen uniformly among the cut
//!    points strictly inside the write plus its start.
//! 3. The rest is lost. If the lost writes would have made the file longer, then with
//!    probability [`DiskConfig::zeroed_tail`] the file's length reaches their end anyway and
//!    the new bytes are zeros, as when a file system commits the size before the data.
//! 4. The cache is dropped: afterwards both images equal the media, and no file is poisoned.
//!
//! FIXME(#5): real disks can also persist the sectors of unsynced writes out of order, and lose
//! a create, rename or remove whose directory was not synced; the model has neither yet, so a
//! core's own tests cover those cases by hand until a mode for each is added.

use std::collections::BTreeMap;

use crate::error::{DiskError, DiskErrorKind, DiskOp};
use crate::rng::SimRng;

/// The largest file a simulated disk holds, 16 GiB.
pub const MAX_FILE_LEN: u64 = 16 << 30;

/// The fault rates and geometry of a simulated disk. The default has no faults, 4 KiB
/// sectors and no capacity limit; unsynced writes are still lost at a crash.
#[derive(Clone, Debug, PartialEq)]
pub struct DiskConfig {
    /// The unit a torn write is cut at and a misdirected write is aligned to. 1 means any byte.
    pub sector_size: u32,
    /// The most bytes all files together may hold.
    pub capacity: u64,
    /// The chance that a write in flight at a crash is torn rather than lost whole.
    pub torn_write: f64,
    /// The chance that lost writes leave a zeroed tail rather than a shorter file.
    pub zeroed_tail: f64,
    /// The chance, per write, that one bit of it is flipped on the media.
    pub bit_flip: f64,
    /// The chance, per write, that it lands at the wrong offset on the media.
    pub misdirect: f64,
    /// The chance that a sync fails.
    pub sync_fail: f64,
}

impl Default for DiskConfig {
    fn default() -> Self {
        Self {
            sector_size: 4096,
            capacity: u64::MAX,
            torn_write: 0.0,
            zeroed_tail: 0.0,
            bit_flip: 0.0,
            misdirect: 0.0,
            sync_fail: 0.0,
        }
    }
}

/// Counts of what a disk did and what went wrong with it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiskStats {
    /// Writes and appends that succeeded.
    pub writes: u64,
    /// Bytes those writes carried.
    pub bytes_written: u64,
    /// Syncs asked for, failed or not.
    pub syncs: u64,
    /// Syncs that failed.
    pub sync_failures: u64,
    /// Crashes.
    pub crashes: u64,
    /// Pending operations that never reached the media, torn ones included.
    pub lost_ops: u64,
    /// Writes torn at a crash.
    pub torn_writes: u64,
    /// Crashes that left a zeroed tail on a file.
    pub zeroed_tails: u64,
    /// Writes with a flipped bit.
    pub bit_flips: u64,
    /// Writes sent to the wrong offset.
    pub misdirected: u64,
    /// Writes refused for lack of space.
    pub no_space: u64,
}

/// A simulated disk: named files with the crash model described in the [module docs](self).
///
/// The simulator gives each node one, kept across crashes. It can also be used on its own, to
/// test a storage layer against [`Disk::crash`] directly.
#[derive(Clone, Debug)]
pub struct Disk {
    config: DiskConfig,
    rng: SimRng,
    files: BTreeMap<String, File>,
    used: u64,
    stats: DiskStats,
    journal: Option<Vec<Call>>,
}

/// A call that changed the disk, journaled so that a crash part way through a handler can be
/// replayed up to the point where it struck.
#[derive(Clone, Debug)]
pub(crate) enum Call {
    Create(String),
    Write(String, u64, Vec<u8>),
    Truncate(String, u64),
    Sync(String),
    Reopen(String),
    Rename(String, String),
    Remove(String),
}

#[derive(Clone, Debug, Default)]
struct File {
    cache: Vec<u8>,
    media: Vec<u8>,
    pending: Vec<Pending>,
    poisoned: bool,
}

#[derive(Clone, Debug)]
enum Pending {
    Write {
        offset: u64,
        data: Vec<u8>,
        media_offset: u64,
        flip_bit: Option<u64>,
    },
    Truncate(u64),
}

impl Disk {
    /// An empty disk whose faults draw from `rng`.
    pub fn new(config: DiskConfig, rng: SimRng) -> Self {
        Self {
            config,
            rng,
            files: BTreeMap::new(),
            used: 0,
            stats: DiskStats::default(),
            journal: None,
        }
    }

    /// Creates an empty file, durably.
    ///
    /// # Errors
    ///
    /// [`DiskErrorKind::AlreadyExists`] or [`DiskErrorKind::InvalidName`].
    pub fn create(&mut self, name: &str) -> Result<(), DiskError> {
        self.note(|| Call::Create(name.to_owned()));
        check_name(DiskOp::Create, name)?;
        if self.files.contains_key(name) {
            return Err(DiskError::new(
                DiskOp::Create,
                name,
                DiskErrorKind::AlreadyExists,
            ));
        }
        self.files.insert(name.to_owned(), File::default());
        Ok(())
    }

    /// Writes `data` at `offset`, filling any gap past the end with zeros. Durable only after
    /// a successful [`Disk::sync`].
    ///
    /// # Errors
    ///
    /// [`DiskErrorKind::NotFound`], [`DiskErrorKind::Poisoned`] or [`DiskErrorKind::NoSpace`].
    pub fn write_at(&mut self, name: &str, offset: u64, data: &[u8]) -> Result<(), DiskError> {
        self.note(|| Call::Write(name.to_owned(), offset, data.to_vec()));
        let error = |kind| DiskError::new(DiskOp::Write, name, kind);
        let file = self
            .files
            .get_mut(name)
            .ok_or_else(|| error(DiskErrorKind::NotFound))?;
        if file.poisoned {
            return Err(error(DiskErrorKind::Poisoned));
        }
        let old_len = file.cache.len() as u64;
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or_else(|| error(DiskErrorKind::NoSpace))?;
        let new_len = old_len.max(end);
        if !take_space(&mut self.used, self.config.capacity, old_len, new_len) {
            self.stats.no_space += 1;
            return Err(error(DiskErrorKind::NoSpace));
        }
        write_into(&mut file.cache, offset, data);

        let mut media_offset = offset;
        if self.rng.chance(self.config.misdirect) {
            let sector = u64::from(self.config.sector_size.max(1));
            if let Some(slot) =
                misdirect(offset, new_len - data.len() as u64, sector, &mut self.rng)
            {
                media_offset = slot;
                self.stats.misdirected += 1;
            }
        }
        let mut flip_bit = None;
        if !data.is_empty() && self.rng.chance(self.config.bit_flip) {
            flip_bit = Some(self.rng.below(data.len() as u64 * 8));
            self.stats.bit_flips += 1;
        }
        file.pending.push(Pending::Write {
            offset,
            data: data.to_vec(),
            media_offset,
            flip_bit,
        });
        self.stats.writes += 1;
        self.stats.bytes_written += data.len() as u64;
        Ok(())
    }

    /// Appends `data` at the end of the file and returns the offset it was written at.
    ///
    /// # Errors
    ///
    /// As [`Disk::write_at`].
    pub fn append(&mut self, name: &str, data: &[u8]) -> Result<u64, DiskError> {
        let offset = self.len(name)?;
        self.write_at(name, offset, data)?;
        Ok(offset)
    }

    /// Sets the file's length, cutting it or extending it with zeros. Durable after a sync.
    ///
    /// # Errors
    ///
    /// [`DiskErrorKind::NotFound`], [`DiskErrorKind::Poisoned`] or [`DiskErrorKind::NoSpace`].
    pub fn truncate(&mut self, name: &str, len: u64) -> Result<(), DiskError> {
        self.note(|| Call::Truncate(name.to_owned(), len));
        let error = |kind| DiskError::new(DiskOp::Truncate, name, kind);
        let file = self
            .files
            .get_mut(name)
            .ok_or_else(|| error(DiskErrorKind::NotFound))?;
        if file.poisoned {
            return Err(error(DiskErrorKind::Poisoned));
        }
        let old_len = file.cache.len() as u64;
        if !take_space(&mut self.used, self.config.capacity, old_len, len) {
            self.stats.no_space += 1;
            return Err(error(DiskErrorKind::NoSpace));
        }
        file.cache.resize(len as usize, 0);
        file.pending.push(Pending::Truncate(len));
        Ok(())
    }

    /// Makes every write and truncate of the file so far durable, or fails as described in the
    /// [module docs](self).
    ///
    /// # Errors
    ///
    /// [`DiskErrorKind::NotFound`], [`DiskErrorKind::Poisoned`] or
    /// [`DiskErrorKind::SyncFailed`].
    pub fn sync(&mut self, name: &str) -> Result<(), DiskError> {
        self.note(|| Call::Sync(name.to_owned()));
        let error = |kind| DiskError::new(DiskOp::Sync, name, kind);
        let file = self
            .files
            .get_mut(name)
            .ok_or_else(|| error(DiskErrorKind::NotFound))?;
        if file.poisoned {
            return Err(error(DiskErrorKind::Poisoned));
        }
        self.stats.syncs += 1;
        if !self.rng.chance(self.config.sync_fail) {
            for op in file.pending.drain(..) {
                op.apply(&mut file.media);
            }
            return Ok(());
        }
        self.stats.sync_failures += 1;
        for op in file.pending.drain(..) {
            if self.rng.chance(0.5) {
                op.apply(&mut file.media);
            } else {
                self.stats.lost_ops += 1;
            }
        }
        file.poisoned = true;
        Err(error(DiskErrorKind::SyncFailed))
    }

    /// Drops the file's cache and unsynced writes and clears its poison, so that reads show
    /// exactly what is on the media. This is the way back after a failed sync.
    ///
    /// # Errors
    ///
    /// [`DiskErrorKind::NotFound`].
    pub fn reopen(&mut self, name: &str) -> Result<(), DiskError> {
        self.note(|| Call::Reopen(name.to_owned()));
        let file = self
            .files
            .get_mut(name)
            .ok_or_else(|| DiskError::new(DiskOp::Read, name, DiskErrorKind::NotFound))?;
        self.stats.lost_ops += file.pending.len() as u64;
        file.pending.clear();
        file.poisoned = false;
        self.used = self.used - file.cache.len() as u64 + file.media.len() as u64;
        file.cache.clone_from(&file.media);
        Ok(())
    }

    /// Renames `from` to `to`, durably, replacing any file called `to`.
    ///
    /// # Errors
    ///
    /// [`DiskErrorKind::NotFound`] or [`DiskErrorKind::InvalidName`].
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), DiskError> {
        self.note(|| Call::Rename(from.to_owned(), to.to_owned()));
        check_name(DiskOp::Rename, to)?;
        let file = self
            .files
            .remove(from)
            .ok_or_else(|| DiskError::new(DiskOp::Rename, from, DiskErrorKind::NotFound))?;
        if let Some(replaced) = self.files.insert(to.to_owned(), file) {
            self.used -= replaced.cache.len() as u64;
        }
        Ok(())
    }

    /// Deletes a file, durably.
    ///
    /// # Errors
    ///
    /// [`DiskErrorKind::NotFound`].
    pub fn remove(&mut self, name: &str) -> Result<(), DiskError> {
        self.note(|| Call::Remove(name.to_owned()));
        let file = self
            .files
            .remove(name)
            .ok_or_else(|| DiskError::new(DiskOp::Remove, name, DiskErrorKind::NotFound))?;
        self.used -= file.cache.len() as u64;
        Ok(())
    }

    /// Loses the cache as described in the [module docs](self), and returns how many pending
    /// operations did not reach the media whole.
    pub fn crash(&mut self) -> u64 {
        self.stats.crashes += 1;
        let mut n_lost = 0;
        for file in self.files.values_mut() {
            n_lost += crash_file(file, &self.config, &mut self.rng, &mut self.stats);
        }
        self.used = self
            .files
            .values()
            .map(|file| file.cache.len() as u64)
            .sum();
        self.stats.lost_ops += n_lost;
        n_lost
    }

    /// Reads from `offset` into `buf` and returns how many bytes were read, fewer than asked
    /// only at the end of the file.
    ///
    /// # Errors
    ///
    /// [`DiskErrorKind::NotFound`] or [`DiskErrorKind::Poisoned`].
    pub fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<usize, DiskError> {
        let cache = self.cache(name)?;
        let start = offset.min(cache.len() as u64) as usize;
        let n = buf.len().min(cache.len() - start);
        buf[..n].copy_from_slice(&cache[start..start + n]);
        Ok(n)
    }

    /// Reads exactly `buf.len()` bytes from `offset`.
    ///
    /// # Errors
    ///
    /// As [`Disk::read_at`], and [`DiskErrorKind::UnexpectedEof`] if the file is too short.
    pub fn read_exact_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        if self.read_at(name, offset, buf)? < buf.len() {
            return Err(DiskError::new(
                DiskOp::Read,
                name,
                DiskErrorKind::UnexpectedEof,
            ));
        }
        Ok(())
    }

    /// The whole file.
    ///
    /// # Errors
    ///
    /// [`DiskErrorKind::NotFound`] or [`DiskErrorKind::Poisoned`].
    pub fn read_all(&self, name: &str) -> Result<Vec<u8>, DiskError> {
        self.cache(name).map(<[u8]>::to_vec)
    }

    /// The file's length.
    ///
    /// # Errors
    ///
    /// [`DiskErrorKind::NotFound`] or [`DiskErrorKind::Poisoned`].
    pub fn len(&self, name: &str) -> Result<u64, DiskError> {
        self.cache(name).map(|cache| cache.len() as u64)
    }

    /// Whether a file of that name exists.
    pub fn exists(&self, name: &str) -> bool {
        self.files.contains_key(name)
    }

    /// The names of all files, sorted.
    pub fn list(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }

    /// Bytes held by all files together.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// What the disk did so far.
    pub fn stats(&self) -> DiskStats {
        self.stats
    }

    /// The fault rates and geometry.
    pub fn config(&self) -> &DiskConfig {
        &self.config
    }

    /// Starts journaling every call that changes the disk.
    pub(crate) fn begin_journal(&mut self) {
        self.journal = Some(Vec::new());
    }

    /// How many calls the journal holds, or `None` when not journaling.
    #[inline]
    pub(crate) fn journal_len(&self) -> Option<usize> {
        self.journal.as_ref().map(Vec::len)
    }

    /// Stops journaling and returns the journal.
    pub(crate) fn take_journal(&mut self) -> Vec<Call> {
        self.journal.take().unwrap_or_default()
    }

    /// Makes the calls again, in order. Their results were seen by the node already.
    pub(crate) fn replay(&mut self, calls: &[Call]) {
        for call in calls {
            let _ = match call {
                Call::Create(name) => self.create(name),
                Call::Write(name, offset, data) => self.write_at(name, *offset, data),
                Call::Truncate(name, len) => self.truncate(name, *len),
                Call::Sync(name) => self.sync(name),
                Call::Reopen(name) => self.reopen(name),
                Call::Rename(from, to) => self.rename(from, to),
                Call::Remove(name) => self.remove(name),
            };
        }
    }

    #[inline]
    fn note(&mut self, call: impl FnOnce() -> Call) {
        if let Some(journal) = &mut self.journal {
            journal.push(call());
        }
    }

    fn cache(&self, name: &str) -> Result<&[u8], DiskError> {
        let error = |kind| DiskError::new(DiskOp::Read, name, kind);
        let file = self
            .files
            .get(name)
            .ok_or_else(|| error(DiskErrorKind::NotFound))?;
        if file.poisoned {
            return Err(error(DiskErrorKind::Poisoned));
        }
        Ok(&file.cache)
    }
}

impl Pending {
    /// Applies the operation to the media, faults included.
    fn apply(self, media: &mut Vec<u8>) {
        match self {
            Self::Write {
                offset,
                mut data,
                media_offset,
                flip_bit,
            } => {
                if let Some(bit) = flip_bit {
                    data[(bit / 8) as usize] ^= 1 << (bit % 8);
                }
                let end = offset + data.len() as u64;
                if (media.len() as u64) < end {
                    media.resize(end as usize, 0);
                }
                write_into(media, media_offset, &data);
            }
            Self::Truncate(len) => media.resize(len as usize, 0),
        }
    }

    /// The end of the write in the file, or 0 for a truncate.
    fn end(&self) -> u64 {
        match self {
            Self::Write { offset, data, .. } => offset + data.len() as u64,
            Self::Truncate(_) => 0,
        }
    }
}

/// Applies steps 1 to 4 of the crash model to one file, and returns how many pending
/// operations did not reach the media whole.
fn crash_file(
    file: &mut File,
    config: &DiskConfig,
    rng: &mut SimRng,
    stats: &mut DiskStats,
) -> u64 {
    let n = file.pending.len();
    let k = rng.below(n as u64 + 1) as usize;
    let mut pending = std::mem::take(&mut file.pending).into_iter();
    for op in pending.by_ref().take(k) {
        op.apply(&mut file.media);
    }
    let lost: Vec<Pending> = pending.collect();
    let lost_end = lost.iter().map(Pending::end).max().unwrap_or(0);
    if let Some(Pending::Write { offset, data, .. }) = lost.first()
        && rng.chance(config.torn_write)
    {
        let kept = tear_point(*offset, data.len() as u64, config.sector_size, rng);
        write_into(&mut file.media, *offset, &data[..kept as usize]);
        stats.torn_writes += 1;
    }
    if lost_end > file.media.len() as u64 && rng.chance(config.zeroed_tail) {
        file.media.resize(lost_end as usize, 0);
        stats.zeroed_tails += 1;
    }
    file.cache.clone_from(&file.media);
    file.poisoned = false;
    lost.len() as u64
}

/// How many bytes of a write of `len` bytes at `offset` survive a tear: 0 or the distance to
/// a sector boundary strictly inside the write, chosen uniformly.
fn tear_point(offset: u64, len: u64, sector_size: u32, rng: &mut SimRng) -> u64 {
    let sector = u64::from(sector_size.max(1));
    let first_boundary = (offset / sector + 1) * sector;
    let end = offset + len;
    let n_inside = if first_boundary < end {
        (end - 1 - first_boundary) / sector + 1
    } else {
        0
    };
    match rng.below(n_inside + 1) {
        0 => 0,
        i => first_boundary + (i - 1) * sector - offset,
    }
}

/// A sector-aligned offset in `0..=last_start` other than `offset`, chosen uniformly, or
/// `None` if there is no such offset.
fn misdirect(offset: u64, last_start: u64, sector: u64, rng: &mut SimRng) -> Option<u64> {
    let n_slots = last_start / sector + 1;
    let own_slot =
        (offset.is_multiple_of(sector) && offset <= last_start).then_some(offset / sector);
    let n_others = n_slots - u64::from(own_slot.is_some());
    if n_others == 0 {
        return None;
    }
    let mut slot = rng.below(n_others);
    if own_slot.is_some_and(|own| slot >= own) {
        slot += 1;
    }
    Some(slot * sector)
}

fn write_into(image: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let end = offset as usize + data.len();
    if image.len() < end {
        image.resize(end, 0);
    }
    image[offset as usize..end].copy_from_slice(data);
}

fn check_name(op: DiskOp, name: &str) -> Result<(), DiskError> {
    if name.is_empty() || name.contains('/') {
        return Err(DiskError::new(op, name, DiskErrorKind::InvalidName));
    }
    Ok(())
}

/// Accounts for a file going from `old_len` to `new_len` bytes out of `used`, or returns false
/// for a full disk. A simulated file lives in memory: past [`MAX_FILE_LEN`] the disk is full,
/// whatever the configured capacity, rather than the process running out of memory.
fn take_space(used: &mut u64, capacity: u64, old_len: u64, new_len: u64) -> bool {
    match (*used - old_len).checked_add(new_len) {
        Some(total) if new_len <= MAX_FILE_LEN && total <= capacity => {
            *used = total;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;
