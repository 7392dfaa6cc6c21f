//! OKE workload identity: a pod's Kubernetes service account, exchanged for an
//! OCI resource principal session token.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;

use crate::cache::LazyCredentialsCache;
use crate::credentials::{Credentials, KeyId, ProvideCredentials};
use crate::env::{OsEnv, SharedEnv};
use crate::error::{Error, Result};
use crate::http_client::SharedHttpClient;
use crate::jwt;
use crate::key::PrivateKey;
use crate::provider::auth_service::{CallAuth, OKE_EXCHANGE, ServiceCall, pem_body};
use crate::region::{self, RegionInfo};
use crate::secret::Secret;

const SERVICE_HOST: &str = "KUBERNETES_SERVICE_HOST";
const TOKEN_PATH: &str = "OCI_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH";
const CERT_PATH: &str = "OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH";
const REGION: &str = "OCI_RESOURCE_PRINCIPAL_REGION";
const DEFAULT_TOKEN_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";
const DEFAULT_CERT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
/// The port of the cluster's token exchange ("proxymux"), fixed by OKE.
const EXCHANGE_PORT: u16 = 12250;
const NEEDED_FOR: &str = "OKE workload identity";

/// Signs as an OKE workload (cluster, namespace and service account), as the
/// official SDKs do: the pod's service account token is sent to the
/// cluster's exchange at `https://$KUBERNETES_SERVICE_HOST:12250/resourcePrincipalSessionTokens`
/// with a fresh session public key, and the resource principal session token
/// it answers signs requests with that session key. Tokens are cached and
/// refreshed before they expire (see [`LazyCredentialsCache`]); each refresh
/// re-reads the token file, which the kubelet rotates.
///
/// | setting | default | override |
/// |---|---|---|
/// | exchange host | — (required) | `KUBERNETES_SERVICE_HOST`, set by Kubernetes in every pod |
/// | service account token | `/var/run/secrets/kubernetes.io/serviceaccount/token` | `OCI_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH` |
/// | cluster CA (the exchange's TLS is verified against it alone) | `/var/run/secrets/kubernetes.io/serviceaccount/ca.crt` | `OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH` |
/// | region | none | `OCI_RESOURCE_PRINCIPAL_REGION` |
///
/// ```
/// use std::sync::Arc;
/// use oci_auth::{OkeWorkloadIdentityProvider, StaticEnv};
/// let err = OkeWorkloadIdentityProvider::builder().env(Arc::new(StaticEnv::new())).build().unwrap_err();
/// assert!(err.to_string().contains("KUBERNETES_SERVICE_HOST is not set"));
/// ```
#[derive(Debug)]
pub struct OkeWorkloadIdentityProvider {
    cache: LazyCredentialsCache,
    region: Option<RegionInfo>,
}

impl OkeWorkloadIdentityProvider {
    /// Starts a builder reading the process environment.
    pub fn builder() -> OkeWorkloadIdentityBuilder {
        OkeWorkloadIdentityBuilder { env: Arc::new(OsEnv), http: None, exchange_url: None }
    }

    /// `OCI_RESOURCE_PRINCIPAL_REGION`, resolved, when set.
    pub fn region(&self) -> Option<&RegionInfo> {
        self.region.as_ref()
    }
}

#[async_trait::async_trait]
impl ProvideCredentials for OkeWorkloadIdentityProvider {
    async fn credentials(&self) -> Result<Credentials> {
        self.cache.credentials().await
    }

    async fn refresh(&self) -> Result<Credentials> {
        self.cache.refresh().await
    }
}

/// Builds an [`OkeWorkloadIdentityProvider`].
#[derive(Debug)]
pub struct OkeWorkloadIdentityBuilder {
    env: SharedEnv,
    http: Option<SharedHttpClient>,
    exchange_url: Option<String>,
}

impl OkeWorkloadIdentityBuilder {
    /// Reads variables (and the current time) from `env` instead of the process.
    pub fn env(mut self, env: SharedEnv) -> Self {
        self.env = env;
        self
    }

    /// Sends the exchange with `http`. Its TLS settings are then the
    /// caller's: by default (reqwest feature) a client that trusts the
    /// cluster CA and nothing else is built for each exchange.
    pub fn http_client(mut self, http: SharedHttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// The exchange's URL, instead of the one made from `KUBERNETES_SERVICE_HOST`
    /// (for tests, and proxies in front of the cluster).
    pub fn exchange_url(mut self, url: impl Into<String>) -> Self {
        self.exchange_url = Some(url.into());
        self
    }

    /// Checks the configuration: the exchange host, the token file and the
    /// cluster CA must be there; nothing is fetched yet.
    pub fn build(self) -> Result<OkeWorkloadIdentityProvider> {
        let var = |name: &str| self.env.var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let exchange_url = match self.exchange_url {
            Some(url) => url,
            None => {
                let host =
                    var(SERVICE_HOST).ok_or(Error::MissingEnvVar { name: SERVICE_HOST, needed_for: NEEDED_FOR })?;
                // An IPv6 service host needs brackets in a URL.
                let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host };
                format!("https://{host}:{EXCHANGE_PORT}/resourcePrincipalSessionTokens")
            }
        };
        let token_path = PathBuf::from(var(TOKEN_PATH).unwrap_or_else(|| DEFAULT_TOKEN_PATH.to_owned()));
        let ca_path = PathBuf::from(var(CERT_PATH).unwrap_or_else(|| DEFAULT_CERT_PATH.to_owned()));
        read_token(&token_path)?;
        let http = match self.http {
            Some(http) => HttpSource::Given(http),
            None => {
                // Fail now, with the file's name, rather than at the first request.
                ca_client(&ca_path)?;
                HttpSource::ClusterCa(ca_path)
            }
        };
        let region = var(REGION).map(|r| region::resolve_from(&r, Some(REGION), self.env.as_ref())).transpose()?;
        let exchange = Arc::new(Exchange { url: exchange_url, token_path, http, env: Arc::clone(&self.env) });
        Ok(OkeWorkloadIdentityProvider { cache: LazyCredentialsCache::new(exchange, self.env), region })
    }
}

#[derive(Debug)]
enum HttpSource {
    Given(SharedHttpClient),
    /// A client trusting this CA file alone, re-read for each exchange so a rotated CA is picked up.
    ClusterCa(PathBuf),
}

#[derive(Debug)]
struct Exchange {
    url: String,
    token_path: PathBuf,
    http: HttpSource,
    env: SharedEnv,
}

#[async_trait::async_trait]
impl ProvideCredentials for Exchange {
    async fn credentials(&self) -> Result<Credentials> {
        let http = match &self.http {
            HttpSource::Given(http) => Arc::clone(http),
            HttpSource::ClusterCa(path) => ca_client(path)?,
        };
        let service_account_token = read_token(&self.token_path)?;
        let session_key = Arc::new(PrivateKey::generate_session_key()?);
        let call = ServiceCall {
            service: OKE_EXCHANGE,
            method: "POST",
            url: self.url.clone(),
            body: Some(serde_json::json!({ "podKey": pem_body(&session_key.public_key_pem()) })),
            headers: vec![("opc-request-id".into(), request_id())],
            auth: CallAuth::Bearer(&service_account_token),
        };
        let answer = call.send_raw(http.as_ref(), self.env.as_ref()).await?;
        let token = session_token(&answer).map_err(|message| call.invalid_response(200, message))?;
        let expires_at = jwt::expiry(token.expose())
            .map_err(|message| Error::InvalidToken { origin: format!("the answer of {}", self.url), message })?;
        Ok(Credentials::new(KeyId::security_token(token.expose()), session_key).with_expiry(expires_at))
    }
}

/// The session token in the exchange's answer: base64 (bare, or as a JSON
/// string) of `{"token": "ST$<jwt>"}`.
fn session_token(answer: &[u8]) -> std::result::Result<Secret, String> {
    let text = std::str::from_utf8(answer).map_err(|_| "the answer is not text".to_owned())?.trim();
    let encoded = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| "the answer is not base64 (OKE's exchange answers base64 JSON)".to_owned())?;
    #[derive(serde::Deserialize)]
    struct Answer {
        token: String,
    }
    let answer: Answer =
        serde_json::from_slice(&decoded).map_err(|_| "the decoded answer has no `token`".to_owned())?;
    let token = answer.token.strip_prefix("ST$").unwrap_or(&answer.token);
    Ok(Secret::new(token))
}

fn read_token(path: &Path) -> Result<Secret> {
    let unusable = |message: String| Error::KubernetesFile {
        what: "service account token",
        path: path.to_owned(),
        env_var: TOKEN_PATH,
        message,
    };
    let text = crate::file::read_capped_text(path).map_err(|e| unusable(e.to_string()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(unusable("the file is empty".into()));
    }
    Ok(Secret::new(token))
}

#[cfg(feature = "reqwest")]
fn ca_client(path: &Path) -> Result<SharedHttpClient> {
    let unusable = |message: String| Error::KubernetesFile {
        what: "cluster CA certificate",
        path: path.to_owned(),
        env_var: CERT_PATH,
        message,
    };
    let pem = crate::file::read_capped(path).map_err(|e| unusable(e.to_string()))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| unusable(e.to_string()))?;
    if certificates.is_empty() {
        return Err(unusable("the file holds no PEM certificate".into()));
    }
    let mut builder = reqwest::Client::builder().tls_built_in_root_certs(false);
    for certificate in certificates {
        builder = builder.add_root_certificate(certificate);
    }
    let client = builder.build().map_err(|e| unusable(e.to_string()))?;
    Ok(Arc::new(crate::ReqwestHttpClient::new(client)))
}

#[cfg(not(feature = "reqwest"))]
fn ca_client(_path: &Path) -> Result<SharedHttpClient> {
    Err(Error::NoHttpClient { auth_type: crate::AuthType::OkeWorkloadIdentity })
}

/// A random `opc-request-id`, so the cluster's logs can be matched with ours.
fn request_id() -> String {
    let mut bytes = [0u8; 16];
    // A request id is a correlation aid: without randomness it is merely less unique.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::session_token;
    use base64::Engine as _;

    fn encode(json: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(json)
    }

    #[test]
    fn reads_bare_and_quoted_answers() {
        let bare = encode(r#"{"token": "ST$abc.def.ghi"}"#);
        assert_eq!(session_token(bare.as_bytes()).unwrap().expose(), "abc.def.ghi");
        let quoted = format!("\"{bare}\"\n");
        assert_eq!(session_token(quoted.as_bytes()).unwrap().expose(), "abc.def.ghi");
    }

    #[test]
    fn explains_unusable_answers() {
        assert!(session_token(b"{not base64}").unwrap_err().contains("not base64"));
        assert!(session_token(encode(r#"{"other": 1}"#).as_bytes()).unwrap_err().contains("no `token`"));
    }
}
