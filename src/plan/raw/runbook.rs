//! The runbook part of a plan as written: waves with failure thresholds, and hooks (cutover commands) around each migration.
//!
//! Thresholds, timeouts and commands are loosely typed here on purpose: the rules read them and
//! report `invalid-threshold`, `invalid-hook-timeout` and `empty-hook-command` with their own
//! words, instead of a schema error that names the alternatives of an untagged enum.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::SecretReference;

/// A group of migrations run together; waves run in the order listed, each only when the earlier
/// ones ended within their failure thresholds.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "wave")]
#[schemars(deny_unknown_fields)]
pub struct RawWave {
    /// The wave's name, which migrations give as `wave`.
    #[schemars(length(min = 1), example = &"pilot")]
    pub name: String,
    /// How many of the wave's migrations may fail before no new one starts and later waves
    /// are stopped: a count (`0`, the default, stops at the first failure) or a percentage of
    /// the wave's migrations (`10%`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_failures: Option<RawThreshold>,
    /// Hooks for every migration of the wave; a migration's own `hooks` replace them phase by phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<RawHooks>,
}

/// A failure threshold: a count, or a percentage of the wave's migrations.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "failure threshold")]
#[serde(untagged)]
pub enum RawThreshold {
    /// How many migrations may fail.
    #[schemars(title = "count of failures")]
    Count(i64),
    /// A percentage of the wave's migrations, such as `10%` or `12.5%` (at most `100%`).
    #[schemars(title = "percentage of the wave")]
    Percent(#[schemars(example = &"10%")] String),
}

/// Commands run around a migration, on the machine that runs ferry, in the plan's folder.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "hooks")]
#[schemars(deny_unknown_fields)]
pub struct RawHooks {
    /// Run when the migration starts, before any data moves; a failure fails the migration and
    /// no data moves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Vec<RawHookCommand>>,
    /// Run once the migration's data is copied and verified; a failure fails the migration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Vec<RawHookCommand>>,
    /// Run when the migration fails (its error is in `FERRY_ERROR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<Vec<RawHookCommand>>,
    /// Secrets the commands need, as environment variables: each a reference, resolved when the
    /// hook runs, so that no secret is written in a command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(title = "hook environment")]
    pub env: Option<IndexMap<String, SecretReference>>,
}

/// A hook command: a string run by `sh -c`, an argument list run as is, or either with a timeout.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "hook command")]
#[serde(untagged)]
pub enum RawHookCommand {
    /// A shell command line, run by `sh -c`.
    #[schemars(title = "shell command")]
    Shell(#[schemars(example = &"systemctl stop app")] String),
    /// A program and its arguments, run without a shell.
    #[schemars(title = "argument list")]
    Argv(Vec<String>),
    /// A command with its own timeout.
    Detailed(RawDetailedHook),
}

/// `{ run: COMMAND, timeout: 5m }`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "hook command with a timeout")]
#[schemars(deny_unknown_fields)]
pub struct RawDetailedHook {
    /// The command: a shell command line, or a program and its arguments.
    pub run: RawHookRun,
    /// How long the command may run before it is stopped and fails: seconds, or a duration
    /// such as `90s`, `5m` or `1h` (at most 24 hours). Defaults to 10 minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<RawTimeout>,
}

/// What `run` holds: a shell command line or an argument list.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "command")]
#[serde(untagged)]
pub enum RawHookRun {
    /// A shell command line, run by `sh -c`.
    #[schemars(title = "shell command")]
    Shell(String),
    /// A program and its arguments, run without a shell.
    #[schemars(title = "argument list")]
    Argv(Vec<String>),
}

/// A timeout: whole seconds, or a number with a unit (`s`, `m`, `h`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "timeout")]
#[serde(untagged)]
pub enum RawTimeout {
    /// Seconds.
    #[schemars(title = "seconds")]
    Seconds(i64),
    /// A number with a unit.
    #[schemars(title = "duration with a unit")]
    Text(#[schemars(example = &"5m")] String),
}
