//! The runner's own mechanics against a real state file: the lock heartbeat while work runs.

use std::time::Duration;

use super::claim::with_heartbeat;
use crate::state::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_heartbeat_is_refreshed_while_the_work_runs() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(&directory.path().join("state.db")).expect("state");
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
    let beating = with_heartbeat(
        &mut lock,
        Duration::from_millis(20),
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
