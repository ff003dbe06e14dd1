//! The terminal table: aligned columns, the errors below, a one-line summary.

use crate::report::escape::printable;
use crate::report::run_report::hooks::hook_line;
use crate::report::run_report::{
    MigrationRow, VANISHED_HEADING, counts, human_bytes, human_duration, human_throughput,
    human_time, named_vanished, names_runners, rows_with_hooks, state_word,
};

const HEADERS: [&str; 12] = [
    "MIGRATION",
    "SOURCE",
    "TARGET",
    "CLOUD",
    "MOUNTS",
    "STATE",
    "FILES",
    "BYTES",
    "STARTED (UTC)",
    "FINISHED (UTC)",
    "DURATION",
    "THROUGHPUT",
];

/// Columns holding numbers are right-aligned.
const NUMERIC: [bool; 12] = [
    false, false, false, false, false, false, true, true, false, false, true, true,
];

fn cells(row: &MigrationRow) -> [String; 12] {
    let dash = || "-".to_string();
    [
        row.name.clone(),
        row.source.clone(),
        row.target.clone(),
        row.cloud.clone(),
        row.mounts.join(" "),
        state_word(row.state).to_string(),
        row.files.to_string(),
        human_bytes(row.bytes),
        row.started_at.map_or_else(dash, human_time),
        row.finished_at.map_or_else(dash, human_time),
        row.duration().map_or_else(dash, human_duration),
        row.throughput().map_or_else(dash, human_throughput),
    ]
}

pub(super) fn render(rows: &[MigrationRow]) -> String {
    if rows.is_empty() {
        return "No migrations recorded in state yet.\n".to_string();
    }
    let table: Vec<[String; 12]> = rows
        .iter()
        .map(|row| cells(row).map(|cell| printable(&cell).into_owned()))
        .collect();
    let mut widths = HEADERS.map(|header| header.chars().count());
    for row in &table {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut push_line = |cells: &[String; 12]| {
        let mut line = String::new();
        for (index, cell) in cells.iter().enumerate() {
            if index > 0 {
                line.push_str("  ");
            }
            let pad = widths[index] - cell.chars().count();
            if NUMERIC[index] {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    };
    push_line(&HEADERS.map(str::to_string));
    for row in &table {
        push_line(row);
    }
    if names_runners(rows) {
        out.push_str("\nRunners:\n");
        for row in rows {
            let said = match (&row.held_by, &row.runner) {
                (Some(holder), _) => format!("held by {holder}"),
                (None, Some(runner)) => format!("ran by {runner}"),
                (None, None) => continue,
            };
            out.push_str(&format!(
                "  {}: {}\n",
                printable(&row.name),
                printable(&said)
            ));
        }
    }
    let failed: Vec<&MigrationRow> = rows.iter().filter(|row| row.error.is_some()).collect();
    if !failed.is_empty() {
        out.push_str("\nErrors:\n");
        for row in failed {
            let retry = match row.error_retryable {
                Some(true) => " (retryable)",
                Some(false) => " (not retryable)",
                None => "",
            };
            let error = row.error.as_deref().unwrap_or_default();
            out.push_str(&format!(
                "  {}: {}{retry}\n",
                printable(&row.name),
                printable(error)
            ));
        }
    }
    if rows.iter().any(|row| !row.vanished.is_empty()) {
        out.push_str(&format!("\n{VANISHED_HEADING}:\n"));
        for row in rows {
            let (named, more) = named_vanished(row);
            let name = printable(&row.name);
            for path in named {
                out.push_str(&format!("  {name}: `{}`\n", printable(path)));
            }
            if more > 0 {
                out.push_str(&format!("  {name}: and {more} more\n"));
            }
        }
    }
    if rows_with_hooks(rows).next().is_some() {
        out.push_str("\nHooks (the last run of each phase):\n");
        for row in rows_with_hooks(rows) {
            for run in &row.hooks {
                out.push_str(&format!(
                    "  {}: {}\n",
                    printable(&row.name),
                    printable(&hook_line(run))
                ));
            }
        }
    }
    let summary: Vec<String> = counts(rows)
        .iter()
        .filter(|(_, count)| *count > 0)
        .map(|(state, count)| format!("{count} {}", state_word(*state)))
        .collect();
    let noun = if rows.len() == 1 {
        "migration"
    } else {
        "migrations"
    };
    out.push_str(&format!(
        "\n{} {noun}: {}\n",
        rows.len(),
        summary.join(", ")
    ));
    out
}
