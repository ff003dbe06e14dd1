//! Interruptions: `kill -9` mid-copy then a re-run resumes the big file and ends byte-identical
//! with nothing left `running`; Ctrl-C exits 130, and SIGTERM (a CI cancel, a pod stop) 143,
//! with a resumable `error` "interrupted".

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{entries, migration_state, write_random};
use crate::support::command::{Ferry, signal};

const MIB: usize = 1024 * 1024;

/// A plan with one migration (`big`) from `source/` to `out/`: a 64 MiB file first in the listing
/// and 32 files of 2 MiB, pseudo-random so nothing compresses or repeats.
pub(super) fn big_plan() -> Ferry {
    let ferry = Ferry::new().file(
        "plan.yaml",
        "version: 1
sources:
  big:
    ip: 192.0.2.50
    credentials: { username: root, password: { env: BIG_PASSWORD } }
    mountpoints: [{ name: /, size: 1 GiB }]
    connection: { local: { path: ./source } }
targets:
  vm:
    cloud: vsphere
    credentials: { username: admin, password: { env: VSPHERE_PASSWORD } }
    vm:
      ip: 198.51.100.50
      credentials: { username: root, password: { env: VM_PASSWORD } }
      connection: { local: { path: ./out } }
migrations:
  - { name: big, source: big, target: vm, mounts: [/] }
",
    );
    let source = ferry.directory().join("source");
    std::fs::create_dir_all(source.join("small")).expect("create the source");
    write_random(&source.join("a-big.bin"), 64 * MIB, 1);
    for index in 0..32 {
        write_random(
            &source.join(format!("small/{index:02}.bin")),
            2 * MIB,
            100 + index as u64,
        );
    }
    ferry
}

/// The big file's temporary copy on the target, once it holds at least `bytes`.
pub(super) fn wait_for_partial(out: &Path, bytes: u64) -> PathBuf {
    let partial = out.join(".a-big.bin.ferry-partial");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if std::fs::metadata(&partial).is_ok_and(|metadata| metadata.len() >= bytes) {
            return partial;
        }
        assert!(
            Instant::now() < deadline,
            "the big file's copy never reached {bytes} bytes"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn kill_9_mid_copy_then_a_rerun_resumes_and_ends_byte_identical() {
    let ferry = big_plan();
    let out = ferry.directory().join("out");
    let child = ferry.spawn(&["run", "plan.yaml", "--bwlimit", "24MiB"]);
    wait_for_partial(&out, 4 * MIB as u64);
    signal(&child, libc::SIGKILL);
    let killed = ferry.wait(child);
    assert_eq!(killed.code, -1, "killed by a signal: {}", killed.snapshot());
    assert!(
        !out.join("a-big.bin").exists(),
        "a half-written file never sits under its final name"
    );

    let rerun = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(rerun.code, 0, "{}", rerun.snapshot());
    assert!(
        rerun
            .stderr
            .contains("migration big: an earlier run stopped while it was running"),
        "{}",
        rerun.stderr
    );
    // The big file continued from its partial copy instead of starting from zero.
    assert!(
        rerun.stderr.contains("`a-big.bin` continues after"),
        "{}",
        rerun.stderr
    );
    assert!(rerun.stderr.contains(", 1 resumed,"), "{}", rerun.stderr);
    assert_eq!(
        entries(&out, &[]),
        entries(&ferry.directory().join("source"), &[])
    );
    assert_eq!(
        migration_state(&ferry, "big"),
        ("success".to_string(), None)
    );
    let listed = ferry.run_with(&["state", "list"]);
    assert!(!listed.stdout.contains("running"), "{}", listed.stdout);
}

/// Stops a run mid-copy with `stop_signal` and checks what the first Ctrl-C promises: the exit
/// status `code`, the migration recorded `error` "interrupted" (never left `running`), the report
/// saying so, and a re-run that resumes and ends byte-identical.
fn interrupted_then_resumed(stop_signal: libc::c_int, code: i32) {
    let ferry = big_plan();
    let out = ferry.directory().join("out");
    let child = ferry.spawn(&["run", "plan.yaml", "--bwlimit", "24MiB"]);
    wait_for_partial(&out, 2 * MIB as u64);
    signal(&child, stop_signal);
    let interrupted = ferry.wait(child);
    assert_eq!(interrupted.code, code, "{}", interrupted.snapshot());
    assert!(
        interrupted
            .stderr
            .contains("migration big: interrupted; run again to resume"),
        "{}",
        interrupted.stderr
    );
    // The report printed at the end shows it.
    assert!(
        interrupted.stdout.contains("interrupted"),
        "{}",
        interrupted.stdout
    );
    let (state, error) = migration_state(&ferry, "big");
    assert_eq!(state, "error", "not left `running`");
    assert!(
        error
            .as_deref()
            .is_some_and(|error| error.starts_with("interrupted")),
        "{error:?}"
    );

    let rerun = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(rerun.code, 0, "{}", rerun.snapshot());
    assert!(
        rerun.stderr.contains("migration big: resuming"),
        "{}",
        rerun.stderr
    );
    assert_eq!(
        entries(&out, &[]),
        entries(&ferry.directory().join("source"), &[])
    );
    assert_eq!(
        migration_state(&ferry, "big"),
        ("success".to_string(), None)
    );
}

#[test]
fn ctrl_c_exits_130_leaves_a_resumable_error_and_a_rerun_completes() {
    interrupted_then_resumed(libc::SIGINT, 130);
}

#[test]
fn sigterm_is_handled_as_ctrl_c_exits_143_and_a_rerun_completes() {
    interrupted_then_resumed(libc::SIGTERM, 143);
}

#[test]
fn a_second_run_waits_for_a_migration_another_run_holds_then_resumes_it_when_that_one_stops() {
    let ferry = big_plan().env("FERRY_CLAIM_LEASE_SECONDS", "3");
    let out = ferry.directory().join("out");
    let child = ferry.spawn(&["run", "plan.yaml", "--bwlimit", "24MiB"]);
    wait_for_partial(&out, MIB as u64);
    let mut second = ferry.spawn(&["run", "plan.yaml"]);
    // The second run says the migration is held, and waits instead of failing or touching it.
    let mut stderr = std::io::BufReader::new(second.stderr.take().expect("stderr"));
    let mut seen = String::new();
    while !seen.contains("migration big: held by") {
        let mut line = String::new();
        let read = std::io::BufRead::read_line(&mut stderr, &mut line).expect("read stderr");
        assert!(read > 0, "the second run ended without waiting: {seen}");
        seen.push_str(&line);
    }
    signal(&child, libc::SIGINT);
    let first = ferry.wait(child);
    assert_eq!(first.code, 130, "{}", first.snapshot());
    std::io::Read::read_to_string(&mut stderr, &mut seen).expect("read stderr");
    let second = ferry.wait(second);
    assert_eq!(second.code, 0, "{seen}{}", second.snapshot());
    assert!(
        !seen.contains("an earlier run stopped"),
        "a live run is not recovered: {seen}"
    );
    assert!(seen.contains("migration big: resuming"), "{seen}");
    assert_eq!(
        entries(&out, &[]),
        entries(&ferry.directory().join("source"), &[])
    );
}
