//! The target root: leftovers of an earlier selection are removed, data ferry did not write is refused.

use std::fs;

use tempfile::TempDir;

use super::support::*;
use crate::exec::copy::{CopyError, ExistingData, check_target_root, prepare_target_root};
use crate::exec::ledger::Ledger;
use crate::exec::memory_ledger::MemoryLedger;

fn two_mounts() -> TempDir {
    let source = TempDir::new().unwrap();
    write_file(source.path(), "data/a.txt", b"a", 0o644, 1_600_000_000);
    write_file(source.path(), "old/b.txt", b"b", 0o644, 1_600_000_000);
    source
}

#[tokio::test]
async fn entries_ferry_wrote_for_an_earlier_selection_are_removed_and_forgotten() {
    let source = two_mounts();
    let target = TempDir::new().unwrap();
    let ledger = MemoryLedger::new();
    run(
        local(source.path()),
        local(target.path()),
        &[job("data"), job("old")],
        &ledger,
    )
    .await
    .unwrap();
    fs::create_dir(target.path().join("lost+found")).unwrap();

    let roots = [path("data")];
    let tree = local(target.path());
    let cleanup = check_target_root("web-01", &*tree, &ledger, &roots, ExistingData::Refuse)
        .await
        .unwrap();
    assert_eq!(cleanup.remove, [path("old")]);
    assert!(
        target.path().join("old/b.txt").exists(),
        "checking changes nothing"
    );
    prepare_target_root("web-01", &*tree, &ledger, &roots, ExistingData::Refuse)
        .await
        .unwrap();
    assert!(!target.path().join("old").exists());
    assert!(target.path().join("lost+found").exists());
    let recorded: Vec<String> = ledger
        .files("web-01")
        .unwrap()
        .into_iter()
        .map(|record| record.path)
        .collect();
    assert_eq!(recorded, ["data/a.txt"]);
}

#[tokio::test]
async fn entries_ferry_did_not_write_are_refused_before_anything_is_copied() {
    let source = two_mounts();
    let target = TempDir::new().unwrap();
    let ledger = MemoryLedger::new();
    run(
        local(source.path()),
        local(target.path()),
        &[job("data"), job("old")],
        &ledger,
    )
    .await
    .unwrap();
    // Someone else's data: a file at the root, and a file added inside ferry's old mount.
    fs::write(target.path().join("customer.db"), b"precious").unwrap();
    fs::write(target.path().join("old/added-later.txt"), b"precious too").unwrap();

    let tree = local(target.path());
    let error = prepare_target_root(
        "web-01",
        &*tree,
        &ledger,
        &[path("data")],
        ExistingData::Refuse,
    )
    .await
    .unwrap_err();
    let CopyError::ForeignTargetEntries { entries, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(entries, &["customer.db", "old"]);
    let message = error.to_string();
    assert!(
        message.contains("ferry will not delete data it did not write"),
        "{message}"
    );
    assert!(!error.is_retryable());
    assert!(target.path().join("customer.db").exists());
    assert!(target.path().join("old/b.txt").exists());
    // Adopting or mirroring, they stay where they are (neither reaches outside the mounts).
    for existing in [ExistingData::Adopt, ExistingData::Mirror] {
        let cleanup = prepare_target_root("web-01", &*tree, &ledger, &[path("data")], existing)
            .await
            .unwrap();
        assert!(cleanup.remove.is_empty(), "{cleanup:?}");
    }
    assert!(target.path().join("customer.db").exists());
    assert!(target.path().join("old/added-later.txt").exists());
}

#[tokio::test]
async fn nested_mount_roots_keep_their_ancestors() {
    let target = TempDir::new().unwrap();
    fs::create_dir_all(target.path().join("var/log")).unwrap();
    fs::create_dir_all(target.path().join("srv")).unwrap();
    let ledger = MemoryLedger::new();
    let tree = local(target.path());
    let cleanup = check_target_root(
        "web-01",
        &*tree,
        &ledger,
        &[path("var/log"), path("srv")],
        ExistingData::Refuse,
    )
    .await
    .unwrap();
    assert!(cleanup.remove.is_empty());
    fs::write(target.path().join("var/other"), b"x").unwrap();
    let error = check_target_root(
        "web-01",
        &*tree,
        &ledger,
        &[path("var/log"), path("srv")],
        ExistingData::Refuse,
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("var/other"), "{error}");
    // A mount at the root owns the whole target.
    assert!(
        check_target_root("web-01", &*tree, &ledger, &[path("")], ExistingData::Refuse)
            .await
            .is_ok()
    );
}
