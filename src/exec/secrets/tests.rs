//! Secrets are resolved only for connections that need them, every missing one is reported at
//! once at the password's place, and no value appears in any message.

use std::ops::Range;
use std::path::PathBuf;

use super::*;
use crate::exec::connect::{Endpoint, Role};
use crate::plan::valid::{Credentials, OsFamily, SftpSettings};
use crate::plan::yaml::Located;

/// Locates each pointer at a span derived from its length, so labels can be checked.
struct FakeLocator;

impl Locate for FakeLocator {
    fn locate(&self, pointer: &str) -> Located {
        Located {
            key: None,
            value: Range {
                start: pointer.len(),
                end: pointer.len() + 1,
            },
        }
    }
}

fn workload(password: SecretRef, connection: Option<Connection>) -> Workload {
    Workload {
        name: "w".to_string(),
        ip: "192.0.2.1".parse().expect("ip"),
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
    let unset = workload(
        SecretRef::Env("FERRY_TEST_SURELY_UNSET_2".to_string()),
        sftp(None),
    );
    let missing_file = workload(
        SecretRef::File(directory.path().join("absent.txt")),
        sftp(None),
    );
    let empty = workload(SecretRef::File(empty_file), sftp(None));
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
    let pointers: Vec<String> = missing.iter().map(MissingSecret::pointer).collect();
    assert_eq!(
        pointers,
        [
            "/sources/web-01/credentials/password",
            "/targets/aws~11/vm/credentials/password",
            "/targets/vm/vm/credentials/password",
        ]
    );
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
    let diagnostics = missing_secret_diagnostics(&missing, &FakeLocator);
    assert_eq!(diagnostics.len(), 3);
    assert!(
        diagnostics
            .iter()
            .all(|diagnostic| diagnostic.code == Code::MissingSecret)
    );
    assert_eq!(diagnostics[0].primary_span(), Some(36..37));
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
