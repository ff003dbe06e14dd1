//! `--bwlimit`: one token bucket shared by every transfer of a run.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How much a transfer may send at once before it must wait: one second's worth of the limit.
const BURST: Duration = Duration::from_secs(1);

/// A token bucket holding at most one second of bytes, refilled at `bytes_per_second`.
#[derive(Debug)]
pub struct BandwidthLimiter {
    bytes_per_second: u64,
    bucket: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    /// Bytes available now; negative when transfers have borrowed ahead (they wait it off).
    tokens: f64,
    refilled_at: Instant,
}

impl BandwidthLimiter {
    /// A limiter for `bytes_per_second` (at least 1), starting with a full bucket.
    pub fn new(bytes_per_second: u64) -> Self {
        Self::starting_at(bytes_per_second, Instant::now())
    }

    fn starting_at(bytes_per_second: u64, now: Instant) -> Self {
        let bytes_per_second = bytes_per_second.max(1);
        Self {
            bytes_per_second,
            bucket: Mutex::new(Bucket {
                tokens: capacity(bytes_per_second),
                refilled_at: now,
            }),
        }
    }

    /// Takes `bytes` from the bucket and returns how long the caller must wait before sending them.
    pub fn reserve(&self, bytes: u64, now: Instant) -> Duration {
        let rate = self.bytes_per_second as f64;
        let mut bucket = match self.bucket.lock() {
            Ok(bucket) => bucket,
            Err(poisoned) => poisoned.into_inner(),
        };
        let elapsed = now
            .saturating_duration_since(bucket.refilled_at)
            .as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity(self.bytes_per_second));
        bucket.refilled_at = bucket.refilled_at.max(now);
        bucket.tokens -= bytes as f64;
        if bucket.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-bucket.tokens / rate)
        }
    }

    /// Waits until `bytes` may be sent.
    pub async fn acquire(&self, bytes: u64) {
        let wait = self.reserve(bytes, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

fn capacity(bytes_per_second: u64) -> f64 {
    bytes_per_second as f64 * BURST.as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn a_full_bucket_sends_one_second_then_paces_at_the_rate() {
        let start = Instant::now();
        let limiter = BandwidthLimiter::starting_at(MIB, start);
        assert_eq!(limiter.reserve(MIB, start), Duration::ZERO);
        // The next MiB must wait a full second; the one after it two.
        assert_eq!(limiter.reserve(MIB, start), Duration::from_secs(1));
        assert_eq!(limiter.reserve(MIB, start), Duration::from_secs(2));
    }

    #[test]
    fn transfers_share_one_bucket_and_it_refills_with_time() {
        let start = Instant::now();
        let limiter = BandwidthLimiter::starting_at(10 * MIB, start);
        // Four transfers each take 4 MiB at once: 16 MiB against a 10 MiB bucket.
        let waits: Vec<Duration> = (0..4).map(|_| limiter.reserve(4 * MIB, start)).collect();
        assert_eq!(waits[0], Duration::ZERO);
        assert_eq!(waits[1], Duration::ZERO);
        assert!((waits[3].as_secs_f64() - 0.6).abs() < 1e-6, "{waits:?}");
        // After 2 s the 6 MiB debt is paid and the bucket is full again (capped at 10 MiB).
        let later = start + Duration::from_secs(2);
        assert_eq!(limiter.reserve(10 * MIB, later), Duration::ZERO);
        assert!(limiter.reserve(MIB, later) > Duration::ZERO);
    }

    #[test]
    fn an_idle_bucket_does_not_save_more_than_one_second() {
        let start = Instant::now();
        let limiter = BandwidthLimiter::starting_at(MIB, start);
        let much_later = start + Duration::from_secs(60);
        assert_eq!(limiter.reserve(MIB, much_later), Duration::ZERO);
        assert_eq!(limiter.reserve(MIB, much_later), Duration::from_secs(1));
    }
}
