//! `SftpTree` against real OpenSSH servers: login, host keys, every `FileTree` operation,
//! a 64 MiB round trip and concurrent use of the connection pool.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ferry::exec::transport::sftp::SftpTree;
use ferry::exec::transport::{EntryKind, ErrorKind, FileTree, RelativePath, TransportError};
use ferry::plan::valid::{SecretString, SftpSettings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::servers::{self, SftpServer, SftpServers};

fn settings(server: &SftpServer, known_hosts: &Path) -> SftpSettings {
    SftpSettings {
        port: server.port,
        root: None,
        key: None,
        host_key: None,
        known_hosts: Some(known_hosts.to_path_buf()),
        accept_new_host_key: false,
    }
}

fn password(servers: &SftpServers) -> SecretString {
    SecretString::new(servers.password.clone())
}

fn path(text: &str) -> RelativePath {
    RelativePath::new(text).expect("valid test path")
}

/// A fresh directory under the servers' data folder, owned by the SFTP user.
fn scratch(servers: &SftpServers, test: &str) -> PathBuf {
    let directory = servers.data.join(format!("{test}-{}", std::process::id()));
    if directory.exists() {
        std::fs::remove_dir_all(&directory).expect("clear old scratch directory");
    }
    std::fs::create_dir(&directory).expect("create scratch directory");
    let owner = std::fs::metadata(&servers.data).expect("data directory");
    std::os::unix::fs::chown(&directory, Some(owner.uid()), Some(owner.gid()))
        .expect("give the scratch directory to the SFTP user");
    directory
}

/// A tree on server A rooted at a fresh scratch directory, logged in with the password.
async fn scratch_tree(servers: &SftpServers, test: &str) -> (SftpTree, PathBuf) {
    let directory = scratch(servers, test);
    let mut settings = settings(&servers.a, &servers.known_hosts);
    settings.root = Some(directory.display().to_string());
    let tree = SftpTree::connect(
        &settings,
        servers.a.host,
        &servers.user,
        Some(&password(servers)),
        "web-01",
    )
    .await
    .expect("connect to server A");
    (tree, directory)
}

fn connect_error(result: Result<SftpTree, TransportError>) -> TransportError {
    match result {
        Ok(tree) => panic!("connecting to {} should have failed", tree.describe()),
        Err(error) => error,
    }
}

/// Deterministic pseudo-random bytes (xorshift), so large files do not compress or repeat.
fn pseudo_random(length: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut bytes = Vec::with_capacity(length + 8);
    while bytes.len() < length {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(length);
    bytes
}

async fn write_all(tree: &dyn FileTree, at: &RelativePath, offset: u64, data: &[u8]) {
    let mut writer = tree.open_write(at, offset).await.expect("open for writing");
    writer.write_all(data).await.expect("write");
    writer.shutdown().await.expect("close after writing");
}

async fn read_all(tree: &dyn FileTree, at: &RelativePath, offset: u64) -> Vec<u8> {
    let mut reader = tree.open_read(at, offset).await.expect("open for reading");
    let mut data = Vec::new();
    reader.read_to_end(&mut data).await.expect("read");
    data
}

#[tokio::test]
async fn password_login_reaches_the_file_system_root() {
    let Some(servers) = servers::sftp("password_login_reaches_the_file_system_root") else {
        return;
    };
    let settings = settings(&servers.a, &servers.known_hosts);
    let tree = SftpTree::connect(
        &settings,
        servers.a.host,
        &servers.user,
        Some(&password(&servers)),
        "web-01",
    )
    .await
    .expect("password login");
    let description = tree.describe();
    assert_eq!(
        description,
        format!(
            "sftp://{}@{}:{}/",
            servers.user, servers.a.host, servers.a.port
        )
    );
    assert!(!description.contains(&servers.password));
    assert!(!tree.is_windows_server());
    let etc = tree
        .metadata(&path("etc"))
        .await
        .unwrap()
        .expect("/etc exists");
    assert_eq!(etc.kind, EntryKind::Directory);
    let listing = tree.list(&RelativePath::root()).await.unwrap();
    let entry = |wanted: &str| {
        listing
            .iter()
            .find(|(name, _)| name == wanted)
            .map(|(_, metadata)| metadata.clone())
    };
    assert!(!listing.iter().any(|(name, _)| name == "." || name == ".."));
    // Directories carry a file system id: /proc is another file system than /etc.
    let etc_device = etc.device.expect("statvfs gives /etc a device id");
    assert_eq!(entry("etc").expect("/etc listed").device, Some(etc_device));
    let proc = entry("proc").expect("/proc listed");
    assert!(
        proc.device.is_some_and(|device| device != etc_device),
        "{proc:?}"
    );
    let proc = tree
        .metadata(&path("proc"))
        .await
        .unwrap()
        .expect("/proc exists");
    assert_ne!(proc.device, Some(etc_device));
    let root = tree.metadata(&RelativePath::root()).await.unwrap().unwrap();
    assert_eq!(root.device, Some(etc_device));
}

#[tokio::test]
async fn key_login_plain_and_encrypted_with_the_password() {
    let Some(servers) = servers::sftp("key_login_plain_and_encrypted_with_the_password") else {
        return;
    };
    let mut settings = settings(&servers.b, &servers.known_hosts);
    settings.key = Some(servers.key.clone());
    let tree = SftpTree::connect(&settings, servers.b.host, &servers.user, None, "db-01")
        .await
        .expect("key login without a password");
    assert!(tree.metadata(&path("etc")).await.unwrap().is_some());

    settings.key = Some(servers.key_encrypted.clone());
    SftpTree::connect(
        &settings,
        servers.b.host,
        &servers.user,
        Some(&password(&servers)),
        "db-01",
    )
    .await
    .expect("encrypted key decrypted with the password");
    let error = connect_error(
        SftpTree::connect(&settings, servers.b.host, &servers.user, None, "db-01").await,
    );
    assert_eq!(error.kind, ErrorKind::Authentication);
    assert!(error.message.contains("encrypted"), "{}", error.message);

    // A key the server does not accept falls back to the password.
    let directory = tempfile::tempdir().unwrap();
    let stranger = directory.path().join("stranger");
    let generated = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&stranger)
        .status()
        .expect("run ssh-keygen");
    assert!(generated.success());
    settings.key = Some(stranger);
    SftpTree::connect(
        &settings,
        servers.b.host,
        &servers.user,
        Some(&password(&servers)),
        "db-01",
    )
    .await
    .expect("password after a refused key");
}

#[tokio::test]
async fn wrong_password_is_an_authentication_error_without_the_password() {
    let Some(servers) =
        servers::sftp("wrong_password_is_an_authentication_error_without_the_password")
    else {
        return;
    };
    let settings = settings(&servers.a, &servers.known_hosts);
    let wrong = SecretString::new("not-the-Password-42".into());
    let error = connect_error(
        SftpTree::connect(
            &settings,
            servers.a.host,
            &servers.user,
            Some(&wrong),
            "web-01",
        )
        .await,
    );
    assert_eq!(error.kind, ErrorKind::Authentication, "{}", error.message);
    assert!(!error.is_retryable());
    assert!(
        !error.message.contains("not-the-Password-42"),
        "{}",
        error.message
    );
    assert!(!error.message.contains(&servers.password));
    assert!(error.message.contains(&servers.user), "{}", error.message);
}

#[tokio::test]
async fn pinned_fingerprints_must_match() {
    let Some(servers) = servers::sftp("pinned_fingerprints_must_match") else {
        return;
    };
    // Pinning bypasses known_hosts entirely: point it at a file that does not exist.
    let nowhere = tempfile::tempdir().unwrap();
    let mut settings = settings(&servers.a, &nowhere.path().join("known_hosts"));
    settings.host_key = Some(servers.a.fingerprint.clone());
    SftpTree::connect(
        &settings,
        servers.a.host,
        &servers.user,
        Some(&password(&servers)),
        "web-01",
    )
    .await
    .expect("pinned fingerprint matches");

    settings.host_key = Some(servers.b.fingerprint.clone());
    let error = connect_error(
        SftpTree::connect(
            &settings,
            servers.a.host,
            &servers.user,
            Some(&password(&servers)),
            "web-01",
        )
        .await,
    );
    assert_eq!(error.kind, ErrorKind::HostKey);
    assert!(
        error.message.contains(&servers.a.fingerprint),
        "{}",
        error.message
    );
    assert!(
        error.message.contains(&servers.b.fingerprint),
        "{}",
        error.message
    );
    assert!(!nowhere.path().join("known_hosts").exists());
}

#[tokio::test]
async fn known_hosts_plain_and_hashed_entries_match() {
    let Some(servers) = servers::sftp("known_hosts_plain_and_hashed_entries_match") else {
        return;
    };
    for known_hosts in [&servers.known_hosts, &servers.known_hosts_hashed] {
        for server in [&servers.a, &servers.b] {
            let settings = settings(server, known_hosts);
            SftpTree::connect(
                &settings,
                server.host,
                &servers.user,
                Some(&password(&servers)),
                "web-01",
            )
            .await
            .unwrap_or_else(|error| {
                panic!("{} via {}: {error}", server.host, known_hosts.display())
            });
        }
    }
}

#[tokio::test]
async fn unknown_keys_are_refused_unless_accepted_and_changed_keys_always() {
    let Some(servers) =
        servers::sftp("unknown_keys_are_refused_unless_accepted_and_changed_keys_always")
    else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let known_hosts = directory.path().join("known_hosts");
    let mut settings = settings(&servers.a, &known_hosts);
    let error = connect_error(
        SftpTree::connect(
            &settings,
            servers.a.host,
            &servers.user,
            Some(&password(&servers)),
            "web-01",
        )
        .await,
    );
    assert_eq!(error.kind, ErrorKind::HostKey);
    assert!(error.message.contains("unknown"), "{}", error.message);
    assert!(
        error.message.contains(&servers.a.fingerprint),
        "{}",
        error.message
    );
    assert!(error.message.contains("host_key"), "{}", error.message);
    assert!(!known_hosts.exists(), "a refused key must not be recorded");

    settings.accept_new_host_key = true;
    SftpTree::connect(
        &settings,
        servers.a.host,
        &servers.user,
        Some(&password(&servers)),
        "web-01",
    )
    .await
    .expect("accept_new_host_key accepts an unknown key");
    let recorded = std::fs::read_to_string(&known_hosts).unwrap();
    assert!(
        recorded.starts_with(&format!(
            "[{}]:{} ssh-ed25519 ",
            servers.a.host, servers.a.port
        )),
        "{recorded}"
    );
    settings.accept_new_host_key = false;
    SftpTree::connect(
        &settings,
        servers.a.host,
        &servers.user,
        Some(&password(&servers)),
        "web-01",
    )
    .await
    .expect("the recorded key is known now");

    // Server B's key recorded under A's address: A's real key is a CHANGED key.
    let b_key = std::fs::read_to_string(&servers.known_hosts)
        .unwrap()
        .lines()
        .find(|line| line.starts_with(&format!("[{}]:{}", servers.b.host, servers.b.port)))
        .map(|line| line.split_once(' ').unwrap().1.to_string())
        .expect("server B in known_hosts");
    std::fs::write(
        &known_hosts,
        format!("[{}]:{} {b_key}\n", servers.a.host, servers.a.port),
    )
    .unwrap();
    settings.accept_new_host_key = true;
    let error = connect_error(
        SftpTree::connect(
            &settings,
            servers.a.host,
            &servers.user,
            Some(&password(&servers)),
            "web-01",
        )
        .await,
    );
    assert_eq!(error.kind, ErrorKind::HostKey);
    assert!(error.message.contains("CHANGED"), "{}", error.message);
    assert!(
        error.message.contains(&servers.a.fingerprint),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn unreachable_servers_are_retryable_connection_errors() {
    let Some(servers) = servers::sftp("unreachable_servers_are_retryable_connection_errors") else {
        return;
    };
    let mut settings = settings(&servers.a, &servers.known_hosts);
    settings.port = 1;
    let error = connect_error(
        SftpTree::connect(
            &settings,
            servers.a.host,
            &servers.user,
            Some(&password(&servers)),
            "web-01",
        )
        .await,
    );
    assert_eq!(error.kind, ErrorKind::Connection, "{}", error.message);
    assert!(error.is_retryable());
}

#[tokio::test]
async fn every_file_tree_operation_round_trips() {
    let Some(servers) = servers::sftp("every_file_tree_operation_round_trips") else {
        return;
    };
    let (tree, local) = scratch_tree(&servers, "round-trip").await;
    let tree: &dyn FileTree = &tree;
    assert!(
        tree.describe().ends_with(&local.display().to_string()),
        "{}",
        tree.describe()
    );

    // Directories.
    tree.create_dir_all(&path("a/b/c")).await.unwrap();
    tree.create_dir_all(&path("a/b/c"))
        .await
        .expect("create_dir_all is idempotent");
    assert!(local.join("a/b/c").is_dir());

    // Write, read, read at an offset.
    let file = path("a/b/data.bin");
    write_all(tree, &file, 0, b"hello, ferry").await;
    assert_eq!(
        std::fs::read(local.join("a/b/data.bin")).unwrap(),
        b"hello, ferry"
    );
    assert_eq!(read_all(tree, &file, 0).await, b"hello, ferry");
    assert_eq!(read_all(tree, &file, 7).await, b"ferry");

    // Resume: keep the first 7 bytes, drop the rest, append.
    write_all(tree, &file, 7, b"world").await;
    assert_eq!(
        std::fs::read(local.join("a/b/data.bin")).unwrap(),
        b"hello, world"
    );
    // Offset 0 truncates.
    write_all(tree, &file, 0, b"short").await;
    assert_eq!(read_all(tree, &file, 0).await, b"short");
    // Resuming past the end is refused rather than leaving a hole.
    let error = tree
        .open_write(&file, 100)
        .await
        .err()
        .expect("offset past the end");
    assert!(
        error.message.contains("holds only 5 bytes"),
        "{}",
        error.message
    );

    // Metadata.
    let metadata = tree.metadata(&file).await.unwrap().expect("file exists");
    assert_eq!(metadata.kind, EntryKind::File);
    assert_eq!(metadata.size, 5);
    assert!(tree.metadata(&path("a/missing")).await.unwrap().is_none());
    let missing = tree
        .open_read(&path("a/missing"), 0)
        .await
        .err()
        .expect("missing file");
    assert_eq!(missing.kind, ErrorKind::NotFound, "{}", missing.message);

    // set_metadata, then metadata shows it.
    let modified = UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    tree.set_metadata(&file, Some(modified), Some(0o640))
        .await
        .unwrap();
    let metadata = tree.metadata(&file).await.unwrap().unwrap();
    assert_eq!(metadata.modified, Some(modified));
    assert_eq!(metadata.mode, Some(0o640));
    assert_eq!(
        std::fs::metadata(local.join("a/b/data.bin"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777,
        0o640
    );

    // Rename replacing an existing file.
    let other = path("a/other.txt");
    write_all(tree, &other, 0, b"old target").await;
    tree.rename(&file, &other)
        .await
        .expect("rename replaces the target");
    assert_eq!(read_all(tree, &other, 0).await, b"short");
    assert!(tree.metadata(&file).await.unwrap().is_none());

    // Symlinks: created with the right direction, listed and stat'ed without following.
    tree.symlink("../etc-elsewhere", &path("a/link"))
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_link(local.join("a/link")).unwrap(),
        Path::new("../etc-elsewhere")
    );
    assert_eq!(
        tree.read_link(&path("a/link")).await.unwrap(),
        "../etc-elsewhere"
    );
    tree.symlink("/etc", &path("a/etc")).await.unwrap();
    let link = tree.metadata(&path("a/etc")).await.unwrap().unwrap();
    assert_eq!(link.kind, EntryKind::Symlink);
    // Setting metadata on a symlink must not touch what it points to.
    let etc_mode = std::fs::metadata("/etc").unwrap().permissions().mode();
    tree.set_metadata(&path("a/etc"), Some(modified), Some(0o700))
        .await
        .unwrap();
    assert_eq!(
        std::fs::metadata("/etc").unwrap().permissions().mode(),
        etc_mode
    );

    // List.
    let listing = tree.list(&path("a")).await.unwrap();
    let summary: Vec<(&str, EntryKind)> = listing
        .iter()
        .map(|(name, metadata)| (name.as_str(), metadata.kind))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("b", EntryKind::Directory),
            ("etc", EntryKind::Symlink),
            ("link", EntryKind::Symlink),
            ("other.txt", EntryKind::File),
        ]
    );

    // Free space is known on OpenSSH.
    let free = tree
        .free_space()
        .await
        .unwrap()
        .expect("statvfs@openssh.com");
    assert!(free > 0);

    // Remove everything.
    tree.remove_file(&path("a/link")).await.unwrap();
    tree.remove_file(&path("a/etc")).await.unwrap();
    assert!(std::path::Path::new("/etc").is_dir());
    tree.remove_file(&other).await.unwrap();
    let not_empty = tree
        .remove_dir(&path("a/b"))
        .await
        .expect_err("a/b still holds c");
    assert_ne!(not_empty.kind, ErrorKind::NotFound);
    tree.remove_dir(&path("a/b/c")).await.unwrap();
    tree.remove_dir(&path("a/b")).await.unwrap();
    tree.remove_dir(&path("a")).await.unwrap();
    assert!(tree.list(&RelativePath::root()).await.unwrap().is_empty());
    let gone = tree
        .remove_file(&path("a"))
        .await
        .expect_err("nothing to remove");
    assert_eq!(gone.kind, ErrorKind::NotFound, "{}", gone.message);
    std::fs::remove_dir_all(local).unwrap();
}

#[tokio::test]
async fn permission_denied_is_reported_as_such() {
    let Some(servers) = servers::sftp("permission_denied_is_reported_as_such") else {
        return;
    };
    let mut settings = settings(&servers.a, &servers.known_hosts);
    settings.root = Some("/etc".into());
    let tree = SftpTree::connect(
        &settings,
        servers.a.host,
        &servers.user,
        Some(&password(&servers)),
        "web-01",
    )
    .await
    .unwrap();
    let error = tree
        .open_write(&path("ferry-must-not-write-here"), 0)
        .await
        .err()
        .expect("/etc is root's");
    assert_eq!(error.kind, ErrorKind::PermissionDenied, "{}", error.message);
    assert!(
        error.message.contains("/etc/ferry-must-not-write-here"),
        "{}",
        error.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_64_mib_file_round_trips_with_equal_hashes() {
    let Some(servers) = servers::sftp("a_64_mib_file_round_trips_with_equal_hashes") else {
        return;
    };
    let (tree, local) = scratch_tree(&servers, "big-file").await;
    let data = pseudo_random(64 * 1024 * 1024 + 12_345, 7);
    let expected = blake3::hash(&data);
    let file = path("big.bin");
    let started = SystemTime::now();
    write_all(&tree, &file, 0, &data).await;
    assert_eq!(
        blake3::hash(&std::fs::read(local.join("big.bin")).unwrap()),
        expected
    );
    let downloaded = read_all(&tree, &file, 0).await;
    assert_eq!(downloaded.len(), data.len());
    assert_eq!(blake3::hash(&downloaded), expected);
    let tail = read_all(&tree, &file, 50_000_000).await;
    assert_eq!(tail, data[50_000_000..]);
    eprintln!(
        "64 MiB up and down in {:?}",
        started.elapsed().unwrap_or_default()
    );
    std::fs::remove_dir_all(local).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_operations_spread_over_the_pool() {
    let Some(servers) = servers::sftp("concurrent_operations_spread_over_the_pool") else {
        return;
    };
    let (tree, local) = scratch_tree(&servers, "concurrent").await;
    let tree = Arc::new(tree);
    assert_eq!(tree.open_connections().await, 1);
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..12_u64 {
        let tree = tree.clone();
        tasks.spawn(async move {
            let directory = path(&format!("d{}", index % 3));
            tree.create_dir_all(&directory).await.unwrap();
            let file = directory.join(&format!("f{index}")).unwrap();
            let data = pseudo_random(3 * 1024 * 1024 + index as usize, index + 1);
            write_all(tree.as_ref(), &file, 0, &data).await;
            assert_eq!(read_all(tree.as_ref(), &file, 0).await, data);
            tree.metadata(&file).await.unwrap().unwrap().size
        });
    }
    let mut total = 0;
    while let Some(result) = tasks.join_next().await {
        total += result.expect("task succeeded");
    }
    assert_eq!(total, 12 * 3 * 1024 * 1024 + (0..12).sum::<u64>());
    let connections = tree.open_connections().await;
    assert!(
        (2..=4).contains(&connections),
        "{connections} connections open"
    );
    for index in 0..3 {
        assert_eq!(
            tree.list(&path(&format!("d{index}"))).await.unwrap().len(),
            4
        );
    }
    std::fs::remove_dir_all(local).unwrap();
}

#[tokio::test]
async fn a_missing_root_is_created_on_demand() {
    let Some(servers) = servers::sftp("a_missing_root_is_created_on_demand") else {
        return;
    };
    let local = scratch(&servers, "missing-root");
    let mut settings = settings(&servers.b, &servers.known_hosts);
    settings.root = Some(format!("{}/not/yet/", local.display()));
    let tree = SftpTree::connect(
        &settings,
        servers.b.host,
        &servers.user,
        Some(&password(&servers)),
        "db-01",
    )
    .await
    .unwrap();
    assert!(
        tree.metadata(&RelativePath::root())
            .await
            .unwrap()
            .is_none()
    );
    let free = tree.free_space().await.unwrap();
    assert!(free.is_some_and(|bytes| bytes > 0), "{free:?}");
    tree.create_dir_all(&path("C/Users")).await.unwrap();
    assert!(local.join("not/yet/C/Users").is_dir());
    std::fs::remove_dir_all(local).unwrap();
}
