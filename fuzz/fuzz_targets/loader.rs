//! Fuzzes the YAML loader: any UTF-8 text must parse without panicking, with labels on
//! character boundaries, and a tree that converts to JSON and answers pointer lookups.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run loader -- -max_total_time=60` (from the repository root).

#![no_main]

use ferry::plan::yaml::{Limits, parse};
use libfuzzer_sys::fuzz_target;

const POINTERS: &[&str] = &["", "/0", "/a", "/a/b/0", "/sources/web/ip", "/~0/~1", "/-", "x"];

fuzz_target!(|text: &str| {
    let limits = Limits {
        max_bytes: 1 << 20,
        max_depth: 64,
        max_nodes: 200_000,
    };
    let parsed = parse(text, &limits);
    for diagnostic in &parsed.diagnostics {
        for label in &diagnostic.labels {
            assert!(label.span.start <= label.span.end, "reversed label {label:?}");
            assert!(
                text.is_char_boundary(label.span.start) && text.is_char_boundary(label.span.end),
                "label {label:?} splits a character"
            );
        }
    }
    if let Some(root) = parsed.root {
        let _ = root.to_json();
        for pointer in POINTERS {
            let located = root.locate(pointer);
            assert!(text.get(located.value.clone()).is_some(), "bad span {located:?}");
            if let Some(key) = located.key {
                assert!(text.get(key).is_some());
            }
            let _ = root.find(pointer);
        }
    }
});
