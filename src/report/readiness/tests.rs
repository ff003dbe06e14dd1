//! The readiness table renders every verdict, escapes control characters and sums up.

use crate::exec::connect::Role;
use crate::exec::preflight::{Readiness, Ready, Reason, Verdict};
use crate::report::readiness::{detail, render, render_not_checked};

const GIB: u64 = 1024 * 1024 * 1024;

fn row(migration: &str, role: Role, connection: &str, verdict: Verdict) -> Readiness {
    Readiness {
        migration: migration.to_string(),
        role,
        name: format!("{migration}-{}", role.noun()),
        connection: connection.to_string(),
        verdict,
        note: None,
    }
}

#[test]
fn every_verdict_has_its_detail() {
    let rows = vec![
        row(
            "web-01",
            Role::Source,
            "sftp://admin@192.0.2.10:22/",
            Verdict::Ready(Ready::MountsReadable(2)),
        ),
        row(
            "web-01",
            Role::Target,
            "local:/srv/out",
            Verdict::NotReady {
                reason: Reason::NoRoom {
                    needed: 160 * GIB,
                    free: 12 * GIB + GIB / 3,
                },
                retryable: false,
            },
        ),
        row(
            "db-01",
            Role::Source,
            "sftp://root@192.0.2.20:22/",
            Verdict::NotReady {
                reason: Reason::Problem("no answer within 20 s (timed out)".to_string()),
                retryable: true,
            },
        ),
        row(
            "db-01",
            Role::Target,
            "sftp://root@198.51.100.30:22/data",
            Verdict::Ready(Ready::RoomUnknown {
                needed: 220 * GIB,
                created: true,
            }),
        ),
        row(
            "app\n-01",
            Role::Target,
            "s3://bucket/app",
            Verdict::Ready(Ready::ObjectStore),
        ),
    ];
    insta::assert_snapshot!(render("plans/wave.yaml", &rows), @r"
    Readiness of plans/wave.yaml (nothing copied):
    MIGRATION  ROLE    NAME             CONNECTION                         STATUS     DETAIL
    web-01     source  web-01-source    sftp://admin@192.0.2.10:22/        ready      2 mounts readable
    web-01     target  web-01-target    local:/srv/out                     not ready  not enough free space: needs 160.0 GiB, 12.3 GiB free
    db-01      source  db-01-source     sftp://root@192.0.2.20:22/         not ready  no answer within 20 s (timed out) (retryable)
    db-01      target  db-01-target     sftp://root@198.51.100.30:22/data  ready      free space unknown (needs 220.0 GiB); its directory will be created
    app\n-01   target  app\n-01-target  s3://bucket/app                    ready      object storage, no free-space limit
    2 of 5 endpoints not ready.
    ");
}

#[test]
fn all_ready_and_empty_and_not_checked() {
    let ready = Verdict::Ready(Ready::Room {
        needed: GIB,
        free: 2 * GIB,
        created: false,
    });
    assert_eq!(detail(&ready), "needs 1.0 GiB, 2.0 GiB free");
    let rows = vec![row("a", Role::Source, "local:/a", ready)];
    assert!(render("p.yaml", &rows).ends_with("All 1 endpoints ready.\n"));
    assert!(render("p.yaml", &[]).contains("no migrations"));
    assert_eq!(
        render_not_checked("p.yaml"),
        "Readiness of p.yaml: not checked, because the plan has errors (fix them first).\n"
    );
}
