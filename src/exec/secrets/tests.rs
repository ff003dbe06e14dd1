//! Secrets are resolved only for connections that need them, every missing one is reported at
//! once at the place the plan writes it (the reference's span), and no value appears in any message.

use std::path::PathBuf;

use super::*;
use crate::exec::connect::{Endpoint, Role};
use crate::plan::valid::{
    AzureBlobKey, AzureBlobSettings, Credentials, OsFamily, S3Settings, SftpSettings,
};

/// A reference written at `start` (one byte long), so a label tells which one it came from.
fn at(start: usize, reference: SecretRef) -> Spanned<SecretRef> {
    Spanned::new(reference, start..start + 1)
}

fn workload(password: SecretRef, connection: Option<Connection>) -> Workload {
    workload_at(at(0, password), connection)
}

fn workload_at(password: Spanned<SecretRef>, connection: Option<Connection>) -> Workload {
    Workload {
        name: "w".to_string(),
        ip: Spanned::new("192.0.2.1".parse().expect("ip"), 0..0),
        credentials: Credentials {
            username: "root".to_string(),
            password,
            domain: None,
        },
        os: OsFamily::Linux,
        mounts: Vec::new(),
        connection,
    }
}

fn sftp(key: Option<PathBuf>) -> Option<Connection> {
    Some(Connection::Sftp(SftpSettings {
        port: 22,
        root: None,
        key,
        host_key: None,
        known_hosts: None,
        accept_new_host_key: false,
    }))
}

fn endpoint<'a>(role: Role, name: &'a str, workload: &'a Workload) -> Endpoint<'a> {
    Endpoint {
        role,
        name,
        workload,
    }
}

#[test]
fn local_connections_need_no_secret_even_when_unset() {
    let local = workload(
        SecretRef::Env("FERRY_TEST_SURELY_UNSET_1".to_string()),
        Some(Connection::Local {
            path: PathBuf::from("/srv"),
        }),
    );
    let none = workload(
        SecretRef::Env("FERRY_TEST_SURELY_UNSET_1".to_string()),
        None,
    );
    let secrets = resolve_secrets([
        endpoint(Role::Source, "a", &local),
        endpoint(Role::Target, "b", &none),
    ])
    .expect("nothing needed");
    assert!(secrets.password(Role::Source, "a").is_none());
}

#[test]
fn every_missing_secret_is_reported_at_once_at_its_password() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let empty_file = directory.path().join("empty.txt");
    std::fs::write(&empty_file, "\n").expect("write");
    let unset = workload_at(
        at(10, SecretRef::Env("FERRY_TEST_SURELY_UNSET_2".to_string())),
        sftp(None),
    );
    let missing_file = workload_at(
        at(20, SecretRef::File(directory.path().join("absent.txt"))),
        sftp(None),
    );
    let empty = workload_at(at(30, SecretRef::File(empty_file)), sftp(None));
    let with_key = workload(
        SecretRef::Env("FERRY_TEST_SURELY_UNSET_2".to_string()),
        sftp(Some("/k".into())),
    );
    let missing = resolve_secrets([
        endpoint(Role::Source, "web-01", &unset),
        endpoint(Role::Source, "web-01", &unset),
        endpoint(Role::Target, "aws/1", &missing_file),
        endpoint(Role::Target, "vm", &empty),
        endpoint(Role::Source, "keyed", &with_key),
    ])
    .expect_err("three are missing");
    let spans: Vec<_> = missing.iter().map(|secret| secret.span.clone()).collect();
    assert_eq!(spans, [10..11, 20..21, 30..31]);
    assert!(
        missing[0]
            .reason
            .contains("`FERRY_TEST_SURELY_UNSET_2` is not set"),
        "{missing:?}"
    );
    assert!(
        missing[1].reason.contains("cannot read the secret file"),
        "{missing:?}"
    );
    assert!(missing[2].reason.contains("is empty"), "{missing:?}");
    let diagnostics = missing_secret_diagnostics(&missing);
    assert_eq!(diagnostics.len(), 3);
    assert!(
        diagnostics
            .iter()
            .all(|diagnostic| diagnostic.code == Code::MissingSecret)
    );
    assert_eq!(diagnostics[0].primary_span(), Some(10..11));
    assert!(diagnostics[0].message.contains("source `web-01`"));
}

#[test]
fn file_and_plain_secrets_resolve_without_their_trailing_newline() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let file = directory.path().join("password.txt");
    std::fs::write(&file, "s3cret-value\r\n").expect("write");
    let from_file = workload(SecretRef::File(file), sftp(None));
    let plain = workload(
        SecretRef::Plain(SecretString::new("plain-value".to_string())),
        sftp(None),
    );
    let secrets = resolve_secrets([
        endpoint(Role::Source, "a", &from_file),
        endpoint(Role::Target, "b", &plain),
    ])
    .expect("both resolve");
    assert_eq!(
        secrets
            .password(Role::Source, "a")
            .map(SecretString::expose),
        Some("s3cret-value")
    );
    assert_eq!(
        secrets
            .password(Role::Target, "b")
            .map(SecretString::expose),
        Some("plain-value")
    );
    assert!(!format!("{secrets:?}").contains("s3cret-value"));
}

fn s3(secret_access_key: Spanned<SecretRef>) -> Option<Connection> {
    Some(Connection::S3(S3Settings {
        bucket: "ferry-staging".to_string(),
        prefix: String::new(),
        region: "us-east-1".to_string(),
        endpoint: None,
        access_key_id: "AKIAEXAMPLE".to_string(),
        secret_access_key,
    }))
}

fn azblob(key: AzureBlobKey) -> Option<Connection> {
    Some(Connection::AzureBlob(AzureBlobSettings {
        container: "ferry-staging".to_string(),
        prefix: String::new(),
        account: "ferrystaging".to_string(),
        endpoint: None,
        key,
    }))
}

#[test]
fn object_stores_need_their_cloud_key_or_sas_token_not_the_vm_password() {
    let unset = |name: &str| SecretRef::Env(format!("FERRY_TEST_SURELY_UNSET_{name}"));
    let plain = |value: &str| SecretRef::Plain(SecretString::new(value.to_string()));
    // The VM password is unset everywhere: object stores never read it.
    let aws = workload(unset("VM"), s3(at(1, plain("aws-secret-key"))));
    let azure = workload(
        unset("VM"),
        azblob(AzureBlobKey::AccountKey(at(2, plain("azure-account-key")))),
    );
    let sas = workload(
        unset("VM"),
        azblob(AzureBlobKey::SasToken(at(3, plain("sv=2024&sig=abc")))),
    );
    let secrets = resolve_secrets([
        endpoint(Role::Target, "aws-1", &aws),
        endpoint(Role::Target, "azure-1", &azure),
        endpoint(Role::Target, "azure-2", &sas),
    ])
    .expect("the stores' secrets resolve");
    let value = |name| {
        secrets
            .password(Role::Target, name)
            .map(SecretString::expose)
    };
    assert_eq!(value("aws-1"), Some("aws-secret-key"));
    assert_eq!(value("azure-1"), Some("azure-account-key"));
    assert_eq!(value("azure-2"), Some("sv=2024&sig=abc"));
}

#[test]
fn a_missing_store_secret_is_labelled_where_the_plan_keeps_it() {
    let unset = |name: &str| SecretRef::Env(format!("FERRY_TEST_SURELY_UNSET_{name}"));
    let aws = workload(unset("VM"), s3(at(10, unset("AWS"))));
    let azure = workload(
        unset("VM"),
        azblob(AzureBlobKey::AccountKey(at(20, unset("AZ")))),
    );
    let sas = workload(
        unset("VM"),
        azblob(AzureBlobKey::SasToken(at(30, unset("SAS")))),
    );
    let missing = resolve_secrets([
        endpoint(Role::Target, "aws-1", &aws),
        endpoint(Role::Target, "azure-1", &azure),
        endpoint(Role::Target, "azure-2", &sas),
    ])
    .expect_err("all three are missing");
    // The store's secret, not the VM's password (written at 0).
    let spans: Vec<_> = missing.iter().map(|secret| secret.span.clone()).collect();
    assert_eq!(spans, [10..11, 20..21, 30..31]);
    assert!(missing[0].reason.contains("FERRY_TEST_SURELY_UNSET_AWS"));
    let diagnostics = missing_secret_diagnostics(&missing);
    assert!(
        diagnostics[0].message.contains(
            "target `aws-1` (the storage key) is needed by its object-storage connection"
        ),
        "{}",
        diagnostics[0].message
    );
    assert!(
        diagnostics[2]
            .message
            .contains("the SAS token of target `azure-2` is needed by its azblob connection"),
        "{}",
        diagnostics[2].message
    );
}

/// Resolves `path` as a file secret on another thread; fails (instead of hanging the test run)
/// when that takes more than a minute, as reading a FIFO without a writer would.
fn resolve_file_with_watchdog(path: PathBuf) -> Result<SecretString, (String, String)> {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(resolve(&SecretRef::File(path)));
    });
    receiver
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("resolving a secret file must not block")
}

#[test]
fn secret_files_must_be_regular_files_and_small() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let fifo = directory.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success());
    let large = directory.path().join("large.txt");
    std::fs::write(&large, "x".repeat(SECRET_FILE_LIMIT + 1)).expect("write");
    let cases = [
        (fifo, "is a FIFO (named pipe), not a regular file"),
        (
            PathBuf::from("/dev/zero"),
            "is a character device, not a regular file",
        ),
        (
            directory.path().to_path_buf(),
            "is a directory, not a regular file",
        ),
        (large, "is larger than 16384 bytes"),
    ];
    for (path, expected) in cases {
        let (reason, help) =
            resolve_file_with_watchdog(path.clone()).expect_err("not a usable secret file");
        assert!(reason.contains(expected), "{}: {reason}", path.display());
        assert!(reason.contains(&path.display().to_string()), "{reason}");
        assert!(!help.is_empty());
    }
}

#[test]
fn secret_files_through_symlinks_lose_exactly_one_trailing_newline() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let cases = [
        ("one\n", Some("one")),
        ("crlf\r\n", Some("crlf")),
        ("two\n\n", Some("two\n")),
        ("none", Some("none")),
        ("\n", None),
        ("", None),
    ];
    for (index, (content, expected)) in cases.into_iter().enumerate() {
        let file = directory.path().join(format!("secret-{index}"));
        std::fs::write(&file, content).expect("write");
        let link = directory.path().join(format!("link-{index}"));
        std::os::unix::fs::symlink(&file, &link).expect("symlink");
        let resolved = resolve_file_with_watchdog(link);
        match expected {
            Some(value) => assert_eq!(resolved.expect("resolves").expose(), value),
            None => assert!(resolved.expect_err("empty").0.contains("is empty")),
        }
    }
    // Exactly at the limit is fine.
    let full = directory.path().join("full");
    std::fs::write(&full, "y".repeat(SECRET_FILE_LIMIT)).expect("write");
    assert_eq!(
        resolve_file_with_watchdog(full)
            .expect("resolves")
            .expose()
            .len(),
        SECRET_FILE_LIMIT
    );
}
