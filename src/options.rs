//! The options the engine and the reports take (verification, durability, output formats, colour),
//! independent of how they are given: `cli` derives its flags from these types.
//!
//! The layering rule: `exec`, `report` and `state` import these from here, never from `cli`
//! (`cli` is the outermost layer; only `commands` reads it). `clap::ValueEnum` is derived here so
//! that each value's help text is written once.

use clap::ValueEnum;

/// When to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The output of `ferry plan` and `ferry state list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Text for people.
    Human,
    /// One versioned JSON document (fields in README).
    Json,
}

/// How `ferry check` (and the commands that refuse a plan) print diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Graphical reports with source snippets, coloured as `--color` says.
    Human,
    /// One versioned JSON document.
    Json,
    /// GitHub Actions workflow-command annotations.
    Github,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
}

/// How each copied file is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyMode {
    /// Read every written file back and compare its BLAKE3 hash with the source's.
    Full,
    /// Compare sizes only after writing (the source is still hashed while read).
    Size,
}

/// When a copied file is recorded as done, relative to the target holding it on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Durability {
    /// Record a file only once the target holds it durably: the run ends with every byte on disk.
    Wait,
    /// Local targets: record a file once written and verified, and leave the writing to disk to
    /// the system (as cp, rsync and rclone do). Until a later run has synced them, such records are
    /// trusted only while the system has not restarted; after a restart the files are copied again.
    Defer,
}

/// The format of a run's report (`ferry run --report-format`, `ferry report --format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Junit,
    Markdown,
}
