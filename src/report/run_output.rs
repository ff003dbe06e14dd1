//! What `ferry run` says while it works, on stderr: recovered migrations, lock takeovers, each
//! migration's start and end, failed files, a plain progress line every few seconds, and the
//! plan's diagnostics when it is refused.

use std::io::Write;

use crate::cli::CheckFormat;
use crate::exec::copy::{ProgressEvent, ProgressSink};
use crate::exec::runner::preview::Action;
use crate::exec::runner::{MigrationResult, RunEvent};
use crate::plan::diagnostic::FileDiagnostics;
use crate::report::diagnostics;
use crate::report::escape::printable;
use crate::report::progress::ProgressReporter;
use crate::report::run_report::human_bytes;

/// Prints one line on stderr. Every line carries names from the plan, the sources or the state,
/// or a server's message: it is escaped whole here (see `report::escape`).
fn say(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{}", printable(line));
}

/// Prints a plan's diagnostics (errors that refuse the run, or warnings) in the human format.
pub fn print_plan_diagnostics(file: &FileDiagnostics) {
    // A closed stdout is no reason to fail the refusal itself.
    let _ = diagnostics::print_check_output(std::slice::from_ref(file), CheckFormat::Human, false);
}

/// Migrations a killed run had left `running`, now resumable.
pub fn print_recovered(migrations: &[String]) {
    for migration in migrations {
        say(&format!(
            "migration {migration}: an earlier run stopped while it was running (the process is gone); it resumes now"
        ));
    }
}

/// The first Ctrl-C.
pub fn print_interrupting() {
    say(
        "interrupted: finishing the current chunks and recording the state (Ctrl-C again to quit now)",
    );
}

/// Prints run events as they come, with the copy engine's progress (bars on a terminal, a
/// plain line every few seconds otherwise).
pub struct RunPrinter {
    progress: ProgressReporter,
    sink: ProgressSink,
}

impl Default for RunPrinter {
    fn default() -> Self {
        let progress = ProgressReporter::for_stderr();
        let sink = progress.sink();
        Self { progress, sink }
    }
}

impl RunPrinter {
    pub fn event(&self, event: RunEvent) {
        // Escaped whole, as in `say`: names, paths and messages come from outside.
        let say = |line: String| self.progress.println(&printable(&line));
        match event {
            RunEvent::LockTakenOver {
                migration,
                previous,
            } => say(format!(
                "migration {migration}: took over the lock of `{}` (pid {} on {}), which is no longer running",
                previous.owner, previous.pid, previous.host
            )),
            RunEvent::UnconfirmedDropped { migration, files } => say(format!(
                "migration {migration}: {files} files were recorded before they were on disk, and the system restarted since; copying them again"
            )),
            RunEvent::MigrationStarted { migration, action } => say(format!(
                "migration {migration}: {}",
                match action {
                    Action::Resume =>
                        "resuming: files already copied are skipped, partial ones continue",
                    Action::Sync => "the source changed since it succeeded: copying the changes",
                    Action::Start | Action::NothingToDo => "starting",
                }
            )),
            RunEvent::MigrationFinished { migration, result } => {
                say(finished_line(&migration, &result))
            }
            RunEvent::Progress(event) => {
                match &event {
                    ProgressEvent::ScanFinished {
                        migration,
                        files,
                        bytes,
                    } => say(format!(
                        "migration {migration}: {files} files ({}) in the selected mounts",
                        human_bytes(*bytes)
                    )),
                    ProgressEvent::SpecialSkipped { migration, path } => {
                        say(format!(
                            "migration {migration}: `{path}` is a socket, device or FIFO; not copied"
                        ));
                    }
                    ProgressEvent::Resumed {
                        migration,
                        path,
                        bytes,
                    } => say(format!(
                        "migration {migration}: `{path}` continues after {} already copied",
                        human_bytes(*bytes)
                    )),
                    _ => {}
                }
                self.sink.emit(event);
            }
        }
    }

    /// Stops drawing progress (bars stay on screen).
    pub fn finish(&self) {
        self.progress.finish();
    }
}

fn finished_line(migration: &str, result: &MigrationResult) -> String {
    match result {
        MigrationResult::Succeeded(outcome) => {
            let sum = |field: fn(&crate::exec::copy::MountOutcome) -> u64| {
                outcome.mounts.iter().map(field).sum::<u64>()
            };
            format!(
                "migration {migration}: done: {} files copied ({}, {} transferred), {} resumed, {} unchanged, {} removed",
                sum(|mount| mount.files_copied),
                human_bytes(sum(|mount| mount.bytes_copied)),
                human_bytes(sum(|mount| mount.bytes_transferred)),
                sum(|mount| mount.files_resumed),
                sum(|mount| mount.files_unchanged),
                sum(|mount| mount.removed),
            )
        }
        MigrationResult::Unchanged => {
            format!("migration {migration}: succeeded before and unchanged since; nothing to do")
        }
        MigrationResult::Failed {
            message, retryable, ..
        } => format!(
            "migration {migration}: failed: {message} ({})",
            if *retryable {
                "running again may succeed"
            } else {
                "fix the cause, then run again"
            }
        ),
        MigrationResult::Interrupted => {
            format!("migration {migration}: interrupted; run again to resume")
        }
        MigrationResult::NotStarted => format!("migration {migration}: not started (interrupted)"),
    }
}
