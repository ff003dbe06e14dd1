//! `ferry run`: check the plan, resolve its secrets, record it, run its migrations (wave by wave,
//! or the one `--wave` names) with resume and Ctrl-C/SIGTERM handling, and print the report (or, for a run that never started, why).
//! Exit statuses: README "Exit status".

use std::sync::{Arc, OnceLock};

use miette::{IntoDiagnostic, WrapErr};
use tokio_util::sync::CancellationToken;

use crate::cli::{ExistingDataArgs, RunArgs};
use crate::commands::ExitStatus;
use crate::commands::report::report_rows;
use crate::commands::state::OpenedState;
use crate::exec::copy::{BandwidthLimiter, CopyOptions, ExistingData, RetryPolicy};
use crate::exec::runner::prepare::{run_secrets, select_migrations};
use crate::exec::runner::waves::{WavesSummary, find_wave, run_waves, unfinished_before};
use crate::exec::runner::{RunContext, RunObserver, RunOptions, parse_rate, run_migrations};
use crate::exec::secrets::Secrets;
use crate::plan::diagnostic::{Diagnostic, FileDiagnostics};
use crate::plan::load::{self, CheckedPlan};
use crate::plan::valid::{Migration, ValidPlan, Wave};
use crate::report::run_output::{self, RunPrinter};
use crate::report::run_report;
use crate::report::run_report::refused::StartError;
use crate::state::rules::recorded_ip_diagnostics;
use crate::state::{MigrationState, OpenMode};

/// Runs `ferry run`. A run that never starts still writes its `--report-output` file, with why.
pub fn run(args: RunArgs) -> miette::Result<ExitStatus> {
    let mut started = false;
    let result = run_plan(&args, &mut started);
    match &result {
        Err(error) if !started => {
            write_refusal_report(&args, &[StartError::of_command(error)]);
        }
        _ => {}
    }
    result
}

/// Checks the plan, opens the state and runs; sets `started` once no refusal can come.
fn run_plan(args: &RunArgs, started: &mut bool) -> miette::Result<ExitStatus> {
    let options = run_options(args)?;
    let checked = match load::check_file(&args.plan) {
        Ok(checked) => checked,
        Err(error) => return Ok(refuse(args, &error.report(), ExitStatus::CommandError)),
    };
    let Some(plan) = usable_plan(&checked) else {
        return Ok(refuse(args, &checked.report, ExitStatus::Failure));
    };
    let wave = chosen_wave(plan, args.wave.as_deref())?;
    let selected = select_migrations(plan, &options.only).map_err(|unknown| {
        let lines: Vec<String> = unknown.iter().map(ToString::to_string).collect();
        miette::miette!("{}", lines.join("\n"))
    })?;
    let selected = in_chosen_wave(selected, wave, &options.only)?;
    let refused = |diagnostics: Vec<Diagnostic>| {
        let file = with_diagnostics(&checked, diagnostics);
        Ok(refuse(args, &file, ExitStatus::Failure))
    };
    // Before the state is opened: a run refused for missing secrets leaves no trace.
    let secrets = match run_secrets(plan, &selected) {
        Ok(secrets) => secrets,
        Err(missing) => return refused(missing),
    };
    let blocking = blocking_threads(&options, selected.len());
    let state =
        OpenedState::open_with_blocking_threads(&args.state.path, OpenMode::Create, blocking)?;
    let store = &*state.store;
    run_output::print_recovered(&state.call(store.recover_stale_running())?);
    let ip_diagnostics = state.call(recorded_ip_diagnostics(plan, store))?;
    if !ip_diagnostics.is_empty() {
        return refused(ip_diagnostics);
    }
    state.call(store.record_plan(plan))?;
    if let Some(wave) = wave {
        refuse_unfinished_earlier(&state, plan, wave)?;
    }
    *started = true;

    let run = Run {
        plan,
        selected: &selected,
        wave,
        secrets: &secrets,
        options: &options,
    };
    let (outcome, stopped_by) = execute(&state, &run);
    if let Some(stop) = &outcome.stopped {
        run_output::print_wave_stop(stop);
    }
    print_report(&state, plan, args)?;
    let summary = &outcome.summary;
    Ok(if summary.interrupted {
        stop_status(stopped_by.unwrap_or(StopSignal::Interrupt))
    } else if summary.any_failed()
        || outcome.stopped.is_some()
        || any_recorded_error(&state, &selected)?
    {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// What a run works on, once every refusal is past.
struct Run<'run> {
    plan: &'run ValidPlan,
    selected: &'run [&'run Migration],
    /// `--wave`: the one wave to run.
    wave: Option<&'run Wave>,
    secrets: &'run Secrets,
    options: &'run RunOptions,
}

/// Runs the selected migrations (wave by wave when the plan has waves) with the signal handlers
/// and the printer; returns how they ended and the signal that stopped them, if one did.
fn execute(state: &OpenedState, run: &Run<'_>) -> (WavesSummary, Option<StopSignal>) {
    let printer = Arc::new(RunPrinter::default());
    let observer: RunObserver = {
        let printer = Arc::clone(&printer);
        Arc::new(move |event| printer.event(event))
    };
    let cancel = CancellationToken::new();
    let stopped_by = Arc::new(OnceLock::new());
    let outcome = state.runtime().block_on(async {
        let signals = tokio::spawn(stop_on_signal(cancel.clone(), Arc::clone(&stopped_by)));
        let context = RunContext {
            plan: run.plan,
            backend: &*state.store,
            secrets: run.secrets,
            options: run.options,
            observer,
            cancel: &cancel,
            start_gate: None,
        };
        let outcome = if run.plan.waves.is_empty() {
            WavesSummary {
                summary: run_migrations(&context, run.selected).await,
                stopped: None,
            }
        } else {
            run_waves(&context, run.selected, run.wave).await
        };
        signals.abort();
        outcome
    });
    printer.finish();
    (outcome, stopped_by.get().copied())
}

/// The wave `--wave` names, if given.
fn chosen_wave<'plan>(
    plan: &'plan ValidPlan,
    name: Option<&str>,
) -> miette::Result<Option<&'plan Wave>> {
    let Some(name) = name else {
        return Ok(None);
    };
    if plan.waves.is_empty() {
        return Err(miette::miette!(
            "`--wave {name}`: the plan has no `waves`; run it without `--wave`"
        ));
    }
    find_wave(plan, name)
        .map(Some)
        .map_err(|unknown| miette::miette!("{unknown}"))
}

/// With `--wave`, the selected migrations of that wave; an `--only` name of another wave is
/// refused, naming its wave.
fn in_chosen_wave<'plan>(
    selected: Vec<&'plan Migration>,
    wave: Option<&Wave>,
    only: &[String],
) -> miette::Result<Vec<&'plan Migration>> {
    let Some(wave) = wave else {
        return Ok(selected);
    };
    let in_wave = |migration: &&Migration| migration.wave.as_deref() == Some(wave.name.as_str());
    if let Some(other) = selected
        .iter()
        .find(|migration| !only.is_empty() && !in_wave(migration))
    {
        return Err(miette::miette!(
            "`--only {}` names a migration of wave `{}`, not of `--wave {}`",
            other.name,
            other.wave.as_deref().unwrap_or_default(),
            wave.name
        ));
    }
    Ok(selected.into_iter().filter(in_wave).collect())
}

/// `--wave` refuses to run while an earlier wave has not finished within its threshold.
fn refuse_unfinished_earlier(
    state: &OpenedState,
    plan: &ValidPlan,
    wave: &Wave,
) -> miette::Result<()> {
    let Some(block) = state.call(unfinished_before(&*state.store, plan, wave))? else {
        return Ok(());
    };
    Err(miette::miette!(
        help = format!(
            "run `ferry run --wave {}` first (fix its failures, then run it again)",
            block.wave
        ),
        "cannot run wave `{}`: an earlier wave has not finished: {block}",
        wave.name
    ))
}

/// Whether a selected migration ended in `error`: the plan's outcome is the state's, which also
/// holds what the other runners of a fleet did.
fn any_recorded_error(state: &OpenedState, selected: &[&Migration]) -> miette::Result<bool> {
    let records = state.call(state.store.migrations())?;
    Ok(records.iter().any(|record| {
        record.state == MigrationState::Error
            && selected
                .iter()
                .any(|migration| migration.name == record.name)
    }))
}

/// Threads for blocking file system calls: one per transfer of the migrations that run at once (a
/// local copy holds one for the whole file; listings, metadata calls and the target's sync take
/// their turn in between). Tokio's default (512) lets every short burst of calls start threads of
/// its own, each with its own allocator pages: a no-op re-run of 10,000 files peaked at 25 to 35
/// threads (bench/README.md, "Where the memory goes").
fn blocking_threads(options: &RunOptions, migrations: usize) -> usize {
    options
        .parallel
        .min(migrations)
        .max(1)
        .saturating_mul(options.copy.transfers.max(1))
}

/// The run's options from its flags (`--bwlimit` parsed here).
fn run_options(args: &RunArgs) -> miette::Result<RunOptions> {
    let bandwidth_limit = args
        .bwlimit
        .as_deref()
        .map(parse_rate)
        .transpose()
        .map_err(|error| miette::miette!("{error}"))?;
    Ok(RunOptions {
        only: args.only.clone(),
        parallel: usize::from(args.parallel),
        copy: CopyOptions {
            transfers: usize::from(args.transfers),
            verify: args.verify,
            durability: args.durability,
            // One limiter for the whole process: `--bwlimit` is the total of every migration.
            bandwidth_limiter: bandwidth_limit.map(|rate| Arc::new(BandwidthLimiter::new(rate))),
            retry: RetryPolicy::default(),
            existing: existing_data(args.existing),
        },
    })
}

/// What `--adopt-existing` and `--mirror` (which clap keeps apart) ask of target data ferry did not write.
pub(crate) fn existing_data(args: ExistingDataArgs) -> ExistingData {
    match (args.adopt_existing, args.mirror) {
        (true, _) => ExistingData::Adopt,
        (false, true) => ExistingData::Mirror,
        (false, false) => ExistingData::Refuse,
    }
}

/// The plan when it has no errors; its warnings are printed and do not stop it.
pub(crate) fn usable_plan(checked: &CheckedPlan) -> Option<&ValidPlan> {
    if checked.has_errors() {
        return None;
    }
    let plan = checked.plan.as_ref()?;
    if !checked.report.diagnostics.is_empty() {
        run_output::print_plan_diagnostics(&checked.report);
    }
    Some(plan)
}

/// The plan file's text with other diagnostics (state rules, missing secrets) to show in it.
pub(crate) fn with_diagnostics(
    checked: &CheckedPlan,
    diagnostics: Vec<Diagnostic>,
) -> FileDiagnostics {
    let mut file = FileDiagnostics {
        path: checked.report.path.clone(),
        source: checked.report.source.clone(),
        diagnostics,
    };
    file.normalize();
    file
}

/// Prints the diagnostics of a plan the run refuses, writes the `--report-output` file with
/// them, and returns `status`.
fn refuse(args: &RunArgs, file: &FileDiagnostics, status: ExitStatus) -> ExitStatus {
    run_output::print_plan_diagnostics(file);
    write_refusal_report(args, &StartError::of_plan(file));
    status
}

/// Writes the report of a run that did not start to `--report-output`, when asked for: a CI page
/// then shows why. On stdout the diagnostics already say it.
fn write_refusal_report(args: &RunArgs, errors: &[StartError]) {
    let Some(path) = &args.report_output else {
        return;
    };
    let text = run_report::refused::render(errors, args.report_format);
    if let Err(error) = run_report::write_report(&text, Some(path))
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write the report to {}", path.display()))
    {
        crate::report::print_command_error(&error);
    }
}

/// The signal that stopped a run: it decides the exit status (130 or 143).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopSignal {
    Interrupt,
    Terminate,
}

/// The first Ctrl-C or SIGTERM cancels the run (in-flight files stop at a chunk boundary and the
/// state is recorded) and is kept in `stopped_by`; a second one of either exits at once, which
/// the ledger makes safe. CI systems cancel, and Kubernetes stops pods, with SIGTERM.
async fn stop_on_signal(cancel: CancellationToken, stopped_by: Arc<OnceLock<StopSignal>>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return;
    };
    let first = tokio::select! {
        _ = interrupt.recv() => StopSignal::Interrupt,
        _ = terminate.recv() => StopSignal::Terminate,
    };
    let _ = stopped_by.set(first);
    cancel.cancel();
    run_output::print_interrupting();
    let second = tokio::select! {
        _ = interrupt.recv() => StopSignal::Interrupt,
        _ = terminate.recv() => StopSignal::Terminate,
    };
    // Exiting skips every destructor: the hooks' process groups are not stopped otherwise.
    crate::exec::hooks::kill_running_hooks();
    std::process::exit(i32::from(stop_status(second).code(false)));
}

/// The exit status of a run stopped by `signal`.
fn stop_status(signal: StopSignal) -> ExitStatus {
    match signal {
        StopSignal::Interrupt => ExitStatus::Interrupted,
        StopSignal::Terminate => ExitStatus::Terminated,
    }
}

/// Prints the report of the plan's migrations, in plan order.
fn print_report(state: &OpenedState, plan: &ValidPlan, args: &RunArgs) -> miette::Result<()> {
    let records = state.call(state.store.migrations())?;
    let records: Vec<_> = plan
        .migrations
        .iter()
        .filter_map(|migration| records.iter().find(|record| record.name == migration.name))
        .collect();
    let waves = crate::commands::report::wave_rows(state, plan)?;
    let rows = report_rows(state, &records)?;
    let text = run_report::render_with_waves(&rows, &waves, args.report_format);
    run_report::write_report(&text, args.report_output.as_deref())
        .into_diagnostic()
        .wrap_err_with(|| match &args.report_output {
            Some(path) => format!("cannot write the report to {}", path.display()),
            None => "cannot write the report".to_string(),
        })
}
