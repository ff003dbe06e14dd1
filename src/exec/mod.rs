//! Executing a `ValidPlan`: moving, verifying and recording the selected mounts' data.

pub mod ledger;
pub mod transport;
