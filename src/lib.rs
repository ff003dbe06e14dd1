//! ferry: validate, run and report declarative cloud-migration plans.
//!
//! See `ARCHITECTURE.md` for the map. `main.rs` only parses arguments and maps the exit status.

// Only `report` prints (it allows these lints for itself).
#![warn(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

pub mod allocator;
pub mod cli;
pub mod commands;
pub mod exec;
pub mod options;
pub mod plan;
pub mod relative_path;
pub mod report;
pub mod state;
