//! End to end over SFTP against the real test servers: an SFTP source to a local target, and a
//! local source to an SFTP target (key login), byte-identical, and a re-run copies nothing.
//! Skipped (with a line) when the servers are not running, unless `FERRY_REQUIRE_SERVERS=1`.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Entry, entries};
use crate::support::command::Ferry;
use crate::support::servers::{self, SftpServers};

/// A fresh directory under the servers' data folder, owned by the SFTP user.
pub(super) fn scratch(servers: &SftpServers, name: &str) -> PathBuf {
    let directory = servers
        .data
        .join(format!("run-{name}-{}", std::process::id()));
    if directory.exists() {
        std::fs::remove_dir_all(&directory).expect("clear an old scratch directory");
    }
    std::fs::create_dir(&directory).expect("create a scratch directory");
    chown_like(&servers.data, &directory);
    directory
}

/// Gives `path` (recursively, links included) to the owner of `model`.
pub(super) fn chown_like(model: &Path, path: &Path) {
    let owner = std::fs::metadata(model).expect("model");
    let status = std::process::Command::new("chown")
        .args(["-hR", &format!("{}:{}", owner.uid(), owner.gid())])
        .arg(path)
        .status()
        .expect("run chown");
    assert!(status.success());
}

/// Source data: nested folders, modes, a symlink, and a nested mount (`/data`) copied on its own.
fn fill(root: &Path) {
    let files = [
        ("etc/hostname", "app-01\n"),
        ("data/db/table.bin", "rows"),
        ("srv/www/index.html", "<h1>hi</h1>"),
    ];
    for (path, content) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("folders");
        std::fs::write(&path, content).expect("write");
    }
    std::fs::write(root.join("srv/big.bin"), vec![7u8; 3 * 1024 * 1024 + 17])
        .expect("write a larger file");
    symlink("../etc/hostname", root.join("srv/hostname-link")).expect("symlink");
}

/// SFTP times are whole seconds: compare entries at that precision.
pub(super) fn to_seconds(entries: BTreeMap<String, Entry>) -> BTreeMap<String, Entry> {
    let whole = |time: SystemTime| {
        UNIX_EPOCH
            + Duration::from_secs(
                time.duration_since(UNIX_EPOCH)
                    .map_or(0, |since| since.as_secs()),
            )
    };
    entries
        .into_iter()
        .map(|(path, entry)| {
            let entry = match entry {
                Entry::File {
                    mode,
                    modified,
                    blake3,
                    size,
                } => Entry::File {
                    mode,
                    modified: whole(modified),
                    blake3,
                    size,
                },
                Entry::Directory { mode, modified } => Entry::Directory {
                    mode,
                    modified: whole(modified),
                },
                link => link,
            };
            (path, entry)
        })
        .collect()
}

pub(super) fn sftp_connection(servers: &SftpServers, port: u16, root: &Path, key: bool) -> String {
    let key = if key {
        format!(", key: '{}'", servers.key.display())
    } else {
        String::new()
    };
    format!(
        "{{ sftp: {{ port: {port}, root: '{}', known_hosts: '{}'{key} }} }}",
        root.display(),
        servers.known_hosts.display()
    )
}

fn plan(source_ip: &str, source: &str, target_ip: &str, target: &str) -> String {
    format!(
        "version: 1
sources:
  app:
    ip: {source_ip}
    credentials: {{ username: ferry-test, password: {{ env: FERRY_TEST_RUN_PASSWORD }} }}
    mountpoints: [{{ name: /, size: 1 GiB }}, {{ name: /data, size: 1 GiB }}, {{ name: /srv, size: 1 GiB }}]
    connection: {source}
targets:
  vm:
    cloud: vsphere
    credentials: {{ username: admin, password: {{ env: FERRY_TEST_UNSET_CLOUD }} }}
    vm:
      ip: {target_ip}
      credentials: {{ username: ferry-test, password: {{ env: FERRY_TEST_RUN_PASSWORD }} }}
      connection: {target}
migrations:
  - {{ name: app, source: app, target: vm, mounts: [/, /srv] }}
"
    )
}

/// Runs the plan twice: the first copies `/` and `/srv` (never `/data`), the second nothing.
fn run_twice(ferry: &Ferry, source: &Path, target: &Path) {
    let first = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(first.code, 0, "{}", first.snapshot());
    let expected = to_seconds(entries(source, &["data"]));
    assert!(expected.contains_key("data") && expected.contains_key("srv/big.bin"));
    assert_eq!(to_seconds(entries(target, &[])), expected);
    let second = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(second.code, 0, "{}", second.snapshot());
    assert!(
        second
            .stderr
            .contains("migration app: succeeded before and unchanged since; nothing to do"),
        "{}",
        second.stderr
    );
}

#[test]
fn an_sftp_source_runs_to_a_local_target_byte_identical() {
    let Some(servers) = servers::sftp("an_sftp_source_runs_to_a_local_target_byte_identical")
    else {
        return;
    };
    let source = scratch(&servers, "source");
    fill(&source);
    chown_like(&servers.data, &source);
    let connection = sftp_connection(&servers, servers.a.port, &source, false);
    let text = plan(
        &servers.a.host.to_string(),
        &connection,
        "198.51.100.70",
        "{ local: { path: ./out } }",
    );
    let ferry = Ferry::new()
        .file("plan.yaml", text)
        .env("FERRY_TEST_RUN_PASSWORD", &servers.password);
    run_twice(&ferry, &source, &ferry.directory().join("out"));
    std::fs::remove_dir_all(&source).expect("clean up");
}

#[test]
fn a_local_source_runs_to_an_sftp_target_with_a_key() {
    let Some(servers) = servers::sftp("a_local_source_runs_to_an_sftp_target_with_a_key") else {
        return;
    };
    let target = scratch(&servers, "target");
    let ferry = Ferry::new();
    let source = ferry.directory().join("source");
    fill(&source);
    let connection = sftp_connection(&servers, servers.b.port, &target, true);
    let text = plan(
        "192.0.2.70",
        "{ local: { path: ./source } }",
        &servers.b.host.to_string(),
        &connection,
    );
    // The key logs in; the password variable is left unset to show it is not needed.
    let ferry = ferry.file("plan.yaml", text);
    run_twice(&ferry, &source, &target);
    std::fs::remove_dir_all(&target).expect("clean up");
}
