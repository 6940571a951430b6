//! The tenfold tour: every core that exists, run on the real data in `data/`.
//!
//! Each section prints one line: what ran, on what input, the key figures and the time taken.
//! Each section also checks its own results, and the tour exits non-zero if any check fails.
//!
//! ```text
//! cargo run --release --example tour
//! ```

#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::print_stdout
)]

use std::process::ExitCode;

use tenfold_examples::data;
use tenfold_examples::report::{Report, Section};
use tenfold_host::{Clock, Dir, SystemClock};

fn main() -> ExitCode {
    let mut report = Report::default();
    println!("tenfold tour: each core on real data, with its own checks\n");

    let messages = match data::college_messages() {
        Ok(messages) => messages,
        Err(error) => {
            println!("FAIL loading data: {error}");
            return ExitCode::FAILURE;
        }
    };
    report.section("host", "CollegeMsg, 59,835 messages", |s| {
        host(s, &messages)
    });

    println!();
    match report.n_failed() {
        0 => {
            println!("all checks passed");
            ExitCode::SUCCESS
        }
        n => {
            println!("{n} check(s) failed");
            ExitCode::FAILURE
        }
    }
}

/// Journals every message as a 16-byte record through `tenfold-host`, one `fdatasync` per
/// batch of 1,024 (group commit), then reopens the file and reads every record back.
fn host(s: &mut Section, messages: &[data::Message]) {
    const BATCH: usize = 1024;
    let clock = SystemClock::new();
    let Some(scratch) = s.ok("temporary directory", tempfile::tempdir()) else {
        return;
    };
    let Some(dir) = s.ok("open directory", Dir::open(scratch.path().join("journal"))) else {
        return;
    };
    let Some(mut file) = s.ok("create journal", dir.create("messages.log")) else {
        return;
    };

    let started = clock.monotonic();
    let mut n_syncs = 0;
    for batch in messages.chunks(BATCH) {
        let mut bytes = Vec::with_capacity(batch.len() * 16);
        for message in batch {
            bytes.extend_from_slice(&message.from.to_le_bytes());
            bytes.extend_from_slice(&message.to.to_le_bytes());
            bytes.extend_from_slice(&message.unix_seconds.to_le_bytes());
        }
        if s.ok("append", file.append(&bytes)).is_none() || s.ok("sync", file.sync_data()).is_none()
        {
            return;
        }
        n_syncs += 1;
    }
    let write_time = clock.monotonic() - started;
    drop(file);

    let Some(file) = s.ok("reopen journal", dir.open_file("messages.log")) else {
        return;
    };
    let mut bytes = vec![0; file.len() as usize];
    if s.ok("read back", file.read_exact_at(0, &mut bytes))
        .is_none()
    {
        return;
    }
    let read_back: Vec<data::Message> = bytes
        .chunks_exact(16)
        .map(|record| data::Message {
            from: u32::from_le_bytes(record[0..4].try_into().unwrap_or_default()),
            to: u32::from_le_bytes(record[4..8].try_into().unwrap_or_default()),
            unix_seconds: u64::from_le_bytes(record[8..16].try_into().unwrap_or_default()),
        })
        .collect();

    s.figure(format!("{} records journaled", read_back.len()));
    s.figure(format!("{} KiB", bytes.len() / 1024));
    s.figure(format!(
        "{n_syncs} fdatasyncs ({:.0} µs each)",
        write_time.as_micros() as f64 / n_syncs as f64
    ));
    s.check(read_back.len() == 59_835, || {
        format!("{} records read back", read_back.len())
    });
    s.check(read_back == messages, || {
        "records read back differ from those written".into()
    });
    s.check(n_syncs == 59_835usize.div_ceil(BATCH), || {
        format!("{n_syncs} syncs")
    });
}
