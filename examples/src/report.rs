//! The tour's report: one line per core, and a failed check turns into a non-zero exit.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// The lines of the tour, collected as each section runs.
#[derive(Debug, Default)]
pub struct Report {
    n_failed: usize,
}

/// What one section found: the figures it prints, and the checks that did not hold.
#[derive(Debug, Default)]
pub struct Section {
    figures: String,
    failures: Vec<String>,
}

impl Report {
    /// Runs `body` as the section `name` on `input`, times it, and prints its line.
    pub fn section(&mut self, name: &str, input: &str, body: impl FnOnce(&mut Section)) {
        let started = Instant::now();
        let mut section = Section::default();
        body(&mut section);
        let elapsed = started.elapsed();
        let status = if section.failures.is_empty() {
            "ok  "
        } else {
            "FAIL"
        };
        println!(
            "{status} {name:<10} {input:<36} {}  [{}]",
            section.figures,
            millis(elapsed)
        );
        for failure in &section.failures {
            println!("     ! {failure}");
        }
        self.n_failed += section.failures.len();
    }

    /// How many checks failed over the whole tour.
    pub fn n_failed(&self) -> usize {
        self.n_failed
    }
}

impl Section {
    /// Adds a figure to the section's line, such as `"59835 records"`.
    pub fn figure(&mut self, figure: impl AsRef<str>) {
        if !self.figures.is_empty() {
            self.figures.push_str(", ");
        }
        self.figures.push_str(figure.as_ref());
    }

    /// Records a failed check unless `holds`.
    pub fn check(&mut self, holds: bool, what: impl FnOnce() -> String) {
        if !holds {
            self.failures.push(what());
        }
    }

    /// Records a failed check for an error, and passes a value through.
    pub fn ok<T, E: std::fmt::Display>(&mut self, what: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.failures.push(format!("{what}: {error}"));
                None
            }
        }
    }
}

/// A duration as milliseconds with one decimal, e.g. `12.3 ms`.
pub fn millis(duration: Duration) -> String {
    let mut out = String::new();
    let _ = write!(out, "{:.1} ms", duration.as_secs_f64() * 1e3);
    out
}
