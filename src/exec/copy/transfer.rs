//! Copying one file (streamed in fixed chunks, hashed, verified, renamed into place) or one symlink, with retries.
//! Trees with atomic writes (object stores) take the file at its final name instead: it appears only
//! when whole, carrying its mtime, mode and BLAKE3 hash, and an abandoned upload leaves nothing.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use super::bandwidth::BandwidthLimiter;
use super::decide::{FileCopy, SymlinkCopy, nanos_since_epoch};
use super::error::{FileFailure, SourceChange};
use super::events::{ProgressEvent, ProgressSink};
use super::local_copy::copy_local_file;
use super::verify::{resume_offset, source_unchanged, verify, verify_mode_for};
use super::{CHUNK_SIZE, RESUMABLE_SIZE, RetryPolicy};
use crate::exec::ledger::FileRecord;
use crate::exec::transport::{EntryKind, ErrorKind, FileAttributes, FileTree, TransportError};
use crate::options::VerifyMode;

/// What every transfer of a migration shares.
pub(crate) struct TransferContext {
    pub migration: String,
    pub source: Arc<dyn FileTree>,
    pub target: Arc<dyn FileTree>,
    pub verify: VerifyMode,
    /// Files are recorded before they are durable (`--durability defer`), so nothing starts
    /// writing them back early: that is left to the system.
    pub defer_durability: bool,
    pub limiter: Option<Arc<BandwidthLimiter>>,
    pub retry: RetryPolicy,
    pub progress: ProgressSink,
    pub cancel: CancellationToken,
}

/// A file copied, verified and in place.
#[derive(Debug)]
pub(crate) struct Copied {
    pub record: FileRecord,
    /// Bytes written to the target in this run (less than the size when resumed).
    pub transferred: u64,
    /// Where the copy continued from (0 unless resumed).
    pub resumed_from: u64,
}

/// Runs `attempt` until it succeeds, fails for good, or the retries run out; waits between tries
/// with exponential backoff.
async fn retrying<T, F, Fut>(context: &TransferContext, mut attempt: F) -> Result<T, FileFailure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, FileFailure>>,
{
    let mut tries = 0u32;
    loop {
        match attempt().await {
            Err(failure) if failure.is_retryable() && tries < context.retry.retries => {
                backoff(context, tries).await?;
                tries += 1;
            }
            result => return result,
        }
    }
}

/// Copies one file into place, retrying transient failures. When the source changed while it was
/// read, the retry copies it as it is now.
pub(crate) async fn copy_file(
    context: Arc<TransferContext>,
    mut copy: FileCopy,
) -> Result<Copied, FileFailure> {
    let mut trust_temporary = copy.resume;
    let mut tries = 0u32;
    loop {
        let failure = match copy_once(&context, &copy, trust_temporary).await {
            Ok(copied) => return Ok(copied),
            Err(failure) => failure,
        };
        if matches!(failure, FileFailure::ChangedDuringCopy(_)) {
            let _ = context.target.remove_file(&copy.temporary_path).await;
            match context.source.metadata(&copy.source_path).await {
                Ok(Some(metadata)) if metadata.kind == EntryKind::File => copy.metadata = metadata,
                Ok(_) => return Err(FileFailure::Vanished),
                Err(_) => {}
            }
            trust_temporary = false;
        } else {
            // A retry may continue a large file's own temporary from this run.
            trust_temporary = copy.metadata.size > RESUMABLE_SIZE;
        }
        if !failure.is_retryable() || tries >= context.retry.retries {
            return Err(failure);
        }
        backoff(&context, tries).await?;
        tries += 1;
    }
}

/// Waits before retry number `tries` (doubling each time); stops early when cancelled.
async fn backoff(context: &TransferContext, tries: u32) -> Result<(), FileFailure> {
    let delay = context
        .retry
        .first_backoff
        .saturating_mul(1u32 << tries.min(16));
    tokio::select! {
        () = context.cancel.cancelled() => Err(FileFailure::Interrupted),
        () = tokio::time::sleep(delay) => Ok(()),
    }
}

async fn copy_once(
    context: &TransferContext,
    copy: &FileCopy,
    trust_temporary: bool,
) -> Result<Copied, FileFailure> {
    let (source, target) = (&context.source, &context.target);
    if let (Some(local_source), Some(local_target)) = (source.as_local(), target.as_local()) {
        return copy_local_file(context, local_source, local_target, copy, trust_temporary).await;
    }
    let size = copy.metadata.size;
    let atomic = target.atomic_writes();
    // Where the bytes go: a temporary name renamed into place once verified, or, on a tree whose
    // files appear only when whole, the final name itself (such trees cannot resume a file either).
    let destination = if atomic {
        &copy.target_path
    } else {
        &copy.temporary_path
    };
    let offset = if !atomic && trust_temporary {
        resume_offset(true, target.metadata(destination).await?.as_ref(), size)
    } else {
        0
    };
    let mut hasher = blake3::Hasher::new();
    let mut buffer = vec![0u8; CHUNK_SIZE];
    // The hash is always the source's: the prefix an earlier run wrote is re-read from the source
    // (not from the target), so the recorded BLAKE3 is the source's content and a full verify
    // also catches a prefix damaged on the target. Resuming saves the writes, not the reads.
    let mut reader = source
        .open_read(&copy.source_path, 0)
        .await
        .map_err(vanished_when_missing)?;
    if offset > 0 {
        let hashed = hash_stream(&mut reader, &mut hasher, &mut buffer, Some(offset)).await?;
        if hashed != offset {
            return Err(FileFailure::ChangedDuringCopy(SourceChange::Length {
                expected: size,
                read: hashed,
            }));
        }
        context.progress.emit(ProgressEvent::Resumed {
            migration: context.migration.clone(),
            path: copy.target_path.to_string(),
            bytes: offset,
        });
    }
    // Trees that record the hash and cannot add it cheaply afterwards get it up front when the
    // source can be read twice at little cost; otherwise it is known only once read, and such
    // trees hash what they were given.
    let content_hash =
        if offset == 0 && target.wants_hash_before_writing(size) && source.rereads_cheaply() {
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
    let mut written = offset;
    loop {
        if context.cancel.is_cancelled() {
            // Flush what was written so the next run resumes from an honest length; an atomic
            // writer is dropped instead, which abandons the file (shutting it down would publish it).
            if !atomic {
                let _ = writer.shutdown().await;
            }
            return Err(FileFailure::Interrupted);
        }
        let read = fill(&mut reader, &mut buffer)
            .await
            .map_err(transport_error)?;
        if read == 0 {
            break;
        }
        if let Some(limiter) = &context.limiter {
            limiter.acquire(read as u64).await;
        }
        let chunk = &buffer[..read];
        hasher.update(chunk);
        writer.write_all(chunk).await.map_err(transport_error)?;
        written += read as u64;
        context.progress.emit(ProgressEvent::Transferred {
            migration: context.migration.clone(),
            bytes: read as u64,
        });
        if written > size {
            break;
        }
    }
    let unchanged = match source.metadata(&copy.source_path).await {
        Ok(after) => source_unchanged(&copy.metadata, written, after.as_ref()),
        Err(error) => Err(error.into()),
    };
    let unchanged = unchanged.and_then(|()| match content_hash {
        Some(hash) if hash != hasher.finalize() => {
            Err(FileFailure::ChangedDuringCopy(SourceChange::Content))
        }
        _ => Ok(()),
    });
    if let Err(failure) = unchanged {
        // Never publish a file of the wrong length, or read from a changing source: dropping an
        // atomic writer abandons it; a temporary is flushed (the retry decides what to keep).
        if atomic {
            drop(writer);
        } else {
            let _ = writer.shutdown().await;
        }
        return Err(failure);
    }
    writer.shutdown().await.map_err(transport_error)?;
    drop(reader);
    let expected = hasher.finalize().to_hex().to_string();
    let mode = verify_mode_for(context.verify, offset);
    if let Err(failure) = verify(context, destination, size, &expected, mode, &mut buffer).await {
        if matches!(
            failure,
            FileFailure::HashMismatch { .. } | FileFailure::SizeMismatch { .. }
        ) {
            // Never resume from, or keep, bytes that failed verification.
            let _ = target.remove_file(destination).await;
        }
        return Err(failure.of_copy_resumed_from(offset));
    }
    // A tree with atomic writes recorded the attributes with the upload.
    if !atomic {
        target
            .set_metadata(destination, copy.metadata.modified, copy.metadata.mode)
            .await?;
        target.rename(destination, &copy.target_path).await?;
    }
    Ok(Copied {
        record: FileRecord {
            path: copy.ledger_path(),
            size,
            modified_nanos: copy.metadata.modified.and_then(nanos_since_epoch),
            blake3: expected,
        },
        transferred: written - offset,
        resumed_from: offset,
    })
}

/// The BLAKE3 hash of the whole source file, read once before the copy.
async fn hash_whole_file(
    context: &TransferContext,
    copy: &FileCopy,
    buffer: &mut [u8],
) -> Result<blake3::Hash, FileFailure> {
    let mut reader = context
        .source
        .open_read(&copy.source_path, 0)
        .await
        .map_err(vanished_when_missing)?;
    let mut hasher = blake3::Hasher::new();
    hash_stream(&mut reader, &mut hasher, buffer, None).await?;
    Ok(hasher.finalize())
}

/// Recreates one symlink on the target (its text copied verbatim, never followed); `false` when it was already there.
pub(crate) async fn copy_symlink(
    context: Arc<TransferContext>,
    link: SymlinkCopy,
) -> Result<bool, FileFailure> {
    retrying(&context, || async {
        let (source, target) = (&context.source, &context.target);
        let text = source
            .read_link(&link.source_path)
            .await
            .map_err(vanished_when_missing)?;
        if link.target_is_symlink {
            match target.read_link(&link.target_path).await {
                Ok(existing) if existing == text => return Ok(false),
                Ok(_) => target.remove_file(&link.target_path).await?,
                Err(error) if error.kind == ErrorKind::NotFound => {}
                Err(error) => return Err(error.into()),
            }
        }
        target.symlink(&text, &link.target_path).await?;
        // Not every tree can time-stamp a symlink (SFTP has no lsetstat): the link itself is what matters.
        let _ = target
            .set_metadata(&link.target_path, link.metadata.modified, None)
            .await;
        Ok(true)
    })
    .await
}

/// A source entry listed by the scan but gone when copied was deleted meanwhile: not an error.
fn vanished_when_missing(error: TransportError) -> FileFailure {
    if error.kind == ErrorKind::NotFound {
        FileFailure::Vanished
    } else {
        FileFailure::Transport(error)
    }
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

/// The first backoff used when none is configured.
pub(crate) const DEFAULT_FIRST_BACKOFF: Duration = Duration::from_secs(1);
