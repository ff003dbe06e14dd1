//! Opening the state file safely (never clobbering a foreign file) and sharing its connection between threads.
//!
//! Durability: WAL with `synchronous=NORMAL`. A commit is in the WAL file when the call returns,
//! so a `kill -9` loses nothing; only a power cut can lose the last commits, and every record
//! here is safe to lose that way (a lost file record means the file is copied again, a lost
//! `success` means the migration runs and verifies again).

use std::fs::DirBuilder;
use std::io::Read;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::state::error::StateError;
use crate::state::schema::{self, APPLICATION_ID, SCHEMA_VERSION};
use crate::state::unsynced::current_boot_id;

/// How long a writer waits for another process's write to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The first 16 bytes of every SQLite 3 database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// The state store. Cheap to clone; clones share one connection. `Send + Sync`.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    connection: Mutex<Connection>,
    /// This system's boot ID, when it has one (see `state::unsynced`).
    boot: Option<String>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Store")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl Store {
    /// Opens the state file, creating it (mode 0600, parent folders 0700) when it does not exist.
    pub fn open(path: &Path) -> Result<Store, StateError> {
        if !path.exists() {
            create_file(path)?;
        }
        Self::open_existing(path)
    }

    /// Opens a state file that must already exist ([`StateError::Missing`] otherwise).
    pub fn open_existing(path: &Path) -> Result<Store, StateError> {
        check_header(path)?;
        Self::open_checked(path)
    }

    /// Opens a file whose header was checked (or that ferry is creating), upgrading its schema.
    fn open_checked(path: &Path) -> Result<Store, StateError> {
        let io_error = |source| StateError::Io {
            path: path.to_path_buf(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut connection = Connection::open_with_flags(path, flags)
            .map_err(|error| io_error(std::io::Error::other(error.to_string())))?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        let not_ferry = |reason: String| StateError::NotFerryDatabase {
            path: path.to_path_buf(),
            reason,
        };
        let identity =
            schema::identify(&connection).map_err(|error| not_ferry(error.to_string()))?;
        let fresh = identity.user_version == 0 && identity.objects == 0;
        if !fresh && identity.application_id != APPLICATION_ID {
            return Err(not_ferry(
                "it is an SQLite database that another program made".to_string(),
            ));
        }
        if identity.user_version > SCHEMA_VERSION {
            return Err(StateError::TooNew {
                path: path.to_path_buf(),
                found: identity.user_version,
                supported: SCHEMA_VERSION,
            });
        }
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.pragma_update(None, "foreign_keys", true)?;
        schema::upgrade(&mut connection)?;
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                connection: Mutex::new(connection),
                boot: current_boot_id(),
            }),
        })
    }

    /// Opens an existing state file read-only (`ferry plan`): no schema upgrade, no pragma that
    /// writes; a file of an older or newer schema is refused rather than changed.
    pub fn open_read_only(path: &Path) -> Result<Store, StateError> {
        check_header(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection =
            Connection::open_with_flags(path, flags).map_err(|error| StateError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::other(error.to_string()),
            })?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        let not_ferry = |reason: String| StateError::NotFerryDatabase {
            path: path.to_path_buf(),
            reason,
        };
        let identity =
            schema::identify(&connection).map_err(|error| not_ferry(error.to_string()))?;
        if identity.application_id != APPLICATION_ID || identity.user_version < SCHEMA_VERSION {
            return Err(not_ferry(
                "it is not a ferry state database of this version; `ferry run` or `ferry state list` upgrades it".to_string(),
            ));
        }
        if identity.user_version > SCHEMA_VERSION {
            return Err(StateError::TooNew {
                path: path.to_path_buf(),
                found: identity.user_version,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                connection: Mutex::new(connection),
                boot: current_boot_id(),
            }),
        })
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The boot ID of the running system, when known: records of files not yet durable are
    /// trusted only during the boot that wrote them.
    pub fn boot(&self) -> Option<&str> {
        self.inner.boot.as_deref()
    }

    /// The same store, as if the system had been restarted since (`boot` is the new boot ID):
    /// for tests of what a restart does to records of files that were not durable.
    #[cfg(test)]
    pub(crate) fn as_if_booted(&self, boot: &str) -> Store {
        let reopened = Store::open_existing(&self.inner.path).expect("reopen the state file");
        let inner = Arc::into_inner(reopened.inner).expect("a store just opened is not shared");
        Store {
            inner: Arc::new(Inner {
                boot: Some(boot.to_string()),
                ..inner
            }),
        }
    }

    /// The connection, for one operation. A panic in another thread cannot leave a transaction
    /// open (rusqlite rolls back on drop), so a poisoned lock is safe to reuse.
    pub(crate) fn connection(&self) -> MutexGuard<'_, Connection> {
        self.inner
            .connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Creates a new state file whole, readable only by its owner, and its missing parent folders
/// (0700). The database is built under a temporary name beside the state's path and linked into
/// place only once its schema is written, so ferry never leaves an empty file at the state's
/// path: an empty state file was truncated by something else, and is refused.
fn create_file(path: &Path) -> Result<(), StateError> {
    let io_error = |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    };
    let parent = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(parent)
        .map_err(io_error)?;
    // tempfile creates it with mode 0600.
    let building = tempfile::Builder::new()
        .prefix(".ferry-state-")
        .suffix(".creating")
        .tempfile_in(parent)
        .map_err(io_error)?;
    drop(Store::open_checked(building.path())?);
    match building.persist_noclobber(path) {
        Ok(_) => Ok(()),
        // Another process created it first: open it as it is (the temporary file is deleted).
        Err(error) if error.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(io_error(error.error)),
    }
}

/// Refuses anything that is not an SQLite file before SQLite sees it, an empty file included:
/// ferry never leaves one (see [`create_file`]), so an empty state file lost its content.
fn check_header(path: &Path) -> Result<(), StateError> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(StateError::Missing {
                path: path.to_path_buf(),
            });
        }
        Err(source) => {
            return Err(StateError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let metadata = file.metadata().map_err(|source| StateError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !metadata.is_file() {
        return Err(StateError::NotFerryDatabase {
            path: path.to_path_buf(),
            reason: "it is not a regular file".to_string(),
        });
    }
    let mut header = Vec::with_capacity(SQLITE_HEADER.len());
    (&mut file)
        .take(SQLITE_HEADER.len() as u64)
        .read_to_end(&mut header)
        .map_err(|source| StateError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if header.is_empty() {
        Err(StateError::NotFerryDatabase {
            path: path.to_path_buf(),
            reason: "it is empty: ferry never leaves an empty state file, so this one lost its content; restore it from a backup (`ferry state import`), or delete it to start with no records".to_string(),
        })
    } else if header == SQLITE_HEADER {
        Ok(())
    } else {
        Err(StateError::NotFerryDatabase {
            path: path.to_path_buf(),
            reason: "it is not an SQLite file".to_string(),
        })
    }
}
