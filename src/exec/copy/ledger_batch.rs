//! Batched ledger writes: copied files are recorded every few hundred files or every second, after
//! the target has made them durable, and at the end or on cancel.
//!
//! The target's `sync` runs in the background while copying goes on: a batch is handed to it whole,
//! and recorded only once that sync returned. Files finished after the sync started wait for the
//! next one, so the ledger never claims a file the target may not hold after a crash.
//!
//! Deferring durability (`--durability defer`, local targets), a batch is recorded at once, marked
//! as not yet durable: the ledger trusts such records only until the system restarts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::error::{CopyError, MigrationContext, stopped_unexpectedly};
use crate::exec::ledger::{FileRecord, Ledger};
use crate::exec::transport::{FileTree, RelativePath, TransportResult};

/// Records held before a flush.
const BATCH_FILES: usize = 256;
/// The longest a copied file waits to be recorded.
const BATCH_INTERVAL: Duration = Duration::from_secs(1);

/// Files waiting to be recorded, and the partial records they complete.
#[derive(Default)]
struct Pending {
    files: Vec<FileRecord>,
    /// Partial records to forget once the files that completed them are recorded.
    finished_partials: Vec<String>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.files.is_empty() && self.finished_partials.is_empty()
    }

    /// The target paths of the files, for the target's `sync`.
    fn paths(&self) -> Vec<RelativePath> {
        self.files
            .iter()
            .filter_map(|file| RelativePath::new(&file.path))
            .collect()
    }
}

/// A batch whose files the target is making durable in the background.
struct Syncing {
    task: JoinHandle<TransportResult<()>>,
    batch: Pending,
}

pub(crate) struct LedgerBatch<'ledger> {
    migration: String,
    ledger: &'ledger dyn Ledger,
    pending: Pending,
    syncing: Option<Syncing>,
    flushed_at: Instant,
    /// Record files without waiting for the target to make them durable.
    defer_durability: bool,
}

impl<'ledger> LedgerBatch<'ledger> {
    pub fn new(migration: &str, ledger: &'ledger dyn Ledger, defer_durability: bool) -> Self {
        Self {
            migration: migration.to_string(),
            ledger,
            pending: Pending::default(),
            syncing: None,
            flushed_at: Instant::now(),
            defer_durability,
        }
    }

    /// Adds a copied file (already in place on `target`); its partial record is forgotten once
    /// it is recorded. When the batch is full or old, it is handed to a background sync of the
    /// target, unless one is still running.
    pub async fn push(
        &mut self,
        target: &Arc<dyn FileTree>,
        record: FileRecord,
    ) -> Result<(), CopyError> {
        self.pending.finished_partials.push(record.path.clone());
        self.pending.files.push(record);
        if self
            .syncing
            .as_ref()
            .is_some_and(|syncing| syncing.task.is_finished())
        {
            self.settle().await?;
        }
        let due =
            self.pending.files.len() >= BATCH_FILES || self.flushed_at.elapsed() >= BATCH_INTERVAL;
        if due && self.defer_durability {
            self.flushed_at = Instant::now();
            let batch = std::mem::take(&mut self.pending);
            return self.record(&batch);
        }
        if due && self.syncing.is_none() {
            self.flushed_at = Instant::now();
            let target = Arc::clone(target);
            let paths = self.pending.paths();
            self.syncing = Some(Syncing {
                task: tokio::spawn(async move { target.sync(&paths).await }),
                batch: std::mem::take(&mut self.pending),
            });
        }
        Ok(())
    }

    /// Whether a background sync is running (then `settle` has something to wait for).
    pub fn is_syncing(&self) -> bool {
        self.syncing.is_some()
    }

    /// Waits for the background sync, if any, then records its batch. Cancel-safe: dropped before
    /// the sync ends, it leaves the sync running and its batch unrecorded.
    pub async fn settle(&mut self) -> Result<(), CopyError> {
        let Some(syncing) = &mut self.syncing else {
            return Ok(());
        };
        let synced = match (&mut syncing.task).await {
            Ok(result) => result,
            Err(join_error) => Err(stopped_unexpectedly("syncing the target", &join_error)),
        };
        let Some(syncing) = self.syncing.take() else {
            return Ok(());
        };
        synced.in_migration(&self.migration)?;
        self.record(&syncing.batch)
    }

    /// Settles the background sync, then makes the target durable and records every pending file.
    pub async fn flush(&mut self, target: &dyn FileTree) -> Result<(), CopyError> {
        self.settle().await?;
        self.flushed_at = Instant::now();
        if self.pending.is_empty() {
            return Ok(());
        }
        if !self.defer_durability {
            target
                .sync(&self.pending.paths())
                .await
                .in_migration(&self.migration)?;
        }
        let batch = std::mem::take(&mut self.pending);
        self.record(&batch)
    }

    /// Records a batch the target holds durably (or, deferring, has written), and forgets the
    /// partials its files finished.
    fn record(&self, batch: &Pending) -> Result<(), CopyError> {
        if !batch.files.is_empty() {
            let recorded = if self.defer_durability {
                self.ledger
                    .record_unsynced_files(&self.migration, &batch.files)
            } else {
                self.ledger.record_files(&self.migration, &batch.files)
            };
            recorded.in_migration(&self.migration)?;
        }
        if !batch.finished_partials.is_empty() {
            self.ledger
                .forget_partials(&self.migration, &batch.finished_partials)
                .in_migration(&self.migration)?;
        }
        Ok(())
    }
}
