//! Snapshots of `ferry state list` and `show` output on fixed records.

use jiff::Timestamp;

use crate::plan::valid::{Cloud, OsFamily};
use crate::report::state_view::{
    MigrationView, StateListing, render_listing, render_migration, render_source,
};
use crate::state::{
    ClaimRecord, LockInfo, MigrationRecord, MigrationState, MigrationStats, SourceRecord,
    StorageRecord, TargetRecord,
};

fn at(text: &str) -> Timestamp {
    text.parse().expect("test timestamp")
}

fn sources() -> Vec<SourceRecord> {
    vec![
        SourceRecord {
            name: "db-01".to_string(),
            ip: "2001:db8::20".to_string(),
            os: Some(OsFamily::Linux),
            username: Some("root".to_string()),
            recorded_at: at("2025-02-01T08:00:00Z"),
            updated_at: at("2025-03-01T08:00:00Z"),
        },
        SourceRecord {
            name: "web-01".to_string(),
            ip: "192.0.2.10".to_string(),
            os: Some(OsFamily::Windows),
            username: Some("administrator".to_string()),
            recorded_at: at("2025-02-01T08:00:00Z"),
            updated_at: at("2025-02-01T08:00:00Z"),
        },
    ]
}

fn targets() -> Vec<TargetRecord> {
    vec![TargetRecord {
        name: "aws-web".to_string(),
        cloud: Cloud::Aws,
        vm_ip: "198.51.100.5".to_string(),
        vm_os: Some(OsFamily::Windows),
        vm_username: None,
        recorded_at: at("2025-02-01T08:00:00Z"),
        updated_at: at("2025-02-01T08:00:00Z"),
    }]
}

fn migrations() -> Vec<MigrationRecord> {
    vec![MigrationRecord {
        name: "web-01".to_string(),
        source: "web-01".to_string(),
        target: "aws-web".to_string(),
        cloud: Cloud::Aws,
        mounts: vec!["C:\\".to_string(), "D:\\".to_string()],
        state: MigrationState::Error,
        attempts: 2,
        last_error: Some("interrupted: ferry was stopped while this migration ran".to_string()),
        error_retryable: Some(true),
        started_at: Some(at("2025-03-01T10:00:00Z")),
        finished_at: Some(at("2025-03-01T10:07:30Z")),
        stats: MigrationStats {
            files: 120,
            bytes: 5 << 30,
            skipped_files: 20,
            skipped_bytes: 1 << 30,
        },
        vanished: Vec::new(),
        created_at: at("2025-02-01T08:00:00Z"),
        updated_at: at("2025-03-01T10:07:30Z"),
    }]
}

#[test]
fn state_list_snapshot() {
    let (sources, targets, migrations) = (sources(), targets(), migrations());
    insta::assert_snapshot!(render_listing(&StateListing {
        sources: Some(&sources),
        targets: Some(&targets),
        migrations: Some(&migrations),
    }));
}

#[test]
fn state_list_of_one_empty_kind() {
    let listing = render_listing(&StateListing {
        migrations: Some(&[]),
        ..StateListing::default()
    });
    assert_eq!(listing, "Migrations (0)\n  (none)\n");
}

#[test]
fn show_snapshots() {
    let migrations = migrations();
    let storage = [StorageRecord {
        mount: "C:\\".to_string(),
        size: 40 << 30,
    }];
    let lock = LockInfo {
        migration: "web-01".to_string(),
        owner: "ferry run plan.yaml".to_string(),
        host: "build-7".to_string(),
        pid: 4242,
        heartbeat_at: at("2025-03-01T10:07:00Z"),
        acquired_at: at("2025-03-01T10:00:00Z"),
    };
    let claims = [
        ClaimRecord {
            runner: "ferry run (ops)".to_string(),
            host: "build-6".to_string(),
            pid: 4100,
            started_at: at("2025-03-01T09:00:00Z"),
            ended_at: Some(at("2025-03-01T09:30:00Z")),
            outcome: Some("lost".to_string()),
        },
        ClaimRecord {
            runner: "ferry run plan.yaml".to_string(),
            host: "build-7".to_string(),
            pid: 4242,
            started_at: at("2025-03-01T10:00:00Z"),
            ended_at: None,
            outcome: None,
        },
    ];
    let migration = render_migration(&MigrationView {
        record: &migrations[0],
        storage: &storage,
        recorded_files: 100,
        partial_copies: 1,
        lock: Some(&lock),
        claims: &claims,
        hooks: &[],
    });
    let source = render_source(&sources()[1], &["web-01".to_string()]);
    insta::assert_snapshot!(format!("{source}\n{migration}"));
}

#[test]
fn show_lists_hook_runs_with_their_last_lines_escaped() {
    use crate::plan::valid::HookPhase;
    use crate::report::state_view::render_migration_json;
    use crate::state::{HookRunOutcome, HookRunRecord};
    let migrations = migrations();
    let tail: String = (1..=7).map(|line| format!("line {line}\n")).collect();
    let hooks = [HookRunRecord {
        attempt: 2,
        phase: HookPhase::After,
        command: "smoke-test \u{1b}[2J".to_string(),
        outcome: HookRunOutcome::Failed,
        exit_code: Some(3),
        duration_ms: 1500,
        tail: format!("{tail}bell \u{7}\n"),
        started_at: at("2025-03-01T10:05:00Z"),
    }];
    let view = MigrationView {
        record: &migrations[0],
        storage: &[],
        recorded_files: 0,
        partial_copies: 0,
        lock: None,
        claims: &[],
        hooks: &hooks,
    };
    let shown = render_migration(&view);
    assert!(
        shown.contains(
            "  hooks (1):\n    attempt 2 after `smoke-test \\u{1b}[2J`: failed (exit 3) (1500 ms, 2025-03-01 10:05:00Z)\n"
        ),
        "{shown}"
    );
    // The last five lines only, escaped.
    assert!(!shown.contains("line 3"), "{shown}");
    assert!(
        shown.contains("      | line 4\n") && shown.contains("      | bell \\u{7}\n"),
        "{shown}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&render_migration_json(&view)).expect("JSON");
    assert_eq!(json["hooks"][0]["tail"], hooks[0].tail.as_str());
    assert_eq!(json["hooks"][0]["outcome"], "failed");
    assert_eq!(json["name"], migrations[0].name.as_str());
}
