//! What `ferry run` says while it works, on stderr: recovered migrations, lock takeovers, each
//! migration's start and end, failed files, a plain progress line every few seconds, the wave
//! that stopped the run (with why, and what did not start), and the plan's diagnostics when it is
//! refused.

use std::io::Write;

use crate::exec::copy::{ProgressEvent, ProgressSink};
use crate::exec::hooks::HookOutcome;
use crate::exec::runner::preview::Action;
use crate::exec::runner::waves::WaveStop;
use crate::exec::runner::{MigrationResult, RunEvent};
use crate::options::CheckFormat;
use crate::plan::diagnostic::FileDiagnostics;
use crate::plan::valid::HookPhase;
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

/// `ferry plan --format json` refusing a plan: the diagnostics as `ferry check --format json`'s
/// document, so stdout stays one JSON document.
pub fn print_plan_diagnostics_json(file: &FileDiagnostics) {
    let _ = diagnostics::print_check_output(std::slice::from_ref(file), CheckFormat::Json, false);
}

/// Migrations a killed run had left `running`, now resumable.
pub fn print_recovered(migrations: &[String]) {
    if crate::report::quiet() {
        return;
    }
    for migration in migrations {
        say(&format!(
            "migration {migration}: an earlier run stopped while it was running (the process is gone); it resumes now"
        ));
    }
}

/// The wave that stopped the run, why, and the migrations that did not start.
pub fn print_wave_stop(stop: &WaveStop) {
    say(&wave_stop_line(stop));
}

fn wave_stop_line(stop: &WaveStop) -> String {
    let mut line = format!("the run stopped at {}", stop.block);
    if !stop.not_started.is_empty() {
        line.push_str(&format!("; not started: {}", stop.not_started.join(", ")));
    }
    line
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
        if crate::report::quiet() {
            // Only failures: the rest is progress and confirmations.
            match event {
                RunEvent::MigrationFinished {
                    migration,
                    result: result @ MigrationResult::Failed { .. },
                } => say(finished_line(&migration, &result)),
                RunEvent::Progress(event) => self.sink.emit(event),
                RunEvent::HookFinished {
                    migration,
                    phase,
                    outcome,
                } if !outcome.status.succeeded() => {
                    say(hook_finished_line(&migration, phase, &outcome))
                }
                _ => {}
            }
            return;
        }
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
            RunEvent::HookLine {
                migration,
                phase,
                line,
                ..
            } => say(format!(
                "migration {migration} [{}]: {line}",
                phase.as_str()
            )),
            RunEvent::HookFinished {
                migration,
                phase,
                outcome,
            } => say(hook_finished_line(&migration, phase, &outcome)),
            RunEvent::Progress(event) => {
                if let Some(line) = progress_line(&event) {
                    say(line);
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

/// The line a copy event earns in the run's output, if any. Paths come from the source, so
/// control characters in them are shown escaped.
fn progress_line(event: &ProgressEvent) -> Option<String> {
    Some(match event {
        ProgressEvent::ScanFinished {
            migration,
            files,
            bytes,
        } => format!(
            "migration {migration}: {files} files ({}) in the selected mounts",
            human_bytes(*bytes)
        ),
        ProgressEvent::SpecialSkipped { migration, path } => format!(
            "migration {migration}: `{}` is a socket, device or FIFO; not copied",
            printable(path)
        ),
        ProgressEvent::Resumed {
            migration,
            path,
            bytes,
        } => format!(
            "migration {migration}: `{}` continues after {} already copied",
            printable(path),
            human_bytes(*bytes)
        ),
        ProgressEvent::Vanished { migration, path } => format!(
            "migration {migration}: `{}` was deleted from the source during the run; not copied",
            printable(path)
        ),
        _ => return None,
    })
}

/// How a hook command ended; its command is masked already.
fn hook_finished_line(migration: &str, phase: HookPhase, outcome: &HookOutcome) -> String {
    let phase = phase.as_str();
    let command = &outcome.command;
    match outcome.status.failure() {
        None => format!("migration {migration}: {phase} hook `{command}` succeeded"),
        Some(failure) => format!("migration {migration}: {phase} hook `{command}` {failure}"),
    }
}

fn finished_line(migration: &str, result: &MigrationResult) -> String {
    match result {
        MigrationResult::Succeeded(outcome) => {
            let sum = |field: fn(&crate::exec::copy::MountOutcome) -> u64| {
                outcome.mounts.iter().map(field).sum::<u64>()
            };
            let vanished: usize = outcome
                .mounts
                .iter()
                .map(|mount| mount.vanished.len())
                .sum();
            let vanished = if vanished > 0 {
                format!(", {vanished} deleted from the source during the run")
            } else {
                String::new()
            };
            format!(
                "migration {migration}: done: {} files copied ({}, {} transferred), {} resumed, {} unchanged, {} removed{vanished}",
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
        MigrationResult::Held { reason } => format!("migration {migration}: not started: {reason}"),
        MigrationResult::HeldElsewhere { owner, host, pid } => format!(
            "migration {migration}: held by `{owner}` (pid {pid} on {host}); this run takes it over if that one stops"
        ),
        MigrationResult::ClaimLost => format!(
            "migration {migration}: stopped copying: another runner holds it now (this run's claim was taken over or not renewed in time)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::{finished_line, progress_line};
    use crate::exec::copy::{CopyOutcome, MountOutcome, ProgressEvent};
    use crate::exec::runner::MigrationResult;

    #[test]
    fn a_file_deleted_during_the_run_is_named_with_its_control_characters_escaped() {
        let line = progress_line(&ProgressEvent::Vanished {
            migration: "web-01".to_string(),
            path: "D/tmp/evil\u{1b}[2J\nname".to_string(),
        });
        assert_eq!(
            line.as_deref(),
            Some(
                "migration web-01: `D/tmp/evil\\u{1b}[2J\\nname` was deleted from the source during the run; not copied"
            )
        );
        let special = progress_line(&ProgressEvent::SpecialSkipped {
            migration: "web-01".to_string(),
            path: "C/fifo\r".to_string(),
        });
        assert!(special.is_some_and(|line| line.contains("`C/fifo\\r`")));
    }

    #[test]
    fn the_finished_line_counts_the_files_deleted_during_the_run() {
        let mount = MountOutcome {
            files_copied: 3,
            vanished: vec!["D/a".to_string(), "D/b".to_string()],
            ..MountOutcome::default()
        };
        let result = MigrationResult::Succeeded(CopyOutcome {
            mounts: vec![mount],
        });
        let line = finished_line("web-01", &result);
        assert!(
            line.ends_with("0 removed, 2 deleted from the source during the run"),
            "{line}"
        );
        let quiet = finished_line(
            "web-01",
            &MigrationResult::Succeeded(CopyOutcome::default()),
        );
        assert!(quiet.ends_with("0 removed"), "{quiet}");
    }
}
