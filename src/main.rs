//! The `ferry` binary: parse arguments, run the command, map its outcome to an exit code.

use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use ferry::cli::Cli;
use ferry::commands::{ExitStatus, dispatch};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let status = match dispatch(cli) {
        Ok(status) => status,
        Err(report) => {
            ferry::report::print_command_error(&report);
            ExitStatus::CommandError
        }
    };
    ExitCode::from(match status {
        ExitStatus::Success => 0,
        ExitStatus::Failure => 1,
        ExitStatus::CommandError | ExitStatus::Pending => 2,
        ExitStatus::Interrupted => 130,
    })
}
