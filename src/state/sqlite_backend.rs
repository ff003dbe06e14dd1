//! The SQLite [`Store`] as a [`StateBackend`]: each method calls the store's own, synchronously
//! (SQLite answers at once), and [`LockGuard`] as the [`MigrationLock`].

use std::collections::HashMap;
use std::net::IpAddr;

use async_trait::async_trait;

use crate::plan::valid::{Cloud, OsFamily, ValidPlan};
use crate::state::{
    ClaimRecord, HookRunRecord, ImportMode, ImportSummary, LockGuard, LockInfo,
    MigrationDefinition, MigrationFailure, MigrationLock, MigrationRecord, MigrationState,
    MigrationStats, SourceRecord, StateBackend, StateError, StateExport, StorageRecord, Store,
    TakenOver, TargetRecord, WaveCounts,
};

#[async_trait]
impl StateBackend for Store {
    async fn find_migration(&self, name: &str) -> Result<Option<MigrationRecord>, StateError> {
        Store::find_migration(self, name)
    }

    async fn target_storage(&self, migration: &str) -> Result<Vec<StorageRecord>, StateError> {
        Store::target_storage(self, migration)
    }

    async fn set_migration_state(
        &self,
        name: &str,
        state: MigrationState,
        failure: Option<&MigrationFailure>,
    ) -> Result<(), StateError> {
        Store::set_migration_state(self, name, state, failure).map(drop)
    }

    async fn record_progress(&self, name: &str, stats: &MigrationStats) -> Result<(), StateError> {
        Store::record_progress(self, name, stats)
    }

    async fn finish_migration(
        &self,
        name: &str,
        stats: &MigrationStats,
        vanished: &[String],
        storage: &[StorageRecord],
    ) -> Result<(), StateError> {
        Store::finish_migration(self, name, stats, vanished, storage).map(drop)
    }

    async fn acquire_lock(
        &self,
        migration: &str,
        owner: &str,
    ) -> Result<Box<dyn MigrationLock>, StateError> {
        let lock: Box<dyn MigrationLock> = Box::new(Store::acquire_lock(self, migration, owner)?);
        Ok(lock)
    }

    async fn drop_unconfirmed(&self, migration: &str) -> Result<u64, StateError> {
        Store::drop_unconfirmed(self, migration)
    }

    async fn unsynced_files(&self, migration: &str) -> Result<Vec<String>, StateError> {
        Store::unsynced_files(self, migration)
    }

    async fn confirm_synced(&self, migration: &str, paths: &[String]) -> Result<(), StateError> {
        Store::confirm_synced(self, migration, paths)
    }

    fn location(&self) -> String {
        self.path().display().to_string()
    }

    async fn record_plan(&self, plan: &ValidPlan) -> Result<Vec<MigrationRecord>, StateError> {
        Store::record_plan(self, plan)
    }

    async fn record_source(
        &self,
        name: &str,
        ip: IpAddr,
        os: Option<OsFamily>,
        username: Option<&str>,
    ) -> Result<SourceRecord, StateError> {
        Store::record_source(self, name, ip, os, username)
    }

    async fn record_target(
        &self,
        name: &str,
        cloud: Cloud,
        vm_ip: IpAddr,
        vm_os: Option<OsFamily>,
        vm_username: Option<&str>,
    ) -> Result<TargetRecord, StateError> {
        Store::record_target(self, name, cloud, vm_ip, vm_os, vm_username)
    }

    async fn define_migration(
        &self,
        definition: &MigrationDefinition,
    ) -> Result<MigrationRecord, StateError> {
        Store::define_migration(self, definition)
    }

    async fn migrations(&self) -> Result<Vec<MigrationRecord>, StateError> {
        Store::migrations(self)
    }

    async fn find_source(&self, name: &str) -> Result<Option<SourceRecord>, StateError> {
        Store::find_source(self, name)
    }

    async fn find_source_by_ip(&self, ip: &str) -> Result<Option<SourceRecord>, StateError> {
        Store::find_source_by_ip(self, ip)
    }

    async fn sources(&self) -> Result<Vec<SourceRecord>, StateError> {
        Store::sources(self)
    }

    async fn target(&self, name: &str) -> Result<TargetRecord, StateError> {
        Store::target(self, name)
    }

    async fn targets(&self) -> Result<Vec<TargetRecord>, StateError> {
        Store::targets(self)
    }

    async fn lock(&self, migration: &str) -> Result<Option<LockInfo>, StateError> {
        Store::lock(self, migration)
    }

    async fn claims_of(
        &self,
        migrations: &[String],
    ) -> Result<HashMap<String, Vec<ClaimRecord>>, StateError> {
        Store::claims_of(self, migrations)
    }

    async fn recover_stale_running(&self) -> Result<Vec<String>, StateError> {
        Store::recover_stale_running(self)
    }

    async fn delete_migration(&self, name: &str) -> Result<(), StateError> {
        Store::delete_migration(self, name)
    }

    async fn delete_source(&self, name: &str, cascade: bool) -> Result<Vec<String>, StateError> {
        Store::delete_source(self, name, cascade)
    }

    async fn delete_target(&self, name: &str, cascade: bool) -> Result<Vec<String>, StateError> {
        Store::delete_target(self, name, cascade)
    }

    async fn export(&self) -> Result<StateExport, StateError> {
        Store::export(self)
    }

    async fn import(
        &self,
        export: &StateExport,
        mode: ImportMode,
    ) -> Result<ImportSummary, StateError> {
        Store::import(self, export, mode)
    }

    async fn ledger_counts(&self, migration: &str) -> Result<(u64, u64), StateError> {
        Store::ledger_counts(self, migration)
    }

    async fn wave_counts(
        &self,
        migrations: &[String],
        since: Option<jiff::Timestamp>,
    ) -> Result<WaveCounts, StateError> {
        Store::wave_counts(self, migrations, since)
    }

    async fn record_hook_run(
        &self,
        migration: &str,
        run: &HookRunRecord,
    ) -> Result<(), StateError> {
        Store::record_hook_run(self, migration, run)
    }

    async fn hook_runs_of(
        &self,
        migrations: &[String],
    ) -> Result<HashMap<String, Vec<HookRunRecord>>, StateError> {
        Store::hook_runs_of(self, migrations)
    }
}

#[async_trait]
impl MigrationLock for LockGuard {
    fn info(&self) -> &LockInfo {
        LockGuard::info(self)
    }

    fn taken_over(&self) -> Option<&TakenOver> {
        LockGuard::taken_over(self)
    }

    async fn heartbeat(&mut self) -> Result<(), StateError> {
        LockGuard::heartbeat(self)
    }

    async fn release(self: Box<Self>) -> Result<(), StateError> {
        LockGuard::release(*self)
    }
}
