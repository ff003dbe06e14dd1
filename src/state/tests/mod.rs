//! Tests of the state store: the behaviour suite every backend passes (`behaviour`), and what is
//! particular to SQLite files in temporary folders (`open`, `sqlite_only`).

mod behaviour;
mod open;
mod sqlite_only;

use std::net::IpAddr;

use crate::plan::valid::{Cloud, OsFamily};
use crate::state::{MigrationDefinition, Store};

/// A store in a fresh temporary folder (kept alive by the returned guard).
pub(super) fn temporary_store() -> (tempfile::TempDir, Store) {
    let folder = tempfile::tempdir().expect("temporary folder");
    let store = Store::open(&folder.path().join(".ferry/state.db")).expect("open store");
    (folder, store)
}

pub(super) fn ip(text: &str) -> IpAddr {
    text.parse().expect("test IP")
}

/// Records source `web-01` (192.0.2.10), target `aws-web` and migration `web-01`.
pub(super) fn store_with_migration() -> (tempfile::TempDir, Store) {
    let (folder, store) = temporary_store();
    store
        .record_source(
            "web-01",
            ip("192.0.2.10"),
            Some(OsFamily::Windows),
            Some("administrator"),
        )
        .expect("source");
    store
        .record_target(
            "aws-web",
            Cloud::Aws,
            ip("198.51.100.5"),
            Some(OsFamily::Windows),
            Some("admin"),
        )
        .expect("target");
    store
        .define_migration(&MigrationDefinition {
            name: "web-01".to_string(),
            source: "web-01".to_string(),
            target: "aws-web".to_string(),
            cloud: Cloud::Aws,
            mounts: vec!["C:\\".to_string(), "D:\\".to_string()],
        })
        .expect("migration");
    (folder, store)
}
