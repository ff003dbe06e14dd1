//! The persistent state store: sources, targets, migrations and copied files in one SQLite file.
//!
//! - [`Store`] opens (or creates) the file, migrates its schema and is shared between threads.
//! - Sources keep the IP they were first recorded with: [`Store::record_source`] refuses a change
//!   ([`StateError::IpImmutable`]); only [`Store::delete_source`] forgets it.
//! - Migrations move through [`MigrationState`]; [`Store::acquire_lock`] keeps two runs apart and
//!   [`Store::recover_stale_running`] turns a killed run's `running` into a resumable `error`.
//! - The store is the copy engine's [`crate::exec::ledger::Ledger`].
//! - [`Store::export`] / [`Store::import`] move the whole state as versioned JSON.
//! - Files recorded before the target made them durable carry the boot that wrote them
//!   (`unsynced`): trusted during that boot, confirmed by a later sync, dropped after a restart.

mod error;
mod export;
mod ledger;
mod locks;
mod migrations;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod rules;
mod schema;
mod sources;
mod store;
mod time;
mod transitions;
mod unsynced;

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
