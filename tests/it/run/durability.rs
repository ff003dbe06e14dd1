//! `ferry run --durability defer`: files are recorded before they are on disk, marked with this
//! system's boot ID; the next run syncs and confirms them (also after `kill -9`); records an
//! earlier boot left unconfirmed are dropped and their files copied again.

use std::path::Path;

use super::{demo, entries, only_below};

/// The boot ID the state file marks records with; `None` where the system has none.
fn boot_id() -> Option<String> {
    let text = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    Some(text.trim().to_string())
}

/// Every copied file's record path and boot mark, from the real state file (symlink records,
/// which claim no content, are always durable).
fn marks(state: &Path) -> Vec<(String, Option<String>)> {
    marks_if_created(state).expect("query")
}

/// `marks`, or `None` while the running ferry has created the file but not yet its tables.
fn marks_if_created(state: &Path) -> Option<Vec<(String, Option<String>)>> {
    let connection = rusqlite::Connection::open(state).expect("open the state file");
    // A state file with no tables yet records nothing (ferry now creates it whole, with its tables).
    let mut statement = connection
        .prepare(
            "SELECT path, unsynced_boot FROM files WHERE blake3 != 'symlink'
                 ORDER BY migration, path",
        )
        .ok()?;
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .ok()
}

#[test]
fn deferred_records_are_confirmed_by_the_next_run_and_dropped_after_a_restart() {
    let Some(boot) = boot_id() else {
        return; // Not Linux: ferry never defers there.
    };
    let ferry = demo();
    let state = ferry.directory().join(".ferry/state.db");
    let data = ferry.directory().join("plans/demo-data");
    let out = ferry.directory().join("plans/demo-out");
    let web_source = only_below(&entries(&data.join("web-01"), &[]), &["C", "D"]);

    let deferred = ferry.run_with(&["run", "plans/demo.yaml", "--durability", "defer"]);
    assert_eq!(deferred.code, 0, "{}", deferred.snapshot());
    assert_eq!(entries(&out.join("aws-web-01"), &[]), web_source);
    let recorded = marks(&state);
    assert!(recorded.len() > 5, "{recorded:?}");
    assert!(
        recorded
            .iter()
            .all(|(_, mark)| mark.as_deref() == Some(&boot)),
        "every record waits for a sync: {recorded:?}"
    );

    // The next run makes them durable and confirms them; nothing is copied.
    let confirmed = ferry.run_with(&["run", "plans/demo.yaml"]);
    assert_eq!(confirmed.code, 0, "{}", confirmed.snapshot());
    assert!(
        confirmed
            .stderr
            .contains("migration web-01: succeeded before and unchanged since"),
        "{}",
        confirmed.stderr
    );
    assert!(marks(&state).iter().all(|(_, mark)| mark.is_none()));

    // A deferred run, then a restart before the system wrote the data (simulated: the records
    // carry another boot's ID, and one file lost its content).
    std::fs::remove_dir_all(&out).expect("remove the target");
    let state_files = [
        ".ferry/state.db",
        ".ferry/state.db-wal",
        ".ferry/state.db-shm",
    ];
    for file in state_files {
        let _ = std::fs::remove_file(ferry.directory().join(file));
    }
    let deferred = ferry.run_with(&["run", "plans/demo.yaml", "--durability", "defer"]);
    assert_eq!(deferred.code, 0, "{}", deferred.snapshot());
    let connection = rusqlite::Connection::open(&state).expect("open the state file");
    connection
        .execute(
            "UPDATE files SET unsynced_boot = 'an-earlier-boot' WHERE blake3 != 'symlink'",
            [],
        )
        .expect("mark");
    drop(connection);
    let lost = out.join("aws-web-01/C/Windows/win.ini");
    std::fs::write(&lost, "").expect("empty a copied file");

    let plan = ferry.run_with(&["plan", "plans/demo.yaml", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "work is pending: {}", plan.snapshot());
    let rerun = ferry.run_with(&["run", "plans/demo.yaml"]);
    assert_eq!(rerun.code, 0, "{}", rerun.snapshot());
    assert!(
        rerun.stderr.contains("were recorded before they were on disk, and the system restarted since; copying them again"),
        "{}",
        rerun.stderr
    );
    assert_eq!(entries(&out.join("aws-web-01"), &[]), web_source);
    assert!(marks(&state).iter().all(|(_, mark)| mark.is_none()));
}

#[test]
fn a_deferred_run_killed_mid_copy_is_confirmed_and_completed_by_the_next_run() {
    let Some(boot) = boot_id() else {
        return;
    };
    let ferry = super::interrupt::big_plan();
    let state = ferry.directory().join(".ferry/state.db");
    let child = ferry.spawn(&[
        "run",
        "plan.yaml",
        "--durability",
        "defer",
        "--bwlimit",
        "24MiB",
    ]);
    // Killed once some files are recorded, not yet durable, and others are still to come.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !state.exists() || marks_if_created(&state).is_none_or(|marks| marks.is_empty()) {
        assert!(std::time::Instant::now() < deadline, "nothing was recorded");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    crate::support::command::signal(&child, libc::SIGKILL);
    let killed = ferry.wait(child);
    assert_eq!(killed.code, -1, "killed by a signal: {}", killed.snapshot());
    let recorded = marks(&state);
    assert!(
        recorded.len() < 33
            && recorded
                .iter()
                .all(|(_, mark)| mark.as_deref() == Some(&boot)),
        "{recorded:?}"
    );

    let rerun = ferry.run_with(&["run", "plan.yaml"]);
    assert_eq!(rerun.code, 0, "{}", rerun.snapshot());
    // Same boot: the killed run's records are trusted, so their files are not copied again.
    assert!(
        rerun
            .stderr
            .contains(&format!(", {} unchanged,", recorded.len())),
        "{}",
        rerun.stderr
    );
    assert!(
        rerun
            .stderr
            .contains("migration big: an earlier run stopped while it was running"),
        "the killed run is recovered: {}",
        rerun.stderr
    );
    let out = ferry.directory().join("out");
    assert_eq!(
        entries(&out, &[]),
        entries(&ferry.directory().join("source"), &[])
    );
    let recorded = marks(&state);
    assert_eq!(recorded.len(), 33);
    assert!(
        recorded.iter().all(|(_, mark)| mark.is_none()),
        "{recorded:?}"
    );
}
