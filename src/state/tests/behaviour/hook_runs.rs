//! Hook runs: recorded in order with their outcome, refused for an unknown migration, deleted
//! with their migration, and carried by export and import.

use jiff::Timestamp;

use crate::plan::valid::HookPhase;
use crate::state::{HookRunOutcome, HookRunRecord, ImportMode, MigrationState, StateError};

use super::{Factory, behaviour};

behaviour!(
    hook_runs_are_kept_in_the_order_they_ran,
    a_hook_run_of_an_unknown_migration_is_refused,
    hook_runs_go_with_their_migration,
    export_and_import_carry_hook_runs,
);

fn run(phase: HookPhase, outcome: HookRunOutcome, exit_code: Option<i32>) -> HookRunRecord {
    HookRunRecord {
        attempt: 1,
        phase,
        command: "systemctl stop app --token ***".to_string(),
        outcome,
        exit_code,
        duration_ms: 1234,
        tail: "stopping\nstopped ✓\n".to_string(),
        // Whole microseconds: PostgreSQL keeps no more.
        started_at: "2026-01-02T03:04:05.123456Z"
            .parse::<Timestamp>()
            .expect("time"),
    }
}

fn runs() -> Vec<HookRunRecord> {
    vec![
        run(HookPhase::Before, HookRunOutcome::Succeeded, Some(0)),
        run(HookPhase::After, HookRunOutcome::Failed, Some(3)),
        run(HookPhase::OnFailure, HookRunOutcome::TimedOut, None),
    ]
}

async fn hook_runs_are_kept_in_the_order_they_ran(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    assert!(store.hook_runs("web-01").await.expect("none").is_empty());
    store
        .set_migration_state("web-01", MigrationState::Running, None)
        .await
        .expect("running");
    for hook_run in runs() {
        store
            .record_hook_run("web-01", &hook_run)
            .await
            .expect("record");
    }
    assert_eq!(store.hook_runs("web-01").await.expect("read"), runs());
    assert_eq!(
        state
            .reopen()
            .await
            .hook_runs("web-01")
            .await
            .expect("read"),
        runs()
    );
}

async fn a_hook_run_of_an_unknown_migration_is_refused(factory: &Factory) {
    let state = factory.with_migration().await;
    let error = state
        .store
        .record_hook_run("nope", &runs()[0])
        .await
        .expect_err("unknown");
    assert!(matches!(error, StateError::NotFound { .. }), "{error:?}");
}

async fn hook_runs_go_with_their_migration(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    store
        .record_hook_run("web-01", &runs()[0])
        .await
        .expect("record");
    store.delete_migration("web-01").await.expect("delete");
    assert!(store.hook_runs("web-01").await.expect("read").is_empty());
    // A migration recorded again under the name starts with none.
    store
        .define_migration(&crate::state::MigrationDefinition {
            name: "web-01".to_string(),
            source: "web-01".to_string(),
            target: "aws-web".to_string(),
            cloud: crate::plan::valid::Cloud::Aws,
            mounts: vec!["C:\\".to_string()],
        })
        .await
        .expect("define again");
    assert!(store.hook_runs("web-01").await.expect("read").is_empty());
}

async fn export_and_import_carry_hook_runs(factory: &Factory) {
    let state = factory.with_migration().await;
    for hook_run in runs() {
        state
            .store
            .record_hook_run("web-01", &hook_run)
            .await
            .expect("record");
    }
    let export = state.store.export().await.expect("export");
    assert_eq!(export.migrations[0].hook_runs, runs());
    let text = serde_json::to_string(&export).expect("serialise");
    let export = serde_json::from_str(&text).expect("parse back");

    let other = factory.open().await;
    other
        .store
        .import(&export, ImportMode::Replace)
        .await
        .expect("import");
    assert_eq!(other.store.hook_runs("web-01").await.expect("read"), runs());
    // Importing again replaces them: no run is doubled.
    other
        .store
        .import(&export, ImportMode::Merge)
        .await
        .expect("import again");
    assert_eq!(other.store.hook_runs("web-01").await.expect("read"), runs());
}
