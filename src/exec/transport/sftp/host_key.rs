//! Deciding whether to trust an SSH server's host key: a pinned fingerprint, else known_hosts.
//!
//! The rules, in order:
//! 1. A key marked `@revoked` in the known_hosts file (`sftp.known_hosts`, else
//!    `~/.ssh/known_hosts`) is always refused: with a pinned fingerprint too, and whatever
//!    `accept_new_host_key` says, as OpenSSH refuses it. See [`super::known_hosts`].
//! 2. A pinned `SHA256:...` fingerprint (`sftp.host_key` in the plan) must match exactly; the
//!    known_hosts file is read for its `@revoked` lines only (a missing file is fine).
//! 3. Otherwise the known_hosts file is read; plain and hashed (`|1|salt|hash`) entries both
//!    count, and a non-default port is looked up as `[host]:port`, like OpenSSH does. A
//!    recorded key of the same type that differs is a CHANGED key and is always refused.
//!    A host named only by `@cert-authority` lines is refused: ferry does not do host
//!    certificates.
//! 4. A key found nowhere is unknown: refused, with a message showing the server's fingerprint
//!    and how to pin or record it, unless `accept_new_host_key` is set. Then, on `ferry run`
//!    ([`UnknownKeys::AcceptAndRecord`]), ferry appends the key to that known_hosts file
//!    (creating it and its folder if needed), like OpenSSH's `StrictHostKeyChecking=accept-new`;
//!    if the file cannot be written, the connection is refused rather than trusting a key that
//!    will not be remembered. `check --connect` and `ferry plan` write nothing
//!    ([`UnknownKeys::AcceptWithoutRecording`]): the key is trusted for that connection only.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use russh::client;
use russh::keys::{HashAlg, PublicKey, PublicKeyOrCertificate};

use super::known_hosts::{KnownHosts, Lookup, host_name};
use crate::exec::small_file::{SmallFileError, read_small_file};
use crate::exec::transport::{ErrorKind, TransportError};

/// The largest known_hosts file ferry reads (a file of a hundred thousand hosts is ~10 MiB).
pub(crate) const KNOWN_HOSTS_LIMIT: usize = 32 * 1024 * 1024;

/// What to do with a key the known_hosts file does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnknownKeys {
    /// Refuse it (`accept_new_host_key: false`).
    Refuse,
    /// Trust it and append it to the known_hosts file (`ferry run` with `accept_new_host_key`).
    AcceptAndRecord,
    /// Trust it for this connection only, writing nothing (`check --connect`, `ferry plan`).
    AcceptWithoutRecording,
}

/// How to judge the server's key for one connection.
#[derive(Debug, Clone)]
pub(crate) enum HostKeyPolicy {
    /// Only this fingerprint is accepted (a pinned key, or the key the pool's first connection
    /// saw). `revocations`: a known_hosts file whose `@revoked` lines are checked first.
    Pinned {
        fingerprint: String,
        revocations: Option<PathBuf>,
    },
    /// Look the key up in a known_hosts file.
    KnownHosts { path: PathBuf, unknown: UnknownKeys },
}

/// Why a key was trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trust {
    /// It is pinned, or known_hosts lists it.
    Known,
    /// It was unknown and is now recorded in known_hosts.
    Recorded,
    /// It was unknown and is trusted for this connection only ([`UnknownKeys::AcceptWithoutRecording`]).
    NotRecorded,
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

/// Reads a known_hosts file, bounded; a missing file is an empty one.
fn read_known_hosts(path: &Path) -> Result<KnownHosts, SmallFileError> {
    match read_small_file(path, KNOWN_HOSTS_LIMIT) {
        Ok(bytes) => Ok(KnownHosts::parse(&String::from_utf8_lossy(&bytes))),
        Err(SmallFileError::NotFound) => Ok(KnownHosts::default()),
        Err(error) => Err(error),
    }
}

fn refusal(message: String) -> TransportError {
    TransportError::new(ErrorKind::HostKey, message)
}

impl HostKeyPolicy {
    /// Decides about `key`. `Ok` trusts it and says why; the error says why not and what to do.
    pub(crate) fn check(
        &self,
        endpoint: &Endpoint,
        key: &PublicKey,
    ) -> Result<Trust, TransportError> {
        let seen = fingerprint(key);
        let cannot_read = |path: &Path, error: SmallFileError| {
            refusal(format!(
                "cannot check the host key of {} against {}: {error}",
                endpoint.label(),
                path.display()
            ))
        };
        match self {
            HostKeyPolicy::Pinned {
                fingerprint: pinned,
                revocations,
            } => {
                if let Some(path) = revocations {
                    let known = read_known_hosts(path).map_err(|error| cannot_read(path, error))?;
                    if let Lookup::Revoked { line } =
                        known.lookup(&endpoint.host, endpoint.port, key)
                    {
                        return Err(revoked(endpoint, &seen, line, path));
                    }
                }
                if same_fingerprint(pinned, &seen) {
                    Ok(Trust::Known)
                } else {
                    Err(refusal(format!(
                        "host key of {} is {seen}, but {pinned} is pinned (sftp.host_key); \
                         refusing to connect: the server may have been replaced or \
                         the connection intercepted",
                        endpoint.label()
                    )))
                }
            }
            HostKeyPolicy::KnownHosts { path, unknown } => {
                let known = read_known_hosts(path).map_err(|error| cannot_read(path, error))?;
                match known.lookup(&endpoint.host, endpoint.port, key) {
                    Lookup::Trusted { .. } => Ok(Trust::Known),
                    Lookup::Revoked { line } => Err(revoked(endpoint, &seen, line, path)),
                    Lookup::Changed { line } => Err(refusal(format!(
                        "host key of {} CHANGED: the server now shows {seen}, which differs \
                         from the key recorded at line {line} of {}; refusing to connect \
                         (the server may have been replaced or the connection intercepted). \
                         If the change is expected, remove that line",
                        endpoint.label(),
                        path.display()
                    ))),
                    Lookup::CertificateAuthorityOnly { line } => Err(refusal(format!(
                        "host key {seen} of {} is vouched for only by the `@cert-authority` \
                         line {line} of {}, and ferry does not support host certificates; \
                         verify the key out of band, then pin it with `host_key: {seen}` or \
                         add a plain line for it",
                        endpoint.label(),
                        path.display()
                    ))),
                    Lookup::Unknown => match unknown {
                        UnknownKeys::Refuse => Err(unknown_key(endpoint, key, path)),
                        UnknownKeys::AcceptAndRecord => {
                            record(endpoint, key, path).map(|()| Trust::Recorded)
                        }
                        UnknownKeys::AcceptWithoutRecording => Ok(Trust::NotRecorded),
                    },
                }
            }
        }
    }
}

fn revoked(endpoint: &Endpoint, seen: &str, line: usize, path: &Path) -> TransportError {
    refusal(format!(
        "host key {seen} of {} is REVOKED: line {line} of {} marks it `@revoked`; refusing \
         to connect, whatever `host_key` and `accept_new_host_key` say (the key may be \
         compromised, or the connection intercepted)",
        endpoint.label(),
        path.display()
    ))
}

fn unknown_key(endpoint: &Endpoint, key: &PublicKey, path: &Path) -> TransportError {
    let seen = fingerprint(key);
    refusal(format!(
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
    ))
}

/// Appends an accepted new key to the known_hosts file, as `[host]:port type base64`
/// (plain `host` on port 22), creating the file and its folder when missing.
fn record(endpoint: &Endpoint, key: &PublicKey, path: &Path) -> Result<(), TransportError> {
    append_known_host(endpoint, key, path).map_err(|error| {
        refusal(format!(
            "accept_new_host_key is set, but the new host key of {} ({}) could not be \
             recorded in {}: {error}",
            endpoint.label(),
            fingerprint(key),
            path.display()
        ))
    })
}

fn append_known_host(endpoint: &Endpoint, key: &PublicKey, path: &Path) -> std::io::Result<()> {
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)?;
    }
    let encoded = key.to_openssh().map_err(std::io::Error::other)?;
    // `to_openssh` is `type base64 [comment]`; known_hosts wants `type base64`.
    let key_text: Vec<&str> = encoded.split_whitespace().take(2).collect();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)?;
    // The file was just read as a regular file; only its last byte matters here.
    let length = file.metadata()?.len();
    let mut last = [b'\n'];
    if length > 0 {
        file.seek(SeekFrom::Start(length - 1))?;
        file.read_exact(&mut last)?;
    }
    let separator = if last[0] == b'\n' { "" } else { "\n" };
    let host = host_name(&endpoint.host, endpoint.port);
    file.write_all(format!("{separator}{host} {}\n", key_text.join(" ")).as_bytes())
}

/// What the handshake learnt: the server's fingerprint and why it was trusted, or why its key
/// was refused.
#[derive(Debug, Default)]
pub(crate) struct HandshakeOutcome {
    pub fingerprint: Option<String>,
    pub trust: Option<Trust>,
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
            Ok(trust) => {
                outcome.trust = Some(trust);
                Ok(true)
            }
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
mod tests;
