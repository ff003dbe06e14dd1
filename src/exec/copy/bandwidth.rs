//! `--bwlimit`: one token bucket per process, shared by every migration and every transfer of a run.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How much may pass at once before transfers must wait: a tenth of a second's worth of the
/// limit. The bucket starts with this much too, so no run begins with a burst of a whole second.
const BURST: Duration = Duration::from_millis(100);

/// A token bucket holding at most `BURST` of bytes, refilled at `bytes_per_second`. Transfers may
/// borrow ahead (a chunk larger than the bucket), and then wait the debt off.
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
    /// Every byte reserved since the limiter was made.
    reserved: u64,
}

impl BandwidthLimiter {
    /// A limiter for `bytes_per_second` (at least 1), starting with a small burst (`BURST`).
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
                reserved: 0,
            }),
        }
    }

    /// Takes `bytes` from the bucket and returns how long the caller must wait before sending them.
    pub fn reserve(&self, bytes: u64, now: Instant) -> Duration {
        let rate = self.bytes_per_second as f64;
        let mut bucket = self.bucket();
        let elapsed = now
            .saturating_duration_since(bucket.refilled_at)
            .as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity(self.bytes_per_second));
        bucket.refilled_at = bucket.refilled_at.max(now);
        bucket.tokens -= bytes as f64;
        bucket.reserved = bucket.reserved.saturating_add(bytes);
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

    /// Every byte reserved through this limiter, by every transfer that shares it.
    pub fn bytes_reserved(&self) -> u64 {
        self.bucket().reserved
    }

    fn bucket(&self) -> std::sync::MutexGuard<'_, Bucket> {
        match self.bucket.lock() {
            Ok(bucket) => bucket,
            Err(poisoned) => poisoned.into_inner(),
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

    fn seconds(duration: Duration) -> f64 {
        duration.as_secs_f64()
    }

    #[test]
    fn a_new_bucket_lets_only_a_tenth_of_a_second_through_then_paces_at_the_rate() {
        let start = Instant::now();
        let limiter = BandwidthLimiter::starting_at(10 * MIB, start);
        // One MiB (a tenth of a second at 10 MiB/s) passes at once; not a second's worth.
        assert_eq!(limiter.reserve(MIB, start), Duration::ZERO);
        assert!((seconds(limiter.reserve(MIB, start)) - 0.1).abs() < 1e-6);
        assert!((seconds(limiter.reserve(8 * MIB, start)) - 0.9).abs() < 1e-6);
        assert_eq!(limiter.bytes_reserved(), 10 * MIB);
    }

    #[test]
    fn transfers_share_one_bucket_and_it_refills_with_time() {
        let start = Instant::now();
        let limiter = BandwidthLimiter::starting_at(10 * MIB, start);
        // Four transfers each take 4 MiB at once: 16 MiB against a 1 MiB bucket.
        let waits: Vec<f64> = (0..4)
            .map(|_| seconds(limiter.reserve(4 * MIB, start)))
            .collect();
        for (wait, expected) in waits.iter().zip([0.3, 0.7, 1.1, 1.5]) {
            assert!((wait - expected).abs() < 1e-6, "{waits:?}");
        }
        // After 2 s the 15 MiB debt is paid and the bucket is full again (capped at 1 MiB).
        let later = start + Duration::from_secs(2);
        assert_eq!(limiter.reserve(MIB, later), Duration::ZERO);
        assert!(limiter.reserve(MIB, later) > Duration::ZERO);
        assert_eq!(limiter.bytes_reserved(), 18 * MIB);
    }

    #[test]
    fn an_idle_bucket_does_not_save_more_than_a_tenth_of_a_second() {
        let start = Instant::now();
        let limiter = BandwidthLimiter::starting_at(MIB, start);
        let much_later = start + Duration::from_secs(60);
        assert_eq!(limiter.reserve(MIB / 10, much_later), Duration::ZERO);
        assert!((seconds(limiter.reserve(MIB, much_later)) - 1.0).abs() < 1e-6);
    }
}
