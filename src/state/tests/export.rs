//! Export → import round trips, and refusals that leave the state untouched.

use crate::state::ledger::{FileRecord, Ledger, PartialRecord};
use crate::state::{
    ImportMode, MigrationState, MigrationStats, STATE_EXPORT_VERSION, StateError, StorageRecord,
};

use super::{ip, store_with_migration, temporary_store};

fn populated() -> (tempfile::TempDir, crate::state::Store) {
    let (folder, store) = store_with_migration();
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
        .expect("finish");
    (folder, store)
}

#[test]
fn export_then_import_into_an_empty_store_reproduces_everything() {
    let (_folder, store) = populated();
    let export = store.export().expect("export");
    assert_eq!(export.version, STATE_EXPORT_VERSION);
    let json = serde_json::to_string_pretty(&export).expect("json");
    assert!(json.contains("\"version\": 1"));
    assert!(!json.to_lowercase().contains("password"));

    let (_other_folder, other) = temporary_store();
    let parsed = serde_json::from_str(&json).expect("parse");
    let summary = other.import(&parsed, ImportMode::Merge).expect("import");
    assert_eq!(
        (
            summary.sources,
            summary.targets,
            summary.migrations,
            summary.files
        ),
        (1, 1, 1, 1)
    );
    let again = other.export().expect("export again");
    assert_eq!(again.sources, export.sources);
    assert_eq!(again.targets, export.targets);
    assert_eq!(again.migrations, export.migrations);
}

#[test]
fn an_import_that_changes_a_recorded_ip_is_refused_whole() {
    let (_folder, store) = populated();
    let mut export = store.export().expect("export");
    export.sources[0].ip = "192.0.2.77".to_string();
    export.targets[0].vm_ip = "203.0.113.1".to_string();
    let before = store.export().expect("before");
    let error = store
        .import(&export, ImportMode::Merge)
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
    let after = store.export().expect("after");
    assert_eq!(after.targets, before.targets);
    assert_eq!(after.sources, before.sources);
}

#[test]
fn an_import_failing_half_way_applies_nothing() {
    let (_folder, store) = temporary_store();
    store
        .record_source("db-01", ip("192.0.2.20"), None, None)
        .expect("source");
    let (_other_folder, other) = populated();
    let mut export = other.export().expect("export");
    // A second source with db-01's IP: the unique constraint fails after web-01 went in.
    let mut clash = export.sources[0].clone();
    clash.name = "zz-clash".to_string();
    clash.ip = "192.0.2.20".to_string();
    export.sources.push(clash);
    let error = store
        .import(&export, ImportMode::Merge)
        .expect_err("refused");
    assert!(matches!(error, StateError::ImportInvalid { .. }), "{error}");
    assert!(store.find_source("web-01").expect("read").is_none());
    assert!(store.migrations().expect("read").is_empty());
}

#[test]
fn replace_mode_forgets_what_the_export_lacks() {
    let (_folder, store) = populated();
    store
        .record_source("db-01", ip("192.0.2.20"), None, None)
        .expect("source");
    let (_other_folder, other) = populated();
    let export = other.export().expect("export");
    store.import(&export, ImportMode::Replace).expect("replace");
    assert!(store.find_source("db-01").expect("read").is_none());
    assert_eq!(store.files("web-01").expect("files").len(), 1);
}

#[test]
fn an_unknown_export_version_is_refused() {
    let (_folder, store) = populated();
    let mut export = store.export().expect("export");
    export.version = 99;
    assert!(matches!(
        store.import(&export, ImportMode::Merge),
        Err(StateError::UnsupportedExport { found: 99, .. })
    ));
}

#[test]
fn importing_an_export_into_the_state_it_came_from_changes_nothing() {
    let (_folder, store) = populated();
    let export = store.export().expect("export");
    let summary = store.import(&export, ImportMode::Merge).expect("import");
    assert_eq!(
        (summary.sources, summary.targets, summary.migrations),
        (1, 1, 1)
    );
    let again = store.export().expect("export again");
    assert_eq!(again.sources, export.sources);
    assert_eq!(again.targets, export.targets);
    assert_eq!(again.migrations, export.migrations);
}

#[test]
fn an_overlapping_import_replaces_objects_of_the_same_name_and_keeps_the_rest() {
    let (_folder, store) = populated();
    store
        .record_source("db-01", ip("192.0.2.20"), None, None)
        .expect("source");
    let mut export = store.export().expect("export");
    export.sources.retain(|source| source.name == "web-01");
    // The export's target changed its VM address and username; its migration has other files.
    export.targets[0].vm_ip = "198.51.100.99".to_string();
    export.targets[0].vm_username = Some("root".to_string());
    export.migrations[0].copied_files[0].path = "C/other.ini".to_string();
    export.migrations[0].partial_copies.clear();
    store.import(&export, ImportMode::Merge).expect("merge");

    let after = store.export().expect("after");
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

#[test]
fn file_records_that_could_leave_the_target_are_refused_and_nothing_is_imported() {
    for bad in ["../etc/passwd", "/etc/passwd", "C/../../x", "C//x", ""] {
        let (_folder, store) = temporary_store();
        let (_other_folder, other) = populated();
        let mut export = other.export().expect("export");
        export.migrations[0].copied_files[0].path = bad.to_string();
        let error = store
            .import(&export, ImportMode::Merge)
            .expect_err("refused");
        assert!(
            matches!(error, StateError::ImportInvalid { .. }),
            "{bad}: {error}"
        );
        assert!(error.to_string().contains("not a relative path"), "{error}");
        assert!(store.migrations().expect("read").is_empty(), "{bad}");

        let mut export = other.export().expect("export");
        export.migrations[0].partial_copies[0].temporary_path = bad.to_string();
        assert!(
            store.import(&export, ImportMode::Merge).is_err(),
            "{bad} as a temporary path"
        );
    }
}
