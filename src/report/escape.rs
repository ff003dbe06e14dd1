//! Escapes untrusted text (names from a plan, a source or a target, servers' messages) before it
//! reaches a terminal, a log or a report: the one helper every human-facing renderer uses.
//!
//! A file on a migrated server may be named `e\x1b]0;OWNED\x07x.txt`; printed raw, it would
//! rewrite the operator's terminal. Every character that a terminal or an editor interprets
//! rather than shows is written as Rust writes it in a string literal, so the output stays
//! one line per item and is unambiguous to read:
//! - control characters (C0, DEL, C1): `\n`, `\t`, `\r`, `\u{1b}`, `\u{7f}`, `\u{9b}`;
//! - bidirectional formatting characters, which reorder what is shown (`\u{202e}`, `\u{2066}`);
//! - the line and paragraph separators `\u{2028}` and `\u{2029}`.
//!
//! Everything else is kept, backslashes included (`C:\Data` stays readable), and so is ordinary
//! non-ASCII text (`é`, `日本`).

use std::borrow::Cow;

/// Whether a character must not reach a terminal as it is.
pub fn needs_escape(character: char) -> bool {
    character.is_control()
        || matches!(
            character,
            // Arabic letter mark, left-to-right and right-to-left marks.
            '\u{061c}' | '\u{200e}' | '\u{200f}'
            // Embeddings, overrides and their pop.
            | '\u{202a}'..='\u{202e}'
            // Isolates and their pop.
            | '\u{2066}'..='\u{2069}'
            // Line and paragraph separators.
            | '\u{2028}' | '\u{2029}'
        )
}

/// Appends one character, escaped when it must be (`\u{1b}`, `\n`, `\u{202e}`).
pub fn push_escaped(out: &mut String, character: char) {
    if needs_escape(character) {
        out.extend(character.escape_default());
    } else {
        out.push(character);
    }
}

/// The text with every character that [`needs_escape`] escaped; borrowed when nothing is.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for character in text.chars() {
        push_escaped(&mut out, character);
    }
    Cow::Owned(out)
}

/// Like [`printable`], but line breaks (`\n`, `\r\n`) are kept: for multi-line messages whose
/// lines are laid out by the renderer. A lone `\r` is still escaped (it would overwrite a line).
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|character| character != '\n' && needs_escape(character))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '\n' => out.push('\n'),
            '\r' if characters.peek() == Some(&'\n') => out.push('\r'),
            other => push_escaped(&mut out, other),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_controls_are_escaped() {
        assert_eq!(
            printable("e\u{1b}]0;OWNED\u{7}\u{1b}[2Jx.txt"),
            "e\\u{1b}]0;OWNED\\u{7}\\u{1b}[2Jx.txt"
        );
        assert_eq!(printable("a\nb\tc\rd"), "a\\nb\\tc\\rd");
        assert_eq!(printable("del\u{7f} csi\u{9b}"), "del\\u{7f} csi\\u{9b}");
        assert_eq!(printable("nul\0"), "nul\\u{0}");
    }

    #[test]
    fn bidirectional_overrides_and_separators_are_escaped() {
        assert_eq!(printable("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(printable("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        assert_eq!(printable("a\u{2028}b\u{2029}"), "a\\u{2028}b\\u{2029}");
        assert_eq!(printable("\u{200f}"), "\\u{200f}");
    }

    #[test]
    fn ordinary_text_is_kept_and_borrowed() {
        for text in [
            "C:\\Data",
            "/var/lib/pgsql",
            "résumé",
            "日本語.txt",
            "a b",
            "",
        ] {
            assert!(matches!(printable(text), Cow::Borrowed(kept) if kept == text));
        }
        // A non-breaking space is ordinary text, not a control.
        assert_eq!(printable("a\u{a0}b"), "a\u{a0}b");
    }

    #[test]
    fn printable_lines_keeps_line_breaks_only() {
        assert_eq!(printable_lines("one\ntwo\r\nthree"), "one\ntwo\r\nthree");
        assert_eq!(printable_lines("a\u{1b}[2J\nb\rc"), "a\\u{1b}[2J\nb\\rc");
    }
}
