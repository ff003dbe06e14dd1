//! Against the real PostgreSQL of `scripts/postgres-server.sh` (skipped without it, unless
//! `FERRY_REQUIRE_SERVERS=1`); every test gets a database of its own.

use super::*;

/// The test server's URL with `database` in place of its own, and `query` appended.
fn url_for(base: &str, database: &str, query: &str) -> String {
    let (server, _) = base.rsplit_once('/').expect("a database in the URL");
    format!("{server}/{database}{query}")
}

/// A new, empty database on the test server and its URL; `None` (after saying so) without a server.
pub(crate) async fn fresh_database(test: &str) -> Option<String> {
    let Ok(base) = std::env::var("FERRY_POSTGRES_URL") else {
        let required = std::env::var("FERRY_REQUIRE_SERVERS").is_ok_and(|value| value != "0");
        assert!(
            !required,
            "FERRY_REQUIRE_SERVERS is set but FERRY_POSTGRES_URL is not"
        );
        #[allow(clippy::print_stderr)] // A test saying why it skipped, not program output.
        {
            eprintln!("skipping {test}: no PostgreSQL (scripts/postgres-server.sh env)");
        }
        return None;
    };
    let (admin, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .expect("the test server");
    tokio::spawn(connection);
    let database = format!(
        "t_{}_{}",
        test.chars().take(40).collect::<String>(),
        std::process::id()
    );
    for statement in [
        format!("DROP DATABASE IF EXISTS {database}"),
        format!("CREATE DATABASE {database}"),
    ] {
        admin
            .batch_execute(&statement)
            .await
            .expect("create the test database");
    }
    Some(url_for(&base, &database, "?sslmode=disable"))
}

async fn connected(url: &str) -> Client {
    connect(&PostgresUrl::parse(url, None, None).unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn many_runners_starting_at_once_on_an_empty_database_upgrade_it_once() {
    let Some(url) = fresh_database("upgrade_once").await else {
        return;
    };
    let url = PostgresUrl::parse(&url, None, None).unwrap();
    let starts = (0..8).map(|_| {
        let url = url.clone();
        tokio::spawn(async move { connect(&url).await.map(|_| ()) })
    });
    for started in futures::future::join_all(starts).await {
        started.unwrap().unwrap();
    }
    let client = connect(&url).await.unwrap();
    let versions: Vec<i32> = client
        .query("SELECT version FROM ferry_schema", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, [SCHEMA_VERSION]);
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let Some(url) = fresh_database("newer_schema").await else {
        return;
    };
    let client = connected(&url).await;
    client
        .execute("UPDATE ferry_schema SET version = 99", &[])
        .await
        .unwrap();
    let error = connect(&PostgresUrl::parse(&url, None, None).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(error, PostgresError::NewerSchema { found: 99, .. }),
        "{error}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn the_database_itself_keeps_a_recorded_ip() {
    let Some(url) = fresh_database("ip_immutable").await else {
        return;
    };
    let client = connected(&url).await;
    client
        .execute(
            "INSERT INTO sources (name, ip, recorded_at, updated_at) VALUES ('web', '10.0.0.1', now(), now())",
            &[],
        )
        .await
        .unwrap();
    let changed = client
        .execute("UPDATE sources SET ip = '10.0.0.2' WHERE name = 'web'", &[])
        .await
        .unwrap_err();
    assert!(
        changed.to_string().contains("never changes")
            || format!("{changed:?}").contains("never changes"),
        "{changed:?}"
    );
    client
        .execute(
            "UPDATE sources SET ip = '10.0.0.1', username = 'u' WHERE name = 'web'",
            &[],
        )
        .await
        .expect("the same IP is no change");
    let duplicate = client
        .execute(
            "INSERT INTO sources (name, ip, recorded_at, updated_at) VALUES ('db', '10.0.0.1', now(), now())",
            &[],
        )
        .await;
    assert!(duplicate.is_err(), "two sources cannot share an IP");
}

#[tokio::test]
async fn a_migration_has_at_most_one_live_claim() {
    let Some(url) = fresh_database("one_live_claim").await else {
        return;
    };
    let client = connected(&url).await;
    client
        .batch_execute(
            "INSERT INTO sources (name, ip, recorded_at, updated_at) VALUES ('s', '10.0.0.1', now(), now());
             INSERT INTO targets (name, cloud, vm_ip, recorded_at, updated_at) VALUES ('t', 'aws', '10.1.0.1', now(), now());
             INSERT INTO migrations (name, source, target, cloud, mounts, created_at, updated_at)
                 VALUES ('m', 's', 't', 'aws', '[]', now(), now());",
        )
        .await
        .unwrap();
    let claim = "INSERT INTO claims (migration, runner, host, pid, started_at, heartbeat_at, lease_expires_at)
                 VALUES ('m', $1, 'h', 1, now(), now(), now() + interval '15 seconds')";
    client.execute(claim, &[&"first"]).await.unwrap();
    assert!(client.execute(claim, &[&"second"]).await.is_err());
    client
        .execute(
            "UPDATE claims SET ended_at = now(), outcome = 'success' WHERE runner = 'first'",
            &[],
        )
        .await
        .unwrap();
    client.execute(claim, &[&"second"]).await.unwrap();
}

#[tokio::test]
async fn a_wrong_password_fails_without_showing_it() {
    let Some(url) = fresh_database("wrong_password").await else {
        return;
    };
    let (user_and_password, host) = url.split_once('@').unwrap();
    let (user, _) = user_and_password.rsplit_once(':').unwrap();
    let wrong = format!("{user}:not-the-password@{host}");
    let error = connect(&PostgresUrl::parse(&wrong, None, None).unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("password authentication failed"), "{error}");
    assert!(!error.contains("not-the-password"), "{error}");
}

/// Whether the session is encrypted, connecting with `query` appended, host name `host`.
async fn encrypted(url: &str, host: &str, query: &str) -> Result<bool, PostgresError> {
    let url = url
        .replace("127.0.0.1", host)
        .replace("?sslmode=disable", query);
    let client = connect(&PostgresUrl::parse(&url, None, None)?).await?;
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

#[tokio::test]
async fn tls_follows_sslmode() {
    let Some(url) = fresh_database("tls_modes").await else {
        return;
    };
    let ca = std::env::var("FERRY_POSTGRES_CA").expect("FERRY_POSTGRES_CA with the server");
    let root = format!("&sslrootcert={ca}");
    assert!(
        !encrypted(&url, "127.0.0.1", "?sslmode=disable")
            .await
            .unwrap()
    );
    assert!(
        encrypted(&url, "127.0.0.1", "?sslmode=prefer")
            .await
            .unwrap()
    );
    assert!(
        encrypted(&url, "127.0.0.1", "?sslmode=require")
            .await
            .unwrap()
    );
    let full = format!("?sslmode=verify-full{root}");
    assert!(encrypted(&url, "localhost", &full).await.unwrap());
    // The certificate names `localhost` only: verify-full refuses 127.0.0.1, verify-ca does not.
    let error = encrypted(&url, "127.0.0.1", &full).await.unwrap_err();
    assert!(error.to_string().contains("certificate"), "{error}");
    let ca_only = format!("?sslmode=verify-ca{root}");
    assert!(encrypted(&url, "127.0.0.1", &ca_only).await.unwrap());
    // Without `sslrootcert` the system's roots verify, and they do not know the test CA.
    let error = encrypted(&url, "localhost", "?sslmode=verify-full")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("certificate"), "{error}");
}

/// The copy engine calls the ledger from a future that the runner polls beside others on the
/// same thread (`ferry run` polls its migrations on the main thread, in `Runtime::block_on`).
/// One of them may hold the store's connection across an await, and they are woken while the
/// ledger waits: the ledger must neither wait for that connection nor take their wake-ups, or
/// the thread never gets back to them.
#[test]
fn the_ledger_neither_waits_on_a_held_connection_nor_takes_its_threads_wake_ups() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let Some(url) = fresh_database("ledger_thread").await else {
                done.send(()).unwrap();
                return;
            };
            let url = PostgresUrl::parse(&url, None, None).unwrap();
            let store = PostgresStore::open(&url).await.unwrap();
            let holder = async {
                let _held = store.client().await;
                tokio::task::yield_now().await;
            };
            let ledger = async {
                use crate::state::ledger::Ledger;
                store.files("none").unwrap()
            };
            let ((), files) = tokio::join!(holder, ledger);
            assert!(files.is_empty());
            done.send(()).unwrap();
        });
    });
    finished
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the ledger answered while another future held the connection");
}
