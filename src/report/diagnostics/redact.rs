//! Masks plain-text secrets and escapes terminal controls in a plan's text before a snippet of
//! it is shown, and maps spans to match.
//!
//! The human format prints source lines around each label, so a password written in plain text
//! on a nearby line would end up in a terminal or a CI log. Two passes find what to mask:
//! - line by line (it works on text that does not parse): every value of a key that looks like
//!   a secret (`password`, `passwd`, `secret`, `token`, any case) written on the key's own line,
//!   and of any key but `username` and `domain` inside a `credentials` flow mapping or block.
//!   References (`{ env: NAME }`, `{ file: PATH }`), aliases and block scalars (`|`, `>`) are
//!   left alone;
//! - when the text parses, every value inside a `credentials` mapping, whatever its key
//!   (`passwrd: x`, `password: [a, b]`), except `username` and `domain` (see `credentials`).
//!
//! Masked values become `********`; empty values stay visible (`''` hides nothing). Then every
//! character a terminal would interpret (see `report::escape`) outside the masks is written
//! escaped, except the tabs and line breaks the snippet is laid out with.

mod credentials;

use std::ops::Range;

use crate::plan::yaml::Node;
use crate::report::escape::needs_escape;

/// What a masked value is shown as.
pub const MASK: &str = "********";

/// Key names (lowercased) whose values are masked when they contain one of these.
const SECRET_KEY_PARTS: [&str; 4] = ["password", "passwd", "secret", "token"];

/// A text with its secret values masked and its controls escaped, and the edits made, to map
/// byte offsets.
#[derive(Debug, Clone)]
pub struct Redacted {
    pub text: String,
    /// Replaced ranges of the original text, in order, each with what replaced it.
    edits: Vec<(Range<usize>, String)>,
}

impl Redacted {
    /// Masks and escapes using the text alone (the line-based pass).
    #[cfg(test)]
    pub fn new(original: &str) -> Self {
        Self::with_tree(original, None)
    }

    /// Masks and escapes; with the text's YAML tree, values inside `credentials` are masked too.
    pub fn with_tree(original: &str, root: Option<&Node>) -> Self {
        let mut masks = Vec::new();
        let mut line_start = 0;
        // The column of the `credentials:` key whose block the lines are in, if any.
        let mut credentials_block: Option<usize> = None;
        for line in original.split_inclusive('\n') {
            let content = line.trim_start_matches(' ');
            let column = line.len() - content.len();
            let blank = content.trim().is_empty() || content.starts_with('#');
            if !blank && credentials_block.is_some_and(|key_column| column <= key_column) {
                credentials_block = None;
            }
            // Inside a `credentials` block, any key counts; on a `credentials:` line, any key
            // after it (a flow mapping).
            let opened = credentials_key(line);
            let any_keys = match (credentials_block, &opened) {
                (Some(_), _) => Some(0..line.len()),
                (None, Some((_, colon))) => Some(*colon + 1..flow_end(line, colon + 1)),
                (None, None) => None,
            };
            for value in secret_values(line, any_keys) {
                masks.push(line_start + value.start..line_start + value.end);
            }
            if let Some((key_column, colon)) = opened
                && credentials_block.is_none()
                && line[colon + 1..].trim().is_empty()
            {
                credentials_block = Some(key_column);
            }
            line_start += line.len();
        }
        if let Some(root) = root {
            let found = credentials::credential_values(original, root);
            for span in found.spans {
                masks.extend(line_pieces(original, span));
            }
            for name in found.anchors {
                masks.extend(anchored_values(original, &name));
            }
        }
        let edits = edits(original, &merge(original, masks));
        let mut text = String::with_capacity(original.len());
        let mut copied = 0;
        for (range, replacement) in &edits {
            text.push_str(&original[copied..range.start]);
            text.push_str(replacement);
            copied = range.end;
        }
        text.push_str(&original[copied..]);
        Self { text, edits }
    }

    /// Where an offset of the original text is in the edited text. An offset inside a replaced
    /// range moves to the replacement's start (or its end, for the end of the range).
    pub fn map_offset(&self, offset: usize) -> usize {
        let mut shift: isize = 0;
        for (range, replacement) in &self.edits {
            if offset <= range.start {
                break;
            }
            if offset < range.end {
                return range.start.saturating_add_signed(shift);
            }
            shift += replacement.len() as isize - (range.end - range.start) as isize;
        }
        offset.saturating_add_signed(shift)
    }

    /// A span of the original text mapped into the edited text. A span that starts or ends in a
    /// replaced range covers the whole replacement.
    pub fn map_span(&self, span: &Range<usize>) -> Range<usize> {
        let start = self.map_offset(span.start);
        let mut end = self.map_offset(span.end);
        if let Some((range, replacement)) = self
            .edits
            .iter()
            .find(|(range, _)| span.end > range.start && span.end < range.end)
        {
            end = self.map_offset(range.start) + replacement.len();
        }
        start..end.max(start)
    }
}

/// Sorts ranges and joins those that overlap; drops any that is empty or does not fall on
/// character boundaries of the text.
fn merge(text: &str, mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.retain(|range| range.start < range.end && text.get(range.clone()).is_some());
    ranges.sort_by_key(|range| (range.start, range.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

/// The masks, and an escape for each character outside them that must not reach a terminal
/// (tabs, line feeds and the carriage return of a `\r\n` stay: the snippet's layout).
fn edits(original: &str, masks: &[Range<usize>]) -> Vec<(Range<usize>, String)> {
    let bytes = original.as_bytes();
    let mut edits = Vec::with_capacity(masks.len());
    let mut masks = masks.iter().peekable();
    let mut masked_until = 0;
    for (offset, character) in original.char_indices() {
        if offset < masked_until {
            continue;
        }
        if let Some(mask) = masks.next_if(|mask| mask.start <= offset) {
            edits.push((mask.clone(), MASK.to_string()));
            masked_until = mask.end;
            continue;
        }
        let layout = matches!(character, '\t' | '\n')
            || (character == '\r' && bytes.get(offset + 1) == Some(&b'\n'));
        if needs_escape(character) && !layout {
            let end = offset + character.len_utf8();
            edits.push((offset..end, character.escape_default().collect()));
        }
    }
    edits
}

/// A span split at line breaks, each piece trimmed of blanks: a multi-line value is masked line
/// by line, so the snippet keeps its line numbers.
fn line_pieces(text: &str, span: Range<usize>) -> Vec<Range<usize>> {
    let Some(covered) = text.get(span.clone()) else {
        return Vec::new();
    };
    let mut pieces = Vec::new();
    let mut start = span.start;
    for piece in covered.split_inclusive(['\n', '\r']) {
        let leading = piece.len() - piece.trim_start().len();
        let trimmed = piece.trim();
        if !trimmed.is_empty() {
            pieces.push(start + leading..start + leading + trimmed.len());
        }
        start += piece.len();
    }
    pieces
}

/// The scalar values anchored with `&name` (for `password: *name`), found in the text.
fn anchored_values(text: &str, name: &str) -> Vec<Range<usize>> {
    let anchor = format!("&{name}");
    let mut values = Vec::new();
    for (position, _) in text.match_indices(&anchor) {
        let after = text.as_bytes().get(position + anchor.len());
        if !matches!(after, Some(b' ' | b'\t' | b'\n' | b'\r') | None) {
            continue;
        }
        let line_start = text[..position].rfind('\n').map_or(0, |found| found + 1);
        let line_end = text[position..]
            .find('\n')
            .map_or(text.len(), |found| position + found + 1);
        let line = &text[line_start..line_end];
        let in_flow = line[..position - line_start].contains('{');
        if let Some(value) = value_after(line, position - line_start, in_flow) {
            values.push(line_start + value.start..line_start + value.end);
        }
    }
    values
}

/// Where a `credentials:` key is on a line: its column and its colon.
fn credentials_key(line: &str) -> Option<(usize, usize)> {
    let key_start = line.find("credentials:")?;
    let colon = key_start + "credentials".len();
    let before = line[..key_start].trim_end_matches(['"', '\'']);
    let is_key = before.is_empty() || before.ends_with([' ', '\t', '{', ',', '-']);
    let after = line.as_bytes().get(colon + 1).copied();
    (is_key && matches!(after, Some(b' ' | b'\t' | b'\n' | b'\r') | None))
        .then_some((key_start, colon))
}

/// Where the flow collection that starts after `from` ends on its line (after its closing
/// bracket), or the line's end.
fn flow_end(line: &str, from: usize) -> usize {
    let mut depth = 0usize;
    for (offset, byte) in line.bytes().enumerate().skip(from) {
        match byte {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return offset + 1;
                }
            }
            _ => {}
        }
    }
    line.len()
}

/// The byte ranges, within one line, of the plain values of secret-looking keys, and within
/// `any_keys`, of every key but `username` and `domain` (inside `credentials`).
fn secret_values(line: &str, any_keys: Option<Range<usize>>) -> Vec<Range<usize>> {
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
        let inside_credentials = any_keys.as_ref().is_some_and(|keys| keys.contains(&colon))
            && !["username", "domain", "credentials", "env", "file", ""].contains(&key);
        if !inside_credentials && !SECRET_KEY_PARTS.iter().any(|part| lowered.contains(part)) {
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
    // The position after the separator character, whatever its length (a non-breaking space
    // or U+2028 is more than one byte).
    let start = unquoted
        .char_indices()
        .rev()
        .find(|(_, character)| {
            character.is_whitespace() || matches!(character, '{' | ',' | '"' | '\'' | '-' | '[')
        })
        .map_or(0, |(position, character)| position + character.len_utf8());
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
mod tests;
