//! The local-to-local path (`local_copy`, taken when both trees are `LocalTree`s): resuming with the
//! target's prefix compared, cancelling, sources that grow or shrink mid-copy, and `--bwlimit`.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

use super::support::*;
use crate::exec::copy::{
    BandwidthLimiter, CopyError, CopyOptions, CopyOutcome, FileFailure, ProgressEvent,
    ProgressSink, RetryPolicy, copy_migration,
};
use crate::exec::ledger::Ledger;
use crate::exec::memory_ledger::MemoryLedger;
use crate::exec::transport::FileTree;
use crate::options::VerifyMode;

const MIB: u64 = 1024 * 1024;

/// Copies `data` from `source` to `target`, both plain local trees (so the fast path runs).
async fn copy_local(
    source: &TempDir,
    target: &TempDir,
    ledger: &MemoryLedger,
    options: &CopyOptions,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<CopyOutcome, CopyError> {
    let (source, target) = (local(source.path()), local(target.path()));
    assert!(source.as_local().is_some() && target.as_local().is_some());
    copy_migration(
        "web-01",
        source,
        target,
        &[job("data")],
        ledger,
        options,
        progress,
        cancel,
    )
    .await
}

fn one_transfer() -> CopyOptions {
    CopyOptions {
        transfers: 1,
        ..options()
    }
}

/// A sink that cancels the run once `limit` bytes were transferred, and keeps every event.
fn cancel_after(
    limit: u64,
    cancel: &CancellationToken,
) -> (ProgressSink, Arc<Mutex<Vec<ProgressEvent>>>) {
    let cancel = cancel.clone();
    let transferred = AtomicU64::new(0);
    let events = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&events);
    let sink = ProgressSink::new(move |event| {
        if let ProgressEvent::Transferred { bytes, .. } = event
            && transferred.fetch_add(bytes, Ordering::SeqCst) + bytes >= limit
        {
            cancel.cancel();
        }
        kept.lock().unwrap().push(event);
    });
    (sink, events)
}

/// A source holding one file under `data/`, an empty target and an empty ledger.
struct Fixture {
    source: TempDir,
    target: TempDir,
    ledger: MemoryLedger,
}

impl Fixture {
    fn with_file(name: &str, content: &[u8], mode: u32) -> Self {
        let source = TempDir::new().unwrap();
        write_file(
            source.path(),
            &format!("data/{name}"),
            content,
            mode,
            1_650_000_000,
        );
        Self {
            source,
            target: TempDir::new().unwrap(),
            ledger: MemoryLedger::new(),
        }
    }

    /// One run with one transfer, reporting to `progress`.
    async fn run_with(
        &self,
        progress: &ProgressSink,
        cancel: &CancellationToken,
    ) -> Result<CopyOutcome, CopyError> {
        copy_local(
            &self.source,
            &self.target,
            &self.ledger,
            &one_transfer(),
            progress,
            cancel,
        )
        .await
    }

    async fn run(&self) -> Result<CopyOutcome, CopyError> {
        self.run_with(&ProgressSink::none(), &CancellationToken::new())
            .await
    }

    /// One run with `options` and no progress.
    async fn run_with_options(&self, options: &CopyOptions) -> Result<CopyOutcome, CopyError> {
        let (progress, cancel) = (ProgressSink::none(), CancellationToken::new());
        copy_local(
            &self.source,
            &self.target,
            &self.ledger,
            options,
            &progress,
            &cancel,
        )
        .await
    }

    /// A run cancelled once `bytes` were transferred.
    async fn interrupt_after(&self, bytes: u64) -> Result<CopyOutcome, CopyError> {
        let cancel = CancellationToken::new();
        let (sink, _) = cancel_after(bytes, &cancel);
        self.run_with(&sink, &cancel).await
    }
}

#[test]
fn only_plain_local_trees_take_the_local_path() {
    let root = TempDir::new().unwrap();
    assert!(local(root.path()).as_local().is_some());
    // A decorator that sees every byte must not be bypassed.
    assert!(CountingTree::new(local(root.path())).as_local().is_none());
}

#[tokio::test]
async fn cancelling_leaves_an_honest_partial_that_resumes_and_checks_the_prefix() {
    let content = pattern(24 * MIB as usize, 11);
    let fixture = Fixture::with_file("disk.img", &content, 0o600);
    let Fixture {
        source,
        target,
        ledger,
    } = &fixture;
    let interrupted = fixture.interrupt_after(5 * MIB).await;
    assert!(
        matches!(interrupted, Err(CopyError::Interrupted { .. })),
        "{interrupted:?}"
    );
    let partial = target.path().join("data/.disk.img.ferry-partial");
    let partial_length = fs::metadata(&partial).unwrap().len();
    assert!(
        (5 * MIB..24 * MIB).contains(&partial_length),
        "partial length {partial_length}"
    );
    assert!(!target.path().join("data/disk.img").exists());
    // Every byte of the partial is the source's: the next run may trust it.
    assert_eq!(
        fs::read(&partial).unwrap(),
        &content[..partial_length as usize]
    );

    let cancel = CancellationToken::new();
    let (sink, events) = cancel_after(u64::MAX, &cancel);
    let outcome = fixture.run_with(&sink, &cancel).await.unwrap();
    assert_eq!(outcome.mounts[0].files_resumed, 1);
    assert_eq!(
        outcome.mounts[0].bytes_transferred,
        24 * MIB - partial_length
    );
    let events = events.lock().unwrap();
    let transferred: u64 = events
        .iter()
        .map(|event| match event {
            ProgressEvent::Transferred { bytes, .. } => *bytes,
            _ => 0,
        })
        .sum();
    assert_eq!(transferred, 24 * MIB - partial_length);
    assert!(events.iter().any(|event| matches!(
        event,
        ProgressEvent::Resumed { bytes, .. } if *bytes == partial_length
    )));
    assert_eq!(
        fs::read(target.path().join("data/disk.img")).unwrap(),
        content
    );
    assert!(!partial.exists());
    assert!(ledger.partials("web-01").unwrap().is_empty());
    assert_eq!(
        ledger.files("web-01").unwrap()[0].blake3,
        blake3::hash(&content).to_hex().to_string()
    );
    assert_eq!(
        snapshot(&target.path().join("data")),
        snapshot(&source.path().join("data"))
    );
}

/// One transfer and no retries: a failure shows as it is, with its label.
fn no_retries() -> CopyOptions {
    CopyOptions {
        retry: RetryPolicy {
            retries: 0,
            ..one_transfer().retry
        },
        ..one_transfer()
    }
}

/// Interrupts the copy of `content` after `after` bytes and flips the partial's byte at `at`,
/// inside the prefix the resume will not rewrite; returns the partial's path.
async fn damage_the_partial(fixture: &Fixture, after: u64, at: u64) -> std::path::PathBuf {
    assert!(fixture.interrupt_after(after).await.is_err());
    let partial = fixture.target.path().join("data/.disk.img.ferry-partial");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&partial)
        .unwrap();
    let mut byte = [0u8];
    file.read_exact_at(&mut byte, at).unwrap();
    file.write_all_at(&[byte[0] ^ 0xff], at).unwrap();
    partial
}

#[tokio::test]
async fn a_damaged_prefix_fails_verification_retryably_is_discarded_and_a_rerun_succeeds() {
    let content = pattern(16 * MIB as usize, 12);
    let fixture = Fixture::with_file("disk.img", &content, 0o644);
    let Fixture { target, ledger, .. } = &fixture;
    let partial = damage_the_partial(&fixture, 4 * MIB, MIB).await;

    let error = fixture.run_with_options(&no_retries()).await.unwrap_err();
    let CopyError::FilesFailed { failed, .. } = &error else {
        panic!("{error:?}")
    };
    let FileFailure::HashMismatch {
        expected,
        actual,
        resumed: true,
    } = &failed[0].failure
    else {
        panic!("{:?}", failed[0].failure)
    };
    assert_eq!(*expected, blake3::hash(&content).to_hex().to_string());
    let mut damaged = content.clone();
    damaged[MIB as usize] ^= 0xff;
    assert_eq!(*actual, blake3::hash(&damaged).to_hex().to_string());
    // The damage was an earlier run's: copying again starts afresh, so it is worth a retry.
    assert!(error.is_retryable(), "{error}");
    assert!(
        !partial.exists(),
        "a copy that failed verification is removed"
    );
    assert!(!target.path().join("data/disk.img").exists());
    assert!(ledger.files("web-01").unwrap().is_empty());

    // A plain re-run starts over and succeeds.
    fixture.run_with_options(&no_retries()).await.unwrap();
    assert_eq!(
        fs::read(target.path().join("data/disk.img")).unwrap(),
        content
    );
}

#[tokio::test]
async fn a_damaged_prefix_is_copied_again_within_the_same_run() {
    let content = pattern(16 * MIB as usize, 20);
    let fixture = Fixture::with_file("disk.img", &content, 0o644);
    damage_the_partial(&fixture, 4 * MIB, 1_000).await;
    let outcome = fixture.run().await.unwrap();
    assert_eq!(outcome.mounts[0].files_copied, 1);
    assert_eq!(
        fs::read(fixture.target.path().join("data/disk.img")).unwrap(),
        content
    );
    assert_eq!(
        fixture.ledger.files("web-01").unwrap()[0].blake3,
        blake3::hash(&content).to_hex().to_string()
    );
}

#[tokio::test]
async fn a_resumed_file_is_verified_in_full_even_with_verify_size() {
    let content = pattern(16 * MIB as usize, 21);
    let fixture = Fixture::with_file("disk.img", &content, 0o644);
    // Byte 1,001 of the partial differs from the source's.
    damage_the_partial(&fixture, 4 * MIB, 1_000).await;
    let size_only = CopyOptions {
        verify: VerifyMode::Size,
        ..no_retries()
    };
    let error = fixture.run_with_options(&size_only).await.unwrap_err();
    assert!(error.to_string().contains("verification failed"), "{error}");
    assert!(error.is_retryable(), "{error}");
    // Never recorded with a hash that was not checked against the target.
    assert!(fixture.ledger.files("web-01").unwrap().is_empty());
    assert!(!fixture.target.path().join("data/disk.img").exists());

    fixture.run_with_options(&size_only).await.unwrap();
    assert_eq!(
        fs::read(fixture.target.path().join("data/disk.img")).unwrap(),
        content
    );
}

/// A sink that runs `change` once, on the first chunk transferred (mid-copy, on the copying thread).
fn change_on_first_chunk(change: impl Fn() + Send + Sync + 'static) -> ProgressSink {
    let done = AtomicBool::new(false);
    ProgressSink::new(move |event| {
        if let ProgressEvent::Transferred { .. } = event
            && !done.swap(true, Ordering::SeqCst)
        {
            change();
        }
    })
}

#[tokio::test]
async fn a_source_growing_mid_copy_is_copied_again_as_it_is_now() {
    let content = pattern(3 * MIB as usize, 13);
    let fixture = Fixture::with_file("log", &content, 0o644);
    let Fixture { target, ledger, .. } = &fixture;
    let grown = fixture.source.path().join("data/log");
    let sink = change_on_first_chunk(move || {
        let mut file = OpenOptions::new().append(true).open(&grown).unwrap();
        file.write_all(b"one more line\n").unwrap();
    });
    let outcome = fixture
        .run_with(&sink, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(outcome.mounts[0].files_copied, 1);
    let mut expected = content;
    expected.extend_from_slice(b"one more line\n");
    assert_eq!(fs::read(target.path().join("data/log")).unwrap(), expected);
    let records = ledger.files("web-01").unwrap();
    assert_eq!(records[0].size, expected.len() as u64);
    assert_eq!(
        records[0].blake3,
        blake3::hash(&expected).to_hex().to_string()
    );
    assert!(!target.path().join("data/.log.ferry-partial").exists());
}

#[tokio::test]
async fn a_source_shrinking_mid_copy_is_copied_again_as_it_is_now() {
    let content = pattern(3 * MIB as usize, 14);
    let fixture = Fixture::with_file("db", &content, 0o644);
    let Fixture { target, ledger, .. } = &fixture;
    let shrunk = fixture.source.path().join("data/db");
    let sink = change_on_first_chunk(move || {
        let file = OpenOptions::new().write(true).open(&shrunk).unwrap();
        file.set_len(2 * MIB).unwrap();
    });
    fixture
        .run_with(&sink, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(
        fs::read(target.path().join("data/db")).unwrap(),
        &content[..2 * MIB as usize]
    );
    assert_eq!(ledger.files("web-01").unwrap()[0].size, 2 * MIB);
}

#[tokio::test]
async fn a_source_shrinking_below_a_partial_starts_the_file_over() {
    let content = pattern(20 * MIB as usize, 15);
    let fixture = Fixture::with_file("disk.img", &content, 0o644);
    assert!(fixture.interrupt_after(12 * MIB).await.is_err());
    // Truncated after the scan saw it whole (so the run means to resume), before its copy starts.
    let truncated = fixture.source.path().join("data/disk.img");
    let sink = ProgressSink::new(move |event| {
        if let ProgressEvent::MountStarted { .. } = event {
            let file = OpenOptions::new().write(true).open(&truncated).unwrap();
            file.set_len(9 * MIB).unwrap();
        }
    });
    let outcome = fixture
        .run_with(&sink, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(outcome.mounts[0].files_copied, 1);
    assert_eq!(outcome.mounts[0].files_resumed, 0);
    assert_eq!(
        fs::read(fixture.target.path().join("data/disk.img")).unwrap(),
        &content[..9 * MIB as usize]
    );
}

#[tokio::test]
async fn the_bandwidth_limit_paces_the_copy_and_cancelling_cuts_its_wait_short() {
    let source = TempDir::new().unwrap();
    let content = pattern(5 * MIB as usize, 16);
    write_file(source.path(), "data/a.bin", &content, 0o644, 1_650_000_000);
    let target = TempDir::new().unwrap();
    let limiter = Arc::new(BandwidthLimiter::new(64 * MIB));
    let limited = CopyOptions {
        bandwidth_limiter: Some(Arc::clone(&limiter)),
        ..one_transfer()
    };
    copy_local(
        &source,
        &target,
        &MemoryLedger::new(),
        &limited,
        &ProgressSink::none(),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    // Every byte written went through the limiter (counted, not timed).
    assert_eq!(limiter.bytes_reserved(), 5 * MIB);
    assert_eq!(fs::read(target.path().join("data/a.bin")).unwrap(), content);

    // At 1 KiB/s the copy would need more than an hour: a run that ends at all, interrupted,
    // shows that cancelling cuts the limiter's wait short.
    let target = TempDir::new().unwrap();
    let slow = CopyOptions {
        bandwidth_limiter: Some(Arc::new(BandwidthLimiter::new(1024))),
        ..one_transfer()
    };
    let cancel = CancellationToken::new();
    let canceller = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        canceller.cancel();
    });
    let (ledger, progress) = (MemoryLedger::new(), ProgressSink::none());
    let copy = copy_local(&source, &target, &ledger, &slow, &progress, &cancel);
    let result = tokio::time::timeout(Duration::from_secs(600), copy)
        .await
        .expect("cancelling ends the limiter's wait");
    assert!(
        matches!(result, Err(CopyError::Interrupted { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn reading_back_a_local_copy_hashes_all_of_it_and_never_follows_a_symlink() {
    use crate::exec::copy::local_copy::hash_local_file;
    use crate::exec::transport::local::LocalTree;

    let root = TempDir::new().unwrap();
    let content = pattern(3 * MIB as usize + 17, 17);
    write_file(root.path(), "data/copy", &content, 0o644, 1_650_000_000);
    std::os::unix::fs::symlink(root.path().join("data"), root.path().join("link")).unwrap();
    let tree = Arc::new(LocalTree::open(root.path()).unwrap());
    // A buffer smaller than the file: it is read in several chunks.
    let (length, hash) = hash_local_file(Arc::clone(&tree), &path("data/copy"), vec![0; 1 << 20])
        .await
        .unwrap();
    assert_eq!(length, content.len() as u64);
    assert_eq!(hash, blake3::hash(&content));
    assert!(
        hash_local_file(tree, &path("link/copy"), vec![0; 1 << 20])
            .await
            .is_err()
    );
}

#[tokio::test]
async fn every_migration_of_a_run_draws_from_the_one_bandwidth_limiter_it_is_given() {
    // Two migrations at once, as `--parallel 2` runs them, with the options the runner gives
    // both: every byte either writes is reserved from the same bucket (no clock involved).
    let limiter = Arc::new(BandwidthLimiter::new(1024 * MIB));
    let options = CopyOptions {
        bandwidth_limiter: Some(Arc::clone(&limiter)),
        ..options()
    };
    let first = Fixture::with_file("a.bin", &pattern(3 * MIB as usize, 18), 0o644);
    let second = Fixture::with_file("b.bin", &pattern(2 * MIB as usize + 5, 19), 0o644);
    let (progress, cancel) = (ProgressSink::none(), CancellationToken::new());
    let (one, two) = tokio::join!(
        copy_local(
            &first.source,
            &first.target,
            &first.ledger,
            &options,
            &progress,
            &cancel
        ),
        copy_local(
            &second.source,
            &second.target,
            &second.ledger,
            &options,
            &progress,
            &cancel
        ),
    );
    let transferred = one.unwrap().bytes_transferred() + two.unwrap().bytes_transferred();
    assert_eq!(transferred, 5 * MIB + 5);
    assert_eq!(limiter.bytes_reserved(), transferred);
}
