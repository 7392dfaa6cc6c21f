//! One refreshing cache for every expiring credential.

use std::fmt;
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use crate::credentials::{Credentials, ProvideCredentials, SharedCredentialsProvider};
use crate::env::SharedEnv;
use crate::error::Result;

/// Refresh no later than this long before expiry (plus jitter).
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);
/// The most random extra margin, so that many processes do not refresh in step.
const MAX_JITTER: Duration = Duration::from_secs(30);
/// After a failed refresh, keep serving the old credentials this long before trying again.
const FAILURE_BACKOFF: Duration = Duration::from_secs(10);

/// Caches the credentials of a provider that fetches fresh ones on every
/// call (instance principal, resource principal), and refreshes them before
/// they expire.
///
/// - Credentials are refreshed at half their lifetime or in their last
///   minute (less a random jitter of up to 30 s), whichever comes first — as
///   the OCI SDKs do.
/// - Exactly one refresh runs at a time: concurrent callers wait for it and
///   share its result, so a burst of requests never stampedes the token
///   service.
/// - When a refresh fails, the old credentials keep being served until they
///   actually expire (retrying at most every 10 s); after that the error is
///   returned.
/// - [`refresh`](ProvideCredentials::refresh) forces a new fetch (after a 401);
///   concurrent forced refreshes share one fetch.
///
/// ```
/// use std::sync::Arc;
/// use oci_auth::{LazyCredentialsCache, OsEnv, SharedCredentialsProvider};
/// # fn wrap(fetching: SharedCredentialsProvider) {
/// let cached = LazyCredentialsCache::new(fetching, Arc::new(OsEnv));
/// # let _ = cached; }
/// ```
pub struct LazyCredentialsCache {
    inner: SharedCredentialsProvider,
    env: SharedEnv,
    state: RwLock<State>,
    refresh_lock: futures::lock::Mutex<()>,
}

#[derive(Default)]
struct State {
    current: Option<Entry>,
    /// Counts successful fetches, so that forced refreshes can tell whether one happened meanwhile.
    generation: u64,
    retry_not_before: Option<SystemTime>,
}

struct Entry {
    credentials: Credentials,
    refresh_at: Option<SystemTime>,
}

impl Entry {
    fn expired(&self, now: SystemTime) -> bool {
        self.credentials.expires_at().is_some_and(|exp| now >= exp)
    }

    fn fresh(&self, now: SystemTime) -> bool {
        self.refresh_at.is_none_or(|at| now < at)
    }
}

impl LazyCredentialsCache {
    /// Caches `inner`, reading the time from `env`.
    pub fn new(inner: SharedCredentialsProvider, env: SharedEnv) -> Self {
        LazyCredentialsCache { inner, env, state: RwLock::default(), refresh_lock: futures::lock::Mutex::new(()) }
    }

    fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.state.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The cached credentials, if they may be used at `now` without a fetch.
    fn usable(state: &State, now: SystemTime) -> Option<Credentials> {
        let entry = state.current.as_ref()?;
        let backing_off = state.retry_not_before.is_some_and(|t| now < t) && !entry.expired(now);
        (entry.fresh(now) || backing_off).then(|| entry.credentials.clone())
    }

    async fn update(&self, forced_after: Option<u64>) -> Result<Credentials> {
        let _single_flight = self.refresh_lock.lock().await;
        let now = self.env.now();
        let reuse = self.read(|state| match forced_after {
            // Someone else refreshed while we waited: their credentials are new enough.
            Some(seen) if state.generation != seen => state.current.as_ref().map(|e| e.credentials.clone()),
            Some(_) => None,
            None => Self::usable(state, now),
        });
        if let Some(credentials) = reuse {
            return Ok(credentials);
        }

        let fetched = self.inner.credentials().await;
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        match fetched {
            Ok(credentials) => {
                let refresh_at = credentials.expires_at().map(|exp| refresh_time(now, exp));
                state.current = Some(Entry { credentials: credentials.clone(), refresh_at });
                state.generation += 1;
                state.retry_not_before = None;
                Ok(credentials)
            }
            Err(error) => {
                state.retry_not_before = Some(now + FAILURE_BACKOFF);
                match state.current.as_ref().filter(|e| forced_after.is_none() && !e.expired(now)) {
                    Some(entry) => {
                        tracing::warn!(
                            expires_at = %entry.credentials.expires_at().map(httpdate::fmt_http_date).unwrap_or_default(),
                            "refreshing credentials failed; using the current ones until they expire: {error}"
                        );
                        Ok(entry.credentials.clone())
                    }
                    None => Err(error),
                }
            }
        }
    }
}

/// When to refresh credentials fetched at `now` that expire at `expires_at`:
/// at half life or in the last minute less jitter, whichever is first.
fn refresh_time(now: SystemTime, expires_at: SystemTime) -> SystemTime {
    let lifetime = expires_at.duration_since(now).unwrap_or_default();
    let half_life = now + lifetime / 2;
    let last_minute = expires_at.checked_sub(EXPIRY_MARGIN + jitter()).unwrap_or(now);
    half_life.min(last_minute).max(now)
}

fn jitter() -> Duration {
    let mut bytes = [0u8; 2];
    let random = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).map(|()| bytes);
    let fraction = f64::from(u16::from_le_bytes(random.unwrap_or_default())) / f64::from(u16::MAX);
    MAX_JITTER.mul_f64(fraction)
}

#[async_trait::async_trait]
impl ProvideCredentials for LazyCredentialsCache {
    async fn credentials(&self) -> Result<Credentials> {
        let now = self.env.now();
        if let Some(credentials) = self.read(|state| Self::usable(state, now)) {
            return Ok(credentials);
        }
        self.update(None).await
    }

    async fn refresh(&self) -> Result<Credentials> {
        let seen = self.read(|state| state.generation);
        self.update(Some(seen)).await
    }
}

impl fmt::Debug for LazyCredentialsCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (expires_at, generation) =
            self.read(|s| (s.current.as_ref().and_then(|e| e.credentials.expires_at()), s.generation));
        f.debug_struct("LazyCredentialsCache")
            .field("inner", &self.inner)
            .field("expires_at", &expires_at)
            .field("generation", &generation)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
