//! When and how long to wait before trying again.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use oci_auth::Backoff;

/// The retry policy: the OCI SDK's default strategy, exponential backoff with
/// full jitter, `Retry-After` respected.
///
/// Retried: timeouts and connection errors, 409 `IncorrectState` and
/// `LockConflict`, 429, and 5xx except 501 (see
/// [`Error::is_retryable`](crate::Error::is_retryable)). A streaming request is
/// retried only until its first byte arrives. A 401 refreshes the credentials
/// and retries once, outside this count.
///
/// ```
/// use std::time::Duration;
/// use oci_genai_transport::RetryPolicy;
/// let policy = RetryPolicy::default().with_max_attempts(3).with_max_elapsed(Duration::from_secs(20));
/// assert_eq!(policy.max_attempts(), 3);
/// assert_eq!(RetryPolicy::none().max_attempts(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    max_elapsed: Duration,
    backoff: Backoff,
}

impl Default for RetryPolicy {
    /// 8 attempts within 600 s; delays from 1 s doubling to at most 30 s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            max_elapsed: Duration::from_secs(600),
            backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(30)),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy { max_attempts: 1, ..Self::default() }
    }

    /// The most attempts, the first included (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// No new attempt starts after this much time.
    pub fn with_max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = elapsed;
        self
    }

    /// The first delay, and the cap that doubling stops at.
    pub fn with_delays(mut self, base: Duration, max: Duration) -> Self {
        self.backoff = Backoff::new(base, max);
        self
    }

    /// The most attempts.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The time budget.
    pub fn max_elapsed(&self) -> Duration {
        self.max_elapsed
    }

    /// How long to wait before retry number `retry` (0 for the first retry):
    /// the [`Backoff`]'s random delay up to `base × 2^retry` (capped), or
    /// `retry_after` when the service asked for longer.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let jittered = self.backoff.delay(retry);
        match retry_after {
            Some(asked) => asked.max(jittered),
            None => jittered,
        }
    }
}

/// A `Retry-After` value: seconds, or an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    httpdate::parse_http_date(value).ok().map(|at| at.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_capped() {
        let policy = RetryPolicy::default();
        for retry in 0..30 {
            let cap = Duration::from_secs(1) * 2u32.pow(retry.min(5));
            assert!(policy.delay(retry, None) <= cap.min(Duration::from_secs(30)));
        }
        assert_eq!(policy.delay(0, Some(Duration::from_secs(45))), Duration::from_secs(45));
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}

/// A retry about to happen: handed to the observer set with
/// [`GenAiClientBuilder::on_retry`](crate::GenAiClientBuilder::on_retry)
/// before the wait, so that a person waiting is told.
///
/// ```
/// use std::time::Duration;
/// use oci_genai_transport::RetryNotice;
/// let notice = RetryNotice { attempt: 2, max_attempts: 8, delay: Duration::from_millis(2100), reason: "429 TooManyRequests".into() };
/// assert_eq!(notice.to_string(), "retrying in 2.1 s after 429 TooManyRequests (attempt 2 of 8)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryNotice {
    /// The attempt about to be made (2 for the first retry).
    pub attempt: u32,
    /// The most attempts.
    pub max_attempts: u32,
    /// The wait before it.
    pub delay: Duration,
    /// What failed: `429 TooManyRequests`, `a timeout`, a connection error.
    pub reason: String,
}

impl fmt::Display for RetryNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "retrying in {:.1} s after {} (attempt {} of {})",
            self.delay.as_secs_f64(),
            self.reason,
            self.attempt,
            self.max_attempts
        )
    }
}

/// Told of each retry before its wait.
pub type RetryObserver = Arc<dyn Fn(&RetryNotice) + Send + Sync>;
