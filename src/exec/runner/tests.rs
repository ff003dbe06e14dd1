//! The runner's own mechanics against a real state file: the claim's heartbeat while work runs,
//! and the copy stopped when the claim is lost.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::claim::with_heartbeat;
use crate::plan::valid::Cloud;
use crate::state::{LockInfo, MigrationDefinition, MigrationLock, StateError, Store, TakenOver};

/// A state file with the migration `web-01` (a claim needs its migration).
fn store_with_migration(directory: &std::path::Path) -> Store {
    let store = Store::open(&directory.join("state.db")).expect("state");
    let ip = |text: &str| text.parse().expect("an IP");
    store
        .record_source("web-01", ip("192.0.2.10"), None, None)
        .expect("source");
    store
        .record_target("aws-web", Cloud::Aws, ip("198.51.100.5"), None, None)
        .expect("target");
    store
        .define_migration(&MigrationDefinition {
            name: "web-01".to_string(),
            source: "web-01".to_string(),
            target: "aws-web".to_string(),
            cloud: Cloud::Aws,
            mounts: vec!["C:\\".to_string()],
        })
        .expect("migration");
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_heartbeat_is_refreshed_while_the_work_runs() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let store = store_with_migration(directory.path());
    let mut lock = store.acquire_lock("web-01", "test").expect("lock");
    let acquired = lock.info().heartbeat_at;
    // The work ends once it has seen two beats: counted, not timed.
    let beats = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&beats);
    let seen = std::sync::Arc::clone(&beats);
    let work = async move {
        while seen.load(std::sync::atomic::Ordering::SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        42
    };
    let (lost, stop) = (CancellationToken::new(), CancellationToken::new());
    let beating = with_heartbeat(
        &mut lock,
        Duration::from_millis(20),
        Duration::from_secs(600),
        &lost,
        &stop,
        move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::future::ready(())
        },
        work,
    );
    let result = tokio::time::timeout(Duration::from_secs(600), beating)
        .await
        .expect("the heartbeat beats while the work runs");
    assert_eq!(result, 42);
    assert!(beats.load(std::sync::atomic::Ordering::SeqCst) >= 2);
    let recorded = store.lock("web-01").expect("read").expect("still locked");
    assert!(
        recorded.heartbeat_at > acquired,
        "{recorded:?} after {acquired}"
    );
    lock.release().expect("release");
    assert!(store.lock("web-01").expect("read").is_none());
}

/// Work that ends only when its stop token is cancelled.
async fn until_stopped(stop: CancellationToken) -> &'static str {
    stop.cancelled().await;
    "stopped"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_ended_by_someone_else_stops_the_work_at_the_next_heartbeat() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let store = store_with_migration(directory.path());
    let mut lock = store.acquire_lock("web-01", "test").expect("lock");
    // As a takeover does: the claim is no longer this process's.
    store
        .connection()
        .execute("DELETE FROM locks WHERE migration = 'web-01'", [])
        .expect("end the claim");
    let (lost, stop) = (CancellationToken::new(), CancellationToken::new());
    let beating = with_heartbeat(
        &mut lock,
        Duration::from_millis(20),
        Duration::from_secs(600),
        &lost,
        &stop,
        || std::future::ready(()),
        until_stopped(stop.clone()),
    );
    let result = tokio::time::timeout(Duration::from_secs(600), beating)
        .await
        .expect("the lost claim stops the work");
    assert_eq!(result, "stopped");
    assert!(lost.is_cancelled());
}

/// A claim whose store cannot be reached.
struct Unreachable(LockInfo);

#[async_trait::async_trait]
impl MigrationLock for Unreachable {
    fn info(&self) -> &LockInfo {
        &self.0
    }
    fn taken_over(&self) -> Option<&TakenOver> {
        None
    }
    async fn heartbeat(&mut self) -> Result<(), StateError> {
        Err(StateError::Corrupt {
            what: "the state store cannot be reached".to_string(),
        })
    }
    async fn release(self: Box<Self>) -> Result<(), StateError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_not_renewed_within_its_lease_stops_the_work() {
    let now = jiff::Timestamp::now();
    let mut lock = Unreachable(LockInfo {
        migration: "web-01".to_string(),
        owner: "test".to_string(),
        host: "here".to_string(),
        pid: 1,
        heartbeat_at: now,
        acquired_at: now,
    });
    let (lost, stop) = (CancellationToken::new(), CancellationToken::new());
    let beats = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&beats);
    let beating = with_heartbeat(
        &mut lock,
        Duration::from_millis(10),
        Duration::from_millis(50),
        &lost,
        &stop,
        move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::future::ready(())
        },
        until_stopped(stop.clone()),
    );
    let result = tokio::time::timeout(Duration::from_secs(600), beating)
        .await
        .expect("an unrenewed claim stops the work");
    assert_eq!(result, "stopped");
    assert!(lost.is_cancelled());
}
