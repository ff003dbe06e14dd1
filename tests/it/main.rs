//! The one integration-test binary: runs the real `ferry` (and the real test servers) end to end.

mod support;

mod check;
mod cli;
mod every_problem;
mod exit_status;
mod explain;
mod hermetic;
mod host_keys;
mod object_store;
mod preflight;
mod run;
mod sarif;
mod schema_for_editors;
mod secret_files;
mod sftp;
mod state;
mod untrusted;
