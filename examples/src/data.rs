//! Loaders for the real data sets shipped in `data/` (see `data/SOURCES.md`).

use std::fmt;
use std::io::{self, BufRead, BufReader};
use std::path::PathBuf;

use flate2::read::GzDecoder;

/// The repository's `data/` folder.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data")
}

/// One message of the CollegeMsg data set: `from` wrote to `to` at `unix_seconds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message {
    /// The sender's user number.
    pub from: u32,
    /// The recipient's user number.
    pub to: u32,
    /// When it was sent, in seconds since the Unix epoch.
    pub unix_seconds: u64,
}

/// A line of a data file that could not be read.
#[derive(Debug)]
pub struct DataError {
    file: &'static str,
    line: usize,
    reason: String,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "data/{} line {}: {}", self.file, self.line, self.reason)
    }
}

impl std::error::Error for DataError {}

/// The 59,835 timed messages of the CollegeMsg network, in file order (sorted by time).
///
/// # Errors
///
/// A [`DataError`] naming the line if the file is missing or a line is malformed.
pub fn college_messages() -> Result<Vec<Message>, DataError> {
    const FILE: &str = "social/CollegeMsg.txt.gz";
    let error = |line, reason: String| DataError {
        file: FILE,
        line,
        reason,
    };
    let file = std::fs::File::open(dir().join(FILE)).map_err(|e| error(0, e.to_string()))?;
    let mut messages = Vec::new();
    for (line_idx, line) in BufReader::new(GzDecoder::new(file)).lines().enumerate() {
        let line = line.map_err(|e: io::Error| error(line_idx + 1, e.to_string()))?;
        let mut fields = line.split_ascii_whitespace().map(str::parse::<u64>);
        let (Some(Ok(from)), Some(Ok(to)), Some(Ok(unix_seconds)), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(error(
                line_idx + 1,
                format!("expected `from to unix_seconds`: {line:?}"),
            ));
        };
        let user = |n: u64| u32::try_from(n).map_err(|_| error(line_idx + 1, "user number".into()));
        messages.push(Message {
            from: user(from)?,
            to: user(to)?,
            unix_seconds,
        });
    }
    Ok(messages)
}

/// Twitter interactions about the Higgs boson in each second of 1-7 July 2012: 604,622 counts,
/// the first for unix second 1,341,100,972. The arrival shape of the flash-sale example.
///
/// # Errors
///
/// A [`DataError`] naming the line if the file is missing or a line is not a count.
pub fn higgs_arrivals_per_second() -> Result<Vec<u32>, DataError> {
    const FILE: &str = "social/higgs-activity-per-second.txt.gz";
    let error = |line, reason: String| DataError {
        file: FILE,
        line,
        reason,
    };
    let file = std::fs::File::open(dir().join(FILE)).map_err(|e| error(0, e.to_string()))?;
    let mut counts = Vec::with_capacity(604_622);
    for (line_idx, line) in BufReader::new(GzDecoder::new(file)).lines().enumerate() {
        let line = line.map_err(|e: io::Error| error(line_idx + 1, e.to_string()))?;
        if line.starts_with('#') {
            continue;
        }
        let count = line
            .parse()
            .map_err(|_| error(line_idx + 1, format!("expected a count: {line:?}")))?;
        counts.push(count);
    }
    Ok(counts)
}
