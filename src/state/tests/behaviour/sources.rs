//! Sources keep their IP; targets can change; deletion rules.

use crate::plan::valid::{Cloud, OsFamily};
use crate::state::StateError;

use super::{Factory, behaviour, ip};

behaviour!(
    a_recorded_ip_cannot_change_but_other_fields_can,
    delete_then_record_again_with_a_new_ip_is_allowed,
    an_ip_recorded_for_another_source_is_refused,
    ips_are_compared_in_canonical_form,
    a_source_used_by_a_migration_is_deleted_only_with_cascade,
    targets_update_and_delete,
);

async fn a_recorded_ip_cannot_change_but_other_fields_can(factory: &Factory) {
    let state = factory.open().await;
    let store = &state.store;
    let windows = Some(OsFamily::Windows);
    let first = store
        .record_source("web-01", ip("192.0.2.10"), windows, Some("admin"))
        .await
        .expect("first");
    let again = store
        .record_source("web-01", ip("192.0.2.10"), windows, Some("operator"))
        .await
        .expect("same IP again");
    assert_eq!(again.username.as_deref(), Some("operator"));
    assert_eq!(again.recorded_at, first.recorded_at);

    let error = store
        .record_source("web-01", ip("192.0.2.99"), windows, Some("admin"))
        .await
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
    assert_eq!(
        store.source("web-01").await.expect("still").ip,
        "192.0.2.10"
    );
}

async fn delete_then_record_again_with_a_new_ip_is_allowed(factory: &Factory) {
    let state = factory.open().await;
    let store = &state.store;
    store
        .record_source("web-01", ip("192.0.2.10"), None, None)
        .await
        .expect("record");
    assert_eq!(
        store.delete_source("web-01", false).await.expect("delete"),
        Vec::<String>::new()
    );
    assert!(store.find_source("web-01").await.expect("read").is_none());
    let record = store
        .record_source("web-01", ip("192.0.2.99"), None, None)
        .await
        .expect("re-add");
    assert_eq!(record.ip, "192.0.2.99");
}

async fn an_ip_recorded_for_another_source_is_refused(factory: &Factory) {
    let state = factory.open().await;
    let store = &state.store;
    store
        .record_source("web-01", ip("192.0.2.10"), None, None)
        .await
        .expect("record");
    let error = store
        .record_source("web-02", ip("192.0.2.10"), None, None)
        .await
        .expect_err("duplicate");
    assert!(
        matches!(&error, StateError::IpRecordedElsewhere { other, .. } if other == "web-01"),
        "{error}"
    );
    assert!(store.find_source("web-02").await.expect("read").is_none());
}

async fn ips_are_compared_in_canonical_form(factory: &Factory) {
    let state = factory.open().await;
    let store = &state.store;
    store
        .record_source("db", ip("2001:db8:0:0:0:0:0:1"), None, None)
        .await
        .expect("record");
    store
        .record_source("db", ip("2001:db8::1"), None, None)
        .await
        .expect("same address, other spelling");
    assert_eq!(store.source("db").await.expect("read").ip, "2001:db8::1");
}

async fn a_source_used_by_a_migration_is_deleted_only_with_cascade(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    let error = store
        .delete_source("web-01", false)
        .await
        .expect_err("in use");
    assert!(
        matches!(&error, StateError::InUse { migrations, .. } if migrations == &["web-01".to_string()]),
        "{error}"
    );
    assert!(
        store
            .find_migration("web-01")
            .await
            .expect("read")
            .is_some()
    );
    let removed = store.delete_source("web-01", true).await.expect("cascade");
    assert_eq!(removed, vec!["web-01".to_string()]);
    assert!(
        store
            .find_migration("web-01")
            .await
            .expect("read")
            .is_none()
    );
    assert!(store.find_source("web-01").await.expect("read").is_none());
}

async fn targets_update_and_delete(factory: &Factory) {
    let state = factory.with_migration().await;
    let store = &state.store;
    let updated = store
        .record_target(
            "aws-web",
            Cloud::Azure,
            ip("198.51.100.6"),
            None,
            Some("azureuser"),
        )
        .await
        .expect("update");
    assert_eq!(updated.cloud, Cloud::Azure);
    assert_eq!(updated.vm_ip, "198.51.100.6");
    assert!(matches!(
        store.delete_target("aws-web", false).await,
        Err(StateError::InUse { .. })
    ));
    store.delete_target("aws-web", true).await.expect("cascade");
    assert!(matches!(
        store.target("aws-web").await,
        Err(StateError::NotFound { kind: "target", .. })
    ));
    assert!(matches!(
        store.delete_target("aws-web", false).await,
        Err(StateError::NotFound { .. })
    ));
}
