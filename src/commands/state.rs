//! `ferry state list|show|rm|export|import`: read, delete, export and import the objects in the state store.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use miette::{IntoDiagnostic, WrapErr};

use crate::cli::{OutputFormat, StateArgs, StateCommand, StateKind};
use crate::commands::ExitStatus;
use crate::report::state_view::{self, MigrationView, StateListing};
use crate::state::{ImportMode, OpenMode, StateBackend, StateError, StateExport};

/// The state a command opened, and the runtime its calls (and the command's other async work)
/// run on: a PostgreSQL state's connection lives on it. Dropping it shuts the runtime down
/// without waiting for tasks left behind (a transfer's blocking reads), as the commands always did.
pub(crate) struct OpenedState {
    pub store: Arc<dyn StateBackend>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for OpenedState {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl OpenedState {
    /// Opens the state `--state` names (a file or a database URL).
    pub(crate) fn open(location: &Path, mode: OpenMode) -> miette::Result<OpenedState> {
        Self::open_with_blocking_threads(location, mode, DEFAULT_BLOCKING_THREADS)
    }

    /// [`OpenedState::open`] on a runtime with at most `blocking` blocking threads (a run sizes
    /// its pool to its transfers: tokio's default of 512 costs memory and scheduling).
    pub(crate) fn open_with_blocking_threads(
        location: &Path,
        mode: OpenMode,
        blocking: usize,
    ) -> miette::Result<OpenedState> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .max_blocking_threads(blocking.max(1))
            .enable_all()
            .build()
            .into_diagnostic()?;
        let store = runtime
            .block_on(crate::state::open(location, mode))
            .map_err(state_error)?;
        Ok(OpenedState {
            store,
            runtime: Some(runtime),
        })
    }

    /// The runtime the state's connection runs on.
    pub(crate) fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime
            .as_ref()
            .expect("the runtime lives until the state is dropped")
    }

    /// Waits for one call on the state.
    pub(crate) fn call<T>(
        &self,
        call: impl Future<Output = Result<T, StateError>>,
    ) -> miette::Result<T> {
        self.runtime().block_on(call).map_err(state_error)
    }
}

/// The blocking threads of a command's runtime that does not copy: the state's calls and a few
/// file reads.
const DEFAULT_BLOCKING_THREADS: usize = 8;

/// A state error as a command error (exit status 2).
pub(crate) fn state_error(error: StateError) -> miette::Report {
    miette::miette!("{error}")
}

fn printed(result: std::io::Result<()>) -> miette::Result<()> {
    result.into_diagnostic().wrap_err("cannot write the output")
}

/// Runs a `ferry state` subcommand.
pub fn run(args: StateArgs) -> miette::Result<ExitStatus> {
    let path = args.state.path.as_path();
    match args.command {
        StateCommand::List { kind, format } => list(&open(path)?, kind, format),
        StateCommand::Show { kind, name, format } => show(&open(path)?, kind, &name, format),
        StateCommand::Rm { kind, name, force } => remove(&open(path)?, kind, &name, force),
        StateCommand::Export { output } => export(&open(path)?, output.as_deref()),
        StateCommand::Import { file, replace } => import(path, &file, replace),
    }
}

fn open(path: &Path) -> miette::Result<OpenedState> {
    OpenedState::open(path, OpenMode::Existing)
}

fn list(
    state: &OpenedState,
    kind: Option<StateKind>,
    format: OutputFormat,
) -> miette::Result<ExitStatus> {
    let wants = |wanted: StateKind| kind.is_none_or(|kind| kind == wanted);
    let sources = if wants(StateKind::Source) {
        Some(state.call(state.store.sources())?)
    } else {
        None
    };
    let targets = if wants(StateKind::Target) {
        Some(state.call(state.store.targets())?)
    } else {
        None
    };
    let migrations = if wants(StateKind::Migration) {
        Some(state.call(state.store.migrations())?)
    } else {
        None
    };
    let listing = StateListing {
        sources: sources.as_deref(),
        targets: targets.as_deref(),
        migrations: migrations.as_deref(),
    };
    let text = match format {
        OutputFormat::Human => state_view::render_listing(&listing),
        OutputFormat::Json => state_view::render_listing_json(&listing),
    };
    printed(state_view::print_text(&text))?;
    Ok(ExitStatus::Success)
}

/// The migrations that name a source or target.
fn used_by(state: &OpenedState, kind: StateKind, name: &str) -> miette::Result<Vec<String>> {
    Ok(state
        .call(state.store.migrations())?
        .into_iter()
        .filter(|migration| match kind {
            StateKind::Source => migration.source == name,
            StateKind::Target => migration.target == name,
            StateKind::Migration => false,
        })
        .map(|migration| migration.name)
        .collect())
}

fn show(
    state: &OpenedState,
    kind: StateKind,
    name: &str,
    format: OutputFormat,
) -> miette::Result<ExitStatus> {
    let json = format == OutputFormat::Json;
    let text = match kind {
        StateKind::Source => {
            let source = state.call(state.store.source(name))?;
            let used = used_by(state, kind, name)?;
            if json {
                state_view::render_record_json(&source, &used)
            } else {
                state_view::render_source(&source, &used)
            }
        }
        StateKind::Target => {
            let target = state.call(state.store.target(name))?;
            let used = used_by(state, kind, name)?;
            if json {
                state_view::render_record_json(&target, &used)
            } else {
                state_view::render_target(&target, &used)
            }
        }
        StateKind::Migration => show_migration(state, name, json)?,
    };
    printed(state_view::print_text(&text))?;
    Ok(ExitStatus::Success)
}

/// `ferry state show migration NAME`: its record, storage, ledger, holder, claims and hook runs.
fn show_migration(state: &OpenedState, name: &str, json: bool) -> miette::Result<String> {
    let record = state.call(state.store.migration(name))?;
    let storage = state.call(state.store.target_storage(name))?;
    let (recorded_files, partial_copies) = state.call(state.store.ledger_counts(name))?;
    let lock = state.call(state.store.lock(name))?;
    let claims = state.call(state.store.claims(name))?;
    let hooks = state.call(state.store.hook_runs(name))?;
    let view = MigrationView {
        record: &record,
        storage: &storage,
        recorded_files,
        partial_copies,
        lock: lock.as_ref(),
        claims: &claims,
        hooks: &hooks,
    };
    Ok(if json {
        state_view::render_migration_json(&view)
    } else {
        state_view::render_migration(&view)
    })
}

fn remove(
    state: &OpenedState,
    kind: StateKind,
    name: &str,
    force: bool,
) -> miette::Result<ExitStatus> {
    let note = match kind {
        StateKind::Source => {
            let ip = state.call(state.store.source(name))?.ip;
            let removed = state.call(state.store.delete_source(name, force))?;
            with_cascade(
                format!("Forgot source `{name}` and its recorded IP {ip}"),
                &removed,
            )
        }
        StateKind::Target => {
            let removed = state.call(state.store.delete_target(name, force))?;
            with_cascade(format!("Forgot target `{name}`"), &removed)
        }
        StateKind::Migration => {
            if let Some(lock) = state.call(state.store.lock(name))?
                && !force
            {
                return Err(miette::miette!(
                    "migration `{name}` is locked by {} (pid {} on {}); stop that run first, or use --force",
                    lock.owner,
                    lock.pid,
                    lock.host
                ));
            }
            state.call(state.store.delete_migration(name))?;
            format!("Forgot migration `{name}` and its copied-file records")
        }
    };
    state_view::print_note(&note);
    Ok(ExitStatus::Success)
}

fn with_cascade(note: String, removed: &[String]) -> String {
    if removed.is_empty() {
        format!("{note}.")
    } else {
        format!("{note}, and migration(s) {}.", removed.join(", "))
    }
}

fn export(state: &OpenedState, output: Option<&Path>) -> miette::Result<ExitStatus> {
    let export = state.call(state.store.export())?;
    let mut text = serde_json::to_string_pretty(&export).into_diagnostic()?;
    text.push('\n');
    match output {
        Some(path) => {
            write_private(path, &text)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot write {}", path.display()))?;
            state_view::print_note(&format!("Exported the state to {}.", path.display()));
        }
        None => printed(state_view::print_text(&text))?,
    }
    Ok(ExitStatus::Success)
}

/// Writes a file readable only by its owner (an export holds the same data as the state).
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// The largest export `ferry state import` reads: room for millions of file records, and a
/// bound on memory when the path names something endless.
const MAX_IMPORT_BYTES: u64 = 512 * 1024 * 1024;

/// Reads an export: a regular file or a pipe (`<(…)`), at most [`MAX_IMPORT_BYTES`].
fn read_export(file: &Path) -> miette::Result<String> {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let cannot_read = || format!("cannot read {}", file.display());
    let opened = std::fs::File::open(file)
        .into_diagnostic()
        .wrap_err_with(cannot_read)?;
    let kind = opened
        .metadata()
        .into_diagnostic()
        .wrap_err_with(cannot_read)?
        .file_type();
    if !(kind.is_file() || kind.is_fifo()) {
        miette::bail!(
            "cannot read {}: it is not a regular file or a pipe",
            file.display()
        );
    }
    let mut bytes = Vec::new();
    opened
        .take(MAX_IMPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .into_diagnostic()
        .wrap_err_with(cannot_read)?;
    if bytes.len() as u64 > MAX_IMPORT_BYTES {
        miette::bail!(
            "{} is larger than {} MiB, more than any ferry state export",
            file.display(),
            MAX_IMPORT_BYTES / (1024 * 1024)
        );
    }
    String::from_utf8(bytes)
        .into_diagnostic()
        .wrap_err_with(|| format!("{} is not a ferry state export", file.display()))
}

fn import(location: &Path, file: &Path, replace: bool) -> miette::Result<ExitStatus> {
    let text = read_export(file)?;
    let export: StateExport = serde_json::from_str(&text)
        .into_diagnostic()
        .wrap_err_with(|| format!("{} is not a ferry state export", file.display()))?;
    let state = OpenedState::open(location, OpenMode::Create)?;
    let mode = if replace {
        ImportMode::Replace
    } else {
        ImportMode::Merge
    };
    let summary = state.call(state.store.import(&export, mode))?;
    state_view::print_note(&format!(
        "Imported {} source(s), {} target(s), {} migration(s) with {} copied-file record(s) into {}.",
        summary.sources,
        summary.targets,
        summary.migrations,
        summary.files,
        state.store.location()
    ));
    Ok(ExitStatus::Success)
}
