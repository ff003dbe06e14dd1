//! The claim loop that lets many `ferry run` processes (a fleet, on one host or many) work
//! through one plan on one state: each runner runs the migrations no live runner holds,
//! `--parallel` at a time, comes back to those another runner held until they ended (taking over
//! one whose runner stopped), and leaves the plan's outcome to the state (`commands::run`).

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};

use crate::exec::runner::migration::{self, MigrationResult};
use crate::exec::runner::transitions::INTERRUPTED_MESSAGE as STOPPED_MESSAGE;
use crate::exec::runner::{RunContext, RunEvent};
use crate::plan::valid::Migration;
use crate::state::{INTERRUPTED_MESSAGE as KILLED_MESSAGE, MigrationState, heartbeat_interval};

/// What this runner knows of each migration of the run, by index in the run's order.
struct Queue {
    /// Not yet tried by this runner, or to try again (its holder may have stopped).
    ready: VecDeque<usize>,
    /// Held by another live runner when last tried: looked at again every poll.
    held: Vec<usize>,
    /// Those whose holder was already shown (said once, not at every poll).
    announced: HashSet<usize>,
    /// How each migration this runner ran ended.
    results: Vec<Option<MigrationResult>>,
}

/// Runs `migrations` with the other runners of the fleet; returns how each one this runner ran
/// ended (by index). Ends when every migration ended here or elsewhere, or on Ctrl-C.
pub(super) async fn run_claiming(
    context: &RunContext<'_>,
    migrations: &[&Migration],
) -> Vec<Option<MigrationResult>> {
    let parallel = context.options.parallel.max(1);
    let mut queue = Queue {
        ready: (0..migrations.len()).collect(),
        held: Vec::new(),
        announced: HashSet::new(),
        results: vec![None; migrations.len()],
    };
    let mut running = FuturesUnordered::new();
    let mut poll = tokio::time::interval(poll_interval());
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    poll.tick().await;
    loop {
        while running.len() < parallel && !context.cancel.is_cancelled() {
            let Some(index) = queue.ready.pop_front() else {
                break;
            };
            let migration = migrations[index];
            running.push(async move { (index, attempt(context, migration).await) });
        }
        if running.is_empty() && (queue.held.is_empty() || context.cancel.is_cancelled()) {
            break;
        }
        let waiting = !queue.held.is_empty() && running.len() < parallel;
        tokio::select! {
            Some((index, result)) = running.next(), if !running.is_empty() => {
                queue.ended(context, migrations[index], index, result);
            }
            _ = poll.tick(), if waiting => queue.recheck(context, migrations).await,
            () = context.cancel.cancelled(), if running.is_empty() => {}
        }
    }
    queue.not_started(context, migrations);
    queue.results
}

/// One attempt at a migration: held back when the run's start gate (a wave over its failure
/// threshold) says so, run otherwise.
async fn attempt(context: &RunContext<'_>, migration: &Migration) -> MigrationResult {
    if let Some(gate) = context.start_gate
        && let Some(reason) = gate.hold(migration).await
    {
        return MigrationResult::Held { reason };
    }
    migration::run_migration(context, migration).await
}

impl Queue {
    /// Files how one of this runner's attempts ended.
    fn ended(
        &mut self,
        context: &RunContext<'_>,
        migration: &Migration,
        index: usize,
        result: MigrationResult,
    ) {
        match result {
            MigrationResult::HeldElsewhere { .. } => {
                self.held.push(index);
                if self.announced.insert(index) {
                    emit_finished(context, migration, result);
                }
            }
            MigrationResult::ClaimLost => {
                self.held.push(index);
                emit_finished(context, migration, result);
            }
            result => {
                emit_finished(context, migration, result.clone());
                self.results[index] = Some(result);
            }
        }
    }

    /// Looks again at the migrations other runners held: one that ended there (success, or an
    /// error other than its runner stopping) is done; the others are tried again, which takes
    /// over the claim of a runner that is gone and finds a live one still held.
    async fn recheck(&mut self, context: &RunContext<'_>, migrations: &[&Migration]) {
        for index in std::mem::take(&mut self.held) {
            let found = context.backend.find_migration(&migrations[index].name);
            match found.await {
                Ok(Some(record)) if ended_elsewhere(record.state, record.last_error.as_deref()) => {
                }
                // Unreadable now: tried again, which says why if it persists.
                _ => self.ready.push_back(index),
            }
        }
    }

    /// After Ctrl-C: the migrations this runner had still to start, said as not started.
    fn not_started(&mut self, context: &RunContext<'_>, migrations: &[&Migration]) {
        if !context.cancel.is_cancelled() {
            return;
        }
        for index in std::mem::take(&mut self.ready) {
            let result = MigrationResult::NotStarted;
            emit_finished(context, migrations[index], result.clone());
            self.results[index] = Some(result);
        }
    }
}

/// Whether another runner's attempt ended the migration: succeeded, or failed for a reason other
/// than its runner stopping (killed, Ctrl-C, SIGTERM), which another runner resumes.
fn ended_elsewhere(state: MigrationState, last_error: Option<&str>) -> bool {
    match state {
        MigrationState::Success => true,
        MigrationState::Error => {
            !matches!(last_error, Some(message) if message == KILLED_MESSAGE || message == STOPPED_MESSAGE)
        }
        MigrationState::NotStarted | MigrationState::Running => false,
    }
}

fn emit_finished(context: &RunContext<'_>, migration: &Migration, result: MigrationResult) {
    context.emit(RunEvent::MigrationFinished {
        migration: migration.name.clone(),
        result,
    });
}

/// How often a runner looks again at migrations other runners hold: every second (a migration
/// another runner ends is noticed soon; a dead holder's lease runs out at its own pace), or as
/// often as claims are renewed when that is more often.
fn poll_interval() -> Duration {
    heartbeat_interval().clamp(Duration::from_millis(200), Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_migration_another_runner_stopped_is_resumed_and_one_it_ended_is_left() {
        assert!(ended_elsewhere(MigrationState::Success, None));
        assert!(ended_elsewhere(MigrationState::Error, Some("disk full")));
        assert!(!ended_elsewhere(
            MigrationState::Error,
            Some(KILLED_MESSAGE)
        ));
        assert!(!ended_elsewhere(
            MigrationState::Error,
            Some(STOPPED_MESSAGE)
        ));
        assert!(!ended_elsewhere(MigrationState::Running, None));
        assert!(!ended_elsewhere(MigrationState::NotStarted, None));
    }
}
