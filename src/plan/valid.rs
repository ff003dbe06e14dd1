//! The resolved plan that validation produces and execution consumes: every reference checked, every value parsed.
//!
//! A `ValidPlan` exists only when the plan had no errors. `exec` accepts nothing else.
//!
//! The values later checks label (a source's IP, every secret reference) are [`Spanned`]: they
//! carry where the plan wrote them, so a check that needs state or the environment
//! (`ip-changed`, `missing-secret`) labels the YAML without going back to the tree.

use std::fmt;
use std::net::IpAddr;
use std::ops::{Deref, Range};
use std::path::PathBuf;

use indexmap::IndexMap;

mod runbook;

pub use crate::plan::mount_name::MountName;
pub use crate::plan::raw::{Cloud, OsFamily};
pub use runbook::{DEFAULT_HOOK_TIMEOUT, Hook, HookCommand, HookPhase, Hooks, Threshold, Wave};

/// A plan that passed every check.
#[derive(Debug, Clone)]
pub struct ValidPlan {
    /// The plan file as the user named it.
    pub file: PathBuf,
    /// The absolute folder that relative paths in the plan resolve against.
    pub base_dir: PathBuf,
    pub sources: IndexMap<String, Workload>,
    pub targets: IndexMap<String, Target>,
    pub migrations: Vec<Migration>,
    /// In run order; empty when the plan has no `waves` (then every migration is in none).
    pub waves: Vec<Wave>,
}

impl ValidPlan {
    /// The source a migration names. Validation guarantees it exists.
    pub fn source_of(&self, migration: &Migration) -> &Workload {
        &self.sources[&migration.source]
    }

    /// The target a migration names. Validation guarantees it exists.
    pub fn target_of(&self, migration: &Migration) -> &Target {
        &self.targets[&migration.target]
    }

    /// Every source's IP, where the plan writes it.
    pub fn source_ips(&self) -> Vec<PlannedIp> {
        self.sources
            .iter()
            .map(|(name, source)| PlannedIp {
                source: name.clone(),
                ip: source.ip.to_string(),
                span: source.ip.span.clone(),
            })
            .collect()
    }
}

/// Where a value was written in the plan: byte offsets into its text, as labels use them.
pub type Span = Range<usize>;

/// A value and where the plan wrote it (the value's span, not its key's). Reads as the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }

    /// A value no plan text wrote (built by code, such as a test's plan): its span is empty, at
    /// the start of the text.
    pub fn unplaced(value: T) -> Self {
        Self { value, span: 0..0 }
    }
}

impl<T> Deref for Spanned<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

/// A source's IP as the plan writes it, for the rules that compare it with state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedIp {
    pub source: String,
    /// As written; the rules skip one that does not parse (the plan rules report it).
    pub ip: String,
    pub span: Span,
}

/// A server, source or target VM.
#[derive(Debug, Clone)]
pub struct Workload {
    pub name: String,
    pub ip: Spanned<IpAddr>,
    pub credentials: Credentials,
    pub os: OsFamily,
    pub mounts: Vec<Mount>,
    pub connection: Option<Connection>,
}

impl Workload {
    /// The mount with this name, compared the OS's way.
    pub fn mount(&self, name: &MountName) -> Option<&Mount> {
        self.mounts.iter().find(|mount| &mount.name == name)
    }

    /// The system volume: the mount marked `system: true`, else `C:\` on Windows or `/` on POSIX.
    pub fn system_volume(&self) -> Option<&Mount> {
        self.mounts.iter().find(|mount| mount.system)
    }
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: Spanned<SecretRef>,
    pub domain: Option<String>,
}

/// Where a secret comes from. Resolved only when a connection needs it.
#[derive(Debug, Clone)]
pub enum SecretRef {
    Plain(SecretString),
    Env(String),
    /// An absolute path.
    File(PathBuf),
}

/// A secret's value. Its `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The value itself, for handing to an authentication call and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("<redacted>")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("<redacted>")
    }
}

#[derive(Debug, Clone)]
pub struct Mount {
    pub name: MountName,
    /// Total size in bytes, greater than zero.
    pub size: u64,
    /// Exactly one mount of a workload is the system volume, if any is.
    pub system: bool,
    /// The data location relative to the connection root (`/` separators).
    pub path: String,
}

#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub cloud: Cloud,
    pub credentials: Credentials,
    pub vm: Workload,
}

#[derive(Debug, Clone)]
pub struct Migration {
    /// Unique within the plan.
    pub name: String,
    /// A key of `ValidPlan::sources`.
    pub source: String,
    /// A key of `ValidPlan::targets`.
    pub target: String,
    /// Each exists on the source; no repeats; includes the system volume when the source has one.
    pub mounts: Vec<MountName>,
    /// A name of `ValidPlan::waves`; `None` exactly when the plan has no waves.
    pub wave: Option<String>,
    /// Its wave's hooks, each phase replaced by the migration's own when it gives that phase.
    pub hooks: Hooks,
}

/// How ferry reaches a workload's data.
#[derive(Debug, Clone)]
pub enum Connection {
    /// An absolute directory on this machine.
    Local {
        path: PathBuf,
    },
    Sftp(SftpSettings),
    /// An S3 bucket (target VMs on aws only).
    S3(S3Settings),
    /// An Azure Blob container (target VMs on azure only).
    AzureBlob(AzureBlobSettings),
}

#[derive(Debug, Clone)]
pub struct SftpSettings {
    pub port: u16,
    /// The remote directory mounts live under; `None` means the file system root.
    pub root: Option<String>,
    /// An absolute path to a private key.
    pub key: Option<PathBuf>,
    /// A pinned `SHA256:...` fingerprint.
    pub host_key: Option<String>,
    /// An absolute path to a known_hosts file.
    pub known_hosts: Option<PathBuf>,
    pub accept_new_host_key: bool,
}

/// An S3 bucket with everything needed to open it, credentials included (from the target's cloud credentials).
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// The key prefix without leading or trailing `/`; empty for the bucket's top level.
    pub prefix: String,
    /// `region:`, else the credentials' `domain`, else `us-east-1`.
    pub region: String,
    /// A custom endpoint (`http://` only for loopback, checked when connecting).
    pub endpoint: Option<String>,
    pub access_key_id: String,
    /// The target's cloud credentials' password, where it is written.
    pub secret_access_key: Spanned<SecretRef>,
}

/// An Azure Blob container with everything needed to open it, credentials included.
#[derive(Debug, Clone)]
pub struct AzureBlobSettings {
    pub container: String,
    /// The blob-name prefix without leading or trailing `/`; empty for the container's top level.
    pub prefix: String,
    /// `account:`, else the target credentials' username.
    pub account: String,
    /// A custom endpoint including the account (Azurite), `http://` only for loopback.
    pub endpoint: Option<String>,
    pub key: AzureBlobKey,
}

/// What opens an Azure Blob container.
#[derive(Debug, Clone)]
pub enum AzureBlobKey {
    /// The storage account's access key (the target credentials' password).
    AccountKey(Spanned<SecretRef>),
    /// A shared access signature query string (`sas_token:`).
    SasToken(Spanned<SecretRef>),
}
