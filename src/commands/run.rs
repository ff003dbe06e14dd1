//! `ferry run`: check the plan, resolve its secrets, record it, run its migrations with resume
//! and Ctrl-C handling, and print the report. Exit 0 all succeeded, 1 any failed or the plan was
//! refused, 130 interrupted, 2 command errors.

use std::sync::Arc;

use miette::{IntoDiagnostic, WrapErr};
use tokio_util::sync::CancellationToken;

use crate::cli::{ExistingDataArgs, RunArgs};
use crate::commands::ExitStatus;
use crate::commands::state::state_error;
use crate::exec::copy::{BandwidthLimiter, CopyOptions, ExistingData, RetryPolicy};
use crate::exec::runner::prepare::{migration_secrets, recorded_ip_diagnostics, select_migrations};
use crate::exec::runner::{RunContext, RunObserver, RunOptions, parse_rate, run_migrations};
use crate::plan::diagnostic::{Diagnostic, FileDiagnostics};
use crate::plan::load::{self, CheckedPlan};
use crate::plan::valid::ValidPlan;
use crate::plan::yaml::Node;
use crate::report::run_output::{self, RunPrinter};
use crate::report::run_report;
use crate::state::Store;

/// Runs `ferry run`.
pub fn run(args: RunArgs) -> miette::Result<ExitStatus> {
    let bandwidth_limit = args
        .bwlimit
        .as_deref()
        .map(parse_rate)
        .transpose()
        .map_err(|error| miette::miette!("{error}"))?;
    let options = RunOptions {
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
    };
    let checked = load::check_file(&args.plan)?;
    let Some((plan, tree)) = usable_plan(&checked) else {
        run_output::print_plan_diagnostics(&checked.report);
        return Ok(ExitStatus::Failure);
    };
    let selected = select_migrations(plan, &options.only).map_err(|unknown| {
        let lines: Vec<String> = unknown.iter().map(ToString::to_string).collect();
        miette::miette!("{}", lines.join("\n"))
    })?;
    let refused = |diagnostics: Vec<Diagnostic>| {
        run_output::print_plan_diagnostics(&with_diagnostics(&checked, diagnostics));
        Ok(ExitStatus::Failure)
    };
    // Before the state is opened: a run refused for missing secrets leaves no trace.
    let secrets = match migration_secrets(plan, &selected, tree) {
        Ok(secrets) => secrets,
        Err(missing) => return refused(missing),
    };
    let store = Store::open(&args.state.path).map_err(state_error)?;
    run_output::print_recovered(&store.recover_stale_running().map_err(state_error)?);
    let ip_diagnostics = recorded_ip_diagnostics(plan, &store, tree).map_err(state_error)?;
    if !ip_diagnostics.is_empty() {
        return refused(ip_diagnostics);
    }
    store.record_plan(plan).map_err(state_error)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .into_diagnostic()?;
    let printer = Arc::new(RunPrinter::default());
    let observer: RunObserver = {
        let printer = Arc::clone(&printer);
        Arc::new(move |event| printer.event(event))
    };
    let cancel = CancellationToken::new();
    let summary = runtime.block_on(async {
        let signals = tokio::spawn(interrupt_on_ctrl_c(cancel.clone()));
        let context = RunContext {
            plan,
            store: &store,
            secrets: &secrets,
            options: &options,
            observer,
            cancel: &cancel,
        };
        let summary = run_migrations(&context, &selected).await;
        signals.abort();
        summary
    });
    runtime.shutdown_background();
    printer.finish();

    print_report(&store, plan, &args)?;
    Ok(if summary.interrupted {
        ExitStatus::Interrupted
    } else if summary.any_failed() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
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

/// The plan and its YAML tree when it has no errors; its warnings are printed and do not stop it.
pub(crate) fn usable_plan(checked: &CheckedPlan) -> Option<(&ValidPlan, &Node)> {
    if checked.has_errors() {
        return None;
    }
    let (plan, tree) = (checked.plan.as_ref()?, checked.tree.as_ref()?);
    if !checked.report.diagnostics.is_empty() {
        run_output::print_plan_diagnostics(&checked.report);
    }
    Some((plan, tree))
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

/// The first Ctrl-C cancels the run (in-flight files stop at a chunk boundary and the state is
/// recorded); a second one exits at once, which the ledger makes safe.
async fn interrupt_on_ctrl_c(cancel: CancellationToken) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    cancel.cancel();
    run_output::print_interrupting();
    if tokio::signal::ctrl_c().await.is_ok() {
        std::process::exit(130);
    }
}

/// Prints the report of the plan's migrations, in plan order.
fn print_report(store: &Store, plan: &ValidPlan, args: &RunArgs) -> miette::Result<()> {
    let records = store.migrations().map_err(state_error)?;
    let rows: Vec<_> = plan
        .migrations
        .iter()
        .filter_map(|migration| records.iter().find(|record| record.name == migration.name))
        .map(run_report::MigrationRow::from_record)
        .collect();
    let text = run_report::render(&rows, args.report_format);
    run_report::write_report(&text, args.report_output.as_deref())
        .into_diagnostic()
        .wrap_err_with(|| match &args.report_output {
            Some(path) => format!("cannot write the report to {}", path.display()),
            None => "cannot write the report".to_string(),
        })
}
