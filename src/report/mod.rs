//! Everything ferry prints: diagnostics, progress, tables and reports. No other module writes to stdout or stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod diagnostics;
pub mod explain;
pub mod plan_view;
pub mod progress;
pub mod readiness;
pub mod run_output;
pub mod run_report;
pub mod state_view;

/// Prints an error that stopped a command (exit status 2), with its cause chain.
pub fn print_command_error(report: &miette::Report) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{report:?}");
    }
}

/// Prints a finished document (a schema, an export) to stdout as it is.
pub fn print_document(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`ferry schema | head`) is not an error worth reporting.
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

/// Control characters (a newline in a name or a server's message) would break a table's layout
/// and could rewrite the terminal: every table shows them escaped.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|character| {
            if character.is_control() {
                character.escape_default().collect::<Vec<_>>()
            } else {
                vec![character]
            }
        })
        .collect()
}
