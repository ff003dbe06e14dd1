//! The `ferry` binary: parse arguments, run the command, map its outcome to an exit code.

use std::ffi::OsString;
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use ferry::cli::{Cli, Command};
use ferry::commands::{ExitStatus, dispatch};

fn main() -> ExitCode {
    // Until file data moves (see `ferry::allocator`).
    ferry::allocator::purge_at_once();
    let arguments: Vec<OsString> = std::env::args_os().collect();
    let (status, detailed_exitcode) = match Cli::try_parse_from(&arguments) {
        Ok(cli) => {
            let detailed_exitcode =
                matches!(&cli.command, Command::Plan(plan) if plan.detailed_exitcode);
            let status = dispatch(cli).unwrap_or_else(|report| {
                ferry::report::print_command_error(&report);
                ExitStatus::CommandError
            });
            (status, detailed_exitcode)
        }
        // A usage error, or `--help`/`--version` (which clap reports as an "error" to print).
        Err(error) => {
            let status = if ferry::report::print_usage(&error) {
                ExitStatus::CommandError
            } else {
                ExitStatus::Success
            };
            (status, asks_detailed_exitcode(&arguments))
        }
    };
    ExitCode::from(status.code(detailed_exitcode))
}

/// Whether the arguments clap refused ask for `--detailed-exitcode` (before any `--`): then a bad
/// flag exits 1, not 2, which would read as "work pending".
fn asks_detailed_exitcode(arguments: &[OsString]) -> bool {
    arguments
        .iter()
        .skip(1)
        .take_while(|argument| *argument != "--")
        .any(|argument| argument == "--detailed-exitcode")
}
