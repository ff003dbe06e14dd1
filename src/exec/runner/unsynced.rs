//! Before a migration runs: settling the records of files an earlier `--durability defer` run
//! recorded before they were durable. An earlier boot's are dropped (a restart may have lost
//! their data, so the files are copied again); this boot's are confirmed once the target has
//! synced them.

use crate::exec::connect::{Endpoint, OpenMode, open_tree_retrying};
use crate::exec::runner::{RunContext, RunEvent};
use crate::exec::transport::RelativePath;
use crate::plan::valid::Migration;

/// Settles the migration's records of files that were not durable; see the module documentation.
/// The caller holds the migration's claim: another runner's files of this boot are never touched.
pub(super) async fn settle_unsynced(
    context: &RunContext<'_>,
    migration: &Migration,
) -> Result<(), String> {
    let name = migration.name.as_str();
    let backend = context.backend;
    // Under the claim: no other runner writes this migration's records now.
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
    // Listed under the caller's claim: every listed file was in place before its record was written, so
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
    Ok(())
}
