//! Waves: a plan's migrations run wave by wave, in plan order. A wave starts once every migration
//! of the earlier waves has ended and each of those waves' failures stayed within its threshold;
//! inside a wave, once its failures exceed the threshold, no new migration of it starts (the
//! running ones finish). Failures are counted by the state (`StateBackend::wave_counts`), never
//! by this process, so several runners sharing one state respect one threshold together.
//!
//! Inside a run, a wave counts the failures of attempts started since the run began: a re-run
//! after a fix runs the wave's failed migrations again instead of stopping at once. Between
//! waves, and for `--wave`, a wave counts every failure the state holds.

use std::fmt;

use jiff::Timestamp;

use crate::exec::runner::{
    MigrationResult, RunContext, RunEvent, RunSummary, StartGate, run_migrations,
};
use crate::plan::suggest::did_you_mean;
use crate::plan::valid::{Migration, Threshold, ValidPlan, Wave};
use crate::state::{StateBackend, StateError, WaveCounts};

/// A wave as the report shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaveState {
    /// None of its migrations started.
    NotStarted,
    /// Some started, not all ended, and its failures are within its threshold.
    Running,
    /// Its failures exceed its threshold: the later waves do not start.
    Stopped,
    /// Every migration ended, the failures within the threshold.
    Success,
}

impl WaveState {
    /// The JSON report's word.
    pub fn as_str(self) -> &'static str {
        match self {
            WaveState::NotStarted => "not_started",
            WaveState::Running => "running",
            WaveState::Stopped => "stopped",
            WaveState::Success => "success",
        }
    }

    /// The wave's state from the state's counts of its migrations.
    pub fn of(counts: &WaveCounts, allowed: u64) -> WaveState {
        if counts.error > allowed {
            WaveState::Stopped
        } else if counts.all_ended() {
            WaveState::Success
        } else if counts.running == 0 && counts.error == 0 && counts.success == 0 {
            WaveState::NotStarted
        } else {
            WaveState::Running
        }
    }
}

/// Why a wave keeps the waves after it (or its own next migrations) from starting.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// More failures than its threshold allows.
    Failures {
        failures: u64,
        allowed: u64,
        threshold: Threshold,
    },
    /// Some of its migrations have not ended (not started, or still running).
    Unfinished { not_ended: u64 },
    /// The state could not count its failures: nothing starts unchecked.
    Uncounted { error: String },
}

/// A wave that blocks, and why: `wave `pilot`: 1 failure, threshold 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct WaveBlock {
    pub wave: String,
    pub block: Block,
}

impl fmt::Display for WaveBlock {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "wave `{}`: ", self.wave)?;
        match &self.block {
            Block::Failures {
                failures,
                allowed,
                threshold,
            } => {
                let plural = if *failures == 1 { "" } else { "s" };
                write!(
                    formatter,
                    "{failures} failure{plural}, threshold {threshold}"
                )?;
                if matches!(threshold, Threshold::Percent(_)) {
                    write!(formatter, " ({allowed} allowed)")?;
                }
                Ok(())
            }
            Block::Unfinished { not_ended } => {
                let (plural, verb) = if *not_ended == 1 {
                    ("", "has")
                } else {
                    ("s", "have")
                };
                write!(formatter, "{not_ended} migration{plural} {verb} not ended")
            }
            Block::Uncounted { error } => write!(formatter, "cannot count its failures: {error}"),
        }
    }
}

/// How a wave stopped the run, and the selected migrations that did not start because of it.
#[derive(Debug, Clone)]
pub struct WaveStop {
    pub block: WaveBlock,
    pub not_started: Vec<String>,
}

/// A run of waves: how each migration ended, and the wave that stopped it, if one did.
#[derive(Debug, Clone)]
pub struct WavesSummary {
    pub summary: RunSummary,
    pub stopped: Option<WaveStop>,
}

/// The names of a wave's migrations, in plan order.
pub fn wave_members(plan: &ValidPlan, wave: &Wave) -> Vec<String> {
    plan.migrations
        .iter()
        .filter(|migration| migration.wave.as_deref() == Some(wave.name.as_str()))
        .map(|migration| migration.name.clone())
        .collect()
}

/// What blocks the waves after `wave`, counting every failure the state holds; `None` when it
/// finished within its threshold.
pub fn blocking(wave: &Wave, members: usize, counts: &WaveCounts) -> Option<WaveBlock> {
    let allowed = wave.max_failures.allowed(members);
    let block = if counts.error > allowed {
        Block::Failures {
            failures: counts.error,
            allowed,
            threshold: wave.max_failures,
        }
    } else if !counts.all_ended() {
        Block::Unfinished {
            not_ended: counts.not_started + counts.running,
        }
    } else {
        return None;
    };
    Some(WaveBlock {
        wave: wave.name.clone(),
        block,
    })
}

/// `--wave` named a wave the plan does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the plan has no wave named `{name}`{}", .suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
pub struct UnknownWave {
    pub name: String,
    pub suggestion: Option<String>,
}

/// The wave `--wave` names.
pub fn find_wave<'plan>(plan: &'plan ValidPlan, name: &str) -> Result<&'plan Wave, UnknownWave> {
    plan.waves
        .iter()
        .find(|wave| wave.name == name)
        .ok_or_else(|| UnknownWave {
            name: name.to_string(),
            suggestion: did_you_mean(name, plan.waves.iter().map(|wave| wave.name.as_str()))
                .map(str::to_string),
        })
}

/// The first wave before `wave` that has not finished within its threshold, if any.
pub async fn unfinished_before(
    backend: &dyn StateBackend,
    plan: &ValidPlan,
    wave: &Wave,
) -> Result<Option<WaveBlock>, StateError> {
    for earlier in plan
        .waves
        .iter()
        .take_while(|earlier| earlier.name != wave.name)
    {
        let members = wave_members(plan, earlier);
        let counts = backend.wave_counts(&members, None).await?;
        if let Some(block) = blocking(earlier, members.len(), &counts) {
            return Ok(Some(block));
        }
    }
    Ok(None)
}

/// Holds a wave's next migrations once the failures of attempts started since `since` exceed
/// its threshold. A state that cannot answer holds them too: nothing starts unchecked.
struct WaveGate<'run> {
    backend: &'run dyn StateBackend,
    wave: &'run Wave,
    members: Vec<String>,
    since: Timestamp,
}

#[async_trait::async_trait]
impl StartGate for WaveGate<'_> {
    async fn hold(&self, _migration: &Migration) -> Option<String> {
        let allowed = self.wave.max_failures.allowed(self.members.len());
        let block = match self
            .backend
            .wave_counts(&self.members, Some(self.since))
            .await
        {
            Ok(counts) if counts.failed_since > allowed => Block::Failures {
                failures: counts.failed_since,
                allowed,
                threshold: self.wave.max_failures,
            },
            Ok(_) => return None,
            Err(error) => Block::Uncounted {
                error: error.to_string(),
            },
        };
        let wave = self.wave.name.clone();
        Some(WaveBlock { wave, block }.to_string())
    }
}

/// Runs the selected migrations wave by wave (only `only_wave` when given: the caller checked
/// that the waves before it finished). Stops at the first wave that ends blocked; the selected
/// migrations of the later waves are reported not started (`MigrationResult::Held`).
pub async fn run_waves(
    context: &RunContext<'_>,
    selected: &[&Migration],
    only_wave: Option<&Wave>,
) -> WavesSummary {
    let since = Timestamp::now();
    let plan = context.plan;
    let mut results = Vec::new();
    for (index, wave) in plan.waves.iter().enumerate() {
        if only_wave.is_some_and(|only| only.name != wave.name) {
            continue;
        }
        let chosen = in_wave(selected, wave);
        let summary = if chosen.is_empty() {
            RunSummary::default()
        } else {
            run_wave(context, wave, &chosen, since).await
        };
        results.extend(summary.results);
        if summary.interrupted {
            return interrupted(results);
        }
        let later = &plan.waves[index + 1..];
        let waiting = later_selected(selected, later, only_wave);
        if waiting.is_empty() && chosen.is_empty() {
            continue;
        }
        let members = wave_members(plan, wave);
        let block = match context.backend.wave_counts(&members, None).await {
            Ok(counts) => blocking(wave, members.len(), &counts),
            Err(error) => Some(WaveBlock {
                wave: wave.name.clone(),
                block: Block::Uncounted {
                    error: error.to_string(),
                },
            }),
        };
        // With nothing waiting, only a wave over its threshold stops the run; one whose other
        // migrations were not selected (`--only`, `--wave`) just has not finished.
        let stops = |block: &WaveBlock| {
            !waiting.is_empty() || matches!(block.block, Block::Failures { .. })
        };
        if let Some(block) = block.filter(stops) {
            return stopped(context, results, block, &waiting);
        }
    }
    WavesSummary {
        summary: RunSummary {
            results,
            interrupted: false,
        },
        stopped: None,
    }
}

/// Runs one wave's chosen migrations behind its gate.
async fn run_wave(
    context: &RunContext<'_>,
    wave: &Wave,
    chosen: &[&Migration],
    since: Timestamp,
) -> RunSummary {
    let gate = WaveGate {
        backend: context.backend,
        wave,
        members: wave_members(context.plan, wave),
        since,
    };
    let wave_context = RunContext {
        observer: std::sync::Arc::clone(&context.observer),
        start_gate: Some(&gate),
        ..*context
    };
    run_migrations(&wave_context, chosen).await
}

/// The selected migrations of one wave, in plan order.
fn in_wave<'plan>(selected: &[&'plan Migration], wave: &Wave) -> Vec<&'plan Migration> {
    selected
        .iter()
        .copied()
        .filter(|migration| migration.wave.as_deref() == Some(wave.name.as_str()))
        .collect()
}

/// The selected migrations of `later` waves that this run would start.
fn later_selected<'plan>(
    selected: &[&'plan Migration],
    later: &[Wave],
    only_wave: Option<&Wave>,
) -> Vec<&'plan Migration> {
    if only_wave.is_some() {
        return Vec::new();
    }
    later
        .iter()
        .flat_map(|wave| in_wave(selected, wave))
        .collect()
}

/// The run stopped by `block`: the waiting migrations are held, each reported as not started.
fn stopped(
    context: &RunContext<'_>,
    mut results: Vec<(String, MigrationResult)>,
    block: WaveBlock,
    waiting: &[&Migration],
) -> WavesSummary {
    let reason = block.to_string();
    for migration in waiting {
        let result = MigrationResult::Held {
            reason: reason.clone(),
        };
        context.emit(RunEvent::MigrationFinished {
            migration: migration.name.clone(),
            result: result.clone(),
        });
        results.push((migration.name.clone(), result));
    }
    let not_started = results
        .iter()
        .filter(|(_, result)| matches!(result, MigrationResult::Held { .. }))
        .map(|(name, _)| name.clone())
        .collect();
    WavesSummary {
        summary: RunSummary {
            results,
            interrupted: false,
        },
        stopped: Some(WaveStop { block, not_started }),
    }
}

fn interrupted(results: Vec<(String, MigrationResult)>) -> WavesSummary {
    WavesSummary {
        summary: RunSummary {
            results,
            interrupted: true,
        },
        stopped: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wave(threshold: Threshold) -> Wave {
        Wave {
            name: "pilot".to_string(),
            max_failures: threshold,
        }
    }

    fn counts(not_started: u64, running: u64, error: u64, success: u64) -> WaveCounts {
        WaveCounts {
            not_started,
            running,
            error,
            success,
            failed_since: error,
        }
    }

    #[test]
    fn a_wave_blocks_on_failures_over_its_threshold_then_on_what_has_not_ended() {
        let zero = wave(Threshold::default());
        let block = blocking(&zero, 2, &counts(0, 0, 1, 1)).expect("blocked");
        assert_eq!(block.to_string(), "wave `pilot`: 1 failure, threshold 0");
        let half = wave(Threshold::Percent(50.0));
        assert_eq!(blocking(&half, 5, &counts(0, 0, 2, 3)), None);
        let block = blocking(&half, 5, &counts(0, 0, 3, 2)).expect("blocked");
        assert_eq!(
            block.to_string(),
            "wave `pilot`: 3 failures, threshold 50% (2 allowed)"
        );
        let block = blocking(&half, 5, &counts(1, 1, 0, 3)).expect("blocked");
        assert_eq!(
            block.to_string(),
            "wave `pilot`: 2 migrations have not ended"
        );
    }

    /// Two runners on one state: what one records counts toward the threshold the other's gate
    /// checks; a failure recorded before the run began does not (it is run again).
    #[tokio::test]
    async fn runners_sharing_a_state_respect_one_threshold() {
        use crate::plan::valid::Cloud;
        use crate::state::{MigrationDefinition, MigrationFailure, MigrationState, Store};
        let folder = tempfile::tempdir().expect("temporary folder");
        let path = folder.path().join("state.db");
        let store = Store::open(&path).expect("open");
        let ip = |text: &str| text.parse().expect("an IP");
        store
            .record_source("s", ip("192.0.2.1"), None, None)
            .expect("source");
        store
            .record_target("t", Cloud::Aws, ip("198.51.100.1"), None, None)
            .expect("target");
        for name in ["a", "b", "c"] {
            let definition = MigrationDefinition {
                name: name.to_string(),
                source: "s".to_string(),
                target: "t".to_string(),
                cloud: Cloud::Aws,
                mounts: vec!["/".to_string()],
            };
            store.define_migration(&definition).expect("migration");
        }
        let fail = |store: &Store, name: &str| {
            let failure = MigrationFailure {
                message: "no such folder".to_string(),
                retryable: false,
            };
            store
                .set_migration_state(name, MigrationState::Running, None)
                .expect("running");
            store
                .set_migration_state(name, MigrationState::Error, Some(&failure))
                .expect("error");
        };
        fail(&store, "a");
        std::thread::sleep(std::time::Duration::from_millis(5));
        let pilot = wave(Threshold::default());
        let gate = WaveGate {
            backend: &store,
            wave: &pilot,
            members: ["a", "b", "c"].map(String::from).to_vec(),
            since: Timestamp::now(),
        };
        let migration = Migration {
            name: "c".to_string(),
            source: "s".to_string(),
            target: "t".to_string(),
            mounts: Vec::new(),
            wave: Some("pilot".to_string()),
            hooks: Default::default(),
        };
        assert_eq!(
            gate.hold(&migration).await,
            None,
            "an earlier run's failure"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
        let other_runner = Store::open_existing(&path).expect("a second connection");
        fail(&other_runner, "b");
        assert_eq!(
            gate.hold(&migration).await.as_deref(),
            Some("wave `pilot`: 1 failure, threshold 0")
        );
    }

    #[test]
    fn a_wave_state_comes_from_its_counts() {
        assert_eq!(WaveState::of(&counts(3, 0, 0, 0), 0), WaveState::NotStarted);
        assert_eq!(WaveState::of(&counts(2, 1, 0, 0), 0), WaveState::Running);
        assert_eq!(WaveState::of(&counts(2, 0, 1, 0), 1), WaveState::Running);
        assert_eq!(WaveState::of(&counts(2, 0, 1, 0), 0), WaveState::Stopped);
        assert_eq!(WaveState::of(&counts(0, 0, 1, 2), 1), WaveState::Success);
        assert_eq!(WaveState::of(&counts(0, 0, 0, 3), 0).as_str(), "success");
    }
}
