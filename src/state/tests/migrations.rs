//! The migration state machine, statistics, storage and the database's CHECK constraint.

use crate::state::{
    MigrationFailure, MigrationRecord, MigrationState, MigrationStats, StateError, StorageRecord,
};

use super::store_with_migration;

#[test]
fn states_round_trip_as_text() {
    for state in MigrationState::ALL {
        assert_eq!(state.as_str().parse::<MigrationState>().ok(), Some(state));
        let json = serde_json::to_string(&state).expect("json");
        assert_eq!(json, format!("\"{}\"", state.as_str()));
    }
    assert!("done".parse::<MigrationState>().is_err());
}

#[test]
fn the_database_refuses_an_unknown_state() {
    let (_folder, store) = store_with_migration();
    let error = store
        .connection()
        .execute(
            "UPDATE migrations SET state = 'paused' WHERE name = 'web-01'",
            [],
        )
        .expect_err("CHECK constraint");
    assert!(error.to_string().contains("CHECK"), "{error}");
    assert_eq!(
        store.migration("web-01").expect("read").state,
        MigrationState::NotStarted
    );
}

#[test]
fn a_migration_goes_through_running_error_running_success() {
    let (_folder, store) = store_with_migration();
    let fresh = store.migration("web-01").expect("read");
    assert_eq!(fresh.state, MigrationState::NotStarted);
    assert_eq!(fresh.attempts, 0);
    assert_eq!(fresh.mounts, vec!["C:\\".to_string(), "D:\\".to_string()]);

    let running = store
        .set_migration_state("web-01", MigrationState::Running, None)
        .expect("running");
    assert_eq!(running.attempts, 1);
    assert!(running.started_at.is_some() && running.finished_at.is_none());

    let failure = MigrationFailure {
        message: "connection reset by peer".to_string(),
        retryable: true,
    };
    let failed = store
        .set_migration_state("web-01", MigrationState::Error, Some(&failure))
        .expect("error");
    assert_eq!(
        failed.last_error.as_deref(),
        Some("connection reset by peer")
    );
    assert_eq!(failed.error_retryable, Some(true));
    assert!(failed.finished_at.is_some());

    store
        .set_migration_state("web-01", MigrationState::Running, None)
        .expect("again");
    let stats = MigrationStats {
        files: 10,
        bytes: 4096,
        skipped_files: 3,
        skipped_bytes: 1024,
    };
    let storage = vec![
        StorageRecord {
            mount: "C:\\".to_string(),
            size: 40 << 30,
        },
        StorageRecord {
            mount: "D:\\".to_string(),
            size: 100 << 30,
        },
    ];
    let done: MigrationRecord = store
        .finish_migration("web-01", &stats, &storage)
        .expect("success");
    assert_eq!(done.state, MigrationState::Success);
    assert_eq!(done.attempts, 2);
    assert_eq!(done.stats, stats);
    assert_eq!(done.last_error, None);
    assert_eq!(store.target_storage("web-01").expect("storage"), storage);
}

#[test]
fn redefining_a_migration_keeps_its_state() {
    let (_folder, store) = store_with_migration();
    store
        .set_migration_state("web-01", MigrationState::Running, None)
        .expect("running");
    let mut definition = crate::state::MigrationDefinition {
        name: "web-01".to_string(),
        source: "web-01".to_string(),
        target: "aws-web".to_string(),
        cloud: crate::plan::valid::Cloud::Aws,
        mounts: vec!["C:\\".to_string()],
    };
    let record = store.define_migration(&definition).expect("redefine");
    assert_eq!(record.state, MigrationState::Running);
    assert_eq!(record.mounts, vec!["C:\\".to_string()]);
    definition.source = "unknown".to_string();
    assert!(store.define_migration(&definition).is_err(), "foreign key");
}

#[test]
fn unknown_migrations_are_not_found() {
    let (_folder, store) = store_with_migration();
    assert!(matches!(
        store.set_migration_state("nope", MigrationState::Running, None),
        Err(StateError::NotFound {
            kind: "migration",
            ..
        })
    ));
    assert!(matches!(
        store.delete_migration("nope"),
        Err(StateError::NotFound { .. })
    ));
    store.delete_migration("web-01").expect("delete");
    assert!(store.migrations().expect("list").is_empty());
}
