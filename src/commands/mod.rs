//! One function per subcommand: each wires the plan, exec, state and report modules together and returns an exit status.

use crate::cli::{Cli, Command};

pub mod check;
pub mod completions;
pub mod explain;
pub mod plan;
pub mod report;
pub mod run;
pub mod schema;
pub mod state;

/// What a command's outcome means for the process exit code. `main` maps it, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything worked: no errors, nothing pending.
    Success,
    /// The command worked and found problems: check errors, failed migrations, not ready.
    Failure,
    /// The command itself could not work: a missing file, a bad flag, an unreadable state.
    CommandError,
    /// `ferry plan --detailed-exitcode`: the plan is valid and work is pending.
    Pending,
    /// Interrupted by Ctrl-C (SIGINT); the state is recorded and resumable.
    Interrupted,
    /// Stopped by SIGTERM (a CI cancel, a pod stop), handled as Ctrl-C; resumable.
    Terminated,
}

impl ExitStatus {
    /// The process exit code: the one mapping, documented in the README's "Exit status".
    /// Under `plan --detailed-exitcode`, 2 means work pending and nothing else, so a command
    /// error exits 1 there, as with `terraform plan -detailed-exitcode`.
    pub fn code(self, detailed_exitcode: bool) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::CommandError if detailed_exitcode => 1,
            ExitStatus::CommandError | ExitStatus::Pending => 2,
            ExitStatus::Interrupted => 130,
            ExitStatus::Terminated => 143,
        }
    }
}

/// Runs the chosen subcommand.
pub fn dispatch(cli: Cli) -> miette::Result<ExitStatus> {
    crate::report::set_quiet(cli.output.quiet);
    crate::report::color::set_choice(cli.output.color);
    match cli.command {
        Command::Explain(args) => explain::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Schema => Ok(schema::run()),
        Command::Run(args) => run::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Report(args) => report::run(args),
        Command::State(args) => state::run(args),
        Command::Completions(args) => completions::completions(args.shell),
        Command::Man => completions::man(),
    }
}
