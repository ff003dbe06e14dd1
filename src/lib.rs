//! ferry: validate, run and report declarative cloud-migration plans.
//!
//! See `ARCHITECTURE.md` for the map. `main.rs` only parses arguments and maps the exit status.

pub mod cli;
pub mod commands;
pub mod exec;
pub mod plan;
pub mod report;
pub mod state;
