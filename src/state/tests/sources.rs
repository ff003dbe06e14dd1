//! Sources keep their IP; targets can change; deletion rules.

use crate::plan::valid::{Cloud, OsFamily};
use crate::state::StateError;

use super::{ip, store_with_migration, temporary_store};

#[test]
fn a_recorded_ip_cannot_change_but_other_fields_can() {
    let (_folder, store) = temporary_store();
    let first = store
        .record_source(
            "web-01",
            ip("192.0.2.10"),
            Some(OsFamily::Windows),
            Some("admin"),
        )
        .expect("first");
    let again = store
        .record_source(
            "web-01",
            ip("192.0.2.10"),
            Some(OsFamily::Windows),
            Some("operator"),
        )
        .expect("same IP again");
    assert_eq!(again.username.as_deref(), Some("operator"));
    assert_eq!(again.recorded_at, first.recorded_at);

    let error = store
        .record_source(
            "web-01",
            ip("192.0.2.99"),
            Some(OsFamily::Windows),
            Some("admin"),
        )
        .expect_err("changed IP");
    match &error {
        StateError::IpImmutable {
            name,
            recorded,
            requested,
            recorded_at,
        } => {
            assert_eq!(name, "web-01");
            assert_eq!(recorded, "192.0.2.10");
            assert_eq!(requested, "192.0.2.99");
            assert_eq!(*recorded_at, first.recorded_at);
        }
        other => panic!("unexpected {other}"),
    }
    assert!(error.to_string().contains("ferry state rm source web-01"));
    assert_eq!(store.source("web-01").expect("still").ip, "192.0.2.10");
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

#[test]
fn delete_then_record_again_with_a_new_ip_is_allowed() {
    let (_folder, store) = temporary_store();
    store
        .record_source("web-01", ip("192.0.2.10"), None, None)
        .expect("record");
    assert_eq!(
        store.delete_source("web-01", false).expect("delete"),
        Vec::<String>::new()
    );
    assert!(store.find_source("web-01").expect("read").is_none());
    let record = store
        .record_source("web-01", ip("192.0.2.99"), None, None)
        .expect("re-add");
    assert_eq!(record.ip, "192.0.2.99");
}

#[test]
fn an_ip_recorded_for_another_source_is_refused() {
    let (_folder, store) = temporary_store();
    store
        .record_source("web-01", ip("192.0.2.10"), None, None)
        .expect("record");
    let error = store
        .record_source("web-02", ip("192.0.2.10"), None, None)
        .expect_err("duplicate");
    assert!(
        matches!(&error, StateError::IpRecordedElsewhere { other, .. } if other == "web-01"),
        "{error}"
    );
    assert!(store.find_source("web-02").expect("read").is_none());
}

#[test]
fn ips_are_compared_in_canonical_form() {
    let (_folder, store) = temporary_store();
    store
        .record_source("db", ip("2001:db8:0:0:0:0:0:1"), None, None)
        .expect("record");
    store
        .record_source("db", ip("2001:db8::1"), None, None)
        .expect("same address, other spelling");
    assert_eq!(store.source("db").expect("read").ip, "2001:db8::1");
}

#[test]
fn a_source_used_by_a_migration_is_deleted_only_with_cascade() {
    let (_folder, store) = store_with_migration();
    let error = store.delete_source("web-01", false).expect_err("in use");
    assert!(
        matches!(&error, StateError::InUse { migrations, .. } if migrations == &["web-01".to_string()]),
        "{error}"
    );
    assert!(store.find_migration("web-01").expect("read").is_some());
    let removed = store.delete_source("web-01", true).expect("cascade");
    assert_eq!(removed, vec!["web-01".to_string()]);
    assert!(store.find_migration("web-01").expect("read").is_none());
    assert!(store.find_source("web-01").expect("read").is_none());
}

#[test]
fn targets_update_and_delete() {
    let (_folder, store) = store_with_migration();
    let updated = store
        .record_target(
            "aws-web",
            Cloud::Azure,
            ip("198.51.100.6"),
            None,
            Some("azureuser"),
        )
        .expect("update");
    assert_eq!(updated.cloud, Cloud::Azure);
    assert_eq!(updated.vm_ip, "198.51.100.6");
    assert!(matches!(
        store.delete_target("aws-web", false),
        Err(StateError::InUse { .. })
    ));
    store.delete_target("aws-web", true).expect("cascade");
    assert!(matches!(
        store.target("aws-web"),
        Err(StateError::NotFound { kind: "target", .. })
    ));
    assert!(matches!(
        store.delete_target("aws-web", false),
        Err(StateError::NotFound { .. })
    ));
}
