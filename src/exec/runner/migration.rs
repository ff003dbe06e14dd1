//! Running one migration, from its recorded state to its end:
//! claim it, settle files not yet durable, decide the action (scanning a completed one for
//! changes), mark it `running`, copy between its `before` and `after` hooks while renewing the
//! claim, record how it ended (unless the claim was lost meanwhile), and run its `on_failure`
//! hooks when it failed. The steps live beside it: `claim` (lock and heartbeat), `hooks`,
//! `copying` (the copy) and `transitions` (what is recorded).

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::exec::copy::CopyOutcome;
use crate::exec::runner::claim;
use crate::exec::runner::live::LiveStats;
use crate::exec::runner::preview::{Action, RecordedState, has_changes, scan_migration};
use crate::exec::runner::{RunContext, RunEvent, copying, hooks, transitions, unsynced};
use crate::plan::valid::Migration;
use crate::state::{MigrationLock, MigrationState, StateError, claim_lease, heartbeat_interval};

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
    /// Another live runner holds its claim: not run here, its state untouched (a fleet's runner
    /// comes back to it, and takes it over if that runner stops).
    HeldElsewhere {
        owner: String,
        host: String,
        pid: u32,
    },
    /// This run lost its claim while copying (taken over, or not renewed within the lease): the
    /// copy stopped and nothing was recorded over the new holder.
    ClaimLost,
    /// Ctrl-C came before it started; its state is untouched.
    NotStarted,
    /// Its wave stopped, or an earlier one did, before it started (`reason` says which and
    /// why); its state is untouched.
    Held { reason: String },
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

/// Runs one migration to its end, recording it in state: claimed first, so that everything
/// below (settling files not yet durable, scanning, copying, recording) is this run's alone.
pub async fn run_migration(context: &RunContext<'_>, migration: &Migration) -> MigrationResult {
    if context.cancel.is_cancelled() {
        return MigrationResult::NotStarted;
    }
    let mut lock = match claim::claim(context, &migration.name, &claim::owner()).await {
        Ok(lock) => lock,
        Err(StateError::Locked {
            owner, host, pid, ..
        }) => return MigrationResult::HeldElsewhere { owner, host, pid },
        Err(error) => return MigrationResult::failed(error.to_string(), true, false),
    };
    let lost = CancellationToken::new();
    let stop = context.cancel.child_token();
    let claimed = RunContext {
        plan: context.plan,
        backend: context.backend,
        secrets: context.secrets,
        options: context.options,
        observer: Arc::clone(&context.observer),
        cancel: &stop,
        start_gate: context.start_gate,
    };
    let result = run_claimed(&claimed, migration, &mut *lock, &lost).await;
    // Released on drop too; a failure here leaves a claim a later run takes over. A lost claim
    // is another runner's now, and releasing it changes nothing.
    let _ = lock.release().await;
    result
}

/// Runs a claimed migration; `context.cancel` also stops when the claim is `lost`.
async fn run_claimed(
    context: &RunContext<'_>,
    migration: &Migration,
    lock: &mut dyn MigrationLock,
    lost: &CancellationToken,
) -> MigrationResult {
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
        lock,
        heartbeat_interval(),
        claim_lease().unsigned_abs(),
        lost,
        context.cancel,
        || transitions::record_live(backend, name, &live),
        hooks::around_copy(context, migration, copy),
    )
    .await;
    // Nothing is recorded over another runner that took the migration over.
    if !claim::still_held(lock, lost).await {
        return MigrationResult::ClaimLost;
    }
    if copied.is_err() {
        transitions::record_live(backend, name, &live).await;
    }
    let result = transitions::record_end(context, migration, copied).await;
    if let MigrationResult::Failed { message, .. } = &result {
        let failure_hooks = hooks::on_failure(context, migration, message);
        claim::with_heartbeat(
            lock,
            heartbeat_interval(),
            claim_lease().unsigned_abs(),
            lost,
            context.cancel,
            || async {},
            failure_hooks,
        )
        .await;
    }
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
