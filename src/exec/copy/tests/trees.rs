//! Whole-tree behaviour: identical copies, selected mounts only, nested mounts, no-op re-runs, deltas, special files.

use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};
use std::sync::{Arc, Mutex};

use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

use super::support::*;
use crate::exec::copy::{
    CopyOptions, ExistingData, MountJob, ProgressEvent, ProgressSink, copy_migration,
    plan_migration, scan,
};
use crate::exec::ledger::Ledger;
use crate::exec::memory_ledger::MemoryLedger;

/// A source with two selectable mounts (`data`, `logs`), one unselected (`other`), and a nested
/// mount `data/nested`.
fn source_tree() -> TempDir {
    let source = TempDir::new().unwrap();
    let root = source.path();
    write_file(root, "data/a.txt", b"hello", 0o644, 1_600_000_000);
    write_file(
        root,
        "data/sub/b.bin",
        &pattern(300_000, 1),
        0o600,
        1_600_000_100,
    );
    write_file(
        root,
        "data/sub/deep/c.sh",
        b"#!/bin/sh\n",
        0o755,
        1_600_000_200,
    );
    write_file(
        root,
        "data/nested/inside.txt",
        b"nested mount",
        0o644,
        1_600_000_300,
    );
    write_file(root, "data/empty.txt", b"", 0o640, 1_600_000_400);
    fs::create_dir_all(root.join("data/empty-dir")).unwrap();
    symlink("/etc", root.join("data/link-etc")).unwrap();
    symlink("sub/b.bin", root.join("data/relative-link")).unwrap();
    write_file(
        root,
        "logs/app.log",
        &pattern(5_000, 2),
        0o644,
        1_600_000_500,
    );
    write_file(
        root,
        "other/secret.txt",
        b"not selected",
        0o644,
        1_600_000_600,
    );
    for directory in ["data/sub/deep", "data/sub", "data/empty-dir", "data"] {
        let time = filetime::FileTime::from_unix_time(1_500_000_000, 42);
        filetime::set_file_mtime(root.join(directory), time).unwrap();
    }
    source
}

fn jobs() -> Vec<MountJob> {
    let mut data = job("data");
    data.excluded = vec![path("nested")];
    vec![data, job("logs")]
}

/// The source's `data` as the copy must reproduce it: the nested mount's directory, not its content.
fn expected_data(source: &TempDir) -> std::collections::BTreeMap<String, Snapshot> {
    let mut expected = snapshot(&source.path().join("data"));
    expected.retain(|path, _| !path.starts_with("nested/"));
    expected
}

#[tokio::test]
async fn copies_selected_mounts_byte_identical_with_times_modes_and_symlinks() {
    let source = source_tree();
    let target = TempDir::new().unwrap();
    let ledger = MemoryLedger::new();
    let counting = CountingTree::new(local(source.path()));
    let outcome = run(counting.clone(), local(target.path()), &jobs(), &ledger)
        .await
        .unwrap();

    assert_eq!(
        snapshot(&target.path().join("data")),
        expected_data(&source)
    );
    assert_eq!(
        snapshot(&target.path().join("logs")),
        snapshot(&source.path().join("logs"))
    );
    // The mount roots themselves carry the source's time and mode.
    let (source_root, target_root) = (
        fs::metadata(source.path().join("data")).unwrap(),
        fs::metadata(target.path().join("data")).unwrap(),
    );
    assert_eq!(
        (source_root.mtime(), source_root.mtime_nsec()),
        (target_root.mtime(), target_root.mtime_nsec())
    );
    assert_eq!(source_root.mode(), target_root.mode());
    // Only the selected mounts, and nothing of the nested mount but its (empty) directory.
    let mut top: Vec<String> = fs::read_dir(target.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["data", "logs"]);
    assert!(
        fs::read_dir(target.path().join("data/nested"))
            .unwrap()
            .next()
            .is_none()
    );
    // Symlinks were copied as links: /etc was never read.
    assert_eq!(
        fs::read_link(target.path().join("data/link-etc")).unwrap(),
        std::path::Path::new("/etc")
    );
    let file_bytes = 5 + 300_000 + 10 + 5_000;
    assert_eq!(counting.bytes_read(), file_bytes);

    let data = &outcome.mounts[0];
    assert_eq!(
        (
            data.files_copied,
            data.symlinks_copied,
            data.files_unchanged
        ),
        (4, 2, 0)
    );
    assert_eq!(data.excluded, ["nested"]);
    assert_eq!(outcome.files_copied(), 5);
    assert_eq!(copied_files(&ledger), 5);
    assert!(ledger.partials("web-01").unwrap().is_empty());
}

#[tokio::test]
async fn a_completed_migration_rerun_reads_nothing_and_changes_nothing() {
    let source = source_tree();
    let target = TempDir::new().unwrap();
    let ledger = MemoryLedger::new();
    run(local(source.path()), local(target.path()), &jobs(), &ledger)
        .await
        .unwrap();
    let before = snapshot(target.path());

    let counting = CountingTree::new(local(source.path()));
    let target_counting = CountingTree::new(local(target.path()));
    let outcome = run(counting.clone(), target_counting.clone(), &jobs(), &ledger)
        .await
        .unwrap();
    assert_eq!(counting.bytes_read(), 0);
    assert_eq!(
        counting
            .files_opened
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    assert_eq!(target_counting.bytes_read(), 0);
    assert_eq!(outcome.files_copied(), 0);
    assert_eq!(outcome.files_unchanged(), 5);
    assert_eq!(outcome.mounts[0].symlinks_copied, 0);
    assert_eq!(snapshot(target.path()), before);
}

#[tokio::test]
async fn a_rerun_copies_changed_and_added_files_and_removes_deleted_ones() {
    let source = source_tree();
    let target = TempDir::new().unwrap();
    let ledger = MemoryLedger::new();
    run(local(source.path()), local(target.path()), &jobs(), &ledger)
        .await
        .unwrap();
    let root = source.path();
    // Same size, new content and time; a new file; a removed file and directory; a file turned directory.
    write_file(root, "data/a.txt", b"HELLO", 0o644, 1_700_000_000);
    write_file(root, "data/sub/new.txt", b"new", 0o644, 1_700_000_100);
    fs::remove_dir_all(root.join("data/sub/deep")).unwrap();
    fs::remove_file(root.join("data/empty.txt")).unwrap();
    write_file(
        root,
        "data/empty.txt/now-a-directory",
        b"x",
        0o644,
        1_700_000_200,
    );
    fs::remove_file(root.join("data/relative-link")).unwrap();
    symlink("a.txt", root.join("data/relative-link")).unwrap();
    // A stray file on the target inside a copied mount, which ferry did not write: refused,
    // and removed too with --mirror.
    fs::write(target.path().join("logs/stray.tmp"), b"stray").unwrap();
    let refusal = plan_migration(
        "web-01",
        &*local(source.path()),
        &*local(target.path()),
        &jobs(),
        &ledger,
        &options(),
    )
    .await
    .unwrap_err();
    assert!(
        refusal.to_string().contains("\"logs/stray.tmp\""),
        "{refusal}"
    );
    let mirror = CopyOptions {
        existing: ExistingData::Mirror,
        ..options()
    };
    let preview = plan_migration(
        "web-01",
        &*local(source.path()),
        &*local(target.path()),
        &jobs(),
        &ledger,
        &mirror,
    )
    .await
    .unwrap();
    assert_eq!(preview.mounts[0].files_to_copy, 3);
    assert_eq!(
        preview.mounts[0].to_remove,
        ["data/empty.txt", "data/sub/deep"]
    );
    assert_eq!(preview.mounts[1].to_remove, ["logs/stray.tmp"]);

    let counting = CountingTree::new(local(source.path()));
    let outcome = run_existing(
        counting.clone(),
        local(target.path()),
        &jobs(),
        &ledger,
        ExistingData::Mirror,
    )
    .await
    .unwrap();
    assert_eq!(counting.bytes_read(), 5 + 3 + 1);
    assert_eq!(outcome.mounts[0].files_copied, 3);
    assert_eq!(outcome.mounts[0].symlinks_copied, 1);
    assert_eq!(
        snapshot(&target.path().join("data")),
        expected_data(&source)
    );
    assert_eq!(
        snapshot(&target.path().join("logs")),
        snapshot(&source.path().join("logs"))
    );
    let mut recorded: Vec<String> = ledger
        .files("web-01")
        .unwrap()
        .into_iter()
        .filter(|record| !record.is_symlink())
        .map(|record| record.path)
        .collect();
    recorded.sort();
    assert_eq!(
        recorded,
        [
            "data/a.txt",
            "data/empty.txt/now-a-directory",
            "data/sub/b.bin",
            "data/sub/new.txt",
            "logs/app.log"
        ]
    );
}

#[tokio::test]
async fn nested_mounts_selected_together_are_each_copied_once_and_not_mirrored_away() {
    let source = source_tree();
    let target = TempDir::new().unwrap();
    let ledger = MemoryLedger::new();
    let mut data = job("data");
    data.excluded = vec![path("nested")];
    let mut nested = job("data/nested");
    nested.label = "/data/nested".to_string();
    let jobs = vec![data, nested];
    run(local(source.path()), local(target.path()), &jobs, &ledger)
        .await
        .unwrap();
    run(local(source.path()), local(target.path()), &jobs, &ledger)
        .await
        .unwrap();
    assert_eq!(
        snapshot(&target.path().join("data")),
        snapshot(&source.path().join("data"))
    );
    assert_eq!(copied_files(&ledger), 5);
}

#[tokio::test]
async fn entries_on_another_device_are_not_descended() {
    let source = source_tree();
    let target = TempDir::new().unwrap();
    let ledger = MemoryLedger::new();
    let tree = Arc::new(OtherDeviceTree {
        inner: local(source.path()),
        other_device: path("data/sub"),
    });
    run(tree, local(target.path()), &[job("data")], &ledger)
        .await
        .unwrap();
    assert!(target.path().join("data/sub").is_dir());
    assert!(
        fs::read_dir(target.path().join("data/sub"))
            .unwrap()
            .next()
            .is_none()
    );
    assert!(target.path().join("data/nested/inside.txt").is_file());
}

#[tokio::test]
async fn special_files_are_skipped_and_reported() {
    let source = source_tree();
    let fifo = source.path().join("logs/pipe");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    let target = TempDir::new().unwrap();
    let outcome = run(
        local(source.path()),
        local(target.path()),
        &[job("logs")],
        &MemoryLedger::new(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.mounts[0].special_skipped, ["pipe"]);
    assert!(!target.path().join("logs/pipe").exists());
    assert!(target.path().join("logs/app.log").is_file());
}

#[tokio::test]
async fn progress_reports_scan_totals_bytes_and_files() {
    let source = source_tree();
    let target = TempDir::new().unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = {
        let events = Arc::clone(&events);
        ProgressSink::new(move |event| events.lock().unwrap().push(event))
    };
    let summary = scan("web-01", &*local(source.path()), &jobs())
        .await
        .unwrap();
    assert_eq!((summary.files(), summary.bytes()), (5, 305_015));
    copy_migration(
        "web-01",
        local(source.path()),
        local(target.path()),
        &jobs(),
        &MemoryLedger::new(),
        &options(),
        &sink,
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    let events = events.lock().unwrap();
    assert_eq!(
        events[0],
        ProgressEvent::ScanFinished {
            migration: "web-01".to_string(),
            files: 5,
            bytes: 305_015
        }
    );
    let transferred: u64 = events
        .iter()
        .map(|event| match event {
            ProgressEvent::Transferred { bytes, .. } => *bytes,
            _ => 0,
        })
        .sum();
    assert_eq!(transferred, 305_015);
    let copied = events
        .iter()
        .filter(|event| matches!(event, ProgressEvent::FileCopied { .. }))
        .count();
    assert_eq!(copied, 5);
    assert!(matches!(
        events.last(),
        Some(ProgressEvent::MountFinished { .. })
    ));
}

#[tokio::test]
async fn ledger_writes_are_batched() {
    let source = TempDir::new().unwrap();
    for index in 0..600 {
        write_file(
            source.path(),
            &format!("data/{}/{index}.txt", index % 7),
            b"small",
            0o644,
            1_600_000_000,
        );
    }
    let target = TempDir::new().unwrap();
    let ledger = MemoryLedger::new();
    run(
        local(source.path()),
        local(target.path()),
        &[job("data")],
        &ledger,
    )
    .await
    .unwrap();
    assert_eq!(ledger.files("web-01").unwrap().len(), 600);
    assert!(
        ledger.write_calls() <= 10,
        "{} ledger writes for 600 files",
        ledger.write_calls()
    );
}

#[tokio::test]
async fn excluded_paths_on_the_target_are_left_alone_even_when_the_source_lacks_them() {
    let source = TempDir::new().unwrap();
    write_file(source.path(), "data/a.txt", b"a", 0o644, 1_600_000_000);
    let target = TempDir::new().unwrap();
    write_file(
        target.path(),
        "data/mnt/other-mount.txt",
        b"another mount's data",
        0o644,
        1_600_000_000,
    );
    let mut data = job("data");
    data.excluded = vec![path("mnt")];
    run(
        local(source.path()),
        local(target.path()),
        &[data],
        &MemoryLedger::new(),
    )
    .await
    .unwrap();
    assert!(target.path().join("data/mnt/other-mount.txt").is_file());
    assert!(target.path().join("data/a.txt").is_file());
}

#[test]
fn jobs_exclude_every_nested_mount_of_the_source() {
    let all = [path(""), path("var"), path("var/log"), path("srv")];
    let selected = [
        ("/".to_string(), path(""), path("")),
        ("/var".to_string(), path("var"), path("var")),
    ];
    let jobs = MountJob::for_mounts(&selected, &all);
    assert_eq!(
        jobs[0].excluded,
        [path("var"), path("var/log"), path("srv")]
    );
    assert_eq!(jobs[1].excluded, [path("log")]);
}
