//! Byte offsets to 1-based line and column positions, shared by the JSON, GitHub and SARIF renderers.
//!
//! Conventions (documented for users of `--format json`):
//! - lines and columns start at 1;
//! - a column counts Unicode characters (code points) from the start of the line, not bytes and
//!   not UTF-16 units, so `æ` and `😀` each count as one column;
//! - a line ends at `\n`, `\r\n` or a lone `\r` (as in YAML); the `\r` of a `\r\n` pair
//!   belongs to the line it ends;
//! - an end position is exclusive: it is where the character after the span starts.
//!
//! Offsets are never trusted: one past the end of the text is clamped to the end, one inside a
//! multibyte character moves back to that character's start, and an end before its start is
//! moved to the start. Nothing here panics.

use std::ops::Range;

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// The start and the exclusive end of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositionRange {
    pub start: Position,
    pub end: Position,
}

/// Where each line of a text starts, for converting byte offsets to positions.
#[derive(Debug, Clone)]
pub struct LineIndex<'text> {
    text: &'text str,
    /// The byte offset of the first character of each line; the first is always 0.
    line_starts: Vec<usize>,
}

impl<'text> LineIndex<'text> {
    pub fn new(text: &'text str) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        line_starts.extend(
            bytes
                .iter()
                .enumerate()
                .filter(|(offset, byte)| {
                    **byte == b'\n' || (**byte == b'\r' && bytes.get(offset + 1) != Some(&b'\n'))
                })
                .map(|(offset, _)| offset + 1),
        );
        Self { text, line_starts }
    }

    /// Moves an offset into the text and onto a character boundary (backwards).
    pub fn clamp(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// A span made safe to slice the text with: both ends clamped, the end not before the start.
    pub fn clamp_span(&self, span: &Range<usize>) -> Range<usize> {
        let start = self.clamp(span.start);
        let end = self.clamp(span.end).max(start);
        start..end
    }

    /// The position of a byte offset.
    pub fn position(&self, offset: usize) -> Position {
        let offset = self.clamp(offset);
        // The last line start at or before the offset; line_starts is sorted and starts with 0.
        let line = self.line_starts.partition_point(|start| *start <= offset);
        let line_start = self.line_starts[line.saturating_sub(1)];
        let column = self.text[line_start..offset].chars().count() + 1;
        Position { line, column }
    }

    /// The positions of a span's start and exclusive end. A non-empty span that ends with a line
    /// break is shortened to exclude it, so it does not appear to reach into the next line; an
    /// empty span at the very end of a text that ends with a line break moves to the end of the
    /// last line, so it does not point at a line editors may not show.
    pub fn range(&self, span: &Range<usize>) -> PositionRange {
        let mut span = self.clamp_span(span);
        if span.is_empty() && span.start == self.text.len() {
            let end_of_last_line = self.text.trim_end_matches(['\n', '\r']).len();
            span = end_of_last_line..end_of_last_line;
        }
        let covered = &self.text[span.clone()];
        let trimmed = covered.trim_end_matches(['\n', '\r']);
        if !trimmed.is_empty() {
            span.end = span.start + trimmed.len();
        }
        PositionRange {
            start: self.position(span.start),
            end: self.position(span.end),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, column: usize) -> Position {
        Position { line, column }
    }

    #[test]
    fn first_line_and_later_lines() {
        let index = LineIndex::new("ab\ncd\n");
        assert_eq!(index.position(0), at(1, 1));
        assert_eq!(index.position(1), at(1, 2));
        assert_eq!(
            index.position(2),
            at(1, 3),
            "the newline itself ends line 1"
        );
        assert_eq!(index.position(3), at(2, 1));
        assert_eq!(index.position(5), at(2, 3));
        assert_eq!(
            index.position(6),
            at(3, 1),
            "end of a text ending in a newline"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        // `æ` is 2 bytes, `😀` is 4 bytes.
        let text = "æøå: x\n😀y";
        let index = LineIndex::new(text);
        assert_eq!(index.position(text.find('x').unwrap()), at(1, 6));
        assert_eq!(index.position(text.find('y').unwrap()), at(2, 2));
    }

    #[test]
    fn offsets_inside_a_character_move_to_its_start() {
        let index = LineIndex::new("aæb");
        assert_eq!(index.position(2), at(1, 2));
        assert_eq!(index.clamp(2), 1);
    }

    #[test]
    fn offsets_past_the_end_are_clamped() {
        let index = LineIndex::new("ab\ncd");
        assert_eq!(index.position(99), at(2, 3));
        assert_eq!(index.range(&(4..99)).end, at(2, 3));
        assert_eq!(index.range(&(99..120)).start, at(2, 3));
        assert_eq!(LineIndex::new("").position(5), at(1, 1));
    }

    #[test]
    fn crlf_lines() {
        let text = "a: 1\r\nbb: 2\r\n";
        let index = LineIndex::new(text);
        let two = text.find('2').unwrap();
        assert_eq!(index.position(two), at(2, 5));
        // A span covering `bb: 2\r\n` ends before the line break.
        let range = index.range(&(6..text.len()));
        assert_eq!(range.start, at(2, 1));
        assert_eq!(range.end, at(2, 6));
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line() {
        let index = LineIndex::new("a\rb\r\nc");
        assert_eq!(index.position(2), at(2, 1));
        assert_eq!(index.position(3), at(2, 2));
        assert_eq!(index.position(5), at(3, 1));
    }

    #[test]
    fn empty_spans_and_reversed_spans() {
        let index = LineIndex::new("abc");
        let empty = index.range(&(3..3));
        assert_eq!(empty.start, at(1, 4));
        assert_eq!(empty.end, at(1, 4));
        #[allow(clippy::reversed_empty_ranges)]
        let reversed = index.range(&(2..1));
        assert_eq!(reversed.start, at(1, 3));
        assert_eq!(reversed.end, at(1, 3));
    }

    #[test]
    fn an_empty_span_at_the_end_moves_to_the_last_line() {
        let index = LineIndex::new("ab\r\ncd\r\n");
        let range = index.range(&(8..8));
        assert_eq!(range.start, at(2, 3));
        assert_eq!(range.end, at(2, 3));
        assert_eq!(index.range(&(50..60)).start, at(2, 3));
        // Without a final line break nothing moves.
        assert_eq!(LineIndex::new("ab").range(&(2..2)).start, at(1, 3));
        assert_eq!(LineIndex::new("").range(&(0..0)).start, at(1, 1));
    }

    #[test]
    fn a_span_of_only_a_line_break_is_kept() {
        let index = LineIndex::new("a\n");
        let range = index.range(&(1..2));
        assert_eq!(range.start, at(1, 2));
        assert_eq!(range.end, at(2, 1));
    }
}
