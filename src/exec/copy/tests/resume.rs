//! Interruptions and failures: resuming a large file, cancelling, verification mismatches, retries.

use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

use super::support::*;
use crate::exec::copy::{
    CopyError, CopyOptions, FileFailure, ProgressEvent, ProgressSink, copy_migration,
};
use crate::exec::ledger::Ledger;
use crate::exec::memory_ledger::MemoryLedger;
use crate::options::VerifyMode;

const MIB: u64 = 1024 * 1024;

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
async fn an_interrupted_large_file_resumes_from_its_partial_length() {
    let source = TempDir::new().unwrap();
    let content = pattern(20 * MIB as usize, 7);
    write_file(
        source.path(),
        "data/disk.img",
        &content,
        0o640,
        1_650_000_000,
    );
    let target = TempDir::new().unwrap();
    let ledger = MemoryLedger::new();
    let cancel = CancellationToken::new();
    let options = CopyOptions {
        transfers: 1,
        ..options()
    };
    let interrupted = copy_migration(
        "web-01",
        local(source.path()),
        local(target.path()),
        &[job("data")],
        &ledger,
        &options,
        &cancel_after(9 * MIB, &cancel),
        &cancel,
    )
    .await;
    assert!(
        matches!(interrupted, Err(CopyError::Interrupted { .. })),
        "{interrupted:?}"
    );
    assert!(interrupted.as_ref().unwrap_err().is_retryable());
    // No half-written file under the final name; the partial is recorded and on disk.
    assert!(!target.path().join("data/disk.img").exists());
    let partials = ledger.partials("web-01").unwrap();
    assert_eq!(partials.len(), 1);
    assert_eq!(partials[0].temporary_path, "data/.disk.img.ferry-partial");
    let partial_length = fs::metadata(target.path().join(&partials[0].temporary_path))
        .unwrap()
        .len();
    assert!(
        (9 * MIB..20 * MIB).contains(&partial_length),
        "partial length {partial_length}"
    );

    let counting = CountingTree::new(local(source.path()));
    let outcome = run(
        counting.clone(),
        local(target.path()),
        &[job("data")],
        &ledger,
    )
    .await
    .unwrap();
    // The prefix is re-hashed from the source (so the recorded hash is the source's), but only
    // the remainder is written to the target.
    assert_eq!(counting.bytes_read(), 20 * MIB);
    assert_eq!(outcome.mounts[0].files_resumed, 1);
    assert_eq!(
        outcome.mounts[0].bytes_transferred,
        20 * MIB - partial_length
    );
    assert_eq!(
        fs::read(target.path().join("data/disk.img")).unwrap(),
        content
    );
    assert!(!target.path().join("data/.disk.img.ferry-partial").exists());
    assert!(ledger.partials("web-01").unwrap().is_empty());
    let records = ledger.files("web-01").unwrap();
    assert_eq!(
        records[0].blake3,
        blake3::hash(&content).to_hex().to_string()
    );
}

#[tokio::test]
async fn a_partial_of_a_changed_source_is_discarded_not_resumed() {
    let source = TempDir::new().unwrap();
    write_file(
        source.path(),
        "data/disk.img",
        &pattern(12 * MIB as usize, 1),
        0o640,
        1_650_000_000,
    );
    let target = TempDir::new().unwrap();
    let ledger = MemoryLedger::new();
    let cancel = CancellationToken::new();
    let options = CopyOptions {
        transfers: 1,
        ..options()
    };
    let sink = cancel_after(3 * MIB, &cancel);
    let jobs = [job("data")];
    let interrupted = copy_migration(
        "web-01",
        local(source.path()),
        local(target.path()),
        &jobs,
        &ledger,
        &options,
        &sink,
        &cancel,
    )
    .await;
    assert!(interrupted.is_err());
    let changed = pattern(12 * MIB as usize, 2);
    write_file(
        source.path(),
        "data/disk.img",
        &changed,
        0o640,
        1_660_000_000,
    );
    let counting = CountingTree::new(local(source.path()));
    let outcome = run(counting.clone(), local(target.path()), &jobs, &ledger)
        .await
        .unwrap();
    assert_eq!(counting.bytes_read(), 12 * MIB);
    assert_eq!(outcome.mounts[0].files_resumed, 0);
    assert_eq!(
        fs::read(target.path().join("data/disk.img")).unwrap(),
        changed
    );
}

#[tokio::test]
async fn cancelling_keeps_finished_files_recorded_and_a_rerun_completes() {
    let source = TempDir::new().unwrap();
    for index in 0..40 {
        write_file(
            source.path(),
            &format!("data/file-{index:02}"),
            &pattern(64 * 1024, index),
            0o644,
            1_600_000_000,
        );
    }
    let target = TempDir::new().unwrap();
    let ledger = MemoryLedger::new();
    let cancel = CancellationToken::new();
    let options = CopyOptions {
        transfers: 2,
        ..options()
    };
    let jobs = [job("data")];
    let sink = cancel_after(10 * 64 * 1024, &cancel);
    let result = copy_migration(
        "web-01",
        local(source.path()),
        local(target.path()),
        &jobs,
        &ledger,
        &options,
        &sink,
        &cancel,
    )
    .await;
    assert!(matches!(result, Err(CopyError::Interrupted { .. })));
    let recorded = ledger.files("web-01").unwrap();
    assert!(
        !recorded.is_empty() && recorded.len() < 40,
        "{} recorded",
        recorded.len()
    );
    for record in &recorded {
        // Everything the ledger claims is really there, complete.
        let on_disk = fs::read(target.path().join(&record.path)).unwrap();
        assert_eq!(blake3::hash(&on_disk).to_hex().to_string(), record.blake3);
    }

    let counting = CountingTree::new(local(source.path()));
    let outcome = run(counting.clone(), local(target.path()), &jobs, &ledger)
        .await
        .unwrap();
    assert_eq!(outcome.files_unchanged(), recorded.len() as u64);
    assert_eq!(
        counting.bytes_read(),
        (40 - recorded.len() as u64) * 64 * 1024
    );
    assert_eq!(
        snapshot(&target.path().join("data")),
        snapshot(&source.path().join("data"))
    );
}

#[tokio::test]
async fn a_verification_mismatch_fails_the_migration_naming_the_file() {
    let source = TempDir::new().unwrap();
    write_file(
        source.path(),
        "data/payroll.csv",
        &pattern(10_000, 3),
        0o644,
        1_600_000_000,
    );
    let target = TempDir::new().unwrap();
    let ledger = MemoryLedger::new();
    let corrupting = Arc::new(CorruptingTree {
        inner: local(target.path()),
    });
    let error = run(local(source.path()), corrupting, &[job("data")], &ledger)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("data/payroll.csv") && message.contains("verification failed"),
        "{message}"
    );
    assert!(!error.is_retryable());
    let CopyError::FilesFailed { failed, total, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(*total, 1);
    assert!(matches!(
        failed[0].failure,
        FileFailure::HashMismatch { .. }
    ));
    // Nothing unverified under the final name, no corrupt temporary left to resume from, nothing recorded.
    assert!(!target.path().join("data/payroll.csv").exists());
    assert!(
        !target
            .path()
            .join("data/.payroll.csv.ferry-partial")
            .exists()
    );
    assert!(ledger.files("web-01").unwrap().is_empty());
    // Size-only verification cannot see this corruption, which is why Full is the default.
    let size_only = CopyOptions {
        verify: VerifyMode::Size,
        ..options()
    };
    let corrupting = Arc::new(CorruptingTree {
        inner: local(target.path()),
    });
    let cancel = CancellationToken::new();
    copy_migration(
        "web-01",
        local(source.path()),
        corrupting,
        &[job("data")],
        &ledger,
        &size_only,
        &ProgressSink::none(),
        &cancel,
    )
    .await
    .unwrap();
    // A clean re-run (the ledger holds the bad copy's source hash, so delete the record's file first).
    fs::remove_file(target.path().join("data/payroll.csv")).unwrap();
    run(
        local(source.path()),
        local(target.path()),
        &[job("data")],
        &ledger,
    )
    .await
    .unwrap();
    assert_eq!(
        snapshot(&target.path().join("data")),
        snapshot(&source.path().join("data"))
    );
}

#[tokio::test]
async fn transient_errors_are_retried_and_permanent_ones_reported() {
    let source = TempDir::new().unwrap();
    write_file(source.path(), "data/a", b"alpha", 0o644, 1_600_000_000);
    let target = TempDir::new().unwrap();
    let flaky = Arc::new(FlakyTree {
        inner: local(source.path()),
        failures: AtomicUsize::new(2),
    });
    run(
        flaky,
        local(target.path()),
        &[job("data")],
        &MemoryLedger::new(),
    )
    .await
    .unwrap();
    assert_eq!(fs::read(target.path().join("data/a")).unwrap(), b"alpha");

    let target = TempDir::new().unwrap();
    let hopeless = Arc::new(FlakyTree {
        inner: local(source.path()),
        failures: AtomicUsize::new(100),
    });
    let error = run(
        hopeless.clone(),
        local(target.path()),
        &[job("data")],
        &MemoryLedger::new(),
    )
    .await
    .unwrap_err();
    // One try and three retries.
    assert_eq!(hopeless.failures.load(Ordering::SeqCst), 96);
    assert!(error.is_retryable(), "{error}");
    assert!(
        error.to_string().contains("1 file failed: `data/a`"),
        "{error}"
    );
}

#[tokio::test]
async fn files_deleted_from_the_source_during_the_copy_are_skipped_not_failed() {
    let source = TempDir::new().unwrap();
    write_file(
        source.path(),
        "data/keep.txt",
        b"keep",
        0o644,
        1_600_000_000,
    );
    write_file(
        source.path(),
        "data/gone.txt",
        b"gone",
        0o644,
        1_600_000_000,
    );
    let target = TempDir::new().unwrap();
    let doomed = source.path().join("data/gone.txt");
    // Deleted after the scan listed it, before the transfers start.
    let sink = ProgressSink::new(move |event| {
        if let ProgressEvent::MountStarted { .. } = event {
            let _ = fs::remove_file(&doomed);
        }
    });
    let cancel = CancellationToken::new();
    let ledger = MemoryLedger::new();
    let jobs = [job("data")];
    let outcome = copy_migration(
        "web-01",
        local(source.path()),
        local(target.path()),
        &jobs,
        &ledger,
        &options(),
        &sink,
        &cancel,
    )
    .await
    .unwrap();
    assert_eq!(outcome.mounts[0].files_copied, 1);
    assert_eq!(outcome.mounts[0].vanished, ["data/gone.txt"]);
    assert_eq!(
        snapshot(&target.path().join("data")),
        snapshot(&source.path().join("data"))
    );
}
