//! A target VM's readiness: its connection opens and its root can be listed (or, for a local or
//! SFTP directory not created yet, its nearest existing parent can), and a local or SFTP target
//! has free space for the selected mounts' declared sizes. Object stores have no such limit.

use std::path::Path;
use std::sync::Arc;

use super::{Ready, Reason, Verdict, connect_verdict};
use crate::exec::connect::ConnectError;
use crate::exec::transport::local::LocalTree;
use crate::exec::transport::{ErrorKind, FileTree, RelativePath, TransportError};
use crate::plan::valid::{Connection, Migration, ValidPlan, Workload};

/// The sum of the declared sizes of the migration's selected mounts (what the target must hold).
pub fn needed_bytes(plan: &ValidPlan, migration: &Migration) -> u64 {
    let source = plan.source_of(migration);
    migration
        .mounts
        .iter()
        .filter_map(|name| source.mount(name))
        .fold(0u64, |total, mount| total.saturating_add(mount.size))
}

/// Checks an opened (or failed) target tree; returns its description when it opened.
pub(super) async fn check_target(
    plan: &ValidPlan,
    migration: &Migration,
    workload: &Workload,
    opened: Result<Arc<dyn FileTree>, ConnectError>,
) -> (Option<String>, Verdict) {
    let needed = needed_bytes(plan, migration);
    let object_store = matches!(
        workload.connection,
        Some(Connection::S3(_) | Connection::AzureBlob(_))
    );
    let tree = match opened {
        Ok(tree) => tree,
        Err(error) => {
            return match &workload.connection {
                Some(Connection::Local { path }) if error.is_not_found() => {
                    (None, room_below_missing_directory(path, needed).await)
                }
                _ => (None, connect_verdict(&error)),
            };
        }
    };
    let description = Some(tree.describe());
    let created = match tree.list(&RelativePath::root()).await {
        Ok(_) => false,
        // An SFTP target's root that does not exist yet: `ferry run` creates it.
        Err(error) if error.kind == ErrorKind::NotFound && !object_store => true,
        Err(error) => return (description, Verdict::from_transport(&error)),
    };
    if object_store {
        return (description, Verdict::Ready(Ready::ObjectStore));
    }
    (description, room(&*tree, needed, created).await)
}

/// Compares the tree's free space with what the migration needs.
async fn room(tree: &dyn FileTree, needed: u64, created: bool) -> Verdict {
    match tree.free_space().await {
        Ok(Some(free)) if free >= needed => Verdict::Ready(Ready::Room {
            needed,
            free,
            created,
        }),
        Ok(Some(free)) => Verdict::NotReady {
            reason: Reason::NoRoom { needed, free },
            retryable: false,
        },
        Ok(None) => Verdict::Ready(Ready::RoomUnknown { needed, created }),
        Err(error) => Verdict::from_transport(&error),
    }
}

/// A local target directory that does not exist yet: `ferry run` creates it, so the room is
/// that of its nearest existing parent directory.
async fn room_below_missing_directory(path: &Path, needed: u64) -> Verdict {
    let path = path.to_path_buf();
    let opened = tokio::task::spawn_blocking(move || {
        let parent = path
            .ancestors()
            .skip(1)
            .find(|ancestor| ancestor.is_dir())
            .ok_or_else(|| {
                TransportError::new(
                    ErrorKind::NotFound,
                    format!(
                        "{} does not exist and has no existing parent directory",
                        path.display()
                    ),
                )
            })?;
        LocalTree::open(parent)
    })
    .await;
    match opened {
        Ok(Ok(parent)) => room(&parent, needed, true).await,
        Ok(Err(error)) => Verdict::from_transport(&error),
        Err(error) => Verdict::not_ready(format!("opening the directory stopped: {error}")),
    }
}
