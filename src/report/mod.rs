//! Everything ferry prints: diagnostics, progress, tables and reports. No other module writes to stdout or stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod color;
mod command_error;
pub mod diagnostics;
pub mod escape;
pub mod explain;
pub mod plan_view;
pub mod progress;
pub mod readiness;
pub mod run_output;
pub mod run_report;
pub mod state_view;

/// Whether `--quiet` was given: print errors and the documents commands exist to produce (a
/// listing, a report, an export, a JSON document), and nothing else (see README, "Quiet").
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Records `--quiet` for the whole process.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
}

/// Whether `--quiet` was given.
pub fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// Prints an error that stopped a command (exit status 2), with its cause chain. The messages
/// carry paths, names and servers' words: they are escaped (see [`escape`]) before miette lays
/// them out, so its own styling stays intact.
pub fn print_command_error(report: &miette::Report) {
    let escaped = miette::Report::new(command_error::Escaped::of(report.as_ref()));
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{escaped:?}");
    }
}

/// Prints clap's message for arguments it did not parse: a usage error on stderr, or the help
/// or version text asked for on stdout. Returns whether it was an error.
pub fn print_usage(error: &clap::Error) -> bool {
    // A closed pipe (`ferry --help | head`) is not an error worth reporting.
    let _ = error.print();
    error.use_stderr()
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
