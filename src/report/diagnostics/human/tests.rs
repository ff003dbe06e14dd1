//! Tests of the human renderer: snapshots of miette reports, colour off and on, awkward spans.

use super::*;
use crate::plan::codes::Code;
use crate::report::diagnostics::fixtures::{self, awkward_file, sample_files, warning_only_files};

#[test]
fn plain_report_snapshot() {
    let output = render(&sample_files(), false, false);
    insta::assert_snapshot!(output);
}

#[test]
fn plain_output_has_no_escape_codes_and_masks_the_password() {
    let output = render(&sample_files(), false, false);
    assert!(!output.contains('\u{1b}'), "{output}");
    assert!(!output.contains("hunter2"), "{output}");
    assert!(output.contains("********"), "{output}");
}

#[test]
fn colored_output_uses_escape_codes_and_unicode() {
    let output = render(&sample_files(), false, true);
    assert!(output.contains('\u{1b}'));
    assert!(output.contains('╭'));
    assert!(!output.contains("hunter2"));
}

#[test]
fn every_label_and_the_help_are_shown() {
    let output = render(&sample_files(), false, false);
    for text in [
        "error[unknown-mount]",
        "warning[plaintext-password]",
        "not a mount of `web-01`",
        "`web-01` has `C:\\` and `D:\\`",
        "help: select one of `C:\\`, `D:\\`",
        "[plans/production.yaml:24:14]",
        "no source has this name",
    ] {
        assert!(output.contains(text), "missing {text:?} in\n{output}");
    }
    assert!(output.ends_with(
        "error: 3 errors and 1 warning in 2 files\n\
         For more about a code, run `ferry explain CODE`, such as `ferry explain plaintext-password`.\n"
    ));
}

#[test]
fn denied_warnings_are_shown_as_errors() {
    let output = render(&warning_only_files(), true, false);
    assert!(output.contains("error[plaintext-password]"), "{output}");
    assert!(output.contains("error: 1 error in 1 file"), "{output}");
    let allowed = render(&warning_only_files(), false, false);
    assert!(
        allowed.contains("warning: 1 warning in 1 file"),
        "{allowed}"
    );
}

#[test]
fn clean_files_give_an_ok_line_only() {
    let files = vec![fixtures::clean_file(), fixtures::clean_file()];
    assert_eq!(
        render(&files, false, false),
        "ok: 2 plans checked, no problems\n"
    );
    assert_eq!(
        render(&files[..1], true, false),
        "ok: 1 plan checked, no problems\n"
    );
}

#[test]
fn awkward_spans_render_without_panicking() {
    let output = render(&[awkward_file()], false, false);
    insta::assert_snapshot!(output);
    for message in [
        "expected `targets` here",
        "past the end",
        "in a character",
        "backwards",
        "a diagnostic about the whole file",
    ] {
        assert!(output.contains(message), "missing {message:?} in\n{output}");
    }
}

#[test]
fn snippet_header_columns_count_characters() {
    // `wéb-02` starts at character 13 of its line, byte 13 too; put a multibyte character
    // before it to tell them apart.
    let mut file = fixtures::staging_file();
    file.source = file.source.replace("  - source:", "  - søurce:");
    let start = file.source.find("wéb-02").unwrap_or_default();
    file.diagnostics[0].labels[0].span = start..start + "wéb-02".len();
    let output = render(&[file], false, false);
    assert!(output.contains("[plans\\staging.yaml:5:13]"), "{output}");
}

/// One diagnostic with one label, over a given text.
fn file_with_label(source: &str, span: std::ops::Range<usize>, message: &str) -> FileDiagnostics {
    FileDiagnostics {
        path: "p\u{1b}[2J.yaml".to_string(),
        source: source.to_string(),
        diagnostics: vec![
            Diagnostic::new(Code::PlaintextPassword, format!("about `{message}`"))
                .with_label(span, message)
                .with_help(format!("help about `{message}`")),
        ],
    }
}

#[test]
fn a_wide_space_before_a_key_neither_panics_nor_shows_the_password() {
    for space in ["\u{a0}", "\u{2028}"] {
        let source = format!("s:\n  credentials: {{ username: a,{space}password: hunter2 }}\n");
        let at = source.find("hunter2").unwrap_or_default();
        let output = render(&[file_with_label(&source, at..at + 7, "x")], false, false);
        assert!(!output.contains("hunter2"), "{output}");
        assert!(!output.contains('\u{2028}'), "{output}");
    }
}

#[test]
fn a_label_past_column_65535_is_shown_plainly_with_line_and_column() {
    let source = format!("a: 1\nb: {}\u{e9}c: x\n", "y".repeat(70_000));
    let at = source.find("c: x").unwrap_or_default();
    let file = file_with_label(&source, at..at + 1, "far along");
    for color in [false, true] {
        let output = render(std::slice::from_ref(&file), false, color);
        assert!(
            output.contains("warning[plaintext-password]: about `far along`"),
            "{output}"
        );
        assert!(
            output.contains("  --> p\\u{1b}[2J.yaml:2:70005: far along\n"),
            "{output}"
        );
        assert!(
            output.contains("  help: help about `far along`"),
            "{output}"
        );
    }
}

#[test]
fn controls_in_the_snippet_the_messages_and_the_path_are_escaped() {
    let source = "name: \"x\"\nfile: e\u{1b}]0;OWNED\u{7}\u{202e}x\u{9b}\r\nz: 1\r\n";
    let at = source.find("e\u{1b}").unwrap_or_default();
    let file = file_with_label(source, at..at + 12, "e\u{1b}[2J\u{202e}");
    for color in [false, true] {
        let output = render(std::slice::from_ref(&file), false, color);
        for raw in ['\u{7}', '\u{202e}', '\u{9b}'] {
            assert!(!output.contains(raw), "raw {raw:?} in\n{output}");
        }
        assert!(
            output.contains("e\\u{1b}]0;OWNED\\u{7}\\u{202e}x\\u{9b}"),
            "{output}"
        );
        assert!(output.contains("about `e\\u{1b}[2J\\u{202e}`"), "{output}");
        assert!(output.contains("p\\u{1b}[2J.yaml"), "{output}");
        if !color {
            assert!(!output.contains('\u{1b}'), "{output}");
        }
    }
}

#[test]
fn every_value_inside_credentials_is_masked_whatever_its_key() {
    let source = "s:\n  credentials: { username: shown, passwrd: PLAINMARKER1 }\n  other: 1\nt:\n  credentials:\n    username: root\n    password: [PLAINMARKER2, B]\n    pass: {x: PLAINMARKER3}\n  other: 2\n";
    let mut file = file_with_label(source, 0..1, "first");
    let second = source.find("other: 2").unwrap_or_default();
    let third = source.find("    password").unwrap_or_default();
    file.diagnostics[0] = file.diagnostics[0]
        .clone()
        .with_label(second..second + 5, "second")
        .with_label(third..third + 4, "third");
    let output = render(&[file], false, false);
    assert!(!output.contains("PLAINMARKER"), "{output}");
    assert!(output.contains("username: shown"), "{output}");
    assert!(output.contains("[********, ********]"), "{output}");
    assert!(output.contains("pass: {x: ********}"), "{output}");
}
