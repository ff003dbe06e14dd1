//! Data in a target mount that ferry did not write (issue 10): refused before any byte moves,
//! by `ferry run` and `ferry plan` alike, whatever the state says; kept with `--adopt-existing`,
//! deleted with `--mirror`; a lost state file never costs data.

use std::os::unix::fs::symlink;

use super::{entries, migration_state};
use crate::support::command::{Ferry, Outcome};

const PLAN: &str = "version: 1
sources:
  web-01:
    ip: 192.0.2.10
    credentials: { username: administrator, password: { env: WEB01_PASSWORD } }
    mountpoints: [{ name: 'C:\\', size: 1 GiB }]
    connection: { local: { path: ./src } }
targets:
  t:
    cloud: aws
    credentials: { username: AKIAEXAMPLE, password: { env: AWS_PASSWORD } }
    vm:
      ip: 198.51.100.20
      credentials: { username: administrator, password: { env: VM_PASSWORD } }
      connection: { local: { path: ./out/t } }
migrations:
  - { source: web-01, target: t, mounts: ['C:\\'] }
";

/// The reproduction: `src/C/a.txt`, and a target mount holding a file and a nested
/// folder ferry did not write.
fn reproduction() -> Ferry {
    Ferry::new()
        .file("plan.yaml", PLAN)
        .file("src/C/a.txt", "a\n")
        .file("out/t/C/precious.txt", "PRECIOUS\n")
        .file("out/t/C/sub/p.txt", "P\n")
}

fn run(ferry: &Ferry, extra: &[&str]) -> Outcome {
    let mut arguments = vec!["run", "plan.yaml"];
    arguments.extend_from_slice(extra);
    ferry.run_with(&arguments)
}

fn assert_refused(outcome: &Outcome, named: &[&str]) {
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    let text = format!("{}{}", outcome.stdout, outcome.stderr);
    for needed in [
        "the target folder \"C\"",
        "ferry did not write",
        "--adopt-existing",
        "--mirror",
    ]
    .iter()
    .chain(named)
    {
        assert!(
            text.contains(needed),
            "{needed} missing: {}",
            outcome.snapshot()
        );
    }
}

#[test]
fn nested_files_and_folders_in_a_target_mount_are_refused_and_kept() {
    let ferry = reproduction();
    let target = ferry.directory().join("out/t");
    let before = entries(&target, &[]);
    let outcome = run(&ferry, &[]);
    assert_refused(
        &outcome,
        &["\"C/precious.txt\"", "\"C/sub/p.txt\"", "2 entries"],
    );
    assert_eq!(entries(&target, &[]), before, "nothing deleted or copied");
    let (state, error) = migration_state(&ferry, "web-01");
    assert_eq!(state, "error");
    assert!(error.unwrap_or_default().contains("--adopt-existing"));
}

#[test]
fn an_empty_state_file_is_refused_and_the_target_kept() {
    // ferry never leaves an empty state file, so an empty one lost its records: it is refused
    // before any target is looked at, rather than taken for a new state.
    let ferry = reproduction().file(".ferry/state.db", "");
    let target = ferry.directory().join("out/t");
    let before = entries(&target, &[]);
    let outcome = run(&ferry, &[]);
    assert_eq!(outcome.code, 2, "{}", outcome.snapshot());
    assert!(
        outcome.stderr.contains("it is empty"),
        "{}",
        outcome.snapshot()
    );
    assert_eq!(entries(&target, &[]), before);
    assert_eq!(
        std::fs::metadata(ferry.directory().join(".ferry/state.db"))
            .expect("kept")
            .len(),
        0
    );
}

#[test]
fn a_symlink_planted_in_a_target_mount_is_refused() {
    let ferry = Ferry::new()
        .file("plan.yaml", PLAN)
        .file("src/C/a.txt", "a\n");
    std::fs::create_dir_all(ferry.directory().join("out/t/C")).expect("target mount");
    symlink("/etc/passwd", ferry.directory().join("out/t/C/planted")).expect("plant a link");
    let outcome = run(&ferry, &[]);
    assert_refused(&outcome, &["\"C/planted\"", "1 entry"]);
    assert!(
        std::fs::symlink_metadata(ferry.directory().join("out/t/C/planted"))
            .expect("still there")
            .file_type()
            .is_symlink()
    );
    assert!(!ferry.directory().join("out/t/C/a.txt").exists());
}

#[test]
fn plan_shows_the_refusal_and_what_each_flag_would_do() {
    let ferry = reproduction();
    let refused = ferry.run_with(&["plan", "plan.yaml"]);
    assert_refused(&refused, &["\"C/precious.txt\""]);
    let adopting = ferry.run_with(&["plan", "plan.yaml", "--adopt-existing"]);
    assert_eq!(adopting.code, 0, "{}", adopting.snapshot());
    assert!(
        adopting.stdout.contains("delete 0; 2 not written by ferry"),
        "{}",
        adopting.stdout
    );
    let mirroring = ferry.run_with(&["plan", "plan.yaml", "--mirror"]);
    assert_eq!(mirroring.code, 0, "{}", mirroring.snapshot());
    assert!(
        mirroring
            .stdout
            .contains("delete 2; 2 not written by ferry"),
        "{}",
        mirroring.stdout
    );
    let both = ferry.run_with(&["plan", "plan.yaml", "--mirror", "--adopt-existing"]);
    assert_eq!(both.code, 2, "{}", both.snapshot());
    assert!(ferry.directory().join("out/t/C/sub/p.txt").exists());
}

#[test]
fn adopting_keeps_the_data_ferry_did_not_write() {
    let ferry = reproduction();
    let outcome = run(&ferry, &["--adopt-existing"]);
    assert_eq!(outcome.code, 0, "{}", outcome.snapshot());
    assert!(outcome.stderr.contains("0 removed"), "{}", outcome.stderr);
    let target = ferry.directory().join("out/t/C");
    assert_eq!(std::fs::read(target.join("a.txt")).expect("copied"), b"a\n");
    assert_eq!(
        std::fs::read(target.join("precious.txt")).expect("kept"),
        b"PRECIOUS\n"
    );
    assert_eq!(
        std::fs::read(target.join("sub/p.txt")).expect("kept"),
        b"P\n"
    );
    assert_eq!(migration_state(&ferry, "web-01").0, "success");

    // The adoption is not remembered: a plain run refuses again (the state stays `success`),
    // and with the flag it finds nothing to do.
    let plain = run(&ferry, &[]);
    assert_refused(&plain, &["\"C/precious.txt\""]);
    assert!(plain.stderr.contains("fix the cause"), "{}", plain.stderr);
    assert_eq!(migration_state(&ferry, "web-01").0, "success");
    let again = run(&ferry, &["--adopt-existing"]);
    assert_eq!(again.code, 0, "{}", again.snapshot());
    assert!(
        again.stderr.contains("unchanged since; nothing to do"),
        "{}",
        again.stderr
    );
}

#[test]
fn mirroring_deletes_it_and_nothing_outside_the_mount() {
    let ferry = reproduction().file("out/t/notes.txt", "beside the mounts\n");
    let outcome = run(&ferry, &["--mirror"]);
    assert_eq!(outcome.code, 0, "{}", outcome.snapshot());
    let source = ferry.directory().join("src/C");
    let target = ferry.directory().join("out/t/C");
    assert_eq!(entries(&target, &[]), entries(&source, &[]));
    assert!(ferry.directory().join("out/t/notes.txt").exists());
}

#[test]
fn a_lost_state_file_never_costs_data_and_adopting_records_it_again() {
    let ferry = Ferry::new()
        .file("plan.yaml", PLAN)
        .file("src/C/a.txt", "a\n")
        .file("src/C/sub/b.txt", "b\n");
    let first = run(&ferry, &[]);
    assert_eq!(first.code, 0, "{}", first.snapshot());
    let target = ferry.directory().join("out/t");
    let written = entries(&target, &[]);
    for name in ["state.db", "state.db-wal", "state.db-shm"] {
        let _ = std::fs::remove_file(ferry.directory().join(".ferry").join(name));
    }

    let refused = run(&ferry, &[]);
    assert_refused(
        &refused,
        &["\"C/a.txt\"", "\"C/sub/b.txt\"", "records them"],
    );
    assert_eq!(entries(&target, &[]), written, "untouched");

    let adopted = run(&ferry, &["--adopt-existing"]);
    assert_eq!(adopted.code, 0, "{}", adopted.snapshot());
    assert_eq!(migration_state(&ferry, "web-01").0, "success");
    assert_eq!(
        entries(&target.join("C"), &[]),
        entries(&ferry.directory().join("src/C"), &[])
    );
    let again = run(&ferry, &[]);
    assert_eq!(again.code, 0, "{}", again.snapshot());
}
