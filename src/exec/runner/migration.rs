//! Running one migration: check a completed one for changes, lock it, mark it `running`, open
//! both ends, prepare the target root, copy with a heartbeat, and record how it ended.

use std::sync::Arc;
use std::time::Duration;

use crate::exec::connect::{Endpoint, OpenMode, open_tree_retrying};
use crate::exec::copy::{
    CopyError, CopyOutcome, ProgressSink, copy_migration, prepare_target_root,
};
use crate::exec::runner::jobs::{mount_jobs, target_storage};
use crate::exec::runner::live::LiveStats;
use crate::exec::runner::preview::{Action, has_changes, scan_migration, storage_outdated};
use crate::exec::runner::{RunContext, RunEvent, unsynced};
use crate::plan::valid::Migration;
use crate::state::{LockGuard, MigrationFailure, MigrationState, MigrationStats, StateError};

/// How often a running migration refreshes its lock (well inside the stale limit).
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);

/// The error recorded for a migration stopped by Ctrl-C or SIGTERM.
pub const INTERRUPTED_MESSAGE: &str =
    "interrupted: stopped by Ctrl-C or SIGTERM; run again to resume";

/// How one migration ended in this run.
#[derive(Debug, Clone)]
pub enum MigrationResult {
    /// Copied and verified; recorded as `success`.
    Succeeded(CopyOutcome),
    /// Already `success` and unchanged on the source: nothing was done.
    Unchanged,
    /// Failed; `recorded` says whether the state holds the error (a migration locked by another
    /// run, or a completed one that could not be checked, keeps its state).
    Failed {
        message: String,
        retryable: bool,
        recorded: bool,
    },
    /// Stopped by Ctrl-C; recorded as a retryable `error`.
    Interrupted,
    /// Ctrl-C came before it started; its state is untouched.
    NotStarted,
}

impl MigrationResult {
    fn failed(message: impl Into<String>, retryable: bool, recorded: bool) -> Self {
        Self::Failed {
            message: message.into(),
            retryable,
            recorded,
        }
    }
}

/// Runs one migration to its end, recording it in state.
pub async fn run_migration(context: &RunContext<'_>, migration: &Migration) -> MigrationResult {
    if context.cancel.is_cancelled() {
        return MigrationResult::NotStarted;
    }
    let name = migration.name.as_str();
    let store = context.store;
    if let Err(message) = unsynced::settle_unsynced(context, migration).await {
        return MigrationResult::failed(message, true, false);
    }
    let state = match store.find_migration(name) {
        Ok(record) => record.map(|record| record.state),
        Err(error) => return MigrationResult::failed(error.to_string(), false, false),
    };
    let selection_changed = match storage_outdated(store, context.plan, migration) {
        Ok(changed) => changed,
        Err(error) => return MigrationResult::failed(error.to_string(), false, false),
    };
    if state == Some(MigrationState::Success) && !selection_changed {
        match scan_migration(
            context.plan,
            migration,
            store,
            context.secrets,
            &context.options.copy,
        )
        .await
        {
            Ok(preview) if !has_changes(&preview) => return MigrationResult::Unchanged,
            Ok(_) => {}
            Err(failure) => {
                let message = format!(
                    "cannot check the completed migration for changes: {}",
                    failure.message
                );
                return MigrationResult::failed(message, failure.retryable, false);
            }
        }
    }
    let mut lock = match store.acquire_lock(name, &owner()) {
        Ok(lock) => lock,
        Err(error @ StateError::Locked { .. }) => {
            return MigrationResult::failed(error.to_string(), true, false);
        }
        Err(error) => return MigrationResult::failed(error.to_string(), false, false),
    };
    if let Some(taken) = lock.taken_over() {
        context.emit(RunEvent::LockTakenOver {
            migration: name.to_string(),
            previous: taken.previous.clone(),
        });
    }
    if let Err(error) = store.set_migration_state(name, MigrationState::Running, None) {
        return MigrationResult::failed(error.to_string(), false, false);
    }
    let action = match state {
        None | Some(MigrationState::NotStarted) => Action::Start,
        Some(MigrationState::Success) => Action::Sync,
        Some(MigrationState::Error | MigrationState::Running) => Action::Resume,
    };
    let resuming = action == Action::Resume;
    context.emit(RunEvent::MigrationStarted {
        migration: name.to_string(),
        action,
    });
    let live = LiveStats::default();
    let record_live = || {
        // Progress is informative; a failed write is retried at the next heartbeat.
        let _ = store.record_progress(name, &live.snapshot());
    };
    let copied = with_heartbeat(
        &mut lock,
        HEARTBEAT_INTERVAL,
        record_live,
        copy(context, migration, &live, resuming),
    )
    .await;
    if copied.is_err() {
        record_live();
    }
    let result = record(context, migration, copied);
    // The row is deleted on drop too; a failure here leaves a lock a later run takes over.
    let _ = lock.release();
    result
}

/// Why a migration's copy did not complete.
enum Stop {
    Interrupted,
    Failed { message: String, retryable: bool },
}

impl From<CopyError> for Stop {
    fn from(error: CopyError) -> Self {
        match error {
            CopyError::Interrupted { .. } => Stop::Interrupted,
            error => Stop::Failed {
                retryable: error.is_retryable(),
                message: error.to_string(),
            },
        }
    }
}

/// Copies one migration; `resuming` after an earlier run stopped (killed, failed or Ctrl-C), when
/// what it left unfinished and invisible on the target (multipart uploads) is discarded first.
async fn copy(
    context: &RunContext<'_>,
    migration: &Migration,
    live: &LiveStats,
    resuming: bool,
) -> Result<CopyOutcome, Stop> {
    let name = migration.name.as_str();
    let source_end = Endpoint::source(context.plan, migration);
    let target_end = Endpoint::target(context.plan, migration);
    let jobs = mount_jobs(source_end.workload, migration).map_err(|error| Stop::Failed {
        message: error.to_string(),
        retryable: false,
    })?;
    let connect_failed = |error: crate::exec::connect::ConnectError| Stop::Failed {
        retryable: error.is_retryable(),
        message: error.to_string(),
    };
    let password = |end: &Endpoint| context.secrets.password(end.role, end.name);
    let opened = async {
        let retry = context.options.copy.retry;
        let source =
            open_tree_retrying(source_end, password(&source_end), OpenMode::Existing, retry).await;
        let target =
            open_tree_retrying(target_end, password(&target_end), OpenMode::Create, retry).await;
        (source, target)
    };
    let (source, target) = tokio::select! {
        opened = opened => opened,
        () = context.cancel.cancelled() => return Err(Stop::Interrupted),
    };
    let (source, target) = (
        source.map_err(connect_failed)?,
        target.map_err(connect_failed)?,
    );
    if resuming {
        // Best effort: not every S3-compatible server lists multipart uploads (s3s-fs answers
        // 501), and a leftover upload costs storage, not correctness. A bucket lifecycle rule
        // (`AbortIncompleteMultipartUpload`) catches what this misses.
        let _ = target.discard_unfinished_writes().await;
    }
    let roots: Vec<_> = jobs.iter().map(|job| job.target_root.clone()).collect();
    prepare_target_root(
        name,
        &*target,
        context.store,
        &roots,
        context.options.copy.existing,
    )
    .await?;
    let progress = progress_sink(context, live.clone());
    let outcome = copy_migration(
        name,
        Arc::clone(&source),
        Arc::clone(&target),
        &jobs,
        context.store,
        &context.options.copy,
        &progress,
        context.cancel,
    )
    .await?;
    Ok(outcome)
}

/// Records the end of an attempt: `success` with counters and storage, or `error`.
fn record(
    context: &RunContext<'_>,
    migration: &Migration,
    copied: Result<CopyOutcome, Stop>,
) -> MigrationResult {
    let name = migration.name.as_str();
    let store = context.store;
    let failure = |message: String, retryable: bool| {
        let recorded = store
            .set_migration_state(
                name,
                MigrationState::Error,
                Some(&MigrationFailure {
                    message: message.clone(),
                    retryable,
                }),
            )
            .is_ok();
        MigrationResult::failed(message, retryable, recorded)
    };
    match copied {
        Ok(outcome) => {
            let stats = stats_of(&outcome);
            let vanished: Vec<String> = outcome
                .mounts
                .iter()
                .flat_map(|mount| mount.vanished.iter().cloned())
                .collect();
            let storage = target_storage(context.plan.source_of(migration), migration);
            match store.finish_migration(name, &stats, &vanished, &storage) {
                Ok(_) => MigrationResult::Succeeded(outcome),
                Err(error) => failure(
                    format!("copied, but the state could not record it: {error}"),
                    true,
                ),
            }
        }
        Err(Stop::Interrupted) => {
            let interrupted = MigrationFailure {
                message: INTERRUPTED_MESSAGE.to_string(),
                retryable: true,
            };
            // A failure to record leaves `running`, which the next run recovers as interrupted.
            let _ = store.set_migration_state(name, MigrationState::Error, Some(&interrupted));
            MigrationResult::Interrupted
        }
        Err(Stop::Failed { message, retryable }) => {
            // The report names the migration already; engine errors start with it too.
            let prefix = format!("migration {name}: ");
            let message = message
                .strip_prefix(&prefix)
                .map_or(message.clone(), str::to_string);
            failure(message, retryable)
        }
    }
}

/// The counters a finished copy records: verified files and bytes, of which unchanged (skipped).
pub fn stats_of(outcome: &CopyOutcome) -> MigrationStats {
    let sum = |field: fn(&crate::exec::copy::MountOutcome) -> u64| {
        outcome.mounts.iter().map(field).sum::<u64>()
    };
    MigrationStats {
        files: sum(|mount| mount.files_copied + mount.files_unchanged),
        bytes: sum(|mount| mount.bytes_copied + mount.bytes_unchanged),
        skipped_files: sum(|mount| mount.files_unchanged),
        skipped_bytes: sum(|mount| mount.bytes_unchanged),
    }
}

/// Drives `work` to its end, refreshing the lock's heartbeat and calling `on_beat` every `every`.
pub(super) async fn with_heartbeat<T>(
    lock: &mut LockGuard,
    every: Duration,
    mut on_beat: impl FnMut(),
    work: impl Future<Output = T>,
) -> T {
    let mut work = std::pin::pin!(work);
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        tokio::select! {
            done = &mut work => return done,
            _ = interval.tick() => {
                // A missed heartbeat only matters after minutes; the next tick tries again.
                let _ = lock.heartbeat();
                on_beat();
            }
        }
    }
}

fn progress_sink(context: &RunContext<'_>, live: LiveStats) -> ProgressSink {
    let observer = Arc::clone(&context.observer);
    ProgressSink::new(move |event| {
        live.observe(&event);
        observer(RunEvent::Progress(event));
    })
}

/// Who holds the lock, as shown to another run: `ferry run` and the user, when known.
fn owner() -> String {
    match std::env::var("USER").or_else(|_| std::env::var("LOGNAME")) {
        Ok(user) if !user.is_empty() => format!("ferry run ({user})"),
        _ => "ferry run".to_string(),
    }
}
