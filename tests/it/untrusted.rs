//! Untrusted input as users meet it: no plan makes `check` or `plan` panic, no name from a plan
//! or a source reaches the terminal raw, and a plain-text credential is masked whatever its key.

use crate::support::command::{Ferry, Outcome};

/// Neither a panic (exit status 101) nor its message.
fn assert_no_panic(name: &str, outcome: &Outcome) {
    assert!(
        [0, 1, 2].contains(&outcome.code),
        "{name}: exit status 0, 1 or 2 expected\n{}",
        outcome.snapshot()
    );
    assert!(
        !outcome.stderr.contains("panicked"),
        "{name}: panicked\n{}",
        outcome.snapshot()
    );
}

/// The reproduction: a non-breaking space (and U+2028) before a key on a labelled line.
#[test]
fn a_wide_space_before_a_key_on_a_labelled_line_does_not_crash_check() {
    for (name, space) in [("nbsp", "\u{a0}"), ("line-separator", "\u{2028}")] {
        let plan = format!(
            "version: 1\nsources:\n  s:\n    ip: 192.0.2.1\n    credentials: {{ username: a,{space}password: x }}\n"
        );
        let outcome = Ferry::new()
            .file("p.yaml", plan)
            .args(["check", "p.yaml"])
            .run();
        assert_no_panic(name, &outcome);
        assert_eq!(outcome.code, 1, "{name}:\n{}", outcome.snapshot());
        assert!(
            outcome.stdout.contains("error["),
            "{name}:\n{}",
            outcome.stdout
        );
        assert!(!outcome.stdout.contains('\u{2028}'), "{}", outcome.stdout);
    }
}

/// A valid plan whose plain-text password (a warning) sits past column 65,535 of its line.
fn plan_with_a_warning_far_along_a_line() -> String {
    let padding = "p".repeat(70_000);
    format!(
        "version: 1
sources:
  app:
    ip: 192.0.2.60
    credentials: {{ username: root{padding}, password: PLAINMARKER }}
    mountpoints: [{{ name: /, size: 1 GiB }}]
    connection: {{ local: {{ path: ./source }} }}
targets:
  vm:
    cloud: azure
    credentials: {{ username: admin, password: {{ env: AZURE_PASSWORD }} }}
    vm:
      ip: 198.51.100.60
      credentials: {{ username: root, password: {{ env: VM_PASSWORD }} }}
      connection: {{ local: {{ path: ./out/vm }} }}
migrations:
  - {{ name: app, source: app, target: vm, mounts: [/] }}
"
    )
}

#[test]
fn a_label_past_column_65535_is_shown_plainly_by_check_and_plan() {
    let ferry = Ferry::new()
        .file("plan.yaml", plan_with_a_warning_far_along_a_line())
        .file("source/a.txt", "a\n");
    for arguments in [["check", "plan.yaml"], ["plan", "plan.yaml"]] {
        let outcome = ferry.run_with(&arguments);
        assert_no_panic(arguments[0], &outcome);
        assert_eq!(outcome.code, 0, "{}", outcome.snapshot());
        let shown = format!("{}{}", outcome.stdout, outcome.stderr);
        assert!(
            shown.contains("warning[plaintext-password]"),
            "{}",
            outcome.snapshot()
        );
        assert!(shown.contains("plan.yaml:5:"), "{}", outcome.snapshot());
        assert!(!shown.contains("PLAINMARKER"), "{}", outcome.snapshot());
    }
    let long_error = plan_with_a_warning_far_along_a_line().replace("ip: 192.0.2.60", "ip: nope");
    let ferry = Ferry::new().file("plan.yaml", long_error);
    let outcome = ferry.run_with(&["check", "--deny-warnings", "plan.yaml"]);
    assert_no_panic("deny-warnings", &outcome);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
}

/// `passwrd: PLAINMARKER`, `password: [A, B]` and `pass: {x: ...}` are masked in the snippet,
/// the username stays.
#[test]
fn every_value_inside_credentials_is_masked_in_the_snippet() {
    let plan = "version: 1
sources:
  a:
    ip: 192.0.2.1
    credentials: { username: visible-user, passwrd: PLAINMARKER1 }
  b:
    ip: 192.0.2.2
    credentials:
      username: root
      password: [PLAINMARKER2, PLAINMARKER3]
  c:
    ip: 192.0.2.3
    credentials:
      username: root
      pass: { x: PLAINMARKER4 }
";
    let outcome = Ferry::new()
        .file("p.yaml", plan)
        .args(["check", "p.yaml"])
        .run();
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    assert!(
        !outcome.stdout.contains("PLAINMARKER"),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome.stdout.contains("visible-user"),
        "{}",
        outcome.stdout
    );
    assert!(outcome.stdout.contains("********"), "{}", outcome.stdout);
}

/// Control characters in names from the plan and the source are escaped on the terminal and in
/// the reports; the check snippet shows them escaped too.
#[test]
fn names_with_terminal_controls_are_escaped_everywhere() {
    let hostile = "e\u{1b}]0;OWNED\u{7}\u{1b}[2Jx.txt";
    let ferry = Ferry::new()
        .file(
            "plan.yaml",
            "version: 1
sources:
  app:
    ip: 192.0.2.60
    credentials: { username: root, password: { env: APP_PASSWORD } }
    mountpoints: [{ name: /, size: 1 GiB }]
    connection: { local: { path: ./source } }
targets:
  vm:
    cloud: azure
    credentials: { username: admin, password: { env: AZURE_PASSWORD } }
    vm:
      ip: 198.51.100.60
      credentials: { username: root, password: { env: VM_PASSWORD } }
      connection: { local: { path: ./out/vm } }
migrations:
  - { name: \"app\\e[2J\\u202e\", source: app, target: vm, mounts: [/] }
",
        )
        .file("source/ok.txt", "ok\n");
    let fifo = ferry.directory().join("source").join(hostile);
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success());
    let raw = ['\u{1b}', '\u{7}', '\u{202e}'];
    for arguments in [
        vec!["plan", "plan.yaml"],
        vec!["run", "plan.yaml"],
        vec!["report"],
        vec!["report", "--format", "markdown"],
        vec!["state", "show", "migration", "app\u{1b}[2J\u{202e}"],
    ] {
        let outcome = ferry.run_with(&arguments);
        assert_no_panic(arguments[0], &outcome);
        assert_eq!(outcome.code, 0, "{arguments:?}\n{}", outcome.snapshot());
        for character in raw {
            assert!(
                !outcome.stdout.contains(character) && !outcome.stderr.contains(character),
                "{arguments:?}: raw {character:?}\n{}",
                outcome.snapshot().escape_debug()
            );
        }
        assert!(
            format!("{}{}", outcome.stdout, outcome.stderr).contains("u{1b}"),
            "{arguments:?}\n{}",
            outcome.snapshot()
        );
    }
    let bad = "version: 1\nsources:\n  \"we\\eb\": { ip: 192.0.2.1, credentials: { username: a, password: { env: X } }, mountpoints: [{ name: \"/x\\e[2J\", size: 0 }] }\n";
    let outcome = Ferry::new()
        .file("bad.yaml", bad)
        .args(["check", "bad.yaml"])
        .run();
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    assert!(
        !outcome.stdout.contains('\u{1b}'),
        "{}",
        outcome.stdout.escape_debug()
    );
}
