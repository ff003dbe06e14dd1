//! One behaviour suite for every state backend: each test body runs against a SQLite file and
//! against a PostgreSQL database (its own, on the server of `scripts/postgres-server.sh`; skipped
//! without one unless `FERRY_REQUIRE_SERVERS=1`), as OpenDAL runs one suite against every service.
//! The bodies speak only [`StateBackend`]; the fixture holds what each backend needs besides
//! (reopening, a restart, a lock left by a process that is gone).

mod claims;
mod export;
mod hook_runs;
mod ledger;
mod locks;
mod migrations;
mod rules;
mod sources;
mod unsynced;
mod waves;

use std::net::IpAddr;
use std::sync::Arc;

use jiff::Timestamp;

use crate::plan::valid::{Cloud, OsFamily};
use crate::state::{MigrationDefinition, StateBackend, Store};

/// Instantiates each named test body (`async fn NAME(factory: &Factory)`) once per backend.
macro_rules! behaviour {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(&crate::state::tests::behaviour::Factory::Sqlite).await;
                }
            )*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some(factory) =
                        crate::state::tests::behaviour::Factory::postgres(stringify!($test))
                    else {
                        return;
                    };
                    super::$test(&factory).await;
                }
            )*
        }
    };
}
pub(crate) use behaviour;

/// Makes empty states of one backend.
pub(crate) enum Factory {
    Sqlite,
    #[cfg(feature = "postgres")]
    Postgres,
}

/// A state of the backend under test, and what the fixture needs to reach behind it.
pub(crate) struct TestState {
    pub store: Arc<dyn StateBackend>,
    place: Place,
}

enum Place {
    Sqlite {
        _folder: tempfile::TempDir,
        store: Store,
    },
    #[cfg(feature = "postgres")]
    Postgres {
        url: Box<crate::state::postgres::PostgresUrl>,
        store: crate::state::postgres::PostgresStore,
    },
}

impl Factory {
    /// The PostgreSQL factory, or `None` (after saying so) without a server.
    #[cfg(feature = "postgres")]
    pub fn postgres(test: &str) -> Option<Factory> {
        if std::env::var("FERRY_POSTGRES_URL").is_ok() {
            return Some(Factory::Postgres);
        }
        let required = std::env::var("FERRY_REQUIRE_SERVERS").is_ok_and(|value| value != "0");
        assert!(
            !required,
            "FERRY_REQUIRE_SERVERS is set but FERRY_POSTGRES_URL is not"
        );
        #[allow(clippy::print_stderr)] // A test saying why it skipped, not program output.
        {
            eprintln!("skipping {test}: no PostgreSQL (scripts/postgres-server.sh env)");
        }
        None
    }

    /// A new, empty state.
    pub async fn open(&self) -> TestState {
        match self {
            Factory::Sqlite => {
                let folder = tempfile::tempdir().expect("temporary folder");
                let store =
                    Store::open(&folder.path().join(".ferry/state.db")).expect("open store");
                TestState {
                    store: Arc::new(store.clone()),
                    place: Place::Sqlite {
                        _folder: folder,
                        store,
                    },
                }
            }
            #[cfg(feature = "postgres")]
            Factory::Postgres => {
                use crate::state::postgres::{PostgresStore, PostgresUrl, tests::fresh_database};
                static DATABASES: std::sync::atomic::AtomicUsize =
                    std::sync::atomic::AtomicUsize::new(0);
                let number = DATABASES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let url = fresh_database(&format!("behaviour{number}"))
                    .await
                    .expect("the server");
                let url = PostgresUrl::parse(&url, None, None).expect("the test URL");
                let store = PostgresStore::open(&url).await.expect("open store");
                TestState {
                    store: Arc::new(store.clone()),
                    place: Place::Postgres {
                        url: Box::new(url),
                        store,
                    },
                }
            }
        }
    }

    /// A state with source `web-01` (192.0.2.10), target `aws-web` and migration `web-01`.
    pub async fn with_migration(&self) -> TestState {
        let state = self.open().await;
        let store = &state.store;
        store
            .record_source(
                "web-01",
                ip("192.0.2.10"),
                Some(OsFamily::Windows),
                Some("administrator"),
            )
            .await
            .expect("source");
        store
            .record_target(
                "aws-web",
                Cloud::Aws,
                ip("198.51.100.5"),
                Some(OsFamily::Windows),
                Some("admin"),
            )
            .await
            .expect("target");
        store
            .define_migration(&MigrationDefinition {
                name: "web-01".to_string(),
                source: "web-01".to_string(),
                target: "aws-web".to_string(),
                cloud: Cloud::Aws,
                mounts: vec!["C:\\".to_string(), "D:\\".to_string()],
            })
            .await
            .expect("migration");
        state
    }
}

impl TestState {
    /// Defines more migrations like `web-01` (source `web-01` to `aws-web`, mount `C:\`), in order.
    pub async fn define_more(&self, names: &[&str]) {
        for name in names {
            self.store
                .define_migration(&MigrationDefinition {
                    name: name.to_string(),
                    source: "web-01".to_string(),
                    target: "aws-web".to_string(),
                    cloud: Cloud::Aws,
                    mounts: vec!["C:\\".to_string()],
                })
                .await
                .expect("migration");
        }
    }

    /// The same state, opened again (a new connection; nothing cached survives).
    pub async fn reopen(&self) -> Arc<dyn StateBackend> {
        match &self.place {
            Place::Sqlite { store, .. } => {
                Arc::new(Store::open_existing(store.path()).expect("reopen"))
            }
            #[cfg(feature = "postgres")]
            Place::Postgres { url, .. } => Arc::new(
                crate::state::postgres::PostgresStore::open(url)
                    .await
                    .expect("reopen"),
            ),
        }
    }

    /// The same state, as if the system had been restarted since (`boot` is the new boot ID).
    pub async fn as_if_booted(&self, boot: &str) -> Arc<dyn StateBackend> {
        match &self.place {
            Place::Sqlite { store, .. } => Arc::new(store.as_if_booted(boot)),
            #[cfg(feature = "postgres")]
            Place::Postgres { url, store } => Arc::new(store.as_if_booted(url, boot).await),
        }
    }

    /// This system's boot ID as the store knows it.
    pub fn boot(&self) -> Option<String> {
        match &self.place {
            Place::Sqlite { store, .. } => store.boot().map(str::to_string),
            #[cfg(feature = "postgres")]
            Place::Postgres { store, .. } => store.boot().map(str::to_string),
        }
    }

    /// Leaves a lock on `web-01` as another process (`host`, `pid`) would, with its last heartbeat.
    pub async fn insert_lock(&self, host: &str, pid: u32, heartbeat: Timestamp) {
        match &self.place {
            Place::Sqlite { store, .. } => {
                store
                    .connection()
                    .execute(
                        "INSERT INTO locks (migration, owner, host, pid, heartbeat_at, acquired_at)
                         VALUES ('web-01', 'ferry run (old)', ?1, ?2, ?3, ?3)",
                        rusqlite::params![host, pid, heartbeat.to_string()],
                    )
                    .expect("insert lock");
            }
            #[cfg(feature = "postgres")]
            Place::Postgres { store, .. } => {
                let pid = i32::try_from(pid).expect("a pid");
                store
                    .client()
                    .await
                    .execute(
                        "INSERT INTO claims (migration, runner, host, pid, started_at,
                             heartbeat_at, lease_expires_at)
                         VALUES ('web-01', 'ferry run (old)', $1, $2, $3::timestamptz, $3::timestamptz,
                             $3::timestamptz + interval '120 seconds')",
                        &[&host, &pid, &heartbeat],
                    )
                    .await
                    .expect("insert claim");
            }
        }
    }

    /// Forgets every lock without ending it properly (as a crash would leave none).
    pub async fn clear_locks(&self) {
        match &self.place {
            Place::Sqlite { store, .. } => {
                store
                    .connection()
                    .execute("DELETE FROM locks", [])
                    .expect("clear");
            }
            #[cfg(feature = "postgres")]
            Place::Postgres { store, .. } => {
                store
                    .client()
                    .await
                    .execute("DELETE FROM claims", &[])
                    .await
                    .expect("clear");
            }
        }
    }

    /// Whether `needle` appears anywhere in what the backend stored.
    pub async fn stores_text(&self, needle: &str) -> bool {
        match &self.place {
            Place::Sqlite { store, .. } => {
                let folder = store.path().parent().expect("a folder").to_path_buf();
                let bytes = std::fs::read(store.path()).expect("read");
                let wal = std::fs::read(folder.join("state.db-wal")).unwrap_or_default();
                [bytes, wal].iter().any(|haystack| {
                    haystack
                        .windows(needle.len())
                        .any(|window| window == needle.as_bytes())
                })
            }
            #[cfg(feature = "postgres")]
            Place::Postgres { store, .. } => {
                let row = store
                    .client()
                    .await
                    .query_one(
                        "SELECT count(*) FROM (
                             SELECT row_to_json(s)::text AS t FROM sources s
                             UNION ALL SELECT row_to_json(t)::text FROM targets t
                             UNION ALL SELECT row_to_json(m)::text FROM migrations m
                             UNION ALL SELECT row_to_json(c)::text FROM claims c
                             UNION ALL SELECT row_to_json(h)::text FROM hook_runs h
                         ) AS everything WHERE strpos(t, $1) > 0",
                        &[&needle],
                    )
                    .await
                    .expect("search");
                row.get::<_, i64>(0) > 0
            }
        }
    }
}

pub(crate) fn ip(text: &str) -> IpAddr {
    text.parse().expect("test IP")
}
