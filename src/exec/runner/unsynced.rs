//! Before a migration runs: settling the records of files an earlier `--durability defer` run
//! recorded before they were durable. An earlier boot's are dropped (a restart may have lost
//! their data, so the files are copied again); this boot's are confirmed once the target has
//! synced them.

use crate::exec::connect::{Endpoint, OpenMode, open_tree_retrying};
use crate::exec::runner::claim::claim;
use crate::exec::runner::{RunContext, RunEvent};
use crate::exec::transport::RelativePath;
use crate::plan::valid::Migration;
use crate::state::StateError;

/// Settles the migration's records of files that were not durable; see the module documentation.
/// Another run holding the migration's lock settles them itself.
pub(super) async fn settle_unsynced(
    context: &RunContext<'_>,
    migration: &Migration,
) -> Result<(), String> {
    let name = migration.name.as_str();
    let backend = context.backend;
    // No run writes an earlier boot's records any more, so no lock is needed to drop them.
    let dropped = backend
        .drop_unconfirmed(name)
        .await
        .map_err(|error| error.to_string())?;
    if dropped > 0 {
        context.emit(RunEvent::UnconfirmedDropped {
            migration: name.to_string(),
            files: dropped,
        });
    }
    if backend
        .unsynced_files(name)
        .await
        .map_err(|error| error.to_string())?
        .is_empty()
    {
        return Ok(());
    }
    let lock = match claim(context, name, "ferry run (sync)").await {
        Ok(lock) => lock,
        Err(StateError::Locked { .. }) => return Ok(()),
        Err(error) => return Err(error.to_string()),
    };
    // Listed under the lock: every listed file was in place before its record was written, so
    // the sync below covers it.
    let paths = backend
        .unsynced_files(name)
        .await
        .map_err(|error| error.to_string())?;
    let target_end = Endpoint::target(context.plan, migration);
    let password = context.secrets.password(target_end.role, target_end.name);
    let target = open_tree_retrying(
        target_end,
        password,
        OpenMode::Existing,
        context.options.copy.retry,
    )
    .await
    .map_err(|error| error.to_string())?;
    let relative: Vec<RelativePath> = paths
        .iter()
        .filter_map(|path| RelativePath::new(path))
        .collect();
    target
        .sync(&relative)
        .await
        .map_err(|error| format!("cannot make the files an earlier run wrote durable: {error}"))?;
    backend
        .confirm_synced(name, &paths)
        .await
        .map_err(|error| error.to_string())?;
    let _ = lock.release().await;
    Ok(())
}
