//! Sources that change while they are copied, on both paths (local-to-local, and streaming through
//! a decorated tree): a file modified in place is not recorded as read, but copied again as it is
//! now, and one that keeps changing fails retryably; one deleted while it is read is skipped as
//! vanished; a resumed file is verified in full whatever `--verify` says.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

use super::support::*;
use crate::exec::copy::{
    CopyError, CopyOptions, CopyOutcome, FileFailure, ProgressEvent, ProgressSink, RetryPolicy,
    SourceChange, copy_migration,
};
use crate::exec::ledger::Ledger;
use crate::exec::memory_ledger::MemoryLedger;
use crate::exec::transport::FileTree;
use crate::options::VerifyMode;

const MIB: u64 = 1024 * 1024;

/// Which copy path a test takes.
#[derive(Debug, Clone, Copy)]
enum CopyPath {
    /// Both trees plain local trees: `local_copy`.
    Local,
    /// The source behind a decorator: the streaming path of `transfer`.
    Streaming,
}

const BOTH: [CopyPath; 2] = [CopyPath::Local, CopyPath::Streaming];

fn source_tree(root: &Path, path: CopyPath) -> Arc<dyn FileTree> {
    match path {
        CopyPath::Local => local(root),
        CopyPath::Streaming => CountingTree::new(local(root)),
    }
}

async fn copy(
    path: CopyPath,
    source: &TempDir,
    target: &TempDir,
    ledger: &MemoryLedger,
    options: &CopyOptions,
    progress: &ProgressSink,
) -> Result<CopyOutcome, CopyError> {
    copy_migration(
        "web-01",
        source_tree(source.path(), path),
        local(target.path()),
        &[job("data")],
        ledger,
        options,
        progress,
        &CancellationToken::new(),
    )
    .await
}

fn one_transfer() -> CopyOptions {
    CopyOptions {
        transfers: 1,
        ..options()
    }
}

/// The BLAKE3 of a file's content (compared instead of the bytes, so a failure prints little).
fn hash_of(file: &Path) -> blake3::Hash {
    blake3::hash(&fs::read(file).unwrap())
}

/// Rewrites the first bytes of `file` (already read by then) and gives it the mtime `seconds`, so
/// the change shows even where the clock's granularity would hide it.
fn modify_in_place(file: &Path, seconds: u64) {
    let handle = OpenOptions::new().write(true).open(file).unwrap();
    handle.write_all_at(&seconds.to_le_bytes(), 0).unwrap();
    drop(handle);
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(seconds);
    filetime::set_file_mtime(file, filetime::FileTime::from_system_time(time)).unwrap();
}

/// A sink that modifies `file` in place on the first chunk transferred (`every`: on each one).
fn modify_mid_copy(file: PathBuf, every: bool) -> ProgressSink {
    let done = AtomicBool::new(false);
    let changes = AtomicU64::new(0);
    ProgressSink::new(move |event| {
        if let ProgressEvent::Transferred { .. } = event
            && (every || !done.swap(true, Ordering::SeqCst))
        {
            let seconds = 1_700_000_000 + changes.fetch_add(1, Ordering::SeqCst);
            modify_in_place(&file, seconds);
        }
    })
}

/// A source holding `data/db` (3 MiB of the pattern `seed`), an empty target and an empty ledger.
fn database_fixture(seed: u8) -> (TempDir, TempDir, MemoryLedger) {
    let (source, target) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    write_file(
        source.path(),
        "data/db",
        &pattern(3 * MIB as usize, seed),
        0o644,
        1_650_000_000,
    );
    (source, target, MemoryLedger::new())
}

#[tokio::test]
async fn a_source_modified_in_place_mid_copy_is_copied_again_as_it_is_now() {
    for path in BOTH {
        let (source, target, ledger) = database_fixture(22);
        let file = source.path().join("data/db");
        let sink = modify_mid_copy(file.clone(), false);
        let outcome = copy(path, &source, &target, &ledger, &one_transfer(), &sink)
            .await
            .unwrap();
        assert_eq!(outcome.mounts[0].files_copied, 1, "{path:?}");
        // Not a mix of the two versions: the one the source holds now.
        let now = fs::read(&file).unwrap();
        assert_eq!(
            hash_of(&target.path().join("data/db")),
            blake3::hash(&now),
            "{path:?}"
        );
        let records = ledger.files("web-01").unwrap();
        assert_eq!(
            records[0].blake3,
            blake3::hash(&now).to_hex().to_string(),
            "{path:?}"
        );
        assert_eq!(
            records[0].modified_nanos,
            Some(1_700_000_000 * 1_000_000_000),
            "{path:?}"
        );
    }
}

#[tokio::test]
async fn a_source_that_keeps_changing_fails_retryably_and_is_not_recorded() {
    for path in BOTH {
        let (source, target, ledger) = database_fixture(23);
        let sink = modify_mid_copy(source.path().join("data/db"), true);
        let error = copy(path, &source, &target, &ledger, &one_transfer(), &sink)
            .await
            .unwrap_err();
        let CopyError::FilesFailed { failed, .. } = &error else {
            panic!("{path:?}: {error:?}")
        };
        assert!(
            matches!(
                failed[0].failure,
                FileFailure::ChangedDuringCopy(SourceChange::Metadata)
            ),
            "{path:?}: {error}"
        );
        assert!(
            error
                .to_string()
                .contains("changed while it was being copied"),
            "{error}"
        );
        assert!(error.is_retryable(), "{path:?}: {error}");
        assert!(ledger.files("web-01").unwrap().is_empty(), "{path:?}");
        assert!(!target.path().join("data/db").exists(), "{path:?}");
        assert!(
            !target.path().join("data/.db.ferry-partial").exists(),
            "{path:?}"
        );
    }
}

#[tokio::test]
async fn a_source_deleted_mid_copy_is_skipped_as_vanished_and_not_recorded() {
    for path in BOTH {
        let (source, target, ledger) = database_fixture(25);
        let file = source.path().join("data/db");
        let done = AtomicBool::new(false);
        // The open file can still be read to its end: only its metadata shows it is gone.
        let sink = ProgressSink::new(move |event| {
            if let ProgressEvent::Transferred { .. } = event
                && !done.swap(true, Ordering::SeqCst)
            {
                fs::remove_file(&file).unwrap();
            }
        });
        let outcome = copy(path, &source, &target, &ledger, &one_transfer(), &sink)
            .await
            .unwrap();
        assert_eq!(outcome.mounts[0].vanished, ["data/db"], "{path:?}");
        assert_eq!(outcome.mounts[0].files_copied, 0, "{path:?}");
        assert!(ledger.files("web-01").unwrap().is_empty(), "{path:?}");
        assert!(!target.path().join("data/db").exists(), "{path:?}");
        assert!(
            !target.path().join("data/.db.ferry-partial").exists(),
            "{path:?}"
        );
    }
}

/// A sink that cancels the run once `limit` bytes were transferred.
fn cancel_after(limit: u64, cancel: &CancellationToken) -> ProgressSink {
    let cancel = cancel.clone();
    let transferred = AtomicU64::new(0);
    ProgressSink::new(move |event| {
        if let ProgressEvent::Transferred { bytes, .. } = event
            && transferred.fetch_add(bytes, Ordering::SeqCst) + bytes >= limit
        {
            cancel.cancel();
        }
    })
}

#[tokio::test]
async fn a_resumed_file_with_a_tampered_prefix_is_never_recorded_under_verify_size() {
    for path in BOTH {
        let (source, target, ledger) = (
            TempDir::new().unwrap(),
            TempDir::new().unwrap(),
            MemoryLedger::new(),
        );
        let content = pattern(20 * MIB as usize, 24);
        write_file(
            source.path(),
            "data/disk.img",
            &content,
            0o640,
            1_650_000_000,
        );
        let size_only = CopyOptions {
            verify: VerifyMode::Size,
            retry: RetryPolicy {
                retries: 0,
                ..one_transfer().retry
            },
            ..one_transfer()
        };
        let cancel = CancellationToken::new();
        let interrupted = copy_migration(
            "web-01",
            local(source.path()),
            local(target.path()),
            &[job("data")],
            &ledger,
            &size_only,
            &cancel_after(9 * MIB, &cancel),
            &cancel,
        )
        .await;
        assert!(
            matches!(interrupted, Err(CopyError::Interrupted { .. })),
            "{interrupted:?}"
        );
        // The partial differs from the source at byte 1,001.
        let partial = target.path().join("data/.disk.img.ferry-partial");
        let handle = OpenOptions::new().write(true).open(&partial).unwrap();
        handle
            .write_all_at(&[content[1_000] ^ 0xff], 1_000)
            .unwrap();
        drop(handle);

        let error = copy(
            path,
            &source,
            &target,
            &ledger,
            &size_only,
            &ProgressSink::none(),
        )
        .await
        .unwrap_err();
        assert!(
            error.to_string().contains("verification failed"),
            "{path:?}: {error}"
        );
        assert!(error.is_retryable(), "{path:?}: {error}");
        assert!(ledger.files("web-01").unwrap().is_empty(), "{path:?}");
        assert!(!partial.exists() && !target.path().join("data/disk.img").exists());

        // A plain re-run copies it afresh.
        copy(
            path,
            &source,
            &target,
            &ledger,
            &size_only,
            &ProgressSink::none(),
        )
        .await
        .unwrap();
        assert_eq!(
            hash_of(&target.path().join("data/disk.img")),
            blake3::hash(&content),
            "{path:?}"
        );
    }
}
