//! Nothing outside the roots is ever read or written, whatever symlinks the source or target hold;
//! names ferry cannot represent fail the mount clearly.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;

use tempfile::TempDir;

use super::support::*;
use crate::exec::copy::{CopyError, ExistingData};
use crate::exec::memory_ledger::MemoryLedger;

#[tokio::test]
async fn symlinks_planted_in_the_target_never_redirect_writes() {
    let source = TempDir::new().unwrap();
    write_file(
        source.path(),
        "data/sub/file.txt",
        b"payload",
        0o644,
        1_600_000_000,
    );
    write_file(source.path(), "data/top.txt", b"top", 0o644, 1_600_000_000);
    write_file(source.path(), "logs/app.log", b"log", 0o644, 1_600_000_000);
    let target = TempDir::new().unwrap();
    let outside = TempDir::new().unwrap();
    write_file(
        outside.path(),
        "victim.txt",
        b"do not touch",
        0o644,
        1_500_000_000,
    );
    let before = snapshot(outside.path());
    let ledger = MemoryLedger::new();
    let jobs = [job("data"), job("logs")];
    run(local(source.path()), local(target.path()), &jobs, &ledger)
        .await
        .unwrap();

    // Between runs: a copied directory becomes a symlink out, so does a whole mount root, and the
    // temporary name of a file about to be recopied points at a file outside.
    fs::remove_dir_all(target.path().join("data/sub")).unwrap();
    symlink(outside.path(), target.path().join("data/sub")).unwrap();
    fs::remove_dir_all(target.path().join("logs")).unwrap();
    symlink(outside.path(), target.path().join("logs")).unwrap();
    write_file(source.path(), "data/top.txt", b"TOP", 0o644, 1_700_000_000);
    symlink(
        outside.path().join("victim.txt"),
        target.path().join("data/.top.txt.ferry-partial"),
    )
    .unwrap();

    // None of the three is ferry's: refused, and nothing is written anywhere.
    let planted = snapshot(target.path());
    let error = run(local(source.path()), local(target.path()), &jobs, &ledger)
        .await
        .unwrap_err();
    assert!(
        matches!(error, CopyError::ForeignTargetData { .. }),
        "{error:?}"
    );
    assert_eq!(snapshot(target.path()), planted);
    assert_eq!(snapshot(outside.path()), before);
    // Mirroring replaces them, still without writing through them.
    run_existing(
        local(source.path()),
        local(target.path()),
        &jobs,
        &ledger,
        ExistingData::Mirror,
    )
    .await
    .unwrap();
    assert_eq!(snapshot(outside.path()), before);
    assert_eq!(
        snapshot(&target.path().join("data")),
        snapshot(&source.path().join("data"))
    );
    assert_eq!(
        snapshot(&target.path().join("logs")),
        snapshot(&source.path().join("logs"))
    );
    assert!(
        fs::symlink_metadata(target.path().join("logs"))
            .unwrap()
            .is_dir()
    );
}

#[tokio::test]
async fn symlinks_in_the_source_are_copied_as_links_and_never_followed() {
    let source = TempDir::new().unwrap();
    write_file(
        source.path(),
        "data/real.txt",
        b"real",
        0o644,
        1_600_000_000,
    );
    symlink("/etc", source.path().join("data/etc")).unwrap();
    symlink("/etc/passwd", source.path().join("data/passwd")).unwrap();
    symlink("../../outside", source.path().join("data/up")).unwrap();
    let target = TempDir::new().unwrap();
    let counting = CountingTree::new(local(source.path()));
    run(
        counting.clone(),
        local(target.path()),
        &[job("data")],
        &MemoryLedger::new(),
    )
    .await
    .unwrap();
    assert_eq!(counting.bytes_read(), 4);
    assert_eq!(
        counting
            .files_opened
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert_eq!(
        fs::read_link(target.path().join("data/etc"))
            .unwrap()
            .as_os_str(),
        "/etc"
    );
    assert_eq!(
        fs::read_link(target.path().join("data/passwd"))
            .unwrap()
            .as_os_str(),
        "/etc/passwd"
    );
    assert_eq!(
        fs::read_link(target.path().join("data/up"))
            .unwrap()
            .as_os_str(),
        "../../outside"
    );
    assert_eq!(
        snapshot(&target.path().join("data")),
        snapshot(&source.path().join("data"))
    );
}

#[tokio::test]
async fn a_source_mount_root_that_is_a_symlink_is_not_followed() {
    let source = TempDir::new().unwrap();
    symlink("/etc", source.path().join("data")).unwrap();
    let target = TempDir::new().unwrap();
    let error = run(
        local(source.path()),
        local(target.path()),
        &[job("data")],
        &MemoryLedger::new(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, CopyError::MountRootMissing { .. }),
        "{error:?}"
    );
    assert!(fs::read_dir(target.path()).unwrap().next().is_none());
}

#[tokio::test]
async fn names_that_are_not_utf8_fail_the_mount_naming_the_directory() {
    let source = TempDir::new().unwrap();
    write_file(
        source.path(),
        "data/docs/ok.txt",
        b"ok",
        0o644,
        1_600_000_000,
    );
    fs::write(
        source
            .path()
            .join("data/docs")
            .join(OsStr::from_bytes(b"caf\xe9.txt")),
        b"latin-1",
    )
    .unwrap();
    let target = TempDir::new().unwrap();
    let error = run(
        local(source.path()),
        local(target.path()),
        &[job("data")],
        &MemoryLedger::new(),
    )
    .await
    .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("data/docs"), "{message}");
    assert!(message.contains("caf\u{fffd}.txt"), "{message}");
    assert!(message.contains("not valid UTF-8"), "{message}");
    assert!(!error.is_retryable());
}
