//! The file-tree interface both ends of a copy speak (a local directory, an SFTP server, object storage), and its typed errors.
//!
//! Every path crossing this interface is a `RelativePath`: it cannot name anything outside the
//! tree's root, so no source entry can make ferry write outside a target.

pub mod local;
#[cfg(feature = "sftp")]
pub mod sftp;

use std::time::SystemTime;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWrite};

#[cfg(feature = "object-store")]
pub mod object_store;
pub mod retry;

/// What kind of entry a path is. Symlinks are never followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Directory,
    Symlink,
    /// Sockets, devices, FIFOs: skipped by the copy and reported.
    Other,
}

/// An entry's metadata, as far as the tree can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub kind: EntryKind,
    pub size: u64,
    pub modified: Option<SystemTime>,
    /// Unix permission bits, where the tree has them.
    pub mode: Option<u32>,
    /// The file system (device) id, where the tree has it: a different id below a mount's root
    /// marks a nested mount, which is excluded from its parent's copy (like `rsync -x`).
    pub device: Option<u64>,
}

pub use crate::relative_path::RelativePath;

/// Why a tree operation failed, and whether trying again may help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    PermissionDenied,
    /// Login refused: wrong user, password or key.
    Authentication,
    /// The server's host key is unknown or does not match.
    HostKey,
    /// The connection failed or dropped.
    Connection,
    Timeout,
    /// The target has no room left.
    NoSpace,
    /// Anything else the operating system or server reported.
    Other,
}

/// A failed tree operation.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    pub kind: ErrorKind,
    /// Human-readable, naming the path and the endpoint; never a secret.
    pub message: String,
}

impl TransportError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// Whether retrying the operation (with backoff) may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::Connection | ErrorKind::Timeout)
    }
}

pub type TransportResult<T> = Result<T, TransportError>;

/// What a file should carry once written, handed over when it is opened for writing: trees that can
/// only attach metadata while uploading (object stores) record it with the upload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileAttributes {
    pub modified: Option<SystemTime>,
    /// Unix permission bits.
    pub mode: Option<u32>,
    /// The content's BLAKE3 hash, when the caller knows it before writing. A tree that records it
    /// refuses to complete a file whose bytes hash differently.
    pub content_hash: Option<[u8; 32]>,
    /// The length the caller is about to write, when known (object stores size their parts and
    /// upload buffers by it).
    pub size: Option<u64>,
}

/// What a tree can do, as plain data (like OpenDAL's `Capability` or rclone's `Features`): the
/// copy engine chooses how each file moves (`exec::copy::strategy`) from the two trees'
/// capabilities, never from what a tree is. [`Capabilities::default`] is a plain file system
/// that cannot resume: every field off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// A written file appears only once its writer's `shutdown` succeeds, whole or not at all (an
    /// object store's upload). Then a copy writes straight to the final name: no temporary name,
    /// no rename. A failed or dropped writer leaves nothing behind.
    pub atomic_writes: bool,
    /// `open_write` at an offset keeps the file's first `offset` bytes, so a copy interrupted
    /// midway can continue from what it wrote (local directories and SFTP servers; not object
    /// stores, whose uploads restart).
    pub resumable_writes: bool,
    /// Folders exist only as parts of files' paths (an object store's key prefixes): then
    /// `create_dir_all` does nothing, an empty folder cannot be kept, and folders carry no times.
    pub implied_directories: bool,
    /// Files larger than this many bytes are best written with their BLAKE3 hash known up front
    /// (in `FileAttributes::content_hash`), because adding it afterwards is costly (S3 copies a
    /// multipart object onto itself to change its metadata); `None`: never. The copy engine
    /// hashes the source first only when the source `rereads_cheaply`. Meaningful with
    /// `atomic_writes` (the only trees that record the hash with the upload).
    pub hash_before_writing_above: Option<u64>,
    /// Reading a file twice costs little (a local disk, usually in the page cache), unlike a
    /// remote source where every read crosses the network.
    pub rereads_cheaply: bool,
    /// Several reads of one file at once are faster than one (an object store serves each
    /// request at a limited rate): then a large file is read back in ranges to verify it.
    pub ranged_reads: bool,
}

impl Capabilities {
    /// Whether a file of `size` bytes is best written with its hash known up front.
    pub fn wants_hash_before_writing(&self, size: u64) -> bool {
        self.hash_before_writing_above
            .is_some_and(|threshold| size > threshold)
    }
}

/// A file being read. Its `io::Error`s may wrap a `TransportError` (`io::Error::other(error)`) to
/// keep its kind (a dropped connection stays retryable); the copy engine unwraps it.
pub type Reader = Box<dyn AsyncRead + Send + Unpin>;
/// A file being written; errors as for `Reader`.
pub type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// A file tree: a local directory, a directory on an SFTP server, or a bucket or container (under
/// a prefix) of object storage. Paths are relative to the tree's root. Implementations must be
/// safe to call concurrently.
#[async_trait]
pub trait FileTree: Send + Sync {
    /// What this tree can do (see [`Capabilities`]): asked once per migration, so it must not
    /// change over the tree's life. Required, so that a decorator states it: forwarding the inner
    /// tree's keeps the copy on the path the inner tree would take.
    fn capabilities(&self) -> Capabilities;

    /// Names the tree for messages and reports, e.g. `local:/srv/out` or `sftp://user@10.0.0.5:22/data`.
    /// Never contains a secret.
    fn describe(&self) -> String;

    /// An entry's metadata without following symlinks; `None` when nothing is there.
    async fn metadata(&self, path: &RelativePath) -> TransportResult<Option<Metadata>>;

    /// One directory's entries (not recursive), without following symlinks.
    async fn list(&self, directory: &RelativePath) -> TransportResult<Vec<(String, Metadata)>>;

    /// Reads a file from `offset` to its end.
    async fn open_read(&self, path: &RelativePath, offset: u64) -> TransportResult<Reader>;

    /// Reads `length` bytes of a file from `offset` (fewer when the file is shorter). The default
    /// reads from `offset` and stops after `length`; trees that can ask for a range do so.
    async fn open_read_range(
        &self,
        path: &RelativePath,
        offset: u64,
        length: u64,
    ) -> TransportResult<Reader> {
        use tokio::io::AsyncReadExt;
        let reader = self.open_read(path, offset).await?;
        Ok(Box::new(reader.take(length)))
    }

    /// Opens a file for writing at `offset`: 0 creates or truncates it; a larger offset keeps
    /// the first `offset` bytes of an existing file and drops the rest (resuming a partial file).
    /// The caller must `shutdown` the writer to flush and close it.
    async fn open_write(&self, path: &RelativePath, offset: u64) -> TransportResult<Writer>;

    /// Creates a directory and any missing parents.
    async fn create_dir_all(&self, path: &RelativePath) -> TransportResult<()>;

    /// Renames a file, replacing whatever file is at `to`.
    async fn rename(&self, from: &RelativePath, to: &RelativePath) -> TransportResult<()>;

    /// Removes a file or symlink.
    async fn remove_file(&self, path: &RelativePath) -> TransportResult<()>;

    /// Removes an empty directory.
    async fn remove_dir(&self, path: &RelativePath) -> TransportResult<()>;

    /// Reads a symlink's target text (never followed).
    async fn read_link(&self, path: &RelativePath) -> TransportResult<String>;

    /// Creates a symlink at `path` whose target text is `target`.
    async fn symlink(&self, target: &str, path: &RelativePath) -> TransportResult<()>;

    /// Sets the modification time and permission bits where the tree can hold them.
    async fn set_metadata(
        &self,
        path: &RelativePath,
        modified: Option<SystemTime>,
        mode: Option<u32>,
    ) -> TransportResult<()>;

    /// Free space in bytes at the root, when the tree can tell.
    async fn free_space(&self) -> TransportResult<Option<u64>>;

    /// Makes `files` (written and renamed into place) durable, with the directory entries naming
    /// them. The copy engine calls it before recording a batch of files in the ledger, so the
    /// ledger never claims more than the target holds after a crash. Trees whose writes are
    /// durable when closed (object stores) keep the default.
    async fn sync(&self, files: &[RelativePath]) -> TransportResult<()> {
        let _ = files;
        Ok(())
    }

    /// `open_write` for a file that should carry `attributes`. Object stores record them with the
    /// upload (metadata is fixed when an object is written) and add the BLAKE3 hash of the bytes
    /// written when `content_hash` is `None`. The default ignores them: call `set_metadata` after
    /// `shutdown` as usual (on trees that recorded them already, it finds nothing to change).
    async fn open_write_with(
        &self,
        path: &RelativePath,
        offset: u64,
        attributes: &FileAttributes,
    ) -> TransportResult<Writer> {
        let _ = attributes;
        self.open_write(path, offset).await
    }

    /// The BLAKE3 hash recorded with a file, when the tree keeps one (object stores do, as
    /// `ferry-blake3` metadata): a later sync can compare it without reading the file back.
    async fn content_hash(&self, path: &RelativePath) -> TransportResult<Option<[u8; 32]>> {
        let _ = path;
        Ok(None)
    }

    /// This tree as a local directory, when it is one. Not a capability but the tree itself: the
    /// copy engine asks once per migration (not per file), then copies each file between two local
    /// trees on one blocking thread and reads local copies back there, calling around this trait.
    /// So a decorator that changes what is read or written must keep the default (`None`), or it
    /// would be bypassed; one that only watches may forward it. Capabilities, unlike this, are
    /// always forwarded.
    fn as_local(&self) -> Option<&local::LocalTree> {
        None
    }

    /// Discards writes a killed process left unfinished where this tree cannot see them as files
    /// (an object store's multipart uploads), returning how many. Trees whose partial writes are
    /// ordinary files (resumed or replaced by the copy) keep the default, which does nothing.
    async fn discard_unfinished_writes(&self) -> TransportResult<usize> {
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::RelativePath;

    #[test]
    fn relative_paths_cannot_escape_the_root() {
        for bad in [
            "..",
            "../escape",
            "a/../b",
            "/etc/passwd",
            "a//b",
            "a/./b",
            "a\\..\\b",
            "a\0b",
            "a/",
        ] {
            assert_eq!(RelativePath::new(bad), None, "{bad:?} must be refused");
        }
        let base = RelativePath::new("C/Users").unwrap();
        assert_eq!(base.join("..").as_ref(), None);
        assert_eq!(base.join("x/y").as_ref(), None);
        assert_eq!(
            base.join("notes.txt").unwrap().as_str(),
            "C/Users/notes.txt"
        );
        assert_eq!(base.parent().as_str(), "C");
        assert!(RelativePath::new("").unwrap().is_root());
    }

    #[test]
    fn relative_paths_compose_by_whole_components() {
        let base = RelativePath::new("data/app").unwrap();
        let file = RelativePath::new("logs/today.log").unwrap();
        let joined = base.concat(&file);
        assert_eq!(joined.as_str(), "data/app/logs/today.log");
        assert_eq!(RelativePath::root().concat(&file), file);
        assert_eq!(file.concat(&RelativePath::root()), file);
        assert!(joined.starts_with(&base));
        assert!(joined.starts_with(&RelativePath::root()));
        assert!(
            !RelativePath::new("data/application")
                .unwrap()
                .starts_with(&base)
        );
        assert_eq!(joined.strip_prefix(&base), Some(file));
        assert_eq!(base.strip_prefix(&base), Some(RelativePath::root()));
        assert_eq!(base.depth(), 2);
        assert_eq!(RelativePath::root().depth(), 0);
    }
}
