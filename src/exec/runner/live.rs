//! A running migration's counters, kept from the engine's events and written to state with each
//! heartbeat, so `ferry report` shows a run's progress and an interrupted attempt what it did.

use std::sync::{Arc, Mutex};

use crate::exec::copy::ProgressEvent;
use crate::state::MigrationStats;

/// Shared between the progress sink (which counts) and the heartbeat (which records).
#[derive(Debug, Clone, Default)]
pub struct LiveStats {
    stats: Arc<Mutex<MigrationStats>>,
}

impl LiveStats {
    /// Counts verified files: copied ones, and unchanged ones (also as skipped).
    pub fn observe(&self, event: &ProgressEvent) {
        let mut stats = self
            .stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match event {
            ProgressEvent::FileCopied { bytes, .. } => {
                stats.files += 1;
                stats.bytes += bytes;
            }
            ProgressEvent::FileUnchanged { bytes, .. } => {
                stats.files += 1;
                stats.bytes += bytes;
                stats.skipped_files += 1;
                stats.skipped_bytes += bytes;
            }
            _ => {}
        }
    }

    pub fn snapshot(&self) -> MigrationStats {
        *self
            .stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copied_and_unchanged_files_are_counted_unchanged_ones_as_skipped() {
        let live = LiveStats::default();
        let migration = "web-01".to_string();
        let path = "C/a".to_string();
        live.observe(&ProgressEvent::FileCopied {
            migration: migration.clone(),
            path: path.clone(),
            bytes: 10,
        });
        live.observe(&ProgressEvent::FileUnchanged {
            migration: migration.clone(),
            path: path.clone(),
            bytes: 5,
        });
        live.observe(&ProgressEvent::Transferred {
            migration,
            bytes: 99,
        });
        let stats = live.snapshot();
        assert_eq!(
            (
                stats.files,
                stats.bytes,
                stats.skipped_files,
                stats.skipped_bytes
            ),
            (2, 15, 1, 5)
        );
    }
}
