//! Hook runs in PostgreSQL: the same records as the SQLite store's (`state::hook_runs`).

use std::collections::HashMap;

use tokio_postgres::GenericClient;

use crate::state::error::StateError;
use crate::state::hook_runs::{HookRunRecord, parse_phase};
use crate::state::migrations::{from_sql_u64, not_found, to_sql_u64};

pub(super) async fn insert_hook_run_in(
    client: &impl GenericClient,
    migration: &str,
    run: &HookRunRecord,
) -> Result<(), StateError> {
    let attempt = i32::try_from(run.attempt).map_err(|_| StateError::Corrupt {
        what: format!("attempt {} is too large to store", run.attempt),
    })?;
    let inserted = client
        .execute(
            "INSERT INTO hook_runs (migration, attempt, phase, command, outcome, exit_code,
                 duration_ms, tail, started_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE EXISTS
                 (SELECT 1 FROM migrations WHERE name = $1)",
            &[
                &migration,
                &attempt,
                &run.phase.as_str(),
                &run.command,
                &run.outcome.as_str(),
                &run.exit_code,
                &to_sql_u64(run.duration_ms, "duration")?,
                &run.tail,
                &run.started_at,
            ],
        )
        .await?;
    if inserted == 0 {
        return Err(not_found(migration));
    }
    Ok(())
}

/// The hook runs of each of `migrations`, in the order they ran, in one query; a migration
/// without hook runs has no entry.
pub(super) async fn hook_runs_in(
    client: &impl GenericClient,
    migrations: &[String],
) -> Result<HashMap<String, Vec<HookRunRecord>>, StateError> {
    let rows = client
        .query(
            "SELECT migration, attempt, phase, command, outcome, exit_code, duration_ms, tail,
                 started_at
             FROM hook_runs WHERE migration = ANY($1) ORDER BY id",
            &[&migrations],
        )
        .await?;
    let mut runs: HashMap<String, Vec<HookRunRecord>> = HashMap::new();
    for row in &rows {
        let attempt: i32 = row.try_get(1)?;
        let phase: String = row.try_get(2)?;
        let outcome: String = row.try_get(4)?;
        runs.entry(row.try_get(0)?)
            .or_default()
            .push(HookRunRecord {
                attempt: u32::try_from(attempt).map_err(|_| StateError::Corrupt {
                    what: format!("attempt {attempt}"),
                })?,
                phase: parse_phase(&phase)?,
                command: row.try_get(3)?,
                outcome: outcome.parse()?,
                exit_code: row.try_get(5)?,
                duration_ms: from_sql_u64(row.try_get(6)?, "duration")?,
                tail: row.try_get(7)?,
                started_at: row.try_get(8)?,
            });
    }
    Ok(runs)
}
