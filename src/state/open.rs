//! Opening the state a `--state` value names: a path (the SQLite file, the default) or a
//! `postgres://` / `postgresql://` URL (the PostgreSQL store), as one `dyn StateBackend`.

use std::path::Path;
use std::sync::Arc;

use crate::state::backend::StateBackend;
use crate::state::error::StateError;
use crate::state::store::Store;

/// How a command opens the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create it when missing (`run`, `state import`).
    Create,
    /// It must exist (`report`, `state list|show|rm|export`, `check`).
    Existing,
    /// It must exist, and opening changes nothing in a file (`plan`). A database's schema is
    /// still created or upgraded on first use, as by every command.
    ReadOnly,
}

/// Whether `location` names a database server rather than a file.
pub fn is_database_url(location: &Path) -> bool {
    location.to_str().is_some_and(|value| {
        let lower = value.to_ascii_lowercase();
        lower.starts_with("postgres://") || lower.starts_with("postgresql://")
    })
}

/// Whether there is a state to read at `location`: a file that exists, or any database URL
/// (whether it answers is for [`open`] to say).
pub fn exists(location: &Path) -> bool {
    is_database_url(location) || location.exists()
}

/// Opens the state at `location`. Must run on a multi-thread tokio runtime, which then carries a
/// database connection for as long as the state is open. Errors name the URL only redacted.
pub async fn open(location: &Path, mode: OpenMode) -> Result<Arc<dyn StateBackend>, StateError> {
    if is_database_url(location) {
        return open_database(location).await;
    }
    let store = match mode {
        OpenMode::Create => Store::open(location)?,
        OpenMode::Existing => Store::open_existing(location)?,
        OpenMode::ReadOnly => Store::open_read_only(location)?,
    };
    Ok(Arc::new(store))
}

#[cfg(feature = "postgres")]
async fn open_database(location: &Path) -> Result<Arc<dyn StateBackend>, StateError> {
    use crate::state::postgres::{PostgresError, PostgresStore, parse_url};
    let value = location.to_str().unwrap_or_default();
    let url = parse_url(value).map_err(PostgresError::from)?;
    Ok(Arc::new(PostgresStore::open(&url).await?))
}

#[cfg(not(feature = "postgres"))]
async fn open_database(location: &Path) -> Result<Arc<dyn StateBackend>, StateError> {
    let _ = location;
    Err(StateError::Unsupported {
        what: "a PostgreSQL state: this ferry was built without the `postgres` feature".to_string(),
    })
}
