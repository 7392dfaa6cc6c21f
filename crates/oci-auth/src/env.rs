//! The process environment, as providers see it.
//!
//! Providers never call `std::env` or the system clock directly: they ask an
//! [`Env`]. Production code uses [`OsEnv`]; tests hand a [`StaticEnv`] with
//! exactly the variables, home directory and time they need, without touching
//! the process's own environment (which is shared by every test thread).

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

/// What a credential provider may read from its surroundings.
///
/// ```
/// use oci_auth::{Env, StaticEnv};
/// let env = StaticEnv::new().with_var("OCI_CLI_PROFILE", "dev").with_home("/home/me");
/// assert_eq!(env.var("OCI_CLI_PROFILE").as_deref(), Some("dev"));
/// assert_eq!(env.home_dir(), Some("/home/me".into()));
/// ```
pub trait Env: Send + Sync + fmt::Debug {
    /// The value of an environment variable, if set and valid UTF-8.
    fn var(&self, name: &str) -> Option<String>;
    /// The user's home directory, for `~` expansion and `~/.oci/config`.
    fn home_dir(&self) -> Option<PathBuf>;
    /// The current time, for `date` headers and token expiry.
    fn now(&self) -> SystemTime;
}

/// A shared, dynamically typed [`Env`].
pub type SharedEnv = Arc<dyn Env>;

/// The real process environment and system clock.
///
/// ```
/// use oci_auth::{Env, OsEnv};
/// let _now = OsEnv.now();
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct OsEnv;

impl Env for OsEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn home_dir(&self) -> Option<PathBuf> {
        // `HOME` first, as the OCI CLI does; `USERPROFILE` for Windows.
        std::env::var_os("HOME")
            .or_else(|| std::env::var_os("USERPROFILE"))
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
    }

    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A fixed environment for tests and embedding: variables, home directory and
/// (optionally) a frozen clock.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use oci_auth::{Env, StaticEnv};
/// let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let env = StaticEnv::new().with_now(t);
/// assert_eq!(env.now(), t);
/// assert_eq!(env.var("HOME"), None);
/// ```
#[derive(Debug, Clone, Default)]
pub struct StaticEnv {
    vars: HashMap<String, String>,
    home: Option<PathBuf>,
    now: Option<SystemTime>,
}

impl StaticEnv {
    /// An environment with no variables, no home and the real clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets one variable.
    pub fn with_var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// Sets the home directory.
    pub fn with_home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }

    /// Freezes the clock at `now`.
    pub fn with_now(mut self, now: SystemTime) -> Self {
        self.now = Some(now);
        self
    }
}

impl Env for StaticEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    fn home_dir(&self) -> Option<PathBuf> {
        self.home.clone()
    }

    fn now(&self) -> SystemTime {
        self.now.unwrap_or_else(SystemTime::now)
    }
}

/// Expands a leading `~` or `~/` to the home directory, as the OCI SDKs do
/// for `key_file` and `security_token_file`.
pub(crate) fn expand_tilde(path: &str, env: &dyn Env) -> PathBuf {
    let rest = if path == "~" { Some("") } else { path.strip_prefix("~/").or_else(|| path.strip_prefix("~\\")) };
    match (rest, env.home_dir()) {
        (Some(""), Some(home)) => home,
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_expands_only_at_the_start() {
        let env = StaticEnv::new().with_home("/home/me");
        assert_eq!(expand_tilde("~/.oci/key.pem", &env), PathBuf::from("/home/me/.oci/key.pem"));
        assert_eq!(expand_tilde("~", &env), PathBuf::from("/home/me"));
        assert_eq!(expand_tilde("/abs/~/x", &env), PathBuf::from("/abs/~/x"));
        assert_eq!(expand_tilde("~other/x", &env), PathBuf::from("~other/x"));
    }

    #[test]
    fn tilde_without_home_stays() {
        assert_eq!(expand_tilde("~/k.pem", &StaticEnv::new()), PathBuf::from("~/k.pem"));
    }
}
