//! `ferry check`, `ferry schema` and `ferry explain` as users see them: every bundled plan, every invalid example, every format.

use std::path::Path;

use crate::support::command::{Ferry, repository_root};

fn plans_in(folder: &str) -> Vec<std::path::PathBuf> {
    let mut plans: Vec<_> = std::fs::read_dir(repository_root().join(folder))
        .expect("read the plans folder")
        .map(|entry| entry.expect("read a folder entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yaml"))
        .collect();
    plans.sort();
    plans
}

fn json_codes(stdout: &str) -> Vec<String> {
    let document: serde_json::Value = serde_json::from_str(stdout).expect("check --format json prints JSON");
    document["diagnostics"].as_array().expect("a diagnostics list").iter().map(|d| d["code"].as_str().unwrap().to_string()).collect()
}

#[test]
fn every_bundled_plan_checks_clean() {
    let plans = plans_in("plans");
    assert!(plans.len() >= 4, "plans/ holds the demo and the realistic plans");
    for plan in plans {
        let outcome = Ferry::new().args(["check", "--deny-warnings"]).arg(&plan).run();
        assert_eq!(outcome.code, 0, "{} must check clean:\n{}", plan.display(), outcome.snapshot());
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
        let json = Ferry::new().args(["check", "--format", "json"]).arg(&plan).run();
        assert_eq!(json.code, 1, "{code}: exit status 1 expected\n{}", json.snapshot());
        assert!(json_codes(&json.stdout).contains(&code), "{code}: the plan must produce its code\n{}", json.stdout);
        let human = Ferry::new().args(["check"]).arg(&relative).run_in(&repository_root());
        insta::assert_snapshot!(format!("invalid-{code}-human"), human.snapshot());
        let json = Ferry::new().args(["check", "--format", "json"]).arg(&relative).run_in(&repository_root());
        insta::assert_snapshot!(format!("invalid-{code}-json"), json.snapshot());
    }
}
