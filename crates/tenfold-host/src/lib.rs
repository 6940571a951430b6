//! The host side of tenfold: the system clock and durable files.
//!
//! Every other crate in the workspace is a sans-IO core. It never reads a clock, opens a file
//! or spawns a thread; the host does those things and feeds the results in. This crate is the
//! small, careful piece of real I/O that a host needs for that job:
//!
//! - [`SystemClock`], a [`Clock`] that reads the operating system's monotonic and wall clocks.
//!   [`ManualClock`] has the same shape and is set by hand, for tests and replays.
//! - [`Dir`] and [`File`], file primitives with the durability rules a log or a store needs:
//!   positional reads and writes, appends that either land whole or not at all, `fdatasync`,
//!   an fsync of the directory after every create, rename and delete, and preallocation.
//! - With the `wal` feature, [`wal::WalDir`]: `tenfold-wal` segments as files, performing the
//!   log's [`Io`](tenfold_wal::Io) and serving its recovery reads.
//!
//! # Durability rules
//!
//! - A failed `fsync` or `fdatasync` is reported once as [`ErrorKind::SyncFailed`], and from
//!   then on the file is *poisoned*: every later call on it returns [`ErrorKind::Poisoned`].
//!   After a failed sync the kernel may already have dropped the dirty pages, so a second sync
//!   that "succeeds" proves nothing. The only safe move is to reopen the file and recover from
//!   what is really on disk.
//! - A write that fails part way (a full disk, say) is rolled back to the length the file had
//!   before it, so a failed [`File::append`] never leaves half a record behind. If the roll
//!   back itself fails, the file is poisoned.
//! - A full disk is [`ErrorKind::NoSpace`], never a panic.
//!
//! # Example: a host that journals bytes durably
//!
//! ```
//! use tenfold_host::{Clock, Dir, SystemClock};
//!
//! # let scratch = tempfile::tempdir()?;
//! let clock = SystemClock::new();
//! let dir = Dir::open(scratch.path().join("journal"))?;
//!
//! // Create is followed by an fsync of the directory, so the name survives a crash.
//! let mut file = dir.create("00000001.log")?;
//! let offset = file.append(b"first record")?;
//! file.sync_data()?;
//! assert_eq!(offset, 0);
//!
//! // Reopen after a restart and read back what was made durable.
//! drop(file);
//! let file = dir.open_file("00000001.log")?;
//! let mut buf = vec![0; file.len() as usize];
//! file.read_exact_at(0, &mut buf)?;
//! assert_eq!(buf, b"first record");
//! assert!(clock.monotonic() <= clock.monotonic());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// This crate is the one place in the workspace allowed to touch the operating system: it reads
// the clocks and owns the files that the cores' storage traits are implemented on.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod clock;
mod error;
mod fs;
#[cfg(feature = "wal")]
pub mod wal;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, ErrorKind, Op};
pub use fs::{Dir, File};
