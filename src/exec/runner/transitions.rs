//! A migration's state transitions in a run: the counters recorded with each heartbeat, and how
//! an attempt ends (`success` with counters and storage, or a retryable or final `error`).

use crate::exec::copy::{CopyOutcome, MountOutcome};
use crate::exec::runner::RunContext;
use crate::exec::runner::copying::Stop;
use crate::exec::runner::jobs::target_storage;
use crate::exec::runner::live::LiveStats;
use crate::exec::runner::migration::MigrationResult;
use crate::plan::valid::Migration;
use crate::state::{MigrationFailure, MigrationState, MigrationStats, StateBackend};

/// The error recorded for a migration stopped by Ctrl-C or SIGTERM.
pub const INTERRUPTED_MESSAGE: &str =
    "interrupted: stopped by Ctrl-C or SIGTERM; run again to resume";

/// Records the attempt's counters so far. Progress is informative: a failed write is retried at
/// the next heartbeat.
pub(super) async fn record_live(backend: &dyn StateBackend, name: &str, live: &LiveStats) {
    let _ = backend.record_progress(name, &live.snapshot()).await;
}

/// Records the end of an attempt: `success` with counters and storage, or `error`.
pub(super) async fn record_end(
    context: &RunContext<'_>,
    migration: &Migration,
    copied: Result<CopyOutcome, Stop>,
) -> MigrationResult {
    let name = migration.name.as_str();
    let backend = context.backend;
    match copied {
        Ok(outcome) => {
            let stats = stats_of(&outcome);
            let vanished: Vec<String> = outcome
                .mounts
                .iter()
                .flat_map(|mount| mount.vanished.iter().cloned())
                .collect();
            let storage = target_storage(context.plan.source_of(migration), migration);
            match backend
                .finish_migration(name, &stats, &vanished, &storage)
                .await
            {
                Ok(()) => MigrationResult::Succeeded(outcome),
                Err(error) => {
                    let message = format!("copied, but the state could not record it: {error}");
                    record_failure(backend, name, message, true).await
                }
            }
        }
        Err(Stop::Interrupted) => {
            let interrupted = MigrationFailure {
                message: INTERRUPTED_MESSAGE.to_string(),
                retryable: true,
            };
            // A failure to record leaves `running`, which the next run recovers as interrupted.
            let _ = backend
                .set_migration_state(name, MigrationState::Error, Some(&interrupted))
                .await;
            MigrationResult::Interrupted
        }
        Err(Stop::Failed { message, retryable }) => {
            // The report names the migration already; engine errors start with it too.
            let prefix = format!("migration {name}: ");
            let message = message
                .strip_prefix(&prefix)
                .map_or(message.clone(), str::to_string);
            record_failure(backend, name, message, retryable).await
        }
    }
}

/// Records an `error` end; the result says whether the state holds it.
async fn record_failure(
    backend: &dyn StateBackend,
    name: &str,
    message: String,
    retryable: bool,
) -> MigrationResult {
    let failure = MigrationFailure {
        message: message.clone(),
        retryable,
    };
    let recorded = backend
        .set_migration_state(name, MigrationState::Error, Some(&failure))
        .await
        .is_ok();
    MigrationResult::failed(message, retryable, recorded)
}

/// The counters a finished copy records: verified files and bytes, of which unchanged (skipped).
pub fn stats_of(outcome: &CopyOutcome) -> MigrationStats {
    let sum = |field: fn(&MountOutcome) -> u64| outcome.mounts.iter().map(field).sum::<u64>();
    MigrationStats {
        files: sum(|mount| mount.files_copied + mount.files_unchanged),
        bytes: sum(|mount| mount.bytes_copied + mount.bytes_unchanged),
        skipped_files: sum(|mount| mount.files_unchanged),
        skipped_bytes: sum(|mount| mount.bytes_unchanged),
    }
}
