//! A wave's counts: every state, names the state does not know, and failures since an instant.

use crate::state::{MigrationFailure, MigrationState, WaveCounts};

use super::{Factory, behaviour};

behaviour!(a_wave_is_counted_by_state_and_failures_since_an_instant);

async fn a_wave_is_counted_by_state_and_failures_since_an_instant(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    state.define_more(&["web-02", "web-03", "web-04"]).await;
    let failure = MigrationFailure {
        message: "the source path does not exist".to_string(),
        retryable: false,
    };
    let fail = |name: &'static str| {
        let failure = failure.clone();
        async move {
            store
                .set_migration_state(name, MigrationState::Running, None)
                .await
                .expect("running");
            store
                .set_migration_state(name, MigrationState::Error, Some(&failure))
                .await
                .expect("error");
        }
    };
    fail("web-01").await;
    // Started strictly later than web-01's attempt, whatever the clock's resolution.
    let since = store.migration("web-01").await.expect("read").started_at;
    let since = since.map(|at| at + jiff::SignedDuration::from_millis(1));
    std::thread::sleep(std::time::Duration::from_millis(5));
    fail("web-02").await;
    store
        .set_migration_state("web-03", MigrationState::Running, None)
        .await
        .expect("running");

    let wave: Vec<String> = ["web-01", "web-02", "web-03", "web-04", "not-recorded"]
        .map(String::from)
        .to_vec();
    let counts = store.wave_counts(&wave, since).await.expect("counts");
    assert_eq!(
        counts,
        WaveCounts {
            not_started: 2,
            running: 1,
            error: 2,
            success: 0,
            failed_since: 1,
        }
    );
    assert!(!counts.all_ended());
    let every_failure = store.wave_counts(&wave, None).await.expect("counts");
    assert_eq!(every_failure.failed_since, 2);
    let other = store
        .wave_counts(&["web-04".to_string()], since)
        .await
        .expect("counts");
    assert_eq!(other.not_started, 1);
    assert_eq!(
        store.wave_counts(&[], None).await.expect("empty"),
        WaveCounts::default()
    );
}
