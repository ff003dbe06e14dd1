//! Shared test support: the `ferry` command builder and the real test servers' addresses.

pub mod command;
pub mod servers;
