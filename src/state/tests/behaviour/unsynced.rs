//! Records of files not yet durable: trusted during the boot that wrote them, confirmed by a
//! sync, dropped after a restart, and carried by export and import.

use crate::state::ledger::{FileRecord, PartialRecord};
use crate::state::{ImportMode, StateBackend};

use super::{Factory, behaviour};

behaviour!(
    records_not_yet_durable_are_trusted_only_during_the_boot_that_wrote_them,
    a_sync_confirms_only_the_files_it_covered,
    untrusted_records_claim_their_paths_once_and_symlinks_never,
    export_keeps_the_boot_of_records_not_yet_durable_and_leaves_out_untrusted_ones,
);

fn file(index: usize) -> FileRecord {
    FileRecord {
        path: format!("C/data/{index}.bin"),
        size: index as u64,
        modified_nanos: Some(1_700_000_000_000_000_000),
        blake3: format!("{index:064x}"),
    }
}

fn paths(files: &[FileRecord]) -> Vec<String> {
    files.iter().map(|file| file.path.clone()).collect()
}

async fn records_not_yet_durable_are_trusted_only_during_the_boot_that_wrote_them(
    factory: &Factory,
) {
    let state = factory.with_migration().await;
    let store = &state.store;
    if !store.knows_boot() {
        return; // No boot ID on this system: ferry never defers here.
    }
    store.record_files("web-01", &[file(0)]).expect("durable");
    store
        .record_unsynced_files("web-01", &[file(1), file(2)])
        .expect("unsynced");
    assert_eq!(store.files("web-01").expect("read").len(), 3);
    assert_eq!(
        store.unsynced_files("web-01").await.expect("list"),
        paths(&[file(1), file(2)])
    );

    let restarted = state.as_if_booted("another-boot").await;
    assert_eq!(restarted.files("web-01").expect("read"), vec![file(0)]);
    assert!(
        restarted
            .unsynced_files("web-01")
            .await
            .expect("list")
            .is_empty()
    );
    // The running system's own store still trusts them until they are dropped.
    assert_eq!(store.files("web-01").expect("read").len(), 3);
    // Untrusted, they are still ferry's claims on their paths, before and after the drop.
    let claims = |store: &dyn StateBackend| -> Vec<(String, String)> {
        store
            .partials("web-01")
            .expect("partials")
            .into_iter()
            .map(|partial| (partial.path, partial.temporary_path))
            .collect()
    };
    let expected: Vec<(String, String)> = paths(&[file(1), file(2)])
        .into_iter()
        .map(|path| (path.clone(), path))
        .collect();
    assert_eq!(claims(&*restarted), expected);
    assert!(claims(&**store).is_empty());
    assert_eq!(restarted.drop_unconfirmed("web-01").await.expect("drop"), 2);
    assert_eq!(store.files("web-01").expect("read"), vec![file(0)]);
    assert_eq!(claims(&*restarted), expected);
    assert_eq!(claims(&**store), expected);
}

async fn untrusted_records_claim_their_paths_once_and_symlinks_never(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    if !store.knows_boot() {
        return;
    }
    let symlink = FileRecord::symlink("C/data/link".to_string());
    store
        .record_unsynced_files("web-01", &[file(1), file(2), symlink])
        .expect("unsynced");
    let restarted = state.as_if_booted("another-boot").await;
    // A copy of file 2 had started: its partial record is the claim, listed once.
    let started = PartialRecord {
        path: file(2).path,
        temporary_path: "C/data/.2.bin.ferry-partial".to_string(),
        source_size: 2,
        source_modified_nanos: None,
    };
    restarted
        .record_partial("web-01", &started)
        .expect("partial");
    assert_eq!(
        restarted.partials("web-01").expect("partials"),
        vec![started, PartialRecord::claim_of(&file(1))]
    );
}

async fn a_sync_confirms_only_the_files_it_covered(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    if !store.knows_boot() {
        return;
    }
    store
        .record_unsynced_files("web-01", &[file(1), file(2), file(3)])
        .expect("unsynced");
    store
        .confirm_synced("web-01", &paths(&[file(1), file(3)]))
        .await
        .expect("confirm");
    assert_eq!(
        store.unsynced_files("web-01").await.expect("list"),
        paths(&[file(2)])
    );
    // Dropping concerns other boots only: this boot's unconfirmed record stays.
    assert_eq!(store.drop_unconfirmed("web-01").await.expect("drop"), 0);
    let restarted = state.as_if_booted("another-boot").await;
    assert_eq!(
        paths(&restarted.files("web-01").expect("read")),
        paths(&[file(1), file(3)])
    );
}

async fn export_keeps_the_boot_of_records_not_yet_durable_and_leaves_out_untrusted_ones(
    factory: &Factory,
) {
    let state = factory.with_migration().await;
    let store = &state.store;
    if !store.knows_boot() {
        return;
    }
    store.record_files("web-01", &[file(0)]).expect("durable");
    store
        .record_unsynced_files("web-01", &[file(1)])
        .expect("unsynced");
    let exported = store.export().await.expect("export");
    let files = &exported.migrations[0].copied_files;
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].unsynced_boot, None);
    assert_eq!(files[1].unsynced_boot, state.boot());

    let other_state = factory.with_migration().await;
    let other = &other_state.store;
    other
        .import(&exported, ImportMode::Replace)
        .await
        .expect("import");
    assert_eq!(
        other.unsynced_files("web-01").await.expect("list"),
        paths(&[file(1)])
    );
    // Exported after a restart, the unconfirmed record is not part of the backup.
    let later = state
        .as_if_booted("another-boot")
        .await
        .export()
        .await
        .expect("export");
    assert_eq!(later.migrations[0].copied_files.len(), 1);
}
