//! `ferry run` end to end from a local source to object-storage targets on the real test servers
//! (`scripts/object-servers.sh`): s3s-fs, moto and nanio for `s3`, Azurite for `azblob`. The staged objects
//! are read back through `ObjectStoreTree`: byte-identical, with the source's mtime, mode and BLAKE3
//! hash as metadata; a re-run copies nothing; a changed and a deleted source file are synced; wrong
//! keys fail before any data moves, with no secret in the output.
//! Skipped (with a line) when the servers are not running, unless `FERRY_REQUIRE_SERVERS=1`.

use std::collections::BTreeMap;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::time::{Duration, SystemTime};

use ferry::exec::transport::object_store::{ObjectStoreTree, PART_SIZE};
use ferry::exec::transport::{EntryKind, FileTree, RelativePath};
use ferry::plan::valid::{
    AzureBlobKey, AzureBlobSettings, S3Settings, SecretRef, SecretString, Spanned,
};
use tokio::io::AsyncReadExt;

use super::{Entry, entries};
use crate::support::command::Ferry;

/// The environment variable the plans read the store's key from.
pub(super) const KEY_VARIABLE: &str = "FERRY_TEST_STORE_KEY";

/// One object store the tests can stage to.
pub(super) struct Store {
    pub(super) name: &'static str,
    pub(super) cloud: &'static str,
    /// The bucket or container's name.
    pub(super) bucket: String,
    /// The plan's `connection` for a prefix.
    pub(super) connection: Box<dyn Fn(&str) -> String>,
    /// The cloud credentials' username (access key id or account).
    pub(super) username: String,
    pub(super) secret: String,
    /// Whether it checks keys (moto accepts any).
    pub(super) checks_credentials: bool,
    /// Opens the same bucket or container below a prefix, to read back what ferry wrote.
    pub(super) open: Box<dyn Fn(&str) -> ObjectStoreTree>,
}

fn variable(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

fn s3_store(
    name: &'static str,
    endpoint: String,
    bucket: String,
    username: String,
    secret: String,
    checks_credentials: bool,
) -> Store {
    let connection = {
        let (endpoint, bucket) = (endpoint.clone(), bucket.clone());
        move |prefix: &str| {
            format!("{{ s3: {{ bucket: {bucket}, prefix: '{prefix}', endpoint: '{endpoint}' }} }}")
        }
    };
    let (key_id, key) = (username.clone(), secret.clone());
    Store {
        name,
        cloud: "aws",
        bucket: bucket.clone(),
        connection: Box::new(connection),
        username,
        secret,
        checks_credentials,
        open: Box::new(move |prefix| {
            let settings = S3Settings {
                bucket: bucket.clone(),
                prefix: prefix.to_string(),
                region: "us-east-1".to_string(),
                endpoint: Some(endpoint.clone()),
                access_key_id: key_id.clone(),
                secret_access_key: Spanned::unplaced(SecretRef::Env(KEY_VARIABLE.to_string())),
            };
            ObjectStoreTree::connect_s3(&settings, &SecretString::new(key.clone()))
                .expect("valid S3 settings")
        }),
    }
}

/// The stores in the environment; `None` (after a skip line) when there are none.
pub(super) fn stores(test: &str) -> Option<Vec<Store>> {
    let mut stores = Vec::new();
    // s3s-fs and nanio check the same key (scripts/object-servers.sh); moto accepts any.
    let checked_key =
        variable("FERRY_S3_ACCESS_KEY_ID").zip(variable("FERRY_S3_SECRET_ACCESS_KEY"));
    let any_key = Some(("testing".to_string(), "testing-secret".to_string()));
    for (name, server, key, checks) in [
        ("s3s-fs", "S3", &checked_key, true),
        ("moto", "MOTO", &any_key, false),
        ("nanio", "NANIO", &checked_key, true),
    ] {
        let endpoint = variable(&format!("FERRY_{server}_ENDPOINT"));
        let bucket = variable(&format!("FERRY_{server}_BUCKET"));
        if let (Some(endpoint), Some(bucket), Some((key_id, secret))) =
            (endpoint, bucket, key.clone())
        {
            stores.push(s3_store(name, endpoint, bucket, key_id, secret, checks));
        }
    }
    if let (Some(endpoint), Some(account), Some(key), Some(container)) = (
        variable("FERRY_AZURE_ENDPOINT"),
        variable("FERRY_AZURE_ACCOUNT"),
        variable("FERRY_AZURE_KEY"),
        variable("FERRY_AZURE_CONTAINER"),
    ) {
        let connection = {
            let (endpoint, container) = (endpoint.clone(), container.clone());
            move |prefix: &str| {
                format!(
                    "{{ azblob: {{ container: {container}, prefix: '{prefix}', endpoint: '{endpoint}' }} }}"
                )
            }
        };
        let (username, secret) = (account.clone(), key.clone());
        stores.push(Store {
            name: "azurite",
            cloud: "azure",
            bucket: container.clone(),
            connection: Box::new(connection),
            username,
            secret,
            checks_credentials: true,
            open: Box::new(move |prefix| {
                let settings = AzureBlobSettings {
                    container: container.clone(),
                    prefix: prefix.to_string(),
                    account: account.clone(),
                    endpoint: Some(endpoint.clone()),
                    key: AzureBlobKey::AccountKey(Spanned::unplaced(SecretRef::Env(
                        KEY_VARIABLE.to_string(),
                    ))),
                };
                ObjectStoreTree::connect_azure_blob(&settings, &SecretString::new(key.clone()))
                    .expect("valid Azure settings")
            }),
        });
    }
    let clouds = |cloud: &str| stores.iter().any(|store| store.cloud == cloud);
    if clouds("aws") && clouds("azure") {
        return Some(stores);
    }
    assert!(
        variable("FERRY_REQUIRE_SERVERS").is_none(),
        "FERRY_REQUIRE_SERVERS is set but the object-storage servers' environment is missing: \
         run `scripts/object-servers.sh start` and `eval \"$(scripts/object-servers.sh env)\"`"
    );
    println!(
        "skipped {test}: no S3 and Azure servers in the environment (scripts/object-servers.sh)"
    );
    None
}

fn plan(store: &Store, prefix: &str) -> String {
    format!(
        "version: 1
sources:
  app:
    ip: 192.0.2.80
    credentials: {{ username: root, password: {{ env: FERRY_TEST_UNSET_SOURCE_PASSWORD }} }}
    mountpoints: [{{ name: /, size: 1 GiB }}, {{ name: /srv, size: 1 GiB }}, {{ name: /scratch, size: 1 GiB }}]
    connection: {{ local: {{ path: ./source }} }}
targets:
  staged:
    cloud: {cloud}
    credentials: {{ username: {username}, password: {{ env: {KEY_VARIABLE} }}, domain: us-east-1 }}
    vm:
      ip: 198.51.100.80
      credentials: {{ username: root, password: {{ env: FERRY_TEST_UNSET_VM_PASSWORD }} }}
      connection: {connection}
migrations:
  - {{ name: app, source: app, target: staged, mounts: [/, /srv] }}
",
        cloud = store.cloud,
        username = store.username,
        connection = (store.connection)(prefix),
    )
}

/// Source data: nested folders, modes, a symlink, a file spanning several upload parts, and a
/// nested mount (`/scratch`) that is not migrated.
fn fill(root: &Path) {
    let files = [
        ("etc/hostname", &b"app-01\n"[..]),
        ("etc/secret.conf", b"mode 600"),
        ("srv/www/index.html", b"<h1>hi</h1>"),
        ("srv/www/empty.txt", b""),
        ("scratch/tmp.bin", b"never staged"),
    ];
    for (path, content) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("folders");
        std::fs::write(&path, content).expect("write");
    }
    std::fs::set_permissions(
        root.join("etc/secret.conf"),
        std::fs::Permissions::from_mode(0o600),
    )
    .expect("chmod");
    let big: Vec<u8> = (0..PART_SIZE + (1 << 20) + 3)
        .map(|index| (index % 251) as u8)
        .collect();
    std::fs::write(root.join("srv/big.bin"), big).expect("write the multipart file");
    symlink("../etc/hostname", root.join("srv/hostname-link")).expect("symlink");
    let old = SystemTime::UNIX_EPOCH + Duration::new(1_600_000_000, 123_456_789);
    std::fs::File::options()
        .write(true)
        .open(root.join("etc/hostname"))
        .and_then(|file| file.set_modified(old))
        .expect("set an mtime with nanoseconds");
}

/// Files and symlinks as `entries` reports them (object stores keep no folders of their own).
pub(super) fn files_and_links(entries: BTreeMap<String, Entry>) -> BTreeMap<String, Entry> {
    entries
        .into_iter()
        .filter(|(_, entry)| !matches!(entry, Entry::Directory { .. }))
        .collect()
}

/// Everything below a store prefix, read back through the tree, in `entries`' terms.
pub(super) async fn staged(tree: &ObjectStoreTree) -> BTreeMap<String, Entry> {
    let mut found = BTreeMap::new();
    let mut pending = vec![RelativePath::root()];
    while let Some(directory) = pending.pop() {
        for (name, metadata) in tree.list(&directory).await.expect("list") {
            let path = directory.join(&name).expect("a valid name");
            let entry = match metadata.kind {
                EntryKind::Directory => {
                    pending.push(path);
                    continue;
                }
                EntryKind::Symlink => Entry::Symlink {
                    target: tree.read_link(&path).await.expect("read a link"),
                },
                _ => {
                    let mut bytes = Vec::new();
                    tree.open_read(&path, 0)
                        .await
                        .expect("open")
                        .read_to_end(&mut bytes)
                        .await
                        .expect("read");
                    let hash = blake3::hash(&bytes);
                    assert_eq!(
                        tree.content_hash(&path).await.expect("hash metadata"),
                        Some(*hash.as_bytes()),
                        "{path}: the recorded BLAKE3 is the content's"
                    );
                    Entry::File {
                        mode: metadata.mode.expect("a recorded mode"),
                        modified: metadata.modified.expect("a recorded mtime"),
                        blake3: hash.to_hex().to_string(),
                        size: bytes.len() as u64,
                    }
                }
            };
            found.insert(path.as_str().to_string(), entry);
        }
    }
    found
}

/// Removes everything below the prefix, so the shared bucket stays clean.
pub(super) async fn clear(tree: &ObjectStoreTree) {
    let mut pending = vec![RelativePath::root()];
    while let Some(directory) = pending.pop() {
        for (name, metadata) in tree.list(&directory).await.expect("list") {
            let path = directory.join(&name).expect("a valid name");
            if metadata.kind == EntryKind::Directory {
                pending.push(path);
            } else {
                tree.remove_file(&path).await.expect("remove");
            }
        }
    }
}

pub(super) fn prefix(store: &Store, test: &str) -> String {
    format!("ferry-run-{test}-{}-{}", store.name, std::process::id())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_source_is_staged_to_every_object_store_and_kept_in_sync() {
    let Some(stores) = stores("a_local_source_is_staged_to_every_object_store_and_kept_in_sync")
    else {
        return;
    };
    for store in &stores {
        let prefix = prefix(store, "sync");
        let ferry = Ferry::new()
            .file("plan.yaml", plan(store, &prefix))
            .env(KEY_VARIABLE, &store.secret);
        let source = ferry.directory().join("source");
        fill(&source);
        let tree = (store.open)(&prefix);
        clear(&tree).await;

        let first = ferry.run_with(&["run", "plan.yaml"]);
        assert_eq!(first.code, 0, "{}: {}", store.name, first.snapshot());
        let expected = files_and_links(entries(&source, &["scratch"]));
        assert!(expected.contains_key("srv/big.bin") && expected.contains_key("srv/hostname-link"));
        assert_eq!(staged(&tree).await, expected, "{}", store.name);
        assert!(
            !first.stdout.contains(&store.secret) && !first.stderr.contains(&store.secret),
            "{}: the key leaked",
            store.name
        );

        let second = ferry.run_with(&["run", "plan.yaml"]);
        assert_eq!(second.code, 0, "{}: {}", store.name, second.snapshot());
        assert!(
            second
                .stderr
                .contains("migration app: succeeded before and unchanged since; nothing to do"),
            "{}: {}",
            store.name,
            second.stderr
        );

        // A changed file is uploaded again (whole), a deleted one removed from the store.
        std::fs::write(source.join("srv/www/index.html"), "<h1>changed</h1>").expect("change");
        std::fs::remove_file(source.join("etc/secret.conf")).expect("delete");
        let plan_after = ferry.run_with(&["plan", "plan.yaml"]);
        assert!(
            plan_after.stdout.contains("1 to sync"),
            "{}: {}",
            store.name,
            plan_after.stdout
        );
        let third = ferry.run_with(&["run", "plan.yaml"]);
        assert_eq!(third.code, 0, "{}: {}", store.name, third.snapshot());
        let expected = files_and_links(entries(&source, &["scratch"]));
        assert!(!expected.contains_key("etc/secret.conf"));
        assert_eq!(staged(&tree).await, expected, "{}", store.name);
        let last = ferry.run_with(&["plan", "plan.yaml"]);
        assert!(
            last.stdout.contains("1 with nothing to do"),
            "{}: {}",
            store.name,
            last.stdout
        );
        clear(&tree).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_key_fails_before_any_data_moves_and_is_never_shown() {
    let Some(stores) = stores("a_wrong_key_fails_before_any_data_moves_and_is_never_shown") else {
        return;
    };
    for store in stores.iter().filter(|store| store.checks_credentials) {
        let prefix = prefix(store, "wrong-key");
        // Azure keys are base64: a wrong one must still decode to reach the server.
        let wrong = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk=";
        let ferry = Ferry::new()
            .file("plan.yaml", plan(store, &prefix))
            .env(KEY_VARIABLE, wrong);
        fill(&ferry.directory().join("source"));
        let outcome = ferry.run_with(&["run", "plan.yaml"]);
        assert_ne!(outcome.code, 0, "{}: {}", store.name, outcome.snapshot());
        let output = format!("{}{}", outcome.stdout, outcome.stderr);
        assert!(
            output.contains("target `staged`"),
            "{}: the failure names the target: {output}",
            store.name
        );
        assert!(
            !output.contains(wrong),
            "{}: the key leaked: {output}",
            store.name
        );
        let tree = (store.open)(&prefix);
        assert!(
            tree.list(&RelativePath::root())
                .await
                .expect("list")
                .is_empty(),
            "{}: nothing was staged",
            store.name
        );
    }
}

#[test]
fn a_missing_store_key_or_sas_token_is_refused_where_the_plan_keeps_it() {
    // No server is needed: secrets are resolved before anything is opened.
    let text = "version: 1
sources:
  app:
    ip: 192.0.2.81
    credentials: { username: root, password: { env: FERRY_TEST_UNSET_SOURCE_PASSWORD } }
    mountpoints: [{ name: /, size: 1 GiB }]
    connection: { local: { path: ./source } }
targets:
  aws-1:
    cloud: aws
    credentials: { username: AKIAEXAMPLE, password: { env: FERRY_TEST_UNSET_AWS_KEY } }
    vm:
      ip: 198.51.100.81
      credentials: { username: root, password: { env: FERRY_TEST_UNSET_VM_PASSWORD } }
      connection: { s3: { bucket: ferry-staging } }
  azure-1:
    cloud: azure
    credentials: { username: ferrystaging, password: { env: FERRY_TEST_UNSET_AZURE_KEY } }
    vm:
      ip: 198.51.100.82
      credentials: { username: root, password: { env: FERRY_TEST_UNSET_VM_PASSWORD } }
      connection: { azblob: { container: ferry-staging, sas_token: { env: FERRY_TEST_UNSET_SAS } } }
migrations:
  - { name: to-aws, source: app, target: aws-1, mounts: [/] }
  - { name: to-azure, source: app, target: azure-1, mounts: [/] }
";
    let ferry = Ferry::new()
        .file("plan.yaml", text)
        .file("source/etc/hostname", "app\n");
    let outcome = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    let output = format!("{}{}", outcome.stdout, outcome.stderr);
    for expected in [
        "`FERRY_TEST_UNSET_AWS_KEY` is not set",
        "this key cannot be resolved",
        "the SAS token of target `azure-1` is needed by its azblob connection",
        "this SAS token cannot be resolved",
    ] {
        assert!(output.contains(expected), "{expected}: {output}");
    }
    // The account key is not needed when a SAS token opens the container, nor any VM password.
    assert_eq!(
        output.matches("error[missing-secret]").count(),
        2,
        "{output}"
    );
    for unneeded in ["FERRY_TEST_UNSET_AZURE_KEY", "FERRY_TEST_UNSET_VM_PASSWORD"] {
        assert!(
            !output.contains(&format!("`{unneeded}` is not set")),
            "{output}"
        );
    }
}

#[test]
fn a_missing_bucket_or_container_is_reported_not_created() {
    let Some(stores) = stores("a_missing_bucket_or_container_is_reported_not_created") else {
        return;
    };
    for store in &stores {
        let missing = format!("ferry-missing-{}", std::process::id());
        let text = plan(store, "wave-1").replace(
            &format!(": {}, prefix", store.bucket),
            &format!(": {missing}, prefix"),
        );
        assert!(text.contains(&missing), "{text}");
        let ferry = Ferry::new()
            .file("plan.yaml", text)
            .env(KEY_VARIABLE, &store.secret);
        fill(&ferry.directory().join("source"));
        let preview = ferry.run_with(&["plan", "plan.yaml"]);
        let expected = "does not exist (ferry does not create buckets or containers)";
        assert!(
            preview.stdout.contains(expected),
            "{}: {}",
            store.name,
            preview.snapshot()
        );
        let outcome = ferry.run_with(&["run", "plan.yaml"]);
        assert_ne!(outcome.code, 0, "{}: {}", store.name, outcome.snapshot());
        assert!(
            outcome.stderr.contains(expected),
            "{}: {}",
            store.name,
            outcome.snapshot()
        );
    }
}

/// The keys below a prefix, without reading them (objects ferry did not write have no metadata).
async fn keys(tree: &ObjectStoreTree) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![RelativePath::root()];
    while let Some(directory) = pending.pop() {
        for (name, metadata) in tree.list(&directory).await.expect("list") {
            let path = directory.join(&name).expect("a valid name");
            if metadata.kind == EntryKind::Directory {
                pending.push(path);
            } else {
                found.push(path.as_str().to_string());
            }
        }
    }
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn objects_ferry_did_not_write_are_refused_kept_or_mirrored_away() {
    use tokio::io::AsyncWriteExt;
    let Some(stores) = stores("objects_ferry_did_not_write_are_refused_kept_or_mirrored_away")
    else {
        return;
    };
    for store in &stores {
        let prefix = prefix(store, "foreign");
        let ferry = Ferry::new()
            .file("plan.yaml", plan(store, &prefix))
            .env(KEY_VARIABLE, &store.secret);
        fill(&ferry.directory().join("source"));
        let tree = (store.open)(&prefix);
        clear(&tree).await;
        // Someone else's object inside a selected mount.
        let theirs = RelativePath::new("srv/www/theirs.txt").expect("a valid path");
        let mut writer = tree.open_write(&theirs, 0).await.expect("open");
        writer.write_all(b"theirs").await.expect("write");
        writer.shutdown().await.expect("upload");

        let refused = ferry.run_with(&["run", "plan.yaml"]);
        assert_eq!(refused.code, 1, "{}: {}", store.name, refused.snapshot());
        assert!(
            refused.stdout.contains("\"srv/www/theirs.txt\"")
                && refused.stdout.contains("--adopt-existing"),
            "{}: {}",
            store.name,
            refused.stdout
        );
        assert_eq!(keys(&tree).await, ["srv/www/theirs.txt"], "{}", store.name);

        let adopted = ferry.run_with(&["run", "plan.yaml", "--adopt-existing"]);
        assert_eq!(adopted.code, 0, "{}: {}", store.name, adopted.snapshot());
        let staged_keys = keys(&tree).await;
        assert!(
            staged_keys.contains(&"srv/www/theirs.txt".to_string())
                && staged_keys.contains(&"srv/big.bin".to_string()),
            "{}: {staged_keys:?}",
            store.name
        );

        let mirrored = ferry.run_with(&["run", "plan.yaml", "--mirror"]);
        assert_eq!(mirrored.code, 0, "{}: {}", store.name, mirrored.snapshot());
        assert!(
            !keys(&tree)
                .await
                .contains(&"srv/www/theirs.txt".to_string()),
            "{}",
            store.name
        );
        clear(&tree).await;
    }
}

#[test]
fn an_object_store_is_opened_with_object_stores_own_retries_only() {
    // No server: a listener that hangs up on every connection, counting them (one per try).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen on loopback");
    let port = listener.local_addr().expect("its address").port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&accepted);
    std::thread::spawn(move || {
        for connection in listener.incoming() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(connection);
        }
    });
    let text = format!(
        "version: 1
sources:
  app:
    ip: 192.0.2.83
    credentials: {{ username: root, password: {{ env: FERRY_TEST_UNSET_SOURCE_PASSWORD }} }}
    mountpoints: [{{ name: /, size: 1 GiB }}]
    connection: {{ local: {{ path: ./source }} }}
targets:
  staged:
    cloud: aws
    credentials: {{ username: AKIAEXAMPLE, password: {{ env: {KEY_VARIABLE} }}, domain: us-east-1 }}
    vm:
      ip: 198.51.100.83
      credentials: {{ username: root, password: {{ env: FERRY_TEST_UNSET_VM_PASSWORD }} }}
      connection: {{ s3: {{ bucket: ferry-staging, endpoint: 'http://127.0.0.1:{port}' }} }}
migrations:
  - {{ name: app, source: app, target: staged, mounts: [/] }}
"
    );
    let ferry = Ferry::new()
        .file("plan.yaml", text)
        .file("source/etc/hostname", "app\n")
        .env(KEY_VARIABLE, "not-a-real-key");
    let outcome = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    // object_store tries its one listing request at most 4 times (3 retries, `RetryConfig`);
    // ferry's own retries (`transport::retry`) do not multiply them.
    let tries = accepted.load(std::sync::atomic::Ordering::SeqCst);
    assert!((1..=4).contains(&tries), "{tries} connections");
}
