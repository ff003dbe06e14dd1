//! What `ferry run` says while it works, on stderr: recovered migrations, lock takeovers, each
//! migration's start and end, failed files, a plain progress line every few seconds, and the
//! plan's diagnostics when it is refused.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::exec::copy::ProgressEvent;
use crate::exec::runner::{MigrationResult, RunEvent};
use crate::plan::diagnostic::{FileDiagnostics, Severity};
use crate::report::run_report::human_bytes;

/// How often the plain progress line is printed.
pub const PROGRESS_INTERVAL: Duration = Duration::from_secs(5);

fn say(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

/// Prints a plan's diagnostics (errors that refuse the run, or warnings) in the human format.
pub fn print_plan_diagnostics(file: &FileDiagnostics) {
    let mut text = String::new();
    for diagnostic in &file.diagnostics {
        let severity = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        text.push_str(&format!(
            "{severity}[{}]: {}\n",
            diagnostic.code, diagnostic.message
        ));
        if let Some(span) = diagnostic.primary_span() {
            let before = file.source.get(..span.start).unwrap_or("");
            let line = before.matches('\n').count() + 1;
            let column = before
                .rsplit('\n')
                .next()
                .map_or(0, |prefix| prefix.chars().count())
                + 1;
            text.push_str(&format!("  --> {}:{line}:{column}\n", file.path));
        }
        if let Some(help) = &diagnostic.help {
            text.push_str(&format!("  help: {help}\n"));
        }
    }
    let errors = file.count(Severity::Error);
    let warnings = file.count(Severity::Warning);
    text.push_str(&format!(
        "{}: {errors} error(s), {warnings} warning(s)\n",
        file.path
    ));
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

/// Migrations a killed run had left `running`, now resumable.
pub fn print_recovered(migrations: &[String]) {
    for migration in migrations {
        say(&format!(
            "{migration}: an earlier run stopped while it was running (the process is gone); it resumes now"
        ));
    }
}

/// The first Ctrl-C.
pub fn print_interrupting() {
    say(
        "interrupted: finishing the current chunks and recording the state (Ctrl-C again to quit now)",
    );
}

/// Prints run events as they come, and a progress line every `PROGRESS_INTERVAL`.
pub struct RunPrinter {
    progress: Mutex<Progress>,
}

struct Progress {
    started: Instant,
    last_line: Instant,
    files_total: u64,
    bytes_total: u64,
    files_done: u64,
    bytes_done: u64,
    bytes_transferred: u64,
}

impl Default for RunPrinter {
    fn default() -> Self {
        let now = Instant::now();
        Self {
            progress: Mutex::new(Progress {
                started: now,
                last_line: now,
                files_total: 0,
                bytes_total: 0,
                files_done: 0,
                bytes_done: 0,
                bytes_transferred: 0,
            }),
        }
    }
}

impl RunPrinter {
    pub fn event(&self, event: RunEvent) {
        match event {
            RunEvent::LockTakenOver {
                migration,
                previous,
            } => say(&format!(
                "{migration}: took over the lock of `{}` (pid {} on {}), which is no longer running",
                previous.owner, previous.pid, previous.host
            )),
            RunEvent::MigrationStarted { migration, resumed } => {
                say(&format!(
                    "{migration}: {}",
                    if resumed { "resuming" } else { "starting" }
                ));
            }
            RunEvent::MigrationFinished { migration, result } => {
                say(&finished_line(&migration, &result))
            }
            RunEvent::Progress(event) => self.progress(event),
        }
    }

    fn progress(&self, event: ProgressEvent) {
        let mut progress = self
            .progress
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match event {
            ProgressEvent::ScanFinished {
                migration,
                files,
                bytes,
            } => {
                progress.files_total += files;
                progress.bytes_total += bytes;
                say(&format!(
                    "{migration}: {files} files ({}) in the selected mounts",
                    human_bytes(bytes)
                ));
            }
            ProgressEvent::Transferred { bytes, .. } => progress.bytes_transferred += bytes,
            ProgressEvent::FileCopied { bytes, .. }
            | ProgressEvent::FileUnchanged { bytes, .. } => {
                progress.files_done += 1;
                progress.bytes_done += bytes;
            }
            ProgressEvent::FileFailed {
                migration,
                path,
                message,
            } => {
                say(&format!("{migration}: `{path}` failed: {message}"));
            }
            ProgressEvent::SpecialSkipped { migration, path } => {
                say(&format!(
                    "{migration}: `{path}` is a socket, device or FIFO; not copied"
                ));
            }
            ProgressEvent::Resumed {
                migration,
                path,
                bytes,
            } => {
                say(&format!(
                    "{migration}: `{path}` continues after {} already copied",
                    human_bytes(bytes)
                ));
            }
            ProgressEvent::MountStarted { .. }
            | ProgressEvent::MountFinished { .. }
            | ProgressEvent::Removed { .. } => {}
        }
        let now = Instant::now();
        if now.duration_since(progress.last_line) >= PROGRESS_INTERVAL {
            progress.last_line = now;
            let seconds = now
                .duration_since(progress.started)
                .as_secs_f64()
                .max(0.001);
            say(&format!(
                "progress: {}/{} files, {} of {}, {}/s",
                progress.files_done,
                progress.files_total,
                human_bytes(progress.bytes_done),
                human_bytes(progress.bytes_total),
                human_bytes((progress.bytes_transferred as f64 / seconds) as u64)
            ));
        }
    }
}

fn finished_line(migration: &str, result: &MigrationResult) -> String {
    match result {
        MigrationResult::Succeeded(outcome) => {
            let sum = |field: fn(&crate::exec::copy::MountOutcome) -> u64| {
                outcome.mounts.iter().map(field).sum::<u64>()
            };
            format!(
                "{migration}: done: {} files copied ({}, {} transferred), {} resumed, {} unchanged, {} removed",
                sum(|mount| mount.files_copied),
                human_bytes(sum(|mount| mount.bytes_copied)),
                human_bytes(sum(|mount| mount.bytes_transferred)),
                sum(|mount| mount.files_resumed),
                sum(|mount| mount.files_unchanged),
                sum(|mount| mount.removed),
            )
        }
        MigrationResult::Unchanged => {
            format!("{migration}: succeeded before and unchanged since; nothing to do")
        }
        MigrationResult::Failed {
            message, retryable, ..
        } => format!(
            "{migration}: failed: {message} ({})",
            if *retryable {
                "running again may succeed"
            } else {
                "fix the cause, then run again"
            }
        ),
        MigrationResult::Interrupted => format!("{migration}: interrupted; run again to resume"),
        MigrationResult::NotStarted => format!("{migration}: not started (interrupted)"),
    }
}
