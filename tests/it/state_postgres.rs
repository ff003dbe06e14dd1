//! `--state postgres://…` end to end: a run, its report and `ferry state`, state moved from the
//! SQLite file to PostgreSQL and back, and the refusals (wrong password, unreachable server, a
//! URL typo, a newer schema), which exit 2 and never show the password.

use crate::run::demo;
use crate::support::command::Ferry;
use crate::support::servers::{postgres_database, postgres_password};

/// Asserts that nothing `ferry` printed holds the password.
fn assert_no_password(outcome: &crate::support::command::Outcome, password: &str) {
    assert!(
        !outcome.stdout.contains(password) && !outcome.stderr.contains(password),
        "the password was printed:\n{}",
        outcome.snapshot()
    );
}

#[test]
fn a_run_with_postgres_state_then_report_and_state_list_and_show() {
    let Some(url) = postgres_database("run_report_show") else {
        return;
    };
    let password = postgres_password(&url);
    let ferry = demo();
    let run = ferry.run_with(&["run", "plans/demo.yaml", "--state", &url]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert_no_password(&run, &password);
    assert!(
        !ferry.directory().join(".ferry").exists(),
        "no state file beside a database state"
    );

    let report = ferry.run_with(&["report", "--state", &url, "--format", "json"]);
    assert_eq!(report.code, 0, "{}", report.snapshot());
    let json: serde_json::Value = serde_json::from_str(&report.stdout).expect("JSON report");
    assert_eq!(json["summary"]["success"], 2, "{json}");
    assert_eq!(json["summary"]["total"], 2, "{json}");

    let list = ferry.run_with(&["state", "list", "--state", &url]);
    assert_eq!(list.code, 0, "{}", list.snapshot());
    assert!(list.stdout.contains("web-01") && list.stdout.contains("success"));
    let show = ferry.run_with(&["state", "show", "migration", "web-01", "--state", &url]);
    assert_eq!(show.code, 0, "{}", show.snapshot());
    assert!(show.stdout.contains("success"), "{}", show.stdout);
    for outcome in [&report, &list, &show] {
        assert_no_password(outcome, &password);
    }

    // A second run finds everything copied, as with the SQLite file.
    let again = ferry.run_with(&["run", "plans/demo.yaml", "--state", &url]);
    assert_eq!(again.code, 0, "{}", again.snapshot());
    let plan = ferry.run_with(&[
        "plan",
        "plans/demo.yaml",
        "--state",
        &url,
        "--detailed-exitcode",
    ]);
    assert_eq!(plan.code, 0, "nothing left to do: {}", plan.snapshot());
    assert_no_password(&plan, &password);
}

/// The export without the moment it was taken.
fn exported(ferry: &Ferry, state: &str) -> serde_json::Value {
    let outcome = ferry.run_with(&["state", "export", "--state", state]);
    assert_eq!(outcome.code, 0, "{}", outcome.snapshot());
    let mut json: serde_json::Value = serde_json::from_str(&outcome.stdout).expect("an export");
    json.as_object_mut()
        .expect("an object")
        .remove("exported_at");
    json
}

#[test]
fn state_exported_from_sqlite_imports_into_postgres_and_back_unchanged() {
    let Some(url) = postgres_database("sqlite_to_postgres") else {
        return;
    };
    let ferry = demo();
    assert_eq!(ferry.run_with(&["run", "plans/demo.yaml"]).code, 0);
    let from_sqlite = exported(&ferry, ".ferry/state.db");
    let write = ferry.run_with(&["state", "export", "--output", "sqlite.json"]);
    assert_eq!(write.code, 0, "{}", write.snapshot());

    let into_postgres = ferry.run_with(&["state", "import", "sqlite.json", "--state", &url]);
    assert_eq!(into_postgres.code, 0, "{}", into_postgres.snapshot());
    assert!(
        !into_postgres.stdout.contains(&postgres_password(&url))
            && !into_postgres.stderr.contains(&postgres_password(&url)),
        "{}",
        into_postgres.snapshot()
    );
    let from_postgres = exported(&ferry, &url);
    let back = ferry.run_with(&["state", "export", "--state", &url, "--output", "pg.json"]);
    assert_eq!(back.code, 0, "{}", back.snapshot());
    let into_sqlite = ferry.run_with(&["state", "import", "pg.json", "--state", "back.db"]);
    assert_eq!(into_sqlite.code, 0, "{}", into_sqlite.snapshot());
    let returned = exported(&ferry, "back.db");

    // PostgreSQL keeps times to the microsecond; everything else is the same, and the way back
    // changes nothing at all.
    assert_eq!(returned, from_postgres);
    assert_eq!(
        times_to_the_second(&from_postgres.to_string()),
        times_to_the_second(&from_sqlite.to_string())
    );

    // The state moved: a run against PostgreSQL has nothing left to copy.
    let run = ferry.run_with(&["run", "plans/demo.yaml", "--state", &url]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
}

/// The text with every RFC 3339 time cut to the second (`2026-12-06T23:30:44Z`).
fn times_to_the_second(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('T') {
        let (before, after) = rest.split_at(start);
        out.push_str(before);
        // `THH:MM:SS` then an optional fraction up to `Z` or an offset.
        let is_time = after.len() >= 9
            && after.as_bytes()[3] == b':'
            && after.as_bytes()[6] == b':'
            && after[1..3].bytes().all(|byte| byte.is_ascii_digit());
        if is_time {
            out.push_str(&after[..9]);
            let fraction = after[9..].strip_prefix('.').map_or(0, |digits| {
                1 + digits.bytes().take_while(u8::is_ascii_digit).count()
            });
            rest = &after[9 + fraction..];
        } else {
            out.push('T');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    out
}

/// A message as one line: the words without the frame miette wraps them in.
fn flat(text: &str) -> String {
    text.split_whitespace()
        .filter(|word| !["│", "×"].contains(word))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_wrong_password_an_unreachable_server_a_typo_and_a_newer_schema_exit_2_without_the_password() {
    let Some(url) = postgres_database("refusals") else {
        return;
    };
    let password = postgres_password(&url);
    let wrong = url.replacen(&format!(":{password}@"), ":not-the-Pa55word@", 1);
    let (_, after_at) = url.split_once('@').expect("a host");
    let (_, database) = after_at.split_once('/').expect("a database");
    let unreachable = format!("postgres://ferry:{password}@127.0.0.1:1/{database}");
    let typo = format!("postgres://ferry:{password}@127.0.0.1:54x32/{database}");
    let bad_mode = format!("{url}&sslmode=verify-everything").replace("sslmode=disable&", "");
    let ferry = demo();
    for (state, says, secret) in [
        (&wrong, "password authentication failed", "not-the-Pa55word"),
        (
            &unreachable,
            "cannot connect to the state database",
            password.as_str(),
        ),
        (&typo, "not a valid PostgreSQL URL", password.as_str()),
        (&bad_mode, "sslmode", password.as_str()),
    ] {
        for arguments in [
            vec!["run", "plans/demo.yaml", "--state", state],
            vec!["report", "--state", state],
            vec!["state", "list", "--state", state],
        ] {
            let outcome = ferry.run_with(&arguments);
            assert_eq!(outcome.code, 2, "{arguments:?}: {}", outcome.snapshot());
            assert!(
                flat(&outcome.stderr).contains(says),
                "{}",
                outcome.snapshot()
            );
            assert_no_password(&outcome, secret);
        }
    }

    // A database a newer ferry upgraded is refused, whatever the command.
    assert_eq!(ferry.run_with(&["state", "list", "--state", &url]).code, 0);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        client
            .batch_execute("UPDATE ferry_schema SET version = 99")
            .await
            .expect("a newer schema");
    });
    let newer = ferry.run_with(&["report", "--state", &url]);
    assert_eq!(newer.code, 2, "{}", newer.snapshot());
    assert!(
        newer.stderr.contains("newer than this ferry"),
        "{}",
        newer.snapshot()
    );
    assert_no_password(&newer, &password);
}
