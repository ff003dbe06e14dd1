//! What only the SQLite file shows: the database's own constraints, seen through SQL. The
//! behaviour every backend shares is in `behaviour`.

use crate::state::MigrationState;

use super::{ip, store_with_migration, temporary_store};

#[test]
fn states_round_trip_as_text() {
    for state in MigrationState::ALL {
        assert_eq!(state.as_str().parse::<MigrationState>().ok(), Some(state));
        let json = serde_json::to_string(&state).expect("json");
        assert_eq!(json, format!("\"{}\"", state.as_str()));
    }
    assert!("done".parse::<MigrationState>().is_err());
}

#[test]
fn the_database_refuses_an_unknown_state() {
    let (_folder, store) = store_with_migration();
    let error = store
        .connection()
        .execute(
            "UPDATE migrations SET state = 'paused' WHERE name = 'web-01'",
            [],
        )
        .expect_err("CHECK constraint");
    assert!(error.to_string().contains("CHECK"), "{error}");
    assert_eq!(
        store.migration("web-01").expect("read").state,
        MigrationState::NotStarted
    );
}

#[test]
fn the_database_itself_refuses_an_ip_update() {
    let (_folder, store) = temporary_store();
    store
        .record_source("web-01", ip("192.0.2.10"), None, None)
        .expect("record");
    let result = store.connection().execute(
        "UPDATE sources SET ip = '192.0.2.11' WHERE name = 'web-01'",
        [],
    );
    let error = result.expect_err("trigger refuses");
    assert!(error.to_string().contains("never changes"), "{error}");
}
