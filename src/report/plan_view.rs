//! `ferry plan`'s output: per migration, what `ferry run` would do and how many files and bytes
//! it would copy, skip and delete, and the hooks it would run, grouped by wave (with what blocks
//! each) when the plan has waves. A pure renderer plus a print.

use std::io::Write;

use crate::exec::copy::MountPreview;
use crate::exec::runner::preview::{Action, MigrationPreview};
use crate::plan::valid::HookPhase;
use crate::report::escape::printable;
use crate::report::run_report::waves::tag_migration_waves;
use crate::report::run_report::{human_bytes, state_word};

fn files(count: u64) -> String {
    format!("{count} {}", if count == 1 { "file" } else { "files" })
}

/// One mount's line. The name is padded by hand: a format width above 65,535 panics, and a
/// mount name from a plan can be that long.
fn mount_line(mount: &MountPreview, width: usize) -> String {
    let name = printable(&mount.mount);
    let padding = " ".repeat(width.saturating_sub(name.chars().count()));
    let mut line = format!(
        "    {name}{padding}  copy {} ({})",
        files(mount.files_to_copy),
        human_bytes(mount.bytes_to_copy)
    );
    if mount.files_to_resume > 0 {
        line.push_str(&format!(", {} resumed", mount.files_to_resume));
    }
    line.push_str(&format!(
        "; skip {} ({}) unchanged; delete {}",
        files(mount.files_unchanged),
        human_bytes(mount.bytes_unchanged),
        mount.to_remove.len()
    ));
    if !mount.foreign.is_empty() {
        // Only with --adopt-existing (kept, or overwritten by same-named files) or --mirror
        // (deleted or overwritten): without either, the migration is refused.
        line.push_str(&format!("; {} not written by ferry", mount.foreign.len()));
    }
    if !mount.excluded.is_empty() {
        line.push_str(&format!(
            "; not descended: {}",
            printable(&mount.excluded.join(", "))
        ));
    }
    if !mount.special_skipped.is_empty() {
        line.push_str(&format!(
            "; {} special files not copied",
            mount.special_skipped.len()
        ));
    }
    line
}

/// A wave as `ferry plan` shows it: its migrations and what keeps it from starting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanWave {
    pub name: String,
    /// `max_failures` as written (`0`, `10%`).
    pub threshold: String,
    pub allowed: u64,
    pub migrations: Vec<String>,
    /// The earlier wave it waits for, and why (`wave `pilot`: 1 failure, threshold 0`).
    pub blocked_by: Option<String>,
}

impl PlanWave {
    fn heading(&self) -> String {
        let mut line = format!(
            "Wave {} (threshold {}, {} allowed)",
            self.name, self.threshold, self.allowed
        );
        if let Some(block) = &self.blocked_by {
            line.push_str(&format!(": blocked by {block}"));
        }
        line
    }
}

/// Renders the previews and a summary line, grouped by wave when the plan has waves. `plan` and
/// `state` name the files read.
pub fn render(
    plan: &str,
    state: Option<&str>,
    previews: &[MigrationPreview],
    waves: &[PlanWave],
) -> String {
    let mut text = match state {
        Some(state) => format!("Plan {}, state {}\n\n", printable(plan), printable(state)),
        None => format!(
            "Plan {}, no state yet (nothing has run)\n\n",
            printable(plan)
        ),
    };
    if waves.is_empty() {
        previews
            .iter()
            .for_each(|preview| text.push_str(&preview_lines(preview)));
    }
    for (index, wave) in waves.iter().enumerate() {
        if index > 0 {
            text.push('\n');
        }
        text.push_str(&format!("{}\n", printable(&wave.heading())));
        previews
            .iter()
            .filter(|preview| wave.migrations.contains(&preview.name))
            .for_each(|preview| text.push_str(&preview_lines(preview)));
    }
    let count = |action: Action| {
        previews
            .iter()
            .filter(|preview| preview.action == action)
            .count()
    };
    text.push_str(&format!(
        "\n{} to start, {} to resume, {} to sync, {} with nothing to do.\n",
        count(Action::Start),
        count(Action::Resume),
        count(Action::Sync),
        count(Action::NothingToDo)
    ));
    text
}

/// One migration's line and its mounts' lines.
fn preview_lines(preview: &MigrationPreview) -> String {
    let state = preview.state.map_or("not in state", state_word);
    let mut text = format!(
        "{}: {} ({} -> {}, {state})\n",
        printable(&preview.name),
        preview.action.as_str(),
        printable(&preview.source),
        printable(&preview.target)
    );
    if let Some(holder) = &preview.held_by {
        text.push_str(&format!("    held by {}\n", printable(holder)));
    }
    if let Some(line) = hooks_line(preview) {
        text.push_str(&line);
    }
    match &preview.scan {
        Ok(scan) => {
            let width = scan
                .mounts
                .iter()
                .map(|mount| printable(&mount.mount).chars().count())
                .max()
                .unwrap_or(0);
            for mount in &scan.mounts {
                text.push_str(&mount_line(mount, width));
                text.push('\n');
            }
        }
        Err(reason) => {
            text.push_str(&format!("    not scanned: {}\n", printable(reason)));
        }
    }
    text
}

/// The `ferry plan --format json` document, one line (fields in README, "JSON output"):
/// `{"version":1,"plan","state","migrations":[{"name","source","target","state","action",
/// "pending","error","mounts":[…]}],"summary":{"start","resume","sync","nothing_to_do"}}`.
/// `state` is the state file read (`null` when there is none yet); a migration's `state` is its
/// recorded state (`null` when not in state), `action` one of `start`, `resume`, `sync`,
/// `nothing_to_do`, and `error` why it could not be scanned (`mounts` is then empty). A migration
/// with hooks has `hooks`: `{"before":[…],"after":[…],"on_failure":[…]}`, the commands a run
/// would run (all empty when there is nothing to do).
/// With waves, each migration has its `wave` and a `waves` array lists `name`, `max_failures`,
/// `allowed_failures`, `migrations` and `blocked_by`.
pub fn render_json(
    plan: &str,
    state: Option<&str>,
    previews: &[MigrationPreview],
    waves: &[PlanWave],
) -> String {
    use serde_json::json;
    let action_name = |action: Action| match action {
        Action::Start => "start",
        Action::Resume => "resume",
        Action::Sync => "sync",
        Action::NothingToDo => "nothing_to_do",
    };
    let migrations: Vec<serde_json::Value> = previews
        .iter()
        .map(|preview| {
            let mounts: Vec<serde_json::Value> = match &preview.scan {
                Ok(scan) => scan.mounts.iter().map(mount_json).collect(),
                Err(_) => Vec::new(),
            };
            let mut migration = json!({
                "name": preview.name,
                "source": preview.source,
                "target": preview.target,
                "state": preview.state,
                "action": action_name(preview.action),
                "pending": preview.is_pending(),
                "error": preview.scan.as_ref().err(),
                "mounts": mounts,
            });
            // Only while a runner holds it: `held_by` names that runner.
            if let Some(holder) = &preview.held_by {
                migration["held_by"] = json!(holder);
            }
            // Only a migration with hooks has the key: plans without hooks read as they did.
            if !preview.hooks.is_empty()
                && let Some(object) = migration.as_object_mut()
            {
                let hooks: serde_json::Map<String, serde_json::Value> = preview
                    .hooks
                    .iter()
                    .map(|(phase, commands)| (phase.as_str().to_string(), json!(commands)))
                    .collect();
                object.insert("hooks".to_string(), serde_json::Value::Object(hooks));
            }
            migration
        })
        .collect();
    let count = |action: Action| {
        previews
            .iter()
            .filter(|preview| preview.action == action)
            .count()
    };
    let mut document = json!({
        "version": 1,
        "plan": plan,
        "state": state,
        "migrations": migrations,
        "summary": {
            "start": count(Action::Start),
            "resume": count(Action::Resume),
            "sync": count(Action::Sync),
            "nothing_to_do": count(Action::NothingToDo),
        },
    });
    if !waves.is_empty() {
        add_waves(&mut document, waves);
    }
    let mut text = document.to_string();
    text.push('\n');
    text
}

/// Each migration's `wave`, and the `waves` array.
fn add_waves(document: &mut serde_json::Value, waves: &[PlanWave]) {
    use serde_json::json;
    let members: Vec<(&str, &[String])> = waves
        .iter()
        .map(|wave| (wave.name.as_str(), wave.migrations.as_slice()))
        .collect();
    tag_migration_waves(document, &members);
    document["waves"] = waves
        .iter()
        .map(|wave| {
            json!({
                "name": wave.name,
                "max_failures": wave.threshold,
                "allowed_failures": wave.allowed,
                "migrations": wave.migrations,
                "blocked_by": wave.blocked_by,
            })
        })
        .collect();
}

/// `    hooks: before `a`, `b`; after `c`; on_failure (if it fails) `d`` for a migration whose run
/// would run hooks.
fn hooks_line(preview: &MigrationPreview) -> Option<String> {
    let phases: Vec<String> = preview
        .hooks
        .iter()
        .filter(|(_, commands)| !commands.is_empty())
        .map(|(phase, commands)| {
            let commands: Vec<String> = commands
                .iter()
                .map(|command| format!("`{}`", printable(command)))
                .collect();
            let when = if *phase == HookPhase::OnFailure {
                " (if it fails)"
            } else {
                ""
            };
            format!("{}{when} {}", phase.as_str(), commands.join(", "))
        })
        .collect();
    (!phases.is_empty()).then(|| format!("    hooks: {}\n", phases.join("; ")))
}

fn mount_json(mount: &MountPreview) -> serde_json::Value {
    serde_json::json!({
        "mount": mount.mount,
        "files_to_copy": mount.files_to_copy,
        "bytes_to_copy": mount.bytes_to_copy,
        "files_to_resume": mount.files_to_resume,
        "files_unchanged": mount.files_unchanged,
        "bytes_unchanged": mount.bytes_unchanged,
        "directories_to_create": mount.directories_to_create,
        "to_delete": mount.to_remove,
        "not_written_by_ferry": mount.foreign,
        "special_files_skipped": mount.special_skipped,
        "not_descended": mount.excluded,
    })
}

/// Prints the rendered plan to stdout.
pub fn print(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
