//! A `postgres://` state URL: parsed once, its password resolved (URL, `PGPASSWORD`, passfile), and shown only redacted.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use tokio_postgres::Config;

use super::tls::SslMode;

/// Why a state URL cannot be used. Never holds the password.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlError {
    #[error("the state URL `{redacted}` is not a valid PostgreSQL URL: {reason}")]
    Invalid { redacted: String, reason: String },
    #[error(
        "the state URL `{redacted}` has sslmode `{mode}`; ferry supports disable, prefer, require, verify-ca and verify-full"
    )]
    UnknownSslMode { redacted: String, mode: String },
}

/// A parsed PostgreSQL state location. `Debug` and `Display` never show the password.
#[derive(Clone)]
pub struct PostgresUrl {
    config: Config,
    ssl_mode: SslMode,
    root_certificate: Option<PathBuf>,
    redacted: String,
}

/// Whether a `--state` value names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

impl PostgresUrl {
    /// Parses the URL. `sslmode` (default `prefer`) and `sslrootcert` are read here, because the
    /// client library knows neither `verify-ca` nor `verify-full`; every other parameter is the
    /// client's. The password comes from the URL, else from `password` (the caller passes
    /// `PGPASSWORD`), else from `passfile` (`PGPASSFILE` or `~/.pgpass`), as libpq does.
    pub fn parse(
        value: &str,
        password: Option<&str>,
        passfile: Option<&Path>,
    ) -> Result<Self, UrlError> {
        let redacted = redact(value);
        let (base, query) = value.split_once('?').unwrap_or((value, ""));
        let mut ssl_mode = SslMode::Prefer;
        let mut root_certificate = None;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = percent_decode(raw);
            match key {
                "sslmode" => {
                    ssl_mode =
                        SslMode::from_str(&decoded).map_err(|()| UrlError::UnknownSslMode {
                            redacted: redacted.clone(),
                            mode: decoded.clone(),
                        })?;
                }
                "sslrootcert" => root_certificate = Some(PathBuf::from(decoded)),
                _ => kept.push(pair),
            }
        }
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config = Config::from_str(&rest).map_err(|error| UrlError::Invalid {
            redacted: redacted.clone(),
            reason: scrub(&error.to_string(), value),
        })?;
        if config.get_password().is_none() {
            let from_file = || passfile.and_then(|file| password_from_file(file, &config));
            if let Some(password) = password.map(str::to_string).or_else(from_file) {
                config.password(password);
            }
        }
        Ok(Self {
            config,
            ssl_mode,
            root_certificate,
            redacted,
        })
    }

    /// The client configuration, password included: for connecting and nothing else.
    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn ssl_mode(&self) -> SslMode {
        self.ssl_mode
    }

    /// `sslrootcert`: the CA certificates (PEM) that verify the server, instead of the system's.
    pub fn root_certificate(&self) -> Option<&Path> {
        self.root_certificate.as_deref()
    }

    /// The URL as messages show it: the password replaced by `***`.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }
}

impl fmt::Display for PostgresUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.redacted)
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PostgresUrl")
            .field("url", &self.redacted)
            .field("ssl_mode", &self.ssl_mode)
            .finish()
    }
}

/// The URL with the password of its user-info part, and any `password=` parameter, masked.
pub fn redact(value: &str) -> String {
    let (scheme, rest) = value.split_once("://").unwrap_or(("", value));
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{user_info}@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some(("password", _)) => "password=***".to_string(),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// An error message from the client library, without the URL's password should it quote it.
fn scrub(message: &str, url: &str) -> String {
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split(['/', '?']).next())
        .and_then(|authority| authority.rsplit_once('@'))
        .and_then(|(user_info, _)| user_info.split_once(':'))
        .map(|(_, password)| password)
        .filter(|password| !password.is_empty());
    match password {
        Some(password) => message.replace(password, "***"),
        None => message.to_string(),
    }
}

/// `%XX` escapes decoded (invalid ones kept as written).
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| value.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// A passfile larger than this is not read.
const PASSFILE_LIMIT: u64 = 1024 * 1024;

/// The password of the first passfile line matching the connection (`host:port:db:user:password`,
/// `*` matching anything, `\:` and `\\` escaped), as libpq reads it. The file is ignored, as libpq
/// ignores it, when others can read it.
fn password_from_file(file: &Path, config: &Config) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(file).ok()?;
    if !metadata.is_file() || metadata.mode() & 0o077 != 0 || metadata.len() > PASSFILE_LIMIT {
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        _ => "localhost".to_string(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or_default().to_string();
    let database = config.get_dbname().unwrap_or(&user).to_string();
    let wanted = [host, port, database, user];
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let fields = passfile_fields(line);
            let [host, port, database, user, password] = fields.as_slice() else {
                return None;
            };
            let matches = [host, port, database, user]
                .iter()
                .zip(&wanted)
                .all(|(field, wanted)| field.as_str() == "*" || *field == wanted);
            matches.then(|| password.clone())
        })
}

/// One passfile line split at unescaped colons, escapes removed.
fn passfile_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut characters = line.chars();
    while let Some(character) = characters.next() {
        match character {
            '\\' => fields
                .last_mut()
                .into_iter()
                .for_each(|field| field.extend(characters.next())),
            ':' if fields.len() < 5 => fields.push(String::new()),
            _ => fields
                .last_mut()
                .into_iter()
                .for_each(|field| field.push(character)),
        }
    }
    fields
}

#[cfg(test)]
mod tests;
