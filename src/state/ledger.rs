//! The ledger of copied files that lets a re-run skip unchanged files and resume a half-copied one: the interface every state backend implements for the copy engine (the SQLite store in `sqlite_ledger`).

/// A file that was copied and verified. Paths are relative to the migration's target root
/// (`C/Windows/win.ini`), so one migration's files share one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    pub path: String,
    pub size: u64,
    /// The source's modification time when it was copied, in nanoseconds since the Unix epoch.
    pub modified_nanos: Option<i64>,
    /// BLAKE3 of the content, lower-case hex.
    pub blake3: String,
}

/// The `blake3` of a record that claims a symlink ferry wrote: a symlink has no content to hash,
/// but ferry must know it wrote it to ever remove or replace it.
pub const SYMLINK_RECORD: &str = "symlink";

impl FileRecord {
    /// The record of a symlink ferry wrote (or is about to write) at `path`.
    pub fn symlink(path: String) -> Self {
        Self {
            path,
            size: 0,
            modified_nanos: None,
            blake3: SYMLINK_RECORD.to_string(),
        }
    }

    /// Whether the record claims a symlink rather than a copied file.
    pub fn is_symlink(&self) -> bool {
        self.blake3 == SYMLINK_RECORD
    }
}

/// A file whose copy was interrupted: enough to continue it when the source is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialRecord {
    /// The file's final path, relative to the target root.
    pub path: String,
    /// The temporary path the bytes are being written to, relative to the target root.
    pub temporary_path: String,
    /// The source's size and modification time when the copy started.
    pub source_size: u64,
    pub source_modified_nanos: Option<i64>,
}

impl PartialRecord {
    /// Keeps ferry's claim on a copied file whose record can no longer be trusted (an earlier boot
    /// recorded it before it was durable): the file is copied again, and until then it is still
    /// ferry's to replace or remove. Its temporary name is the file's own, so it is never resumed.
    pub fn claim_of(record: &FileRecord) -> Self {
        Self {
            path: record.path.clone(),
            temporary_path: record.path.clone(),
            source_size: record.size,
            source_modified_nanos: record.modified_nanos,
        }
    }
}

/// The ledger could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("state store: {0}")]
pub struct LedgerError(pub String);

/// Where the copy engine keeps and finds its records, per migration. Implementations must be safe
/// to call from several tasks; writes must be durable when the call returns (a `kill -9` right
/// after must not lose them).
pub trait Ledger: Send + Sync {
    /// Every file recorded for the migration that can be trusted: those durable when recorded,
    /// and those recorded before they were durable during the system's current boot.
    fn files(&self, migration: &str) -> Result<Vec<FileRecord>, LedgerError>;
    /// Records (inserts or replaces by path) files that were copied, verified, and made durable.
    fn record_files(&self, migration: &str, files: &[FileRecord]) -> Result<(), LedgerError>;
    /// Whether the ledger knows the system's boot, and so can hold records of files not yet durable.
    fn knows_boot(&self) -> bool;
    /// Records files copied and verified but not yet known to be durable. They are trusted only
    /// until the system restarts, unless a later sync confirms them.
    fn record_unsynced_files(
        &self,
        migration: &str,
        files: &[FileRecord],
    ) -> Result<(), LedgerError>;
    /// Forgets files that no longer exist on the source (they were removed from the target).
    fn forget_files(&self, migration: &str, paths: &[String]) -> Result<(), LedgerError>;
    /// Every interrupted copy recorded for the migration.
    fn partials(&self, migration: &str) -> Result<Vec<PartialRecord>, LedgerError>;
    /// Records (inserts or replaces by path) an interrupted copy in progress.
    fn record_partial(&self, migration: &str, partial: &PartialRecord) -> Result<(), LedgerError>;
    /// Forgets a partial copy (it finished, or was discarded).
    fn forget_partial(&self, migration: &str, path: &str) -> Result<(), LedgerError>;
    /// Records several copies about to start, at once (one transaction where the ledger has them).
    /// A partial record is also ferry's claim on its path: what it is about to write there.
    fn record_partials(
        &self,
        migration: &str,
        partials: &[PartialRecord],
    ) -> Result<(), LedgerError> {
        partials
            .iter()
            .try_for_each(|partial| self.record_partial(migration, partial))
    }
    /// Forgets several partial copies at once.
    fn forget_partials(&self, migration: &str, paths: &[String]) -> Result<(), LedgerError> {
        paths
            .iter()
            .try_for_each(|path| self.forget_partial(migration, path))
    }
}
