//! The reader and writer streams over a remote file, with pipelined requests.
//!
//! russh-sftp's `File` keeps up to 8 reads or 16 writes of up to 255 KiB in flight (see `connection.rs`).
//! These wrappers add three things: they hold their connection so the pool counts it as busy,
//! they turn errors into `TransportError`s inside `io::Error` (recover them with
//! `error.get_ref()` and `downcast_ref::<TransportError>()`), and `flush` does not stall the
//! write pipeline. `File::poll_flush` waits for every write to be acknowledged and then asks
//! the server to fsync; `tokio::io::copy` flushes whenever its reader has nothing ready, which
//! would cost a round trip and a disk sync each time. Here `flush` returns at once (the writes
//! are already on their way) and `shutdown` waits for every acknowledgement and closes the
//! handle, reporting any failed write. ferry does not fsync remote files.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use russh_sftp::client::fs::File;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::connection::Connection;
use super::errors::from_stream_io;

/// Where a stream reads or writes, for error messages.
pub(crate) struct StreamContext {
    pub remote_path: String,
    pub tree: String,
}

pub(crate) struct SftpReader {
    file: File,
    context: StreamContext,
    _connection: Arc<Connection>,
}

impl SftpReader {
    pub(crate) fn new(file: File, context: StreamContext, connection: Arc<Connection>) -> Self {
        Self {
            file,
            context,
            _connection: connection,
        }
    }
}

impl AsyncRead for SftpReader {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        Pin::new(&mut this.file)
            .poll_read(context, buffer)
            .map_err(|error| {
                from_stream_io(
                    error,
                    "cannot read",
                    &this.context.remote_path,
                    &this.context.tree,
                )
            })
    }
}

pub(crate) struct SftpWriter {
    file: File,
    context: StreamContext,
    _connection: Arc<Connection>,
}

impl SftpWriter {
    pub(crate) fn new(file: File, context: StreamContext, connection: Arc<Connection>) -> Self {
        Self {
            file,
            context,
            _connection: connection,
        }
    }

    fn map<'a>(&'a self, operation: &'a str) -> impl Fn(io::Error) -> io::Error + 'a {
        move |error| {
            from_stream_io(
                error,
                operation,
                &self.context.remote_path,
                &self.context.tree,
            )
        }
    }
}

impl AsyncWrite for SftpWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.file).poll_write(context, buffer);
        result.map_err(this.map("cannot write"))
    }

    fn poll_flush(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.file).poll_shutdown(context);
        result.map_err(this.map("cannot finish writing"))
    }
}
