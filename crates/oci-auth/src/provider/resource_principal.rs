//! Resource principal: the identity of an OCI resource (Functions, Data
//! Science jobs and notebooks, OKE workloads), configured by environment.

use std::path::Path;
use std::sync::Arc;

use crate::cache::LazyCredentialsCache;
use crate::credentials::{Credentials, KeyId, ProvideCredentials};
use crate::env::{Env, OsEnv, SharedEnv};
use crate::error::{Error, KeySource, Result};
use crate::http_client::{SharedHttpClient, default_http_client};
use crate::key::PrivateKey;
use crate::provider::InstancePrincipalProvider;
use crate::provider::auth_service::{CallAuth, ServiceCall, field, pem_body};
use crate::provider::metadata::metadata_get;
use crate::region::{self, RegionInfo};
use crate::secret::Secret;
use crate::sign::SigningSettings;
use crate::{AuthType, jwt};

const VERSION: &str = "OCI_RESOURCE_PRINCIPAL_VERSION";
const RPST: &str = "OCI_RESOURCE_PRINCIPAL_RPST";
const PRIVATE_PEM: &str = "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM";
const PASSPHRASE: &str = "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE";
const REGION: &str = "OCI_RESOURCE_PRINCIPAL_REGION";
const RPT_ENDPOINT: &str = "OCI_RESOURCE_PRINCIPAL_RPT_ENDPOINT";
const RPST_ENDPOINT: &str = "OCI_RESOURCE_PRINCIPAL_RPST_ENDPOINT";
const RESOURCE_ID: &str = "OCI_RESOURCE_PRINCIPAL_RESOURCE_ID";
const TENANCY_ID: &str = "OCI_RESOURCE_PRINCIPAL_TENANCY_ID";
const RPT_PATH: &str = "OCI_RESOURCE_PRINCIPAL_RPT_PATH";
const RPT_ID: &str = "OCI_RESOURCE_PRINCIPAL_RPT_ID";
const SECURITY_CONTEXT: &str = "OCI_RESOURCE_PRINCIPAL_SECURITY_CONTEXT";
const NEEDED_FOR: &str = "resource principal authentication";

/// Signs as an OCI resource, configured by `OCI_RESOURCE_PRINCIPAL_*`
/// variables as Functions, Data Science and OKE set them:
///
/// | version | how the session token is obtained |
/// |---|---|
/// | `2.2` | given: `OCI_RESOURCE_PRINCIPAL_RPST` and `…_PRIVATE_PEM` (each the value or an absolute path to a file holding it; files are re-read on refresh) |
/// | `2.1`, `2.1.1`, `2.1.2` | fetched from `…_RPT_ENDPOINT` and exchanged at `…_RPST_ENDPOINT`, signed with the resource's own key (`…_PRIVATE_PEM`) |
/// | `1.1` | fetched from `…_RPT_ENDPOINT` and exchanged at `…_RPST_ENDPOINT`, signed with the instance principal |
///
/// Tokens are cached and refreshed before they expire (see
/// [`LazyCredentialsCache`]).
///
/// ```
/// use std::sync::Arc;
/// use oci_auth::{ResourcePrincipalProvider, StaticEnv};
/// let env = StaticEnv::new().with_var("OCI_RESOURCE_PRINCIPAL_VERSION", "9.9");
/// let err = ResourcePrincipalProvider::from_env(Arc::new(env), None).unwrap_err();
/// assert!(err.to_string().contains("supported versions: 2.2"));
/// ```
#[derive(Debug)]
pub struct ResourcePrincipalProvider {
    cache: LazyCredentialsCache,
    version: String,
    region: Option<RegionInfo>,
}

impl ResourcePrincipalProvider {
    /// Reads the configuration from `env`; `http` is needed for every version
    /// but 2.2 (default: reqwest, with the `reqwest` feature). Fetches nothing
    /// yet, but every missing or contradictory variable is reported here.
    pub fn from_env(env: SharedEnv, http: Option<SharedHttpClient>) -> Result<Self> {
        let vars = Vars(env.as_ref());
        let version = vars.required(VERSION)?;
        let region = vars.optional(REGION).map(|r| region::resolve_from(&r, Some(REGION), env.as_ref())).transpose()?;
        let http = || {
            http.clone()
                .or_else(default_http_client)
                .ok_or(Error::NoHttpClient { auth_type: AuthType::ResourcePrincipal })
        };
        let fetcher: Arc<dyn ProvideCredentials> = match version.as_str() {
            "2.2" => {
                vars.required(RPST)?;
                vars.required(PRIVATE_PEM)?;
                Arc::new(GivenToken { env: Arc::clone(&env) })
            }
            "2.1" | "2.1.1" | "2.1.2" => {
                Arc::new(ResourceKeyExchange::from_env(&vars, &version, http()?, Arc::clone(&env))?)
            }
            "1.1" => Arc::new(InstanceExchange::from_env(&vars, http()?, Arc::clone(&env))?),
            _ => return Err(Error::UnsupportedResourcePrincipalVersion { version }),
        };
        Ok(ResourcePrincipalProvider { cache: LazyCredentialsCache::new(fetcher, env), version, region })
    }

    /// Like [`from_env`](Self::from_env) with the process environment.
    pub fn from_process_env() -> Result<Self> {
        Self::from_env(Arc::new(OsEnv), None)
    }

    /// The resource principal version in use.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// `OCI_RESOURCE_PRINCIPAL_REGION`, resolved, when set.
    pub fn region(&self) -> Option<&RegionInfo> {
        self.region.as_ref()
    }
}

#[async_trait::async_trait]
impl ProvideCredentials for ResourcePrincipalProvider {
    async fn credentials(&self) -> Result<Credentials> {
        self.cache.credentials().await
    }

    async fn refresh(&self) -> Result<Credentials> {
        self.cache.refresh().await
    }
}

/// Reads variables and "value or absolute path" values.
struct Vars<'a>(&'a dyn Env);

impl Vars<'_> {
    fn optional(&self, name: &str) -> Option<String> {
        self.0.var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn required(&self, name: &'static str) -> Result<String> {
        self.optional(name).ok_or(Error::MissingEnvVar { name, needed_for: NEEDED_FOR })
    }

    /// The variable's value, or the content of the file it names when it is an absolute path.
    fn value_or_file(&self, name: &'static str) -> Result<Option<Secret>> {
        let Some(value) = self.optional(name) else { return Ok(None) };
        if !Path::new(&value).is_absolute() {
            return Ok(Some(Secret::new(value)));
        }
        crate::file::read_capped_text(Path::new(&value))
            .map(|text| Some(Secret::new(text.trim())))
            .map_err(|e| Error::InvalidEnvVar { name, message: format!("cannot read the file {value}: {e}") })
    }

    fn private_key(&self) -> Result<PrivateKey> {
        let pem = self
            .value_or_file(PRIVATE_PEM)?
            .ok_or(Error::MissingEnvVar { name: PRIVATE_PEM, needed_for: NEEDED_FOR })?;
        let passphrase = self.value_or_file(PASSPHRASE)?;
        PrivateKey::from_pem_with_source(pem.expose(), passphrase.as_ref(), KeySource::EnvVar(PRIVATE_PEM))
    }
}

/// Version 2.2: the platform hands over the token and key (and rotates the files).
#[derive(Debug)]
struct GivenToken {
    env: SharedEnv,
}

#[async_trait::async_trait]
impl ProvideCredentials for GivenToken {
    async fn credentials(&self) -> Result<Credentials> {
        let vars = Vars(self.env.as_ref());
        let token = vars.value_or_file(RPST)?.ok_or(Error::MissingEnvVar { name: RPST, needed_for: NEEDED_FOR })?;
        let expires_at =
            jwt::expiry(token.expose()).map_err(|message| Error::InvalidToken { origin: RPST.to_owned(), message })?;
        Ok(Credentials::new(KeyId::security_token(token.expose()), vars.private_key()?).with_expiry(expires_at))
    }
}

/// Versions 2.1, 2.1.1 and 2.1.2: the resource signs with its own key.
#[derive(Debug)]
struct ResourceKeyExchange {
    version: String,
    rpt_url: String,
    rpst_endpoint: String,
    resource_id: String,
    tenancy_id: Option<String>,
    security_context: Option<String>,
    http: SharedHttpClient,
    env: SharedEnv,
}

impl ResourceKeyExchange {
    fn from_env(vars: &Vars<'_>, version: &str, http: SharedHttpClient, env: SharedEnv) -> Result<Self> {
        let rpt_endpoint = vars.required(RPT_ENDPOINT)?;
        let rpst_endpoint = vars.required(RPST_ENDPOINT)?;
        let resource_id = vars.required(RESOURCE_ID)?;
        vars.required(PRIVATE_PEM)?;
        let tenancy_id = match version {
            "2.1" => None,
            _ => Some(vars.required(TENANCY_ID)?),
        };
        let path = match (version, vars.optional(RPT_PATH)) {
            ("2.1.2", Some(template)) if template.ends_with("{}") => template.replace("{}", &resource_id),
            ("2.1.2", Some(prefix)) => format!("{}/{resource_id}", prefix.trim_end_matches('/')),
            ("2.1.2", None) => format!("/20180711/resourcePrincipalTokenV212/{resource_id}"),
            _ => format!("/20180711/resourcePrincipalTokenV2/{resource_id}"),
        };
        Ok(ResourceKeyExchange {
            version: version.to_owned(),
            rpt_url: format!("{}{path}", rpt_endpoint.trim_end_matches('/')),
            rpst_endpoint,
            resource_id,
            tenancy_id,
            security_context: (version == "2.1.2").then(|| vars.optional(SECURITY_CONTEXT)).flatten(),
            http,
            env,
        })
    }
}

#[async_trait::async_trait]
impl ProvideCredentials for ResourceKeyExchange {
    async fn credentials(&self) -> Result<Credentials> {
        // Re-read on every refresh: the platform may rotate the key file.
        let key = Arc::new(Vars(self.env.as_ref()).private_key()?);
        let resource = Credentials::new(
            KeyId::resource(&self.version, self.tenancy_id.as_deref(), &self.resource_id),
            Arc::clone(&key),
        );
        let headers = self.security_context.iter().map(|c| ("security-context".to_owned(), c.clone())).collect();
        let token = exchange(
            self.http.as_ref(),
            self.env.as_ref(),
            &resource,
            &self.rpt_url,
            headers,
            &self.rpst_endpoint,
            &key,
        )
        .await?;
        Ok(Credentials::new(KeyId::security_token(&token.value), key).with_expiry(token.expires_at))
    }
}

/// Version 1.1: the instance principal signs, and a fresh session key is bound to the token.
#[derive(Debug)]
struct InstanceExchange {
    instance: InstancePrincipalProvider,
    rpt_endpoint: String,
    rpst_endpoint: Option<String>,
    rpt_path: Option<String>,
    rpt_id: Option<String>,
    metadata_base_url: String,
    http: SharedHttpClient,
    env: SharedEnv,
}

impl InstanceExchange {
    fn from_env(vars: &Vars<'_>, http: SharedHttpClient, env: SharedEnv) -> Result<Self> {
        let instance =
            InstancePrincipalProvider::builder().http_client(Arc::clone(&http)).env(Arc::clone(&env)).build()?;
        Ok(InstanceExchange {
            instance,
            rpt_endpoint: vars.required(RPT_ENDPOINT)?,
            rpst_endpoint: vars.optional(RPST_ENDPOINT),
            rpt_path: vars.optional(RPT_PATH),
            rpt_id: vars.optional(RPT_ID),
            metadata_base_url: vars
                .optional("OCI_METADATA_BASE_URL")
                .unwrap_or_else(|| crate::provider::metadata::DEFAULT_METADATA_BASE_URL.to_owned()),
            http,
            env,
        })
    }

    /// The SDK's default: `OCI_RESOURCE_PRINCIPAL_RPT_PATH` with `{id}` from
    /// `…_RPT_ID`, else `/20180711/resourcePrincipalToken/{id}` with the instance id.
    async fn rpt_path(&self) -> Result<String> {
        let template = self.rpt_path.clone().unwrap_or_else(|| "/20180711/resourcePrincipalToken/{id}".to_owned());
        if !template.contains("{id}") {
            return Ok(template);
        }
        let id = match &self.rpt_id {
            Some(id) => id.clone(),
            None => metadata_get(self.http.as_ref(), &self.metadata_base_url, "/instance/id").await?.trim().to_owned(),
        };
        Ok(template.replace("{id}", &id))
    }
}

#[async_trait::async_trait]
impl ProvideCredentials for InstanceExchange {
    async fn credentials(&self) -> Result<Credentials> {
        let instance = self.instance.credentials().await?;
        let rpst_endpoint = match &self.rpst_endpoint {
            Some(endpoint) => endpoint.clone(),
            None => self.instance.region().await?.endpoint("auth"),
        };
        let rpt_url = format!("{}{}", self.rpt_endpoint.trim_end_matches('/'), self.rpt_path().await?);
        let session_key = Arc::new(PrivateKey::generate_session_key()?);
        let token = exchange(
            self.http.as_ref(),
            self.env.as_ref(),
            &instance,
            &rpt_url,
            Vec::new(),
            &rpst_endpoint,
            &session_key,
        )
        .await?;
        Ok(Credentials::new(KeyId::security_token(&token.value), session_key).with_expiry(token.expires_at))
    }
}

struct Token {
    value: String,
    expires_at: std::time::SystemTime,
}

/// Gets a resource principal token (and service principal session token) from
/// `rpt_url`, then exchanges them at `<rpst_endpoint>/v1/resourcePrincipalSessionToken`
/// for a session token bound to `session_key`; both calls signed with `signer`.
async fn exchange(
    http: &dyn crate::HttpClient,
    env: &dyn Env,
    signer: &Credentials,
    rpt_url: &str,
    rpt_headers: Vec<(String, String)>,
    rpst_endpoint: &str,
    session_key: &PrivateKey,
) -> Result<Token> {
    let rpt_call = ServiceCall {
        service: "resource principal token service",
        method: "GET",
        url: rpt_url.to_owned(),
        body: None,
        headers: rpt_headers,
        auth: CallAuth::Signed { credentials: signer, settings: SigningSettings::default() },
    };
    let answer = rpt_call.send(http, env).await?;
    let rpt = field(&rpt_call, &answer, "resourcePrincipalToken")?;
    let spst = field(&rpt_call, &answer, "servicePrincipalSessionToken")?;

    let rpst_call = ServiceCall {
        service: "resource principal session token service",
        method: "POST",
        url: format!("{}/v1/resourcePrincipalSessionToken", rpst_endpoint.trim_end_matches('/')),
        body: Some(serde_json::json!({
            "resourcePrincipalToken": rpt,
            "servicePrincipalSessionToken": spst,
            "sessionPublicKey": pem_body(&session_key.public_key_pem()),
        })),
        headers: Vec::new(),
        auth: CallAuth::Signed { credentials: signer, settings: SigningSettings::default() },
    };
    let answer = rpst_call.send(http, env).await?;
    let value = field(&rpst_call, &answer, "token")?;
    let expires_at = jwt::expiry(&value)
        .map_err(|message| Error::InvalidToken { origin: format!("the answer of {}", rpst_call.url), message })?;
    Ok(Token { value, expires_at })
}
