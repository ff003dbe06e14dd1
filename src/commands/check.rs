//! `ferry check`: validates plan files against the schema, the domain rules and the recorded state, and reports every problem at once.

use miette::IntoDiagnostic;

use crate::cli::CheckArgs;
use crate::commands::ExitStatus;
use crate::commands::state::state_error;
use crate::plan::diagnostic::FileDiagnostics;
use crate::plan::load::{self, CheckedPlan};
use crate::report;
use crate::report::diagnostics::Summary;
use crate::state::Store;

pub fn run(arguments: &CheckArgs) -> miette::Result<ExitStatus> {
    if arguments.connect {
        return Err(miette::miette!(
            help = "run `ferry check` without `--connect` to validate the plan itself",
            "`ferry check --connect` (the pre-flight connection check) is not available in this build"
        ));
    }
    // The state is read only when it exists: `check` never creates it, and CI runs without it.
    let store = if arguments.state.path.exists() {
        Some(Store::open_existing(&arguments.state.path).map_err(state_error)?)
    } else {
        None
    };
    let mut files = Vec::new();
    let mut unreadable = false;
    for path in &arguments.plans {
        match load::check_file(path) {
            Ok(checked) => files.push(with_state_rules(checked, store.as_ref())?),
            Err(error) => {
                report::print_command_error(&miette::Report::new(error));
                unreadable = true;
            }
        }
    }
    report::diagnostics::print_check_output(&files, arguments.format, arguments.deny_warnings)
        .into_diagnostic()?;
    Ok(exit_status(&files, arguments.deny_warnings, unreadable))
}

/// Adds the state-aware rules (recorded IPs) to a checked plan's diagnostics.
pub fn with_state_rules(
    checked: CheckedPlan,
    store: Option<&Store>,
) -> miette::Result<FileDiagnostics> {
    let mut report = checked.report;
    if let (Some(store), Some(tree), Some(entries)) = (store, &checked.tree, &checked.entries) {
        let sources: Vec<(String, String)> = entries
            .sources
            .iter()
            .filter_map(|entry| {
                entry
                    .value
                    .as_ref()
                    .map(|workload| (entry.name.clone(), workload.ip.clone()))
            })
            .collect();
        report.diagnostics.extend(
            crate::state::rules::check_recorded_ips(store, &sources, tree).map_err(state_error)?,
        );
        report.normalize();
    }
    Ok(report)
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
