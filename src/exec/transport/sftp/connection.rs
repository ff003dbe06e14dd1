//! Opening one SSH connection to a workload: the tuned SSH settings, the host-key check,
//! login (public key first, then password) and the two SFTP channels ferry uses on it.
//!
//! Each connection carries two SFTP sessions: `files` (russh-sftp's high-level session, whose
//! files pipeline reads and writes) and `control` (the raw protocol, for the OpenSSH extensions
//! the high-level session does not expose: `posix-rename@openssh.com`, `lsetstat@openssh.com`).

use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};
use russh::{ChannelStream, cipher};
use russh_sftp::client::{RawSftpSession, SftpSession};

use super::errors::{sftp_error, ssh_kind};
use super::host_key::{
    ClientHandler, Endpoint, HandshakeError, HandshakeOutcome, HostKeyPolicy, Trust,
};
use crate::exec::small_file::read_small_file;
use crate::exec::transport::{ErrorKind, TransportError, TransportResult};
use crate::plan::valid::SecretString;

/// How long connecting, key exchange and login may take together.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one SFTP request may wait for its reply before the connection counts as stalled.
const REQUEST_TIMEOUT_SECONDS: u64 = 60;

/// What the server's SFTP subsystem offers beyond the base protocol (version 3).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ServerExtensions {
    /// `posix-rename@openssh.com`: rename replacing the target atomically.
    pub posix_rename: bool,
    /// `lsetstat@openssh.com`: set attributes without following a symlink.
    pub lsetstat: bool,
    /// Any `@openssh.com` extension: the server is OpenSSH (or a port of it, like Windows'),
    /// which reads SSH_FXP_SYMLINK's two paths in the opposite order to the draft.
    pub openssh: bool,
}

/// One live SSH connection with its SFTP sessions.
pub(crate) struct Connection {
    handle: Handle<ClientHandler>,
    pub files: SftpSession,
    pub control: RawSftpSession,
    pub extensions: ServerExtensions,
}

impl Connection {
    /// Whether the SSH session has ended (dropped, or closed by either side).
    pub(crate) fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }
}

/// Everything needed to open another connection to the same server as the same user.
pub(crate) struct Dialer {
    config: Arc<client::Config>,
    address: SocketAddr,
    pub endpoint: Endpoint,
    username: String,
    password: Option<SecretString>,
    key: Option<PathBuf>,
}

/// The SSH settings measured fastest for bulk SFTP (see the module docs of `sftp`).
fn ssh_config() -> client::Config {
    let preferred = russh::Preferred {
        // AES-GCM uses the CPU's AES instructions: +75% over chacha20-poly1305 on loopback.
        cipher: Cow::Borrowed(&[
            cipher::AES_256_GCM,
            cipher::AES_128_GCM,
            cipher::CHACHA20_POLY1305,
            cipher::AES_256_CTR,
            cipher::AES_192_CTR,
            cipher::AES_128_CTR,
        ]),
        ..russh::Preferred::default()
    };
    client::Config {
        preferred,
        window_size: 16 * 1024 * 1024,
        maximum_packet_size: 32768,
        // Unread channel messages queued before russh stops reading the socket: 1 MiB of
        // 32 KiB packets (the default 100 is 3.2 MiB). Later data waits in the kernel's socket
        // buffer, which costs no process memory, and the window keeps the link busy.
        channel_buffer_size: 32,
        nodelay: true,
        keepalive_interval: Some(Duration::from_secs(15)),
        keepalive_max: 3,
        ..client::Config::default()
    }
}

/// The russh-sftp settings: 8 reads of up to 255 KiB in flight per file, and 16 writes of 255 KiB.
///
/// 8 reads keep 2 MiB in flight, as much as OpenSSH's own `sftp` (64 requests of 32 KiB), and
/// on loopback download as fast as 16 did. Replies wait in memory until the copy takes them,
/// so each read in flight costs 255 KiB per open file when the target writes slower than the
/// link; 16 pushed a download of eight files past 100 MiB of peak RSS on a busy machine.
fn sftp_config() -> russh_sftp::client::Config {
    russh_sftp::client::Config {
        max_packet_len: 262_144,
        max_concurrent_reads: 8,
        max_concurrent_writes: 16,
        max_write_packet_len: 262_144,
        request_timeout_secs: REQUEST_TIMEOUT_SECONDS,
    }
}

impl Dialer {
    pub(crate) fn new(
        address: SocketAddr,
        endpoint: Endpoint,
        username: &str,
        password: Option<&SecretString>,
        key: Option<&Path>,
    ) -> Self {
        Self {
            config: Arc::new(ssh_config()),
            address,
            endpoint,
            username: username.to_string(),
            password: password.cloned(),
            key: key.map(Path::to_path_buf),
        }
    }

    fn label(&self) -> String {
        format!(
            "{}@{} ({})",
            self.username, self.endpoint.workload, self.address
        )
    }

    /// Connects, checks the host key with `policy`, logs in and opens the SFTP sessions.
    /// Returns the connection, the server's host-key fingerprint and why it was trusted.
    pub(crate) async fn dial(
        &self,
        policy: HostKeyPolicy,
    ) -> TransportResult<(Connection, String, Trust)> {
        let outcome = Arc::new(Mutex::new(HandshakeOutcome::default()));
        let handler = ClientHandler {
            policy,
            endpoint: self.endpoint.clone(),
            outcome: outcome.clone(),
        };
        let connecting = async {
            let mut handle = self.handshake(handler, &outcome).await?;
            self.authenticate(&mut handle).await?;
            let connection = self.open_sessions(handle).await?;
            Ok::<_, TransportError>(connection)
        };
        let connection = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
            .await
            .map_err(|_| {
                TransportError::new(
                    ErrorKind::Timeout,
                    format!(
                        "connecting to {} took longer than {} s",
                        self.label(),
                        CONNECT_TIMEOUT.as_secs()
                    ),
                )
            })??;
        let outcome = outcome.lock().unwrap_or_else(|poison| poison.into_inner());
        let fingerprint = outcome.fingerprint.clone().unwrap_or_default();
        Ok((
            connection,
            fingerprint,
            outcome.trust.unwrap_or(Trust::Known),
        ))
    }

    async fn handshake(
        &self,
        handler: ClientHandler,
        outcome: &Mutex<HandshakeOutcome>,
    ) -> TransportResult<Handle<ClientHandler>> {
        match client::connect(self.config.clone(), self.address, handler).await {
            Ok(handle) => Ok(handle),
            Err(HandshakeError::HostKey(refusal)) => Err(refusal),
            Err(HandshakeError::Ssh(error)) => {
                let refusal = outcome
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner())
                    .refusal
                    .take();
                Err(refusal.unwrap_or_else(|| {
                    TransportError::new(
                        ssh_kind(&error),
                        format!("cannot connect to {}: {error}", self.label()),
                    )
                }))
            }
        }
    }

    /// Public key first (when a key file is set), then the password (when there is one).
    async fn authenticate(&self, handle: &mut Handle<ClientHandler>) -> TransportResult<()> {
        let mut tried = Vec::new();
        if let Some(path) = &self.key {
            let key = load_key(path, self.password.as_ref())?;
            let hash = if key.algorithm().is_rsa() {
                handle
                    .best_supported_rsa_hash()
                    .await
                    .map_err(|error| self.ssh_error(&error))?
                    .flatten()
            } else {
                None
            };
            let result = handle
                .authenticate_publickey(
                    self.username.as_str(),
                    PrivateKeyWithHashAlg::new(Arc::new(key), hash),
                )
                .await
                .map_err(|error| self.ssh_error(&error))?;
            if result.success() {
                return Ok(());
            }
            tried.push(format!("public key {}", path.display()));
        }
        if let Some(password) = &self.password {
            let result = handle
                .authenticate_password(self.username.as_str(), password.expose())
                .await
                .map_err(|error| self.ssh_error(&error))?;
            if result.success() {
                return Ok(());
            }
            tried.push("password".to_string());
        }
        let message = if tried.is_empty() {
            format!(
                "cannot log in to {}: no password and no key to log in with",
                self.label()
            )
        } else {
            format!(
                "{} refused the login (tried {}); check the user name and credentials",
                self.label(),
                tried.join(", then ")
            )
        };
        Err(TransportError::new(ErrorKind::Authentication, message))
    }

    async fn open_sessions(&self, handle: Handle<ClientHandler>) -> TransportResult<Connection> {
        let files = SftpSession::new_with_config(self.sftp_channel(&handle).await?, sftp_config())
            .await
            .map_err(|error| sftp_error(&error, "cannot start SFTP on", "", &self.label()))?;
        files.set_timeout(REQUEST_TIMEOUT_SECONDS);
        let control =
            RawSftpSession::new_with_config(self.sftp_channel(&handle).await?, sftp_config());
        control.set_timeout(REQUEST_TIMEOUT_SECONDS);
        let version = control
            .init()
            .await
            .map_err(|error| sftp_error(&error, "cannot start SFTP on", "", &self.label()))?;
        let offers = |name: &str| version.extensions.contains_key(name);
        let extensions = ServerExtensions {
            posix_rename: offers("posix-rename@openssh.com"),
            lsetstat: offers("lsetstat@openssh.com"),
            openssh: version
                .extensions
                .keys()
                .any(|name| name.ends_with("@openssh.com")),
        };
        Ok(Connection {
            handle,
            files,
            control,
            extensions,
        })
    }

    async fn sftp_channel(
        &self,
        handle: &Handle<ClientHandler>,
    ) -> TransportResult<ChannelStream<client::Msg>> {
        let channel = handle
            .channel_open_session()
            .await
            .map_err(|error| self.ssh_error(&error))?;
        channel
            .request_subsystem(true, "sftp")
            .await
            .map_err(|error| self.ssh_error(&error))?;
        Ok(channel.into_stream())
    }

    fn ssh_error(&self, error: &russh::Error) -> TransportError {
        TransportError::new(
            ssh_kind(error),
            format!("SSH error with {}: {error}", self.label()),
        )
    }
}

/// The largest private key file ferry reads (an OpenSSH RSA-16384 key is about 13 KiB).
const KEY_FILE_LIMIT: usize = 64 * 1024;

/// Reads an OpenSSH private key (a regular file of at most [`KEY_FILE_LIMIT`] bytes); an
/// encrypted one is decrypted with the workload's password.
fn load_key(path: &Path, password: Option<&SecretString>) -> TransportResult<PrivateKey> {
    let refuse = |reason: String| {
        TransportError::new(
            ErrorKind::Authentication,
            format!("cannot use private key {}: {reason}", path.display()),
        )
    };
    let bytes = read_small_file(path, KEY_FILE_LIMIT)
        .map_err(|error| refuse(format!("cannot read it: {error}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| refuse("it is not a text (OpenSSH or PEM) key file".into()))?;
    match russh::keys::decode_secret_key(&text, None) {
        Ok(key) => Ok(key),
        Err(russh::keys::Error::KeyIsEncrypted) => match password {
            Some(password) => russh::keys::decode_secret_key(&text, Some(password.expose()))
                .map_err(|_| refuse("it is encrypted and the workload's password does not decrypt it".into())),
            None => Err(refuse(
                "it is encrypted; ferry decrypts keys with the workload's password, and none is set"
                    .into(),
            )),
        },
        Err(error) => Err(refuse(error.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loads `path` as a key on another thread; fails instead of hanging when that blocks.
    fn load_with_watchdog(path: PathBuf) -> TransportResult<PrivateKey> {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(load_key(&path, None));
        });
        receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("loading a key file must not block")
    }

    #[test]
    fn key_files_that_are_not_small_regular_files_are_refused_at_once() {
        let directory = tempfile::tempdir().unwrap();
        let fifo = directory.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let large = directory.path().join("large");
        std::fs::write(&large, vec![b'A'; KEY_FILE_LIMIT + 1]).unwrap();
        for (path, expected) in [
            (fifo, "is a FIFO (named pipe), not a regular file"),
            (PathBuf::from("/dev/zero"), "is a character device"),
            (large, "is larger than 65536 bytes"),
        ] {
            let error = load_with_watchdog(path.clone()).expect_err("refused");
            assert_eq!(error.kind, ErrorKind::Authentication);
            assert!(error.message.contains(expected), "{}", error.message);
        }
    }
}
