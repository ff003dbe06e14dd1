//! Export → import round trips, and refusals that leave the state untouched.

use crate::state::ledger::{FileRecord, PartialRecord};
use crate::state::{
    ImportMode, MigrationState, MigrationStats, STATE_EXPORT_VERSION, StateError, StorageRecord,
};

use super::{Factory, TestState, behaviour, ip};

behaviour!(
    state_moves_from_sqlite_and_back_whole,
    export_then_import_into_an_empty_store_reproduces_everything,
    an_import_that_changes_a_recorded_ip_is_refused_whole,
    an_import_failing_half_way_applies_nothing,
    replace_mode_forgets_what_the_export_lacks,
    an_unknown_export_version_is_refused,
    importing_an_export_into_the_state_it_came_from_changes_nothing,
    an_overlapping_import_replaces_objects_of_the_same_name_and_keeps_the_rest,
    file_records_that_could_leave_the_target_are_refused_and_nothing_is_imported,
);

async fn populated(factory: &Factory) -> TestState {
    let state = factory.with_migration().await;
    let store = &state.store;
    store
        .record_files(
            "web-01",
            &[FileRecord {
                path: "C/win.ini".to_string(),
                size: 92,
                modified_nanos: Some(1),
                blake3: "ab".repeat(32),
            }],
        )
        .expect("files");
    store
        .record_partial(
            "web-01",
            &PartialRecord {
                path: "D/big".to_string(),
                temporary_path: "D/.big.partial".to_string(),
                source_size: 10,
                source_modified_nanos: None,
            },
        )
        .expect("partial");
    store
        .set_migration_state("web-01", MigrationState::Running, None)
        .await
        .expect("running");
    store
        .finish_migration(
            "web-01",
            &MigrationStats {
                files: 1,
                bytes: 92,
                ..MigrationStats::default()
            },
            &["D/gone".to_string()],
            &[StorageRecord {
                mount: "C:\\".to_string(),
                size: 1 << 30,
            }],
        )
        .await
        .expect("finish");
    state
}

async fn export_then_import_into_an_empty_store_reproduces_everything(factory: &Factory) {
    let state = populated(factory).await;
    let store = &state.store;
    let export = store.export().await.expect("export");
    assert_eq!(export.version, STATE_EXPORT_VERSION);
    let json = serde_json::to_string_pretty(&export).expect("json");
    assert!(json.contains("\"version\": 1"));
    assert!(!json.to_lowercase().contains("password"));

    let other_state = factory.open().await;
    let other = &other_state.store;
    let parsed = serde_json::from_str(&json).expect("parse");
    let summary = other
        .import(&parsed, ImportMode::Merge)
        .await
        .expect("import");
    assert_eq!(
        (
            summary.sources,
            summary.targets,
            summary.migrations,
            summary.files
        ),
        (1, 1, 1, 1)
    );
    let again = other.export().await.expect("export again");
    assert_eq!(again.sources, export.sources);
    assert_eq!(again.targets, export.targets);
    assert_eq!(again.migrations, export.migrations);
}

async fn an_import_that_changes_a_recorded_ip_is_refused_whole(factory: &Factory) {
    let state = populated(factory).await;
    let store = &state.store;
    let mut export = store.export().await.expect("export");
    export.sources[0].ip = "192.0.2.77".to_string();
    export.targets[0].vm_ip = "203.0.113.1".to_string();
    let before = store.export().await.expect("before");
    let error = store
        .import(&export, ImportMode::Merge)
        .await
        .expect_err("refused");
    match &error {
        StateError::ImportWouldChangeIp { changes } => {
            assert_eq!(changes.len(), 1);
            assert_eq!(changes[0].source, "web-01");
            assert_eq!(changes[0].recorded, "192.0.2.10");
        }
        other => panic!("unexpected {other}"),
    }
    assert!(
        error
            .to_string()
            .contains("web-01 (recorded 192.0.2.10, import has 192.0.2.77)")
    );
    let after = store.export().await.expect("after");
    assert_eq!(after.targets, before.targets);
    assert_eq!(after.sources, before.sources);
}

async fn an_import_failing_half_way_applies_nothing(factory: &Factory) {
    let state = factory.open().await;
    let store = &state.store;
    store
        .record_source("db-01", ip("192.0.2.20"), None, None)
        .await
        .expect("source");
    let other_state = populated(factory).await;
    let other = &other_state.store;
    let mut export = other.export().await.expect("export");
    // A second source with db-01's IP: the unique constraint fails after web-01 went in.
    let mut clash = export.sources[0].clone();
    clash.name = "zz-clash".to_string();
    clash.ip = "192.0.2.20".to_string();
    export.sources.push(clash);
    let error = store
        .import(&export, ImportMode::Merge)
        .await
        .expect_err("refused");
    assert!(matches!(error, StateError::ImportInvalid { .. }), "{error}");
    assert!(store.find_source("web-01").await.expect("read").is_none());
    assert!(store.migrations().await.expect("read").is_empty());
}

async fn replace_mode_forgets_what_the_export_lacks(factory: &Factory) {
    let state = populated(factory).await;
    let store = &state.store;
    store
        .record_source("db-01", ip("192.0.2.20"), None, None)
        .await
        .expect("source");
    let other_state = populated(factory).await;
    let other = &other_state.store;
    let export = other.export().await.expect("export");
    store
        .import(&export, ImportMode::Replace)
        .await
        .expect("replace");
    assert!(store.find_source("db-01").await.expect("read").is_none());
    assert_eq!(store.files("web-01").expect("files").len(), 1);
}

async fn an_unknown_export_version_is_refused(factory: &Factory) {
    let state = populated(factory).await;
    let store = &state.store;
    let mut export = store.export().await.expect("export");
    export.version = 99;
    assert!(matches!(
        store.import(&export, ImportMode::Merge).await,
        Err(StateError::UnsupportedExport { found: 99, .. })
    ));
}

async fn importing_an_export_into_the_state_it_came_from_changes_nothing(factory: &Factory) {
    let state = populated(factory).await;
    let store = &state.store;
    let export = store.export().await.expect("export");
    let summary = store
        .import(&export, ImportMode::Merge)
        .await
        .expect("import");
    assert_eq!(
        (summary.sources, summary.targets, summary.migrations),
        (1, 1, 1)
    );
    let again = store.export().await.expect("export again");
    assert_eq!(again.sources, export.sources);
    assert_eq!(again.targets, export.targets);
    assert_eq!(again.migrations, export.migrations);
}

async fn an_overlapping_import_replaces_objects_of_the_same_name_and_keeps_the_rest(
    factory: &Factory,
) {
    let state = populated(factory).await;
    let store = &state.store;
    store
        .record_source("db-01", ip("192.0.2.20"), None, None)
        .await
        .expect("source");
    let mut export = store.export().await.expect("export");
    export.sources.retain(|source| source.name == "web-01");
    // The export's target changed its VM address and username; its migration has other files.
    export.targets[0].vm_ip = "198.51.100.99".to_string();
    export.targets[0].vm_username = Some("root".to_string());
    export.migrations[0].copied_files[0].path = "C/other.ini".to_string();
    export.migrations[0].partial_copies.clear();
    store
        .import(&export, ImportMode::Merge)
        .await
        .expect("merge");

    let after = store.export().await.expect("after");
    assert!(after.sources.iter().any(|source| source.name == "db-01"));
    assert_eq!(after.targets, export.targets);
    assert_eq!(after.migrations, export.migrations);
    let paths: Vec<String> = store
        .files("web-01")
        .expect("files")
        .into_iter()
        .map(|file| file.path)
        .collect();
    assert_eq!(paths, ["C/other.ini"]);
    assert!(store.partials("web-01").expect("partials").is_empty());
}

async fn file_records_that_could_leave_the_target_are_refused_and_nothing_is_imported(
    factory: &Factory,
) {
    for bad in ["../etc/passwd", "/etc/passwd", "C/../../x", "C//x", ""] {
        let state = factory.open().await;
        let store = &state.store;
        let other_state = populated(factory).await;
        let other = &other_state.store;
        let mut export = other.export().await.expect("export");
        export.migrations[0].copied_files[0].path = bad.to_string();
        let error = store
            .import(&export, ImportMode::Merge)
            .await
            .expect_err("refused");
        assert!(
            matches!(error, StateError::ImportInvalid { .. }),
            "{bad}: {error}"
        );
        assert!(error.to_string().contains("not a relative path"), "{error}");
        assert!(store.migrations().await.expect("read").is_empty(), "{bad}");

        let mut export = other.export().await.expect("export");
        export.migrations[0].partial_copies[0].temporary_path = bad.to_string();
        assert!(
            store.import(&export, ImportMode::Merge).await.is_err(),
            "{bad} as a temporary path"
        );
    }
}

/// The times of an export, in order, and the export with them all set to the epoch.
fn without_times(mut export: crate::state::StateExport) -> (Vec<jiff::Timestamp>, String) {
    use jiff::Timestamp;
    let mut times = Vec::new();
    let mut take =
        |time: &mut Timestamp| times.push(std::mem::replace(time, Timestamp::UNIX_EPOCH));
    for source in &mut export.sources {
        take(&mut source.recorded_at);
        take(&mut source.updated_at);
    }
    for target in &mut export.targets {
        take(&mut target.recorded_at);
        take(&mut target.updated_at);
    }
    for migration in &mut export.migrations {
        let record = &mut migration.record;
        take(&mut record.created_at);
        take(&mut record.updated_at);
        record.started_at.iter_mut().for_each(&mut take);
        record.finished_at.iter_mut().for_each(&mut take);
    }
    export.exported_at = Timestamp::UNIX_EPOCH;
    (times, serde_json::to_string_pretty(&export).expect("json"))
}

/// `ferry state export` from SQLite, `ferry state import` into this backend, and back: the
/// same state each way (times to the microsecond, which PostgreSQL keeps).
async fn state_moves_from_sqlite_and_back_whole(factory: &Factory) {
    let sqlite = populated(&Factory::Sqlite).await;
    let original = sqlite.store.export().await.expect("export");
    let here = factory.open().await;
    here.store
        .import(&original, ImportMode::Replace)
        .await
        .expect("import here");
    let moved = here.store.export().await.expect("export here");
    let back = Factory::Sqlite.open().await;
    back.store
        .import(&moved, ImportMode::Replace)
        .await
        .expect("import back");
    let returned = back.store.export().await.expect("export back");

    let (original_times, original_rest) = without_times(original);
    let (moved_times, moved_rest) = without_times(moved.clone());
    assert_eq!(moved_rest, original_rest);
    assert_eq!(moved_times.len(), original_times.len());
    for (moved, original) in moved_times.iter().zip(&original_times) {
        let apart = moved.duration_since(*original).abs();
        assert!(
            apart < jiff::SignedDuration::from_micros(1),
            "{moved} vs {original}"
        );
    }
    let (returned_times, returned_rest) = without_times(returned);
    assert_eq!((returned_times, returned_rest), (moved_times, moved_rest));
}
