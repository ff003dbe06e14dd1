//! `PostgresStore`: the state in a PostgreSQL database, one connection shared by the process's
//! tasks, and the bridge that lets the synchronous copy ledger wait on it.
//!
//! Two connections, each behind an async mutex (as the SQLite store keeps its connection behind
//! a mutex): every operation holds one to its end, so operations of one process never interleave
//! inside a transaction. The async operations use the first. The synchronous ones (the copy
//! ledger, a claim dropped without release) block their thread until done, and use the second:
//! a future on that same thread may hold the first across an await, and blocking on it would
//! never end. Nothing holds the second across an await of anything else, so waiting on it
//! always ends. Writes that must see a consistent state across processes (a plan's records, an
//! import, a delete) take the transaction-scoped advisory lock [`STATE_WRITE_LOCK`], as SQLite's
//! `BEGIN IMMEDIATE` does.

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
    /// The connection of the synchronous operations ([`PostgresStore::wait`]).
    blocking_client: Mutex<Client>,
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
        let (client, blocking_client) =
            futures::future::try_join(connect(url), connect(url)).await?;
        Ok(PostgresStore {
            inner: Arc::new(Inner {
                client: Mutex::new(client),
                blocking_client: Mutex::new(blocking_client),
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

    /// The connection, for one async operation.
    pub(crate) async fn client(&self) -> MutexGuard<'_, Client> {
        self.inner.client.lock().await
    }

    /// The connection of the synchronous operations: only inside [`PostgresStore::wait`].
    pub(super) async fn blocking_client(&self) -> MutexGuard<'_, Client> {
        self.inner.blocking_client.lock().await
    }

    /// Runs `operation` (which may use only [`PostgresStore::blocking_client`]) to its end from
    /// synchronous code (the copy ledger): it runs as a task of the runtime the connections live
    /// on, and this thread waits for its answer on a channel. Not `Handle::block_on` on this
    /// thread: `ferry run` polls its migrations on the thread that called `Runtime::block_on`, and
    /// a nested `block_on` there takes the wake-ups meant for them, which then never run again.
    /// On a worker, `block_in_place` first hands the worker's other tasks to another thread. A
    /// current-thread runtime could never run the task while this thread waits: that is refused.
    pub(super) fn wait<T: Send + 'static>(
        &self,
        operation: impl Future<Output = Result<T, StateError>> + Send + 'static,
    ) -> Result<T, LedgerError> {
        let current = Handle::try_current();
        if let Ok(current) = &current
            && current.runtime_flavor() == RuntimeFlavor::CurrentThread
        {
            return Err(LedgerError(
                "the PostgreSQL state needs tokio's multi-thread runtime".to_string(),
            ));
        }
        let (answer, answered) = std::sync::mpsc::sync_channel(1);
        drop(self.inner.runtime.spawn(async move {
            // The waiter is gone only if it panicked; nothing is left to tell.
            let _ = answer.send(operation.await);
        }));
        let received = match current {
            Ok(_) => tokio::task::block_in_place(|| answered.recv()),
            Err(_) => answered.recv(),
        };
        let stopped = |_| LedgerError("the state database's runtime stopped".to_string());
        received.map_err(stopped)?.map_err(LedgerError::from)
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
