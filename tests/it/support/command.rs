//! A small builder that runs the real `ferry` binary in a temporary directory and captures what users see.

// Not every test module uses every helper.
#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The repository root (where `plans/` and `schema/` live).
pub fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One invocation of `ferry`, run in its own temporary working directory.
pub struct Ferry {
    directory: tempfile::TempDir,
    arguments: Vec<OsString>,
    environment: Vec<(OsString, OsString)>,
    /// Variables of the clean environment to remove (`NO_COLOR`, for colour tests).
    removed: Vec<OsString>,
    /// What ferry reads on stdin; none (`/dev/null`) unless set.
    stdin: Option<Vec<u8>>,
}

/// What a run printed and how it exited.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The temporary working directory, for replacing in snapshots.
    pub directory: PathBuf,
}

impl Ferry {
    pub fn new() -> Self {
        Self {
            directory: tempfile::tempdir().expect("create a temporary directory"),
            arguments: Vec::new(),
            environment: Vec::new(),
            removed: Vec::new(),
            stdin: None,
        }
    }

    /// The temporary working directory.
    pub fn directory(&self) -> &Path {
        self.directory.path()
    }

    pub fn arg(mut self, argument: impl Into<OsString>) -> Self {
        self.arguments.push(argument.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, arguments: I) -> Self {
        self.arguments.extend(arguments.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.environment.push((key.into(), value.into()));
        self
    }

    /// Removes a variable the clean environment sets (`NO_COLOR`).
    pub fn env_remove(mut self, key: impl Into<OsString>) -> Self {
        self.removed.push(key.into());
        self
    }

    /// Feeds these bytes to ferry's stdin (`ferry check -`).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Writes a file (creating folders) in the working directory.
    pub fn file(self, relative: &str, contents: impl AsRef<[u8]>) -> Self {
        let path = self.directory.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folders");
        }
        std::fs::write(&path, contents).expect("write a test file");
        self
    }

    /// Runs `ferry` with the arguments, a clean environment (no colour, fixed width), and no stdin
    /// unless [`Ferry::stdin`] gave some.
    pub fn run(&self) -> Outcome {
        self.run_in(self.directory.path())
    }

    /// The command [`Ferry::run_in`] would start in `working_directory`, for tests of the
    /// builder itself.
    pub fn prepared_in(&self, working_directory: &Path) -> Command {
        self.command(working_directory, &self.arguments)
    }

    /// Runs `ferry` and returns the raw process output (bytes, exit status).
    pub fn output(&self) -> std::process::Output {
        self.execute(self.command(self.directory.path(), &self.arguments))
    }

    /// Runs the command to its end, writing the stdin bytes if any.
    fn execute(&self, mut command: Command) -> std::process::Output {
        let Some(bytes) = &self.stdin else {
            return command.output().expect("run the ferry binary");
        };
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the ferry binary");
        let mut input = child.stdin.take().expect("a stdin pipe");
        let bytes = bytes.clone();
        // Written from a thread: ferry may print before it has read everything.
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            let _ = input.write_all(&bytes);
        });
        let output = child.wait_with_output().expect("wait for ferry");
        writer.join().expect("the stdin writer");
        output
    }

    /// Runs `ferry` in another working directory (the repository root, for stable relative paths).
    pub fn run_in(&self, working_directory: &Path) -> Outcome {
        let output = self.execute(self.command(working_directory, &self.arguments));
        self.outcome(output)
    }

    /// Runs `ferry` with other arguments in the same working directory and environment (for
    /// several steps in one directory: run, re-run, plan, report).
    pub fn run_with<S: AsRef<std::ffi::OsStr>>(&self, arguments: &[S]) -> Outcome {
        let output = self.execute(self.command(self.directory.path(), arguments));
        self.outcome(output)
    }

    /// Starts `ferry` with these arguments in the working directory, stdout and stderr piped,
    /// so a test can signal it mid-run.
    pub fn spawn<S: AsRef<std::ffi::OsStr>>(&self, arguments: &[S]) -> Child {
        self.command(self.directory.path(), arguments)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the ferry binary")
    }

    /// Collects a spawned `ferry`'s outcome.
    pub fn wait(&self, child: Child) -> Outcome {
        let output = child.wait_with_output().expect("wait for ferry");
        self.outcome(output)
    }

    /// The state file this invocation uses unless a test says otherwise: inside its own
    /// temporary folder, wherever it runs (the repository root's `.ferry/` is never read).
    pub fn state_path(&self) -> PathBuf {
        self.directory.path().join(".ferry").join("state.db")
    }

    /// `ferry` with a clean environment (no colour, fixed width) and no stdin.
    fn command<S: AsRef<std::ffi::OsStr>>(
        &self,
        working_directory: &Path,
        arguments: &[S],
    ) -> Command {
        let mut command = clean_command(working_directory);
        if working_directory != self.directory.path() {
            // Elsewhere (the repository root) the default `.ferry/state.db` would be the
            // checkout's: point at the test's own instead.
            command.env("FERRY_STATE", self.state_path());
        }
        for key in &self.removed {
            command.env_remove(key);
        }
        command
            .args(arguments)
            .envs(self.environment.iter().map(|(key, value)| (key, value)));
        command
    }

    fn outcome(&self, output: std::process::Output) -> Outcome {
        Outcome {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            directory: self.directory.path().to_path_buf(),
        }
    }
}

impl Outcome {
    /// Exit code, stdout and stderr in one text for snapshots, with the temporary directory and
    /// the repository path replaced by stable names.
    pub fn snapshot(&self) -> String {
        let text = format!(
            "exit code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
            self.code, self.stdout, self.stderr
        );
        stable_paths(&text, &self.directory)
    }
}

/// The real `ferry` in `working_directory`, hermetic: every `FERRY_*` variable of the test's own
/// environment is removed (a user's `FERRY_STATE`, the test servers' settings), so the state is
/// the default `.ferry/state.db` of the working directory, a test's temporary folder (tests that
/// run elsewhere set `FERRY_STATE` to a file in theirs); there is no colour, a fixed width and
/// no stdin. Tests add the variables their plans name.
pub fn clean_command(working_directory: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ferry"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FERRY_") {
            command.env_remove(key);
        }
    }
    command
        .current_dir(working_directory)
        .env("NO_COLOR", "1")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("COLUMNS", "100")
        .stdin(Stdio::null());
    command
}

/// Replaces machine-specific paths with `[TEMP]` and `[REPO]`.
pub fn stable_paths(text: &str, temporary: &Path) -> String {
    let mut text = text.replace(&temporary.display().to_string(), "[TEMP]");
    if let Ok(canonical) = temporary.canonicalize() {
        text = text.replace(&canonical.display().to_string(), "[TEMP]");
    }
    text.replace(&repository_root().display().to_string(), "[REPO]")
}

/// Sends `signal` (`libc::SIGKILL`, `libc::SIGINT`, `libc::SIGTERM`) to a `ferry` started with [`Ferry::spawn`].
pub fn signal(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
    // SAFETY: sends a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "signal ferry");
}
