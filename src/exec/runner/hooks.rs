//! A migration's hooks in a run: `before` ahead of its copy, `after` once the copy is verified,
//! `on_failure` once a failure is recorded; each command's output goes live to the observer
//! ([`RunEvent::HookLine`]) and its outcome to the state (`hook_runs`, masked).
//!
//! The re-run rule follows from where the hooks sit: they belong to an attempt that does
//! something. A migration already `success` whose source is unchanged has nothing to do and runs
//! no hook; an attempt that copies (a start, a resume, a delta) runs `before` and `after` again.

use std::sync::Arc;

use crate::exec::copy::CopyOutcome;
use crate::exec::hooks::{HookContext, HookOutcome, HookOutput, HookRun, HookStatus, Stream};
use crate::exec::runner::copying::Stop;
use crate::exec::runner::{RunContext, RunEvent, RunObserver};
use crate::plan::valid::{HookPhase, Migration, ValidPlan};
use crate::state::{HookRunOutcome, HookRunRecord};

/// Runs the `before` hooks, then `copy`, then the `after` hooks. A failing `before` hook means
/// `copy` never runs: no data moves.
pub(super) async fn around_copy(
    context: &RunContext<'_>,
    migration: &Migration,
    copy: impl Future<Output = Result<CopyOutcome, Stop>>,
) -> Result<CopyOutcome, Stop> {
    run_phase(context, migration, HookPhase::Before, None).await?;
    let outcome = copy.await?;
    run_phase(context, migration, HookPhase::After, None).await?;
    Ok(outcome)
}

/// Runs the `on_failure` hooks of a migration that failed with `error` (`FERRY_ERROR`). Their own
/// failure is shown and recorded, and changes nothing else: the migration failed already.
pub(super) async fn on_failure(context: &RunContext<'_>, migration: &Migration, error: &str) {
    let _ = run_phase(context, migration, HookPhase::OnFailure, Some(error)).await;
}

/// Runs the commands of one phase in order, stopping at the first that does not succeed.
async fn run_phase(
    context: &RunContext<'_>,
    migration: &Migration,
    phase: HookPhase,
    error: Option<&str>,
) -> Result<(), Stop> {
    let hooks = migration.hooks.phase(phase);
    if hooks.is_empty() {
        return Ok(());
    }
    let hook_context = hook_context(context.plan, migration, error);
    let mask = context.secrets.values();
    let run = HookRun {
        context: &hook_context,
        phase,
        directory: &context.plan.base_dir,
        secrets: context.secrets.hook_env(&migration.name),
        mask: &mask,
        output: Arc::new(ObserverOutput(Arc::clone(&context.observer))),
        cancel: context.cancel,
    };
    let attempt = match context.backend.find_migration(&migration.name).await {
        Ok(Some(record)) => record.attempts,
        _ => 0,
    };
    for hook in hooks {
        let started_at = jiff::Timestamp::now();
        let outcome = run.run(hook).await;
        let record = record_of(attempt, phase, started_at, &outcome);
        // The hook ran either way; a state that cannot record it is seen at the migration's end.
        let _ = context
            .backend
            .record_hook_run(&migration.name, &record)
            .await;
        context.emit(RunEvent::HookFinished {
            migration: migration.name.clone(),
            phase,
            outcome: outcome.clone(),
        });
        stop_of(phase, &outcome)?;
    }
    Ok(())
}

/// What the state keeps of a hook command's run (its command and tail are masked already).
fn record_of(
    attempt: u32,
    phase: HookPhase,
    started_at: jiff::Timestamp,
    outcome: &HookOutcome,
) -> HookRunRecord {
    let (status, exit_code) = match &outcome.status {
        HookStatus::Succeeded => (HookRunOutcome::Succeeded, Some(0)),
        HookStatus::Failed {
            exit_code: Some(code),
        } => (HookRunOutcome::Failed, Some(*code)),
        HookStatus::Failed { exit_code: None } => (HookRunOutcome::Signalled, None),
        HookStatus::TimedOut { .. } => (HookRunOutcome::TimedOut, None),
        HookStatus::Stopped => (HookRunOutcome::Interrupted, None),
        HookStatus::NotStarted { .. } => (HookRunOutcome::NotStarted, None),
    };
    let tail = match &outcome.status {
        HookStatus::NotStarted { reason } => reason.clone(),
        _ => outcome.tail.clone(),
    };
    HookRunRecord {
        attempt,
        phase,
        command: outcome.command.clone(),
        outcome: status,
        exit_code,
        duration_ms: u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX),
        tail,
        started_at,
    }
}

/// Why a hook's outcome stops the migration, if it does.
fn stop_of(phase: HookPhase, outcome: &HookOutcome) -> Result<(), Stop> {
    match &outcome.status {
        HookStatus::Succeeded => Ok(()),
        HookStatus::Stopped => Err(Stop::Interrupted),
        status => Err(Stop::Failed {
            message: format!(
                "the {} hook `{}` {}",
                phase.as_str(),
                outcome.command,
                status.failure().unwrap_or_default()
            ),
            // A hook is the user's own step: ferry cannot tell whether running it again helps.
            retryable: matches!(status, HookStatus::TimedOut { .. }),
        }),
    }
}

/// The migration's context, as its hooks' `FERRY_*` variables.
fn hook_context(plan: &ValidPlan, migration: &Migration, error: Option<&str>) -> HookContext {
    let source = plan.source_of(migration);
    let target = plan.target_of(migration);
    HookContext {
        migration: migration.name.clone(),
        wave: migration.wave.clone(),
        source: migration.source.clone(),
        source_ip: source.ip.to_string(),
        target: migration.target.clone(),
        target_ip: target.vm.ip.to_string(),
        cloud: target.cloud.as_str().to_string(),
        mounts: migration.mounts.iter().map(ToString::to_string).collect(),
        error: error.map(str::to_string),
    }
}

/// Hands a hook's lines to the run's observer.
struct ObserverOutput(RunObserver);

impl HookOutput for ObserverOutput {
    fn line(&self, migration: &str, phase: HookPhase, stream: Stream, line: &str) {
        (self.0)(RunEvent::HookLine {
            migration: migration.to_string(),
            phase,
            stream,
            line: line.to_string(),
        });
    }
}
