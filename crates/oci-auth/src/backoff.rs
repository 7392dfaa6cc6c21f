//! How long to wait between attempts: exponential backoff with full jitter,
//! as the OCI SDKs wait. The one backoff of locus-rs: token fetching here, and
//! the GenAI transport's retry policy.

use std::time::Duration;

/// Waits that double from `base` up to `max`, each drawn at random between
/// zero and its cap ("full jitter"), so that many clients retrying at once
/// spread out.
///
/// ```
/// use std::time::Duration;
/// use oci_auth::Backoff;
/// let backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
/// for retry in 0..10 {
///     assert!(backoff.delay(retry) <= Duration::from_secs(30));
/// }
/// assert!(backoff.delay(0) <= Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    max: Duration,
}

impl Backoff {
    /// Waits from `base`, doubling, capped at `max` (at least `base`).
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff { base, max: max.max(base) }
    }

    /// [`new`](Self::new) for constants; `max` must not be below `base`.
    pub const fn const_new(base: Duration, max: Duration) -> Self {
        Backoff { base, max }
    }

    /// The first cap.
    pub fn base(&self) -> Duration {
        self.base
    }

    /// The largest cap.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The wait before retry number `retry` (0 for the first retry): random,
    /// up to `base × 2^retry` capped at `max`.
    pub fn delay(&self, retry: u32) -> Duration {
        let cap = self.base.saturating_mul(2u32.saturating_pow(retry.min(20))).min(self.max);
        cap.mul_f64(random_fraction())
    }
}

fn random_fraction() -> f64 {
    let mut bytes = [0u8; 4];
    match ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX),
        Err(_) => 0.5,
    }
}
