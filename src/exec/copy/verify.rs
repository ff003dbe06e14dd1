//! Verifying a copy: the source read is the version the copy started from (`source_unchanged`),
//! and the file just written holds it: read back and hashed (in ranges on trees that serve several
//! streams faster than one, on one blocking thread for a local disk), or only sized.
//!
//! Every strategy takes these steps from here, so they agree on how a resumed copy is verified
//! (`verify_mode_for`) and on what a mismatch says (`same_size`, `same_hash`).

use std::sync::Arc;

use super::error::{FileFailure, SourceChange};
use super::local_copy::hash_local_file;
use super::range_hash::{RANGED_HASH_THRESHOLD, hash_in_ranges};
use super::stream::hash_stream;
use super::transfer::TransferContext;
use crate::exec::transport::{EntryKind, Metadata, RelativePath};
use crate::options::VerifyMode;

/// How a copy that continued from `resumed_from` is verified: as `asked`, except that a resumed
/// file is always read back in full. Its prefix was written by an earlier run and never read by
/// this one, so a size check would record the source's hash for bytes nobody compared with it.
pub(super) fn verify_mode_for(asked: VerifyMode, resumed_from: u64) -> VerifyMode {
    if resumed_from > 0 {
        VerifyMode::Full
    } else {
        asked
    }
}

/// Checks that the source read is the version the copy started from (`before`, as listed): all
/// of its `before.size` bytes were `read`, and after reading it still has that size and
/// modification time (`after`; `None` when it is gone). Otherwise the bytes read may mix two
/// versions, and the copy must not be recorded.
pub(super) fn source_unchanged(
    before: &Metadata,
    read: u64,
    after: Option<&Metadata>,
) -> Result<(), FileFailure> {
    if read != before.size {
        return Err(FileFailure::ChangedDuringCopy(SourceChange::Length {
            expected: before.size,
            read,
        }));
    }
    match after {
        Some(after)
            if after.kind == EntryKind::File
                && after.size == before.size
                && after.modified == before.modified =>
        {
            Ok(())
        }
        _ => Err(FileFailure::ChangedDuringCopy(SourceChange::Metadata)),
    }
}

/// Checks the `size` bytes just written at `written` as `mode` asks (read back and hashed, or
/// only sized).
pub(super) async fn verify(
    context: &TransferContext,
    written: &RelativePath,
    size: u64,
    expected: &str,
    mode: VerifyMode,
    buffer: &mut Vec<u8>,
) -> Result<(), FileFailure> {
    let target = &context.target;
    match mode {
        VerifyMode::Full if context.ends.target.ranged_reads && size >= RANGED_HASH_THRESHOLD => {
            // The ranges cover `size` bytes: the file must not be longer either.
            let actual = target.metadata(written).await?;
            same_size(size, actual.map_or(0, |metadata| metadata.size))?;
            same_hash(
                expected,
                hash_in_ranges(target.as_ref(), written, size).await?,
            )
        }
        VerifyMode::Full => {
            let (read, hash) = if let Some(local) = &context.local_target {
                // One blocking thread reads the whole file back, not a task hop per chunk.
                hash_local_file(Arc::clone(local), written, std::mem::take(buffer)).await?
            } else {
                let mut reader = target.open_read(written, 0).await?;
                let mut hasher = blake3::Hasher::new();
                let read = hash_stream(&mut reader, &mut hasher, buffer, None).await?;
                (read, hasher.finalize())
            };
            same_size(size, read)?;
            same_hash(expected, hash)
        }
        VerifyMode::Size => {
            let actual = target.metadata(written).await?;
            same_size(size, actual.map_or(0, |metadata| metadata.size))
        }
    }
}

/// The copy holds the `expected` number of bytes.
pub(super) fn same_size(expected: u64, actual: u64) -> Result<(), FileFailure> {
    if actual == expected {
        return Ok(());
    }
    Err(FileFailure::SizeMismatch {
        expected,
        actual,
        resumed: false,
    })
}

/// The copy's BLAKE3 (`actual`) is the source's (`expected`, in hex).
pub(super) fn same_hash(expected: &str, actual: blake3::Hash) -> Result<(), FileFailure> {
    let actual = actual.to_hex();
    if actual.as_str() == expected {
        return Ok(());
    }
    Err(FileFailure::HashMismatch {
        expected: expected.to_string(),
        actual: actual.to_string(),
        resumed: false,
    })
}
