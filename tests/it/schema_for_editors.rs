//! `ferry schema` as editors read it: human titles, each key's own description, snippets for
//! secrets, and only standard formats (outside validators run in `scripts/schema-validators.sh`).

use serde_json::Value;

use crate::support::command::Ferry;

fn printed_schema() -> Value {
    let outcome = Ferry::new().arg("schema").run();
    assert_eq!(outcome.code, 0);
    serde_json::from_str(&outcome.stdout).expect("the schema is JSON")
}

/// Calls `visit` on every schema object in the document, with whether it is an alternative of an
/// `anyOf`/`oneOf`.
fn walk(
    value: &Value,
    alternative: bool,
    visit: &mut dyn FnMut(&serde_json::Map<String, Value>, bool),
) {
    match value {
        Value::Object(object) => {
            visit(object, alternative);
            for (key, child) in object {
                if key == "defaultSnippets" || key == "examples" {
                    continue;
                }
                let is_alternatives = key == "anyOf" || key == "oneOf";
                match child {
                    Value::Array(items) => {
                        for item in items {
                            walk(item, is_alternatives, visit);
                        }
                    }
                    Value::Object(_) if key == "properties" || key == "$defs" => {
                        for schema in child.as_object().unwrap().values() {
                            walk(schema, false, visit);
                        }
                    }
                    _ => walk(child, false, visit),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| walk(item, false, visit)),
        _ => {}
    }
}

#[test]
fn every_definition_and_object_has_a_human_title() {
    let schema = printed_schema();
    for (name, definition) in schema["$defs"].as_object().unwrap() {
        let title = definition["title"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has no title"));
        assert_ne!(
            title, name,
            "{name}: a human title, not the Rust type's name"
        );
        assert!(!title.starts_with("Raw"), "{name}: {title}");
    }
    let mut untitled = Vec::new();
    walk(&schema, false, &mut |object, _| {
        if object.get("type").and_then(Value::as_str) == Some("object")
            && !object.contains_key("title")
        {
            untitled.push(Value::Object(object.clone()).to_string());
        }
    });
    assert!(
        untitled.is_empty(),
        "objects without a title: {untitled:#?}"
    );
}

#[test]
fn every_key_carries_its_own_description_and_no_alternative_has_one() {
    let schema = printed_schema();
    let mut problems = Vec::new();
    walk(&schema, false, &mut |object, alternative| {
        if alternative && object.contains_key("description") {
            problems.push(format!(
                "an alternative with a description: {}",
                Value::Object(object.clone())
            ));
        }
        if let Some(Value::Object(properties)) = object.get("properties") {
            for (key, property) in properties {
                if property
                    .get("description")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    problems.push(format!("key `{key}` has no description of its own"));
                }
            }
        }
    });
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_password_offers_env_and_file_snippets() {
    let schema = printed_schema();
    let password = &schema["$defs"]["RawCredentials"]["properties"]["password"];
    let bodies: Vec<&Value> = password["defaultSnippets"]
        .as_array()
        .expect("defaultSnippets on password")
        .iter()
        .map(|snippet| &snippet["body"])
        .collect();
    assert!(
        bodies.iter().any(|body| body.get("env").is_some()),
        "{bodies:?}"
    );
    assert!(
        bodies.iter().any(|body| body.get("file").is_some()),
        "{bodies:?}"
    );
}

#[test]
fn only_standard_formats_and_no_borrowed_id() {
    let schema = printed_schema();
    assert!(
        schema.get("$id").is_none(),
        "no `$id` on a URL the project does not own"
    );
    let mut formats = Vec::new();
    walk(&schema, false, &mut |object, _| {
        if let Some(format) = object.get("format").and_then(Value::as_str) {
            formats.push(format.to_string());
        }
    });
    formats.sort();
    formats.dedup();
    assert_eq!(formats, ["ipv4", "ipv6"]);
    // The bounds that the dropped number formats implied stay.
    assert_eq!(
        schema["$defs"]["SftpConnection"]["properties"]["port"]["maximum"],
        65535
    );
    assert_eq!(schema["properties"]["version"]["minimum"], 1);
}
