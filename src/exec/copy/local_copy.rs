//! The `Strategy::LocalBlocking` strategy: a file copied between two local trees on a blocking
//! thread, where each chunk is read from the source, hashed, written to the temporary name, and
//! (with full verification) read back at once and compared with the bytes just written, while
//! they are still in the CPU's cache. `copy_local_files` copies several files one after another
//! on one blocking task with one pair of buffers (`batch` decides which): handing a small file
//! to a blocking thread and its result back cost more than copying it.
//!
//! It keeps every guarantee of the streaming strategies in `stream`: the temporary name and the rename
//! once verified, resuming a large file from its temporary (the prefix re-read from the source,
//! hashed, and compared with the target's), cancellation between chunks, `--bwlimit`, progress
//! events, `ChangedDuringCopy` when the source grows, shrinks or is modified while it is read (its
//! size and mtime through the open descriptor afterwards; a file deleted meanwhile is then skipped
//! as vanished), and every open an `openat` walk. A resumed file is always read back in full,
//! whatever `--verify` says (`verify::verify_mode_for`).
//! The recorded BLAKE3 is the source's; comparing each chunk read back with the chunk hashed
//! proves the target holds exactly those bytes. Writeback of every few MiB written starts at once
//! (`sync_file_range`), so the ledger's later `sync` of the target finds little left to flush;
//! with `--durability defer` there is no such sync, and the writeback is left to the system.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::CHUNK_SIZE;
use super::bandwidth::BandwidthLimiter;
use super::decide::FileCopy;
use super::error::{FileFailure, stopped_unexpectedly};
use super::events::{ProgressEvent, ProgressSink};
use super::steps::{Copied, resume_offset, vanished_when_missing};
use super::transfer::TransferContext;
use super::verify::{same_hash, same_size, source_unchanged, verify_mode_for};
use crate::exec::transport::local::{LocalTree, WRITEBACK_STEP, reserve_space, start_writeback};
use crate::exec::transport::{RelativePath, TransportError};
use crate::options::VerifyMode;

/// Bytes read, hashed, written and read back at once: small enough that a chunk and its read-back
/// stay in the CPU's cache across the four passes (measured: 1 MiB chunks cost twice the system
/// time on the 8 x 256 MiB benchmark, 128 KiB and 256 KiB about the same).
pub(super) const LOCAL_CHUNK_SIZE: usize = 128 * 1024;
/// The longest a bandwidth wait sleeps before checking for cancellation again.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// Copies `copy` from `source` to `target` (both local) on a blocking thread; see the module
/// documentation. `resume`: continue the temporary an earlier try left.
pub(crate) async fn copy_local_file(
    context: &TransferContext,
    ends: (&Arc<LocalTree>, &Arc<LocalTree>),
    copy: &FileCopy,
    resume: bool,
) -> Result<Copied, FileFailure> {
    let mut results = copy_local_files(context, ends, vec![(copy.clone(), resume)]).await;
    results.pop().unwrap_or(Err(FileFailure::Interrupted))
}

/// Copies `files` (each with whether to resume it) one after another on one blocking thread,
/// sharing one pair of buffers: one result per file, in order. Each file is copied as
/// `copy_local_file` copies it alone; once cancelled, the files not started are `Interrupted`.
pub(crate) async fn copy_local_files(
    context: &TransferContext,
    (source, target): (&Arc<LocalTree>, &Arc<LocalTree>),
    files: Vec<(FileCopy, bool)>,
) -> Vec<Result<Copied, FileFailure>> {
    let largest = files.iter().map(|(copy, _)| copy.metadata.size).max();
    let count = files.len();
    let ends = LocalEnds {
        source: Arc::clone(source),
        target: Arc::clone(target),
        migration: context.migration.clone(),
        verify: context.verify,
        early_writeback: !context.defer_durability,
        limiter: context.limiter.clone(),
        progress: context.progress.clone(),
        cancel: context.cancel.clone(),
    };
    // Allocated here, on the async side: the allocator keeps freed memory per thread.
    let mut buffers = Buffers::for_file(largest.unwrap_or(0), context.verify);
    let what = match &files[..] {
        [(copy, _)] => format!("copying `{}`", copy.target_path),
        _ => format!("copying {count} files"),
    };
    let job = move || {
        let mut results = Vec::with_capacity(files.len());
        for (copy, resume) in &files {
            if ends.cancel.is_cancelled() {
                results.push(Err(FileFailure::Interrupted));
                continue;
            }
            let file = LocalCopy {
                ends: &ends,
                copy,
                resume: *resume,
            };
            results.push(file.run(&mut buffers));
        }
        results
    };
    match on_blocking_thread(&what, job).await {
        Ok(results) => results,
        Err(error) => (0..count)
            .map(|_| Err(FileFailure::Transport(error.clone())))
            .collect(),
    }
}

/// Runs `job` on the blocking pool; `what` names it, should it panic.
async fn on_blocking_thread<T: Send + 'static>(
    what: &str,
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, TransportError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|join_error| stopped_unexpectedly(what, &join_error))
}

/// What every file copied between the same two local trees shares, owned so it can move to the
/// blocking thread.
struct LocalEnds {
    source: Arc<LocalTree>,
    target: Arc<LocalTree>,
    migration: String,
    verify: VerifyMode,
    /// Start writing every few MiB back to disk as soon as they are written (unless deferring).
    early_writeback: bool,
    limiter: Option<Arc<BandwidthLimiter>>,
    progress: ProgressSink,
    cancel: CancellationToken,
}

/// One file's copy on the blocking thread.
struct LocalCopy<'a> {
    ends: &'a LocalEnds,
    copy: &'a FileCopy,
    resume: bool,
}

impl LocalCopy<'_> {
    fn run(&self, buffers: &mut Buffers) -> Result<Copied, FileFailure> {
        let size = self.copy.metadata.size;
        let temporary = &self.copy.temporary_path;
        let offset = if self.resume {
            resume_offset(
                self.ends.target.metadata_blocking(temporary)?.as_ref(),
                size,
            )
        } else {
            0
        };
        let source_file = self
            .ends
            .source
            .open_read_blocking(&self.copy.source_path)
            .map_err(vanished_when_missing)?;
        // A file read in one call (smaller than the buffer) gains nothing from the hint.
        if size >= buffers.chunk.len() as u64 {
            advise_sequential(&source_file);
        }
        let target_file = self.ends.target.open_write_blocking(temporary, offset)?;
        reserve_space(&target_file, offset, size);
        let verify = verify_mode_for(self.ends.verify, offset);
        if verify == VerifyMode::Full && buffers.read_back.len() < buffers.chunk.len() {
            // Resumed under `--verify size`: the prefix is compared too.
            buffers.read_back = vec![0u8; buffers.chunk.len()];
        }
        let streamed = self.stream(&source_file, &target_file, offset, verify, buffers)?;
        let after = self
            .ends
            .source
            .metadata_of_open(&source_file, &self.copy.source_path)?;
        drop(source_file);
        source_unchanged(&self.copy.metadata, streamed.length, after.as_ref())?;
        // A copy that fails the check is deleted by the caller (`transfer`).
        self.check(&target_file, size, &streamed)
            .map_err(|failure| failure.of_copy_resumed_from(offset))?;
        let metadata = &self.copy.metadata;
        self.ends.target.set_metadata_of_open(
            &target_file,
            temporary,
            metadata.modified,
            metadata.mode,
        )?;
        drop(target_file);
        self.ends
            .target
            .rename_blocking(temporary, &self.copy.target_path)?;
        Ok(Copied::new(self.copy, streamed.hash, offset))
    }

    /// Reads the source to its end (or just past its listed size), hashing every byte; writes what
    /// lies beyond `offset` and, verifying fully, reads each chunk back (the resumed prefix too)
    /// and compares it.
    fn stream(
        &self,
        source_file: &File,
        target_file: &File,
        offset: u64,
        verify: VerifyMode,
        buffers: &mut Buffers,
    ) -> Result<Streamed, FileFailure> {
        let size = self.copy.metadata.size;
        let verify_full = verify == VerifyMode::Full;
        let Buffers {
            chunk: buffer,
            read_back,
        } = buffers;
        let mut hasher = blake3::Hasher::new();
        let mut differs = false;
        let mut position = 0u64;
        let mut written_back = offset;
        loop {
            if self.ends.cancel.is_cancelled() {
                return Err(FileFailure::Interrupted);
            }
            // The resumed prefix is read in chunks that end where it ends.
            let wanted = if position < offset {
                usize::try_from(offset - position)
                    .unwrap_or(usize::MAX)
                    .min(buffer.len())
            } else {
                buffer.len()
            };
            let (read, at_end) = read_at_most(source_file, &mut buffer[..wanted], position)
                .map_err(|error| self.source_error(&error))?;
            if read > 0 {
                let chunk = &buffer[..read];
                hasher.update(chunk);
                if position >= offset {
                    self.wait_for_bandwidth(read as u64)?;
                    target_file
                        .write_all_at(chunk, position)
                        .map_err(|error| self.target_error("write", &error))?;
                    self.ends.progress.emit(ProgressEvent::Transferred {
                        migration: self.ends.migration.clone(),
                        bytes: read as u64,
                    });
                } else if position + (read as u64) == offset {
                    self.ends.progress.emit(ProgressEvent::Resumed {
                        migration: self.ends.migration.clone(),
                        path: self.copy.target_path.to_string(),
                        bytes: offset,
                    });
                }
                if verify_full && !differs {
                    let (back, _) = read_at_most(target_file, &mut read_back[..read], position)
                        .map_err(|error| self.target_error("read back", &error))?;
                    differs = back != read || read_back[..read] != *chunk;
                }
            }
            position += read as u64;
            // Small files are left to the ledger's sync: starting each one's writeback alone costs more.
            if self.ends.early_writeback
                && (position >= written_back + WRITEBACK_STEP
                    || (at_end && size >= WRITEBACK_STEP && position > written_back))
            {
                start_writeback(target_file, written_back, position - written_back);
                written_back = position;
            }
            if at_end || read == 0 || position > size {
                break;
            }
        }
        Ok(Streamed {
            length: position,
            hash: hasher.finalize(),
            differs,
        })
    }

    /// Verifies the written file: its length, and (verifying fully) that no chunk read back
    /// differed; when one did, the whole copy is hashed to report what it holds.
    fn check(&self, target_file: &File, size: u64, streamed: &Streamed) -> Result<(), FileFailure> {
        let actual_size = target_file
            .metadata()
            .map_err(|error| self.target_error("read metadata of", &error))?
            .len();
        same_size(size, actual_size)?;
        if streamed.differs {
            let (_, actual) = hash_file(target_file, &mut vec![0u8; CHUNK_SIZE])
                .map_err(|error| self.target_error("read back", &error))?;
            return same_hash(&streamed.hash.to_hex(), actual);
        }
        Ok(())
    }

    /// Waits (on this blocking thread) until `bytes` may be sent; stops early when cancelled.
    fn wait_for_bandwidth(&self, bytes: u64) -> Result<(), FileFailure> {
        let Some(limiter) = &self.ends.limiter else {
            return Ok(());
        };
        let deadline = Instant::now() + limiter.reserve(bytes, Instant::now());
        loop {
            if self.ends.cancel.is_cancelled() {
                return Err(FileFailure::Interrupted);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(());
            }
            std::thread::sleep((deadline - now).min(CANCEL_POLL));
        }
    }

    fn source_error(&self, error: &io::Error) -> FileFailure {
        let path = &self.copy.source_path;
        vanished_when_missing(self.ends.source.io_error("read", path, error))
    }

    fn target_error(&self, operation: &str, error: &io::Error) -> FileFailure {
        let path: &RelativePath = &self.copy.temporary_path;
        FileFailure::Transport(self.ends.target.io_error(operation, path, error))
    }
}

/// A transfer's chunk buffer and, verifying fully, the buffer chunks are read back into, shared
/// by the files it copies one after another. Allocated on the async side: the allocator keeps
/// freed memory per thread, and the blocking pool has several.
struct Buffers {
    chunk: Vec<u8>,
    read_back: Vec<u8>,
}

impl Buffers {
    /// Buffers for files of at most `size` bytes: one chunk, or the file and one byte more (to see
    /// it grow).
    fn for_file(size: u64, verify: VerifyMode) -> Self {
        let length = usize::try_from(size.saturating_add(1))
            .unwrap_or(LOCAL_CHUNK_SIZE)
            .clamp(1, LOCAL_CHUNK_SIZE);
        Self {
            chunk: vec![0u8; length],
            read_back: if verify == VerifyMode::Full {
                vec![0u8; length]
            } else {
                Vec::new()
            },
        }
    }
}

/// What streaming a file produced.
struct Streamed {
    /// Bytes read from the source (prefix included).
    length: u64,
    /// The BLAKE3 of those bytes.
    hash: blake3::Hash,
    /// Whether a chunk read back from the target differed from the chunk written (or compared).
    differs: bool,
}

/// Reads at `position` until `buffer` is full or the file ends; returns the bytes read and whether
/// the end was reached.
fn read_at_most(file: &File, buffer: &mut [u8], position: u64) -> io::Result<(usize, bool)> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read_at(&mut buffer[filled..], position + filled as u64) {
            Ok(0) => return Ok((filled, true)),
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok((filled, false))
}

/// The length and BLAKE3 of a whole file, read through its descriptor into `buffer`.
fn hash_file(file: &File, buffer: &mut [u8]) -> io::Result<(u64, blake3::Hash)> {
    let mut hasher = blake3::Hasher::new();
    let mut position = 0u64;
    loop {
        let (read, at_end) = read_at_most(file, buffer, position)?;
        hasher.update(&buffer[..read]);
        position += read as u64;
        if at_end {
            return Ok((position, hasher.finalize()));
        }
    }
}

/// Reads a file on a local tree back on one blocking thread: its length and BLAKE3 (the streaming
/// path's full verification, when only the target is local).
pub(crate) async fn hash_local_file(
    tree: Arc<LocalTree>,
    path: &RelativePath,
    mut buffer: Vec<u8>,
) -> Result<(u64, blake3::Hash), FileFailure> {
    let path = path.clone();
    let hashed = on_blocking_thread("reading back a copy", move || {
        let file = tree.open_read_blocking(&path)?;
        let hashed = hash_file(&file, &mut buffer);
        hashed.map_err(|error| tree.io_error("read back", &path, &error))
    })
    .await??;
    Ok(hashed)
}

/// Tells the kernel the source is read front to back (more read-ahead). Only a hint.
fn advise_sequential(file: &File) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = rustix::fs::fadvise(file, 0, None, rustix::fs::Advice::Sequential);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = file;
}
