//! Lock refusal, dead-owner takeover and recovery of interrupted migrations.

use jiff::{SignedDuration, Timestamp};
use rusqlite::params;

use crate::state::{MigrationState, StateError, Store};

use super::store_with_migration;

/// The pid of a process that has exited (and been reaped).
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let pid = child.id();
    child.wait().expect("wait");
    pid
}

fn insert_lock(store: &Store, host: &str, pid: u32, heartbeat: Timestamp) {
    store
        .connection()
        .execute(
            "INSERT INTO locks (migration, owner, host, pid, heartbeat_at, acquired_at)
             VALUES ('web-01', 'ferry run (old)', ?1, ?2, ?3, ?3)",
            params![host, pid, heartbeat.to_string()],
        )
        .expect("insert lock");
}

fn this_host() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

#[test]
fn a_live_lock_is_refused_and_released_on_drop() {
    let (_folder, store) = store_with_migration();
    let guard = store.acquire_lock("web-01", "ferry run").expect("first");
    assert!(guard.taken_over().is_none());
    assert_eq!(guard.info().pid, std::process::id());
    let error = store.acquire_lock("web-01", "ferry run").expect_err("held");
    match &error {
        StateError::Locked { pid, owner, .. } => {
            assert_eq!(*pid, std::process::id());
            assert_eq!(owner, "ferry run");
        }
        other => panic!("unexpected {other}"),
    }
    drop(guard);
    assert!(store.lock("web-01").expect("read").is_none());
    let again = store
        .acquire_lock("web-01", "ferry run")
        .expect("after release");
    again.release().expect("release");
    assert!(store.lock("web-01").expect("read").is_none());
}

#[test]
fn a_dead_owners_lock_on_this_host_is_taken_over() {
    let (_folder, store) = store_with_migration();
    let pid = dead_pid();
    insert_lock(&store, &this_host(), pid, Timestamp::now());
    let guard = store.acquire_lock("web-01", "ferry run").expect("takeover");
    let taken = guard.taken_over().expect("reported");
    assert_eq!(taken.previous.pid, pid);
    assert_eq!(taken.previous.owner, "ferry run (old)");
    assert_eq!(
        store.lock("web-01").expect("read").expect("held").pid,
        std::process::id()
    );
}

#[test]
fn another_hosts_lock_is_taken_over_only_when_its_heartbeat_is_stale() {
    let (_folder, store) = store_with_migration();
    insert_lock(&store, "elsewhere.invalid", 1, Timestamp::now());
    assert!(matches!(
        store.acquire_lock("web-01", "ferry run"),
        Err(StateError::Locked { .. })
    ));
    store
        .connection()
        .execute("DELETE FROM locks", [])
        .expect("clear");
    let old = Timestamp::now() - SignedDuration::from_secs(600);
    insert_lock(&store, "elsewhere.invalid", 1, old);
    let guard = store.acquire_lock("web-01", "ferry run").expect("takeover");
    assert_eq!(
        guard.taken_over().map(|taken| taken.previous.host.as_str()),
        Some("elsewhere.invalid")
    );
}

#[test]
fn heartbeat_refreshes_the_row() {
    let (_folder, store) = store_with_migration();
    let mut guard = store.acquire_lock("web-01", "ferry run").expect("lock");
    let before = store
        .lock("web-01")
        .expect("read")
        .expect("held")
        .heartbeat_at;
    std::thread::sleep(std::time::Duration::from_millis(5));
    guard.heartbeat().expect("heartbeat");
    let after = store
        .lock("web-01")
        .expect("read")
        .expect("held")
        .heartbeat_at;
    assert!(after > before);
}

#[test]
fn a_running_migration_without_a_live_lock_becomes_a_retryable_error() {
    let (_folder, store) = store_with_migration();
    store
        .set_migration_state("web-01", MigrationState::Running, None)
        .expect("running");
    insert_lock(&store, &this_host(), dead_pid(), Timestamp::now());
    assert_eq!(
        store.recover_stale_running().expect("recover"),
        vec!["web-01".to_string()]
    );
    let record = store.migration("web-01").expect("read");
    assert_eq!(record.state, MigrationState::Error);
    assert_eq!(
        record.last_error.as_deref(),
        Some("interrupted: ferry was stopped while this migration ran")
    );
    assert_eq!(record.error_retryable, Some(true));
    assert!(store.lock("web-01").expect("read").is_none());
}

#[test]
fn a_running_migration_with_a_live_lock_is_left_alone() {
    let (_folder, store) = store_with_migration();
    let _guard = store.acquire_lock("web-01", "ferry run").expect("lock");
    store
        .set_migration_state("web-01", MigrationState::Running, None)
        .expect("running");
    assert!(store.recover_stale_running().expect("recover").is_empty());
    assert_eq!(
        store.migration("web-01").expect("read").state,
        MigrationState::Running
    );
}
