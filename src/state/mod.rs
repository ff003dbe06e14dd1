//! The persistent state: sources, targets, migrations and copied files, in one SQLite file (the
//! default) or a PostgreSQL database (`postgres`), behind one interface ([`StateBackend`]).
//!
//! - [`open`] opens what a `--state` value names, as a `dyn StateBackend`.
//! - [`Store`] opens (or creates) the file, migrates its schema and is shared between threads.
//! - Sources keep the IP they were first recorded with: [`Store::record_source`] refuses a change
//!   ([`StateError::IpImmutable`]); only [`Store::delete_source`] forgets it.
//! - Migrations move through [`MigrationState`]; [`Store::acquire_lock`] keeps two runs apart and
//!   [`Store::recover_stale_running`] turns a killed run's `running` into a resumable `error`.
//! - [`StateBackend`] is what the commands and a run need from state, and [`ledger::Ledger`] the
//!   copy engine's ledger; both stores implement both (`sqlite_backend`, `sqlite_ledger`,
//!   `postgres`). `state` never imports `exec`.
//! - [`Store::export`] / [`Store::import`] move the whole state as versioned JSON.
//! - Each hook command a run ran is kept with its migration ([`HookRunRecord`]), masked.
//! - Files recorded before the target made them durable carry the boot that wrote them
//!   (`unsynced`): trusted during that boot, confirmed by a later sync, dropped after a restart.

mod backend;
mod claims;
mod error;
mod export;
mod hook_runs;
pub mod ledger;
mod locks;
mod migrations;
mod open;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod rules;
mod schema;
mod sources;
mod sqlite_backend;
mod sqlite_ledger;
mod store;
mod time;
mod transitions;
mod unsynced;
mod waves;

pub use backend::{MigrationLock, StateBackend};
pub use claims::ClaimRecord;
pub use error::{IpChange, StateError};
pub use export::{
    ExportedFile, ExportedPartial, ImportMode, ImportSummary, MigrationExport,
    STATE_EXPORT_VERSION, StateExport,
};
pub use hook_runs::{HookRunOutcome, HookRunRecord};
pub use locks::{
    DEFAULT_LEASE, INTERRUPTED_MESSAGE, LEASE_VARIABLE, LockGuard, LockInfo, TakenOver,
    claim_lease, heartbeat_interval, this_host,
};
pub use migrations::{
    MigrationDefinition, MigrationFailure, MigrationRecord, MigrationState, MigrationStats,
    StorageRecord,
};
pub use open::{OpenMode, exists, is_database_url, open};
pub use schema::SCHEMA_VERSION;
pub use sources::{SourceRecord, TargetRecord};
pub use store::Store;
pub use waves::WaveCounts;

#[cfg(test)]
mod tests;
