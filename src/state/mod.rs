//! The persistent state store: sources, targets, migrations and copied files in one SQLite file.
//!
//! - [`Store`] opens (or creates) the file, migrates its schema and is shared between threads.
//! - Sources keep the IP they were first recorded with: [`Store::record_source`] refuses a change
//!   ([`StateError::IpImmutable`]); only [`Store::delete_source`] forgets it.
//! - Migrations move through [`MigrationState`]; [`Store::acquire_lock`] keeps two runs apart and
//!   [`Store::recover_stale_running`] turns a killed run's `running` into a resumable `error`.
//! - [`StateBackend`] is what a run needs from state, and [`ledger::Ledger`] the copy engine's
//!   ledger; the store implements both (`backend`, `sqlite_ledger`). `state` never imports `exec`.
//! - [`Store::export`] / [`Store::import`] move the whole state as versioned JSON.
//! - Files recorded before the target made them durable carry the boot that wrote them
//!   (`unsynced`): trusted during that boot, confirmed by a later sync, dropped after a restart.

mod backend;
mod error;
mod export;
pub mod ledger;
mod locks;
mod migrations;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod rules;
mod schema;
mod sources;
mod sqlite_ledger;
mod store;
mod time;
mod transitions;
mod unsynced;

pub use backend::{MigrationLock, StateBackend};
pub use error::{IpChange, StateError};
pub use export::{
    ExportedFile, ExportedPartial, ImportMode, ImportSummary, MigrationExport,
    STATE_EXPORT_VERSION, StateExport,
};
pub use locks::{INTERRUPTED_MESSAGE, LockGuard, LockInfo, STALE_HEARTBEAT, TakenOver};
pub use migrations::{
    MigrationDefinition, MigrationFailure, MigrationRecord, MigrationState, MigrationStats,
    StorageRecord,
};
pub use schema::SCHEMA_VERSION;
pub use sources::{SourceRecord, TargetRecord};
pub use store::Store;

#[cfg(test)]
mod tests;
