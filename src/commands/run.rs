//! `ferry run`: check the plan, resolve its secrets, record it, run its migrations with resume
//! and Ctrl-C/SIGTERM handling, and print the report (or, for a run that never started, why).
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
use crate::exec::runner::{RunContext, RunObserver, RunOptions, parse_rate, run_migrations};
use crate::plan::diagnostic::{Diagnostic, FileDiagnostics};
use crate::plan::load::{self, CheckedPlan};
use crate::plan::valid::ValidPlan;
use crate::report::run_output::{self, RunPrinter};
use crate::report::run_report;
use crate::report::run_report::refused::StartError;
use crate::state::OpenMode;
use crate::state::rules::recorded_ip_diagnostics;

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
    refuse_runbook(plan)?;
    let selected = select_migrations(plan, &options.only).map_err(|unknown| {
        let lines: Vec<String> = unknown.iter().map(ToString::to_string).collect();
        miette::miette!("{}", lines.join("\n"))
    })?;
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
    *started = true;

    let printer = Arc::new(RunPrinter::default());
    let observer: RunObserver = {
        let printer = Arc::clone(&printer);
        Arc::new(move |event| printer.event(event))
    };
    let cancel = CancellationToken::new();
    let stopped_by = Arc::new(OnceLock::new());
    let summary = state.runtime().block_on(async {
        let signals = tokio::spawn(stop_on_signal(cancel.clone(), Arc::clone(&stopped_by)));
        let context = RunContext {
            plan,
            backend: store,
            secrets: &secrets,
            options: &options,
            observer,
            cancel: &cancel,
        };
        let summary = run_migrations(&context, &selected).await;
        signals.abort();
        summary
    });
    printer.finish();

    print_report(&state, plan, args)?;
    Ok(if summary.interrupted {
        stop_status(stopped_by.get().copied().unwrap_or(StopSignal::Interrupt))
    } else if summary.any_failed() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
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

/// Waves are checked but not yet run: running such a plan would skip its failure thresholds, so
/// the run refuses it, before anything is touched.
fn refuse_runbook(plan: &ValidPlan) -> miette::Result<()> {
    if plan.waves.is_empty() {
        return Ok(());
    }
    Err(miette::miette!(
        help = "remove `waves` and each migration's `wave` to run the plan without them, or run \
                each wave's migrations with `--only`",
        "this plan has waves: `ferry check` validates them, but this ferry does not run them yet, \
         and running the plan without them would skip its failure thresholds"
    ))
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
    let rows = report_rows(state, &records)?;
    let text = run_report::render(&rows, args.report_format);
    run_report::write_report(&text, args.report_output.as_deref())
        .into_diagnostic()
        .wrap_err_with(|| match &args.report_output {
            Some(path) => format!("cannot write the report to {}", path.display()),
            None => "cannot write the report".to_string(),
        })
}
