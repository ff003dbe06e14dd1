//! Why a copy failed: per file (`FileFailure`) and per migration (`CopyError`), each saying whether a retry may help.

use super::claims::ExistingData;
use crate::exec::ledger::LedgerError;
use crate::exec::transport::{ErrorKind, TransportError};

/// A task that panicked or was aborted (`what` says what it was doing): not something a retry
/// fixes.
pub(crate) fn stopped_unexpectedly(
    what: &str,
    join_error: &tokio::task::JoinError,
) -> TransportError {
    TransportError::new(
        ErrorKind::Other,
        format!("{what} stopped unexpectedly: {join_error}"),
    )
}

/// How many failed files a migration's error names before summarising the rest.
const NAMED_FAILURES: usize = 5;
/// How many target entries ferry did not write a refusal names before counting the rest.
pub(crate) const NAMED_FOREIGN: usize = 5;

/// Why one file (or symlink) could not be copied.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FileFailure {
    #[error("{0}")]
    Transport(#[from] TransportError),
    /// `resumed`: the copy continued an earlier run's partial file, whose prefix this run never
    /// wrote; it was discarded with the copy, so copying again starts afresh and may succeed.
    #[error(
        "verification failed: the copy's BLAKE3 {actual} differs from the source's {expected}; the copy was discarded{}",
        discarded_partial(*.resumed)
    )]
    HashMismatch {
        expected: String,
        actual: String,
        resumed: bool,
    },
    #[error(
        "verification failed: the copy holds {actual} bytes, the source {expected}; the copy was discarded{}",
        discarded_partial(*.resumed)
    )]
    SizeMismatch {
        expected: u64,
        actual: u64,
        resumed: bool,
    },
    /// The bytes read may mix two versions of the file: it is not recorded, and copied again.
    #[error("the source changed while it was being copied ({0})")]
    ChangedDuringCopy(SourceChange),
    /// Listed by the scan, deleted before it was copied: skipped (a later run mirrors the deletion).
    #[error("vanished from the source before it was copied")]
    Vanished,
    #[error("interrupted")]
    Interrupted,
}

impl FileFailure {
    /// Whether copying the file again (now, with backoff) may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(error) => error.is_retryable(),
            Self::ChangedDuringCopy(_) => true,
            Self::HashMismatch { resumed, .. } | Self::SizeMismatch { resumed, .. } => *resumed,
            Self::Vanished | Self::Interrupted => false,
        }
    }

    /// The same failure, for a copy that continued an earlier run's partial file from `resumed_from`.
    pub(crate) fn of_copy_resumed_from(self, resumed_from: u64) -> Self {
        let resumed_now = resumed_from > 0;
        match self {
            Self::HashMismatch {
                expected,
                actual,
                resumed,
            } => Self::HashMismatch {
                expected,
                actual,
                resumed: resumed || resumed_now,
            },
            Self::SizeMismatch {
                expected,
                actual,
                resumed,
            } => Self::SizeMismatch {
                expected,
                actual,
                resumed: resumed || resumed_now,
            },
            other => other,
        }
    }
}

fn discarded_partial(resumed: bool) -> &'static str {
    if resumed {
        " (it continued an earlier partial copy; copying again starts afresh)"
    } else {
        ""
    }
}

/// How a source file was seen to change while it was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceChange {
    /// It ended before, or went on past, the size it had when the copy started.
    #[error("{expected} bytes expected, {read} read")]
    Length { expected: u64, read: u64 },
    /// Its size or modification time after it was read differs from before.
    #[error("its size or modification time differs after it was read")]
    Metadata,
    /// What was uploaded hashes differently from what was hashed before the upload.
    #[error("its content differs from when it was hashed before the upload")]
    Content,
}

/// A file that failed, named by its path on the target.
#[derive(Debug, Clone)]
pub struct FailedFile {
    pub path: String,
    pub failure: FileFailure,
}

/// Why a migration's copy stopped or failed.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Listing, creating or removing something outside a single file's copy failed.
    #[error("migration {migration}: {error}")]
    Transport {
        migration: String,
        #[source]
        error: TransportError,
    },
    #[error(
        "migration {migration}: mount {mount}: the source mount root `{path}` is not a directory"
    )]
    MountRootMissing {
        migration: String,
        mount: String,
        path: String,
    },
    #[error("migration {migration}: {}", summarise(.failed, *.total))]
    FilesFailed {
        migration: String,
        /// The first few failures (at most five).
        failed: Vec<FailedFile>,
        total: usize,
    },
    #[error(
        "migration {migration}: {target} holds entries ferry did not write outside the selected mounts: {}; ferry will not delete data it did not write; move them away, or run again with --adopt-existing (or --mirror), which leave them in place",
        quoted(.entries, .entries.len())
    )]
    ForeignTargetEntries {
        migration: String,
        target: String,
        entries: Vec<String>,
    },
    /// A selected mount's target folder holds data ferry's ledger does not claim, which this run
    /// would delete or overwrite: refused before anything moves.
    #[error("migration {migration}: {}", foreign_message(.target, .folder, .entries, *.total, *.existing))]
    ForeignTargetData {
        migration: String,
        target: String,
        /// The mount's folder on the target (relative to the target root; empty for the root).
        folder: String,
        /// The first few entries (at most `NAMED_FOREIGN`), relative to the target root.
        entries: Vec<String>,
        total: usize,
        /// The policy the run was given: without one, anything foreign refuses; with one, only
        /// what it may not replace.
        existing: ExistingData,
    },
    #[error("migration {migration}: {error}")]
    Ledger {
        migration: String,
        #[source]
        error: LedgerError,
    },
    #[error("migration {migration}: interrupted; run it again to resume")]
    Interrupted { migration: String },
}

impl CopyError {
    /// Whether running the migration again may succeed without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { error, .. } => error.is_retryable(),
            Self::FilesFailed { failed, .. } => {
                failed.iter().all(|file| file.failure.is_retryable())
            }
            Self::Interrupted { .. } => true,
            Self::MountRootMissing { .. }
            | Self::ForeignTargetEntries { .. }
            | Self::ForeignTargetData { .. }
            | Self::Ledger { .. } => false,
        }
    }

    pub(crate) fn files_failed(migration: &str, mut failed: Vec<FailedFile>) -> Self {
        let total = failed.len();
        failed.truncate(NAMED_FAILURES);
        Self::FilesFailed {
            migration: migration.to_string(),
            failed,
            total,
        }
    }
}

/// Paths as `"a", "b"` (escaped: names come from servers), and how many more there are.
fn quoted(entries: &[String], total: usize) -> String {
    let mut text = entries
        .iter()
        .map(|entry| format!("{entry:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let more = total.saturating_sub(entries.len());
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

fn foreign_message(
    target: &str,
    folder: &str,
    entries: &[String],
    total: usize,
    existing: ExistingData,
) -> String {
    let folder = if folder.is_empty() {
        "the target root".to_string()
    } else {
        format!("the target folder {folder:?}")
    };
    let list = quoted(entries, total);
    match existing {
        ExistingData::Refuse => {
            let what = if total == 1 { "entry" } else { "entries" };
            format!(
                "{folder} on {target} holds {total} {what} ferry did not write: {list}; ferry deletes and overwrites only what it wrote, so nothing was copied. Run again with --adopt-existing to keep them and copy the source over same-named files (after a lost state file this copies ferry's earlier files again and records them), or with --mirror to make the folder exactly the source, deleting what the source lacks"
            )
        }
        ExistingData::Adopt => format!(
            "{folder} on {target} holds folders with data ferry did not write where the source has a file or symlink: {list}; --adopt-existing never deletes such data: move them away, or run with --mirror to replace them"
        ),
        ExistingData::Mirror => format!(
            "{folder} on {target} holds folders with nested mounts where the source has a file or symlink: {list}; --mirror never deletes another mount's data: move them away"
        ),
    }
}

fn summarise(failed: &[FailedFile], total: usize) -> String {
    let named: Vec<String> = failed
        .iter()
        .map(|file| format!("`{}`: {}", file.path, file.failure))
        .collect();
    let more = total.saturating_sub(failed.len());
    let files = if total == 1 { "file" } else { "files" };
    let mut summary = format!("{total} {files} failed: {}", named.join("; "));
    if more > 0 {
        summary.push_str(&format!("; and {more} more"));
    }
    summary
}

/// Context for turning transport and ledger errors into `CopyError`s.
pub(crate) trait MigrationContext<T> {
    fn in_migration(self, migration: &str) -> Result<T, CopyError>;
}

impl<T> MigrationContext<T> for Result<T, TransportError> {
    fn in_migration(self, migration: &str) -> Result<T, CopyError> {
        self.map_err(|error| CopyError::Transport {
            migration: migration.to_string(),
            error,
        })
    }
}

impl<T> MigrationContext<T> for Result<T, LedgerError> {
    fn in_migration(self, migration: &str) -> Result<T, CopyError> {
        self.map_err(|error| CopyError::Ledger {
            migration: migration.to_string(),
            error,
        })
    }
}
