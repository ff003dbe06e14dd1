//! A GitHub-flavoured Markdown table for a pull-request comment, with a status emoji and word.

use crate::report::escape::{printable, printable_lines};
use crate::report::run_report::hooks::{markdown_tail, outcome_words};
use crate::report::run_report::{
    MigrationRow, VANISHED_HEADING, counts, human_bytes, human_duration, human_throughput,
    named_vanished, rows_with_hooks, state_word,
};
use crate::state::MigrationState;

fn emoji(state: MigrationState) -> &'static str {
    match state {
        MigrationState::NotStarted => "⏸️",
        MigrationState::Running => "🔄",
        MigrationState::Error => "❌",
        MigrationState::Success => "✅",
    }
}

/// Escapes a table cell: terminal controls (as everywhere, see `report::escape`), then pipes,
/// Markdown and HTML punctuation, and line breaks.
pub(super) fn cell(text: &str) -> String {
    let text = printable_lines(text);
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '~' => {
                out.push('\\');
                out.push(character);
            }
            '\r' => {}
            '\n' => out.push_str("<br>"),
            other => out.push(other),
        }
    }
    out
}

/// Inline code that cannot be broken out of (backticks are doubled as fences when present);
/// terminal controls and line breaks are escaped.
pub(super) fn code(text: &str) -> String {
    let text = printable(text).replace('|', "\\|");
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

pub(super) fn render(rows: &[MigrationRow]) -> String {
    let mut out = String::from("### ferry migrations\n\n");
    if rows.is_empty() {
        out.push_str("No migrations recorded in state yet.\n");
        return out;
    }
    let summary: Vec<String> = counts(rows)
        .iter()
        .filter(|(_, count)| *count > 0)
        .map(|(state, count)| format!("{} {count} {}", emoji(*state), state_word(*state)))
        .collect();
    out.push_str(&summary.join(" · "));
    out.push_str("\n\n");
    out.push_str("| Status | Migration | Source | Target | Cloud | Mounts | Files | Bytes | Duration | Throughput | Error |\n");
    out.push_str("|---|---|---|---|---|---|--:|--:|--:|--:|---|\n");
    for row in rows {
        let mounts: Vec<String> = row.mounts.iter().map(|mount| code(mount)).collect();
        let dash = || "–".to_string();
        out.push_str(&format!(
            "| {} {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            emoji(row.state),
            state_word(row.state),
            cell(&row.name),
            cell(&row.source),
            cell(&row.target),
            cell(&row.cloud),
            mounts.join(" "),
            row.files,
            human_bytes(row.bytes),
            row.duration().map_or_else(dash, human_duration),
            row.throughput().map_or_else(dash, human_throughput),
            row.error.as_deref().map_or_else(String::new, cell),
        ));
    }
    if rows.iter().any(|row| !row.vanished.is_empty()) {
        out.push_str(&format!("\n**{VANISHED_HEADING}:**\n\n"));
        for row in rows {
            let (named, more) = named_vanished(row);
            for path in named {
                out.push_str(&format!(
                    "- {}: {}\n",
                    cell(&row.name),
                    code(&printable(path))
                ));
            }
            if more > 0 {
                out.push_str(&format!("- {}: and {more} more\n", cell(&row.name)));
            }
        }
    }
    if rows_with_hooks(rows).next().is_some() {
        out.push_str("\n**Hooks** (the last run of each phase):\n\n");
        for row in rows_with_hooks(rows) {
            for run in &row.hooks {
                out.push_str(&format!(
                    "- {}: {} {} {}\n",
                    cell(&row.name),
                    run.phase.as_str(),
                    code(&run.command),
                    cell(&outcome_words(run))
                ));
                if !run.tail.is_empty() {
                    out.push_str(&format!(
                        "\n  <details><summary>output</summary>\n\n{}\n\n  </details>\n\n",
                        markdown_tail(run)
                    ));
                }
            }
        }
    }
    out
}
