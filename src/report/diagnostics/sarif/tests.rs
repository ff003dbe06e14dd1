//! Tests of the SARIF renderer: its results, and validation against the SARIF 2.1.0 schema.

use super::*;
use crate::report::diagnostics::fixtures::{
    awkward_file, clean_file, sample_files, warning_only_files,
};

/// The SARIF 2.1.0 JSON schema, vendored in `tests/data/` (see its README for the source).
fn sarif_validator() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sarif-2.1.0.schema.json"
    );
    let text = std::fs::read_to_string(path).expect("the vendored SARIF schema");
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles")
}

fn assert_valid_sarif(output: &str) -> Value {
    let log: Value = serde_json::from_str(output).expect("SARIF output is JSON");
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF: {errors:#?}");
    log
}

#[test]
fn output_validates_against_the_sarif_schema() {
    assert_valid_sarif(&render(&sample_files(), false));
    assert_valid_sarif(&render(&sample_files(), true));
    assert_valid_sarif(&render(&[awkward_file()], false));
    assert_valid_sarif(&render(&[clean_file()], false));
    assert_valid_sarif(&render(&[], false));
}

#[test]
fn the_validator_rejects_a_broken_log() {
    // Proves the schema test can fail: a result without a message is not SARIF.
    let mut log: Value = serde_json::from_str(&render(&sample_files(), false)).unwrap();
    log["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert!(!sarif_validator().is_valid(&log));
}

#[test]
fn snapshot_of_the_results() {
    // The rules carry the full explanations, which have their own tests; snapshot the rest.
    let mut log = assert_valid_sarif(&render(&sample_files(), false));
    let rules = log["runs"][0]["tool"]["driver"]["rules"].take();
    assert_eq!(rules.as_array().map(Vec::len), Some(Code::ALL.len()));
    log["runs"][0]["tool"]["driver"]["version"] = json!("[version]");
    insta::assert_json_snapshot!(log);
}

#[test]
fn every_code_is_a_rule_and_results_point_at_theirs() {
    let log = assert_valid_sarif(&render(&sample_files(), false));
    let run = &log["runs"][0];
    assert_eq!(log["$schema"], SCHEMA_URI);
    assert_eq!(log["version"], "2.1.0");
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "ferry");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    for (position, code) in Code::ALL.iter().enumerate() {
        let rule = &rules[position];
        assert_eq!(rule["id"], code.as_str());
        assert_eq!(rule["shortDescription"]["text"], code.summary());
        assert!(!rule["fullDescription"]["text"].as_str().unwrap().is_empty());
        assert_eq!(
            rule["defaultConfiguration"]["level"],
            severity_name(code.default_severity())
        );
    }
    for result in run["results"].as_array().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    let unknown_mount = &run["results"][1];
    assert_eq!(unknown_mount["ruleId"], "unknown-mount");
    assert_eq!(
        unknown_mount["relatedLocations"][0]["message"]["text"],
        "`web-01` has `C:\\` and `D:\\`"
    );
    // The staging plan's backslash path becomes a forward-slash URI.
    assert_eq!(
        run["results"][3]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "plans/staging.yaml"
    );
}

#[test]
fn denied_warnings_become_errors() {
    let log = assert_valid_sarif(&render(&warning_only_files(), true));
    assert_eq!(log["runs"][0]["results"][0]["level"], "error");
    let log = assert_valid_sarif(&render(&warning_only_files(), false));
    assert_eq!(log["runs"][0]["results"][0]["level"], "warning");
}

#[test]
fn paths_become_uri_references() {
    assert_eq!(path_to_uri("plans/a.yaml"), "plans/a.yaml");
    assert_eq!(path_to_uri("plans\\a b.yaml"), "plans/a%20b.yaml");
    assert_eq!(path_to_uri("./plans/é.yaml"), "./plans/%C3%A9.yaml");
    assert_eq!(path_to_uri("odd:name#1?.yaml"), "odd%3Aname%231%3F.yaml");
    assert_eq!(path_to_uri("/srv/plans/a.yaml"), "file:///srv/plans/a.yaml");
    assert_eq!(path_to_uri("C:\\plans\\a.yaml"), "file:///C:/plans/a.yaml");
    assert_eq!(
        path_to_uri("\\\\server\\share\\a.yaml"),
        "file://server/share/a.yaml"
    );
}

#[test]
fn rule_names_are_pascal_case() {
    assert_eq!(pascal_case("unknown-mount"), "UnknownMount");
    assert_eq!(pascal_case("ip-changed"), "IpChanged");
}

fn fingerprints_and_lines(plan: &str) -> Vec<(String, String, u64)> {
    let checked = crate::plan::load::check_bytes(
        "plan.yaml",
        std::path::Path::new("plan.yaml"),
        plan.as_bytes(),
        std::path::Path::new("."),
        &crate::plan::yaml::Limits::default(),
    );
    let log = assert_valid_sarif(&render(&[checked.report], false));
    log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| {
            (
                result["ruleId"].as_str().unwrap().to_string(),
                result["partialFingerprints"][fingerprint::KEY]
                    .as_str()
                    .unwrap()
                    .to_string(),
                result["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap(),
            )
        })
        .collect()
}

const TWO_PROBLEMS: &str = "version: 1
sources:
  web-01:
    ip: 192.0.2.10
    credentials: { username: administrator, password: Winter2026! }
    mountpoints:
      - { name: 'C:\\', size: 40 GiB }
targets:
  aws-web-01:
    cloud: aws
    credentials: { username: AKIAEXAMPLE, password: { env: AWS_SECRET_ACCESS_KEY } }
    vm:
      ip: 198.51.100.20
      credentials: { username: administrator, password: { env: VM_PASSWORD } }
migrations:
  - { source: web-01, target: aws-web-01, mounts: ['C:\\', 'E:\\'] }
  - { source: web-01, target: aws-web-01, mounts: ['C:\\', 'E:\\'] }
";

#[test]
fn fingerprints_survive_lines_added_above_and_hide_secrets() {
    let before = fingerprints_and_lines(TWO_PROBLEMS);
    assert!(before.iter().any(|(code, ..)| code == "plaintext-password"));
    let after = fingerprints_and_lines(&format!("# wave 1\n\n{TWO_PROBLEMS}"));
    assert_eq!(before.len(), after.len());
    for ((code, before_print, before_line), (_, after_print, after_line)) in
        before.iter().zip(&after)
    {
        assert_eq!(
            before_print, after_print,
            "{code}: the same problem, the same fingerprint"
        );
        assert_eq!(before_line + 2, *after_line);
    }
    // Two results that differ only in their place are told apart by their occurrence.
    let mut prints: Vec<&String> = before.iter().map(|(_, print, _)| print).collect();
    prints.sort();
    prints.dedup();
    assert_eq!(prints.len(), before.len(), "{before:#?}");
    // The password's value is masked before hashing: another password, the same fingerprint.
    let other_password =
        fingerprints_and_lines(&TWO_PROBLEMS.replace("Winter2026!", "Summer2027?"));
    assert_eq!(before, other_password);
    // An edit of the labelled text is a new alert.
    let edited = fingerprints_and_lines(&TWO_PROBLEMS.replacen("'E:\\'", "'F:\\'", 1));
    assert_ne!(before, edited);
}

#[test]
fn rules_link_to_their_explanation_when_the_project_has_a_url() {
    let with_url = rule(Code::UnknownMount, Some("https://example.org/ferry/"));
    assert_eq!(
        with_url["helpUri"],
        "https://example.org/ferry/blob/HEAD/src/plan/explain/unknown-mount.md"
    );
    assert!(rule(Code::UnknownMount, None).get("helpUri").is_none());
    // A log whose rules carry `helpUri` is still valid SARIF (`helpUri` is a `uri`).
    let mut log: Value = serde_json::from_str(&render(&sample_files(), false)).unwrap();
    log["runs"][0]["tool"]["driver"]["informationUri"] = json!("https://example.org/ferry");
    log["runs"][0]["tool"]["driver"]["rules"][0] = with_url;
    assert!(sarif_validator().is_valid(&log));
}
