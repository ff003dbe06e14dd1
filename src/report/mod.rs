//! Everything ferry prints: diagnostics, progress, tables and reports. No other module writes to stdout or stderr.

pub mod progress;

/// Prints an error that stopped a command (exit status 2), with its cause chain.
pub fn print_command_error(report: &miette::Report) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{report:?}");
    }
}
