//! The signed Generative AI inference client.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use bytes::Bytes;
use oci_auth::{Auth, SharedCredentialsProvider, SharedEnv, SigningSettings, sign_reqwest_request};

use crate::endpoint::{RegionSettings, resolve_endpoint};
use crate::error::{Error, RequestContext, ServiceError};
use crate::limits::Limits;
use crate::models::{BaseChatRequest, ChatDetails, ChatResult};
use crate::retry::{RetryPolicy, parse_retry_after};
use crate::serving::ServingMode;
use crate::stream::{ChatStream, StreamTimes};

const CHAT_PATH: &str = "/20231130/actions/chat";
const ACCEPT: &str = "application/json, text/event-stream";
/// The most of an error reply that is read: enough for any real error document.
const MAX_ERROR_BODY: usize = 1024 * 1024;
/// The most of a service message shown in an error (the whole body is logged at trace level).
const MAX_MESSAGE_CHARS: usize = 1000;

/// A client for `POST /20231130/actions/chat`: signs every request, resolves
/// the regional endpoint per serving mode, retries like the OCI SDK, and
/// streams server-sent events as they arrive. Cheap to clone.
///
/// ```no_run
/// use oci_auth::Auth;
/// use oci_genai_transport::{models, GenAiClient, ServingMode};
/// # async fn run() -> Result<(), oci_genai_transport::Error> {
/// let client = GenAiClient::builder().auth(Auth::from_env()?).build()?;
/// let details = models::ChatDetails {
///     compartment_id: "ocid1.compartment.oc1..example".into(),
///     serving_mode: ServingMode::from_model_id("ocid1.generativeaiendpoint.oc1.us-chicago-1.example")?.to_wire(),
///     chat_request: models::BaseChatRequest::Generic(models::GenericChatRequest {
///         messages: Some(vec![models::Message::User(models::UserMessage {
///             content: Some(vec![models::ChatContent::Text(models::TextContent { text: Some("Hello".into()) })]),
///             ..Default::default()
///         })]),
///         ..Default::default()
///     }),
/// };
/// let result = client.chat(details).await?;
/// # let _ = result; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct GenAiClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    credentials: SharedCredentialsProvider,
    auth: Option<Auth>,
    explicit_region: Option<String>,
    service_endpoint: Option<String>,
    env: SharedEnv,
    retry: RetryPolicy,
    timeout: Duration,
    limits: Limits,
    usage_grace: Duration,
    log_requests: bool,
}

/// Configures a [`GenAiClient`].
#[derive(Debug, Clone)]
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

    /// Logs each request (method, URL, status, latency, `opc-request-id`);
    /// default: `OCI_LOG_REQUESTS=1`.
    pub fn log_requests(mut self, on: bool) -> Self {
        self.log_requests = Some(on);
        self
    }

    /// Reads `OCI_LOG_REQUESTS` and region tables from `env`.
    pub fn env(mut self, env: SharedEnv) -> Self {
        self.env = env;
        self
    }

    /// Uses `client` (its proxy and TLS settings); timeouts set here still apply per request.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<GenAiClient, Error> {
        let credentials = match (&self.auth, self.credentials) {
            (_, Some(provider)) => provider,
            (Some(auth), None) => Arc::clone(auth.provider()),
            (None, None) => {
                return Err(Error::Config("no credentials: call .auth(…) or .credentials_provider(…)".into()));
            }
        };
        if let Some(url) = &self.service_endpoint {
            check_service_endpoint(url, self.allow_http)?;
        }
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .user_agent(concat!("locus-rs/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(self.connect_timeout)
                .build()
                .map_err(|e| Error::Config(e.to_string()))?,
        };
        let log_requests = self
            .log_requests
            .unwrap_or_else(|| self.env.var("OCI_LOG_REQUESTS").is_some_and(|v| v == "1" || v == "true"));
        Ok(GenAiClient {
            inner: Arc::new(Inner {
                http,
                credentials,
                auth: self.auth,
                explicit_region: self.region,
                service_endpoint: self.service_endpoint,
                env: self.env,
                retry: self.retry,
                timeout: self.timeout,
                limits: self.limits,
                usage_grace: self.usage_grace,
                log_requests,
            }),
        })
    }
}

/// A request ready to send (and re-send).
pub(crate) struct Prepared {
    pub url: String,
    pub body: Bytes,
    pub context: RequestContext,
    pub usage_requested: bool,
    pub opc_request_id: String,
    retry_token: String,
}

impl GenAiClient {
    /// Starts configuring.
    pub fn builder() -> GenAiClientBuilder {
        GenAiClientBuilder::default()
    }

    /// Sends a chat request and returns the whole reply. `isStream` is
    /// cleared: use [`chat_stream`](Self::chat_stream) to stream.
    pub async fn chat(&self, mut details: ChatDetails) -> Result<ChatResult, Error> {
        set_streaming(&mut details.chat_request, false);
        let prepared = self.prepare(&details).await?;
        let response = self.send(&prepared, None).await?;
        let request_id = Some(prepared.opc_request_id.clone());
        // The attempt's timeout still bounds this read.
        let body = match read_capped(response, self.inner.limits.max_body_size(), &prepared).await? {
            (body, false) => body,
            (_, true) => {
                return Err(Error::ReplyTooLarge {
                    limit: self.inner.limits.max_body_size(),
                    opc_request_id: request_id,
                });
            }
        };
        tracing::trace!(body = %String::from_utf8_lossy(&body), "OCI GenAI reply");
        serde_json::from_slice(&body)
            .map_err(|e| Error::InvalidReply { message: e.to_string(), opc_request_id: request_id })
    }

    /// Sends a streaming chat request; once the response has started, yields
    /// its events as they arrive. The stream ends at the finish event, or at
    /// the usage event after it when usage was requested — never by waiting
    /// for the server to close the connection. The whole call, retries
    /// included, ends by the stream deadline ([`Limits`]).
    pub async fn chat_stream(&self, mut details: ChatDetails) -> Result<ChatStream, Error> {
        set_streaming(&mut details.chat_request, true);
        let limits = &self.inner.limits;
        let deadline = Instant::now() + limits.stream_deadline();
        let prepared = self.prepare(&details).await?;
        let response = self.send(&prepared, Some(deadline)).await?;
        let request_id = Some(prepared.opc_request_id.clone());
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        if !content_type.starts_with("text/event-stream") {
            let read = tokio::time::timeout(limits.read_timeout(), read_capped(response, MAX_ERROR_BODY, &prepared));
            let (body, _) = read.await.map_err(|_| Error::StreamIdle {
                seconds: limits.read_timeout().as_secs(),
                opc_request_id: request_id.clone(),
            })??;
            return Err(Error::NotAStream {
                content_type,
                body: cut(&String::from_utf8_lossy(&body)),
                opc_request_id: request_id,
            });
        }
        let times = StreamTimes {
            read_timeout: limits.read_timeout(),
            usage_grace: self.inner.usage_grace,
            deadline,
            deadline_secs: limits.stream_deadline().as_secs(),
        };
        Ok(ChatStream::new(response, prepared, times))
    }

    async fn prepare(&self, details: &ChatDetails) -> Result<Prepared, Error> {
        let serving = ServingMode::from_wire(&details.serving_mode);
        let dedicated = serving.as_ref().is_some_and(ServingMode::is_dedicated);
        if details.compartment_id.trim().is_empty() {
            return Err(Error::MissingCompartment { dedicated });
        }
        let configured = match &self.inner.auth {
            Some(auth) => auth.resolve_region().await?.map(|r| r.id().to_owned()),
            None => None,
        };
        let regions = RegionSettings { explicit: self.inner.explicit_region.clone(), configured };
        let env = self.inner.env.as_ref();
        let (url, region) = match &serving {
            Some(serving) => {
                let resolved = resolve_endpoint(self.inner.service_endpoint.as_deref(), &regions, serving, env)?;
                (resolved.url, resolved.region)
            }
            None => match &self.inner.service_endpoint {
                Some(url) => (url.trim_end_matches('/').to_owned(), None),
                None => return Err(Error::InvalidRequest("unknown serving type: set a service endpoint".into())),
            },
        };
        let usage_requested = match &details.chat_request {
            BaseChatRequest::Generic(g) => g.stream_options.as_ref().and_then(|o| o.is_include_usage) == Some(true),
            _ => false,
        };
        let body = serde_json::to_vec(details).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        Ok(Prepared {
            url: format!("{url}{CHAT_PATH}"),
            body: Bytes::from(body),
            context: RequestContext {
                model: serving.as_ref().map(|s| s.id().to_owned()),
                dedicated,
                region,
                endpoint_region: serving.as_ref().and_then(|s| s.endpoint_region(env)).map(|r| r.id().to_owned()),
                compartment_id: Some(details.compartment_id.clone()),
            },
            usage_requested,
            opc_request_id: random_id(),
            retry_token: random_id(),
        })
    }

    /// Sends with retries until a 2xx response (whose body is not read). A
    /// stream (`deadline` set) waits for headers at most the read timeout and
    /// retries only within its deadline.
    async fn send(&self, prepared: &Prepared, deadline: Option<Instant>) -> Result<reqwest::Response, Error> {
        let inner = &self.inner;
        let streaming = deadline.is_some();
        let started = Instant::now();
        let budget_end =
            deadline.map_or(started + inner.retry.max_elapsed(), |d| d.min(started + inner.retry.max_elapsed()));
        let (mut attempt, mut refreshed, mut refresh_now) = (0u32, false, false);
        loop {
            // Only the attempt right after a 401 forces new credentials; later retries reuse them.
            let credentials = if std::mem::take(&mut refresh_now) {
                inner.credentials.refresh().await?
            } else {
                inner.credentials.credentials().await?
            };
            let mut request = inner
                .http
                .post(&prepared.url)
                .header("content-type", "application/json")
                .header("accept", ACCEPT)
                .header("opc-request-id", &prepared.opc_request_id)
                .header("opc-retry-token", &prepared.retry_token)
                .body(prepared.body.clone())
                .build()
                .map_err(|e| Error::InvalidRequest(e.to_string()))?;
            if !streaming {
                *request.timeout_mut() = Some(inner.timeout);
            }
            sign_reqwest_request(&mut request, &credentials, &SigningSettings::default())?;
            if inner.log_requests {
                tracing::debug!(headers = ?redacted_headers(request.headers()), "OCI GenAI request headers");
            }
            tracing::trace!(body = %String::from_utf8_lossy(&prepared.body), "OCI GenAI request");
            let sent = Instant::now();
            let request_id = Some(prepared.opc_request_id.clone());
            let header_wait = match deadline {
                Some(deadline) => inner.limits.read_timeout().min(deadline.saturating_duration_since(sent)),
                None => inner.timeout,
            };
            let outcome = match tokio::time::timeout(header_wait, inner.http.execute(request)).await {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(e)) => Err(transport_error(&prepared.url, &e, request_id.clone())),
                Err(_) => Err(Error::Transport {
                    url: prepared.url.clone(),
                    message: format!("no response headers within {} s", header_wait.as_secs_f64()),
                    timeout: true,
                    connect: false,
                    retryable: true,
                    opc_request_id: request_id.clone(),
                }),
            };
            let status = outcome.as_ref().map(|r| r.status().as_u16()).ok();
            if inner.log_requests {
                tracing::info!(
                    method = "POST",
                    url = %prepared.url,
                    status = status.unwrap_or_default(), // 0: no response
                    latency_ms = sent.elapsed().as_millis() as u64,
                    opc_request_id = %prepared.opc_request_id,
                    attempt = attempt + 1,
                    "OCI GenAI request"
                );
            }
            let (error, retry_after) = match outcome {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => {
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, inner.env.now()));
                    (self.service_error(response, prepared).await, retry_after)
                }
                Err(error) => (error, None),
            };
            if error.status() == Some(401) && !refreshed {
                // Credentials may have been revoked or rotated: refresh once and try again.
                (refreshed, refresh_now) = (true, true);
                continue;
            }
            attempt += 1;
            // A delay (Retry-After included) that ends past the budget is not waited out.
            let delay = inner.retry.delay(attempt - 1, retry_after);
            let remaining = budget_end.saturating_duration_since(Instant::now());
            if !error.is_retryable() || attempt >= inner.retry.max_attempts() || delay >= remaining {
                if error.is_retryable() && delay >= remaining {
                    tracing::debug!(
                        delay_s = delay.as_secs_f64(),
                        "not retrying: the wait would pass the retry budget"
                    );
                }
                return Err(error);
            }
            tracing::debug!(attempt, delay_ms = delay.as_millis() as u64, "retrying OCI GenAI request: {error}");
            tokio::time::sleep(delay).await;
        }
    }

    async fn service_error(&self, response: reqwest::Response, prepared: &Prepared) -> Error {
        let status = response.status().as_u16();
        let request_id = response
            .headers()
            .get("opc-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| prepared.opc_request_id.clone());
        let read =
            tokio::time::timeout(self.inner.limits.read_timeout(), read_capped(response, MAX_ERROR_BODY, prepared));
        let body = read.await.ok().and_then(Result::ok).map(|(body, _)| body);
        if let Some(body) = &body {
            tracing::trace!(status, body = %String::from_utf8_lossy(body), "OCI GenAI error reply");
        }
        let json: serde_json::Value = body.as_deref().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or_default();
        let text = |key: &str| json.get(key).and_then(|v| v.as_str()).map(cut);
        let error = Error::Service(Box::new(ServiceError {
            status,
            code: text("code").unwrap_or_else(|| format!("HTTP{status}")),
            message: text("message")
                .or_else(|| body.as_deref().map(|b| cut(&String::from_utf8_lossy(b))))
                .unwrap_or_default(),
            opc_request_id: Some(request_id),
            context: prepared.context.clone(),
        }));
        if let Some(hint) = error.hint() {
            tracing::debug!("{error}; hint: {hint}");
        }
        error
    }
}

/// Sets or clears `isStream` on whatever request shape this is.
fn set_streaming(request: &mut BaseChatRequest, on: bool) {
    let value = on.then_some(true);
    match request {
        BaseChatRequest::Generic(r) => r.is_stream = value,
        BaseChatRequest::Cohere(r) => r.is_stream = value,
        BaseChatRequest::CohereV2(r) => r.is_stream = value,
        BaseChatRequest::Unknown(serde_json::Value::Object(map)) => {
            match value {
                Some(v) => map.insert("isStream".into(), v.into()),
                None => map.remove("isStream"),
            };
        }
        BaseChatRequest::Unknown(_) => {}
    }
}

pub(crate) fn transport_error(url: &str, error: &reqwest::Error, opc_request_id: Option<String>) -> Error {
    let mut message = error.to_string();
    let mut refused_by_tls = false;
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        // rustls reports certificate and protocol failures as InvalidData: retrying cannot fix them.
        refused_by_tls |=
            cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::InvalidData);
        source = cause.source();
    }
    Error::Transport {
        url: url.to_owned(),
        message,
        timeout: error.is_timeout(),
        connect: error.is_connect(),
        retryable: !error.is_builder() && !error.is_redirect() && !error.is_decode() && !refused_by_tls,
        opc_request_id,
    }
}

/// Reads a body up to `limit` bytes; `true` when there was more (not read).
async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
    prepared: &Prepared,
) -> Result<(Bytes, bool), Error> {
    let request_id = || Some(prepared.opc_request_id.clone());
    let mut body = Vec::with_capacity(response.content_length().map_or(0, |n| n.min(limit as u64) as usize));
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(&prepared.url, &e, request_id()))? {
        let room = limit - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((Bytes::from(body), true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((Bytes::from(body), false))
}

/// A service's text as shown in errors: at most [`MAX_MESSAGE_CHARS`] characters.
fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        None => text.to_owned(),
        Some((end, _)) => {
            format!("{}… ({} more bytes; RUST_LOG=oci_genai_transport=trace logs them)", &text[..end], text.len() - end)
        }
    }
}

/// A service endpoint must be an `https` URL, or `http` to a loopback host
/// (an emulator, a tunnel) unless plain HTTP was allowed.
fn check_service_endpoint(url: &str, allow_http: bool) -> Result<(), Error> {
    let parsed = reqwest::Url::parse(url).map_err(|e| Error::Config(format!("service endpoint `{url}`: {e}")))?;
    let host = parsed.host_str().unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" if !host.is_empty() => Ok(()),
        "http" if loopback || allow_http => Ok(()),
        "http" => Err(Error::Config(format!(
            "service endpoint `{url}` is plain http to a host that is not loopback: the signed request and its \
             body would cross the network unencrypted; use https, or allow it (--allow-http, .allow_http(true))"
        ))),
        scheme => Err(Error::Config(format!("service endpoint `{url}`: use an https URL (not `{scheme}:`)"))),
    }
}

/// Header names and values for logs, with credentials replaced.
fn redacted_headers(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str();
            let secret = name == "authorization"
                || name == "cookie"
                || (name.contains("token") && name != "opc-retry-token")
                || name.contains("key")
                || name.contains("secret");
            let value =
                if secret { "<redacted>".to_owned() } else { String::from_utf8_lossy(value.as_bytes()).into_owned() };
            (name.to_owned(), value)
        })
        .collect()
}

/// 32 uppercase hex digits, as the SDKs make request ids.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
