//! The copy engine: moves a migration's mounts from a source `FileTree` to a target `FileTree`, verified, resumable and mirrored.
//!
//! How a migration is copied (`copy_migration`):
//! 1. Every mount's source is listed breadth-first (nested mounts in `MountJob::excluded` and
//!    anything on another device are not descended; their directories are created empty).
//! 2. The target mount is listed and compared with the ledger: a file whose record matches the
//!    source's size and mtime, and whose target has that size, is skipped without reading it.
//! 3. Every file to copy gets a partial record first (its claim), then files are copied with
//!    `CopyOptions::transfers` concurrent transfers, each as its `strategy` says (chosen once per
//!    try from the file and the two trees' `Capabilities`): streamed in fixed `CHUNK_SIZE` chunks,
//!    hashed with BLAKE3 while read, written to a temporary name beside the final one, verified
//!    (read back and hashed, or size only), time-stamped, then renamed into place; straight to
//!    the final name on trees with atomic writes; or, between two local trees, on a blocking
//!    thread with the same guarantees (`local_copy`), small files several to a task (`batch`). A file `strategy::worth_resuming` continues
//!    from its temporary file's length after an interruption. Symlinks are copied as links, never
//!    followed. The ledger records copied files in batches, each once a sync of
//!    the target that started after they were in place has returned (`ledger_batch`).
//! 4. When every file succeeded, extraneous target entries are removed (mirror), and directory
//!    times and modes are set deepest first.
//!
//! Ferry deletes or overwrites only what its ledger says it wrote (`claims`): every mount is
//! planned before anything moves, and a target mount holding anything else refuses the whole
//! migration, unless `CopyOptions::existing` adopts it (`--adopt-existing`) or mirrors over it
//! (`--mirror`). Call `prepare_target_root` first with all the migration's mount roots: it does
//! the same for the target root outside the mounts. `plan_migration` previews a run without
//! writing anything.

mod bandwidth;
mod batch;
mod claims;
mod decide;
mod error;
mod events;
mod ledger_batch;
mod local_copy;
mod range_hash;
mod run;
mod scan;
mod steps;
mod strategy;
mod stream;
mod target_root;
mod transfer;
mod verify;

#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use bandwidth::BandwidthLimiter;
pub use claims::ExistingData;
pub use error::{CopyError, FailedFile, FileFailure, SourceChange};
pub use events::{ProgressEvent, ProgressSink};
pub use run::{copy_migration, plan_migration};
pub use scan::{MountTotals, ScanSummary, scan};
pub use target_root::{TargetRootCleanup, check_target_root, prepare_target_root};

use crate::exec::transport::RelativePath;
pub use crate::exec::transport::retry::RetryPolicy;
pub use crate::options::{Durability, VerifyMode};

/// Bytes each transfer reads, hashes and writes at once (its buffer size).
pub const CHUNK_SIZE: usize = 1024 * 1024;
/// Files larger than this resume after an interruption, on trees that keep a partial file's
/// prefix (`strategy::worth_resuming`).
pub const RESUMABLE_SIZE: u64 = 8 * 1024 * 1024;
/// Directories listed at once by `scan`.
const LISTING_CONCURRENCY: usize = 8;

/// One mount of a migration: where it is on the source and where it goes on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountJob {
    /// The mount's name, for messages (`/var`, `D:`).
    pub label: String,
    pub source_root: RelativePath,
    pub target_root: RelativePath,
    /// Nested mounts, relative to `source_root`: not copied here (they are their own jobs or not
    /// selected); their directories are created empty, and left alone on the target.
    pub excluded: Vec<RelativePath>,
}

impl MountJob {
    /// Jobs for the selected mounts of a source, each excluding every other source mount nested
    /// below it (selected or not: a nested mount is copied by its own job or not at all).
    /// `selected` holds (label, source root, target root); `all_mounts` every mount root of the source.
    pub fn for_mounts(
        selected: &[(String, RelativePath, RelativePath)],
        all_mounts: &[RelativePath],
    ) -> Vec<MountJob> {
        selected
            .iter()
            .map(|(label, source_root, target_root)| MountJob {
                label: label.clone(),
                source_root: source_root.clone(),
                target_root: target_root.clone(),
                excluded: all_mounts
                    .iter()
                    .filter(|other| *other != source_root)
                    .filter_map(|other| other.strip_prefix(source_root))
                    .collect(),
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// Files copied at once (at least 1).
    pub transfers: usize,
    pub verify: VerifyMode,
    /// Whether files are recorded once durable or once written (local targets only).
    pub durability: Durability,
    /// `--bwlimit`: made once per process and shared by every migration and every transfer
    /// (clones of these options share it); `None` for no limit.
    pub bandwidth_limiter: Option<Arc<BandwidthLimiter>>,
    pub retry: RetryPolicy,
    /// What may happen to target entries ferry did not write.
    pub existing: ExistingData,
}

impl Default for CopyOptions {
    fn default() -> Self {
        Self {
            transfers: 8,
            verify: VerifyMode::Full,
            durability: Durability::Wait,
            bandwidth_limiter: None,
            retry: RetryPolicy::default(),
            existing: ExistingData::default(),
        }
    }
}

/// What one mount's copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountOutcome {
    pub mount: String,
    pub files_copied: u64,
    /// The full sizes of the files copied.
    pub bytes_copied: u64,
    /// Bytes written to the target in this run (resumed files count only their remainder).
    pub bytes_transferred: u64,
    pub files_resumed: u64,
    pub files_unchanged: u64,
    pub bytes_unchanged: u64,
    pub symlinks_copied: u64,
    pub directories_created: u64,
    /// Target entries removed because the source no longer has them.
    pub removed: u64,
    pub failed: u64,
    /// Files and symlinks deleted from the source between the scan and their copy (skipped),
    /// by their path on the target.
    pub vanished: Vec<String>,
    /// Source sockets, devices and FIFOs, which are not copied (mount-relative).
    pub special_skipped: Vec<String>,
    /// Nested mounts and other devices, not descended (mount-relative).
    pub excluded: Vec<String>,
}

/// What a migration's copy did, per mount.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyOutcome {
    pub mounts: Vec<MountOutcome>,
}

impl CopyOutcome {
    pub fn files_copied(&self) -> u64 {
        self.mounts.iter().map(|mount| mount.files_copied).sum()
    }

    pub fn bytes_transferred(&self) -> u64 {
        self.mounts
            .iter()
            .map(|mount| mount.bytes_transferred)
            .sum()
    }

    pub fn files_unchanged(&self) -> u64 {
        self.mounts.iter().map(|mount| mount.files_unchanged).sum()
    }
}

/// What a run would do for one mount.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountPreview {
    pub mount: String,
    pub files_to_copy: u64,
    pub bytes_to_copy: u64,
    /// Of those, files an earlier run started and this one would continue.
    pub files_to_resume: u64,
    pub files_unchanged: u64,
    pub bytes_unchanged: u64,
    pub symlinks: u64,
    pub directories_to_create: u64,
    /// Target paths that would be removed (no longer on the source, or in the way of a source entry).
    pub to_remove: Vec<String>,
    /// Target files, symlinks and special files ferry did not write (kept or overwritten with
    /// `--adopt-existing`, removed or overwritten with `--mirror`; without either, the run refuses).
    pub foreign: Vec<String>,
    pub special_skipped: Vec<String>,
    pub excluded: Vec<String>,
}

impl MountPreview {
    fn of(mount: &str, plan: &decide::MountPlan) -> Self {
        let mut to_remove: Vec<String> = plan
            .conflicts
            .iter()
            .chain(&plan.extraneous)
            .map(|(path, _)| path.to_string())
            .collect();
        to_remove.sort();
        Self {
            mount: mount.to_string(),
            files_to_copy: plan.copies.len() as u64,
            bytes_to_copy: plan.copies.iter().map(|copy| copy.metadata.size).sum(),
            files_to_resume: plan.copies.iter().filter(|copy| copy.resume).count() as u64,
            files_unchanged: plan.unchanged.len() as u64,
            bytes_unchanged: plan.unchanged.iter().map(|(_, size)| size).sum(),
            symlinks: plan.symlinks.len() as u64,
            directories_to_create: plan.create_directories.len() as u64,
            to_remove,
            foreign: plan.foreign.iter().map(ToString::to_string).collect(),
            special_skipped: plan.special.iter().map(ToString::to_string).collect(),
            excluded: plan.excluded.iter().map(ToString::to_string).collect(),
        }
    }
}

/// What a run would do, per mount (`plan_migration`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanPreview {
    pub mounts: Vec<MountPreview>,
}
