//! Shared test support: the `ferry` command builder.

pub mod command;
