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
