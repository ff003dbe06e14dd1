//! Batched ledger writes: copied files are recorded every few hundred files or every second, after
//! the target has made them durable, and at the end or on cancel.

use std::time::{Duration, Instant};

use super::error::{CopyError, MigrationContext};
use crate::exec::ledger::{FileRecord, Ledger};
use crate::exec::transport::FileTree;

/// Records held before a flush.
const BATCH_FILES: usize = 256;
/// The longest a copied file waits to be recorded.
const BATCH_INTERVAL: Duration = Duration::from_secs(1);

pub(crate) struct LedgerBatch<'ledger> {
    migration: String,
    ledger: &'ledger dyn Ledger,
    files: Vec<FileRecord>,
    /// Partial records to forget once the files that completed them are recorded.
    finished_partials: Vec<String>,
    flushed_at: Instant,
}

impl<'ledger> LedgerBatch<'ledger> {
    pub fn new(migration: &str, ledger: &'ledger dyn Ledger) -> Self {
        Self {
            migration: migration.to_string(),
            ledger,
            files: Vec::new(),
            finished_partials: Vec::new(),
            flushed_at: Instant::now(),
        }
    }

    /// Adds a copied file, flushing when the batch is full or old.
    pub async fn push(
        &mut self,
        target: &dyn FileTree,
        record: FileRecord,
        finished_partial: bool,
    ) -> Result<(), CopyError> {
        if finished_partial {
            self.finished_partials.push(record.path.clone());
        }
        self.files.push(record);
        if self.files.len() >= BATCH_FILES || self.flushed_at.elapsed() >= BATCH_INTERVAL {
            self.flush(target).await?;
        }
        Ok(())
    }

    /// Makes the target durable, then records every pending file and forgets the partials they finished.
    pub async fn flush(&mut self, target: &dyn FileTree) -> Result<(), CopyError> {
        self.flushed_at = Instant::now();
        if self.files.is_empty() && self.finished_partials.is_empty() {
            return Ok(());
        }
        target.sync().await.in_migration(&self.migration)?;
        self.ledger
            .record_files(&self.migration, &self.files)
            .in_migration(&self.migration)?;
        self.files.clear();
        for path in self.finished_partials.drain(..) {
            self.ledger
                .forget_partial(&self.migration, &path)
                .in_migration(&self.migration)?;
        }
        Ok(())
    }
}
