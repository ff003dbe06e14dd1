//! The migration state machine, statistics, storage, and recording a plan.

use crate::state::{
    MigrationDefinition, MigrationFailure, MigrationState, MigrationStats, StateError,
    StorageRecord,
};

use super::{Factory, behaviour};

behaviour!(
    a_migration_goes_through_running_error_running_success,
    redefining_a_migration_keeps_its_state,
    unknown_migrations_are_not_found,
    recording_a_plan_is_all_or_nothing_and_keeps_secrets_out,
    migrations_are_listed_in_the_order_first_recorded,
);

async fn a_migration_goes_through_running_error_running_success(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    let fresh = store.migration("web-01").await.expect("read");
    assert_eq!(fresh.state, MigrationState::NotStarted);
    assert_eq!(fresh.attempts, 0);
    assert_eq!(fresh.mounts, vec!["C:\\".to_string(), "D:\\".to_string()]);

    store
        .set_migration_state("web-01", MigrationState::Running, None)
        .await
        .expect("running");
    let running = store.migration("web-01").await.expect("read");
    assert_eq!(running.attempts, 1);
    assert!(running.started_at.is_some() && running.finished_at.is_none());

    let failure = MigrationFailure {
        message: "connection reset by peer".to_string(),
        retryable: true,
    };
    store
        .set_migration_state("web-01", MigrationState::Error, Some(&failure))
        .await
        .expect("error");
    let failed = store.migration("web-01").await.expect("read");
    assert_eq!(
        failed.last_error.as_deref(),
        Some("connection reset by peer")
    );
    assert_eq!(failed.error_retryable, Some(true));
    assert!(failed.finished_at.is_some());

    store
        .set_migration_state("web-01", MigrationState::Running, None)
        .await
        .expect("again");
    let stats = MigrationStats {
        files: 10,
        bytes: 4096,
        skipped_files: 3,
        skipped_bytes: 1024,
    };
    let storage = vec![
        StorageRecord {
            mount: "D:\\".to_string(),
            size: 100 << 30,
        },
        StorageRecord {
            mount: "C:\\".to_string(),
            size: 40 << 30,
        },
    ];
    let vanished = vec!["C/tmp/gone\nsoon".to_string(), "D/a".to_string()];
    store
        .finish_migration("web-01", &stats, &vanished, &storage)
        .await
        .expect("success");
    let done = store.migration("web-01").await.expect("read");
    assert_eq!(done.state, MigrationState::Success);
    assert_eq!(done.attempts, 2);
    assert_eq!(done.stats, stats);
    assert_eq!(done.vanished, vanished);
    assert_eq!(done.last_error, None);
    assert_eq!(
        store.target_storage("web-01").await.expect("storage"),
        storage,
        "in the order given"
    );
    // The next attempt starts with none: they belong to the attempt that saw them go.
    store
        .set_migration_state("web-01", MigrationState::Running, None)
        .await
        .expect("third attempt");
    let again = store.migration("web-01").await.expect("read");
    assert!(again.vanished.is_empty(), "{again:?}");
}

async fn redefining_a_migration_keeps_its_state(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    store
        .set_migration_state("web-01", MigrationState::Running, None)
        .await
        .expect("running");
    let before = store.migration("web-01").await.expect("read");
    let mut definition = MigrationDefinition {
        name: "web-01".to_string(),
        source: "web-01".to_string(),
        target: "aws-web".to_string(),
        cloud: crate::plan::valid::Cloud::Aws,
        mounts: vec!["C:\\".to_string(), "D:\\".to_string()],
    };
    let unchanged = store.define_migration(&definition).await.expect("same");
    assert_eq!(
        unchanged.updated_at, before.updated_at,
        "no change, no update"
    );
    definition.mounts = vec!["C:\\".to_string()];
    let record = store.define_migration(&definition).await.expect("redefine");
    assert_eq!(record.state, MigrationState::Running);
    assert_eq!(record.mounts, vec!["C:\\".to_string()]);
    definition.source = "unknown".to_string();
    assert!(
        store.define_migration(&definition).await.is_err(),
        "foreign key"
    );
}

async fn unknown_migrations_are_not_found(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    assert!(matches!(
        store
            .set_migration_state("nope", MigrationState::Running, None)
            .await,
        Err(StateError::NotFound {
            kind: "migration",
            ..
        })
    ));
    assert!(matches!(
        store.delete_migration("nope").await,
        Err(StateError::NotFound { .. })
    ));
    assert!(matches!(
        store.migration("nope").await,
        Err(StateError::NotFound { .. })
    ));
    store.delete_migration("web-01").await.expect("delete");
    assert!(store.migrations().await.expect("list").is_empty());
}

pub(super) fn plan(source_ip: &str) -> crate::plan::valid::ValidPlan {
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

async fn recording_a_plan_is_all_or_nothing_and_keeps_secrets_out(factory: &Factory) {
    let state = factory.open().await;
    let store = &state.store;
    let records = store
        .record_plan(&plan("192.0.2.10"))
        .await
        .expect("record");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].mounts, vec!["C:\\".to_string()]);
    assert_eq!(records[0].state, MigrationState::NotStarted);

    store
        .set_migration_state("web-01", MigrationState::Success, None)
        .await
        .expect("success");
    store.record_plan(&plan("192.0.2.10")).await.expect("again");
    assert_eq!(
        store.migration("web-01").await.expect("read").state,
        MigrationState::Success,
        "re-recording keeps the state"
    );

    let other_state = factory.open().await;
    let other = &other_state.store;
    other
        .record_source("web-01", super::ip("192.0.2.99"), None, None)
        .await
        .expect("source");
    let error = other
        .record_plan(&plan("192.0.2.10"))
        .await
        .expect_err("IP changed");
    assert!(matches!(error, StateError::IpImmutable { .. }), "{error}");
    assert!(
        other.targets().await.expect("read").is_empty(),
        "nothing half-recorded"
    );
    assert!(!state.stores_text("hunter2").await, "no secret is stored");
    assert!(state.stores_text("administrator").await, "the search works");
}

async fn migrations_are_listed_in_the_order_first_recorded(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    state.define_more(&["zeta", "alpha", "mid"]).await;
    let names: Vec<String> = store
        .migrations()
        .await
        .expect("list")
        .into_iter()
        .map(|record| record.name)
        .collect();
    assert_eq!(names, ["web-01", "zeta", "alpha", "mid"]);
}
