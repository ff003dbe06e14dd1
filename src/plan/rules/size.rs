//! Mount sizes: integer bytes or text such as `40 GiB`, parsed with `bytesize` and checked for zero and overflow.
//!
//! The text form accepted here is exactly the schema's pattern in `raw.rs`:
//! `^\s*([0-9]+\s*UNIT?|[0-9]+\.[0-9]+\s*UNIT)\s*$` with `UNIT` = `[kKmMgGtTpPeE][iI]?[bB]?|[bB]`
//! (case-insensitive, as `bytesize` reads it; a fraction needs a unit).

use std::str::FromStr;

use bytesize::{ByteSize, Unit};

use crate::plan::raw::RawSize;

/// Why a size is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    #[error("a mount size must be greater than zero")]
    Zero,
    #[error("`{0}` is not a size: write integer bytes or a number with a unit, such as `40 GiB`")]
    Unparsable(String),
    #[error("`{0}` is larger than the largest size ferry can count (16 EiB)")]
    Overflow(String),
}

/// The size in bytes.
pub(super) fn parse_size(size: &RawSize) -> Result<u64, SizeError> {
    match size {
        RawSize::Bytes(0) => Err(SizeError::Zero),
        RawSize::Bytes(bytes) => Ok(*bytes),
        RawSize::Text(text) => parse_size_text(text),
    }
}

/// Parses `40 GiB`, `40GiB`, `1.5 TB`, `512 MiB`, `100` (bytes). Surrounding spaces are ignored.
pub fn parse_size_text(text: &str) -> Result<u64, SizeError> {
    let unparsable = || SizeError::Unparsable(text.trim().to_string());
    let trimmed = text.trim();
    let number_end = trimmed
        .find(|character: char| !(character.is_ascii_digit() || character == '.'))
        .unwrap_or(trimmed.len());
    let (number, rest) = trimmed.split_at(number_end);
    let unit = rest.trim_start();
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (number, None),
    };
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let well_formed = all_digits(whole)
        && fraction.is_none_or(all_digits)
        && (fraction.is_none() || !unit.is_empty());
    if !well_formed {
        return Err(unparsable());
    }
    let factor = if unit.is_empty() {
        1
    } else {
        Unit::from_str(unit).map_err(|_| unparsable())?;
        ByteSize::from_str(&format!("1{unit}"))
            .map_err(|_| unparsable())?
            .as_u64()
    };
    let overflow = || SizeError::Overflow(trimmed.to_string());
    match fraction {
        None => {
            let whole: u64 = whole.parse().map_err(|_| overflow())?;
            whole.checked_mul(factor).ok_or_else(overflow)?;
        }
        Some(_) => {
            let value: f64 = number.parse().map_err(|_| unparsable())?;
            // 2^64: the first value that does not fit in u64.
            if value * factor as f64 >= 18_446_744_073_709_551_616.0 {
                return Err(overflow());
            }
        }
    }
    let bytes = ByteSize::from_str(trimmed)
        .map_err(|_| unparsable())?
        .as_u64();
    if bytes == 0 {
        return Err(SizeError::Zero);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse_size_text("40 GiB"), Ok(40 << 30));
        assert_eq!(parse_size_text("40GiB"), Ok(40 << 30));
        assert_eq!(parse_size_text("1.5 TB"), Ok(1_500_000_000_000));
        assert_eq!(parse_size_text("512 MiB"), Ok(512 << 20));
        assert_eq!(parse_size_text("100"), Ok(100));
        assert_eq!(parse_size_text("  8 gib "), Ok(8 << 30));
        assert_eq!(parse_size_text("2k"), Ok(2000));
        assert_eq!(parse_size_text("3 b"), Ok(3));
    }

    #[test]
    fn rejects_text_that_is_not_a_size() {
        for text in [
            "",
            "GiB",
            "forty",
            "1.5",
            "1.",
            ".5 GiB",
            "1.2.3 GiB",
            "40 GB extra",
            "40 XB",
            "-1",
        ] {
            assert!(
                matches!(parse_size_text(text), Err(SizeError::Unparsable(_))),
                "{text:?}"
            );
        }
    }

    #[test]
    fn rejects_zero_and_overflow() {
        assert_eq!(parse_size_text("0"), Err(SizeError::Zero));
        assert_eq!(parse_size_text("0 GiB"), Err(SizeError::Zero));
        assert_eq!(parse_size(&RawSize::Bytes(0)), Err(SizeError::Zero));
        assert_eq!(parse_size(&RawSize::Bytes(7)), Ok(7));
        for text in ["99999999999999999999", "17 EiB", "16384 PiB", "16.5 EiB"] {
            assert!(
                matches!(parse_size_text(text), Err(SizeError::Overflow(_))),
                "{text:?}"
            );
        }
        assert_eq!(parse_size_text("15 EiB"), Ok(15 << 60));
    }

    /// The schema's pattern and this parser must accept the same texts.
    #[test]
    fn agrees_with_the_schema_pattern() {
        let schema = serde_json::to_value(schemars::schema_for!(RawSize)).unwrap();
        let pattern = find_pattern(&schema).expect("RawSize's schema has a pattern");
        let validator =
            jsonschema::validator_for(&serde_json::json!({"type": "string", "pattern": pattern}))
                .unwrap();
        for text in [
            "40 GiB",
            "40GiB",
            "1.5 TB",
            "512 MiB",
            "100",
            " 8 gib ",
            "2k",
            "3 b",
            "1.5 b",
            "7 Ei",
            "",
            "GiB",
            "forty",
            "1.5",
            "1.",
            ".5 GiB",
            "1.2.3 GiB",
            "40 GB extra",
            "40 XB",
            "-1",
        ] {
            let parses = !matches!(parse_size_text(text), Err(SizeError::Unparsable(_)));
            assert_eq!(
                validator.is_valid(&serde_json::json!(text)),
                parses,
                "{text:?}"
            );
        }
    }

    fn find_pattern(value: &serde_json::Value) -> Option<String> {
        match value {
            serde_json::Value::Object(map) => map
                .get("pattern")
                .and_then(|pattern| pattern.as_str().map(str::to_string))
                .or_else(|| map.values().find_map(find_pattern)),
            serde_json::Value::Array(items) => items.iter().find_map(find_pattern),
            _ => None,
        }
    }
}
