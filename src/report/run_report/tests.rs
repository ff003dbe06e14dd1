//! Snapshot and property tests of the four report formats, on fixed rows.

use jiff::Timestamp;

use crate::options::ReportFormat;
use crate::report::run_report::{MigrationRow, junit::escape_xml, render};
use crate::state::MigrationState;

fn at(text: &str) -> Option<Timestamp> {
    Some(text.parse().expect("test timestamp"))
}

/// One migration in each state, with names and an error that need escaping.
pub(crate) fn sample_rows() -> Vec<MigrationRow> {
    let base = MigrationRow {
        name: String::new(),
        source: String::new(),
        target: String::new(),
        cloud: "aws".to_string(),
        mounts: Vec::new(),
        state: MigrationState::NotStarted,
        attempts: 0,
        files: 0,
        bytes: 0,
        skipped_files: 0,
        skipped_bytes: 0,
        started_at: None,
        finished_at: None,
        error: None,
        error_retryable: None,
        vanished: Vec::new(),
        runner: None,
        held_by: None,
        hooks: Vec::new(),
    };
    vec![
        MigrationRow {
            name: "web-01".to_string(),
            source: "web-01".to_string(),
            target: "aws-web".to_string(),
            mounts: vec!["C:\\".to_string(), "D:\\".to_string()],
            state: MigrationState::Success,
            attempts: 1,
            files: 12_345,
            bytes: 42 << 30,
            skipped_files: 45,
            skipped_bytes: 2 << 30,
            started_at: at("2025-03-01T10:00:00Z"),
            finished_at: at("2025-03-01T11:02:03Z"),
            // Deleted from the source while it copied; one name carries a terminal escape.
            vanished: ["C/evil\u{1b}[2J|`x`<b>".to_string()]
                .into_iter()
                .chain((0..12).map(|index| format!("D/tmp/session-{index:02}")))
                .collect(),
            ..base.clone()
        },
        MigrationRow {
            name: "db <primary> & \"replica\"".to_string(),
            source: "db-01".to_string(),
            target: "azure-db".to_string(),
            cloud: "azure".to_string(),
            mounts: vec!["/".to_string(), "/var/lib/postgresql".to_string()],
            state: MigrationState::Error,
            attempts: 2,
            files: 812,
            bytes: 3 << 20,
            started_at: at("2025-03-01T10:00:00Z"),
            finished_at: at("2025-03-01T10:00:42.5Z"),
            error: Some(
                "sftp: read /var/lib/x|y: connection reset\nby peer <eof> 'quoted'".to_string(),
            ),
            error_retryable: Some(true),
            ..base.clone()
        },
        MigrationRow {
            name: "files-02".to_string(),
            source: "files-02".to_string(),
            target: "vsphere-files".to_string(),
            cloud: "vsphere".to_string(),
            mounts: vec!["/".to_string()],
            state: MigrationState::Running,
            attempts: 1,
            files: 10,
            bytes: 1000,
            started_at: at("2025-03-01T10:05:00Z"),
            ..base.clone()
        },
        MigrationRow {
            name: "app-03".to_string(),
            source: "app-03".to_string(),
            target: "vcloud-app".to_string(),
            cloud: "vcloud".to_string(),
            mounts: vec!["C:\\".to_string()],
            ..base
        },
    ]
}

#[test]
fn table_snapshot() {
    insta::assert_snapshot!(render(&sample_rows(), ReportFormat::Table));
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!(render(&sample_rows(), ReportFormat::Json));
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!(render(&sample_rows(), ReportFormat::Junit));
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(render(&sample_rows(), ReportFormat::Markdown));
}

#[test]
fn empty_reports_are_still_well_formed() {
    let json: serde_json::Value =
        serde_json::from_str(&render(&[], ReportFormat::Json)).expect("valid JSON");
    assert_eq!(json["version"], 1);
    assert_eq!(json["migrations"], serde_json::json!([]));
    let junit = render(&[], ReportFormat::Junit);
    assert!(junit.contains("<testsuite name=\"ferry\" tests=\"0\""));
    assert!(render(&[], ReportFormat::Table).contains("No migrations"));
}

#[test]
fn json_is_versioned_and_parses_back() {
    let json: serde_json::Value =
        serde_json::from_str(&render(&sample_rows(), ReportFormat::Json)).expect("valid JSON");
    assert_eq!(json["version"], 1);
    assert_eq!(json["summary"]["error"], 1);
    assert_eq!(json["migrations"][0]["state"], "success");
    assert_eq!(json["migrations"][0]["duration_seconds"], 3723.0);
    assert_eq!(json["migrations"][1]["error_retryable"], true);
}

#[test]
fn xml_escaping_covers_markup_quotes_and_invalid_characters() {
    assert_eq!(
        escape_xml("a<b>&\"c\"'d'\n\u{1}\u{7f}é"),
        "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;&#10;\u{fffd}\u{7f}é"
    );
}

#[test]
fn junit_has_balanced_elements_and_no_raw_markup_from_data() {
    let junit = render(&sample_rows(), ReportFormat::Junit);
    assert!(!junit.contains("db <primary>"));
    assert_eq!(junit.matches("<testcase ").count(), 4);
    assert_eq!(junit.matches("</testcase>").count(), 4);
    assert_eq!(junit.matches("<failure ").count(), 1);
    assert_eq!(junit.matches("<skipped ").count(), 2);
    // Every `<` starts a tag ferry wrote (data never adds one).
    let tags = junit.matches('<').count();
    let known = [
        "<?xml",
        "<testsuite",
        "</testsuite",
        "<testcase",
        "</testcase",
        "<failure",
        "</failure",
        "<skipped",
        "<system-out",
        "</system-out",
    ]
    .iter()
    .map(|tag| junit.matches(tag).count())
    .sum::<usize>();
    assert_eq!(tags, known);
}

#[test]
fn markdown_rows_keep_their_column_count() {
    let markdown = render(&sample_rows(), ReportFormat::Markdown);
    let rows: Vec<&str> = markdown
        .lines()
        .filter(|line| line.starts_with('|'))
        .collect();
    assert_eq!(rows.len(), 6);
    let columns = |line: &str| line.replace("\\|", "").matches('|').count();
    for row in &rows {
        assert_eq!(columns(row), columns(rows[0]), "{row}");
    }
}

#[test]
fn names_mounts_and_errors_are_escaped_in_the_table_and_markdown() {
    let mut rows = sample_rows();
    rows[0].name = "web\u{1b}]0;OWNED\u{7}".to_string();
    rows[0].mounts = vec!["C:\\\u{1b}[2J".to_string(), "/x\u{202e}".to_string()];
    rows[1].error = Some("cannot read `e\u{1b}[2Jx.txt`\u{9b}".to_string());
    for format in [ReportFormat::Table, ReportFormat::Markdown] {
        let text = render(&rows, format);
        for raw in ['\u{1b}', '\u{7}', '\u{202e}', '\u{9b}'] {
            assert!(!text.contains(raw), "{format:?}: raw {raw:?} in\n{text}");
        }
        assert!(text.contains("\\u{202e}"), "{format:?}:\n{text}");
    }
}

#[test]
fn a_fleets_report_names_who_ran_each_migration_and_who_holds_one_now() {
    let mut rows = sample_rows();
    // One runner alone: nothing more is said.
    for row in &mut rows {
        row.runner = Some("ops@build-7:4242".to_string());
    }
    assert!(!render(&rows, ReportFormat::Table).contains("Runners:"));
    rows[1].runner = Some("ci@runner-2:77".to_string());
    rows[2].held_by = Some("ci@runner-3:\u{1b}[2J".to_string());
    let table = render(&rows, ReportFormat::Table);
    assert!(
        table.contains("\nRunners:\n  web-01: ran by ops@build-7:4242\n"),
        "{table}"
    );
    assert!(
        table.contains("  files-02: held by ci@runner-3:"),
        "{table}"
    );
    assert!(!table.contains('\u{1b}'), "escaped: {table}");
    let json: serde_json::Value =
        serde_json::from_str(&render(&rows, ReportFormat::Json)).expect("JSON");
    assert_eq!(json["migrations"][1]["runner"], "ci@runner-2:77");
    assert_eq!(json["migrations"][2]["held_by"], "ci@runner-3:\u{1b}[2J");
    assert_eq!(json["migrations"][0]["held_by"], serde_json::Value::Null);
}

/// A migration whose `after` hook failed after two `before` runs: the report keeps the last run
/// of each phase, and its output's tail (with a fence and a terminal control) only in JSON and
/// Markdown.
fn row_with_hooks() -> MigrationRow {
    use crate::plan::valid::HookPhase;
    use crate::state::{HookRunOutcome, HookRunRecord};
    let run = |phase, command: &str, outcome, exit_code, tail: &str| HookRunRecord {
        attempt: 1,
        phase,
        command: command.to_string(),
        outcome,
        exit_code,
        duration_ms: 1200,
        tail: tail.to_string(),
        started_at: at("2024-05-01T12:00:00Z").expect("time"),
    };
    let mut row = sample_rows().remove(1);
    row.name = "app".to_string();
    row.with_hooks(&[
        run(
            HookPhase::Before,
            "stop-app",
            HookRunOutcome::Failed,
            Some(1),
            "old\n",
        ),
        run(
            HookPhase::Before,
            "stop-app",
            HookRunOutcome::Succeeded,
            Some(0),
            "stopped\n",
        ),
        run(
            HookPhase::After,
            "smoke-test --token ***",
            HookRunOutcome::TimedOut,
            None,
            "```\nchecking \u{1b}[31mred\n",
        ),
    ])
}

#[test]
fn hooks_in_every_format() {
    let rows = [row_with_hooks()];
    let formats = [
        ReportFormat::Table,
        ReportFormat::Json,
        ReportFormat::Junit,
        ReportFormat::Markdown,
    ];
    let text: Vec<String> = formats
        .iter()
        .map(|format| format!("== {format:?}\n{}", render(&rows, *format)))
        .collect();
    insta::assert_snapshot!(text.join("\n"));
}
