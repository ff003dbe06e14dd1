//! The report of a plan with waves: its migrations grouped by wave, each wave's state, and the
//! wave that stops the later ones, with why. A plan without waves gets the plain report.

use std::fmt::Write;

use serde_json::{Value, json};

use crate::exec::runner::waves::{WaveBlock, WaveState};
use crate::options::ReportFormat;
use crate::plan::valid::Threshold;
use crate::report::escape::printable;
use crate::report::run_report::junit::escape_xml;
use crate::report::run_report::markdown::cell;
use crate::report::run_report::{MigrationRow, json, junit, markdown, render, table};
use crate::state::WaveCounts;

/// One wave as reported.
#[derive(Debug, Clone, PartialEq)]
pub struct WaveRow {
    pub name: String,
    pub state: WaveState,
    pub threshold: Threshold,
    /// The failures its threshold allows, for its number of migrations.
    pub allowed: u64,
    /// Its migrations' names, in plan order.
    pub migrations: Vec<String>,
    pub counts: WaveCounts,
    /// Why the waves after it cannot start, once it stopped.
    pub reason: Option<String>,
}

impl WaveRow {
    /// A wave from the state's counts of its migrations (`block`: what it blocks on, if anything).
    pub fn new(
        wave: &crate::plan::valid::Wave,
        migrations: Vec<String>,
        counts: WaveCounts,
        block: Option<&WaveBlock>,
    ) -> WaveRow {
        let allowed = wave.max_failures.allowed(migrations.len());
        let state = WaveState::of(&counts, allowed);
        WaveRow {
            name: wave.name.clone(),
            state,
            threshold: wave.max_failures,
            allowed,
            migrations,
            counts,
            reason: block
                .filter(|_| state == WaveState::Stopped)
                .map(ToString::to_string),
        }
    }

    /// `Wave pilot (threshold 0): stopped`.
    fn heading(&self) -> String {
        format!(
            "Wave {} (threshold {}, {} allowed): {}",
            self.name,
            self.threshold,
            self.allowed,
            self.state.as_str().replace('_', " ")
        )
    }
}

/// Renders the report grouped by wave; without waves, exactly [`render`].
pub fn render_with_waves(rows: &[MigrationRow], waves: &[WaveRow], format: ReportFormat) -> String {
    if waves.is_empty() {
        return render(rows, format);
    }
    let groups = groups(rows, waves);
    match format {
        ReportFormat::Table => sections(&groups, waves, table::render, |wave| {
            format!("{}\n\n", printable(&wave.heading()))
        }),
        ReportFormat::Markdown => sections(&groups, waves, markdown::render, |wave| {
            format!("## {}\n\n", cell(&wave.heading()))
        }),
        ReportFormat::Json => json_report(rows, waves),
        ReportFormat::Junit => junit_report(&groups),
    }
}

/// Each wave's rows (a wave no row names is empty), then the rows of no wave, if any.
fn groups<'rows>(
    rows: &'rows [MigrationRow],
    waves: &'rows [WaveRow],
) -> Vec<(Option<&'rows WaveRow>, Vec<MigrationRow>)> {
    let mut groups: Vec<(Option<&WaveRow>, Vec<MigrationRow>)> = waves
        .iter()
        .map(|wave| {
            let members = rows
                .iter()
                .filter(|row| wave.migrations.contains(&row.name))
                .cloned()
                .collect();
            (Some(wave), members)
        })
        .collect();
    let outside: Vec<MigrationRow> = rows
        .iter()
        .filter(|row| !waves.iter().any(|wave| wave.migrations.contains(&row.name)))
        .cloned()
        .collect();
    if !outside.is_empty() {
        groups.push((None, outside));
    }
    groups
}

/// One section per wave (its heading, then its migrations as `section` renders them), and the
/// wave that stopped, with why.
fn sections(
    groups: &[(Option<&WaveRow>, Vec<MigrationRow>)],
    waves: &[WaveRow],
    section: fn(&[MigrationRow]) -> String,
    heading: impl Fn(&WaveRow) -> String,
) -> String {
    let mut out = String::new();
    for (wave, rows) in groups {
        match wave {
            Some(wave) => out.push_str(&heading(wave)),
            None => out.push_str("In no wave of this plan\n\n"),
        }
        out.push_str(&section(rows));
        out.push('\n');
    }
    if let Some(reason) = waves.iter().find_map(|wave| wave.reason.as_deref()) {
        let _ = writeln!(
            out,
            "The later waves do not start: {}",
            printable(reason).replace('\n', " ")
        );
    }
    out
}

/// The JSON report with each migration's `wave` and a `waves` array.
fn json_report(rows: &[MigrationRow], waves: &[WaveRow]) -> String {
    let mut document: Value = serde_json::from_str(&json::render(rows)).unwrap_or_default();
    if let Some(migrations) = document["migrations"].as_array_mut() {
        for migration in migrations {
            let wave = waves
                .iter()
                .find(|wave| {
                    migration["name"]
                        .as_str()
                        .is_some_and(|name| wave.migrations.iter().any(|member| member == name))
                })
                .map(|wave| wave.name.clone());
            migration["wave"] = json!(wave);
        }
    }
    document["waves"] = waves
        .iter()
        .map(|wave| {
            json!({
                "name": wave.name,
                "state": wave.state.as_str(),
                "max_failures": wave.threshold.to_string(),
                "allowed_failures": wave.allowed,
                "migrations": wave.migrations,
                "not_started": wave.counts.not_started,
                "running": wave.counts.running,
                "error": wave.counts.error,
                "success": wave.counts.success,
                "reason": wave.reason,
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

/// JUnit XML with one `<testsuite>` per wave inside `<testsuites>`.
fn junit_report(groups: &[(Option<&WaveRow>, Vec<MigrationRow>)]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<testsuites name=\"ferry\">\n");
    for (wave, rows) in groups {
        let name = wave.map_or("no wave", |wave| wave.name.as_str());
        out.push_str(&junit::suite(&escape_xml(&format!("wave {name}")), rows));
    }
    out.push_str("</testsuites>\n");
    out
}
