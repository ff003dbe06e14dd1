//! Writing the PostgreSQL state: sources (whose IP never changes), targets, a plan's records, a migration's state transitions and storage, and deletes with RESTRICT semantics — the SQLite store's rules, statement for statement.

use std::net::IpAddr;

use tokio_postgres::GenericClient;
use tokio_postgres::types::Json;

use super::records::{find_source_by_ip_in, find_source_in, get_migration_in, users_of};
use super::store::{PostgresStore, STATE_WRITE_LOCK};
use crate::plan::valid::{Cloud, OsFamily, ValidPlan};
use crate::state::error::StateError;
use crate::state::migrations::{
    MigrationDefinition, MigrationFailure, MigrationRecord, MigrationState, MigrationStats,
    StorageRecord, not_found, to_sql_u64,
};
use crate::state::sources::{SourceRecord, os_text};
use crate::state::time;

/// Records a source, or refreshes its OS and username. The IP is checked, never changed.
pub(super) async fn record_source_in(
    client: &impl GenericClient,
    name: &str,
    ip: IpAddr,
    os: Option<OsFamily>,
    username: Option<&str>,
) -> Result<SourceRecord, StateError> {
    let ip_text = ip.to_string();
    let now = time::now();
    let os = os.map(os_text);
    if let Some(existing) = find_source_in(client, name).await? {
        if existing.ip != ip_text {
            return Err(StateError::IpImmutable {
                name: name.to_string(),
                recorded: existing.ip,
                requested: ip_text,
                recorded_at: existing.recorded_at,
            });
        }
        client
            .execute(
                "UPDATE sources SET os = $2, username = $3, updated_at = $4 WHERE name = $1",
                &[&name, &os, &username, &now],
            )
            .await?;
    } else {
        if let Some(other) = find_source_by_ip_in(client, &ip_text).await? {
            return Err(StateError::IpRecordedElsewhere {
                ip: ip_text,
                name: name.to_string(),
                other: other.name,
            });
        }
        client
            .execute(
                "INSERT INTO sources (name, ip, os, username, recorded_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $5)",
                &[&name, &ip_text, &os, &username, &now],
            )
            .await?;
    }
    find_source_in(client, name)
        .await?
        .ok_or_else(|| StateError::NotFound {
            kind: "source",
            name: name.to_string(),
        })
}

/// Records a target, or updates it (a target VM's IP may change).
pub(super) async fn record_target_in(
    client: &impl GenericClient,
    name: &str,
    cloud: Cloud,
    vm_ip: IpAddr,
    vm_os: Option<OsFamily>,
    vm_username: Option<&str>,
) -> Result<(), StateError> {
    client
        .execute(
            "INSERT INTO targets (name, cloud, vm_ip, vm_os, vm_username, recorded_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)
             ON CONFLICT (name) DO UPDATE SET cloud = excluded.cloud, vm_ip = excluded.vm_ip,
                 vm_os = excluded.vm_os, vm_username = excluded.vm_username,
                 updated_at = excluded.updated_at",
            &[
                &name,
                &cloud.as_str(),
                &vm_ip.to_string(),
                &vm_os.map(os_text),
                &vm_username,
                &time::now(),
            ],
        )
        .await?;
    Ok(())
}

/// Inserts a new migration as `not_started`, or updates the definition of an existing one (its
/// state is kept, and `updated_at` moves only when the definition changed).
pub(super) async fn define_migration_in(
    client: &impl GenericClient,
    definition: &MigrationDefinition,
) -> Result<(), StateError> {
    client
        .execute(
            "INSERT INTO migrations (name, source, target, cloud, mounts, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)
             ON CONFLICT (name) DO UPDATE SET source = excluded.source, target = excluded.target,
                 cloud = excluded.cloud, mounts = excluded.mounts, updated_at = excluded.updated_at
             WHERE migrations.source IS DISTINCT FROM excluded.source
                 OR migrations.target IS DISTINCT FROM excluded.target
                 OR migrations.cloud IS DISTINCT FROM excluded.cloud
                 OR migrations.mounts IS DISTINCT FROM excluded.mounts",
            &[
                &definition.name,
                &definition.source,
                &definition.target,
                &definition.cloud.as_str(),
                &Json(&definition.mounts),
                &time::now(),
            ],
        )
        .await?;
    Ok(())
}

pub(super) async fn replace_storage_in(
    client: &impl GenericClient,
    migration: &str,
    storage: &[StorageRecord],
) -> Result<(), StateError> {
    client
        .execute(
            "DELETE FROM target_storage WHERE migration = $1",
            &[&migration],
        )
        .await?;
    let mounts: Vec<&str> = storage.iter().map(|record| record.mount.as_str()).collect();
    let sizes = storage
        .iter()
        .map(|record| to_sql_u64(record.size, "size"))
        .collect::<Result<Vec<i64>, _>>()?;
    client
        .execute(
            "INSERT INTO target_storage (migration, mount, size)
             SELECT $1, mount, size FROM UNNEST($2::text[], $3::bigint[])
                 WITH ORDINALITY AS given (mount, size, position) ORDER BY position",
            &[&migration, &mounts, &sizes],
        )
        .await?;
    Ok(())
}

/// Moves a migration to `state` (see `Store::set_migration_state` for what each one sets).
pub(super) async fn set_state_in(
    client: &impl GenericClient,
    name: &str,
    state: MigrationState,
    failure: Option<&MigrationFailure>,
) -> Result<(), StateError> {
    let now = time::now();
    let changed =
        match state {
            MigrationState::Running => {
                client
                    .execute(
                        "UPDATE migrations SET state = 'running', attempts = attempts + 1,
                         started_at = $2, finished_at = NULL, last_error = NULL,
                         error_retryable = NULL, files = 0, bytes = 0, skipped_files = 0,
                         skipped_bytes = 0, vanished = '[]', updated_at = $2
                     WHERE name = $1",
                        &[&name, &now],
                    )
                    .await?
            }
            MigrationState::Error => {
                let message = failure.map_or("failed (no reason recorded)", |f| f.message.as_str());
                let retryable = failure.map(|f| f.retryable);
                client
                    .execute(
                        "UPDATE migrations SET state = 'error', finished_at = $2, last_error = $3,
                         error_retryable = $4, updated_at = $2 WHERE name = $1",
                        &[&name, &now, &message, &retryable],
                    )
                    .await?
            }
            MigrationState::Success => client
                .execute(
                    "UPDATE migrations SET state = 'success', finished_at = $2, last_error = NULL,
                         error_retryable = NULL, updated_at = $2 WHERE name = $1",
                    &[&name, &now],
                )
                .await?,
            MigrationState::NotStarted => {
                client
                    .execute(
                        "UPDATE migrations SET state = 'not_started', started_at = NULL,
                         finished_at = NULL, last_error = NULL, error_retryable = NULL,
                         updated_at = $2 WHERE name = $1",
                        &[&name, &now],
                    )
                    .await?
            }
        };
    if changed == 0 {
        return Err(not_found(name));
    }
    Ok(())
}

pub(super) async fn record_progress_in(
    client: &impl GenericClient,
    name: &str,
    stats: &MigrationStats,
) -> Result<(), StateError> {
    let changed = client
        .execute(
            "UPDATE migrations SET files = $2, bytes = $3, skipped_files = $4, skipped_bytes = $5,
                 updated_at = $6 WHERE name = $1",
            &[
                &name,
                &to_sql_u64(stats.files, "files")?,
                &to_sql_u64(stats.bytes, "bytes")?,
                &to_sql_u64(stats.skipped_files, "skipped files")?,
                &to_sql_u64(stats.skipped_bytes, "skipped bytes")?,
                &time::now(),
            ],
        )
        .await?;
    if changed == 0 {
        return Err(not_found(name));
    }
    Ok(())
}

impl PostgresStore {
    /// Records a plan's sources (checking every recorded IP), targets and migrations in one
    /// transaction: either all of it is recorded or nothing is.
    pub async fn record_plan(&self, plan: &ValidPlan) -> Result<Vec<MigrationRecord>, StateError> {
        let mut client = self.client().await;
        let transaction = client.transaction().await?;
        lock_for_writing(&transaction).await?;
        for (name, source) in &plan.sources {
            let username = Some(source.credentials.username.as_str());
            record_source_in(&transaction, name, *source.ip, Some(source.os), username).await?;
        }
        for (name, target) in &plan.targets {
            let vm = &target.vm;
            let username = Some(vm.credentials.username.as_str());
            let (cloud, os) = (target.cloud, Some(vm.os));
            record_target_in(&transaction, name, cloud, *vm.ip, os, username).await?;
        }
        let mut records = Vec::with_capacity(plan.migrations.len());
        for migration in &plan.migrations {
            let definition = MigrationDefinition::of(plan, migration);
            define_migration_in(&transaction, &definition).await?;
            records.push(get_migration_in(&transaction, &migration.name).await?);
        }
        transaction.commit().await?;
        Ok(records)
    }

    /// Marks a migration `success` with its counters, vanished files and storage, at once.
    pub async fn finish_migration(
        &self,
        name: &str,
        stats: &MigrationStats,
        vanished: &[String],
        storage: &[StorageRecord],
    ) -> Result<MigrationRecord, StateError> {
        let mut client = self.client().await;
        let transaction = client.transaction().await?;
        record_progress_in(&transaction, name, stats).await?;
        transaction
            .execute(
                "UPDATE migrations SET vanished = $2 WHERE name = $1",
                &[&name, &Json(vanished)],
            )
            .await?;
        set_state_in(&transaction, name, MigrationState::Success, None).await?;
        replace_storage_in(&transaction, name, storage).await?;
        let record = get_migration_in(&transaction, name).await?;
        transaction.commit().await?;
        Ok(record)
    }

    /// Forgets a source (`column` = `source`) or target (`column` = `target`): refused while
    /// migrations name it unless `cascade`, which deletes them (and their files) too.
    pub(super) async fn delete_named(
        &self,
        column: &str,
        kind: &'static str,
        name: &str,
        cascade: bool,
    ) -> Result<Vec<String>, StateError> {
        let table = if column == "source" {
            "sources"
        } else {
            "targets"
        };
        let mut client = self.client().await;
        let transaction = client.transaction().await?;
        lock_for_writing(&transaction).await?;
        let users = users_of(&transaction, column, name).await?;
        if !users.is_empty() && !cascade {
            return Err(StateError::InUse {
                kind,
                name: name.to_string(),
                migrations: users,
            });
        }
        transaction
            .execute("DELETE FROM migrations WHERE name = ANY($1)", &[&users])
            .await?;
        let sql = format!("DELETE FROM {table} WHERE name = $1");
        if transaction.execute(&sql, &[&name]).await? == 0 {
            return Err(StateError::NotFound {
                kind,
                name: name.to_string(),
            });
        }
        transaction.commit().await?;
        Ok(users)
    }
}

/// Serializes this transaction against every other writer of related rows, in any process.
pub(super) async fn lock_for_writing(client: &impl GenericClient) -> Result<(), StateError> {
    client
        .execute("SELECT pg_advisory_xact_lock($1)", &[&STATE_WRITE_LOCK])
        .await?;
    Ok(())
}

/// The record found, or [`StateError::NotFound`] naming it.
pub(super) fn get_or_not_found<T>(
    found: Option<T>,
    kind: &'static str,
    name: &str,
) -> Result<T, StateError> {
    found.ok_or_else(|| StateError::NotFound {
        kind,
        name: name.to_string(),
    })
}
