//! A wave's outcome as the state counts it: how many of a set of migrations are in each state,
//! and how many failed in attempts started since a given instant. Both backends answer it from
//! their records, so several runners sharing one state count one threshold together.

use jiff::Timestamp;
use rusqlite::params;

use crate::state::error::StateError;
use crate::state::migrations::{MigrationState, names_json};
use crate::state::store::Store;
use crate::state::time;

/// How many of a wave's migrations are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WaveCounts {
    /// Including the names the state does not know yet.
    pub not_started: u64,
    pub running: u64,
    pub error: u64,
    pub success: u64,
    /// Of `error`, those whose last attempt started at or after the instant asked about: the
    /// failures of the current attempt at the wave (earlier ones are run again).
    pub failed_since: u64,
}

impl WaveCounts {
    /// Counts `recorded` (each known migration's state and start) out of `migrations` names.
    pub(crate) fn tally(
        migrations: usize,
        recorded: impl IntoIterator<Item = (MigrationState, Option<Timestamp>)>,
        since: Option<Timestamp>,
    ) -> WaveCounts {
        let mut counts = WaveCounts::default();
        let mut known = 0_u64;
        for (state, started_at) in recorded {
            known += 1;
            match state {
                MigrationState::NotStarted => counts.not_started += 1,
                MigrationState::Running => counts.running += 1,
                MigrationState::Success => counts.success += 1,
                MigrationState::Error => {
                    counts.error += 1;
                    let recent = match (since, started_at) {
                        (None, _) => true,
                        (Some(since), Some(started)) => started >= since,
                        (Some(_), None) => false,
                    };
                    counts.failed_since += u64::from(recent);
                }
            }
        }
        let total = u64::try_from(migrations).unwrap_or(u64::MAX);
        counts.not_started += total.saturating_sub(known);
        counts
    }

    /// Every migration ended (success or error).
    pub fn all_ended(&self) -> bool {
        self.not_started == 0 && self.running == 0
    }
}

impl Store {
    /// See [`crate::state::StateBackend::wave_counts`].
    pub fn wave_counts(
        &self,
        migrations: &[String],
        since: Option<Timestamp>,
    ) -> Result<WaveCounts, StateError> {
        let names = names_json(migrations);
        let connection = self.connection();
        let mut statement = connection.prepare(
            "SELECT state, started_at FROM migrations
             WHERE name IN (SELECT value FROM json_each(?1))",
        )?;
        let rows = statement.query_map(params![names], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?))
        })?;
        let mut recorded = Vec::new();
        for row in rows {
            let (state, started_at) = row?;
            recorded.push((state.parse()?, time::parse_optional(started_at)?));
        }
        Ok(WaveCounts::tally(migrations.len(), recorded, since))
    }
}
