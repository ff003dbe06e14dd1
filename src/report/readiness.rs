//! `ferry check --connect`'s readiness table: one row per endpoint (migration, role, name,
//! connection, status, detail) and a summary line. A pure renderer plus a print.

use crate::report::escape::printable;
use std::io::Write;

use crate::exec::preflight::{Readiness, Ready, Reason, Verdict};
use crate::report::run_report::human_bytes;

const HEADERS: [&str; 6] = [
    "MIGRATION",
    "ROLE",
    "NAME",
    "CONNECTION",
    "STATUS",
    "DETAIL",
];

/// `ready` or `not ready`.
pub fn status_word(verdict: &Verdict) -> &'static str {
    if verdict.is_ready() {
        "ready"
    } else {
        "not ready"
    }
}

/// What was proven, or why the endpoint is not ready; retryable reasons say so.
pub fn detail(verdict: &Verdict) -> String {
    let created = |created: bool| {
        if created {
            "; its directory will be created"
        } else {
            ""
        }
    };
    match verdict {
        Verdict::Ready(Ready::MountsReadable(count)) => format!(
            "{count} {} readable",
            if *count == 1 { "mount" } else { "mounts" }
        ),
        Verdict::Ready(Ready::Room {
            needed,
            free,
            created: new,
        }) => format!(
            "needs {}, {} free{}",
            human_bytes(*needed),
            human_bytes(*free),
            created(*new)
        ),
        Verdict::Ready(Ready::RoomUnknown {
            needed,
            created: new,
        }) => format!(
            "free space unknown (needs {}){}",
            human_bytes(*needed),
            created(*new)
        ),
        Verdict::Ready(Ready::ObjectStore) => "object storage, no free-space limit".to_string(),
        Verdict::NotReady { reason, retryable } => {
            let text = match reason {
                Reason::Problem(text) => text.clone(),
                Reason::NoRoom { needed, free } => format!(
                    "not enough free space: needs {}, {} free",
                    human_bytes(*needed),
                    human_bytes(*free)
                ),
            };
            if *retryable {
                format!("{text} (retryable)")
            } else {
                text
            }
        }
    }
}

fn cells(row: &Readiness) -> [String; 6] {
    let detail = match &row.note {
        Some(note) => format!("{}; {note}", detail(&row.verdict)),
        None => detail(&row.verdict),
    };
    [
        row.migration.clone(),
        row.role.noun().to_string(),
        row.name.clone(),
        row.connection.clone(),
        status_word(&row.verdict).to_string(),
        detail,
    ]
}

/// Renders one plan's readiness table and a summary line. `plan` names the plan file.
pub fn render(plan: &str, rows: &[Readiness]) -> String {
    let mut out = format!("Readiness of {} (nothing copied):\n", printable(plan));
    if rows.is_empty() {
        out.push_str("The plan has no migrations: nothing to connect to.\n");
        return out;
    }
    let table: Vec<[String; 6]> = rows
        .iter()
        .map(|row| cells(row).map(|cell| printable(&cell).into_owned()))
        .collect();
    let mut widths = HEADERS.map(|header| header.chars().count());
    for row in &table {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let headers = HEADERS.map(str::to_string);
    for cells in std::iter::once(&headers).chain(&table) {
        let mut line = String::new();
        for (index, cell) in cells.iter().enumerate() {
            if index > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            if index + 1 < cells.len() {
                line.push_str(&" ".repeat(widths[index] - cell.chars().count()));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let ready = rows.iter().filter(|row| row.verdict.is_ready()).count();
    if ready == rows.len() {
        out.push_str(&format!("All {ready} endpoints ready.\n"));
    } else {
        out.push_str(&format!(
            "{} of {} endpoints not ready.\n",
            rows.len() - ready,
            rows.len()
        ));
    }
    out
}

/// The line for a plan that was not connected to because it has errors.
pub fn render_not_checked(plan: &str) -> String {
    format!(
        "Readiness of {}: not checked, because the plan has errors (fix them first).\n",
        printable(plan)
    )
}

/// Prints rendered tables to stdout, or to stderr (when stdout carries a machine-readable
/// document such as `--format json`).
pub fn print(text: &str, to_stderr: bool) -> std::io::Result<()> {
    let result = if to_stderr {
        let mut stderr = std::io::stderr().lock();
        stderr
            .write_all(text.as_bytes())
            .and_then(|()| stderr.flush())
    } else {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
    };
    match result {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests;
