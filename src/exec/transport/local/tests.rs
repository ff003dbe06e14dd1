//! `LocalTree` against real directories: the tree's operations, and every way out of the root refused.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::time::{Duration, SystemTime};

use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::LocalTree;
use crate::exec::transport::{EntryKind, ErrorKind, FileAttributes, FileTree, RelativePath};

fn path(text: &str) -> RelativePath {
    RelativePath::new(text).unwrap()
}

async fn read_all(tree: &LocalTree, file: &str, offset: u64) -> Vec<u8> {
    let mut content = Vec::new();
    tree.open_read(&path(file), offset)
        .await
        .unwrap()
        .read_to_end(&mut content)
        .await
        .unwrap();
    content
}

async fn write_all(tree: &LocalTree, file: &str, offset: u64, content: &[u8]) {
    let mut writer = tree.open_write(&path(file), offset).await.unwrap();
    writer.write_all(content).await.unwrap();
    writer.shutdown().await.unwrap();
}

#[tokio::test]
async fn reads_writes_lists_and_sets_metadata() {
    let root = TempDir::new().unwrap();
    let tree = LocalTree::open(root.path()).unwrap();
    tree.create_dir_all(&path("a/b/c")).await.unwrap();
    write_all(&tree, "a/b/file", 0, b"hello world").await;
    assert_eq!(read_all(&tree, "a/b/file", 6).await, b"world");
    // Resuming keeps the first bytes and drops the rest.
    write_all(&tree, "a/b/file", 5, b"!").await;
    assert_eq!(fs::read(root.path().join("a/b/file")).unwrap(), b"hello!");

    let modified = SystemTime::UNIX_EPOCH + Duration::new(1_600_000_000, 987_654_321);
    tree.set_metadata(&path("a/b/file"), Some(modified), Some(0o640))
        .await
        .unwrap();
    let metadata = tree.metadata(&path("a/b/file")).await.unwrap().unwrap();
    assert_eq!(
        (metadata.kind, metadata.size, metadata.mode),
        (EntryKind::File, 6, Some(0o640))
    );
    assert_eq!(metadata.modified, Some(modified));
    assert_eq!(
        metadata.device,
        Some(fs::metadata(root.path()).unwrap().dev())
    );

    tree.symlink("../elsewhere", &path("a/link")).await.unwrap();
    assert_eq!(
        tree.read_link(&path("a/link")).await.unwrap(),
        "../elsewhere"
    );
    let names: Vec<(String, EntryKind)> = tree
        .list(&path("a"))
        .await
        .unwrap()
        .into_iter()
        .map(|(name, metadata)| (name, metadata.kind))
        .collect();
    assert_eq!(
        names,
        [
            ("b".to_string(), EntryKind::Directory),
            ("link".to_string(), EntryKind::Symlink)
        ]
    );

    tree.rename(&path("a/b/file"), &path("a/renamed"))
        .await
        .unwrap();
    assert!(tree.metadata(&path("a/b/file")).await.unwrap().is_none());
    tree.remove_file(&path("a/renamed")).await.unwrap();
    tree.remove_file(&path("a/link")).await.unwrap();
    tree.remove_dir(&path("a/b/c")).await.unwrap();
    assert!(tree.metadata(&path("a/b/c")).await.unwrap().is_none());
    assert!(
        tree.metadata(&path("missing/deeper"))
            .await
            .unwrap()
            .is_none()
    );
    let missing = tree.open_read(&path("missing"), 0).await.err().unwrap();
    assert_eq!(missing.kind, ErrorKind::NotFound);
    assert!(tree.free_space().await.unwrap().unwrap() > 0);
    assert!(tree.describe().starts_with("local:"));
}

#[tokio::test]
async fn sync_takes_files_one_by_one_or_the_whole_file_system() {
    let root = TempDir::new().unwrap();
    let tree = LocalTree::open(root.path()).unwrap();
    let mut files = Vec::new();
    for index in 0..40 {
        let file = format!("d{}/e/file{index}", index % 3);
        tree.create_dir_all(&path(&file).parent()).await.unwrap();
        write_all(&tree, &file, 0, b"content").await;
        files.push(path(&file));
    }
    // A few files are synced one by one with their folders; one removed meanwhile is skipped.
    fs::remove_file(root.path().join("d0/e/file0")).unwrap();
    tree.sync(&files[..3]).await.unwrap();
    // A file that became a symlink is not followed.
    fs::remove_file(root.path().join("d1/e/file1")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", root.path().join("d1/e/file1")).unwrap();
    assert!(tree.sync(&files[..3]).await.is_err());
    // Many files: one sync of the file system.
    tree.sync(&files).await.unwrap();
    tree.sync(&[]).await.unwrap();
}

#[tokio::test]
async fn renames_beside_across_and_at_the_root_and_rewrites_from_the_start() {
    let root = TempDir::new().unwrap();
    let tree = LocalTree::open(root.path()).unwrap();
    tree.create_dir_all(&path("a/b")).await.unwrap();
    write_all(&tree, "a/b/.file.partial", 0, b"long content").await;
    // Writing from the start again keeps nothing of what was there.
    write_all(&tree, "a/b/.file.partial", 0, b"short").await;
    // Beside (one walk to the shared folder), across folders, and at the root.
    tree.rename(&path("a/b/.file.partial"), &path("a/b/file"))
        .await
        .unwrap();
    assert_eq!(fs::read(root.path().join("a/b/file")).unwrap(), b"short");
    tree.rename(&path("a/b/file"), &path("top")).await.unwrap();
    tree.rename(&path("top"), &path("top-renamed"))
        .await
        .unwrap();
    tree.rename(&path("top-renamed"), &path("a/b/back"))
        .await
        .unwrap();
    assert_eq!(fs::read(root.path().join("a/b/back")).unwrap(), b"short");
    assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1);
    // The root itself is never a rename's destination.
    assert!(tree.rename(&path("a/b/back"), &path("")).await.is_err());
    // Within a folder reached through a symlink: refused like any other walk through one.
    symlink(root.path().join("a"), root.path().join("a-link")).unwrap();
    assert!(
        tree.rename(&path("a-link/b/back"), &path("a-link/b/moved"))
            .await
            .is_err()
    );
    assert!(root.path().join("a/b/back").exists());
}

#[tokio::test]
async fn symlinks_inside_the_tree_never_lead_outside() {
    let root = TempDir::new().unwrap();
    let outside = TempDir::new().unwrap();
    fs::write(outside.path().join("secret"), b"secret").unwrap();
    fs::set_permissions(
        outside.path().join("secret"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    symlink(outside.path(), root.path().join("dir-link")).unwrap();
    symlink(outside.path().join("secret"), root.path().join("file-link")).unwrap();
    let tree = LocalTree::open(root.path()).unwrap();

    // Through a directory symlink: nothing can be read, listed, created or written.
    assert!(tree.open_read(&path("dir-link/secret"), 0).await.is_err());
    assert!(tree.list(&path("dir-link")).await.is_err());
    assert!(tree.metadata(&path("dir-link/secret")).await.is_err());
    assert!(tree.open_write(&path("dir-link/new"), 0).await.is_err());
    assert!(tree.create_dir_all(&path("dir-link/sub")).await.is_err());
    assert!(tree.symlink("x", &path("dir-link/planted")).await.is_err());
    assert!(
        tree.rename(&path("dir-link/secret"), &path("stolen"))
            .await
            .is_err()
    );
    assert!(tree.remove_file(&path("dir-link/secret")).await.is_err());
    // At a symlink itself: reading and writing refuse, metadata changes never reach the target.
    assert!(tree.open_read(&path("file-link"), 0).await.is_err());
    assert!(tree.open_write(&path("file-link"), 0).await.is_err());
    let _ = tree
        .set_metadata(
            &path("file-link"),
            Some(SystemTime::UNIX_EPOCH),
            Some(0o777),
        )
        .await;
    let secret = fs::metadata(outside.path().join("secret")).unwrap();
    assert_eq!(secret.permissions().mode() & 0o777, 0o600);
    assert_ne!(secret.mtime(), 0);
    // The link's own metadata is what the tree reports; removing it removes only the link.
    let link = tree.metadata(&path("dir-link")).await.unwrap().unwrap();
    assert_eq!(link.kind, EntryKind::Symlink);
    tree.remove_file(&path("file-link")).await.unwrap();
    tree.remove_file(&path("dir-link")).await.unwrap();
    assert_eq!(fs::read(outside.path().join("secret")).unwrap(), b"secret");
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 1);
}

#[tokio::test]
async fn special_files_are_reported_and_never_opened() {
    let root = TempDir::new().unwrap();
    let fifo = root.path().join("pipe");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    let tree = LocalTree::open(root.path()).unwrap();
    let entries = tree.list(&RelativePath::root()).await.unwrap();
    assert_eq!(entries[0].1.kind, EntryKind::Other);
    // Opening a FIFO must fail at once, not block waiting for a writer.
    let opened =
        tokio::time::timeout(Duration::from_secs(5), tree.open_read(&path("pipe"), 0)).await;
    assert!(opened.expect("did not block").is_err());
}

#[test]
fn a_missing_root_is_a_clear_error() {
    let error = LocalTree::open("/nonexistent/ferry-test-root")
        .err()
        .unwrap();
    assert_eq!(error.kind, ErrorKind::NotFound);
    assert!(error.message.contains("/nonexistent/ferry-test-root"));
}

#[tokio::test]
async fn a_large_file_is_reserved_without_changing_its_length() {
    let root = TempDir::new().unwrap();
    let tree = LocalTree::open(root.path()).unwrap();
    write_all(&tree, "partial", 0, b"first bytes").await;
    let attributes = FileAttributes {
        size: Some(64 * 1024 * 1024),
        ..FileAttributes::default()
    };
    // Resuming at 5: the reservation must not move the end the next resume starts from.
    let mut writer = tree
        .open_write_with(&path("partial"), 5, &attributes)
        .await
        .unwrap();
    let metadata = fs::metadata(root.path().join("partial")).unwrap();
    assert_eq!(metadata.len(), 5);
    // The blocks are reserved at once (ext4, xfs, btrfs and tmpfs all can).
    assert!(metadata.blocks() * 512 >= 64 * 1024 * 1024 - 5);
    writer.write_all(b" more").await.unwrap();
    writer.shutdown().await.unwrap();
    assert_eq!(
        fs::read(root.path().join("partial")).unwrap(),
        b"first more"
    );
}
