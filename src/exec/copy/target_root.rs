//! The target root holds only the migration's mount roots: entries ferry wrote for an earlier
//! selection are removed; anything ferry did not write makes the migration refuse to start,
//! unless the run adopts it or mirrors (both leave it in place). Also: removing a subtree without
//! following symlinks.

use super::claims::{Claims, ExistingData};
use super::error::{CopyError, MigrationContext};
use crate::exec::ledger::Ledger;
use crate::exec::transport::{
    EntryKind, ErrorKind, FileTree, Metadata, RelativePath, TransportResult,
};

/// Names a file system creates by itself at its root; never ferry's, never in the way.
const FILE_SYSTEM_NAMES: &[&str] = &["lost+found"];

/// What `prepare_target_root` removes (or `check_target_root` would): leftovers of an earlier
/// selection that ferry wrote, as paths relative to the target root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetRootCleanup {
    pub remove: Vec<RelativePath>,
}

/// Checks the target root against the migration's full list of mount roots (target paths), without
/// changing anything. Fails with `ForeignTargetEntries` when something there was not written by
/// ferry, unless `existing` adopts or mirrors: then it stays where it is.
pub async fn check_target_root(
    migration: &str,
    target: &dyn FileTree,
    ledger: &dyn Ledger,
    mount_roots: &[RelativePath],
    existing: ExistingData,
) -> Result<TargetRootCleanup, CopyError> {
    let mut cleanup = TargetRootCleanup::default();
    if mount_roots.iter().any(RelativePath::is_root) {
        return Ok(cleanup);
    }
    let records = ledger.files(migration).in_migration(migration)?;
    let partials = ledger.partials(migration).in_migration(migration)?;
    let written = Claims::new(&records, &partials);
    let mut foreign = Vec::new();
    let mut directories = vec![RelativePath::root()];
    while let Some(directory) = directories.pop() {
        for (name, metadata) in target.list(&directory).await.in_migration(migration)? {
            let Some(path) = directory.join(&name) else {
                foreign.push(format!("{}/{name}", directory));
                continue;
            };
            if mount_roots.contains(&path)
                || (directory.is_root() && FILE_SYSTEM_NAMES.contains(&name.as_str()))
            {
                continue;
            }
            let leads_to_mount = mount_roots.iter().any(|root| root.starts_with(&path));
            if leads_to_mount && metadata.kind == EntryKind::Directory {
                directories.push(path);
            } else if written_by_ferry(target, &path, &metadata, &written)
                .await
                .in_migration(migration)?
            {
                cleanup.remove.push(path);
            } else {
                foreign.push(path.to_string());
            }
        }
    }
    if !foreign.is_empty() && existing == ExistingData::Refuse {
        foreign.sort();
        return Err(CopyError::ForeignTargetEntries {
            migration: migration.to_string(),
            target: target.describe(),
            entries: foreign,
        });
    }
    cleanup.remove.sort();
    Ok(cleanup)
}

/// Checks the target root, then removes what ferry wrote there for an earlier selection and
/// forgets it in the ledger. Call it before `copy_migration`, with every mount root of the migration.
pub async fn prepare_target_root(
    migration: &str,
    target: &dyn FileTree,
    ledger: &dyn Ledger,
    mount_roots: &[RelativePath],
    existing: ExistingData,
) -> Result<TargetRootCleanup, CopyError> {
    let cleanup = check_target_root(migration, target, ledger, mount_roots, existing).await?;
    if cleanup.remove.is_empty() {
        return Ok(cleanup);
    }
    for path in &cleanup.remove {
        let kind = target
            .metadata(path)
            .await
            .in_migration(migration)?
            .map(|metadata| metadata.kind);
        if let Some(kind) = kind {
            remove_tree(target, path, kind)
                .await
                .in_migration(migration)?;
        }
    }
    let under_removed = |path: &str| {
        RelativePath::new(path).is_some_and(|path| {
            cleanup
                .remove
                .iter()
                .any(|removed| path.starts_with(removed))
        })
    };
    let forgotten: Vec<String> = ledger
        .files(migration)
        .in_migration(migration)?
        .into_iter()
        .map(|record| record.path)
        .filter(|path| under_removed(path))
        .collect();
    ledger
        .forget_files(migration, &forgotten)
        .in_migration(migration)?;
    for partial in ledger.partials(migration).in_migration(migration)? {
        if under_removed(&partial.path) {
            ledger
                .forget_partial(migration, &partial.path)
                .in_migration(migration)?;
        }
    }
    Ok(cleanup)
}

/// Whether removing the entry costs nothing ferry did not write: every file and symlink in it is
/// in the ledger, and it holds no special files (folders hold no data of their own).
async fn written_by_ferry(
    target: &dyn FileTree,
    path: &RelativePath,
    entry: &Metadata,
    written: &Claims<'_>,
) -> TransportResult<bool> {
    if entry.kind != EntryKind::Directory {
        return Ok(written.owns(path, entry));
    }
    let mut directories = vec![path.clone()];
    while let Some(directory) = directories.pop() {
        for (name, metadata) in target.list(&directory).await? {
            let Some(child) = directory.join(&name) else {
                return Ok(false);
            };
            match metadata.kind {
                EntryKind::Directory => directories.push(child),
                _ if written.owns(&child, &metadata) => {}
                _ => return Ok(false),
            }
        }
    }
    Ok(true)
}

/// Removes an entry and, for a directory, everything below it; symlinks are removed, never followed.
/// Returns how many entries were removed.
pub(crate) async fn remove_tree(
    target: &dyn FileTree,
    path: &RelativePath,
    kind: EntryKind,
) -> TransportResult<u64> {
    if kind != EntryKind::Directory {
        return ignore_missing(target.remove_file(path).await).map(|()| 1);
    }
    let mut removed = 0;
    let mut pending = vec![path.clone()];
    let mut directories = Vec::new();
    while let Some(directory) = pending.pop() {
        for (name, metadata) in target.list(&directory).await? {
            let Some(child) = directory.join(&name) else {
                continue;
            };
            if metadata.kind == EntryKind::Directory {
                pending.push(child);
            } else {
                ignore_missing(target.remove_file(&child).await)?;
                removed += 1;
            }
        }
        directories.push(directory);
    }
    // Children were found after their parents: remove in reverse.
    for directory in directories.iter().rev() {
        ignore_missing(target.remove_dir(directory).await)?;
        removed += 1;
    }
    Ok(removed)
}

fn ignore_missing(result: TransportResult<()>) -> TransportResult<()> {
    match result {
        Err(error) if error.kind == ErrorKind::NotFound => Ok(()),
        other => other,
    }
}
