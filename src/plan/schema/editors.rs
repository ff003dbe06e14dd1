//! Shapes the generated schema for editors and outside validators: standard `format`s only, and
//! every description on the key it describes.
//!
//! - schemars writes Rust's number formats (`uint16`, `uint64`): no standard defines them and ajv
//!   in strict mode refuses them. They go; the `minimum` and `maximum` bounds stay.
//! - The YAML language server's hover takes the first description among the schemas that match a
//!   value, and the alternatives of an `anyOf`/`oneOf` come before the key's own. So an
//!   alternative carries a `title` (what completions and messages name it) and no description:
//!   a tagged alternative (`sftp: {...}`) hands its description to its tag's key, and a definition
//!   used as an alternative (`{ env: NAME }`) keeps none of its own.

use std::collections::BTreeSet;

use serde_json::Value;

/// The `format` values that JSON Schema draft 2020-12 defines.
const STANDARD_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

/// Applies both edits to a generated schema.
pub fn for_editors(schema: &mut Value) {
    drop_nonstandard_formats(schema);
    let mut alternative_definitions = BTreeSet::new();
    describe_keys_not_alternatives(schema, &mut alternative_definitions);
    if let Some(Value::Object(definitions)) = schema.get_mut("$defs") {
        for name in alternative_definitions {
            if let Some(Value::Object(definition)) = definitions.get_mut(&name) {
                definition.shift_remove("description");
            }
        }
    }
}

fn drop_nonstandard_formats(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if object
                .get("format")
                .and_then(Value::as_str)
                .is_some_and(|format| !STANDARD_FORMATS.contains(&format))
            {
                object.shift_remove("format");
            }
            object.values_mut().for_each(drop_nonstandard_formats);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nonstandard_formats),
        _ => {}
    }
}

/// Takes descriptions off the alternatives of every `anyOf`/`oneOf` (see the module comment) and
/// collects the definitions that alternatives reference.
fn describe_keys_not_alternatives(
    value: &mut Value,
    alternative_definitions: &mut BTreeSet<String>,
) {
    match value {
        Value::Object(object) => {
            for keyword in ["anyOf", "oneOf"] {
                if let Some(Value::Array(alternatives)) = object.get_mut(keyword) {
                    for alternative in alternatives.iter_mut().filter_map(Value::as_object_mut) {
                        undescribe_alternative(alternative, alternative_definitions);
                    }
                }
            }
            for child in object.values_mut() {
                describe_keys_not_alternatives(child, alternative_definitions);
            }
        }
        Value::Array(items) => {
            for item in items {
                describe_keys_not_alternatives(item, alternative_definitions);
            }
        }
        _ => {}
    }
}

fn undescribe_alternative(
    alternative: &mut serde_json::Map<String, Value>,
    alternative_definitions: &mut BTreeSet<String>,
) {
    let description = alternative.shift_remove("description");
    if let Some(reference) = alternative.get("$ref").and_then(Value::as_str)
        && let Some(name) = reference.strip_prefix("#/$defs/")
    {
        alternative_definitions.insert(name.to_string());
    }
    // A tagged alternative `{ properties: { TAG: ... }, required: [TAG] }`: the tag's key gets it.
    let Some(description) = description else {
        return;
    };
    let Some(Value::Object(properties)) = alternative.get_mut("properties") else {
        return;
    };
    if properties.len() == 1
        && let Some(Value::Object(tag)) = properties.values_mut().next()
    {
        tag.entry("description").or_insert(description);
    }
}
