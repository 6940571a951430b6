//! A real process appending to a WAL is killed with SIGKILL at random moments; every record
//! it reported durable must be there after restart.
//!
//! The test re-runs its own binary as the writer: with `TENFOLD_WAL_KILL_DIR` set, the same
//! test function becomes the child, appends through [`SharedWal`] from four threads and
//! prints each LSN once it is durable.

#![allow(clippy::disallowed_methods, clippy::print_stdout)] // Real processes, clocks and sleeps.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tenfold_host::wal::{SharedWal, WalDir};
use tenfold_wal::{Config, Log, Lsn, RecoveryMode, Until, recover, replay};

const CHILD_DIR: &str = "TENFOLD_WAL_KILL_DIR";
const TEST_NAME: &str = "kill::sigkill_never_loses_an_acknowledged_record";

#[test]
fn sigkill_never_loses_an_acknowledged_record() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        write_until_killed(&dir);
        return;
    }
    let n_kills: u64 = std::env::var("WAL_KILLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(6);
    let seed: u64 = std::env::var("WAL_KILL_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    println!("sigkill test: seed {seed}, {n_kills} kills (WAL_KILL_SEED, WAL_KILLS to change)");
    let scratch = tempfile::tempdir().unwrap();
    let mut state = seed;
    let mut acknowledged: Vec<(u64, String)> = Vec::new();
    for round in 0..n_kills {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let run_for = Duration::from_millis((state >> 33) % 100);
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD_DIR, scratch.path())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, lines_rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let parsed = line.strip_prefix("durable ").and_then(|rest| {
                    let (lsn, tag) = rest.split_once(' ')?;
                    Some((lsn.parse::<u64>().ok()?, tag.to_owned()))
                });
                if lines_tx.send(parsed).is_err() {
                    break;
                }
            }
        });
        // Kill at a random moment once the writer is writing, not while it starts up.
        let first = lines_rx.recv_timeout(Duration::from_secs(60));
        let first = first.unwrap_or_else(|_| panic!("seed {seed} round {round}: no output"));
        std::thread::sleep(run_for);
        child.kill().unwrap(); // SIGKILL on Unix.
        child.wait().unwrap();
        reader.join().unwrap();
        let reported: Vec<(u64, String)> = std::iter::once(first)
            .chain(lines_rx.try_iter())
            .flatten()
            .collect();
        acknowledged.extend(reported);

        let dir = WalDir::open(scratch.path()).unwrap();
        let config = child_config();
        let records = replay(
            &dir,
            &config,
            RecoveryMode::default(),
            Lsn::ZERO,
            Until::End,
        )
        .unwrap_or_else(|e| panic!("seed {seed} round {round}: recovery failed: {e}"));
        for (lsn, tag) in &acknowledged {
            let record = records.get(*lsn as usize - 1);
            assert_eq!(
                record.map(|r| (r.lsn, r.payload.as_slice())),
                Some((Lsn::new(*lsn), tag.as_bytes())),
                "seed {seed} round {round}: acknowledged record {lsn} is missing or wrong"
            );
        }
    }
    assert!(
        !acknowledged.is_empty(),
        "seed {seed}: no record was ever acknowledged"
    );
    println!(
        "{} acknowledged records all recovered after {n_kills} kills",
        acknowledged.len()
    );
}

fn child_config() -> Config {
    Config::default().segment_size(64 << 10)
}

/// The child: recover what the killed runs left, then append from four threads forever.
fn write_until_killed(dir: &str) {
    let config = child_config();
    let mut segments = WalDir::open(dir).unwrap();
    let recovery = recover(&segments, &config, RecoveryMode::default(), None).unwrap();
    let mut log = Log::resume(config, recovery, u64::from(std::process::id()));
    // The repairs (a torn tail cut off) go to disk before anything new.
    if let Some(flush) = log.poll_flush() {
        segments.perform(&flush.ops).unwrap();
        log.handle_flushed(flush.through);
    }
    let wal = Arc::new(SharedWal::new(log, segments));
    let run = std::process::id();
    let writers: Vec<_> = (0..4)
        .map(|thread| {
            let wal = Arc::clone(&wal);
            std::thread::spawn(move || {
                for n in 0.. {
                    // A tag no other record has, so a record in the wrong place shows.
                    let tag = format!("p{run}-t{thread}-n{n}");
                    let lsn = wal.append(n, tag.as_bytes()).unwrap();
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "durable {lsn} {tag}").unwrap();
                    out.flush().unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        let _ = writer.join();
    }
}
