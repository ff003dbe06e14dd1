//! `partialFingerprints` for SARIF results: what lets GitHub code scanning follow one alert across
//! commits.
//!
//! A result's fingerprint is the BLAKE3 hash of its code, its file's URI, its message and the
//! text its primary label covers (as the human format shows it, plain-text secrets masked), then
//! `:N` for the Nth result in the file with that same hash. No line or column goes in: adding a
//! line above a problem leaves its fingerprint as it was; editing the labelled text or the names
//! in the message makes it a new alert, as it is a new problem.

use std::collections::HashMap;
use std::ops::Range;

use crate::plan::codes::Code;
use crate::report::diagnostics::redact::Redacted;

/// The `partialFingerprints` key; the version changes if the recipe does.
pub const KEY: &str = "ferryDiagnostic/v1";

/// Fingerprints the results of one file, in order.
pub struct Fingerprints<'a> {
    uri: &'a str,
    redacted: Redacted,
    seen: HashMap<String, usize>,
}

impl<'a> Fingerprints<'a> {
    pub fn new(uri: &'a str, redacted: Redacted) -> Self {
        Self {
            uri,
            redacted,
            seen: HashMap::new(),
        }
    }

    /// The next result's fingerprint.
    pub fn next(&mut self, code: Code, message: &str, primary: Option<&Range<usize>>) -> String {
        let labelled = primary
            .map(|span| self.redacted.map_span(span))
            .and_then(|span| self.redacted.text.get(span))
            .unwrap_or_default();
        let mut hasher = blake3::Hasher::new();
        for part in [code.as_str(), self.uri, message, labelled] {
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        let hash = hasher.finalize().to_hex()[..32].to_string();
        let occurrence = self.seen.entry(hash.clone()).or_default();
        *occurrence += 1;
        format!("{hash}:{occurrence}")
    }
}
