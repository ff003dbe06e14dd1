//! `LocalTree`: a `FileTree` over a directory on this machine that nothing can read or write outside of.
//!
//! Every call walks from the root's open descriptor one component at a time with `O_NOFOLLOW`
//! (see `syscalls`), so a symlink planted anywhere in the tree (`data -> /etc`) is an entry like
//! any other, never a way out. Blocking calls run on tokio's blocking pool.

mod blocking;
mod syscalls;
#[cfg(test)]
mod tests;
mod writer;

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use self::syscalls::{CallError, CallResult};
pub(crate) use self::writer::{WRITEBACK_STEP, reserve_space, start_writeback};
use super::{
    Capabilities, ErrorKind, FileAttributes, FileTree, Metadata, Reader, RelativePath,
    TransportError, TransportResult, Writer,
};

/// The largest read or write handed to the blocking pool at once.
const BLOCKING_BUFFER_SIZE: usize = 1024 * 1024;

/// A directory on this machine, opened once; every path is resolved beneath it.
#[derive(Clone)]
pub struct LocalTree {
    root_path: PathBuf,
    root: Arc<OwnedFd>,
}

impl LocalTree {
    /// Opens an existing directory as a tree's root (the root path itself may be a symlink the user chose).
    pub fn open(root: impl AsRef<Path>) -> TransportResult<Self> {
        let root_path = root.as_ref().to_path_buf();
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let root = rustix::fs::open(&root_path, flags, Mode::empty()).map_err(|errno| {
            TransportError::new(
                kind_of(errno),
                format!("cannot open directory {}: {errno}", root_path.display()),
            )
        })?;
        Ok(Self {
            root_path,
            root: Arc::new(root),
        })
    }

    /// Creates the directory (and its parents) if needed, then opens it.
    pub fn create(root: impl AsRef<Path>) -> TransportResult<Self> {
        let root = root.as_ref();
        std::fs::create_dir_all(root).map_err(|error| {
            TransportError::new(
                ErrorKind::Other,
                format!("cannot create directory {}: {error}", root.display()),
            )
        })?;
        Self::open(root)
    }

    /// Runs a blocking call against the root on the blocking pool, naming the operation and path on failure.
    async fn call<T, F>(
        &self,
        operation: &'static str,
        path: &RelativePath,
        call: F,
    ) -> TransportResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&OwnedFd, &RelativePath) -> CallResult<T> + Send + 'static,
    {
        let root = Arc::clone(&self.root);
        let owned_path = path.clone();
        let result = tokio::task::spawn_blocking(move || call(&root, &owned_path)).await;
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(self.error(operation, path, error)),
            Err(join_error) => Err(TransportError::new(
                ErrorKind::Other,
                format!("{operation} `{path}` in {}: {join_error}", self.describe()),
            )),
        }
    }

    fn describe_root(&self) -> String {
        format!("local:{}", self.root_path.display())
    }

    fn error(&self, operation: &str, path: &RelativePath, error: CallError) -> TransportError {
        let tree = self.describe();
        match error {
            CallError::Errno(errno) => TransportError::new(
                kind_of(errno),
                format!("{operation} `{path}` in {tree}: {errno}"),
            ),
            CallError::Name(name) => TransportError::new(
                ErrorKind::Other,
                format!(
                    "{operation} `{path}` in {tree}: the name `{}` is not valid UTF-8 or holds a backslash, so ferry cannot copy it faithfully; rename it or exclude this mount",
                    name.lossy
                ),
            ),
            CallError::NotADirectory(walked) => TransportError::new(
                ErrorKind::Other,
                format!(
                    "{operation} `{path}` in {tree}: `{walked}` is not a directory (symlinks are never followed)"
                ),
            ),
            CallError::NotAFile => TransportError::new(
                ErrorKind::Other,
                format!("{operation} `{path}` in {tree}: not a regular file"),
            ),
            CallError::ShortFile { length } => TransportError::new(
                ErrorKind::Other,
                format!(
                    "{operation} `{path}` in {tree}: cannot resume past the file's length ({length} bytes)"
                ),
            ),
        }
    }
}

fn kind_of(errno: Errno) -> ErrorKind {
    match errno {
        Errno::NOENT => ErrorKind::NotFound,
        Errno::ACCESS | Errno::PERM | Errno::ROFS => ErrorKind::PermissionDenied,
        Errno::NOSPC | Errno::DQUOT => ErrorKind::NoSpace,
        Errno::TIMEDOUT => ErrorKind::Timeout,
        _ => ErrorKind::Other,
    }
}

fn tokio_file(descriptor: OwnedFd) -> tokio::fs::File {
    let mut file = tokio::fs::File::from_std(std::fs::File::from(descriptor));
    file.set_max_buf_size(BLOCKING_BUFFER_SIZE);
    file
}

#[async_trait]
impl FileTree for LocalTree {
    fn describe(&self) -> String {
        self.describe_root()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            resumable_writes: true,
            rereads_cheaply: true,
            ..Capabilities::default()
        }
    }

    fn as_local(&self) -> Option<&LocalTree> {
        Some(self)
    }

    async fn metadata(&self, path: &RelativePath) -> TransportResult<Option<Metadata>> {
        self.call("read metadata of", path, |root, path| {
            syscalls::metadata(root.as_fd(), path)
        })
        .await
    }

    async fn list(&self, directory: &RelativePath) -> TransportResult<Vec<(String, Metadata)>> {
        self.call("list", directory, |root, path| {
            syscalls::list(root.as_fd(), path)
        })
        .await
    }

    async fn open_read(&self, path: &RelativePath, offset: u64) -> TransportResult<Reader> {
        let descriptor = self
            .call("read", path, move |root, path| {
                syscalls::open_read(root.as_fd(), path, offset)
            })
            .await?;
        Ok(Box::new(tokio_file(descriptor)))
    }

    async fn open_write(&self, path: &RelativePath, offset: u64) -> TransportResult<Writer> {
        self.open_write_with(path, offset, &FileAttributes::default())
            .await
    }

    /// Reserves the file's space when its size is known; metadata is set afterwards as usual.
    async fn open_write_with(
        &self,
        path: &RelativePath,
        offset: u64,
        attributes: &FileAttributes,
    ) -> TransportResult<Writer> {
        let size = attributes.size.unwrap_or(0);
        let descriptor = self
            .call("write", path, move |root, path| {
                let descriptor = syscalls::open_write(root.as_fd(), path, offset, false)?;
                reserve_space(&descriptor, offset, size);
                Ok(descriptor)
            })
            .await?;
        // A failed `dup` only loses the early writeback, never the write.
        let writeback = descriptor.try_clone().ok().map(std::fs::File::from);
        Ok(Box::new(writer::LocalWriter::new(
            tokio_file(descriptor),
            writeback,
            offset,
        )))
    }

    async fn create_dir_all(&self, path: &RelativePath) -> TransportResult<()> {
        self.call("create directory", path, |root, path| {
            syscalls::create_dir_all(root.as_fd(), path)
        })
        .await
    }

    async fn rename(&self, from: &RelativePath, to: &RelativePath) -> TransportResult<()> {
        let destination = to.clone();
        self.call("rename", from, move |root, from| {
            syscalls::rename(root.as_fd(), from, &destination)
        })
        .await
    }

    async fn remove_file(&self, path: &RelativePath) -> TransportResult<()> {
        self.call("remove", path, |root, path| {
            syscalls::remove(root.as_fd(), path, false)
        })
        .await
    }

    async fn remove_dir(&self, path: &RelativePath) -> TransportResult<()> {
        self.call("remove directory", path, |root, path| {
            syscalls::remove(root.as_fd(), path, true)
        })
        .await
    }

    async fn read_link(&self, path: &RelativePath) -> TransportResult<String> {
        self.call("read symlink", path, |root, path| {
            syscalls::read_link(root.as_fd(), path)
        })
        .await
    }

    async fn symlink(&self, target: &str, path: &RelativePath) -> TransportResult<()> {
        let target = target.to_string();
        self.call("create symlink", path, move |root, path| {
            syscalls::symlink(root.as_fd(), &target, path)
        })
        .await
    }

    async fn set_metadata(
        &self,
        path: &RelativePath,
        modified: Option<SystemTime>,
        mode: Option<u32>,
    ) -> TransportResult<()> {
        self.call("set metadata of", path, move |root, path| {
            syscalls::set_metadata(root.as_fd(), path, modified, mode)
        })
        .await
    }

    async fn free_space(&self) -> TransportResult<Option<u64>> {
        self.call("read free space of", &RelativePath::root(), |root, _| {
            syscalls::free_space(root.as_fd()).map(Some)
        })
        .await
    }

    async fn sync(&self, files: &[RelativePath]) -> TransportResult<()> {
        let files = files.to_vec();
        self.call("sync", &RelativePath::root(), move |root, _| {
            syscalls::sync(root.as_fd(), &files)
        })
        .await
    }
}
