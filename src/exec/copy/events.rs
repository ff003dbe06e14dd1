//! What the copy engine reports while it works (`ProgressEvent`) and where it sends it (`ProgressSink`); the engine never prints.

use std::fmt;
use std::sync::Arc;

/// One thing that happened during a migration's copy. `report::progress` renders these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressEvent {
    /// The source listing finished: what the selected mounts hold.
    ScanFinished {
        migration: String,
        files: u64,
        bytes: u64,
    },
    /// A mount's copy started, with the files and bytes its source holds.
    MountStarted {
        migration: String,
        mount: String,
        files: u64,
        bytes: u64,
    },
    /// Bytes moved from source to target (sent often, while files are copied).
    Transferred {
        migration: String,
        bytes: u64,
    },
    /// A resumed file's bytes that an earlier run already copied.
    Resumed {
        migration: String,
        path: String,
        bytes: u64,
    },
    /// A file was copied and verified.
    FileCopied {
        migration: String,
        path: String,
        bytes: u64,
    },
    /// A file was already on the target, unchanged since it was copied.
    FileUnchanged {
        migration: String,
        path: String,
        bytes: u64,
    },
    /// A file could not be copied; the migration fails at its end.
    FileFailed {
        migration: String,
        path: String,
        message: String,
    },
    /// A file or symlink the scan listed was deleted from the source before it was copied.
    Vanished {
        migration: String,
        path: String,
    },
    /// A socket, device or FIFO on the source that ferry does not copy.
    SpecialSkipped {
        migration: String,
        path: String,
    },
    /// A target entry that no longer exists on the source was removed.
    Removed {
        migration: String,
        path: String,
    },
    MountFinished {
        migration: String,
        mount: String,
    },
}

/// Where the engine sends its events: a cheap, cloneable callback that may be called from several tasks.
#[derive(Clone)]
pub struct ProgressSink {
    callback: Option<Arc<dyn Fn(ProgressEvent) + Send + Sync>>,
}

impl ProgressSink {
    pub fn new(callback: impl Fn(ProgressEvent) + Send + Sync + 'static) -> Self {
        Self {
            callback: Some(Arc::new(callback)),
        }
    }

    /// A sink that drops every event.
    pub fn none() -> Self {
        Self { callback: None }
    }

    pub fn emit(&self, event: ProgressEvent) {
        if let Some(callback) = &self.callback {
            callback(event);
        }
    }

    /// Whether anyone listens (lets the engine skip building events nobody reads).
    pub fn is_active(&self) -> bool {
        self.callback.is_some()
    }
}

impl Default for ProgressSink {
    fn default() -> Self {
        Self::none()
    }
}

impl fmt::Debug for ProgressSink {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ProgressSink")
            .field("active", &self.is_active())
            .finish()
    }
}
