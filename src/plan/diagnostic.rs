//! The diagnostic value every check produces: a code, a severity, a message, labelled spans and a hint.

use std::ops::Range;

use crate::plan::codes::Code;

/// How serious a diagnostic is. Warnings become errors under `--deny-warnings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A byte range in one plan file, with the text to show beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Byte offsets into the file's text (not characters).
    pub span: Range<usize>,
    pub message: String,
}

impl Label {
    pub fn new(span: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            span,
            message: message.into(),
        }
    }
}

/// One problem found in one plan file. The first label is the primary one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity and no labels yet.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: code.default_severity(),
            message: message.into(),
            labels: Vec::new(),
            help: None,
        }
    }

    pub fn with_label(mut self, span: Range<usize>, message: impl Into<String>) -> Self {
        self.labels.push(Label::new(span, message));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The primary span, used for sorting and for one-line formats.
    pub fn primary_span(&self) -> Option<Range<usize>> {
        self.labels.first().map(|label| label.span.clone())
    }
}

/// Everything found in one file, with the text the spans point into.
#[derive(Debug, Clone)]
pub struct FileDiagnostics {
    /// The path as the user gave it (shown in every output format).
    pub path: String,
    /// The file's text. Non-UTF-8 input is converted lossily; spans stay valid because the
    /// valid prefix keeps its byte offsets.
    pub source: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl FileDiagnostics {
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.severity == severity)
            .count()
    }

    /// Sorts by position (then code) so output is stable whatever order the checks ran in,
    /// and drops exact repeats (two layers reporting the same thing at the same place).
    pub fn normalize(&mut self) {
        self.diagnostics.sort_by(|a, b| {
            let key = |d: &Diagnostic| (d.primary_span().map_or(0, |s| s.start), d.code.as_str());
            key(a).cmp(&key(b))
        });
        self.diagnostics
            .dedup_by(|a, b| a.code == b.code && a.primary_span() == b.primary_span());
    }
}
