//! Shared test support: the `ferry` command builder and the real test servers.

pub mod command;
pub mod junit;
pub mod servers;
