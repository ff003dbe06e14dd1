//! Small files copied between two local trees in batches (`batches`, `copy_batch`): one blocking
//! task copies a batch's files one after another, instead of one task per file, whose hand-off
//! (waking a blocking thread and the runtime again) cost more than copying a small file. Each file
//! keeps its own guarantees: claimed before the first byte (`run`'s `prepare` claims every file),
//! verified, renamed, reported and recorded on its own; a failure fails only that file and is
//! retried as `transfer` retries any file; cancellation stops a batch between its files.

use std::sync::Arc;

use super::decide::FileCopy;
use super::error::FileFailure;
use super::local_copy::{LOCAL_CHUNK_SIZE, copy_local_files};
use super::steps::Copied;
use super::strategy::{Ends, Strategy};
use super::transfer::{TransferContext, copy_file, discard_failed_copy, retry_file};

/// Files this small (read in one call) are copied in batches.
const BATCHED_FILE_SIZE: u64 = LOCAL_CHUNK_SIZE as u64;
/// The most files one batch holds: enough to make the hand-off negligible, few enough that the
/// transfers stay busy to the end and progress stays fine-grained.
const MOST_FILES_PER_BATCH: usize = 32;

/// Splits `copies` into the units the transfers run, in their order: the small files
/// local-to-local in batches of up to `MOST_FILES_PER_BATCH` (fewer when there are few, so that
/// all `transfers` get work), every other file alone.
pub(crate) fn batches(copies: Vec<FileCopy>, ends: &Ends, transfers: usize) -> Vec<Vec<FileCopy>> {
    let batched = copies.iter().filter(|copy| is_batched(copy, ends)).count();
    let per_batch = batched
        .div_ceil(transfers.max(1))
        .clamp(1, MOST_FILES_PER_BATCH);
    let mut units = Vec::with_capacity(copies.len() - batched + batched.div_ceil(per_batch));
    let mut batch = Vec::with_capacity(per_batch);
    for copy in copies {
        if !is_batched(&copy, ends) {
            units.push(vec![copy]);
            continue;
        }
        batch.push(copy);
        if batch.len() == per_batch {
            units.push(std::mem::replace(&mut batch, Vec::with_capacity(per_batch)));
        }
    }
    if !batch.is_empty() {
        units.push(batch);
    }
    units
}

/// Whether `copy` is copied in a batch: a small file whose first try is a local blocking copy
/// from the start.
fn is_batched(copy: &FileCopy, ends: &Ends) -> bool {
    let size = copy.metadata.size;
    size <= BATCHED_FILE_SIZE
        && Strategy::choose(size, copy.resume, ends) == (Strategy::LocalBlocking { resume: false })
}

/// Copies a batch from `batches` on one blocking task: each file's first try there, then, for
/// each file in turn, what `transfer` does after any first try (discarding a copy that failed
/// verification, retrying). One result per file, with its ledger path, in order.
pub(crate) async fn copy_batch(
    context: Arc<TransferContext>,
    files: Vec<FileCopy>,
) -> Vec<(String, Result<Copied, FileFailure>)> {
    let (Some(source), Some(target)) = (&context.local_source, &context.local_target) else {
        // Only local-to-local files are batched (`is_batched`); anything else goes one by one.
        let mut results = Vec::with_capacity(files.len());
        for copy in files {
            let path = copy.ledger_path();
            results.push((path, copy_file(Arc::clone(&context), copy).await));
        }
        return results;
    };
    let tries = files.iter().map(|copy| (copy.clone(), false)).collect();
    let firsts = copy_local_files(&context, (source, target), tries).await;
    let strategy = Strategy::LocalBlocking { resume: false };
    let mut results = Vec::with_capacity(files.len());
    for (copy, first) in files.into_iter().zip(firsts) {
        discard_failed_copy(&context, &copy, strategy, &first).await;
        let path = copy.ledger_path();
        results.push((path, retry_file(&context, copy, first).await));
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::copy::RESUMABLE_SIZE;
    use crate::exec::transport::{Capabilities, EntryKind, Metadata, RelativePath};

    fn file(name: &str, size: u64, resume: bool) -> FileCopy {
        let path = |text: &str| RelativePath::new(text).expect("valid");
        FileCopy {
            source_path: path(name),
            target_path: path(name),
            temporary_path: path(&format!(".{name}.partial")),
            metadata: Metadata {
                kind: EntryKind::File,
                size,
                modified: None,
                mode: None,
                device: None,
            },
            resume,
        }
    }

    fn ends(both_local: bool) -> Ends {
        let local = Capabilities {
            resumable_writes: true,
            rereads_cheaply: true,
            ..Capabilities::default()
        };
        Ends {
            source: local,
            target: local,
            both_local,
        }
    }

    fn names(units: &[Vec<FileCopy>]) -> Vec<Vec<&str>> {
        units
            .iter()
            .map(|unit| unit.iter().map(|copy| copy.target_path.as_str()).collect())
            .collect()
    }

    #[test]
    fn small_local_files_go_in_batches_spread_over_the_transfers_and_large_ones_alone() {
        let copies = vec![
            file("a", 10, false),
            file("big", BATCHED_FILE_SIZE + 1, false),
            file("b", BATCHED_FILE_SIZE, false),
            file("c", 0, false),
            file("resumed", RESUMABLE_SIZE + 1, true),
            file("d", 20, false),
            file("e", 30, false),
        ];
        let units = batches(copies, &ends(true), 2);
        assert_eq!(
            names(&units),
            [
                vec!["big"],
                vec!["a", "b", "c"],
                vec!["resumed"],
                vec!["d", "e"]
            ]
        );
    }

    #[test]
    fn a_batch_holds_at_most_its_share_of_files() {
        let copies = (0..100)
            .map(|n| file(&format!("f{n}"), 100, false))
            .collect();
        let units = batches(copies, &ends(true), 1);
        let sizes: Vec<usize> = units.iter().map(Vec::len).collect();
        assert_eq!(sizes, [32, 32, 32, 4]);
    }

    #[test]
    fn files_between_other_trees_go_one_by_one() {
        let copies = vec![file("a", 10, false), file("b", 10, false)];
        let units = batches(copies, &ends(false), 1);
        assert_eq!(names(&units), [vec!["a"], vec!["b"]]);
    }
}
