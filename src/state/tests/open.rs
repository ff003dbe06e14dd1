//! Opening, creating, reopening and refusing files.

use std::os::unix::fs::PermissionsExt;

use crate::state::{SCHEMA_VERSION, StateError, Store};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn creates_the_file_and_its_folder_private_and_reopens_it() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join(".ferry/state.db");
    {
        let store = Store::open(&path).expect("create");
        store
            .record_source("web-01", super::ip("192.0.2.10"), None, None)
            .expect("record");
    }
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&folder.path().join(".ferry")), 0o700);
    let store = Store::open_existing(&path).expect("reopen");
    assert_eq!(store.source("web-01").expect("recorded").ip, "192.0.2.10");
    // The WAL and shared-memory files SQLite makes get the database file's mode.
    for suffix in ["-wal", "-shm"] {
        let side = folder.path().join(format!(".ferry/state.db{suffix}"));
        assert!(side.exists(), "{suffix} exists while the store is open");
        assert_eq!(mode(&side), 0o600, "{suffix}");
    }
    let version: i64 = store
        .connection()
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("version");
    assert_eq!(version, SCHEMA_VERSION);
    let journal: String = store
        .connection()
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .expect("journal mode");
    assert_eq!(journal, "wal");
}

#[test]
fn open_existing_refuses_a_missing_file_and_creates_nothing() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("absent.db");
    let error = Store::open_existing(&path).expect_err("missing");
    assert!(matches!(error, StateError::Missing { .. }), "{error}");
    assert!(!path.exists());
}

fn assert_refused_and_untouched(path: &std::path::Path) {
    let before = std::fs::read(path).expect("read");
    let modified = std::fs::metadata(path)
        .expect("metadata")
        .modified()
        .expect("mtime");
    let error = Store::open(path).expect_err("refused");
    assert!(
        matches!(error, StateError::NotFerryDatabase { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("not a ferry state database"),
        "{error}"
    );
    assert_eq!(std::fs::read(path).expect("read"), before);
    assert_eq!(
        std::fs::metadata(path)
            .expect("metadata")
            .modified()
            .expect("mtime"),
        modified
    );
    let wal = format!("{}-wal", path.display());
    assert!(!std::path::Path::new(&wal).exists());
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_not_modified() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("plan.yaml");
    std::fs::write(&path, "version: 1\nsources: {}\n".repeat(200)).expect("write");
    assert_refused_and_untouched(&path);
}

#[test]
fn a_corrupt_sqlite_file_is_refused_and_not_modified() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("state.db");
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend((0..8192u32).map(|index| (index.wrapping_mul(2_654_435_761) >> 13) as u8));
    std::fs::write(&path, &bytes).expect("write");
    assert_refused_and_untouched(&path);
}

#[test]
fn another_programs_sqlite_database_is_refused_and_not_modified() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("other.db");
    {
        let connection = rusqlite::Connection::open(&path).expect("create");
        connection
            .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me');")
            .expect("fill");
    }
    assert_refused_and_untouched(&path);
}

#[test]
fn a_database_from_a_newer_ferry_is_refused() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("state.db");
    drop(Store::open(&path).expect("create"));
    {
        let connection = rusqlite::Connection::open(&path).expect("open");
        connection
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .expect("bump");
    }
    let error = Store::open(&path).expect_err("too new");
    assert!(
        matches!(error, StateError::TooNew { found, .. } if found == SCHEMA_VERSION + 1),
        "{error}"
    );
    assert!(error.to_string().contains("upgrade ferry"));
}

#[test]
fn the_store_is_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Store>();
    let (_folder, store) = super::temporary_store();
    let handles: Vec<_> = (0..4)
        .map(|index| {
            let store = store.clone();
            std::thread::spawn(move || {
                store
                    .record_source(
                        &format!("s{index}"),
                        super::ip(&format!("192.0.2.{index}")),
                        None,
                        None,
                    )
                    .map(|_| ())
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("thread").expect("record");
    }
    assert_eq!(store.sources().expect("list").len(), 4);
}

#[test]
fn an_empty_state_file_is_refused_and_left_as_it_is() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("state.db");
    std::fs::write(&path, b"").expect("write");
    assert_refused_and_untouched(&path);
    let error = Store::open_existing(&path).expect_err("refused");
    assert!(error.to_string().contains("it is empty"), "{error}");
    assert!(Store::open_read_only(&path).is_err());
}

#[test]
fn a_new_state_file_is_never_empty_and_leaves_no_temporary_file_behind() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("nested/state.db");
    drop(Store::open(&path).expect("create"));
    assert!(std::fs::metadata(&path).expect("metadata").len() > 0);
    let names: Vec<String> = std::fs::read_dir(path.parent().expect("a folder"))
        .expect("list")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| !name.starts_with("state.db"))
        .collect();
    assert_eq!(names, Vec::<String>::new());
    // Reopening finds the schema the creation wrote.
    Store::open_existing(&path).expect("reopen");
}
