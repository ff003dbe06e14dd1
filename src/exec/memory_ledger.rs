//! `MemoryLedger`: a `Ledger` kept in memory, for tests and dry runs (nothing survives the process).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use crate::exec::ledger::{FileRecord, Ledger, LedgerError, PartialRecord};

#[derive(Default)]
struct Records {
    /// Migration -> path -> record.
    files: BTreeMap<String, BTreeMap<String, FileRecord>>,
    /// Migration -> paths recorded before they were durable (and trusted only until `restart`).
    unsynced: BTreeMap<String, BTreeSet<String>>,
    partials: BTreeMap<String, BTreeMap<String, PartialRecord>>,
    /// How many times each write method was called, so tests can check batching.
    write_calls: usize,
}

/// The test and dry-run ledger: the same contract as the state store's, held in a mutex.
#[derive(Default)]
pub struct MemoryLedger {
    records: Mutex<Records>,
}

impl MemoryLedger {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many write calls (`record_files`, `forget_files`, `record_partial`, `forget_partial`) were made.
    pub fn write_calls(&self) -> usize {
        self.lock().map(|records| records.write_calls).unwrap_or(0)
    }

    /// The paths of a migration recorded before they were durable.
    pub fn unsynced(&self, migration: &str) -> BTreeSet<String> {
        self.lock()
            .ok()
            .and_then(|records| records.unsynced.get(migration).cloned())
            .unwrap_or_default()
    }

    /// What a restart of the system does: records of files that were not durable are dropped,
    /// and, as the state store does, kept as claims (partial records) on their paths.
    pub fn restart(&self) {
        if let Ok(mut records) = self.lock() {
            let unsynced = std::mem::take(&mut records.unsynced);
            for (migration, paths) in unsynced {
                let mut dropped = Vec::new();
                if let Some(entries) = records.files.get_mut(&migration) {
                    entries.retain(|path, record| {
                        let keep = !paths.contains(path);
                        if !keep {
                            dropped.push(PartialRecord::claim_of(record));
                        }
                        keep
                    });
                }
                let partials = records.partials.entry(migration).or_default();
                for partial in dropped {
                    partials.entry(partial.path.clone()).or_insert(partial);
                }
            }
        }
    }

    fn insert(
        &self,
        migration: &str,
        files: &[FileRecord],
        durable: bool,
    ) -> Result<(), LedgerError> {
        let mut records = self.lock()?;
        records.write_calls += 1;
        let Records {
            files: all_files,
            unsynced,
            ..
        } = &mut *records;
        let entries = all_files.entry(migration.to_string()).or_default();
        let unsynced = unsynced.entry(migration.to_string()).or_default();
        for file in files {
            entries.insert(file.path.clone(), file.clone());
            if durable {
                unsynced.remove(&file.path);
            } else {
                unsynced.insert(file.path.clone());
            }
        }
        Ok(())
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Records>, LedgerError> {
        self.records
            .lock()
            .map_err(|_| LedgerError("the in-memory ledger was poisoned by a panic".to_string()))
    }
}

impl Ledger for MemoryLedger {
    fn files(&self, migration: &str) -> Result<Vec<FileRecord>, LedgerError> {
        let records = self.lock()?;
        Ok(records
            .files
            .get(migration)
            .map(|files| files.values().cloned().collect())
            .unwrap_or_default())
    }

    fn record_files(&self, migration: &str, files: &[FileRecord]) -> Result<(), LedgerError> {
        self.insert(migration, files, true)
    }

    fn knows_boot(&self) -> bool {
        true
    }

    fn record_unsynced_files(
        &self,
        migration: &str,
        files: &[FileRecord],
    ) -> Result<(), LedgerError> {
        self.insert(migration, files, false)
    }

    fn forget_files(&self, migration: &str, paths: &[String]) -> Result<(), LedgerError> {
        let mut records = self.lock()?;
        records.write_calls += 1;
        if let Some(entries) = records.files.get_mut(migration) {
            for path in paths {
                entries.remove(path);
            }
        }
        if let Some(unsynced) = records.unsynced.get_mut(migration) {
            for path in paths {
                unsynced.remove(path);
            }
        }
        Ok(())
    }

    fn partials(&self, migration: &str) -> Result<Vec<PartialRecord>, LedgerError> {
        let records = self.lock()?;
        Ok(records
            .partials
            .get(migration)
            .map(|partials| partials.values().cloned().collect())
            .unwrap_or_default())
    }

    fn record_partial(&self, migration: &str, partial: &PartialRecord) -> Result<(), LedgerError> {
        let mut records = self.lock()?;
        records.write_calls += 1;
        records
            .partials
            .entry(migration.to_string())
            .or_default()
            .insert(partial.path.clone(), partial.clone());
        Ok(())
    }

    fn forget_partial(&self, migration: &str, path: &str) -> Result<(), LedgerError> {
        self.forget_partials(migration, &[path.to_string()])
    }

    fn record_partials(
        &self,
        migration: &str,
        partials: &[PartialRecord],
    ) -> Result<(), LedgerError> {
        let mut records = self.lock()?;
        records.write_calls += 1;
        let entries = records.partials.entry(migration.to_string()).or_default();
        for partial in partials {
            entries.insert(partial.path.clone(), partial.clone());
        }
        Ok(())
    }

    fn forget_partials(&self, migration: &str, paths: &[String]) -> Result<(), LedgerError> {
        let mut records = self.lock()?;
        records.write_calls += 1;
        if let Some(partials) = records.partials.get_mut(migration) {
            for path in paths {
                partials.remove(path);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_replace_by_path_and_are_kept_per_migration() {
        let ledger = MemoryLedger::new();
        let record = |size| FileRecord {
            path: "data/a".to_string(),
            size,
            modified_nanos: Some(1),
            blake3: "00".to_string(),
        };
        ledger.record_files("one", &[record(1)]).unwrap();
        ledger.record_files("one", &[record(2)]).unwrap();
        assert_eq!(ledger.files("one").unwrap(), vec![record(2)]);
        assert!(ledger.files("two").unwrap().is_empty());
        ledger.forget_files("one", &["data/a".to_string()]).unwrap();
        assert!(ledger.files("one").unwrap().is_empty());
        let partial = PartialRecord {
            path: "data/big".to_string(),
            temporary_path: "data/.big.ferry-partial".to_string(),
            source_size: 10,
            source_modified_nanos: None,
        };
        ledger.record_partial("one", &partial).unwrap();
        assert_eq!(ledger.partials("one").unwrap(), vec![partial]);
        ledger.forget_partial("one", "data/big").unwrap();
        assert!(ledger.partials("one").unwrap().is_empty());
        assert_eq!(ledger.write_calls(), 5);
    }
}
