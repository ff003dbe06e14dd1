//! `ferry check`, `ferry schema` and `ferry explain` as users see them: every bundled plan, every invalid example, every format.

use std::path::Path;

use ferry::plan::codes::Code;
use ferry::plan::diagnostic::Severity;

use crate::support::command::{Ferry, repository_root};

/// Codes that a plan file alone cannot produce: they need recorded state, a run, or a file that
/// cannot be read. Their integration tests live with the state and run tests, and below.
const NOT_FROM_A_PLAN_FILE: &[&str] = &[
    "ip-changed",
    "ip-recorded-elsewhere",
    "missing-secret",
    "unreadable-plan",
];

fn plans_in(folder: &str) -> Vec<std::path::PathBuf> {
    let mut plans: Vec<_> = std::fs::read_dir(repository_root().join(folder))
        .expect("read the plans folder")
        .map(|entry| entry.expect("read a folder entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yaml")
        })
        .collect();
    plans.sort();
    plans
}

fn json_codes(stdout: &str) -> Vec<String> {
    let document: serde_json::Value =
        serde_json::from_str(stdout).expect("check --format json prints JSON");
    document["diagnostics"]
        .as_array()
        .expect("a diagnostics list")
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_bundled_plan_checks_clean() {
    let plans = plans_in("plans");
    assert!(
        plans.len() >= 4,
        "plans/ holds the demo and the realistic plans"
    );
    for plan in plans {
        let outcome = Ferry::new()
            .args(["check", "--deny-warnings"])
            .arg(&plan)
            .run();
        assert_eq!(
            outcome.code,
            0,
            "{} must check clean:\n{}",
            plan.display(),
            outcome.snapshot()
        );
    }
}

/// Each file in `plans/invalid/` is named after the code it demonstrates; it must produce that code,
/// and its human and JSON outputs are snapshots.
#[test]
fn every_invalid_plan_produces_its_code() {
    let plans = plans_in("plans/invalid");
    for plan in &plans {
        let code = plan.file_stem().unwrap().to_str().unwrap().to_string();
        let relative = Path::new("plans/invalid").join(plan.file_name().unwrap());
        let severity = Code::from_name(&code)
            .unwrap_or_else(|| panic!("{code}: not a diagnostic code"))
            .default_severity();
        let expected_exit = if severity == Severity::Error { 1 } else { 0 };
        let json = Ferry::new()
            .args(["check", "--format", "json"])
            .arg(plan)
            .run();
        assert_eq!(
            json.code,
            expected_exit,
            "{code}: exit status {expected_exit} expected\n{}",
            json.snapshot()
        );
        assert!(
            json_codes(&json.stdout).contains(&code),
            "{code}: the plan must produce its code\n{}",
            json.stdout
        );
        let human = Ferry::new()
            .args(["check"])
            .arg(&relative)
            .run_in(&repository_root());
        insta::assert_snapshot!(format!("invalid-{code}-human"), human.snapshot());
        let json = Ferry::new()
            .args(["check", "--format", "json"])
            .arg(&relative)
            .run_in(&repository_root());
        insta::assert_snapshot!(format!("invalid-{code}-json"), json.snapshot());
    }
}

#[test]
fn every_code_has_an_invalid_example_or_a_reason() {
    let examples: Vec<String> = plans_in("plans/invalid")
        .iter()
        .map(|plan| plan.file_stem().unwrap().to_str().unwrap().to_string())
        .collect();
    for code in Code::ALL {
        let name = code.as_str();
        assert!(
            examples.iter().any(|example| example == name) || NOT_FROM_A_PLAN_FILE.contains(&name),
            "add plans/invalid/{name}.yaml demonstrating `{name}`"
        );
    }
}

/// Hostile or broken input gets a diagnostic and exit status 1 (or 2 when the file cannot be
/// read), never a panic or a hang.
#[test]
fn bad_input_is_diagnosed_not_panicked_on() {
    let deep_flow = format!(
        "version: 1\nsources: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let mut deep_block = String::from("version: 1\nsources:\n");
    for depth in 0..10_000 {
        deep_block.push_str(&" ".repeat(depth + 2));
        deep_block.push_str("a:\n");
    }
    let mut huge = String::with_capacity(50 * 1024 * 1024 + 64);
    huge.push_str("version: 1\nanchors:\n");
    while huge.len() < 50 * 1024 * 1024 {
        huge.push_str("  - padding padding padding padding padding padding padding padding\n");
    }
    let mut junk = Vec::with_capacity(4096);
    let mut state: u32 = 0x1234_5678;
    for _ in 0..4096 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        junk.push((state & 0xff) as u8);
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "empty-plan"),
        (
            "whitespace",
            b"\n\n   \n# only a comment\n".to_vec(),
            "empty-plan",
        ),
        ("binary-junk", junk, "invalid-encoding"),
        (
            "latin-1",
            b"version: 1\nsources:\n  m\xfcnchen: {}\n".to_vec(),
            "invalid-encoding",
        ),
        ("deep-flow", deep_flow.into_bytes(), "yaml-limit"),
        ("deep-block", deep_block.into_bytes(), "yaml-limit"),
        ("huge-file", huge.into_bytes(), "yaml-limit"),
        (
            "huge-integers",
            b"version: 99999999999999999999999999999\nsources: {}\ntargets: {}\nmigrations: []\n"
                .to_vec(),
            "unsupported-version",
        ),
        (
            "list-for-map",
            b"version: 1\nsources: [a, b]\ntargets: {}\nmigrations: []\n".to_vec(),
            "invalid-type",
        ),
        (
            "scalar-document",
            b"just a string\n".to_vec(),
            "invalid-type",
        ),
        (
            "two-documents",
            b"version: 1\n---\nversion: 1\n".to_vec(),
            "yaml-syntax",
        ),
        (
            "unknown-alias",
            b"version: 1\nsources: *nothing\n".to_vec(),
            "yaml-syntax",
        ),
    ];
    for (name, bytes, expected) in cases {
        let ferry = Ferry::new().file(&format!("{name}.yaml"), &bytes).args([
            "check",
            "--format",
            "json",
            &format!("{name}.yaml"),
        ]);
        let outcome = ferry.run();
        assert_eq!(
            outcome.code,
            1,
            "{name}: exit status 1 expected\n{}",
            outcome.snapshot()
        );
        assert!(
            outcome.stderr.is_empty(),
            "{name}: nothing on stderr\n{}",
            outcome.stderr
        );
        assert!(
            json_codes(&outcome.stdout).contains(&expected.to_string()),
            "{name}: `{expected}` expected\n{}",
            outcome.stdout
        );
    }
}

#[test]
fn a_missing_file_is_an_unreadable_plan_error_and_the_others_are_still_checked() {
    let ferry = Ferry::new()
        .file(
            "ok.yaml",
            std::fs::read(repository_root().join("plans/demo.yaml")).unwrap(),
        )
        .file("bad.yaml", "version: 2\n");
    let outcome = ferry.run_with(&["check", "missing.yaml", "ok.yaml"]);
    assert_eq!(outcome.code, 2, "{}", outcome.snapshot());
    assert!(outcome.stderr.is_empty(), "{}", outcome.snapshot());
    for text in [
        "error[unreadable-plan]",
        "cannot read plan file `missing.yaml`",
        "error: 1 error in 1 file",
    ] {
        assert!(outcome.stdout.contains(text), "{}", outcome.stdout);
    }
    assert!(!outcome.stdout.contains("ok:"), "{}", outcome.stdout);
    // Every format reports it, counts it, and exits 2.
    let json = ferry.run_with(&["check", "--format", "json", "missing.yaml", "bad.yaml"]);
    assert_eq!(json.code, 2, "{}", json.snapshot());
    let codes = json_codes(&json.stdout);
    assert_eq!(codes[0], "unreadable-plan", "{}", json.stdout);
    assert!(codes.contains(&"unsupported-version".to_string()));
    let document: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(document["summary"]["errors"], codes.len());
    assert_eq!(document["diagnostics"][0]["file"], "missing.yaml");
    let sarif = ferry.run_with(&["check", "--format", "sarif", "missing.yaml"]);
    assert_eq!(sarif.code, 2, "{}", sarif.snapshot());
    let document: serde_json::Value = serde_json::from_str(&sarif.stdout).expect("SARIF is JSON");
    assert_eq!(
        document["runs"][0]["results"][0]["ruleId"],
        "unreadable-plan"
    );
    let github = ferry.run_with(&["check", "--format", "github", "missing.yaml"]);
    assert_eq!(github.code, 2, "{}", github.snapshot());
    assert!(
        github.stdout.starts_with("::error file=missing.yaml"),
        "{}",
        github.stdout
    );
    assert!(
        github.stdout.contains("title=unreadable-plan"),
        "{}",
        github.stdout
    );
    // A folder is checked plan by plan (tests/it/cli.rs has more).
    let folder = ferry.run_with(&["check", "--format", "json", "."]);
    assert_eq!(folder.code, 1, "{}", folder.snapshot());
    let codes = json_codes(&folder.stdout);
    assert!(
        codes.contains(&"unsupported-version".to_string()),
        "{codes:?}"
    );
    assert!(!codes.contains(&"unreadable-plan".to_string()), "{codes:?}");
}

#[test]
fn warnings_fail_only_under_deny_warnings() {
    let plan = repository_root().join("plans/invalid/plaintext-password.yaml");
    let relaxed = Ferry::new().arg("check").arg(&plan).run();
    assert_eq!(relaxed.code, 0, "{}", relaxed.snapshot());
    let strict = Ferry::new()
        .args(["check", "--deny-warnings", "--format", "json"])
        .arg(&plan)
        .run();
    assert_eq!(strict.code, 1, "{}", strict.snapshot());
    assert!(
        strict.stdout.contains(r#""severity":"error""#),
        "{}",
        strict.stdout
    );
    assert!(
        !strict.stdout.contains("Winter2026"),
        "a plain-text password never appears in output"
    );
    assert!(
        !relaxed.stdout.contains("Winter2026"),
        "a plain-text password never appears in output"
    );
}

#[test]
fn github_and_sarif_formats() {
    let plans = [
        "plans/invalid/unknown-mount.yaml",
        "plans/invalid/plaintext-password.yaml",
    ];
    let github = Ferry::new()
        .args(["check", "--format", "github"])
        .args(plans)
        .run_in(&repository_root());
    insta::assert_snapshot!("check-github", github.snapshot());
    let sarif = Ferry::new()
        .args(["check", "--format", "sarif"])
        .args(plans)
        .run_in(&repository_root());
    assert_eq!(sarif.code, 1);
    let document: serde_json::Value = serde_json::from_str(&sarif.stdout).expect("SARIF is JSON");
    assert_eq!(document["version"], "2.1.0");
    let results = document["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["ruleId"], "unknown-mount");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "plans/invalid/unknown-mount.yaml"
    );
}

#[test]
fn help_texts() {
    for arguments in [
        vec!["--help"],
        vec!["check", "--help"],
        vec!["run", "--help"],
        vec!["plan", "--help"],
        vec!["state", "--help"],
        vec!["state", "list", "--help"],
    ] {
        let outcome = Ferry::new().args(&arguments).run();
        assert_eq!(outcome.code, 0);
        insta::assert_snapshot!(
            format!(
                "help-{}",
                arguments
                    .join("-")
                    .trim_start_matches('-')
                    .replace("--", "")
            ),
            outcome.snapshot()
        );
    }
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let outcome = Ferry::new().arg("schema").run();
    assert_eq!(outcome.code, 0);
    let committed =
        std::fs::read_to_string(repository_root().join("schema/plan.schema.json")).unwrap();
    assert_eq!(outcome.stdout, committed);
}

#[test]
fn check_reports_every_problem_in_every_file_at_once() {
    let files: Vec<String> = plans_in("plans/invalid")
        .iter()
        .map(|plan| {
            format!(
                "plans/invalid/{}",
                plan.file_name().unwrap().to_str().unwrap()
            )
        })
        .collect();
    let outcome = Ferry::new()
        .args(["check", "--format", "json"])
        .args(&files)
        .run_in(&repository_root());
    assert_eq!(outcome.code, 1);
    let codes = json_codes(&outcome.stdout);
    for file in &files {
        let code = Path::new(file).file_stem().unwrap().to_str().unwrap();
        assert!(
            codes.iter().any(|found| found == code),
            "{code} missing from a multi-file check"
        );
    }
}
