//! `ferry report`: the migrations recorded in state as a table, JSON, JUnit XML or Markdown. Exit 0 even when migrations failed.

use miette::{IntoDiagnostic, WrapErr};

use crate::cli::ReportArgs;
use crate::commands::ExitStatus;
use crate::commands::state::OpenedState;
use crate::report::run_report;
use crate::state::{MigrationRecord, OpenMode};

/// Runs `ferry report`.
pub fn run(args: ReportArgs) -> miette::Result<ExitStatus> {
    let state = OpenedState::open(&args.state.path, OpenMode::Existing)?;
    let records = state.call(state.store.migrations())?;
    let records: Vec<&MigrationRecord> = records.iter().collect();
    let rows = report_rows(&state, &records)?;
    let text = run_report::render(&rows, args.format);
    run_report::write_report(&text, args.output.as_deref())
        .into_diagnostic()
        .wrap_err_with(|| match &args.output {
            Some(path) => format!("cannot write the report to {}", path.display()),
            None => "cannot write the report".to_string(),
        })?;
    Ok(ExitStatus::Success)
}

/// The report's rows of `records`, in their order, each with its hook runs.
pub(crate) fn report_rows(
    state: &OpenedState,
    records: &[&MigrationRecord],
) -> miette::Result<Vec<run_report::MigrationRow>> {
    records
        .iter()
        .map(|record| {
            let hooks = state.call(state.store.hook_runs(&record.name))?;
            Ok(run_report::MigrationRow::from_record(record).with_hooks(&hooks))
        })
        .collect()
}
