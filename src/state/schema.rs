//! The versioned schema: `PRAGMA user_version` counts the applied migrations, `application_id` marks the file as ferry's.

use rusqlite::{Connection, TransactionBehavior};

use crate::state::error::StateError;

/// The schema version this ferry writes. Files with a higher version are refused.
pub const SCHEMA_VERSION: i64 = 5;

/// `PRAGMA application_id`: "FERY" in ASCII, so a ferry file is recognisable.
pub(crate) const APPLICATION_ID: i64 = 0x4645_5259;

/// Each entry moves the schema from version `index` to `index + 1`. Append only; never edit a released one.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r#"
CREATE TABLE sources (
    name        TEXT PRIMARY KEY NOT NULL,
    ip          TEXT NOT NULL UNIQUE,
    os          TEXT CHECK (os IN ('windows', 'linux')),
    username    TEXT,
    recorded_at TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

-- A source's IP never changes once recorded: only deleting the source forgets it.
CREATE TRIGGER sources_ip_immutable BEFORE UPDATE OF ip ON sources
WHEN NEW.ip IS NOT OLD.ip
BEGIN
    SELECT RAISE(ABORT, 'a source''s recorded IP never changes');
END;

CREATE TABLE targets (
    name        TEXT PRIMARY KEY NOT NULL,
    cloud       TEXT NOT NULL CHECK (cloud IN ('aws', 'azure', 'vsphere', 'vcloud')),
    vm_ip       TEXT NOT NULL,
    vm_os       TEXT CHECK (vm_os IN ('windows', 'linux')),
    vm_username TEXT,
    recorded_at TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE migrations (
    name            TEXT PRIMARY KEY NOT NULL,
    source          TEXT NOT NULL REFERENCES sources (name) ON DELETE RESTRICT,
    target          TEXT NOT NULL REFERENCES targets (name) ON DELETE RESTRICT,
    cloud           TEXT NOT NULL CHECK (cloud IN ('aws', 'azure', 'vsphere', 'vcloud')),
    mounts          TEXT NOT NULL CHECK (json_valid(mounts) AND json_type(mounts) = 'array'),
    state           TEXT NOT NULL DEFAULT 'not_started'
                    CHECK (state IN ('not_started', 'running', 'error', 'success')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error      TEXT,
    error_retryable INTEGER CHECK (error_retryable IN (0, 1)),
    started_at      TEXT,
    finished_at     TEXT,
    files           INTEGER NOT NULL DEFAULT 0 CHECK (files >= 0),
    bytes           INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    skipped_files   INTEGER NOT NULL DEFAULT 0 CHECK (skipped_files >= 0),
    skipped_bytes   INTEGER NOT NULL DEFAULT 0 CHECK (skipped_bytes >= 0),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX migrations_by_source ON migrations (source);
CREATE INDEX migrations_by_target ON migrations (target);

-- The target VM's resulting storage: exactly the selected mounts.
CREATE TABLE target_storage (
    migration TEXT NOT NULL REFERENCES migrations (name) ON DELETE CASCADE,
    mount     TEXT NOT NULL,
    size      INTEGER NOT NULL CHECK (size >= 0),
    PRIMARY KEY (migration, mount)
) STRICT;

CREATE TABLE files (
    migration      TEXT NOT NULL REFERENCES migrations (name) ON DELETE CASCADE,
    path           TEXT NOT NULL,
    size           INTEGER NOT NULL CHECK (size >= 0),
    modified_nanos INTEGER,
    blake3         TEXT NOT NULL,
    PRIMARY KEY (migration, path)
) STRICT, WITHOUT ROWID;

CREATE TABLE partials (
    migration             TEXT NOT NULL REFERENCES migrations (name) ON DELETE CASCADE,
    path                  TEXT NOT NULL,
    temporary_path        TEXT NOT NULL,
    source_size           INTEGER NOT NULL CHECK (source_size >= 0),
    source_modified_nanos INTEGER,
    PRIMARY KEY (migration, path)
) STRICT, WITHOUT ROWID;

CREATE TABLE locks (
    migration    TEXT PRIMARY KEY NOT NULL,
    owner        TEXT NOT NULL,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    heartbeat_at TEXT NOT NULL,
    acquired_at  TEXT NOT NULL
) STRICT;
"#,
    // 2: a file recorded before the target made it durable (`ferry run --durability defer`)
    // carries the boot ID of the system that wrote it, until a sync confirms it.
    r#"
ALTER TABLE files ADD COLUMN unsynced_boot TEXT CHECK (unsynced_boot IS NULL OR unsynced_boot <> '');
"#,
    // 3: the files deleted from the source while the last attempt copied (their target paths,
    // a JSON array), which the report names.
    r#"
ALTER TABLE migrations ADD COLUMN vanished TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(vanished) AND json_type(vanished) = 'array');
"#,
    // 4: every claim a run took on a migration, kept after it ends (append only: a claim is
    // inserted when its lock is taken and only ever ended). `locks` stays the live lock.
    r#"
CREATE TABLE claims (
    id         INTEGER PRIMARY KEY,
    migration  TEXT NOT NULL REFERENCES migrations (name) ON DELETE CASCADE,
    runner     TEXT NOT NULL,
    host       TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    outcome    TEXT CHECK (outcome IN ('success', 'error', 'interrupted', 'lost')),
    CHECK ((ended_at IS NULL) = (outcome IS NULL))
) STRICT;
CREATE INDEX claims_by_migration ON claims (migration, id);
"#,
    // 5: the hook commands each run ran for a migration (`state::hook_runs`), masked.
    r#"
CREATE TABLE hook_runs (
    migration   TEXT NOT NULL REFERENCES migrations (name) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL CHECK (attempt >= 0),
    phase       TEXT NOT NULL CHECK (phase IN ('before', 'after', 'on_failure')),
    command     TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'signalled', 'timed_out',
                                                 'interrupted', 'not_started')),
    exit_code   INTEGER,
    duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
    tail        TEXT NOT NULL,
    started_at  TEXT NOT NULL
) STRICT;
CREATE INDEX hook_runs_by_migration ON hook_runs (migration);
"#,
];

/// What the file holds before ferry touches it.
pub(crate) struct Identity {
    pub application_id: i64,
    pub user_version: i64,
    pub objects: i64,
}

/// Reads the file's identity without writing anything.
pub(crate) fn identify(connection: &Connection) -> rusqlite::Result<Identity> {
    let application_id = connection.pragma_query_value(None, "application_id", |row| row.get(0))?;
    let user_version = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let objects = connection.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'",
        [],
        |row| row.get(0),
    )?;
    Ok(Identity {
        application_id,
        user_version,
        objects,
    })
}

/// Applies every migration the file lacks, each in its own immediate transaction (so two
/// processes opening the same new file do not both create it).
pub(crate) fn upgrade(connection: &mut Connection) -> Result<(), StateError> {
    loop {
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 =
            transaction.pragma_query_value(None, "user_version", |row| row.get(0))?;
        let Some(step) = usize::try_from(version)
            .ok()
            .and_then(|index| MIGRATIONS.get(index))
        else {
            return Ok(());
        };
        transaction.execute_batch(step)?;
        transaction.pragma_update(None, "application_id", APPLICATION_ID)?;
        transaction.pragma_update(None, "user_version", version + 1)?;
        transaction.commit()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_migration_reaches_the_schema_version() {
        assert_eq!(i64::try_from(MIGRATIONS.len()).ok(), Some(SCHEMA_VERSION));
    }

    #[test]
    fn a_version_3_file_gains_hook_runs_and_keeps_its_migrations() {
        let mut connection = Connection::open_in_memory().expect("open");
        connection
            .pragma_update(None, "foreign_keys", true)
            .expect("foreign keys");
        for step in &MIGRATIONS[..3] {
            connection.execute_batch(step).expect("an older step");
        }
        connection
            .pragma_update(None, "user_version", 3)
            .expect("version 3");
        connection
            .execute_batch(
                "INSERT INTO sources VALUES ('web', '192.0.2.1', NULL, NULL, 't', 't');
                 INSERT INTO targets VALUES ('vm', 'aws', '198.51.100.1', NULL, NULL, 't', 't');
                 INSERT INTO migrations (name, source, target, cloud, mounts, created_at, updated_at)
                     VALUES ('web', 'web', 'vm', 'aws', '[]', 't', 't');",
            )
            .expect("a version 3 migration");
        upgrade(&mut connection).expect("upgrade");
        let version: i64 = connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .expect("version");
        assert_eq!(version, SCHEMA_VERSION);
        connection
            .execute(
                "INSERT INTO hook_runs (migration, attempt, phase, command, outcome, exit_code,
                     duration_ms, tail, started_at)
                 VALUES ('web', 1, 'before', 'true', 'succeeded', 0, 5, '', 't')",
                [],
            )
            .expect("a hook run");
        // A phase or outcome the schema does not know is refused.
        assert!(
            connection
                .execute(
                    "INSERT INTO hook_runs (migration, attempt, phase, command, outcome,
                         duration_ms, tail, started_at)
                     VALUES ('web', 1, 'pre', 'true', 'succeeded', 5, '', 't')",
                    [],
                )
                .is_err()
        );
        connection
            .execute("DELETE FROM migrations WHERE name = 'web'", [])
            .expect("delete");
        let left: i64 = connection
            .query_row("SELECT count(*) FROM hook_runs", [], |row| row.get(0))
            .expect("count");
        assert_eq!(left, 0, "deleted with their migration");
    }
}
