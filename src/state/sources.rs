//! Sources (whose recorded IP never changes) and targets: record, read, list, delete.

use std::net::IpAddr;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::plan::valid::{Cloud, OsFamily};
use crate::state::error::StateError;
use crate::state::store::Store;
use crate::state::time;

/// A source as recorded: its IP is fixed from `recorded_at` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    pub name: String,
    /// Canonical text (`192.0.2.10`, `2001:db8::1`).
    pub ip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<OsFamily>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    pub recorded_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A target as last recorded. Its VM's IP may change between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRecord {
    pub name: String,
    pub cloud: Cloud,
    pub vm_ip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_os: Option<OsFamily>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_username: Option<String>,
    pub recorded_at: Timestamp,
    pub updated_at: Timestamp,
}

pub(crate) fn os_text(os: OsFamily) -> &'static str {
    match os {
        OsFamily::Windows => "windows",
        OsFamily::Linux => "linux",
    }
}

pub(crate) fn parse_os(text: Option<String>) -> Result<Option<OsFamily>, StateError> {
    match text.as_deref() {
        None => Ok(None),
        Some("windows") => Ok(Some(OsFamily::Windows)),
        Some("linux") => Ok(Some(OsFamily::Linux)),
        Some(other) => Err(StateError::Corrupt {
            what: format!("os `{other}`"),
        }),
    }
}

pub(crate) fn parse_cloud(text: &str) -> Result<Cloud, StateError> {
    Cloud::ALL
        .into_iter()
        .find(|cloud| cloud.as_str() == text)
        .ok_or_else(|| StateError::Corrupt {
            what: format!("cloud `{text}`"),
        })
}

const SOURCE_COLUMNS: &str = "name, ip, os, username, recorded_at, updated_at";
const TARGET_COLUMNS: &str = "name, cloud, vm_ip, vm_os, vm_username, recorded_at, updated_at";

fn source_from_row(row: &Row<'_>) -> rusqlite::Result<Result<SourceRecord, StateError>> {
    let name: String = row.get(0)?;
    let ip: String = row.get(1)?;
    let os: Option<String> = row.get(2)?;
    let username: Option<String> = row.get(3)?;
    let recorded_at: String = row.get(4)?;
    let updated_at: String = row.get(5)?;
    Ok((|| {
        Ok(SourceRecord {
            name,
            ip,
            os: parse_os(os)?,
            username,
            recorded_at: time::parse(&recorded_at)?,
            updated_at: time::parse(&updated_at)?,
        })
    })())
}

fn target_from_row(row: &Row<'_>) -> rusqlite::Result<Result<TargetRecord, StateError>> {
    let name: String = row.get(0)?;
    let cloud: String = row.get(1)?;
    let vm_ip: String = row.get(2)?;
    let vm_os: Option<String> = row.get(3)?;
    let vm_username: Option<String> = row.get(4)?;
    let recorded_at: String = row.get(5)?;
    let updated_at: String = row.get(6)?;
    Ok((|| {
        Ok(TargetRecord {
            name,
            cloud: parse_cloud(&cloud)?,
            vm_ip,
            vm_os: parse_os(vm_os)?,
            vm_username,
            recorded_at: time::parse(&recorded_at)?,
            updated_at: time::parse(&updated_at)?,
        })
    })())
}

pub(crate) fn find_source_in(
    connection: &Connection,
    name: &str,
) -> Result<Option<SourceRecord>, StateError> {
    let sql = format!("SELECT {SOURCE_COLUMNS} FROM sources WHERE name = ?1");
    connection
        .query_row(&sql, [name], source_from_row)
        .optional()?
        .transpose()
}

pub(crate) fn find_source_by_ip_in(
    connection: &Connection,
    ip: &str,
) -> Result<Option<SourceRecord>, StateError> {
    let sql = format!("SELECT {SOURCE_COLUMNS} FROM sources WHERE ip = ?1");
    connection
        .query_row(&sql, [ip], source_from_row)
        .optional()?
        .transpose()
}

pub(crate) fn list_sources_in(connection: &Connection) -> Result<Vec<SourceRecord>, StateError> {
    let sql = format!("SELECT {SOURCE_COLUMNS} FROM sources ORDER BY name");
    let mut statement = connection.prepare(&sql)?;
    let rows = statement.query_map([], source_from_row)?;
    rows.map(|row| row?).collect()
}

pub(crate) fn list_targets_in(connection: &Connection) -> Result<Vec<TargetRecord>, StateError> {
    let sql = format!("SELECT {TARGET_COLUMNS} FROM targets ORDER BY name");
    let mut statement = connection.prepare(&sql)?;
    let rows = statement.query_map([], target_from_row)?;
    rows.map(|row| row?).collect()
}

/// Records a source, or refreshes its OS and username. The IP is checked, never changed.
pub(crate) fn record_source_in(
    connection: &Connection,
    name: &str,
    ip: IpAddr,
    os: Option<OsFamily>,
    username: Option<&str>,
) -> Result<SourceRecord, StateError> {
    let ip_text = ip.to_string();
    let now = time::now().to_string();
    if let Some(existing) = find_source_in(connection, name)? {
        if existing.ip != ip_text {
            return Err(StateError::IpImmutable {
                name: name.to_string(),
                recorded: existing.ip,
                requested: ip_text,
                recorded_at: existing.recorded_at,
            });
        }
        connection.execute(
            "UPDATE sources SET os = ?2, username = ?3, updated_at = ?4 WHERE name = ?1",
            params![name, os.map(os_text), username, now],
        )?;
    } else {
        if let Some(other) = find_source_by_ip_in(connection, &ip_text)? {
            return Err(StateError::IpRecordedElsewhere {
                ip: ip_text,
                name: name.to_string(),
                other: other.name,
            });
        }
        connection.execute(
            "INSERT INTO sources (name, ip, os, username, recorded_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![name, ip_text, os.map(os_text), username, now],
        )?;
    }
    find_source_in(connection, name)?.ok_or_else(|| StateError::NotFound {
        kind: "source",
        name: name.to_string(),
    })
}

/// Records a target, or updates it (a target VM's IP may change).
pub(crate) fn record_target_in(
    connection: &Connection,
    name: &str,
    cloud: Cloud,
    vm_ip: IpAddr,
    vm_os: Option<OsFamily>,
    vm_username: Option<&str>,
) -> Result<(), StateError> {
    connection.execute(
        "INSERT INTO targets (name, cloud, vm_ip, vm_os, vm_username, recorded_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
         ON CONFLICT (name) DO UPDATE SET cloud = excluded.cloud, vm_ip = excluded.vm_ip,
             vm_os = excluded.vm_os, vm_username = excluded.vm_username,
             updated_at = excluded.updated_at",
        params![
            name,
            cloud.as_str(),
            vm_ip.to_string(),
            vm_os.map(os_text),
            vm_username,
            time::now().to_string()
        ],
    )?;
    Ok(())
}

/// The migrations that name this source (`column` = `source`) or target (`column` = `target`).
fn users_of(connection: &Connection, column: &str, name: &str) -> Result<Vec<String>, StateError> {
    let sql = format!("SELECT name FROM migrations WHERE {column} = ?1 ORDER BY rowid");
    let mut statement = connection.prepare(&sql)?;
    let names = statement.query_map([name], |row| row.get(0))?;
    Ok(names.collect::<Result<_, _>>()?)
}

impl Store {
    /// Records a source the first time it is seen; afterwards refreshes its OS and username.
    /// Refuses a different IP ([`StateError::IpImmutable`]) and an IP recorded for another
    /// name ([`StateError::IpRecordedElsewhere`]).
    pub fn record_source(
        &self,
        name: &str,
        ip: IpAddr,
        os: Option<OsFamily>,
        username: Option<&str>,
    ) -> Result<SourceRecord, StateError> {
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let record = record_source_in(&transaction, name, ip, os, username)?;
        transaction.commit()?;
        Ok(record)
    }

    /// Records or updates a target.
    pub fn record_target(
        &self,
        name: &str,
        cloud: Cloud,
        vm_ip: IpAddr,
        vm_os: Option<OsFamily>,
        vm_username: Option<&str>,
    ) -> Result<TargetRecord, StateError> {
        let connection = self.connection();
        record_target_in(&connection, name, cloud, vm_ip, vm_os, vm_username)?;
        drop(connection);
        self.target(name)
    }

    /// The source with this name ([`StateError::NotFound`] otherwise).
    pub fn source(&self, name: &str) -> Result<SourceRecord, StateError> {
        self.find_source(name)?.ok_or_else(|| StateError::NotFound {
            kind: "source",
            name: name.to_string(),
        })
    }

    /// The source with this name, if recorded.
    pub fn find_source(&self, name: &str) -> Result<Option<SourceRecord>, StateError> {
        find_source_in(&self.connection(), name)
    }

    /// The source recorded with this IP (canonical text), if any.
    pub fn find_source_by_ip(&self, ip: &str) -> Result<Option<SourceRecord>, StateError> {
        find_source_by_ip_in(&self.connection(), ip)
    }

    /// Every source, by name.
    pub fn sources(&self) -> Result<Vec<SourceRecord>, StateError> {
        list_sources_in(&self.connection())
    }

    /// The target with this name ([`StateError::NotFound`] otherwise).
    pub fn target(&self, name: &str) -> Result<TargetRecord, StateError> {
        let sql = format!("SELECT {TARGET_COLUMNS} FROM targets WHERE name = ?1");
        self.connection()
            .query_row(&sql, [name], target_from_row)
            .optional()?
            .transpose()?
            .ok_or_else(|| StateError::NotFound {
                kind: "target",
                name: name.to_string(),
            })
    }

    /// Every target, by name.
    pub fn targets(&self) -> Result<Vec<TargetRecord>, StateError> {
        list_targets_in(&self.connection())
    }

    /// Forgets a source and its recorded IP. Refused while migrations name it
    /// ([`StateError::InUse`]) unless `cascade`, which deletes those migrations (and their
    /// files) too. Returns the migrations deleted.
    pub fn delete_source(&self, name: &str, cascade: bool) -> Result<Vec<String>, StateError> {
        self.delete_named("sources", "source", "source", name, cascade)
    }

    /// Forgets a target, like [`Store::delete_source`].
    pub fn delete_target(&self, name: &str, cascade: bool) -> Result<Vec<String>, StateError> {
        self.delete_named("targets", "target", "target", name, cascade)
    }

    fn delete_named(
        &self,
        table: &str,
        column: &str,
        kind: &'static str,
        name: &str,
        cascade: bool,
    ) -> Result<Vec<String>, StateError> {
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let users = users_of(&transaction, column, name)?;
        if !users.is_empty() && !cascade {
            return Err(StateError::InUse {
                kind,
                name: name.to_string(),
                migrations: users,
            });
        }
        for migration in &users {
            transaction.execute("DELETE FROM migrations WHERE name = ?1", [migration])?;
            transaction.execute("DELETE FROM locks WHERE migration = ?1", [migration])?;
        }
        let deleted =
            transaction.execute(&format!("DELETE FROM {table} WHERE name = ?1"), [name])?;
        if deleted == 0 {
            return Err(StateError::NotFound {
                kind,
                name: name.to_string(),
            });
        }
        transaction.commit()?;
        Ok(users)
    }
}
