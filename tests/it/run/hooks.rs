//! Cutover hooks through the binary: their order around the copy (recorded in a log file), a
//! failing `before` hook that moves no data, a timeout, masked output kept in state, the re-run
//! rule, and Ctrl-C during a hook (its process group stopped, the migration resumable).

use std::path::Path;
use std::time::{Duration, Instant};

use super::{migration_state, report_json};
use crate::support::command::{Ferry, signal};

/// A secret the hooks ask for; it must never be printed or stored.
const TOKEN: &str = "tok-5f3a9c81e2-secret";

/// A plan with one migration (`app`) from `source/` to `out/`, with `hooks` (YAML, indented for
/// the migration's `hooks:` key) and `HOOK_TOKEN` as a secret of its hooks.
fn hook_plan(hooks: &str) -> Ferry {
    let plan = format!(
        "version: 1
sources:
  app:
    ip: 192.0.2.60
    credentials: {{ username: root, password: {{ env: APP_PASSWORD }} }}
    mountpoints: [{{ name: /, size: 1 GiB }}]
    connection: {{ local: {{ path: ./source }} }}
targets:
  vm:
    cloud: vsphere
    credentials: {{ username: admin, password: {{ env: VSPHERE_PASSWORD }} }}
    vm:
      ip: 198.51.100.60
      credentials: {{ username: root, password: {{ env: VM_PASSWORD }} }}
      connection: {{ local: {{ path: ./out }} }}
migrations:
  - name: app
    source: app
    target: vm
    mounts: [/]
    hooks:
      env: {{ APP_TOKEN: {{ env: HOOK_TOKEN }} }}
{hooks}"
    );
    Ferry::new()
        .file("plan.yaml", plan)
        .file("source/data.txt", "the data\n")
        .env("HOOK_TOKEN", TOKEN)
}

fn log(ferry: &Ferry) -> String {
    std::fs::read_to_string(ferry.directory().join("hooks.log")).unwrap_or_default()
}

/// Everything ferry wrote that a secret must not reach: its output, the report, the state file.
fn assert_never_shows_the_token(ferry: &Ferry, output: &str) {
    assert!(!output.contains(TOKEN), "the token in the output: {output}");
    let report = report_json(ferry).to_string();
    assert!(!report.contains(TOKEN), "the token in the report: {report}");
    let shown = ferry.run_with(&["state", "show", "migration", "app", "--format", "json"]);
    assert!(!shown.stdout.contains(TOKEN), "{}", shown.snapshot());
    let needle = TOKEN.as_bytes();
    let mut wal = ferry.state_path().into_os_string();
    wal.push("-wal");
    for file in [ferry.state_path(), wal.into()] {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !bytes.windows(needle.len()).any(|window| window == needle),
            "the token in {}",
            file.display()
        );
    }
}

/// `ferry state show migration app --format json`'s `hooks`: (phase, outcome, tail) each.
fn hook_runs(ferry: &Ferry) -> Vec<(String, String, String)> {
    let shown = ferry.run_with(&["state", "show", "migration", "app", "--format", "json"]);
    assert_eq!(shown.code, 0, "{}", shown.snapshot());
    let document: serde_json::Value = serde_json::from_str(&shown.stdout).expect("JSON");
    let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_string();
    document["hooks"]
        .as_array()
        .expect("a hooks array")
        .iter()
        .map(|run| {
            (
                text(&run["phase"]),
                text(&run["outcome"]),
                text(&run["tail"]),
            )
        })
        .collect()
}

const ORDERED: &str = "      before:
        - 'test -e out/data.txt && echo before:copied >> hooks.log || echo before:empty >> hooks.log'
        - 'echo \"$FERRY_MIGRATION $FERRY_PHASE $FERRY_SOURCE $FERRY_TARGET_IP $FERRY_CLOUD $FERRY_MOUNTS\" >> hooks.log'
        - 'echo token=$APP_TOKEN'
      after:
        - run: [sh, -c, 'test -e out/data.txt && echo after:copied >> hooks.log']
          timeout: 30s
      on_failure: ['echo on_failure >> hooks.log']
";

#[test]
fn hooks_run_before_and_after_the_copy_with_the_context_and_masked_output() {
    let ferry = hook_plan(ORDERED);
    let outcome = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(outcome.code, 0, "{}", outcome.snapshot());
    assert_eq!(
        log(&ferry),
        "before:empty\napp before app 198.51.100.60 vsphere [\"/\"]\nafter:copied\n"
    );
    let output = format!("{}{}", outcome.stdout, outcome.stderr);
    assert!(
        output.contains("migration app [before]: token=***"),
        "live output, prefixed and masked: {}",
        outcome.snapshot()
    );
    assert_never_shows_the_token(&ferry, &output);
    let succeeded =
        |phase: &str, tail: &str| (phase.to_string(), "succeeded".to_string(), tail.to_string());
    assert_eq!(
        hook_runs(&ferry),
        [
            succeeded("before", ""),
            succeeded("before", ""),
            succeeded("before", "token=***\n"),
            succeeded("after", ""),
        ],
        "kept in state, masked"
    );
    let report = report_json(&ferry);
    let phases: Vec<&str> = report["migrations"][0]["hooks"]
        .as_array()
        .expect("the report's hooks")
        .iter()
        .map(|run| run["phase"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(phases, ["before", "after"], "the last run of each phase");
    let table = ferry.run_with(&["report"]);
    assert!(
        table
            .stdout
            .contains("app: after `sh -c test -e out/data.txt"),
        "{}",
        table.snapshot()
    );
}

#[test]
fn a_rerun_with_nothing_to_do_runs_no_hook_and_a_delta_runs_them_again() {
    let ferry = hook_plan(ORDERED);
    assert_eq!(ferry.run_with(&["run", "plan.yaml"]).code, 0);
    let first = log(&ferry);
    let unchanged = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(unchanged.code, 0, "{}", unchanged.snapshot());
    assert_eq!(log(&ferry), first, "nothing to do: no hook ran");

    std::fs::write(ferry.directory().join("source/new.txt"), "a delta\n").expect("write");
    let delta = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(delta.code, 0, "{}", delta.snapshot());
    assert_eq!(
        log(&ferry),
        format!(
            "{first}before:copied\napp before app 198.51.100.60 vsphere [\"/\"]\nafter:copied\n"
        )
    );
    assert!(ferry.directory().join("out/new.txt").exists());
}

#[test]
fn a_failing_before_hook_moves_no_data_and_runs_on_failure() {
    let ferry = hook_plan(
        "      before: ['echo stopping the app; exit 3']
      after: ['echo after >> hooks.log']
      on_failure: ['echo \"on_failure: $FERRY_PHASE: $FERRY_ERROR\" >> hooks.log']
",
    );
    let outcome = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    assert!(!ferry.directory().join("out").exists(), "no data moved");
    let (state, error) = migration_state(&ferry, "app");
    assert_eq!(state, "error");
    let error = error.expect("an error");
    assert!(
        error.contains("the before hook `echo stopping the app; exit 3` exited with status 3"),
        "{error}"
    );
    assert_eq!(log(&ferry), format!("on_failure: on_failure: {error}\n"));
    let runs: Vec<(String, String)> = hook_runs(&ferry)
        .into_iter()
        .map(|(phase, outcome, _)| (phase, outcome))
        .collect();
    assert_eq!(
        runs,
        [
            ("before".to_string(), "failed".to_string()),
            ("on_failure".to_string(), "succeeded".to_string())
        ]
    );
}

#[test]
fn a_failing_after_hook_fails_the_migration_once_the_data_is_copied() {
    let ferry = hook_plan("      after: ['exit 1']\n");
    let outcome = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    assert!(ferry.directory().join("out/data.txt").exists());
    let (state, error) = migration_state(&ferry, "app");
    assert_eq!(state, "error");
    assert!(
        error
            .as_deref()
            .is_some_and(|error| error.contains("after hook")),
        "{error:?}"
    );
}

#[test]
fn a_hook_past_its_timeout_is_stopped_and_fails_the_migration() {
    let ferry = hook_plan("      before: [{ run: 'sleep 30', timeout: 1s }]\n");
    let outcome = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    let (_, error) = migration_state(&ferry, "app");
    assert!(
        error
            .as_deref()
            .is_some_and(|error| error.contains("`sleep 30` ran past its timeout of 1 s")),
        "{error:?}"
    );
    assert!(!ferry.directory().join("out").exists(), "no data moved");
    assert_eq!(hook_runs(&ferry)[0].1, "timed_out");
}

/// Polls for `path` to exist with content, for at most a minute.
fn wait_for_file(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && text.ends_with('\n')
        {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a process is gone (or a zombie no one reaped yet: it runs nothing).
fn gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn ctrl_c_during_a_hook_stops_its_process_group_and_leaves_the_migration_resumable() {
    // The first run's hook waits on a child; the next run finds the marker and goes on.
    let ferry = hook_plan(
        "      before:
        - 'if [ ! -e child.pid ]; then sleep 300 & echo $! > child.pid; echo $$ > hook.pid; wait; fi'
",
    );
    let child = ferry.spawn(&["run", "plan.yaml"]);
    let hook_pid = wait_for_file(&ferry.directory().join("hook.pid"));
    let sleep_pid = wait_for_file(&ferry.directory().join("child.pid"));
    signal(&child, libc::SIGINT);
    let interrupted = ferry.wait(child);
    assert_eq!(interrupted.code, 130, "{}", interrupted.snapshot());
    assert!(gone(&hook_pid), "the hook's shell is stopped");
    assert!(gone(&sleep_pid), "the hook's child is stopped");
    assert!(!ferry.directory().join("out").exists(), "no data moved");
    let (state, error) = migration_state(&ferry, "app");
    assert_eq!(state, "error");
    assert!(
        error.as_deref().is_some_and(|e| e.contains("interrupted")),
        "{error:?}"
    );
    assert_eq!(hook_runs(&ferry)[0].1, "interrupted");

    let resumed = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(resumed.code, 0, "{}", resumed.snapshot());
    assert_eq!(migration_state(&ferry, "app").0, "success");
    assert!(ferry.directory().join("out/data.txt").exists());
}

#[test]
fn plan_lists_the_hooks_a_run_would_run() {
    let ferry = hook_plan(ORDERED);
    let planned = ferry.run_with(&["plan", "plan.yaml"]);
    assert_eq!(planned.code, 0, "{}", planned.snapshot());
    assert!(
        planned.stdout.contains(
            "    hooks: before `test -e out/data.txt && echo before:copied >> hooks.log || echo before:empty >> hooks.log`, "
        ) && planned
            .stdout
            .contains("; after `sh -c test -e out/data.txt && echo after:copied >> hooks.log`; on_failure (if it fails) `echo on_failure >> hooks.log`\n"),
        "{}",
        planned.snapshot()
    );
    assert!(log(&ferry).is_empty(), "planning runs no hook");
    let json = |ferry: &Ferry| -> serde_json::Value {
        let planned = ferry.run_with(&["plan", "plan.yaml", "--format", "json"]);
        serde_json::from_str(&planned.stdout).expect("JSON")
    };
    let hooks = &json(&ferry)["migrations"][0]["hooks"];
    assert_eq!(hooks["before"].as_array().map(Vec::len), Some(3), "{hooks}");
    assert_eq!(hooks["after"].as_array().map(Vec::len), Some(1), "{hooks}");

    assert_eq!(ferry.run_with(&["run", "plan.yaml"]).code, 0);
    let hooks = &json(&ferry)["migrations"][0]["hooks"];
    assert_eq!(
        hooks["before"].as_array().map(Vec::len),
        Some(0),
        "nothing to do, no hook: {hooks}"
    );
}

#[test]
fn a_missing_hook_secret_refuses_the_run_before_anything_is_touched() {
    let ferry = hook_plan(ORDERED).env("HOOK_TOKEN", "");
    let outcome = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(outcome.code, 1, "{}", outcome.snapshot());
    assert!(
        outcome.stdout.contains("missing-secret") && outcome.stdout.contains("APP_TOKEN"),
        "{}",
        outcome.snapshot()
    );
    assert!(!ferry.directory().join(".ferry").exists(), "no state");
    assert!(!ferry.directory().join("out").exists(), "no data");
    assert!(log(&ferry).is_empty(), "no hook ran");
}

/// Kills a process group left behind, so that a failing test leaves nothing running.
struct KillGroup(String);

impl Drop for KillGroup {
    fn drop(&mut self) {
        if let Ok(group) = self.0.trim().parse::<libc::pid_t>() {
            // SAFETY: a signal to the group of the hook this test started.
            unsafe { libc::killpg(group, libc::SIGKILL) };
        }
    }
}

#[test]
fn a_second_ctrl_c_exits_at_once_and_kills_a_hook_that_ignores_sigterm() {
    let ferry = hook_plan(
        "      before:
        - 'trap \"echo term >> got-term\" TERM; echo $$ > hook.pid; while :; do sleep 1; done'
",
    );
    let child = ferry.spawn(&["run", "plan.yaml"]);
    let hook_pid = wait_for_file(&ferry.directory().join("hook.pid"));
    let _cleanup = KillGroup(hook_pid.clone());
    signal(&child, libc::SIGINT);
    // The hook got the first stop and outlives it; a second Ctrl-C does not wait for it.
    wait_for_file(&ferry.directory().join("got-term"));
    signal(&child, libc::SIGINT);
    let outcome = ferry.wait(child);
    assert_eq!(outcome.code, 130, "{}", outcome.snapshot());
    let deadline = Instant::now() + Duration::from_secs(30);
    while !gone(&hook_pid) {
        assert!(Instant::now() < deadline, "the hook outlived ferry");
        std::thread::sleep(Duration::from_millis(20));
    }
}
