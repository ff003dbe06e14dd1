//! Syntax errors: readable messages, labels at the error position, one document only.

use super::{codes, parse_default};
use crate::plan::diagnostic::Diagnostic;

fn single_error(text: &str) -> Diagnostic {
    let parsed = parse_default(text);
    assert!(parsed.root.is_none(), "{text:?} should not load");
    assert_eq!(
        codes(&parsed),
        ["yaml-syntax"],
        "{text:?}: {:?}",
        parsed.diagnostics
    );
    parsed.diagnostics.into_iter().next().unwrap()
}

#[test]
fn second_document_is_refused() {
    let text = "version: 1\n---\nversion: 2\n";
    let diagnostic = single_error(text);
    assert!(diagnostic.message.contains("more than one YAML document"));
    assert_eq!(&text[diagnostic.labels[0].span.clone()], "---");
    // An explicit start for the only document is fine.
    assert!(
        parse_default("---\nversion: 1\n...\n")
            .diagnostics
            .is_empty()
    );
}

#[test]
fn tabs_used_for_indentation() {
    let text = "sources:\n\tweb: 1\n";
    let diagnostic = single_error(text);
    assert!(diagnostic.message.contains("tab"), "{}", diagnostic.message);
    assert_eq!(diagnostic.labels[0].span.start, text.find('\t').unwrap());
    // A tab inside a value is fine.
    assert!(
        parse_default("a: \"x\ty\"\nb: x\ty\n")
            .diagnostics
            .is_empty()
    );
}

#[test]
fn unterminated_quotes() {
    let text = "a: \"unterminated\nb: 1\n";
    let diagnostic = single_error(text);
    assert!(
        diagnostic.message.contains("quoted string is not closed"),
        "{}",
        diagnostic.message
    );
    assert_eq!(diagnostic.labels[0].span.start, text.find('"').unwrap());
    let diagnostic = single_error("a: 'never closed");
    assert!(
        diagnostic.message.contains("quoted string"),
        "{}",
        diagnostic.message
    );
}

#[test]
fn bad_indentation_points_at_the_line() {
    let text = "sources:\n  web:\n    ip: 1\n   bad: 2\n";
    let diagnostic = single_error(text);
    let line_start = text.find("   bad").unwrap();
    let start = diagnostic.labels[0].span.start;
    assert!(
        start >= line_start && start <= line_start + 4,
        "{diagnostic:?}"
    );
    assert!(diagnostic.help.is_some());
}

#[test]
fn unclosed_flow_collection_and_stray_colon() {
    let text = "mounts: [/, /var\nnext: 1\n";
    let diagnostic = single_error(text);
    assert_eq!(diagnostic.message, "a `[` is not closed before this line");
    assert_eq!(diagnostic.labels[1].span, 8..9);
    assert!(diagnostic.labels[0].span.start >= text.find("next").unwrap());
    let diagnostic = single_error("mounts: [/, /var");
    assert!(diagnostic.message.contains('['), "{}", diagnostic.message);
    let diagnostic = single_error("key: value: other\n");
    assert!(diagnostic.message.contains("`:`"), "{}", diagnostic.message);
}

#[test]
fn windows_path_in_double_quotes() {
    let diagnostic = single_error("path: \"C:\\data\\q\"\n");
    assert!(
        diagnostic.message.contains("escape"),
        "{}",
        diagnostic.message
    );
}

#[test]
fn binary_junk_gives_a_diagnostic_not_a_panic() {
    let junk: String = (0u32..2000)
        .map(|index| char::from_u32((index * 7919) % 0x2FFF).unwrap_or('?'))
        .collect();
    let parsed = parse_default(&junk);
    assert!(!parsed.diagnostics.is_empty());
    for diagnostic in &parsed.diagnostics {
        for label in &diagnostic.labels {
            assert!(
                junk.is_char_boundary(label.span.start) && junk.is_char_boundary(label.span.end)
            );
        }
    }
    let parsed = parse_default("\u{0}\u{1}\u{2}\u{7f}\u{feff}\u{fffe}");
    assert!(!parsed.diagnostics.is_empty());
}
