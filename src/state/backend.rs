//! The state backend interface: everything the commands and a run need from state (sources,
//! targets, a plan's records, a migration's state and transitions, its lock and heartbeat, files
//! not yet durable, its hook runs, export and import, and the copy ledger), as one object-safe trait that the
//! SQLite [`Store`] (`sqlite_backend`) and the PostgreSQL store (`postgres::PostgresStore`) implement.
//!
//! The runner (`exec::runner`) and the commands hold a `dyn StateBackend` (opened by
//! [`crate::state::open`] from the `--state` value) and nothing else from `state` but the plain
//! records the trait speaks. The methods are async because a network backend waits on the
//! network; the SQLite store answers at once, on the calling task, as it always did. The copy
//! ledger stays synchronous: the engine calls it per batch of files.

use std::collections::HashMap;
use std::net::IpAddr;

use async_trait::async_trait;

use crate::plan::valid::{Cloud, OsFamily, ValidPlan};
#[cfg(doc)]
use crate::state::Store;
use crate::state::ledger::Ledger;
use crate::state::{
    ClaimRecord, HookRunRecord, ImportMode, ImportSummary, LockInfo, MigrationDefinition,
    MigrationFailure, MigrationRecord, MigrationState, MigrationStats, SourceRecord, StateError,
    StateExport, StorageRecord, TakenOver, TargetRecord, WaveCounts,
};

/// A state backend, as a run uses it. Implementations are shared between the run's tasks.
#[async_trait]
pub trait StateBackend: Ledger {
    /// The migration's record, `None` when the state does not know it.
    async fn find_migration(&self, name: &str) -> Result<Option<MigrationRecord>, StateError>;
    /// The target storage recorded when the migration last succeeded.
    async fn target_storage(&self, migration: &str) -> Result<Vec<StorageRecord>, StateError>;
    /// Moves a migration to `state` (see [`Store::set_migration_state`] for what each one sets).
    async fn set_migration_state(
        &self,
        name: &str,
        state: MigrationState,
        failure: Option<&MigrationFailure>,
    ) -> Result<(), StateError>;
    /// Records the counters of the attempt in progress.
    async fn record_progress(&self, name: &str, stats: &MigrationStats) -> Result<(), StateError>;
    /// Marks a migration `success` with its counters, vanished files and storage, at once.
    async fn finish_migration(
        &self,
        name: &str,
        stats: &MigrationStats,
        vanished: &[String],
        storage: &[StorageRecord],
    ) -> Result<(), StateError>;
    /// Locks a migration for this process: [`StateError::Locked`] while a live holder has it; a
    /// dead holder's lock is taken over ([`MigrationLock::taken_over`]).
    async fn acquire_lock(
        &self,
        migration: &str,
        owner: &str,
    ) -> Result<Box<dyn MigrationLock>, StateError>;
    /// Forgets the records of files an earlier boot wrote and never confirmed durable; returns
    /// how many.
    async fn drop_unconfirmed(&self, migration: &str) -> Result<u64, StateError>;
    /// The paths of the migration's files written during this boot and not yet confirmed durable.
    async fn unsynced_files(&self, migration: &str) -> Result<Vec<String>, StateError>;
    /// Confirms that these files are durable now.
    async fn confirm_synced(&self, migration: &str, paths: &[String]) -> Result<(), StateError>;

    /// Where the state is, for messages: the file's path, or the database URL redacted.
    fn location(&self) -> String;
    /// Records a plan's sources (checking every recorded IP), targets and migrations at once:
    /// either all of it is recorded or nothing is (see [`Store::record_plan`]).
    async fn record_plan(&self, plan: &ValidPlan) -> Result<Vec<MigrationRecord>, StateError>;
    /// Records a source, or refreshes its OS and username; its IP never changes.
    async fn record_source(
        &self,
        name: &str,
        ip: IpAddr,
        os: Option<OsFamily>,
        username: Option<&str>,
    ) -> Result<SourceRecord, StateError>;
    /// Records or updates a target.
    async fn record_target(
        &self,
        name: &str,
        cloud: Cloud,
        vm_ip: IpAddr,
        vm_os: Option<OsFamily>,
        vm_username: Option<&str>,
    ) -> Result<TargetRecord, StateError>;
    /// Records a migration (as `not_started` when new) or updates its definition, keeping its state.
    async fn define_migration(
        &self,
        definition: &MigrationDefinition,
    ) -> Result<MigrationRecord, StateError>;
    /// The migration with this name ([`StateError::NotFound`] otherwise).
    async fn migration(&self, name: &str) -> Result<MigrationRecord, StateError> {
        self.find_migration(name)
            .await?
            .ok_or_else(|| StateError::NotFound {
                kind: "migration",
                name: name.to_string(),
            })
    }
    /// Every migration, in the order they were first recorded.
    async fn migrations(&self) -> Result<Vec<MigrationRecord>, StateError>;
    /// The source with this name ([`StateError::NotFound`] otherwise).
    async fn source(&self, name: &str) -> Result<SourceRecord, StateError> {
        self.find_source(name)
            .await?
            .ok_or_else(|| StateError::NotFound {
                kind: "source",
                name: name.to_string(),
            })
    }
    /// The source with this name, if recorded.
    async fn find_source(&self, name: &str) -> Result<Option<SourceRecord>, StateError>;
    /// The source recorded with this IP (canonical text), if any.
    async fn find_source_by_ip(&self, ip: &str) -> Result<Option<SourceRecord>, StateError>;
    /// Every source, by name.
    async fn sources(&self) -> Result<Vec<SourceRecord>, StateError>;
    /// The target with this name ([`StateError::NotFound`] otherwise).
    async fn target(&self, name: &str) -> Result<TargetRecord, StateError>;
    /// Every target, by name.
    async fn targets(&self) -> Result<Vec<TargetRecord>, StateError>;
    /// Who holds a migration's lock, if anyone (alive or not).
    async fn lock(&self, migration: &str) -> Result<Option<LockInfo>, StateError>;
    /// Every claim on each of `migrations` (who ran it, when, and how each ended), oldest
    /// first, in one read however many they are; a migration without claims has no entry.
    async fn claims_of(
        &self,
        migrations: &[String],
    ) -> Result<HashMap<String, Vec<ClaimRecord>>, StateError>;
    /// Every claim on one migration, oldest first.
    async fn claims(&self, migration: &str) -> Result<Vec<ClaimRecord>, StateError> {
        let mut claims = self.claims_of(&[migration.to_owned()]).await?;
        Ok(claims.remove(migration).unwrap_or_default())
    }
    /// Turns every migration left `running` without a live lock into a retryable `error`;
    /// returns the migrations recovered.
    async fn recover_stale_running(&self) -> Result<Vec<String>, StateError>;
    /// Forgets a migration with its files, partial copies, storage and lock.
    async fn delete_migration(&self, name: &str) -> Result<(), StateError>;
    /// Forgets a source and its recorded IP; refused while migrations name it unless `cascade`.
    /// Returns the migrations deleted.
    async fn delete_source(&self, name: &str, cascade: bool) -> Result<Vec<String>, StateError>;
    /// Forgets a target, like [`StateBackend::delete_source`].
    async fn delete_target(&self, name: &str, cascade: bool) -> Result<Vec<String>, StateError>;
    /// Every source, target and migration (with storage, files and partial copies).
    async fn export(&self) -> Result<StateExport, StateError>;
    /// Imports an export at once: all of it or nothing (see [`Store::import`]).
    async fn import(
        &self,
        export: &StateExport,
        mode: ImportMode,
    ) -> Result<ImportSummary, StateError>;
    /// How many copied files (not symlinks) and partial copies the ledger holds for a migration.
    async fn ledger_counts(&self, migration: &str) -> Result<(u64, u64), StateError>;
    /// How many of these migrations (a wave's) are in each state, and how many failed in an
    /// attempt started at or after `since` (every failure when `None`). Names the state does not
    /// know count as not started. A wave's threshold is counted here and nowhere else.
    async fn wave_counts(
        &self,
        migrations: &[String],
        since: Option<jiff::Timestamp>,
    ) -> Result<WaveCounts, StateError>;
    /// Records a hook command a run ran for a migration ([`StateError::NotFound`] when the
    /// state does not know the migration).
    async fn record_hook_run(&self, migration: &str, run: &HookRunRecord)
    -> Result<(), StateError>;
    /// The hook runs of each of `migrations`, in the order they ran, in one read however many
    /// they are; a migration without hook runs has no entry.
    async fn hook_runs_of(
        &self,
        migrations: &[String],
    ) -> Result<HashMap<String, Vec<HookRunRecord>>, StateError>;
    /// The hook runs of one migration, in the order they ran.
    async fn hook_runs(&self, migration: &str) -> Result<Vec<HookRunRecord>, StateError> {
        let mut runs = self.hook_runs_of(&[migration.to_owned()]).await?;
        Ok(runs.remove(migration).unwrap_or_default())
    }
}

/// A held migration lock. Dropping it releases it too, where the backend can (best effort).
#[async_trait]
pub trait MigrationLock: Send + Sync {
    /// Who holds it (this process) and since when.
    fn info(&self) -> &LockInfo;
    /// `Some` when the lock was taken over from a dead holder.
    fn taken_over(&self) -> Option<&TakenOver>;
    /// Refreshes the heartbeat; call it at least every minute while the migration runs.
    async fn heartbeat(&mut self) -> Result<(), StateError>;
    /// Releases the lock, reporting a failure that dropping would hide.
    async fn release(self: Box<Self>) -> Result<(), StateError>;
}
