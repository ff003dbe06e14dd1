//! `LocalWriter`: the streaming path's writer for a local file (tokio's `File`), which starts
//! writing every few MiB back to disk as it goes, so the copy engine's later `sync` of the target
//! finds little left to flush.

use std::fs::File;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;

/// Bytes written between two requests to start writing them back.
pub const WRITEBACK_STEP: u64 = 8 * 1024 * 1024;

/// Starts writing `length` bytes of `file` at `offset` back to disk (0: to its end) without
/// waiting for it. Only a hint: errors are ignored, and durability still comes from a sync.
pub fn start_writeback(file: &File, offset: u64, length: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let (Ok(offset), Ok(length)) = (i64::try_from(offset), i64::try_from(length)) else {
            return;
        };
        // SAFETY: the descriptor stays open for the whole call; the kernel only reads the arguments.
        unsafe {
            libc::sync_file_range(
                file.as_raw_fd(),
                offset,
                length,
                libc::SYNC_FILE_RANGE_WRITE,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, offset, length);
}

/// Reserves the blocks a file of `size` bytes still needs past `offset`, without changing its
/// length (a resumed copy starts where the written bytes end). On ext4 that replaces thousands
/// of delayed allocations with one (measured: a fifth less system time copying 8 x 256 MiB).
/// Files under `WRITEBACK_STEP` are left alone. Only a hint: the writes allocate what it could not.
pub fn reserve_space(file: impl std::os::fd::AsFd, offset: u64, size: u64) {
    if size < WRITEBACK_STEP || offset >= size {
        return;
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = rustix::fs::fallocate(
        file,
        rustix::fs::FallocateFlags::KEEP_SIZE,
        offset,
        size - offset,
    );
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = (file, offset, size);
}

/// A local file being written through tokio, starting writeback every `WRITEBACK_STEP` bytes.
pub struct LocalWriter {
    file: tokio::fs::File,
    /// A second descriptor of the same file for the writeback requests, which run on the
    /// blocking pool and may outlive a poll (never the file: they hold this `Arc`).
    writeback: Option<Arc<File>>,
    written: u64,
    requested: u64,
}

impl LocalWriter {
    /// Wraps `file`, opened for writing at `offset`.
    pub fn new(file: tokio::fs::File, descriptor: Option<File>, offset: u64) -> Self {
        Self {
            file,
            writeback: descriptor.map(Arc::new),
            written: offset,
            requested: offset,
        }
    }

    fn after_write(&mut self, bytes: usize) {
        self.written += bytes as u64;
        if self.written < self.requested + WRITEBACK_STEP {
            return;
        }
        let (Some(descriptor), Ok(runtime)) =
            (&self.writeback, tokio::runtime::Handle::try_current())
        else {
            return;
        };
        // tokio's `File` may still hold the last chunk: it is flushed by the next request or the sync.
        let descriptor = Arc::clone(descriptor);
        let offset = self.requested;
        runtime.spawn_blocking(move || start_writeback(&descriptor, offset, 0));
        self.requested = self.written;
    }
}

impl AsyncWrite for LocalWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.file).poll_write(context, buffer);
        if let Poll::Ready(Ok(bytes)) = result {
            self.after_write(bytes);
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.file).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.file).poll_shutdown(context)
    }
}
