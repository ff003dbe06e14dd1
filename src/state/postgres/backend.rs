//! `PostgresStore` as a [`StateBackend`]: the commands and the runner use it exactly as they use the SQLite store.

use std::collections::HashMap;
use std::net::IpAddr;

use async_trait::async_trait;

use super::hook_runs::{hook_runs_in, insert_hook_run_in};
use super::records::{
    find_migration_in, find_source_by_ip_in, find_source_in, find_target_in, list_migrations_in,
    list_sources_in, list_targets_in, storage_in,
};
use super::store::PostgresStore;
use super::writes::{
    define_migration_in, get_or_not_found, record_progress_in, record_source_in, record_target_in,
    set_state_in,
};
use crate::plan::valid::{Cloud, OsFamily, ValidPlan};
use crate::state::migrations::not_found;
use crate::state::{
    ClaimRecord, HookRunRecord, ImportMode, ImportSummary, LockInfo, MigrationDefinition,
    MigrationFailure, MigrationLock, MigrationRecord, MigrationState, MigrationStats, SourceRecord,
    StateBackend, StateError, StateExport, StorageRecord, TargetRecord, WaveCounts,
};

#[async_trait]
impl StateBackend for PostgresStore {
    async fn find_migration(&self, name: &str) -> Result<Option<MigrationRecord>, StateError> {
        find_migration_in(&*self.client().await, name).await
    }

    async fn target_storage(&self, migration: &str) -> Result<Vec<StorageRecord>, StateError> {
        storage_in(&*self.client().await, migration).await
    }

    async fn set_migration_state(
        &self,
        name: &str,
        state: MigrationState,
        failure: Option<&MigrationFailure>,
    ) -> Result<(), StateError> {
        set_state_in(&*self.client().await, name, state, failure).await
    }

    async fn record_progress(&self, name: &str, stats: &MigrationStats) -> Result<(), StateError> {
        record_progress_in(&*self.client().await, name, stats).await
    }

    async fn finish_migration(
        &self,
        name: &str,
        stats: &MigrationStats,
        vanished: &[String],
        storage: &[StorageRecord],
    ) -> Result<(), StateError> {
        PostgresStore::finish_migration(self, name, stats, vanished, storage)
            .await
            .map(drop)
    }

    async fn acquire_lock(
        &self,
        migration: &str,
        owner: &str,
    ) -> Result<Box<dyn MigrationLock>, StateError> {
        let claim = self.acquire_claim(migration, owner).await?;
        Ok(Box::new(claim))
    }

    async fn drop_unconfirmed(&self, migration: &str) -> Result<u64, StateError> {
        PostgresStore::drop_unconfirmed(self, migration).await
    }

    async fn unsynced_files(&self, migration: &str) -> Result<Vec<String>, StateError> {
        PostgresStore::unsynced_files(self, migration).await
    }

    async fn confirm_synced(&self, migration: &str, paths: &[String]) -> Result<(), StateError> {
        PostgresStore::confirm_synced(self, migration, paths).await
    }

    fn location(&self) -> String {
        self.redacted_url().to_string()
    }

    async fn record_plan(&self, plan: &ValidPlan) -> Result<Vec<MigrationRecord>, StateError> {
        PostgresStore::record_plan(self, plan).await
    }

    async fn record_source(
        &self,
        name: &str,
        ip: IpAddr,
        os: Option<OsFamily>,
        username: Option<&str>,
    ) -> Result<SourceRecord, StateError> {
        let mut client = self.client().await;
        let transaction = client.transaction().await?;
        let record = record_source_in(&transaction, name, ip, os, username).await?;
        transaction.commit().await?;
        Ok(record)
    }

    async fn record_target(
        &self,
        name: &str,
        cloud: Cloud,
        vm_ip: IpAddr,
        vm_os: Option<OsFamily>,
        vm_username: Option<&str>,
    ) -> Result<TargetRecord, StateError> {
        let client = self.client().await;
        record_target_in(&*client, name, cloud, vm_ip, vm_os, vm_username).await?;
        get_or_not_found(find_target_in(&*client, name).await?, "target", name)
    }

    async fn define_migration(
        &self,
        definition: &MigrationDefinition,
    ) -> Result<MigrationRecord, StateError> {
        let client = self.client().await;
        define_migration_in(&*client, definition).await?;
        find_migration_in(&*client, &definition.name)
            .await?
            .ok_or_else(|| not_found(&definition.name))
    }

    async fn migrations(&self) -> Result<Vec<MigrationRecord>, StateError> {
        list_migrations_in(&*self.client().await).await
    }

    async fn find_source(&self, name: &str) -> Result<Option<SourceRecord>, StateError> {
        find_source_in(&*self.client().await, name).await
    }

    async fn find_source_by_ip(&self, ip: &str) -> Result<Option<SourceRecord>, StateError> {
        find_source_by_ip_in(&*self.client().await, ip).await
    }

    async fn sources(&self) -> Result<Vec<SourceRecord>, StateError> {
        list_sources_in(&*self.client().await).await
    }

    async fn target(&self, name: &str) -> Result<TargetRecord, StateError> {
        let found = find_target_in(&*self.client().await, name).await?;
        get_or_not_found(found, "target", name)
    }

    async fn targets(&self) -> Result<Vec<TargetRecord>, StateError> {
        list_targets_in(&*self.client().await).await
    }

    async fn lock(&self, migration: &str) -> Result<Option<LockInfo>, StateError> {
        PostgresStore::lock(self, migration).await
    }

    async fn claims_of(
        &self,
        migrations: &[String],
    ) -> Result<HashMap<String, Vec<ClaimRecord>>, StateError> {
        PostgresStore::claims_of(self, migrations).await
    }

    async fn recover_stale_running(&self) -> Result<Vec<String>, StateError> {
        PostgresStore::recover_stale_running(self).await
    }

    async fn delete_migration(&self, name: &str) -> Result<(), StateError> {
        // The cascade takes its files, partial copies, storage and claims.
        let deleted = self
            .client()
            .await
            .execute("DELETE FROM migrations WHERE name = $1", &[&name])
            .await?;
        if deleted == 0 {
            return Err(not_found(name));
        }
        Ok(())
    }

    async fn delete_source(&self, name: &str, cascade: bool) -> Result<Vec<String>, StateError> {
        self.delete_named("source", "source", name, cascade).await
    }

    async fn delete_target(&self, name: &str, cascade: bool) -> Result<Vec<String>, StateError> {
        self.delete_named("target", "target", name, cascade).await
    }

    async fn export(&self) -> Result<StateExport, StateError> {
        PostgresStore::export(self).await
    }

    async fn import(
        &self,
        export: &StateExport,
        mode: ImportMode,
    ) -> Result<ImportSummary, StateError> {
        PostgresStore::import(self, export, mode).await
    }

    async fn ledger_counts(&self, migration: &str) -> Result<(u64, u64), StateError> {
        PostgresStore::ledger_counts(self, migration).await
    }

    async fn wave_counts(
        &self,
        migrations: &[String],
        since: Option<jiff::Timestamp>,
    ) -> Result<WaveCounts, StateError> {
        let rows = self
            .client()
            .await
            .query(
                "SELECT state, started_at FROM migrations WHERE name = ANY($1)",
                &[&migrations],
            )
            .await?;
        let mut recorded = Vec::with_capacity(rows.len());
        for row in rows {
            let state: String = row.try_get(0)?;
            let started_at: Option<jiff::Timestamp> = row.try_get(1)?;
            recorded.push((state.parse()?, started_at));
        }
        Ok(WaveCounts::tally(migrations.len(), recorded, since))
    }

    async fn record_hook_run(
        &self,
        migration: &str,
        run: &HookRunRecord,
    ) -> Result<(), StateError> {
        insert_hook_run_in(&*self.client().await, migration, run).await
    }

    async fn hook_runs_of(
        &self,
        migrations: &[String],
    ) -> Result<HashMap<String, Vec<HookRunRecord>>, StateError> {
        hook_runs_in(&*self.client().await, migrations).await
    }
}
