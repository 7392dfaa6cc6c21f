use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::*;
use crate::{Env, Error, KeyId, PrivateKey};

/// A clock tests move by hand.
#[derive(Debug, Default)]
struct ManualClock(AtomicU64);

impl ManualClock {
    fn set(&self, secs: u64) {
        self.0.store(secs, Ordering::SeqCst);
    }
}

impl Env for ManualClock {
    fn var(&self, _: &str) -> Option<String> {
        None
    }
    fn home_dir(&self) -> Option<PathBuf> {
        None
    }
    fn now(&self) -> SystemTime {
        at(self.0.load(Ordering::SeqCst))
    }
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// Hands out a new token (valid `lifetime` seconds from the clock's now) per call, slowly.
#[derive(Debug)]
struct Fetcher {
    clock: Arc<ManualClock>,
    key: Arc<PrivateKey>,
    lifetime: u64,
    calls: AtomicU64,
    fail: AtomicBool,
}

#[async_trait::async_trait]
impl ProvideCredentials for Fetcher {
    async fn credentials(&self) -> Result<Credentials> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
        if self.fail.load(Ordering::SeqCst) {
            return Err(Error::MetadataStatus { url: "http://imds/".into(), status: 503 });
        }
        let expires = self.clock.now() + Duration::from_secs(self.lifetime);
        Ok(Credentials::new(KeyId::security_token(&format!("token-{n}")), Arc::clone(&self.key)).with_expiry(expires))
    }
}

fn setup(lifetime: u64) -> (Arc<ManualClock>, Arc<Fetcher>, Arc<LazyCredentialsCache>) {
    let clock = Arc::new(ManualClock::default());
    clock.set(1_000);
    let pem = include_str!("../../tests/fixtures/vectors/key-pkcs8.pem");
    let key = Arc::new(PrivateKey::from_pem(pem, None).unwrap());
    let fetcher = Arc::new(Fetcher {
        clock: Arc::clone(&clock),
        key,
        lifetime,
        calls: AtomicU64::new(0),
        fail: AtomicBool::new(false),
    });
    let cache = Arc::new(LazyCredentialsCache::new(fetcher.clone(), clock.clone()));
    (clock, fetcher, cache)
}

async fn token(cache: &LazyCredentialsCache) -> String {
    cache.credentials().await.unwrap().key_id().expose().to_owned()
}

#[test]
fn refresh_time_is_half_life_or_last_minute_less_jitter() {
    // 20-minute token: half life wins.
    assert_eq!(refresh_time(at(0), at(1_200)), at(600));
    // 90-second token: half life (45 s) is before the last minute less jitter? 90-60-jitter <= 30 < 45.
    let t = refresh_time(at(0), at(90));
    assert!(t <= at(30) && t >= at(0), "{t:?}");
    // Already (almost) expired: refresh now.
    assert_eq!(refresh_time(at(100), at(110)), at(100));
}

#[tokio::test]
async fn serves_the_cache_until_half_life() {
    let (clock, fetcher, cache) = setup(1_200);
    assert_eq!(token(&cache).await, "ST$token-1");
    clock.set(1_599);
    assert_eq!(token(&cache).await, "ST$token-1");
    assert_eq!(fetcher.calls.load(Ordering::SeqCst), 1);
    clock.set(1_600);
    assert_eq!(token(&cache).await, "ST$token-2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_callers_share_one_refresh() {
    let (clock, fetcher, cache) = setup(1_200);
    assert_eq!(token(&cache).await, "ST$token-1");
    clock.set(2_150); // past half life, before expiry
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move { token(&cache).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), "ST$token-2");
    }
    assert_eq!(fetcher.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_failed_refresh_serves_the_old_token_until_it_expires() {
    let (clock, fetcher, cache) = setup(1_200);
    assert_eq!(token(&cache).await, "ST$token-1");
    fetcher.fail.store(true, Ordering::SeqCst);
    clock.set(1_700);
    assert_eq!(token(&cache).await, "ST$token-1");
    assert_eq!(fetcher.calls.load(Ordering::SeqCst), 2);
    // Within the backoff, no new attempt.
    clock.set(1_705);
    assert_eq!(token(&cache).await, "ST$token-1");
    assert_eq!(fetcher.calls.load(Ordering::SeqCst), 2);
    // After it, another attempt, still serving the old token.
    clock.set(1_711);
    assert_eq!(token(&cache).await, "ST$token-1");
    assert_eq!(fetcher.calls.load(Ordering::SeqCst), 3);
    // Expired: the cause comes through.
    clock.set(2_200);
    let err = cache.credentials().await.unwrap_err();
    assert!(matches!(err, Error::MetadataStatus { status: 503, .. }), "{err:?}");
    // Recovery.
    fetcher.fail.store(false, Ordering::SeqCst);
    clock.set(2_300);
    assert!(token(&cache).await.starts_with("ST$token-"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_refreshes_fetch_once_for_concurrent_callers() {
    let (_clock, fetcher, cache) = setup(1_200);
    assert_eq!(token(&cache).await, "ST$token-1");
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move { cache.refresh().await.unwrap().key_id().expose().to_owned() })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), "ST$token-2");
    }
    assert_eq!(fetcher.calls.load(Ordering::SeqCst), 2);
    // A later forced refresh fetches again.
    assert_eq!(cache.refresh().await.unwrap().key_id().expose(), "ST$token-3");
}

#[tokio::test]
async fn a_failed_forced_refresh_is_an_error() {
    let (_clock, fetcher, cache) = setup(1_200);
    token(&cache).await;
    fetcher.fail.store(true, Ordering::SeqCst);
    assert!(cache.refresh().await.is_err());
}

#[tokio::test]
async fn debug_shows_no_token() {
    let (_clock, _fetcher, cache) = setup(1_200);
    token(&cache).await;
    let shown = format!("{cache:?}");
    assert!(!shown.contains("token-1"), "{shown}");
}
