//! `ferry plan`: what a run would do, before a run, after it, and after the source changed;
//! it never creates or changes the state, and moves no data.

use super::demo;

#[test]
fn plan_shows_start_then_nothing_then_pending_work() {
    let ferry = demo();
    let before = ferry.run_with(&["plan", "plans/demo.yaml", "--detailed-exitcode"]);
    assert_eq!(before.code, 2, "{}", before.snapshot());
    insta::assert_snapshot!("plan_before_run", before.stdout);
    assert!(
        !ferry.directory().join(".ferry").exists(),
        "plan created no state"
    );
    assert!(
        !ferry.directory().join("plans/demo-out").exists(),
        "plan moved no data"
    );
    let without_flag = ferry.run_with(&["plan", "plans/demo.yaml"]);
    assert_eq!(without_flag.code, 0, "{}", without_flag.snapshot());

    assert_eq!(ferry.run_with(&["run", "plans/demo.yaml"]).code, 0);
    let state = ferry.directory().join(".ferry/state.db");
    let recorded = std::fs::read(&state).expect("state");
    let after = ferry.run_with(&["plan", "plans/demo.yaml", "--detailed-exitcode"]);
    assert_eq!(after.code, 0, "{}", after.snapshot());
    insta::assert_snapshot!("plan_after_run", after.stdout);

    let data = ferry.directory().join("plans/demo-data");
    std::fs::write(data.join("web-01/D/logs/u_ex26114.log"), "a new day\n").expect("add a file");
    std::fs::remove_file(data.join("db-01/var/lib/pgsql/data/base/16384")).expect("remove a file");
    let changed = ferry.run_with(&["plan", "plans/demo.yaml", "--detailed-exitcode"]);
    assert_eq!(changed.code, 2, "{}", changed.snapshot());
    insta::assert_snapshot!("plan_after_source_change", changed.stdout);
    assert_eq!(
        std::fs::read(&state).expect("state"),
        recorded,
        "plan changed no state"
    );
    assert!(
        !ferry
            .directory()
            .join("plans/demo-out/aws-web-01/D/logs/u_ex26114.log")
            .exists()
    );
}

#[test]
fn plan_as_json_has_a_version_and_the_counts() {
    let ferry = demo();
    let before = ferry.run_with(&["plan", "plans/demo.yaml", "--format", "json"]);
    assert_eq!(before.code, 0, "{}", before.snapshot());
    let document: serde_json::Value =
        serde_json::from_str(&before.stdout).expect("plan --format json prints JSON");
    insta::assert_json_snapshot!("plan_json_before_run", document);
    assert_eq!(ferry.run_with(&["run", "plans/demo.yaml"]).code, 0);
    let after = ferry.run_with(&["plan", "plans/demo.yaml", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&after.stdout).expect("JSON");
    assert_eq!(document["state"], ".ferry/state.db");
    assert_eq!(document["summary"]["nothing_to_do"], 2);
    assert!(
        document["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|migration| migration["pending"] == false && migration["state"] == "success")
    );
    // A refused plan prints `ferry check --format json`'s document.
    let refused = ferry
        .file("bad.yaml", "version: 2\n")
        .run_with(&["plan", "bad.yaml", "--format", "json"]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    let document: serde_json::Value = serde_json::from_str(&refused.stdout).expect("JSON");
    assert!(
        document["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|diagnostic| diagnostic["code"] == "unsupported-version"),
        "{document}"
    );
}
