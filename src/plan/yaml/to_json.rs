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

/// [`to_json`], with the root mapping's values converted on threads of their own: a large plan's
/// `sources`, `targets` and `migrations` are converted at once on a machine with several cores.
/// The result is the same as `to_json`'s.
pub(crate) fn to_json_in_parallel(node: &Node) -> Json {
    let Value::Mapping(entries) = &node.value else {
        return to_json(node);
    };
    std::thread::scope(|scope| {
        let converted: Vec<_> = entries
            .iter()
            .map(|(key, value)| (key, scope.spawn(move || to_json(value))))
            .collect();
        let mut object = Map::with_capacity(entries.len());
        for (key, conversion) in converted {
            let value = conversion
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            object.entry(key_text(key).into_owned()).or_insert(value);
        }
        Json::Object(object)
    })
}

/// A key's text: the string itself, a scalar's YAML text, or a collection key's compact JSON.
pub(crate) fn key_text(key: &Node) -> Cow<'_, str> {
    match &key.value {
        Value::String(text) => Cow::Borrowed(text),
        Value::Sequence(_) | Value::Mapping(_) => Cow::Owned(to_json(key).to_string()),
        scalar => Cow::Owned(key_text_of_value(scalar).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::yaml::{Limits, parse};

    #[test]
    fn parallel_conversion_gives_the_same_json() {
        let text = "version: 1\nanchors: &a { x: [1, 2.5, .inf, ~, yes] }\nsources:\n  web: { <<: *a, ip: 192.0.2.1 }\n\"quoted key\": 99999999999999999999999\n";
        let root = parse(text, &Limits::default()).root.expect("parses");
        assert_eq!(root.to_json_in_parallel(), root.to_json());
        let scalar = parse("just text\n", &Limits::default())
            .root
            .expect("parses");
        assert_eq!(scalar.to_json_in_parallel(), scalar.to_json());
    }
}
