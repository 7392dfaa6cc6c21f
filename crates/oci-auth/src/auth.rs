//! Choosing and building a credential provider from configuration.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::auth_type::AuthType;
use crate::config::{ConfigFile, Profile};
use crate::credentials::{Credentials, ProvideCredentials, SharedCredentialsProvider};
use crate::env::{OsEnv, SharedEnv};
use crate::error::{Error, Result};
use crate::provider::{ApiKeyProvider, SessionTokenProvider};

/// A ready credential provider, with the region its configuration names.
///
/// ```no_run
/// use oci_auth::{Auth, AuthType};
/// # async fn run() -> oci_auth::Result<()> {
/// // ~/.oci/config, profile from OCI_CLI_PROFILE or DEFAULT, API key unless OCI_CLI_AUTH says otherwise:
/// let auth = Auth::builder().build()?;
/// // A named profile with a session token from `oci session authenticate`:
/// let auth = Auth::builder().profile("SESSION").auth_type(AuthType::SecurityToken).build()?;
/// println!("region: {:?}", auth.region());
/// let credentials = auth.credentials().await?;
/// # let _ = credentials; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Auth {
    provider: SharedCredentialsProvider,
    auth_type: AuthType,
    region: Option<String>,
    profile: Option<Profile>,
}

impl Auth {
    /// Starts configuring.
    pub fn builder() -> AuthBuilder {
        AuthBuilder::default()
    }

    /// API-key auth from `profile` in the default config file.
    pub fn from_config(profile: &str) -> Result<Self> {
        Self::builder().profile(profile).build()
    }

    /// Wraps any provider.
    pub fn from_provider(provider: SharedCredentialsProvider, auth_type: AuthType, region: Option<String>) -> Self {
        Auth { provider, auth_type, region, profile: None }
    }

    /// The provider, to share with clients.
    pub fn provider(&self) -> &SharedCredentialsProvider {
        &self.provider
    }

    /// The auth type in use.
    pub fn auth_type(&self) -> AuthType {
        self.auth_type
    }

    /// The region configured for this principal, if any.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The config profile used, if the credentials came from one.
    pub fn profile(&self) -> Option<&Profile> {
        self.profile.as_ref()
    }

    /// Credentials for the next request.
    pub async fn credentials(&self) -> Result<Credentials> {
        self.provider.credentials().await
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("auth_type", &self.auth_type)
            .field("region", &self.region)
            .field("profile", &self.profile.as_ref().map(Profile::name))
            .finish_non_exhaustive()
    }
}

/// Builds an [`Auth`]: where the config file is, which profile, which auth type.
#[derive(Debug, Clone)]
pub struct AuthBuilder {
    config_file: Option<PathBuf>,
    profile: Option<String>,
    auth_type: Option<AuthType>,
    env: SharedEnv,
}

impl Default for AuthBuilder {
    fn default() -> Self {
        AuthBuilder { config_file: None, profile: None, auth_type: None, env: Arc::new(OsEnv) }
    }
}

impl AuthBuilder {
    /// The config file (default: `OCI_CONFIG_FILE`, else `~/.oci/config`).
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config_file = Some(path.into());
        self
    }

    /// The profile (default: `OCI_CLI_PROFILE`, `OCI_PROFILE`, else `DEFAULT`).
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self
    }

    /// The auth type (default: `OCI_CLI_AUTH`, else `api_key`).
    pub fn auth_type(mut self, auth_type: AuthType) -> Self {
        self.auth_type = Some(auth_type);
        self
    }

    /// Reads variables, home and time from `env` instead of the process.
    pub fn env(mut self, env: SharedEnv) -> Self {
        self.env = env;
        self
    }

    /// Reads the configuration and builds the provider; every problem is
    /// reported here, before any request is made.
    pub fn build(self) -> Result<Auth> {
        let auth_type = match self.auth_type {
            Some(t) => t,
            None => match self.env.var("OCI_CLI_AUTH").filter(|v| !v.is_empty()) {
                Some(value) => value.parse()?,
                None => AuthType::ApiKey,
            },
        };
        let provider: SharedCredentialsProvider;
        let profile = match auth_type {
            AuthType::ApiKey | AuthType::SecurityToken => {
                let path = ConfigFile::locate(self.config_file.as_deref(), self.env.as_ref());
                let name = ConfigFile::profile_name(self.profile.as_deref(), self.env.as_ref());
                let profile = ConfigFile::load(&path)?.profile(&name)?;
                provider = if auth_type == AuthType::ApiKey {
                    Arc::new(ApiKeyProvider::from_profile(&profile, self.env.as_ref())?)
                } else {
                    Arc::new(SessionTokenProvider::from_profile(&profile, Arc::clone(&self.env))?)
                };
                profile
            }
            other => return Err(Error::AuthTypeUnsupported { auth_type: other }),
        };
        let region = profile.region().map(str::to_owned);
        Ok(Auth { provider, auth_type, region, profile: Some(profile) })
    }
}

/// Lets an `Arc<dyn ProvideCredentials>` be used where a provider is expected.
#[async_trait::async_trait]
impl ProvideCredentials for Auth {
    async fn credentials(&self) -> Result<Credentials> {
        self.provider.credentials().await
    }

    async fn refresh(&self) -> Result<Credentials> {
        self.provider.refresh().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StaticEnv;

    const KEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors/key-pkcs8.pem");
    const FP: &str = "a0:04:5f:c1:b3:9e:9c:db:fe:4d:51:8d:f9:42:f8:db";
    // {"exp": 4102444800} — 2100-01-01.
    const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.c2ln";

    struct Home(tempfile::TempDir);

    impl Home {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir(dir.path().join(".oci")).unwrap();
            std::fs::write(dir.path().join(".oci/token"), TOKEN).unwrap();
            let config = format!(
                "[DEFAULT]\nregion = us-chicago-1\ntenancy = ocid1.tenancy.oc1..t\nkey_file = {KEY}\n\n\
                 [USER]\nuser = ocid1.user.oc1..u\nfingerprint = {FP}\n\n\
                 [SESSION]\nregion = eu-frankfurt-1\nsecurity_token_file = ~/.oci/token\n"
            );
            std::fs::write(dir.path().join(".oci/config"), config).unwrap();
            Home(dir)
        }

        fn env(&self) -> StaticEnv {
            StaticEnv::new().with_home(self.0.path())
        }
    }

    fn build(env: StaticEnv, configure: impl FnOnce(AuthBuilder) -> AuthBuilder) -> Result<Auth> {
        configure(Auth::builder().env(Arc::new(env))).build()
    }

    #[tokio::test]
    async fn api_key_from_the_default_location() {
        let home = Home::new();
        let auth = build(home.env(), |b| b.profile("USER")).unwrap();
        assert_eq!(auth.auth_type(), AuthType::ApiKey);
        assert_eq!(auth.region(), Some("us-chicago-1"));
        let id = auth.credentials().await.unwrap().key_id().expose().to_owned();
        assert_eq!(id, format!("ocid1.tenancy.oc1..t/ocid1.user.oc1..u/{FP}"));
    }

    #[tokio::test]
    async fn profile_and_auth_type_from_the_environment() {
        let home = Home::new();
        let env = home.env().with_var("OCI_CLI_PROFILE", "SESSION").with_var("OCI_CLI_AUTH", "session_token");
        let auth = build(env, |b| b).unwrap();
        assert_eq!(auth.auth_type(), AuthType::SecurityToken);
        assert_eq!(auth.region(), Some("eu-frankfurt-1"));
        assert_eq!(auth.credentials().await.unwrap().key_id().expose(), format!("ST${TOKEN}"));
        assert_eq!(auth.profile().map(Profile::name), Some("SESSION"));
    }

    #[test]
    fn explicit_settings_win_over_the_environment() {
        let home = Home::new();
        let env = home.env().with_var("OCI_CLI_PROFILE", "NOPE").with_var("OCI_CLI_AUTH", "bogus");
        let auth = build(env, |b| b.profile("USER").auth_type(AuthType::ApiKey)).unwrap();
        assert_eq!(auth.profile().map(Profile::name), Some("USER"));
    }

    #[test]
    fn config_file_from_oci_config_file() {
        let home = Home::new();
        let moved = home.0.path().join("elsewhere");
        std::fs::rename(home.0.path().join(".oci/config"), &moved).unwrap();
        let env = home.env().with_var("OCI_CONFIG_FILE", moved.to_string_lossy());
        assert!(build(env, |b| b.profile("USER")).is_ok());
        let err = build(home.env(), |b| b.profile("USER")).unwrap_err();
        assert!(matches!(err, Error::ConfigFileUnreadable { .. }), "{err:?}");
    }

    #[test]
    fn errors_name_what_to_fix() {
        let home = Home::new();
        let err = build(home.env(), |b| b.profile("MISSING")).unwrap_err();
        assert!(err.to_string().contains("DEFAULT, USER, SESSION"), "{err}");
        let err = build(home.env().with_var("OCI_CLI_AUTH", "kerberos"), |b| b).unwrap_err();
        assert!(matches!(err, Error::UnknownAuthType { .. }), "{err:?}");
        for auth_type in [AuthType::InstancePrincipal, AuthType::ResourcePrincipal] {
            let err = build(home.env(), |b| b.auth_type(auth_type)).unwrap_err();
            assert!(matches!(err, Error::AuthTypeUnsupported { .. }), "{err:?}");
        }
        // DEFAULT has no user: API key auth says so.
        let err = build(home.env(), |b| b).unwrap_err();
        assert!(matches!(err, Error::MissingConfigKey { key: "user", .. }), "{err:?}");
    }

    #[test]
    fn debug_shows_no_secrets() {
        let home = Home::new();
        let auth = build(home.env(), |b| b.profile("SESSION").auth_type(AuthType::SecurityToken)).unwrap();
        let shown = format!("{auth:?} {:?}", auth.provider());
        assert!(!shown.contains(TOKEN), "{shown}");
    }
}
