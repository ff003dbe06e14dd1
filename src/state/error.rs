//! The state store's error type: every failure names the file, object or rule involved, never a secret.

use std::path::PathBuf;

use jiff::Timestamp;

/// A recorded source IP that an operation would have changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpChange {
    pub source: String,
    pub recorded: String,
    pub requested: String,
}

impl std::fmt::Display for IpChange {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{} (recorded {}, import has {})",
            self.source, self.recorded, self.requested
        )
    }
}

/// Everything that can go wrong reading or writing the state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("there is no state file at {path} (nothing has run with this --state yet)")]
    Missing { path: PathBuf },

    #[error("cannot open the state file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path} is not a ferry state database ({reason}); it was left untouched")]
    NotFerryDatabase { path: PathBuf, reason: String },

    #[error(
        "the state file {path} has schema version {found}, but this ferry understands up to {supported}; upgrade ferry"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error("no {kind} named `{name}` in state")]
    NotFound { kind: &'static str, name: String },

    #[error(
        "source `{name}` is recorded with IP {recorded} (since {recorded_at}) and a source's IP never changes; refused {requested}. If this is a different machine, give it a new name, or forget the old record with `ferry state rm source {name}`"
    )]
    IpImmutable {
        name: String,
        recorded: String,
        requested: String,
        recorded_at: Timestamp,
    },

    #[error("IP {ip} is already recorded for source `{other}`; refused for source `{name}`")]
    IpRecordedElsewhere {
        ip: String,
        name: String,
        other: String,
    },

    #[error(
        "{kind} `{name}` is used by migration(s) {}; remove them first or use --force", .migrations.join(", ")
    )]
    InUse {
        kind: &'static str,
        name: String,
        migrations: Vec<String>,
    },

    #[error(
        "migration `{migration}` is locked by {owner} (pid {pid} on {host}, since {since}); wait for it to finish"
    )]
    Locked {
        migration: String,
        owner: String,
        host: String,
        pid: u32,
        since: Timestamp,
    },

    #[error(
        "import refused: it would change recorded source IPs: {}; nothing was imported", display_changes(.changes)
    )]
    ImportWouldChangeIp { changes: Vec<IpChange> },

    #[error("import refused: {reason}; nothing was imported")]
    ImportInvalid { reason: String },

    #[error("the state export has version {found}; this ferry reads version {supported}")]
    UnsupportedExport { found: u32, supported: u32 },

    #[error("this ferry cannot open {what}")]
    Unsupported { what: String },

    #[error("the state holds an unreadable value: {what}")]
    Corrupt { what: String },

    #[error("state database error: {0}")]
    Database(#[from] rusqlite::Error),

    /// The PostgreSQL state: unreachable, refused, too new, or a query failed.
    #[cfg(feature = "postgres")]
    #[error(transparent)]
    Postgres(#[from] crate::state::postgres::PostgresError),
}

#[cfg(feature = "postgres")]
impl From<tokio_postgres::Error> for StateError {
    fn from(error: tokio_postgres::Error) -> Self {
        StateError::Postgres(crate::state::postgres::PostgresError::Query(error))
    }
}

fn display_changes(changes: &[IpChange]) -> String {
    changes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
