//! The claims history: every claim recorded with its runner, host and pid, ended with how the
//! migration stood, or `lost` when taken over; claims on one migration never overlap.

use jiff::Timestamp;

use crate::plan::valid::HookPhase;
use crate::state::{HookRunOutcome, HookRunRecord, ImportMode, MigrationState, StateError};

use super::{Factory, behaviour};

behaviour!(
    claims_are_recorded_and_ended_with_how_the_migration_stands,
    a_taken_over_claim_ends_lost_before_the_next_one_starts,
    export_and_import_carry_the_claims_that_ended,
    many_migrations_histories_are_read_at_once,
);

async fn claims_are_recorded_and_ended_with_how_the_migration_stands(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    assert!(store.claims("web-01").await.expect("none yet").is_empty());
    let guard = store
        .acquire_lock("web-01", "ops@build-7:4242")
        .await
        .expect("claim");
    let held = store.claims("web-01").await.expect("claims");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].runner, "ops@build-7:4242");
    assert_eq!(held[0].pid, std::process::id());
    assert_eq!((held[0].ended_at, held[0].outcome.as_deref()), (None, None));
    store
        .set_migration_state("web-01", MigrationState::Running, None)
        .await
        .expect("running");
    store
        .finish_migration("web-01", &Default::default(), &[], &[])
        .await
        .expect("success");
    guard.release().await.expect("release");
    let failed = store.acquire_lock("web-01", "second").await.expect("again");
    store
        .set_migration_state("web-01", MigrationState::Error, None)
        .await
        .expect("error");
    drop(failed);
    let claims = store.claims("web-01").await.expect("claims");
    let outcomes: Vec<Option<&str>> = claims.iter().map(|c| c.outcome.as_deref()).collect();
    assert_eq!(outcomes, [Some("success"), Some("error")]);
    let first_end = claims[0].ended_at.expect("ended");
    assert!(first_end >= claims[0].started_at);
    assert!(claims[1].started_at >= first_end, "{claims:?}");
}

async fn a_taken_over_claim_ends_lost_before_the_next_one_starts(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    let old = Timestamp::now() - jiff::SignedDuration::from_secs(600);
    // A claim of another host whose lease ran out long ago.
    state.insert_lock("elsewhere.invalid", 1, old).await;
    let guard = store
        .acquire_lock("web-01", "ferry run")
        .await
        .expect("takeover");
    assert!(guard.taken_over().is_some());
    let claims = store.claims("web-01").await.expect("claims");
    let (live, before) = claims.split_last().expect("the new claim");
    assert_eq!((live.runner.as_str(), live.ended_at), ("ferry run", None));
    for claim in before {
        assert_eq!(claim.outcome.as_deref(), Some("lost"), "{claim:?}");
        assert!(claim.ended_at.expect("ended") <= live.started_at);
    }
}

async fn export_and_import_carry_the_claims_that_ended(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    let ended = store
        .acquire_lock("web-01", "ops@build-7:1")
        .await
        .expect("claim");
    store
        .set_migration_state("web-01", MigrationState::Error, None)
        .await
        .expect("error");
    ended.release().await.expect("release");
    let live = store
        .acquire_lock("web-01", "ops@build-7:2")
        .await
        .expect("claim");
    let export = store.export().await.expect("export");
    drop(live);
    let claims = &export.migrations[0].claims;
    assert_eq!(claims.len(), 1, "only the claim that ended: {claims:?}");
    assert_eq!(
        (claims[0].runner.as_str(), claims[0].outcome.as_deref()),
        ("ops@build-7:1", Some("error"))
    );
    let text = serde_json::to_string(&export).expect("serialise");
    let mut export: crate::state::StateExport = serde_json::from_str(&text).expect("parse");

    let other = factory.open().await;
    other
        .store
        .import(&export, ImportMode::Replace)
        .await
        .expect("import");
    assert_eq!(other.store.claims("web-01").await.expect("read"), *claims);
    // Importing again replaces them: no claim is doubled.
    other
        .store
        .import(&export, ImportMode::Merge)
        .await
        .expect("import again");
    assert_eq!(other.store.claims("web-01").await.expect("read"), *claims);
    // A claim without an end is a running process's, never history: refused.
    export.migrations[0].claims[0].ended_at = None;
    export.migrations[0].claims[0].outcome = None;
    let refused = other.store.import(&export, ImportMode::Replace).await;
    assert!(
        matches!(&refused, Err(StateError::ImportInvalid { reason }) if reason.contains("without an end")),
        "{refused:?}"
    );
}

/// `claims_of` and `hook_runs_of` (the report's two reads) give each asked migration its own
/// history, in order, and nothing of a migration that was not asked for.
async fn many_migrations_histories_are_read_at_once(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    state.define_more(&["db-01", "app-01"]).await;
    for (name, runners) in [
        ("web-01", ["a", "b"]),
        ("db-01", ["c", "d"]),
        ("app-01", ["e", "f"]),
    ] {
        for runner in runners {
            let guard = store.acquire_lock(name, runner).await.expect("claim");
            let hook_run = HookRunRecord {
                attempt: 1,
                phase: HookPhase::Before,
                command: format!("echo {runner}"),
                outcome: HookRunOutcome::Succeeded,
                exit_code: Some(0),
                duration_ms: 1,
                tail: String::new(),
                started_at: "2026-01-02T03:04:05Z".parse::<Timestamp>().expect("time"),
            };
            store.record_hook_run(name, &hook_run).await.expect("hook");
            guard.release().await.expect("release");
        }
    }
    let asked = [
        "web-01".to_string(),
        "db-01".to_string(),
        "unknown".to_string(),
    ];
    let claims = store.claims_of(&asked).await.expect("claims");
    let hooks = store.hook_runs_of(&asked).await.expect("hook runs");
    for (name, runners) in [("web-01", ["a", "b"]), ("db-01", ["c", "d"])] {
        let claimed: Vec<&str> = claims[name].iter().map(|c| c.runner.as_str()).collect();
        assert_eq!(claimed, runners, "{name}");
        let commands: Vec<String> = hooks[name].iter().map(|h| h.command.clone()).collect();
        assert_eq!(commands, runners.map(|r| format!("echo {r}")), "{name}");
    }
    let mut keys: Vec<&String> = claims.keys().chain(hooks.keys()).collect();
    keys.sort();
    assert_eq!(keys, ["db-01", "db-01", "web-01", "web-01"]);
    assert!(store.claims_of(&[]).await.expect("none asked").is_empty());
}
