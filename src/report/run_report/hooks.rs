//! Hook runs in the report, kept compact: the last run of each phase, in a line each (a section
//! of the table, Markdown and JUnit), with its output's tail in JSON and (the last lines) Markdown.

use serde_json::{Value, json};

use crate::plan::valid::HookPhase;
use crate::report::escape::printable_lines;
use crate::report::run_report::MigrationRow;
use crate::state::HookRunRecord;

/// How many lines of a hook's output the Markdown report shows.
const MARKDOWN_TAIL_LINES: usize = 20;

/// The last run of each phase, in phase order.
pub(super) fn last_per_phase(runs: &[HookRunRecord]) -> Vec<HookRunRecord> {
    HookPhase::ALL
        .iter()
        .filter_map(|phase| runs.iter().rev().find(|run| run.phase == *phase))
        .cloned()
        .collect()
}

/// The outcome and exit status of a run, in words: `failed (exit 3)`, `timed_out`.
pub(crate) fn outcome_words(run: &HookRunRecord) -> String {
    match run.exit_code {
        Some(code) => format!("{} (exit {code})", run.outcome.as_str()),
        None => run.outcome.as_str().to_string(),
    }
}

/// `before `stop-app.sh`: succeeded (exit 0)` (not escaped).
pub(super) fn hook_line(run: &HookRunRecord) -> String {
    format!(
        "{} `{}`: {}",
        run.phase.as_str(),
        run.command,
        outcome_words(run)
    )
}

/// The `hooks` array of a JSON row.
pub(super) fn hooks_json(row: &MigrationRow) -> Value {
    row.hooks
        .iter()
        .map(|run| {
            json!({
                "phase": run.phase.as_str(),
                "command": run.command,
                "outcome": run.outcome.as_str(),
                "exit_code": run.exit_code,
                "attempt": run.attempt,
                "started_at": run.started_at.to_string(),
                "duration_ms": run.duration_ms,
                "tail": run.tail,
            })
        })
        .collect()
}

/// A fenced block of a hook's last lines that its text cannot close.
pub(super) fn markdown_tail(run: &HookRunRecord) -> String {
    let lines: Vec<&str> = run.tail.lines().collect();
    let shown = lines[lines.len().saturating_sub(MARKDOWN_TAIL_LINES)..].join("\n");
    let shown = printable_lines(&shown);
    let longest = shown
        .split(|character| character != '`')
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}\n{shown}\n{fence}")
}
