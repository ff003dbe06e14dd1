//! Executing a `ValidPlan`: moving, verifying and recording the selected mounts' data.

pub mod connect;
pub mod copy;
pub mod hooks;
pub mod ledger;
pub mod memory_ledger;
pub mod preflight;
pub mod runner;
pub mod secrets;
pub mod small_file;
pub mod transport;
