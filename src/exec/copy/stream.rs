//! The streaming strategies (`Strategy::Temporary` and `Strategy::Atomic`): one file read from
//! the source and written to the target through the trees' async readers and writers in fixed
//! chunks, hashed on the way. To a temporary name (resumable, renamed into place once verified),
//! or, on trees with atomic writes (object stores), to the final name: it appears only when
//! whole, carrying its mtime, mode and BLAKE3 hash, and an abandoned upload leaves nothing.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::CHUNK_SIZE;
use super::decide::FileCopy;
use super::error::{FileFailure, SourceChange};
use super::events::ProgressEvent;
use super::steps::{Copied, resume_offset, vanished_when_missing};
use super::strategy::Strategy;
use super::transfer::TransferContext;
use super::verify::{source_unchanged, verify, verify_mode_for};
use crate::exec::transport::{ErrorKind, FileAttributes, Reader, TransportError, Writer};

/// Copies `copy` as `strategy` says (a streaming one; see the module documentation).
pub(super) async fn stream_file(
    context: &TransferContext,
    copy: &FileCopy,
    strategy: Strategy,
) -> Result<Copied, FileFailure> {
    let target = &context.target;
    let size = copy.metadata.size;
    let destination = strategy.destination(copy);
    let offset = if strategy.resume() {
        resume_offset(target.metadata(destination).await?.as_ref(), size)
    } else {
        0
    };
    let mut hasher = blake3::Hasher::new();
    let mut buffer = vec![0u8; CHUNK_SIZE];
    // The hash is always the source's: the prefix an earlier run wrote is re-read from the source
    // (not from the target), so the recorded BLAKE3 is the source's content and a full verify
    // also catches a prefix damaged on the target. Resuming saves the writes, not the reads.
    let mut reader = open_source(context, copy).await?;
    if offset > 0 {
        hash_prefix(context, copy, &mut reader, &mut hasher, &mut buffer, offset).await?;
    }
    // Trees that record the hash and cannot add it cheaply afterwards get it up front when the
    // source can be read twice at little cost; otherwise it is known only once read, and such
    // trees hash what they were given.
    let content_hash = if offset == 0 && strategy.hash_first() {
        Some(hash_whole_file(context, copy, &mut buffer).await?)
    } else {
        None
    };
    let attributes = FileAttributes {
        modified: copy.metadata.modified,
        mode: copy.metadata.mode,
        content_hash: content_hash.map(|hash| *hash.as_bytes()),
        size: Some(size),
    };
    let mut writer = target
        .open_write_with(destination, offset, &attributes)
        .await?;
    let mut pump = Pump {
        context,
        reader: &mut reader,
        hasher: &mut hasher,
        buffer: &mut buffer,
    };
    let written = match pump.run(&mut writer, offset, size).await {
        Ok(written) => written,
        Err(FileFailure::Interrupted) => {
            return Err(stop_writing(writer, strategy, FileFailure::Interrupted).await);
        }
        Err(failure) => return Err(failure),
    };
    if let Err(failure) = check_source(context, copy, written, content_hash, &hasher).await {
        return Err(stop_writing(writer, strategy, failure).await);
    }
    writer.shutdown().await.map_err(transport_error)?;
    drop(reader);
    let hash = hasher.finalize();
    let mode = verify_mode_for(context.verify, offset);
    verify(
        context,
        destination,
        size,
        &hash.to_hex(),
        mode,
        &mut buffer,
    )
    .await
    .map_err(|failure| failure.of_copy_resumed_from(offset))?;
    // A tree with atomic writes recorded the attributes with the upload.
    if !strategy.writes_in_place() {
        target
            .set_metadata(destination, copy.metadata.modified, copy.metadata.mode)
            .await?;
        target.rename(destination, &copy.target_path).await?;
    }
    Ok(Copied::new(copy, hash, offset))
}

async fn open_source(context: &TransferContext, copy: &FileCopy) -> Result<Reader, FileFailure> {
    context
        .source
        .open_read(&copy.source_path, 0)
        .await
        .map_err(vanished_when_missing)
}

/// Hashes the source's first `offset` bytes, which an earlier try wrote to the target already.
async fn hash_prefix(
    context: &TransferContext,
    copy: &FileCopy,
    reader: &mut Reader,
    hasher: &mut blake3::Hasher,
    buffer: &mut [u8],
    offset: u64,
) -> Result<(), FileFailure> {
    let hashed = hash_stream(reader, hasher, buffer, Some(offset)).await?;
    if hashed != offset {
        return Err(FileFailure::ChangedDuringCopy(SourceChange::Length {
            expected: copy.metadata.size,
            read: hashed,
        }));
    }
    context.progress.emit(ProgressEvent::Resumed {
        migration: context.migration.clone(),
        path: copy.target_path.to_string(),
        bytes: offset,
    });
    Ok(())
}

/// The source's reader, hasher and buffer, moving the bytes to a writer.
struct Pump<'copy> {
    context: &'copy TransferContext,
    reader: &'copy mut Reader,
    hasher: &'copy mut blake3::Hasher,
    buffer: &'copy mut [u8],
}

impl Pump<'_> {
    /// Reads the source to its end (or just past `size`), hashing and writing every chunk;
    /// returns the bytes written, `offset` included. Stops at once when cancelled.
    async fn run(
        &mut self,
        writer: &mut Writer,
        offset: u64,
        size: u64,
    ) -> Result<u64, FileFailure> {
        let context = self.context;
        let mut written = offset;
        loop {
            if context.cancel.is_cancelled() {
                return Err(FileFailure::Interrupted);
            }
            let read = fill(&mut *self.reader, &mut *self.buffer)
                .await
                .map_err(transport_error)?;
            if read == 0 {
                return Ok(written);
            }
            if let Some(limiter) = &context.limiter {
                limiter.acquire(read as u64).await;
            }
            let chunk = &self.buffer[..read];
            self.hasher.update(chunk);
            writer.write_all(chunk).await.map_err(transport_error)?;
            written += read as u64;
            context.progress.emit(ProgressEvent::Transferred {
                migration: context.migration.clone(),
                bytes: read as u64,
            });
            if written > size {
                return Ok(written);
            }
        }
    }
}

/// Checks that the source read is the version listed (and, hashed first, the bytes hashed).
async fn check_source(
    context: &TransferContext,
    copy: &FileCopy,
    written: u64,
    content_hash: Option<blake3::Hash>,
    hasher: &blake3::Hasher,
) -> Result<(), FileFailure> {
    let after = context.source.metadata(&copy.source_path).await?;
    source_unchanged(&copy.metadata, written, after.as_ref())?;
    match content_hash {
        Some(hash) if hash != hasher.finalize() => {
            Err(FileFailure::ChangedDuringCopy(SourceChange::Content))
        }
        _ => Ok(()),
    }
}

/// Ends a write that must not complete (cancelled, or from a changing source), returning
/// `failure`. A writer to the final name is dropped, which abandons it (shutting it down would
/// publish a file of the wrong length); a temporary is flushed, so that the next run resumes from
/// an honest length (the retry decides what to keep).
async fn stop_writing(mut writer: Writer, strategy: Strategy, failure: FileFailure) -> FileFailure {
    if !strategy.writes_in_place() {
        let _ = writer.shutdown().await;
    }
    failure
}

/// The BLAKE3 hash of the whole source file, read once before the copy.
async fn hash_whole_file(
    context: &TransferContext,
    copy: &FileCopy,
    buffer: &mut [u8],
) -> Result<blake3::Hash, FileFailure> {
    let mut reader = open_source(context, copy).await?;
    let mut hasher = blake3::Hasher::new();
    hash_stream(&mut reader, &mut hasher, buffer, None).await?;
    Ok(hasher.finalize())
}

/// Reads until the buffer is full or the stream ends.
async fn fill(
    reader: &mut (impl AsyncRead + Unpin + ?Sized),
    buffer: &mut [u8],
) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        let read = reader.read(&mut buffer[filled..]).await?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    Ok(filled)
}

/// Hashes a stream to its end, or its first `limit` bytes; returns how many bytes were hashed.
pub(super) async fn hash_stream(
    reader: &mut (impl AsyncRead + Unpin + ?Sized),
    hasher: &mut blake3::Hasher,
    buffer: &mut [u8],
    limit: Option<u64>,
) -> Result<u64, FileFailure> {
    let mut total = 0u64;
    loop {
        let wanted = match limit {
            Some(limit) => usize::try_from(limit - total)
                .unwrap_or(usize::MAX)
                .min(buffer.len()),
            None => buffer.len(),
        };
        if wanted == 0 {
            return Ok(total);
        }
        let read = fill(reader, &mut buffer[..wanted])
            .await
            .map_err(transport_error)?;
        if read == 0 {
            return Ok(total);
        }
        hasher.update(&buffer[..read]);
        total += read as u64;
    }
}

/// An I/O error from a tree's reader or writer, as a `TransportError` (kept as is when the tree wrapped one).
pub(crate) fn transport_error(error: io::Error) -> FileFailure {
    if let Some(inner) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<TransportError>())
    {
        return FileFailure::Transport(inner.clone());
    }
    let kind = match error.kind() {
        io::ErrorKind::NotFound => ErrorKind::NotFound,
        io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::NotConnected
        | io::ErrorKind::UnexpectedEof => ErrorKind::Connection,
        io::ErrorKind::TimedOut => ErrorKind::Timeout,
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => ErrorKind::NoSpace,
        _ => ErrorKind::Other,
    };
    FileFailure::Transport(TransportError::new(kind, error.to_string()))
}
