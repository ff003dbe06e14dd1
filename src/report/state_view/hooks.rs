//! A migration's hook runs as `ferry state show migration` prints them: a line per command run,
//! with the last lines of its (masked) output, and the whole migration view as JSON.

use serde_json::{Value, json};

use crate::report::escape::printable;
use crate::report::run_report::{human_time, outcome_words};
use crate::report::state_view::MigrationView;
use crate::state::HookRunRecord;

/// How many lines of each run's output the human view shows (JSON has the whole tail).
const SHOWN_TAIL_LINES: usize = 5;

/// The `hooks:` section: each run, oldest first, with its last lines of output.
pub(super) fn render_hook_runs(runs: &[HookRunRecord]) -> String {
    if runs.is_empty() {
        return String::new();
    }
    let mut out = format!("  hooks ({}):\n", runs.len());
    for run in runs {
        out.push_str(&printable(&format!(
            "    attempt {} {} `{}`: {} ({} ms, {})",
            run.attempt,
            run.phase.as_str(),
            run.command,
            outcome_words(run),
            run.duration_ms,
            human_time(run.started_at)
        )));
        out.push('\n');
        let lines: Vec<&str> = run.tail.lines().collect();
        for line in &lines[lines.len().saturating_sub(SHOWN_TAIL_LINES)..] {
            out.push_str(&format!("      | {}\n", printable(line)));
        }
    }
    out
}

/// `ferry state show migration NAME --format json`: the record, its storage, ledger counts, lock
/// and hook runs.
pub fn render_migration_json(view: &MigrationView<'_>) -> String {
    let lock = view.lock.map(|lock| {
        json!({
            "owner": lock.owner,
            "host": lock.host,
            "pid": lock.pid,
            "acquired_at": lock.acquired_at,
            "heartbeat_at": lock.heartbeat_at,
        })
    });
    let document = json!({
        "version": 1,
        "migration": view.record,
        "target_storage": view.storage,
        "recorded_files": view.recorded_files,
        "partial_copies": view.partial_copies,
        "lock": lock,
        "hooks": view.hooks,
    });
    let mut text = Value::to_string(&document);
    text.push('\n');
    text
}
