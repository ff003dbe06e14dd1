//! The pre-flight checks against real local directories: mounts, room, and what is resolved.

use std::path::PathBuf;
use std::time::Duration;

use crate::exec::connect::Role;
use crate::exec::preflight::target::needed_bytes;
use crate::exec::preflight::{
    Readiness, Ready, Reason, Verdict, check_all, describe_connection, probes,
};
use crate::plan::raw::Cloud;
use crate::plan::valid::{
    Connection, Credentials, Migration, Mount, MountName, OsFamily, SecretRef, SecretString,
    Spanned, Target, ValidPlan, Workload,
};

fn workload(name: &str, size: u64, connection: Connection, password: SecretRef) -> Workload {
    Workload {
        name: name.to_string(),
        ip: Spanned::unplaced("192.0.2.20".parse().expect("ip")),
        credentials: Credentials {
            username: "root".to_string(),
            password: Spanned::unplaced(password),
            domain: None,
        },
        os: OsFamily::Linux,
        mounts: [("/", ""), ("/srv", "srv"), ("/home", "home")]
            .iter()
            .map(|(name, path)| Mount {
                name: MountName::new(name),
                size,
                system: *name == "/",
                path: path.to_string(),
            })
            .collect(),
        connection: Some(connection),
    }
}

fn plan(source: PathBuf, target: PathBuf, size: u64) -> ValidPlan {
    let plain = || SecretRef::Plain(SecretString::new("unused".to_string()));
    let mut plan = ValidPlan {
        file: PathBuf::from("plan.yaml"),
        base_dir: PathBuf::from("/"),
        sources: Default::default(),
        targets: Default::default(),
        migrations: vec![Migration {
            name: "db-01".to_string(),
            source: "db-01".to_string(),
            target: "vm".to_string(),
            mounts: vec![MountName::new("/"), MountName::new("/srv")],
            wave: None,
            hooks: Default::default(),
        }],
        waves: Vec::new(),
    };
    plan.sources.insert(
        "db-01".to_string(),
        workload("db-01", size, Connection::Local { path: source }, plain()),
    );
    plan.targets.insert(
        "vm".to_string(),
        Target {
            name: "vm".to_string(),
            cloud: Cloud::Vsphere,
            credentials: Credentials {
                username: "admin".to_string(),
                password: Spanned::unplaced(plain()),
                domain: None,
            },
            vm: workload("vm", size, Connection::Local { path: target }, plain()),
        },
    );
    plan
}

#[tokio::test]
async fn local_ends_are_checked_for_mounts_and_room() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let source = directory.path().join("source");
    std::fs::create_dir_all(source.join("srv")).expect("mount folders");
    let target = directory.path().join("not/yet/there");
    let ready = plan(source.clone(), target.clone(), 1024);
    assert_eq!(needed_bytes(&ready, &ready.migrations[0]), 2048);
    let (endpoints, missing) = probes(&ready);
    assert!(missing.is_empty());
    let rows = check_all(&ready, &endpoints, Default::default()).await;
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].role, rows[1].role), (Role::Source, Role::Target));
    assert_eq!(rows[0].verdict, Verdict::Ready(Ready::MountsReadable(2)));
    assert!(
        matches!(
            rows[1].verdict,
            Verdict::Ready(Ready::Room {
                needed: 2048,
                created: true,
                ..
            })
        ),
        "{:?}",
        rows[1].verdict
    );
    assert!(!target.exists(), "the check must not create the target");

    std::fs::remove_dir(source.join("srv")).expect("remove /srv");
    let huge = plan(source, target, u64::MAX / 4);
    let (endpoints, _) = probes(&huge);
    let rows = check_all(&huge, &endpoints, Default::default()).await;
    assert_eq!(
        rows[0].verdict,
        Verdict::NotReady {
            reason: Reason::Problem("mount /srv: `srv` does not exist".to_string()),
            retryable: false
        }
    );
    assert!(matches!(
        rows[1].verdict,
        Verdict::NotReady {
            reason: Reason::NoRoom { .. },
            retryable: false
        }
    ));
}

#[tokio::test]
async fn a_missing_password_is_reported_once_and_not_connected() {
    let mut with_sftp = plan(PathBuf::from("/nonexistent"), PathBuf::from("/x"), 1);
    let unset = SecretRef::Env("FERRY_UNIT_TEST_SURELY_UNSET".to_string());
    let sftp = Connection::Sftp(crate::plan::valid::SftpSettings {
        port: 22,
        root: None,
        key: None,
        host_key: None,
        known_hosts: None,
        accept_new_host_key: false,
    });
    with_sftp.sources["db-01"] = workload("db-01", 1, sftp, unset);
    let (endpoints, missing) = probes(&with_sftp);
    assert_eq!(missing.len(), 1);
    assert!(endpoints[0].password_missing);
    assert_eq!(
        describe_connection(endpoints[0].endpoint.workload),
        "sftp://root@192.0.2.20:22/"
    );
    let rows = check_all(&with_sftp, &endpoints, Default::default()).await;
    assert!(!rows[0].verdict.is_ready());
    let rows_with_timeout = check_all(
        &with_sftp,
        &endpoints,
        crate::exec::preflight::PreflightOptions {
            timeout: Duration::from_secs(5),
            parallel: 1,
        },
    )
    .await;
    // The source row (not connected: its password is missing) does not depend on the timeout.
    // The target rows are compared by readiness only: their free-space figures move with
    // whatever else writes to the disk meanwhile.
    assert_eq!(rows[0], rows_with_timeout[0]);
    let readiness = |rows: &[Readiness]| {
        rows.iter()
            .map(|row| row.verdict.is_ready())
            .collect::<Vec<_>>()
    };
    assert_eq!(readiness(&rows), readiness(&rows_with_timeout));
}
