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
use tenfold_host::wal::WalDir;
use tenfold_host::{Clock, Dir, SystemClock};
use tenfold_wal::{Io, Log, Lsn, RecoveryMode, Until};

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
    report.section("wal", "CollegeMsg as 16-byte records", |s| {
        wal(s, &messages)
    });
    report.section("ids", "CollegeMsg, one id per message", |s| {
        ids(s, &messages)
    });
    report.section("sim", "CollegeMsg as register writes", |s| {
        sim(s, &messages);
    });
    report.section(
        "inventory",
        "Higgs burst, 500k buyers, 10k units",
        inventory,
    );

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

/// Journals every message through `tenfold-wal` into real segment files, tears the last
/// group commit half way as a crash would, recovers, and replays to a point in time.
fn wal(s: &mut Section, messages: &[data::Message]) {
    const BATCH: usize = 1024;
    let config = tenfold_wal::Config::default().segment_size(256 << 10);
    let Some(scratch) = s.ok("temporary directory", tempfile::tempdir()) else {
        return;
    };
    let Some(mut dir) = s.ok("open segments", WalDir::open(scratch.path())) else {
        return;
    };
    let mut log = Log::new(config, 0x7e4f01d);
    let record = |m: &data::Message| {
        let mut bytes = [0; 16];
        bytes[..4].copy_from_slice(&m.from.to_le_bytes());
        bytes[4..8].copy_from_slice(&m.to.to_le_bytes());
        bytes[8..].copy_from_slice(&m.unix_seconds.to_le_bytes());
        bytes
    };

    // Every batch but the last is written and synced: those records are acknowledged.
    let (acked, last_batch) = messages.split_at(messages.len() - messages.len() % BATCH);
    for batch in acked.chunks(BATCH) {
        for message in batch {
            let appended = log.append(message.unix_seconds * 1_000_000, &record(message));
            s.ok("append", appended);
        }
        let Some(flush) = log.poll_flush() else {
            return;
        };
        if s.ok("flush", dir.perform(&flush.ops)).is_none() {
            return;
        }
        log.handle_flushed(flush.through);
    }
    let durable = log.durable_lsn();

    // The crash: the last group commit reaches the disk only half written, and unsynced.
    for message in last_batch {
        s.ok(
            "append",
            log.append(message.unix_seconds * 1_000_000, &record(message)),
        );
    }
    let Some(flush) = log.poll_flush() else {
        return;
    };
    for io in &flush.ops {
        let torn = match io {
            Io::Write {
                segment,
                offset,
                bytes,
            } => {
                let half = bytes[..bytes.len() / 2].to_vec();
                Io::Write {
                    segment: *segment,
                    offset: *offset,
                    bytes: half,
                }
            }
            Io::Sync { .. } => break,
            io => io.clone(),
        };
        s.ok("torn write", dir.perform(&[torn]));
    }
    drop(log);

    // Restart: recover, cut the torn tail, and check every acknowledged record is back.
    let mode = RecoveryMode::TolerateTornTail;
    let Some(recovery) = s.ok(
        "recover",
        tenfold_wal::recover(&dir, &config, mode, Some(durable)),
    ) else {
        return;
    };
    let torn = recovery.torn_tail();
    let n_segments = recovery.segments().len();
    let log = Log::resume(config, recovery, 0x7e4f01e);
    let all = tenfold_wal::replay(&dir, &config, mode, Lsn::ZERO, Until::End);
    let Some(all) = s.ok("replay", all) else {
        return;
    };
    let intact = all.iter().zip(acked).all(|(r, m)| r.payload == record(m));

    // Point in time: the log as it stood at the median message's second.
    let cutoff = acked[acked.len() / 2].unix_seconds;
    let until = Until::Timestamp(cutoff * 1_000_000);
    let Some(upto) = s.ok(
        "replay",
        tenfold_wal::replay(&dir, &config, mode, Lsn::ZERO, until),
    ) else {
        return;
    };
    let n_upto = acked.iter().filter(|m| m.unix_seconds <= cutoff).count();

    s.figure(format!(
        "{} acknowledged in {n_segments} segments",
        all.len()
    ));
    s.figure(format!("crash tore {} unacknowledged", last_batch.len()));
    s.figure(format!("replayed to {}: {} records", cutoff, upto.len()));
    s.check(all.len() == acked.len() && intact, || {
        format!(
            "{} records recovered, {} acknowledged",
            all.len(),
            acked.len()
        )
    });
    s.check(torn.is_some(), || "the torn tail was not reported".into());
    s.check(log.next_lsn() == Lsn::new(acked.len() as u64 + 1), || {
        "resumes at the wrong lsn".into()
    });
    s.check(upto.len() == n_upto, || {
        format!("{} records up to {cutoff}, expected {n_upto}", upto.len())
    });
}

/// Mints one 64-bit ID for each message on 16 nodes (the sender's number picks the node),
/// with the message's time as the wall clock; then checks zero duplicates, strict order on
/// each node, and that every ID decodes back to its message's time and node.
fn ids(s: &mut Section, messages: &[data::Message]) {
    use tenfold_ids::{
        Generator, HighWater, Layout, LayoutBuilder, Lease, Mint, Policy, Timestamp,
    };

    const N_NODES: u64 = 16;
    // Twitter's widths with an epoch of 2000-01-01, since the messages are from 2004.
    let builder: LayoutBuilder = Layout::builder().node_split(5);
    let epoch = Timestamp::from_unix_ms(946_684_800_000);
    let Some(layout) = s.ok("layout", builder.epoch(epoch).build()) else {
        return;
    };
    let mut generators = Vec::new();
    for node in 0..N_NODES {
        // The messages are sparse (59,835 over 193 days), so reserve an hour at a time.
        let builder = Generator::builder(layout)
            .policy(Policy::refuse())
            .reserve_ahead(std::time::Duration::from_secs(3600));
        let Some(generator) = s.ok(
            "start",
            builder.start(Lease::forever(node), HighWater::ZERO),
        ) else {
            return;
        };
        generators.push(generator);
    }

    let mut minted = Vec::with_capacity(messages.len());
    let mut n_reservations = 0;
    for message in messages {
        let node = u64::from(message.from) % N_NODES;
        let generator = &mut generators[node as usize];
        let now = Timestamp::from_unix_ms(message.unix_seconds * 1000);
        let id = loop {
            match generator.mint(now) {
                Ok(Mint::Id(id)) => break Some(id),
                Ok(Mint::Reserve(reservation)) => {
                    // A service would write the mark durably here before acknowledging.
                    n_reservations += 1;
                    let _ = generator.acknowledge(reservation);
                }
                Ok(Mint::RetryAt(_)) | Err(_) => break None,
            }
        };
        let Some(id) = id else {
            s.check(false, || format!("no id for the message at {now}"));
            return;
        };
        minted.push((node, id, now));
    }

    let mut sorted: Vec<u64> = minted.iter().map(|(_, id, _)| id.to_u64()).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let duplicates = minted.len() - sorted.len();
    let mut last_on_node = vec![None; N_NODES as usize];
    let mut n_out_of_order = 0;
    let mut n_wrong_decode = 0;
    for &(node, id, now) in &minted {
        if last_on_node[node as usize].is_some_and(|last| last >= id) {
            n_out_of_order += 1;
        }
        last_on_node[node as usize] = Some(id);
        let decoded = layout
            .decompose(id)
            .map(|parts| (parts.timestamp, parts.node));
        n_wrong_decode += usize::from(decoded != Ok((now, node)));
    }
    s.figure(format!("{} ids on {N_NODES} nodes", minted.len()));
    s.figure(format!("{duplicates} duplicates"));
    s.figure(format!("{n_reservations} reservations"));
    s.figure(format!(
        "first {}",
        minted.first().map_or(0, |(_, id, _)| id.to_u64())
    ));
    s.check(minted.len() == messages.len(), || {
        format!("{} ids", minted.len())
    });
    s.check(duplicates == 0, || format!("{duplicates} duplicate ids"));
    s.check(n_out_of_order == 0, || {
        format!("{n_out_of_order} ids out of order on a node")
    });
    s.check(n_wrong_decode == 0, || {
        format!("{n_wrong_decode} ids decode to another time")
    });
}

/// Runs the replicated register of `tenfold-sim` under swarm faults, one seed per slice of
/// 300 messages: each message is a write at its sender's replica and a read 2 ms later at its
/// recipient's, one real second becoming 100 µs. The correct register must lose no
/// acknowledged write on any seed; the naive one, which acknowledges before a quorum has the
/// write, must be caught, and its first failing seed must replay identically.
fn sim(s: &mut Section, messages: &[data::Message]) {
    use std::time::Duration;

    use tenfold_sim::NodeId;
    use tenfold_sim::register::{Mode, Workload};

    const SLICE: usize = 300;
    let workloads: Vec<Workload> = messages
        .chunks(SLICE)
        .map(|slice| {
            let start = slice[0].unix_seconds;
            let mut workload = Workload::new();
            for message in slice {
                let at = Duration::from_micros(100 * (message.unix_seconds - start));
                let value = u64::from(message.from) << 32 | u64::from(message.to);
                workload.write(at, NodeId(message.from % 3), value);
                workload.read(at + Duration::from_millis(2), NodeId(message.to % 3));
            }
            workload
        })
        .collect();
    let run = |seed: usize, mode| workloads[seed].run(Workload::config(seed as u64, 3), mode);

    let (mut n_acked, mut n_events, mut n_faults, mut n_lost) = (0, 0, 0, 0);
    for seed in 0..workloads.len() {
        match run(seed, Mode::Quorum) {
            Ok(outcome) => {
                let (stats, disk) = (outcome.stats, outcome.disk);
                n_acked += outcome.acked;
                n_events += stats.events;
                n_faults += stats.crashes + stats.pauses + stats.clock_steps + stats.partitions;
                n_faults += stats.lost + stats.duplicated + stats.reordered;
                n_faults += disk.lost_ops + disk.torn_writes + disk.sync_failures;
            }
            Err(failure) => {
                n_lost += 1;
                s.check(false, || format!("the correct register failed: {failure}"));
            }
        }
    }
    let naive: Vec<_> = (0..workloads.len())
        .filter_map(|seed| run(seed, Mode::Naive).err())
        .collect();

    s.figure(format!("{} seeds", workloads.len()));
    s.figure(format!("{n_events} events"));
    s.figure(format!("{n_faults} faults"));
    s.figure(format!("{n_acked} of {} writes acked", messages.len()));
    s.figure(format!("{n_lost} lost"));
    s.figure(format!("naive caught on {} seeds", naive.len()));
    s.check(n_lost == 0, || {
        format!("{n_lost} seeds lost acknowledged writes")
    });
    // Crashes, partitions and pauses leave some writes unacknowledged; never most of them.
    s.check(n_acked > messages.len() as u64 / 4, || {
        format!("only {n_acked} writes acknowledged")
    });
    match naive.first() {
        Some(first) => {
            s.figure(format!("first at seed {}", first.seed()));
            let again = run(first.seed() as usize, Mode::Naive).err();
            s.check(again.as_ref() == Some(first), || {
                "the naive failure did not replay".into()
            });
        }
        None => s.check(false, || "the naive register was never caught".into()),
    }
}

/// A flash sale on the two hours of the Higgs-announcement burst, scaled to 500,000 buyers
/// after 10,000 units, with repeat clicks, expiring holds and a crash half-way. The journal
/// is kept as encoded bytes, and recovery decodes and replays them. (The `flash_sale` example
/// writes the same journal to a synced file.)
fn inventory(s: &mut Section) {
    use tenfold_inventory::simulation::{self, Journal, SaleConfig};
    use tenfold_inventory::{DecodeError, Event};

    struct Bytes(Vec<u8>);
    impl Journal for Bytes {
        type Error = DecodeError;
        fn persist(&mut self, events: &[Event]) -> Result<(), DecodeError> {
            events.iter().for_each(|event| event.encode(&mut self.0));
            Ok(())
        }
        fn recover(&mut self) -> Result<Vec<Event>, DecodeError> {
            let (mut events, mut rest) = (Vec::new(), &self.0[..]);
            while !rest.is_empty() {
                let (event, used) = Event::decode(rest)?;
                events.push(event);
                rest = &rest[used..];
            }
            Ok(events)
        }
    }

    let Some(per_second) = s.ok("load arrivals", data::higgs_arrivals_per_second()) else {
        return;
    };
    let shape = simulation::busiest_window(&per_second);
    let config = SaleConfig::new(500_000, 10_000);
    let mut journal = Bytes(Vec::new());
    let Some(report) = s.ok("flash sale", simulation::run(config, shape, &mut journal)) else {
        return;
    };

    s.figure(format!("{} sold", report.sold));
    s.figure(format!("{} oversold", report.oversold));
    s.figure(format!(
        "{} unsold while demand remained",
        report.unsold_while_demand
    ));
    s.figure(format!(
        "queue wait p50 {:.1} s, p99 {:.1} s",
        report.wait_p50.as_secs_f64(),
        report.wait_p99.as_secs_f64()
    ));
    s.figure(format!(
        "{} events replayed after the crash",
        report.replayed
    ));
    s.check(report.sold == 10_000, || format!("{} sold", report.sold));
    s.check(report.oversold == 0, || {
        format!("{} oversold", report.oversold)
    });
    s.check(report.unsold_while_demand == 0, || {
        format!(
            "{} unsold while demand remained",
            report.unsold_while_demand
        )
    });
    s.check(
        report.crashes == 1 && report.lost_confirmations == 0,
        || {
            format!(
                "{} confirmations lost in {} crash(es)",
                report.lost_confirmations, report.crashes
            )
        },
    );
    s.check(
        report.buyers_confirmed == report.sold && report.double_charges == 0,
        || {
            format!(
                "{} confirmed buyers, {} double charges",
                report.buyers_confirmed, report.double_charges
            )
        },
    );
}
