use std::os::unix::fs::PermissionsExt;

use super::*;

const URL: &str = "postgres://ferry:s3cret@db.example:5433/migrations";

#[test]
fn postgres_urls_are_told_from_paths() {
    assert!(is_postgres_url("postgres://host/db"));
    assert!(is_postgres_url("PostgreSQL://host/db"));
    assert!(!is_postgres_url(".ferry/state.db"));
    assert!(!is_postgres_url("postgres"));
    assert!(!is_postgres_url("./postgres://x"));
}

#[test]
fn the_password_never_shows() {
    let url = PostgresUrl::parse(URL, None, None).unwrap();
    assert_eq!(
        url.redacted(),
        "postgres://ferry:***@db.example:5433/migrations"
    );
    assert_eq!(url.to_string(), url.redacted());
    assert!(!format!("{url:?}").contains("s3cret"));
    assert_eq!(url.config().get_password(), Some(&b"s3cret"[..]));
    assert_eq!(
        redact("postgresql://u@h/d?password=hunter2&sslmode=require"),
        "postgresql://u@h/d?password=***&sslmode=require"
    );
}

#[test]
fn an_invalid_url_names_it_redacted() {
    let error = PostgresUrl::parse("postgres://ferry:s3cret@host:notaport/db", None, None)
        .unwrap_err()
        .to_string();
    assert!(!error.contains("s3cret"), "{error}");
    assert!(
        error.contains("postgres://ferry:***@host:notaport/db"),
        "{error}"
    );
}

#[test]
fn sslmode_and_sslrootcert_are_read_by_ferry() {
    let url = PostgresUrl::parse(
        "postgres://u:p@h/d?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=5",
        None,
        None,
    )
    .unwrap();
    assert_eq!(url.ssl_mode(), SslMode::VerifyFull);
    assert_eq!(url.root_certificate(), Some(Path::new("/etc/ca.pem")));
    assert_eq!(
        url.config().get_connect_timeout(),
        Some(&std::time::Duration::from_secs(5))
    );
    assert_eq!(
        PostgresUrl::parse("postgres://h/d", None, None)
            .unwrap()
            .ssl_mode(),
        SslMode::Prefer
    );
    let error = PostgresUrl::parse("postgres://u:p@h/d?sslmode=allow", None, None).unwrap_err();
    assert!(matches!(error, UrlError::UnknownSslMode { ref mode, .. } if mode == "allow"));
}

#[test]
fn the_password_comes_from_the_url_then_the_environment_then_the_passfile() {
    let folder = tempfile::tempdir().unwrap();
    let passfile = folder.path().join("pgpass");
    std::fs::write(
        &passfile,
        "# comment\nother:5433:migrations:ferry:wrong\ndb.example:5433:*:ferry:from\\:file\n",
    )
    .unwrap();
    std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o600)).unwrap();
    let without = "postgres://ferry@db.example:5433/migrations";
    let password = |url: &str, environment: Option<&str>| {
        PostgresUrl::parse(url, environment, Some(&passfile))
            .unwrap()
            .config()
            .get_password()
            .map(|password| String::from_utf8_lossy(password).into_owned())
    };
    assert_eq!(password(URL, Some("env")).as_deref(), Some("s3cret"));
    assert_eq!(password(without, Some("env")).as_deref(), Some("env"));
    assert_eq!(password(without, None).as_deref(), Some("from:file"));
    assert_eq!(
        password("postgres://ferry@elsewhere/migrations", None),
        None
    );
    // libpq ignores a passfile that others can read; so does ferry.
    std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(password(without, None), None);
}
