//! Deciding whether to trust an SSH server's host key: a pinned fingerprint, else known_hosts.
//!
//! The rules, in order:
//! 1. A pinned `SHA256:...` fingerprint (`sftp.host_key` in the plan) must match exactly; the
//!    known_hosts file is then not consulted at all.
//! 2. Otherwise the known_hosts file (`sftp.known_hosts`, else `~/.ssh/known_hosts`) is read;
//!    plain and hashed (`|1|salt|hash`) entries both count, and a non-default port is looked up
//!    as `[host]:port`, like OpenSSH does. A recorded key of the same type that differs is a
//!    CHANGED key and is always refused, whatever `accept_new_host_key` says.
//! 3. A key found nowhere is unknown: refused, with a message showing the server's fingerprint
//!    and how to pin or record it, unless `accept_new_host_key` is set. Then ferry appends the
//!    key to that known_hosts file (creating it and its folder if needed), like OpenSSH's
//!    `StrictHostKeyChecking=accept-new`, so later runs check against it. If the file cannot be
//!    written, the connection is refused rather than trusting a key that will not be remembered.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use russh::client;
use russh::keys::{HashAlg, PublicKey, PublicKeyOrCertificate};

use crate::exec::transport::{ErrorKind, TransportError};

/// How to judge the server's key for one connection.
#[derive(Debug, Clone)]
pub(crate) enum HostKeyPolicy {
    /// Only this fingerprint is accepted (a pinned key, or the key the pool's first connection saw).
    Pinned(String),
    /// Look the key up in a known_hosts file.
    KnownHosts { path: PathBuf, accept_new: bool },
}

/// Where the key is being checked, for the known_hosts lookup and for messages.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// The workload's name in the plan.
    pub workload: String,
    /// The host as known_hosts names it (an IP address here).
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    fn label(&self) -> String {
        format!("{} ({}:{})", self.workload, self.host, self.port)
    }
}

/// The `SHA256:...` fingerprint of a key, as `ssh-keygen -lf` prints it.
pub(crate) fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Compares fingerprints, ignoring base64 padding (`ssh-keygen` prints none; some tools add `=`).
fn same_fingerprint(left: &str, right: &str) -> bool {
    left.trim().trim_end_matches('=') == right.trim().trim_end_matches('=')
}

impl HostKeyPolicy {
    /// Decides about `key`. `Ok(())` trusts it; the error says why not and what to do.
    pub(crate) fn check(&self, endpoint: &Endpoint, key: &PublicKey) -> Result<(), TransportError> {
        let seen = fingerprint(key);
        match self {
            HostKeyPolicy::Pinned(pinned) => {
                if same_fingerprint(pinned, &seen) {
                    Ok(())
                } else {
                    Err(TransportError::new(
                        ErrorKind::HostKey,
                        format!(
                            "host key of {} is {seen}, but {pinned} is pinned (sftp.host_key); \
                             refusing to connect: the server may have been replaced or \
                             the connection intercepted",
                            endpoint.label()
                        ),
                    ))
                }
            }
            HostKeyPolicy::KnownHosts { path, accept_new } => {
                let known =
                    russh::keys::check_known_hosts_path(&endpoint.host, endpoint.port, key, path);
                match known {
                    Ok(true) => Ok(()),
                    Ok(false) if *accept_new => record(endpoint, key, path),
                    Ok(false) => Err(TransportError::new(
                        ErrorKind::HostKey,
                        format!(
                            "host key of {} is unknown: {seen} ({}) is not in {}; verify it \
                             out of band, then pin it with `host_key: {seen}` under the \
                             workload's `connection.sftp`, or record it with \
                             `ssh-keyscan -p {} {} >> {}`, or set `accept_new_host_key: true`",
                            endpoint.label(),
                            key.algorithm(),
                            path.display(),
                            endpoint.port,
                            endpoint.host,
                            path.display()
                        ),
                    )),
                    Err(russh::keys::Error::KeyChanged { line }) => Err(TransportError::new(
                        ErrorKind::HostKey,
                        format!(
                            "host key of {} CHANGED: the server now shows {seen}, which differs \
                             from the key recorded at line {line} of {}; refusing to connect \
                             (the server may have been replaced or the connection intercepted). \
                             If the change is expected, remove that line",
                            endpoint.label(),
                            path.display()
                        ),
                    )),
                    Err(error) => Err(TransportError::new(
                        ErrorKind::HostKey,
                        format!(
                            "cannot check the host key of {} against {}: {error}",
                            endpoint.label(),
                            path.display()
                        ),
                    )),
                }
            }
        }
    }
}

/// Appends an accepted new key to the known_hosts file, as `[host]:port type base64`
/// (plain `host` on port 22), creating the file and its folder when missing.
fn record(endpoint: &Endpoint, key: &PublicKey, path: &Path) -> Result<(), TransportError> {
    append_known_host(endpoint, key, path).map_err(|error| {
        TransportError::new(
            ErrorKind::HostKey,
            format!(
                "accept_new_host_key is set, but the new host key of {} ({}) could not be \
                 recorded in {}: {error}",
                endpoint.label(),
                fingerprint(key),
                path.display()
            ),
        )
    })
}

fn append_known_host(endpoint: &Endpoint, key: &PublicKey, path: &Path) -> std::io::Result<()> {
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)?;
    }
    let existing = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(error),
    };
    let host = if endpoint.port == 22 {
        endpoint.host.clone()
    } else {
        format!("[{}]:{}", endpoint.host, endpoint.port)
    };
    let encoded = key.to_openssh().map_err(std::io::Error::other)?;
    // `to_openssh` is `type base64 [comment]`; known_hosts wants `type base64`.
    let key_text: Vec<&str> = encoded.split_whitespace().take(2).collect();
    let separator = if existing.is_empty() || existing.ends_with(b"\n") {
        ""
    } else {
        "\n"
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(format!("{separator}{host} {}\n", key_text.join(" ")).as_bytes())
}

/// What the handshake learnt: the server's fingerprint, or why its key was refused.
#[derive(Debug, Default)]
pub(crate) struct HandshakeOutcome {
    pub fingerprint: Option<String>,
    pub refusal: Option<TransportError>,
}

/// The russh client callbacks: only the host-key check matters to ferry.
pub(crate) struct ClientHandler {
    pub policy: HostKeyPolicy,
    pub endpoint: Endpoint,
    pub outcome: Arc<Mutex<HandshakeOutcome>>,
}

/// Errors from the SSH session task: a host-key refusal, or anything russh reports.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HandshakeError {
    #[error("{0}")]
    HostKey(TransportError),
    #[error(transparent)]
    Ssh(#[from] russh::Error),
}

impl client::Handler for ClientHandler {
    type Error = HandshakeError;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = server_key else {
            // ferry advertises no certificate algorithms, so a certificate is unexpected.
            let refusal = TransportError::new(
                ErrorKind::HostKey,
                format!(
                    "{} presented a host certificate; ferry checks plain host keys only",
                    self.endpoint.label()
                ),
            );
            return Err(self.refuse(refusal));
        };
        let decision = self.policy.check(&self.endpoint, key);
        let mut outcome = self
            .outcome
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        outcome.fingerprint = Some(fingerprint(key));
        match decision {
            Ok(()) => Ok(true),
            Err(refusal) => {
                outcome.refusal = Some(refusal.clone());
                Err(HandshakeError::HostKey(refusal))
            }
        }
    }
}

impl ClientHandler {
    fn refuse(&self, refusal: TransportError) -> HandshakeError {
        let mut outcome = self
            .outcome
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        outcome.refusal = Some(refusal.clone());
        HandshakeError::HostKey(refusal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
    const OTHER: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIA6rWI3G2sz07DnfFlrouTcysQlj2P+jpNSOEWD9OJ3X";

    fn endpoint() -> Endpoint {
        Endpoint {
            workload: "web-01".into(),
            host: "10.0.0.5".into(),
            port: 2222,
        }
    }

    fn key(base64: &str) -> PublicKey {
        russh::keys::parse_public_key_base64(base64).expect("test key parses")
    }

    #[test]
    fn pinned_fingerprints_must_match_exactly() {
        let server = key(KEY);
        let pinned = fingerprint(&server);
        assert!(pinned.starts_with("SHA256:"));
        let policy = HostKeyPolicy::Pinned(format!("{pinned}="));
        assert!(policy.check(&endpoint(), &server).is_ok());
        let error = policy.check(&endpoint(), &key(OTHER)).unwrap_err();
        assert_eq!(error.kind, ErrorKind::HostKey);
        assert!(error.message.contains(&fingerprint(&key(OTHER))));
    }

    #[test]
    fn known_hosts_match_unknown_changed_and_accept_new() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("ssh").join("known_hosts");
        let unknown = HostKeyPolicy::KnownHosts {
            path: path.clone(),
            accept_new: false,
        };
        let error = unknown.check(&endpoint(), &key(KEY)).unwrap_err();
        assert_eq!(error.kind, ErrorKind::HostKey);
        assert!(error.message.contains("unknown"), "{}", error.message);
        assert!(error.message.contains(&fingerprint(&key(KEY))));

        let accepting = HostKeyPolicy::KnownHosts {
            path: path.clone(),
            accept_new: true,
        };
        accepting.check(&endpoint(), &key(KEY)).unwrap();
        let recorded = std::fs::read_to_string(&path).unwrap();
        assert!(
            recorded.starts_with("[10.0.0.5]:2222 ssh-ed25519 "),
            "{recorded}"
        );
        // Now known without accept_new.
        unknown.check(&endpoint(), &key(KEY)).unwrap();
        // A changed key is refused even with accept_new.
        let error = accepting.check(&endpoint(), &key(OTHER)).unwrap_err();
        assert!(error.message.contains("CHANGED"), "{}", error.message);
    }
}
