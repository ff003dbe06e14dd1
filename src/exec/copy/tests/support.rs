//! Test helpers: real directories on disk, tree comparison, and `FileTree` decorators that count reads, corrupt writes or fail.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::sync::CancellationToken;

use crate::exec::copy::{
    CopyError, CopyOptions, CopyOutcome, ExistingData, MountJob, ProgressSink, RetryPolicy,
    copy_migration,
};
use crate::exec::ledger::Ledger;
use crate::exec::transport::local::LocalTree;
use crate::exec::transport::{
    Capabilities, ErrorKind, FileTree, Metadata, Reader, RelativePath, TransportError,
    TransportResult, Writer,
};

pub fn path(text: &str) -> RelativePath {
    RelativePath::new(text).expect("test paths are valid")
}

/// A mount job copying `source_root` to the same path on the target.
pub fn job(root: &str) -> MountJob {
    MountJob {
        label: format!("/{root}"),
        source_root: path(root),
        target_root: path(root),
        excluded: Vec::new(),
    }
}

pub fn options() -> CopyOptions {
    CopyOptions {
        transfers: 4,
        retry: RetryPolicy {
            retries: 3,
            first_backoff: Duration::from_millis(1),
        },
        ..CopyOptions::default()
    }
}

/// Writes a file (creating parents) with a fixed mtime and mode.
pub fn write_file(root: &Path, relative: &str, content: &[u8], mode: u32, mtime_seconds: u64) {
    let file = root.join(relative);
    fs::create_dir_all(file.parent().expect("has a parent")).expect("create parents");
    fs::write(&file, content).expect("write file");
    fs::set_permissions(&file, fs::Permissions::from_mode(mode)).expect("chmod");
    let time = SystemTime::UNIX_EPOCH + Duration::new(mtime_seconds, 123_456_789);
    filetime::set_file_mtime(&file, filetime::FileTime::from_system_time(time)).expect("mtime");
}

/// Deterministic pseudo-random bytes.
pub fn pattern(length: usize, seed: u8) -> Vec<u8> {
    let mut state = u32::from(seed).wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

/// Everything observable about an entry, for comparing trees.
#[derive(Debug, PartialEq, Eq)]
pub enum Snapshot {
    File {
        content_hash: String,
        mode: u32,
        mtime: (i64, i64),
    },
    Directory {
        mode: u32,
        mtime: (i64, i64),
    },
    Symlink {
        target: PathBuf,
        mtime: (i64, i64),
    },
    Other,
}

/// Every entry below `root` (not following symlinks), keyed by relative path.
pub fn snapshot(root: &Path) -> BTreeMap<String, Snapshot> {
    let mut entries = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        for entry in fs::read_dir(&directory).expect("read_dir") {
            let entry = entry.expect("entry");
            let full = entry.path();
            let relative = full
                .strip_prefix(root)
                .expect("below root")
                .to_string_lossy()
                .into_owned();
            let metadata = fs::symlink_metadata(&full).expect("metadata");
            let mtime = (metadata.mtime(), metadata.mtime_nsec());
            let mode = metadata.mode() & 0o7777;
            let file_type = metadata.file_type();
            let snapshot = if file_type.is_symlink() {
                Snapshot::Symlink {
                    target: fs::read_link(&full).expect("readlink"),
                    mtime,
                }
            } else if file_type.is_dir() {
                pending.push(full.clone());
                Snapshot::Directory { mode, mtime }
            } else if file_type.is_file() {
                let content = fs::read(&full).expect("read");
                Snapshot::File {
                    content_hash: blake3::hash(&content).to_hex().to_string(),
                    mode,
                    mtime,
                }
            } else {
                Snapshot::Other
            };
            entries.insert(relative, snapshot);
        }
    }
    entries
}

pub fn local(root: &Path) -> Arc<dyn FileTree> {
    Arc::new(LocalTree::open(root).expect("open tree"))
}

/// Runs a migration with default test options, no progress and no cancellation.
pub async fn run(
    source: Arc<dyn FileTree>,
    target: Arc<dyn FileTree>,
    jobs: &[MountJob],
    ledger: &dyn Ledger,
) -> Result<CopyOutcome, CopyError> {
    copy_migration(
        "web-01",
        source,
        target,
        jobs,
        ledger,
        &options(),
        &ProgressSink::none(),
        &CancellationToken::new(),
    )
    .await
}

/// How many copied files (not symlinks) the ledger records for the test migration.
pub fn copied_files(ledger: &dyn Ledger) -> usize {
    ledger
        .files("web-01")
        .expect("ledger")
        .iter()
        .filter(|record| !record.is_symlink())
        .count()
}

/// Runs a migration with default test options and this policy for data ferry did not write.
pub async fn run_existing(
    source: Arc<dyn FileTree>,
    target: Arc<dyn FileTree>,
    jobs: &[MountJob],
    ledger: &dyn Ledger,
    existing: ExistingData,
) -> Result<CopyOutcome, CopyError> {
    copy_migration(
        "web-01",
        source,
        target,
        jobs,
        ledger,
        &CopyOptions {
            existing,
            ..options()
        },
        &ProgressSink::none(),
        &CancellationToken::new(),
    )
    .await
}

/// Counts bytes read through a tree's readers (and how many files were opened for reading).
pub struct CountingTree {
    pub inner: Arc<dyn FileTree>,
    pub bytes_read: Arc<AtomicU64>,
    pub files_opened: AtomicUsize,
}

impl CountingTree {
    pub fn new(inner: Arc<dyn FileTree>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            bytes_read: Arc::new(AtomicU64::new(0)),
            files_opened: AtomicUsize::new(0),
        })
    }

    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::SeqCst)
    }
}

struct CountingReader {
    inner: Reader,
    count: Arc<AtomicU64>,
}

impl AsyncRead for CountingReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buffer.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(context, buffer);
        let read = buffer.filled().len() - before;
        self.count.fetch_add(read as u64, Ordering::SeqCst);
        result
    }
}

/// Flips the first byte of every file written through it.
pub struct CorruptingTree {
    pub inner: Arc<dyn FileTree>,
}

struct CorruptingWriter {
    inner: Writer,
    corrupted: bool,
}

impl AsyncWrite for CorruptingWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if !self.corrupted && !buffer.is_empty() {
            let mut changed = buffer.to_vec();
            changed[0] ^= 0xff;
            let result = Pin::new(&mut self.inner).poll_write(context, &changed);
            if matches!(result, Poll::Ready(Ok(_))) {
                self.corrupted = true;
            }
            return result;
        }
        Pin::new(&mut self.inner).poll_write(context, buffer)
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(context)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(context)
    }
}

/// Fails the first `failures` reads of files with a retryable connection error.
pub struct FlakyTree {
    pub inner: Arc<dyn FileTree>,
    pub failures: AtomicUsize,
}

/// Delegates every `FileTree` method (`capabilities` too, so the copy takes the path it would
/// take on the inner tree) to `self.inner` except `list`, `open_read` and `open_write`, given after it.
macro_rules! delegate_tree {
    ($type:ty, { $($overrides:item)* }) => {
        #[async_trait]
        impl FileTree for $type {
            fn capabilities(&self) -> Capabilities { self.inner.capabilities() }
            fn describe(&self) -> String { self.inner.describe() }
            async fn metadata(&self, path: &RelativePath) -> TransportResult<Option<Metadata>> { self.inner.metadata(path).await }
            async fn create_dir_all(&self, path: &RelativePath) -> TransportResult<()> { self.inner.create_dir_all(path).await }
            async fn rename(&self, from: &RelativePath, to: &RelativePath) -> TransportResult<()> { self.inner.rename(from, to).await }
            async fn remove_file(&self, path: &RelativePath) -> TransportResult<()> { self.inner.remove_file(path).await }
            async fn remove_dir(&self, path: &RelativePath) -> TransportResult<()> { self.inner.remove_dir(path).await }
            async fn read_link(&self, path: &RelativePath) -> TransportResult<String> { self.inner.read_link(path).await }
            async fn symlink(&self, target: &str, path: &RelativePath) -> TransportResult<()> { self.inner.symlink(target, path).await }
            async fn set_metadata(&self, path: &RelativePath, modified: Option<SystemTime>, mode: Option<u32>) -> TransportResult<()> { self.inner.set_metadata(path, modified, mode).await }
            async fn free_space(&self) -> TransportResult<Option<u64>> { self.inner.free_space().await }
            async fn sync(&self, files: &[RelativePath]) -> TransportResult<()> { self.inner.sync(files).await }
            $($overrides)*
        }
    };
}

delegate_tree!(CountingTree, {
    async fn list(&self, directory: &RelativePath) -> TransportResult<Vec<(String, Metadata)>> {
        self.inner.list(directory).await
    }
    async fn open_read(&self, path: &RelativePath, offset: u64) -> TransportResult<Reader> {
        self.files_opened.fetch_add(1, Ordering::SeqCst);
        let inner = self.inner.open_read(path, offset).await?;
        Ok(Box::new(CountingReader {
            inner,
            count: Arc::clone(&self.bytes_read),
        }))
    }
    async fn open_write(&self, path: &RelativePath, offset: u64) -> TransportResult<Writer> {
        self.inner.open_write(path, offset).await
    }
});

delegate_tree!(CorruptingTree, {
    async fn list(&self, directory: &RelativePath) -> TransportResult<Vec<(String, Metadata)>> {
        self.inner.list(directory).await
    }
    async fn open_read(&self, path: &RelativePath, offset: u64) -> TransportResult<Reader> {
        self.inner.open_read(path, offset).await
    }
    async fn open_write(&self, path: &RelativePath, offset: u64) -> TransportResult<Writer> {
        let inner = self.inner.open_write(path, offset).await?;
        Ok(Box::new(CorruptingWriter {
            inner,
            corrupted: false,
        }))
    }
});

delegate_tree!(FlakyTree, {
    async fn list(&self, directory: &RelativePath) -> TransportResult<Vec<(String, Metadata)>> {
        self.inner.list(directory).await
    }
    async fn open_read(&self, path: &RelativePath, offset: u64) -> TransportResult<Reader> {
        let left = self.failures.load(Ordering::SeqCst);
        if left > 0 {
            self.failures.store(left - 1, Ordering::SeqCst);
            return Err(TransportError::new(
                ErrorKind::Connection,
                "connection reset (test)",
            ));
        }
        self.inner.open_read(path, offset).await
    }
    async fn open_write(&self, path: &RelativePath, offset: u64) -> TransportResult<Writer> {
        self.inner.open_write(path, offset).await
    }
});

/// Reports `other_device` (and everything below it) as being on another device.
pub struct OtherDeviceTree {
    pub inner: Arc<dyn FileTree>,
    pub other_device: RelativePath,
}

delegate_tree!(OtherDeviceTree, {
    async fn list(&self, directory: &RelativePath) -> TransportResult<Vec<(String, Metadata)>> {
        let mut entries = self.inner.list(directory).await?;
        for (name, metadata) in &mut entries {
            if directory
                .join(name)
                .is_some_and(|path| path.starts_with(&self.other_device))
            {
                metadata.device = metadata.device.map(|device| device + 1);
            }
        }
        Ok(entries)
    }
    async fn open_read(&self, path: &RelativePath, offset: u64) -> TransportResult<Reader> {
        self.inner.open_read(path, offset).await
    }
    async fn open_write(&self, path: &RelativePath, offset: u64) -> TransportResult<Writer> {
        self.inner.open_write(path, offset).await
    }
});
