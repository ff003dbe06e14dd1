//! Property tests: any input, checked and rendered in every format in-process, gives exit status
//! 0, 1 or 2, well-formed output and no panic; nothing untrusted reaches the human format raw.

use std::path::Path;

use proptest::prelude::*;

use crate::commands::ExitStatus;
use crate::commands::check::exit_status;
use crate::options::CheckFormat;
use crate::plan::load::check_bytes;
use crate::plan::yaml::Limits;
use crate::report::diagnostics::render;

/// The bundled plans, the starting points of the mutations.
const PLANS: [&str; 5] = [
    include_str!("../../../plans/demo.yaml"),
    include_str!("../../../plans/linux-database.yaml"),
    include_str!("../../../plans/shared-credentials.yaml"),
    include_str!("../../../plans/windows-wave.yaml"),
    include_str!("../../../plans/invalid/plaintext-password.yaml"),
];

/// What a mutation inserts: wide spaces, terminal controls, bidi overrides, a very long line,
/// unknown keys, YAML punctuation, a mistyped secret.
fn insertion() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\u{a0}".to_string()),
        Just("\u{2028}".to_string()),
        Just("\u{1b}]0;OWNED\u{7}\u{1b}[2J".to_string()),
        Just("\u{202e}".to_string()),
        Just("\u{85}\u{9b}\u{7f}".to_string()),
        Just("\0".to_string()),
        Just("\t".to_string()),
        Just("\r".to_string()),
        Just("x".repeat(70_000)),
        Just("\n    unknown_key: 1\n".to_string()),
        Just("\n  extra: { passwrd: PLAINMARKER }\n".to_string()),
        Just(": ".to_string()),
        Just("- ".to_string()),
        Just("{".to_string()),
        Just("&a ".to_string()),
        Just("*a".to_string()),
        Just("<<: *a\n".to_string()),
        "[ -~]{1,12}",
        any::<char>().prop_map(String::from),
    ]
}

/// A bundled plan with one to four insertions at arbitrary places (moved onto a character
/// boundary), as bytes.
fn mutated_plan() -> impl Strategy<Value = Vec<u8>> {
    (
        0..PLANS.len(),
        prop::collection::vec((any::<prop::sample::Index>(), insertion()), 1..5),
    )
        .prop_map(|(plan, insertions)| {
            let mut text = PLANS[plan].to_string();
            for (at, insertion) in insertions {
                let mut position = at.index(text.len() + 1);
                while !text.is_char_boundary(position) {
                    position -= 1;
                }
                text.insert_str(position, &insertion);
            }
            text.into_bytes()
        })
}

fn any_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        "\\PC{0,300}".prop_map(String::into_bytes),
        mutated_plan(),
        mutated_plan(),
    ]
}

fn check_and_render_everywhere(bytes: &[u8]) {
    let checked = check_bytes(
        "plan.yaml",
        Path::new("plan.yaml"),
        bytes,
        Path::new("."),
        &Limits::default(),
    );
    let files = [checked.report];
    for deny_warnings in [false, true] {
        let status = exit_status(&files, deny_warnings, false);
        assert!(matches!(
            status,
            ExitStatus::Success | ExitStatus::Failure | ExitStatus::CommandError
        ));
        for color in [false, true] {
            let human = render(&files, CheckFormat::Human, deny_warnings, color);
            for raw in ['\u{7}', '\u{202e}', '\u{9b}', '\u{2028}', '\0'] {
                assert!(!human.contains(raw), "raw {raw:?} in {human:?}");
            }
            if !color {
                assert!(!human.contains('\u{1b}'), "raw escape in {human:?}");
            }
        }
        for format in [CheckFormat::Json, CheckFormat::Sarif] {
            let document = render(&files, format, deny_warnings, false);
            let parsed: Result<serde_json::Value, _> = serde_json::from_str(&document);
            assert!(parsed.is_ok(), "{format:?} is not JSON: {document}");
        }
        let github = render(&files, CheckFormat::Github, deny_warnings, false);
        assert!(
            github.lines().all(|line| line.starts_with("::")),
            "{github}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_input_checks_and_renders_in_every_format(bytes in any_input()) {
        check_and_render_everywhere(&bytes);
    }
}

#[test]
fn the_issue_reproductions_render() {
    for space in ["\u{a0}", "\u{2028}"] {
        let plan = format!(
            "version: 1\nsources:\n  s:\n    ip: 192.0.2.1\n    credentials: {{ username: a,{space}password: x }}\n"
        );
        check_and_render_everywhere(plan.as_bytes());
    }
}
