//! `ferry report`: the migrations recorded in state as a table, JSON, JUnit XML or Markdown. Exit 0 even when migrations failed.

use miette::{IntoDiagnostic, WrapErr};

use crate::cli::ReportArgs;
use crate::commands::ExitStatus;
use crate::commands::state::OpenedState;
use crate::report::run_report::{self, MigrationRow};
use crate::state::{MigrationRecord, OpenMode};

/// Runs `ferry report`.
pub fn run(args: ReportArgs) -> miette::Result<ExitStatus> {
    let state = OpenedState::open(&args.state.path, OpenMode::Existing)?;
    let records = state.call(state.store.migrations())?;
    let text = run_report::render(&rows_with_claims(&state, &records)?, args.format);
    run_report::write_report(&text, args.output.as_deref())
        .into_diagnostic()
        .wrap_err_with(|| match &args.output {
            Some(path) => format!("cannot write the report to {}", path.display()),
            None => "cannot write the report".to_string(),
        })?;
    Ok(ExitStatus::Success)
}

/// The report's rows, each with who ran it and who holds it now (its claims).
pub(crate) fn rows_with_claims(
    state: &OpenedState,
    records: &[MigrationRecord],
) -> miette::Result<Vec<MigrationRow>> {
    let mut rows = Vec::with_capacity(records.len());
    for record in records {
        let claims = state.call(state.store.claims(&record.name))?;
        rows.push(MigrationRow::from_record(record).with_claims(&claims));
    }
    Ok(rows)
}
