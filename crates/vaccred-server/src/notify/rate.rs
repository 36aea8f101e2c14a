//! Rate limits of message delivery: a global token bucket and a per-recipient count over
//! a sliding hour.
//!
//! NOTE: both limits are kept in this process's memory, so each server process sharing a
//! database applies them separately; N processes may send N times the configured rate.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Window of the per-recipient limit.
const RECIPIENT_WINDOW: Duration = Duration::from_secs(3600);
/// Recipients tracked before idle ones are dropped from memory.
const PRUNE_THRESHOLD: usize = 10_000;

/// The limits of one process.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    global: Option<Mutex<TokenBucket>>,
    per_recipient: u32,
    recipients: Mutex<HashMap<String, VecDeque<Instant>>>,
}

#[derive(Debug)]
struct TokenBucket {
    per_second: f64,
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    /// Creates the limits; 0 disables a limit.
    pub(crate) fn new(global_per_second: u32, per_recipient_per_hour: u32) -> Self {
        let global = (global_per_second > 0).then(|| {
            Mutex::new(TokenBucket {
                per_second: f64::from(global_per_second),
                tokens: f64::from(global_per_second),
                updated: Instant::now(),
            })
        });
        Self {
            global,
            per_recipient: per_recipient_per_hour,
            recipients: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until the global limit allows one more message, and takes it.
    pub(crate) async fn acquire_global(&self) {
        let Some(bucket) = &self.global else { return };
        loop {
            let wait = {
                let mut bucket = bucket.lock().unwrap_or_else(|poison| poison.into_inner());
                bucket.refill(Instant::now());
                if bucket.tokens >= 1.0 {
                    bucket.tokens -= 1.0;
                    return;
                }
                Duration::from_secs_f64((1.0 - bucket.tokens) / bucket.per_second)
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Counts one message to `recipient`, or returns how long to wait when the recipient
    /// has reached the hourly limit.
    pub(crate) fn admit_recipient(&self, recipient: &str) -> Result<(), Duration> {
        if self.per_recipient == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut recipients = self
            .recipients
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if recipients.len() > PRUNE_THRESHOLD {
            recipients.retain(|_, sent| {
                sent.back()
                    .is_some_and(|last| now.duration_since(*last) < RECIPIENT_WINDOW)
            });
        }
        let sent = recipients.entry(recipient.to_owned()).or_default();
        while sent
            .front()
            .is_some_and(|first| now.duration_since(*first) >= RECIPIENT_WINDOW)
        {
            sent.pop_front();
        }
        let limit = usize::try_from(self.per_recipient).unwrap_or(usize::MAX);
        if sent.len() >= limit {
            let oldest = sent.front().copied().unwrap_or(now);
            return Err(RECIPIENT_WINDOW.saturating_sub(now.duration_since(oldest)));
        }
        sent.push_back(now);
        Ok(())
    }
}

impl TokenBucket {
    fn refill(&mut self, now: Instant) {
        let elapsed = now.duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.per_second);
        self.updated = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipient_limit_defers_extra_messages() {
        let limiter = RateLimiter::new(0, 2);
        assert_eq!(limiter.admit_recipient("a"), Ok(()));
        assert_eq!(limiter.admit_recipient("a"), Ok(()));
        let wait = limiter
            .admit_recipient("a")
            .expect_err("third message is limited");
        assert!(wait > Duration::from_secs(3500), "{wait:?}");
        assert_eq!(limiter.admit_recipient("b"), Ok(()));
    }

    #[test]
    fn zero_disables_recipient_limit() {
        let limiter = RateLimiter::new(0, 0);
        for _ in 0..100 {
            assert_eq!(limiter.admit_recipient("a"), Ok(()));
        }
    }

    #[tokio::test]
    async fn global_bucket_spaces_messages() {
        // A full bucket contains one second of messages; the next 100 at 1000 per second
        // need at least 100 ms.
        let limiter = RateLimiter::new(1000, 0);
        let start = Instant::now();
        for _ in 0..1100 {
            limiter.acquire_global().await;
        }
        assert!(
            start.elapsed() >= Duration::from_millis(90),
            "{:?}",
            start.elapsed()
        );
    }
}
