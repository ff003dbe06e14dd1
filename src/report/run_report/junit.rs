//! JUnit XML: one `<testcase>` per migration; `error` fails, `not_started`/`running` are skipped.

use std::fmt::Write;

use crate::report::escape::printable;
use crate::report::run_report::hooks::hook_line;
use crate::report::run_report::{MigrationRow, VANISHED_HEADING, human_bytes, named_vanished};
use crate::state::MigrationState;

/// Escapes text for an XML attribute or element, dropping characters XML 1.0 cannot hold.
pub(crate) fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            '\u{0}'..='\u{8}'
            | '\u{b}'
            | '\u{c}'
            | '\u{e}'..='\u{1f}'
            | '\u{fffe}'
            | '\u{ffff}' => {
                out.push('\u{fffd}');
            }
            other => out.push(other),
        }
    }
    out
}

fn seconds(row: &MigrationRow) -> f64 {
    row.duration()
        .map_or(0.0, |duration| duration.as_secs_f64())
}

pub(super) fn render(rows: &[MigrationRow]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&suite("ferry", rows));
    out
}

/// One `<testsuite>` named `name` (XML-escaped already) of these migrations.
pub(super) fn suite(name: &str, rows: &[MigrationRow]) -> String {
    let failures = rows
        .iter()
        .filter(|row| row.state == MigrationState::Error)
        .count();
    let skipped = rows
        .iter()
        .filter(|row| {
            matches!(
                row.state,
                MigrationState::NotStarted | MigrationState::Running
            )
        })
        .count();
    let total_time: f64 = rows.iter().map(seconds).sum();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<testsuite name=\"{name}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{total_time:.3}\">",
        rows.len()
    );
    for row in rows {
        let _ = write!(
            out,
            "  <testcase classname=\"ferry.migration\" name=\"{}\" time=\"{:.3}\"",
            escape_xml(&row.name),
            seconds(row)
        );
        let mut detail = format!(
            "{} -> {} ({}), mounts {}: {} files, {}, state {}",
            row.source,
            row.target,
            row.cloud,
            row.mounts.join(" "),
            row.files,
            human_bytes(row.bytes),
            row.state.as_str()
        );
        let (named, more) = named_vanished(row);
        if !named.is_empty() {
            let named: Vec<String> = named
                .iter()
                .map(|path| format!("`{}`", printable(path)))
                .collect();
            detail.push_str(&format!("\n{VANISHED_HEADING}: {}", named.join(", ")));
            if more > 0 {
                detail.push_str(&format!(", and {more} more"));
            }
        }
        if !row.hooks.is_empty() {
            let hooks: Vec<String> = row.hooks.iter().map(hook_line).collect();
            detail.push_str(&format!("\nHooks: {}", printable(&hooks.join("; "))));
        }
        match row.state {
            MigrationState::Success => {
                let _ = writeln!(
                    out,
                    ">\n    <system-out>{}</system-out>\n  </testcase>",
                    escape_xml(&detail)
                );
            }
            MigrationState::Error => {
                let message = row.error.as_deref().unwrap_or("failed");
                let _ = writeln!(
                    out,
                    ">\n    <failure message=\"{}\" type=\"{}\">{}</failure>\n  </testcase>",
                    escape_xml(message),
                    if row.error_retryable == Some(false) {
                        "error"
                    } else {
                        "retryable"
                    },
                    escape_xml(&detail)
                );
            }
            MigrationState::NotStarted | MigrationState::Running => {
                let _ = writeln!(
                    out,
                    ">\n    <skipped message=\"{}\"/>\n  </testcase>",
                    row.state.as_str()
                );
            }
        }
    }
    out.push_str("</testsuite>\n");
    out
}
