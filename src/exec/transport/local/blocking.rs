//! Blocking counterparts of `LocalTree`'s calls, for the copy engine's local-to-local path, which
//! copies a whole file on one blocking thread. The same escape-proof `openat` walks as the async calls.

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::time::SystemTime;

use rustix::fs::{Mode, Timestamps};
use rustix::io::Errno;

use super::syscalls::{self, CallResult};
use super::{LocalTree, kind_of};
use crate::exec::transport::{Metadata, RelativePath, TransportError, TransportResult};

impl LocalTree {
    /// Runs a blocking call against the root on this thread, naming the operation and path on failure.
    fn call_here<T>(
        &self,
        operation: &'static str,
        path: &RelativePath,
        call: impl FnOnce(&LocalTree) -> CallResult<T>,
    ) -> TransportResult<T> {
        call(self).map_err(|error| self.error(operation, path, error))
    }

    /// `metadata`, on the calling thread.
    pub(crate) fn metadata_blocking(
        &self,
        path: &RelativePath,
    ) -> TransportResult<Option<Metadata>> {
        self.call_here("read metadata of", path, |tree| {
            syscalls::metadata(tree.root.as_fd(), path)
        })
    }

    /// The metadata of a file this tree opened (`fstat`), named by `path` in errors; `None` once
    /// it was deleted (no name links to it any more), as `metadata` says of a missing path.
    pub(crate) fn metadata_of_open(
        &self,
        file: &File,
        path: &RelativePath,
    ) -> TransportResult<Option<Metadata>> {
        self.call_here("read metadata of", path, |_| {
            let stat = rustix::fs::fstat(file)?;
            Ok((stat.st_nlink != 0).then(|| syscalls::metadata_of(&stat)))
        })
    }

    /// Opens a regular file for reading from its start, on the calling thread.
    pub(crate) fn open_read_blocking(&self, path: &RelativePath) -> TransportResult<File> {
        self.call_here("read", path, |tree| {
            syscalls::open_read(tree.root.as_fd(), path, 0)
        })
        .map(File::from)
    }

    /// `open_write` on the calling thread, readable too so what was written can be read back.
    pub(crate) fn open_write_blocking(
        &self,
        path: &RelativePath,
        offset: u64,
    ) -> TransportResult<File> {
        self.call_here("write", path, |tree| {
            syscalls::open_write(tree.root.as_fd(), path, offset, true)
        })
        .map(File::from)
    }

    /// `rename`, on the calling thread.
    pub(crate) fn rename_blocking(
        &self,
        from: &RelativePath,
        to: &RelativePath,
    ) -> TransportResult<()> {
        self.call_here("rename", from, |tree| {
            syscalls::rename(tree.root.as_fd(), from, to)
        })
    }

    /// Sets the modification time (access time follows it) and permission bits of a file this
    /// tree opened for writing at `path`, through its descriptor.
    pub(crate) fn set_metadata_of_open(
        &self,
        file: &File,
        path: &RelativePath,
        modified: Option<SystemTime>,
        mode: Option<u32>,
    ) -> TransportResult<()> {
        let result = (|| -> Result<(), Errno> {
            if let Some(mode) = mode {
                rustix::fs::fchmod(file, Mode::from_raw_mode((mode & 0o7777) as _))?;
            }
            if let Some(modified) = modified {
                let time = syscalls::timespec_of(modified);
                let times = Timestamps {
                    last_access: time,
                    last_modification: time,
                };
                rustix::fs::futimens(file, &times)?;
            }
            Ok(())
        })();
        result.map_err(|errno| self.error("set metadata of", path, errno.into()))
    }

    /// An I/O error on a file this tree opened, naming the operation, the path and the tree.
    pub(crate) fn io_error(
        &self,
        operation: &str,
        path: &RelativePath,
        error: &io::Error,
    ) -> TransportError {
        let kind = error
            .raw_os_error()
            .map_or(crate::exec::transport::ErrorKind::Other, |code| {
                kind_of(Errno::from_raw_os_error(code))
            });
        TransportError::new(
            kind,
            format!("{operation} `{path}` in {}: {error}", self.describe_root()),
        )
    }
}
