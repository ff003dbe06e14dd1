//! The tree as JSON, for the schema validator and typed deserialisation.
//!
//! Choices: mappings become objects in document order; keys are their YAML text (a scalar key is
//! always stored as a string, see the builder). A `BigInteger` becomes the nearest JSON number
//! (`f64`), so the schema still sees a number; the rules layer reads the exact text with `find`.
//! `.inf`, `-.inf` and `.nan` have no JSON form and become the strings `".inf"`, `"-.inf"`, `".nan"`.
//!
//! Recursion here is bounded by the depth limit the parser enforces.

use std::borrow::Cow;

use serde_json::{Map, Number, Value as Json};

use super::scalar::{big_integer_as_f64, float_text, key_text_of_value};
use super::{Node, Value};

pub(crate) fn to_json(node: &Node) -> Json {
    match &node.value {
        Value::Null => Json::Null,
        Value::Bool(boolean) => Json::Bool(*boolean),
        Value::Integer(integer) => Json::Number(Number::from(*integer)),
        Value::BigInteger(text) => match Number::from_f64(big_integer_as_f64(text)) {
            Some(number) => Json::Number(number),
            None => Json::String(text.clone()),
        },
        Value::Float(float) => match Number::from_f64(*float) {
            Some(number) => Json::Number(number),
            None => Json::String(float_text(*float)),
        },
        Value::String(text) => Json::String(text.clone()),
        Value::Sequence(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Mapping(entries) => {
            let mut object = Map::with_capacity(entries.len());
            for (key, value) in entries {
                object
                    .entry(key_text(key).into_owned())
                    .or_insert_with(|| to_json(value));
            }
            Json::Object(object)
        }
    }
}

/// A key's text: the string itself, a scalar's YAML text, or a collection key's compact JSON.
pub(crate) fn key_text(key: &Node) -> Cow<'_, str> {
    match &key.value {
        Value::String(text) => Cow::Borrowed(text),
        Value::Sequence(_) | Value::Mapping(_) => Cow::Owned(to_json(key).to_string()),
        scalar => Cow::Owned(key_text_of_value(scalar).unwrap_or_default()),
    }
}
