//! The log on a simulated disk that crashes, tears and loses unsynced writes, fails syncs,
//! fills up, flips bits and misdirects writes, over many seeds.
//!
//! One node appends batches of numbered records and reports each batch once it is durable.
//! After every restart it recovers and reports what it found. The invariant: every reported
//! record is found again, at its LSN, and the log is an exact prefix 1..=n. With bit flips and
//! misdirected writes, recovery may instead report the damage; the one loss it cannot see is
//! damage to the very last acknowledged batch, which no later record vouches for.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::Duration;

use tenfold_sim::{Config, Context, Disk, DiskError, Failure, Node, NodeId, Seeds, Sim};
use tenfold_wal::{Io, Log, Lsn, RecoveryMode, Storage, Until, recover, replay, segment_file_name};

/// Segments small enough that runs roll through several of them.
fn config() -> tenfold_wal::Config {
    tenfold_wal::Config::default()
        .segment_size(2048)
        .preallocate(false)
}

/// A node's disk seen through the log's read-only storage trait.
pub(crate) struct DiskStorage<'a>(pub(crate) &'a Disk);

impl Storage for DiskStorage<'_> {
    type Error = DiskError;

    fn segments(&self) -> Result<Vec<u64>, DiskError> {
        let names = self.0.list();
        let parse = |name: &String| name.strip_suffix(".wal")?.parse().ok();
        Ok(names.iter().filter_map(parse).collect())
    }

    fn read_segment(&self, segment: u64) -> Result<Cow<'_, [u8]>, DiskError> {
        Ok(Cow::Owned(self.0.read_all(&segment_file_name(segment))?))
    }
}

pub(crate) fn perform(disk: &mut Disk, io: &Io) -> Result<(), DiskError> {
    match io {
        Io::Create {
            segment, header, ..
        } => {
            let name = segment_file_name(*segment);
            disk.create(&name)?;
            disk.write_at(&name, 0, header)?;
            disk.sync(&name)
        }
        Io::Write {
            segment,
            offset,
            bytes,
        } => disk.write_at(&segment_file_name(*segment), *offset, bytes),
        Io::Sync { segment } => disk.sync(&segment_file_name(*segment)),
        Io::Truncate { segment, len, .. } => {
            let name = segment_file_name(*segment);
            disk.truncate(&name, *len)?;
            disk.sync(&name)
        }
        Io::Remove { segment } => disk.remove(&segment_file_name(*segment)),
    }
}

#[derive(Default)]
struct WalNode {
    log: Option<Log>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
enum Output {
    /// These (LSN, record number) pairs are durable.
    Acked(Vec<(u64, u64)>),
    /// Recovery found these records, in order.
    Recovered(Vec<(u64, u64)>),
    /// Recovery refused the log.
    Refused(String),
}

impl WalNode {
    /// Reads the log back from the media, as at start-up or after a failed flush.
    fn recover(&mut self, cx: &mut Context<'_, Self>) {
        let disk = cx.disk();
        for name in disk.list() {
            let _ = disk.reopen(&name);
        }
        let storage = DiskStorage(disk);
        let mode = RecoveryMode::TolerateTornTail;
        let found = recover(&storage, &config(), mode, None).and_then(|recovery| {
            Ok((
                recovery,
                replay(&storage, &config(), mode, Lsn::ZERO, Until::End)?,
            ))
        });
        let (recovery, records) = match found {
            Ok(found) => found,
            Err(error) => {
                cx.output(Output::Refused(error.to_string()));
                return;
            }
        };
        let numbers = records
            .iter()
            .map(|r| (r.lsn.get(), record_number(&r.payload)))
            .collect();
        cx.output(Output::Recovered(numbers));
        let seed = cx.rng().next_u64();
        let mut log = Log::resume(config(), recovery, seed);
        if let Some(flush) = log.poll_flush() {
            let disk = cx.disk();
            if flush.ops.iter().all(|io| perform(disk, io).is_ok()) {
                log.handle_flushed(flush.through);
                self.log = Some(log);
            }
        } else {
            self.log = Some(log);
        }
    }
}

fn record_number(payload: &[u8]) -> u64 {
    payload
        .get(..8)
        .and_then(|bytes| bytes.try_into().ok())
        .map_or(u64::MAX, u64::from_le_bytes)
}

impl Node for WalNode {
    type Message = ();
    type Input = Vec<u64>;
    type Output = Output;

    fn handle_start(&mut self, cx: &mut Context<'_, Self>) {
        self.recover(cx);
    }

    fn handle_message(&mut self, _cx: &mut Context<'_, Self>, _from: NodeId, _message: ()) {}

    fn handle_timer(&mut self, _cx: &mut Context<'_, Self>, _token: u64) {}

    fn handle_input(&mut self, cx: &mut Context<'_, Self>, numbers: Vec<u64>) {
        let Some(log) = self.log.as_mut() else { return };
        let now = cx.wall().as_micros() as u64;
        let mut batch = Vec::new();
        for &number in &numbers {
            // Padding makes records of several sizes, so tears land everywhere.
            let mut payload = number.to_le_bytes().to_vec();
            payload.resize(8 + (number % 97) as usize, 0xEE);
            match log.append(now, &payload) {
                Ok(lsn) => batch.push((lsn.get(), number)),
                Err(_) => return,
            }
        }
        let Some(flush) = log.poll_flush() else {
            return;
        };
        let disk = cx.disk();
        if flush.ops.iter().all(|io| perform(disk, io).is_ok()) {
            log.handle_flushed(flush.through);
            cx.output(Output::Acked(batch));
        } else {
            // A failed write or sync: what reached the media is unknown, so read it back.
            log.handle_flush_failed();
            self.log = None;
            self.recover(cx);
        }
    }
}

/// What the invariant saw over a run.
#[derive(Debug, Default)]
struct Tally {
    acked: u64,
    recoveries: u64,
    refused: u64,
    last_batch_lost: u64,
}

fn run(seed: u64, damage: bool) -> Result<Tally, Failure> {
    let mut config = Config::new(seed, 1);
    config.nodes.crash = 0.05;
    config.nodes.crash_during = 0.05;
    config.disk.sector_size = 64;
    config.disk.torn_write = 0.7;
    config.disk.zeroed_tail = 0.3;
    config.disk.sync_fail = 0.02;
    config.disk.capacity = 64 << 10;
    if damage {
        config.disk.bit_flip = 0.01;
        config.disk.misdirect = 0.01;
    }
    let mut sim = Sim::new(config, |_| WalNode::default());
    let tally = std::rc::Rc::new(std::cell::RefCell::new(Tally::default()));
    let seen = std::rc::Rc::clone(&tally);
    let mut acked: BTreeMap<u64, u64> = BTreeMap::new();
    let mut last_batch: Vec<u64> = Vec::new();
    let mut refused = false;
    sim.invariant("acknowledged records survive", move |check| {
        let mut tally = seen.borrow_mut();
        for (_, output) in check.outputs() {
            match output {
                Output::Acked(batch) => {
                    tally.acked += batch.len() as u64;
                    last_batch = batch.iter().map(|&(lsn, _)| lsn).collect();
                    acked.extend(batch.iter().copied());
                }
                Output::Refused(_) if damage => {
                    tally.refused += 1;
                    refused = true;
                }
                Output::Refused(error) => {
                    return Err(format!("recovery refused an undamaged log: {error}"));
                }
                Output::Recovered(found) if !refused => {
                    tally.recoveries += 1;
                    for (idx, &(lsn, _)) in found.iter().enumerate() {
                        if lsn != idx as u64 + 1 {
                            return Err(format!("not a prefix: position {idx} holds lsn {lsn}"));
                        }
                    }
                    let found: BTreeMap<u64, u64> = found.iter().copied().collect();
                    let lost: Vec<u64> = acked
                        .iter()
                        .filter(|&(lsn, number)| found.get(lsn) != Some(number))
                        .map(|(&lsn, _)| lsn)
                        .collect();
                    let unseen_damage = damage && lost.iter().all(|lsn| last_batch.contains(lsn));
                    if !lost.is_empty() && !unseen_damage {
                        return Err(format!("acknowledged records lost: {lost:?}"));
                    }
                    if !lost.is_empty() {
                        tally.last_batch_lost += 1;
                    }
                    // From here on, only what was recovered counts as acknowledged.
                    acked = found;
                    last_batch.clear();
                }
                Output::Recovered(_) => {}
            }
        }
        Ok(())
    });
    for batch in 0..200u64 {
        let numbers = (batch * 8..batch * 8 + 1 + batch % 8).collect();
        sim.input_at(Duration::from_millis(5 * batch), NodeId(0), numbers);
    }
    sim.run_until(Duration::from_secs(5))?;
    drop(sim);
    Ok(std::rc::Rc::try_unwrap(tally)
        .map(std::cell::RefCell::into_inner)
        .unwrap_or_default())
}

#[test]
fn crashes_tears_lost_syncs_and_full_disks_never_lose_an_acknowledged_record() {
    let seeds = Seeds::from_env(300).unwrap();
    let mut total = Tally::default();
    seeds.check(|seed| {
        let tally = run(seed, false)?;
        total.acked += tally.acked;
        total.recoveries += tally.recoveries;
        Ok(())
    });
    println!(
        "{} seeds: {} records acknowledged, {} recoveries",
        seeds.count(),
        total.acked,
        total.recoveries
    );
    assert!(total.recoveries > seeds.count(), "crashes happened");
}

#[test]
fn bit_flips_and_misdirected_writes_are_reported_not_swallowed() {
    let seeds = Seeds::from_env(300).unwrap();
    let mut total = Tally::default();
    seeds.check(|seed| {
        let tally = run(seed, true)?;
        total.acked += tally.acked;
        total.refused += tally.refused;
        total.last_batch_lost += tally.last_batch_lost;
        total.recoveries += tally.recoveries;
        Ok(())
    });
    println!(
        "{} seeds: {} acknowledged, {} recoveries, {} refused with a named damage, {} lost only the last batch",
        seeds.count(),
        total.acked,
        total.recoveries,
        total.refused,
        total.last_batch_lost
    );
    assert!(total.refused > 0, "damage was injected and reported");
}
