//! The plan as written: serde and schemars types mirroring the YAML, before any domain rule has run.
//!
//! These types are the single source of the JSON Schema (`schema/plan.schema.json`). Keep them
//! explicit: no `flatten`, no internally tagged enums (they lose spans and give poor errors).
//!
//! Unknown keys are the schema's to refuse (`#[schemars(deny_unknown_fields)]` becomes
//! `additionalProperties: false`), not serde's: an entry with an unknown key still deserialises,
//! so the domain rules still check it and one misspelt key hides no other problem. A plan with
//! an unknown key has an `unknown-key` error, so it never becomes a `ValidPlan`.

mod runbook;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use runbook::{
    RawDetailedHook, RawHookCommand, RawHookRun, RawHooks, RawThreshold, RawTimeout, RawWave,
};

/// A ferry migration plan: the workloads to move (`sources`), where they go (`targets`) and
/// which mounts move in each migration (`migrations`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(title = "ferry migration plan")]
pub struct RawPlan {
    /// The plan format version. Only `1` exists.
    #[schemars(range(min = 1, max = 1), example = 1)]
    pub version: u64,
    /// A free-form section for YAML anchors (`&name`) that sources and targets reuse with
    /// aliases (`*name`) and merge keys (`<<: *name`). ferry ignores its content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(title = "anchors")]
    pub anchors: Option<serde_json::Value>,
    /// The workloads to migrate, by name.
    #[schemars(title = "sources")]
    pub sources: IndexMap<String, RawWorkload>,
    /// The clouds and VMs the workloads move to, by name.
    #[schemars(title = "targets")]
    pub targets: IndexMap<String, RawTarget>,
    /// Each migration moves the selected mounts of one source to one target.
    #[schemars(title = "migrations")]
    pub migrations: Vec<RawMigration>,
    /// The waves migrations run in, in order: a wave starts once every migration of the earlier
    /// waves has ended with no more failures than their `max_failures`. With `waves`, every
    /// migration names its `wave`; without, all migrations run as one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(title = "waves")]
    pub waves: Option<Vec<RawWave>>,
}

/// A server: its address, how to log in, its mount points and how ferry reaches its data.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "workload")]
#[schemars(deny_unknown_fields)]
pub struct RawWorkload {
    /// The workload's IPv4 or IPv6 address. A source's IP never changes once recorded.
    #[schemars(with = "IpText")]
    pub ip: String,
    /// How to log in to the workload.
    pub credentials: RawCredentials,
    /// The workload's volumes. On a target VM they declare its capacity.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(title = "mount points")]
    pub mountpoints: Vec<RawMount>,
    /// The operating-system family. Inferred from the mount names when absent
    /// (a drive letter means windows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<OsFamily>,
    /// How ferry reaches the workload's data. Optional for `ferry check`; `ferry run` needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<RawConnection>,
}

/// An IPv4 or IPv6 address, as text.
#[derive(JsonSchema)]
#[schemars(title = "IP address")]
#[schemars(extend("anyOf" = [{"format": "ipv4"}, {"format": "ipv6"}]), example = &"192.0.2.10")]
#[allow(dead_code)]
struct IpText(#[schemars(length(min = 1))] String);

/// A username, a password and an optional domain.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "credentials")]
#[schemars(deny_unknown_fields)]
pub struct RawCredentials {
    /// The login name.
    #[schemars(length(min = 1), example = &"administrator")]
    pub username: String,
    /// The password: a reference `{ env: NAME }` or `{ file: PATH }`, or plain text (warned).
    #[schemars(extend("defaultSnippets" = [
        { "label": "{ env: NAME }", "description": "read the password from an environment variable", "body": { "env": "${1:PASSWORD_VARIABLE}" } },
        { "label": "{ file: PATH }", "description": "read the password from a file beside the plan", "body": { "file": "${1:secrets/password.txt}" } },
    ]))]
    pub password: RawSecret,
    /// The Windows domain or, for cloud credentials, the region or tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

/// A secret value, best given by reference so that the plan can live in git.
#[derive(Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "secret")]
#[serde(untagged)]
pub enum RawSecret {
    /// Plain text in the plan (warned: plans live in git).
    #[schemars(title = "plain-text secret")]
    Plain(#[schemars(length(min = 1))] String),
    /// Read from an environment variable when a connection needs it.
    Env(EnvSecret),
    /// Read from a file (relative to the plan's folder) when a connection needs it.
    File(FileSecret),
}

impl std::fmt::Debug for RawSecret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RawSecret::Plain(_) => formatter.write_str("Plain(<redacted>)"),
            RawSecret::Env(env) => write!(formatter, "Env({:?})", env.env),
            RawSecret::File(file) => write!(formatter, "File({:?})", file.file),
        }
    }
}

/// `{ env: NAME }`: the secret is in this environment variable.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "secret from an environment variable")]
#[schemars(deny_unknown_fields)]
pub struct EnvSecret {
    /// The environment variable's name.
    #[schemars(length(min = 1), example = &"WEB01_PASSWORD")]
    pub env: String,
}

/// `{ file: PATH }`: the secret is this file's content, without one trailing newline: a regular
/// file (symlinks followed) of at most 16 KiB.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "secret from a file")]
#[schemars(deny_unknown_fields)]
pub struct FileSecret {
    /// The file's path, relative to the plan's folder: a regular file (symlinks followed) of at
    /// most 16 KiB, read without one trailing newline.
    #[schemars(length(min = 1), example = &"secrets/web-01.txt")]
    pub file: String,
}

/// A volume of a workload.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "mount")]
#[schemars(deny_unknown_fields)]
pub struct RawMount {
    /// The mount's name as the OS shows it: a drive such as `C:\` or a path such as `/data`.
    #[schemars(length(min = 1), example = &"C:\\")]
    pub name: String,
    /// The mount's total size: integer bytes, or a string with a unit such as `40 GiB`.
    pub size: RawSize,
    /// Marks this mount as the system volume. Defaults to `C:\` on Windows and `/` on POSIX.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<bool>,
    /// Where the mount's data lives, relative to the connection's root. Defaults to the
    /// mount name mapped as documented (`C:\` is `C`, `/data` is `data`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// A size: integer bytes, or a number with a unit (`512 MiB`, `40 GiB`, `1.5 TB`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "size")]
#[serde(untagged)]
pub enum RawSize {
    /// Bytes.
    #[schemars(title = "bytes")]
    Bytes(#[schemars(range(min = 1))] u64),
    /// A number with a unit.
    #[schemars(title = "size with a unit")]
    Text(
        #[schemars(regex(pattern = r"^\s*([0-9]+\s*([kKmMgGtTpPeE][iI]?[bB]?|[bB])?|[0-9]+\.[0-9]+\s*([kKmMgGtTpPeE][iI]?[bB]?|[bB]))\s*$"), example = &"40 GiB")]
         String,
    ),
}

/// The operating-system family of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "operating-system family")]
#[serde(rename_all = "lowercase")]
pub enum OsFamily {
    /// Drive-letter mounts; `C:\` is the system volume; names compare case-insensitively.
    Windows,
    /// Path mounts; `/` is the system volume; names compare exactly.
    Linux,
}

/// Where a target lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "cloud")]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    /// Amazon Web Services.
    Aws,
    /// Microsoft Azure.
    Azure,
    /// VMware vSphere.
    Vsphere,
    /// VMware Cloud Director.
    Vcloud,
}

impl Cloud {
    pub const ALL: [Cloud; 4] = [Cloud::Aws, Cloud::Azure, Cloud::Vsphere, Cloud::Vcloud];

    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Azure => "azure",
            Cloud::Vsphere => "vsphere",
            Cloud::Vcloud => "vcloud",
        }
    }
}

/// A migration target: a cloud, the credentials that open it, and the VM that receives the data.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "target")]
#[schemars(deny_unknown_fields)]
pub struct RawTarget {
    /// The cloud type: `aws`, `azure`, `vsphere` or `vcloud`.
    pub cloud: Cloud,
    /// The cloud credentials (for aws: access key id, secret key and region in `domain`).
    pub credentials: RawCredentials,
    /// The VM that receives the migrated mounts.
    pub vm: RawWorkload,
}

/// One source moved to one target.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "migration")]
#[schemars(deny_unknown_fields)]
pub struct RawMigration {
    /// A readable name. Defaults to the source's name, or `SOURCE-to-TARGET` when the
    /// source is migrated more than once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub name: Option<String>,
    /// The source's name, a key of `sources`.
    #[schemars(length(min = 1))]
    pub source: String,
    /// The target's name, a key of `targets`.
    #[schemars(length(min = 1))]
    pub target: String,
    /// The source mounts to migrate. The system volume must be among them.
    #[schemars(title = "selected mounts", length(min = 1), example = ["C:\\"])]
    pub mounts: Vec<String>,
    /// The wave this migration runs in: a `name` from `waves`. Required when the plan has waves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1), example = &"pilot")]
    pub wave: Option<String>,
    /// Commands run before, after, or on failure of this migration; each phase given here
    /// replaces its wave's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<RawHooks>,
}

/// How ferry reaches a workload's data.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "connection")]
#[serde(rename_all = "lowercase")]
#[schemars(deny_unknown_fields)]
pub enum RawConnection {
    /// A directory on this machine standing for the workload's disks.
    #[schemars(title = "local folder")]
    Local(LocalConnection),
    /// SSH File Transfer Protocol, at the workload's `ip` with its credentials.
    #[schemars(title = "SFTP server")]
    Sftp(SftpConnection),
    /// An Amazon S3 bucket where aws builds the VM's disks (target VMs on `aws` only). The
    /// target's cloud credentials open it: username = access key id, password = secret access key.
    #[schemars(title = "S3 bucket")]
    S3(S3Connection),
    /// An Azure Blob Storage container where azure builds the VM's disks (target VMs on `azure`
    /// only). The target's cloud credentials open it: username = storage account, password = account key.
    #[serde(rename = "azblob")]
    #[schemars(title = "Azure Blob container")]
    AzureBlob(AzureBlobConnection),
}

/// `local: { path: DIR }`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "local folder connection")]
#[schemars(deny_unknown_fields)]
pub struct LocalConnection {
    /// The directory, relative to the plan's folder. `C:\` maps to `DIR/C`, `/data` to `DIR/data`.
    #[schemars(length(min = 1), example = &"./data/web-01")]
    pub path: String,
}

/// `sftp: { port, root, key, host_key, known_hosts, accept_new_host_key }`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "SFTP connection")]
#[schemars(deny_unknown_fields)]
pub struct SftpConnection {
    /// The SSH port.
    #[serde(default = "default_ssh_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
    /// The remote directory the mounts live under. Defaults to the file system root,
    /// where `/data` is `/data` and, on a Windows OpenSSH server, `C:\` is `/C:/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// A private key file for public-key login, relative to the plan's folder. The password is
    /// tried when the key is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The server's pinned host-key fingerprint, `SHA256:...` as `ssh-keygen -lf` prints it.
    /// A key marked `@revoked` in known_hosts is refused even when pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^SHA256:[A-Za-z0-9+/]{43}=?$"))]
    pub host_key: Option<String>,
    /// A known_hosts file to verify the server against, relative to the plan's folder.
    /// Defaults to `~/.ssh/known_hosts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_hosts: Option<String>,
    /// Accept a host key that is neither pinned nor in known_hosts. Off by default: an
    /// unknown key is refused. `ferry run` then appends it to known_hosts; `check --connect`
    /// and `ferry plan` write nothing. Revoked and changed keys are always refused.
    #[serde(default)]
    pub accept_new_host_key: bool,
}

fn default_ssh_port() -> u16 {
    22
}

/// `s3: { bucket, prefix, region, endpoint }`. Mounts are staged as objects under
/// `PREFIX/<mount path>/...` (`C:\` under `PREFIX/C/`); folders are implied by the keys.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "S3 bucket connection")]
#[schemars(deny_unknown_fields)]
pub struct S3Connection {
    /// The bucket's name. ferry does not create it.
    #[schemars(length(min = 3, max = 63), example = &"ferry-staging")]
    pub bucket: String,
    /// The key prefix the mounts go under, e.g. `wave-1/web-01`. Defaults to the bucket's top level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"wave-1/web-01")]
    pub prefix: Option<String>,
    /// The bucket's region. Defaults to the target credentials' `domain`, then `us-east-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1), example = &"eu-west-1")]
    pub region: Option<String>,
    /// An S3-compatible endpoint instead of AWS's, addressed path-style, e.g.
    /// `https://s3.example.internal` or `http://127.0.0.1:9000`. Plain `http://` is accepted
    /// for loopback addresses only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https?://"), example = &"http://127.0.0.1:9000")]
    pub endpoint: Option<String>,
}

/// `azblob: { container, prefix, account, endpoint, sas_token }`. Mounts are staged as blobs under
/// `PREFIX/<mount path>/...` (`C:\` under `PREFIX/C/`); folders are implied by the names.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Azure Blob container connection")]
#[schemars(deny_unknown_fields)]
pub struct AzureBlobConnection {
    /// The container's name. ferry does not create it.
    #[schemars(length(min = 3, max = 63), example = &"ferry-staging")]
    pub container: String,
    /// The blob-name prefix the mounts go under, e.g. `wave-1/web-01`. Defaults to the container's top level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"wave-1/web-01")]
    pub prefix: Option<String>,
    /// The storage account. Defaults to the target credentials' `username`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1), example = &"ferrystaging")]
    pub account: Option<String>,
    /// A Blob endpoint instead of Azure's, including the account, e.g. Azurite's
    /// `http://127.0.0.1:10000/devstoreaccount1`. Plain `http://` is accepted for loopback addresses only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https?://"), example = &"http://127.0.0.1:10000/devstoreaccount1")]
    pub endpoint: Option<String>,
    /// A shared access signature (the query string `sv=...&sig=...`) that opens the container
    /// instead of the account key; then the credentials' password is not used for storage.
    /// Only by reference: `{ env: NAME }` or `{ file: PATH }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sas_token: Option<SecretReference>,
}

/// A secret that may only be given by reference, never in the plan's text.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "secret reference")]
#[serde(untagged)]
pub enum SecretReference {
    /// Read from an environment variable when a connection needs it.
    Env(EnvSecret),
    /// Read from a file (relative to the plan's folder) when a connection needs it.
    File(FileSecret),
}
