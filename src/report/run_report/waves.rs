//! The report of a plan with waves: its migrations grouped by wave, each wave's state, and the
//! wave that stops the later ones, with why. A plan without waves gets the plain report.

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
        ReportFormat::Table => sections(&groups, waves, table::render, |line| {
            format!("{}\n\n", printable(line))
        }),
        ReportFormat::Markdown => {
            let body = sections(&groups, waves, markdown_section, |line| {
                format!("#### {}\n\n", cell(line))
            });
            format!("{MARKDOWN_TITLE}{body}")
        }
        ReportFormat::Json => json_report(rows, waves),
        ReportFormat::Junit => junit_report(&groups),
    }
}

const MARKDOWN_TITLE: &str = "### ferry migrations\n\n";

/// One wave's Markdown table, under the report's one title.
fn markdown_section(rows: &[MigrationRow]) -> String {
    let text = markdown::render(rows);
    text.strip_prefix(MARKDOWN_TITLE)
        .map_or_else(|| text.clone(), str::to_string)
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
/// wave that stopped, with why. `line` escapes and shapes a line of text for the format.
fn sections(
    groups: &[(Option<&WaveRow>, Vec<MigrationRow>)],
    waves: &[WaveRow],
    section: fn(&[MigrationRow]) -> String,
    line: impl Fn(&str) -> String,
) -> String {
    let mut out = String::new();
    for (wave, rows) in groups {
        match wave {
            Some(wave) => out.push_str(&line(&wave.heading())),
            None => out.push_str(&line("In no wave of this plan")),
        }
        out.push_str(&section(rows));
        out.push('\n');
    }
    if let Some(reason) = waves.iter().find_map(|wave| wave.reason.as_deref()) {
        let stop = line(&format!("The later waves do not start: {reason}"));
        out.push_str(stop.trim_start_matches("#### ").trim_end());
        out.push('\n');
    }
    out
}

/// The JSON report with each migration's `wave` and a `waves` array.
/// Sets each migration's `wave` in a JSON document's `migrations` array: the name of the wave
/// (of `waves`, each a name and its members) that holds it, or null.
pub(crate) fn tag_migration_waves(document: &mut serde_json::Value, waves: &[(&str, &[String])]) {
    let Some(migrations) = document["migrations"].as_array_mut() else {
        return;
    };
    for migration in migrations {
        let wave = migration["name"].as_str().and_then(|name| {
            waves
                .iter()
                .find(|(_, members)| members.iter().any(|member| member == name))
                .map(|(wave, _)| *wave)
        });
        migration["wave"] = json!(wave);
    }
}

fn json_report(rows: &[MigrationRow], waves: &[WaveRow]) -> String {
    let mut document: Value = serde_json::from_str(&json::render(rows)).unwrap_or_default();
    let members: Vec<(&str, &[String])> = waves
        .iter()
        .map(|wave| (wave.name.as_str(), wave.migrations.as_slice()))
        .collect();
    tag_migration_waves(&mut document, &members);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::valid::Wave;
    use crate::report::run_report::tests::sample_rows;

    /// The sample rows in two waves: the pilot stopped by its error, the main wave not started.
    fn sample_waves(rows: &[MigrationRow]) -> Vec<WaveRow> {
        let names: Vec<String> = rows.iter().map(|row| row.name.clone()).collect();
        let (pilot, main) = names.split_at(2);
        let pilot_wave = Wave {
            name: "pilot <1>".to_string(),
            max_failures: Threshold::default(),
        };
        let main_wave = Wave {
            name: "main".to_string(),
            max_failures: Threshold::Percent(50.0),
        };
        let stopped = WaveCounts {
            error: 1,
            success: 1,
            failed_since: 1,
            ..WaveCounts::default()
        };
        let block = crate::exec::runner::waves::blocking(&pilot_wave, pilot.len(), &stopped);
        let waiting = WaveCounts::tally(main.len(), [], None);
        vec![
            WaveRow::new(&pilot_wave, pilot.to_vec(), stopped, block.as_ref()),
            WaveRow::new(&main_wave, main.to_vec(), waiting, None),
        ]
    }

    #[test]
    fn each_format_groups_by_wave_and_names_the_wave_that_stopped() {
        let rows = sample_rows();
        let waves = sample_waves(&rows);
        for format in [
            ReportFormat::Table,
            ReportFormat::Markdown,
            ReportFormat::Junit,
            ReportFormat::Json,
        ] {
            let name = format!("waves_{format:?}").to_lowercase();
            insta::assert_snapshot!(name, render_with_waves(&rows, &waves, format));
        }
    }

    #[test]
    fn without_waves_the_report_is_the_plain_one() {
        let rows = sample_rows();
        for format in [ReportFormat::Table, ReportFormat::Json] {
            assert_eq!(render_with_waves(&rows, &[], format), render(&rows, format));
        }
    }
}
