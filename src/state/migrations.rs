//! Migrations: their definition, their state machine (`not_started`, `running`, `error`, `success`), statistics and the target's resulting storage.

use std::str::FromStr;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::plan::valid::{Cloud, Migration, ValidPlan};
use crate::state::error::StateError;
use crate::state::sources::{parse_cloud, record_source_in, record_target_in};
use crate::state::store::Store;
use crate::state::time;

/// Where a migration stands. Exactly one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrationState {
    NotStarted,
    Running,
    Error,
    Success,
}

impl MigrationState {
    pub const ALL: [MigrationState; 4] = [
        MigrationState::NotStarted,
        MigrationState::Running,
        MigrationState::Error,
        MigrationState::Success,
    ];

    /// The stored and printed name (`not_started`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            MigrationState::NotStarted => "not_started",
            MigrationState::Running => "running",
            MigrationState::Error => "error",
            MigrationState::Success => "success",
        }
    }
}

impl std::fmt::Display for MigrationState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for MigrationState {
    type Err = StateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        MigrationState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| StateError::Corrupt {
                what: format!("migration state `{text}`"),
            })
    }
}

/// What a plan says about a migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationDefinition {
    pub name: String,
    pub source: String,
    pub target: String,
    pub cloud: Cloud,
    /// The selected mounts, as written in the plan.
    pub mounts: Vec<String>,
}

impl MigrationDefinition {
    /// What the plan says about one of its migrations.
    pub fn of(plan: &ValidPlan, migration: &Migration) -> Self {
        Self {
            name: migration.name.clone(),
            source: migration.source.clone(),
            target: migration.target.clone(),
            cloud: plan.target_of(migration).cloud,
            mounts: migration
                .mounts
                .iter()
                .map(|mount| mount.as_written().to_string())
                .collect(),
        }
    }
}

/// Why a migration ended in `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFailure {
    pub message: String,
    /// Whether running it again may succeed (a network error) or not (a full disk, bad credentials).
    pub retryable: bool,
}

/// Counters for a migration's last attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationStats {
    /// Files copied (or found already copied) and verified.
    pub files: u64,
    pub bytes: u64,
    /// Of those, files skipped because the ledger showed them unchanged.
    pub skipped_files: u64,
    pub skipped_bytes: u64,
}

/// One mount of the target VM's resulting storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageRecord {
    pub mount: String,
    pub size: u64,
}

/// A migration as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationRecord {
    pub name: String,
    pub source: String,
    pub target: String,
    pub cloud: Cloud,
    pub mounts: Vec<String>,
    pub state: MigrationState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub error_retryable: Option<bool>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    #[serde(flatten)]
    pub stats: MigrationStats,
    /// Files deleted from the source while the last attempt copied (not copied; target paths).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vanished: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const MIGRATION_COLUMNS: &str = "name, source, target, cloud, mounts, state, attempts, last_error, \
     error_retryable, started_at, finished_at, files, bytes, skipped_files, skipped_bytes, \
     created_at, updated_at, vanished";

/// Migration names as the JSON array that `json_each(?)` reads: one bound parameter for any
/// number of names (`WHERE migration IN (SELECT value FROM json_each(?1))`).
pub(crate) fn names_json(migrations: &[String]) -> String {
    serde_json::Value::from(migrations).to_string()
}

pub(crate) fn to_sql_u64(value: u64, what: &str) -> Result<i64, StateError> {
    i64::try_from(value).map_err(|_| StateError::Corrupt {
        what: format!("{what} {value} is too large to store"),
    })
}

pub(crate) fn from_sql_u64(value: i64, what: &str) -> Result<u64, StateError> {
    u64::try_from(value).map_err(|_| StateError::Corrupt {
        what: format!("negative {what} {value}"),
    })
}

fn migration_from_row(row: &Row<'_>) -> rusqlite::Result<Result<MigrationRecord, StateError>> {
    let name: String = row.get(0)?;
    let source: String = row.get(1)?;
    let target: String = row.get(2)?;
    let cloud: String = row.get(3)?;
    let mounts: String = row.get(4)?;
    let state: String = row.get(5)?;
    let attempts: i64 = row.get(6)?;
    let last_error: Option<String> = row.get(7)?;
    let error_retryable: Option<bool> = row.get(8)?;
    let started_at: Option<String> = row.get(9)?;
    let finished_at: Option<String> = row.get(10)?;
    let counters: [i64; 4] = [row.get(11)?, row.get(12)?, row.get(13)?, row.get(14)?];
    let created_at: String = row.get(15)?;
    let updated_at: String = row.get(16)?;
    let vanished: String = row.get(17)?;
    Ok((|| {
        Ok(MigrationRecord {
            cloud: parse_cloud(&cloud)?,
            mounts: serde_json::from_str(&mounts).map_err(|_| StateError::Corrupt {
                what: format!("mounts of migration `{name}`"),
            })?,
            state: state.parse()?,
            attempts: u32::try_from(attempts).map_err(|_| StateError::Corrupt {
                what: format!("attempts {attempts}"),
            })?,
            last_error,
            error_retryable,
            started_at: time::parse_optional(started_at)?,
            finished_at: time::parse_optional(finished_at)?,
            stats: MigrationStats {
                files: from_sql_u64(counters[0], "files")?,
                bytes: from_sql_u64(counters[1], "bytes")?,
                skipped_files: from_sql_u64(counters[2], "skipped files")?,
                skipped_bytes: from_sql_u64(counters[3], "skipped bytes")?,
            },
            vanished: serde_json::from_str(&vanished).map_err(|_| StateError::Corrupt {
                what: format!("vanished files of migration `{name}`"),
            })?,
            created_at: time::parse(&created_at)?,
            updated_at: time::parse(&updated_at)?,
            name,
            source,
            target,
        })
    })())
}

pub(crate) fn find_migration_in(
    connection: &Connection,
    name: &str,
) -> Result<Option<MigrationRecord>, StateError> {
    let sql = format!("SELECT {MIGRATION_COLUMNS} FROM migrations WHERE name = ?1");
    connection
        .query_row(&sql, [name], migration_from_row)
        .optional()?
        .transpose()
}

pub(crate) fn get_migration_in(
    connection: &Connection,
    name: &str,
) -> Result<MigrationRecord, StateError> {
    find_migration_in(connection, name)?.ok_or_else(|| not_found(name))
}

pub(crate) fn not_found(name: &str) -> StateError {
    StateError::NotFound {
        kind: "migration",
        name: name.to_string(),
    }
}

pub(crate) fn list_migrations_in(
    connection: &Connection,
) -> Result<Vec<MigrationRecord>, StateError> {
    let sql = format!("SELECT {MIGRATION_COLUMNS} FROM migrations ORDER BY rowid");
    let mut statement = connection.prepare(&sql)?;
    let rows = statement.query_map([], migration_from_row)?;
    rows.map(|row| row?).collect()
}

pub(crate) fn storage_in(
    connection: &Connection,
    migration: &str,
) -> Result<Vec<StorageRecord>, StateError> {
    let mut statement = connection
        .prepare("SELECT mount, size FROM target_storage WHERE migration = ?1 ORDER BY rowid")?;
    let rows = statement.query_map([migration], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
    })?;
    rows.map(|row| {
        let (mount, size) = row?;
        Ok(StorageRecord {
            mount,
            size: from_sql_u64(size, "size")?,
        })
    })
    .collect()
}

pub(crate) fn replace_storage_in(
    connection: &Connection,
    migration: &str,
    storage: &[StorageRecord],
) -> Result<(), StateError> {
    connection.execute(
        "DELETE FROM target_storage WHERE migration = ?1",
        [migration],
    )?;
    let mut insert = connection.prepare_cached(
        "INSERT INTO target_storage (migration, mount, size) VALUES (?1, ?2, ?3)",
    )?;
    for record in storage {
        insert.execute(params![
            migration,
            record.mount,
            to_sql_u64(record.size, "size")?
        ])?;
    }
    Ok(())
}

/// Inserts a new migration as `not_started`, or updates the definition of an existing one (its state is kept).
fn define_migration_in(
    connection: &Connection,
    definition: &MigrationDefinition,
) -> Result<(), StateError> {
    let mounts =
        serde_json::to_string(&definition.mounts).map_err(|error| StateError::Corrupt {
            what: format!("mounts: {error}"),
        })?;
    connection.execute(
        "INSERT INTO migrations (name, source, target, cloud, mounts, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
         ON CONFLICT (name) DO UPDATE SET source = excluded.source, target = excluded.target,
             cloud = excluded.cloud, mounts = excluded.mounts, updated_at = excluded.updated_at
         WHERE source IS NOT excluded.source OR target IS NOT excluded.target
             OR cloud IS NOT excluded.cloud OR mounts IS NOT excluded.mounts",
        params![
            definition.name,
            definition.source,
            definition.target,
            definition.cloud.as_str(),
            mounts,
            time::now().to_string()
        ],
    )?;
    Ok(())
}

impl Store {
    /// Records a plan's sources (checking every recorded IP), targets and migrations in one
    /// transaction: either all of it is recorded or nothing is.
    pub fn record_plan(&self, plan: &ValidPlan) -> Result<Vec<MigrationRecord>, StateError> {
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (name, source) in &plan.sources {
            let username = Some(source.credentials.username.as_str());
            record_source_in(&transaction, name, *source.ip, Some(source.os), username)?;
        }
        for (name, target) in &plan.targets {
            let vm = &target.vm;
            let username = Some(vm.credentials.username.as_str());
            record_target_in(
                &transaction,
                name,
                target.cloud,
                *vm.ip,
                Some(vm.os),
                username,
            )?;
        }
        let mut records = Vec::with_capacity(plan.migrations.len());
        for migration in &plan.migrations {
            let definition = MigrationDefinition::of(plan, migration);
            define_migration_in(&transaction, &definition)?;
            records.push(get_migration_in(&transaction, &migration.name)?);
        }
        transaction.commit()?;
        Ok(records)
    }

    /// Records a migration (as `not_started` when new) or updates its definition, keeping its
    /// state. Its source and target must be recorded first.
    pub fn define_migration(
        &self,
        definition: &MigrationDefinition,
    ) -> Result<MigrationRecord, StateError> {
        let connection = self.connection();
        define_migration_in(&connection, definition)?;
        get_migration_in(&connection, &definition.name)
    }

    /// The migration with this name ([`StateError::NotFound`] otherwise).
    pub fn migration(&self, name: &str) -> Result<MigrationRecord, StateError> {
        get_migration_in(&self.connection(), name)
    }

    /// The migration with this name, if recorded.
    pub fn find_migration(&self, name: &str) -> Result<Option<MigrationRecord>, StateError> {
        find_migration_in(&self.connection(), name)
    }

    /// Every migration, in the order they were first recorded.
    pub fn migrations(&self) -> Result<Vec<MigrationRecord>, StateError> {
        list_migrations_in(&self.connection())
    }

    /// The target VM's resulting storage recorded when the migration succeeded.
    pub fn target_storage(&self, migration: &str) -> Result<Vec<StorageRecord>, StateError> {
        storage_in(&self.connection(), migration)
    }

    /// Forgets a migration with its files, partial copies, storage and lock.
    pub fn delete_migration(&self, name: &str) -> Result<(), StateError> {
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if transaction.execute("DELETE FROM migrations WHERE name = ?1", [name])? == 0 {
            return Err(not_found(name));
        }
        transaction.execute("DELETE FROM locks WHERE migration = ?1", [name])?;
        transaction.commit()?;
        Ok(())
    }
}
