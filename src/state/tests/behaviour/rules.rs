//! `ip-changed` and `ip-recorded-elsewhere` against a recorded state.

use std::ops::Range;

use crate::plan::codes::Code;
use crate::plan::valid::PlannedIp;
use crate::state::rules::check_recorded_ips;

use super::{Factory, behaviour, ip};

behaviour!(
    a_changed_ip_and_an_ip_recorded_elsewhere_are_reported_at_the_ip,
    the_same_ip_in_another_spelling_is_not_a_change,
);

/// The plan's sources: name, IP as written, and where it is written.
fn planned(items: &[(&str, &str, Range<usize>)]) -> Vec<PlannedIp> {
    items
        .iter()
        .map(|(name, ip, span)| PlannedIp {
            source: name.to_string(),
            ip: ip.to_string(),
            span: span.clone(),
        })
        .collect()
}

async fn a_changed_ip_and_an_ip_recorded_elsewhere_are_reported_at_the_ip(factory: &Factory) {
    let state = factory.open().await;
    let store = &*state.store;
    store
        .record_source("web-01", ip("192.0.2.10"), None, None)
        .await
        .expect("record");
    store
        .record_source("db/01", ip("192.0.2.20"), None, None)
        .await
        .expect("record");
    let diagnostics = check_recorded_ips(
        store,
        &planned(&[
            ("web-01", "192.0.2.11", 10..20),
            ("web-02", "192.0.2.20", 30..40),
            ("db/01", "192.0.2.20", 50..60),
            ("new", "192.0.2.99", 70..80),
            ("broken", "not an ip", 90..100),
        ]),
    )
    .await
    .expect("check");
    assert_eq!(diagnostics.len(), 2, "{diagnostics:#?}");

    let changed = &diagnostics[0];
    assert_eq!(changed.code, Code::IpChanged);
    assert_eq!(changed.primary_span(), Some(10..20));
    assert!(
        changed.message.contains("192.0.2.10"),
        "{}",
        changed.message
    );
    assert!(changed.message.contains("since "), "{}", changed.message);
    assert!(
        changed
            .help
            .as_deref()
            .is_some_and(|help| help.contains("ferry state rm source web-01")),
        "{:?}",
        changed.help
    );

    let elsewhere = &diagnostics[1];
    assert_eq!(elsewhere.code, Code::IpRecordedElsewhere);
    assert_eq!(elsewhere.primary_span(), Some(30..40));
    assert!(
        elsewhere.message.contains("`db/01`"),
        "{}",
        elsewhere.message
    );
}

async fn the_same_ip_in_another_spelling_is_not_a_change(factory: &Factory) {
    let state = factory.open().await;
    let store = &*state.store;
    store
        .record_source("v6", ip("2001:db8::1"), None, None)
        .await
        .expect("record");
    let diagnostics = check_recorded_ips(store, &planned(&[("v6", "2001:DB8:0::1", 0..0)]))
        .await
        .expect("check");
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
}
