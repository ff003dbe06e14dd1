//! Masks plain-text secrets in a plan's text before a snippet of it is shown, and maps spans to match.
//!
//! The human format prints source lines around each label, so a password written in plain text
//! on a nearby line would end up in a terminal or a CI log. Every value of a key that looks like
//! a secret (`password`, `passwd`, `secret`, `token`, any case) written on the key's own line is
//! replaced with `********`. Empty values stay visible (`''` hides nothing). References
//! (`{ env: NAME }`, `{ file: PATH }`), aliases and block scalars (`|`, `>`) are left alone; a
//! block scalar's lines are not masked (a known limit: the plan format has no use for
//! multi-line passwords).

use std::ops::Range;

/// What a masked value is shown as.
pub const MASK: &str = "********";

/// Key names (lowercased) whose values are masked when they contain one of these.
const SECRET_KEY_PARTS: [&str; 4] = ["password", "passwd", "secret", "token"];

/// A text with its secret values masked, and the edits made, to map byte offsets.
#[derive(Debug, Clone)]
pub struct Redacted {
    pub text: String,
    /// Masked ranges of the original text, in order, each replaced by [`MASK`].
    edits: Vec<Range<usize>>,
}

impl Redacted {
    pub fn new(original: &str) -> Self {
        let mut edits = Vec::new();
        let mut line_start = 0;
        for line in original.split_inclusive('\n') {
            for value in secret_values(line) {
                edits.push(line_start + value.start..line_start + value.end);
            }
            line_start += line.len();
        }
        let mut text = String::with_capacity(original.len());
        let mut copied = 0;
        for edit in &edits {
            text.push_str(&original[copied..edit.start]);
            text.push_str(MASK);
            copied = edit.end;
        }
        text.push_str(&original[copied..]);
        Self { text, edits }
    }

    /// Where an offset of the original text is in the masked text. An offset inside a masked
    /// value moves to the mask's start (or its end, for the end of the value).
    pub fn map_offset(&self, offset: usize) -> usize {
        let mut shift: isize = 0;
        for edit in &self.edits {
            if offset <= edit.start {
                break;
            }
            if offset < edit.end {
                return edit.start.saturating_add_signed(shift);
            }
            shift += MASK.len() as isize - (edit.end - edit.start) as isize;
        }
        offset.saturating_add_signed(shift)
    }

    /// A span of the original text mapped into the masked text. A span that starts or ends in a
    /// masked value covers the whole mask.
    pub fn map_span(&self, span: &Range<usize>) -> Range<usize> {
        let start = self.map_offset(span.start);
        let mut end = self.map_offset(span.end);
        if let Some(edit) = self
            .edits
            .iter()
            .find(|edit| span.end > edit.start && span.end < edit.end)
        {
            end = self.map_offset(edit.start) + MASK.len();
        }
        start..end.max(start)
    }
}

/// The byte ranges, within one line, of the plain values of secret-looking keys.
fn secret_values(line: &str) -> Vec<Range<usize>> {
    let bytes = line.as_bytes();
    let mut values = Vec::new();
    let mut search_from = 0;
    while let Some(found) = line[search_from..].find(':') {
        let colon = search_from + found;
        search_from = colon + 1;
        // A mapping key's colon is followed by a space, a tab or the end of the line.
        let after = bytes.get(colon + 1).copied();
        if !matches!(after, Some(b' ' | b'\t' | b'\n' | b'\r') | None) {
            continue;
        }
        let key = key_before(&line[..colon]);
        let lowered = key.to_ascii_lowercase();
        if !SECRET_KEY_PARTS.iter().any(|part| lowered.contains(part)) {
            continue;
        }
        let in_flow = line[..colon].contains('{');
        if let Some(value) = value_after(line, colon + 1, in_flow) {
            search_from = value.end;
            values.push(value);
        }
    }
    values
}

/// The key that ends right before a colon: a plain word or a quoted string.
fn key_before(before_colon: &str) -> &str {
    let trimmed = before_colon.trim_end();
    let unquoted = trimmed
        .strip_suffix(['"', '\''])
        .unwrap_or(trimmed)
        .trim_end();
    let start = unquoted
        .rfind(|character: char| {
            character.is_whitespace() || matches!(character, '{' | ',' | '"' | '\'' | '-' | '[')
        })
        .map_or(0, |position| position + 1);
    &unquoted[start..]
}

/// The value that starts after a key's colon, when it is a plain or quoted scalar.
fn value_after(line: &str, from: usize, in_flow: bool) -> Option<Range<usize>> {
    let bytes = line.as_bytes();
    let mut start = from;
    while matches!(bytes.get(start), Some(b' ' | b'\t')) {
        start += 1;
    }
    // An anchor (`&name value`) names the value; the value follows it.
    if bytes.get(start) == Some(&b'&') {
        while matches!(bytes.get(start), Some(byte) if !byte.is_ascii_whitespace()) {
            start += 1;
        }
        while matches!(bytes.get(start), Some(b' ' | b'\t')) {
            start += 1;
        }
    }
    match bytes.get(start)? {
        b'{' | b'[' | b'*' | b'|' | b'>' | b'#' | b'\n' | b'\r' => None,
        quote @ (b'"' | b'\'') => {
            let mut position = start + 1;
            while let Some(byte) = bytes.get(position) {
                if *quote == b'"' && *byte == b'\\' {
                    position += 2;
                    continue;
                }
                if byte == quote {
                    // `''` is an escaped quote inside a single-quoted string.
                    if *quote == b'\'' && bytes.get(position + 1) == Some(&b'\'') {
                        position += 2;
                        continue;
                    }
                    // An empty string hides nothing, and masking it would hide that it is empty.
                    return (position > start + 1).then_some(start..position + 1);
                }
                if *byte == b'\n' {
                    break;
                }
                position += 1;
            }
            // Unterminated on this line: mask the rest of it.
            Some(start..line.trim_end_matches(['\n', '\r']).len().max(start))
        }
        _ => {
            let rest = &line[start..];
            let mut end = rest.find(['\n', '\r']).unwrap_or(rest.len());
            if let Some(comment) = rest[..end].find(" #") {
                end = comment;
            }
            if in_flow && let Some(flow_end) = rest[..end].find([',', '}']) {
                end = flow_end;
            }
            let value = rest[..end].trim_end();
            (!value.is_empty()).then(|| start..start + value.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(text: &str) -> String {
        Redacted::new(text).text
    }

    #[test]
    fn plain_and_quoted_passwords_are_masked() {
        assert_eq!(masked("password: hunter2\n"), "password: ********\n");
        assert_eq!(
            masked("  password: \"a b#c\" # old\n"),
            "  password: ******** # old\n"
        );
        assert_eq!(masked("password: 'it''s'\n"), "password: ********\n");
        assert_eq!(masked("Password: x # note"), "Password: ******** # note");
        assert_eq!(masked("db_secret: s3cr3t\r\n"), "db_secret: ********\r\n");
        assert_eq!(
            masked("password: &pw hunter2\n"),
            "password: &pw ********\n"
        );
    }

    #[test]
    fn flow_mappings_are_masked_up_to_the_next_entry() {
        assert_eq!(
            masked("credentials: { username: admin, password: hunter2, domain: corp }"),
            "credentials: { username: admin, password: ********, domain: corp }"
        );
        assert_eq!(
            masked("credentials: {\"password\": \"x,y\"}"),
            "credentials: {\"password\": ********}"
        );
    }

    #[test]
    fn references_and_other_keys_are_kept() {
        for text in [
            "password: { env: WEB_PASSWORD }\n",
            "password: {file: secrets/web.txt}\n",
            "password: *shared\n",
            "password: ''\n",
            "credentials: { username: a, password: \"\" }\n",
            "password:\n  env: X\n",
            "username: administrator\n",
            "path: C:\\data\n",
        ] {
            assert_eq!(masked(text), text);
        }
    }

    #[test]
    fn offsets_after_a_mask_shift_and_offsets_inside_move_to_it() {
        let text = "password: hunter2-long-one\nip: 1.2.3.4\n";
        let redacted = Redacted::new(text);
        let ip = text.find("1.2.3.4").unwrap();
        let mapped = redacted.map_span(&(ip..ip + 7));
        assert_eq!(&redacted.text[mapped], "1.2.3.4");
        let value = text.find("hunter2").unwrap();
        let mapped = redacted.map_span(&(value..value + "hunter2-long-one".len()));
        assert_eq!(&redacted.text[mapped], MASK);
        let partial = redacted.map_span(&(value + 2..value + 4));
        assert_eq!(&redacted.text[partial], MASK);
        assert_eq!(redacted.map_offset(0), 0);
        assert_eq!(redacted.map_offset(10_000), 10_000 - 16 + MASK.len());
    }

    #[test]
    fn multibyte_passwords_become_ascii() {
        let text = "password: pæssørd\nx: ✓\n";
        let redacted = Redacted::new(text);
        assert_eq!(redacted.text, "password: ********\nx: ✓\n");
        let check = text.find('✓').unwrap();
        let mapped = redacted.map_span(&(check..check + '✓'.len_utf8()));
        assert_eq!(&redacted.text[mapped], "✓");
    }
}
