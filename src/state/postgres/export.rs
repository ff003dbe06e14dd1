//! The whole PostgreSQL state as the versioned JSON document `ferry state export` writes (the same
//! format as SQLite's, so state moves between the backends), and importing it back in one transaction.
//!
//! PostgreSQL keeps times to the microsecond: an export from SQLite (nanoseconds) imported here
//! keeps its times to the microsecond.

use jiff::Timestamp;
use tokio_postgres::GenericClient;
use tokio_postgres::types::Json;

use super::claims::{claims_in, insert_ended_claim_in};
use super::hook_runs::{hook_runs_in, insert_hook_run_in};
use super::ledger::{file_rows_in, insert_files_in, insert_partials_in, partials_in};
use super::records::{
    find_source_in, list_migrations_in, list_sources_in, list_targets_in, storage_in,
};
use super::store::{PostgresStore, constraint};
use super::writes::{lock_for_writing, replace_storage_in};
use crate::state::error::{IpChange, StateError};
use crate::state::export::{
    ExportedFile, ExportedPartial, ImportMode, ImportSummary, MigrationExport,
    STATE_EXPORT_VERSION, StateExport, canonical_ip, check_paths, ended, invalid,
};
use crate::state::ledger::{FileRecord, PartialRecord};
use crate::state::migrations::to_sql_u64;
use crate::state::sources::{SourceRecord, TargetRecord, os_text};

impl PostgresStore {
    /// Exports every source, target and migration (with storage, files and partial copies).
    pub async fn export(&self) -> Result<StateExport, StateError> {
        let mut client = self.client().await;
        // One snapshot: a run writing meanwhile cannot tear the export.
        let transaction = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let records = list_migrations_in(&transaction).await?;
        let names: Vec<String> = records.iter().map(|record| record.name.clone()).collect();
        let mut hook_runs = hook_runs_in(&transaction, &names).await?;
        let mut claims = claims_in(&transaction, &names).await?;
        let mut migrations = Vec::new();
        for record in records {
            let name = record.name.clone();
            migrations.push(MigrationExport {
                target_storage: storage_in(&transaction, &name).await?,
                copied_files: file_rows_in(&transaction, &name)
                    .await?
                    .into_iter()
                    .filter(|row| row.trusted_in(self.boot()))
                    .map(|row| ExportedFile {
                        path: row.record.path,
                        size: row.record.size,
                        modified_nanos: row.record.modified_nanos,
                        blake3: row.record.blake3,
                        unsynced_boot: row.unsynced_boot,
                    })
                    .collect(),
                partial_copies: partials_in(&transaction, &name)
                    .await?
                    .into_iter()
                    .map(|partial| ExportedPartial {
                        path: partial.path,
                        temporary_path: partial.temporary_path,
                        source_size: partial.source_size,
                        source_modified_nanos: partial.source_modified_nanos,
                    })
                    .collect(),
                hook_runs: hook_runs.remove(&name).unwrap_or_default(),
                claims: ended(claims.remove(&name).unwrap_or_default()),
                record,
            });
        }
        let export = StateExport {
            version: STATE_EXPORT_VERSION,
            exported_at: Timestamp::now(),
            sources: list_sources_in(&transaction).await?,
            targets: list_targets_in(&transaction).await?,
            migrations,
        };
        transaction.commit().await?;
        Ok(export)
    }

    /// Imports an export in one transaction: all of it or nothing. Refused, naming them, when
    /// it would change any recorded source's IP ([`StateError::ImportWouldChangeIp`]).
    pub async fn import(
        &self,
        export: &StateExport,
        mode: ImportMode,
    ) -> Result<ImportSummary, StateError> {
        if export.version != STATE_EXPORT_VERSION {
            return Err(StateError::UnsupportedExport {
                found: export.version,
                supported: STATE_EXPORT_VERSION,
            });
        }
        check_paths(export)?;
        let mut client = self.client().await;
        let transaction = client.transaction().await?;
        lock_for_writing(&transaction).await?;
        check_ips(&transaction, export).await?;
        if mode == ImportMode::Replace {
            transaction
                .batch_execute("DELETE FROM migrations; DELETE FROM targets; DELETE FROM sources;")
                .await?;
        }
        let mut summary = ImportSummary::default();
        for source in &export.sources {
            import_source(&transaction, source).await?;
            summary.sources += 1;
        }
        for target in &export.targets {
            import_target(&transaction, target).await?;
            summary.targets += 1;
        }
        for migration in &export.migrations {
            summary.files += import_migration(&transaction, migration).await?;
            summary.migrations += 1;
        }
        transaction.commit().await?;
        Ok(summary)
    }
}

async fn check_ips(client: &impl GenericClient, export: &StateExport) -> Result<(), StateError> {
    let mut changes = Vec::new();
    for source in &export.sources {
        let ip = canonical_ip(source)?;
        if let Some(recorded) = find_source_in(client, &source.name).await?
            && recorded.ip != ip
        {
            changes.push(IpChange {
                source: source.name.clone(),
                recorded: recorded.ip,
                requested: ip,
            });
        }
    }
    if changes.is_empty() {
        Ok(())
    } else {
        Err(StateError::ImportWouldChangeIp { changes })
    }
}

async fn import_source(
    client: &impl GenericClient,
    source: &SourceRecord,
) -> Result<(), StateError> {
    client
        .execute(
            "INSERT INTO sources (name, ip, os, username, recorded_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (name) DO UPDATE SET os = excluded.os, username = excluded.username,
                 recorded_at = excluded.recorded_at, updated_at = excluded.updated_at",
            &[
                &source.name,
                &canonical_ip(source)?,
                &source.os.map(os_text),
                &source.username,
                &source.recorded_at,
                &source.updated_at,
            ],
        )
        .await
        .map_err(|error| {
            constraint(error, |detail| {
                invalid(format!(
                    "source `{}` (IP {} may be recorded for another source): {detail}",
                    source.name, source.ip
                ))
            })
        })?;
    Ok(())
}

/// Inserts a target, or updates the one with its name in place.
async fn import_target(
    client: &impl GenericClient,
    target: &TargetRecord,
) -> Result<(), StateError> {
    client
        .execute(
            "INSERT INTO targets
                 (name, cloud, vm_ip, vm_os, vm_username, recorded_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (name) DO UPDATE SET cloud = excluded.cloud, vm_ip = excluded.vm_ip,
                 vm_os = excluded.vm_os, vm_username = excluded.vm_username,
                 recorded_at = excluded.recorded_at, updated_at = excluded.updated_at",
            &[
                &target.name,
                &target.cloud.as_str(),
                &target.vm_ip,
                &target.vm_os.map(os_text),
                &target.vm_username,
                &target.recorded_at,
                &target.updated_at,
            ],
        )
        .await
        .map_err(|error| {
            constraint(error, |detail| {
                invalid(format!("target `{}`: {detail}", target.name))
            })
        })?;
    Ok(())
}

/// Imports one migration, replacing any with the same name. Returns the number of files.
async fn import_migration(
    client: &impl GenericClient,
    migration: &MigrationExport,
) -> Result<usize, StateError> {
    let record = &migration.record;
    let attempts = i32::try_from(record.attempts).map_err(|_| invalid("attempts out of range"))?;
    // Deleting first cascades to the old files, partials, storage and claims.
    client
        .execute("DELETE FROM migrations WHERE name = $1", &[&record.name])
        .await?;
    client
        .execute(
            "INSERT INTO migrations (name, source, target, cloud, mounts, state, attempts,
                 last_error, error_retryable, started_at, finished_at, files, bytes,
                 skipped_files, skipped_bytes, created_at, updated_at, vanished)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18)",
            &[
                &record.name,
                &record.source,
                &record.target,
                &record.cloud.as_str(),
                &Json(&record.mounts),
                &record.state.as_str(),
                &attempts,
                &record.last_error,
                &record.error_retryable,
                &record.started_at,
                &record.finished_at,
                &to_sql_u64(record.stats.files, "files")?,
                &to_sql_u64(record.stats.bytes, "bytes")?,
                &to_sql_u64(record.stats.skipped_files, "skipped files")?,
                &to_sql_u64(record.stats.skipped_bytes, "skipped bytes")?,
                &record.created_at,
                &record.updated_at,
                &Json(&record.vanished),
            ],
        )
        .await
        .map_err(|error| {
            constraint(error, |detail| {
                invalid(format!(
                    "migration `{}` (its source and target must be in the state or the export): {detail}",
                    record.name
                ))
            })
        })?;
    replace_storage_in(client, &record.name, &migration.target_storage).await?;
    import_ledger(client, migration).await?;
    for run in &migration.hook_runs {
        insert_hook_run_in(client, &record.name, run).await?;
    }
    for claim in &migration.claims {
        insert_ended_claim_in(client, &record.name, claim).await?;
    }
    Ok(migration.copied_files.len())
}

/// The migration's file records (grouped by the boot that wrote them) and partial copies.
async fn import_ledger(
    client: &impl GenericClient,
    migration: &MigrationExport,
) -> Result<(), StateError> {
    let name = &migration.record.name;
    let mut by_boot: std::collections::BTreeMap<Option<&str>, Vec<FileRecord>> = Default::default();
    for file in &migration.copied_files {
        let boot = file
            .unsynced_boot
            .as_deref()
            .filter(|boot| !boot.is_empty());
        by_boot.entry(boot).or_default().push(FileRecord {
            path: file.path.clone(),
            size: file.size,
            modified_nanos: file.modified_nanos,
            blake3: file.blake3.clone(),
        });
    }
    for (boot, files) in &by_boot {
        insert_files_in(client, name, files, *boot).await?;
    }
    let partials: Vec<PartialRecord> = migration
        .partial_copies
        .iter()
        .map(|partial| PartialRecord {
            path: partial.path.clone(),
            temporary_path: partial.temporary_path.clone(),
            source_size: partial.source_size,
            source_modified_nanos: partial.source_modified_nanos,
        })
        .collect();
    insert_partials_in(client, name, &partials).await
}
