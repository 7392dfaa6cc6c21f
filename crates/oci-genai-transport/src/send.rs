//! Sending a prepared request: signing each attempt, retrying as the SDK
//! does, logging, and reading error replies.

use std::time::Duration;

use oci_auth::{Secret, SharedCredentialsProvider, SharedEnv};
use tokio::time::Instant;

use crate::error::{Error, ServiceError};
use crate::h1::H1Client;
use crate::limits::Limits;
use crate::prepare::PreparedRequest;
use crate::proxy::{Proxies, StreamRoute};
use crate::reply::Reply;
use crate::request::Authorization;
use crate::retry::{RetryNotice, RetryObserver, RetryPolicy, parse_retry_after};

/// The most of an error reply that is read: enough for any real error document.
pub(crate) const MAX_ERROR_BODY: usize = 1024 * 1024;

/// One attempt's outcome, or `Err` when the headers did not come in time.
type Attempt = Result<Result<Reply, Error>, tokio::time::error::Elapsed>;

/// How requests are sent: the HTTP client, the credentials, retries and bounds.
pub(crate) struct Sender {
    pub http: reqwest::Client,
    /// Streams' own connections; `None`: streams go through `http` too (the
    /// caller gave the HTTP client, or turned them off).
    pub h1: Option<H1Client>,
    /// Which URLs go through a proxy (those streams go through `http`, configured with the same proxies).
    pub proxies: Proxies,
    /// Signs requests; `None` when only a GenAI API key was given.
    pub credentials: Option<SharedCredentialsProvider>,
    /// A Generative AI API key: OpenAI-compatible requests carry it as a
    /// bearer token instead of a signature.
    pub api_key: Option<Secret>,
    pub env: SharedEnv,
    pub retry: RetryPolicy,
    pub timeout: Duration,
    pub limits: Limits,
    pub log_requests: bool,
    pub on_retry: Option<RetryObserver>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("api_key", &self.api_key)
            .field("retry", &self.retry)
            .field("limits", &self.limits)
            .field("log_requests", &self.log_requests)
            .finish_non_exhaustive()
    }
}

/// The header the service adds to answers of a model being retired.
pub(crate) const RETIREMENT_HEADER: &str = "model-retirement-info";

/// Warns, once per model and process, that the service says `model` is being retired.
fn warn_retirement(model: Option<&str>, info: &str) {
    static SAID: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let model = model.unwrap_or("the model");
    let mut said = SAID.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if said.iter().any(|m| m == model) {
        return;
    }
    said.push(model.to_owned());
    let info: String = info.chars().filter(|c| !c.is_control()).take(300).collect();
    tracing::warn!("{model} is being retired ({info}); `locus models` lists its dates and the region's other models");
}

impl Sender {
    /// Sends with retries until a 2xx response (whose body is not read). A
    /// stream (`deadline` set) waits for headers at most the read timeout and
    /// retries only within its deadline.
    pub async fn send(&self, prepared: &PreparedRequest, deadline: Option<Instant>) -> Result<Reply, Error> {
        let streaming = deadline.is_some();
        let started = Instant::now();
        let budget_end =
            deadline.map_or(started + self.retry.max_elapsed(), |d| d.min(started + self.retry.max_elapsed()));
        let (mut attempt, mut refreshed, mut refresh_now) = (0u32, false, false);
        let bearer = self.bearer_for(prepared)?;
        loop {
            // Only the attempt right after a 401 forces new credentials; later retries reuse them.
            let credentials = match (&self.credentials, bearer) {
                (_, Some(_)) => None,
                (Some(provider), None) if std::mem::take(&mut refresh_now) => Some(provider.refresh().await?),
                (Some(provider), None) => Some(provider.credentials().await?),
                (None, None) => return Err(Error::Config("no credentials to sign with".into())),
            };
            let auth = match (&credentials, bearer) {
                (Some(credentials), _) => Authorization::Sign(credentials),
                (None, Some(key)) => Authorization::Bearer(key),
                (None, None) => return Err(Error::Config("no credentials to sign with".into())),
            };
            let sent = Instant::now();
            let header_wait = match deadline {
                Some(deadline) => self.limits.read_timeout().min(deadline.saturating_duration_since(sent)),
                None => self.timeout,
            };
            let attempt_result = self.attempt(prepared, auth, header_wait, streaming).await;
            // The outer error (signing, a bad URL) is not retried; the inner one may be.
            let outcome = match attempt_result? {
                Ok(outcome) => outcome,
                Err(_elapsed) => {
                    Err(Error::no_headers(&prepared.url, header_wait, Some(prepared.opc_request_id.clone())))
                }
            };
            let status = outcome.as_ref().map(Reply::status).ok();
            if self.log_requests {
                tracing::info!(
                    method = prepared.method,
                    url = %prepared.url,
                    status = status.unwrap_or_default(), // 0: no response
                    latency_ms = sent.elapsed().as_millis() as u64,
                    opc_request_id = %prepared.opc_request_id,
                    attempt = attempt + 1,
                    "OCI GenAI request"
                );
            }
            let (error, retry_after) = match outcome {
                Ok(response) if (200..300).contains(&response.status()) => {
                    if let Some(info) = response.header(RETIREMENT_HEADER) {
                        warn_retirement(prepared.context.model.as_deref(), info);
                    }
                    return Ok(response);
                }
                Ok(response) => {
                    let retry_after = response.header("retry-after").and_then(|v| parse_retry_after(v, self.env.now()));
                    (self.service_error(response, prepared).await, retry_after)
                }
                Err(error) => (error, None),
            };
            if error.status() == Some(401) && !refreshed && bearer.is_none() {
                // Credentials may have been revoked or rotated: refresh once and try again.
                (refreshed, refresh_now) = (true, true);
                continue;
            }
            attempt += 1;
            // A delay (Retry-After included) that ends past the budget is not waited out.
            let delay = self.retry.delay(attempt - 1, retry_after);
            let remaining = budget_end.saturating_duration_since(Instant::now());
            if !error.is_retryable() || attempt >= self.retry.max_attempts() || delay >= remaining {
                if error.is_retryable() && delay >= remaining {
                    tracing::debug!(
                        delay_s = delay.as_secs_f64(),
                        "not retrying: the wait would pass the retry budget"
                    );
                }
                return Err(error);
            }
            tracing::debug!(attempt, delay_ms = delay.as_millis() as u64, "retrying OCI GenAI request: {error}");
            if let Some(observer) = &self.on_retry {
                let reason = match &error {
                    Error::Service(e) => format!("{} {}", e.status, e.code),
                    Error::Transport { timeout: true, .. } => "a timeout".to_owned(),
                    Error::Transport { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                observer(&RetryNotice { attempt: attempt + 1, max_attempts: self.retry.max_attempts(), delay, reason });
            }
            tokio::time::sleep(delay).await;
        }
    }

    /// The API key to send instead of a signature, for this request: an
    /// OpenAI-compatible one, when a key was given. The native API takes
    /// only signatures.
    fn bearer_for(&self, prepared: &PreparedRequest) -> Result<Option<&Secret>, Error> {
        match (&self.api_key, prepared.transport.is_openai(), &self.credentials) {
            (Some(key), true, _) => Ok(Some(key)),
            (_, _, Some(_)) => Ok(None),
            (Some(_), false, None) => Err(Error::Config(
                "the native API takes only signed requests, and a Generative AI API key authenticates only the \
                 OpenAI-compatible API: configure OCI credentials (a config profile or a principal), or use \
                 --transport chat-completions"
                    .into(),
            )),
            (None, _, None) => Err(Error::Config("no credentials: call .auth(…) or .credentials_provider(…)".into())),
        }
    }

    /// One attempt: the request built and authenticated, then sent over a
    /// stream's own connection or through reqwest. `Ok(Err(_))`: no response
    /// headers in time.
    async fn attempt(
        &self,
        prepared: &PreparedRequest,
        auth: Authorization<'_>,
        header_wait: Duration,
        streaming: bool,
    ) -> Result<Attempt, Error> {
        let request = crate::request::build(prepared, auth)?;
        self.log_request(request.headers(), prepared);
        let request_id = Some(prepared.opc_request_id.clone());
        let own = match (&self.h1, streaming) {
            (Some(h1), true) => match self.proxies.stream_route(request.uri()) {
                StreamRoute::Direct => Some((h1, None)),
                StreamRoute::Tunnel(tunnel) => Some((h1, Some(tunnel))),
                StreamRoute::Reqwest => None,
            },
            _ => None,
        };
        if let Some((h1, tunnel)) = own {
            let sent = h1.post(&request, tunnel.as_ref());
            return Ok(tokio::time::timeout(header_wait, sent).await.map(|outcome| {
                outcome.map(Reply::Owned).map_err(|e| Error::from_io(&prepared.url, e.error, e.connect, request_id))
            }));
        }
        let mut request =
            reqwest::Request::try_from(request).map_err(|e| Error::from_reqwest(&prepared.url, e, None))?;
        if !streaming {
            *request.timeout_mut() = Some(self.timeout);
        }
        Ok(tokio::time::timeout(header_wait, self.http.execute(request))
            .await
            .map(|outcome| outcome.map(Reply::Pooled).map_err(|e| Error::from_reqwest(&prepared.url, e, request_id))))
    }

    fn log_request(&self, headers: &http::HeaderMap, prepared: &PreparedRequest) {
        if self.log_requests {
            let headers = headers.iter().map(|(n, v)| (n.as_str(), v.to_str().unwrap_or("<binary>")));
            tracing::debug!(headers = ?redacted_headers(headers), "OCI GenAI request headers");
        }
        tracing::trace!(body = %String::from_utf8_lossy(&prepared.body), "OCI GenAI request");
    }

    async fn service_error(&self, response: Reply, prepared: &PreparedRequest) -> Error {
        let status = response.status();
        let request_id =
            response.header("opc-request-id").map(str::to_owned).unwrap_or_else(|| prepared.opc_request_id.clone());
        let read = tokio::time::timeout(self.limits.read_timeout(), response.read_capped(MAX_ERROR_BODY, prepared));
        let body = read.await.ok().and_then(Result::ok).map(|(body, _)| body);
        if let Some(body) = &body {
            tracing::trace!(status, body = %String::from_utf8_lossy(body), "OCI GenAI error reply");
        }
        let parsed = body.as_deref().map(error_body).unwrap_or_default();
        let error = Error::Service(Box::new(ServiceError {
            status,
            code: parsed.code.unwrap_or_else(|| format!("HTTP{status}")),
            message: parsed.message.unwrap_or_default(),
            opc_request_id: Some(request_id),
            context: prepared.context.clone(),
        }));
        if let Some(hint) = error.hint() {
            tracing::debug!("{error}; hint: {hint}");
        }
        error
    }
}

/// An error reply's code and message: OCI's `{"code", "message"}`, or the
/// OpenAI-compatible API's `{"error": {"message", "type", "code"}}` (whose
/// code, when null, is its type) — also when the reply was cut short.
fn error_body(body: &[u8]) -> oci_auth::ErrorBody {
    if let Ok(document) = serde_json::from_slice::<crate::openai::ErrorDocument>(body) {
        return oci_auth::ErrorBody {
            code: document.error.code_or_type().map(str::to_owned),
            message: document.error.message.as_deref().map(oci_auth::ErrorBody::shorten),
        };
    }
    // A document cut short: its inner object read as far as it went.
    let text = String::from_utf8_lossy(body);
    let inner = text
        .trim_start()
        .strip_prefix('{')
        .map(str::trim_start)
        .and_then(|rest| rest.strip_prefix("\"error\""))
        .map(str::trim_start)
        .and_then(|rest| rest.strip_prefix(':'));
    match inner {
        Some(inner) => oci_auth::ErrorBody::parse(inner.as_bytes()),
        None => oci_auth::ErrorBody::parse(body),
    }
}

/// Header names and values for logs, with credentials replaced.
fn redacted_headers<'a>(headers: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<(String, String)> {
    headers
        .map(|(name, value)| {
            let name = name.to_ascii_lowercase();
            let name = name.as_str();
            let secret = name == "authorization"
                || name == "cookie"
                || (name.contains("token") && name != "opc-retry-token")
                || name.contains("key")
                || name.contains("secret");
            let value = if secret { "<redacted>".to_owned() } else { value.to_owned() };
            (name.to_owned(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_errors_whole_or_cut_keep_their_code() {
        let whole = error_body(br#"{"error": {"message": "no", "type": "invalid_request_error", "code": null}}"#);
        assert_eq!((whole.code.as_deref(), whole.message.as_deref()), (Some("invalid_request_error"), Some("no")));
        let cut = error_body(br#"{"error":{"code":"InvalidParameter","message":"mmmmmm"#);
        assert_eq!(cut.code.as_deref(), Some("InvalidParameter"));
        let oci = error_body(br#"{"code":"NotAuthenticated","message":"bad"}"#);
        assert_eq!(oci.code.as_deref(), Some("NotAuthenticated"));
    }
}
