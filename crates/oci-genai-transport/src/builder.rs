//! Configuring a [`GenAiClient`]: credentials, where to call, bounds,
//! retries, proxies and the connections streams use.

use std::sync::Arc;
use std::time::Duration;

use oci_auth::{Auth, Secret, SharedCredentialsProvider, SharedEnv};

use crate::client::{GenAiClient, Inner};
use crate::error::Error;
use crate::h1::H1Client;
use crate::limits::Limits;
use crate::prepare::Routing;
use crate::proxy::Proxies;
use crate::retry::{RetryNotice, RetryObserver, RetryPolicy};
use crate::send::Sender;

const USER_AGENT: &str = concat!("locus-rs/", env!("CARGO_PKG_VERSION"));

impl GenAiClient {
    /// Starts configuring.
    pub fn builder() -> GenAiClientBuilder {
        GenAiClientBuilder::default()
    }
}

/// Configures a [`GenAiClient`].
#[derive(Clone)]
pub struct GenAiClientBuilder {
    auth: Option<Auth>,
    credentials: Option<SharedCredentialsProvider>,
    region: Option<String>,
    service_endpoint: Option<String>,
    connect_timeout: Duration,
    limits: Limits,
    timeout: Duration,
    usage_grace: Duration,
    retry: RetryPolicy,
    log_requests: Option<bool>,
    allow_http: bool,
    env: SharedEnv,
    http: Option<reqwest::Client>,
    own_stream_connections: bool,
    api_key: Option<Secret>,
    project_id: Option<String>,
    on_retry: Option<RetryObserver>,
}

impl std::fmt::Debug for GenAiClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenAiClientBuilder")
            .field("region", &self.region)
            .field("service_endpoint", &self.service_endpoint)
            .field("api_key", &self.api_key)
            .field("retry", &self.retry)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Default for GenAiClientBuilder {
    fn default() -> Self {
        GenAiClientBuilder {
            auth: None,
            credentials: None,
            region: None,
            service_endpoint: None,
            connect_timeout: Duration::from_secs(10),
            limits: Limits::default(),
            timeout: Duration::from_secs(300),
            usage_grace: Duration::from_millis(500),
            retry: RetryPolicy::default(),
            log_requests: None,
            allow_http: false,
            env: Arc::new(oci_auth::OsEnv),
            http: None,
            own_stream_connections: true,
            api_key: None,
            project_id: None,
            on_retry: None,
        }
    }
}

impl GenAiClientBuilder {
    /// Authenticates with `auth`, whose region is the configured one.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Authenticates with any credentials provider (no configured region).
    pub fn credentials_provider(mut self, provider: SharedCredentialsProvider) -> Self {
        self.credentials = Some(provider);
        self
    }

    /// The region to call; wins over the configuration and over a dedicated
    /// endpoint's own region (with a warning when they differ).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The service's base URL, instead of the regional one. Signed requests
    /// go only over `https`, or `http` to a loopback address, unless
    /// [`allow_http`](Self::allow_http).
    pub fn service_endpoint(mut self, url: impl Into<String>) -> Self {
        self.service_endpoint = Some(url.into());
        self
    }

    /// Allows a plain `http://` service endpoint on a non-loopback host
    /// (default: refused, since the signed request and its body would cross
    /// the network in clear).
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// The read timeout, stream deadline and body cap at once (see [`Limits`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Time to connect (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest wait for the response headers of a stream, and the
    /// longest silence on it after them (default 60 s; comment lines such as
    /// `: keep-alive` are silence). Same as [`Limits::with_read_timeout`].
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.limits = self.limits.with_read_timeout(timeout);
        self
    }

    /// The longest a non-streaming attempt may take (default 300 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long to wait for the usage event after a stream's finish event,
    /// when usage was requested (default 500 ms).
    pub fn usage_grace(mut self, grace: Duration) -> Self {
        self.usage_grace = grace;
        self
    }

    /// The retry policy (default: the OCI SDK's).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Calls `observer` before each retry's wait, with what failed and how
    /// long the wait is — so that a person at a terminal is told
    /// (`retrying in 2.1 s after 429 TooManyRequests (attempt 2 of 8)`).
    ///
    /// ```
    /// let builder = oci_genai_transport::GenAiClient::builder().on_retry(|notice| eprintln!("{notice}"));
    /// # let _ = builder;
    /// ```
    pub fn on_retry(mut self, observer: impl Fn(&RetryNotice) + Send + Sync + 'static) -> Self {
        self.on_retry = Some(Arc::new(observer));
        self
    }

    /// Logs each request (method, URL, status, latency, `opc-request-id`);
    /// default: as [`log_requests_asked`] reads the builder's `env`.
    pub fn log_requests(mut self, on: bool) -> Self {
        self.log_requests = Some(on);
        self
    }

    /// Reads `OCI_LOG_REQUESTS` and region tables from `env`.
    pub fn env(mut self, env: SharedEnv) -> Self {
        self.env = env;
        self
    }

    /// Uses `client` (its proxy and TLS settings) for every request, streams
    /// included; timeouts set here still apply per request.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Whether each stream reads its own HTTP/1.1 connection in its own
    /// `poll` (default: yes, unless [`http_client`](Self::http_client) was
    /// given). Events then reach the caller without a task switch per chunk,
    /// on any runtime; finished connections are kept for the next stream (up
    /// to 8, for 50 s). When off, streams go through reqwest like every other
    /// request. Behind an `http://` proxy an `https://` stream keeps its own
    /// connection, through a `CONNECT` tunnel; behind any other proxy it
    /// goes through reqwest.
    ///
    /// Proxies are read once, from the builder's [`env`](Self::env):
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (upper or lower
    /// case, as curl reads them; a user and password in the proxy URL are
    /// sent as `Proxy-Authorization`), and the same decision applies to every
    /// request.
    ///
    /// ```
    /// let builder = oci_genai_transport::GenAiClient::builder().own_stream_connections(false);
    /// # let _ = builder;
    /// ```
    pub fn own_stream_connections(mut self, on: bool) -> Self {
        self.own_stream_connections = on;
        self
    }

    /// A Generative AI API key: requests to the OpenAI-compatible API carry
    /// it as `Authorization: Bearer …` instead of an OCI signature (keys are
    /// regional; the native API still needs signing credentials). Never shown
    /// in logs or `Debug` output.
    ///
    /// ```
    /// let builder = oci_genai_transport::GenAiClient::builder().genai_api_key("sk-example").region("us-chicago-1");
    /// assert!(!format!("{builder:?}").contains("sk-example"));
    /// ```
    pub fn genai_api_key(mut self, key: impl Into<Secret>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Whether a Generative AI API key was given.
    pub fn has_genai_api_key(&self) -> bool {
        self.api_key.is_some()
    }

    /// A Generative AI project OCID, sent with OpenAI-compatible requests as
    /// the `OpenAI-Project` header (as the OpenAI SDKs send `project`).
    pub fn project_id(mut self, project: impl Into<String>) -> Self {
        self.project_id = Some(project.into());
        self
    }

    /// Builds the client: it needs credentials to sign with, or a Generative
    /// AI API key (then only the OpenAI-compatible API can be called).
    pub fn build(self) -> Result<GenAiClient, Error> {
        let credentials = match (&self.auth, self.credentials) {
            (_, Some(provider)) => Some(provider),
            (Some(auth), None) => Some(Arc::clone(auth.provider())),
            (None, None) if self.api_key.is_some() => None,
            (None, None) => {
                return Err(Error::Config(
                    "no credentials: call .auth(…) or .credentials_provider(…), or .genai_api_key(…) for the \
                     OpenAI-compatible API"
                        .into(),
                ));
            }
        };
        if let Some(url) = &self.service_endpoint {
            check_service_endpoint(url, self.allow_http)?;
        }
        // Both travel as header values: a CR or LF in one would write headers of its own.
        if self.api_key.as_ref().is_some_and(|key| !crate::request::sendable_header_value(key.expose())) {
            return Err(Error::Config(
                "the GenAI API key holds a control character (CR, LF, NUL…) and cannot be sent: check where it \
                 was set (LOCUS_OCI_GENAI_API_KEY, OCI_GENAI_API_KEY)"
                    .into(),
            ));
        }
        if self.project_id.as_deref().is_some_and(|p| !crate::request::sendable_header_value(p)) {
            return Err(Error::Config(
                "the project id holds a control character (CR, LF, NUL…) and cannot be sent: check where it was \
                 set (OCI_GENAI_PROJECT_ID)"
                    .into(),
            ));
        }
        let own = self.own_stream_connections && self.http.is_none();
        // One decision, from the builder's environment, for both connections.
        let proxies = Proxies::from_env(self.env.as_ref());
        let h1 = own.then(|| H1Client::new(self.connect_timeout, USER_AGENT));
        let http = match self.http {
            Some(http) => http,
            None => {
                let builder = reqwest::Client::builder().user_agent(USER_AGENT).connect_timeout(self.connect_timeout);
                let builder = match proxies.for_reqwest() {
                    Some(proxy) => builder.proxy(proxy),
                    None => builder.no_proxy(),
                };
                builder.build().map_err(|e| Error::Config(e.to_string()))?
            }
        };
        let log_requests = self.log_requests.unwrap_or_else(|| log_requests_asked(self.env.as_ref()));
        Ok(GenAiClient {
            inner: Arc::new(Inner {
                routing: Routing {
                    auth: self.auth,
                    explicit_region: self.region,
                    service_endpoint: self.service_endpoint,
                    env: Arc::clone(&self.env),
                },
                sender: Sender {
                    http,
                    h1,
                    proxies,
                    credentials,
                    api_key: self.api_key,
                    env: self.env,
                    retry: self.retry,
                    timeout: self.timeout,
                    limits: self.limits,
                    log_requests,
                    on_retry: self.on_retry,
                },
                usage_grace: self.usage_grace,
                project_id: self.project_id,
            }),
        })
    }
}

/// Whether `url` names this machine (`localhost`, `127.0.0.0/8`, `[::1]`):
/// the one place a signed request may travel over plain `http` unasked.
///
/// ```
/// use oci_genai_transport::is_loopback;
/// assert!(is_loopback(&"http://[::1]:8080/x".parse().unwrap()));
/// assert!(!is_loopback(&"http://genai.example.com/".parse().unwrap()));
/// ```
pub fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A service endpoint must be an `https` URL, or `http` to a loopback host
/// (an emulator, a tunnel) unless plain HTTP was allowed.
fn check_service_endpoint(url: &str, allow_http: bool) -> Result<(), Error> {
    let parsed = reqwest::Url::parse(url).map_err(|e| Error::Config(format!("service endpoint `{url}`: {e}")))?;
    match parsed.scheme() {
        "https" if parsed.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        "http" if is_loopback(&parsed) || allow_http => Ok(()),
        "http" => Err(Error::Config(format!(
            "service endpoint `{url}` is plain http to a host that is not loopback: the signed request and its \
             body would cross the network unencrypted; use https, or allow it (--allow-http, .allow_http(true))"
        ))),
        scheme => Err(Error::Config(format!("service endpoint `{url}`: use an https URL (not `{scheme}:`)"))),
    }
}

/// Whether `env` asks for each request to be logged: `OCI_LOG_REQUESTS` is
/// `1` or `true` (any case), as the OCI SDKs read it. The one reading of the
/// variable: the client's default, and what the CLI turns its log filter on by.
///
/// ```
/// use oci_auth::StaticEnv;
/// use oci_genai_transport::log_requests_asked;
/// assert!(log_requests_asked(&StaticEnv::new().with_var("OCI_LOG_REQUESTS", "TRUE")));
/// assert!(log_requests_asked(&StaticEnv::new().with_var("OCI_LOG_REQUESTS", " 1 ")));
/// assert!(!log_requests_asked(&StaticEnv::new().with_var("OCI_LOG_REQUESTS", "0")));
/// assert!(!log_requests_asked(&StaticEnv::new()));
/// ```
pub fn log_requests_asked(env: &dyn oci_auth::Env) -> bool {
    env.var("OCI_LOG_REQUESTS").is_some_and(|v| v.trim() == "1" || v.trim().eq_ignore_ascii_case("true"))
}
