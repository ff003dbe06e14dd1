//! Renders the diagnostics of `ferry check` in every output format (human, JSON, GitHub, SARIF).
//!
//! Each format is a pure function from the diagnostics to the text to print, so tests can
//! snapshot it; [`print_check_output`] is the only function here that writes to stdout.

pub mod github;
pub mod human;
pub mod json;
pub mod line_index;
mod redact;
pub mod sarif;

use std::io::Write;

use crate::options::CheckFormat;
use crate::plan::diagnostic::{Diagnostic, FileDiagnostics, Severity};

pub use line_index::{LineIndex, Position, PositionRange};

/// Renders every file's diagnostics in one format. `color` only matters for `Human`
/// (colour and Unicode box drawing when true, plain ASCII when false).
pub fn render(
    files: &[FileDiagnostics],
    format: CheckFormat,
    deny_warnings: bool,
    color: bool,
) -> String {
    match format {
        CheckFormat::Human => human::render(files, deny_warnings, color),
        CheckFormat::Json => json::render(files, deny_warnings),
        CheckFormat::Github => github::render(files, deny_warnings),
        CheckFormat::Sarif => sarif::render(files, deny_warnings),
    }
}

/// Prints the rendered diagnostics to stdout, coloured as [`crate::report::color`] decides (the
/// human format only). Under `--quiet` the human format prints only the errors; the other formats
/// are documents and print whole.
pub fn print_check_output(
    files: &[FileDiagnostics],
    format: CheckFormat,
    deny_warnings: bool,
) -> std::io::Result<()> {
    let color = stdout_wants_color();
    let text = if format == CheckFormat::Human && crate::report::quiet() {
        human::render_errors(files, deny_warnings, color)
    } else {
        render(files, format, deny_warnings, color)
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // `ferry check plan.yaml | head` is not an error.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Whether stdout is coloured (`--color`, the environment, the terminal: see
/// [`crate::report::color`]).
pub fn stdout_wants_color() -> bool {
    crate::report::color::stdout()
}

/// The severity a diagnostic is shown with: warnings become errors under `--deny-warnings`.
pub fn effective_severity(diagnostic: &Diagnostic, deny_warnings: bool) -> Severity {
    if deny_warnings {
        Severity::Error
    } else {
        diagnostic.severity
    }
}

/// Counts over all files, after `--deny-warnings` is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    /// Files with at least one diagnostic.
    pub files_with_problems: usize,
    /// Files checked.
    pub files: usize,
}

impl Summary {
    pub fn of(files: &[FileDiagnostics], deny_warnings: bool) -> Self {
        let mut summary = Summary {
            files: files.len(),
            ..Summary::default()
        };
        for file in files {
            if !file.diagnostics.is_empty() {
                summary.files_with_problems += 1;
            }
            for diagnostic in &file.diagnostics {
                match effective_severity(diagnostic, deny_warnings) {
                    Severity::Error => summary.errors += 1,
                    Severity::Warning => summary.warnings += 1,
                }
            }
        }
        summary
    }

    /// Whether `ferry check` fails (exit status 1): any error, counting denied warnings.
    pub fn has_errors(&self) -> bool {
        self.errors > 0
    }
}

/// The severity's lowercase name, as every format spells it.
pub fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// `1 error`, `2 errors`.
pub(crate) fn plural(count: usize, singular: &str, plural: &str) -> String {
    if count == 1 {
        format!("{count} {singular}")
    } else {
        format!("{count} {plural}")
    }
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod property_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use fixtures::sample_files;

    #[test]
    fn summary_counts_and_deny_warnings() {
        let files = sample_files();
        let summary = Summary::of(&files, false);
        assert_eq!(
            summary,
            Summary {
                errors: 3,
                warnings: 1,
                files_with_problems: 2,
                files: 3
            }
        );
        assert!(summary.has_errors());
        let denied = Summary::of(&files, true);
        assert_eq!((denied.errors, denied.warnings), (4, 0));
    }

    #[test]
    fn warnings_alone_do_not_fail_unless_denied() {
        let files = fixtures::warning_only_files();
        assert!(!Summary::of(&files, false).has_errors());
        assert!(Summary::of(&files, true).has_errors());
    }

    #[test]
    fn render_dispatches_to_each_format() {
        let files = sample_files();
        assert!(render(&files, CheckFormat::Json, false, false).starts_with("{\"version\":1"));
        assert!(render(&files, CheckFormat::Github, false, false).starts_with("::"));
        assert!(render(&files, CheckFormat::Sarif, false, false).contains("\"2.1.0\""));
        assert!(render(&files, CheckFormat::Human, false, false).contains("error[unknown-mount]"));
    }
}
