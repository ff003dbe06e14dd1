//! What a mount's copy must do, decided from the two listings and the ledger without touching either tree:
//! which files to copy, resume or skip, which temporary names to use, what to remove and forget.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use super::MountJob;
use super::claims::{Claims, ExistingData, LedgerIndex, Ownership};
use super::scan::SourceListing;
use super::strategy::worth_resuming;
use crate::exec::ledger::PartialRecord;
use crate::exec::transport::{Capabilities, EntryKind, Metadata, RelativePath};

/// The longest file name most file systems accept, in bytes.
const NAME_MAX: usize = 255;
/// Marks ferry's temporary files: `.NAME.ferry-partial`.
const PARTIAL_SUFFIX: &str = ".ferry-partial";

/// One file to copy. Paths named `target_*` and `temporary_path` are relative to the target tree's root.
#[derive(Debug, Clone)]
pub(crate) struct FileCopy {
    pub source_path: RelativePath,
    pub target_path: RelativePath,
    /// Where the bytes are written before the verified rename; never the name of a source entry.
    pub temporary_path: RelativePath,
    pub metadata: Metadata,
    /// A partial record shows the temporary file holds a prefix of this same source version.
    pub resume: bool,
}

impl FileCopy {
    pub fn ledger_path(&self) -> String {
        self.target_path.as_str().to_string()
    }

    pub fn partial_record(&self) -> PartialRecord {
        PartialRecord {
            path: self.ledger_path(),
            temporary_path: self.temporary_path.as_str().to_string(),
            source_size: self.metadata.size,
            source_modified_nanos: self.metadata.modified.and_then(nanos_since_epoch),
        }
    }
}

/// One symlink to recreate (or check) on the target.
#[derive(Debug, Clone)]
pub(crate) struct SymlinkCopy {
    pub source_path: RelativePath,
    pub target_path: RelativePath,
    pub metadata: Metadata,
    /// The target already has a symlink there (its text is compared before replacing it).
    pub target_is_symlink: bool,
}

/// Everything a mount's copy will do, in the order it does it.
#[derive(Debug, Clone, Default)]
pub(crate) struct MountPlan {
    /// Target entries of another kind where a source entry goes (removed first, recursively).
    pub conflicts: Vec<(RelativePath, EntryKind)>,
    /// Target files, symlinks and special files ferry's ledger does not say it wrote: the default
    /// refuses the migration when there are any; `--adopt-existing` keeps those the source lacks.
    pub foreign: Vec<RelativePath>,
    /// Target entries the chosen policy may not replace (a folder holding data ferry did not
    /// write where the source has a file, under `--adopt-existing`; one holding a nested mount).
    pub blocked: Vec<RelativePath>,
    /// Directories missing on the target, parents first (target paths).
    pub create_directories: Vec<RelativePath>,
    /// Every directory copied (the mount root, its directories, empty mount points), with its source
    /// metadata, as target paths; their times and modes are set last.
    pub directories: Vec<(RelativePath, Metadata)>,
    pub copies: Vec<FileCopy>,
    /// Files already on the target and unchanged since ferry copied them: (target path, size).
    pub unchanged: Vec<(RelativePath, u64)>,
    pub symlinks: Vec<SymlinkCopy>,
    /// Target entries that are not (any longer) on the source; only the topmost of a removed subtree.
    pub extraneous: Vec<(RelativePath, EntryKind)>,
    /// Ledger records of files no longer on the source (or no longer files).
    pub forget_files: Vec<String>,
    /// Partial records of files this run does not copy (the source no longer has them as files);
    /// forgotten with `forget_files`, once what they claimed was removed.
    pub forget_partials: Vec<String>,
    /// Source sockets, devices and FIFOs (mount-relative), not copied.
    pub special: Vec<RelativePath>,
    /// Nested mounts and other devices (mount-relative), not descended.
    pub excluded: Vec<RelativePath>,
}

/// A file system time as the ledger stores it.
pub(crate) fn nanos_since_epoch(time: SystemTime) -> Option<i64> {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).ok(),
        Err(before) => i64::try_from(before.duration().as_nanos())
            .ok()
            .map(|nanos| -nanos),
    }
}

/// The target mount root's listing (paths relative to it).
type TargetListing = BTreeMap<RelativePath, Metadata>;

/// Decides a mount's copy. `target` lists the target mount root (paths relative to it);
/// `ledger` is the migration's ledger, keyed by target path; `existing` says
/// what may happen to target entries the ledger does not claim; `capabilities` are the target
/// tree's (which files are worth resuming).
pub(crate) fn decide(
    job: &MountJob,
    source: &SourceListing,
    target: &TargetListing,
    ledger: &LedgerIndex<'_>,
    existing: ExistingData,
    capabilities: &Capabilities,
) -> MountPlan {
    let root = &job.target_root;
    let mut plan = MountPlan {
        special: source.special.clone(),
        excluded: source
            .excluded
            .iter()
            .map(|(path, _)| path.clone())
            .collect(),
        ..MountPlan::default()
    };
    let claims = Claims::of(ledger);
    // Excluded paths are other mounts' business, whether or not the source has them.
    let nested_mounts: HashSet<RelativePath> =
        job.excluded.iter().chain(&plan.excluded).cloned().collect();
    let decider = Decider {
        job,
        target,
        ledger,
        existing,
        capabilities,
        names: names_in_use(source, target, &claims, root),
        ownership: Ownership::new(root, target, &claims, &nested_mounts),
    };
    plan.foreign = target
        .iter()
        .filter(|(path, metadata)| {
            metadata.kind != EntryKind::Directory
                && !nested_mounts.contains(*path)
                && !decider.ownership.owned(path, metadata)
        })
        .map(|(path, _)| root.concat(path))
        .collect();
    // Target paths (mount-relative) that the copy accounts for: everything else there is extraneous.
    let mut keep: HashSet<Cow<'_, RelativePath>> = job.excluded.iter().map(Cow::Borrowed).collect();
    let mount_points: HashSet<&RelativePath> =
        source.excluded.iter().map(|(path, _)| path).collect();
    plan.directories.push((root.clone(), source.root.clone()));
    let all_source = source.entries.iter().chain(&source.excluded);
    for (path, metadata) in all_source.filter(|(_, metadata)| metadata.kind != EntryKind::Other) {
        keep.insert(Cow::Borrowed(path));
        if mount_points.contains(path) && metadata.kind != EntryKind::Directory {
            continue;
        }
        if let Some(temporary) = decider.entry(&mut plan, path, metadata) {
            keep.insert(Cow::Owned(temporary));
        }
    }
    // Extraneous target entries: only the topmost of each removed subtree, never under an excluded path.
    plan.extraneous = extraneous(&plan, root, target, &keep, &decider.ownership, existing);
    let excluded_targets: Vec<RelativePath> =
        nested_mounts.iter().map(|path| root.concat(path)).collect();
    forget(&mut plan, root, &excluded_targets, ledger);
    plan
}

/// Every name each directory holds that a temporary name must avoid: all source entries', and
/// on the target every entry but the files ferry wrote (a planted symlink, someone's file).
fn names_in_use<'listing>(
    source: &'listing SourceListing,
    target: &'listing TargetListing,
    claims: &Claims,
    root: &RelativePath,
) -> HashMap<RelativePath, HashSet<&'listing str>> {
    let mut names: HashMap<RelativePath, HashSet<&str>> = HashMap::new();
    let source_paths = source
        .entries
        .iter()
        .chain(&source.excluded)
        .map(|(path, _)| path)
        .chain(&source.special);
    let target_paths = target
        .iter()
        .filter(|(path, metadata)| {
            !(metadata.kind == EntryKind::File && claims.owns(&root.concat(path), metadata))
        })
        .map(|(path, _)| path);
    for path in source_paths.chain(target_paths) {
        names
            .entry(path.parent())
            .or_default()
            .insert(path.file_name());
    }
    names
}

/// What deciding each source entry of a mount reads.
struct Decider<'mount> {
    job: &'mount MountJob,
    target: &'mount TargetListing,
    ledger: &'mount LedgerIndex<'mount>,
    existing: ExistingData,
    capabilities: &'mount Capabilities,
    names: HashMap<RelativePath, HashSet<&'mount str>>,
    ownership: Ownership<'mount>,
}

impl Decider<'_> {
    /// Plans one source entry (`path`, mount-relative); returns the temporary name a file copy
    /// will use, mount-relative, which the target must keep.
    fn entry(
        &self,
        plan: &mut MountPlan,
        path: &RelativePath,
        metadata: &Metadata,
    ) -> Option<RelativePath> {
        let target_path = self.job.target_root.concat(path);
        let on_target = self.target.get(path);
        if let Some(in_the_way) = on_target
            && in_the_way.kind != metadata.kind
        {
            // Overwriting a file or symlink with one of the source's is what --adopt-existing
            // consents to; deleting one to make way for a source folder, or a folder holding data
            // ferry did not write, is what --mirror alone does.
            let replaceable = self.ownership.removable(path, in_the_way, self.existing)
                || (self.existing == ExistingData::Adopt
                    && in_the_way.kind != EntryKind::Directory
                    && metadata.kind != EntryKind::Directory);
            if replaceable {
                plan.conflicts.push((target_path.clone(), in_the_way.kind));
            } else {
                plan.blocked.push(target_path.clone());
            }
        }
        let present = on_target.filter(|existing| existing.kind == metadata.kind);
        match metadata.kind {
            EntryKind::Directory => {
                if present.is_none() {
                    plan.create_directories.push(target_path.clone());
                }
                plan.directories.push((target_path, metadata.clone()));
            }
            EntryKind::Symlink => plan.symlinks.push(SymlinkCopy {
                source_path: self.job.source_root.concat(path),
                target_path,
                metadata: metadata.clone(),
                target_is_symlink: present.is_some(),
            }),
            EntryKind::File => return self.file(plan, path, target_path, metadata, present),
            EntryKind::Other => {}
        }
        None
    }

    /// Plans one source file: unchanged, or copied (resumed where worth it).
    fn file(
        &self,
        plan: &mut MountPlan,
        path: &RelativePath,
        target_path: RelativePath,
        metadata: &Metadata,
        on_target: Option<&Metadata>,
    ) -> Option<RelativePath> {
        let root = &self.job.target_root;
        let ledger_path = target_path.as_str();
        let modified = metadata.modified.and_then(nanos_since_epoch);
        let recorded = self.ledger.files.get(ledger_path).is_some_and(|record| {
            !record.is_symlink()
                && record.size == metadata.size
                && modified.is_some()
                && record.modified_nanos == modified
        });
        if recorded && on_target.is_some_and(|existing| existing.size == metadata.size) {
            plan.unchanged.push((target_path, metadata.size));
            return None;
        }
        let taken = self.names.get(&path.parent());
        // Every copy has a partial record (its claim); only one worth resuming is trusted.
        let resume_from = self.ledger.partials.get(ledger_path).filter(|partial| {
            worth_resuming(metadata.size, self.capabilities)
                && partial.source_size == metadata.size
                && modified.is_some()
                && partial.source_modified_nanos == modified
                && RelativePath::new(&partial.temporary_path).is_some_and(|temporary| {
                    temporary.parent() == target_path.parent()
                        && !taken.is_some_and(|taken| taken.contains(temporary.file_name()))
                })
        });
        let (temporary_path, resume) =
            match resume_from.and_then(|partial| RelativePath::new(&partial.temporary_path)) {
                Some(temporary) => {
                    let relative = temporary.strip_prefix(root);
                    let exists = relative
                        .and_then(|relative| self.target.get(&relative))
                        .is_some_and(|existing| existing.kind == EntryKind::File);
                    (temporary, exists)
                }
                None => (temporary_path(&target_path, taken), false),
            };
        // Never a target entry other than a file ferry wrote: such names are taken above.
        let keep = temporary_path.strip_prefix(root);
        plan.copies.push(FileCopy {
            source_path: self.job.source_root.concat(path),
            target_path,
            temporary_path,
            metadata: metadata.clone(),
            resume,
        });
        keep
    }
}

/// The ledger records and partial records of this mount that the copy no longer needs: files
/// neither copied nor unchanged (nor symlinks the source still has), partial records of files
/// not copied. Nothing below `excluded_targets` (other mounts) is forgotten.
fn forget(
    plan: &mut MountPlan,
    root: &RelativePath,
    excluded_targets: &[RelativePath],
    ledger: &LedgerIndex<'_>,
) {
    // Claims the copy keeps: files copied or unchanged (their partial claims are settled as each
    // file is recorded), and symlinks the source still has. Looked up by name first, so a run
    // that keeps every record builds no path of its own.
    let copied: HashSet<&str> = plan
        .copies
        .iter()
        .map(|copy| copy.target_path.as_str())
        .collect();
    let unchanged: HashSet<&str> = plan
        .unchanged
        .iter()
        .map(|(path, _)| path.as_str())
        .chain(plan.symlinks.iter().map(|link| link.target_path.as_str()))
        .collect();
    let in_mount = |ledger_path: &str| {
        RelativePath::new(ledger_path).is_some_and(|path| {
            path.starts_with(root)
                && !excluded_targets
                    .iter()
                    .any(|excluded| path.starts_with(excluded))
        })
    };
    let mut forget_files: Vec<String> = ledger
        .files
        .keys()
        .filter(|path| !copied.contains(*path) && !unchanged.contains(*path) && in_mount(path))
        .map(|path| (*path).to_string())
        .collect();
    let mut forget_partials: Vec<String> = ledger
        .partials
        .keys()
        .filter(|path| !copied.contains(*path) && in_mount(path))
        .map(|path| (*path).to_string())
        .collect();
    forget_files.sort();
    forget_partials.sort();
    plan.forget_files = forget_files;
    plan.forget_partials = forget_partials;
}

/// Target entries the source lacks that the policy may remove: only the topmost of each removed
/// subtree, never what is in the way of a source entry (handled as a conflict or blocked). What
/// the policy may not remove stays, and what it holds is considered entry by entry.
fn extraneous(
    plan: &MountPlan,
    root: &RelativePath,
    target: &TargetListing,
    keep: &HashSet<Cow<'_, RelativePath>>,
    ownership: &Ownership<'_>,
    existing: ExistingData,
) -> Vec<(RelativePath, EntryKind)> {
    let mut removed: HashSet<RelativePath> = plan
        .conflicts
        .iter()
        .map(|(path, _)| path)
        .chain(&plan.blocked)
        .filter_map(|path| path.strip_prefix(root))
        .collect();
    let mut extraneous = Vec::new();
    for (path, metadata) in target {
        if keep.contains(path)
            || has_ancestor_in(path, &removed)
            || !ownership.removable(path, metadata, existing)
        {
            continue;
        }
        removed.insert(path.clone());
        extraneous.push((root.concat(path), metadata.kind));
    }
    extraneous
}

fn has_ancestor_in(path: &RelativePath, set: &HashSet<RelativePath>) -> bool {
    let mut current = path.parent();
    while !current.is_root() {
        if set.contains(&current) {
            return true;
        }
        current = current.parent();
    }
    false
}

/// A temporary name beside `target_path` that no source entry of that directory uses.
fn temporary_path(target_path: &RelativePath, taken: Option<&HashSet<&str>>) -> RelativePath {
    let name = target_path.file_name();
    let base = if name.len() + 1 + PARTIAL_SUFFIX.len() + 4 <= NAME_MAX {
        format!(".{name}{PARTIAL_SUFFIX}")
    } else {
        // Too long to decorate: a short, stable stand-in.
        let hash = blake3::hash(name.as_bytes()).to_hex();
        format!(".{}{PARTIAL_SUFFIX}", &hash.as_str()[..16])
    };
    let mut candidate = base.clone();
    let mut counter = 2u32;
    while taken.is_some_and(|taken| taken.contains(candidate.as_str())) {
        candidate = format!("{base}-{counter}");
        counter += 1;
    }
    // `candidate` is a valid name decorated with safe characters, so joining cannot fail; were it
    // to, the parent directory is returned, which no file write can clobber.
    target_path
        .parent()
        .join(&candidate)
        .unwrap_or_else(|| target_path.parent())
}
