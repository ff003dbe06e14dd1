//! The command-line interface: every subcommand, flag and its help text (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::options::{
    CheckFormat, ColorChoice, Durability, OutputFormat, ReportFormat, VerifyMode,
};

/// Run declarative cloud-migration plans: validate them, copy and verify the selected
/// mounts, keep state, and report.
#[derive(Debug, Parser)]
#[command(name = "ferry", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub output: OutputOptions,
    #[command(subcommand)]
    pub command: Command,
}

/// How much ferry says and whether it colours it; accepted before or after any subcommand.
#[derive(Debug, Clone, Copy, Args)]
pub struct OutputOptions {
    /// Print only errors: no warnings, progress, summaries or confirmations. What a command exists
    /// to print (a listing, a report, a JSON document) is still printed.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// When to colour the output. `auto`: on a terminal, unless NO_COLOR is set; FORCE_COLOR or
    /// CLICOLOR_FORCE colour even into a pipe.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate plans against the schema and the domain rules, reporting every problem at once.
    Check(CheckArgs),
    /// Explain a diagnostic code, with a wrong and a fixed example.
    Explain(ExplainArgs),
    /// Print the plan format's JSON Schema (draft 2020-12).
    Schema,
    /// Run every migration of a plan that has not yet succeeded.
    Run(RunArgs),
    /// Show what `ferry run` would do, moving no data.
    Plan(PlanArgs),
    /// Report the migrations recorded in state.
    Report(ReportArgs),
    /// Read, export, import and delete the objects in the state store.
    State(StateArgs),
    /// Print a shell completion script to stdout.
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout.
    Man,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Where the state lives; shared by every command that reads or writes it.
#[derive(Debug, Clone, Args)]
pub struct StateLocation {
    /// The state: a SQLite file, or a `postgres://` URL for state a team shares.
    #[arg(
        long = "state",
        global = true,
        env = "FERRY_STATE",
        default_value = ".ferry/state.db",
        value_name = "PATH"
    )]
    pub path: PathBuf,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The plans to check: files; folders, for every `*.yaml` and `*.yml` file below them; or `-`
    /// for the plan on stdin.
    #[arg(required = true, value_name = "PLAN")]
    pub plans: Vec<PathBuf>,
    /// How to print the diagnostics.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
    /// Treat warnings as errors (exit status 1).
    #[arg(long)]
    pub deny_warnings: bool,
    /// With `--format sarif`: file locations are relative to this folder (the repository's
    /// root, for GitHub code scanning); a plan outside it gets an absolute `file://` URI.
    /// Defaults to the working directory.
    #[arg(long, value_name = "DIR")]
    pub sarif_root: Option<PathBuf>,
    /// Also connect to every source and target, prove the credentials, and check that the
    /// selected mounts are readable and the targets have room. Copies nothing.
    #[arg(long)]
    pub connect: bool,
    /// With `--connect`: the seconds allowed per source or target, connection and checks together.
    #[arg(long, default_value_t = 20, value_name = "SECONDS", requires = "connect", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub connect_timeout: u64,
    #[command(flatten)]
    pub state: StateLocation,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The code to explain, such as `unknown-mount`.
    #[arg(required_unless_present = "list", value_name = "CODE")]
    pub code: Option<String>,
    /// List every code with its one-line summary.
    #[arg(long, conflicts_with = "code")]
    pub list: bool,
}

/// What a run may do with data in a target that ferry did not write (by default it refuses).
#[derive(Debug, Clone, Copy, Args)]
pub struct ExistingDataArgs {
    /// Keep data in the target that ferry did not write: copy the source over same-named files,
    /// delete nothing ferry did not write, and from then on own only what ferry copied.
    #[arg(long, conflicts_with = "mirror")]
    pub adopt_existing: bool,
    /// Make each selected target mount exactly the source, deleting what the source lacks even
    /// when ferry did not write it (like `rsync --delete`). Never touches anything outside the
    /// selected mounts.
    #[arg(long)]
    pub mirror: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The plan to run.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// Run only the named migrations (repeatable).
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,
    /// Run only this wave; refused while an earlier wave has not finished within its threshold.
    #[arg(long, value_name = "NAME")]
    pub wave: Option<String>,
    /// How many migrations run at once.
    #[arg(long, default_value_t = 2, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,
    /// How many files each migration copies at once.
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub transfers: u16,
    /// Limit the total bandwidth of the run (all migrations together), such as `50MiB` (per second).
    #[arg(long, value_name = "RATE")]
    pub bwlimit: Option<String>,
    /// How each copied file is verified.
    #[arg(long, value_enum, default_value_t = VerifyMode::Full)]
    pub verify: VerifyMode,
    /// When a copied file counts as done: once on disk, or once written (local targets).
    #[arg(long, value_enum, default_value_t = Durability::Wait)]
    pub durability: Durability,
    #[command(flatten)]
    pub existing: ExistingDataArgs,
    /// The format of the report printed at the end.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub report_format: ReportFormat,
    /// Write the report to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub report_output: Option<PathBuf>,
    #[command(flatten)]
    pub state: StateLocation,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The plan to preview.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// Exit 0 when there is nothing to do, 2 when work is pending, 1 on errors.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// How to print the preview.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub existing: ExistingDataArgs,
    #[command(flatten)]
    pub state: StateLocation,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Group the report by this plan's waves, with each wave's state.
    #[arg(long, value_name = "PLAN")]
    pub plan: Option<PathBuf>,
    /// Write the report to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub state: StateLocation,
}

#[derive(Debug, Args)]
pub struct StateArgs {
    #[command(subcommand)]
    pub command: StateCommand,
    #[command(flatten)]
    pub state: StateLocation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateKind {
    Source,
    Target,
    Migration,
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the recorded sources, targets and migrations.
    List {
        /// Only this kind of object.
        #[arg(long, value_enum)]
        kind: Option<StateKind>,
        /// How to print the listing.
        #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
        format: OutputFormat,
    },
    /// Show one object, with its history (a migration's claims: which runner ran it, when).
    Show {
        #[arg(value_enum)]
        kind: StateKind,
        name: String,
        /// How to print it (JSON: a migration's record with its storage, lock and `hooks`).
        #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
        format: OutputFormat,
    },
    /// Forget an object (a source forgets its recorded IP; a migration its copied files).
    Rm {
        #[arg(value_enum)]
        kind: StateKind,
        name: String,
        /// Also forget the migrations that use the source or target (with their copied files).
        #[arg(long)]
        force: bool,
    },
    /// Write the whole state as JSON (to stdout, or a file).
    Export {
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Merge a JSON export into the state (or replace it). Refused whole if it would change a
    /// recorded source IP.
    Import {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Make the state exactly the export, forgetting everything it lacks.
        #[arg(long)]
        replace: bool,
    },
}
