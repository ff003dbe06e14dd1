//! What `ferry run` would do for one migration, computed without writing anything: the action
//! from its recorded state (`RecordedState::action`, the one state-to-action mapping), and the files and bytes from a scan of both ends when possible.

use crate::exec::connect::{Endpoint, OpenMode, open_tree};
use crate::exec::copy::{
    CopyError, CopyOptions, MountPreview, PlanPreview, check_target_root, plan_migration, scan,
};
use crate::exec::ledger::Ledger;
use crate::exec::runner::jobs::{mount_jobs, target_storage};
use crate::exec::secrets::Secrets;
use crate::plan::valid::{HookPhase, Migration, ValidPlan};
use crate::state::{MigrationState, StateBackend, StateError, StorageRecord};

/// What a run does with a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Never run: copy everything.
    Start,
    /// An earlier run failed or was interrupted: skip what was copied, continue partial files.
    Resume,
    /// It succeeded, and the source changed since: copy only the changes (delta sync).
    Sync,
    /// It succeeded and nothing changed.
    NothingToDo,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Resume => "resume",
            Action::Sync => "sync",
            Action::NothingToDo => "nothing to do",
        }
    }
}

/// One migration's preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationPreview {
    pub name: String,
    pub source: String,
    pub target: String,
    /// Its recorded state; `None` when it is not in state yet.
    pub state: Option<MigrationState>,
    pub action: Action,
    /// Per mount, what would be copied, skipped and removed; `Err` says why the source or
    /// target could not be scanned.
    pub scan: Result<PlanPreview, String>,
    /// The runner that holds its claim now (`user@host:pid`), while one does.
    pub held_by: Option<String>,
    /// The hook commands a run would run, by phase in order (`on_failure` only if it fails): none
    /// when there is nothing to do; empty when the migration has no hooks.
    pub hooks: Vec<(HookPhase, Vec<String>)>,
}

impl MigrationPreview {
    /// Whether running the plan would do anything for this migration.
    pub fn is_pending(&self) -> bool {
        self.action != Action::NothingToDo
    }
}

/// Whether a scan found anything to copy, create or remove.
pub fn has_changes(preview: &PlanPreview) -> bool {
    preview.mounts.iter().any(|mount| {
        mount.files_to_copy > 0 || mount.directories_to_create > 0 || !mount.to_remove.is_empty()
    })
}

/// A migration's recorded state, which decides the action `run` takes with it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordedState {
    /// Its state; `None` when it is not in state yet.
    pub state: Option<MigrationState>,
    /// Whether its selection changed since it succeeded (see [`storage_outdated`]).
    pub selection_changed: bool,
}

impl RecordedState {
    /// Reads the migration's state, and whether its selection changed when it has one.
    pub async fn read(
        backend: &dyn StateBackend,
        plan: &ValidPlan,
        migration: &Migration,
    ) -> Result<Self, StateError> {
        let Some(record) = backend.find_migration(&migration.name).await? else {
            return Ok(Self::default());
        };
        Ok(Self {
            state: Some(record.state),
            selection_changed: storage_outdated(backend, plan, migration).await?,
        })
    }

    /// The action `run` takes with the migration: the one place that maps state to action
    /// (`run`, `plan` and the runner's preview all ask here). `source_changed` is whether a scan
    /// found anything to copy, create or remove (`false` when none was made or it failed).
    pub fn action(self, source_changed: bool) -> Action {
        match self.state {
            None | Some(MigrationState::NotStarted) => Action::Start,
            Some(MigrationState::Error | MigrationState::Running) => Action::Resume,
            Some(MigrationState::Success) if self.selection_changed || source_changed => {
                Action::Sync
            }
            Some(MigrationState::Success) => Action::NothingToDo,
        }
    }

    /// Whether the action depends on what a scan of both ends finds: a completed migration
    /// with the same selection runs again only when its source changed.
    pub fn needs_scan(self) -> bool {
        self.action(false) != self.action(true)
    }
}

/// Whether the storage recorded when the migration succeeded differs from what its selection
/// now gives (a mount added to or removed from the plan, or resized): it must run again.
pub async fn storage_outdated(
    backend: &dyn StateBackend,
    plan: &ValidPlan,
    migration: &Migration,
) -> Result<bool, StateError> {
    let sorted = |mut storage: Vec<StorageRecord>| {
        storage.sort_by(|a, b| a.mount.cmp(&b.mount));
        storage
    };
    let recorded = sorted(backend.target_storage(&migration.name).await?);
    let selected = sorted(target_storage(plan.source_of(migration), migration));
    Ok(recorded != selected)
}

/// Previews one migration. A `success` migration whose source cannot be scanned is assumed
/// unchanged, unless its selection changed since (see [`RecordedState`]).
pub async fn preview_migration(
    plan: &ValidPlan,
    migration: &Migration,
    recorded: RecordedState,
    ledger: &dyn Ledger,
    secrets: Option<&Secrets>,
    options: &CopyOptions,
) -> MigrationPreview {
    let scan = match secrets {
        Some(secrets) => scan_migration(plan, migration, ledger, secrets, options)
            .await
            .map_err(|failure| failure.message),
        None => Err("not scanned: a password it needs is missing".to_string()),
    };
    let action = recorded.action(scan.as_ref().is_ok_and(has_changes));
    MigrationPreview {
        name: migration.name.clone(),
        source: migration.source.clone(),
        target: migration.target.clone(),
        state: recorded.state,
        action,
        scan,
        held_by: None,
        hooks: hooks_that_would_run(migration, action),
    }
}

/// The hook commands of each phase a run taking `action` would run (see [`MigrationPreview::hooks`]).
fn hooks_that_would_run(migration: &Migration, action: Action) -> Vec<(HookPhase, Vec<String>)> {
    if migration.hooks.is_empty() {
        return Vec::new();
    }
    HookPhase::ALL
        .into_iter()
        .map(|phase| {
            let commands = match action {
                Action::NothingToDo => Vec::new(),
                _ => migration
                    .hooks
                    .phase(phase)
                    .iter()
                    .map(|hook| hook.command.to_string())
                    .collect(),
            };
            (phase, commands)
        })
        .collect()
}

/// Why a scan failed, and whether scanning again may succeed without anyone changing anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanFailure {
    pub message: String,
    pub retryable: bool,
}

impl ScanFailure {
    fn of(error: impl std::fmt::Display, retryable: bool) -> Self {
        Self {
            message: error.to_string(),
            retryable,
        }
    }
}

/// Scans both ends read-only, refusing as a run would (data ferry did not write, at the target
/// root or in a mount). A local target directory that does not exist yet counts as empty.
pub async fn scan_migration(
    plan: &ValidPlan,
    migration: &Migration,
    ledger: &dyn Ledger,
    secrets: &Secrets,
    options: &CopyOptions,
) -> Result<PlanPreview, ScanFailure> {
    let source_end = Endpoint::source(plan, migration);
    let target_end = Endpoint::target(plan, migration);
    let jobs = mount_jobs(source_end.workload, migration)
        .map_err(|error| ScanFailure::of(error, false))?;
    let password = |end: &Endpoint| secrets.password(end.role, end.name);
    let source = open_tree(source_end, password(&source_end), OpenMode::Inspect)
        .await
        .map_err(|error| {
            let retryable = error.is_retryable();
            ScanFailure::of(error, retryable)
        })?;
    match open_tree(target_end, password(&target_end), OpenMode::Inspect).await {
        Ok(target) => {
            let roots: Vec<_> = jobs.iter().map(|job| job.target_root.clone()).collect();
            let failed = |error: CopyError| {
                let retryable = error.is_retryable();
                ScanFailure::of(error, retryable)
            };
            check_target_root(&migration.name, &*target, ledger, &roots, options.existing)
                .await
                .map_err(failed)?;
            plan_migration(&migration.name, &*source, &*target, &jobs, ledger, options)
                .await
                .map_err(failed)
        }
        Err(error) if error.is_not_found() => {
            let summary = scan(&migration.name, &*source, &jobs)
                .await
                .map_err(|error| {
                    let retryable = error.is_retryable();
                    ScanFailure::of(error, retryable)
                })?;
            Ok(PlanPreview {
                mounts: summary
                    .mounts
                    .into_iter()
                    .map(|totals| MountPreview {
                        mount: totals.mount,
                        files_to_copy: totals.files,
                        bytes_to_copy: totals.bytes,
                        symlinks: totals.symlinks,
                        directories_to_create: totals.directories,
                        ..MountPreview::default()
                    })
                    .collect(),
            })
        }
        Err(error) => {
            let retryable = error.is_retryable();
            Err(ScanFailure::of(error, retryable))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Action, RecordedState};
    use crate::state::MigrationState;

    fn recorded(state: Option<MigrationState>, selection_changed: bool) -> RecordedState {
        RecordedState {
            state,
            selection_changed,
        }
    }

    #[test]
    fn every_recorded_state_maps_to_the_action_run_takes() {
        use MigrationState::{Error, NotStarted, Running, Success};
        let cases = [
            (None, Action::Start),
            (Some(NotStarted), Action::Start),
            (Some(Error), Action::Resume),
            (Some(Running), Action::Resume),
        ];
        for (state, expected) in cases {
            for selection_changed in [false, true] {
                for source_changed in [false, true] {
                    let recorded = recorded(state, selection_changed);
                    assert_eq!(recorded.action(source_changed), expected, "{recorded:?}");
                    assert!(!recorded.needs_scan(), "{recorded:?}");
                }
            }
        }
        let success = recorded(Some(Success), false);
        assert_eq!(success.action(false), Action::NothingToDo);
        assert_eq!(success.action(true), Action::Sync);
        assert!(success.needs_scan());
        let reselected = recorded(Some(Success), true);
        assert_eq!(reselected.action(false), Action::Sync);
        assert_eq!(reselected.action(true), Action::Sync);
        assert!(!reselected.needs_scan());
    }

    #[test]
    fn a_migration_not_in_state_starts() {
        assert_eq!(RecordedState::default().action(false), Action::Start);
    }
}
