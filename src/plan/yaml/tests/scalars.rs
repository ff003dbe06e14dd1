//! YAML 1.2 core-schema resolution of every kind of scalar, and the basic tags.

use super::{child, codes, keys, parse_clean, parse_default};
use crate::plan::yaml::Value;

fn value_of(scalar: &str) -> Value {
    let root = parse_clean(&format!("v: {scalar}\n"));
    child(&root, "v").value.clone()
}

#[test]
fn nulls() {
    for text in ["", "~", "null", "Null", "NULL"] {
        assert_eq!(value_of(text), Value::Null, "{text:?}");
    }
    assert_eq!(value_of("nULL"), Value::String("nULL".into()));
}

#[test]
fn booleans_are_the_yaml_1_2_forms_only() {
    for text in ["true", "True", "TRUE"] {
        assert_eq!(value_of(text), Value::Bool(true), "{text}");
    }
    for text in ["false", "False", "FALSE"] {
        assert_eq!(value_of(text), Value::Bool(false), "{text}");
    }
    for text in ["yes", "no", "on", "off", "Yes", "ON", "y", "n", "tRUE"] {
        assert_eq!(value_of(text), Value::String(text.into()), "{text}");
    }
}

#[test]
fn integers_decimal_octal_hex() {
    assert_eq!(value_of("42"), Value::Integer(42));
    assert_eq!(value_of("-17"), Value::Integer(-17));
    assert_eq!(value_of("+5"), Value::Integer(5));
    assert_eq!(value_of("007"), Value::Integer(7));
    assert_eq!(value_of("0o17"), Value::Integer(15));
    assert_eq!(value_of("0x1F"), Value::Integer(31));
    assert_eq!(value_of("0xff"), Value::Integer(255));
    assert_eq!(value_of("9223372036854775807"), Value::Integer(i64::MAX));
    assert_eq!(value_of("-9223372036854775808"), Value::Integer(i64::MIN));
    for text in ["0o8", "0x", "0xg", "1_000", "12abc", "0b101", "1 000"] {
        assert!(matches!(value_of(text), Value::String(_)), "{text}");
    }
}

#[test]
fn huge_integers_become_big_integers_not_wrapped() {
    for text in [
        "9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999999999999999",
        "0xFFFFFFFFFFFFFFFFFF",
        "0o7777777777777777777777777",
    ] {
        assert_eq!(value_of(text), Value::BigInteger(text.into()), "{text}");
    }
    let root = parse_clean("size: 99999999999999999999999999999999\n");
    let json = root.to_json();
    assert!(json["size"].is_number(), "{json}");
    assert!(json["size"].as_f64().unwrap() > 9.9e31);
    let enormous = "9".repeat(400);
    let root = parse_clean(&format!("size: {enormous}\n"));
    assert_eq!(root.to_json()["size"], serde_json::Value::String(enormous));
}

#[test]
fn floats() {
    assert_eq!(value_of("1.5"), Value::Float(1.5));
    assert_eq!(value_of("1.10"), Value::Float(1.1));
    assert_eq!(value_of("-0.5"), Value::Float(-0.5));
    assert_eq!(value_of(".5"), Value::Float(0.5));
    assert_eq!(value_of("1."), Value::Float(1.0));
    assert_eq!(value_of("1e3"), Value::Float(1000.0));
    assert_eq!(value_of("+2.5E-1"), Value::Float(0.25));
    assert_eq!(value_of(".inf"), Value::Float(f64::INFINITY));
    assert_eq!(value_of("-.Inf"), Value::Float(f64::NEG_INFINITY));
    assert_eq!(value_of("+.INF"), Value::Float(f64::INFINITY));
    assert!(matches!(value_of(".nan"), Value::Float(f) if f.is_nan()));
    assert!(matches!(value_of(".NaN"), Value::Float(f) if f.is_nan()));
    for text in [
        "inf", "nan", "infinity", "1e", "e3", ".", "1.2.3", "-.nan", "1,5", "10.0.0.1",
    ] {
        assert!(matches!(value_of(text), Value::String(_)), "{text}");
    }
    let json = parse_clean("a: .inf\nb: -.inf\nc: .nan\nd: 1.5\n").to_json();
    assert_eq!(
        json,
        serde_json::json!({"a": ".inf", "b": "-.inf", "c": ".nan", "d": 1.5})
    );
}

#[test]
fn quoted_and_block_scalars_are_always_strings() {
    for text in ["\"42\"", "'true'", "\"null\"", "''", "\"1.5\""] {
        assert!(matches!(value_of(text), Value::String(_)), "{text}");
    }
    assert_eq!(value_of("''"), Value::String(String::new()));
    let root = parse_clean("v: |\n  42\nw: >\n  true\n");
    assert_eq!(child(&root, "v").value, Value::String("42\n".into()));
    assert_eq!(child(&root, "w").value, Value::String("true\n".into()));
}

#[test]
fn basic_tags_are_honoured() {
    assert_eq!(value_of("!!str 42"), Value::String("42".into()));
    assert_eq!(value_of("!!str"), Value::String(String::new()));
    assert_eq!(value_of("!!int \"42\""), Value::Integer(42));
    assert_eq!(value_of("!!float 3"), Value::Float(3.0));
    assert_eq!(value_of("!!bool 'true'"), Value::Bool(true));
    assert_eq!(value_of("!!null ''"), Value::Null);
    assert_eq!(value_of("! 42"), Value::String("42".into()));
    assert_eq!(value_of("!custom 42"), Value::String("42".into()));
}

#[test]
fn a_value_that_does_not_match_its_tag_is_reported_and_kept_as_a_string() {
    let parsed = parse_default("size: !!int forty\nnext: 1\n");
    assert_eq!(codes(&parsed), ["yaml-syntax"]);
    assert!(parsed.diagnostics[0].message.contains("`!!int`"));
    let root = parsed.root.expect("the tree is still built");
    assert_eq!(child(&root, "size").value, Value::String("forty".into()));
}

#[test]
fn scalar_keys_keep_their_text() {
    let root = parse_clean("0123: a\n1.10: b\ntrue: c\n~: d\n\"quoted\": e\nyes: f\n");
    assert_eq!(keys(&root), ["0123", "1.10", "true", "~", "quoted", "yes"]);
    let json = root.to_json();
    assert_eq!(json["0123"], "a");
    assert_eq!(json["1.10"], "b");
}

#[test]
fn version_like_values_are_floats_as_expected() {
    assert_eq!(value_of("1.10"), Value::Float(1.1));
    assert_eq!(value_of("\"1.10\""), Value::String("1.10".into()));
}
