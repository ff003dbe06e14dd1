//! `ferry explain` run as a process: exit statuses and what reaches stdout and stderr.

use std::process::Output;

use crate::support::command::Ferry;

fn ferry(arguments: &[&str]) -> Output {
    Ferry::new().args(arguments).output()
}

#[test]
fn explains_a_known_code() {
    let output = ferry(&["explain", "unknown-mount"]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("# unknown-mount: "), "{stdout}");
    assert!(stdout.contains("## Wrong") && stdout.contains("## Fixed"));
    assert!(!stdout.contains('\u{1b}'), "no colour when not a terminal");
    assert!(output.stderr.is_empty());
}

#[test]
fn an_unknown_code_exits_2_with_a_suggestion() {
    let output = ferry(&["explain", "unknown-mnt"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`unknown-mnt` is not a ferry diagnostic code"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `unknown-mount`?"), "{stderr}");
    assert!(stderr.contains("ferry explain --list"), "{stderr}");
}

#[test]
fn lists_every_code() {
    let output = ferry(&["explain", "--list"]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    for code in ferry::plan::codes::Code::ALL {
        let severity = match code.default_severity() {
            ferry::plan::diagnostic::Severity::Error => "error",
            ferry::plan::diagnostic::Severity::Warning => "warning",
        };
        let listed = stdout.lines().any(|line| {
            let mut words = line.split_whitespace();
            words.next() == Some(code.as_str()) && words.next() == Some(severity)
        });
        assert!(listed, "`{code}` ({severity}) is not listed:\n{stdout}");
    }
}
