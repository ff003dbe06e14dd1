//! Timestamps as the store keeps them: RFC 3339 text in UTC.

use jiff::Timestamp;

use crate::state::error::StateError;

/// The current time, as stored.
pub(crate) fn now() -> Timestamp {
    Timestamp::now()
}

/// Parses a stored timestamp.
pub(crate) fn parse(text: &str) -> Result<Timestamp, StateError> {
    text.parse().map_err(|_| StateError::Corrupt {
        what: format!("timestamp `{text}`"),
    })
}

/// Parses an optional stored timestamp.
pub(crate) fn parse_optional(text: Option<String>) -> Result<Option<Timestamp>, StateError> {
    text.as_deref().map(parse).transpose()
}
