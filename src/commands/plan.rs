//! `ferry plan`: what `ferry run` would do, per migration, moving no data and changing no state
//! (the state file is opened read-only, and not created). Exit 0 nothing to do, 2 work pending
//! with `--detailed-exitcode` (0 without), 1 errors; see README "Exit status".

use miette::IntoDiagnostic;

use crate::cli::{OutputFormat, PlanArgs};
use crate::commands::ExitStatus;
use crate::commands::run::{existing_data, usable_plan, with_diagnostics};
use crate::commands::state::{OpenedState, state_error};
use crate::exec::copy::CopyOptions;
use crate::exec::ledger::Ledger;
use crate::exec::memory_ledger::MemoryLedger;
use crate::exec::runner::prepare::migration_secrets;
use crate::exec::runner::preview::{MigrationPreview, RecordedState, preview_migration};
use crate::exec::runner::waves::{blocking, wave_members};
use crate::exec::secrets::Secrets;
use crate::plan::load;
use crate::plan::valid::ValidPlan;
use crate::report::{plan_view, run_output};
use crate::state::rules::recorded_ip_diagnostics;
use crate::state::{MigrationState, OpenMode, StateBackend, WaveCounts};

/// Runs `ferry plan`.
pub fn run(args: PlanArgs) -> miette::Result<ExitStatus> {
    let checked = match load::check_file(&args.plan) {
        Ok(checked) => checked,
        Err(error) => {
            // As in `ferry check`: an `unreadable-plan` diagnostic in the chosen format, never a
            // plan that looks empty.
            print_refusal(&error.report(), args.format);
            return Ok(ExitStatus::CommandError);
        }
    };
    let Some(plan) = usable_plan(&checked) else {
        print_refusal(&checked.report, args.format);
        return Ok(ExitStatus::Failure);
    };
    let state = if crate::state::exists(&args.state.path) {
        Some(OpenedState::open(&args.state.path, OpenMode::ReadOnly)?)
    } else {
        None
    };
    if let Some(state) = &state {
        let diagnostics = state.call(recorded_ip_diagnostics(plan, &*state.store))?;
        if !diagnostics.is_empty() {
            print_refusal(&with_diagnostics(&checked, diagnostics), args.format);
            return Ok(ExitStatus::Failure);
        }
    }
    let mut missing = Vec::new();
    let secrets: Vec<_> = plan
        .migrations
        .iter()
        .map(|migration| {
            migration_secrets(plan, &[migration])
                .map_err(|diagnostics| missing.extend(diagnostics))
                .ok()
        })
        .collect();
    let options = CopyOptions {
        existing: existing_data(args.existing),
        ..CopyOptions::default()
    };
    let previews = preview_all(plan, state.as_ref(), &secrets, &options)?;

    // In JSON, the migrations that need a missing password say so in their `error`.
    if !missing.is_empty() && args.format == OutputFormat::Human {
        run_output::print_plan_diagnostics(&with_diagnostics(&checked, missing));
    }
    let state_shown = state.as_ref().map(|state| state.store.location());
    let waves = plan_waves(plan, state.as_ref())?;
    let (path, shown) = (&checked.report.path, state_shown.as_deref());
    let text = match args.format {
        OutputFormat::Human => plan_view::render(path, shown, &previews, &waves),
        OutputFormat::Json => plan_view::render_json(path, shown, &previews, &waves),
    };
    plan_view::print(&text).into_diagnostic()?;
    let errors = previews.iter().any(|preview| preview.scan.is_err());
    Ok(if errors {
        ExitStatus::Failure
    } else if args.detailed_exitcode && previews.iter().any(|preview| preview.is_pending()) {
        ExitStatus::Pending
    } else {
        ExitStatus::Success
    })
}

/// Previews every migration: its recorded state (none without a state file), then a scan of
/// both ends where its passwords are known.
fn preview_all(
    plan: &ValidPlan,
    state: Option<&OpenedState>,
    secrets: &[Option<Secrets>],
    options: &CopyOptions,
) -> miette::Result<Vec<MigrationPreview>> {
    let store = state.map(|state| &*state.store);
    let previews = previews(plan, store, secrets, options);
    match state {
        Some(state) => state.runtime().block_on(previews),
        None => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .into_diagnostic()?;
            let previews = runtime.block_on(previews);
            runtime.shutdown_background();
            previews
        }
    }
}

async fn previews(
    plan: &ValidPlan,
    store: Option<&dyn StateBackend>,
    secrets: &[Option<Secrets>],
    options: &CopyOptions,
) -> miette::Result<Vec<MigrationPreview>> {
    let mut recorded = Vec::with_capacity(plan.migrations.len());
    for migration in &plan.migrations {
        recorded.push(match store {
            Some(store) => RecordedState::read(store, plan, migration)
                .await
                .map_err(state_error)?,
            None => RecordedState::default(),
        });
    }
    let memory_ledger = MemoryLedger::new();
    let ledger: &dyn Ledger = match store {
        Some(store) => store,
        None => &memory_ledger,
    };
    let mut previews = Vec::with_capacity(plan.migrations.len());
    for ((migration, recorded), secrets) in plan.migrations.iter().zip(recorded).zip(secrets) {
        let secrets = secrets.as_ref();
        let mut preview =
            preview_migration(plan, migration, recorded, ledger, secrets, options).await;
        if let (Some(store), Some(MigrationState::Running)) = (store, preview.state) {
            let holder = store.lock(&migration.name).await.map_err(state_error)?;
            preview.held_by = holder.map(|lock| lock.owner);
        }
        previews.push(preview);
    }
    Ok(previews)
}

/// The plan's waves, each with the first earlier wave it waits for (counted by the state; with
/// no state yet, every earlier wave has migrations that have not ended).
fn plan_waves(
    plan: &ValidPlan,
    state: Option<&OpenedState>,
) -> miette::Result<Vec<plan_view::PlanWave>> {
    let mut waves = Vec::with_capacity(plan.waves.len());
    let mut blocked_by: Option<String> = None;
    for wave in &plan.waves {
        let members = wave_members(plan, wave);
        let counts = match state {
            Some(state) => state.call(state.store.wave_counts(&members, None))?,
            None => WaveCounts::tally(members.len(), [], None),
        };
        waves.push(plan_view::PlanWave {
            name: wave.name.clone(),
            threshold: wave.max_failures.to_string(),
            allowed: wave.max_failures.allowed(members.len()),
            migrations: members.clone(),
            blocked_by: blocked_by.clone(),
        });
        if blocked_by.is_none() {
            blocked_by = blocking(wave, members.len(), &counts).map(|block| block.to_string());
        }
    }
    Ok(waves)
}

/// The diagnostics that refuse the plan: human, or `ferry check`'s JSON document.
fn print_refusal(file: &crate::plan::diagnostic::FileDiagnostics, format: OutputFormat) {
    match format {
        OutputFormat::Human => run_output::print_plan_diagnostics(file),
        OutputFormat::Json => run_output::print_plan_diagnostics_json(file),
    }
}
