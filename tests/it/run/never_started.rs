//! A run that never starts (an unreadable or invalid plan, missing secrets) still writes its
//! `--report-output` file, saying why, so that the CI page that reads it shows the cause.

use super::refusals::SFTP_PLAN;
use crate::support::command::{Ferry, repository_root};
use crate::support::junit;

fn invalid_plan() -> Ferry {
    let plan = std::fs::read_to_string(repository_root().join("plans/invalid/unknown-mount.yaml"))
        .expect("example");
    Ferry::new().file("plan.yaml", plan)
}

fn read(ferry: &Ferry, name: &str) -> String {
    std::fs::read_to_string(ferry.directory().join(name))
        .unwrap_or_else(|error| panic!("the report {name} was written: {error}"))
}

#[test]
fn an_invalid_plan_writes_a_junit_report_with_its_errors_as_failed_test_cases() {
    let ferry = invalid_plan();
    let outcome = ferry.run_with(&[
        "run",
        "plan.yaml",
        "--report-format",
        "junit",
        "--report-output",
        "report.xml",
    ]);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    let suite = junit::parse(&read(&ferry, "report.xml"));
    assert_eq!(suite.name, "ferry check");
    assert!(!suite.cases.is_empty(), "{suite:?}");
    assert_eq!(suite.tests, suite.cases.len().to_string());
    assert_eq!(suite.failures, suite.cases.len().to_string());
    assert!(
        suite.cases.iter().all(|case| case.failure.is_some()),
        "{suite:?}"
    );
    let unknown_mount = suite
        .cases
        .iter()
        .find(|case| case.name == "unknown-mount")
        .unwrap_or_else(|| panic!("an unknown-mount test case: {suite:?}"));
    assert_eq!(unknown_mount.classname, "ferry.check");
    // The diagnostics on stdout say the same.
    assert!(
        outcome.stdout.contains("error[unknown-mount]"),
        "{}",
        outcome.stdout
    );
    assert!(!ferry.directory().join(".ferry").exists(), "no state");
}

#[test]
fn missing_secrets_write_every_report_format_naming_each_secret() {
    let ferry = Ferry::new().file("plan.yaml", SFTP_PLAN);
    let outcome = ferry.run_with(&[
        "run",
        "plan.yaml",
        "--report-format",
        "junit",
        "--report-output",
        "report.xml",
    ]);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    let suite = junit::parse(&read(&ferry, "report.xml"));
    assert_eq!(suite.name, "ferry check");
    assert!(suite.cases.len() >= 2, "{suite:?}");
    for case in &suite.cases {
        assert_eq!(case.name, "missing-secret", "{suite:?}");
        assert!(case.failure.is_some(), "{suite:?}");
    }
    assert!(
        suite.cases.iter().any(|case| case
            .failure
            .as_deref()
            .is_some_and(|message| message.contains("FERRY_TEST_UNSET_WEB01"))),
        "{suite:?}"
    );

    let json = ferry.run_with(&[
        "run",
        "plan.yaml",
        "--report-format",
        "json",
        "--report-output",
        "report.json",
    ]);
    assert_eq!(json.code, 1, "{}", json.snapshot());
    let document: serde_json::Value =
        serde_json::from_str(&read(&ferry, "report.json")).expect("JSON");
    assert_eq!(document["migrations"], serde_json::json!([]));
    let errors = document["errors"].as_array().expect("an errors list");
    assert_eq!(errors.len(), suite.cases.len(), "{document}");
    assert!(errors.iter().all(|error| error["code"] == "missing-secret"));

    let markdown = ferry.run_with(&[
        "run",
        "plan.yaml",
        "--report-format",
        "markdown",
        "--report-output",
        "report.md",
    ]);
    assert_eq!(markdown.code, 1, "{}", markdown.snapshot());
    let text = read(&ferry, "report.md");
    assert!(text.contains("The run did not start"), "{text}");
    assert!(text.contains("`missing-secret`"), "{text}");
    assert!(!ferry.directory().join(".ferry").exists(), "no state");
}

#[test]
fn an_unreadable_plan_is_a_diagnostic_in_the_report_and_on_stdout_never_ok() {
    let ferry = Ferry::new();
    let outcome = ferry.run_with(&[
        "run",
        "missing.yaml",
        "--report-format",
        "json",
        "--report-output",
        "report.json",
    ]);
    assert_eq!(outcome.code, 2, "{}", outcome.snapshot());
    assert!(
        outcome.stdout.contains("error[unreadable-plan]"),
        "{}",
        outcome.snapshot()
    );
    assert!(
        !outcome.stdout.lines().any(|line| line.starts_with("ok")),
        "{}",
        outcome.stdout
    );
    let document: serde_json::Value =
        serde_json::from_str(&read(&ferry, "report.json")).expect("JSON");
    assert_eq!(
        document["errors"][0]["code"], "unreadable-plan",
        "{document}"
    );
    assert_eq!(document["errors"][0]["file"], "missing.yaml", "{document}");

    for command in ["plan", "run"] {
        let outcome = ferry.run_with(&[command, "missing.yaml"]);
        assert_eq!(outcome.code, 2, "{}", outcome.snapshot());
        assert!(
            outcome.stdout.contains("error[unreadable-plan]"),
            "{command}: {}",
            outcome.snapshot()
        );
    }
    // `plan --format json` keeps stdout one JSON document, the check's, here too.
    let json = ferry.run_with(&["plan", "--format", "json", "missing.yaml"]);
    assert_eq!(json.code, 2, "{}", json.snapshot());
    let document: serde_json::Value =
        serde_json::from_str(&json.stdout).expect("one JSON document");
    assert_eq!(
        document["diagnostics"][0]["code"], "unreadable-plan",
        "{document}"
    );
    assert_eq!(document["summary"]["errors"], 1, "{document}");
}

#[test]
fn a_bad_flag_value_writes_the_report_with_the_command_error() {
    let ferry = invalid_plan();
    let outcome = ferry.run_with(&[
        "run",
        "plan.yaml",
        "--bwlimit",
        "fast",
        "--report-format",
        "junit",
        "--report-output",
        "report.xml",
    ]);
    assert_eq!(outcome.code, 2, "{}", outcome.snapshot());
    let suite = junit::parse(&read(&ferry, "report.xml"));
    assert_eq!(suite.cases.len(), 1, "{suite:?}");
    assert_eq!(suite.cases[0].name, "command-error");
    assert!(
        suite.cases[0]
            .failure
            .as_deref()
            .is_some_and(|message| message.contains("invalid bandwidth limit `fast`")),
        "{suite:?}"
    );
}
