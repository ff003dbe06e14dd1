//! Running a `ValidPlan` against a state backend (`state::StateBackend`): the selected migrations, `--parallel` at a
//! time, each locked, copied by the engine and recorded; Ctrl-C stops them resumably.
//!
//! The command does the checks that come before any data moves (`prepare`: `--only`, recorded
//! IPs, secrets), records the plan, then calls [`run_migrations`]. A migration already `success`
//! is scanned first and left alone when its source is unchanged; when it changed, only the
//! changes are copied (delta sync). Nothing here prints: events go to the caller's observer.

mod claim;
mod copying;
mod hooks;
pub mod jobs;
mod live;
mod migration;
pub mod options;
pub mod prepare;
pub mod preview;
#[cfg(test)]
mod tests;
mod transitions;
mod unsynced;

use std::sync::Arc;

use futures::stream::{self, StreamExt};
use tokio_util::sync::CancellationToken;

pub use claim::HEARTBEAT_INTERVAL;
pub use migration::MigrationResult;
pub use options::{RateError, RunOptions, parse_rate};
pub use transitions::{INTERRUPTED_MESSAGE, stats_of};

use crate::exec::copy::ProgressEvent;
use crate::exec::hooks::{HookOutcome, Stream};
use crate::exec::runner::preview::Action;
use crate::exec::secrets::Secrets;
use crate::plan::valid::{HookPhase, Migration, ValidPlan};
use crate::state::{LockInfo, StateBackend};

/// Something the run did that the user should see.
#[derive(Debug, Clone)]
pub enum RunEvent {
    /// A migration's lock was taken from a run that is gone.
    LockTakenOver {
        migration: String,
        previous: LockInfo,
    },
    /// Records of files an earlier boot wrote but never confirmed durable were dropped: a restart
    /// may have lost their data, so they are copied again.
    UnconfirmedDropped { migration: String, files: u64 },
    /// A migration started copying: `Start`, `Resume` or `Sync` (never `NothingToDo`).
    MigrationStarted { migration: String, action: Action },
    /// A migration ended.
    MigrationFinished {
        migration: String,
        result: MigrationResult,
    },
    /// The copy engine's progress.
    Progress(ProgressEvent),
    /// A line a hook printed (masked), as it came.
    HookLine {
        migration: String,
        phase: HookPhase,
        stream: Stream,
        line: String,
    },
    /// A hook command ended.
    HookFinished {
        migration: String,
        phase: HookPhase,
        outcome: HookOutcome,
    },
}

/// Receives the run's events, from any task.
pub type RunObserver = Arc<dyn Fn(RunEvent) + Send + Sync>;

/// What every migration of a run shares.
pub struct RunContext<'run> {
    pub plan: &'run ValidPlan,
    /// The state backend: the runner reaches state only through it.
    pub backend: &'run dyn StateBackend,
    pub secrets: &'run Secrets,
    pub options: &'run RunOptions,
    pub observer: RunObserver,
    /// Cancelled by the first Ctrl-C or SIGTERM.
    pub cancel: &'run CancellationToken,
}

impl RunContext<'_> {
    fn emit(&self, event: RunEvent) {
        (self.observer)(event);
    }
}

/// How each migration of a run ended, in plan order.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub results: Vec<(String, MigrationResult)>,
    /// Ctrl-C or SIGTERM stopped the run.
    pub interrupted: bool,
}

impl RunSummary {
    /// Whether any migration failed (interrupted ones do not count: they are resumable).
    pub fn any_failed(&self) -> bool {
        self.results
            .iter()
            .any(|(_, result)| matches!(result, MigrationResult::Failed { .. }))
    }
}

/// Runs the migrations, at most `options.parallel` at once, until all ended or Ctrl-C (or SIGTERM).
pub async fn run_migrations(context: &RunContext<'_>, migrations: &[&Migration]) -> RunSummary {
    let parallel = context.options.parallel.max(1);
    let mut finished: Vec<(usize, String, MigrationResult)> =
        stream::iter(migrations.iter().enumerate())
            .map(|(index, migration)| async move {
                let result = migration::run_migration(context, migration).await;
                context.emit(RunEvent::MigrationFinished {
                    migration: migration.name.clone(),
                    result: result.clone(),
                });
                (index, migration.name.clone(), result)
            })
            .buffer_unordered(parallel)
            .collect()
            .await;
    finished.sort_by_key(|(index, _, _)| *index);
    RunSummary {
        results: finished
            .into_iter()
            .map(|(_, name, result)| (name, result))
            .collect(),
        interrupted: context.cancel.is_cancelled(),
    }
}
