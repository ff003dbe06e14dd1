//! The report of a run that never started (an unreadable or invalid plan, missing secrets, a
//! state that cannot open): the reasons in every report format, so that a CI page shows why.
//!
//! JUnit: a `ferry check` test suite with one failed test case per error, named by its code.
//! JSON: the run report's document with no migrations and an `errors` list. Markdown and the
//! table: a "the run did not start" section listing the errors.

use std::fmt::Write;

use serde_json::json;

use crate::options::ReportFormat;
use crate::plan::diagnostic::{FileDiagnostics, Severity};
use crate::report::diagnostics::line_index::LineIndex;
use crate::report::escape::printable;
use crate::report::run_report::junit::escape_xml;
use crate::report::run_report::{REPORT_VERSION, counts, markdown};

/// One reason a run did not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartError {
    /// A diagnostic code (`ferry explain CODE`), or `command-error` for a command's own error.
    pub code: String,
    pub message: String,
    /// The plan file, when the error is in one; with a 1-based line and column when it points
    /// into the file's text.
    pub file: Option<String>,
    pub position: Option<(usize, usize)>,
}

/// The code of a command's own error (not a plan diagnostic) in the report.
pub const COMMAND_ERROR_CODE: &str = "command-error";

impl StartError {
    /// The errors of a refused plan (warnings did not refuse it and are left out).
    pub fn of_plan(file: &FileDiagnostics) -> Vec<StartError> {
        let index = LineIndex::new(&file.source);
        file.diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.severity == Severity::Error)
            .map(|diagnostic| StartError {
                code: diagnostic.code.as_str().to_string(),
                message: diagnostic.message.clone(),
                file: Some(file.path.clone()),
                position: diagnostic.primary_span().map(|span| {
                    let position = index.position(span.start);
                    (position.line, position.column)
                }),
            })
            .collect()
    }

    /// A command error that stopped the run before it started, with its causes.
    pub fn of_command(report: &miette::Report) -> StartError {
        let message = report
            .chain()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(": ");
        StartError {
            code: COMMAND_ERROR_CODE.to_string(),
            message,
            file: None,
            position: None,
        }
    }

    /// `plan.yaml:3:5: message`, or the message alone.
    fn located_message(&self) -> String {
        match (&self.file, self.position) {
            (Some(file), Some((line, column))) => {
                format!("{file}:{line}:{column}: {}", self.message)
            }
            (Some(file), None) => format!("{file}: {}", self.message),
            _ => self.message.clone(),
        }
    }
}

/// Renders the report of a run that did not start, in `format`.
pub fn render(errors: &[StartError], format: ReportFormat) -> String {
    match format {
        ReportFormat::Table => render_text(errors),
        ReportFormat::Json => render_json(errors),
        ReportFormat::Junit => render_junit(errors),
        ReportFormat::Markdown => render_markdown(errors),
    }
}

const HEADING: &str = "The run did not start";

fn render_text(errors: &[StartError]) -> String {
    let plural = if errors.len() == 1 { "" } else { "s" };
    let mut out = format!("{HEADING}: {} error{plural}\n", errors.len());
    for error in errors {
        let _ = writeln!(
            out,
            "  error[{}]: {}",
            printable(&error.code),
            printable(&error.located_message())
        );
    }
    out
}

fn render_json(errors: &[StartError]) -> String {
    let mut summary = serde_json::Map::new();
    summary.insert("total".to_string(), json!(0));
    for (state, count) in counts(&[]) {
        summary.insert(state.as_str().to_string(), json!(count));
    }
    let errors: Vec<_> = errors
        .iter()
        .map(|error| {
            json!({
                "code": error.code,
                "message": error.message,
                "file": error.file,
                "line": error.position.map(|(line, _)| line),
                "column": error.position.map(|(_, column)| column),
            })
        })
        .collect();
    let document = json!({
        "version": REPORT_VERSION,
        "summary": summary,
        "migrations": [],
        "errors": errors,
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

fn render_junit(errors: &[StartError]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuite name=\"ferry check\" tests=\"{0}\" failures=\"{0}\" errors=\"0\" skipped=\"0\" time=\"0.000\">",
        errors.len()
    );
    for error in errors {
        let _ = writeln!(
            out,
            "  <testcase classname=\"ferry.check\" name=\"{}\" time=\"0.000\">\n    <failure message=\"{}\" type=\"error\">{}</failure>\n  </testcase>",
            escape_xml(&error.code),
            escape_xml(&error.message),
            escape_xml(&error.located_message())
        );
    }
    out.push_str("</testsuite>\n");
    out
}

fn render_markdown(errors: &[StartError]) -> String {
    let mut out = format!("### ferry migrations\n\n❌ {HEADING}.\n\n| Code | Error |\n|---|---|\n");
    for error in errors {
        let _ = writeln!(
            out,
            "| {} | {} |",
            markdown::code(&error.code),
            markdown::cell(&error.located_message())
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hostile() -> Vec<StartError> {
        vec![
            StartError {
                code: "missing-secret".to_string(),
                message: "password of `a|b` <x> & \u{1b}[31mred\u{1b}[0m\nnext".to_string(),
                file: Some("plan.yaml".to_string()),
                position: Some((3, 5)),
            },
            StartError {
                code: COMMAND_ERROR_CODE.to_string(),
                message: "no migration named `web-1`".to_string(),
                file: None,
                position: None,
            },
        ]
    }

    #[test]
    fn every_format_names_each_error_and_escapes_its_text() {
        let errors = hostile();
        for format in [
            ReportFormat::Table,
            ReportFormat::Json,
            ReportFormat::Junit,
            ReportFormat::Markdown,
        ] {
            let text = render(&errors, format);
            assert!(!text.contains('\u{1b}'), "{format:?}: {text}");
            assert!(text.contains("missing-secret"), "{format:?}: {text}");
            assert!(text.contains(COMMAND_ERROR_CODE), "{format:?}: {text}");
        }
        let junit = render(&errors, ReportFormat::Junit);
        assert!(junit.contains("name=\"ferry check\" tests=\"2\" failures=\"2\""));
        assert!(junit.contains("&lt;x&gt; &amp;"), "{junit}");
        assert!(junit.contains("plan.yaml:3:5: "), "{junit}");
        let markdown = render(&errors, ReportFormat::Markdown);
        assert!(markdown.contains("a\\|b"), "{markdown}");
        assert_eq!(
            markdown
                .lines()
                .filter(|line| line.starts_with("| "))
                .count(),
            3
        );
        let json: serde_json::Value =
            serde_json::from_str(&render(&errors, ReportFormat::Json)).expect("JSON");
        assert_eq!(json["errors"][0]["line"], 3);
        assert_eq!(json["errors"][1]["file"], serde_json::Value::Null);
        assert_eq!(json["migrations"], serde_json::json!([]));
    }
}
