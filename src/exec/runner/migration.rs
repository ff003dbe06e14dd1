//! Running one migration, from its recorded state to its end: settle files not yet durable,
//! decide the action (scanning a completed one for changes), claim it, mark it `running`, copy
//! with a heartbeat between its `before` and `after` hooks, record how it ended, and run its
//! `on_failure` hooks when it failed. The steps live beside it: `claim` (lock and heartbeat),
//! `hooks`, `copying` (the copy) and `transitions` (what is recorded).

use crate::exec::copy::CopyOutcome;
use crate::exec::runner::claim::{self, HEARTBEAT_INTERVAL};
use crate::exec::runner::live::LiveStats;
use crate::exec::runner::preview::{Action, RecordedState, has_changes, scan_migration};
use crate::exec::runner::{RunContext, RunEvent, copying, hooks, transitions, unsynced};
use crate::plan::valid::Migration;
use crate::state::{MigrationState, StateError};

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
    pub(super) fn failed(message: impl Into<String>, retryable: bool, recorded: bool) -> Self {
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
    let backend = context.backend;
    if let Err(message) = unsynced::settle_unsynced(context, migration).await {
        return MigrationResult::failed(message, true, false);
    }
    let action = match decide_action(context, migration).await {
        Ok(Action::NothingToDo) => return MigrationResult::Unchanged,
        Ok(action) => action,
        Err(result) => return result,
    };
    let mut lock = match claim::claim(context, name, &claim::owner()).await {
        Ok(lock) => lock,
        Err(error) => {
            let retryable = matches!(error, StateError::Locked { .. });
            return MigrationResult::failed(error.to_string(), retryable, false);
        }
    };
    if let Err(error) = backend
        .set_migration_state(name, MigrationState::Running, None)
        .await
    {
        return MigrationResult::failed(error.to_string(), false, false);
    }
    context.emit(RunEvent::MigrationStarted {
        migration: name.to_string(),
        action,
    });
    let live = LiveStats::default();
    let copy = copying::copy(context, migration, &live, action == Action::Resume);
    let copied = claim::with_heartbeat(
        &mut *lock,
        HEARTBEAT_INTERVAL,
        || transitions::record_live(backend, name, &live),
        hooks::around_copy(context, migration, copy),
    )
    .await;
    if copied.is_err() {
        transitions::record_live(backend, name, &live).await;
    }
    let result = transitions::record_end(context, migration, copied).await;
    if let MigrationResult::Failed { message, .. } = &result {
        let failure_hooks = hooks::on_failure(context, migration, message);
        claim::with_heartbeat(&mut *lock, HEARTBEAT_INTERVAL, || async {}, failure_hooks).await;
    }
    // The lock is released on drop too; a failure here leaves a lock a later run takes over.
    let _ = lock.release().await;
    result
}

/// The action this run takes with the migration (see [`RecordedState::action`]), scanning a
/// completed one for changes when that decides it. `Err` holds the result of a migration that
/// cannot be decided; its state is untouched.
async fn decide_action(
    context: &RunContext<'_>,
    migration: &Migration,
) -> Result<Action, MigrationResult> {
    let recorded = RecordedState::read(context.backend, context.plan, migration)
        .await
        .map_err(|error| MigrationResult::failed(error.to_string(), false, false))?;
    let mut source_changed = false;
    if recorded.needs_scan() {
        let options = &context.options.copy;
        let scanned = scan_migration(
            context.plan,
            migration,
            context.backend,
            context.secrets,
            options,
        );
        match scanned.await {
            Ok(preview) => source_changed = has_changes(&preview),
            Err(failure) => {
                let message = format!(
                    "cannot check the completed migration for changes: {}",
                    failure.message
                );
                return Err(MigrationResult::failed(message, failure.retryable, false));
            }
        }
    }
    Ok(recorded.action(source_changed))
}
