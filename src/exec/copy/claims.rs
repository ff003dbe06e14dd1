//! What ferry may delete or overwrite on a target: the entries its ledger says it wrote, or is
//! writing, and what `--adopt-existing` and `--mirror` allow beyond them.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::exec::ledger::{FileRecord, PartialRecord};
use crate::exec::transport::{EntryKind, Metadata, RelativePath};

/// A migration's ledger records keyed by target path, borrowing the records loaded for the run.
#[derive(Debug, Default)]
pub(crate) struct LedgerIndex<'ledger> {
    pub files: HashMap<&'ledger str, &'ledger FileRecord>,
    pub partials: HashMap<&'ledger str, &'ledger PartialRecord>,
}

impl<'ledger> LedgerIndex<'ledger> {
    pub fn new(files: &'ledger [FileRecord], partials: &'ledger [PartialRecord]) -> Self {
        Self {
            files: files
                .iter()
                .map(|record| (record.path.as_str(), record))
                .collect(),
            partials: partials
                .iter()
                .map(|record| (record.path.as_str(), record))
                .collect(),
        }
    }
}

/// What a run may do with target entries that ferry's ledger does not say it wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExistingData {
    /// Refuse the migration before anything moves (the default).
    #[default]
    Refuse,
    /// `--adopt-existing`: keep them, copy the source's files over same-named ones, delete nothing.
    Adopt,
    /// `--mirror`: make each selected mount exactly the source, deleting what the source lacks.
    Mirror,
}

/// The target paths (relative to the target root) the ledger says are ferry's, borrowed from the
/// ledger's records (a copy of every path would be held once more for the whole scan).
#[derive(Debug, Clone, Default)]
pub(crate) struct Claims<'ledger> {
    /// Files ferry copied, and the temporary names of copies it started.
    files: HashSet<&'ledger str>,
    /// The final names of copies ferry started (partial records), with the size the finished
    /// file has: a run stopped between putting a file in place and recording it leaves a file of
    /// exactly that size there, which is ferry's. Any other file at that name is not (a copy
    /// that never happened claims nothing).
    finishing: HashMap<&'ledger str, u64>,
    /// Symlinks ferry wrote.
    symlinks: HashSet<&'ledger str>,
}

impl<'ledger> Claims<'ledger> {
    pub fn new(
        records: impl IntoIterator<Item = &'ledger FileRecord>,
        partials: impl IntoIterator<Item = &'ledger PartialRecord>,
    ) -> Self {
        let mut claims = Self::default();
        for record in records {
            if record.is_symlink() {
                claims.symlinks.insert(&record.path);
            } else {
                claims.files.insert(&record.path);
            }
        }
        for partial in partials {
            claims.files.insert(&partial.temporary_path);
            claims.finishing.insert(&partial.path, partial.source_size);
        }
        claims
    }

    pub fn of(ledger: &LedgerIndex<'ledger>) -> Self {
        Self::new(
            ledger.files.values().copied(),
            ledger.partials.values().copied(),
        )
    }

    /// Whether the entry at `path` is one ferry wrote. Directories hold no data of their own
    /// (see [`Ownership`]); sockets, devices and FIFOs are never ferry's.
    pub fn owns(&self, path: &RelativePath, entry: &Metadata) -> bool {
        match entry.kind {
            EntryKind::File => {
                self.files.contains(path.as_str())
                    || self
                        .finishing
                        .get(path.as_str())
                        .is_some_and(|size| *size == entry.size)
            }
            EntryKind::Symlink => self.symlinks.contains(path.as_str()),
            EntryKind::Directory => true,
            EntryKind::Other => false,
        }
    }
}

/// Which entries of a mount's target listing a run may remove: a file or symlink ferry wrote, or a
/// folder holding nothing else (an empty folder holds no data, whoever made it); with `--mirror`,
/// anything but a folder holding a nested mount.
pub(crate) struct Ownership<'claims> {
    root: RelativePath,
    claims: &'claims Claims<'claims>,
    /// Folders (mount-relative) holding, at any depth, an entry ferry did not write.
    holding_foreign: HashSet<RelativePath>,
    /// Folders (mount-relative) holding a nested mount, which no run of this mount may remove.
    holding_mounts: HashSet<RelativePath>,
}

impl<'claims> Ownership<'claims> {
    /// `target` lists the mount at `root` (paths relative to it); `nested_mounts` are the paths
    /// below it that belong to other mounts.
    pub fn new(
        root: &RelativePath,
        target: &BTreeMap<RelativePath, Metadata>,
        claims: &'claims Claims<'claims>,
        nested_mounts: &HashSet<RelativePath>,
    ) -> Self {
        let mut holding_foreign = HashSet::new();
        for (path, metadata) in target {
            if !claims.owns(&root.concat(path), metadata) {
                insert_ancestors(&mut holding_foreign, path);
            }
        }
        let mut holding_mounts = HashSet::new();
        for path in nested_mounts {
            insert_ancestors(&mut holding_mounts, path);
        }
        Self {
            root: root.clone(),
            claims,
            holding_foreign,
            holding_mounts,
        }
    }

    /// Whether ferry wrote the entry (for a folder: everything in it).
    pub fn owned(&self, path: &RelativePath, entry: &Metadata) -> bool {
        match entry.kind {
            EntryKind::Directory => {
                !self.holding_foreign.contains(path) && !self.holding_mounts.contains(path)
            }
            _ => self.claims.owns(&self.root.concat(path), entry),
        }
    }

    /// Whether a run with this policy may remove the entry (and, for a folder, all it holds).
    pub fn removable(&self, path: &RelativePath, entry: &Metadata, existing: ExistingData) -> bool {
        match existing {
            ExistingData::Mirror => {
                entry.kind != EntryKind::Directory || !self.holding_mounts.contains(path)
            }
            ExistingData::Refuse | ExistingData::Adopt => self.owned(path, entry),
        }
    }
}

fn insert_ancestors(set: &mut HashSet<RelativePath>, path: &RelativePath) {
    let mut current = path.parent();
    while !current.is_root() && set.insert(current.clone()) {
        current = current.parent();
    }
}
