//! Small files copied local-to-local in batches (`batch`): each file of a batch keeps its own
//! claim, failure, retry and record, and cancellation stops a batch between its files.

use std::collections::BTreeSet;
use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

use super::support::*;
use crate::exec::copy::{
    CopyError, CopyOptions, CopyOutcome, ProgressEvent, ProgressSink, RetryPolicy, copy_migration,
};
use crate::exec::ledger::Ledger;
use crate::exec::memory_ledger::MemoryLedger;

/// The files of every test: small enough to be batched, and with one transfer all three go to
/// one batch, in this order.
const NAMES: [&str; 3] = ["a", "b", "c"];

/// A source holding `NAMES` under `data/`, an empty target and an empty ledger.
struct Fixture {
    source: TempDir,
    target: TempDir,
    ledger: Arc<MemoryLedger>,
}

impl Fixture {
    fn new() -> Self {
        let source = TempDir::new().unwrap();
        for (seed, name) in NAMES.iter().enumerate() {
            let content = pattern(4096 * (seed + 1), seed as u8);
            write_file(
                source.path(),
                &format!("data/{name}"),
                &content,
                0o644,
                1_650_000_000,
            );
        }
        Self {
            source,
            target: TempDir::new().unwrap(),
            ledger: Arc::new(MemoryLedger::new()),
        }
    }

    fn source_file(&self, name: &str) -> std::path::PathBuf {
        self.source.path().join("data").join(name)
    }

    fn target_file(&self, name: &str) -> std::path::PathBuf {
        self.target.path().join("data").join(name)
    }

    /// One run with one transfer and `retries` retries, reporting to `progress`.
    async fn run(
        &self,
        retries: u32,
        progress: &ProgressSink,
        cancel: &CancellationToken,
    ) -> Result<CopyOutcome, CopyError> {
        let options = CopyOptions {
            transfers: 1,
            retry: RetryPolicy {
                retries,
                ..options().retry
            },
            ..options()
        };
        copy_migration(
            "web-01",
            local(self.source.path()),
            local(self.target.path()),
            &[job("data")],
            &*self.ledger,
            &options,
            progress,
            cancel,
        )
        .await
    }

    fn recorded(&self) -> Vec<String> {
        let mut paths: Vec<String> = (self.ledger.files("web-01").unwrap().into_iter())
            .map(|record| record.path)
            .collect();
        paths.sort();
        paths
    }

    fn claimed(&self) -> Vec<String> {
        let mut paths: Vec<String> = (self.ledger.partials("web-01").unwrap().into_iter())
            .map(|record| record.path)
            .collect();
        paths.sort();
        paths
    }
}

/// A sink that runs `change` once, on the first chunk transferred (on the copying thread, after
/// the first file's bytes were written and before the next file of its batch starts).
fn on_first_chunk(change: impl Fn() + Send + Sync + 'static) -> ProgressSink {
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
async fn a_failure_in_the_middle_of_a_batch_fails_only_that_file() {
    let fixture = Fixture::new();
    let middle = fixture.source_file("b");
    // Once `a` is written, `b` becomes a folder: its copy fails, `a` and `c` are unaffected.
    let sink = on_first_chunk(move || {
        fs::remove_file(&middle).unwrap();
        fs::create_dir(&middle).unwrap();
    });
    let result = fixture.run(0, &sink, &CancellationToken::new()).await;
    let Err(CopyError::FilesFailed { failed, total, .. }) = &result else {
        panic!("{result:?}")
    };
    assert_eq!(*total, 1);
    assert_eq!(failed[0].path, "data/b");
    for name in ["a", "c"] {
        assert_eq!(
            fs::read(fixture.target_file(name)).unwrap(),
            fs::read(fixture.source_file(name)).unwrap()
        );
    }
    assert!(!fixture.target_file("b").exists());
    assert_eq!(fixture.recorded(), ["data/a", "data/c"]);
    // The failed file keeps its claim: whatever it left is ferry's to clean up.
    assert_eq!(fixture.claimed(), ["data/b"]);
}

#[tokio::test]
async fn a_file_changed_before_its_turn_in_a_batch_is_retried_alone_as_it_is_now() {
    let fixture = Fixture::new();
    let middle = fixture.source_file("b");
    let changed = pattern(5000, 99);
    let new_content = changed.clone();
    let sink = on_first_chunk(move || fs::write(&middle, &new_content).unwrap());
    let outcome = fixture
        .run(3, &sink, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(outcome.mounts[0].files_copied, 3);
    assert_eq!(fs::read(fixture.target_file("b")).unwrap(), changed);
    let records = fixture.ledger.files("web-01").unwrap();
    let record = records
        .iter()
        .find(|record| record.path == "data/b")
        .unwrap();
    assert_eq!(record.size, 5000);
    assert_eq!(record.blake3, blake3::hash(&changed).to_hex().to_string());
    assert!(fixture.claimed().is_empty());
}

#[tokio::test]
async fn cancelling_stops_a_batch_between_its_files() {
    let fixture = Fixture::new();
    let cancel = CancellationToken::new();
    let cancelling = cancel.clone();
    let sink = on_first_chunk(move || cancelling.cancel());
    let result = fixture.run(3, &sink, &cancel).await;
    assert!(
        matches!(result, Err(CopyError::Interrupted { .. })),
        "{result:?}"
    );
    // The file being copied finishes and is recorded; the others are not started.
    assert_eq!(
        fs::read(fixture.target_file("a")).unwrap(),
        fs::read(fixture.source_file("a")).unwrap()
    );
    assert_eq!(fixture.recorded(), ["data/a"]);
    let left: Vec<_> = fs::read_dir(fixture.target.path().join("data"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(left, ["a"], "no other file, no temporary");
    assert_eq!(fixture.claimed(), ["data/b", "data/c"]);
    // The next run copies the rest.
    let outcome = fixture
        .run(3, &ProgressSink::none(), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(outcome.mounts[0].files_copied, 2);
    assert_eq!(fixture.recorded(), ["data/a", "data/b", "data/c"]);
}

#[tokio::test]
async fn every_file_of_a_batch_is_claimed_before_its_first_byte() {
    let fixture = Fixture::new();
    let ledger = Arc::clone(&fixture.ledger);
    let claimed_at_each_chunk = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&claimed_at_each_chunk);
    let sink = ProgressSink::new(move |event| {
        if let ProgressEvent::Transferred { .. } = event {
            let claims = ledger.partials("web-01").unwrap().into_iter();
            let records = ledger.files("web-01").unwrap().into_iter();
            let paths: BTreeSet<String> = claims
                .map(|claim| claim.path)
                .chain(records.map(|record| record.path))
                .collect();
            seen.lock().unwrap().push(paths.len());
        }
    });
    fixture
        .run(0, &sink, &CancellationToken::new())
        .await
        .unwrap();
    // Every chunk of every file was written while all three files were claimed (or recorded).
    assert_eq!(*claimed_at_each_chunk.lock().unwrap(), [3, 3, 3]);
    assert_eq!(fixture.recorded(), ["data/a", "data/b", "data/c"]);
    assert!(fixture.claimed().is_empty());
}
