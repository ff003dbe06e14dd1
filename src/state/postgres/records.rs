//! Reading the PostgreSQL state: sources, targets, migrations and storage, from rows to the records `state` speaks.

use tokio_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::Json;

use crate::state::error::StateError;
use crate::state::migrations::{
    MigrationRecord, MigrationStats, StorageRecord, from_sql_u64, not_found,
};
use crate::state::sources::{SourceRecord, TargetRecord, parse_cloud, parse_os};

const SOURCE_COLUMNS: &str = "name, ip, os, username, recorded_at, updated_at";
const TARGET_COLUMNS: &str = "name, cloud, vm_ip, vm_os, vm_username, recorded_at, updated_at";
const MIGRATION_COLUMNS: &str = "name, source, target, cloud, mounts, state, attempts, last_error, \
     error_retryable, started_at, finished_at, files, bytes, skipped_files, skipped_bytes, \
     created_at, updated_at, vanished";

fn source_from_row(row: &Row) -> Result<SourceRecord, StateError> {
    Ok(SourceRecord {
        name: row.try_get(0)?,
        ip: row.try_get(1)?,
        os: parse_os(row.try_get(2)?)?,
        username: row.try_get(3)?,
        recorded_at: row.try_get(4)?,
        updated_at: row.try_get(5)?,
    })
}

fn target_from_row(row: &Row) -> Result<TargetRecord, StateError> {
    let cloud: String = row.try_get(1)?;
    Ok(TargetRecord {
        name: row.try_get(0)?,
        cloud: parse_cloud(&cloud)?,
        vm_ip: row.try_get(2)?,
        vm_os: parse_os(row.try_get(3)?)?,
        vm_username: row.try_get(4)?,
        recorded_at: row.try_get(5)?,
        updated_at: row.try_get(6)?,
    })
}

fn migration_from_row(row: &Row) -> Result<MigrationRecord, StateError> {
    let cloud: String = row.try_get(3)?;
    let state: String = row.try_get(5)?;
    let attempts: i32 = row.try_get(6)?;
    let Json(mounts): Json<Vec<String>> = row.try_get(4)?;
    let Json(vanished): Json<Vec<String>> = row.try_get(17)?;
    Ok(MigrationRecord {
        name: row.try_get(0)?,
        source: row.try_get(1)?,
        target: row.try_get(2)?,
        cloud: parse_cloud(&cloud)?,
        mounts,
        state: state.parse()?,
        attempts: u32::try_from(attempts).map_err(|_| StateError::Corrupt {
            what: format!("attempts {attempts}"),
        })?,
        last_error: row.try_get(7)?,
        error_retryable: row.try_get(8)?,
        started_at: row.try_get(9)?,
        finished_at: row.try_get(10)?,
        stats: MigrationStats {
            files: from_sql_u64(row.try_get(11)?, "files")?,
            bytes: from_sql_u64(row.try_get(12)?, "bytes")?,
            skipped_files: from_sql_u64(row.try_get(13)?, "skipped files")?,
            skipped_bytes: from_sql_u64(row.try_get(14)?, "skipped bytes")?,
        },
        vanished,
        created_at: row.try_get(15)?,
        updated_at: row.try_get(16)?,
    })
}

pub(super) async fn find_source_in(
    client: &impl GenericClient,
    name: &str,
) -> Result<Option<SourceRecord>, StateError> {
    let sql = format!("SELECT {SOURCE_COLUMNS} FROM sources WHERE name = $1");
    client
        .query_opt(&sql, &[&name])
        .await?
        .as_ref()
        .map(source_from_row)
        .transpose()
}

pub(super) async fn find_source_by_ip_in(
    client: &impl GenericClient,
    ip: &str,
) -> Result<Option<SourceRecord>, StateError> {
    let sql = format!("SELECT {SOURCE_COLUMNS} FROM sources WHERE ip = $1");
    client
        .query_opt(&sql, &[&ip])
        .await?
        .as_ref()
        .map(source_from_row)
        .transpose()
}

pub(super) async fn list_sources_in(
    client: &impl GenericClient,
) -> Result<Vec<SourceRecord>, StateError> {
    let sql = format!("SELECT {SOURCE_COLUMNS} FROM sources ORDER BY name");
    let rows = client.query(&sql, &[]).await?;
    rows.iter().map(source_from_row).collect()
}

pub(super) async fn find_target_in(
    client: &impl GenericClient,
    name: &str,
) -> Result<Option<TargetRecord>, StateError> {
    let sql = format!("SELECT {TARGET_COLUMNS} FROM targets WHERE name = $1");
    client
        .query_opt(&sql, &[&name])
        .await?
        .as_ref()
        .map(target_from_row)
        .transpose()
}

pub(super) async fn list_targets_in(
    client: &impl GenericClient,
) -> Result<Vec<TargetRecord>, StateError> {
    let sql = format!("SELECT {TARGET_COLUMNS} FROM targets ORDER BY name");
    let rows = client.query(&sql, &[]).await?;
    rows.iter().map(target_from_row).collect()
}

pub(super) async fn find_migration_in(
    client: &impl GenericClient,
    name: &str,
) -> Result<Option<MigrationRecord>, StateError> {
    let sql = format!("SELECT {MIGRATION_COLUMNS} FROM migrations WHERE name = $1");
    client
        .query_opt(&sql, &[&name])
        .await?
        .as_ref()
        .map(migration_from_row)
        .transpose()
}

pub(super) async fn get_migration_in(
    client: &impl GenericClient,
    name: &str,
) -> Result<MigrationRecord, StateError> {
    find_migration_in(client, name)
        .await?
        .ok_or_else(|| not_found(name))
}

/// Every migration, in the order they were first recorded.
pub(super) async fn list_migrations_in(
    client: &impl GenericClient,
) -> Result<Vec<MigrationRecord>, StateError> {
    let sql = format!("SELECT {MIGRATION_COLUMNS} FROM migrations ORDER BY seq");
    let rows = client.query(&sql, &[]).await?;
    rows.iter().map(migration_from_row).collect()
}

pub(super) async fn storage_in(
    client: &impl GenericClient,
    migration: &str,
) -> Result<Vec<StorageRecord>, StateError> {
    let rows = client
        .query(
            "SELECT mount, size FROM target_storage WHERE migration = $1 ORDER BY seq",
            &[&migration],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(StorageRecord {
                mount: row.try_get(0)?,
                size: from_sql_u64(row.try_get(1)?, "size")?,
            })
        })
        .collect()
}

/// The migrations that name this source (`column` = `source`) or target (`column` = `target`).
pub(super) async fn users_of(
    client: &impl GenericClient,
    column: &str,
    name: &str,
) -> Result<Vec<String>, StateError> {
    let sql = format!("SELECT name FROM migrations WHERE {column} = $1 ORDER BY seq");
    let rows = client.query(&sql, &[&name]).await?;
    Ok(rows
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?)
}
