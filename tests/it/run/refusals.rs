//! Runs refused before any data moves: a plan with errors, missing secrets, bad flags, unknown
//! `--only` names, a source whose IP changed since it was recorded, and a plan with hooks (not run yet).

use super::demo;
use crate::support::command::{Ferry, repository_root};

#[test]
fn a_plan_with_errors_is_refused_and_writes_nothing() {
    let ferry = Ferry::new();
    let plan = std::fs::read_to_string(repository_root().join("plans/invalid/unknown-mount.yaml"))
        .expect("example");
    let ferry = ferry.file("plan.yaml", plan);
    let outcome = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    assert!(
        outcome.stdout.contains("unknown-mount"),
        "{}",
        outcome.snapshot()
    );
    let names: Vec<String> = std::fs::read_dir(ferry.directory())
        .expect("list")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names, ["plan.yaml"], "no state file and no data");
}

pub(super) const SFTP_PLAN: &str = "version: 1
sources:
  web-01:
    ip: 192.0.2.10
    credentials: { username: administrator, password: { env: FERRY_TEST_UNSET_WEB01 } }
    mountpoints: [{ name: 'C:\\', size: 40 GiB }]
    connection: { sftp: { port: 2222 } }
  db-01:
    ip: 192.0.2.20
    credentials: { username: root, password: { file: secrets/db-01.txt } }
    mountpoints: [{ name: /, size: 20 GiB }]
    connection: { sftp: { port: 2222 } }
targets:
  aws-web-01:
    cloud: aws
    credentials: { username: AKIAEXAMPLE, password: { env: FERRY_TEST_UNSET_AWS } }
    vm:
      ip: 198.51.100.20
      credentials: { username: administrator, password: { env: FERRY_TEST_UNSET_VM } }
      connection: { local: { path: ./out/web } }
  vsphere-db-01:
    cloud: vsphere
    credentials: { username: svc, password: { env: FERRY_TEST_UNSET_VSPHERE } }
    vm:
      ip: 198.51.100.30
      credentials: { username: root, password: { env: FERRY_TEST_UNSET_VM } }
      connection: { sftp: { port: 2222 } }
migrations:
  - { source: web-01, target: aws-web-01, mounts: ['C:\\'] }
  - { source: db-01, target: vsphere-db-01, mounts: [/] }
";

#[test]
fn every_missing_secret_is_reported_at_once_and_nothing_moves() {
    let ferry = Ferry::new().file("plan.yaml", SFTP_PLAN);
    let outcome = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    insta::assert_snapshot!("missing_secrets", outcome.snapshot());
    assert!(!ferry.directory().join(".ferry").exists(), "no state");
    assert!(!ferry.directory().join("out").exists(), "no data");
}

#[test]
fn bad_flags_and_unknown_migrations_are_command_errors() {
    let ferry = demo();
    let rate = ferry.run_with(&["run", "plans/demo.yaml", "--bwlimit", "fast"]);
    assert_eq!(rate.code, 2, "{}", rate.snapshot());
    assert!(
        rate.stderr.contains("invalid bandwidth limit `fast`"),
        "{}",
        rate.stderr
    );
    let unknown = ferry.run_with(&[
        "run",
        "plans/demo.yaml",
        "--only",
        "web-1",
        "--only",
        "db-01",
    ]);
    assert_eq!(unknown.code, 2, "{}", unknown.snapshot());
    assert!(
        unknown
            .stderr
            .contains("no migration named `web-1`; did you mean `web-01`?"),
        "{}",
        unknown.stderr
    );
    assert!(!ferry.directory().join("plans/demo-out").exists());
}

#[test]
fn only_runs_the_named_migration_and_a_changed_ip_is_refused() {
    let ferry = demo();
    let only = ferry.run_with(&["run", "plans/demo.yaml", "--only", "db-01"]);
    assert_eq!(only.code, 0, "{}", only.snapshot());
    assert!(
        ferry
            .directory()
            .join("plans/demo-out/vsphere-db-01/etc/hostname")
            .exists()
    );
    assert!(!ferry.directory().join("plans/demo-out/aws-web-01").exists());

    let plan_path = ferry.directory().join("plans/demo.yaml");
    let plan = std::fs::read_to_string(&plan_path).expect("plan");
    std::fs::write(&plan_path, plan.replace("192.0.2.20", "192.0.2.21")).expect("change the IP");
    let refused = ferry.run_with(&["run", "plans/demo.yaml"]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    assert!(
        refused.stdout.contains("ip-changed"),
        "{}",
        refused.snapshot()
    );
    assert!(
        !ferry.directory().join("plans/demo-out/aws-web-01").exists(),
        "nothing ran"
    );
}

#[test]
fn a_workload_without_a_connection_fails_its_migration_naming_the_key_to_add() {
    let ferry = demo();
    let plan_path = ferry.directory().join("plans/demo.yaml");
    let plan = std::fs::read_to_string(&plan_path).expect("plan");
    let without = plan.replace(
        "      connection: { local: { path: ./demo-out/aws-web-01 } }\n",
        "",
    );
    assert_ne!(without, plan);
    std::fs::write(&plan_path, without).expect("drop a connection");
    let outcome = ferry.run_with(&["run", "plans/demo.yaml"]);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    assert!(
        outcome
            .stdout
            .contains("web-01: target `aws-web-01` has no connection")
            && outcome
                .stdout
                .contains("add `targets.aws-web-01.vm.connection` to the plan"),
        "{}",
        outcome.stdout
    );
    // The other migration is not held back.
    assert!(
        ferry
            .directory()
            .join("plans/demo-out/vsphere-db-01/etc/hostname")
            .exists()
    );
}
