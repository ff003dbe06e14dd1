//! A migration's copy: open both ends (retrying, and stopping on Ctrl-C), discard what an
//! interrupted attempt left unfinished, prepare the target root, and run the copy engine.

use std::sync::Arc;

use crate::exec::connect::{ConnectError, Endpoint, OpenMode, open_tree_retrying};
use crate::exec::copy::{
    CopyError, CopyOutcome, ProgressSink, copy_migration, prepare_target_root,
};
use crate::exec::runner::jobs::mount_jobs;
use crate::exec::runner::live::LiveStats;
use crate::exec::runner::{RunContext, RunEvent};
use crate::plan::valid::Migration;

/// Why a migration's copy did not complete.
pub(super) enum Stop {
    Interrupted,
    Failed { message: String, retryable: bool },
}

impl From<CopyError> for Stop {
    fn from(error: CopyError) -> Self {
        match error {
            CopyError::Interrupted { .. } => Stop::Interrupted,
            error => Stop::Failed {
                retryable: error.is_retryable(),
                message: error.to_string(),
            },
        }
    }
}

impl From<ConnectError> for Stop {
    fn from(error: ConnectError) -> Self {
        Stop::Failed {
            retryable: error.is_retryable(),
            message: error.to_string(),
        }
    }
}

/// Copies one migration; `resuming` after an earlier run stopped (killed, failed or Ctrl-C), when
/// what it left unfinished and invisible on the target (multipart uploads) is discarded first.
pub(super) async fn copy(
    context: &RunContext<'_>,
    migration: &Migration,
    live: &LiveStats,
    resuming: bool,
) -> Result<CopyOutcome, Stop> {
    let name = migration.name.as_str();
    let source_end = Endpoint::source(context.plan, migration);
    let target_end = Endpoint::target(context.plan, migration);
    let jobs = mount_jobs(source_end.workload, migration).map_err(|error| Stop::Failed {
        message: error.to_string(),
        retryable: false,
    })?;
    let password = |end: &Endpoint| context.secrets.password(end.role, end.name);
    let opened = async {
        let retry = context.options.copy.retry;
        let source =
            open_tree_retrying(source_end, password(&source_end), OpenMode::Existing, retry).await;
        let target =
            open_tree_retrying(target_end, password(&target_end), OpenMode::Create, retry).await;
        (source, target)
    };
    let (source, target) = tokio::select! {
        opened = opened => opened,
        () = context.cancel.cancelled() => return Err(Stop::Interrupted),
    };
    let (source, target) = (source?, target?);
    if resuming {
        // Best effort: not every S3-compatible server lists multipart uploads (s3s-fs answers
        // 501), and a leftover upload costs storage, not correctness. A bucket lifecycle rule
        // (`AbortIncompleteMultipartUpload`) catches what this misses.
        let _ = target.discard_unfinished_writes().await;
    }
    let roots: Vec<_> = jobs.iter().map(|job| job.target_root.clone()).collect();
    let ledger = context.backend;
    prepare_target_root(
        name,
        &*target,
        ledger,
        &roots,
        context.options.copy.existing,
    )
    .await?;
    let progress = progress_sink(context, live.clone());
    let outcome = copy_migration(
        name,
        Arc::clone(&source),
        Arc::clone(&target),
        &jobs,
        ledger,
        &context.options.copy,
        &progress,
        context.cancel,
    )
    .await?;
    Ok(outcome)
}

fn progress_sink(context: &RunContext<'_>, live: LiveStats) -> ProgressSink {
    let observer = Arc::clone(&context.observer);
    ProgressSink::new(move |event| {
        live.observe(&event);
        observer(RunEvent::Progress(event));
    })
}
