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
    let vanished = vec!["C/tmp/gone\nsoon".to_string(), "D/a".to_string()];
    let done: MigrationRecord = store
        .finish_migration("web-01", &stats, &vanished, &storage)
        .expect("success");
    assert_eq!(done.state, MigrationState::Success);
    assert_eq!(done.attempts, 2);
    assert_eq!(done.stats, stats);
    assert_eq!(done.vanished, vanished);
    assert_eq!(done.last_error, None);
    assert_eq!(store.target_storage("web-01").expect("storage"), storage);
    // The next attempt starts with none: they belong to the attempt that saw them go.
    let again = store
        .set_migration_state("web-01", MigrationState::Running, None)
        .expect("third attempt");
    assert!(again.vanished.is_empty(), "{again:?}");
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

fn plan(source_ip: &str) -> crate::plan::valid::ValidPlan {
    use crate::plan::valid::{
        Cloud, Credentials, Migration, MountName, OsFamily, SecretRef, SecretString, Spanned,
        Target, ValidPlan, Workload,
    };
    let workload = |name: &str, ip: &str| Workload {
        name: name.to_string(),
        ip: Spanned::unplaced(super::ip(ip)),
        credentials: Credentials {
            username: "administrator".to_string(),
            password: Spanned::unplaced(SecretRef::Plain(SecretString::new(
                "hunter2-secret".to_string(),
            ))),
            domain: None,
        },
        os: OsFamily::Windows,
        mounts: Vec::new(),
        connection: None,
    };
    ValidPlan {
        file: "plan.yaml".into(),
        base_dir: "/".into(),
        sources: [("web-01".to_string(), workload("web-01", source_ip))]
            .into_iter()
            .collect(),
        targets: [(
            "aws-web".to_string(),
            Target {
                name: "aws-web".to_string(),
                cloud: Cloud::Aws,
                credentials: workload("cloud", "192.0.2.1").credentials,
                vm: workload("vm", "198.51.100.5"),
            },
        )]
        .into_iter()
        .collect(),
        migrations: vec![Migration {
            name: "web-01".to_string(),
            source: "web-01".to_string(),
            target: "aws-web".to_string(),
            mounts: vec![MountName::new("C:\\")],
            wave: None,
            hooks: Default::default(),
        }],
        waves: Vec::new(),
    }
}

#[test]
fn recording_a_plan_is_all_or_nothing_and_keeps_secrets_out() {
    let (folder, store) = super::temporary_store();
    let records = store.record_plan(&plan("192.0.2.10")).expect("record");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].mounts, vec!["C:\\".to_string()]);
    assert_eq!(records[0].state, MigrationState::NotStarted);

    store
        .set_migration_state("web-01", MigrationState::Success, None)
        .expect("success");
    store.record_plan(&plan("192.0.2.10")).expect("again");
    assert_eq!(
        store.migration("web-01").expect("read").state,
        MigrationState::Success,
        "re-recording keeps the state"
    );

    let (_other_folder, other) = super::temporary_store();
    other
        .record_source("web-01", super::ip("192.0.2.99"), None, None)
        .expect("source");
    let error = other
        .record_plan(&plan("192.0.2.10"))
        .expect_err("IP changed");
    assert!(matches!(error, StateError::IpImmutable { .. }), "{error}");
    assert!(
        other.targets().expect("read").is_empty(),
        "nothing half-recorded"
    );

    drop(store);
    let bytes = std::fs::read(folder.path().join(".ferry/state.db")).expect("read");
    let wal = std::fs::read(folder.path().join(".ferry/state.db-wal")).unwrap_or_default();
    for haystack in [bytes, wal] {
        assert!(!haystack.windows(7).any(|window| window == b"hunter2"));
    }
}
