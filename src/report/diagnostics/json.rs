//! The JSON format: one versioned document with every diagnostic and the counts.
//!
//! Shape (version 1, keys in this order):
//! `{"version":1,"diagnostics":[{"code","severity","message","file","labels":[{"line","column",
//! "end_line","end_column","message"}],"help"}],"summary":{"errors":N,"warnings":N}}`.
//! Lines and columns are 1-based; columns count Unicode characters (code points); `end_line` and
//! `end_column` are the exclusive end of the span. The first label is the primary one. `help` is
//! `null` when absent. Under `--deny-warnings`, warnings are reported and counted as errors.

use serde::Serialize;

use super::line_index::LineIndex;
use super::{Summary, effective_severity, severity_name};
use crate::plan::diagnostic::FileDiagnostics;

/// The format's version; bumped on any incompatible change.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: &'static str,
    message: &'a str,
    file: &'a str,
    labels: Vec<JsonLabel<'a>>,
    help: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonSummary {
    errors: usize,
    warnings: usize,
}

/// One compact line of JSON, ending with a newline.
pub fn render(files: &[FileDiagnostics], deny_warnings: bool) -> String {
    let mut diagnostics = Vec::new();
    for file in files {
        let index = LineIndex::new(&file.source);
        for diagnostic in &file.diagnostics {
            let labels = diagnostic
                .labels
                .iter()
                .map(|label| {
                    let range = index.range(&label.span);
                    JsonLabel {
                        line: range.start.line,
                        column: range.start.column,
                        end_line: range.end.line,
                        end_column: range.end.column,
                        message: &label.message,
                    }
                })
                .collect();
            diagnostics.push(JsonDiagnostic {
                code: diagnostic.code.as_str(),
                severity: severity_name(effective_severity(diagnostic, deny_warnings)),
                message: &diagnostic.message,
                file: &file.path,
                labels,
                help: diagnostic.help.as_deref(),
            });
        }
    }
    let summary = Summary::of(files, deny_warnings);
    let document = Document {
        version: VERSION,
        diagnostics,
        summary: JsonSummary {
            errors: summary.errors,
            warnings: summary.warnings,
        },
    };
    // Serialising these plain structs cannot fail; keep a valid document if it ever did.
    let mut text = serde_json::to_string(&document).unwrap_or_else(|error| {
        format!(
            "{{\"version\":{VERSION},\"error\":{:?}}}",
            error.to_string()
        )
    });
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::diagnostics::fixtures::{clean_file, sample_files, warning_only_files};

    fn parse(text: &str) -> serde_json::Value {
        assert!(
            text.ends_with('\n') && !text.trim_end().contains('\n'),
            "one line: {text}"
        );
        serde_json::from_str(text).expect("valid JSON")
    }

    #[test]
    fn snapshot() {
        let output = render(&sample_files(), false);
        let value = parse(&output);
        insta::assert_json_snapshot!(value);
    }

    #[test]
    fn keys_are_in_the_documented_order() {
        let output = render(&sample_files(), false);
        assert!(output.starts_with(
            "{\"version\":1,\"diagnostics\":[{\"code\":\"plaintext-password\",\"severity\":\"warning\",\"message\":"
        ), "{output}");
        assert!(output.contains(
            "\"labels\":[{\"line\":7,\"column\":17,\"end_line\":7,\"end_column\":24,\"message\":\"plain-text password\"}],\"help\":"
        ), "{output}");
        assert!(
            output.ends_with("\"summary\":{\"errors\":3,\"warnings\":1}}\n"),
            "{output}"
        );
    }

    #[test]
    fn columns_count_characters_and_crlf_does_not_shift_lines() {
        let value = parse(&render(&sample_files(), false));
        let staging = &value["diagnostics"][3];
        assert_eq!(staging["file"], "plans\\staging.yaml");
        assert_eq!(staging["help"], serde_json::Value::Null);
        let label = &staging["labels"][0];
        // `  - source: wéb-02` on line 5: the name starts at column 13 and `wéb-02` is 6
        // characters (7 bytes) long.
        assert_eq!(
            (
                &label["line"],
                &label["column"],
                &label["end_line"],
                &label["end_column"]
            ),
            (&5.into(), &13.into(), &5.into(), &19.into())
        );
    }

    #[test]
    fn denied_warnings_become_errors() {
        let value = parse(&render(&warning_only_files(), true));
        assert_eq!(value["diagnostics"][0]["severity"], "error");
        assert_eq!(
            value["summary"],
            serde_json::json!({"errors": 1, "warnings": 0})
        );
    }

    #[test]
    fn no_diagnostics() {
        assert_eq!(
            render(&[clean_file()], false),
            "{\"version\":1,\"diagnostics\":[],\"summary\":{\"errors\":0,\"warnings\":0}}\n"
        );
    }
}
