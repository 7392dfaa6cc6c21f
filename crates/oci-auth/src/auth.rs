//! Choosing and building a credential provider from configuration.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::auth_type::AuthType;
use crate::config::{ConfigFile, Profile};
use crate::credentials::{Credentials, ProvideCredentials, SharedCredentialsProvider};
use crate::env::{OsEnv, SharedEnv};
use crate::error::Result;
#[cfg(feature = "principals")]
use crate::http_client::SharedHttpClient;
use crate::provider::{ApiKeyProvider, SessionTokenProvider};
#[cfg(feature = "principals")]
use crate::provider::{InstancePrincipalProvider, OkeWorkloadIdentityProvider, ResourcePrincipalProvider};
use crate::region::{self, RegionInfo};

/// A ready credential provider, with the region its configuration names.
///
/// | constructor | auth type |
/// |---|---|
/// | [`Auth::from_config`] | API key from a profile of `~/.oci/config` |
/// | [`Auth::instance_principal`] | the compute instance we run on |
/// | [`Auth::resource_principal`] | the resource (Functions, Data Science, OKE) we run as |
/// | [`Auth::from_auth_type`] | any of them by [`AuthType`] |
/// | [`Auth::from_env`] | `OCI_CLI_AUTH`, else API key; profile and file from the environment |
/// | [`Auth::builder`] | all settings |
///
/// ```no_run
/// use oci_auth::{Auth, AuthType};
/// # async fn run() -> oci_auth::Result<()> {
/// // ~/.oci/config, profile from OCI_CLI_PROFILE or DEFAULT, API key unless OCI_CLI_AUTH says otherwise:
/// let auth = Auth::from_env()?;
/// // A named profile with a session token from `oci session authenticate`:
/// let auth = Auth::builder().profile("SESSION").auth_type(AuthType::SecurityToken).build()?;
/// // On an OCI compute instance:
/// let auth = Auth::instance_principal()?;
/// println!("region: {:?}", auth.resolve_region().await?);
/// let credentials = auth.credentials().await?;
/// # let _ = credentials; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Auth {
    provider: SharedCredentialsProvider,
    auth_type: AuthType,
    region: RegionSource,
    profile: Option<Profile>,
}

#[derive(Clone)]
enum RegionSource {
    Known(Option<RegionInfo>),
    #[cfg(feature = "principals")]
    InstanceMetadata(Arc<InstancePrincipalProvider>),
}

impl Auth {
    /// Starts configuring.
    pub fn builder() -> AuthBuilder {
        AuthBuilder::default()
    }

    /// API-key auth from `profile` in the default config file.
    pub fn from_config(profile: &str) -> Result<Self> {
        Self::builder().profile(profile).auth_type(AuthType::ApiKey).build()
    }

    /// Instance principal auth, configured from the process environment.
    pub fn instance_principal() -> Result<Self> {
        Self::from_auth_type(AuthType::InstancePrincipal)
    }

    /// Resource principal auth, configured from the process environment.
    pub fn resource_principal() -> Result<Self> {
        Self::from_auth_type(AuthType::ResourcePrincipal)
    }

    /// OKE workload identity, configured from the pod's environment (see
    /// [`OkeWorkloadIdentityProvider`]).
    pub fn oke_workload_identity() -> Result<Self> {
        Self::from_auth_type(AuthType::OkeWorkloadIdentity)
    }

    /// `auth_type`, with every other setting from the environment.
    pub fn from_auth_type(auth_type: AuthType) -> Result<Self> {
        Self::builder().auth_type(auth_type).build()
    }

    /// Everything from the environment, as the OCI CLI does: `OCI_CLI_AUTH`
    /// (default `api_key`), `OCI_CONFIG_FILE`, `OCI_CLI_PROFILE`.
    pub fn from_env() -> Result<Self> {
        Self::builder().build()
    }

    /// Wraps any provider.
    pub fn from_provider(provider: SharedCredentialsProvider, auth_type: AuthType, region: Option<RegionInfo>) -> Self {
        Auth { provider, auth_type, region: RegionSource::Known(region), profile: None }
    }

    /// The provider, to share with clients.
    pub fn provider(&self) -> &SharedCredentialsProvider {
        &self.provider
    }

    /// The auth type in use.
    pub fn auth_type(&self) -> AuthType {
        self.auth_type
    }

    /// The region the configuration names, if known without a network call
    /// (see [`resolve_region`](Self::resolve_region)).
    pub fn region(&self) -> Option<&RegionInfo> {
        match &self.region {
            RegionSource::Known(region) => region.as_ref(),
            #[cfg(feature = "principals")]
            RegionSource::InstanceMetadata(_) => None,
        }
    }

    /// The region, asking the instance metadata service for an instance principal.
    pub async fn resolve_region(&self) -> Result<Option<RegionInfo>> {
        match &self.region {
            RegionSource::Known(region) => Ok(region.clone()),
            #[cfg(feature = "principals")]
            RegionSource::InstanceMetadata(provider) => provider.region().await.map(Some),
        }
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
            .field("region", &self.region().map(RegionInfo::id))
            .field("profile", &self.profile.as_ref().map(Profile::name))
            .finish_non_exhaustive()
    }
}

/// Builds an [`Auth`]: auth type, config file and profile, region, and the
/// HTTP client and environment token-fetching providers use.
#[derive(Debug, Clone)]
pub struct AuthBuilder {
    config_file: Option<PathBuf>,
    profile: Option<String>,
    auth_type: Option<AuthType>,
    region: Option<String>,
    #[cfg(feature = "principals")]
    http: Option<SharedHttpClient>,
    env: SharedEnv,
}

impl Default for AuthBuilder {
    fn default() -> Self {
        AuthBuilder {
            config_file: None,
            profile: None,
            auth_type: None,
            region: None,
            #[cfg(feature = "principals")]
            http: None,
            env: Arc::new(OsEnv),
        }
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

    /// The region, overriding the profile's, `OCI_RESOURCE_PRINCIPAL_REGION`
    /// or the instance metadata.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The HTTP client instance and resource principals fetch tokens with
    /// (default: reqwest, with the `reqwest` feature).
    #[cfg(feature = "principals")]
    pub fn http_client(mut self, http: SharedHttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// Reads variables, home and time from `env` instead of the process.
    pub fn env(mut self, env: SharedEnv) -> Self {
        self.env = env;
        self
    }

    /// Reads the configuration and builds the provider. Configuration
    /// problems are reported here; nothing is fetched over the network yet.
    pub fn build(self) -> Result<Auth> {
        let auth_type = match self.auth_type {
            Some(t) => t,
            None => match self.env.var("OCI_CLI_AUTH").filter(|v| !v.is_empty()) {
                Some(value) => value.parse()?,
                None => AuthType::ApiKey,
            },
        };
        let region_override = self.region.as_deref().map(|r| region::resolve(r, self.env.as_ref())).transpose()?;
        let mut auth = match auth_type {
            AuthType::ApiKey | AuthType::SecurityToken => {
                let path = ConfigFile::locate(self.config_file.as_deref(), self.env.as_ref());
                let name = ConfigFile::profile_name(self.profile.as_deref(), self.env.as_ref());
                let profile = ConfigFile::load(&path)?.profile(&name)?;
                let provider: SharedCredentialsProvider = if auth_type == AuthType::ApiKey {
                    Arc::new(ApiKeyProvider::from_profile(&profile, self.env.as_ref())?)
                } else {
                    Arc::new(SessionTokenProvider::from_profile(&profile, Arc::clone(&self.env))?)
                };
                let origin = format!("profile [{}] in {}", profile.name(), profile.path().display());
                let region =
                    profile.region().map(|r| region::resolve_from(r, Some(&origin), self.env.as_ref())).transpose()?;
                Auth { provider, auth_type, region: RegionSource::Known(region), profile: Some(profile) }
            }
            #[cfg(feature = "principals")]
            AuthType::InstancePrincipal => {
                let mut builder = InstancePrincipalProvider::builder().env(Arc::clone(&self.env));
                if let Some(http) = self.http {
                    builder = builder.http_client(http);
                }
                if let Some(region) = &self.region {
                    builder = builder.region(region);
                }
                let provider = Arc::new(builder.build()?);
                let region = RegionSource::InstanceMetadata(Arc::clone(&provider));
                Auth { provider, auth_type, region, profile: None }
            }
            #[cfg(feature = "principals")]
            AuthType::ResourcePrincipal => {
                let provider = ResourcePrincipalProvider::from_env(Arc::clone(&self.env), self.http)?;
                let region = RegionSource::Known(provider.region().cloned());
                Auth { provider: Arc::new(provider), auth_type, region, profile: None }
            }
            #[cfg(feature = "principals")]
            AuthType::OkeWorkloadIdentity => {
                let mut builder = OkeWorkloadIdentityProvider::builder().env(Arc::clone(&self.env));
                if let Some(http) = self.http {
                    builder = builder.http_client(http);
                }
                let provider = builder.build()?;
                let region = RegionSource::Known(provider.region().cloned());
                Auth { provider: Arc::new(provider), auth_type, region, profile: None }
            }
            #[cfg(not(feature = "principals"))]
            other => return Err(crate::error::Error::FeatureDisabled { auth_type: other }),
        };
        if let Some(region) = region_override {
            #[cfg(feature = "principals")]
            let from_metadata = matches!(auth.region, RegionSource::InstanceMetadata(_));
            #[cfg(not(feature = "principals"))]
            let from_metadata = false;
            if !from_metadata {
                auth.region = RegionSource::Known(Some(region));
            }
        }
        Ok(auth)
    }
}

/// Lets an `Auth` be used where a provider is expected.
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
mod tests;
