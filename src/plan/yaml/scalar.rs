//! YAML 1.2 core-schema scalar resolution, and the basic `!!` tags.
//!
//! Only plain (unquoted) scalars are resolved; quoted and block scalars are always strings.
//! `yes`, `no`, `on` and `off` stay strings (they were booleans only in YAML 1.1).

use std::borrow::Cow;

use saphyr_parser::{ScalarStyle, Tag};

use super::Value;

/// The YAML core-schema tag namespace (`!!int` is `tag:yaml.org,2002:int`).
const CORE_HANDLE: &str = "tag:yaml.org,2002:";

/// A scalar whose tag asks for a type its text does not have (`!!int abc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TagMismatch {
    /// The tag as written, such as `!!int`.
    pub(crate) tag: String,
}

/// Resolves a scalar's text to a value, honouring its tag.
///
/// On a tag mismatch the value is kept as a string and the mismatch is returned beside it.
pub(crate) fn resolve(
    text: Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<&Tag>,
) -> (Value, Option<TagMismatch>) {
    let Some(tag) = tag else {
        return if style == ScalarStyle::Plain {
            (resolve_plain(text), None)
        } else {
            (Value::String(text.into_owned()), None)
        };
    };
    if tag.handle != CORE_HANDLE {
        // The non-specific tag `!` and application tags (`!custom`) leave the text as a string.
        return (Value::String(text.into_owned()), None);
    }
    let text = text.as_ref();
    let resolved = match tag.suffix.as_str() {
        "null" => is_null(text).then_some(Value::Null),
        "bool" => parse_bool(text).map(Value::Bool),
        "int" => parse_integer(text),
        "float" => parse_float(text).or_else(|| match parse_integer(text) {
            Some(Value::Integer(integer)) => Some(Value::Float(integer as f64)),
            Some(Value::BigInteger(big)) => Some(Value::Float(big_integer_as_f64(&big))),
            _ => None,
        }),
        // `!!str`, `!!binary`, `!!timestamp` and the rest: the text itself.
        _ => Some(Value::String(text.to_owned())),
    };
    match resolved {
        Some(value) => (value, None),
        None => (
            Value::String(text.to_owned()),
            Some(TagMismatch {
                tag: format!("!!{}", tag.suffix),
            }),
        ),
    }
}

/// Core-schema resolution of a plain scalar.
pub(crate) fn resolve_plain(text: Cow<'_, str>) -> Value {
    if is_plain_string(&text) {
        return Value::String(text.into_owned());
    }
    let text = text.as_ref();
    if is_null(text) {
        return Value::Null;
    }
    if let Some(boolean) = parse_bool(text) {
        return Value::Bool(boolean);
    }
    if let Some(integer) = parse_integer(text) {
        return integer;
    }
    if let Some(float) = parse_float(text) {
        return float;
    }
    Value::String(text.to_owned())
}

/// A quick check that rules out every other type: null, booleans and numbers start with one of
/// `~ n N t T f F + - . 0-9`, or are empty.
fn is_plain_string(text: &str) -> bool {
    !matches!(
        text.as_bytes().first(),
        None | Some(
            b'~' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'+' | b'-' | b'.' | b'0'..=b'9'
        )
    )
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// `[-+]?[0-9]+`, `0o[0-7]+` or `0x[0-9a-fA-F]+`; too large for `i64` gives a `BigInteger`.
fn parse_integer(text: &str) -> Option<Value> {
    let (digits, radix) = if let Some(octal) = text.strip_prefix("0o") {
        (octal, 8)
    } else if let Some(hex) = text.strip_prefix("0x") {
        (hex, 16)
    } else {
        let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
        (unsigned, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let parsed = if radix == 10 {
        text.parse::<i64>()
    } else {
        i64::from_str_radix(digits, radix)
    };
    Some(match parsed {
        Ok(integer) => Value::Integer(integer),
        Err(_) => Value::BigInteger(text.to_owned()),
    })
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `[-+]?.inf` and `.nan` (three spellings each).
fn parse_float(text: &str) -> Option<Value> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let negative = text.starts_with('-');
    match unsigned {
        ".inf" | ".Inf" | ".INF" => {
            return Some(Value::Float(if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }));
        }
        ".nan" | ".NaN" | ".NAN" if unsigned.len() == text.len() => {
            return Some(Value::Float(f64::NAN));
        }
        _ => {}
    }
    if !is_core_float(unsigned) {
        return None;
    }
    text.parse::<f64>().ok().map(Value::Float)
}

/// Checks the unsigned part of a core-schema float: `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_core_float(unsigned: &str) -> bool {
    let bytes = unsigned.as_bytes();
    let mut index = 0;
    let count_digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let integer_digits = count_digits(index);
    index += integer_digits;
    let mut fraction_digits = 0;
    if bytes.get(index) == Some(&b'.') {
        index += 1;
        fraction_digits = count_digits(index);
        index += fraction_digits;
    }
    if integer_digits == 0 && fraction_digits == 0 {
        return false;
    }
    if matches!(bytes.get(index), Some(b'e' | b'E')) {
        index += 1;
        if matches!(bytes.get(index), Some(b'-' | b'+')) {
            index += 1;
        }
        let exponent_digits = count_digits(index);
        if exponent_digits == 0 {
            return false;
        }
        index += exponent_digits;
    }
    index == bytes.len()
}

/// The nearest `f64` to a big integer's text (decimal, `0o` or `0x`); infinite when out of range.
pub(crate) fn big_integer_as_f64(text: &str) -> f64 {
    let (digits, radix) = if let Some(octal) = text.strip_prefix("0o") {
        (octal, 8)
    } else if let Some(hex) = text.strip_prefix("0x") {
        (hex, 16)
    } else {
        return text.parse::<f64>().unwrap_or(f64::NAN);
    };
    digits.chars().fold(0.0, |total, digit| {
        total * f64::from(radix) + f64::from(digit.to_digit(radix).unwrap_or(0))
    })
}

/// A scalar key's text as it is used for comparing keys and in JSON (the YAML text itself).
pub(crate) fn key_text_of_value(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => String::new(),
        Value::Bool(boolean) => boolean.to_string(),
        Value::Integer(integer) => integer.to_string(),
        Value::BigInteger(text) | Value::String(text) => text.clone(),
        Value::Float(float) => float_text(*float),
        Value::Sequence(_) | Value::Mapping(_) => return None,
    })
}

/// A float written the YAML way (`.inf`, `-.inf`, `.nan`, otherwise Rust's shortest form).
pub(crate) fn float_text(float: f64) -> String {
    if float.is_nan() {
        ".nan".to_owned()
    } else if float == f64::INFINITY {
        ".inf".to_owned()
    } else if float == f64::NEG_INFINITY {
        "-.inf".to_owned()
    } else {
        float.to_string()
    }
}
