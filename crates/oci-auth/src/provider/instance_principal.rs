//! Instance principal: the identity of the OCI compute instance we run on.

use std::sync::{Arc, Mutex, PoisonError};

use crate::cache::LazyCredentialsCache;
use crate::credentials::{Credentials, KeyId, ProvideCredentials};
use crate::env::{OsEnv, SharedEnv};
use crate::error::{Error, KeySource, Result};
use crate::http_client::{SharedHttpClient, default_http_client};
use crate::key::PrivateKey;
use crate::provider::auth_service::{CallAuth, ServiceCall, field, pem_body};
use crate::provider::metadata::{DEFAULT_METADATA_BASE_URL, metadata_get};
use crate::region::{self, RegionInfo};
use crate::sign::SigningSettings;
use crate::{AuthType, jwt};

/// Signs as the compute instance: fetches the instance's certificate and key
/// from the instance metadata service (IMDS v2), exchanges them at the auth
/// service's federation endpoint for a session token bound to a fresh session
/// key, and refreshes that token before it expires (see
/// [`LazyCredentialsCache`]).
///
/// Nothing is fetched until the first call.
///
/// ```no_run
/// use oci_auth::{InstancePrincipalProvider, ProvideCredentials};
/// # async fn run() -> oci_auth::Result<()> {
/// let provider = InstancePrincipalProvider::builder().build()?;
/// let region = provider.region().await?;
/// let credentials = provider.credentials().await?; // keyId ST$<token>
/// println!("{} in {}", credentials.key_id(), region.id());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct InstancePrincipalProvider {
    cache: LazyCredentialsCache,
    federation: Arc<Federation>,
}

impl InstancePrincipalProvider {
    /// Starts configuring.
    pub fn builder() -> InstancePrincipalBuilder {
        InstancePrincipalBuilder::default()
    }

    /// The instance's region (asked of the metadata service once, unless set
    /// on the builder).
    pub async fn region(&self) -> Result<RegionInfo> {
        self.federation.region().await
    }

    /// The tenancy OCID from the instance certificate, once credentials have been fetched.
    pub fn tenancy(&self) -> Option<String> {
        self.federation.tenancy.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

#[async_trait::async_trait]
impl ProvideCredentials for InstancePrincipalProvider {
    async fn credentials(&self) -> Result<Credentials> {
        self.cache.credentials().await
    }

    async fn refresh(&self) -> Result<Credentials> {
        self.cache.refresh().await
    }
}

/// Configures an [`InstancePrincipalProvider`].
#[derive(Debug, Default)]
pub struct InstancePrincipalBuilder {
    http: Option<SharedHttpClient>,
    env: Option<SharedEnv>,
    metadata_base_url: Option<String>,
    auth_endpoint: Option<String>,
    region: Option<String>,
}

impl InstancePrincipalBuilder {
    /// The HTTP client (default: reqwest, with the `reqwest` feature).
    pub fn http_client(mut self, http: SharedHttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// Where variables and time come from (default: the process).
    pub fn env(mut self, env: SharedEnv) -> Self {
        self.env = Some(env);
        self
    }

    /// The metadata service (default: `OCI_METADATA_BASE_URL`, else
    /// `http://169.254.169.254/opc/v2`).
    pub fn metadata_base_url(mut self, url: impl Into<String>) -> Self {
        self.metadata_base_url = Some(url.into());
        self
    }

    /// The auth service origin, `/v1/x509` is appended (default:
    /// `OCI_SDK_AUTH_CLIENT_REGION_URL`, else `https://auth.<region>.<domain>`).
    pub fn auth_endpoint(mut self, origin: impl Into<String>) -> Self {
        self.auth_endpoint = Some(origin.into());
        self
    }

    /// The region, instead of asking the metadata service.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Builds the provider; fetches nothing yet.
    pub fn build(self) -> Result<InstancePrincipalProvider> {
        let env = self.env.unwrap_or_else(|| Arc::new(OsEnv));
        let http = self
            .http
            .or_else(default_http_client)
            .ok_or(Error::NoHttpClient { auth_type: AuthType::InstancePrincipal })?;
        let metadata_base_url = self
            .metadata_base_url
            .or_else(|| env.var("OCI_METADATA_BASE_URL").filter(|v| !v.is_empty()))
            .unwrap_or_else(|| DEFAULT_METADATA_BASE_URL.to_owned());
        let auth_endpoint =
            self.auth_endpoint.or_else(|| env.var("OCI_SDK_AUTH_CLIENT_REGION_URL").filter(|v| !v.is_empty()));
        let region = self.region.map(|r| region::resolve(&r, env.as_ref())).transpose()?;
        let federation = Arc::new(Federation {
            http,
            env: Arc::clone(&env),
            metadata_base_url,
            auth_endpoint,
            region: Mutex::new(region),
            tenancy: Mutex::new(None),
        });
        Ok(InstancePrincipalProvider { cache: LazyCredentialsCache::new(federation.clone(), env), federation })
    }
}

/// Fetches a new session token on every call; the cache in front decides when.
#[derive(Debug)]
struct Federation {
    http: SharedHttpClient,
    env: SharedEnv,
    metadata_base_url: String,
    auth_endpoint: Option<String>,
    region: Mutex<Option<RegionInfo>>,
    tenancy: Mutex<Option<String>>,
}

impl Federation {
    async fn metadata(&self, path: &str) -> Result<String> {
        metadata_get(self.http.as_ref(), &self.metadata_base_url, path).await
    }

    async fn region(&self) -> Result<RegionInfo> {
        if let Some(region) = self.region.lock().unwrap_or_else(PoisonError::into_inner).clone() {
            return Ok(region);
        }
        let name = self.metadata("/instance/region").await?;
        let region = region::resolve_from(name.trim(), Some("the instance metadata service"), self.env.as_ref())?;
        *self.region.lock().unwrap_or_else(PoisonError::into_inner) = Some(region.clone());
        Ok(region)
    }
}

#[async_trait::async_trait]
impl ProvideCredentials for Federation {
    async fn credentials(&self) -> Result<Credentials> {
        let region = self.region().await?;
        // The certificate rotates, so every refresh fetches it anew.
        let leaf_pem = self.metadata("/identity/cert.pem").await?;
        let leaf_key_pem = self.metadata("/identity/key.pem").await?;
        let intermediate_pem = self.metadata("/identity/intermediate.pem").await?;

        let leaf = LeafCertificate::parse(&leaf_pem)?;
        parse_certificate(&intermediate_pem, "intermediate certificate")?;
        let key_url = format!("{}/identity/key.pem", self.metadata_base_url.trim_end_matches('/'));
        let leaf_key = PrivateKey::from_pem_with_source(&leaf_key_pem, None, KeySource::Url(key_url))?;
        *self.tenancy.lock().unwrap_or_else(PoisonError::into_inner) = Some(leaf.tenancy.clone());

        let session_key = PrivateKey::generate_session_key()?;
        let origin = self.auth_endpoint.clone().unwrap_or_else(|| region.endpoint("auth"));
        let leaf_credentials = Credentials::new(KeyId::federation(&leaf.tenancy, &leaf.sha1_fingerprint), leaf_key);
        let call = ServiceCall {
            service: "federation service",
            method: "POST",
            url: format!("{}/v1/x509", origin.trim_end_matches('/')),
            body: Some(serde_json::json!({
                "certificate": pem_body(&leaf_pem),
                "publicKey": pem_body(&session_key.public_key_pem()),
                "intermediateCertificates": [pem_body(&intermediate_pem)],
            })),
            headers: Vec::new(),
            auth: CallAuth::Signed {
                credentials: &leaf_credentials,
                settings: SigningSettings::default().without_host(),
            },
        };
        let answer = call.send(self.http.as_ref(), self.env.as_ref()).await?;
        let token = field(&call, &answer, "token")?;
        let expires_at = jwt::expiry(&token).map_err(|message| Error::InvalidToken {
            origin: format!("the federation service at {}", call.url),
            message,
        })?;
        Ok(Credentials::new(KeyId::security_token(&token), session_key).with_expiry(expires_at))
    }
}

/// What the federation request needs from the leaf certificate.
struct LeafCertificate {
    tenancy: String,
    /// SHA-1 of the DER, uppercase hex pairs joined by colons.
    sha1_fingerprint: String,
}

impl LeafCertificate {
    fn parse(pem: &str) -> Result<Self> {
        const WHAT: &str = "leaf certificate";
        let der = parse_certificate(pem, WHAT)?;
        let invalid = |message: String| Error::InvalidCertificate { what: WHAT, message };
        let (_, certificate) =
            x509_parser::parse_x509_certificate(&der).map_err(|e| invalid(format!("not X.509 ({e})")))?;
        let subject = certificate.subject();
        let values: Vec<&str> = subject
            .iter_organizational_unit()
            .chain(subject.iter_organization())
            .filter_map(|attribute| attribute.as_str().ok())
            .collect();
        let tenancy = ["opc-tenant:", "opc-identity:"]
            .iter()
            .find_map(|prefix| values.iter().find_map(|v| v.strip_prefix(prefix)))
            .ok_or_else(|| {
                invalid("its subject has no `opc-tenant:` or `opc-identity:` unit naming the tenancy".into())
            })?;
        let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
        Ok(LeafCertificate {
            tenancy: tenancy.to_owned(),
            sha1_fingerprint: crate::key::colon_hex(digest.as_ref()).to_ascii_uppercase(),
        })
    }
}

/// The DER of a PEM certificate, checked to be X.509.
fn parse_certificate(pem: &str, what: &'static str) -> Result<Vec<u8>> {
    let invalid = |message: String| Error::InvalidCertificate { what, message };
    let block = pem::parse(pem).map_err(|e| invalid(format!("not PEM ({e})")))?;
    if block.tag() != "CERTIFICATE" {
        return Err(invalid(format!("expected a CERTIFICATE, found {}", block.tag())));
    }
    x509_parser::parse_x509_certificate(block.contents()).map_err(|e| invalid(format!("not X.509 ({e})")))?;
    Ok(block.into_contents())
}
