//! Hooks run as real child processes (`sh`), in a temporary folder.

use std::sync::Mutex;

use super::*;
use crate::plan::valid::DEFAULT_HOOK_TIMEOUT;

#[derive(Default)]
struct Lines(Mutex<Vec<(String, HookPhase, Stream, String)>>);

impl HookOutput for Lines {
    fn line(&self, migration: &str, phase: HookPhase, stream: Stream, line: &str) {
        self.0
            .lock()
            .unwrap()
            .push((migration.to_string(), phase, stream, line.to_string()));
    }
}

fn context() -> HookContext {
    HookContext {
        migration: "web-01".into(),
        wave: Some("pilot".into()),
        source: "web-01".into(),
        source_ip: "192.0.2.10".into(),
        target: "aws-web-01".into(),
        target_ip: "198.51.100.20".into(),
        cloud: "aws".into(),
        mounts: vec!["C:\\".into(), "/data".into()],
        error: None,
    }
}

fn shell(line: &str, timeout: Duration) -> Hook {
    Hook {
        command: HookCommand::Shell(line.to_string()),
        timeout,
    }
}

async fn run(
    hook: &Hook,
    phase: HookPhase,
    folder: &Path,
    secrets: &[(String, SecretString)],
    cancel: &CancellationToken,
) -> (HookOutcome, Arc<Lines>) {
    let lines = Arc::new(Lines::default());
    let context = context();
    let run = HookRun {
        context: &context,
        phase,
        directory: folder,
        secrets,
        mask: &[SecretString::new("plan-secret".into())],
        output: lines.clone(),
        cancel,
    };
    (run.run(hook).await, lines)
}

#[tokio::test]
async fn a_hook_runs_in_the_plan_folder_with_the_migration_context() {
    let folder = tempfile::tempdir().unwrap();
    let hook = shell(
        "pwd; echo \"$FERRY_MIGRATION $FERRY_WAVE $FERRY_SOURCE_IP $FERRY_TARGET $FERRY_TARGET_IP $FERRY_CLOUD $FERRY_PHASE\"; printf '%s\\n' \"$FERRY_MOUNTS\"; echo warn >&2",
        DEFAULT_HOOK_TIMEOUT,
    );
    let (outcome, lines) = run(
        &hook,
        HookPhase::Before,
        folder.path(),
        &[],
        &CancellationToken::new(),
    )
    .await;
    assert_eq!(outcome.status, HookStatus::Succeeded);
    let folder = folder.path().canonicalize().unwrap();
    let stdout: Vec<String> = lines
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, _, stream, _)| *stream == Stream::Stdout)
        .map(|(migration, phase, _, line)| {
            assert_eq!((migration.as_str(), *phase), ("web-01", HookPhase::Before));
            line.clone()
        })
        .collect();
    assert_eq!(
        stdout,
        [
            folder.display().to_string(),
            "web-01 pilot 192.0.2.10 aws-web-01 198.51.100.20 aws before".to_string(),
            r#"["C:\\","/data"]"#.to_string(),
        ]
    );
    assert!(
        outcome.tail.ends_with("warn\n") || outcome.tail.contains("warn\n"),
        "{}",
        outcome.tail
    );
}

#[tokio::test]
async fn an_argument_list_runs_without_a_shell_and_a_missing_program_does_not_start() {
    let folder = tempfile::tempdir().unwrap();
    let hook = Hook {
        command: HookCommand::Argv(vec!["echo".into(), "$FERRY_MIGRATION;".into()]),
        timeout: DEFAULT_HOOK_TIMEOUT,
    };
    let (outcome, _) = run(
        &hook,
        HookPhase::After,
        folder.path(),
        &[],
        &CancellationToken::new(),
    )
    .await;
    assert_eq!(outcome.tail, "$FERRY_MIGRATION;\n", "no shell expanded it");
    let missing = Hook {
        command: HookCommand::Argv(vec!["/nonexistent/ferry-hook".into()]),
        timeout: DEFAULT_HOOK_TIMEOUT,
    };
    let (outcome, _) = run(
        &missing,
        HookPhase::After,
        folder.path(),
        &[],
        &CancellationToken::new(),
    )
    .await;
    assert!(
        matches!(outcome.status, HookStatus::NotStarted { .. }),
        "{:?}",
        outcome.status
    );
    assert!(
        outcome
            .status
            .failure()
            .unwrap()
            .starts_with("could not start")
    );
}

#[tokio::test]
async fn a_failing_hook_reports_its_exit_status_and_on_failure_gets_the_error() {
    let folder = tempfile::tempdir().unwrap();
    let hook = shell("echo \"$FERRY_ERROR\"; exit 3", DEFAULT_HOOK_TIMEOUT);
    let lines = Arc::new(Lines::default());
    let mut context = context();
    context.error = Some("copy failed".into());
    let cancel = CancellationToken::new();
    let run = HookRun {
        context: &context,
        phase: HookPhase::OnFailure,
        directory: folder.path(),
        secrets: &[],
        mask: &[],
        output: lines,
        cancel: &cancel,
    };
    let outcome = run.run(&hook).await;
    assert_eq!(outcome.status, HookStatus::Failed { exit_code: Some(3) });
    assert_eq!(outcome.tail, "copy failed\n");
    assert_eq!(
        outcome.status.failure().as_deref(),
        Some("exited with status 3")
    );
}

#[tokio::test]
async fn secrets_arrive_in_the_environment_and_are_masked_in_the_output() {
    let folder = tempfile::tempdir().unwrap();
    let secrets = [(
        "VM_PASSWORD".to_string(),
        SecretString::new("s3cr3t-value".into()),
    )];
    let hook = shell(
        "echo \"login with $VM_PASSWORD\"; echo plan-secret >&2; test \"$VM_PASSWORD\" = s3cr3t-value",
        DEFAULT_HOOK_TIMEOUT,
    );
    let (outcome, lines) = run(
        &hook,
        HookPhase::Before,
        folder.path(),
        &secrets,
        &CancellationToken::new(),
    )
    .await;
    assert_eq!(outcome.status, HookStatus::Succeeded);
    assert!(outcome.tail.contains("login with ***"), "{}", outcome.tail);
    assert!(!outcome.tail.contains("s3cr3t") && !outcome.tail.contains("plan-secret"));
    for (_, _, _, line) in lines.0.lock().unwrap().iter() {
        assert!(
            !line.contains("s3cr3t") && !line.contains("plan-secret"),
            "{line}"
        );
    }
}

/// Whether a process is alive: it exists and is not a zombie waiting to be reaped.
fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only asks whether the process exists.
    let exists = unsafe { libc::kill(pid, 0) == 0 };
    let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let after_name = stat.rsplit_once(')')?.1.trim_start().to_string();
            after_name.chars().next()
        })
        == Some('Z');
    exists && !zombie
}

/// Asserts that a process the hook started ends (it was sent SIGTERM or SIGKILL with its group;
/// the signal takes effect asynchronously, so this waits for it, up to a generous bound).
async fn assert_ended(pid: i32) {
    for _ in 0..600 {
        if !alive(pid) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the hook's background child {pid} survived its group being stopped");
}

/// A hook that starts a background `sleep` in its group, writes that pid, then waits forever.
fn hook_with_a_child(folder: &Path, timeout: Duration) -> Hook {
    let pid_file = folder.join("child.pid");
    shell(
        &format!(
            "sleep 1000 & echo $! > '{}'; echo started; wait",
            pid_file.display()
        ),
        timeout,
    )
}

fn child_pid(folder: &Path) -> i32 {
    std::fs::read_to_string(folder.join("child.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_hook_past_its_timeout_is_stopped_with_everything_it_started() {
    let folder = tempfile::tempdir().unwrap();
    let hook = hook_with_a_child(folder.path(), Duration::from_secs(1));
    let (outcome, _) = run(
        &hook,
        HookPhase::After,
        folder.path(),
        &[],
        &CancellationToken::new(),
    )
    .await;
    assert_eq!(
        outcome.status,
        HookStatus::TimedOut {
            after: Duration::from_secs(1)
        }
    );
    assert_eq!(outcome.tail, "started\n");
    assert_ended(child_pid(folder.path())).await;
}

#[tokio::test]
async fn a_stop_ends_the_hook_and_its_group() {
    let folder = tempfile::tempdir().unwrap();
    let hook = hook_with_a_child(folder.path(), DEFAULT_HOOK_TIMEOUT);
    let cancel = CancellationToken::new();
    let pid_file = folder.path().join("child.pid");
    let stopper = {
        let cancel = cancel.clone();
        async move {
            // Stop once the hook has started its child, not after a guessed delay.
            while std::fs::read_to_string(&pid_file).map_or(true, |text| text.trim().is_empty()) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            cancel.cancel();
        }
    };
    let ((outcome, _), ()) = tokio::join!(
        run(&hook, HookPhase::Before, folder.path(), &[], &cancel),
        stopper
    );
    assert_eq!(outcome.status, HookStatus::Stopped);
    assert_ended(child_pid(folder.path())).await;
}

#[test]
fn the_tail_keeps_the_last_64_kib_in_whole_lines() {
    let mut tail = Tail::default();
    let line = "x".repeat(1000);
    for _ in 0..100 {
        tail.push(&line);
    }
    let text = tail.text();
    assert!(text.starts_with("[…]\n"));
    assert!(text.len() <= TAIL_LIMIT + 16, "{}", text.len());
    assert!(text.lines().skip(1).all(|kept| kept == line));
    let mut long = Tail::default();
    long.push(&"é".repeat(TAIL_LIMIT));
    assert!(long.text().len() <= TAIL_LIMIT + 1);
}
