//! `ferry check` reports every problem of a plan at once: a schema error in one entry hides no
//! domain rule over the entries the schema accepted (`tests/data/multi-error/`).

use std::path::Path;

use crate::support::command::{Ferry, repository_root};

const MULTI_ERROR: &str = "tests/data/multi-error";

/// The codes of a `check --format json` document, in its order.
fn json_codes(stdout: &str) -> Vec<String> {
    let document: serde_json::Value =
        serde_json::from_str(stdout).expect("check --format json prints JSON");
    document["diagnostics"]
        .as_array()
        .expect("a diagnostics list")
        .iter()
        .map(|diagnostic| diagnostic["code"].as_str().unwrap().to_string())
        .collect()
}

fn codes_of(plan_text: &str) -> Vec<String> {
    let outcome = Ferry::new()
        .file("plan.yaml", plan_text)
        .args(["check", "--format", "json", "plan.yaml"])
        .run();
    json_codes(&outcome.stdout)
}

fn repository_text(relative: &str) -> String {
    std::fs::read_to_string(repository_root().join(relative)).expect("read a bundled plan")
}

#[test]
fn an_unknown_key_hides_no_domain_rule() {
    let plan = repository_text("plans/invalid/unknown-mount.yaml");
    assert_eq!(codes_of(&plan), ["unknown-mount"]);
    let with_unknown_key = plan.replace(
        "    target: aws-web-01\n",
        "    target: aws-web-01\n    priority: 1\n",
    );
    assert_eq!(
        codes_of(&with_unknown_key),
        ["unknown-key", "unknown-mount"]
    );

    let plan = repository_text("plans/invalid/plaintext-password.yaml");
    let with_unknown_key = plan.replace(
        "password: Winter2026!",
        "password: Winter2026!, domian: CORP",
    );
    let codes = codes_of(&with_unknown_key);
    assert!(
        codes.contains(&"plaintext-password".to_string())
            && codes.contains(&"unknown-key".to_string()),
        "{codes:?}"
    );
}

#[test]
fn a_schema_error_in_a_secret_reference_hides_nothing_else() {
    let plan = repository_text("plans/invalid/unknown-mount.yaml").replace(
        "password: { env: WEB01_PASSWORD }",
        "password: { env: WEB01_PASSWORD, fallback: hunter2 }",
    );
    let codes = codes_of(&plan);
    assert!(codes.contains(&"unknown-mount".to_string()), "{codes:?}");
}

/// Every plan in `tests/data/multi-error/` holds several kinds of error; each code it produces is
/// in its snapshots (the JSON document and the human report).
#[test]
fn every_multi_error_plan_reports_every_code() {
    let mut plans: Vec<_> = std::fs::read_dir(repository_root().join(MULTI_ERROR))
        .expect("read the multi-error folder")
        .map(|entry| entry.expect("read a folder entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yaml")
        })
        .collect();
    plans.sort();
    assert!(plans.len() >= 3, "{MULTI_ERROR} holds several plans");
    for plan in &plans {
        let name = plan.file_stem().unwrap().to_str().unwrap().to_string();
        let relative = Path::new(MULTI_ERROR).join(plan.file_name().unwrap());
        let json = Ferry::new()
            .args(["check", "--format", "json"])
            .arg(&relative)
            .run_in(&repository_root());
        assert_eq!(json.code, 1, "{name}: errors exit 1\n{}", json.snapshot());
        let codes = json_codes(&json.stdout);
        let mut kinds = codes.clone();
        kinds.sort();
        kinds.dedup();
        assert!(
            kinds.len() >= 4,
            "{name}: several kinds of error, found {kinds:?}"
        );
        insta::assert_snapshot!(format!("multi-error-{name}-codes"), codes.join("\n"));
        insta::assert_snapshot!(format!("multi-error-{name}-json"), json.snapshot());
        let human = Ferry::new()
            .arg("check")
            .arg(&relative)
            .run_in(&repository_root());
        insta::assert_snapshot!(format!("multi-error-{name}-human"), human.snapshot());
    }
}
