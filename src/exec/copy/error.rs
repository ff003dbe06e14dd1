//! Why a copy failed: per file (`FileFailure`) and per migration (`CopyError`), each saying whether a retry may help.

use crate::exec::ledger::LedgerError;
use crate::exec::transport::TransportError;

/// How many failed files a migration's error names before summarising the rest.
const NAMED_FAILURES: usize = 5;

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
        "migration {migration}: {target} holds entries ferry did not write: {}; ferry will not delete data it did not write; empty the target or choose another directory",
        .entries.join(", ")
    )]
    ForeignTargetEntries {
        migration: String,
        target: String,
        entries: Vec<String>,
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
