//! Parsing an OpenSSH known_hosts file and looking a server's key up in it, markers included.
//!
//! A line is `[@marker] patterns keytype base64 [comment]`. Supported, as OpenSSH reads them:
//! - **patterns**: comma-separated host names with `*` and `?` wildcards; a pattern starting
//!   with `!` negates, and a line whose negated pattern matches does not apply to the host at
//!   all. A hashed entry (`|1|salt|hash`, HMAC-SHA1 of the name) stands alone.
//! - **the name looked up** is the host itself on port 22 and `[host]:port` on any other port,
//!   so a bare `host` line never vouches for another port's server.
//! - **`@revoked`**: the key on the line is never trusted. ferry refuses it for *every* host,
//!   whatever the line's patterns say (stricter than OpenSSH, which reads the line for matching
//!   hosts only): a key someone declared revoked is not to be trusted anywhere.
//! - **`@cert-authority`**: ferry does not do host certificates, so such a line never trusts a
//!   host; when it is the only line for the host, the lookup says so ([`Lookup::CertificateAuthorityOnly`]).
//!
//! Comment lines (`#`), blank lines and lines that do not parse (an unknown marker, a key type
//! ferry cannot read, bad base64) are skipped, as OpenSSH skips them; nothing here panics.

use data_encoding::BASE64;
use russh::keys::PublicKey;

/// What a line says about its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    /// A plain line: the key is trusted for the matching hosts.
    Trusted,
    Revoked,
    CertificateAuthority,
}

#[derive(Debug)]
struct Entry {
    /// 1-based line number in the file.
    line: usize,
    marker: Marker,
    patterns: String,
    key: PublicKey,
}

/// The entries of one known_hosts file.
#[derive(Debug, Default)]
pub(crate) struct KnownHosts {
    entries: Vec<Entry>,
}

/// What the file says about a host's key. Lines are 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// An `@revoked` line holds this key: refuse it, whatever else the file says.
    Revoked { line: usize },
    /// A plain line for the host holds this key.
    Trusted { line: usize },
    /// A plain line for the host holds another key of the same type.
    Changed { line: usize },
    /// Only an `@cert-authority` line names the host, and ferry does not do host certificates.
    CertificateAuthorityOnly { line: usize },
    /// Nothing for this host with this key type.
    Unknown,
}

/// The name known_hosts files use for a server: `host` on port 22, else `[host]:port`.
pub(crate) fn host_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

impl KnownHosts {
    /// Parses the file's text; lines that do not parse are skipped.
    pub(crate) fn parse(text: &str) -> Self {
        let entries = text
            .lines()
            .enumerate()
            .filter_map(|(index, line)| parse_line(index + 1, line))
            .collect();
        Self { entries }
    }

    /// Looks `key` up for the server at `host` and `port`.
    pub(crate) fn lookup(&self, host: &str, port: u16, key: &PublicKey) -> Lookup {
        let same_key = |entry: &Entry| entry.key.key_data() == key.key_data();
        if let Some(entry) = self
            .entries
            .iter()
            .find(|entry| entry.marker == Marker::Revoked && same_key(entry))
        {
            return Lookup::Revoked { line: entry.line };
        }
        let name = host_name(host, port).to_ascii_lowercase();
        let for_host: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|entry| entry.marker != Marker::Revoked && matches_host(&entry.patterns, &name))
            .collect();
        let trusted = || {
            for_host
                .iter()
                .filter(|entry| entry.marker == Marker::Trusted)
        };
        if let Some(entry) = trusted().find(|entry| same_key(entry)) {
            return Lookup::Trusted { line: entry.line };
        }
        if let Some(entry) = trusted().find(|entry| entry.key.algorithm() == key.algorithm()) {
            return Lookup::Changed { line: entry.line };
        }
        match for_host
            .iter()
            .find(|entry| entry.marker == Marker::CertificateAuthority)
        {
            Some(entry) => Lookup::CertificateAuthorityOnly { line: entry.line },
            None => Lookup::Unknown,
        }
    }
}

fn parse_line(number: usize, line: &str) -> Option<Entry> {
    let mut fields = line.split_ascii_whitespace().peekable();
    let first = *fields.peek()?;
    if first.starts_with('#') {
        return None;
    }
    let marker = match first {
        "@revoked" => Marker::Revoked,
        "@cert-authority" => Marker::CertificateAuthority,
        other if other.starts_with('@') => return None,
        _ => Marker::Trusted,
    };
    if marker != Marker::Trusted {
        fields.next();
    }
    let patterns = fields.next()?.to_string();
    let key_type = fields.next()?;
    let key = russh::keys::parse_public_key_base64(fields.next()?).ok()?;
    // The named type must be the key's own (`ssh-ed25519` for an Ed25519 key); a revoked key
    // is revoked whatever the line calls it.
    if marker != Marker::Revoked && key.algorithm().as_str() != key_type {
        return None;
    }
    Some(Entry {
        line: number,
        marker,
        patterns,
        key,
    })
}

/// Whether a line's host field applies to `name` (already lower-case): a hashed entry, or
/// patterns of which one positive one matches and no negated one does.
fn matches_host(patterns: &str, name: &str) -> bool {
    if patterns.starts_with('|') {
        return matches_hashed(patterns, name);
    }
    let mut positive = false;
    for pattern in patterns.split(',') {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, pattern),
        };
        if wildcard_match(&pattern.to_ascii_lowercase(), name) {
            if negated {
                return false;
            }
            positive = true;
        }
    }
    positive
}

/// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, compared in constant time.
fn matches_hashed(field: &str, name: &str) -> bool {
    let mut parts = field.split('|');
    let (Some(""), Some("1"), Some(salt), Some(hash), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (
        BASE64.decode(salt.as_bytes()),
        BASE64.decode(hash.as_bytes()),
    ) else {
        return false;
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &salt);
    ring::hmac::verify(&key, name.as_bytes(), &hash).is_ok()
}

/// Glob matching with `*` (any run of characters) and `?` (one character), as OpenSSH's
/// `match_pattern`; iterative with one backtrack point, so no pattern can blow up.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests;
