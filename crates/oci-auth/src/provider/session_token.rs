//! Session-token credentials (`oci session authenticate`): `keyId = ST$<token>`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use crate::config::Profile;
use crate::credentials::{Credentials, KeyId, ProvideCredentials};
use crate::env::SharedEnv;
use crate::error::{Error, Result};
use crate::jwt;
use crate::key::PrivateKey;
use crate::secret::Secret;

const NEEDED_FOR: &str = "security token authentication";

/// Signs with a session token file and its session key.
///
/// `oci session refresh` rewrites the token file in place, so the file is
/// checked (one `stat`) on every call and re-read when it changed; the key
/// file likewise. An expired token is an error that says how to refresh it.
///
/// ```no_run
/// use std::sync::Arc;
/// use oci_auth::{ConfigFile, OsEnv, ProvideCredentials, SessionTokenProvider};
/// # async fn run() -> oci_auth::Result<()> {
/// let env = Arc::new(OsEnv);
/// let config = ConfigFile::load(ConfigFile::locate(None, env.as_ref()))?;
/// let provider = SessionTokenProvider::from_profile(&config.profile("DEFAULT")?, env)?;
/// let credentials = provider.credentials().await?;
/// println!("signing as {}", credentials.key_id()); // ST$<redacted>
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SessionTokenProvider {
    profile: String,
    token_path: PathBuf,
    key_path: PathBuf,
    passphrase: Option<Secret>,
    env: SharedEnv,
    cache: Mutex<Option<Cached>>,
}

#[derive(Debug)]
struct Cached {
    token_stamp: FileStamp,
    key_stamp: FileStamp,
    credentials: Credentials,
}

/// What changes when a file is rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
}

impl FileStamp {
    fn of(path: &Path) -> std::io::Result<Self> {
        let meta = std::fs::metadata(path)?;
        Ok(FileStamp { modified: meta.modified().ok(), len: meta.len() })
    }
}

impl SessionTokenProvider {
    /// A provider for the token in `token_path`, signed with the key in
    /// `key_path`; `profile` names the profile in error messages.
    pub fn new(
        profile: impl Into<String>,
        token_path: impl Into<PathBuf>,
        key_path: impl Into<PathBuf>,
        passphrase: Option<Secret>,
        env: SharedEnv,
    ) -> Self {
        SessionTokenProvider {
            profile: profile.into(),
            token_path: token_path.into(),
            key_path: key_path.into(),
            passphrase,
            env,
            cache: Mutex::new(None),
        }
    }

    /// Reads `security_token_file`, `key_file` and `pass_phrase` from a
    /// profile, and loads the token once so that a broken setup fails here.
    pub fn from_profile(profile: &Profile, env: SharedEnv) -> Result<Self> {
        let token_path = profile.security_token_file(env.as_ref()).ok_or_else(|| {
            profile.missing("security_token_file", NEEDED_FOR, Some("run `oci session authenticate`".into()))
        })?;
        let key_path = profile.key_file(env.as_ref()).ok_or_else(|| profile.missing("key_file", NEEDED_FOR, None))?;
        let provider = Self::new(profile.name(), token_path, key_path, profile.pass_phrase(), env);
        provider.load()?;
        Ok(provider)
    }

    /// The token file.
    pub fn token_path(&self) -> &Path {
        &self.token_path
    }

    fn load(&self) -> Result<Credentials> {
        let token_error = |source| Error::TokenFileUnreadable { path: self.token_path.clone(), source };
        let key_error = |source| Error::KeyFileUnreadable { path: self.key_path.clone(), source };
        let token_stamp = FileStamp::of(&self.token_path).map_err(token_error)?;
        let key_stamp = FileStamp::of(&self.key_path).map_err(key_error)?;

        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let fresh = cache.as_ref().filter(|c| c.token_stamp == token_stamp && c.key_stamp == key_stamp);
        let credentials = match fresh {
            Some(cached) => cached.credentials.clone(),
            None => {
                let key = match cache.as_ref().filter(|c| c.key_stamp == key_stamp) {
                    Some(cached) => cached.credentials.shared_key(),
                    None => Arc::new(PrivateKey::from_pem_file(&self.key_path, self.passphrase.as_ref())?),
                };
                let credentials = self.read_token(key)?;
                *cache = Some(Cached { token_stamp, key_stamp, credentials: credentials.clone() });
                credentials
            }
        };
        drop(cache);

        match credentials.expires_at() {
            Some(expired_at) if self.env.now() >= expired_at => Err(Error::SessionTokenExpired {
                profile: self.profile.clone(),
                path: self.token_path.clone(),
                expired_at,
            }),
            _ => Ok(credentials),
        }
    }

    /// Reads the token file and pairs the token with `key`.
    fn read_token(&self, key: Arc<PrivateKey>) -> Result<Credentials> {
        let text = crate::file::read_capped_text(&self.token_path)
            .map(Secret::new)
            .map_err(|source| Error::TokenFileUnreadable { path: self.token_path.clone(), source })?;
        let token = text.expose().trim();
        let invalid = |message: String| Error::InvalidToken { origin: self.token_path.display().to_string(), message };
        if token.is_empty() {
            return Err(invalid("the file is empty".into()));
        }
        let expires_at = jwt::expiry(token).map_err(invalid)?;
        Ok(Credentials::new(KeyId::security_token(token), key).with_expiry(expires_at))
    }
}

#[async_trait::async_trait]
impl ProvideCredentials for SessionTokenProvider {
    async fn credentials(&self) -> Result<Credentials> {
        self.load()
    }

    async fn refresh(&self) -> Result<Credentials> {
        *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = None;
        self.load()
    }
}

#[cfg(test)]
mod tests;
