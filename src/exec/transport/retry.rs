//! The one retry policy for transient failures (`TransportError::is_retryable`: a dropped
//! connection, a timeout): how many times an operation is tried again, and the wait before each.
//!
//! What each layer retries, so that none retries what another already did:
//! - This policy retries whole operations: opening an SFTP server (`exec::connect`), copying one
//!   file (read, write, verify, rename; from its start or from where a large one stopped), and
//!   recreating one symlink (`exec::copy::transfer`). `retries` tries after the first, the first
//!   after `first_backoff`, each wait twice the one before (a failure `Backoff` does not retry is
//!   returned at once).
//! - object_store retries each HTTP request to S3 or Azure Blob itself (`RetryConfig` in
//!   `transport::object_store::connect`: 3 retries with its own exponential backoff, within 30 s).
//!   So opening an object store (one listing request) is not retried here again; a file copy is,
//!   as a whole, which object_store cannot do (a stream cut midway, an upload whose part failed
//!   for good).
//! - The SFTP pool (`transport::sftp::pool`) retries nothing: it replaces a dropped connection on
//!   the next request, which is what makes this policy's retries of SFTP operations useful.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How transient failures are retried (per connection opened, per file, per symlink).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first try.
    pub retries: u32,
    /// The wait before the first retry; it doubles for each one after.
    pub first_backoff: Duration,
}

impl RetryPolicy {
    /// The first backoff used when none is configured.
    pub const DEFAULT_FIRST_BACKOFF: Duration = Duration::from_secs(1);
    /// The most a backoff doubles (so the wait cannot overflow).
    const MOST_DOUBLINGS: u32 = 16;

    /// Never retry.
    pub const NONE: Self = Self {
        retries: 0,
        first_backoff: Duration::ZERO,
    };

    /// The retries of one operation, none used yet.
    pub fn backoff(self) -> Backoff {
        Backoff {
            policy: self,
            retried: 0,
        }
    }

    /// The wait before retry number `retried` (0 for the first).
    pub fn delay(self, retried: u32) -> Duration {
        self.first_backoff
            .saturating_mul(1u32 << retried.min(Self::MOST_DOUBLINGS))
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            retries: 3,
            first_backoff: Self::DEFAULT_FIRST_BACKOFF,
        }
    }
}

/// A wait was cut short because the run was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

/// One operation's retries: call [`Backoff::wait`] after each retryable failure.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: RetryPolicy,
    retried: u32,
}

impl Backoff {
    /// After a retryable failure: waits the next backoff and returns `true` (try again), or
    /// returns `false` at once when the retries are used up. With `cancel`, a cancellation
    /// during the wait ends it with [`Cancelled`].
    pub async fn wait(&mut self, cancel: Option<&CancellationToken>) -> Result<bool, Cancelled> {
        if self.retried >= self.policy.retries {
            return Ok(false);
        }
        let delay = self.policy.delay(self.retried);
        self.retried += 1;
        match cancel {
            Some(cancel) => tokio::select! {
                () = cancel.cancelled() => Err(Cancelled),
                () = tokio::time::sleep(delay) => Ok(true),
            },
            None => {
                tokio::time::sleep(delay).await;
                Ok(true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_wait_doubles_the_one_before() {
        let policy = RetryPolicy {
            retries: 3,
            first_backoff: Duration::from_millis(10),
        };
        let waits: Vec<_> = (0..3).map(|retried| policy.delay(retried)).collect();
        assert_eq!(
            waits,
            [10, 20, 40].map(Duration::from_millis).to_vec(),
            "doubling from the first backoff"
        );
        assert_eq!(
            policy.delay(u32::MAX),
            Duration::from_millis(10) * (1 << 16)
        );
    }

    #[tokio::test]
    async fn retries_run_out_and_cancelling_stops_a_wait() {
        let mut backoff = RetryPolicy {
            retries: 2,
            first_backoff: Duration::from_millis(1),
        }
        .backoff();
        assert_eq!(backoff.wait(None).await, Ok(true));
        assert_eq!(backoff.wait(None).await, Ok(true));
        assert_eq!(backoff.wait(None).await, Ok(false), "two retries only");

        let cancel = CancellationToken::new();
        cancel.cancel();
        // A whole day's wait, ended by the cancellation at once.
        let mut backoff = RetryPolicy {
            retries: 1,
            first_backoff: Duration::from_secs(86_400),
        }
        .backoff();
        assert_eq!(backoff.wait(Some(&cancel)).await, Err(Cancelled));
        assert_eq!(RetryPolicy::NONE.backoff().wait(None).await, Ok(false));
    }
}
