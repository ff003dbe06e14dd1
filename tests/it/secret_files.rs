//! `{ file: PATH }` secrets through the real binary: a FIFO, `/dev/zero`, a directory and an
//! oversized file are `missing-secret` errors at once (a watchdog kills ferry if it hangs, so
//! the test fails instead of hanging), and a symlink to a file with a trailing newline logs in.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::preflight::{plan_with_ips, row, sftp_source};
use crate::support::command::{Ferry, Outcome};
use crate::support::servers;

/// A plan whose source logs in over SFTP (pinned key, unreachable documentation address) with
/// the password in `file`.
fn plan(file: &Path) -> String {
    plan_with_ips(
        "192.0.2.70",
        "{ sftp: { port: 22, host_key: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s' } }",
        "198.51.100.70",
        "{ local: { path: ./out } }",
        "1 MiB",
    )
    .replace(
        "{ env: FERRY_TEST_PREFLIGHT_SOURCE_PASSWORD }",
        &format!("{{ file: '{}' }}", file.display()),
    )
}

/// Waits for `child`, killing it (and failing) if it runs for more than a minute.
fn wait_with_watchdog(ferry: &Ferry, mut child: Child) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("poll ferry").is_none() {
        if Instant::now() > deadline {
            child.kill().expect("kill the hung ferry");
            let outcome = ferry.wait(child);
            panic!("ferry hung reading a secret file: {}", outcome.snapshot());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    ferry.wait(child)
}

#[test]
fn secret_files_that_are_not_small_regular_files_are_missing_secrets_at_once() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let fifo = directory.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success());
    let large = directory.path().join("large.txt");
    std::fs::write(&large, "x".repeat(16 * 1024 + 1)).expect("write");
    for (file, expected) in [
        (fifo.as_path(), "is a FIFO (named pipe), not a regular file"),
        (
            Path::new("/dev/zero"),
            "is a character device, not a regular file",
        ),
        (directory.path(), "is a directory, not a regular file"),
        (large.as_path(), "is larger than 16384 bytes"),
    ] {
        let ferry = Ferry::new().file("plan.yaml", plan(file));
        let child = ferry.spawn(&["check", "--connect", "plan.yaml"]);
        let outcome = wait_with_watchdog(&ferry, child);
        let text = outcome.snapshot();
        assert_eq!(outcome.code, 1, "{text}");
        assert_eq!(text.matches("error[missing-secret]").count(), 1, "{text}");
        assert!(text.contains(expected), "{}: {text}", file.display());
        assert!(
            row(&outcome, "source").contains("its password cannot be resolved"),
            "{text}"
        );
    }
}

#[test]
fn a_secret_file_through_a_symlink_loses_its_trailing_newline_and_logs_in() {
    let Some(servers) =
        servers::sftp("a_secret_file_through_a_symlink_loses_its_trailing_newline_and_logs_in")
    else {
        return;
    };
    let source = sftp_source(&servers, "secret-file");
    let ferry = Ferry::new().file("secrets/real.txt", format!("{}\n", servers.password));
    let link = ferry.directory().join("password-link");
    std::os::unix::fs::symlink(ferry.directory().join("secrets/real.txt"), &link).expect("symlink");
    let connection = format!(
        "{{ sftp: {{ port: {}, root: '{}', known_hosts: '{}' }} }}",
        servers.a.port,
        source.display(),
        servers.known_hosts.display()
    );
    let text = plan_with_ips(
        &servers.a.host.to_string(),
        &connection,
        "198.51.100.70",
        "{ local: { path: ./out } }",
        "1 MiB",
    )
    .replace(
        "{ env: FERRY_TEST_PREFLIGHT_SOURCE_PASSWORD }",
        "{ file: password-link }",
    );
    let ferry = ferry.file("plan.yaml", text);
    let outcome = ferry.run_with(&["check", "--connect", "plan.yaml"]);
    std::fs::remove_dir_all(&source).expect("clean up");
    assert_eq!(outcome.code, 0, "{}", outcome.snapshot());
    assert!(
        row(&outcome, "source").contains("2 mounts readable"),
        "{}",
        outcome.stdout
    );
    assert!(!outcome.snapshot().contains(&servers.password));
}
