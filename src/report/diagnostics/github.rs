//! The GitHub format: one workflow command per diagnostic, which GitHub Actions shows as an
//! annotation on the file and line.
//!
//! `::error file=F,line=L,col=C,endLine=L,endColumn=C,title=CODE::MESSAGE` (`::warning` for
//! warnings that are not denied). Columns are given only when the span starts and ends on one
//! line, as GitHub supports columns only then; a diagnostic without a label annotates the file.
//! Other labels and the help follow the message on their own lines. Terminal controls in names
//! are escaped (`report::escape`), as CI logs interpret them.

use super::line_index::LineIndex;
use super::{effective_severity, severity_name};
use crate::plan::diagnostic::FileDiagnostics;
use crate::report::escape::{printable, printable_lines};

/// One workflow command per diagnostic, each on its own line.
pub fn render(files: &[FileDiagnostics], deny_warnings: bool) -> String {
    let mut output = String::new();
    for file in files {
        let index = LineIndex::new(&file.source);
        for diagnostic in &file.diagnostics {
            // GitHub matches the path against the repository's files, always with `/`.
            let path = printable(&file.path.replace('\\', "/")).into_owned();
            let mut properties = vec![format!("file={}", escape_property(&path))];
            if let Some(span) = diagnostic.primary_span() {
                let range = index.range(&span);
                properties.push(format!("line={}", range.start.line));
                if range.start.line == range.end.line {
                    properties.push(format!("col={}", range.start.column));
                }
                properties.push(format!("endLine={}", range.end.line));
                if range.start.line == range.end.line {
                    properties.push(format!("endColumn={}", range.end.column));
                }
            }
            properties.push(format!(
                "title={}",
                escape_property(diagnostic.code.as_str())
            ));

            // A CI log shows terminal controls too: they are escaped as in the human format.
            let mut message = printable_lines(diagnostic.message.trim_end()).into_owned();
            for label in diagnostic
                .labels
                .iter()
                .filter(|label| !label.message.is_empty())
            {
                let position = index.range(&label.span).start;
                message.push_str(&format!(
                    "\n{}:{}: {}",
                    position.line,
                    position.column,
                    printable_lines(&label.message)
                ));
            }
            if let Some(help) = &diagnostic.help {
                message.push_str(&format!("\nhelp: {}", printable_lines(help)));
            }

            output.push_str(&format!(
                "::{} {}::{}\n",
                severity_name(effective_severity(diagnostic, deny_warnings)),
                properties.join(","),
                escape_data(&message)
            ));
        }
    }
    output
}

/// Escapes a workflow command's message.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::diagnostics::fixtures::{
        awkward_file, clean_file, sample_files, warning_only_files,
    };

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&sample_files(), false));
    }

    #[test]
    fn awkward_snapshot() {
        insta::assert_snapshot!(render(&[awkward_file()], false));
    }

    #[test]
    fn one_line_per_diagnostic() {
        let output = render(&sample_files(), false);
        let lines: Vec<&str> = output.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with(
            "::warning file=plans/production.yaml,line=7,col=17,endLine=7,endColumn=24,title=plaintext-password::"
        ), "{}", lines[0]);
        assert!(lines[1].starts_with("::error "), "{}", lines[1]);
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escape_data("50% done\r\nnext: a,b"),
            "50%25 done%0D%0Anext: a,b"
        );
        assert_eq!(escape_property("C:\\a,b%\n"), "C%3A\\a%2Cb%25%0A");
    }

    #[test]
    fn denied_warnings_become_errors() {
        assert!(render(&warning_only_files(), true).starts_with("::error "));
        assert!(render(&warning_only_files(), false).starts_with("::warning "));
    }

    #[test]
    fn no_diagnostics_print_nothing() {
        assert_eq!(render(&[clean_file()], false), "");
    }

    #[test]
    fn terminal_controls_in_names_are_escaped() {
        let mut file = clean_file();
        file.path = "p\u{1b}[2J.yaml".to_string();
        file.diagnostics = vec![
            crate::plan::diagnostic::Diagnostic::new(
                crate::plan::codes::Code::UnknownMount,
                "mount `e\u{1b}]0;OWNED\u{7}` \u{202e}",
            )
            .with_label(0..1, "here \u{9b}")
            .with_help("help \u{1b}"),
        ];
        let output = render(&[file], false);
        for raw in ['\u{1b}', '\u{7}', '\u{202e}', '\u{9b}'] {
            assert!(!output.contains(raw), "raw {raw:?} in {output}");
        }
        assert!(output.contains("file=p\\u{1b}[2J.yaml"), "{output}");
        assert!(
            output.contains("mount `e\\u{1b}]0;OWNED\\u{7}` \\u{202e}"),
            "{output}"
        );
    }
}
