//! The pre-flight readiness check behind `ferry check --connect`: connects to every source and
//! target VM a plan's migrations name, proves the credentials, checks that the selected mounts
//! are readable at the source and that the target has room. Copies and writes nothing: not even
//! a new SSH host key accepted with `accept_new_host_key` (the row notes that `ferry run` will
//! record it).
//!
//! Endpoints are checked concurrently (at most [`PreflightOptions::parallel`] at once), each
//! within [`PreflightOptions::timeout`], so a hung server cannot hang the command.

mod source;
pub(crate) mod target;

use std::time::Duration;

use futures::stream::{self, StreamExt};

use crate::exec::connect::{ConnectError, Endpoint, OpenMode, Role, open_tree_noting};
use crate::exec::secrets::{self, MissingSecret};
use crate::exec::transport::TransportError;
use crate::plan::valid::{Connection, Migration, SecretString, ValidPlan, Workload};

/// How long one endpoint may take, connection and checks together, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// How many endpoints are checked at once by default.
pub const DEFAULT_PARALLEL: usize = 4;

/// How the endpoints are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreflightOptions {
    /// The time allowed per endpoint.
    pub timeout: Duration,
    /// Endpoints checked at once (at least 1).
    pub parallel: usize,
}

impl Default for PreflightOptions {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            parallel: DEFAULT_PARALLEL,
        }
    }
}

/// Whether an endpoint is ready, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ready(Ready),
    /// `retryable`: whether trying again unchanged may help (a timeout, a dropped connection).
    NotReady {
        reason: Reason,
        retryable: bool,
    },
}

/// What a ready endpoint proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ready {
    /// A source: this many selected mounts exist and can be listed.
    MountsReadable(usize),
    /// A local or SFTP target with `free` bytes for the `needed` (the selected mounts' declared
    /// sizes). `created`: its directory does not exist yet and `ferry run` will create it.
    Room {
        needed: u64,
        free: u64,
        created: bool,
    },
    /// A local or SFTP target that cannot tell its free space.
    RoomUnknown { needed: u64, created: bool },
    /// An object-store target: reachable, with no free-space limit.
    ObjectStore,
}

/// Why an endpoint is not ready. Never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A connection, login, mount or listing problem, as a sentence.
    Problem(String),
    /// The target has less free space than the selected mounts' declared sizes.
    NoRoom { needed: u64, free: u64 },
}

impl Verdict {
    pub fn is_ready(&self) -> bool {
        matches!(self, Verdict::Ready(_))
    }

    fn not_ready(reason: impl Into<String>) -> Self {
        Verdict::NotReady {
            reason: Reason::Problem(reason.into()),
            retryable: false,
        }
    }

    fn from_transport(error: &TransportError) -> Self {
        Verdict::NotReady {
            reason: Reason::Problem(error.message.clone()),
            retryable: error.is_retryable(),
        }
    }
}

/// One endpoint's row of the readiness table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub migration: String,
    pub role: Role,
    /// The source's or target's name in the plan.
    pub name: String,
    /// The connection as `FileTree::describe` names it (from the plan when it could not be opened).
    pub connection: String,
    pub verdict: Verdict,
    /// Something the user should know even when ready, e.g. a new host key `ferry run` will
    /// record. Never contains a secret.
    pub note: Option<String>,
}

/// One endpoint to check: a migration's source or target VM, with the password its connection needs.
#[derive(Debug)]
pub struct Probe<'plan> {
    pub migration: &'plan Migration,
    pub endpoint: Endpoint<'plan>,
    /// The resolved password, when its connection uses one.
    pub password: Option<SecretString>,
    /// Its connection needs a password that could not be resolved (reported as `missing-secret`).
    pub password_missing: bool,
}

/// Every endpoint the plan's migrations name, in plan order (each migration's source, then its
/// target), with their passwords resolved; and every password that could not be, each once.
pub fn probes(plan: &ValidPlan) -> (Vec<Probe<'_>>, Vec<MissingSecret>) {
    let mut probes = Vec::new();
    let mut missing: Vec<MissingSecret> = Vec::new();
    for migration in &plan.migrations {
        for endpoint in [
            Endpoint::source(plan, migration),
            Endpoint::target(plan, migration),
        ] {
            let (password, password_missing) = match secrets::resolve_secrets([endpoint]) {
                Ok(resolved) => (
                    resolved.password(endpoint.role, endpoint.name).cloned(),
                    false,
                ),
                Err(unresolved) => {
                    for secret in unresolved {
                        let known = missing.iter().any(|known| {
                            known.role == secret.role && known.workload == secret.workload
                        });
                        if !known {
                            missing.push(secret);
                        }
                    }
                    (None, true)
                }
            };
            probes.push(Probe {
                migration,
                endpoint,
                password,
                password_missing,
            });
        }
    }
    (probes, missing)
}

/// Checks every probe, at most `options.parallel` at once, each within `options.timeout`.
/// The rows come back in the probes' order.
pub async fn check_all(
    plan: &ValidPlan,
    probes: &[Probe<'_>],
    options: PreflightOptions,
) -> Vec<Readiness> {
    stream::iter(
        probes
            .iter()
            .map(|probe| check_one(plan, probe, options.timeout)),
    )
    .buffered(options.parallel.max(1))
    .collect()
    .await
}

/// Checks one endpoint within `timeout`.
pub async fn check_one(plan: &ValidPlan, probe: &Probe<'_>, timeout: Duration) -> Readiness {
    let endpoint = probe.endpoint;
    let mut readiness = Readiness {
        migration: probe.migration.name.clone(),
        role: endpoint.role,
        name: endpoint.name.to_string(),
        connection: describe_connection(endpoint.workload),
        verdict: Verdict::not_ready("not checked"),
        note: None,
    };
    if probe.password_missing {
        readiness.verdict = Verdict::not_ready(
            "its password cannot be resolved (see the missing-secret error above)",
        );
        return readiness;
    }
    let checked = tokio::time::timeout(timeout, async {
        let opened = open_tree_noting(endpoint, probe.password.as_ref(), OpenMode::Inspect).await;
        let (tree, note) = match opened {
            Ok((tree, note)) => (Ok(tree), note),
            Err(error) => (Err(error), None),
        };
        let (description, verdict) = match endpoint.role {
            Role::Source => match tree {
                Ok(tree) => (
                    Some(tree.describe()),
                    source::check_source(&*tree, endpoint.workload, probe.migration).await,
                ),
                Err(error) => (None, connect_verdict(&error)),
            },
            Role::Target => {
                target::check_target(plan, probe.migration, endpoint.workload, tree).await
            }
        };
        (description, verdict, note)
    })
    .await;
    match checked {
        Ok((description, verdict, note)) => {
            if let Some(description) = description {
                readiness.connection = description;
            }
            readiness.verdict = verdict;
            readiness.note = note;
        }
        Err(_) => {
            readiness.verdict = Verdict::NotReady {
                reason: Reason::Problem(format!(
                    "no answer within {} (timed out)",
                    human_seconds(timeout)
                )),
                retryable: true,
            };
        }
    }
    readiness
}

/// A connection that could not be opened: its error without the `source `name`: ` prefix the
/// table's own columns already give.
fn connect_verdict(error: &ConnectError) -> Verdict {
    match error {
        ConnectError::Transport { error, .. } => Verdict::from_transport(error),
        other => Verdict::NotReady {
            reason: Reason::Problem(other.to_string()),
            retryable: other.is_retryable(),
        },
    }
}

fn human_seconds(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds.fract() == 0.0 {
        format!("{seconds:.0} s")
    } else {
        format!("{seconds:.1} s")
    }
}

/// A connection as the plan gives it, in `FileTree::describe`'s style, for rows whose tree could
/// not be opened. Never contains a secret.
pub fn describe_connection(workload: &Workload) -> String {
    match &workload.connection {
        None => "(no connection)".to_string(),
        Some(Connection::Local { path }) => format!("local:{}", path.display()),
        Some(Connection::Sftp(settings)) => {
            let host = match *workload.ip {
                std::net::IpAddr::V4(address) => address.to_string(),
                std::net::IpAddr::V6(address) => format!("[{address}]"),
            };
            let root = settings.root.as_deref().unwrap_or("/");
            let root = if root.starts_with('/') {
                root.to_string()
            } else {
                format!("/~/{root}")
            };
            format!(
                "sftp://{}@{host}:{}{root}",
                workload.credentials.username, settings.port
            )
        }
        Some(Connection::S3(settings)) => format!("s3://{}/{}", settings.bucket, settings.prefix),
        Some(Connection::AzureBlob(settings)) => format!(
            "azblob://{}/{}/{}",
            settings.account, settings.container, settings.prefix
        ),
    }
}

#[cfg(test)]
mod tests;
