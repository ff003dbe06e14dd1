//! The ledger and the target's durability: copying goes on while the target syncs in the
//! background, yet the ledger never records a file before a sync that started after it was in place.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tempfile::TempDir;

use super::support::*;
use crate::exec::ledger::{FileRecord, Ledger, LedgerError, PartialRecord};
use crate::exec::memory_ledger::MemoryLedger;
use crate::exec::transport::{
    Capabilities, FileTree, Metadata, Reader, RelativePath, TransportResult, Writer,
};

/// A local target whose `sync` is slow and remembers which files it covers: those it was given
/// that were renamed into place before it started. Counts renames made while a sync was running.
struct WitnessTree {
    inner: Arc<dyn FileTree>,
    renamed: Mutex<Vec<String>>,
    /// The files covered by the syncs that have returned.
    durable: Arc<Mutex<Vec<String>>>,
    syncing: AtomicBool,
    syncs: AtomicUsize,
    renamed_while_syncing: AtomicUsize,
}

#[async_trait]
impl FileTree for WitnessTree {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    async fn metadata(&self, path: &RelativePath) -> TransportResult<Option<Metadata>> {
        self.inner.metadata(path).await
    }
    async fn list(&self, directory: &RelativePath) -> TransportResult<Vec<(String, Metadata)>> {
        self.inner.list(directory).await
    }
    async fn open_read(&self, path: &RelativePath, offset: u64) -> TransportResult<Reader> {
        self.inner.open_read(path, offset).await
    }
    async fn open_write(&self, path: &RelativePath, offset: u64) -> TransportResult<Writer> {
        self.inner.open_write(path, offset).await
    }
    async fn create_dir_all(&self, path: &RelativePath) -> TransportResult<()> {
        self.inner.create_dir_all(path).await
    }
    async fn rename(&self, from: &RelativePath, to: &RelativePath) -> TransportResult<()> {
        self.inner.rename(from, to).await?;
        if self.syncing.load(Ordering::SeqCst) {
            self.renamed_while_syncing.fetch_add(1, Ordering::SeqCst);
        }
        self.renamed.lock().unwrap().push(to.to_string());
        Ok(())
    }
    async fn remove_file(&self, path: &RelativePath) -> TransportResult<()> {
        self.inner.remove_file(path).await
    }
    async fn remove_dir(&self, path: &RelativePath) -> TransportResult<()> {
        self.inner.remove_dir(path).await
    }
    async fn read_link(&self, path: &RelativePath) -> TransportResult<String> {
        self.inner.read_link(path).await
    }
    async fn symlink(&self, target: &str, path: &RelativePath) -> TransportResult<()> {
        self.inner.symlink(target, path).await
    }
    async fn set_metadata(
        &self,
        path: &RelativePath,
        modified: Option<SystemTime>,
        mode: Option<u32>,
    ) -> TransportResult<()> {
        self.inner.set_metadata(path, modified, mode).await
    }
    async fn free_space(&self) -> TransportResult<Option<u64>> {
        self.inner.free_space().await
    }
    async fn sync(&self, files: &[RelativePath]) -> TransportResult<()> {
        let in_place = self.renamed.lock().unwrap().clone();
        self.syncing.store(true, Ordering::SeqCst);
        self.syncs.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(40)).await;
        let result = self.inner.sync(files).await;
        self.syncing.store(false, Ordering::SeqCst);
        // A sync covers the files it was given that were in place when it started.
        let covered = files
            .iter()
            .map(ToString::to_string)
            .filter(|file| in_place.contains(file));
        self.durable.lock().unwrap().extend(covered);
        result
    }
}

/// A ledger that fails the test when it is asked to record a file no returned sync covered.
struct CheckingLedger {
    inner: MemoryLedger,
    durable: Arc<Mutex<Vec<String>>>,
    violations: Mutex<Vec<String>>,
}

impl Ledger for CheckingLedger {
    fn files(&self, migration: &str) -> Result<Vec<FileRecord>, LedgerError> {
        self.inner.files(migration)
    }
    fn record_files(&self, migration: &str, files: &[FileRecord]) -> Result<(), LedgerError> {
        let durable = self.durable.lock().unwrap();
        for file in files {
            if !durable.contains(&file.path) {
                self.violations.lock().unwrap().push(file.path.clone());
            }
        }
        self.inner.record_files(migration, files)
    }
    fn knows_boot(&self) -> bool {
        self.inner.knows_boot()
    }
    fn record_unsynced_files(
        &self,
        migration: &str,
        files: &[FileRecord],
    ) -> Result<(), LedgerError> {
        self.inner.record_unsynced_files(migration, files)
    }
    fn forget_files(&self, migration: &str, paths: &[String]) -> Result<(), LedgerError> {
        self.inner.forget_files(migration, paths)
    }
    fn partials(&self, migration: &str) -> Result<Vec<PartialRecord>, LedgerError> {
        self.inner.partials(migration)
    }
    fn record_partial(&self, migration: &str, partial: &PartialRecord) -> Result<(), LedgerError> {
        self.inner.record_partial(migration, partial)
    }
    fn forget_partial(&self, migration: &str, path: &str) -> Result<(), LedgerError> {
        self.inner.forget_partial(migration, path)
    }
    fn record_partials(
        &self,
        migration: &str,
        partials: &[PartialRecord],
    ) -> Result<(), LedgerError> {
        self.inner.record_partials(migration, partials)
    }
    fn forget_partials(&self, migration: &str, paths: &[String]) -> Result<(), LedgerError> {
        self.inner.forget_partials(migration, paths)
    }
}

/// A source folder of `count` files, file `index` at the path and with the content `file(index)`
/// gives (mode 0644, one fixed mtime).
fn numbered_files(count: usize, file: impl Fn(usize) -> (String, Vec<u8>)) -> TempDir {
    let source = TempDir::new().unwrap();
    for index in 0..count {
        let (path, content) = file(index);
        write_file(source.path(), &path, &content, 0o644, 1_600_000_000);
    }
    source
}

/// A local target behind a `WitnessTree`, and a ledger that checks every record against it.
fn witnessed(target: &std::path::Path) -> (Arc<WitnessTree>, CheckingLedger) {
    let durable = Arc::new(Mutex::new(Vec::new()));
    let witness = Arc::new(WitnessTree {
        inner: local(target),
        renamed: Mutex::new(Vec::new()),
        durable: Arc::clone(&durable),
        syncing: AtomicBool::new(false),
        syncs: AtomicUsize::new(0),
        renamed_while_syncing: AtomicUsize::new(0),
    });
    let ledger = CheckingLedger {
        inner: MemoryLedger::new(),
        durable,
        violations: Mutex::new(Vec::new()),
    };
    (witness, ledger)
}

#[tokio::test]
async fn copying_continues_during_a_sync_and_only_synced_files_are_recorded() {
    let source = numbered_files(1500, |index| {
        let path = format!("data/{}/{index}.txt", index % 5);
        (path, pattern(2048, (index % 251) as u8))
    });
    let target = TempDir::new().unwrap();
    let (witness, ledger) = witnessed(target.path());
    run(
        local(source.path()),
        witness.clone(),
        &[job("data")],
        &ledger,
    )
    .await
    .unwrap();
    assert_eq!(ledger.files("web-01").unwrap().len(), 1500);
    assert!(
        ledger.violations.lock().unwrap().is_empty(),
        "recorded before a sync covered them: {:?}",
        ledger.violations.lock().unwrap()
    );
    // The syncs did not stop the copy: more files landed while one ran than the four transfers
    // already running when it started could account for.
    let syncs = witness.syncs.load(Ordering::SeqCst);
    let overlapped = witness.renamed_while_syncing.load(Ordering::SeqCst);
    assert!(
        overlapped > 4 * syncs,
        "{overlapped} renames during {syncs} syncs"
    );
    // Per batch of up to 256 files, one write records them and one forgets their claims; one
    // write claimed them all before the copy.
    assert!(
        ledger.inner.write_calls() <= 16,
        "{}",
        ledger.inner.write_calls()
    );
}

/// Copies `source` to `target` with `--durability defer`.
async fn run_deferring(
    source: &std::path::Path,
    target: Arc<dyn FileTree>,
    ledger: &dyn Ledger,
) -> crate::exec::copy::CopyOutcome {
    let options = crate::exec::copy::CopyOptions {
        durability: crate::exec::copy::Durability::Defer,
        ..options()
    };
    crate::exec::copy::copy_migration(
        "web-01",
        local(source),
        target,
        &[job("data")],
        ledger,
        &options,
        &crate::exec::copy::ProgressSink::none(),
        &tokio_util::sync::CancellationToken::new(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn deferring_records_files_as_not_durable_and_a_restart_makes_them_copied_again() {
    let source = numbered_files(300, |index| {
        let content = pattern(1024 + index, (index % 251) as u8);
        (format!("data/{index}.bin"), content)
    });
    let target = TempDir::new().unwrap();
    let ledger = MemoryLedger::new();
    let first = run_deferring(source.path(), local(target.path()), &ledger).await;
    assert_eq!(first.mounts[0].files_copied, 300);
    assert_eq!(ledger.files("web-01").unwrap().len(), 300);
    assert_eq!(
        ledger.unsynced("web-01").len(),
        300,
        "every record waits for a sync"
    );
    assert_eq!(snapshot(target.path()), snapshot(source.path()));

    // Same boot: the records are trusted and nothing is copied again.
    let again = run_deferring(source.path(), local(target.path()), &ledger).await;
    assert_eq!(again.mounts[0].files_copied, 0);
    assert_eq!(again.mounts[0].files_unchanged, 300);

    // After a restart the records are gone, whatever the target holds: a crash may have lost
    // the data behind them (here one file was cut short, as a lost page cache leaves it).
    ledger.restart();
    std::fs::File::options()
        .write(true)
        .open(target.path().join("data/7.bin"))
        .unwrap()
        .set_len(10)
        .unwrap();
    assert!(ledger.files("web-01").unwrap().is_empty());
    let after_restart = run(
        local(source.path()),
        local(target.path()),
        &[job("data")],
        &ledger,
    )
    .await
    .unwrap();
    assert_eq!(after_restart.mounts[0].files_copied, 300);
    assert_eq!(snapshot(target.path()), snapshot(source.path()));
    assert!(
        ledger.unsynced("web-01").is_empty(),
        "waiting for durability, every record is durable"
    );
}

#[tokio::test]
async fn a_target_that_is_not_local_waits_for_durability_even_when_asked_to_defer() {
    let source = numbered_files(40, |index| {
        (format!("data/{index}.bin"), pattern(4096, index as u8))
    });
    let target = TempDir::new().unwrap();
    // The witness wraps a local tree but is not one: ferry cannot vouch for its cache.
    let (witness, ledger) = witnessed(target.path());
    run_deferring(source.path(), witness.clone(), &ledger).await;
    assert_eq!(ledger.files("web-01").unwrap().len(), 40);
    assert!(ledger.inner.unsynced("web-01").is_empty());
    assert!(
        ledger.violations.lock().unwrap().is_empty(),
        "recorded before a sync covered them: {:?}",
        ledger.violations.lock().unwrap()
    );
}
