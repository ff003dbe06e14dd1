//! `ferry check --connect` end to end with the real binary: local plans (ready, a missing mount,
//! no room, missing secrets, a hung server), and the real SFTP test servers (good and wrong
//! password, unknown host key). Nothing is ever written to the targets.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::support::command::{Ferry, Outcome};
use crate::support::servers::{self, SftpServers};

/// A plan with one migration `app` from source `app` to target `vm`, both reached by the given
/// connections (YAML flow mappings), selecting `/` and `/srv` (never `/data`).
fn plan(source: &str, target: &str, size: &str) -> String {
    plan_with_ips("192.0.2.70", source, "198.51.100.70", target, size)
}

pub(crate) fn plan_with_ips(
    source_ip: &str,
    source: &str,
    target_ip: &str,
    target: &str,
    size: &str,
) -> String {
    format!(
        "version: 1
sources:
  app:
    ip: {source_ip}
    credentials: {{ username: ferry-test, password: {{ env: FERRY_TEST_PREFLIGHT_SOURCE_PASSWORD }} }}
    mountpoints: [{{ name: /, size: {size} }}, {{ name: /data, size: {size} }}, {{ name: /srv, size: {size} }}]
    connection: {source}
targets:
  vm:
    cloud: vsphere
    credentials: {{ username: admin, password: {{ env: FERRY_TEST_PREFLIGHT_CLOUD }} }}
    vm:
      ip: {target_ip}
      credentials: {{ username: ferry-test, password: {{ env: FERRY_TEST_PREFLIGHT_TARGET_PASSWORD }} }}
      connection: {target}
migrations:
  - {{ name: app, source: app, target: vm, mounts: [/, /srv] }}
"
    )
}

/// Source data: the `/` mount is the root, `/srv` and (unselected) `/data` are folders in it.
fn fill(root: &Path) {
    for (path, content) in [
        ("etc/hostname", "app-01\n"),
        ("srv/www/index.html", "<h1>hi</h1>"),
        ("data/db/table.bin", "rows"),
    ] {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("folders");
        std::fs::write(&path, content).expect("write");
    }
}

/// The table's rows for one role (`source` or `target`).
pub(crate) fn row<'a>(outcome: &'a Outcome, role: &str) -> &'a str {
    outcome
        .stdout
        .lines()
        .find(|line| line.starts_with("app ") && line.split_whitespace().nth(1) == Some(role))
        .unwrap_or_else(|| panic!("no {role} row in:\n{}", outcome.snapshot()))
}

/// A row's cells: columns are separated by at least two spaces.
fn cells(line: &str) -> Vec<&str> {
    line.split("  ")
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .collect()
}

/// A row's status and detail.
fn status(outcome: &Outcome, role: &str) -> (String, String) {
    let cells = cells(row(outcome, role));
    assert_eq!(cells.len(), 6, "{cells:?}");
    (cells[4].to_string(), cells[5].to_string())
}

/// Every file below `root`, to prove `check --connect` wrote nothing.
fn listing(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).expect("list") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path.clone());
            }
            found.push(path);
        }
    }
    found.sort();
    found
}

/// Stable snapshots: free-space figures vary by machine.
fn table_filters() -> Vec<(&'static str, &'static str)> {
    vec![(r"[0-9.]+ [KMGTPE]?i?B free", "[FREE] free")]
}

#[test]
fn a_local_plan_with_everything_present_is_ready() {
    let ferry = Ferry::new().file(
        "plan.yaml",
        plan(
            "{ local: { path: ./source } }",
            "{ local: { path: ./out/vm } }",
            "1 MiB",
        ),
    );
    fill(&ferry.directory().join("source"));
    let before = listing(ferry.directory());
    let outcome = ferry.run_with(&["check", "--connect", "plan.yaml"]);
    assert_eq!(outcome.code, 0, "{}", outcome.snapshot());
    assert_eq!(
        status(&outcome, "source"),
        ("ready".to_string(), "2 mounts readable".to_string())
    );
    assert!(
        row(&outcome, "target").contains("needs 2.0 MiB"),
        "{}",
        outcome.stdout
    );
    assert!(row(&outcome, "target").contains("its directory will be created"));
    // Nothing written: no target directory, no state file.
    assert_eq!(listing(ferry.directory()), before);
    insta::with_settings!({ filters => table_filters() }, {
        insta::assert_snapshot!("preflight-local-ready", outcome.snapshot());
    });
}

#[test]
fn a_missing_source_mount_is_not_ready_with_the_reason() {
    let ferry = Ferry::new().file(
        "plan.yaml",
        plan(
            "{ local: { path: ./source } }",
            "{ local: { path: ./out } }",
            "1 MiB",
        ),
    );
    let source = ferry.directory().join("source");
    fill(&source);
    std::fs::remove_dir_all(source.join("srv")).expect("remove /srv");
    std::fs::create_dir(ferry.directory().join("out")).expect("target");
    let outcome = ferry.run_with(&["check", "--connect", "plan.yaml"]);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    let source_row = row(&outcome, "source");
    assert!(
        source_row.contains("not ready  mount /srv: `srv` does not exist"),
        "{source_row}"
    );
    assert!(!source_row.contains("(retryable)"));
    assert!(row(&outcome, "target").contains(" ready "));
    assert!(outcome.stdout.contains("1 of 2 endpoints not ready."));
}

#[test]
fn a_target_without_enough_free_space_is_not_ready() {
    let ferry = Ferry::new().file(
        "plan.yaml",
        plan(
            "{ local: { path: ./source } }",
            "{ local: { path: ./out } }",
            "1 PiB",
        ),
    );
    fill(&ferry.directory().join("source"));
    std::fs::create_dir(ferry.directory().join("out")).expect("target");
    let outcome = ferry.run_with(&["check", "--connect", "plan.yaml"]);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    let target_row = row(&outcome, "target");
    assert!(
        target_row.contains("not ready  not enough free space: needs 2.0 PiB, "),
        "{target_row}"
    );
    assert!(row(&outcome, "source").contains(" ready "));
    insta::with_settings!({ filters => table_filters() }, {
        insta::assert_snapshot!("preflight-local-no-room", outcome.snapshot());
    });
}

#[test]
fn missing_secrets_are_reported_all_at_once_and_those_ends_are_not_ready() {
    // Both ends log in with passwords from unset variables: two missing-secret errors, and no
    // connection is attempted for either (the addresses are documentation-only, unreachable).
    let sftp =
        "{ sftp: { port: 22, host_key: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s' } }";
    let ferry = Ferry::new().file("plan.yaml", plan(sftp, sftp, "1 MiB"));
    let outcome = ferry.run_with(&["check", "--connect", "plan.yaml"]);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    let text = outcome.snapshot();
    assert_eq!(text.matches("error[missing-secret]").count(), 2, "{text}");
    assert!(text.contains("FERRY_TEST_PREFLIGHT_SOURCE_PASSWORD"));
    assert!(text.contains("FERRY_TEST_PREFLIGHT_TARGET_PASSWORD"));
    for role in ["source", "target"] {
        assert!(
            row(&outcome, role).contains("not ready  its password cannot be resolved"),
            "{text}"
        );
    }
    // JSON keeps its document on stdout, with the same diagnostics; the table goes to stderr.
    let json = ferry.run_with(&["check", "--connect", "--format", "json", "plan.yaml"]);
    assert_eq!(json.code, 1);
    let document: serde_json::Value =
        serde_json::from_str(&json.stdout).expect("stdout is one JSON document");
    let codes: Vec<&str> = document["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|diagnostic| diagnostic["code"].as_str())
        .collect();
    assert_eq!(
        codes,
        ["missing-secret", "missing-secret"],
        "{}",
        json.stdout
    );
    assert!(
        json.stderr.contains("Readiness of plan.yaml"),
        "{}",
        json.stderr
    );
}

#[test]
fn a_plan_with_errors_is_not_connected_to() {
    let text = plan(
        "{ local: { path: ./source } }",
        "{ local: { path: ./out } }",
        "1 MiB",
    )
    .replace("mounts: [/, /srv]", "mounts: [/, /nowhere]");
    let outcome = Ferry::new()
        .file("plan.yaml", text)
        .args(["check", "--connect", "plan.yaml"])
        .run();
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    assert!(
        outcome.stdout.contains("unknown-mount"),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome
            .stdout
            .contains("Readiness of plan.yaml: not checked, because the plan has errors"),
        "{}",
        outcome.stdout
    );
}

#[test]
fn a_hung_server_times_out_as_retryable() {
    // A listener that accepts connections and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let connection = format!(
        "{{ sftp: {{ port: {port}, host_key: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s' }} }}"
    );
    let ferry = Ferry::new()
        .file(
            "plan.yaml",
            plan_with_ips(
                "127.0.0.1",
                &connection,
                "198.51.100.70",
                "{ local: { path: ./out } }",
                "1 MiB",
            ),
        )
        .env("FERRY_TEST_PREFLIGHT_SOURCE_PASSWORD", "never-sent");
    // It ends at all, with the time-out named: the server itself would never answer.
    let outcome = ferry.run_with(&["check", "--connect", "--connect-timeout", "1", "plan.yaml"]);
    drop(listener);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    assert!(
        row(&outcome, "source").contains("not ready  no answer within 1 s (timed out) (retryable)"),
        "{}",
        outcome.stdout
    );
    assert!(!outcome.snapshot().contains("never-sent"));
}

#[test]
fn connect_timeout_requires_connect() {
    let outcome = Ferry::new()
        .args(["check", "--connect-timeout", "5", "plan.yaml"])
        .run();
    assert_eq!(outcome.code, 2, "{}", outcome.snapshot());
    assert!(outcome.stderr.contains("--connect"), "{}", outcome.stderr);
}

// --- against the real SFTP test servers --------------------------------------------------

/// A fresh directory under the servers' data folder, owned by the SFTP user, with source data.
pub(crate) fn sftp_source(servers: &SftpServers, name: &str) -> PathBuf {
    let directory = servers
        .data
        .join(format!("preflight-{name}-{}", std::process::id()));
    if directory.exists() {
        std::fs::remove_dir_all(&directory).expect("clear an old scratch directory");
    }
    fill(&directory);
    let owner = std::fs::metadata(&servers.data).expect("data directory");
    let status = std::process::Command::new("chown")
        .args(["-R", &format!("{}:{}", owner.uid(), owner.gid())])
        .arg(&directory)
        .status()
        .expect("run chown");
    assert!(status.success());
    directory
}

fn sftp_plan(servers: &SftpServers, root: &Path, known_hosts: &Path) -> String {
    let connection = format!(
        "{{ sftp: {{ port: {}, root: '{}', known_hosts: '{}' }} }}",
        servers.a.port,
        root.display(),
        known_hosts.display()
    );
    plan_with_ips(
        &servers.a.host.to_string(),
        &connection,
        "198.51.100.70",
        "{ local: { path: ./out } }",
        "1 MiB",
    )
}

#[test]
fn sftp_good_credentials_are_ready() {
    let Some(servers) = servers::sftp("sftp_good_credentials_are_ready") else {
        return;
    };
    let source = sftp_source(&servers, "good");
    let ferry = Ferry::new()
        .file(
            "plan.yaml",
            sftp_plan(&servers, &source, &servers.known_hosts),
        )
        .env("FERRY_TEST_PREFLIGHT_SOURCE_PASSWORD", &servers.password);
    let outcome = ferry.run_with(&["check", "--connect", "plan.yaml"]);
    std::fs::remove_dir_all(&source).expect("clean up");
    assert_eq!(outcome.code, 0, "{}", outcome.snapshot());
    let source_row = row(&outcome, "source");
    let description = format!(
        "sftp://{}@{}:{}{}",
        servers.user,
        servers.a.host,
        servers.a.port,
        source.display()
    );
    assert!(source_row.contains(&description), "{source_row}");
    assert_eq!(
        status(&outcome, "source"),
        ("ready".to_string(), "2 mounts readable".to_string())
    );
    assert!(!outcome.snapshot().contains(&servers.password));
}

#[test]
fn sftp_wrong_password_is_not_ready_and_never_shown() {
    let Some(servers) = servers::sftp("sftp_wrong_password_is_not_ready_and_never_shown") else {
        return;
    };
    let source = sftp_source(&servers, "wrong");
    let wrong = "Wr0ng-preflight-secret";
    let ferry = Ferry::new()
        .file(
            "plan.yaml",
            sftp_plan(&servers, &source, &servers.known_hosts),
        )
        .env("FERRY_TEST_PREFLIGHT_SOURCE_PASSWORD", wrong);
    let outcome = ferry.run_with(&["check", "--connect", "plan.yaml"]);
    std::fs::remove_dir_all(&source).expect("clean up");
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    let source_row = row(&outcome, "source");
    assert!(source_row.contains("not ready"), "{source_row}");
    assert!(!source_row.contains("(retryable)"), "{source_row}");
    let text = outcome.snapshot();
    assert!(!text.contains(wrong), "{text}");
    assert!(!text.contains(&servers.password), "{text}");
}

#[test]
fn sftp_unknown_host_key_is_not_ready_with_the_fingerprint() {
    let Some(servers) = servers::sftp("sftp_unknown_host_key_is_not_ready_with_the_fingerprint")
    else {
        return;
    };
    let source = sftp_source(&servers, "unknown-key");
    let ferry = Ferry::new().file("known_hosts", "");
    let known_hosts = ferry.directory().join("known_hosts");
    let ferry = ferry
        .file("plan.yaml", sftp_plan(&servers, &source, &known_hosts))
        .env("FERRY_TEST_PREFLIGHT_SOURCE_PASSWORD", &servers.password);
    let outcome = ferry.run_with(&["check", "--connect", "plan.yaml"]);
    std::fs::remove_dir_all(&source).expect("clean up");
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    let source_row = row(&outcome, "source");
    assert!(source_row.contains("not ready"), "{source_row}");
    assert!(
        source_row.contains(&servers.a.fingerprint),
        "{}",
        outcome.stdout
    );
    // Nothing was written: known_hosts is still empty.
    assert_eq!(std::fs::read_to_string(&known_hosts).expect("read"), "");
}
