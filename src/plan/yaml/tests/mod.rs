//! Unit tests of the YAML loader, by topic, with shared helpers.

mod errors;
mod limits;
mod merge;
mod pointer;
mod robustness;
mod scalars;
mod spans;

use std::ops::Range;

use super::{Limits, Node, Parsed, Value, parse};

pub(super) fn parse_default(text: &str) -> Parsed {
    parse(text, &Limits::default())
}

/// Parses text that must load cleanly.
pub(super) fn parse_clean(text: &str) -> Node {
    let parsed = parse_default(text);
    assert!(
        parsed.diagnostics.is_empty(),
        "unexpected diagnostics: {:#?}",
        parsed.diagnostics
    );
    parsed.root.expect("a tree")
}

pub(super) fn codes(parsed: &Parsed) -> Vec<&'static str> {
    parsed
        .diagnostics
        .iter()
        .map(|diagnostic| diagnostic.code.as_str())
        .collect()
}

pub(super) fn slice(text: &str, span: &Range<usize>) -> String {
    text.get(span.clone())
        .unwrap_or_else(|| panic!("span {span:?} is not on character boundaries"))
        .to_owned()
}

/// The value under a mapping key (first match).
pub(super) fn child<'tree>(node: &'tree Node, key: &str) -> &'tree Node {
    entry(node, key).1
}

/// The key node and value node of a mapping entry.
pub(super) fn entry<'tree>(node: &'tree Node, key: &str) -> (&'tree Node, &'tree Node) {
    let Value::Mapping(entries) = &node.value else {
        panic!("not a mapping: {node:?}");
    };
    entries
        .iter()
        .find(|(candidate, _)| candidate.value == Value::String(key.to_owned()))
        .map(|(key, value)| (key, value))
        .unwrap_or_else(|| panic!("no key {key}"))
}

pub(super) fn item(node: &Node, index: usize) -> &Node {
    let Value::Sequence(items) = &node.value else {
        panic!("not a sequence: {node:?}");
    };
    &items[index]
}

pub(super) fn keys(node: &Node) -> Vec<String> {
    let Value::Mapping(entries) = &node.value else {
        panic!("not a mapping: {node:?}");
    };
    entries
        .iter()
        .map(|(key, _)| match &key.value {
            Value::String(text) => text.clone(),
            other => format!("{other:?}"),
        })
        .collect()
}

/// Runs `test` on a thread with a 2 MiB stack, proving it needs no deep recursion.
pub(super) fn on_small_stack(test: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(test)
        .expect("spawn")
        .join()
        .expect("the test thread panicked (or overflowed its stack)");
}

/// A realistic plan with `sources`, `targets` and `migrations`, `count` of each.
pub(super) fn sample_plan(count: usize) -> String {
    let mut text = String::from(
        "version: 1\ndefaults: &defaults\n  username: admin\n  domain: CORP\nsources:\n",
    );
    for index in 0..count {
        text.push_str(&format!(
            "  web-{index:05}:\n    ip: 10.{}.{}.{}\n    credentials:\n      <<: *defaults\n      password: {{ env: WEB_PASSWORD }}\n    mountpoints:\n      - {{ name: /, size: 40 GiB, system: true }}\n      - {{ name: /var, size: 100 GiB }}\n      - name: /data\n        size: 2 TiB\n      - name: /home # users\n        size: 10 GiB\n",
            index / 65536 % 256,
            index / 256 % 256,
            index % 256
        ));
    }
    text.push_str("targets:\n");
    for index in 0..count {
        text.push_str(&format!(
            "  vm-{index:05}:\n    cloud: aws\n    credentials: {{ username: ferry, password: {{ env: AWS_SECRET }} }}\n    vm:\n      ip: 172.16.{}.{}\n      capacity: 4 TiB\n",
            index / 256 % 256,
            index % 256
        ));
    }
    text.push_str("migrations:\n");
    for index in 0..count {
        text.push_str(&format!(
            "  - name: move-{index:05}\n    source: web-{index:05}\n    target: vm-{index:05}\n    mounts: [/, /var, /data]\n"
        ));
    }
    text
}
