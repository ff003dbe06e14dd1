//! The claims history: every claim a run took on a migration (runner, host, pid, when it started
//! and ended, and how), kept after it ends. In SQLite a claim row is inserted with its lock
//! (`locks`, the live lock) and ended when the lock is released, taken over or recovered; in
//! PostgreSQL the live claim is the lock (`postgres::claims`).

use std::collections::HashMap;

use jiff::Timestamp;
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::state::error::StateError;
use crate::state::migrations::names_json;
use crate::state::store::Store;
use crate::state::time;

/// One claim on a migration. `ended_at` and `outcome` are `None` while it is held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRecord {
    /// Who held it: `ferry run` and the user; with `host` and `pid` it names one process.
    pub runner: String,
    pub host: String,
    pub pid: u32,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    /// `success` or `error` (how the migration stood when the claim was released),
    /// `interrupted` (its run was gone and the migration recovered), `lost` (taken over).
    pub outcome: Option<String>,
}

impl ClaimRecord {
    /// When and how an imported claim ended: a claim without an end is refused, since a live
    /// claim belongs to a running process and is never exported.
    pub(crate) fn end_for_import(&self, migration: &str) -> Result<(Timestamp, &str), StateError> {
        match (self.ended_at, self.outcome.as_deref()) {
            (Some(ended_at), Some(outcome)) => Ok((ended_at, outcome)),
            _ => Err(crate::state::export::invalid(format!(
                "migration `{migration}`: a claim without an end (a live claim belongs to a \
                 running process, and is never exported)"
            ))),
        }
    }
}

/// Ends a claim this process released: its outcome is how the migration stands.
pub(crate) const RELEASE: &str = "UPDATE claims SET ended_at = ?2, outcome = (
         SELECT CASE m.state WHEN 'success' THEN 'success' WHEN 'error' THEN 'error'
             ELSE 'interrupted' END
         FROM migrations m WHERE m.name = claims.migration)
     WHERE id = ?1 AND ended_at IS NULL";

/// Records a new claim; returns its id.
pub(crate) fn insert_claim_in(
    connection: &Connection,
    migration: &str,
    runner: &str,
    host: &str,
    pid: u32,
    started_at: Timestamp,
) -> Result<i64, StateError> {
    connection.execute(
        "INSERT INTO claims (migration, runner, host, pid, started_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![migration, runner, host, pid, started_at.to_string()],
    )?;
    Ok(connection.last_insert_rowid())
}

/// Ends every live claim on a migration with `outcome` (`lost` or `interrupted`).
pub(crate) fn end_live_claims_in(
    connection: &Connection,
    migration: &str,
    outcome: &str,
) -> Result<(), StateError> {
    connection.execute(
        "UPDATE claims SET ended_at = ?2, outcome = ?3 WHERE migration = ?1 AND ended_at IS NULL",
        params![migration, time::now().to_string(), outcome],
    )?;
    Ok(())
}

/// Every claim on each of `migrations`, oldest first, in one query; a migration without claims
/// has no entry.
pub(crate) fn claims_in(
    connection: &Connection,
    migrations: &[String],
) -> Result<HashMap<String, Vec<ClaimRecord>>, StateError> {
    let mut statement = connection.prepare_cached(
        "SELECT migration, runner, host, pid, started_at, ended_at, outcome FROM claims
         WHERE migration IN (SELECT value FROM json_each(?1)) ORDER BY id",
    )?;
    let rows = statement.query_map([names_json(migrations)], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, i64>(3)?,
            row.get::<_, String>(4)?,
            row.get::<_, Option<String>>(5)?,
            row.get::<_, Option<String>>(6)?,
        ))
    })?;
    let mut claims: HashMap<String, Vec<ClaimRecord>> = HashMap::new();
    for row in rows {
        let (migration, runner, host, pid, started_at, ended_at, outcome) = row?;
        claims.entry(migration).or_default().push(ClaimRecord {
            runner,
            host,
            pid: u32::try_from(pid).map_err(|_| StateError::Corrupt {
                what: format!("claim pid {pid}"),
            })?,
            started_at: time::parse(&started_at)?,
            ended_at: ended_at.as_deref().map(time::parse).transpose()?,
            outcome,
        });
    }
    Ok(claims)
}

/// Records an ended claim from an export (`ferry state import`): history, never a live claim.
pub(crate) fn insert_ended_claim_in(
    connection: &Connection,
    migration: &str,
    claim: &ClaimRecord,
) -> Result<(), StateError> {
    let (ended_at, outcome) = claim.end_for_import(migration)?;
    connection
        .execute(
            "INSERT INTO claims (migration, runner, host, pid, started_at, ended_at, outcome)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                migration,
                claim.runner,
                claim.host,
                claim.pid,
                claim.started_at.to_string(),
                ended_at.to_string(),
                outcome
            ],
        )
        .map_err(|error| {
            crate::state::export::invalid(format!("a claim of migration `{migration}`: {error}"))
        })?;
    Ok(())
}

impl Store {
    /// Every claim on each of `migrations`, oldest first (see [`claims_in`]).
    pub fn claims_of(
        &self,
        migrations: &[String],
    ) -> Result<HashMap<String, Vec<ClaimRecord>>, StateError> {
        claims_in(&self.connection(), migrations)
    }
}
