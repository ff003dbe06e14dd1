//! Anchors, aliases, merge keys and duplicate keys.

use super::{child, codes, keys, parse_clean, parse_default, slice};
use crate::plan::yaml::Value;

#[test]
fn aliases_copy_the_anchored_value() {
    let root = parse_clean("a: &x [1, 2]\nb: *x\nc: &s hello\nd: *s\n");
    assert_eq!(
        root.to_json(),
        serde_json::json!({"a": [1, 2], "b": [1, 2], "c": "hello", "d": "hello"})
    );
}

#[test]
fn merge_key_copies_missing_keys_and_explicit_keys_override() {
    let text = "base: &base\n  user: admin\n  domain: CORP\n  port: 22\nweb:\n  port: 2222\n  <<: *base\n  user: root\n";
    let root = parse_clean(text);
    let web = child(&root, "web");
    assert_eq!(keys(web), ["port", "domain", "user"]);
    assert_eq!(
        web.to_json(),
        serde_json::json!({"port": 2222, "domain": "CORP", "user": "root"})
    );
    // A merged entry keeps the spans of its definition.
    assert_eq!(slice(text, &child(web, "domain").span), "CORP");
}

#[test]
fn merge_of_a_list_earlier_mappings_win() {
    let text = "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  w: 0\n";
    let root = parse_clean(text);
    assert_eq!(
        child(&root, "c").to_json(),
        serde_json::json!({"x": 1, "y": 1, "z": 2, "w": 0})
    );
}

#[test]
fn nested_merges_and_inline_merge_mappings() {
    let text = "base: &base {user: admin}\nmid: &mid\n  <<: *base\n  domain: CORP\nleaf:\n  <<: *mid\n  extra: {<<: {k: v}, k2: v2}\n";
    let root = parse_clean(text);
    assert_eq!(
        child(&root, "leaf").to_json(),
        serde_json::json!({"user": "admin", "domain": "CORP", "extra": {"k": "v", "k2": "v2"}})
    );
}

#[test]
fn merged_keys_never_count_as_duplicates() {
    let parsed = parse_default("a: &a {x: 1}\nb: &b {x: 2}\nc:\n  <<: [*a, *b]\n  x: 3\n");
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
}

#[test]
fn quoted_merge_key_is_a_plain_key() {
    let root = parse_clean("m: {\"<<\": 1}\n");
    assert_eq!(root.to_json(), serde_json::json!({"m": {"<<": 1}}));
}

#[test]
fn merging_a_scalar_is_reported() {
    let parsed = parse_default("s: &s text\nm:\n  <<: *s\n  k: v\n");
    assert_eq!(codes(&parsed), ["yaml-syntax"]);
    assert!(parsed.diagnostics[0].message.contains("`<<`"));
    let root = parsed.root.expect("tree kept");
    assert_eq!(child(&root, "m").to_json(), serde_json::json!({"k": "v"}));
}

#[test]
fn duplicate_keys_label_both_places_and_keep_the_first() {
    let text = "sources:\n  web:\n    ip: 10.0.0.1\n    ip: 10.0.0.2\n  web:\n    ip: 10.0.0.3\nother: 1\n";
    let parsed = parse_default(text);
    assert_eq!(codes(&parsed), ["duplicate-key", "duplicate-key"]);
    let first = &parsed.diagnostics[0];
    assert!(first.message.contains("`ip`"), "{}", first.message);
    assert_eq!(first.labels[0].message, "defined again here");
    assert_eq!(
        first.labels[0].span.start,
        text.find("ip: 10.0.0.2").unwrap()
    );
    assert_eq!(first.labels[1].message, "first defined here");
    assert_eq!(
        first.labels[1].span.start,
        text.find("ip: 10.0.0.1").unwrap()
    );
    let second = &parsed.diagnostics[1];
    assert_eq!(slice(text, &second.labels[0].span), "web");
    assert_eq!(second.labels[0].span.start, text.rfind("web").unwrap());
    let root = parsed.root.expect("the first values are kept");
    assert_eq!(
        root.to_json(),
        serde_json::json!({"sources": {"web": {"ip": "10.0.0.1"}}, "other": 1})
    );
}

#[test]
fn duplicate_keys_compare_resolved_text_in_large_mappings() {
    let mut text = String::new();
    for index in 0..40 {
        text.push_str(&format!("key{index}: {index}\n"));
    }
    text.push_str("\"key7\": again\n'key39': again\n");
    let parsed = parse_default(&text);
    assert_eq!(codes(&parsed), ["duplicate-key", "duplicate-key"]);
    assert_eq!(
        child(parsed.root.as_ref().unwrap(), "key7").value,
        Value::Integer(7)
    );
}

#[test]
fn unknown_alias_is_a_syntax_error() {
    let text = "a: 1\nb: *nope\n";
    let parsed = parse_default(text);
    assert_eq!(codes(&parsed), ["yaml-syntax"]);
    assert!(parsed.root.is_none());
    let diagnostic = &parsed.diagnostics[0];
    assert!(
        diagnostic.message.contains("`*nope`"),
        "{}",
        diagnostic.message
    );
    assert_eq!(diagnostic.labels[0].span.start, text.find('*').unwrap());
}

#[test]
fn alias_inside_its_own_anchor_is_rejected() {
    let parsed = parse_default("a: &x [1, *x]\n");
    assert_eq!(codes(&parsed), ["yaml-syntax"]);
    assert!(parsed.root.is_none());
}
