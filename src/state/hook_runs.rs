//! Hook runs: each hook command a run ran for a migration (its phase, masked command, outcome,
//! duration and masked output tail), kept with the migration and deleted with it.

use std::collections::HashMap;
use std::str::FromStr;

use jiff::Timestamp;
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::plan::valid::HookPhase;
use crate::state::error::StateError;
use crate::state::migrations::{from_sql_u64, names_json, to_sql_u64};
use crate::state::store::Store;
use crate::state::time;

/// How a hook command ended, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookRunOutcome {
    /// Exit status 0.
    Succeeded,
    /// Another exit status (in `exit_code`).
    Failed,
    /// Ended by a signal it was not sent by ferry.
    Signalled,
    /// Stopped by ferry past its timeout.
    TimedOut,
    /// Stopped by ferry on Ctrl-C or SIGTERM.
    Interrupted,
    /// Could not be started (the reason is its tail).
    NotStarted,
}

impl HookRunOutcome {
    pub const ALL: [HookRunOutcome; 6] = [
        HookRunOutcome::Succeeded,
        HookRunOutcome::Failed,
        HookRunOutcome::Signalled,
        HookRunOutcome::TimedOut,
        HookRunOutcome::Interrupted,
        HookRunOutcome::NotStarted,
    ];

    /// The stored and printed name.
    pub fn as_str(self) -> &'static str {
        match self {
            HookRunOutcome::Succeeded => "succeeded",
            HookRunOutcome::Failed => "failed",
            HookRunOutcome::Signalled => "signalled",
            HookRunOutcome::TimedOut => "timed_out",
            HookRunOutcome::Interrupted => "interrupted",
            HookRunOutcome::NotStarted => "not_started",
        }
    }
}

impl FromStr for HookRunOutcome {
    type Err = StateError;

    fn from_str(text: &str) -> Result<Self, StateError> {
        Self::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == text)
            .ok_or_else(|| StateError::Corrupt {
                what: format!("hook outcome `{text}`"),
            })
    }
}

/// One hook command a run ran for a migration. Its command and tail are masked before they are
/// recorded: no known secret value is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookRunRecord {
    /// The migration's attempt it ran in (its `attempts` counter then).
    pub attempt: u32,
    pub phase: HookPhase,
    pub command: String,
    pub outcome: HookRunOutcome,
    /// Its exit status, when it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    pub duration_ms: u64,
    /// The last lines of its output (at most 64 KiB).
    pub tail: String,
    pub started_at: Timestamp,
}

/// Parses a stored phase.
pub(crate) fn parse_phase(text: &str) -> Result<HookPhase, StateError> {
    HookPhase::parse(text).ok_or_else(|| StateError::Corrupt {
        what: format!("hook phase `{text}`"),
    })
}

impl Store {
    /// Records a hook run of `migration`.
    pub fn record_hook_run(&self, migration: &str, run: &HookRunRecord) -> Result<(), StateError> {
        insert_hook_run_in(&self.connection(), migration, run)
    }

    /// The hook runs of each of `migrations`, in the order they ran (see [`hook_runs_in`]).
    pub fn hook_runs_of(
        &self,
        migrations: &[String],
    ) -> Result<HashMap<String, Vec<HookRunRecord>>, StateError> {
        hook_runs_in(&self.connection(), migrations)
    }
}

pub(crate) fn insert_hook_run_in(
    connection: &Connection,
    migration: &str,
    run: &HookRunRecord,
) -> Result<(), StateError> {
    let inserted = connection.execute(
        "INSERT INTO hook_runs (migration, attempt, phase, command, outcome, exit_code,
             duration_ms, tail, started_at)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE EXISTS
             (SELECT 1 FROM migrations WHERE name = ?1)",
        params![
            migration,
            run.attempt,
            run.phase.as_str(),
            run.command,
            run.outcome.as_str(),
            run.exit_code,
            to_sql_u64(run.duration_ms, "duration")?,
            run.tail,
            run.started_at.to_string(),
        ],
    )?;
    if inserted == 0 {
        return Err(crate::state::migrations::not_found(migration));
    }
    Ok(())
}

/// The hook runs of each of `migrations`, in the order they ran, in one query; a migration
/// without hook runs has no entry.
pub(crate) fn hook_runs_in(
    connection: &Connection,
    migrations: &[String],
) -> Result<HashMap<String, Vec<HookRunRecord>>, StateError> {
    let mut statement = connection.prepare_cached(
        "SELECT migration, attempt, phase, command, outcome, exit_code, duration_ms, tail,
             started_at
         FROM hook_runs WHERE migration IN (SELECT value FROM json_each(?1)) ORDER BY rowid",
    )?;
    let rows = statement.query_map([names_json(migrations)], |row| {
        Ok((
            row.get::<_, String>(0)?,
            (
                row.get::<_, u32>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, Option<i32>>(5)?,
                row.get::<_, i64>(6)?,
                row.get::<_, String>(7)?,
                row.get::<_, String>(8)?,
            ),
        ))
    })?;
    let mut runs: HashMap<String, Vec<HookRunRecord>> = HashMap::new();
    for row in rows {
        let (migration, (attempt, phase, command, outcome, exit_code, duration_ms, tail, started)) =
            row?;
        runs.entry(migration).or_default().push(HookRunRecord {
            attempt,
            phase: parse_phase(&phase)?,
            command,
            outcome: outcome.parse()?,
            exit_code,
            duration_ms: from_sql_u64(duration_ms, "duration")?,
            tail,
            started_at: time::parse(&started)?,
        });
    }
    Ok(runs)
}
