//! The plan's JSON Schema: generated from the raw types, and the compiled validator used by `ferry check`.

use std::sync::OnceLock;

use schemars::generate::SchemaSettings;

use crate::plan::raw::RawPlan;

mod classify;
mod editors;
mod wording;

pub use classify::schema_diagnostics;

/// The JSON Schema (draft 2020-12) of plan format version 1, as a JSON value.
///
/// It has no `$id`: the project owns no URL to publish it at, and a `$id` on a domain it does
/// not own would name a document nobody serves. Without one, a schema's base URI is where it was
/// read from, which is how plans use it: `ferry schema > plan.schema.json` beside a plan and the
/// modeline `# yaml-language-server: $schema=./plan.schema.json` (README, "Editor support").
pub fn plan_schema() -> serde_json::Value {
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<RawPlan>();
    let mut value = schema.to_value();
    remove_null_alternatives(&mut value);
    editors::for_editors(&mut value);
    let serde_json::Value::Object(mut generated) = value else {
        return value;
    };
    // The identification first, so the committed file reads top-down.
    let mut ordered = serde_json::Map::new();
    for key in ["$schema", "title", "description"] {
        if let Some(value) = generated.shift_remove(key) {
            ordered.insert(key.to_string(), value);
        }
    }
    ordered.extend(generated);
    serde_json::Value::Object(ordered)
}

/// Optional keys may be left out, but an explicit `null` is not a value users mean to write:
/// schemars allows it for `Option` fields, so take it out again (`anyOf [X, null]` becomes `X`).
fn remove_null_alternatives(value: &mut serde_json::Value) {
    let Some(object) = value.as_object_mut() else {
        if let Some(items) = value.as_array_mut() {
            items.iter_mut().for_each(remove_null_alternatives);
        }
        return;
    };
    if let Some(serde_json::Value::Array(types)) = object.get_mut("type") {
        types.retain(|kind| kind != "null");
        if types.len() == 1 {
            let single = types.remove(0);
            object.insert("type".to_string(), single);
        }
    }
    let null_schema = serde_json::json!({ "type": "null" });
    if let Some(serde_json::Value::Array(alternatives)) = object.get("anyOf")
        && alternatives.len() == 2
        && alternatives[1] == null_schema
        && let Some(serde_json::Value::Object(kept)) = alternatives.first().cloned()
    {
        object.shift_remove("anyOf");
        for (key, value) in kept {
            object.entry(key).or_insert(value);
        }
    }
    object.values_mut().for_each(remove_null_alternatives);
}

/// The schema as committed to `schema/plan.schema.json`: pretty-printed, ending in a newline.
pub fn plan_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&plan_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// The schema value, built once per process.
fn validator_schema() -> &'static serde_json::Value {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA.get_or_init(plan_schema)
}

/// The compiled validator, built once per process.
pub fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(validator_schema())
            .unwrap_or_else(|error| panic!("the generated plan schema must compile: {error}"))
    })
}

#[cfg(test)]
mod tests;
