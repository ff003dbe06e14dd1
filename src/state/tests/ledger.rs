//! The store as the copy engine's ledger.

use crate::state::ledger::{FileRecord, Ledger, PartialRecord};

use super::store_with_migration;

fn file(index: usize) -> FileRecord {
    FileRecord {
        path: format!("C/data/file-{index:05}.bin"),
        size: index as u64 * 7,
        modified_nanos: if index.is_multiple_of(3) {
            None
        } else {
            Some(1_700_000_000_000_000_000 + index as i64)
        },
        blake3: format!("{index:064x}"),
    }
}

#[test]
fn files_round_trip_replace_and_forget() {
    let (_folder, store) = store_with_migration();
    let files: Vec<FileRecord> = (0..5).map(file).collect();
    store.record_files("web-01", &files).expect("record");
    assert_eq!(store.files("web-01").expect("read"), files);
    let mut changed = file(2);
    changed.size = 1;
    store
        .record_files("web-01", std::slice::from_ref(&changed))
        .expect("replace");
    store
        .forget_files("web-01", &[file(0).path, "C/never-recorded".to_string()])
        .expect("forget");
    let remaining = store.files("web-01").expect("read");
    assert_eq!(remaining.len(), 4);
    assert_eq!(remaining[1], changed);
    assert!(store.files("other").expect("read").is_empty());
}

#[test]
fn ten_thousand_records_are_written_in_one_batch() {
    let (_folder, store) = store_with_migration();
    let files: Vec<FileRecord> = (0..10_000).map(file).collect();
    store.record_files("web-01", &files).expect("record");
    assert_eq!(store.files("web-01").expect("read").len(), 10_000);
}

#[test]
fn partials_round_trip() {
    let (_folder, store) = store_with_migration();
    let partial = PartialRecord {
        path: "D/big.iso".to_string(),
        temporary_path: "D/.big.iso.ferry-partial".to_string(),
        source_size: 5 << 30,
        source_modified_nanos: Some(42),
    };
    store.record_partial("web-01", &partial).expect("record");
    assert_eq!(
        store.partials("web-01").expect("read"),
        vec![partial.clone()]
    );
    store
        .forget_partial("web-01", &partial.path)
        .expect("forget");
    assert!(store.partials("web-01").expect("read").is_empty());
}

#[test]
fn ledger_writes_survive_reopening_and_go_with_the_migration() {
    let (folder, store) = store_with_migration();
    store.record_files("web-01", &[file(1)]).expect("record");
    drop(store);
    let store =
        crate::state::Store::open_existing(&folder.path().join(".ferry/state.db")).expect("reopen");
    assert_eq!(store.files("web-01").expect("read"), vec![file(1)]);
    store.delete_migration("web-01").expect("delete");
    assert!(store.files("web-01").expect("read").is_empty());
}

#[test]
fn files_of_an_unrecorded_migration_are_refused() {
    let (_folder, store) = store_with_migration();
    let error = store
        .record_files("ghost", &[file(1)])
        .expect_err("foreign key");
    assert!(error.to_string().starts_with("state store:"), "{error}");
}
