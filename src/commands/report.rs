//! `ferry report`: the migrations recorded in state as a table, JSON, JUnit XML or Markdown,
//! grouped by wave when `--plan` names a plan with waves. Exit 0 even when migrations failed.

use miette::{IntoDiagnostic, WrapErr};

use crate::cli::ReportArgs;
use crate::commands::ExitStatus;
use crate::commands::run::usable_plan;
use crate::commands::state::OpenedState;
use crate::exec::runner::waves::{blocking, wave_members};
use crate::plan::load;
use crate::plan::valid::ValidPlan;
use crate::report::run_report::{self, MigrationRow, WaveRow};
use crate::state::{MigrationRecord, OpenMode};

/// Runs `ferry report`.
pub fn run(args: ReportArgs) -> miette::Result<ExitStatus> {
    let state = OpenedState::open(&args.state.path, OpenMode::Existing)?;
    let records = state.call(state.store.migrations())?;
    let records: Vec<&MigrationRecord> = records.iter().collect();
    let rows = report_rows(&state, &records)?;
    let waves = match &args.plan {
        Some(path) => {
            let checked = load::check_file(path).map_err(miette::Report::new)?;
            let Some(plan) = usable_plan(&checked) else {
                return Err(miette::miette!(
                    "the plan {} has errors (see `ferry check`); cannot group the report by its waves",
                    path.display()
                ));
            };
            wave_rows(&state, plan)?
        }
        None => Vec::new(),
    };
    let text = run_report::render_with_waves(&rows, &waves, args.format);
    run_report::write_report(&text, args.output.as_deref())
        .into_diagnostic()
        .wrap_err_with(|| match &args.output {
            Some(path) => format!("cannot write the report to {}", path.display()),
            None => "cannot write the report".to_string(),
        })?;
    Ok(ExitStatus::Success)
}

/// Each wave of the plan as the state counts it, in plan order (none without waves).
pub(crate) fn wave_rows(state: &OpenedState, plan: &ValidPlan) -> miette::Result<Vec<WaveRow>> {
    plan.waves
        .iter()
        .map(|wave| {
            let members = wave_members(plan, wave);
            let counts = state.call(state.store.wave_counts(&members, None))?;
            let block = blocking(wave, members.len(), &counts);
            Ok(WaveRow::new(wave, members, counts, block.as_ref()))
        })
        .collect()
}

/// The report's rows of `records`, in their order, each with who ran it and who holds it now
/// (its claims) and its hook runs: two reads of the state, however many migrations there are.
pub(crate) fn report_rows(
    state: &OpenedState,
    records: &[&MigrationRecord],
) -> miette::Result<Vec<MigrationRow>> {
    let names: Vec<String> = records.iter().map(|record| record.name.clone()).collect();
    let claims = state.call(state.store.claims_of(&names))?;
    let hooks = state.call(state.store.hook_runs_of(&names))?;
    Ok(records
        .iter()
        .map(|record| {
            MigrationRow::from_record(record)
                .with_claims(claims.get(&record.name).map_or(&[], Vec::as_slice))
                .with_hooks(hooks.get(&record.name).map_or(&[], Vec::as_slice))
        })
        .collect())
}
