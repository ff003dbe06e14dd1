//! The real test servers started by `scripts/test-servers.sh`, read from the `FERRY_TEST_*`
//! environment that `scripts/test.sh` exports.
//!
//! When the environment is missing, a test that needs a server prints a skip line and returns,
//! unless `FERRY_REQUIRE_SERVERS=1` (as `scripts/test.sh` sets), in which case it panics:
//! in CI a missing server is a failure, never a silent skip.

use std::env;
use std::net::IpAddr;
use std::path::PathBuf;

/// One sshd instance.
#[derive(Debug, Clone)]
pub struct SftpServer {
    pub host: IpAddr,
    pub port: u16,
    /// Its host key's `SHA256:...` fingerprint.
    pub fingerprint: String,
}

/// Both sshd instances and the test user's credentials.
#[derive(Debug, Clone)]
pub struct SftpServers {
    pub a: SftpServer,
    pub b: SftpServer,
    pub user: String,
    pub password: String,
    /// A passphrase-less OpenSSH private key authorized for `user`.
    pub key: PathBuf,
    /// A private key encrypted with `password`, also authorized.
    pub key_encrypted: PathBuf,
    /// known_hosts listing both servers (`[host]:port` entries), plain and hashed.
    pub known_hosts: PathBuf,
    pub known_hosts_hashed: PathBuf,
    /// A local directory the SFTP user owns: what the tests write over SFTP lands here.
    pub data: PathBuf,
}

fn variable(name: &str) -> Option<String> {
    env::var(name).ok().filter(|value| !value.is_empty())
}

fn required() -> bool {
    variable("FERRY_REQUIRE_SERVERS").is_some_and(|value| value != "0")
}

fn server(suffix: &str) -> Option<SftpServer> {
    Some(SftpServer {
        host: variable(&format!("FERRY_TEST_SFTP_HOST_{suffix}"))?
            .parse()
            .ok()?,
        port: variable(&format!("FERRY_TEST_SFTP_PORT_{suffix}"))?
            .parse()
            .ok()?,
        fingerprint: variable(&format!("FERRY_TEST_SFTP_FINGERPRINT_{suffix}"))?,
    })
}

fn read_sftp() -> Option<SftpServers> {
    Some(SftpServers {
        a: server("A")?,
        b: server("B")?,
        user: variable("FERRY_TEST_SFTP_USER")?,
        password: variable("FERRY_TEST_SFTP_PASSWORD")?,
        key: variable("FERRY_TEST_SFTP_KEY")?.into(),
        key_encrypted: variable("FERRY_TEST_SFTP_KEY_ENCRYPTED")?.into(),
        known_hosts: variable("FERRY_TEST_SFTP_KNOWN_HOSTS")?.into(),
        known_hosts_hashed: variable("FERRY_TEST_SFTP_KNOWN_HOSTS_HASHED")?.into(),
        data: variable("FERRY_TEST_SFTP_DATA")?.into(),
    })
}

/// The SFTP servers, or `None` (after printing a skip line for `test`) when they are not
/// running. Panics when `FERRY_REQUIRE_SERVERS=1` and they are missing.
pub fn sftp(test: &str) -> Option<SftpServers> {
    match read_sftp() {
        Some(servers) => Some(servers),
        None if required() => panic!(
            "{test}: FERRY_REQUIRE_SERVERS=1 but the FERRY_TEST_SFTP_* environment is missing \
             or malformed; run scripts/test.sh (or `eval \"$(scripts/test-servers.sh env)\"` \
             after `scripts/test-servers.sh start`)"
        ),
        None => {
            eprintln!(
                "SKIP {test}: no SFTP test servers (FERRY_TEST_SFTP_* unset); run scripts/test.sh"
            );
            None
        }
    }
}

/// A new, empty database of its own for `test` on the PostgreSQL test server
/// (`scripts/postgres-server.sh`), as a `postgres://` URL with its password, or `None` (after a
/// skip line) without the server. Panics when `FERRY_REQUIRE_SERVERS=1` and it is missing.
#[cfg(feature = "postgres")]
pub fn postgres_database(test: &str) -> Option<String> {
    let Some(base) = variable("FERRY_POSTGRES_URL") else {
        if required() {
            panic!(
                "{test}: FERRY_REQUIRE_SERVERS=1 but FERRY_POSTGRES_URL is unset; run scripts/test.sh"
            );
        }
        eprintln!(
            "SKIP {test}: no PostgreSQL test server (FERRY_POSTGRES_URL unset); run scripts/test.sh"
        );
        return None;
    };
    let database = format!(
        "it_{}_{}",
        test.chars().take(40).collect::<String>(),
        std::process::id()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let (admin, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
            .await
            .expect("the PostgreSQL test server");
        tokio::spawn(connection);
        for statement in [
            format!("DROP DATABASE IF EXISTS {database}"),
            format!("CREATE DATABASE {database}"),
        ] {
            admin
                .batch_execute(&statement)
                .await
                .expect("create the test database");
        }
    });
    let (server, _) = base.rsplit_once('/').expect("a database in the URL");
    Some(format!("{server}/{database}?sslmode=disable"))
}

/// The password in a `postgres://user:password@…` URL.
#[cfg(feature = "postgres")]
pub fn postgres_password(url: &str) -> String {
    let (credentials, _) = url
        .trim_start_matches("postgres://")
        .split_once('@')
        .expect("credentials in the URL");
    let (_, password) = credentials.split_once(':').expect("a password in the URL");
    password.to_string()
}
