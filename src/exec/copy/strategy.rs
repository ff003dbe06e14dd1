//! How one file moves from the source to the target (`Strategy`), chosen in one place
//! (`Strategy::choose`) from the file and the two trees' capabilities, and whether a file is worth
//! resuming (`worth_resuming`). Nothing here touches a tree.

use super::RESUMABLE_SIZE;
use super::decide::FileCopy;
use crate::exec::transport::{Capabilities, RelativePath};

/// How one try copies one file. Every strategy hashes the source while reading it, checks that
/// the source did not change, verifies the copy (`verify`), and builds the same record
/// (`steps::copied`); they differ in where the bytes go and how they are read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// Between two local directories: one blocking thread reads, hashes and writes each chunk
    /// to the temporary name and reads it back at once (`local_copy`), then renames it into
    /// place. `resume`: continue the temporary an earlier try left.
    LocalBlocking { resume: bool },
    /// Streamed through the trees' async readers and writers to the temporary name, verified,
    /// time-stamped, then renamed into place (`stream`). `resume` as above.
    Temporary { resume: bool },
    /// Streamed straight to the final name of a tree whose files appear only when whole (an
    /// object store's upload, carrying the file's times, mode and hash): no temporary, no rename,
    /// no resume. `hash_first`: the source is read once more before, to hand its hash to the
    /// upload (`Capabilities::hash_before_writing_above`).
    Atomic { hash_first: bool },
}

/// The two ends of a migration's copies, asked once per migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ends {
    pub source: Capabilities,
    pub target: Capabilities,
    /// Both trees are local directories (`FileTree::as_local`).
    pub both_local: bool,
}

impl Strategy {
    /// How a `size`-byte file is copied; `resume` says its temporary holds a prefix of this same
    /// source version worth continuing (the caller asked `worth_resuming`).
    pub fn choose(size: u64, resume: bool, ends: &Ends) -> Self {
        if ends.target.atomic_writes {
            Self::Atomic {
                hash_first: ends.target.wants_hash_before_writing(size)
                    && ends.source.rereads_cheaply,
            }
        } else if ends.both_local {
            Self::LocalBlocking { resume }
        } else {
            Self::Temporary { resume }
        }
    }

    /// Whether this try continues what an earlier one wrote.
    pub fn resume(self) -> bool {
        match self {
            Self::LocalBlocking { resume } | Self::Temporary { resume } => resume,
            Self::Atomic { .. } => false,
        }
    }

    /// Whether the source's hash is computed before writing (read twice).
    pub fn hash_first(self) -> bool {
        matches!(self, Self::Atomic { hash_first: true })
    }

    /// Whether the bytes go straight to the final name (no temporary, no rename).
    pub fn writes_in_place(self) -> bool {
        matches!(self, Self::Atomic { .. })
    }

    /// Where the bytes are written: the temporary name, or the final one.
    pub fn destination(self, copy: &FileCopy) -> &RelativePath {
        if self.writes_in_place() {
            &copy.target_path
        } else {
            &copy.temporary_path
        }
    }
}

/// Whether a `size`-byte file copied to `target` is worth resuming when a try stops midway: the
/// target keeps a partial file's prefix, and the file is large enough for that to pay off. It
/// decides which partial records a run trusts (`decide`) and what a retry continues (`transfer`).
pub(crate) fn worth_resuming(size: u64, target: &Capabilities) -> bool {
    target.resumable_writes && size > RESUMABLE_SIZE
}

#[cfg(test)]
mod tests {
    use super::*;

    const LARGE: u64 = RESUMABLE_SIZE + 1;

    fn local() -> Capabilities {
        Capabilities {
            resumable_writes: true,
            rereads_cheaply: true,
            ..Capabilities::default()
        }
    }

    fn sftp() -> Capabilities {
        Capabilities {
            resumable_writes: true,
            ..Capabilities::default()
        }
    }

    fn s3() -> Capabilities {
        Capabilities {
            atomic_writes: true,
            implied_directories: true,
            hash_before_writing_above: Some(5 << 20),
            ranged_reads: true,
            ..Capabilities::default()
        }
    }

    fn ends(source: Capabilities, target: Capabilities, both_local: bool) -> Ends {
        Ends {
            source,
            target,
            both_local,
        }
    }

    #[test]
    fn two_local_trees_copy_on_one_blocking_thread() {
        let local_to_local = ends(local(), local(), true);
        assert_eq!(
            Strategy::choose(10, false, &local_to_local),
            Strategy::LocalBlocking { resume: false }
        );
        assert_eq!(
            Strategy::choose(LARGE, true, &local_to_local),
            Strategy::LocalBlocking { resume: true }
        );
    }

    #[test]
    fn other_trees_stream_to_a_temporary_name() {
        for ends in [
            ends(local(), sftp(), false),
            ends(sftp(), local(), false),
            ends(s3(), local(), false),
            // Local capabilities behind a decorator that hides the tree itself.
            ends(local(), local(), false),
        ] {
            let strategy = Strategy::choose(LARGE, true, &ends);
            assert_eq!(strategy, Strategy::Temporary { resume: true });
            assert!(!strategy.writes_in_place());
        }
    }

    #[test]
    fn atomic_targets_take_files_at_their_final_names_hashed_first_only_when_cheap_and_large() {
        let from_disk = ends(local(), s3(), false);
        assert_eq!(
            Strategy::choose(5 << 20, false, &from_disk),
            Strategy::Atomic { hash_first: false },
            "one PUT carries the hash at its end"
        );
        let large = Strategy::choose((5 << 20) + 1, true, &from_disk);
        assert_eq!(large, Strategy::Atomic { hash_first: true });
        assert!(!large.resume(), "an upload never resumes");
        assert!(large.writes_in_place() && large.hash_first());
        let from_sftp = ends(sftp(), s3(), false);
        assert_eq!(
            Strategy::choose(LARGE, false, &from_sftp),
            Strategy::Atomic { hash_first: false },
            "a remote source is read once"
        );
    }

    #[test]
    fn only_large_files_on_trees_that_keep_a_prefix_are_worth_resuming() {
        assert!(worth_resuming(LARGE, &local()));
        assert!(worth_resuming(LARGE, &sftp()));
        assert!(!worth_resuming(RESUMABLE_SIZE, &local()));
        assert!(!worth_resuming(LARGE, &s3()));
    }
}
