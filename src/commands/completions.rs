//! `ferry completions SHELL` and `ferry man`: the shell completion scripts and the man page,
//! generated from the command-line definition in `cli` so they never drift from it.

use clap::CommandFactory;
use miette::IntoDiagnostic;

use crate::cli::Cli;
use crate::commands::ExitStatus;
use crate::report;

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> miette::Result<ExitStatus> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "ferry", &mut script);
    report::print_document(&String::from_utf8_lossy(&script));
    Ok(ExitStatus::Success)
}

/// Prints the man page `ferry(1)` in roff: the synopsis, the global options, and every
/// subcommand with its summary (each one's options are in `ferry help SUBCOMMAND`).
pub fn man() -> miette::Result<ExitStatus> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .into_diagnostic()?;
    report::print_document(&String::from_utf8_lossy(&page));
    Ok(ExitStatus::Success)
}
