//! Tests of schema generation and of the schema-error classification.

use std::cell::RefCell;

use serde_json::json;

use super::schema_diagnostics;
use crate::plan::codes::Code;
use crate::plan::yaml::{Locate, Located};

/// Hands out span `i..i+1` for the i-th distinct pointer asked for, so tests can tell which
/// pointer a label points at.
#[derive(Default)]
struct PointerSpans(RefCell<Vec<String>>);

impl PointerSpans {
    fn pointer_of(&self, span: &std::ops::Range<usize>) -> String {
        self.0.borrow()[span.start].clone()
    }
}

impl Locate for PointerSpans {
    fn locate(&self, pointer: &str) -> Located {
        let mut pointers = self.0.borrow_mut();
        let index = pointers.iter().position(|known| known == pointer).unwrap_or_else(|| {
            pointers.push(pointer.to_string());
            pointers.len() - 1
        });
        Located { key: Some(index..index + 1), value: index..index + 1 }
    }
}

fn valid_plan() -> serde_json::Value {
    json!({
        "version": 1,
        "sources": {"web-01": {
            "ip": "192.0.2.10",
            "credentials": {"username": "administrator", "password": {"env": "WEB01_PASSWORD"}},
            "mountpoints": [{"name": "C:\\", "size": "40 GiB"}, {"name": "D:\\", "size": 1024}],
            "connection": {"local": {"path": "./data/web-01"}}
        }},
        "targets": {"aws-web-01": {
            "cloud": "aws",
            "credentials": {"username": "AKIAEXAMPLE", "password": {"env": "AWS_SECRET"}, "domain": "us-east-1"},
            "vm": {"ip": "198.51.100.20", "credentials": {"username": "administrator", "password": {"file": "vm.txt"}}}
        }},
        "migrations": [{"source": "web-01", "target": "aws-web-01", "mounts": ["C:\\"]}]
    })
}

/// (code, pointer of the primary label) for each diagnostic, sorted.
fn findings(plan: &serde_json::Value) -> Vec<(Code, String)> {
    let spans = PointerSpans::default();
    let mut found: Vec<(Code, String)> = schema_diagnostics(plan, &spans)
        .iter()
        .map(|diagnostic| (diagnostic.code, spans.pointer_of(&diagnostic.labels[0].span)))
        .collect();
    found.sort();
    found
}

fn with(mut plan: serde_json::Value, pointer: &str, value: serde_json::Value) -> serde_json::Value {
    *plan.pointer_mut(pointer).expect("pointer exists in the valid plan") = value;
    plan
}

#[test]
fn a_valid_plan_has_no_schema_errors() {
    assert_eq!(findings(&valid_plan()), vec![]);
}

#[test]
fn the_schema_compiles_and_is_draft_2020_12() {
    let schema = super::plan_schema();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert!(!super::plan_schema_text().contains("\"null\""), "Option fields must not allow null");
}

#[test]
fn workload_fields_get_domain_codes() {
    let plan = with(valid_plan(), "/sources/web-01/ip", json!(""));
    assert_eq!(findings(&plan), vec![(Code::MissingIp, "/sources/web-01/ip".into())]);
    let plan = with(valid_plan(), "/sources/web-01/ip", json!("300.1.2.3"));
    assert_eq!(findings(&plan), vec![(Code::InvalidIp, "/sources/web-01/ip".into())]);
    let plan = with(valid_plan(), "/targets/aws-web-01/vm/credentials/username", json!(""));
    assert_eq!(findings(&plan), vec![(Code::MissingCredential, "/targets/aws-web-01/vm/credentials/username".into())]);
    let plan = with(valid_plan(), "/sources/web-01/credentials/password", json!(""));
    assert_eq!(findings(&plan), vec![(Code::MissingCredential, "/sources/web-01/credentials/password".into())]);
    let plan = with(valid_plan(), "/sources/web-01/mountpoints/1/size", json!(0));
    assert_eq!(findings(&plan), vec![(Code::InvalidSize, "/sources/web-01/mountpoints/1/size".into())]);
    let plan = with(valid_plan(), "/sources/web-01/mountpoints/0/size", json!("lots"));
    assert_eq!(findings(&plan), vec![(Code::InvalidSize, "/sources/web-01/mountpoints/0/size".into())]);
}

#[test]
fn missing_credentials_and_ip_point_at_the_parent_key() {
    let mut plan = valid_plan();
    plan["sources"]["web-01"]["credentials"].as_object_mut().unwrap().remove("password");
    plan["sources"]["web-01"].as_object_mut().unwrap().remove("ip");
    assert_eq!(
        findings(&plan),
        vec![
            (Code::MissingCredential, "/sources/web-01/credentials".into()),
            (Code::MissingIp, "/sources/web-01".into()),
        ]
    );
}

#[test]
fn version_cloud_and_selection() {
    let plan = with(valid_plan(), "/version", json!(2));
    assert_eq!(findings(&plan), vec![(Code::UnsupportedVersion, "/version".into())]);
    let plan = with(valid_plan(), "/targets/aws-web-01/cloud", json!("AWS"));
    assert_eq!(findings(&plan), vec![(Code::UnknownCloud, "/targets/aws-web-01/cloud".into())]);
    let plan = with(valid_plan(), "/migrations/0/mounts", json!([]));
    assert_eq!(findings(&plan), vec![(Code::EmptySelection, "/migrations/0/mounts".into())]);
}

#[test]
fn cloud_aliases_suggest_the_right_cloud() {
    let spans = PointerSpans::default();
    for (written, expected) in [("amazon", "aws"), ("vmware", "vsphere"), ("Azure", "azure"), ("vcd", "vcloud")] {
        let plan = with(valid_plan(), "/targets/aws-web-01/cloud", json!(written));
        let diagnostics = schema_diagnostics(&plan, &spans);
        let help = diagnostics[0].help.clone().unwrap_or_default();
        assert!(help.starts_with(&format!("did you mean `{expected}`")), "{written}: {help}");
    }
}

#[test]
fn unknown_keys_point_at_the_key_and_suggest() {
    let mut plan = valid_plan();
    plan.as_object_mut().unwrap().insert("sourcs".into(), json!({}));
    plan["sources"]["web-01"]["credentials"].as_object_mut().unwrap().insert("usernme".into(), json!("x"));
    let spans = PointerSpans::default();
    let diagnostics = schema_diagnostics(&plan, &spans);
    let mut found: Vec<(Code, String, Option<String>)> = diagnostics
        .iter()
        .map(|d| (d.code, spans.pointer_of(&d.labels[0].span), d.help.clone()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            (Code::UnknownKey, "/sources/web-01/credentials/usernme".into(), Some("did you mean `username`?".into())),
            (Code::UnknownKey, "/sourcs".into(), Some("did you mean `sources`?".into())),
        ]
    );
}

#[test]
fn tagged_alternatives_report_the_branch_the_user_meant() {
    let plan = with(valid_plan(), "/sources/web-01/connection", json!({"sftp": {"prot": 22}}));
    assert_eq!(findings(&plan), vec![(Code::UnknownKey, "/sources/web-01/connection/sftp/prot".into())]);
    let plan = with(valid_plan(), "/sources/web-01/connection", json!({"lokal": {"path": "x"}}));
    assert_eq!(findings(&plan), vec![(Code::UnknownKey, "/sources/web-01/connection/lokal".into())]);
    let plan = with(valid_plan(), "/sources/web-01/credentials/password", json!({"env": ""}));
    assert_eq!(findings(&plan), vec![(Code::InvalidValue, "/sources/web-01/credentials/password/env".into())]);
}

#[test]
fn wrong_types_say_what_was_expected() {
    let plan = with(valid_plan(), "/targets/aws-web-01/vm", json!([]));
    let spans = PointerSpans::default();
    let diagnostics = schema_diagnostics(&plan, &spans);
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].code, Code::InvalidType);
    assert!(diagnostics[0].message.contains("expected a mapping, found a list"), "{}", diagnostics[0].message);
    let plan = with(valid_plan(), "/migrations/0", json!("web-01"));
    assert_eq!(findings(&plan), vec![(Code::InvalidType, "/migrations/0".into())]);
}

#[test]
fn missing_keys_explain_what_the_key_is() {
    let mut plan = valid_plan();
    plan["migrations"][0].as_object_mut().unwrap().remove("target");
    let spans = PointerSpans::default();
    let diagnostics = schema_diagnostics(&plan, &spans);
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].code, Code::MissingKey);
    assert_eq!(diagnostics[0].help.as_deref(), Some("add `target`: The target's name, a key of `targets`"));
}

/// `schema/plan.schema.json` is a committed artifact; it must match the types. Regenerate it with
/// `FERRY_UPDATE_SCHEMA=1 cargo test schema_file` (or `ferry schema > schema/plan.schema.json`).
#[test]
fn schema_file_matches_the_types() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/plan.schema.json");
    let expected = super::plan_schema_text();
    if std::env::var_os("FERRY_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &expected).expect("write schema/plan.schema.json");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "schema/plan.schema.json has drifted from the Rust types in src/plan/raw.rs;\n\
         regenerate it with `FERRY_UPDATE_SCHEMA=1 cargo test schema_file` and commit it"
    );
}
