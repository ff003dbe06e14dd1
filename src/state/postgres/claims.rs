//! Migration locks as claims: the SQLite `locks` row is here the live row of `claims` (`ended_at`
//! NULL; the database allows one per migration), renewed by heartbeats and ended with an outcome,
//! so every claim stays recorded. Recovery of migrations a killed run left `running`.
//!
//! A holder on this host is alive while its process exists; one on another host while its lease
//! (`lease_expires_at`, renewed by each heartbeat) has not expired. Every time is the server's,
//! so runners' clocks need not agree, and its `clock_timestamp()`, not `now()`: `now()` is when
//! the transaction began, before it waited for the migration's row, so a claim taken right
//! after another ended would seem to start before that one's end. The lease is
//! [`claim_lease`], as for SQLite.

use std::collections::HashMap;

use async_trait::async_trait;
use jiff::Timestamp;
use tokio_postgres::GenericClient;

use super::store::PostgresStore;
use super::writes::{lock_for_writing, set_state_in};
use crate::state::ClaimRecord;
use crate::state::backend::MigrationLock;
use crate::state::error::StateError;
use crate::state::locks::{
    INTERRUPTED_MESSAGE, LockInfo, TakenOver, claim_lease, holder_alive, this_host,
};
use crate::state::migrations::{MigrationFailure, MigrationState, not_found};

/// The lease in seconds, as the database's interval arithmetic takes it.
fn lease_seconds() -> f64 {
    claim_lease().as_secs_f64()
}

/// The live claim on a migration (its id and holder) and the server's time now.
async fn live_claim_in(
    client: &impl GenericClient,
    migration: &str,
) -> Result<(Option<(i64, LockInfo)>, Timestamp), StateError> {
    let row = client
        .query_one(
            "SELECT clock_timestamp(), c.id, c.runner, c.host, c.pid, c.heartbeat_at, c.started_at
             FROM (SELECT 1) AS one
             LEFT JOIN claims c ON c.migration = $1 AND c.ended_at IS NULL",
            &[&migration],
        )
        .await?;
    let now: Timestamp = row.try_get(0)?;
    let Some(id) = row.try_get::<_, Option<i64>>(1)? else {
        return Ok((None, now));
    };
    let pid: i32 = row.try_get(4)?;
    let info = LockInfo {
        migration: migration.to_string(),
        owner: row.try_get(2)?,
        host: row.try_get(3)?,
        pid: u32::try_from(pid).map_err(|_| StateError::Corrupt {
            what: format!("claim pid {pid}"),
        })?,
        heartbeat_at: row.try_get(5)?,
        acquired_at: row.try_get(6)?,
    };
    Ok((Some((id, info)), now))
}

/// Ends a claim with `outcome` (`success`, `error`, `interrupted` or `lost`).
async fn end_claim_in(
    client: &impl GenericClient,
    id: i64,
    outcome: &str,
) -> Result<(), StateError> {
    client
        .execute(
            "UPDATE claims SET ended_at = clock_timestamp(), outcome = $2 WHERE id = $1 AND ended_at IS NULL",
            &[&id, &outcome],
        )
        .await?;
    Ok(())
}

/// Ends this process's claim: its outcome is how the migration stands (`success`, `error`, or
/// `interrupted` when it ended neither way).
const RELEASE: &str = "UPDATE claims SET ended_at = clock_timestamp(), outcome = (
         SELECT CASE m.state WHEN 'success' THEN 'success' WHEN 'error' THEN 'error'
             ELSE 'interrupted' END
         FROM migrations m WHERE m.name = claims.migration)
     WHERE id = $1 AND ended_at IS NULL";

impl PostgresStore {
    /// Claims a migration for this process. Refused with [`StateError::Locked`] while a live
    /// holder has it; a dead holder's claim is ended (`lost`) and taken over.
    pub async fn acquire_claim(
        &self,
        migration: &str,
        owner: &str,
    ) -> Result<ClaimGuard, StateError> {
        let host = this_host();
        let pid = std::process::id();
        let pid_sql = i32::try_from(pid).map_err(|_| StateError::Corrupt {
            what: format!("pid {pid}"),
        })?;
        let mut client = self.client().await;
        let transaction = client.transaction().await?;
        // The migration's row serializes its claimants.
        let exists = transaction
            .query_opt(
                "SELECT 1 FROM migrations WHERE name = $1 FOR UPDATE",
                &[&migration],
            )
            .await?;
        if exists.is_none() {
            return Err(not_found(migration));
        }
        let (live, now) = live_claim_in(&transaction, migration).await?;
        let mut taken_over = None;
        if let Some((id, previous)) = live {
            if holder_alive(&previous, &host, now) {
                return Err(StateError::Locked {
                    migration: migration.to_string(),
                    owner: previous.owner,
                    host: previous.host,
                    pid: previous.pid,
                    since: previous.acquired_at,
                });
            }
            end_claim_in(&transaction, id, "lost").await?;
            taken_over = Some(TakenOver { previous });
        }
        let row = transaction
            .query_one(
                "INSERT INTO claims (migration, runner, host, pid, started_at, heartbeat_at,
                     lease_expires_at)
                 VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp(),
                     clock_timestamp() + make_interval(secs => $5))
                 RETURNING id, started_at",
                &[&migration, &owner, &host, &pid_sql, &lease_seconds()],
            )
            .await?;
        let (id, acquired_at): (i64, Timestamp) = (row.try_get(0)?, row.try_get(1)?);
        transaction.commit().await?;
        Ok(ClaimGuard {
            store: self.clone(),
            id,
            info: LockInfo {
                migration: migration.to_string(),
                owner: owner.to_string(),
                host,
                pid,
                heartbeat_at: acquired_at,
                acquired_at,
            },
            taken_over,
            released: false,
        })
    }

    /// Every claim on each of `migrations`, oldest first (see [`claims_in`]).
    pub async fn claims_of(
        &self,
        migrations: &[String],
    ) -> Result<HashMap<String, Vec<ClaimRecord>>, StateError> {
        claims_in(&*self.client().await, migrations).await
    }

    /// Who holds a migration's claim, if anyone (alive or not).
    pub async fn lock(&self, migration: &str) -> Result<Option<LockInfo>, StateError> {
        let client = self.client().await;
        let (live, _) = live_claim_in(&*client, migration).await?;
        Ok(live.map(|(_, info)| info))
    }

    /// Turns every migration left `running` without a live claim into a retryable `error`
    /// ([`INTERRUPTED_MESSAGE`]), ending dead claims (`interrupted`). Returns those recovered.
    pub async fn recover_stale_running(&self) -> Result<Vec<String>, StateError> {
        let host = this_host();
        let mut client = self.client().await;
        let transaction = client.transaction().await?;
        lock_for_writing(&transaction).await?;
        let running: Vec<String> = transaction
            .query(
                "SELECT name FROM migrations WHERE state = 'running' ORDER BY seq FOR UPDATE",
                &[],
            )
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
        let failure = MigrationFailure {
            message: INTERRUPTED_MESSAGE.to_string(),
            retryable: true,
        };
        let mut recovered = Vec::new();
        for name in running {
            let (live, now) = live_claim_in(&transaction, &name).await?;
            if let Some((id, claim)) = live {
                if holder_alive(&claim, &host, now) {
                    continue;
                }
                end_claim_in(&transaction, id, "interrupted").await?;
            }
            set_state_in(&transaction, &name, MigrationState::Error, Some(&failure)).await?;
            recovered.push(name);
        }
        transaction.commit().await?;
        Ok(recovered)
    }
}

/// A held claim. Dropping it without [`MigrationLock::release`] ends it too (best effort; a
/// claim left live is taken over once its holder is found gone).
#[derive(Debug)]
pub struct ClaimGuard {
    store: PostgresStore,
    id: i64,
    info: LockInfo,
    taken_over: Option<TakenOver>,
    released: bool,
}

#[async_trait]
impl MigrationLock for ClaimGuard {
    fn info(&self) -> &LockInfo {
        &self.info
    }

    fn taken_over(&self) -> Option<&TakenOver> {
        self.taken_over.as_ref()
    }

    /// Renews the lease. Fails ([`StateError::NotFound`]) when the claim is no longer this
    /// process's: it was ended, or taken over.
    async fn heartbeat(&mut self) -> Result<(), StateError> {
        let client = self.store.client().await;
        let row = client
            .query_opt(
                "UPDATE claims SET heartbeat_at = clock_timestamp(),
                     lease_expires_at = clock_timestamp() + make_interval(secs => $2)
                 WHERE id = $1 AND ended_at IS NULL RETURNING heartbeat_at",
                &[&self.id, &lease_seconds()],
            )
            .await?;
        let Some(row) = row else {
            return Err(StateError::NotFound {
                kind: "lock",
                name: self.info.migration.clone(),
            });
        };
        self.info.heartbeat_at = row.try_get(0)?;
        Ok(())
    }

    async fn release(mut self: Box<Self>) -> Result<(), StateError> {
        self.released = true;
        let client = self.store.client().await;
        client.execute(RELEASE, &[&self.id]).await?;
        Ok(())
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let (store, id) = (self.store.clone(), self.id);
        let release = async move {
            let client = store.blocking_client().await;
            client.execute(RELEASE, &[&id]).await?;
            Ok(())
        };
        // Nothing to report to from a destructor; a claim left live is taken over later.
        let _ = self.store.wait(release);
    }
}

/// Every claim on each of `migrations`, oldest first, in one query; a migration without claims
/// has no entry.
pub(super) async fn claims_in(
    client: &impl GenericClient,
    migrations: &[String],
) -> Result<HashMap<String, Vec<ClaimRecord>>, StateError> {
    let rows = client
        .query(
            "SELECT migration, runner, host, pid, started_at, ended_at, outcome FROM claims
             WHERE migration = ANY($1) ORDER BY started_at, id",
            &[&migrations],
        )
        .await?;
    let mut claims: HashMap<String, Vec<ClaimRecord>> = HashMap::new();
    for row in &rows {
        let pid: i32 = row.try_get(3)?;
        claims
            .entry(row.try_get(0)?)
            .or_default()
            .push(ClaimRecord {
                runner: row.try_get(1)?,
                host: row.try_get(2)?,
                pid: u32::try_from(pid).map_err(|_| StateError::Corrupt {
                    what: format!("claim pid {pid}"),
                })?,
                started_at: row.try_get(4)?,
                ended_at: row.try_get(5)?,
                outcome: row.try_get(6)?,
            });
    }
    Ok(claims)
}

/// Records an ended claim from an export (`ferry state import`): history, never a live claim.
/// Its heartbeat and lease end when it ended.
pub(super) async fn insert_ended_claim_in(
    client: &impl GenericClient,
    migration: &str,
    claim: &ClaimRecord,
) -> Result<(), StateError> {
    let (ended_at, outcome) = claim.end_for_import(migration)?;
    let pid = i32::try_from(claim.pid).map_err(|_| {
        crate::state::export::invalid(format!("migration `{migration}`: claim pid {}", claim.pid))
    })?;
    client
        .execute(
            "INSERT INTO claims (migration, runner, host, pid, started_at, heartbeat_at,
                 lease_expires_at, ended_at, outcome)
             VALUES ($1, $2, $3, $4, $5, $6, $6, $6, $7)",
            &[
                &migration,
                &claim.runner,
                &claim.host,
                &pid,
                &claim.started_at,
                &ended_at,
                &outcome,
            ],
        )
        .await
        .map_err(|error| {
            crate::state::export::invalid(format!("a claim of migration `{migration}`: {error}"))
        })?;
    Ok(())
}
