//! Shared state in PostgreSQL: the URL, TLS, the versioned schema, the connection, and
//! [`PostgresStore`], the state backend on it (the SQLite store's semantics; locks are claims).
//!
//! `--state postgres://…` (or `postgresql://`) selects it. The password comes from the URL,
//! `PGPASSWORD` or the passfile and is never printed: every message names the URL redacted.

mod backend;
mod claims;
mod export;
mod hook_runs;
mod ledger;
mod records;
mod schema;
mod store;
mod tls;
mod url;
mod writes;

pub use claims::ClaimGuard;
pub use schema::SCHEMA_VERSION;
pub use store::PostgresStore;
pub use tls::SslMode;
pub use url::{PostgresUrl, UrlError, is_postgres_url, redact};

use std::path::PathBuf;

use tokio_postgres::Client;

/// A failure talking to the state database. Messages never hold the password.
#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error("state database {url}: {source}")]
    Tls {
        url: String,
        #[source]
        source: tls::TlsError,
    },
    #[error("cannot connect to the state database {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error(
        "the state database has schema version {found}, newer than this ferry's ({supported}); upgrade ferry"
    )]
    NewerSchema { found: i32, supported: i32 },
    #[error("state database: {0}")]
    Query(#[from] tokio_postgres::Error),
}

impl PostgresError {
    /// Whether trying again may help: a refused or dropped connection, a serialization failure.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Connect { .. } => true,
            Self::Query(error) => error.is_closed() || error.code().is_some_and(is_transient),
            Self::Url(_) | Self::Tls { .. } | Self::NewerSchema { .. } => false,
        }
    }
}

/// Serialization failures, deadlocks, and the server shutting down or being unavailable.
fn is_transient(code: &tokio_postgres::error::SqlState) -> bool {
    use tokio_postgres::error::SqlState;
    [
        SqlState::T_R_SERIALIZATION_FAILURE,
        SqlState::T_R_DEADLOCK_DETECTED,
        SqlState::ADMIN_SHUTDOWN,
        SqlState::CANNOT_CONNECT_NOW,
        SqlState::TOO_MANY_CONNECTIONS,
    ]
    .contains(code)
}

/// Parses a `--state` URL with the password sources libpq reads from the environment.
pub fn parse_url(value: &str) -> Result<PostgresUrl, UrlError> {
    let password = std::env::var("PGPASSWORD").ok();
    let passfile = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::home_dir().map(|home| home.join(".pgpass")));
    PostgresUrl::parse(value, password.as_deref(), passfile.as_deref())
}

/// Connects (TLS as `sslmode` says) and creates or upgrades the schema. The connection's task
/// runs on the current tokio runtime until the client is dropped.
pub async fn connect(url: &PostgresUrl) -> Result<Client, PostgresError> {
    let mut config = url.config().clone();
    config.ssl_mode(url.ssl_mode().client_mode());
    if config.get_application_name().is_none() {
        config.application_name("ferry");
    }
    let failed = |reason: String| PostgresError::Connect {
        url: url.redacted().to_string(),
        reason,
    };
    let tls = tls::client_config(url.ssl_mode(), url.root_certificate()).map_err(|source| {
        PostgresError::Tls {
            url: url.redacted().to_string(),
            source,
        }
    })?;
    let mut client = match tls {
        None => {
            let (client, connection) = config
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(|error| failed(connection_reason(&error)))?;
            tokio::spawn(connection);
            client
        }
        Some(tls) => {
            let connector = tokio_postgres_rustls_improved::MakeRustlsConnect::new(tls);
            let (client, connection) = config
                .connect(connector)
                .await
                .map_err(|error| failed(connection_reason(&error)))?;
            tokio::spawn(connection);
            client
        }
    };
    schema::upgrade(&mut client).await?;
    Ok(client)
}

/// The client error with its causes (the top-level message alone is often just "db error").
fn connection_reason(error: &tokio_postgres::Error) -> String {
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !reason.contains(&text) {
            reason.push_str(": ");
            reason.push_str(&text);
        }
        source = cause.source();
    }
    reason
}

#[cfg(test)]
pub(crate) mod tests;
