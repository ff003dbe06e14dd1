//! `ferry state` output: the listing of sources, targets and migrations, and one object in detail
//! (a migration with its hook runs, `hooks.rs`).

use std::io::Write;

use crate::report::escape::printable;
use crate::report::run_report::{human_bytes, human_duration, human_time, state_word};
use crate::state::{
    ClaimRecord, HookRunRecord, LockInfo, MigrationRecord, SourceRecord, StorageRecord,
    TargetRecord,
};

mod show;
pub use show::{render_migration_json, render_record_json};

/// A migration with what `ferry state show migration` adds to its record.
#[derive(Debug, Clone, Copy)]
pub struct MigrationView<'a> {
    pub record: &'a MigrationRecord,
    pub storage: &'a [StorageRecord],
    pub recorded_files: u64,
    pub partial_copies: u64,
    pub lock: Option<&'a LockInfo>,
    /// Every claim on it, oldest first.
    pub claims: &'a [ClaimRecord],
    /// Its hook runs, oldest first.
    pub hooks: &'a [HookRunRecord],
}

/// What `ferry state list` shows; `None` sections are left out (`--kind`).
#[derive(Debug, Clone, Copy, Default)]
pub struct StateListing<'a> {
    pub sources: Option<&'a [SourceRecord]>,
    pub targets: Option<&'a [TargetRecord]>,
    pub migrations: Option<&'a [MigrationRecord]>,
}

/// Aligns cells in columns two spaces apart; control characters are shown escaped.
pub(crate) fn text_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|cell| printable(cell).into_owned())
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = headers
        .iter()
        .map(|header| header.chars().count())
        .collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header_row: Vec<String> = headers.iter().map(|header| header.to_string()).collect();
    for row in std::iter::once(&header_row).chain(&rows) {
        let mut line = String::new();
        for (index, cell) in row.iter().enumerate() {
            if index > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            line.push_str(&" ".repeat(widths[index].saturating_sub(cell.chars().count())));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn optional(text: Option<&str>) -> String {
    text.map_or_else(|| "-".to_string(), str::to_string)
}

fn os_word(os: Option<crate::plan::valid::OsFamily>) -> String {
    match os {
        Some(crate::plan::valid::OsFamily::Windows) => "windows".to_string(),
        Some(crate::plan::valid::OsFamily::Linux) => "linux".to_string(),
        None => "-".to_string(),
    }
}

fn section(out: &mut String, title: &str, count: usize, table: String) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&format!("{title} ({count})\n"));
    if count == 0 {
        out.push_str("  (none)\n");
    } else {
        out.push_str(&table);
    }
}

/// The `ferry state list` text.
pub fn render_listing(listing: &StateListing<'_>) -> String {
    let mut out = String::new();
    if let Some(sources) = listing.sources {
        let rows: Vec<Vec<String>> = sources
            .iter()
            .map(|source| {
                vec![
                    source.name.clone(),
                    source.ip.clone(),
                    os_word(source.os),
                    optional(source.username.as_deref()),
                    human_time(source.recorded_at),
                ]
            })
            .collect();
        let table = text_table(
            &["NAME", "IP", "OS", "USERNAME", "IP RECORDED (UTC)"],
            &rows,
        );
        section(&mut out, "Sources", sources.len(), table);
    }
    if let Some(targets) = listing.targets {
        let rows: Vec<Vec<String>> = targets
            .iter()
            .map(|target| {
                vec![
                    target.name.clone(),
                    target.cloud.as_str().to_string(),
                    target.vm_ip.clone(),
                    os_word(target.vm_os),
                    optional(target.vm_username.as_deref()),
                    human_time(target.updated_at),
                ]
            })
            .collect();
        let headers = [
            "NAME",
            "CLOUD",
            "VM IP",
            "VM OS",
            "VM USERNAME",
            "UPDATED (UTC)",
        ];
        section(
            &mut out,
            "Targets",
            targets.len(),
            text_table(&headers, &rows),
        );
    }
    if let Some(migrations) = listing.migrations {
        let rows: Vec<Vec<String>> = migrations
            .iter()
            .map(|migration| {
                vec![
                    migration.name.clone(),
                    migration.source.clone(),
                    migration.target.clone(),
                    migration.cloud.as_str().to_string(),
                    migration.mounts.join(" "),
                    state_word(migration.state).to_string(),
                    migration.attempts.to_string(),
                    human_time(migration.updated_at),
                ]
            })
            .collect();
        let headers = [
            "NAME",
            "SOURCE",
            "TARGET",
            "CLOUD",
            "MOUNTS",
            "STATE",
            "ATTEMPTS",
            "UPDATED (UTC)",
        ];
        section(
            &mut out,
            "Migrations",
            migrations.len(),
            text_table(&headers, &rows),
        );
    }
    out
}

/// The `ferry state list --format json` document, one line: `{"version":1,"sources":[…],
/// "targets":[…],"migrations":[…]}`, each record with the fields of `ferry state export` (a
/// section left out by `--kind` is absent).
pub fn render_listing_json(listing: &StateListing<'_>) -> String {
    let mut document = serde_json::Map::new();
    document.insert("version".to_string(), serde_json::Value::from(1));
    let mut section = |name: &str, records: Option<serde_json::Value>| {
        if let Some(records) = records {
            document.insert(name.to_string(), records);
        }
    };
    // Records are plain data: serialising them cannot fail (an empty list if it did).
    let value = |records: serde_json::Result<serde_json::Value>| {
        records.unwrap_or_else(|_| serde_json::Value::Array(Vec::new()))
    };
    section(
        "sources",
        listing.sources.map(|r| value(serde_json::to_value(r))),
    );
    section(
        "targets",
        listing.targets.map(|r| value(serde_json::to_value(r))),
    );
    section(
        "migrations",
        listing.migrations.map(|r| value(serde_json::to_value(r))),
    );
    let mut text = serde_json::Value::Object(document).to_string();
    text.push('\n');
    text
}

/// `key: value` lines with aligned values; names and errors from state are shown escaped.
fn fields(title: String, pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(key, _)| key.len()).max().unwrap_or(0) + 1;
    let mut out = printable(&title).into_owned();
    out.push('\n');
    for (key, value) in pairs {
        let label = format!("{key}:");
        out.push_str(&format!(
            "  {label:<width$} {}\n",
            printable(value),
            width = width
        ));
    }
    out
}

fn used_by(migrations: &[String]) -> String {
    if migrations.is_empty() {
        "-".to_string()
    } else {
        migrations.join(", ")
    }
}

/// `ferry state show source NAME`.
pub fn render_source(source: &SourceRecord, migrations: &[String]) -> String {
    fields(
        format!("source {}", source.name),
        &[
            ("ip", format!("{} (never changes)", source.ip)),
            ("ip recorded", human_time(source.recorded_at)),
            ("os", os_word(source.os)),
            ("username", optional(source.username.as_deref())),
            ("updated", human_time(source.updated_at)),
            ("migrations", used_by(migrations)),
        ],
    )
}

/// `ferry state show target NAME`.
pub fn render_target(target: &TargetRecord, migrations: &[String]) -> String {
    fields(
        format!("target {}", target.name),
        &[
            ("cloud", target.cloud.as_str().to_string()),
            ("vm ip", target.vm_ip.clone()),
            ("vm os", os_word(target.vm_os)),
            ("vm username", optional(target.vm_username.as_deref())),
            ("recorded", human_time(target.recorded_at)),
            ("updated", human_time(target.updated_at)),
            ("migrations", used_by(migrations)),
        ],
    )
}

/// `ferry state show migration NAME`.
pub fn render_migration(view: &MigrationView<'_>) -> String {
    let record = view.record;
    let dash = || "-".to_string();
    let mut pairs = vec![
        ("source", record.source.clone()),
        (
            "target",
            format!("{} ({})", record.target, record.cloud.as_str()),
        ),
        ("mounts", record.mounts.join(" ")),
        (
            "state",
            format!(
                "{} (attempts: {})",
                state_word(record.state),
                record.attempts
            ),
        ),
    ];
    if let Some(error) = &record.last_error {
        let retry = match record.error_retryable {
            Some(true) => " (retryable)",
            Some(false) => " (not retryable)",
            None => "",
        };
        pairs.push(("error", format!("{error}{retry}")));
    }
    let duration = match (record.started_at, record.finished_at) {
        (Some(started), Some(finished)) if finished >= started => {
            human_duration(finished.duration_since(started))
        }
        _ => dash(),
    };
    pairs.extend([
        ("started", record.started_at.map_or_else(dash, human_time)),
        ("finished", record.finished_at.map_or_else(dash, human_time)),
        ("duration", duration),
        (
            "files",
            format!(
                "{} ({} already copied)",
                record.stats.files, record.stats.skipped_files
            ),
        ),
        (
            "bytes",
            format!(
                "{} ({} already copied)",
                human_bytes(record.stats.bytes),
                human_bytes(record.stats.skipped_bytes)
            ),
        ),
    ]);
    let storage = if view.storage.is_empty() {
        dash()
    } else {
        view.storage
            .iter()
            .map(|mount| format!("{} {}", mount.mount, human_bytes(mount.size)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    pairs.push(("target storage", storage));
    pairs.push((
        "ledger",
        format!(
            "{} files recorded, {} partial copies",
            view.recorded_files, view.partial_copies
        ),
    ));
    let lock = view.lock.map_or_else(
        || "not locked".to_string(),
        |lock| {
            format!(
                "{} (pid {} on {}, since {}, heartbeat {})",
                lock.owner,
                lock.pid,
                lock.host,
                human_time(lock.acquired_at),
                human_time(lock.heartbeat_at)
            )
        },
    );
    pairs.push(("lock", lock));
    pairs.push(("created", human_time(record.created_at)));
    pairs.push(("updated", human_time(record.updated_at)));
    let mut out = fields(format!("migration {}", record.name), &pairs);
    out.push_str(&show::render_claims(view.claims));
    out.push_str(&hooks::render_hook_runs(view.hooks));
    out
}

/// Prints a command's result text on stdout.
pub fn print_text(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// Prints a one-line note about what a command changed, on stderr (stdout stays for data),
/// escaped (it names things from the state). Nothing under `--quiet`.
pub fn print_note(note: &str) {
    if crate::report::quiet() {
        return;
    }
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{}", crate::report::escape::printable_lines(note));
    }
}

mod hooks;
#[cfg(test)]
mod tests;
