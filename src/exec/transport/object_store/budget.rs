//! The process-wide budget for upload buffers: every part being filled or sent holds a reservation,
//! so memory stays bounded however many files, transfers and migrations upload at once.
//!
//! Reservations are counted in KiB. A writer reserves a whole part (or the rest of the file, when
//! that is smaller) before it fills a buffer, and the reservation travels with the part until the
//! server acknowledges it. Because a buffer never waits for a second reservation while it holds a
//! first, writers cannot deadlock each other: every holder is either filling (which needs no more
//! memory) or sending (which finishes on its own).

use std::sync::{Arc, LazyLock};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::PollSemaphore;

/// The most memory all uploads' part buffers may hold at once: six 5 MiB parts. On loopback the
/// server, not the number of parts in flight, is the limit (80 MiB measured no faster), and the
/// read-back of `--transfers 8` needs room beside it under the 150 MiB bound.
pub const UPLOAD_MEMORY_BUDGET: usize = 30 << 20;

const UNIT: usize = 1024;
const BUDGET_UNITS: usize = UPLOAD_MEMORY_BUDGET / UNIT;

static BUDGET: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(BUDGET_UNITS)));

/// A handle on the process-wide budget that a writer can poll for reservations.
pub(super) fn handle() -> PollSemaphore {
    PollSemaphore::new(BUDGET.clone())
}

/// How many units a buffer of `bytes` reserves: rounded up, at least one, at most the whole budget
/// (a part larger than the budget takes all of it and waits until it is free).
pub(super) fn units_for(bytes: usize) -> u32 {
    let units = bytes.div_ceil(UNIT).clamp(1, BUDGET_UNITS);
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// Bytes reserved right now by every upload in this process (for tests and diagnostics).
pub fn reserved_bytes() -> usize {
    (BUDGET_UNITS - BUDGET.available_permits()) * UNIT
}

/// A reservation held by a buffer or a part in flight; released when dropped.
pub(super) type Reservation = OwnedSemaphorePermit;

#[cfg(test)]
mod tests {
    use super::{BUDGET_UNITS, UPLOAD_MEMORY_BUDGET, units_for};

    #[test]
    fn reservations_round_up_and_never_exceed_the_budget() {
        assert_eq!(units_for(0), 1);
        assert_eq!(units_for(1), 1);
        assert_eq!(units_for(1024), 1);
        assert_eq!(units_for(1025), 2);
        assert_eq!(units_for(5 << 20), 5120);
        assert_eq!(units_for(UPLOAD_MEMORY_BUDGET * 4), BUDGET_UNITS as u32);
    }
}
