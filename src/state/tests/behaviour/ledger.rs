//! The store as the copy engine's ledger.

use crate::state::ledger::{FileRecord, PartialRecord};

use super::{Factory, behaviour};

behaviour!(
    files_round_trip_replace_and_forget,
    ten_thousand_records_are_written_in_one_batch,
    partials_round_trip,
    ledger_writes_survive_reopening_and_go_with_the_migration,
    files_of_an_unrecorded_migration_are_refused,
    the_ledger_answers_from_blocking_threads,
);

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

async fn files_round_trip_replace_and_forget(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
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

async fn ten_thousand_records_are_written_in_one_batch(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    let files: Vec<FileRecord> = (0..10_000).map(file).collect();
    store.record_files("web-01", &files).expect("record");
    assert_eq!(store.files("web-01").expect("read").len(), 10_000);
    assert_eq!(
        store.ledger_counts("web-01").await.expect("counts"),
        (10_000, 0)
    );
}

async fn partials_round_trip(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
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
    let many: Vec<PartialRecord> = (0..3)
        .map(|index| PartialRecord {
            path: format!("C/{index}"),
            temporary_path: format!("C/.{index}.partial"),
            source_size: index,
            source_modified_nanos: None,
        })
        .collect();
    store.record_partials("web-01", &many).expect("record");
    assert_eq!(store.partials("web-01").expect("read"), many);
    assert_eq!(store.ledger_counts("web-01").await.expect("counts"), (0, 3));
    let paths: Vec<String> = many.iter().map(|partial| partial.path.clone()).collect();
    store.forget_partials("web-01", &paths).expect("forget");
    assert!(store.partials("web-01").expect("read").is_empty());
}

async fn ledger_writes_survive_reopening_and_go_with_the_migration(factory: &Factory) {
    let state = factory.with_migration().await;
    state
        .store
        .record_files("web-01", &[file(1)])
        .expect("record");
    let store = state.reopen().await;
    assert_eq!(store.files("web-01").expect("read"), vec![file(1)]);
    store.delete_migration("web-01").await.expect("delete");
    assert!(store.files("web-01").expect("read").is_empty());
}

async fn files_of_an_unrecorded_migration_are_refused(factory: &Factory) {
    let state = factory.with_migration().await;
    let error = state
        .store
        .record_files("ghost", &[file(1)])
        .expect_err("foreign key");
    assert!(error.to_string().starts_with("state store:"), "{error}");
}

/// The copy engine calls the ledger from blocking threads too.
async fn the_ledger_answers_from_blocking_threads(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = std::sync::Arc::clone(&state.store);
    let read = tokio::task::spawn_blocking(move || {
        store.record_files("web-01", &[file(4)]).expect("record");
        store.files("web-01").expect("read")
    })
    .await
    .expect("the blocking thread");
    assert_eq!(read, vec![file(4)]);
}
