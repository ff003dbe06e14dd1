//! Opening a workload's `FileTree` from its plan `connection` (`local` directory, `sftp` server,
//! `s3` bucket or `azblob` container).

use std::fmt;
use std::sync::Arc;

use crate::exec::transport::local::LocalTree;
use crate::exec::transport::retry::RetryPolicy;
use crate::exec::transport::{ErrorKind, FileTree, TransportError};
use crate::plan::valid::{
    AzureBlobSettings, Connection, Migration, S3Settings, SecretString, SftpSettings, ValidPlan,
    Workload,
};

/// Which end of a migration a workload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Source,
    /// A target's `vm`.
    Target,
}

impl Role {
    /// How messages name a workload in this role.
    pub fn noun(self) -> &'static str {
        match self {
            Role::Source => "source",
            Role::Target => "target",
        }
    }
}

/// A workload together with its role and its name (the plan key of the source or target).
#[derive(Debug, Clone, Copy)]
pub struct Endpoint<'plan> {
    pub role: Role,
    pub name: &'plan str,
    pub workload: &'plan Workload,
}

impl<'plan> Endpoint<'plan> {
    /// A migration's source.
    pub fn source(plan: &'plan ValidPlan, migration: &'plan Migration) -> Self {
        Self {
            role: Role::Source,
            name: &migration.source,
            workload: plan.source_of(migration),
        }
    }

    /// A migration's target VM.
    pub fn target(plan: &'plan ValidPlan, migration: &'plan Migration) -> Self {
        Self {
            role: Role::Target,
            name: &migration.target,
            workload: &plan.target_of(migration).vm,
        }
    }

    /// Where its `connection` key belongs, as a user reads it: `sources.web-01.connection`.
    pub fn connection_key(&self) -> String {
        match self.role {
            Role::Source => format!("sources.{}.connection", self.name),
            Role::Target => format!("targets.{}.vm.connection", self.name),
        }
    }
}

/// What opening a tree may write: a missing local root directory, a new SSH host key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// A run's target: a missing local directory is created; a new host key accepted with
    /// `accept_new_host_key` is recorded in known_hosts.
    Create,
    /// A run's source: no directory is created; a new host key is recorded as for `Create`.
    Existing,
    /// `check --connect` and `ferry plan`: nothing is written at all; a new host key accepted
    /// with `accept_new_host_key` is trusted for this connection only.
    Inspect,
}

/// A workload's data could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "{} `{name}` has no connection, so ferry cannot reach its data; add `{key}` to the plan, e.g. `connection: {{ local: {{ path: ./data/{name} }} }}` or `connection: {{ sftp: {{ port: 22 }} }}`", .role.noun()
    )]
    NoConnection {
        role: Role,
        name: String,
        key: String,
    },
    #[error("{} `{name}`: {error}", .role.noun())]
    Transport {
        role: Role,
        name: String,
        #[source]
        error: TransportError,
    },
}

impl ConnectError {
    /// Whether trying again, unchanged, may succeed (a dropped or timed-out connection).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::NoConnection { .. } => false,
            Self::Transport { error, .. } => error.is_retryable(),
        }
    }

    /// Whether the local directory is simply not there yet (a target before its first run).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Transport { error, .. } if error.kind == ErrorKind::NotFound)
    }
}

/// Opens the workload's tree: `local` is the directory itself (absolute already), `sftp` logs in
/// at the workload's IP with its username and `password`; `s3` and `azblob` open the bucket or
/// container with `password` standing for the store's secret (the secret access key, account key
/// or SAS token). `exec::secrets` resolves whichever the connection needs. An object store is
/// probed with one listing, so a wrong key or a missing bucket fails here, before any data moves.
pub async fn open_tree(
    endpoint: Endpoint<'_>,
    password: Option<&SecretString>,
    mode: OpenMode,
) -> Result<Arc<dyn FileTree>, ConnectError> {
    open_tree_noting(endpoint, password, mode)
        .await
        .map(|(tree, _)| tree)
}

/// [`open_tree`], also returning what the caller should tell the user about the connection:
/// a new SSH host key trusted without being recorded ([`OpenMode::Inspect`]).
pub async fn open_tree_noting(
    endpoint: Endpoint<'_>,
    password: Option<&SecretString>,
    mode: OpenMode,
) -> Result<(Arc<dyn FileTree>, Option<String>), ConnectError> {
    let failed = |error: TransportError| ConnectError::Transport {
        role: endpoint.role,
        name: endpoint.name.to_string(),
        error,
    };
    match &endpoint.workload.connection {
        None => Err(ConnectError::NoConnection {
            role: endpoint.role,
            name: endpoint.name.to_string(),
            key: endpoint.connection_key(),
        }),
        Some(Connection::Local { path }) => {
            let path = path.clone();
            let opened = tokio::task::spawn_blocking(move || match mode {
                OpenMode::Create => LocalTree::create(&path),
                OpenMode::Existing | OpenMode::Inspect => LocalTree::open(&path),
            })
            .await
            .map_err(|error| {
                failed(TransportError::new(
                    ErrorKind::Other,
                    format!("opening the directory stopped: {error}"),
                ))
            })?;
            Ok((Arc::new(opened.map_err(failed)?), None))
        }
        Some(Connection::Sftp(settings)) => open_sftp(endpoint, settings, password, mode)
            .await
            .map_err(failed),
        Some(Connection::S3(settings)) => open_store(StoreSettings::S3(settings), password)
            .await
            .map_err(failed),
        Some(Connection::AzureBlob(settings)) => {
            open_store(StoreSettings::AzureBlob(settings), password)
                .await
                .map_err(failed)
        }
    }
}

/// Logs in over SSH and opens the SFTP subsystem; also returns the note about a host key trusted
/// for this connection only.
#[cfg(feature = "sftp")]
async fn open_sftp(
    endpoint: Endpoint<'_>,
    settings: &SftpSettings,
    password: Option<&SecretString>,
    mode: OpenMode,
) -> Result<(Arc<dyn FileTree>, Option<String>), TransportError> {
    use crate::exec::transport::sftp::{DEFAULT_POOL_SIZE, NewHostKeys, SftpTree};
    let workload = endpoint.workload;
    let new_host_keys = match mode {
        OpenMode::Create | OpenMode::Existing => NewHostKeys::Record,
        OpenMode::Inspect => NewHostKeys::DoNotRecord,
    };
    let tree = SftpTree::connect_with_pool_size(
        settings,
        *workload.ip,
        &workload.credentials.username,
        password,
        endpoint.name,
        DEFAULT_POOL_SIZE,
        new_host_keys,
    )
    .await?;
    let note = tree.unrecorded_host_key().map(str::to_string);
    Ok((Arc::new(tree), note))
}

/// This ferry was built without SFTP (`--no-default-features`).
#[cfg(not(feature = "sftp"))]
async fn open_sftp(
    _endpoint: Endpoint<'_>,
    _settings: &SftpSettings,
    _password: Option<&SecretString>,
    _mode: OpenMode,
) -> Result<(Arc<dyn FileTree>, Option<String>), TransportError> {
    Err(not_built("SFTP", "sftp"))
}

/// Opens an object store with its secret, which `exec::secrets` resolved before.
async fn open_store(
    settings: StoreSettings<'_>,
    password: Option<&SecretString>,
) -> Result<(Arc<dyn FileTree>, Option<String>), TransportError> {
    let secret = password.ok_or_else(unresolved_store_secret)?;
    Ok((open_object_store(settings, secret).await?, None))
}

/// The object store a connection names.
#[cfg_attr(not(feature = "object-store"), allow(dead_code))]
enum StoreSettings<'plan> {
    S3(&'plan S3Settings),
    AzureBlob(&'plan AzureBlobSettings),
}

/// Opens an S3 bucket or an Azure Blob container, probed with one listing.
#[cfg(feature = "object-store")]
async fn open_object_store(
    settings: StoreSettings<'_>,
    secret: &SecretString,
) -> Result<Arc<dyn FileTree>, TransportError> {
    use crate::exec::transport::object_store::ObjectStoreTree;
    let tree = match settings {
        StoreSettings::S3(settings) => ObjectStoreTree::connect_s3(settings, secret)?,
        StoreSettings::AzureBlob(settings) => {
            ObjectStoreTree::connect_azure_blob(settings, secret)?
        }
    };
    probe(tree).await
}

/// This ferry was built without object storage (`--no-default-features`).
#[cfg(not(feature = "object-store"))]
async fn open_object_store(
    _settings: StoreSettings<'_>,
    _secret: &SecretString,
) -> Result<Arc<dyn FileTree>, TransportError> {
    Err(not_built("S3 and Azure Blob", "object-store"))
}

/// The error for a connection kind this build left out.
#[cfg(not(all(feature = "sftp", feature = "object-store")))]
fn not_built(what: &str, feature: &str) -> TransportError {
    TransportError::new(
        ErrorKind::Other,
        format!(
            "this ferry was built without {what} support; build it with the `{feature}` feature (on by default)"
        ),
    )
}

/// The caller did not resolve the store's secret (`exec::secrets` does, before a run).
fn unresolved_store_secret() -> TransportError {
    TransportError::new(
        ErrorKind::Authentication,
        "the object store's key was not resolved, so ferry cannot open it",
    )
}

/// Lists the store's top level once: wrong credentials or a missing bucket show now. Nothing is
/// created either way (ferry never creates buckets or containers).
#[cfg(feature = "object-store")]
async fn probe(
    tree: crate::exec::transport::object_store::ObjectStoreTree,
) -> Result<Arc<dyn FileTree>, TransportError> {
    use crate::exec::transport::RelativePath;
    match tree.list(&RelativePath::root()).await {
        Ok(_) => Ok(Arc::new(tree)),
        // An empty prefix lists as nothing, so "not found" means the bucket itself is missing:
        // not an empty target for `ferry plan` to preview, but a plan to fix.
        Err(error) if error.kind == ErrorKind::NotFound => Err(TransportError::new(
            ErrorKind::Other,
            format!(
                "{} does not exist (ferry does not create buckets or containers): {}",
                tree.describe(),
                error.message
            ),
        )),
        Err(error) => Err(error),
    }
}

/// [`open_tree`], retrying transient failures (a dropped or timed-out connection) as `retry`
/// says (`transport::retry`). An object store is opened once: object_store retries its one
/// request already.
pub async fn open_tree_retrying(
    endpoint: Endpoint<'_>,
    password: Option<&SecretString>,
    mode: OpenMode,
    retry: RetryPolicy,
) -> Result<Arc<dyn FileTree>, ConnectError> {
    let retry = match &endpoint.workload.connection {
        Some(Connection::S3(_) | Connection::AzureBlob(_)) => RetryPolicy::NONE,
        _ => retry,
    };
    let mut backoff = retry.backoff();
    loop {
        let opened = open_tree(endpoint, password, mode).await;
        let retryable = matches!(&opened, Err(error) if error.is_retryable());
        if !(retryable && backoff.wait(None).await == Ok(true)) {
            return opened;
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.noun())
    }
}
