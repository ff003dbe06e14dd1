//! A command error with every message of its chain escaped, for [`super::print_command_error`].

use std::fmt;

use crate::report::escape::printable_lines;

/// A copy of a diagnostic's message, code, help and severity, and of its causes' messages, with
/// terminal controls escaped.
#[derive(Debug)]
pub(super) struct Escaped {
    message: String,
    code: Option<String>,
    help: Option<String>,
    severity: Option<miette::Severity>,
    source: Option<Box<Escaped>>,
}

impl Escaped {
    pub(super) fn of(diagnostic: &(dyn miette::Diagnostic + Send + Sync + 'static)) -> Self {
        let escape = |text: &dyn fmt::Display| printable_lines(&text.to_string()).into_owned();
        let mut causes = Vec::new();
        let mut cause = std::error::Error::source(diagnostic);
        while let Some(error) = cause {
            causes.push(escape(error));
            cause = error.source();
        }
        let source = causes.into_iter().rev().fold(None, |source, message| {
            Some(Box::new(Escaped {
                message,
                code: None,
                help: None,
                severity: None,
                source,
            }))
        });
        Escaped {
            message: escape(diagnostic),
            code: diagnostic.code().map(|code| escape(&code)),
            help: diagnostic.help().map(|help| escape(&help)),
            severity: diagnostic.severity(),
            source,
        }
    }
}

impl fmt::Display for Escaped {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for Escaped {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

impl miette::Diagnostic for Escaped {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code
            .as_ref()
            .map(|code| Box::new(code) as Box<dyn fmt::Display + 'a>)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display + 'a>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        self.severity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error, miette::Diagnostic)]
    #[error("cannot copy `e\u{1b}]0;OWNED\u{7}x.txt`")]
    #[diagnostic(code(ferry::copy), help("look at `\u{202e}`"))]
    struct Copy {
        #[source]
        source: std::io::Error,
    }

    #[test]
    fn the_message_its_causes_and_its_help_are_escaped() {
        let report = miette::Report::new(Copy {
            source: std::io::Error::other("server said \u{1b}[2J"),
        });
        let escaped = Escaped::of(report.as_ref());
        let text = format!("{:?}", miette::Report::new(escaped));
        for raw in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(!text.contains(raw), "raw {raw:?} in {text}");
        }
        let escaped = Escaped::of(report.as_ref());
        assert_eq!(escaped.message, "cannot copy `e\\u{1b}]0;OWNED\\u{7}x.txt`");
        assert_eq!(escaped.help.as_deref(), Some("look at `\\u{202e}`"));
        assert_eq!(escaped.code.as_deref(), Some("ferry::copy"));
        let cause = escaped
            .source
            .as_deref()
            .map(|cause| cause.message.as_str());
        assert_eq!(cause, Some("server said \\u{1b}[2J"));
    }
}
