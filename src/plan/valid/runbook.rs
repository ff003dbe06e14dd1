//! The resolved runbook: waves with their failure thresholds, and each migration's hooks (its wave's, replaced phase by phase by its own).

use std::fmt;
use std::time::Duration;

use indexmap::IndexMap;

use super::{SecretRef, Spanned};

/// How long a hook command may run unless it says otherwise.
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// A wave of migrations, run after every earlier wave ended within its threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Wave {
    /// Unique within the plan.
    pub name: String,
    pub max_failures: Threshold,
}

/// How many of a wave's migrations may fail before it stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    Count(u64),
    /// A percentage of the wave's migrations, 0 to 100.
    Percent(f64),
}

impl Default for Threshold {
    /// Any failure stops the wave.
    fn default() -> Self {
        Threshold::Count(0)
    }
}

impl Threshold {
    /// The most failures a wave of `migrations` migrations may have and go on (rounded down).
    pub fn allowed(self, migrations: usize) -> u64 {
        match self {
            Threshold::Count(count) => count,
            Threshold::Percent(percent) => {
                let migrations = u32::try_from(migrations).unwrap_or(u32::MAX);
                // Floor of a non-negative finite product; the cast cannot lose a whole number
                // that matters (at most u32::MAX).
                (f64::from(migrations) * percent / 100.0).floor() as u64
            }
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threshold::Count(count) => write!(formatter, "{count}"),
            Threshold::Percent(percent) => write!(formatter, "{percent}%"),
        }
    }
}

/// When a hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookPhase {
    /// When the migration starts, before any data moves.
    Before,
    /// Once its data is copied and verified.
    After,
    /// When it fails.
    OnFailure,
}

impl HookPhase {
    pub const ALL: [HookPhase; 3] = [HookPhase::Before, HookPhase::After, HookPhase::OnFailure];

    /// The plan key, and `FERRY_PHASE`'s value.
    pub fn as_str(self) -> &'static str {
        match self {
            HookPhase::Before => "before",
            HookPhase::After => "after",
            HookPhase::OnFailure => "on_failure",
        }
    }

    /// The phase [`HookPhase::as_str`] names.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|phase| phase.as_str() == text)
    }
}

/// A command a hook runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookCommand {
    /// Run by `sh -c`.
    Shell(String),
    /// A program and its arguments, run without a shell; never empty.
    Argv(Vec<String>),
}

impl fmt::Display for HookCommand {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HookCommand::Shell(line) => formatter.write_str(line),
            HookCommand::Argv(arguments) => formatter.write_str(&arguments.join(" ")),
        }
    }
}

/// One command of a hook, with its time limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub command: HookCommand,
    pub timeout: Duration,
}

/// A migration's hooks, by phase, and the secrets they get as environment variables.
#[derive(Debug, Clone, Default)]
pub struct Hooks {
    pub before: Vec<Hook>,
    pub after: Vec<Hook>,
    pub on_failure: Vec<Hook>,
    /// Variable name → the secret it holds, resolved when a hook runs.
    pub env: IndexMap<String, Spanned<SecretRef>>,
}

impl Hooks {
    /// The commands of one phase, in order.
    pub fn phase(&self, phase: HookPhase) -> &[Hook] {
        match phase {
            HookPhase::Before => &self.before,
            HookPhase::After => &self.after,
            HookPhase::OnFailure => &self.on_failure,
        }
    }

    pub fn is_empty(&self) -> bool {
        HookPhase::ALL
            .iter()
            .all(|phase| self.phase(*phase).is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threshold_allows_whole_migrations_rounded_down() {
        assert_eq!(Threshold::default().allowed(200), 0);
        assert_eq!(Threshold::Count(3).allowed(2), 3);
        assert_eq!(Threshold::Percent(10.0).allowed(20), 2);
        assert_eq!(Threshold::Percent(10.0).allowed(19), 1);
        assert_eq!(Threshold::Percent(12.5).allowed(8), 1);
        assert_eq!(Threshold::Percent(100.0).allowed(7), 7);
        assert_eq!(Threshold::Percent(0.0).allowed(7), 0);
    }
}
