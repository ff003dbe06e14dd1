//! The state backend interface: everything a run needs from state (a migration's recorded state,
//! its transitions, its lock and heartbeat, files not yet durable, and the copy ledger), as one object-safe trait that the SQLite [`Store`] implements.
//!
//! The runner (`exec::runner`) holds a `&dyn StateBackend` and nothing else from `state` but the
//! plain records the trait speaks, so a second backend (a network database serving a fleet of
//! runners) plugs in by implementing this trait and [`Ledger`]. The methods are async because a
//! network backend waits on the network; the SQLite store answers at once, on the calling task,
//! as it always did. The copy ledger stays synchronous: the engine calls it per batch of files.

use async_trait::async_trait;

use crate::state::ledger::Ledger;
use crate::state::{
    LockGuard, LockInfo, MigrationFailure, MigrationRecord, MigrationState, MigrationStats,
    StateError, StorageRecord, Store, TakenOver,
};

/// A state backend, as a run uses it. Implementations are shared between the run's tasks.
#[async_trait]
pub trait StateBackend: Ledger {
    /// The migration's record, `None` when the state does not know it.
    async fn find_migration(&self, name: &str) -> Result<Option<MigrationRecord>, StateError>;
    /// The target storage recorded when the migration last succeeded.
    async fn target_storage(&self, migration: &str) -> Result<Vec<StorageRecord>, StateError>;
    /// Moves a migration to `state` (see [`Store::set_migration_state`] for what each one sets).
    async fn set_migration_state(
        &self,
        name: &str,
        state: MigrationState,
        failure: Option<&MigrationFailure>,
    ) -> Result<(), StateError>;
    /// Records the counters of the attempt in progress.
    async fn record_progress(&self, name: &str, stats: &MigrationStats) -> Result<(), StateError>;
    /// Marks a migration `success` with its counters, vanished files and storage, at once.
    async fn finish_migration(
        &self,
        name: &str,
        stats: &MigrationStats,
        vanished: &[String],
        storage: &[StorageRecord],
    ) -> Result<(), StateError>;
    /// Locks a migration for this process: [`StateError::Locked`] while a live holder has it; a
    /// dead holder's lock is taken over ([`MigrationLock::taken_over`]).
    async fn acquire_lock(
        &self,
        migration: &str,
        owner: &str,
    ) -> Result<Box<dyn MigrationLock>, StateError>;
    /// Forgets the records of files an earlier boot wrote and never confirmed durable; returns
    /// how many.
    async fn drop_unconfirmed(&self, migration: &str) -> Result<u64, StateError>;
    /// The paths of the migration's files written during this boot and not yet confirmed durable.
    async fn unsynced_files(&self, migration: &str) -> Result<Vec<String>, StateError>;
    /// Confirms that these files are durable now.
    async fn confirm_synced(&self, migration: &str, paths: &[String]) -> Result<(), StateError>;
}

/// A held migration lock. Dropping it releases it too, where the backend can (best effort).
#[async_trait]
pub trait MigrationLock: Send + Sync {
    /// Who holds it (this process) and since when.
    fn info(&self) -> &LockInfo;
    /// `Some` when the lock was taken over from a dead holder.
    fn taken_over(&self) -> Option<&TakenOver>;
    /// Refreshes the heartbeat; call it at least every minute while the migration runs.
    async fn heartbeat(&mut self) -> Result<(), StateError>;
    /// Releases the lock, reporting a failure that dropping would hide.
    async fn release(self: Box<Self>) -> Result<(), StateError>;
}

#[async_trait]
impl StateBackend for Store {
    async fn find_migration(&self, name: &str) -> Result<Option<MigrationRecord>, StateError> {
        Store::find_migration(self, name)
    }

    async fn target_storage(&self, migration: &str) -> Result<Vec<StorageRecord>, StateError> {
        Store::target_storage(self, migration)
    }

    async fn set_migration_state(
        &self,
        name: &str,
        state: MigrationState,
        failure: Option<&MigrationFailure>,
    ) -> Result<(), StateError> {
        Store::set_migration_state(self, name, state, failure).map(drop)
    }

    async fn record_progress(&self, name: &str, stats: &MigrationStats) -> Result<(), StateError> {
        Store::record_progress(self, name, stats)
    }

    async fn finish_migration(
        &self,
        name: &str,
        stats: &MigrationStats,
        vanished: &[String],
        storage: &[StorageRecord],
    ) -> Result<(), StateError> {
        Store::finish_migration(self, name, stats, vanished, storage).map(drop)
    }

    async fn acquire_lock(
        &self,
        migration: &str,
        owner: &str,
    ) -> Result<Box<dyn MigrationLock>, StateError> {
        let lock: Box<dyn MigrationLock> = Box::new(Store::acquire_lock(self, migration, owner)?);
        Ok(lock)
    }

    async fn drop_unconfirmed(&self, migration: &str) -> Result<u64, StateError> {
        Store::drop_unconfirmed(self, migration)
    }

    async fn unsynced_files(&self, migration: &str) -> Result<Vec<String>, StateError> {
        Store::unsynced_files(self, migration)
    }

    async fn confirm_synced(&self, migration: &str, paths: &[String]) -> Result<(), StateError> {
        Store::confirm_synced(self, migration, paths)
    }
}

#[async_trait]
impl MigrationLock for LockGuard {
    fn info(&self) -> &LockInfo {
        LockGuard::info(self)
    }

    fn taken_over(&self) -> Option<&TakenOver> {
        LockGuard::taken_over(self)
    }

    async fn heartbeat(&mut self) -> Result<(), StateError> {
        LockGuard::heartbeat(self)
    }

    async fn release(self: Box<Self>) -> Result<(), StateError> {
        LockGuard::release(*self)
    }
}
