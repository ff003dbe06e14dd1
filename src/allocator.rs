//! When freed memory goes back to the system: at once while a run only scans, mimalloc's own
//! delay once file data moves.
//!
//! A scan (listings growing, the ledger's rows decoded, `decide`'s sets) frees many short-lived
//! buffers before its peak; purging them at once keeps a no-op re-run of 10,000 files under
//! 30 MiB. Copying frees and reallocates the same buffers all the time (SSH packets, upload
//! parts, chunks read back); purging those at once costs an `madvise` and fresh page faults per
//! reuse, which slowed an SFTP download by a fifth (bench/README.md, "Where the memory goes").
//! So `main` purges at once from the start, and the copy engine calls [`data_moves`] before its
//! first transfer, which restores mimalloc's delay for the rest of the process.
//!
//! Harmless when mimalloc is not the global allocator (the library's tests): its options are
//! then read by nobody. `MIMALLOC_PURGE_DELAY`, mimalloc's own variable, overrides both.

use std::os::raw::c_long;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// mimalloc's `mi_option_purge_delay` (`mimalloc.h`; the bindings name no constant for it).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc's delay as [`purge_at_once`] found it (its default), for [`data_moves`] to restore.
static DEFAULT_DELAY: OnceLock<c_long> = OnceLock::new();
/// Whether [`data_moves`] has run.
static MOVING: AtomicBool = AtomicBool::new(false);

fn set_by_environment() -> bool {
    std::env::var_os("MIMALLOC_PURGE_DELAY").is_some()
}

/// Freed pages go back to the system at once (call first thing in `main`).
pub fn purge_at_once() {
    purge_at_once_keeping(&DEFAULT_DELAY);
}

/// File data starts to move: freed pages are kept for reuse again, for mimalloc's usual delay,
/// from now on. Cheap after the first call.
pub fn data_moves() {
    restore_delay(&MOVING, &DEFAULT_DELAY);
}

fn purge_at_once_keeping(default_delay: &OnceLock<c_long>) {
    if set_by_environment() {
        return;
    }
    // SAFETY: reads and sets one of mimalloc's options, which it keeps in atomics.
    unsafe {
        let delay = libmimalloc_sys::mi_option_get(PURGE_DELAY);
        let _ = default_delay.set(delay);
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
    }
}

fn restore_delay(moving: &AtomicBool, default_delay: &OnceLock<c_long>) {
    if moving.swap(true, Ordering::Relaxed) {
        return;
    }
    let Some(&delay) = default_delay.get() else {
        // `purge_at_once` never ran (a library user, or the environment chose).
        return;
    };
    // SAFETY: sets one of mimalloc's options, which it keeps in atomics.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, delay) };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With its own flags: the copy engine's tests call `data_moves` on the process's, which do
    /// nothing there since `purge_at_once` never ran in this test binary.
    #[test]
    fn data_moving_restores_the_delay_purge_at_once_replaced() {
        if set_by_environment() {
            return;
        }
        // SAFETY: reads an option; mimalloc is not this test binary's allocator.
        let get = || unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        let (moving, default_delay) = (AtomicBool::new(false), OnceLock::new());
        let before = get();
        assert_ne!(before, 0, "mimalloc's default delays purging");
        purge_at_once_keeping(&default_delay);
        assert_eq!(get(), 0);
        restore_delay(&moving, &default_delay);
        assert_eq!(get(), before);
        // Once data moved, purging stays delayed.
        purge_at_once_keeping(&OnceLock::new());
        restore_delay(&moving, &default_delay);
        assert_eq!(get(), 0, "a second restore does nothing");
        restore_delay(&AtomicBool::new(false), &default_delay);
        assert_eq!(get(), before);
    }
}
