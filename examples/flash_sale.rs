//! A flash sale: 500,000 buyers after 10,000 units, arriving in the shape of a real burst, with
//! repeat clicks, retries, expiring holds, and a crash half-way through.
//!
//! The arrivals follow the two hours of the Higgs-boson announcement burst on Twitter
//! (`data/social/higgs-activity-per-second.txt.gz`), each second of it squeezed into 20 ms of
//! sale time and scaled up to 500,000 buyers. Every event of the ledger is journaled to a
//! file through `tenfold-host`, one length- and CRC-framed batch per 50 ms tick, synced
//! before any reply of that tick reaches a buyer. Once half the stock is sold the process
//! "crashes": the ledger and everything not yet synced are dropped, and the ledger is rebuilt
//! by replaying the file.
//!
//! ```text
//! cargo run --release --example flash_sale
//! ```

#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::print_stdout
)]

use std::fmt;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tenfold_examples::data;
use tenfold_host::{Dir, File};
use tenfold_inventory::Event;
use tenfold_inventory::simulation::{self, Journal, SaleConfig, SaleReport};

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            println!("flash sale failed: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let per_second = data::higgs_arrivals_per_second()?;
    let shape = burst_window(&per_second);
    let scratch = tempfile::tempdir()?;
    let mut journal = FileJournal::create(&Dir::open(scratch.path())?, "sale.journal")?;

    let config = SaleConfig::new(500_000, 10_000);
    let started = Instant::now();
    let report = simulation::run(config, shape, &mut journal)?;
    let elapsed = started.elapsed();
    print(&report, elapsed, &journal);

    let holds = report.sold == report.units
        && report.oversold == 0
        && report.unsold_while_demand == 0
        && report.lost_confirmations == 0
        && report.double_charges == 0
        && report.admitted_refused == 0
        && report.crashes == 1;
    println!(
        "{}",
        if holds {
            "all checks passed"
        } else {
            "CHECKS FAILED"
        }
    );
    Ok(holds)
}

/// The two hours around the busiest minute: from 20 minutes before it to 100 minutes after.
fn burst_window(per_second: &[u32]) -> &[u32] {
    let minute_sums = per_second
        .chunks(60)
        .map(|minute| minute.iter().sum::<u32>());
    let busiest = minute_sums
        .enumerate()
        .max_by_key(|&(_, sum)| sum)
        .map_or(0, |(i, _)| i);
    let start = (busiest * 60).saturating_sub(20 * 60);
    &per_second[start..(start + 120 * 60).min(per_second.len())]
}

fn print(report: &SaleReport, elapsed: Duration, journal: &FileJournal) {
    println!(
        "flash sale: {} buyers after {} units",
        report.buyers, report.units
    );
    println!("  sold                        {}", report.sold);
    println!("  oversold                    {}", report.oversold);
    println!(
        "  unsold while demand remained {}",
        report.unsold_while_demand
    );
    println!("  buyers told confirmed       {}", report.buyers_confirmed);
    println!(
        "  confirmations lost in crash {}",
        report.lost_confirmations
    );
    println!("  double charges              {}", report.double_charges);
    println!("  admitted but refused        {}", report.admitted_refused);
    println!("  tickets issued              {}", report.tickets);
    println!("  turned away (sold out)      {}", report.turned_away);
    println!("  throttled clicks            {}", report.throttled);
    println!("  repeat clicks and retries   {}", report.repeat_clicks);
    println!(
        "  holds expired / released    {} / {}",
        report.expired, report.released
    );
    println!(
        "  queue wait p50 / p99 / max  {:.2} s / {:.2} s / {:.2} s",
        report.wait_p50.as_secs_f64(),
        report.wait_p99.as_secs_f64(),
        report.wait_max.as_secs_f64()
    );
    println!(
        "  last unit sold at           {:.1} s of sale time",
        report.sold_out_at.as_secs_f64()
    );
    println!(
        "  crash and recovery          {} crash, {} events replayed",
        report.crashes, report.replayed
    );
    println!(
        "  journal                     {} events in {} synced commits, {} KiB",
        report.events,
        report.commits,
        journal.file.len() / 1024
    );
    println!(
        "  time                        {:.0} ms",
        elapsed.as_secs_f64() * 1e3
    );
}

/// A journal file of frames, one per group commit: payload length (`u32`), CRC-32 of the
/// payload (`u32`), then the encoded events, all little-endian.
///
/// FIXME(#5): journal through tenfold-wal once it exists.
struct FileJournal {
    dir: Dir,
    name: String,
    file: File,
    frame: Vec<u8>,
}

impl FileJournal {
    fn create(dir: &Dir, name: &str) -> Result<Self, tenfold_host::Error> {
        let file = dir.create(name)?;
        let dir = Dir::open(dir.path())?;
        Ok(Self {
            dir,
            name: name.to_owned(),
            file,
            frame: Vec::new(),
        })
    }
}

impl Journal for FileJournal {
    type Error = JournalError;

    fn persist(&mut self, events: &[Event]) -> Result<(), JournalError> {
        self.frame.clear();
        self.frame.extend_from_slice(&[0; 8]);
        for event in events {
            event.encode(&mut self.frame);
        }
        let payload_len =
            u32::try_from(self.frame.len() - 8).map_err(|_| JournalError::TooLarge)?;
        let crc = crc32fast::hash(&self.frame[8..]);
        self.frame[..4].copy_from_slice(&payload_len.to_le_bytes());
        self.frame[4..8].copy_from_slice(&crc.to_le_bytes());
        self.file.append(&self.frame)?;
        self.file.sync_data()?;
        Ok(())
    }

    /// Reopens the file as a restarted process would and decodes every whole frame. A frame
    /// cut short at the end was never acknowledged, so it is dropped; damage anywhere else is
    /// an error.
    fn recover(&mut self) -> Result<Vec<Event>, JournalError> {
        self.file = self.dir.open_file(&self.name)?;
        let mut bytes =
            vec![0; usize::try_from(self.file.len()).map_err(|_| JournalError::TooLarge)?];
        self.file.read_exact_at(0, &mut bytes)?;
        let mut events = Vec::new();
        let mut rest = &bytes[..];
        while rest.len() >= 8 {
            let payload_len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
            let Some(payload) = rest.get(8..8 + payload_len) else {
                break;
            };
            let at_end = rest.len() == 8 + payload_len;
            if crc32fast::hash(payload) != crc {
                match at_end {
                    true => break,
                    false => return Err(JournalError::Corrupt(bytes.len() - rest.len())),
                }
            }
            let mut payload = payload;
            while !payload.is_empty() {
                let (event, used) = Event::decode(payload)?;
                events.push(event);
                payload = &payload[used..];
            }
            rest = &rest[8 + payload_len..];
        }
        Ok(events)
    }
}

/// Why the journal file could not be written or read back.
#[derive(Debug)]
enum JournalError {
    Host(tenfold_host::Error),
    Decode(tenfold_inventory::DecodeError),
    Corrupt(usize),
    TooLarge,
}

impl From<tenfold_host::Error> for JournalError {
    fn from(error: tenfold_host::Error) -> Self {
        Self::Host(error)
    }
}

impl From<tenfold_inventory::DecodeError> for JournalError {
    fn from(error: tenfold_inventory::DecodeError) -> Self {
        Self::Decode(error)
    }
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Host(error) => write!(f, "{error}"),
            Self::Decode(error) => write!(f, "{error}"),
            Self::Corrupt(offset) => write!(f, "frame at byte {offset} fails its checksum"),
            Self::TooLarge => f.write_str("frame or file too large"),
        }
    }
}

impl std::error::Error for JournalError {}
