//! The PostgreSQL schema, versioned in `ferry_schema`, upgraded on first use under an advisory lock so that many runners starting at once upgrade it once.

use tokio_postgres::Client;

use super::PostgresError;

/// The schema version this ferry writes. A database with a higher version is refused.
pub const SCHEMA_VERSION: i32 = 2;

/// The advisory lock key every ferry holds while it upgrades the schema ("FERY" in ASCII).
const UPGRADE_LOCK: i64 = 0x4645_5259;

/// Each entry moves the schema from version `index` to `index + 1`. Append only.
const MIGRATIONS: &[&str] = &[
    // 1: the SQLite schema's version 3, with claims (one live claim per migration).
    r#"
CREATE TABLE sources (
    name        TEXT PRIMARY KEY,
    ip          TEXT NOT NULL UNIQUE CHECK (ip <> ''),
    os          TEXT CHECK (os IN ('windows', 'linux')),
    username    TEXT,
    recorded_at TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- A source's IP never changes once recorded: only deleting the source forgets it.
CREATE FUNCTION ferry_source_ip_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.ip IS DISTINCT FROM OLD.ip THEN
        RAISE EXCEPTION 'a source''s recorded IP never changes' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER sources_ip_immutable BEFORE UPDATE OF ip ON sources
    FOR EACH ROW EXECUTE FUNCTION ferry_source_ip_immutable();

CREATE TABLE targets (
    name        TEXT PRIMARY KEY,
    cloud       TEXT NOT NULL CHECK (cloud IN ('aws', 'azure', 'vsphere', 'vcloud')),
    vm_ip       TEXT NOT NULL CHECK (vm_ip <> ''),
    vm_os       TEXT CHECK (vm_os IN ('windows', 'linux')),
    vm_username TEXT,
    recorded_at TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE migrations (
    -- The order migrations were first recorded in (SQLite's rowid).
    seq             BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    name            TEXT PRIMARY KEY,
    source          TEXT NOT NULL REFERENCES sources (name) ON DELETE RESTRICT,
    target          TEXT NOT NULL REFERENCES targets (name) ON DELETE RESTRICT,
    cloud           TEXT NOT NULL CHECK (cloud IN ('aws', 'azure', 'vsphere', 'vcloud')),
    mounts          JSONB NOT NULL CHECK (jsonb_typeof(mounts) = 'array'),
    state           TEXT NOT NULL DEFAULT 'not_started'
                    CHECK (state IN ('not_started', 'running', 'error', 'success')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error      TEXT,
    error_retryable BOOLEAN,
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ,
    files           BIGINT NOT NULL DEFAULT 0 CHECK (files >= 0),
    bytes           BIGINT NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    skipped_files   BIGINT NOT NULL DEFAULT 0 CHECK (skipped_files >= 0),
    skipped_bytes   BIGINT NOT NULL DEFAULT 0 CHECK (skipped_bytes >= 0),
    vanished        JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(vanished) = 'array'),
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX migrations_by_source ON migrations (source);
CREATE INDEX migrations_by_target ON migrations (target);

-- The target VM's resulting storage: exactly the selected mounts.
CREATE TABLE target_storage (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY,
    migration TEXT NOT NULL REFERENCES migrations (name) ON DELETE CASCADE,
    mount     TEXT NOT NULL,
    size      BIGINT NOT NULL CHECK (size >= 0),
    PRIMARY KEY (migration, mount)
);

CREATE TABLE files (
    migration      TEXT NOT NULL REFERENCES migrations (name) ON DELETE CASCADE,
    path           TEXT NOT NULL,
    size           BIGINT NOT NULL CHECK (size >= 0),
    modified_nanos BIGINT,
    blake3         TEXT NOT NULL,
    unsynced_boot  TEXT CHECK (unsynced_boot IS NULL OR unsynced_boot <> ''),
    PRIMARY KEY (migration, path)
);

CREATE TABLE partials (
    migration             TEXT NOT NULL REFERENCES migrations (name) ON DELETE CASCADE,
    path                  TEXT NOT NULL,
    temporary_path        TEXT NOT NULL,
    source_size           BIGINT NOT NULL CHECK (source_size >= 0),
    source_modified_nanos BIGINT,
    PRIMARY KEY (migration, path)
);

-- Every claim a runner took on a migration, kept after it ends. A live claim (ended_at IS NULL)
-- is held while its lease is renewed; the partial unique index makes two live claims on one
-- migration impossible, whatever the runners do.
CREATE TABLE claims (
    id               BIGSERIAL PRIMARY KEY,
    migration        TEXT NOT NULL REFERENCES migrations (name) ON DELETE CASCADE,
    runner           TEXT NOT NULL,
    host             TEXT NOT NULL,
    pid              INTEGER NOT NULL,
    started_at       TIMESTAMPTZ NOT NULL,
    heartbeat_at     TIMESTAMPTZ NOT NULL,
    lease_expires_at TIMESTAMPTZ NOT NULL,
    ended_at         TIMESTAMPTZ,
    outcome          TEXT CHECK (outcome IN ('success', 'error', 'interrupted', 'lost')),
    CHECK ((ended_at IS NULL) = (outcome IS NULL))
);
CREATE UNIQUE INDEX claims_one_live ON claims (migration) WHERE ended_at IS NULL;
CREATE INDEX claims_by_migration ON claims (migration, started_at);
"#,
    // 2: the hook commands each run ran for a migration (`state::hook_runs`), masked.
    r#"
CREATE TABLE hook_runs (
    id          BIGSERIAL PRIMARY KEY,
    migration   TEXT NOT NULL REFERENCES migrations (name) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL CHECK (attempt >= 0),
    phase       TEXT NOT NULL CHECK (phase IN ('before', 'after', 'on_failure')),
    command     TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'signalled', 'timed_out',
                                                 'interrupted', 'not_started')),
    exit_code   INTEGER,
    duration_ms BIGINT NOT NULL CHECK (duration_ms >= 0),
    tail        TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX hook_runs_by_migration ON hook_runs (migration, id);
"#,
];

/// Creates or upgrades the schema. Many processes may call this at once on an empty database:
/// each takes the same transaction-scoped advisory lock, so one applies the migrations and the
/// others then find nothing left to do.
pub async fn upgrade(client: &mut Client) -> Result<(), PostgresError> {
    let transaction = client.transaction().await?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&UPGRADE_LOCK])
        .await?;
    transaction
        .batch_execute("CREATE TABLE IF NOT EXISTS ferry_schema (version INTEGER NOT NULL)")
        .await?;
    let version: Option<i32> = transaction
        .query_opt("SELECT version FROM ferry_schema", &[])
        .await?
        .map(|row| row.get(0));
    let version = match version {
        Some(version) => version,
        None => {
            transaction
                .execute("INSERT INTO ferry_schema (version) VALUES (0)", &[])
                .await?;
            0
        }
    };
    if version > SCHEMA_VERSION {
        return Err(PostgresError::NewerSchema {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    let start = usize::try_from(version).unwrap_or_default();
    for step in MIGRATIONS.iter().skip(start) {
        transaction.batch_execute(step).await?;
    }
    transaction
        .execute("UPDATE ferry_schema SET version = $1", &[&SCHEMA_VERSION])
        .await?;
    transaction.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_migration_reaches_the_schema_version() {
        assert_eq!(i32::try_from(MIGRATIONS.len()).ok(), Some(SCHEMA_VERSION));
    }
}
