//! Finds every value inside a `credentials` mapping in a plan's YAML tree, whatever its key is
//! spelled, so that `passwrd: x` or `password: [a, b]` is masked like `password: x`.
//!
//! `username` and `domain` stay visible (they are not secrets, and a diagnostic often points at
//! them). A reference (`{ env: NAME }`, `{ file: PATH }`) stays visible. Inside a collection,
//! every scalar is masked and the keys are kept. Merged entries and aliased collections keep the
//! spans of the text they were copied from, so the definition is masked where it is written;
//! an aliased scalar (`password: *pw`) leads to its anchor (`&pw value`), which is masked there.

use std::ops::Range;

use crate::plan::yaml::{Node, Value};

/// Keys of a `credentials` mapping whose values are shown.
const VISIBLE_KEYS: [&str; 2] = ["username", "domain"];

/// What to mask: the spans of scalar values in the tree, and the names of aliased scalars.
#[derive(Debug, Default)]
pub(super) struct CredentialValues {
    pub spans: Vec<Range<usize>>,
    pub anchors: Vec<String>,
}

/// Every value to mask under any `credentials` key of the tree.
pub(super) fn credential_values(text: &str, root: &Node) -> CredentialValues {
    let mut found = CredentialValues::default();
    find_credentials(text, root, &mut found);
    found
}

fn find_credentials(text: &str, node: &Node, found: &mut CredentialValues) {
    match &node.value {
        Value::Mapping(entries) => {
            for (key, value) in entries {
                if matches!(&key.value, Value::String(name) if name == "credentials") {
                    mask_credentials(text, value, found);
                } else {
                    find_credentials(text, value, found);
                }
            }
        }
        Value::Sequence(items) => {
            for item in items {
                find_credentials(text, item, found);
            }
        }
        _ => {}
    }
}

fn mask_credentials(text: &str, credentials: &Node, found: &mut CredentialValues) {
    let Value::Mapping(entries) = &credentials.value else {
        // Not a mapping (the schema reports it): whatever it is, it is hidden.
        mask_value(text, credentials, found);
        return;
    };
    for (key, value) in entries {
        let visible =
            matches!(&key.value, Value::String(name) if VISIBLE_KEYS.contains(&name.as_str()));
        if !visible && !is_reference(value) {
            mask_value(text, value, found);
        }
    }
}

/// `{ env: NAME }` or `{ file: PATH }`: names a secret without holding it.
fn is_reference(node: &Node) -> bool {
    match &node.value {
        Value::Mapping(entries) => {
            !entries.is_empty()
                && entries.iter().all(|(key, value)| {
                    matches!(&key.value, Value::String(name) if name == "env" || name == "file")
                        && !matches!(value.value, Value::Sequence(_) | Value::Mapping(_))
                })
        }
        _ => false,
    }
}

/// Masks every scalar of a value (keys of nested mappings stay).
fn mask_value(text: &str, node: &Node, found: &mut CredentialValues) {
    match &node.value {
        Value::Mapping(entries) => {
            for (_, value) in entries {
                mask_value(text, value, found);
            }
        }
        Value::Sequence(items) => {
            for item in items {
                mask_value(text, item, found);
            }
        }
        Value::Null => {}
        // An empty string hides nothing, and masking it would hide that it is empty.
        Value::String(string) if string.is_empty() => {}
        _ => {
            let written = text.get(node.span.clone()).unwrap_or_default();
            if let Some(name) = written.strip_prefix('*') {
                found.anchors.push(name.trim().to_string());
            } else {
                found.spans.push(node.span.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::yaml::{Limits, parse};

    fn masked(text: &str) -> Vec<&str> {
        let root = parse(text, &Limits::default()).root.expect("parses");
        let found = credential_values(text, &root);
        found.spans.iter().map(|span| &text[span.clone()]).collect()
    }

    #[test]
    fn every_key_but_username_and_domain_is_masked() {
        let text = "s:\n  credentials: { username: a, passwrd: PLAINMARKER, domain: d }\n";
        assert_eq!(masked(text), ["PLAINMARKER"]);
        let text = "s:\n  credentials:\n    username: a\n    password: [A, \"B\"]\n";
        assert_eq!(masked(text), ["A", "\"B\""]);
        let text = "s:\n  credentials:\n    pass: {x: PLAINMARKER}\n    token: 12\n";
        assert_eq!(masked(text), ["PLAINMARKER", "12"]);
    }

    #[test]
    fn references_empty_values_and_other_mappings_stay() {
        let text = "s:\n  credentials: { username: a, password: { env: X }, k: {file: f}, e: '' }\n  other: { passwrd: seen }\n";
        assert!(masked(text).is_empty(), "{:?}", masked(text));
    }

    #[test]
    fn merged_and_aliased_values_are_masked_where_they_are_written() {
        let text = "anchors:\n  base: &base { username: a, secretish: HIDDEN1 }\n  pw: &pw HIDDEN2\ns:\n  credentials: { <<: *base, username: b }\nt:\n  credentials: *base\nu:\n  credentials: { username: c, pass: *pw }\n";
        let root = parse(text, &Limits::default()).root.expect("parses");
        let found = credential_values(text, &root);
        let spans: Vec<&str> = found.spans.iter().map(|span| &text[span.clone()]).collect();
        assert_eq!(spans, ["HIDDEN1", "HIDDEN1"]);
        assert_eq!(found.anchors, ["pw"]);
    }
}
