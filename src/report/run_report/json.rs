//! The versioned JSON report (`{"version":1,"summary":{...},"migrations":[...]}`).

use serde_json::{Value, json};

use crate::report::run_report::hooks::hooks_json;
use crate::report::run_report::{MigrationRow, counts, names_runners};

/// The JSON report's version. Bump it when a field changes meaning or disappears.
pub const REPORT_VERSION: u32 = 1;

fn row_json(row: &MigrationRow, runners: bool) -> Value {
    let mut value = json!({
        "name": row.name,
        "source": row.source,
        "target": row.target,
        "cloud": row.cloud,
        "mounts": row.mounts,
        "state": row.state.as_str(),
        "attempts": row.attempts,
        "files": row.files,
        "bytes": row.bytes,
        "skipped_files": row.skipped_files,
        "skipped_bytes": row.skipped_bytes,
        "started_at": row.started_at.map(|at| at.to_string()),
        "finished_at": row.finished_at.map(|at| at.to_string()),
        "duration_seconds": row.duration().map(|duration| duration.as_secs_f64()),
        "throughput_bytes_per_second": row.throughput().map(f64::round),
        "error": row.error,
        "error_retryable": row.error_retryable,
        "vanished": row.vanished,
    });
    // A fleet's report (`names_runners`): who ran each migration, and who holds it now.
    if runners {
        value["runner"] = json!(row.runner);
        value["held_by"] = json!(row.held_by);
    }
    // Only a migration with hooks has the key: reports of plans without hooks are unchanged.
    if !row.hooks.is_empty()
        && let Some(object) = value.as_object_mut()
    {
        object.insert("hooks".to_string(), hooks_json(row));
    }
    value
}

pub(super) fn render(rows: &[MigrationRow]) -> String {
    let runners = names_runners(rows);
    let mut summary = serde_json::Map::new();
    summary.insert("total".to_string(), json!(rows.len()));
    for (state, count) in counts(rows) {
        summary.insert(state.as_str().to_string(), json!(count));
    }
    let document = json!({
        "version": REPORT_VERSION,
        "summary": summary,
        "migrations": rows
            .iter()
            .map(|row| row_json(row, runners))
            .collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}
