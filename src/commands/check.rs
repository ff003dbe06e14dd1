//! `ferry check`: validates plan files against the schema, the domain rules and the recorded state, and reports every problem at once.
//! With `--connect`, also connects to every source and target of the valid plans and prints
//! their readiness (`exec::preflight`), copying and writing nothing.

use std::path::Path;
use std::time::Duration;

use miette::IntoDiagnostic;

use crate::cli::{CheckArgs, CheckFormat};
use crate::commands::ExitStatus;
use crate::commands::state::OpenedState;
use crate::exec::preflight::{self, PreflightOptions, Readiness};
use crate::exec::secrets;
use crate::plan::diagnostic::FileDiagnostics;
use crate::plan::load::CheckedPlan;
use crate::report;
use crate::report::diagnostics::Summary;
use crate::state::OpenMode;

pub fn run(arguments: &CheckArgs) -> miette::Result<ExitStatus> {
    // The state is read only when it exists: `check` never creates it, and CI runs without it.
    let state = if crate::state::exists(&arguments.state.path) {
        Some(OpenedState::open(
            &arguments.state.path,
            OpenMode::Existing,
        )?)
    } else {
        None
    };
    let mut checked_plans = Vec::new();
    // Files that could not be read: an `unreadable-plan` diagnostic each, in command-line order.
    let mut unreadable: Vec<(usize, FileDiagnostics)> = Vec::new();
    let inputs = crate::plan::inputs::expand(&arguments.plans);
    for (position, input) in inputs.into_iter().enumerate() {
        match input.and_then(|input| input.check()) {
            Ok(mut checked) => {
                add_state_rules(&mut checked, state.as_ref())?;
                checked_plans.push(checked);
            }
            Err(error) => unreadable.push((position, error.report())),
        }
    }
    // Secrets are resolved before the diagnostics print, so missing ones appear among them.
    let connect_to = if arguments.connect {
        checked_plans
            .iter_mut()
            .map(add_missing_secrets)
            .collect::<Vec<bool>>()
    } else {
        Vec::new()
    };
    let mut files: Vec<FileDiagnostics> = checked_plans
        .iter()
        .map(|checked| checked.report.clone())
        .collect();
    let any_unreadable = !unreadable.is_empty();
    for (position, report) in unreadable {
        files.insert(position.min(files.len()), report);
    }
    if arguments.format == CheckFormat::Sarif {
        let root = arguments.sarif_root.as_deref().unwrap_or(Path::new("."));
        for file in &mut files {
            file.path = report::diagnostics::sarif::path_from_root(&file.path, root);
        }
    }
    report::diagnostics::print_check_output(&files, arguments.format, arguments.deny_warnings)
        .into_diagnostic()?;
    let mut status = exit_status(&files, arguments.deny_warnings, any_unreadable);
    if arguments.connect {
        let options = PreflightOptions {
            timeout: Duration::from_secs(arguments.connect_timeout),
            ..PreflightOptions::default()
        };
        let all_ready = connect(&checked_plans, &connect_to, options, arguments.format)?;
        if !all_ready && status == ExitStatus::Success {
            status = ExitStatus::Failure;
        }
    }
    Ok(status)
}

/// Adds the state-aware rules (recorded IPs) to a checked plan's diagnostics.
pub(crate) fn add_state_rules(
    checked: &mut CheckedPlan,
    state: Option<&OpenedState>,
) -> miette::Result<()> {
    if let (Some(state), Some(tree), Some(entries)) = (state, &checked.tree, &checked.entries) {
        let sources = entries.source_ips(tree);
        let rules = crate::state::rules::check_recorded_ips(&*state.store, &sources);
        checked.report.diagnostics.extend(state.call(rules)?);
        checked.report.normalize();
    }
    Ok(())
}

/// For `--connect`: adds a `missing-secret` diagnostic for every password the plan's connections
/// need and cannot resolve. Returns whether the plan is connected to (it has no other errors).
fn add_missing_secrets(checked: &mut CheckedPlan) -> bool {
    if checked.has_errors() {
        return false;
    }
    let Some(plan) = &checked.plan else {
        return false;
    };
    let (_, missing) = preflight::probes(plan);
    if !missing.is_empty() {
        checked
            .report
            .diagnostics
            .extend(secrets::missing_secret_diagnostics(&missing));
        checked.report.normalize();
    }
    true
}

/// Checks the endpoints of every plan to connect to and prints a readiness table for each
/// checked plan (after the diagnostics; on stderr when stdout carries a machine-readable
/// format). Returns whether every endpoint is ready and every plan was connected to.
fn connect(
    checked_plans: &[CheckedPlan],
    connect_to: &[bool],
    options: PreflightOptions,
    format: CheckFormat,
) -> miette::Result<bool> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .into_diagnostic()?;
    let mut all_ready = true;
    let mut text = String::new();
    for (checked, &connect) in checked_plans.iter().zip(connect_to) {
        text.push('\n');
        let plan = checked.plan.as_ref().filter(|_| connect);
        let Some(plan) = plan else {
            all_ready = false;
            text.push_str(&report::readiness::render_not_checked(&checked.report.path));
            continue;
        };
        let (probes, _) = preflight::probes(plan);
        let rows: Vec<Readiness> = runtime.block_on(preflight::check_all(plan, &probes, options));
        all_ready &= rows.iter().all(|row| row.verdict.is_ready());
        text.push_str(&report::readiness::render(&checked.report.path, &rows));
    }
    // A server that never answered may leave a task behind: do not wait for it.
    runtime.shutdown_background();
    // Under `--quiet` the table is printed only when something is not ready.
    if !(report::quiet() && all_ready) {
        report::readiness::print(&text, format != CheckFormat::Human).into_diagnostic()?;
    }
    Ok(all_ready)
}

/// 2 when a file could not be read, 1 when any file has errors (or warnings under `--deny-warnings`).
pub fn exit_status(files: &[FileDiagnostics], deny_warnings: bool, unreadable: bool) -> ExitStatus {
    if unreadable {
        ExitStatus::CommandError
    } else if Summary::of(files, deny_warnings).has_errors() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}
