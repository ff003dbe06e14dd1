//! `ferry check --format sarif` as GitHub code scanning reads it: locations relative to the
//! repository's root (`--sarif-root`), fingerprints that follow an alert across commits, and
//! valid SARIF 2.1.0.

use serde_json::Value;

use crate::support::command::{Ferry, repository_root};

fn sarif(outcome_stdout: &str) -> Value {
    let log: Value = serde_json::from_str(outcome_stdout).expect("SARIF is JSON");
    let path = repository_root().join("tests/data/sarif-2.1.0.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).expect("the SARIF schema");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles");
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "invalid SARIF: {errors:#?}");
    log
}

fn uris(log: &Value) -> Vec<String> {
    log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| {
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn fingerprints(log: &Value) -> Vec<String> {
    log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| {
            result["partialFingerprints"]["ferryDiagnostic/v1"]
                .as_str()
                .expect("every result has a fingerprint")
                .to_string()
        })
        .collect()
}

#[test]
fn locations_are_relative_to_the_sarif_root_and_never_climb_out() {
    let plan = std::fs::read_to_string(repository_root().join("plans/invalid/unknown-mount.yaml"))
        .unwrap();
    let ferry = Ferry::new()
        .file("plans/web.yaml", &plan)
        .file("sub/.keep", "");
    let subfolder = ferry.directory().join("sub");

    // From a subfolder, by default: relative to the working directory, which the plan is outside.
    let outcome = ferry
        .args(["check", "--format", "sarif", "../plans/web.yaml"])
        .run_in(&subfolder);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    let log = sarif(&outcome.stdout);
    let absolute = format!("file://{}/plans/web.yaml", outcome.directory.display());
    assert_eq!(uris(&log), [absolute]);

    // With the repository's root named: a path GitHub maps to the file.
    let ferry = Ferry::new()
        .file("plans/web.yaml", &plan)
        .file("sub/.keep", "");
    let subfolder = ferry.directory().join("sub");
    let rooted = ferry
        .args([
            "check",
            "--format",
            "sarif",
            "--sarif-root",
            "..",
            "../plans/web.yaml",
        ])
        .run_in(&subfolder);
    assert_eq!(uris(&sarif(&rooted.stdout)), ["plans/web.yaml"]);

    // From the root itself, the default is the same.
    let at_root = Ferry::new()
        .args([
            "check",
            "--format",
            "sarif",
            "plans/invalid/unknown-mount.yaml",
        ])
        .run_in(&repository_root());
    assert_eq!(
        uris(&sarif(&at_root.stdout)),
        ["plans/invalid/unknown-mount.yaml"]
    );
}

#[test]
fn fingerprints_do_not_move_with_the_lines() {
    let plan = std::fs::read_to_string(repository_root().join("plans/invalid/unknown-mount.yaml"))
        .unwrap();
    let check = |text: &str| {
        let outcome = Ferry::new()
            .file("plan.yaml", text)
            .args(["check", "--format", "sarif", "plan.yaml"])
            .run();
        sarif(&outcome.stdout)
    };
    let before = check(&plan);
    let after = check(&format!("# moved down by two lines\n\n{plan}"));
    assert_eq!(fingerprints(&before), fingerprints(&after));
    assert_ne!(
        before["runs"][0]["results"][0]["locations"],
        after["runs"][0]["results"][0]["locations"]
    );
}

#[test]
fn the_tool_and_rules_link_to_the_project_when_it_has_a_url() {
    let outcome = Ferry::new()
        .args([
            "check",
            "--format",
            "sarif",
            "plans/invalid/unknown-mount.yaml",
        ])
        .run_in(&repository_root());
    let log = sarif(&outcome.stdout);
    let driver = &log["runs"][0]["tool"]["driver"];
    // The URL is Cargo.toml's `repository`; the links appear exactly when it is set.
    let project = env!("CARGO_PKG_REPOSITORY");
    assert_eq!(driver.get("informationUri").is_some(), !project.is_empty());
    for rule in driver["rules"].as_array().unwrap() {
        assert_eq!(rule.get("helpUri").is_some(), !project.is_empty(), "{rule}");
    }
}
