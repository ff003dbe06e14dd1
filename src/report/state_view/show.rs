//! `ferry state show` beyond the record's fields: a migration's claims history (who ran it, when,
//! and how each claim ended), and the `--format json` documents.

use serde::Serialize;

use super::{MigrationView, text_table};
use crate::report::run_report::human_time;
use crate::state::ClaimRecord;

/// The claims section of `ferry state show migration`: one line per claim, oldest first.
pub(super) fn render_claims(claims: &[ClaimRecord]) -> String {
    let mut out = format!("  claims ({}):\n", claims.len());
    if claims.is_empty() {
        out.push_str("    (none)\n");
        return out;
    }
    let rows: Vec<Vec<String>> = claims
        .iter()
        .map(|claim| {
            vec![
                human_time(claim.started_at),
                claim.ended_at.map_or_else(|| "-".to_string(), human_time),
                claim.outcome.clone().unwrap_or_else(|| "held".to_string()),
                format!("{} (pid {} on {})", claim.runner, claim.pid, claim.host),
            ]
        })
        .collect();
    let table = text_table(&["started", "ended", "outcome", "runner"], &rows);
    for line in table.lines() {
        out.push_str("    ");
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `ferry state show migration NAME --format json`: the record's fields (as `ferry state list
/// --format json` prints them) with its target storage, ledger counts, live holder (or null) and
/// `claims` (`{runner, host, pid, started_at, ended_at, outcome}`, RFC 3339 UTC, `ended_at` and
/// `outcome` null while held) and `hooks` (its hook runs, oldest first, output masked). One line.
pub fn render_migration_json(view: &MigrationView<'_>) -> String {
    #[derive(Serialize)]
    struct Holder<'a> {
        runner: &'a str,
        host: &'a str,
        pid: u32,
        started_at: jiff::Timestamp,
        heartbeat_at: jiff::Timestamp,
    }
    let mut document = object(view.record);
    let holder = view.lock.map(|lock| Holder {
        runner: &lock.owner,
        host: &lock.host,
        pid: lock.pid,
        started_at: lock.acquired_at,
        heartbeat_at: lock.heartbeat_at,
    });
    for (key, value) in [
        ("target_storage", to_value(view.storage)),
        (
            "recorded_files",
            serde_json::Value::from(view.recorded_files),
        ),
        (
            "partial_copies",
            serde_json::Value::from(view.partial_copies),
        ),
        ("holder", to_value(&holder)),
        ("claims", to_value(view.claims)),
        ("hooks", to_value(view.hooks)),
    ] {
        document.insert(key.to_string(), value);
    }
    line(document)
}

/// `ferry state show source|target NAME --format json`: the record and the migrations using it.
pub fn render_record_json(record: &impl Serialize, migrations: &[String]) -> String {
    let mut document = object(record);
    document.insert("migrations".to_string(), to_value(migrations));
    line(document)
}

fn object(record: &impl Serialize) -> serde_json::Map<String, serde_json::Value> {
    let mut document = serde_json::Map::new();
    document.insert("version".to_string(), serde_json::Value::from(1));
    if let serde_json::Value::Object(fields) = to_value(record) {
        document.extend(fields);
    }
    document
}

/// Records are plain data: serialising them cannot fail (null if it did).
fn to_value<T: Serialize + ?Sized>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

fn line(document: serde_json::Map<String, serde_json::Value>) -> String {
    let mut text = serde_json::Value::Object(document).to_string();
    text.push('\n');
    text
}
