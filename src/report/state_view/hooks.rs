//! A migration's hook runs as `ferry state show migration` prints them: a line per command run,
//! with the last lines of its (masked) output (`show.rs` puts them in the JSON document).

use crate::report::escape::printable;
use crate::report::run_report::{human_time, outcome_words};
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
