//! The README's "Exit status" table, row by row: each row is one real invocation of `ferry`.
//! (130 and 143, a run stopped by Ctrl-C or SIGTERM, are in `run::interrupt`: they need a run
//! caught mid-copy.)

use crate::support::command::{Ferry, repository_root};

/// A plan with one small local migration (`app`, `source/` to `out/`) that is ready to run.
const SMALL_PLAN: &str = "version: 1
sources:
  app:
    ip: 192.0.2.60
    credentials: { username: root, password: { env: APP_PASSWORD } }
    mountpoints: [{ name: /, size: 1 MiB }]
    connection: { local: { path: ./source } }
targets:
  vm:
    cloud: vsphere
    credentials: { username: admin, password: { env: VSPHERE_PASSWORD } }
    vm:
      ip: 198.51.100.60
      credentials: { username: root, password: { env: VM_PASSWORD } }
      connection: { local: { path: ./out } }
migrations:
  - { name: app, source: app, target: vm, mounts: [/] }
";

/// What a row's folder holds before its invocation.
#[derive(Debug, Clone, Copy)]
enum Setup {
    /// `plan.yaml` (the small plan) and its source data; no state.
    Ready,
    /// As `Ready`, with the source folder missing.
    NoSource,
    /// As `Ready`, after one successful run (state recorded, nothing left to do).
    AfterRun,
    /// `plan.yaml` with errors (`plans/invalid/unknown-mount.yaml`).
    Invalid,
    /// As `Ready`, with a state file that is not a database.
    CorruptState,
}

fn prepared(setup: Setup) -> Ferry {
    let ferry = match setup {
        Setup::Invalid => Ferry::new().file(
            "plan.yaml",
            std::fs::read(repository_root().join("plans/invalid/unknown-mount.yaml"))
                .expect("example"),
        ),
        _ => Ferry::new().file("plan.yaml", SMALL_PLAN),
    };
    if !matches!(setup, Setup::NoSource | Setup::Invalid) {
        std::fs::create_dir_all(ferry.directory().join("source")).expect("source");
        std::fs::write(ferry.directory().join("source/file.txt"), "data").expect("file");
    }
    match setup {
        Setup::AfterRun => {
            let first = ferry.run_with(&["run", "plan.yaml"]);
            assert_eq!(first.code, 0, "{}", first.snapshot());
        }
        Setup::CorruptState => {
            std::fs::create_dir_all(ferry.directory().join(".ferry")).expect(".ferry");
            std::fs::write(ferry.state_path(), "not a database, not at all").expect("state");
        }
        _ => {}
    }
    ferry
}

/// (setup, arguments, exit status), in the README table's order.
const ROWS: &[(Setup, &[&str], i32)] = &[
    (Setup::Ready, &["check", "plan.yaml"], 0),
    (Setup::Invalid, &["check", "plan.yaml"], 1),
    (Setup::Ready, &["check", "missing.yaml"], 2),
    (Setup::Ready, &["check", "plan.yaml", "--format", "yaml"], 2),
    (Setup::Ready, &["check", "--connect", "plan.yaml"], 0),
    (Setup::NoSource, &["check", "--connect", "plan.yaml"], 1),
    (Setup::Ready, &["check", "--connect", "missing.yaml"], 2),
    (Setup::Ready, &["plan", "plan.yaml"], 0),
    (Setup::Invalid, &["plan", "plan.yaml"], 1),
    (Setup::Ready, &["plan", "missing.yaml"], 2),
    (Setup::CorruptState, &["plan", "plan.yaml"], 2),
    (
        Setup::AfterRun,
        &["plan", "plan.yaml", "--detailed-exitcode"],
        0,
    ),
    (
        Setup::Invalid,
        &["plan", "plan.yaml", "--detailed-exitcode"],
        1,
    ),
    (
        Setup::Ready,
        &["plan", "missing.yaml", "--detailed-exitcode"],
        1,
    ),
    (
        Setup::CorruptState,
        &["plan", "plan.yaml", "--detailed-exitcode"],
        1,
    ),
    (
        Setup::Ready,
        &["plan", "plan.yaml", "--detailed-exitcode", "--bogus"],
        1,
    ),
    (
        Setup::Ready,
        &["plan", "plan.yaml", "--detailed-exitcode"],
        2,
    ),
    (Setup::Ready, &["run", "plan.yaml"], 0),
    (Setup::Invalid, &["run", "plan.yaml"], 1),
    (Setup::Ready, &["run", "missing.yaml"], 2),
    (Setup::Ready, &["run", "plan.yaml", "--bwlimit", "fast"], 2),
    (Setup::CorruptState, &["run", "plan.yaml"], 2),
    (Setup::AfterRun, &["report"], 0),
    (Setup::Ready, &["report"], 2),
    (Setup::AfterRun, &["state", "list"], 0),
    (Setup::Ready, &["state", "list"], 2),
    (Setup::AfterRun, &["state", "show", "migration", "nope"], 2),
    (Setup::Ready, &["explain", "unknown-mount"], 0),
    (Setup::Ready, &["explain", "no-such-code"], 2),
    (Setup::Ready, &["schema"], 0),
    (Setup::Ready, &["--help"], 0),
    (Setup::Ready, &["plan", "--help", "--detailed-exitcode"], 0),
    (Setup::Ready, &["--version"], 0),
    (Setup::Ready, &["no-such-command"], 2),
];

#[test]
fn every_row_of_the_exit_status_table_holds() {
    let mut wrong = Vec::new();
    for (setup, arguments, expected) in ROWS {
        let ferry = prepared(*setup);
        let outcome = ferry.run_with(arguments);
        if outcome.code != *expected {
            wrong.push(format!(
                "ferry {} ({setup:?}): expected {expected}\n{}",
                arguments.join(" "),
                outcome.snapshot()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
