//! Tests of the human renderer: snapshots of miette reports, colour off and on, awkward spans.

use super::*;
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
