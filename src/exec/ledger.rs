//! The copy engine's ledger of copied files, under the name the engine uses: it is the state
//! backend's [`crate::state::ledger::Ledger`] (defined in `state`, so that `state` never imports `exec`).

pub use crate::state::ledger::{FileRecord, Ledger, LedgerError, PartialRecord, SYMLINK_RECORD};
