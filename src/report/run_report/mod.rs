//! The run report: one row per migration in state (with the last run of each of its hook phases), rendered as a terminal table, versioned JSON, JUnit XML or GitHub Markdown.
//!
//! The renderers are pure (`rows -> String`) so that `ferry report` and the end of `ferry run`
//! share them; [`write_report`] puts the text on stdout or in a file. A run that never started
//! has its own report ([`refused`]): why, in the same formats.

mod hooks;
mod json;
mod junit;
mod markdown;
pub mod refused;
mod table;
pub(crate) mod waves;

use std::io::Write;
use std::path::Path;

use jiff::{SignedDuration, Timestamp};

use crate::options::ReportFormat;
use crate::state::{ClaimRecord, HookRunRecord, MigrationRecord, MigrationState};

pub(crate) use hooks::outcome_words;
pub use json::REPORT_VERSION;
pub use waves::{WaveRow, render_with_waves};

/// One migration as reported.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationRow {
    pub name: String,
    pub source: String,
    pub target: String,
    pub cloud: String,
    pub mounts: Vec<String>,
    pub state: MigrationState,
    pub attempts: u32,
    /// Files and bytes verified on the target by the last attempt (copied or already there).
    pub files: u64,
    pub bytes: u64,
    /// Of those, the ones skipped because they were already copied and unchanged.
    pub skipped_files: u64,
    pub skipped_bytes: u64,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub error: Option<String>,
    pub error_retryable: Option<bool>,
    /// Files deleted from the source while the last attempt copied (not copied; target paths).
    pub vanished: Vec<String>,
    /// The runner of its last claim (`user@host:pid`), when known.
    pub runner: Option<String>,
    /// The runner that holds it now, while one does.
    pub held_by: Option<String>,
    /// The last run of each hook phase (see [`MigrationRow::with_hooks`]).
    pub hooks: Vec<HookRunRecord>,
}

impl MigrationRow {
    pub fn from_record(record: &MigrationRecord) -> MigrationRow {
        MigrationRow {
            name: record.name.clone(),
            source: record.source.clone(),
            target: record.target.clone(),
            cloud: record.cloud.as_str().to_string(),
            mounts: record.mounts.clone(),
            state: record.state,
            attempts: record.attempts,
            files: record.stats.files,
            bytes: record.stats.bytes,
            skipped_files: record.stats.skipped_files,
            skipped_bytes: record.stats.skipped_bytes,
            started_at: record.started_at,
            finished_at: record.finished_at,
            error: record.last_error.clone(),
            error_retryable: record.error_retryable,
            vanished: record.vanished.clone(),
            runner: None,
            held_by: None,
            hooks: Vec::new(),
        }
    }

    /// Adds who ran the migration and who holds it now, from its claims (oldest first).
    pub fn with_claims(mut self, claims: &[ClaimRecord]) -> MigrationRow {
        if let Some(last) = claims.last() {
            self.runner = Some(last.runner.clone());
            if last.ended_at.is_none() {
                self.held_by = Some(last.runner.clone());
            }
        }
        self
    }

    /// The row with its hook runs: the report keeps the last of each phase.
    pub fn with_hooks(mut self, runs: &[HookRunRecord]) -> MigrationRow {
        self.hooks = hooks::last_per_phase(runs);
        self
    }

    /// From start to finish of the last attempt; `None` while running or never started.
    pub fn duration(&self) -> Option<SignedDuration> {
        match (self.started_at, self.finished_at) {
            (Some(started), Some(finished)) if finished >= started => {
                Some(finished.duration_since(started))
            }
            _ => None,
        }
    }

    /// Bytes actually transferred (verified minus skipped) per second of the last attempt.
    pub fn throughput(&self) -> Option<f64> {
        let seconds = self.duration()?.as_secs_f64();
        (seconds > 0.0).then(|| self.bytes.saturating_sub(self.skipped_bytes) as f64 / seconds)
    }
}

/// Whether the report names runners: when more than one ran these migrations (a fleet), or one
/// holds a migration now. A plan run by one process at a time says nothing more.
pub fn names_runners(rows: &[MigrationRow]) -> bool {
    let mut runners = rows.iter().filter_map(|row| row.runner.as_deref());
    let first = runners.next();
    rows.iter().any(|row| row.held_by.is_some()) || runners.any(|runner| Some(runner) != first)
}

/// The rows of every recorded migration, in the order they were first recorded.
pub fn rows(records: &[MigrationRecord]) -> Vec<MigrationRow> {
    records.iter().map(MigrationRow::from_record).collect()
}

/// Rows with hooks, for the line that heads the hook sections of the table and Markdown.
pub(crate) fn rows_with_hooks(rows: &[MigrationRow]) -> impl Iterator<Item = &MigrationRow> {
    rows.iter().filter(|row| !row.hooks.is_empty())
}

/// Renders the report in `format`.
pub fn render(rows: &[MigrationRow], format: ReportFormat) -> String {
    match format {
        ReportFormat::Table => table::render(rows),
        ReportFormat::Json => json::render(rows),
        ReportFormat::Junit => junit::render(rows),
        ReportFormat::Markdown => markdown::render(rows),
    }
}

/// Writes a rendered report to `output`, or to stdout.
pub fn write_report(text: &str, output: Option<&Path>) -> std::io::Result<()> {
    match output {
        Some(path) => std::fs::write(path, text),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()
        }
    }
}

/// How many files deleted from the source the table, Markdown and JUnit reports name per
/// migration; the JSON report lists them all.
const NAMED_VANISHED: usize = 10;

/// What the report says of a file deleted from the source during the run.
pub(crate) const VANISHED_HEADING: &str = "Deleted from the source during the run (not copied)";

/// The first `NAMED_VANISHED` of a row's vanished files, and how many more there are.
pub(crate) fn named_vanished(row: &MigrationRow) -> (&[String], usize) {
    let named = &row.vanished[..row.vanished.len().min(NAMED_VANISHED)];
    (named, row.vanished.len() - named.len())
}

/// How many migrations are in each state, in [`MigrationState::ALL`] order.
pub(crate) fn counts(rows: &[MigrationRow]) -> [(MigrationState, usize); 4] {
    MigrationState::ALL.map(|state| (state, rows.iter().filter(|row| row.state == state).count()))
}

/// `1.5 GiB`.
pub(crate) fn human_bytes(bytes: u64) -> String {
    bytesize::ByteSize(bytes).display().iec().to_string()
}

/// `1h 02m 03s`, `4m 05s`, `6.2s`.
pub(crate) fn human_duration(duration: SignedDuration) -> String {
    let total = duration.as_secs();
    let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
    if hours > 0 {
        format!("{hours}h {minutes:02}m {seconds:02}s")
    } else if minutes > 0 {
        format!("{minutes}m {seconds:02}s")
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}

/// `12.3 MiB/s`.
pub(crate) fn human_throughput(bytes_per_second: f64) -> String {
    format!("{}/s", human_bytes(bytes_per_second.round() as u64))
}

/// `2024-05-01 12:00:03Z` (UTC, to the second).
pub(crate) fn human_time(timestamp: Timestamp) -> String {
    timestamp.strftime("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// The state as a word: `not started`, `running`, `error`, `success`.
pub(crate) fn state_word(state: MigrationState) -> &'static str {
    match state {
        MigrationState::NotStarted => "not started",
        MigrationState::Running => "running",
        MigrationState::Error => "error",
        MigrationState::Success => "success",
    }
}

#[cfg(test)]
mod tests;
