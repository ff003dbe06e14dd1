//! A small pool of SSH connections to one server, so parallel transfers use several CPU cores.
//!
//! One SSH connection encrypts on one core, so a single connection caps throughput; the pool
//! opens up to `size` connections, lazily, as concurrent work asks for them. Each request takes
//! an idle connection if there is one, else opens a new one while under the limit, else shares
//! the least busy one. A connection is busy while someone holds its `Arc` (an open reader or
//! writer holds it for its whole life). Closed connections are dropped and replaced on demand,
//! which is what makes `Connection` errors worth retrying.
//!
//! Every connection after the first must show the same host key as the first one did, so all
//! of a tree's connections are known to reach the same server.

use std::sync::Arc;

use tokio::sync::Mutex;

use super::connection::{Connection, Dialer};
use super::host_key::HostKeyPolicy;
use crate::exec::transport::TransportResult;

pub(crate) struct Pool {
    dialer: Dialer,
    /// The fingerprint the first connection accepted; later connections are pinned to it.
    fingerprint: String,
    size: usize,
    connections: Mutex<Vec<Arc<Connection>>>,
}

impl Pool {
    /// A pool seeded with an already open, verified connection.
    pub(crate) fn new(dialer: Dialer, first: Connection, fingerprint: String, size: usize) -> Self {
        Self {
            dialer,
            fingerprint,
            size: size.max(1),
            connections: Mutex::new(vec![Arc::new(first)]),
        }
    }

    /// A connection to run one request or stream on.
    pub(crate) async fn get(&self) -> TransportResult<Arc<Connection>> {
        let mut connections = self.connections.lock().await;
        connections.retain(|connection| !connection.is_closed());
        // Only the pool holds an idle connection.
        if let Some(idle) = connections
            .iter()
            .find(|connection| Arc::strong_count(connection) == 1)
        {
            return Ok(idle.clone());
        }
        if connections.len() < self.size {
            // Dialing while holding the lock keeps the pool within `size`; other requests wait
            // for at most one handshake.
            let connection = Arc::new(self.dial().await?);
            connections.push(connection.clone());
            return Ok(connection);
        }
        let least_busy = connections
            .iter()
            .min_by_key(|connection| Arc::strong_count(connection))
            .cloned();
        match least_busy {
            Some(connection) => Ok(connection),
            // Unreachable with size >= 1 (the branch above dials), kept total for safety.
            None => Ok(Arc::new(self.dial().await?)),
        }
    }

    /// A new connection to the server the first one reached (same host key).
    async fn dial(&self) -> TransportResult<Connection> {
        let policy = HostKeyPolicy::Pinned {
            fingerprint: self.fingerprint.clone(),
            revocations: None,
        };
        let (connection, _, _) = self.dialer.dial(policy).await?;
        Ok(connection)
    }

    /// How many connections are open now (for tests and reports).
    pub(crate) async fn open_connections(&self) -> usize {
        let connections = self.connections.lock().await;
        connections
            .iter()
            .filter(|connection| !connection.is_closed())
            .count()
    }
}
