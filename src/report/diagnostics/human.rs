//! The human format: miette's graphical report for each diagnostic, then a one-line summary.
//!
//! Each diagnostic reads `error[unknown-mount]` (or `warning[...]`), the message, the source
//! snippet with every label, and the help. Plain-text secrets in the snippet are masked and
//! terminal controls escaped (see `redact`); names in messages are escaped too (`report::escape`).
//! A diagnostic miette cannot draw (a label past column 65,535 of a long line) is printed as
//! plain text with its line and column instead; nothing here panics. Output is deterministic: a
//! fixed width of 100 columns and no hyperlinks, so the plain variant can be snapshot-tested.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};

use super::line_index::LineIndex;
use super::redact::Redacted;
use super::{Summary, effective_severity, plural, severity_name};
use crate::plan::diagnostic::{Diagnostic, FileDiagnostics, Severity};
use crate::plan::yaml::{self, Limits};
use crate::report::escape::{printable, printable_lines};

/// The width the report is wrapped to, whatever the terminal.
pub const WIDTH: usize = 100;

/// Renders every diagnostic of every file, then the summary line. With `color`, miette's
/// Unicode theme with ANSI colours; without, plain ASCII art and no escape codes.
pub fn render(files: &[FileDiagnostics], deny_warnings: bool, color: bool) -> String {
    let (mut output, first_code) = render_diagnostics(files, deny_warnings, color);
    let summary = Summary::of(files, deny_warnings);
    output.push_str(&summary_line(&summary, color));
    output.push('\n');
    if let Some(code) = first_code {
        output.push_str(&format!(
            "For more about a code, run `ferry explain CODE`, such as `ferry explain {code}`.\n"
        ));
    }
    output
}

/// `--quiet`: the errors (with warnings counted as errors under `--deny-warnings`) and nothing
/// else: no warnings, no summary line, no hint; empty when there are no errors.
pub fn render_errors(files: &[FileDiagnostics], deny_warnings: bool, color: bool) -> String {
    let errors: Vec<FileDiagnostics> = files
        .iter()
        .map(|file| FileDiagnostics {
            path: file.path.clone(),
            source: file.source.clone(),
            diagnostics: file
                .diagnostics
                .iter()
                .filter(|diagnostic| {
                    effective_severity(diagnostic, deny_warnings) == Severity::Error
                })
                .cloned()
                .collect(),
        })
        .collect();
    render_diagnostics(&errors, deny_warnings, color).0
}

/// Every diagnostic drawn, each followed by a blank line, and the first code seen.
fn render_diagnostics(
    files: &[FileDiagnostics],
    deny_warnings: bool,
    color: bool,
) -> (String, Option<crate::plan::codes::Code>) {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::none()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(WIDTH)
        .with_links(false)
        .with_urls(false)
        .with_context_lines(1)
        .tab_width(4);
    let mut output = String::new();
    let mut first_code = None;
    for file in files {
        if file.diagnostics.is_empty() {
            continue;
        }
        // Parsed again for the `credentials` mappings whose values are masked (see `redact`).
        let tree = yaml::parse(&file.source, &Limits::default()).root;
        let redacted = Redacted::with_tree(&file.source, tree.as_ref());
        let index = LineIndex::new(&redacted.text);
        let path = printable(&file.path).into_owned();
        let source = Snippets {
            name: path.clone(),
            text: redacted.text.clone(),
        };
        for diagnostic in &file.diagnostics {
            first_code.get_or_insert(diagnostic.code);
            let report = Report {
                diagnostic,
                severity: effective_severity(diagnostic, deny_warnings),
                source: &source,
                labels: diagnostic
                    .labels
                    .iter()
                    .enumerate()
                    .map(|(position, label)| {
                        let span = displayable_span(&index, &redacted.text, &label.span, &redacted);
                        let message = (!label.message.is_empty())
                            .then(|| printable(&label.message).into_owned());
                        if position == 0 {
                            LabeledSpan::new_primary_with_span(message, span)
                        } else {
                            LabeledSpan::new_with_span(message, span)
                        }
                    })
                    .collect(),
            };
            let rendered = render_one(&handler, &report, &path, &index);
            output.push_str(&rendered);
            output.push('\n');
        }
    }
    (output, first_code)
}

/// `error: 3 errors and 1 warning in 2 files`, `warning: 1 warning in 1 file` or
/// `ok: 2 plans checked, no problems`.
pub fn summary_line(summary: &Summary, color: bool) -> String {
    let paint = |text: &str, code: &str| {
        if color {
            format!("\u{1b}[{code}m{text}\u{1b}[0m")
        } else {
            text.to_string()
        }
    };
    let files = plural(summary.files_with_problems, "file", "files");
    if summary.errors > 0 {
        let errors = plural(summary.errors, "error", "errors");
        let counts = if summary.warnings > 0 {
            format!(
                "{errors} and {}",
                plural(summary.warnings, "warning", "warnings")
            )
        } else {
            errors
        };
        format!("{}: {counts} in {files}", paint("error", "1;31"))
    } else if summary.warnings > 0 {
        let warnings = plural(summary.warnings, "warning", "warnings");
        format!("{}: {warnings} in {files}", paint("warning", "1;33"))
    } else {
        let plans = plural(summary.files, "plan", "plans");
        format!("{}: {plans} checked, no problems", paint("ok", "1;32"))
    }
}

/// How far into its line miette may find a label: it pads to a label's column with a format
/// width, and a width above 65,535 panics. Columns are counted generously (two per character,
/// four per tab, for wide characters and tab stops), so a label this far in is shown plainly.
const MAX_LABEL_COLUMN: usize = 30_000;

/// One diagnostic as miette draws it; as a plain message with line and column when miette
/// cannot draw it (a label too far into a long line, or miette failing or panicking).
fn render_one(
    handler: &GraphicalReportHandler,
    report: &Report<'_>,
    path: &str,
    index: &LineIndex<'_>,
) -> String {
    let text = report.source.text.as_str();
    let too_far = report.labels.iter().any(|label| {
        let start = label.offset();
        label_column(text, start) > MAX_LABEL_COLUMN
            || label_column(text, start + label.len()) > MAX_LABEL_COLUMN
    });
    if too_far {
        return plain_report(report, path, index);
    }
    let drawn = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut rendered = String::new();
        handler
            .render_report(&mut rendered, report)
            .map(|()| rendered)
    }));
    match drawn {
        Ok(Ok(rendered)) => rendered,
        Ok(Err(_)) | Err(_) => plain_report(report, path, index),
    }
}

/// A generous count of the columns before an offset on its line (see [`MAX_LABEL_COLUMN`]).
fn label_column(text: &str, offset: usize) -> usize {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line_start = before
        .rfind(['\n', '\r'])
        .map_or(0, |position| position + 1);
    before[line_start..]
        .chars()
        .map(|character| if character == '\t' { 4 } else { 2 })
        .sum()
}

/// A label's span in the masked text, clamped, and moved off the empty line after a final line
/// break, which miette would not show: a label at the very end points at the end of the last line.
fn displayable_span(
    index: &LineIndex<'_>,
    text: &str,
    span: &std::ops::Range<usize>,
    redacted: &Redacted,
) -> std::ops::Range<usize> {
    let span = index.clamp_span(&redacted.map_span(span));
    if span.start == text.len() {
        let end_of_last_line = text.trim_end_matches(['\n', '\r']).len();
        return end_of_last_line..end_of_last_line;
    }
    span
}

/// A last resort when miette cannot render a snippet: the header, message, the place of every
/// label (line and column, in characters) with its message, and the help, as text.
fn plain_report(report: &Report<'_>, path: &str, index: &LineIndex<'_>) -> String {
    let mut text = format!("{}: {}\n", report.header(), report.message());
    for label in &report.labels {
        let position = index.position(label.offset());
        text.push_str(&format!(
            "  --> {path}:{}:{}",
            position.line, position.column
        ));
        if let Some(message) = label.label() {
            text.push_str(&format!(": {message}"));
        }
        text.push('\n');
    }
    if let Some(help) = report.help() {
        text.push_str(&format!("  help: {help}\n"));
    }
    text
}

/// The (masked) text of one file, named, for miette to cut snippets from. It differs from
/// miette's `NamedSource` in one way: the column in a snippet's `[file:line:column]` header
/// counts characters, as the other formats do, where miette counts bytes.
struct Snippets {
    name: String,
    text: String,
}

impl SourceCode for Snippets {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents =
            self.text
                .as_str()
                .read_span(span, context_lines_before, context_lines_after)?;
        // miette reports a column only when it reads no lines before the span.
        let column = if contents.column() == 0 {
            0
        } else {
            let offset = span.offset().min(self.text.len());
            let before = self.text.get(..offset).unwrap_or_default();
            let line_start = before
                .rfind(['\n', '\r'])
                .map_or(0, |position| position + 1);
            before[line_start..].chars().count()
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            *contents.span(),
            contents.line(),
            column,
            contents.line_count(),
        )))
    }
}

/// Adapts a ferry diagnostic to miette's `Diagnostic` trait for one rendering.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    severity: Severity,
    source: &'a Snippets,
    labels: Vec<LabeledSpan>,
}

impl Report<'_> {
    /// The message, escaped (it quotes names from the plan).
    fn message(&self) -> String {
        printable_lines(self.diagnostic.message.trim_end()).into_owned()
    }

    /// The help, escaped.
    fn help(&self) -> Option<String> {
        let help = self.diagnostic.help.as_deref()?;
        Some(printable_lines(help).into_owned())
    }

    /// `error[unknown-mount]`, rustc style; miette prints it above the message.
    fn header(&self) -> String {
        format!(
            "{}[{}]",
            severity_name(self.severity),
            self.diagnostic.code.as_str()
        )
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Report")
            .field("code", &self.diagnostic.code)
            .field("severity", &self.severity)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message())
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.header()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Report::help(self).map(|help| Box::new(help) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
}

#[cfg(test)]
mod tests;
