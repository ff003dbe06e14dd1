//! Converts saphyr's character indexes to byte offsets, incrementally and cheaply.
//!
//! saphyr's markers count characters. Events arrive almost in text order, so a cursor that walks
//! forward (or briefly backward) from the last position converts every marker of a file in one
//! pass overall. Pure-ASCII text, the common case, needs no walking at all.

/// A cursor over the text that turns character indexes into byte offsets.
#[derive(Debug)]
pub(crate) struct Positions<'text> {
    bytes: &'text [u8],
    ascii: bool,
    char_cursor: usize,
    byte_cursor: usize,
}

impl<'text> Positions<'text> {
    pub(crate) fn new(text: &'text str) -> Self {
        Self {
            bytes: text.as_bytes(),
            ascii: text.is_ascii(),
            char_cursor: 0,
            byte_cursor: 0,
        }
    }

    /// The byte offset of the character at `char_index` (the text's length past its end).
    pub(crate) fn byte_offset(&mut self, char_index: usize) -> usize {
        let length = self.bytes.len();
        if self.ascii {
            return char_index.min(length);
        }
        while self.char_cursor < char_index && self.byte_cursor < length {
            self.byte_cursor += 1;
            while self.byte_cursor < length && is_continuation(self.bytes[self.byte_cursor]) {
                self.byte_cursor += 1;
            }
            self.char_cursor += 1;
        }
        while self.char_cursor > char_index && self.byte_cursor > 0 {
            self.byte_cursor -= 1;
            while self.byte_cursor > 0 && is_continuation(self.bytes[self.byte_cursor]) {
                self.byte_cursor -= 1;
            }
            self.char_cursor -= 1;
        }
        self.byte_cursor
    }

    /// The byte length of the character starting at `byte_offset` (0 at the end of the text).
    pub(crate) fn char_length_at(&self, byte_offset: usize) -> usize {
        let Some(&first) = self.bytes.get(byte_offset) else {
            return 0;
        };
        match first {
            0x00..=0x7F => 1,
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            _ => 4,
        }
        .min(self.bytes.len() - byte_offset)
    }
}

fn is_continuation(byte: u8) -> bool {
    byte & 0b1100_0000 == 0b1000_0000
}

#[cfg(test)]
mod tests {
    use super::Positions;

    #[test]
    fn ascii_is_identity_and_clamped() {
        let mut positions = Positions::new("abc");
        assert_eq!(positions.byte_offset(2), 2);
        assert_eq!(positions.byte_offset(0), 0);
        assert_eq!(positions.byte_offset(10), 3);
    }

    #[test]
    fn multibyte_characters_forward_and_backward() {
        let text = "æøå: 𝄞x";
        let mut positions = Positions::new(text);
        let starts: Vec<usize> = text
            .char_indices()
            .map(|(byte_index, _)| byte_index)
            .collect();
        for (char_index, byte_index) in starts.iter().enumerate().rev() {
            assert_eq!(positions.byte_offset(char_index), *byte_index);
        }
        for (char_index, (byte_index, _)) in text.char_indices().enumerate() {
            assert_eq!(positions.byte_offset(char_index), byte_index);
        }
        assert_eq!(positions.byte_offset(text.chars().count()), text.len());
        assert_eq!(positions.byte_offset(1000), text.len());
        assert_eq!(positions.char_length_at(0), 2);
        assert_eq!(positions.char_length_at(text.len()), 0);
    }
}
