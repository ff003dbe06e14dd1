//! `ip-changed` and `ip-recorded-elsewhere` against a recorded state.

use std::collections::HashMap;
use std::ops::Range;

use crate::plan::codes::Code;
use crate::plan::yaml::{Locate, Located};
use crate::state::rules::check_recorded_ips;

use super::{ip, temporary_store};

/// Pointers to fixed spans; anything else falls back to the root span.
struct Pointers(HashMap<&'static str, Range<usize>>);

impl Locate for Pointers {
    fn locate(&self, pointer: &str) -> Located {
        Located {
            key: None,
            value: self.0.get(pointer).cloned().unwrap_or(0..0),
        }
    }
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(name, ip)| (name.to_string(), ip.to_string()))
        .collect()
}

#[test]
fn a_changed_ip_and_an_ip_recorded_elsewhere_are_reported_at_the_ip() {
    let (_folder, store) = temporary_store();
    store
        .record_source("web-01", ip("192.0.2.10"), None, None)
        .expect("record");
    store
        .record_source("db/01", ip("192.0.2.20"), None, None)
        .expect("record");
    let locator = Pointers(HashMap::from([
        ("/sources/web-01/ip", 10..20),
        ("/sources/web-02/ip", 30..40),
        ("/sources/db~101/ip", 50..60),
    ]));
    let diagnostics = check_recorded_ips(
        &store,
        &pairs(&[
            ("web-01", "192.0.2.11"),
            ("web-02", "192.0.2.20"),
            ("db/01", "192.0.2.20"),
            ("new", "192.0.2.99"),
            ("broken", "not an ip"),
        ]),
        &locator,
    )
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

#[test]
fn the_same_ip_in_another_spelling_is_not_a_change() {
    let (_folder, store) = temporary_store();
    store
        .record_source("v6", ip("2001:db8::1"), None, None)
        .expect("record");
    let locator = Pointers(HashMap::new());
    let diagnostics =
        check_recorded_ips(&store, &pairs(&[("v6", "2001:DB8:0::1")]), &locator).expect("check");
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
}
