//! JSON pointers (`find`, `locate`) and the JSON conversion.

use super::{parse_clean, slice};
use crate::plan::yaml::{Located, escape_pointer_segment};

const PLAN: &str = "version: 1\nsources:\n  web/01:\n    ip: 10.0.0.1\n    mounts:\n      - name: /var\n      - name: /data\n  a~b: {ip: 1.2.3.4}\ntargets: {}\n";

#[test]
fn find_follows_rfc_6901() {
    let root = parse_clean(PLAN);
    let segment = escape_pointer_segment("web/01");
    assert_eq!(segment, "web~101");
    let located = root.find(&format!("/sources/{segment}/ip")).expect("found");
    assert_eq!(slice(PLAN, located.key.as_ref().unwrap()), "ip");
    assert_eq!(slice(PLAN, &located.value), "10.0.0.1");
    let located = root.find("/sources/a~0b/ip").expect("found");
    assert_eq!(slice(PLAN, &located.value), "1.2.3.4");
    let located = root.find("/sources/web~101/mounts/1/name").expect("found");
    assert_eq!(slice(PLAN, &located.value), "/data");
    let item = root.find("/sources/web~101/mounts/0").expect("found");
    assert_eq!(item.key, None);
    assert_eq!(slice(PLAN, &item.value), "name: /var");
    assert_eq!(
        root.find(""),
        Some(Located {
            key: None,
            value: root.span.clone()
        })
    );
    for missing in [
        "/nope",
        "/sources/web~101/mounts/2",
        "/sources/web~101/mounts/01",
        "/sources/web~101/mounts/-",
        "no-slash",
        "/version/x",
    ] {
        assert_eq!(root.find(missing), None, "{missing}");
    }
}

#[test]
fn locate_falls_back_to_the_parent_key_and_value() {
    let root = parse_clean(PLAN);
    let located = root.locate("/sources/web~101/password");
    assert_eq!(slice(PLAN, located.key.as_ref().unwrap()), "web/01");
    assert!(slice(PLAN, &located.value).starts_with("ip: 10.0.0.1"));
    let located = root.locate("/sources/web~101/mounts/7/name");
    assert_eq!(slice(PLAN, located.key.as_ref().unwrap()), "mounts");
    let located = root.locate("/targets/vm/cloud");
    assert_eq!(slice(PLAN, located.key.as_ref().unwrap()), "targets");
    assert_eq!(slice(PLAN, &located.value), "{}");
    let exact = root.locate("/sources/web~101/ip");
    assert_eq!(Some(exact), root.find("/sources/web~101/ip"));
    for odd in ["", "garbage", "/", "//", "/~", "/~2/x"] {
        let located = root.locate(odd);
        assert!(located.value.end <= PLAN.len(), "{odd}");
    }
    assert_eq!(
        root.locate("garbage"),
        Located {
            key: None,
            value: root.span.clone()
        }
    );
}

#[test]
fn to_json_keeps_document_order_and_types() {
    let root = parse_clean("z: 1\na: [true, null, 1.5, text]\nm: {k: v}\n");
    let json = root.to_json();
    assert_eq!(
        serde_json::to_string(&json).unwrap(),
        r#"{"z":1,"a":[true,null,1.5,"text"],"m":{"k":"v"}}"#
    );
}

#[test]
fn complex_keys_use_their_json_text() {
    let root = parse_clean("? [a, b]\n: 1\n");
    assert_eq!(root.to_json(), serde_json::json!({"[\"a\",\"b\"]": 1}));
}
