//! `SftpTree`: a `FileTree` on an SSH server, over SFTP (russh + russh-sftp).
//!
//! - **Paths**: relative to `sftp.root` (default: the file system root); on a Windows OpenSSH
//!   server without a root, mount `C:\` (relative path `C`) is `/C:/`. See [`paths`] for the rules.
//! - **Login**: the private key (`sftp.key`, OpenSSH format, decrypted with the password when
//!   it is encrypted) first, then the password. Failures are `ErrorKind::Authentication`;
//!   no message ever contains the password.
//! - **Host keys**: pinned fingerprint, else known_hosts (parsed by [`known_hosts`], markers
//!   included); unknown keys are refused unless `accept_new_host_key` (which records them, on a
//!   connection opened with [`NewHostKeys::Record`] only); changed and `@revoked` keys always.
//!   See [`host_key`].
//! - **Speed**: AES-GCM first, 16 MiB windows, 32 KiB SSH packets, `TCP_NODELAY`, 8 pipelined
//!   255 KiB reads and 16 such writes per file, and a pool of up to [`DEFAULT_POOL_SIZE`] SSH
//!   connections for concurrent operations, since one connection encrypts on one core.
//! - **Symlinks are never followed**: metadata is `lstat`; listings use the attributes the
//!   server's `readdir` reports, which OpenSSH takes with `lstat`; `set_metadata` uses
//!   `lsetstat@openssh.com`, and on a server without it leaves symlinks alone rather than
//!   change what they point to. A `RelativePath` cannot contain `..`, so no request names a
//!   path outside the root; a symlink *on the server* pointing elsewhere is the server's concern.
//! - **Renames replace the target** atomically with `posix-rename@openssh.com` where offered,
//!   else by removing the target and renaming (not atomic).
//! - **Device ids**: SFTP has no `st_dev`; directories get the file system id from
//!   `statvfs@openssh.com` instead (see `device.rs`), files get `None`.

mod connection;
mod device;
mod errors;
pub mod host_key;
mod known_hosts;
mod operations;
pub mod paths;
mod pool;
mod stream;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use connection::Dialer;
use host_key::{Endpoint, HostKeyPolicy, Trust, UnknownKeys};
use paths::{RemotePaths, is_windows_drive_path, normalize_root};
use pool::Pool;

use crate::exec::transport::{ErrorKind, TransportError, TransportResult};
use crate::plan::valid::{SecretString, SftpSettings};

/// How many SSH connections a tree opens at most.
pub const DEFAULT_POOL_SIZE: usize = 4;

/// Whether connecting may append a newly accepted host key (`accept_new_host_key`) to the
/// known_hosts file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewHostKeys {
    /// `ferry run`: record it, so later runs check against it.
    Record,
    /// `check --connect`, `ferry plan`: write nothing; the key is trusted for this tree only,
    /// and [`SftpTree::unrecorded_host_key`] says so.
    DoNotRecord,
}

/// A directory tree on an SFTP server. Cheap to share behind an `Arc`; all methods may run
/// concurrently and spread over the connection pool.
pub struct SftpTree {
    pool: Pool,
    paths: RemotePaths,
    description: String,
    windows_server: bool,
    unrecorded_host_key: Option<String>,
}

impl SftpTree {
    /// Connects to `host` with the workload's `settings` and credentials, checking the host key
    /// and logging in. `workload` names the workload in messages. More connections (up to
    /// [`DEFAULT_POOL_SIZE`]) open later when operations run concurrently.
    pub async fn connect(
        settings: &SftpSettings,
        host: IpAddr,
        username: &str,
        password: Option<&SecretString>,
        workload: &str,
    ) -> TransportResult<SftpTree> {
        Self::connect_with_pool_size(
            settings,
            host,
            username,
            password,
            workload,
            DEFAULT_POOL_SIZE,
            NewHostKeys::Record,
        )
        .await
    }

    /// [`SftpTree::connect`] with a chosen pool size (at least 1) and, for an accepted new
    /// host key, whether to record it.
    pub async fn connect_with_pool_size(
        settings: &SftpSettings,
        host: IpAddr,
        username: &str,
        password: Option<&SecretString>,
        workload: &str,
        pool_size: usize,
        new_host_keys: NewHostKeys,
    ) -> TransportResult<SftpTree> {
        let root = match &settings.root {
            Some(root) => Some(normalize_root(root).map_err(|message| {
                TransportError::new(ErrorKind::Other, format!("{workload}: {message}"))
            })?),
            None => None,
        };
        let policy = host_key_policy(settings, new_host_keys)?;
        let endpoint = Endpoint {
            workload: workload.to_string(),
            host: host.to_string(),
            port: settings.port,
        };
        let dialer = Dialer::new(
            SocketAddr::new(host, settings.port),
            endpoint,
            username,
            password,
            settings.key.as_deref(),
        );
        let known_hosts = known_hosts_path(settings).ok();
        let (first, fingerprint, trust) = dialer.dial(policy).await?;
        let unrecorded_host_key = (trust == Trust::NotRecorded).then(|| {
            format!(
                "new host key {fingerprint}: `ferry run` will accept it and add it to {} \
                 (accept_new_host_key)",
                known_hosts.as_deref().map_or_else(
                    || "known_hosts".to_string(),
                    |path| path.display().to_string()
                )
            )
        });
        let home = first.files.canonicalize(".").await.map_err(|error| {
            errors::sftp_error(&error, "cannot resolve the login directory", ".", workload)
        })?;
        let windows_server = is_windows_drive_path(&home);
        let root = match root {
            // A relative root is relative to the login directory.
            Some(None) => Some(format!(
                "{}/{}",
                home.trim_end_matches('/'),
                settings
                    .root
                    .as_deref()
                    .unwrap_or_default()
                    .trim()
                    .replace('\\', "/")
            )),
            Some(Some(absolute)) => Some(absolute),
            None => None,
        };
        let paths = RemotePaths::new(root, windows_server);
        let host_text = match host {
            IpAddr::V4(address) => address.to_string(),
            IpAddr::V6(address) => format!("[{address}]"),
        };
        let description = format!(
            "sftp://{username}@{host_text}:{}{}",
            settings.port,
            paths.root()
        );
        Ok(SftpTree {
            pool: Pool::new(dialer, first, fingerprint, pool_size),
            paths,
            description,
            windows_server,
            unrecorded_host_key,
        })
    }

    /// When the server's key was new and accepted without being recorded
    /// ([`NewHostKeys::DoNotRecord`]): a sentence saying so, with its fingerprint.
    pub fn unrecorded_host_key(&self) -> Option<&str> {
        self.unrecorded_host_key.as_deref()
    }

    /// Whether the server looked like Windows (its login directory is a drive path).
    pub fn is_windows_server(&self) -> bool {
        self.windows_server
    }

    /// How many SSH connections are open now.
    pub async fn open_connections(&self) -> usize {
        self.pool.open_connections().await
    }
}

/// A pinned key (still refused when known_hosts revokes it), else the known_hosts lookup.
fn host_key_policy(
    settings: &SftpSettings,
    new_host_keys: NewHostKeys,
) -> TransportResult<HostKeyPolicy> {
    Ok(match &settings.host_key {
        Some(pinned) => HostKeyPolicy::Pinned {
            fingerprint: pinned.clone(),
            // Without a home directory there is no default file to read revocations from.
            revocations: known_hosts_path(settings).ok(),
        },
        None => HostKeyPolicy::KnownHosts {
            path: known_hosts_path(settings)?,
            unknown: match (settings.accept_new_host_key, new_host_keys) {
                (false, _) => UnknownKeys::Refuse,
                (true, NewHostKeys::Record) => UnknownKeys::AcceptAndRecord,
                (true, NewHostKeys::DoNotRecord) => UnknownKeys::AcceptWithoutRecording,
            },
        },
    })
}

/// `sftp.known_hosts`, else `~/.ssh/known_hosts`.
fn known_hosts_path(settings: &SftpSettings) -> TransportResult<PathBuf> {
    if let Some(path) = &settings.known_hosts {
        return Ok(path.clone());
    }
    match std::env::var_os("HOME") {
        Some(home) if !home.is_empty() => Ok(PathBuf::from(home).join(".ssh").join("known_hosts")),
        _ => Err(TransportError::new(
            ErrorKind::HostKey,
            "no home directory to find ~/.ssh/known_hosts in; set `known_hosts` or pin \
             `host_key` in the workload's sftp connection",
        )),
    }
}
