//! A migration's state machine: moving between `not_started`, `running`, `error` and `success`, with timestamps, attempts, counters and the target's storage.

use rusqlite::{Connection, TransactionBehavior, params};

use crate::state::error::StateError;
use crate::state::migrations::{
    MigrationFailure, MigrationRecord, MigrationState, MigrationStats, StorageRecord,
    get_migration_in, not_found, replace_storage_in, to_sql_u64,
};
use crate::state::store::Store;
use crate::state::time;

impl Store {
    /// Moves a migration to `state`:
    /// - `running`: counts an attempt, sets `started_at`, clears `finished_at`, the error, the
    ///   counters and the vanished files;
    /// - `error`: sets `finished_at` and the failure (message and whether it is retryable);
    /// - `success`: sets `finished_at`, clears the error (prefer [`Store::finish_migration`]);
    /// - `not_started`: forgets the timestamps and the error (a reset), keeping the attempt count.
    pub fn set_migration_state(
        &self,
        name: &str,
        state: MigrationState,
        failure: Option<&MigrationFailure>,
    ) -> Result<MigrationRecord, StateError> {
        let connection = self.connection();
        set_state_in(&connection, name, state, failure)?;
        get_migration_in(&connection, name)
    }

    /// Records the counters of the attempt in progress.
    pub fn record_progress(&self, name: &str, stats: &MigrationStats) -> Result<(), StateError> {
        record_progress_in(&self.connection(), name, stats)
    }

    /// Marks a migration `success` with its final counters, the files deleted from the source
    /// while it copied (`vanished`, target paths) and the target VM's resulting storage (exactly
    /// the selected mounts), in one transaction.
    pub fn finish_migration(
        &self,
        name: &str,
        stats: &MigrationStats,
        vanished: &[String],
        storage: &[StorageRecord],
    ) -> Result<MigrationRecord, StateError> {
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        record_progress_in(&transaction, name, stats)?;
        let vanished = serde_json::to_string(vanished).map_err(|error| StateError::Corrupt {
            what: format!("vanished files of migration `{name}`: {error}"),
        })?;
        transaction.execute(
            "UPDATE migrations SET vanished = ?2 WHERE name = ?1",
            params![name, vanished],
        )?;
        set_state_in(&transaction, name, MigrationState::Success, None)?;
        replace_storage_in(&transaction, name, storage)?;
        transaction.commit()?;
        get_migration_in(&connection, name)
    }
}

pub(crate) fn set_state_in(
    connection: &Connection,
    name: &str,
    state: MigrationState,
    failure: Option<&MigrationFailure>,
) -> Result<(), StateError> {
    let now = time::now().to_string();
    let sql = match state {
        MigrationState::Running => {
            "UPDATE migrations SET state = 'running', attempts = attempts + 1, started_at = ?2,
                 finished_at = NULL, last_error = NULL, error_retryable = NULL, files = 0,
                 bytes = 0, skipped_files = 0, skipped_bytes = 0, vanished = '[]', updated_at = ?2
             WHERE name = ?1"
        }
        MigrationState::Error => {
            "UPDATE migrations SET state = 'error', finished_at = ?2, last_error = ?3,
                 error_retryable = ?4, updated_at = ?2 WHERE name = ?1"
        }
        MigrationState::Success => {
            "UPDATE migrations SET state = 'success', finished_at = ?2, last_error = NULL,
                 error_retryable = NULL, updated_at = ?2 WHERE name = ?1"
        }
        MigrationState::NotStarted => {
            "UPDATE migrations SET state = 'not_started', started_at = NULL, finished_at = NULL,
                 last_error = NULL, error_retryable = NULL, updated_at = ?2 WHERE name = ?1"
        }
    };
    let changed = if state == MigrationState::Error {
        let message = failure.map_or("failed (no reason recorded)", |f| f.message.as_str());
        let retryable = failure.map(|f| f.retryable);
        connection.execute(sql, params![name, now, message, retryable])?
    } else {
        connection.execute(sql, params![name, now])?
    };
    if changed == 0 {
        return Err(not_found(name));
    }
    Ok(())
}

fn record_progress_in(
    connection: &Connection,
    name: &str,
    stats: &MigrationStats,
) -> Result<(), StateError> {
    let changed = connection.execute(
        "UPDATE migrations SET files = ?2, bytes = ?3, skipped_files = ?4, skipped_bytes = ?5,
             updated_at = ?6 WHERE name = ?1",
        params![
            name,
            to_sql_u64(stats.files, "files")?,
            to_sql_u64(stats.bytes, "bytes")?,
            to_sql_u64(stats.skipped_files, "skipped files")?,
            to_sql_u64(stats.skipped_bytes, "skipped bytes")?,
            time::now().to_string()
        ],
    )?;
    if changed == 0 {
        return Err(not_found(name));
    }
    Ok(())
}
