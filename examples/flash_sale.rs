//! A flash sale: 500,000 buyers after 10,000 units, arriving in the shape of a real burst, with
//! repeat clicks, retries, expiring holds, and a crash half-way through.
//!
//! The arrivals follow the two hours of the Higgs-boson announcement burst on Twitter
//! (`data/social/higgs-activity-per-second.txt.gz`), each second of it squeezed into 20 ms of
//! sale time and scaled up to 500,000 buyers. Every event of the ledger is journaled through
//! `tenfold-wal` into segment files (`tenfold-host`'s `WalDir`), one group commit per 50 ms
//! tick, synced before any reply of that tick reaches a buyer. Once half the stock is sold
//! the process "crashes": the ledger and everything not yet synced are dropped, and the
//! ledger is rebuilt by replaying the log. Two cores composed, as a service would.
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
use tenfold_host::wal::WalDir;
use tenfold_inventory::Event;
use tenfold_inventory::simulation::{self, Journal, SaleConfig, SaleReport};
use tenfold_wal::{Log, Lsn, RecoveryMode, Until};

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
    let shape = simulation::busiest_window(&per_second);
    let scratch = tempfile::tempdir()?;
    let mut journal = WalJournal::create(&scratch.path().join("sale-journal"))?;

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

fn print(report: &SaleReport, elapsed: Duration, journal: &WalJournal) {
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
        "  journal                     {} events in {} synced commits, {} WAL segments",
        report.events,
        report.commits,
        journal.log.segments().len()
    );
    println!(
        "  time                        {:.0} ms",
        elapsed.as_secs_f64() * 1e3
    );
}

/// The sale's journal on `tenfold-wal`: one log record per event, one group commit (a write
/// and an `fdatasync`) per call to `persist`, recovery that cuts a torn tail and refuses
/// damage anywhere else.
struct WalJournal {
    path: std::path::PathBuf,
    config: tenfold_wal::Config,
    segments: WalDir,
    log: Log,
    /// Bumped at every start, so each incarnation's new segments get their own salt.
    starts: u64,
}

impl WalJournal {
    fn create(path: &std::path::Path) -> Result<Self, JournalError> {
        let config = tenfold_wal::Config::default().segment_size(4 << 20);
        let segments = WalDir::open(path)?;
        let log = Log::new(config, 1);
        Ok(Self {
            path: path.to_owned(),
            config,
            segments,
            log,
            starts: 1,
        })
    }

    fn flush(&mut self) -> Result<(), JournalError> {
        let Some(flush) = self.log.poll_flush() else {
            return Ok(());
        };
        match self.segments.perform(&flush.ops) {
            Ok(()) => {
                self.log.handle_flushed(flush.through);
                Ok(())
            }
            Err(error) => {
                self.log.handle_flush_failed();
                Err(error.into())
            }
        }
    }
}

impl Journal for WalJournal {
    type Error = JournalError;

    fn persist(&mut self, events: &[Event]) -> Result<(), JournalError> {
        let mut bytes = Vec::new();
        for event in events {
            bytes.clear();
            event.encode(&mut bytes);
            self.log.append(event.at().as_micros() as u64, &bytes)?;
        }
        self.flush()
    }

    /// Opens the segments again as a restarted process would, and reads back every event
    /// that was made durable.
    fn recover(&mut self) -> Result<Vec<Event>, JournalError> {
        self.segments = WalDir::open(&self.path)?;
        let mode = RecoveryMode::TolerateTornTail;
        let recovery = tenfold_wal::recover(&self.segments, &self.config, mode, None)?;
        self.starts += 1;
        self.log = Log::resume(self.config, recovery, self.starts);
        // The repairs (a torn tail cut off) reach the disk before anything new is written.
        self.flush()?;
        let records =
            tenfold_wal::replay(&self.segments, &self.config, mode, Lsn::ZERO, Until::End)?;
        let mut events = Vec::with_capacity(records.len());
        for record in records {
            let (event, used) = Event::decode(&record.payload)?;
            if used != record.payload.len() {
                return Err(JournalError::Trailing(record.lsn));
            }
            events.push(event);
        }
        Ok(events)
    }
}

/// Why the journal could not be written or read back.
#[derive(Debug)]
enum JournalError {
    Host(tenfold_host::Error),
    Append(tenfold_wal::AppendError),
    Recovery(tenfold_wal::RecoveryError),
    Decode(tenfold_inventory::DecodeError),
    Trailing(Lsn),
}

impl From<tenfold_host::Error> for JournalError {
    fn from(error: tenfold_host::Error) -> Self {
        Self::Host(error)
    }
}

impl From<tenfold_wal::AppendError> for JournalError {
    fn from(error: tenfold_wal::AppendError) -> Self {
        Self::Append(error)
    }
}

impl From<tenfold_wal::RecoveryError> for JournalError {
    fn from(error: tenfold_wal::RecoveryError) -> Self {
        Self::Recovery(error)
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
            Self::Append(error) => write!(f, "{error}"),
            Self::Recovery(error) => write!(f, "{error}"),
            Self::Decode(error) => write!(f, "{error}"),
            Self::Trailing(lsn) => write!(f, "record {lsn} holds bytes after its event"),
        }
    }
}

impl std::error::Error for JournalError {}
