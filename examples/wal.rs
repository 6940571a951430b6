//! Inspect and check `tenfold-wal` segment files, as an operator would.
//!
//! ```text
//! cargo run --release --example wal -- demo DIR        write a log into DIR, tear its tail
//! cargo run --release --example wal -- dump PATH...    describe segment files (or directories)
//! cargo run --release --example wal -- verify DIR      recover DIR strictly, then as after a crash
//! ```

#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::print_stdout
)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tenfold_examples::data;
use tenfold_host::wal::WalDir;
use tenfold_wal::{Config, Io, Log, RecoveryMode, SegmentEnd, inspect_segment, recover};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") if args.len() == 2 => demo(Path::new(&args[1])),
        Some("dump") if args.len() >= 2 => dump(&args[1..]),
        Some("verify") if args.len() == 2 => verify(Path::new(&args[1])),
        _ => Err("usage: wal demo DIR | wal dump PATH... | wal verify DIR".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            println!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Journals the CollegeMsg messages into `dir` in 16 KiB segments, then writes half of one
/// more batch without syncing it, the way a crash leaves a log.
fn demo(dir: &Path) -> Result {
    let config = Config::default().segment_size(16 << 10).preallocate(false);
    let mut segments = WalDir::open(dir)?;
    let mut log = Log::new(config, 0xD3A0);
    let messages = data::college_messages()?;
    for batch in messages[..2_000].chunks(100) {
        for message in batch {
            let payload = format!("{} -> {}", message.from, message.to);
            log.append(message.unix_seconds * 1_000_000, payload.as_bytes())?;
        }
        let flush = log.poll_flush().ok_or("nothing to flush")?;
        segments.perform(&flush.ops)?;
        log.handle_flushed(flush.through);
    }
    log.append(0, b"this batch never finishes")?;
    let flush = log.poll_flush().ok_or("nothing to flush")?;
    for io in &flush.ops {
        if let Io::Write {
            segment,
            offset,
            bytes,
        } = io
        {
            let half = bytes[..bytes.len() / 2].to_vec();
            segments.perform(&[Io::Write {
                segment: *segment,
                offset: *offset,
                bytes: half,
            }])?;
        }
    }
    println!(
        "wrote {} records in {} segments to {}",
        2_000,
        log.segments().len(),
        dir.display()
    );
    println!("and half of record 2001, unsynced: `verify` reports it as a torn tail");
    Ok(())
}

/// Prints each segment's header, its records' LSN and time ranges, and how it ends.
fn dump(paths: &[String]) -> Result {
    let config = Config::default();
    for path in segment_paths(paths)? {
        let bytes = std::fs::read(&path)?;
        print!("{}: {} bytes", path.display(), bytes.len());
        let report = match inspect_segment(&bytes, &config) {
            Ok(report) => report,
            Err(fault) => {
                println!(", not a segment ({fault:?})");
                continue;
            }
        };
        let header = report.header;
        println!(", segment {} from lsn {}", header.segment, header.first_lsn);
        if let (Some(first), Some(last)) = (report.records.first(), report.records.last()) {
            println!(
                "  records {}..={} ({})",
                first.lsn,
                last.lsn,
                report.records.len()
            );
            println!("  timestamps {}..={}", first.timestamp, last.timestamp);
        }
        println!("  committed bytes {}", report.committed_len);
        match report.end {
            SegmentEnd::Clean => println!("  ends cleanly"),
            SegmentEnd::Torn { offset, fault } => println!("  torn tail at {offset}: {fault}"),
            SegmentEnd::Damaged {
                offset,
                fault,
                witness,
            } => {
                println!("  DAMAGED at {offset}: {fault}; record {witness} shows it was durable");
            }
            end => println!("  {end:?}"),
        }
    }
    Ok(())
}

/// Recovers `dir` strictly, and if that fails, as after a crash, saying what each found.
fn verify(dir: &Path) -> Result {
    if !dir.is_dir() {
        return Err(format!("{} is not a directory", dir.display()).into());
    }
    let config = Config::default();
    let segments = WalDir::open(dir)?;
    match recover(&segments, &config, RecoveryMode::Strict, None) {
        Ok(recovery) => {
            println!("strict: intact, {} records", recovery.last_lsn());
            return Ok(());
        }
        Err(error) => println!("strict: {error}"),
    }
    let recovery = recover(&segments, &config, RecoveryMode::TolerateTornTail, None)?;
    println!("after a crash: {} records recovered", recovery.last_lsn());
    if let Some(torn) = recovery.torn_tail() {
        println!(
            "torn tail in segment {} from offset {}: {}",
            torn.segment, torn.offset, torn.fault
        );
    }
    Ok(())
}

fn segment_paths(paths: &[String]) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for path in paths.iter().map(PathBuf::from) {
        if !path.exists() {
            return Err(format!("{} does not exist", path.display()).into());
        }
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&path)?
                .map(|entry| entry.map(|e| e.path()))
                .collect::<std::io::Result<_>>()?;
            entries.retain(|p| p.extension().is_some_and(|ext| ext == "wal"));
            entries.sort();
            found.extend(entries);
        } else {
            found.push(path);
        }
    }
    Ok(found)
}
