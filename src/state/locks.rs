//! Per-migration run locks (owner, host, pid, heartbeat), each recorded as a claim (`claims`),
//! dead-owner takeover, the claims' lease and heartbeat, and recovery of migrations a killed run
//! left `running`.

use jiff::{SignedDuration, Timestamp};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::state::claims::{RELEASE, end_live_claims_in, insert_claim_in};
use crate::state::error::StateError;
use crate::state::migrations::{MigrationFailure, MigrationState};
use crate::state::store::Store;
use crate::state::time;
use crate::state::transitions::set_state_in;

/// A claim's lease by default: a holder on another host whose last heartbeat is older than this
/// is gone, and its migration may be taken over. Heartbeats come every third of it
/// ([`heartbeat_interval`]), so two may be missed before the lease runs out.
pub const DEFAULT_LEASE: SignedDuration = SignedDuration::from_secs(15);

/// The environment variable that shortens (or lengthens) the lease, in whole seconds: a test
/// knob, not documented as a flag. Values below 2 s are raised to 2 s.
pub const LEASE_VARIABLE: &str = "FERRY_CLAIM_LEASE_SECONDS";

/// The lease of a claim: [`DEFAULT_LEASE`], or `FERRY_CLAIM_LEASE_SECONDS` when set.
pub fn claim_lease() -> SignedDuration {
    std::env::var(LEASE_VARIABLE)
        .ok()
        .and_then(|text| text.trim().parse::<u32>().ok())
        .map_or(DEFAULT_LEASE, |seconds| {
            SignedDuration::from_secs(i64::from(seconds.max(2)))
        })
}

/// How often a held claim is renewed: a third of the lease.
pub fn heartbeat_interval() -> std::time::Duration {
    let lease = claim_lease().unsigned_abs();
    lease / 3
}

/// The error a migration gets when the run that was executing it disappeared.
pub const INTERRUPTED_MESSAGE: &str = "interrupted: ferry was stopped while this migration ran";

/// Who holds (or held) a migration's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockInfo {
    pub migration: String,
    pub owner: String,
    pub host: String,
    pub pid: u32,
    pub heartbeat_at: Timestamp,
    pub acquired_at: Timestamp,
}

/// The lock was taken from a holder that is gone; say so to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenOver {
    pub previous: LockInfo,
}

/// A held lock. Dropping it (or [`LockGuard::release`]) deletes the lock row.
#[derive(Debug)]
pub struct LockGuard {
    store: Store,
    /// This lock's row in the claims history.
    claim: i64,
    info: LockInfo,
    taken_over: Option<TakenOver>,
    released: bool,
}

impl LockGuard {
    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    /// `Some` when the lock was taken over from a dead holder.
    pub fn taken_over(&self) -> Option<&TakenOver> {
        self.taken_over.as_ref()
    }

    /// Refreshes the heartbeat. Call it at least every minute while the migration runs.
    pub fn heartbeat(&mut self) -> Result<(), StateError> {
        let now = time::now();
        let changed = self.store.connection().execute(
            "UPDATE locks SET heartbeat_at = ?4 WHERE migration = ?1 AND host = ?2 AND pid = ?3",
            params![
                self.info.migration,
                self.info.host,
                self.info.pid,
                now.to_string()
            ],
        )?;
        if changed == 0 {
            return Err(StateError::NotFound {
                kind: "lock",
                name: self.info.migration.clone(),
            });
        }
        self.info.heartbeat_at = now;
        Ok(())
    }

    /// Releases the lock, reporting a failure that dropping would hide.
    pub fn release(mut self) -> Result<(), StateError> {
        self.released = true;
        self.delete_row()
    }

    /// Deletes the lock and ends its claim, at once.
    fn delete_row(&self) -> Result<(), StateError> {
        let mut connection = self.store.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        transaction.execute(
            "DELETE FROM locks WHERE migration = ?1 AND host = ?2 AND pid = ?3 AND acquired_at = ?4",
            params![
                self.info.migration,
                self.info.host,
                self.info.pid,
                self.info.acquired_at.to_string()
            ],
        )?;
        transaction.execute(RELEASE, params![self.claim, time::now().to_string()])?;
        transaction.commit()?;
        Ok(())
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if !self.released {
            // Nothing to report to from a destructor; a row left behind is taken over later.
            let _ = self.delete_row();
        }
    }
}

/// This machine's host name, as claims record it.
pub fn this_host() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// Whether process `pid` exists on this machine.
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 sends nothing; it only checks that the process exists.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Whether the holder of a lock is still there.
pub(crate) fn holder_alive(lock: &LockInfo, host: &str, now: Timestamp) -> bool {
    if lock.host == host {
        process_alive(lock.pid)
    } else {
        now.duration_since(lock.heartbeat_at) < claim_lease()
    }
}

fn find_lock_in(connection: &Connection, migration: &str) -> Result<Option<LockInfo>, StateError> {
    let row = connection
        .query_row(
            "SELECT owner, host, pid, heartbeat_at, acquired_at FROM locks WHERE migration = ?1",
            [migration],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                ))
            },
        )
        .optional()?;
    row.map(|(owner, host, pid, heartbeat_at, acquired_at)| {
        Ok(LockInfo {
            migration: migration.to_string(),
            owner,
            host,
            pid: u32::try_from(pid).map_err(|_| StateError::Corrupt {
                what: format!("lock pid {pid}"),
            })?,
            heartbeat_at: time::parse(&heartbeat_at)?,
            acquired_at: time::parse(&acquired_at)?,
        })
    })
    .transpose()
}

impl Store {
    /// Locks a migration for this process. Refused with [`StateError::Locked`] while a live
    /// process holds it; a dead holder's lock is taken over ([`LockGuard::taken_over`]).
    pub fn acquire_lock(&self, migration: &str, owner: &str) -> Result<LockGuard, StateError> {
        let host = this_host();
        let pid = std::process::id();
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read once the write lock is this process's: a claim starts after the one before it
        // ended, even when another process held the file while this one waited.
        let now = time::now();
        let mut taken_over = None;
        if let Some(previous) = find_lock_in(&transaction, migration)? {
            if holder_alive(&previous, &host, now) {
                return Err(StateError::Locked {
                    migration: migration.to_string(),
                    owner: previous.owner,
                    host: previous.host,
                    pid: previous.pid,
                    since: previous.acquired_at,
                });
            }
            transaction.execute("DELETE FROM locks WHERE migration = ?1", [migration])?;
            end_live_claims_in(&transaction, migration, "lost")?;
            taken_over = Some(TakenOver { previous });
        }
        transaction.execute(
            "INSERT INTO locks (migration, owner, host, pid, heartbeat_at, acquired_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![migration, owner, host, pid, now.to_string()],
        )?;
        let claim = insert_claim_in(&transaction, migration, owner, &host, pid, now)?;
        transaction.commit()?;
        drop(connection);
        Ok(LockGuard {
            store: self.clone(),
            claim,
            info: LockInfo {
                migration: migration.to_string(),
                owner: owner.to_string(),
                host,
                pid,
                heartbeat_at: now,
                acquired_at: now,
            },
            taken_over,
            released: false,
        })
    }

    /// Who holds a migration's lock, if anyone (alive or not).
    pub fn lock(&self, migration: &str) -> Result<Option<LockInfo>, StateError> {
        find_lock_in(&self.connection(), migration)
    }

    /// Turns every migration left `running` without a live lock into a retryable `error`
    /// ([`INTERRUPTED_MESSAGE`]), deleting dead locks. Returns the migrations recovered.
    pub fn recover_stale_running(&self) -> Result<Vec<String>, StateError> {
        let host = this_host();
        let mut connection = self.connection();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = time::now();
        let running: Vec<String> = {
            let mut statement = transaction
                .prepare("SELECT name FROM migrations WHERE state = 'running' ORDER BY rowid")?;
            let names = statement.query_map([], |row| row.get(0))?;
            names.collect::<Result<_, _>>()?
        };
        let failure = MigrationFailure {
            message: INTERRUPTED_MESSAGE.to_string(),
            retryable: true,
        };
        let mut recovered = Vec::new();
        for name in running {
            if let Some(lock) = find_lock_in(&transaction, &name)? {
                if holder_alive(&lock, &host, now) {
                    continue;
                }
                transaction.execute("DELETE FROM locks WHERE migration = ?1", [&name])?;
            }
            end_live_claims_in(&transaction, &name, "interrupted")?;
            set_state_in(&transaction, &name, MigrationState::Error, Some(&failure))?;
            recovered.push(name);
        }
        transaction.commit()?;
        Ok(recovered)
    }
}
