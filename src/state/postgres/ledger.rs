//! The PostgreSQL store as the copy engine's ledger, and its records of files not yet durable.
//!
//! The `Ledger` is synchronous (the engine calls it per batch, from tasks and blocking threads);
//! each call waits on the store's runtime (`PostgresStore::wait`), on its second connection. A
//! batch is one statement over arrays (`UNNEST`), never one round trip per file, and each call
//! commits before it returns.

use tokio_postgres::GenericClient;

use super::store::PostgresStore;
use crate::state::error::StateError;
use crate::state::ledger::{FileRecord, Ledger, LedgerError, PartialRecord, SYMLINK_RECORD};
use crate::state::migrations::{from_sql_u64, to_sql_u64};

/// A row of `files`: the record and, when it was not durable yet, the boot that wrote it.
pub(super) struct FileRow {
    pub record: FileRecord,
    pub unsynced_boot: Option<String>,
}

impl FileRow {
    /// Whether the record can be trusted while `boot` runs (see the SQLite ledger).
    pub fn trusted_in(&self, boot: Option<&str>) -> bool {
        self.unsynced_boot
            .as_deref()
            .is_none_or(|written_in| boot == Some(written_in))
    }
}

pub(super) async fn file_rows_in(
    client: &impl GenericClient,
    migration: &str,
) -> Result<Vec<FileRow>, StateError> {
    let rows = client
        .query(
            "SELECT path, size, modified_nanos, blake3, unsynced_boot FROM files
             WHERE migration = $1 ORDER BY path",
            &[&migration],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(FileRow {
                record: FileRecord {
                    path: row.try_get(0)?,
                    size: from_sql_u64(row.try_get(1)?, "file size")?,
                    modified_nanos: row.try_get(2)?,
                    blake3: row.try_get(3)?,
                },
                unsynced_boot: row.try_get(4)?,
            })
        })
        .collect()
}

/// Inserts or replaces `files` in one statement; the last record of a path given twice wins.
pub(super) async fn insert_files_in(
    client: &impl GenericClient,
    migration: &str,
    files: &[FileRecord],
    unsynced_boot: Option<&str>,
) -> Result<(), StateError> {
    let mut latest: std::collections::BTreeMap<&str, &FileRecord> = Default::default();
    for file in files {
        latest.insert(&file.path, file);
    }
    let paths: Vec<&str> = latest.keys().copied().collect();
    let sizes = latest
        .values()
        .map(|file| to_sql_u64(file.size, "file size"))
        .collect::<Result<Vec<i64>, _>>()?;
    let modified: Vec<Option<i64>> = latest.values().map(|file| file.modified_nanos).collect();
    let hashes: Vec<&str> = latest.values().map(|file| file.blake3.as_str()).collect();
    client
        .execute(
            "INSERT INTO files (migration, path, size, modified_nanos, blake3, unsynced_boot)
             SELECT $1, path, size, modified_nanos, blake3, $6
             FROM UNNEST($2::text[], $3::bigint[], $4::bigint[], $5::text[])
                 AS given (path, size, modified_nanos, blake3)
             ON CONFLICT (migration, path) DO UPDATE SET size = excluded.size,
                 modified_nanos = excluded.modified_nanos, blake3 = excluded.blake3,
                 unsynced_boot = excluded.unsynced_boot",
            &[
                &migration,
                &paths,
                &sizes,
                &modified,
                &hashes,
                &unsynced_boot,
            ],
        )
        .await?;
    Ok(())
}

pub(super) async fn partials_in(
    client: &impl GenericClient,
    migration: &str,
) -> Result<Vec<PartialRecord>, StateError> {
    let rows = client
        .query(
            "SELECT path, temporary_path, source_size, source_modified_nanos FROM partials
             WHERE migration = $1 ORDER BY path",
            &[&migration],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(PartialRecord {
                path: row.try_get(0)?,
                temporary_path: row.try_get(1)?,
                source_size: from_sql_u64(row.try_get(2)?, "source size")?,
                source_modified_nanos: row.try_get(3)?,
            })
        })
        .collect()
}

/// Inserts or replaces partial records in one statement; the last of a path given twice wins.
pub(super) async fn insert_partials_in(
    client: &impl GenericClient,
    migration: &str,
    partials: &[PartialRecord],
) -> Result<(), StateError> {
    let mut latest: std::collections::BTreeMap<&str, &PartialRecord> = Default::default();
    for partial in partials {
        latest.insert(&partial.path, partial);
    }
    let paths: Vec<&str> = latest.keys().copied().collect();
    let temporary: Vec<&str> = latest
        .values()
        .map(|partial| partial.temporary_path.as_str())
        .collect();
    let sizes = latest
        .values()
        .map(|partial| to_sql_u64(partial.source_size, "source size"))
        .collect::<Result<Vec<i64>, _>>()?;
    let modified: Vec<Option<i64>> = latest
        .values()
        .map(|partial| partial.source_modified_nanos)
        .collect();
    client
        .execute(
            "INSERT INTO partials
                 (migration, path, temporary_path, source_size, source_modified_nanos)
             SELECT $1, path, temporary_path, source_size, source_modified_nanos
             FROM UNNEST($2::text[], $3::text[], $4::bigint[], $5::bigint[])
                 AS given (path, temporary_path, source_size, source_modified_nanos)
             ON CONFLICT (migration, path) DO UPDATE SET
                 temporary_path = excluded.temporary_path, source_size = excluded.source_size,
                 source_modified_nanos = excluded.source_modified_nanos",
            &[&migration, &paths, &temporary, &sizes, &modified],
        )
        .await?;
    Ok(())
}

/// Deletes the rows of `table` (`files` or `partials`) at `paths`.
async fn delete_paths(
    store: &PostgresStore,
    table: &str,
    migration: &str,
    paths: &[String],
) -> Result<(), StateError> {
    let sql = format!("DELETE FROM {table} WHERE migration = $1 AND path = ANY($2)");
    store
        .blocking_client()
        .await
        .execute(&sql, &[&migration, &paths])
        .await?;
    Ok(())
}

impl PostgresStore {
    async fn trusted_files(&self, migration: &str) -> Result<Vec<FileRecord>, StateError> {
        let rows = file_rows_in(&*self.blocking_client().await, migration).await?;
        Ok(rows
            .into_iter()
            .filter(|row| row.trusted_in(self.boot()))
            .map(|row| row.record)
            .collect())
    }

    async fn insert_files(
        &self,
        migration: &str,
        files: &[FileRecord],
        unsynced_boot: Option<&str>,
    ) -> Result<(), StateError> {
        insert_files_in(
            &*self.blocking_client().await,
            migration,
            files,
            unsynced_boot,
        )
        .await
    }

    /// Recorded partials, with (as claims) the file records this boot cannot trust.
    async fn partials_and_claims(&self, migration: &str) -> Result<Vec<PartialRecord>, StateError> {
        let client = self.blocking_client().await;
        let mut partials = partials_in(&*client, migration).await?;
        let untrusted: Vec<PartialRecord> = file_rows_in(&*client, migration)
            .await?
            .into_iter()
            .filter(|row| !row.trusted_in(self.boot()) && !row.record.is_symlink())
            .filter(|row| {
                !partials
                    .iter()
                    .any(|partial| partial.path == row.record.path)
            })
            .map(|row| PartialRecord::claim_of(&row.record))
            .collect();
        partials.extend(untrusted);
        Ok(partials)
    }

    /// The paths of the migration's files written during this boot and not yet confirmed durable.
    pub async fn unsynced_files(&self, migration: &str) -> Result<Vec<String>, StateError> {
        let Some(boot) = self.boot() else {
            return Ok(Vec::new());
        };
        let rows = self
            .client()
            .await
            .query(
                "SELECT path FROM files WHERE migration = $1 AND unsynced_boot = $2 ORDER BY path",
                &[&migration, &boot],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?)
    }

    /// Marks `paths` (written during this boot) durable, once the target has synced them.
    pub async fn confirm_synced(
        &self,
        migration: &str,
        paths: &[String],
    ) -> Result<(), StateError> {
        let Some(boot) = self.boot() else {
            return Ok(());
        };
        self.client()
            .await
            .execute(
                "UPDATE files SET unsynced_boot = NULL
                 WHERE migration = $1 AND path = ANY($2) AND unsynced_boot = $3",
                &[&migration, &paths, &boot],
            )
            .await?;
        Ok(())
    }

    /// Drops the records of files an earlier boot wrote and never confirmed, each kept as
    /// ferry's claim on its path (a partial record). Returns how many.
    pub async fn drop_unconfirmed(&self, migration: &str) -> Result<u64, StateError> {
        let mut client = self.client().await;
        let transaction = client.transaction().await?;
        let condition = "migration = $1 AND unsynced_boot IS NOT NULL
                         AND unsynced_boot IS DISTINCT FROM $2 AND blake3 <> $3";
        let parameters: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
            [&migration, &self.boot(), &SYMLINK_RECORD];
        transaction
            .execute(
                &format!(
                    "INSERT INTO partials
                         (migration, path, temporary_path, source_size, source_modified_nanos)
                     SELECT migration, path, path, size, modified_nanos FROM files
                     WHERE {condition} ON CONFLICT DO NOTHING"
                ),
                &parameters,
            )
            .await?;
        let dropped = transaction
            .execute(&format!("DELETE FROM files WHERE {condition}"), &parameters)
            .await?;
        transaction.commit().await?;
        Ok(dropped)
    }

    /// How many copied files (not symlinks) and partial copies the ledger holds for a migration.
    pub async fn ledger_counts(&self, migration: &str) -> Result<(u64, u64), StateError> {
        let row = self
            .client()
            .await
            .query_one(
                "SELECT (SELECT count(*) FROM files WHERE migration = $1 AND blake3 <> $2),
                        (SELECT count(*) FROM partials WHERE migration = $1)",
                &[&migration, &SYMLINK_RECORD],
            )
            .await?;
        let (files, partials): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        Ok((
            u64::try_from(files).unwrap_or_default(),
            u64::try_from(partials).unwrap_or_default(),
        ))
    }
}

/// Every write is one statement (autocommit), committed before the call returns. Each call runs
/// as a task of the store's runtime ([`PostgresStore::wait`]), so it takes owned arguments.
impl Ledger for PostgresStore {
    fn files(&self, migration: &str) -> Result<Vec<FileRecord>, LedgerError> {
        let (store, migration) = (self.clone(), migration.to_string());
        self.wait(async move { store.trusted_files(&migration).await })
    }

    fn record_files(&self, migration: &str, files: &[FileRecord]) -> Result<(), LedgerError> {
        let (store, migration, files) = (self.clone(), migration.to_string(), files.to_vec());
        self.wait(async move { store.insert_files(&migration, &files, None).await })
    }

    fn knows_boot(&self) -> bool {
        self.boot().is_some()
    }

    fn record_unsynced_files(
        &self,
        migration: &str,
        files: &[FileRecord],
    ) -> Result<(), LedgerError> {
        let Some(boot) = self.boot().map(str::to_string) else {
            return Err(LedgerError(
                "this system's boot ID is unknown, so files must be durable before they are recorded"
                    .to_string(),
            ));
        };
        let (store, migration, files) = (self.clone(), migration.to_string(), files.to_vec());
        self.wait(async move { store.insert_files(&migration, &files, Some(&boot)).await })
    }

    fn forget_files(&self, migration: &str, paths: &[String]) -> Result<(), LedgerError> {
        let (store, migration, paths) = (self.clone(), migration.to_string(), paths.to_vec());
        self.wait(async move { delete_paths(&store, "files", &migration, &paths).await })
    }

    fn partials(&self, migration: &str) -> Result<Vec<PartialRecord>, LedgerError> {
        let (store, migration) = (self.clone(), migration.to_string());
        self.wait(async move { store.partials_and_claims(&migration).await })
    }

    fn record_partial(&self, migration: &str, partial: &PartialRecord) -> Result<(), LedgerError> {
        self.record_partials(migration, std::slice::from_ref(partial))
    }

    fn forget_partial(&self, migration: &str, path: &str) -> Result<(), LedgerError> {
        self.forget_partials(migration, &[path.to_string()])
    }

    fn record_partials(
        &self,
        migration: &str,
        partials: &[PartialRecord],
    ) -> Result<(), LedgerError> {
        let (store, migration, partials) = (self.clone(), migration.to_string(), partials.to_vec());
        self.wait(async move {
            insert_partials_in(&*store.blocking_client().await, &migration, &partials).await
        })
    }

    fn forget_partials(&self, migration: &str, paths: &[String]) -> Result<(), LedgerError> {
        let (store, migration, paths) = (self.clone(), migration.to_string(), paths.to_vec());
        self.wait(async move { delete_paths(&store, "partials", &migration, &paths).await })
    }
}
