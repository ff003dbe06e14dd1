//! Claiming a migration for this run: taking its claim (saying so when it is taken over from a
//! run that is gone) and renewing it while the work runs; a claim this run lost (ended or taken
//! over by another runner, or not renewed within its lease) stops the migration's copy.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::exec::runner::{RunContext, RunEvent};
use crate::state::{MigrationLock, StateError};

/// Takes the migration's claim for `owner`; a claim taken over from a holder that is gone is
/// reported to the observer. [`StateError::Locked`] while a live run holds it.
pub(super) async fn claim(
    context: &RunContext<'_>,
    migration: &str,
    owner: &str,
) -> Result<Box<dyn MigrationLock>, StateError> {
    let lock = context.backend.acquire_lock(migration, owner).await?;
    if let Some(taken) = lock.taken_over() {
        context.emit(RunEvent::LockTakenOver {
            migration: migration.to_string(),
            previous: taken.previous.clone(),
        });
    }
    Ok(lock)
}

/// Drives `work` to its end, renewing the claim (of `lease`) and awaiting `on_beat()` every `every`.
///
/// `lost` and `stop` are cancelled (`work` watches `stop`) when a renewal finds the claim is no
/// longer this run's, or when no renewal succeeded for the lease less one interval: by then
/// another runner may take the migration over, and two must never copy it at once.
pub(super) async fn with_heartbeat<T, Beat: Future<Output = ()>>(
    lock: &mut dyn MigrationLock,
    every: Duration,
    lease: Duration,
    lost: &CancellationToken,
    stop: &CancellationToken,
    mut on_beat: impl FnMut() -> Beat,
    work: impl Future<Output = T>,
) -> T {
    let mut work = std::pin::pin!(work);
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    let give_up_after = lease.saturating_sub(every);
    let mut renewed = Instant::now();
    loop {
        tokio::select! {
            done = &mut work => return done,
            _ = interval.tick(), if !lost.is_cancelled() => {
                match tokio::time::timeout(every, lock.heartbeat()).await {
                    Ok(Ok(())) => renewed = Instant::now(),
                    Ok(Err(StateError::NotFound { .. })) => lose(lost, stop),
                    // Unreachable or slow: retried at the next tick, until the lease runs out.
                    Ok(Err(_)) | Err(_) => {
                        if renewed.elapsed() >= give_up_after {
                            lose(lost, stop);
                        }
                    }
                }
                if !lost.is_cancelled() {
                    on_beat().await;
                }
            }
        }
    }
}

fn lose(lost: &CancellationToken, stop: &CancellationToken) {
    lost.cancel();
    stop.cancel();
}

/// Whether this run still holds the claim: a last renewal, before what the copy did is recorded.
pub(super) async fn still_held(lock: &mut dyn MigrationLock, lost: &CancellationToken) -> bool {
    if lost.is_cancelled() {
        return false;
    }
    match lock.heartbeat().await {
        Err(StateError::NotFound { .. }) => {
            lost.cancel();
            false
        }
        // Unreachable: recording fails too, and the migration stays `running` for a takeover.
        _ => true,
    }
}

/// This runner's name in claims: `user@host:pid` (`host:pid` without a known user), which names
/// one process of one machine, as long as it runs.
pub(super) fn owner() -> String {
    let host = crate::state::this_host();
    let pid = std::process::id();
    match std::env::var("USER").or_else(|_| std::env::var("LOGNAME")) {
        Ok(user) if !user.is_empty() => format!("{user}@{host}:{pid}"),
        _ => format!("{host}:{pid}"),
    }
}
