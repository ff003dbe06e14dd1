//! The steps every copy strategy shares, written once: where a copy resumes (`resume_offset`),
//! a source deleted midway (`vanished_when_missing`), and the record of a finished copy
//! (`Copied::new`). Verification is `verify`; deleting a copy that failed it is `transfer`'s.

use super::decide::{FileCopy, nanos_since_epoch};
use super::error::FileFailure;
use crate::exec::ledger::FileRecord;
use crate::exec::transport::{EntryKind, ErrorKind, Metadata, TransportError};

/// A file copied, verified and in place.
#[derive(Debug)]
pub(crate) struct Copied {
    pub record: FileRecord,
    /// Bytes written to the target in this run (less than the size when resumed).
    pub transferred: u64,
    /// Where the copy continued from (0 unless resumed).
    pub resumed_from: u64,
}

impl Copied {
    /// The record of `copy`, whose source read (all of it) hashed to `hash`, written by this run
    /// from `resumed_from` on.
    pub fn new(copy: &FileCopy, hash: blake3::Hash, resumed_from: u64) -> Self {
        let size = copy.metadata.size;
        Self {
            record: FileRecord {
                path: copy.ledger_path(),
                size,
                modified_nanos: copy.metadata.modified.and_then(nanos_since_epoch),
                blake3: hash.to_hex().to_string(),
            },
            transferred: size - resumed_from,
            resumed_from,
        }
    }
}

/// Where a resumed copy of a `size`-byte source continues: the length of the temporary file an
/// earlier try left (`temporary`), when it is a file not longer than the source; else 0.
pub(super) fn resume_offset(temporary: Option<&Metadata>, size: u64) -> u64 {
    match temporary {
        Some(existing) if existing.kind == EntryKind::File && existing.size <= size => {
            existing.size
        }
        _ => 0,
    }
}

/// A source entry listed by the scan but gone when copied was deleted meanwhile: not an error.
pub(super) fn vanished_when_missing(error: TransportError) -> FileFailure {
    if error.kind == ErrorKind::NotFound {
        FileFailure::Vanished
    } else {
        FileFailure::Transport(error)
    }
}
