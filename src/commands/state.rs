//! `ferry state list|show|rm|export|import`: read, delete, export and import the objects in the state store.

use std::path::Path;

use miette::{IntoDiagnostic, WrapErr};

use crate::cli::{OutputFormat, StateArgs, StateCommand, StateKind};
use crate::commands::ExitStatus;
use crate::report::state_view::{self, MigrationView, StateListing};
use crate::state::{ImportMode, StateError, StateExport, Store};

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
        StateCommand::Show { kind, name } => show(&open(path)?, kind, &name),
        StateCommand::Rm { kind, name, force } => remove(&open(path)?, kind, &name, force),
        StateCommand::Export { output } => export(&open(path)?, output.as_deref()),
        StateCommand::Import { file, replace } => import(path, &file, replace),
    }
}

fn open(path: &Path) -> miette::Result<Store> {
    Store::open_existing(path).map_err(state_error)
}

fn list(
    store: &Store,
    kind: Option<StateKind>,
    format: OutputFormat,
) -> miette::Result<ExitStatus> {
    let wants = |wanted: StateKind| kind.is_none_or(|kind| kind == wanted);
    let sources = if wants(StateKind::Source) {
        Some(store.sources().map_err(state_error)?)
    } else {
        None
    };
    let targets = if wants(StateKind::Target) {
        Some(store.targets().map_err(state_error)?)
    } else {
        None
    };
    let migrations = if wants(StateKind::Migration) {
        Some(store.migrations().map_err(state_error)?)
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
fn used_by(store: &Store, kind: StateKind, name: &str) -> miette::Result<Vec<String>> {
    Ok(store
        .migrations()
        .map_err(state_error)?
        .into_iter()
        .filter(|migration| match kind {
            StateKind::Source => migration.source == name,
            StateKind::Target => migration.target == name,
            StateKind::Migration => false,
        })
        .map(|migration| migration.name)
        .collect())
}

fn show(store: &Store, kind: StateKind, name: &str) -> miette::Result<ExitStatus> {
    let text = match kind {
        StateKind::Source => {
            let source = store.source(name).map_err(state_error)?;
            state_view::render_source(&source, &used_by(store, kind, name)?)
        }
        StateKind::Target => {
            let target = store.target(name).map_err(state_error)?;
            state_view::render_target(&target, &used_by(store, kind, name)?)
        }
        StateKind::Migration => {
            let record = store.migration(name).map_err(state_error)?;
            let storage = store.target_storage(name).map_err(state_error)?;
            let (recorded_files, partial_copies) =
                store.ledger_counts(name).map_err(state_error)?;
            let lock = store.lock(name).map_err(state_error)?;
            state_view::render_migration(&MigrationView {
                record: &record,
                storage: &storage,
                recorded_files,
                partial_copies,
                lock: lock.as_ref(),
            })
        }
    };
    printed(state_view::print_text(&text))?;
    Ok(ExitStatus::Success)
}

fn remove(store: &Store, kind: StateKind, name: &str, force: bool) -> miette::Result<ExitStatus> {
    let note = match kind {
        StateKind::Source => {
            let ip = store.source(name).map_err(state_error)?.ip;
            let removed = store.delete_source(name, force).map_err(state_error)?;
            with_cascade(
                format!("Forgot source `{name}` and its recorded IP {ip}"),
                &removed,
            )
        }
        StateKind::Target => {
            let removed = store.delete_target(name, force).map_err(state_error)?;
            with_cascade(format!("Forgot target `{name}`"), &removed)
        }
        StateKind::Migration => {
            if let Some(lock) = store.lock(name).map_err(state_error)?
                && !force
            {
                return Err(miette::miette!(
                    "migration `{name}` is locked by {} (pid {} on {}); stop that run first, or use --force",
                    lock.owner,
                    lock.pid,
                    lock.host
                ));
            }
            store.delete_migration(name).map_err(state_error)?;
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

fn export(store: &Store, output: Option<&Path>) -> miette::Result<ExitStatus> {
    let export = store.export().map_err(state_error)?;
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

fn import(state: &Path, file: &Path, replace: bool) -> miette::Result<ExitStatus> {
    let text = read_export(file)?;
    let export: StateExport = serde_json::from_str(&text)
        .into_diagnostic()
        .wrap_err_with(|| format!("{} is not a ferry state export", file.display()))?;
    let store = Store::open(state).map_err(state_error)?;
    let mode = if replace {
        ImportMode::Replace
    } else {
        ImportMode::Merge
    };
    let summary = store.import(&export, mode).map_err(state_error)?;
    state_view::print_note(&format!(
        "Imported {} source(s), {} target(s), {} migration(s) with {} copied-file record(s) into {}.",
        summary.sources,
        summary.targets,
        summary.migrations,
        summary.files,
        state.display()
    ));
    Ok(ExitStatus::Success)
}
