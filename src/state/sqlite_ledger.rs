//! The SQLite store as the copy engine's ledger: copied files and interrupted copies, per migration, written in batches.

use rusqlite::{Connection, TransactionBehavior, params};

use crate::state::error::StateError;
use crate::state::ledger::{FileRecord, Ledger, LedgerError, PartialRecord, SYMLINK_RECORD};
use crate::state::migrations::to_sql_u64;
use crate::state::store::Store;

impl From<StateError> for LedgerError {
    fn from(error: StateError) -> Self {
        LedgerError(error.to_string())
    }
}

fn database(error: rusqlite::Error) -> LedgerError {
    LedgerError::from(StateError::from(error))
}

fn size_from_sql(value: i64) -> Result<u64, LedgerError> {
    u64::try_from(value).map_err(|_| LedgerError(format!("negative size {value} in the ledger")))
}

/// A row of the `files` table: the record, and (recorded before the target made it durable) the
/// boot ID of the system that wrote it.
pub(crate) struct FileRow {
    pub record: FileRecord,
    pub unsynced_boot: Option<String>,
}

impl FileRow {
    /// Whether the record can be trusted while `boot` runs: the file was durable when recorded,
    /// or it was written during this same boot (the system's cache still holds what it wrote).
    pub fn trusted_in(&self, boot: Option<&str>) -> bool {
        match &self.unsynced_boot {
            None => true,
            Some(written_in) => boot == Some(written_in.as_str()),
        }
    }
}

/// Every row of a migration's files, trusted or not, by path.
pub(crate) fn file_rows_in(
    connection: &Connection,
    migration: &str,
) -> Result<Vec<FileRow>, LedgerError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT path, size, modified_nanos, blake3, unsynced_boot FROM files
             WHERE migration = ?1 ORDER BY path",
        )
        .map_err(database)?;
    let rows = statement
        .query_map([migration], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, Option<i64>>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, Option<String>>(4)?,
            ))
        })
        .map_err(database)?;
    rows.map(|row| {
        let (path, size, modified_nanos, blake3, unsynced_boot) = row.map_err(database)?;
        Ok(FileRow {
            record: FileRecord {
                path,
                size: size_from_sql(size)?,
                modified_nanos,
                blake3,
            },
            unsynced_boot,
        })
    })
    .collect()
}

/// Inserts or replaces `files`; `unsynced_boot` names the boot that wrote them when the target
/// had not made them durable yet (`None`: durable).
pub(crate) fn insert_files_in(
    connection: &Connection,
    migration: &str,
    files: &[FileRecord],
    unsynced_boot: Option<&str>,
) -> Result<(), StateError> {
    let mut insert = connection.prepare_cached(
        "INSERT OR REPLACE INTO files (migration, path, size, modified_nanos, blake3, unsynced_boot)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for file in files {
        insert.execute(params![
            migration,
            file.path,
            to_sql_u64(file.size, "file size")?,
            file.modified_nanos,
            file.blake3,
            unsynced_boot
        ])?;
    }
    Ok(())
}

/// The claims (`PartialRecord::claim_of`) of a migration's files that cannot be trusted while
/// `boot` runs (`FileRow::trusted_in`: recorded before they were durable, by another boot), except
/// symlinks and paths that have a partial record already. Selected by the database, so a ledger
/// of trusted files costs nothing here.
fn untrusted_claims_in(
    connection: &Connection,
    migration: &str,
    boot: Option<&str>,
) -> Result<Vec<PartialRecord>, LedgerError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT path, size, modified_nanos FROM files
             WHERE migration = ?1 AND unsynced_boot IS NOT NULL AND unsynced_boot IS NOT ?2
                 AND blake3 IS NOT ?3
                 AND path NOT IN (SELECT path FROM partials WHERE migration = ?1)
             ORDER BY path",
        )
        .map_err(database)?;
    let rows = statement
        .query_map(params![migration, boot, SYMLINK_RECORD], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, Option<i64>>(2)?,
            ))
        })
        .map_err(database)?;
    rows.map(|row| {
        let (path, size, modified_nanos) = row.map_err(database)?;
        Ok(PartialRecord {
            temporary_path: path.clone(),
            path,
            source_size: size_from_sql(size)?,
            source_modified_nanos: modified_nanos,
        })
    })
    .collect()
}

pub(crate) fn partials_in(
    connection: &Connection,
    migration: &str,
) -> Result<Vec<PartialRecord>, LedgerError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT path, temporary_path, source_size, source_modified_nanos FROM partials
             WHERE migration = ?1 ORDER BY path",
        )
        .map_err(database)?;
    let rows = statement
        .query_map([migration], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, Option<i64>>(3)?,
            ))
        })
        .map_err(database)?;
    rows.map(|row| {
        let (path, temporary_path, source_size, source_modified_nanos) = row.map_err(database)?;
        Ok(PartialRecord {
            path,
            temporary_path,
            source_size: size_from_sql(source_size)?,
            source_modified_nanos,
        })
    })
    .collect()
}

pub(crate) fn insert_partial_in(
    connection: &Connection,
    migration: &str,
    partial: &PartialRecord,
) -> Result<(), StateError> {
    connection
        .prepare_cached(
            "INSERT OR REPLACE INTO partials
                 (migration, path, temporary_path, source_size, source_modified_nanos)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            migration,
            partial.path,
            partial.temporary_path,
            to_sql_u64(partial.source_size, "source size")?,
            partial.source_modified_nanos
        ])?;
    Ok(())
}

/// Every ledger write is one transaction, committed (durable against `kill -9`) before it returns.
impl Ledger for Store {
    fn files(&self, migration: &str) -> Result<Vec<FileRecord>, LedgerError> {
        let boot = self.boot();
        Ok(file_rows_in(&self.connection(), migration)?
            .into_iter()
            .filter(|row| row.trusted_in(boot))
            .map(|row| row.record)
            .collect())
    }

    fn record_files(&self, migration: &str, files: &[FileRecord]) -> Result<(), LedgerError> {
        self.insert_files(migration, files, None)
    }

    fn knows_boot(&self) -> bool {
        self.boot().is_some()
    }

    fn record_unsynced_files(
        &self,
        migration: &str,
        files: &[FileRecord],
    ) -> Result<(), LedgerError> {
        let Some(boot) = self.boot() else {
            return Err(LedgerError(
                "this system's boot ID is unknown, so files must be durable before they are recorded"
                    .to_string(),
            ));
        };
        self.insert_files(migration, files, Some(boot))
    }

    fn forget_files(&self, migration: &str, paths: &[String]) -> Result<(), LedgerError> {
        let mut connection = self.connection();
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(database)?;
        {
            let mut delete = transaction
                .prepare_cached("DELETE FROM files WHERE migration = ?1 AND path = ?2")
                .map_err(database)?;
            for path in paths {
                delete.execute(params![migration, path]).map_err(database)?;
            }
        }
        transaction.commit().map_err(database)
    }

    /// With, as claims, the records this boot cannot trust (see `drop_unconfirmed`, which turns
    /// them into such partial records): read-only commands see what a run will.
    fn partials(&self, migration: &str) -> Result<Vec<PartialRecord>, LedgerError> {
        let connection = self.connection();
        let mut partials = partials_in(&connection, migration)?;
        partials.extend(untrusted_claims_in(&connection, migration, self.boot())?);
        Ok(partials)
    }

    fn record_partial(&self, migration: &str, partial: &PartialRecord) -> Result<(), LedgerError> {
        Ok(insert_partial_in(&self.connection(), migration, partial)?)
    }

    fn forget_partial(&self, migration: &str, path: &str) -> Result<(), LedgerError> {
        self.connection()
            .execute(
                "DELETE FROM partials WHERE migration = ?1 AND path = ?2",
                params![migration, path],
            )
            .map_err(database)?;
        Ok(())
    }

    fn record_partials(
        &self,
        migration: &str,
        partials: &[PartialRecord],
    ) -> Result<(), LedgerError> {
        let mut connection = self.connection();
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(database)?;
        for partial in partials {
            insert_partial_in(&transaction, migration, partial)?;
        }
        transaction.commit().map_err(database)
    }

    fn forget_partials(&self, migration: &str, paths: &[String]) -> Result<(), LedgerError> {
        let mut connection = self.connection();
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(database)?;
        {
            let mut delete = transaction
                .prepare_cached("DELETE FROM partials WHERE migration = ?1 AND path = ?2")
                .map_err(database)?;
            for path in paths {
                delete.execute(params![migration, path]).map_err(database)?;
            }
        }
        transaction.commit().map_err(database)
    }
}

impl Store {
    fn insert_files(
        &self,
        migration: &str,
        files: &[FileRecord],
        unsynced_boot: Option<&str>,
    ) -> Result<(), LedgerError> {
        let mut connection = self.connection();
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(database)?;
        insert_files_in(&transaction, migration, files, unsynced_boot)?;
        transaction.commit().map_err(database)
    }

    /// How many copied files (not symlinks) and partial copies the ledger holds for a migration.
    pub fn ledger_counts(&self, migration: &str) -> Result<(u64, u64), StateError> {
        let connection = self.connection();
        let files: i64 = connection.query_row(
            "SELECT count(*) FROM files WHERE migration = ?1 AND blake3 IS NOT ?2",
            params![migration, SYMLINK_RECORD],
            |row| row.get(0),
        )?;
        let partials: i64 = connection.query_row(
            "SELECT count(*) FROM partials WHERE migration = ?1",
            [migration],
            |row| row.get(0),
        )?;
        Ok((
            u64::try_from(files).unwrap_or_default(),
            u64::try_from(partials).unwrap_or_default(),
        ))
    }
}
