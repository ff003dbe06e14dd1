//! Breadth-first listings: a mount's source content (minus nested mounts and other devices) and what its target already holds.

use std::collections::{BTreeMap, HashSet};

use futures::stream::{self, StreamExt, TryStreamExt};

use super::MountJob;
use super::error::CopyError;
use crate::exec::transport::{
    EntryKind, ErrorKind, FileTree, Metadata, RelativePath, TransportError, TransportResult,
};

/// What one mount's source holds (excluded nested mounts and special files not counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountTotals {
    pub mount: String,
    pub files: u64,
    pub bytes: u64,
    pub directories: u64,
    pub symlinks: u64,
    /// Sockets, devices and FIFOs, which are not copied.
    pub special: u64,
}

/// What the selected mounts of a source hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanSummary {
    pub mounts: Vec<MountTotals>,
}

impl ScanSummary {
    pub fn files(&self) -> u64 {
        self.mounts.iter().map(|mount| mount.files).sum()
    }

    pub fn bytes(&self) -> u64 {
        self.mounts.iter().map(|mount| mount.bytes).sum()
    }
}

/// A mount's source content, paths relative to the mount root, parents before children.
#[derive(Debug, Clone)]
pub(crate) struct SourceListing {
    pub root: Metadata,
    /// Directories, files and symlinks to copy.
    pub entries: Vec<(RelativePath, Metadata)>,
    /// Sockets, devices and FIFOs: not copied, reported.
    pub special: Vec<RelativePath>,
    /// Nested mounts and entries on another device: not descended; directories among them are
    /// created empty on the target (as mount points), nothing else is.
    pub excluded: Vec<(RelativePath, Metadata)>,
}

impl SourceListing {
    pub fn totals(&self, mount: &str) -> MountTotals {
        let mut totals = MountTotals {
            mount: mount.to_string(),
            files: 0,
            bytes: 0,
            directories: 0,
            symlinks: 0,
            special: self.special.len() as u64,
        };
        for (_, metadata) in &self.entries {
            match metadata.kind {
                EntryKind::File => {
                    totals.files += 1;
                    totals.bytes += metadata.size;
                }
                EntryKind::Directory => totals.directories += 1,
                EntryKind::Symlink => totals.symlinks += 1,
                EntryKind::Other => {}
            }
        }
        totals
    }
}

/// Lists the selected mounts of a migration's source: the totals a progress display needs before copying.
pub async fn scan(
    migration: &str,
    source: &dyn FileTree,
    jobs: &[MountJob],
) -> Result<ScanSummary, CopyError> {
    let mut mounts = Vec::with_capacity(jobs.len());
    for job in jobs {
        let listing = list_source(migration, source, job, super::LISTING_CONCURRENCY)
            .await?
            .ok_or_else(|| missing_root(migration, job))?;
        mounts.push(listing.totals(&job.label));
    }
    Ok(ScanSummary { mounts })
}

pub(crate) fn missing_root(migration: &str, job: &MountJob) -> CopyError {
    CopyError::MountRootMissing {
        migration: migration.to_string(),
        mount: job.label.clone(),
        path: job.source_root.to_string(),
    }
}

/// Lists a mount's source breadth-first; `None` when its root is not a directory.
pub(crate) async fn list_source(
    migration: &str,
    source: &dyn FileTree,
    job: &MountJob,
    concurrency: usize,
) -> Result<Option<SourceListing>, CopyError> {
    let in_mount = |error: TransportError| CopyError::Transport {
        migration: migration.to_string(),
        error: TransportError::new(
            error.kind,
            format!("mount {}: {}", job.label, error.message),
        ),
    };
    let root = match source.metadata(&job.source_root).await.map_err(in_mount)? {
        Some(root) if root.kind == EntryKind::Directory => root,
        _ => return Ok(None),
    };
    let excluded_paths: HashSet<&RelativePath> = job.excluded.iter().collect();
    let mut listing = SourceListing {
        root: root.clone(),
        entries: Vec::new(),
        special: Vec::new(),
        excluded: Vec::new(),
    };
    let mut level = vec![RelativePath::root()];
    while !level.is_empty() {
        let listed = list_level(source, &job.source_root, &level, concurrency)
            .await
            .map_err(in_mount)?;
        let mut next_level = Vec::new();
        listing.entries.reserve(listed.len());
        for (path, metadata) in listed {
            let other_device = matches!((root.device, metadata.device), (Some(root), Some(entry)) if root != entry);
            if excluded_paths.contains(&path) || other_device {
                listing.excluded.push((path, metadata));
                continue;
            }
            match metadata.kind {
                EntryKind::Other => listing.special.push(path),
                EntryKind::Directory => {
                    next_level.push(path.clone());
                    listing.entries.push((path, metadata));
                }
                EntryKind::File | EntryKind::Symlink => listing.entries.push((path, metadata)),
            }
        }
        level = next_level;
    }
    Ok(Some(listing))
}

/// What a mount's target root holds, breadth-first, paths relative to the target root. Symlinks
/// and excluded paths (other mounts' roots) are not descended. Empty when the root is not a directory.
pub(crate) async fn list_target(
    target: &dyn FileTree,
    target_root: &RelativePath,
    excluded: &HashSet<RelativePath>,
    concurrency: usize,
) -> TransportResult<BTreeMap<RelativePath, Metadata>> {
    let mut found = BTreeMap::new();
    match target.metadata(target_root).await? {
        Some(root) if root.kind == EntryKind::Directory => {}
        _ => return Ok(found),
    }
    let mut level = vec![RelativePath::root()];
    while !level.is_empty() {
        let listed = list_level(target, target_root, &level, concurrency).await?;
        let mut next_level = Vec::new();
        for (path, metadata) in listed {
            if metadata.kind == EntryKind::Directory && !excluded.contains(&path) {
                next_level.push(path.clone());
            }
            found.insert(path, metadata);
        }
        level = next_level;
    }
    Ok(found)
}

/// Lists every directory of one level concurrently (in order), paths relative to `base`.
async fn list_level(
    tree: &dyn FileTree,
    base: &RelativePath,
    level: &[RelativePath],
    concurrency: usize,
) -> TransportResult<Vec<(RelativePath, Metadata)>> {
    let listings: Vec<(RelativePath, Vec<(String, Metadata)>)> = stream::iter(level)
        .map(|directory| async move {
            let entries = tree.list(&base.concat(directory)).await?;
            Ok::<_, TransportError>((directory.clone(), entries))
        })
        .buffered(concurrency.max(1))
        .try_collect()
        .await?;
    let mut entries = Vec::with_capacity(listings.iter().map(|(_, names)| names.len()).sum());
    for (directory, names) in listings {
        for (name, metadata) in names {
            let path = directory.join(&name).ok_or_else(|| {
                TransportError::new(
                    ErrorKind::Other,
                    format!(
                        "directory `{}` in {} holds the name `{name}`, which ferry cannot represent safely; rename it or exclude this mount",
                        base.concat(&directory),
                        tree.describe()
                    ),
                )
            })?;
            entries.push((path, metadata));
        }
    }
    Ok(entries)
}
