//! Targets whose writes are atomic and whose folders are implied (object stores): files go straight
//! to their final names with their attributes, are never renamed, and a file cut short or
//! interrupted is abandoned, never published. The target is a real directory behind a decorator that
//! stages each write outside it and moves it in only when the writer shuts down.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::SystemTime;

use async_trait::async_trait;
use tempfile::TempDir;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::sync::CancellationToken;

use super::support::*;
use crate::exec::copy::{CopyError, CopyOptions, ProgressEvent, ProgressSink, copy_migration};
use crate::exec::memory_ledger::MemoryLedger;
use crate::exec::transport::{
    Capabilities, ErrorKind, FileAttributes, FileTree, Metadata, Reader, RelativePath,
    TransportError, TransportResult, Writer,
};

const MIB: usize = 1024 * 1024;

/// What the engine did to an [`AtomicTree`].
#[derive(Debug, Default)]
struct Log {
    /// Paths opened for writing, with the attributes handed over.
    opened: Vec<(String, FileAttributes)>,
    published: Vec<String>,
    abandoned: Vec<String>,
}

/// A local directory that behaves like an object store.
struct AtomicTree {
    inner: Arc<dyn FileTree>,
    root: PathBuf,
    staging: TempDir,
    staged: AtomicUsize,
    renames: AtomicUsize,
    log: Arc<Mutex<Log>>,
}

impl AtomicTree {
    fn new(root: &std::path::Path) -> Arc<Self> {
        Arc::new(Self {
            inner: local(root),
            root: root.to_path_buf(),
            staging: TempDir::new().expect("staging directory"),
            staged: AtomicUsize::new(0),
            renames: AtomicUsize::new(0),
            log: Arc::new(Mutex::new(Log::default())),
        })
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().expect("log lock")
    }
}

/// Writes to a staging file; shutting down moves it to its final name, dropping it first deletes it.
struct StagedWriter {
    file: Option<fs::File>,
    staged: PathBuf,
    destination: PathBuf,
    name: String,
    /// Applied when the file is published, as an object store records them with the upload.
    attributes: FileAttributes,
    log: Arc<Mutex<Log>>,
}

impl AsyncWrite for StagedWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let file = self.file.as_mut().expect("written after shutdown");
        Poll::Ready(file.write(buffer))
    }

    fn poll_flush(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        _context: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.file.take().is_some() {
            let parent = self.destination.parent().expect("a parent");
            fs::create_dir_all(parent)?;
            fs::rename(&self.staged, &self.destination)?;
            if let Some(modified) = self.attributes.modified {
                fs::File::options()
                    .write(true)
                    .open(&self.destination)?
                    .set_modified(modified)?;
            }
            if let Some(mode) = self.attributes.mode {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&self.destination, fs::Permissions::from_mode(mode))?;
            }
            let name = self.name.clone();
            self.log.lock().expect("log lock").published.push(name);
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for StagedWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.staged);
            let name = self.name.clone();
            self.log.lock().expect("log lock").abandoned.push(name);
        }
    }
}

#[async_trait]
impl FileTree for AtomicTree {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            atomic_writes: true,
            implied_directories: true,
            ..Capabilities::default()
        }
    }
    fn describe(&self) -> String {
        format!("atomic:{}", self.inner.describe())
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
        self.open_write_with(path, offset, &FileAttributes::default())
            .await
    }
    async fn open_write_with(
        &self,
        path: &RelativePath,
        offset: u64,
        attributes: &FileAttributes,
    ) -> TransportResult<Writer> {
        if offset > 0 {
            return Err(TransportError::new(ErrorKind::Other, "objects are whole"));
        }
        self.log()
            .opened
            .push((path.as_str().to_string(), attributes.clone()));
        let number = self.staged.fetch_add(1, Ordering::SeqCst);
        let staged = self.staging.path().join(number.to_string());
        let file = fs::File::create(&staged)
            .map_err(|error| TransportError::new(ErrorKind::Other, error.to_string()))?;
        Ok(Box::new(StagedWriter {
            file: Some(file),
            staged,
            destination: self.root.join(path.as_str()),
            name: path.as_str().to_string(),
            attributes: attributes.clone(),
            log: Arc::clone(&self.log),
        }))
    }
    async fn create_dir_all(&self, _path: &RelativePath) -> TransportResult<()> {
        Ok(())
    }
    async fn rename(&self, from: &RelativePath, to: &RelativePath) -> TransportResult<()> {
        self.renames.fetch_add(1, Ordering::SeqCst);
        self.inner.rename(from, to).await
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
        if let Some(parent) = self.root.join(path.as_str()).parent() {
            fs::create_dir_all(parent).expect("the link's folder");
        }
        self.inner.symlink(target, path).await
    }
    async fn set_metadata(
        &self,
        path: &RelativePath,
        modified: Option<SystemTime>,
        mode: Option<u32>,
    ) -> TransportResult<()> {
        match self.inner.set_metadata(path, modified, mode).await {
            // An implied folder that holds nothing is not there: nothing to record.
            Err(error) if error.kind == ErrorKind::NotFound => Ok(()),
            result => result,
        }
    }
    async fn free_space(&self) -> TransportResult<Option<u64>> {
        Ok(None)
    }
}

/// Only the files of a snapshot (folders are implied on the target).
fn files(entries: BTreeMap<String, Snapshot>) -> BTreeMap<String, Snapshot> {
    entries
        .into_iter()
        .filter(|(_, entry)| matches!(entry, Snapshot::File { .. }))
        .collect()
}

#[tokio::test]
async fn files_go_straight_to_their_final_names_with_their_attributes() {
    let source = TempDir::new().unwrap();
    write_file(source.path(), "data/a.txt", b"alpha", 0o640, 1_650_000_000);
    write_file(
        source.path(),
        "data/deep/b.bin",
        &pattern(3 * MIB, 2),
        0o600,
        1_650_000_100,
    );
    fs::create_dir_all(source.path().join("data/empty")).unwrap();
    let target = TempDir::new().unwrap();
    let tree = AtomicTree::new(target.path());
    let ledger = MemoryLedger::new();
    run(local(source.path()), tree.clone(), &[job("data")], &ledger)
        .await
        .expect("copied");
    assert_eq!(
        files(snapshot(target.path())),
        files(snapshot(source.path()))
    );
    assert_eq!(tree.renames.load(Ordering::SeqCst), 0, "nothing is renamed");
    {
        let log = tree.log();
        let mut published = log.published.clone();
        published.sort();
        assert_eq!(published, ["data/a.txt", "data/deep/b.bin"]);
        let (_, attributes) = log
            .opened
            .iter()
            .find(|(path, _)| path == "data/a.txt")
            .expect("a.txt was written");
        let source_metadata = fs::metadata(source.path().join("data/a.txt")).unwrap();
        assert_eq!(
            attributes.modified,
            Some(source_metadata.modified().unwrap())
        );
        assert_eq!(attributes.mode, Some(0o640));
    }

    // Empty folders cannot exist there; they are not a change that makes every re-run copy.
    let again = run(local(source.path()), tree.clone(), &[job("data")], &ledger)
        .await
        .expect("re-run");
    assert_eq!(again.mounts[0].files_copied, 0);
    assert_eq!(tree.log().published.len(), 2);
}

/// Ends each reader of a file after `limit` bytes: the source seems to shrink while read.
struct ShortReads {
    inner: Reader,
    left: usize,
}

impl AsyncRead for ShortReads {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.left == 0 {
            return Poll::Ready(Ok(()));
        }
        let wanted = buffer.remaining().min(self.left);
        let mut limited = buffer.take(wanted);
        let result = Pin::new(&mut self.inner).poll_read(context, &mut limited);
        let read = limited.filled().len();
        buffer.advance(read);
        self.left -= read;
        result
    }
}

struct ShrinkingSource {
    inner: Arc<dyn FileTree>,
    limit: usize,
}

#[async_trait]
impl FileTree for ShrinkingSource {
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
        let inner = self.inner.open_read(path, offset).await?;
        Ok(Box::new(ShortReads {
            inner,
            left: self.limit,
        }))
    }
    async fn open_write(&self, path: &RelativePath, offset: u64) -> TransportResult<Writer> {
        self.inner.open_write(path, offset).await
    }
    async fn create_dir_all(&self, path: &RelativePath) -> TransportResult<()> {
        self.inner.create_dir_all(path).await
    }
    async fn rename(&self, from: &RelativePath, to: &RelativePath) -> TransportResult<()> {
        self.inner.rename(from, to).await
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
}

#[tokio::test]
async fn a_file_cut_short_is_abandoned_not_published() {
    let source = TempDir::new().unwrap();
    write_file(
        source.path(),
        "data/disk.img",
        &pattern(3 * MIB, 5),
        0o600,
        1_650_000_000,
    );
    let target = TempDir::new().unwrap();
    let tree = AtomicTree::new(target.path());
    let shrinking = Arc::new(ShrinkingSource {
        inner: local(source.path()),
        limit: MIB + 5,
    });
    let failed = run(
        shrinking,
        tree.clone(),
        &[job("data")],
        &MemoryLedger::new(),
    )
    .await;
    assert!(failed.is_err(), "{failed:?}");
    assert!(!target.path().join("data/disk.img").exists());
    let log = tree.log();
    assert!(log.published.is_empty(), "{log:?}");
    assert!(!log.abandoned.is_empty(), "{log:?}");
    assert_eq!(fs::read_dir(tree.staging.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn an_interrupted_file_is_abandoned_and_copied_whole_next_time() {
    let source = TempDir::new().unwrap();
    let content = pattern(12 * MIB, 9);
    write_file(
        source.path(),
        "data/disk.img",
        &content,
        0o600,
        1_650_000_000,
    );
    let target = TempDir::new().unwrap();
    let tree = AtomicTree::new(target.path());
    let ledger = MemoryLedger::new();
    let cancel = CancellationToken::new();
    let progress = {
        let cancel = cancel.clone();
        ProgressSink::new(move |event| {
            if matches!(event, ProgressEvent::Transferred { .. }) {
                cancel.cancel();
            }
        })
    };
    let options = CopyOptions {
        transfers: 1,
        ..options()
    };
    let interrupted = copy_migration(
        "web-01",
        local(source.path()),
        tree.clone(),
        &[job("data")],
        &ledger,
        &options,
        &progress,
        &cancel,
    )
    .await;
    assert!(
        matches!(interrupted, Err(CopyError::Interrupted { .. })),
        "{interrupted:?}"
    );
    assert!(!target.path().join("data/disk.img").exists());
    assert_eq!(tree.log().abandoned, ["data/disk.img"]);

    let outcome = run(local(source.path()), tree.clone(), &[job("data")], &ledger)
        .await
        .expect("copied on the next run");
    assert_eq!(outcome.mounts[0].files_resumed, 0);
    assert_eq!(
        fs::read(target.path().join("data/disk.img")).unwrap(),
        content
    );
    assert_eq!(tree.renames.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_decorator_takes_the_path_of_the_tree_it_wraps() {
    let source = TempDir::new().unwrap();
    write_file(source.path(), "data/a.txt", b"alpha", 0o640, 1_650_000_000);
    let target = TempDir::new().unwrap();
    let tree = AtomicTree::new(target.path());
    let ledger = MemoryLedger::new();
    let counted = CountingTree::new(tree.clone());
    run(local(source.path()), counted, &[job("data")], &ledger)
        .await
        .expect("copied");
    // As without the decorator: straight to the final name, nothing renamed.
    assert_eq!(tree.log().published, ["data/a.txt"]);
    assert_eq!(tree.renames.load(Ordering::SeqCst), 0);
}
