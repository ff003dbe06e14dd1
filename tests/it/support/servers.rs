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
