//! Running a `ValidPlan` against a state backend (`state::StateBackend`): the selected migrations, `--parallel` at a
//! time, each claimed, copied by the engine and recorded; Ctrl-C stops them resumably. Any number
//! of runners may share one state (`fleet`): each runs what no live runner holds.
//!
//! The command does the checks that come before any data moves (`prepare`: `--only`, recorded
//! IPs, secrets), records the plan, then calls [`run_migrations`]. A migration already `success`
//! is scanned first and left alone when its source is unchanged; when it changed, only the
//! changes are copied (delta sync). Nothing here prints: events go to the caller's observer.

mod claim;
mod copying;
mod fleet;
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
pub mod waves;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

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

/// Asked before each migration starts: `Some(reason)` holds it (a wave that stopped, see
/// [`waves`]). The migrations already running finish.
#[async_trait::async_trait]
pub trait StartGate: Send + Sync {
    async fn hold(&self, migration: &Migration) -> Option<String>;
}

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
    /// Asked before each migration starts; `None` starts them all.
    pub start_gate: Option<&'run dyn StartGate>,
}

impl RunContext<'_> {
    fn emit(&self, event: RunEvent) {
        (self.observer)(event);
    }
}

/// How each migration of a run ended, in plan order.
#[derive(Debug, Clone, Default)]
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

/// Runs the migrations, at most `options.parallel` at once, with any other runner of the same
/// state (`fleet`): until every one ended, here or in another runner, or Ctrl-C (or SIGTERM).
/// The summary holds the migrations this runner ran (or, after Ctrl-C, did not start).
pub async fn run_migrations(context: &RunContext<'_>, migrations: &[&Migration]) -> RunSummary {
    let results = fleet::run_claiming(context, migrations).await;
    RunSummary {
        results: migrations
            .iter()
            .zip(results)
            .filter_map(|(migration, result)| Some((migration.name.clone(), result?)))
            .collect(),
        interrupted: context.cancel.is_cancelled(),
    }
}
