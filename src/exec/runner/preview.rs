//! What `ferry run` would do for one migration, computed without writing anything: the action
//! from its recorded state, and the files and bytes from a scan of both ends when possible.

use crate::exec::connect::{Endpoint, OpenMode, open_tree};
use crate::exec::copy::{
    CopyError, CopyOptions, MountPreview, PlanPreview, check_target_root, plan_migration, scan,
};
use crate::exec::ledger::Ledger;
use crate::exec::runner::jobs::{mount_jobs, target_storage};
use crate::exec::secrets::Secrets;
use crate::plan::valid::{Migration, ValidPlan};
use crate::state::{MigrationState, StateError, StorageRecord, Store};

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

/// Whether the storage recorded when the migration succeeded differs from what its selection
/// now gives (a mount added to or removed from the plan, or resized): it must run again.
pub fn storage_outdated(
    store: &Store,
    plan: &ValidPlan,
    migration: &Migration,
) -> Result<bool, StateError> {
    let sorted = |mut storage: Vec<StorageRecord>| {
        storage.sort_by(|a, b| a.mount.cmp(&b.mount));
        storage
    };
    let recorded = sorted(store.target_storage(&migration.name)?);
    let selected = sorted(target_storage(plan.source_of(migration), migration));
    Ok(recorded != selected)
}

/// Previews one migration. A `success` migration whose source cannot be scanned is assumed
/// unchanged, unless its selection changed since (`selection_changed`, see [`storage_outdated`]).
pub async fn preview_migration(
    plan: &ValidPlan,
    migration: &Migration,
    state: Option<MigrationState>,
    selection_changed: bool,
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
    let action = match state {
        None | Some(MigrationState::NotStarted) => Action::Start,
        Some(MigrationState::Error | MigrationState::Running) => Action::Resume,
        Some(MigrationState::Success) if selection_changed => Action::Sync,
        Some(MigrationState::Success) => match &scan {
            Ok(preview) if has_changes(preview) => Action::Sync,
            _ => Action::NothingToDo,
        },
    };
    MigrationPreview {
        name: migration.name.clone(),
        source: migration.source.clone(),
        target: migration.target.clone(),
        state,
        action,
        scan,
    }
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
