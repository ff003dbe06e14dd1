//! `PostgresStore`: the state in a PostgreSQL database, one connection shared by the process's
//! tasks, and the bridge that lets the synchronous copy ledger wait on it.
//!
//! One connection, behind an async mutex, as the SQLite store keeps one connection behind a
//! mutex: every operation (a transaction where it writes several rows) holds it to the end, so
//! operations of one process never interleave inside a transaction. Writes that must see a
//! consistent state across processes (a plan's records, an import, a delete) take the
//! transaction-scoped advisory lock [`STATE_WRITE_LOCK`], as SQLite's `BEGIN IMMEDIATE` does.

use std::future::Future;
use std::sync::Arc;

use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::{Mutex, MutexGuard};
use tokio_postgres::Client;

use super::{PostgresError, PostgresUrl, connect};
use crate::state::error::StateError;
use crate::state::ledger::LedgerError;
use crate::state::unsynced::current_boot_id;

/// The advisory lock key a writer of several related rows holds for its transaction ("FERW").
pub(super) const STATE_WRITE_LOCK: i64 = 0x4645_5257;

/// The state store in PostgreSQL. Cheap to clone; clones share one connection. `Send + Sync`.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: Mutex<Client>,
    /// The URL without its password, for messages.
    redacted: String,
    /// This system's boot ID, when it has one (see `state::unsynced`).
    boot: Option<String>,
    /// The runtime the connection runs on: the synchronous ledger waits on it.
    runtime: Handle,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PostgresStore")
            .field("url", &self.inner.redacted)
            .finish()
    }
}

impl PostgresStore {
    /// Connects (TLS as the URL's `sslmode` says) and creates or upgrades the schema. Must run
    /// on a multi-thread tokio runtime, which then carries the connection until the store is
    /// dropped.
    pub async fn open(url: &PostgresUrl) -> Result<PostgresStore, StateError> {
        let client = connect(url).await?;
        Ok(PostgresStore {
            inner: Arc::new(Inner {
                client: Mutex::new(client),
                redacted: url.redacted().to_string(),
                boot: current_boot_id(),
                runtime: Handle::current(),
            }),
        })
    }

    /// The URL, without its password.
    pub fn redacted_url(&self) -> &str {
        &self.inner.redacted
    }

    /// The boot ID of the running system, when known.
    pub fn boot(&self) -> Option<&str> {
        self.inner.boot.as_deref()
    }

    /// The same store, as if the system had been restarted since (`boot` is the new boot ID).
    #[cfg(test)]
    pub(crate) async fn as_if_booted(&self, url: &PostgresUrl, boot: &str) -> PostgresStore {
        let reopened = PostgresStore::open(url).await.expect("reopen the state");
        let inner = Arc::into_inner(reopened.inner).expect("a store just opened is not shared");
        PostgresStore {
            inner: Arc::new(Inner {
                boot: Some(boot.to_string()),
                ..inner
            }),
        }
    }

    /// The connection, for one operation.
    pub(crate) async fn client(&self) -> MutexGuard<'_, Client> {
        self.inner.client.lock().await
    }

    /// Runs `operation` to its end from synchronous code (the copy ledger), on the runtime the
    /// connection lives on. On a worker of the multi-thread runtime ferry runs on,
    /// `block_in_place` hands the worker's other tasks to another thread while this one waits;
    /// on a blocking thread (`spawn_blocking`) or outside any runtime it simply waits. A
    /// current-thread runtime cannot wait on itself: that is refused, not deadlocked.
    pub(super) fn wait<T>(
        &self,
        operation: impl Future<Output = Result<T, StateError>>,
    ) -> Result<T, LedgerError> {
        let runtime = &self.inner.runtime;
        let result = match Handle::try_current() {
            Ok(current) if current.runtime_flavor() == RuntimeFlavor::CurrentThread => {
                return Err(LedgerError(
                    "the PostgreSQL state needs tokio's multi-thread runtime".to_string(),
                ));
            }
            Ok(_) => tokio::task::block_in_place(|| runtime.block_on(operation)),
            Err(_) => runtime.block_on(operation),
        };
        result.map_err(LedgerError::from)
    }
}

/// Maps an error of a constraint (SQLSTATE class 23) to `on_constraint`, others to the database's.
pub(super) fn constraint(
    error: tokio_postgres::Error,
    on_constraint: impl FnOnce(String) -> StateError,
) -> StateError {
    match error.code() {
        Some(code) if code.code().starts_with("23") => {
            let detail = error
                .as_db_error()
                .map_or_else(|| error.to_string(), |db| db.message().to_string());
            on_constraint(detail)
        }
        _ => StateError::Postgres(PostgresError::Query(error)),
    }
}
