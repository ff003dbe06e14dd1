//! Claiming a migration for this run: taking its lock (saying so when it is taken over from a
//! run that is gone) and keeping the lock's heartbeat while the work runs.

use std::time::Duration;

use crate::exec::runner::{RunContext, RunEvent};
use crate::state::{MigrationLock, StateError};

/// How often a running migration refreshes its lock (well inside the stale limit).
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);

/// Takes the migration's lock for `owner`; a lock taken over from a holder that is gone is
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

/// Drives `work` to its end, refreshing the lock's heartbeat and awaiting `on_beat()` every `every`.
pub(super) async fn with_heartbeat<T, Beat: Future<Output = ()>>(
    lock: &mut dyn MigrationLock,
    every: Duration,
    mut on_beat: impl FnMut() -> Beat,
    work: impl Future<Output = T>,
) -> T {
    let mut work = std::pin::pin!(work);
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        tokio::select! {
            done = &mut work => return done,
            _ = interval.tick() => {
                // A missed heartbeat only matters after minutes; the next tick tries again.
                let _ = lock.heartbeat().await;
                on_beat().await;
            }
        }
    }
}

/// Who holds the lock, as shown to another run: `ferry run` and the user, when known.
pub(super) fn owner() -> String {
    match std::env::var("USER").or_else(|_| std::env::var("LOGNAME")) {
        Ok(user) if !user.is_empty() => format!("ferry run ({user})"),
        _ => "ferry run".to_string(),
    }
}
