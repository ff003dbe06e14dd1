//! The one integration-test binary: runs the real `ferry` (and the real test servers) end to end.

// A build without a backend feature leaves its server helpers unused.
#[cfg_attr(not(all(feature = "sftp", feature = "object-store")), allow(dead_code))]
mod support;

mod check;
mod cli;
mod deploy;
mod every_problem;
mod exit_status;
mod explain;
#[cfg(feature = "postgres")]
mod fleet;
mod hermetic;
#[cfg(feature = "sftp")]
mod host_keys;
#[cfg(feature = "object-store")]
mod object_store;
mod preflight;
mod run;
mod sarif;
mod schema_for_editors;
mod secret_files;
#[cfg(feature = "sftp")]
mod sftp;
mod state;
#[cfg(feature = "postgres")]
mod state_postgres;
mod untrusted;
