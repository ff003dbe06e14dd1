//! The runner's own mechanics against a real state file: the lock heartbeat while work runs.

use std::time::Duration;

use super::migration::with_heartbeat;
use crate::state::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_heartbeat_is_refreshed_while_the_work_runs() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(&directory.path().join("state.db")).expect("state");
    let mut lock = store.acquire_lock("web-01", "test").expect("lock");
    let acquired = lock.info().heartbeat_at;
    let mut beats = 0;
    let result = with_heartbeat(&mut lock, Duration::from_millis(20), || beats += 1, async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        42
    })
    .await;
    assert_eq!(result, 42);
    assert!(beats >= 2, "{beats} beats");
    let recorded = store.lock("web-01").expect("read").expect("still locked");
    assert!(
        recorded.heartbeat_at > acquired,
        "{recorded:?} after {acquired}"
    );
    lock.release().expect("release");
    assert!(store.lock("web-01").expect("read").is_none());
}
