//! `ObjectStoreTree` against real servers: s3s-fs and moto (S3) and Azurite (Azure Blob), started by
//! `scripts/object-servers.sh start`; run with `eval "$(scripts/object-servers.sh env)"` first.
//! Without the servers' environment the tests print a skip line, unless `FERRY_REQUIRE_SERVERS=1`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ferry::exec::transport::object_store::{ObjectStoreTree, PART_SIZE};
use ferry::exec::transport::{EntryKind, ErrorKind, FileAttributes, FileTree, RelativePath};
use ferry::plan::valid::{
    AzureBlobKey, AzureBlobSettings, S3Settings, SecretRef, SecretString, Spanned,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Opens a tree on a server under a prefix with a secret.
type Connect = Box<dyn Fn(&str, &str) -> ObjectStoreTree>;

/// One server the tests can reach.
struct Server {
    name: &'static str,
    /// Whether it checks signatures (moto accepts any key).
    checks_credentials: bool,
    /// Whether it lists unfinished multipart uploads (moto; s3s-fs answers 501, Azure has no such list).
    lists_uploads: bool,
    is_s3: bool,
    connect: Connect,
    secret: String,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// `checks`: the server checks signatures (and, as s3s-fs, has no ListMultipartUploads) or not (moto).
fn s3_server(
    name: &'static str,
    endpoint: String,
    bucket: String,
    key_id: String,
    secret: String,
    checks: bool,
) -> Server {
    Server {
        name,
        is_s3: true,
        checks_credentials: checks,
        lists_uploads: !checks,
        secret: secret.clone(),
        connect: Box::new(move |prefix, secret| {
            let settings = S3Settings {
                bucket: bucket.clone(),
                prefix: prefix.to_string(),
                region: "us-east-1".to_string(),
                endpoint: Some(endpoint.clone()),
                access_key_id: key_id.clone(),
                secret_access_key: Spanned::unplaced(SecretRef::Env("UNUSED".to_string())),
            };
            ObjectStoreTree::connect_s3(&settings, &SecretString::new(secret.to_string()))
                .expect("the S3 settings are valid")
        }),
    }
}

/// The servers in the environment; `None` (after a skip line) when there are none.
fn servers(test: &str) -> Option<Vec<Server>> {
    let mut servers = Vec::new();
    if let (Some(endpoint), Some(bucket), Some(key_id), Some(secret)) = (
        env("FERRY_S3_ENDPOINT"),
        env("FERRY_S3_BUCKET"),
        env("FERRY_S3_ACCESS_KEY_ID"),
        env("FERRY_S3_SECRET_ACCESS_KEY"),
    ) {
        servers.push(s3_server("s3s-fs", endpoint, bucket, key_id, secret, true));
    }
    if let (Some(endpoint), Some(bucket)) = (env("FERRY_MOTO_ENDPOINT"), env("FERRY_MOTO_BUCKET")) {
        servers.push(s3_server(
            "moto",
            endpoint,
            bucket,
            "testing".into(),
            "testing-secret".into(),
            false,
        ));
    }
    if let (Some(endpoint), Some(account), Some(key), Some(container)) = (
        env("FERRY_AZURE_ENDPOINT"),
        env("FERRY_AZURE_ACCOUNT"),
        env("FERRY_AZURE_KEY"),
        env("FERRY_AZURE_CONTAINER"),
    ) {
        servers.push(Server {
            name: "azurite",
            is_s3: false,
            checks_credentials: true,
            lists_uploads: false,
            secret: key,
            connect: Box::new(move |prefix, secret| {
                let settings = AzureBlobSettings {
                    container: container.clone(),
                    prefix: prefix.to_string(),
                    account: account.clone(),
                    endpoint: Some(endpoint.clone()),
                    key: AzureBlobKey::AccountKey(Spanned::unplaced(SecretRef::Env(
                        "UNUSED".to_string(),
                    ))),
                };
                ObjectStoreTree::connect_azure_blob(
                    &settings,
                    &SecretString::new(secret.to_string()),
                )
                .expect("the Azure settings are valid")
            }),
        });
    }
    let has_s3 = servers.iter().any(|server| server.is_s3);
    let has_azure = servers.iter().any(|server| !server.is_s3);
    if has_s3 && has_azure {
        return Some(servers);
    }
    assert!(
        env("FERRY_REQUIRE_SERVERS").is_none(),
        "FERRY_REQUIRE_SERVERS is set but the object-storage servers' environment is missing: \
         run `scripts/object-servers.sh start` and `eval \"$(scripts/object-servers.sh env)\"`"
    );
    println!(
        "skipped {test}: no S3 and Azure servers in the environment (scripts/object-servers.sh)"
    );
    None
}

impl Server {
    /// A tree under a prefix no other test run uses.
    fn tree(&self, test: &str) -> ObjectStoreTree {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        (self.connect)(
            &format!("it/{test}-{}-{nanos}", std::process::id()),
            &self.secret,
        )
    }
}

fn path(text: &str) -> RelativePath {
    RelativePath::new(text).expect("a valid relative path")
}

/// Reproducible pseudo-random bytes.
fn content(seed: &str, length: usize) -> Vec<u8> {
    let mut bytes = vec![0; length];
    blake3::Hasher::new()
        .update(seed.as_bytes())
        .finalize_xof()
        .fill(&mut bytes);
    bytes
}

async fn write(tree: &ObjectStoreTree, name: &str, bytes: &[u8], attributes: &FileAttributes) {
    let mut writer = tree
        .open_write_with(&path(name), 0, attributes)
        .await
        .expect("open for writing");
    // Uneven pieces, as a copy loop hands them over.
    for piece in bytes.chunks(3 << 20 | 12345) {
        writer.write_all(piece).await.expect("write");
    }
    writer.shutdown().await.expect("complete the upload");
}

async fn read(tree: &ObjectStoreTree, name: &str, offset: u64) -> Vec<u8> {
    let mut reader = tree
        .open_read(&path(name), offset)
        .await
        .expect("open for reading");
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).await.expect("read");
    bytes
}

async fn names(tree: &ObjectStoreTree, directory: &str) -> Vec<(String, EntryKind)> {
    let entries = tree.list(&path(directory)).await.expect("list");
    entries
        .into_iter()
        .map(|(name, metadata)| (name, metadata.kind))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn files_round_trip_with_implicit_folders() {
    let Some(servers) = servers("files_round_trip_with_implicit_folders") else {
        return;
    };
    for server in &servers {
        let tree = server.tree("round-trip");
        assert!(tree.capabilities().atomic_writes);
        tree.create_dir_all(&path("C/Users/alice"))
            .await
            .expect("folders are implied");
        assert_eq!(
            tree.metadata(&path("C")).await.unwrap(),
            None,
            "{}: no object, no folder yet",
            server.name
        );

        let big = content("big", 40 << 20);
        write(
            &tree,
            "C/Users/alice/disk.bin",
            &big,
            &FileAttributes::default(),
        )
        .await;
        let small = content("small", 1000);
        write(
            &tree,
            "C/Users/notes.txt",
            &small,
            &FileAttributes::default(),
        )
        .await;
        write(&tree, "C/empty", b"", &FileAttributes::default()).await;
        write(
            &tree,
            "C/Program Files/ü & +.txt",
            b"odd names",
            &FileAttributes::default(),
        )
        .await;

        assert!(
            read(&tree, "C/Users/alice/disk.bin", 0).await == big,
            "{}: 40 MiB differ",
            server.name
        );
        assert_eq!(
            read(&tree, "C/Users/alice/disk.bin", (30 << 20) + 7).await,
            big[(30 << 20) + 7..]
        );
        assert_eq!(read(&tree, "C/Users/notes.txt", 0).await, small);
        assert_eq!(read(&tree, "C/Users/notes.txt", 1000).await, b"");
        assert_eq!(read(&tree, "C/empty", 0).await, b"");
        assert_eq!(
            read(&tree, "C/Program Files/ü & +.txt", 0).await,
            b"odd names"
        );

        assert_eq!(
            names(&tree, "").await,
            [("C".to_string(), EntryKind::Directory)]
        );
        assert_eq!(
            names(&tree, "C").await,
            [
                ("Program Files".to_string(), EntryKind::Directory),
                ("Users".to_string(), EntryKind::Directory),
                ("empty".to_string(), EntryKind::File),
            ],
            "{}",
            server.name
        );
        let users = tree.list(&path("C/Users")).await.unwrap();
        assert_eq!(users[0].0, "alice");
        assert_eq!((users[1].0.as_str(), users[1].1.size), ("notes.txt", 1000));

        let disk = tree
            .metadata(&path("C/Users/alice/disk.bin"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((disk.kind, disk.size), (EntryKind::File, 40 << 20));
        assert_eq!(
            tree.metadata(&path("C/Users")).await.unwrap().unwrap().kind,
            EntryKind::Directory
        );
        assert_eq!(tree.metadata(&path("C/Use")).await.unwrap(), None);
        // The writer hashes what it uploads: one PUT, and a multipart upload (recorded afterwards).
        assert_eq!(
            tree.content_hash(&path("C/Users/notes.txt")).await.unwrap(),
            Some(*blake3::hash(&small).as_bytes())
        );
        assert_eq!(
            tree.content_hash(&path("C/Users/alice/disk.bin"))
                .await
                .unwrap(),
            Some(*blake3::hash(&big).as_bytes()),
            "{}",
            server.name
        );
        let missing = tree
            .open_read(&path("C/nothing"), 0)
            .await
            .err()
            .expect("a missing file");
        assert_eq!(missing.kind, ErrorKind::NotFound);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mtime_mode_and_symlinks_are_object_metadata() {
    let Some(servers) = servers("mtime_mode_and_symlinks_are_object_metadata") else {
        return;
    };
    let mtime = UNIX_EPOCH + Duration::new(1_600_000_000, 987_654_321);
    for server in &servers {
        let tree = server.tree("metadata");
        let attributes = FileAttributes {
            modified: Some(mtime),
            mode: Some(0o640),
            content_hash: None,
            size: None,
        };
        write(&tree, "data/given.txt", b"given at upload", &attributes).await;
        let given = tree
            .metadata(&path("data/given.txt"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (given.modified, given.mode),
            (Some(mtime), Some(0o640)),
            "{}",
            server.name
        );

        // The engine's usual order: write, then set_metadata.
        write(
            &tree,
            "data/later.txt",
            b"set afterwards",
            &FileAttributes::default(),
        )
        .await;
        tree.set_metadata(&path("data/later.txt"), Some(mtime), Some(0o600))
            .await
            .expect("set metadata");
        let later = tree
            .metadata(&path("data/later.txt"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (later.modified, later.mode, later.size),
            (Some(mtime), Some(0o600), 14),
            "{}",
            server.name
        );
        assert_eq!(read(&tree, "data/later.txt", 0).await, b"set afterwards");
        assert_eq!(
            tree.content_hash(&path("data/later.txt")).await.unwrap(),
            Some(*blake3::hash(b"set afterwards").as_bytes()),
            "{}: replacing metadata keeps the hash",
            server.name
        );

        tree.symlink("../given.txt", &path("data/link"))
            .await
            .expect("symlink");
        assert_eq!(
            tree.read_link(&path("data/link")).await.unwrap(),
            "../given.txt"
        );
        let listed = tree.list(&path("data")).await.unwrap();
        let link = listed
            .iter()
            .find(|(name, _)| name == "link")
            .expect("the link is listed");
        assert_eq!(link.1.kind, EntryKind::Symlink);
        let listed_given = listed.iter().find(|(name, _)| name == "given.txt").unwrap();
        assert_eq!(
            listed_given.1.modified,
            Some(mtime),
            "{}: list reads ferry's mtime",
            server.name
        );

        tree.rename(&path("data/given.txt"), &path("data/moved.txt"))
            .await
            .expect("rename");
        assert_eq!(tree.metadata(&path("data/given.txt")).await.unwrap(), None);
        let moved = tree
            .metadata(&path("data/moved.txt"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((moved.modified, moved.mode), (Some(mtime), Some(0o640)));
        assert_eq!(read(&tree, "data/moved.txt", 0).await, b"given at upload");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_files_and_folders() {
    let Some(servers) = servers("removing_files_and_folders") else {
        return;
    };
    for server in &servers {
        let tree = server.tree("remove");
        write(&tree, "D/a/one.txt", b"1", &FileAttributes::default()).await;
        let refused = tree.remove_dir(&path("D/a")).await.expect_err("not empty");
        assert_eq!(refused.kind, ErrorKind::Other);
        tree.remove_file(&path("D/a/one.txt"))
            .await
            .expect("remove");
        assert_eq!(tree.metadata(&path("D/a/one.txt")).await.unwrap(), None);
        if server.name != "s3s-fs" {
            // s3s-fs keeps the emptied folder on its disk and answers 500 to a HEAD of its name.
            assert_eq!(
                tree.metadata(&path("D/a")).await.unwrap(),
                None,
                "{}: the folder went with its last file",
                server.name
            );
        }
        assert!(
            tree.list(&path("D")).await.unwrap().is_empty(),
            "{}",
            server.name
        );
        tree.remove_dir(&path("D/a"))
            .await
            .expect("an empty prefix is removed already");
        let missing = tree
            .remove_file(&path("D/a/one.txt"))
            .await
            .expect_err("already gone");
        assert_eq!(missing.kind, ErrorKind::NotFound);
        let resume = tree
            .open_write(&path("D/b"), 10)
            .await
            .err()
            .expect("no resume on object storage");
        assert!(
            resume.message.contains("restart the file from byte 0"),
            "{}",
            resume.message
        );
        assert_eq!(tree.free_space().await.unwrap(), None);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn aborted_uploads_leave_nothing_behind() {
    let Some(servers) = servers("aborted_uploads_leave_nothing_behind") else {
        return;
    };
    for server in &servers {
        let tree = server.tree("abort");
        let bytes = content("aborted", 20 << 20);
        let mut writer = tree.open_write(&path("E/aborted.bin"), 0).await.unwrap();
        writer.write_all(&bytes).await.unwrap();
        writer.flush().await.unwrap();
        drop(writer);
        assert_eq!(
            tree.metadata(&path("E/aborted.bin")).await.unwrap(),
            None,
            "{}",
            server.name
        );
        if server.lists_uploads {
            let mut left = tree.incomplete_uploads().await.expect("list uploads");
            for _ in 0..50 {
                if left.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
                left = tree.incomplete_uploads().await.unwrap();
            }
            assert!(
                left.is_empty(),
                "{}: the dropped upload was not aborted: {left:?}",
                server.name
            );

            // A killed process never runs the writer's drop: its upload stays until cleaned up.
            let mut writer = tree.open_write(&path("E/killed.bin"), 0).await.unwrap();
            writer.write_all(&bytes).await.unwrap();
            writer.flush().await.unwrap();
            std::mem::forget(writer);
            assert_eq!(
                tree.incomplete_uploads().await.unwrap(),
                [tree_key(&tree, "E/killed.bin")]
            );
            assert_eq!(tree.cleanup_incomplete_uploads().await.expect("cleanup"), 1);
            assert!(tree.incomplete_uploads().await.unwrap().is_empty());
        }
        assert_eq!(
            tree.metadata(&path("E")).await.unwrap(),
            None,
            "{}",
            server.name
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_announced_hash_is_recorded_and_a_wrong_one_publishes_nothing() {
    let Some(servers) = servers("an_announced_hash_is_recorded_and_a_wrong_one_publishes_nothing")
    else {
        return;
    };
    for server in &servers {
        let tree = server.tree("announced");
        // One PUT and a multipart upload of three parts and a bit, each with the size announced.
        for (name, length) in [("small.bin", 70_000), ("large.bin", 3 * PART_SIZE + 4321)] {
            let bytes = content(name, length);
            let announced = FileAttributes {
                content_hash: Some(*blake3::hash(&bytes).as_bytes()),
                size: Some(length as u64),
                ..FileAttributes::default()
            };
            write(&tree, name, &bytes, &announced).await;
            assert!(
                read(&tree, name, 0).await == bytes,
                "{}: {name}",
                server.name
            );
            assert_eq!(
                tree.content_hash(&path(name)).await.unwrap(),
                announced.content_hash,
                "{}: {name}",
                server.name
            );

            // The bytes changed after they were hashed: the writer refuses to complete.
            let wrong = FileAttributes {
                content_hash: Some(*blake3::hash(b"something else").as_bytes()),
                ..announced
            };
            let target = format!("wrong-{name}");
            let mut writer = tree
                .open_write_with(&path(&target), 0, &wrong)
                .await
                .unwrap();
            writer.write_all(&bytes).await.unwrap();
            let refused = writer.shutdown().await.expect_err("a hash mismatch");
            assert!(
                refused
                    .to_string()
                    .contains("changed while it was uploaded"),
                "{}: {refused}",
                server.name
            );
            drop(writer);
            assert_eq!(tree.metadata(&path(&target)).await.unwrap(), None);
        }
        if server.lists_uploads {
            let mut left = tree.incomplete_uploads().await.unwrap();
            for _ in 0..50 {
                if left.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
                left = tree.incomplete_uploads().await.unwrap();
            }
            assert!(left.is_empty(), "{}: left {left:?}", server.name);
        }
    }
}

/// The full key of a path in a tree, from its description (`s3://bucket/PREFIX at ...`).
fn tree_key(tree: &ObjectStoreTree, name: &str) -> String {
    let description = tree.describe();
    let prefix = description
        .split_whitespace()
        .next()
        .and_then(|url| url.splitn(4, '/').nth(3))
        .expect("a prefix in the description");
    format!("{prefix}/{name}")
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_credentials_are_an_authentication_error_without_the_secret() {
    let Some(servers) = servers("wrong_credentials_are_an_authentication_error_without_the_secret")
    else {
        return;
    };
    for server in servers.iter().filter(|server| server.checks_credentials) {
        // A key of the right shape (Azure keys are base64) but the wrong value.
        let wrong = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk=";
        let tree = (server.connect)("it/wrong-credentials", wrong);
        let error = tree.metadata(&path("anything")).await.expect_err("refused");
        assert_eq!(
            error.kind,
            ErrorKind::Authentication,
            "{}: {}",
            server.name,
            error.message
        );
        assert!(!error.is_retryable());
        assert!(
            !error.message.contains(wrong),
            "{}: {}",
            server.name,
            error.message
        );
        assert!(!error.message.contains(&server.secret));
        let error = tree
            .open_write(&path("x"), 0)
            .await
            .unwrap()
            .shutdown()
            .await
            .expect_err("refused");
        assert!(!error.to_string().contains(wrong), "{error}");
    }
}
