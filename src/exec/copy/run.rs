//! `copy_migration` and `plan_migration`: scan every mount, decide, then copy with bounded
//! concurrency, mirror, set directory metadata, and record it all in the ledger.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::sync::Arc;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::batch::{batches, copy_batch};
use super::claims::{Claims, ExistingData, LedgerIndex};
use super::decide::{FileCopy, MountPlan, SymlinkCopy, decide};
use super::error::{
    CopyError, FailedFile, FileFailure, MigrationContext, NAMED_FOREIGN, stopped_unexpectedly,
};
use super::events::{ProgressEvent, ProgressSink};
use super::ledger_batch::LedgerBatch;
use super::scan::{MountTotals, SourceListing, list_source, list_target, missing_root};
use super::steps::Copied;
use super::target_root::remove_tree;
use super::transfer::{TransferContext, copy_file, copy_symlink};
use super::{CopyOptions, CopyOutcome, MountJob, MountOutcome, MountPreview, PlanPreview};
use crate::exec::ledger::{FileRecord, Ledger, PartialRecord};
use crate::exec::transport::{EntryKind, FileTree, RelativePath};

/// The migration's ledger, loaded once; [`LedgerIndex`] keys it by target path.
struct LedgerSnapshot {
    files: Vec<FileRecord>,
    partials: Vec<PartialRecord>,
}

impl LedgerSnapshot {
    fn load(migration: &str, ledger: &dyn Ledger) -> Result<Self, CopyError> {
        Ok(Self {
            files: ledger.files(migration).in_migration(migration)?,
            partials: ledger.partials(migration).in_migration(migration)?,
        })
    }

    fn index(&self) -> LedgerIndex<'_> {
        LedgerIndex::new(&self.files, &self.partials)
    }
}

/// Lists every job's source (and fails when a mount root is missing).
async fn scan_all(
    migration: &str,
    source: &dyn FileTree,
    jobs: &[MountJob],
    concurrency: usize,
) -> Result<Vec<SourceListing>, CopyError> {
    let mut listings = Vec::with_capacity(jobs.len());
    for job in jobs {
        let listing = list_source(migration, source, job, concurrency)
            .await?
            .ok_or_else(|| missing_root(migration, job))?;
        listings.push(listing);
    }
    Ok(listings)
}

/// Lists a mount's target and decides its copy.
async fn plan_mount(
    migration: &str,
    target: &dyn FileTree,
    job: &MountJob,
    listing: &SourceListing,
    ledger: &LedgerIndex<'_>,
    options: &CopyOptions,
) -> Result<MountPlan, CopyError> {
    let concurrency = options.transfers.max(1);
    let excluded: HashSet<RelativePath> = job
        .excluded
        .iter()
        .cloned()
        .chain(listing.excluded.iter().map(|(path, _)| path.clone()))
        .collect();
    let existing = list_target(target, &job.target_root, &excluded, concurrency)
        .await
        .in_migration(migration)?;
    let capabilities = target.capabilities();
    let mut plan = decide(
        job,
        listing,
        &existing,
        ledger,
        options.existing,
        &capabilities,
    );
    // A mount root that is not a folder is in the way of the whole mount.
    let root = &job.target_root;
    if let Some(in_the_way) = target.metadata(root).await.in_migration(migration)?
        && in_the_way.kind != EntryKind::Directory
    {
        let claims = Claims::of(ledger);
        let owned = claims.owns(root, &in_the_way);
        if !owned {
            plan.foreign.insert(0, root.clone());
        }
        if owned || options.existing == ExistingData::Mirror {
            plan.conflicts.insert(0, (root.clone(), in_the_way.kind));
        } else if options.existing == ExistingData::Adopt {
            // Adopting keeps data ferry did not write: it never deletes it to make way.
            plan.blocked.insert(0, root.clone());
        }
    }
    if capabilities.implied_directories {
        // Folders there are only parts of files' names: none is ever missing, an empty one
        // cannot be kept (so an empty source folder is not a change to copy on every run), and
        // none has times or modes to set.
        plan.create_directories.clear();
        plan.directories.clear();
    }
    Ok(plan)
}

/// Plans every mount before anything moves, and refuses when one would delete or overwrite what
/// the policy (`CopyOptions::existing`) does not allow.
async fn plan_all(
    migration: &str,
    target: &dyn FileTree,
    jobs: &[MountJob],
    listings: &[SourceListing],
    snapshot: &LedgerSnapshot,
    options: &CopyOptions,
) -> Result<Vec<MountPlan>, CopyError> {
    let ledger = snapshot.index();
    let mut plans = Vec::with_capacity(jobs.len());
    for (job, listing) in jobs.iter().zip(listings) {
        plans.push(plan_mount(migration, target, job, listing, &ledger, options).await?);
    }
    for (job, plan) in jobs.iter().zip(&plans) {
        let offending: BTreeSet<&RelativePath> = match options.existing {
            ExistingData::Refuse => plan.foreign.iter().chain(&plan.blocked).collect(),
            ExistingData::Adopt | ExistingData::Mirror => plan.blocked.iter().collect(),
        };
        let mut offending: Vec<String> = offending.iter().map(ToString::to_string).collect();
        if offending.is_empty() {
            continue;
        }
        let total = offending.len();
        offending.truncate(NAMED_FOREIGN);
        return Err(CopyError::ForeignTargetData {
            migration: migration.to_string(),
            target: target.describe(),
            folder: job.target_root.to_string(),
            entries: offending,
            total,
            existing: options.existing,
        });
    }
    Ok(plans)
}

/// What a run would do, reading both trees and the ledger but changing nothing (`--dry-run`).
pub async fn plan_migration(
    migration: &str,
    source: &dyn FileTree,
    target: &dyn FileTree,
    jobs: &[MountJob],
    ledger: &dyn Ledger,
    options: &CopyOptions,
) -> Result<PlanPreview, CopyError> {
    let concurrency = options.transfers.max(1);
    let snapshot = LedgerSnapshot::load(migration, ledger)?;
    let listings = scan_all(migration, source, jobs, concurrency).await?;
    let plans = plan_all(migration, target, jobs, &listings, &snapshot, options).await?;
    let mounts = jobs
        .iter()
        .zip(&plans)
        .map(|(job, plan)| MountPreview::of(&job.label, plan))
        .collect();
    Ok(PlanPreview { mounts })
}

/// Copies a migration's mounts from `source` to `target`: see the module documentation of `exec::copy`.
#[allow(clippy::too_many_arguments)]
pub async fn copy_migration(
    migration: &str,
    source: Arc<dyn FileTree>,
    target: Arc<dyn FileTree>,
    jobs: &[MountJob],
    ledger: &dyn Ledger,
    options: &CopyOptions,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<CopyOutcome, CopyError> {
    let interrupted = || CopyError::Interrupted {
        migration: migration.to_string(),
    };
    let concurrency = options.transfers.max(1);
    let snapshot = LedgerSnapshot::load(migration, ledger)?;
    let listings = tokio::select! {
        listings = scan_all(migration, &*source, jobs, concurrency) => listings?,
        () = cancel.cancelled() => return Err(interrupted()),
    };
    let plans = tokio::select! {
        plans = plan_all(migration, &*target, jobs, &listings, &snapshot, options) => plans?,
        () = cancel.cancelled() => return Err(interrupted()),
    };
    let totals: Vec<_> = jobs
        .iter()
        .zip(&listings)
        .map(|(job, listing)| listing.totals(&job.label))
        .collect();
    progress.emit(ProgressEvent::ScanFinished {
        migration: migration.to_string(),
        files: totals.iter().map(|mount| mount.files).sum(),
        bytes: totals.iter().map(|mount| mount.bytes).sum(),
    });
    let trees = (source, Arc::clone(&target));
    let context = TransferContext::new(
        migration,
        trees,
        options,
        ledger.knows_boot(),
        progress,
        cancel,
    );
    let context = Arc::new(context);
    let mut batch = LedgerBatch::new(migration, ledger, context.defer_durability);
    let mut failures = Vec::new();
    let mut outcome = CopyOutcome::default();
    for ((job, plan), mount_totals) in jobs.iter().zip(plans).zip(&totals) {
        if cancel.is_cancelled() {
            break;
        }
        let mut mount = MountCopy {
            context: &context,
            job,
            ledger,
            batch: &mut batch,
            failures: &mut failures,
            concurrency,
        };
        match mount.run(plan, mount_totals).await {
            Ok(mount_outcome) => outcome.mounts.push(mount_outcome),
            Err(error) => {
                // Keep what was copied: record it before reporting the error.
                let _ = batch.flush(&*target).await;
                return Err(error);
            }
        }
    }
    batch.flush(&*target).await?;
    if cancel.is_cancelled() {
        return Err(interrupted());
    }
    if !failures.is_empty() {
        return Err(CopyError::files_failed(migration, failures));
    }
    Ok(outcome)
}

/// One unit of work for the transfer pool.
enum Work {
    /// One file, or a batch of small ones copied on one blocking task (`batch`).
    Files(Vec<FileCopy>),
    Symlink(SymlinkCopy),
}

impl Work {
    async fn run(self, context: Arc<TransferContext>) -> Vec<Done> {
        match self {
            // Their partial records (`MountCopy::prepare`) let an interruption resume them.
            Self::Files(copies) => match <[FileCopy; 1]>::try_from(copies) {
                Ok([copy]) => {
                    let path = copy.ledger_path();
                    let result = copy_file(context, copy).await;
                    vec![Done::File { path, result }]
                }
                Err(copies) => copy_batch(context, copies)
                    .await
                    .into_iter()
                    .map(|(path, result)| Done::File { path, result })
                    .collect(),
            },
            Self::Symlink(link) => {
                let path = link.target_path.to_string();
                let result = copy_symlink(context, link).await;
                vec![Done::Symlink { path, result }]
            }
        }
    }
}

enum Done {
    File {
        path: String,
        result: Result<Copied, FileFailure>,
    },
    Symlink {
        path: String,
        result: Result<bool, FileFailure>,
    },
}

/// One mount's copy, borrowing the migration's shared state.
struct MountCopy<'run, 'ledger> {
    context: &'run Arc<TransferContext>,
    job: &'run MountJob,
    ledger: &'ledger dyn Ledger,
    batch: &'run mut LedgerBatch<'ledger>,
    failures: &'run mut Vec<FailedFile>,
    concurrency: usize,
}

impl MountCopy<'_, '_> {
    /// Copies the mount as `plan` says, announcing its start and end.
    async fn run(
        &mut self,
        plan: MountPlan,
        totals: &MountTotals,
    ) -> Result<MountOutcome, CopyError> {
        let progress = &self.context.progress;
        progress.emit(ProgressEvent::MountStarted {
            migration: self.context.migration.clone(),
            mount: self.job.label.clone(),
            files: totals.files,
            bytes: totals.bytes,
        });
        let outcome = self.copy(plan).await?;
        progress.emit(ProgressEvent::MountFinished {
            migration: self.context.migration.clone(),
            mount: self.job.label.clone(),
        });
        Ok(outcome)
    }

    async fn copy(&mut self, plan: MountPlan) -> Result<MountOutcome, CopyError> {
        let mut outcome = MountOutcome {
            mount: self.job.label.clone(),
            special_skipped: plan.special.iter().map(ToString::to_string).collect(),
            excluded: plan.excluded.iter().map(ToString::to_string).collect(),
            directories_created: plan.create_directories.len() as u64,
            ..MountOutcome::default()
        };
        self.prepare(&plan, &mut outcome).await?;
        let failures_before = self.failures.len();
        let files = batches(plan.copies.clone(), &self.context.ends, self.concurrency);
        let work = plan
            .symlinks
            .iter()
            .cloned()
            .map(Work::Symlink)
            .chain(files.into_iter().map(Work::Files))
            .collect();
        self.transfer(work, &mut outcome).await?;
        if self.context.cancel.is_cancelled() || self.failures.len() > failures_before {
            // Leave the target as it is: a re-run resumes, then mirrors.
            return Ok(outcome);
        }
        outcome.removed = self.finish(&plan).await?;
        Ok(outcome)
    }

    /// Before anything is copied: claims in the ledger, what is in the way removed, folders
    /// created, unchanged files counted.
    async fn prepare(
        &mut self,
        plan: &MountPlan,
        outcome: &mut MountOutcome,
    ) -> Result<(), CopyError> {
        let context = Arc::clone(self.context);
        let migration = context.migration.as_str();
        let target = &*context.target;
        let root = &self.job.target_root;
        for path in &plan.special {
            context.progress.emit(ProgressEvent::SpecialSkipped {
                migration: migration.to_string(),
                path: root.concat(path).to_string(),
            });
        }
        // Claims before any write: a kill after a file or symlink is in place, before it is
        // recorded, must not leave it looking like data ferry did not write.
        let claims: Vec<PartialRecord> = plan.copies.iter().map(FileCopy::partial_record).collect();
        if !claims.is_empty() {
            self.ledger
                .record_partials(migration, &claims)
                .in_migration(migration)?;
        }
        let links: Vec<FileRecord> = plan
            .symlinks
            .iter()
            .map(|link| FileRecord::symlink(link.target_path.to_string()))
            .collect();
        if !links.is_empty() {
            self.ledger
                .record_files(migration, &links)
                .in_migration(migration)?;
        }
        for (path, kind) in &plan.conflicts {
            remove_tree(target, path, *kind)
                .await
                .in_migration(migration)?;
        }
        target.create_dir_all(root).await.in_migration(migration)?;
        for directory in &plan.create_directories {
            target
                .create_dir_all(directory)
                .await
                .in_migration(migration)?;
        }
        for (path, bytes) in &plan.unchanged {
            outcome.files_unchanged += 1;
            outcome.bytes_unchanged += bytes;
            if context.progress.is_active() {
                context.progress.emit(ProgressEvent::FileUnchanged {
                    migration: migration.to_string(),
                    path: path.to_string(),
                    bytes: *bytes,
                });
            }
        }
        Ok(())
    }

    /// Once every file is in place: what the source lacks removed and forgotten, then folder
    /// times and modes set. Returns how many target entries were removed.
    async fn finish(&self, plan: &MountPlan) -> Result<u64, CopyError> {
        let (context, migration) = (self.context, self.context.migration.as_str());
        let target = &*context.target;
        let mut removed = 0;
        for (path, kind) in &plan.extraneous {
            removed += remove_tree(target, path, *kind)
                .await
                .in_migration(migration)?;
            context.progress.emit(ProgressEvent::Removed {
                migration: migration.to_string(),
                path: path.to_string(),
            });
        }
        if !plan.forget_files.is_empty() {
            self.ledger
                .forget_files(migration, &plan.forget_files)
                .in_migration(migration)?;
        }
        if !plan.forget_partials.is_empty() {
            self.ledger
                .forget_partials(migration, &plan.forget_partials)
                .in_migration(migration)?;
        }
        // Deepest first, after every change inside them, so their times stick.
        let mut directories = plan.directories.clone();
        directories.sort_by_key(|(path, _)| std::cmp::Reverse(path.depth()));
        for (path, metadata) in &directories {
            target
                .set_metadata(path, metadata.modified, metadata.mode)
                .await
                .in_migration(migration)?;
        }
        Ok(removed)
    }

    /// Runs files and symlinks through at most `concurrency` transfers at once.
    async fn transfer(
        &mut self,
        mut work: VecDeque<Work>,
        outcome: &mut MountOutcome,
    ) -> Result<(), CopyError> {
        let context = Arc::clone(self.context);
        if !work.is_empty() {
            crate::allocator::data_moves();
        }
        let mut running = JoinSet::new();
        loop {
            while running.len() < self.concurrency && !context.cancel.is_cancelled() {
                let Some(item) = work.pop_front() else { break };
                running.spawn(item.run(Arc::clone(&context)));
            }
            // A background sync that ends records its batch at once, not at the next file's end.
            let joined = tokio::select! {
                joined = running.join_next() => joined,
                settled = self.batch.settle(), if self.batch.is_syncing() => {
                    settled?;
                    continue;
                }
            };
            match joined {
                None => return Ok(()),
                Some(Ok(finished)) => {
                    for done in finished {
                        self.settle(done, outcome).await?;
                    }
                }
                Some(Err(join_error)) => {
                    let error = stopped_unexpectedly("a transfer", &join_error);
                    self.fail("(a transfer task)".to_string(), error.into());
                }
            }
        }
    }

    /// Counts, reports and records one finished transfer.
    async fn settle(&mut self, done: Done, outcome: &mut MountOutcome) -> Result<(), CopyError> {
        let context = self.context;
        let migration = context.migration.as_str();
        match done {
            Done::File {
                path,
                result: Ok(copied),
            } => {
                outcome.files_copied += 1;
                outcome.bytes_copied += copied.record.size;
                outcome.bytes_transferred += copied.transferred;
                if copied.resumed_from > 0 {
                    outcome.files_resumed += 1;
                }
                context.progress.emit(ProgressEvent::FileCopied {
                    migration: migration.to_string(),
                    path,
                    bytes: copied.record.size,
                });
                self.batch.push(&context.target, copied.record).await?;
            }
            Done::Symlink {
                result: Ok(changed),
                ..
            } => {
                if changed {
                    outcome.symlinks_copied += 1;
                }
            }
            Done::File {
                path,
                result: Err(FileFailure::Vanished),
                ..
            }
            | Done::Symlink {
                path,
                result: Err(FileFailure::Vanished),
            } => {
                context.progress.emit(ProgressEvent::Vanished {
                    migration: migration.to_string(),
                    path: path.clone(),
                });
                outcome.vanished.push(path);
            }
            Done::File {
                result: Err(FileFailure::Interrupted),
                ..
            }
            | Done::Symlink {
                result: Err(FileFailure::Interrupted),
                ..
            } => {}
            Done::File {
                path,
                result: Err(failure),
                ..
            }
            | Done::Symlink {
                path,
                result: Err(failure),
            } => {
                outcome.failed += 1;
                self.fail(path, failure);
            }
        }
        Ok(())
    }

    fn fail(&mut self, path: String, failure: FileFailure) {
        self.context.progress.emit(ProgressEvent::FileFailed {
            migration: self.context.migration.clone(),
            path: path.clone(),
            message: failure.to_string(),
        });
        self.failures.push(FailedFile { path, failure });
    }
}
