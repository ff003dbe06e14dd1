//! Records of files not yet durable (`ferry run --durability defer`): each carries the boot ID of
//! the system that wrote it. During that boot the system's cache holds what was written, so the
//! record is trusted; a later run syncs the target and confirms the records; after a restart an
//! unconfirmed record is dropped and its file copied again.

use rusqlite::params;

use crate::state::error::StateError;
use crate::state::ledger::SYMLINK_RECORD;
use crate::state::store::Store;

/// Where Linux publishes a random ID that changes at every boot.
const BOOT_ID_PATH: &str = "/proc/sys/kernel/random/boot_id";

/// This system's boot ID, or `None` where there is none to read (then ferry never defers).
pub(crate) fn current_boot_id() -> Option<String> {
    let text = std::fs::read_to_string(BOOT_ID_PATH).ok()?;
    let boot = text.trim();
    (!boot.is_empty()).then(|| boot.to_string())
}

impl Store {
    /// The paths (relative to the target) of a migration's files written during this boot and not
    /// yet confirmed durable.
    pub fn unsynced_files(&self, migration: &str) -> Result<Vec<String>, StateError> {
        let Some(boot) = self.boot() else {
            return Ok(Vec::new());
        };
        let connection = self.connection();
        let mut statement = connection.prepare_cached(
            "SELECT path FROM files WHERE migration = ?1 AND unsynced_boot = ?2 ORDER BY path",
        )?;
        let paths = statement
            .query_map(params![migration, boot], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(paths)
    }

    /// Marks `paths` (written during this boot) durable, once the target has synced them.
    pub fn confirm_synced(&self, migration: &str, paths: &[String]) -> Result<(), StateError> {
        let Some(boot) = self.boot() else {
            return Ok(());
        };
        let mut connection = self.connection();
        let transaction = connection.transaction()?;
        {
            let mut update = transaction.prepare_cached(
                "UPDATE files SET unsynced_boot = NULL
                 WHERE migration = ?1 AND path = ?2 AND unsynced_boot = ?3",
            )?;
            for path in paths {
                update.execute(params![migration, path, boot])?;
            }
        }
        transaction.commit()?;
        Ok(())
    }

    /// Drops the records of a migration's files that an earlier boot wrote and never confirmed:
    /// the restart may have lost their data, so they are copied again. Each stays ferry's claim
    /// on its path (a partial record, see `PartialRecord::claim_of`), so the file it may have left
    /// is ferry's to replace or remove, not data ferry did not write. Returns how many.
    pub fn drop_unconfirmed(&self, migration: &str) -> Result<u64, StateError> {
        let mut connection = self.connection();
        let transaction =
            connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let condition = "migration = ?1 AND unsynced_boot IS NOT NULL AND unsynced_boot IS NOT ?2
                         AND blake3 IS NOT ?3";
        transaction.execute(
            &format!(
                "INSERT OR IGNORE INTO partials
                     (migration, path, temporary_path, source_size, source_modified_nanos)
                 SELECT migration, path, path, size, modified_nanos FROM files WHERE {condition}"
            ),
            params![migration, self.boot(), SYMLINK_RECORD],
        )?;
        let dropped = transaction.execute(
            &format!("DELETE FROM files WHERE {condition}"),
            params![migration, self.boot(), SYMLINK_RECORD],
        )?;
        transaction.commit()?;
        Ok(u64::try_from(dropped).unwrap_or_default())
    }
}
