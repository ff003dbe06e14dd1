//! SSH host keys against the real OpenSSH test servers: `@revoked` keys are refused whatever
//! else would trust them, `@cert-authority` alone is reported as unsupported, and known_hosts is
//! written only by `ferry run` (never by `check --connect`), byte for byte.

use std::path::Path;

use ferry::exec::transport::sftp::SftpTree;
use ferry::exec::transport::{ErrorKind, FileTree, TransportError};
use ferry::plan::valid::{SecretString, SftpSettings};

use crate::preflight::{plan_with_ips, row, sftp_source};
use crate::support::command::Ferry;
use crate::support::servers::{self, SftpServer, SftpServers};

/// Server A's `ssh-ed25519 BASE64`, from the servers' own known_hosts file.
fn key_of_a(servers: &SftpServers) -> String {
    std::fs::read_to_string(&servers.known_hosts)
        .expect("read the servers' known_hosts")
        .lines()
        .find(|line| line.starts_with(&format!("[{}]:{} ", servers.a.host, servers.a.port)))
        .and_then(|line| line.split_once(' '))
        .map(|(_, key)| key.to_string())
        .expect("server A in known_hosts")
}

fn host_of(server: &SftpServer) -> String {
    format!("[{}]:{}", server.host, server.port)
}

async fn connect(
    servers: &SftpServers,
    settings: &SftpSettings,
) -> Result<SftpTree, TransportError> {
    SftpTree::connect(
        settings,
        servers.a.host,
        &servers.user,
        Some(&SecretString::new(servers.password.clone())),
        "web-01",
    )
    .await
}

fn refused(result: Result<SftpTree, TransportError>) -> TransportError {
    match result {
        Ok(tree) => panic!("connecting to {} should have been refused", tree.describe()),
        Err(error) => error,
    }
}

#[tokio::test]
async fn a_revoked_key_is_refused_whatever_else_would_trust_it() {
    let Some(servers) = servers::sftp("a_revoked_key_is_refused_whatever_else_would_trust_it")
    else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let known_hosts = directory.path().join("known_hosts");
    let key = key_of_a(&servers);
    let revoked_only = format!("@revoked {} {key}\n", host_of(&servers.a));
    let revoked_and_trusted = format!("{} {key}\n{revoked_only}", host_of(&servers.a));
    for (text, line) in [(&revoked_only, 1), (&revoked_and_trusted, 2)] {
        std::fs::write(&known_hosts, text).unwrap();
        let mut settings = SftpSettings {
            port: servers.a.port,
            root: None,
            key: None,
            host_key: None,
            known_hosts: Some(known_hosts.clone()),
            accept_new_host_key: false,
        };
        let mut attempts = Vec::new();
        for accept_new in [false, true] {
            settings.accept_new_host_key = accept_new;
            attempts.push(refused(connect(&servers, &settings).await));
        }
        // A pinned fingerprint does not outweigh a revocation either.
        settings.host_key = Some(servers.a.fingerprint.clone());
        attempts.push(refused(connect(&servers, &settings).await));
        for error in attempts {
            assert_eq!(error.kind, ErrorKind::HostKey);
            assert!(error.message.contains("REVOKED"), "{}", error.message);
            assert!(
                error
                    .message
                    .contains(&format!("line {line} of {}", known_hosts.display())),
                "{}",
                error.message
            );
            assert!(
                error.message.contains(&servers.a.fingerprint),
                "{}",
                error.message
            );
        }
        assert_eq!(std::fs::read(&known_hosts).unwrap(), text.as_bytes());
    }
}

#[tokio::test]
async fn a_host_named_only_by_a_cert_authority_is_refused_as_unsupported() {
    let Some(servers) =
        servers::sftp("a_host_named_only_by_a_cert_authority_is_refused_as_unsupported")
    else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let known_hosts = directory.path().join("known_hosts");
    let text = format!(
        "@cert-authority {} {}\n",
        host_of(&servers.a),
        key_of_a(&servers)
    );
    std::fs::write(&known_hosts, &text).unwrap();
    let settings = SftpSettings {
        port: servers.a.port,
        root: None,
        key: None,
        host_key: None,
        known_hosts: Some(known_hosts.clone()),
        accept_new_host_key: true,
    };
    let error = refused(connect(&servers, &settings).await);
    assert_eq!(error.kind, ErrorKind::HostKey);
    assert!(
        error.message.contains("@cert-authority"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("does not support host certificates"),
        "{}",
        error.message
    );
    assert_eq!(std::fs::read_to_string(&known_hosts).unwrap(), text);
}

/// A plan with source `app` on server A (its `/`, `/srv` selected) reached with `extra`
/// settings, and a local target.
fn plan(servers: &SftpServers, root: &Path, known_hosts: &Path, extra: &str) -> String {
    let connection = format!(
        "{{ sftp: {{ port: {}, root: '{}', known_hosts: '{}'{extra} }} }}",
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
fn check_connect_accepts_a_new_key_without_writing_and_run_records_it() {
    let Some(servers) =
        servers::sftp("check_connect_accepts_a_new_key_without_writing_and_run_records_it")
    else {
        return;
    };
    let source = sftp_source(&servers, "accept-new");
    let ferry = Ferry::new();
    // Not there yet, nor its folder: `check --connect` must create neither.
    let known_hosts = ferry.directory().join("ssh").join("known_hosts");
    let ferry = ferry
        .file(
            "plan.yaml",
            plan(
                &servers,
                &source,
                &known_hosts,
                ", accept_new_host_key: true",
            ),
        )
        .env("FERRY_TEST_PREFLIGHT_SOURCE_PASSWORD", &servers.password);
    let checked = ferry.run_with(&["check", "--connect", "plan.yaml"]);
    let source_row = row(&checked, "source").to_string();
    let ssh_folder_created = ferry.directory().join("ssh").exists();
    let ran = ferry.run_with(&["run", "plan.yaml"]);
    let recorded = std::fs::read_to_string(&known_hosts).unwrap_or_default();
    let checked_again = ferry.run_with(&["check", "--connect", "plan.yaml"]);
    std::fs::remove_dir_all(&source).expect("clean up");

    assert_eq!(checked.code, 0, "{}", checked.snapshot());
    assert!(source_row.contains("ready"), "{source_row}");
    assert!(source_row.contains(&servers.a.fingerprint), "{source_row}");
    assert!(
        source_row.contains("`ferry run` will accept it"),
        "{source_row}"
    );
    assert!(
        !ssh_folder_created,
        "check --connect wrote {}",
        known_hosts.display()
    );
    assert_eq!(ran.code, 0, "{}", ran.snapshot());
    assert_eq!(
        recorded,
        format!("{} {}\n", host_of(&servers.a), key_of_a(&servers)),
        "ferry run records the accepted key"
    );
    // Known now: no note.
    assert_eq!(checked_again.code, 0, "{}", checked_again.snapshot());
    assert!(
        !row(&checked_again, "source").contains("will accept"),
        "{}",
        checked_again.stdout
    );
}

#[test]
fn check_connect_refuses_a_revoked_key_and_leaves_known_hosts_alone() {
    let Some(servers) =
        servers::sftp("check_connect_refuses_a_revoked_key_and_leaves_known_hosts_alone")
    else {
        return;
    };
    let source = sftp_source(&servers, "revoked");
    let text = format!("@revoked {} {}\n", host_of(&servers.a), key_of_a(&servers));
    let ferry = Ferry::new().file("known_hosts", &text);
    let known_hosts = ferry.directory().join("known_hosts");
    let ferry = ferry
        .file(
            "plan.yaml",
            plan(
                &servers,
                &source,
                &known_hosts,
                ", accept_new_host_key: true",
            ),
        )
        .env("FERRY_TEST_PREFLIGHT_SOURCE_PASSWORD", &servers.password);
    let checked = ferry.run_with(&["check", "--connect", "plan.yaml"]);
    let ran = ferry.run_with(&["run", "plan.yaml"]);
    std::fs::remove_dir_all(&source).expect("clean up");

    assert_eq!(checked.code, 1, "{}", checked.snapshot());
    let source_row = row(&checked, "source");
    assert!(source_row.contains("not ready"), "{source_row}");
    assert!(source_row.contains("REVOKED"), "{source_row}");
    assert_eq!(ran.code, 1, "{}", ran.snapshot());
    assert!(ran.snapshot().contains("REVOKED"), "{}", ran.snapshot());
    assert_eq!(std::fs::read(&known_hosts).unwrap(), text.as_bytes());
}
