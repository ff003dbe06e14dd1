//! Lock refusal, dead-holder takeover, heartbeats and recovery of interrupted migrations.

use jiff::{SignedDuration, Timestamp};

use crate::state::{MigrationState, StateError};

use super::{Factory, behaviour};

behaviour!(
    a_live_lock_is_refused_and_released_on_drop,
    a_dead_owners_lock_on_this_host_is_taken_over,
    another_hosts_lock_is_taken_over_only_when_its_heartbeat_is_stale,
    heartbeat_refreshes_the_lock,
    a_running_migration_without_a_live_lock_becomes_a_retryable_error,
    a_running_migration_with_a_live_lock_is_left_alone,
);

/// The pid of a process that has exited (and been reaped).
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let pid = child.id();
    child.wait().expect("wait");
    pid
}

fn this_host() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

async fn a_live_lock_is_refused_and_released_on_drop(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    let guard = store
        .acquire_lock("web-01", "ferry run")
        .await
        .expect("first");
    assert!(guard.taken_over().is_none());
    assert_eq!(guard.info().pid, std::process::id());
    let Err(error) = store.acquire_lock("web-01", "ferry run").await else {
        panic!("a held lock was acquired again");
    };
    match &error {
        StateError::Locked { pid, owner, .. } => {
            assert_eq!(*pid, std::process::id());
            assert_eq!(owner, "ferry run");
        }
        other => panic!("unexpected {other}"),
    }
    drop(guard);
    assert!(store.lock("web-01").await.expect("read").is_none());
    let again = store
        .acquire_lock("web-01", "ferry run")
        .await
        .expect("after release");
    again.release().await.expect("release");
    assert!(store.lock("web-01").await.expect("read").is_none());
}

async fn a_dead_owners_lock_on_this_host_is_taken_over(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    let pid = dead_pid();
    state.insert_lock(&this_host(), pid, Timestamp::now()).await;
    let guard = store
        .acquire_lock("web-01", "ferry run")
        .await
        .expect("takeover");
    let taken = guard.taken_over().expect("reported");
    assert_eq!(taken.previous.pid, pid);
    assert_eq!(taken.previous.owner, "ferry run (old)");
    assert_eq!(
        store.lock("web-01").await.expect("read").expect("held").pid,
        std::process::id()
    );
}

async fn another_hosts_lock_is_taken_over_only_when_its_heartbeat_is_stale(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    state
        .insert_lock("elsewhere.invalid", 1, Timestamp::now())
        .await;
    assert!(matches!(
        store.acquire_lock("web-01", "ferry run").await,
        Err(StateError::Locked { .. })
    ));
    state.clear_locks().await;
    let old = Timestamp::now() - SignedDuration::from_secs(600);
    state.insert_lock("elsewhere.invalid", 1, old).await;
    let guard = store
        .acquire_lock("web-01", "ferry run")
        .await
        .expect("takeover");
    assert_eq!(
        guard.taken_over().map(|taken| taken.previous.host.as_str()),
        Some("elsewhere.invalid")
    );
}

async fn heartbeat_refreshes_the_lock(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    let mut guard = store
        .acquire_lock("web-01", "ferry run")
        .await
        .expect("lock");
    let before = store
        .lock("web-01")
        .await
        .expect("read")
        .expect("held")
        .heartbeat_at;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    guard.heartbeat().await.expect("heartbeat");
    let after = store
        .lock("web-01")
        .await
        .expect("read")
        .expect("held")
        .heartbeat_at;
    assert!(after > before);
    assert_eq!(guard.info().heartbeat_at, after);
}

async fn a_running_migration_without_a_live_lock_becomes_a_retryable_error(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    store
        .set_migration_state("web-01", MigrationState::Running, None)
        .await
        .expect("running");
    state
        .insert_lock(&this_host(), dead_pid(), Timestamp::now())
        .await;
    assert_eq!(
        store.recover_stale_running().await.expect("recover"),
        vec!["web-01".to_string()]
    );
    let record = store.migration("web-01").await.expect("read");
    assert_eq!(record.state, MigrationState::Error);
    assert_eq!(
        record.last_error.as_deref(),
        Some("interrupted: ferry was stopped while this migration ran")
    );
    assert_eq!(record.error_retryable, Some(true));
    assert!(store.lock("web-01").await.expect("read").is_none());
}

async fn a_running_migration_with_a_live_lock_is_left_alone(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    let _guard = store
        .acquire_lock("web-01", "ferry run")
        .await
        .expect("lock");
    store
        .set_migration_state("web-01", MigrationState::Running, None)
        .await
        .expect("running");
    assert!(
        store
            .recover_stale_running()
            .await
            .expect("recover")
            .is_empty()
    );
    assert_eq!(
        store.migration("web-01").await.expect("read").state,
        MigrationState::Running
    );
}
