//! Running one hook command: its environment (the migration's context and the secrets it asked for), its process group, its time limit, and the bounded, masked tail of its output.
//!
//! A hook runs on the machine that runs ferry, in the plan's folder, with standard input closed.
//! It is the leader of a process group of its own, so that a timeout or a stop (Ctrl-C, SIGTERM)
//! ends everything it started: SIGTERM to the group, then SIGKILL after [`STOP_GRACE`]. Each line
//! it prints goes to a [`HookOutput`] as it comes (the reporter prefixes it with the migration's
//! name), and the last [`TAIL_LIMIT`] bytes are kept for the state and the report. Known secret
//! values are masked in both. A process about to exit at once kills every running hook's group
//! first ([`kill_running_hooks`]).

use std::collections::VecDeque;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use crate::plan::valid::{Hook, HookCommand, HookPhase, SecretString};

/// How much of a hook's output is kept: its last 64 KiB.
pub const TAIL_LIMIT: usize = 64 * 1024;
/// How long a stopped hook's process group has between SIGTERM and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(5);
/// What a masked secret reads as.
const MASK: &str = "***";

/// Who a hook runs for: becomes its `FERRY_*` environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookContext {
    pub migration: String,
    pub wave: Option<String>,
    pub source: String,
    pub source_ip: String,
    pub target: String,
    pub target_ip: String,
    pub cloud: String,
    pub mounts: Vec<String>,
    /// The migration's error, for `on_failure` hooks.
    pub error: Option<String>,
}

impl HookContext {
    /// The variables a hook of `phase` gets.
    fn variables(&self, phase: HookPhase) -> Vec<(&'static str, String)> {
        let mut variables = vec![
            ("FERRY_MIGRATION", self.migration.clone()),
            ("FERRY_WAVE", self.wave.clone().unwrap_or_default()),
            ("FERRY_SOURCE", self.source.clone()),
            ("FERRY_SOURCE_IP", self.source_ip.clone()),
            ("FERRY_TARGET", self.target.clone()),
            ("FERRY_TARGET_IP", self.target_ip.clone()),
            ("FERRY_CLOUD", self.cloud.clone()),
            (
                "FERRY_MOUNTS",
                serde_json::to_string(&self.mounts).unwrap_or_else(|_| "[]".to_string()),
            ),
            ("FERRY_PHASE", phase.as_str().to_string()),
        ];
        if let Some(error) = &self.error {
            variables.push(("FERRY_ERROR", error.clone()));
        }
        variables
    }
}

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Where a hook's lines go as they come (masked already). The reporter implements it.
pub trait HookOutput: Send + Sync {
    fn line(&self, migration: &str, phase: HookPhase, stream: Stream, line: &str);
}

/// How a hook command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookStatus {
    /// Exit status 0.
    Succeeded,
    /// Another exit status, or `None` when a signal ended it.
    Failed { exit_code: Option<i32> },
    /// It ran past its timeout and was stopped.
    TimedOut { after: Duration },
    /// ferry was asked to stop (Ctrl-C, SIGTERM) and stopped it.
    Stopped,
    /// It could not be started at all (no such program, no permission).
    NotStarted { reason: String },
}

impl HookStatus {
    pub fn succeeded(&self) -> bool {
        matches!(self, HookStatus::Succeeded)
    }

    /// Why it failed, in words, for the migration's error; `None` when it succeeded.
    pub fn failure(&self) -> Option<String> {
        match self {
            HookStatus::Succeeded => None,
            HookStatus::Failed {
                exit_code: Some(code),
            } => Some(format!("exited with status {code}")),
            HookStatus::Failed { exit_code: None } => Some("was ended by a signal".to_string()),
            HookStatus::TimedOut { after } => {
                Some(format!("ran past its timeout of {} s", after.as_secs()))
            }
            HookStatus::Stopped => Some("was stopped: ferry was interrupted".to_string()),
            HookStatus::NotStarted { reason } => Some(format!("could not start: {reason}")),
        }
    }
}

/// What running a hook command gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookOutcome {
    /// The command as written (masked).
    pub command: String,
    pub status: HookStatus,
    pub duration: Duration,
    /// Its last [`TAIL_LIMIT`] bytes of output, stdout and stderr interleaved as they came, masked.
    pub tail: String,
}

/// Everything a hook command needs beside the command itself.
pub struct HookRun<'a> {
    pub context: &'a HookContext,
    pub phase: HookPhase,
    /// The folder it runs in: the plan's.
    pub directory: &'a Path,
    /// The secrets its `env` map asked for, resolved: name → value.
    pub secrets: &'a [(String, SecretString)],
    /// Values to mask in its output, beside `secrets`' (the plan's other secrets).
    pub mask: &'a [SecretString],
    pub output: Arc<dyn HookOutput>,
    pub cancel: &'a CancellationToken,
}

impl HookRun<'_> {
    /// Runs `hook` to its end, its timeout, or a stop.
    pub async fn run(&self, hook: &Hook) -> HookOutcome {
        let masker = Masker::new(self.secrets.iter().map(|(_, value)| value).chain(self.mask));
        let command_text = masker.mask(&hook.command.to_string());
        let started = Instant::now();
        let mut child = match self.spawn(&hook.command) {
            Ok(child) => child,
            Err(error) => {
                return HookOutcome {
                    command: command_text,
                    status: HookStatus::NotStarted {
                        reason: error.to_string(),
                    },
                    duration: started.elapsed(),
                    tail: String::new(),
                };
            }
        };
        let _running = child.id().map(RunningGroup::register);
        let tail = Arc::new(Mutex::new(Tail::default()));
        let masker = Arc::new(masker);
        let readers = [
            child
                .stdout
                .take()
                .map(|out| self.reader(out, Stream::Stdout, &tail, &masker)),
            child
                .stderr
                .take()
                .map(|err| self.reader(err, Stream::Stderr, &tail, &masker)),
        ];
        let status = self.wait(&mut child, hook.timeout).await;
        for reader in readers.into_iter().flatten() {
            // A grandchild outside the group may hold the pipe open: do not wait for it forever.
            if tokio::time::timeout(STOP_GRACE, reader).await.is_err() {
                break;
            }
        }
        let tail = tail.lock().map(|tail| tail.text()).unwrap_or_default();
        HookOutcome {
            command: command_text,
            status,
            duration: started.elapsed(),
            tail,
        }
    }

    fn spawn(&self, command: &HookCommand) -> std::io::Result<Child> {
        let mut process = match command {
            HookCommand::Shell(line) => {
                let mut process = Command::new("sh");
                process.arg("-c").arg(line);
                process
            }
            HookCommand::Argv(arguments) => {
                let (program, rest) = arguments
                    .split_first()
                    .ok_or_else(|| std::io::Error::other("the command is empty"))?;
                let mut process = Command::new(program);
                process.args(rest);
                process
            }
        };
        process
            .current_dir(self.directory)
            .envs(self.context.variables(self.phase))
            .envs(
                self.secrets
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.expose())),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        process.spawn()
    }

    /// Forwards a stream's lines, masked, to the output and the tail.
    fn reader(
        &self,
        stream: impl AsyncRead + Unpin + Send + 'static,
        which: Stream,
        tail: &Arc<Mutex<Tail>>,
        masker: &Arc<Masker>,
    ) -> tokio::task::JoinHandle<()> {
        let (tail, masker, output) = (
            Arc::clone(tail),
            Arc::clone(masker),
            Arc::clone(&self.output),
        );
        let (migration, phase) = (self.context.migration.clone(), self.phase);
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).split(b'\n');
            while let Ok(Some(bytes)) = lines.next_segment().await {
                let line = masker.mask(String::from_utf8_lossy(&bytes).trim_end_matches('\r'));
                if let Ok(mut tail) = tail.lock() {
                    tail.push(&line);
                }
                output.line(&migration, phase, which, &line);
            }
        })
    }

    /// Waits for the child, stopping its process group on timeout or cancellation.
    async fn wait(&self, child: &mut Child, timeout: Duration) -> HookStatus {
        let ended = tokio::select! {
            status = child.wait() => Some(status),
            () = tokio::time::sleep(timeout) => None,
            () = self.cancel.cancelled() => None,
        };
        match ended {
            Some(Ok(status)) if status.success() => HookStatus::Succeeded,
            Some(Ok(status)) => HookStatus::Failed {
                exit_code: status.code(),
            },
            Some(Err(error)) => HookStatus::NotStarted {
                reason: error.to_string(),
            },
            None => {
                stop_group(child).await;
                if self.cancel.is_cancelled() {
                    HookStatus::Stopped
                } else {
                    HookStatus::TimedOut { after: timeout }
                }
            }
        }
    }
}

/// The process groups of the hook commands running now, for [`kill_running_hooks`].
static RUNNING_GROUPS: Mutex<Vec<libc::pid_t>> = Mutex::new(Vec::new());

/// A hook command's process group, listed in [`RUNNING_GROUPS`] until it is dropped.
struct RunningGroup(libc::pid_t);

impl RunningGroup {
    fn register(pid: u32) -> Option<Self> {
        let group = libc::pid_t::try_from(pid).ok()?;
        RUNNING_GROUPS.lock().ok()?.push(group);
        Some(Self(group))
    }
}

impl Drop for RunningGroup {
    fn drop(&mut self) {
        if let Ok(mut groups) = RUNNING_GROUPS.lock() {
            groups.retain(|group| *group != self.0);
        }
    }
}

/// Sends SIGKILL to the process group of every hook command running now. For a process about to
/// exit at once (a second Ctrl-C), which would otherwise leave them running.
pub fn kill_running_hooks() {
    let Ok(groups) = RUNNING_GROUPS.lock() else {
        return;
    };
    for group in groups.iter() {
        // SAFETY: killpg only sends a signal to a process group this process created.
        unsafe { libc::killpg(*group, libc::SIGKILL) };
    }
}

/// SIGTERM to the child's process group, SIGKILL after [`STOP_GRACE`], then reaps the child.
async fn stop_group(child: &mut Child) {
    let Some(group) = child.id().and_then(|pid| libc::pid_t::try_from(pid).ok()) else {
        return;
    };
    // SAFETY: killpg only sends a signal to a process group this process created.
    unsafe { libc::killpg(group, libc::SIGTERM) };
    if tokio::time::timeout(STOP_GRACE, child.wait())
        .await
        .is_err()
    {
        // SAFETY: as above.
        unsafe { libc::killpg(group, libc::SIGKILL) };
        let _ = child.wait().await;
    } else {
        // The leader is gone; anything it left in the group goes too.
        // SAFETY: as above.
        unsafe { libc::killpg(group, libc::SIGKILL) };
    }
}

/// Replaces known secret values with `***`, longest first (so one secret inside another is
/// masked whole). Empty values are ignored.
struct Masker {
    secrets: Vec<String>,
}

impl Masker {
    fn new<'a>(secrets: impl Iterator<Item = &'a SecretString>) -> Self {
        let mut secrets: Vec<String> = secrets
            .map(|secret| secret.expose().to_string())
            .filter(|secret| !secret.is_empty())
            .collect();
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        secrets.dedup();
        Self { secrets }
    }

    fn mask(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_string(), |text, secret| {
            text.replace(secret.as_str(), MASK)
        })
    }
}

/// The last [`TAIL_LIMIT`] bytes of a hook's output, in whole lines where it can.
#[derive(Default)]
struct Tail {
    lines: VecDeque<String>,
    bytes: usize,
    /// Whether lines were dropped from the front.
    cut: bool,
}

impl Tail {
    fn push(&mut self, line: &str) {
        let mut line = line.to_string();
        if line.len() > TAIL_LIMIT {
            let mut start = line.len() - TAIL_LIMIT;
            while !line.is_char_boundary(start) {
                start += 1;
            }
            line = line[start..].to_string();
        }
        self.bytes += line.len() + 1;
        self.lines.push_back(line);
        while self.bytes > TAIL_LIMIT {
            match self.lines.pop_front() {
                Some(dropped) => {
                    self.bytes -= dropped.len() + 1;
                    self.cut = true;
                }
                None => break,
            }
        }
    }

    fn text(&self) -> String {
        let mut text = String::with_capacity(self.bytes + 16);
        if self.cut {
            text.push_str("[…]\n");
        }
        for line in &self.lines {
            text.push_str(line);
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests;
