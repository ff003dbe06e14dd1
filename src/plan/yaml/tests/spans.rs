//! Spans are byte ranges, keys included, exact after multibyte characters, trimmed for blocks.

use super::{child, entry, item, parse_clean, parse_default, slice};
use crate::plan::yaml::Value;

#[test]
fn keys_and_values_have_exact_byte_spans() {
    let text = "name: web-01\nip: \"10.0.0.1\"\nsize: 40\n";
    let root = parse_clean(text);
    let (key, value) = entry(&root, "ip");
    assert_eq!(slice(text, &key.span), "ip");
    assert_eq!(slice(text, &value.span), "\"10.0.0.1\"");
    let (key, value) = entry(&root, "size");
    assert_eq!(slice(text, &key.span), "size");
    assert_eq!(slice(text, &value.span), "40");
}

#[test]
fn spans_after_multibyte_characters_are_bytes() {
    let text = "# æøå — 𝄞\nnavn: \"Blåbærsyltetøy\"\nip: 10.0.0.1\nlist: [æ, ø]\n";
    let root = parse_clean(text);
    let (key, value) = entry(&root, "ip");
    assert_eq!(slice(text, &key.span), "ip");
    assert_eq!(slice(text, &value.span), "10.0.0.1");
    assert_eq!(
        slice(text, &child(&root, "navn").span),
        "\"Blåbærsyltetøy\""
    );
    let list = child(&root, "list");
    assert_eq!(slice(text, &list.span), "[æ, ø]");
    assert_eq!(slice(text, &item(list, 1).span), "ø");
}

#[test]
fn error_label_after_multibyte_characters_is_not_shifted() {
    let text = "beskrivelse: æøå æøå æøå\nip: [10.0.0.1\n";
    let parsed = parse_default(text);
    let label = &parsed.diagnostics[0].labels[0];
    assert!(text.is_char_boundary(label.span.start));
    // The error is reported on the second line, after the unclosed bracket.
    assert!(label.span.start >= text.find("ip").unwrap(), "{label:?}");
}

#[test]
fn block_collections_are_trimmed_to_their_last_content_byte() {
    let text = "sources:\n  web:\n    ip: 1.2.3.4\n    mounts:\n      - /\n      - /var   # comment\n\n\n# trailing\ntargets: {}\n";
    let root = parse_clean(text);
    let web = child(child(&root, "sources"), "web");
    assert_eq!(
        slice(text, &web.span),
        "ip: 1.2.3.4\n    mounts:\n      - /\n      - /var"
    );
    let mounts = child(web, "mounts");
    assert_eq!(slice(text, &mounts.span), "- /\n      - /var");
    assert_eq!(slice(text, &child(&root, "targets").span), "{}");
    assert!(slice(text, &root.span).ends_with("targets: {}"));
}

#[test]
fn block_scalars_and_empty_values() {
    let text = "script: |\n  echo hi\n\nempty:\nnext: 1\n";
    let root = parse_clean(text);
    assert_eq!(
        child(&root, "script").value,
        Value::String("echo hi\n".into())
    );
    assert_eq!(slice(text, &child(&root, "script").span), "echo hi");
    let (key, value) = entry(&root, "empty");
    assert_eq!(value.value, Value::Null);
    assert_eq!(value.span.start, key.span.end);
    assert!(value.span.is_empty());
}

#[test]
fn nodes_with_anchors_and_aliases_have_spans() {
    let text = "base: &b {k: v}\nuse: *b\n";
    let root = parse_clean(text);
    assert_eq!(slice(text, &child(&root, "base").span), "&b {k: v}");
    let used = child(&root, "use");
    assert_eq!(slice(text, &used.span), "*b");
    // Inside an expanded alias, spans point at the anchor's definition.
    assert_eq!(slice(text, &child(used, "k").span), "v");
}

#[test]
fn a_list_where_a_map_belongs_parses_fine() {
    let text = "sources:\n  - web-01\n  - web-02\n";
    let root = parse_clean(text);
    assert!(
        matches!(child(&root, "sources").value, Value::Sequence(ref items) if items.len() == 2)
    );
}

#[test]
fn indentless_sequences_anchored_blocks_and_a_byte_order_mark() {
    let text =
        "\u{feff}mounts:\n- /\n- /var\nbase: &b\n  user: admin\n  domain: CORP\n\nnext: [a]\n";
    let root = parse_clean(text);
    assert_eq!(slice(text, &child(&root, "mounts").span), "- /\n- /var");
    assert_eq!(slice(text, &item(child(&root, "mounts"), 1).span), "/var");
    assert_eq!(
        slice(text, &child(&root, "base").span),
        "&b\n  user: admin\n  domain: CORP"
    );
    assert_eq!(slice(text, &entry(&root, "next").0.span), "next");
    let text = "- - a
  - b
- c
";
    let root = parse_clean(text);
    assert_eq!(slice(text, &root.span), "- - a\n  - b\n- c");
    assert_eq!(slice(text, &item(&root, 0).span), "- a\n  - b");
}

#[test]
fn multi_line_and_quoted_scalars() {
    let text = "a: first\n  continued\nb: 'it''s'\nc: \"ø\\n\"\n";
    let root = parse_clean(text);
    assert_eq!(
        child(&root, "a").value,
        Value::String("first continued".into())
    );
    assert_eq!(slice(text, &child(&root, "a").span), "first\n  continued");
    assert_eq!(slice(text, &child(&root, "b").span), "'it''s'");
    assert_eq!(slice(text, &child(&root, "c").span), "\"ø\\n\"");
}
