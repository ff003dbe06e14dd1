//! The whole state as one versioned JSON document, and importing it back in one transaction.

use std::net::IpAddr;

use jiff::Timestamp;
use rusqlite::{Connection, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::relative_path::RelativePath;
use crate::state::claims::{ClaimRecord, claims_in, insert_ended_claim_in};
use crate::state::error::{IpChange, StateError};
use crate::state::hook_runs::{HookRunRecord, hook_runs_in, insert_hook_run_in};
use crate::state::ledger::{FileRecord, PartialRecord};
use crate::state::migrations::{
    MigrationRecord, list_migrations_in, replace_storage_in, storage_in, to_sql_u64,
};
use crate::state::sources::{
    SourceRecord, TargetRecord, find_source_in, list_sources_in, list_targets_in, os_text,
};
use crate::state::sqlite_ledger::{file_rows_in, insert_files_in, insert_partial_in, partials_in};
use crate::state::store::Store;

/// The export format's version. Bump it when a field changes meaning or disappears.
pub const STATE_EXPORT_VERSION: u32 = 1;

/// Everything in the store except locks (they belong to running processes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateExport {
    pub version: u32,
    pub exported_at: Timestamp,
    pub sources: Vec<SourceRecord>,
    pub targets: Vec<TargetRecord>,
    pub migrations: Vec<MigrationExport>,
}

/// A migration with what it needs to resume (the target's storage, the copied files and partial
/// copies), its hook runs and its claims history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationExport {
    #[serde(flatten)]
    pub record: MigrationRecord,
    #[serde(default)]
    pub target_storage: Vec<crate::state::migrations::StorageRecord>,
    /// The ledger's copied files (named apart from the record's `files` counter).
    #[serde(default)]
    pub copied_files: Vec<ExportedFile>,
    #[serde(default)]
    pub partial_copies: Vec<ExportedPartial>,
    /// The hook commands runs ran for it (masked), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hook_runs: Vec<HookRunRecord>,
    /// Its claims that ended, oldest first (who ran it, when, how it ended). A live claim
    /// belongs to a running process, like a lock, and is left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<ClaimRecord>,
}

/// [`FileRecord`] in the export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedFile {
    pub path: String,
    pub size: u64,
    #[serde(default)]
    pub modified_nanos: Option<i64>,
    pub blake3: String,
    /// The boot ID of the system that wrote the file, when it was recorded before the target
    /// made it durable and no sync has confirmed it since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsynced_boot: Option<String>,
}

/// [`PartialRecord`] in the export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedPartial {
    pub path: String,
    pub temporary_path: String,
    pub source_size: u64,
    #[serde(default)]
    pub source_modified_nanos: Option<i64>,
}

/// How an import meets the existing state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Each source, target and migration in the export replaces the one with the same name
    /// (a migration whole: its files, partial copies and storage); objects the export lacks stay.
    /// A source keeps its recorded IP, and a target that migrations refer to is updated in place,
    /// so importing an export into the state it came from changes nothing.
    Merge,
    /// The state becomes exactly the export (sources absent from it are forgotten).
    Replace,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportSummary {
    pub sources: usize,
    pub targets: usize,
    pub migrations: usize,
    pub files: usize,
}

impl Store {
    /// Exports every source, target and migration (with storage, files and partial copies).
    pub fn export(&self) -> Result<StateExport, StateError> {
        let connection = self.connection();
        let records = list_migrations_in(&connection)?;
        let names: Vec<String> = records.iter().map(|record| record.name.clone()).collect();
        let mut hook_runs = hook_runs_in(&connection, &names)?;
        let mut claims = claims_in(&connection, &names)?;
        let mut migrations = Vec::new();
        for record in records {
            let name = record.name.clone();
            let ledger =
                |error: crate::state::ledger::LedgerError| StateError::Corrupt { what: error.0 };
            migrations.push(MigrationExport {
                target_storage: storage_in(&connection, &name)?,
                // A record an earlier boot wrote before its file was durable is not trusted any
                // more: it is left out, like the file it may have lost.
                copied_files: file_rows_in(&connection, &name)
                    .map_err(ledger)?
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
                partial_copies: partials_in(&connection, &name)
                    .map_err(ledger)?
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
        Ok(StateExport {
            version: STATE_EXPORT_VERSION,
            exported_at: Timestamp::now(),
            sources: list_sources_in(&connection)?,
            targets: list_targets_in(&connection)?,
            migrations,
        })
    }

    /// Imports an export in one transaction: all of it or nothing. Refused, naming them, when
    /// it would change any recorded source's IP ([`StateError::ImportWouldChangeIp`]).
    pub fn import(
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
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        check_ips(&transaction, export)?;
        if mode == ImportMode::Replace {
            transaction.execute_batch(
                "DELETE FROM migrations; DELETE FROM targets; DELETE FROM sources;",
            )?;
        }
        let mut summary = ImportSummary::default();
        for source in &export.sources {
            import_source(&transaction, source)?;
            summary.sources += 1;
        }
        for target in &export.targets {
            import_target(&transaction, target)?;
            summary.targets += 1;
        }
        for migration in &export.migrations {
            summary.files += import_migration(&transaction, migration)?;
            summary.migrations += 1;
        }
        transaction.commit()?;
        Ok(summary)
    }
}

/// The claims an export keeps: those that ended.
pub(crate) fn ended(claims: Vec<ClaimRecord>) -> Vec<ClaimRecord> {
    claims
        .into_iter()
        .filter(|claim| claim.ended_at.is_some())
        .collect()
}

pub(crate) fn invalid(reason: impl Into<String>) -> StateError {
    StateError::ImportInvalid {
        reason: reason.into(),
    }
}

/// Canonical IP text, or a clear refusal.
pub(crate) fn canonical_ip(source: &SourceRecord) -> Result<String, StateError> {
    source
        .ip
        .parse::<IpAddr>()
        .map(|ip| ip.to_string())
        .map_err(|_| {
            invalid(format!(
                "source `{}` has an invalid IP `{}`",
                source.name, source.ip
            ))
        })
}

fn check_ips(connection: &Connection, export: &StateExport) -> Result<(), StateError> {
    let mut changes = Vec::new();
    for source in &export.sources {
        let ip = canonical_ip(source)?;
        if let Some(recorded) = find_source_in(connection, &source.name)?
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

/// Refuses file records whose paths could lead outside a target: every path a migration's
/// records name must be a [`RelativePath`] below the target root (no `..`, no leading `/`).
pub(crate) fn check_paths(export: &StateExport) -> Result<(), StateError> {
    for migration in &export.migrations {
        let files = migration.copied_files.iter().map(|file| &file.path);
        let partials = migration
            .partial_copies
            .iter()
            .flat_map(|partial| [&partial.path, &partial.temporary_path]);
        for path in files.chain(partials) {
            if RelativePath::new(path).is_none_or(|path| path.is_root()) {
                return Err(invalid(format!(
                    "migration `{}` records the file path {path:?}, which is not a relative path below the target (no `..`, no leading `/`, no empty part)",
                    migration.record.name
                )));
            }
        }
    }
    Ok(())
}

/// Maps a constraint failure to a refusal that names the object.
fn constraint(what: String) -> impl FnOnce(rusqlite::Error) -> StateError {
    move |error| match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => invalid(format!("{what}: {error}")),
        _ => StateError::Database(error),
    }
}

fn import_source(connection: &Connection, source: &SourceRecord) -> Result<(), StateError> {
    connection
        .execute(
            "INSERT INTO sources (name, ip, os, username, recorded_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (name) DO UPDATE SET os = excluded.os, username = excluded.username,
                 recorded_at = excluded.recorded_at, updated_at = excluded.updated_at",
            params![
                source.name,
                canonical_ip(source)?,
                source.os.map(os_text),
                source.username,
                source.recorded_at.to_string(),
                source.updated_at.to_string()
            ],
        )
        .map_err(constraint(format!(
            "source `{}` (IP {} may be recorded for another source)",
            source.name, source.ip
        )))?;
    Ok(())
}

/// Inserts a target, or updates the one with its name in place (`INSERT OR REPLACE` would delete
/// it first, which the migrations that refer to it forbid).
fn import_target(connection: &Connection, target: &TargetRecord) -> Result<(), StateError> {
    connection
        .execute(
            "INSERT INTO targets
                 (name, cloud, vm_ip, vm_os, vm_username, recorded_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (name) DO UPDATE SET cloud = excluded.cloud, vm_ip = excluded.vm_ip,
                 vm_os = excluded.vm_os, vm_username = excluded.vm_username,
                 recorded_at = excluded.recorded_at, updated_at = excluded.updated_at",
            params![
                target.name,
                target.cloud.as_str(),
                target.vm_ip,
                target.vm_os.map(os_text),
                target.vm_username,
                target.recorded_at.to_string(),
                target.updated_at.to_string()
            ],
        )
        .map_err(constraint(format!("target `{}`", target.name)))?;
    Ok(())
}

/// Imports one migration, replacing any with the same name. Returns the number of files.
fn import_migration(
    connection: &Connection,
    migration: &MigrationExport,
) -> Result<usize, StateError> {
    let record = &migration.record;
    let mounts =
        serde_json::to_string(&record.mounts).map_err(|error| invalid(error.to_string()))?;
    let vanished =
        serde_json::to_string(&record.vanished).map_err(|error| invalid(error.to_string()))?;
    // Deleting first cascades to the old files, partials and storage.
    connection.execute("DELETE FROM migrations WHERE name = ?1", [&record.name])?;
    connection
        .execute(
            "INSERT INTO migrations (name, source, target, cloud, mounts, state, attempts,
                 last_error, error_retryable, started_at, finished_at, files, bytes,
                 skipped_files, skipped_bytes, created_at, updated_at, vanished)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18)",
            params![
                record.name,
                record.source,
                record.target,
                record.cloud.as_str(),
                mounts,
                record.state.as_str(),
                record.attempts,
                record.last_error,
                record.error_retryable,
                record.started_at.map(|at| at.to_string()),
                record.finished_at.map(|at| at.to_string()),
                to_sql_u64(record.stats.files, "files")?,
                to_sql_u64(record.stats.bytes, "bytes")?,
                to_sql_u64(record.stats.skipped_files, "skipped files")?,
                to_sql_u64(record.stats.skipped_bytes, "skipped bytes")?,
                record.created_at.to_string(),
                record.updated_at.to_string(),
                vanished
            ],
        )
        .map_err(constraint(format!(
            "migration `{}` (its source and target must be in the state or the export)",
            record.name
        )))?;
    replace_storage_in(connection, &record.name, &migration.target_storage)?;
    for file in &migration.copied_files {
        let record_of_file = FileRecord {
            path: file.path.clone(),
            size: file.size,
            modified_nanos: file.modified_nanos,
            blake3: file.blake3.clone(),
        };
        let unsynced_boot = file
            .unsynced_boot
            .as_deref()
            .filter(|boot| !boot.is_empty());
        insert_files_in(
            connection,
            &record.name,
            std::slice::from_ref(&record_of_file),
            unsynced_boot,
        )?;
    }
    for partial in &migration.partial_copies {
        let partial = PartialRecord {
            path: partial.path.clone(),
            temporary_path: partial.temporary_path.clone(),
            source_size: partial.source_size,
            source_modified_nanos: partial.source_modified_nanos,
        };
        insert_partial_in(connection, &record.name, &partial)?;
    }
    for run in &migration.hook_runs {
        insert_hook_run_in(connection, &record.name, run)?;
    }
    for claim in &migration.claims {
        insert_ended_claim_in(connection, &record.name, claim)?;
    }
    Ok(migration.copied_files.len())
}
