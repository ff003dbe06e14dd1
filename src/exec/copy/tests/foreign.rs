//! Data in a target mount that ferry did not write: refused before anything moves by default,
//! kept with `--adopt-existing`, deleted with `--mirror`; ferry's own data is still mirrored.

use std::fs;
use std::os::unix::fs::symlink;

use tempfile::TempDir;

use super::support::*;
use crate::exec::copy::{CopyError, ExistingData, MountJob};
use crate::exec::ledger::Ledger;
use crate::exec::memory_ledger::MemoryLedger;

/// A source mount `C` holding `a.txt`.
fn source_with_a() -> TempDir {
    let source = TempDir::new().unwrap();
    write_file(source.path(), "C/a.txt", b"a\n", 0o644, 1_600_000_000);
    source
}

/// The target: a file beside where `a.txt` goes, and a nested folder with a file.
fn target_with_precious() -> TempDir {
    let target = TempDir::new().unwrap();
    write_file(
        target.path(),
        "C/precious.txt",
        b"PRECIOUS\n",
        0o644,
        1_500_000_000,
    );
    write_file(target.path(), "C/sub/p.txt", b"P\n", 0o644, 1_500_000_000);
    target
}

fn refused(error: &CopyError) -> (&str, &[String], usize) {
    match error {
        CopyError::ForeignTargetData {
            folder,
            entries,
            total,
            ..
        } => (folder.as_str(), entries.as_slice(), *total),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn nested_files_and_folders_ferry_did_not_write_are_refused_before_anything_moves() {
    let source = source_with_a();
    let target = target_with_precious();
    let before = snapshot(target.path());
    let ledger = MemoryLedger::new();
    let error = run(
        local(source.path()),
        local(target.path()),
        &[job("C")],
        &ledger,
    )
    .await
    .unwrap_err();
    let (folder, entries, total) = refused(&error);
    assert_eq!(folder, "C");
    assert_eq!(entries, ["C/precious.txt", "C/sub/p.txt"]);
    assert_eq!(total, 2);
    let message = error.to_string();
    for needed in [
        "\"C/precious.txt\"",
        "--adopt-existing",
        "--mirror",
        "2 entries",
    ] {
        assert!(message.contains(needed), "{needed} missing: {message}");
    }
    assert!(!error.is_retryable());
    assert_eq!(snapshot(target.path()), before, "nothing deleted or copied");
    assert_eq!(ledger.write_calls(), 0, "nothing recorded");
}

#[tokio::test]
async fn an_unrecorded_file_where_the_source_has_one_a_symlink_and_a_type_conflict_are_refused() {
    let source = source_with_a();
    write_file(source.path(), "C/dir/x.txt", b"x", 0o644, 1_600_000_000);
    let target = TempDir::new().unwrap();
    // Same name as a source file, a symlink, and a file where the source has a folder.
    write_file(target.path(), "C/a.txt", b"theirs", 0o644, 1_500_000_000);
    fs::create_dir_all(target.path().join("C")).unwrap();
    symlink("/etc/passwd", target.path().join("C/link")).unwrap();
    write_file(target.path(), "C/dir", b"a file", 0o644, 1_500_000_000);
    let before = snapshot(target.path());
    let ledger = MemoryLedger::new();
    let error = run(
        local(source.path()),
        local(target.path()),
        &[job("C")],
        &ledger,
    )
    .await
    .unwrap_err();
    let (_, entries, total) = refused(&error);
    assert_eq!(entries, ["C/a.txt", "C/dir", "C/link"]);
    assert_eq!(total, 3);
    assert_eq!(snapshot(target.path()), before);
}

#[tokio::test]
async fn a_mount_root_that_is_not_a_folder_is_refused() {
    let source = source_with_a();
    let target = TempDir::new().unwrap();
    write_file(
        target.path(),
        "C",
        b"someone's file named C",
        0o644,
        1_500_000_000,
    );
    let error = run(
        local(source.path()),
        local(target.path()),
        &[job("C")],
        &MemoryLedger::new(),
    )
    .await
    .unwrap_err();
    assert_eq!(refused(&error).1, ["C"]);
    assert!(target.path().join("C").is_file());
}

#[tokio::test]
async fn adopting_keeps_what_ferry_did_not_write_and_overwrites_same_named_files() {
    let source = source_with_a();
    write_file(source.path(), "C/b.txt", b"b\n", 0o644, 1_600_000_000);
    let target = target_with_precious();
    write_file(target.path(), "C/b.txt", b"old b", 0o644, 1_500_000_000);
    // A file at the name ferry would write `a.txt` under first: never overwritten.
    write_file(
        target.path(),
        "C/.a.txt.ferry-partial",
        b"theirs",
        0o644,
        1_500_000_000,
    );
    let ledger = MemoryLedger::new();
    let adopt = ExistingData::Adopt;
    let jobs = [job("C")];
    let outcome = run_existing(
        local(source.path()),
        local(target.path()),
        &jobs,
        &ledger,
        adopt,
    )
    .await
    .unwrap();
    assert_eq!(outcome.mounts[0].files_copied, 2);
    assert_eq!(outcome.mounts[0].removed, 0);
    assert_eq!(fs::read(target.path().join("C/a.txt")).unwrap(), b"a\n");
    assert_eq!(fs::read(target.path().join("C/b.txt")).unwrap(), b"b\n");
    assert_eq!(
        fs::read(target.path().join("C/precious.txt")).unwrap(),
        b"PRECIOUS\n"
    );
    assert_eq!(fs::read(target.path().join("C/sub/p.txt")).unwrap(), b"P\n");
    assert_eq!(
        fs::read(target.path().join("C/.a.txt.ferry-partial")).unwrap(),
        b"theirs"
    );
    let mut recorded: Vec<String> = ledger
        .files("web-01")
        .unwrap()
        .into_iter()
        .map(|record| record.path)
        .collect();
    recorded.sort();
    assert_eq!(
        recorded,
        ["C/a.txt", "C/b.txt"],
        "ferry owns only what it wrote"
    );

    // Later the source drops b.txt: ferry removes its own copy, and still keeps the rest.
    fs::remove_file(source.path().join("C/b.txt")).unwrap();
    let synced = run_existing(
        local(source.path()),
        local(target.path()),
        &jobs,
        &ledger,
        adopt,
    )
    .await
    .unwrap();
    assert_eq!(synced.mounts[0].removed, 1);
    assert!(!target.path().join("C/b.txt").exists());
    assert!(target.path().join("C/precious.txt").exists());
    assert!(target.path().join("C/sub/p.txt").exists());
    // Without the flag, what ferry did not write still refuses the run.
    let error = run(local(source.path()), local(target.path()), &jobs, &ledger)
        .await
        .unwrap_err();
    assert_eq!(refused(&error).2, 3);
}

#[tokio::test]
async fn adopting_never_deletes_a_folder_of_data_where_the_source_has_a_file() {
    let source = source_with_a();
    let target = TempDir::new().unwrap();
    write_file(
        target.path(),
        "C/a.txt/inside.txt",
        b"theirs",
        0o644,
        1_500_000_000,
    );
    let error = run_existing(
        local(source.path()),
        local(target.path()),
        &[job("C")],
        &MemoryLedger::new(),
        ExistingData::Adopt,
    )
    .await
    .unwrap_err();
    assert_eq!(refused(&error).1, ["C/a.txt"]);
    assert!(error.to_string().contains("--mirror"), "{error}");
    assert!(target.path().join("C/a.txt/inside.txt").exists());
}

#[tokio::test]
async fn mirroring_deletes_what_the_source_lacks_but_never_a_nested_mount() {
    let source = source_with_a();
    fs::create_dir_all(source.path().join("C/mnt")).unwrap();
    let target = target_with_precious();
    write_file(
        target.path(),
        "C/a.txt/inside.txt",
        b"theirs",
        0o644,
        1_500_000_000,
    );
    symlink("/etc", target.path().join("C/link")).unwrap();
    write_file(
        target.path(),
        "C/mnt/other-mount.txt",
        b"mount",
        0o644,
        1_500_000_000,
    );
    let jobs = [MountJob {
        excluded: vec![path("mnt")],
        ..job("C")
    }];
    let outcome = run_existing(
        local(source.path()),
        local(target.path()),
        &jobs,
        &MemoryLedger::new(),
        ExistingData::Mirror,
    )
    .await
    .unwrap();
    assert!(outcome.mounts[0].removed >= 3, "{outcome:?}");
    assert_eq!(fs::read(target.path().join("C/a.txt")).unwrap(), b"a\n");
    for gone in ["C/precious.txt", "C/sub", "C/link"] {
        assert!(
            fs::symlink_metadata(target.path().join(gone)).is_err(),
            "{gone} is still there"
        );
    }
    assert_eq!(
        fs::read(target.path().join("C/mnt/other-mount.txt")).unwrap(),
        b"mount"
    );
}

#[tokio::test]
async fn ferry_still_removes_its_own_files_and_folders_and_empty_folders() {
    let source = source_with_a();
    write_file(
        source.path(),
        "C/old/deep/b.txt",
        b"b",
        0o644,
        1_600_000_000,
    );
    fs::create_dir_all(source.path().join("C/links")).unwrap();
    symlink("../a.txt", source.path().join("C/links/to-a")).unwrap();
    let target = TempDir::new().unwrap();
    let ledger = MemoryLedger::new();
    let jobs = [job("C")];
    run(local(source.path()), local(target.path()), &jobs, &ledger)
        .await
        .unwrap();
    fs::remove_dir_all(source.path().join("C/old")).unwrap();
    fs::remove_dir_all(source.path().join("C/links")).unwrap();
    // An empty folder holds no data: it goes too, whoever made it.
    fs::create_dir_all(target.path().join("C/empty/nested")).unwrap();
    let outcome = run(local(source.path()), local(target.path()), &jobs, &ledger)
        .await
        .unwrap();
    assert!(outcome.mounts[0].removed > 0);
    assert_eq!(snapshot(target.path()), snapshot(source.path()));
}

#[tokio::test]
async fn a_lost_ledger_refuses_and_adopting_records_everything_again() {
    let source = source_with_a();
    write_file(source.path(), "C/sub/b.txt", b"b\n", 0o644, 1_600_000_000);
    symlink("a.txt", source.path().join("C/link")).unwrap();
    let target = TempDir::new().unwrap();
    let jobs = [job("C")];
    run(
        local(source.path()),
        local(target.path()),
        &jobs,
        &MemoryLedger::new(),
    )
    .await
    .unwrap();
    let written = snapshot(target.path());

    let lost = MemoryLedger::new();
    let error = run(local(source.path()), local(target.path()), &jobs, &lost)
        .await
        .unwrap_err();
    assert_eq!(refused(&error).2, 3, "two files and a symlink");
    assert_eq!(snapshot(target.path()), written);

    run_existing(
        local(source.path()),
        local(target.path()),
        &jobs,
        &lost,
        ExistingData::Adopt,
    )
    .await
    .unwrap();
    assert_eq!(snapshot(target.path()), snapshot(source.path()));
    assert_eq!(lost.files("web-01").unwrap().len(), 3);
    let again = run(local(source.path()), local(target.path()), &jobs, &lost)
        .await
        .unwrap();
    assert_eq!(again.mounts[0].files_unchanged, 2);
}

#[tokio::test]
async fn a_copy_in_place_but_not_yet_recorded_is_still_ferry_s() {
    let source = source_with_a();
    let target = TempDir::new().unwrap();
    let ledger = MemoryLedger::new();
    let jobs = [job("C")];
    run(local(source.path()), local(target.path()), &jobs, &ledger)
        .await
        .unwrap();
    // As a kill between the rename and the record leaves it: the claim made before the write.
    let record = ledger.files("web-01").unwrap().remove(0);
    ledger
        .record_partial(
            "web-01",
            &crate::exec::ledger::PartialRecord::claim_of(&record),
        )
        .unwrap();
    ledger.forget_files("web-01", &[record.path]).unwrap();
    fs::remove_file(source.path().join("C/a.txt")).unwrap();
    let outcome = run(local(source.path()), local(target.path()), &jobs, &ledger)
        .await
        .unwrap();
    assert_eq!(outcome.mounts[0].removed, 1);
    assert!(ledger.partials("web-01").unwrap().is_empty());
}

/// A source with `C/a.txt` and `C/b.txt`.
fn two_file_source() -> TempDir {
    let source = source_with_a();
    write_file(source.path(), "C/b.txt", b"b\n", 0o644, 1_600_000_000);
    source
}

#[tokio::test]
async fn a_copy_that_never_happened_claims_nothing_at_its_final_name() {
    // Interrupted as the mount starts: `b.txt` was claimed (a partial record) but never copied.
    let source = two_file_source();
    let target = TempDir::new().unwrap();
    let ledger = MemoryLedger::new();
    let jobs = [job("C")];
    let cancel = tokio_util::sync::CancellationToken::new();
    let trigger = cancel.clone();
    let sink = crate::exec::copy::ProgressSink::new(move |event| {
        if matches!(event, crate::exec::copy::ProgressEvent::MountStarted { .. }) {
            trigger.cancel();
        }
    });
    let _ = crate::exec::copy::copy_migration(
        "web-01",
        local(source.path()),
        local(target.path()),
        &jobs,
        &ledger,
        &options(),
        &sink,
        &cancel,
    )
    .await;
    assert!(!target.path().join("C/b.txt").exists());
    // The user then puts their own file there: the next run refuses rather than overwrite it.
    write_file(
        target.path(),
        "C/b.txt",
        b"USER DATA\n",
        0o644,
        1_500_000_000,
    );
    let error = run(local(source.path()), local(target.path()), &jobs, &ledger)
        .await
        .expect_err("refused");
    let (_, entries, _) = refused(&error);
    assert!(
        entries.iter().any(|entry| entry.contains("b.txt")),
        "{entries:?}"
    );
    assert_eq!(
        fs::read(target.path().join("C/b.txt")).unwrap(),
        b"USER DATA\n"
    );
}

#[tokio::test]
async fn adopting_never_deletes_a_foreign_file_to_make_way_for_a_source_folder() {
    let source = TempDir::new().unwrap();
    write_file(source.path(), "C/docs/x.txt", b"x\n", 0o644, 1_600_000_000);
    let target = TempDir::new().unwrap();
    write_file(
        target.path(),
        "C/docs",
        b"THEIR NOTES\n",
        0o644,
        1_500_000_000,
    );
    let result = run_existing(
        local(source.path()),
        local(target.path()),
        &[job("C")],
        &MemoryLedger::new(),
        ExistingData::Adopt,
    )
    .await;
    assert!(result.is_err(), "{result:?}");
    assert_eq!(
        fs::read(target.path().join("C/docs")).unwrap(),
        b"THEIR NOTES\n"
    );
}
